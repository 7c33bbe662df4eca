"""What a desktop app is expected to have: its name and icon, an About dialog, the window's
place and panels remembered, Qt's messages in the log, crash reports shown over the window."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_ui import open_dialog
from PySide6.QtCore import QRect, QSettings, QTimer, qVersion, qWarning
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QWidget

from kazoodesk import __version__
from kazoodesk.config import AppDirs
from kazoodesk.crash import CrashReporter
from kazoodesk.profiles import ProfileStore
from kazoodesk.ui.about import AboutDialog
from kazoodesk.ui.app import GuiOptions, demo_instance, set_up_application
from kazoodesk.ui.crash_dialog import CrashNotifier
from kazoodesk.ui.main_window import MainWindow
from kazoodesk.ui.qt_log import route_qt_messages


@pytest.fixture
def dirs(tmp_path: Path) -> AppDirs:
    return AppDirs(
        demo=tmp_path / "data" / "demo",
        config=tmp_path / "config",
        cache=tmp_path / "cache",
        log=tmp_path / "logs",
    )


@pytest.fixture
def own_settings(tmp_path: Path) -> Iterator[Path]:
    """QSettings in a directory of the test's own (the session's shared one is left as it was)."""
    shared = Path(QSettings().fileName()).parents[1]
    mine = tmp_path / "settings"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(mine))
    yield mine
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(shared))


@pytest.fixture
def app_as_set_up(qapp: QApplication) -> Iterator[QApplication]:
    """The test app as `set_up_application` makes it; its names and palette put back after."""
    names = (qapp.applicationName(), qapp.organizationName(), qapp.applicationDisplayName())
    palette = qapp.palette()
    set_up_application(qapp)
    yield qapp
    qapp.setApplicationName(names[0])
    qapp.setOrganizationName(names[1])
    qapp.setApplicationDisplayName(names[2])
    qapp.setPalette(palette)


def new_window(qtbot: Any, tmp_path: Path, dirs: AppDirs | None = None) -> MainWindow:
    window = MainWindow(ProfileStore(tmp_path), dirs=dirs)
    qtbot.addWidget(window)
    return window


# ---- name and icon -------------------------------------------------------------------------


def test_the_app_has_its_name_and_icon(app_as_set_up: QApplication) -> None:
    app = app_as_set_up

    assert app.applicationName() == app.organizationName() == "kazoodesk"
    assert app.desktopFileName() == "kazoodesk"
    assert app.applicationDisplayName() == "KazooDesk"
    assert app.applicationVersion() == __version__
    icon = app.windowIcon()
    assert not icon.isNull() and not icon.pixmap(64, 64).isNull()
    assert app.style().name().lower() == "fusion"


def test_only_a_demo_start_is_one_per_store(dirs: AppDirs) -> None:
    demo = demo_instance(GuiOptions(), dirs)

    assert demo is not None and demo.store == dirs.demo
    assert demo_instance(GuiOptions(server="https://kazoo.example.com:8443/v2"), dirs) is None
    assert demo_instance(GuiOptions(smoke_test=Path("out.png")), dirs) is None


# ---- About -----------------------------------------------------------------------------


def test_about_shows_the_versions_and_folders(
    qtbot: Any, qloop: Any, tmp_path: Path, dirs: AppDirs
) -> None:
    window = new_window(qtbot, tmp_path, dirs)
    window.show()

    window.findChild(QAction, "action.about").trigger()
    dialog = open_dialog(qtbot, AboutDialog)

    def shown(name: str) -> str:
        return dialog.findChild(QLabel, name).text()

    assert shown("about.version") == __version__
    assert shown("about.qt") == qVersion()
    assert sys.version.split()[0] == shown("about.python")
    assert str(dirs.log) in shown("about.dir.logs")
    assert str(dirs.config) in shown("about.dir.settings")
    assert str(dirs.demo) in shown("about.dir.demo_data")
    dialog.copy_details()
    copied = QGuiApplication.clipboard().text()
    assert f"KazooDesk {__version__}" in copied and f"Logs: {dirs.log}" in copied
    dialog.reject()
    qtbot.waitUntil(lambda: not dialog.isVisible())


# ---- geometry and panels -----------------------------------------------------------------


def test_the_window_reopens_as_it_was_closed(
    qtbot: Any, tmp_path: Path, own_settings: Path
) -> None:
    first = new_window(qtbot, tmp_path)
    first.show()
    qtbot.waitExposed(first)
    first.setGeometry(QRect(20, 40, 700, 520))  # on the offscreen screen (800 × 600)
    first.toolbar.hide()
    first.splitter.setSizes([250, 450])
    size, sizes = first.size(), first.splitter.sizes()
    first.close()

    second = new_window(qtbot, tmp_path)
    second.show()
    qtbot.waitExposed(second)

    assert second.size() == size and size.height() == 520
    assert second.splitter.sizes() == sizes
    assert not second.toolbar.isVisibleTo(second)


def test_a_first_start_has_a_default_size(qtbot: Any, tmp_path: Path, own_settings: Path) -> None:
    window = new_window(qtbot, tmp_path)

    assert (window.width(), window.height()) == (1280, 760)
    assert window.toolbar.isVisibleTo(window)


# ---- Qt's messages, crash reports ----------------------------------------------------------


@pytest.mark.qt_log_level_fail("CRITICAL")  # the warning below is the test's own
def test_qt_messages_go_to_the_log_and_still_to_the_handler_before(
    qtlog: Any, caplog: pytest.LogCaptureFixture
) -> None:
    route = route_qt_messages(logging.getLogger("kazoodesk.test.qt"))
    try:
        qWarning("a Qt warning for the log")
    finally:
        route.uninstall()

    [record] = [r for r in caplog.records if r.name == "kazoodesk.test.qt"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "default: a Qt warning for the log"
    assert "a Qt warning for the log" in [r.message for r in qtlog.records]  # pytest-qt's


@pytest.fixture
def reporter(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CrashReporter:
    """A crash reporter telling a window, as the app has it (faulthandler left to pytest)."""
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    reporter = CrashReporter(tmp_path / "logs")
    reporter.notify = CrashNotifier(window)
    monkeypatch.setattr(sys, "excepthook", reporter.excepthook)
    monkeypatch.setattr(threading, "excepthook", reporter.thread_excepthook)
    return reporter


def crash_box(qtbot: Any) -> QMessageBox:
    box = open_dialog(qtbot, QMessageBox)
    assert box.objectName() == "crash.report"
    return box


@pytest.mark.qt_no_exception_capture  # the reporter gets what pytest-qt would
def test_an_exception_in_a_slot_is_reported_in_a_dialog(
    qtbot: Any, reporter: CrashReporter
) -> None:
    def broken_slot() -> None:
        raise RuntimeError("a slot broke")

    QTimer.singleShot(0, broken_slot)
    box = crash_box(qtbot)

    [report] = reporter.reports
    assert "RuntimeError: a slot broke" in report.read_text()
    assert str(report) in box.text()
    box.close()


@pytest.mark.qt_no_exception_capture
def test_reports_from_a_thread_join_the_open_dialog(qtbot: Any, reporter: CrashReporter) -> None:
    def broken_worker() -> None:
        raise ValueError("a worker broke")

    for _ in range(2):
        worker = threading.Thread(target=broken_worker)
        worker.start()
        worker.join()
    box = crash_box(qtbot)
    qtbot.waitUntil(lambda: "2 reports were" in box.text())

    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    assert [b for b in boxes if b.isVisible()] == [box]
    assert all(str(report) in box.text() for report in reporter.reports)
    box.close()


def test_a_hard_crash_of_the_last_run_is_told(qtbot: Any, tmp_path: Path) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    report = tmp_path / "crash-20260101-120000.txt"

    CrashNotifier(window).earlier_crash(report)

    box = crash_box(qtbot)
    assert "stopped unexpectedly the last time" in box.text() and str(report) in box.text()
    box.close()
