"""Light and dark palettes that follow the system's colour scheme, and our own colours
readable on both. Screenshots of the main window in each: tests/output/main_window_*.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers_ui import contrast, screenshot
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from helpers import Server
from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner
from kazoodesk.ui.devices.device_icons import DARK_INK, INK, status_icon, type_icon
from kazoodesk.ui.devices.device_records import Column
from kazoodesk.ui.devices.device_types import Status
from kazoodesk.ui.main_window import MainWindow
from kazoodesk.ui.theme import TEXT_TONES, apply_scheme, follow_system, is_dark, tone

Role = QPalette.ColorRole
SCHEMES = [Qt.ColorScheme.Light, Qt.ColorScheme.Dark]
TEXT_CONTRAST = 4.5  # WCAG AA for text
GRAPHIC_CONTRAST = 3.0  # WCAG AA for icons and other graphics


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo server with its live phones: the screenshots show devices registered."""
    options = ServeOptions(tmp_path_factory.mktemp("theme-store"), port=0, demo=True, phones=True)
    runner = SimulatorRunner(options)
    yield Server(runner, runner.start_in_thread())
    runner.stop_thread()


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    """The app with our style; its palette and style put back after the test."""
    palette, style = qapp.palette(), qapp.style().name()
    follow_system(qapp)
    yield qapp
    qapp.setStyle(style)
    qapp.setPalette(palette)


def registered_shown(window: MainWindow, run_async: Any, qtbot: Any) -> None:
    model = window.devices.model

    def any_registered() -> bool:
        run_async(window.refresh_status())
        column = (model.index(r, Column.STATUS).data() for r in range(model.rowCount()))
        return "Registered" in column

    qtbot.waitUntil(any_registered, timeout=15_000)
    # the registration panel too, for the screenshots
    qtbot.waitUntil(
        lambda: window.live is not None and window.live.model.rowCount() > 3, timeout=15_000
    )


def test_the_palette_follows_the_scheme(
    qtbot: Any, themed: QApplication, window: MainWindow, run_async: Any
) -> None:
    registered_shown(window, run_async, qtbot)
    device = window.devices.model.device_id(window.devices.model.index(0, 0))
    assert window.editor is not None
    run_async(window.editor.open_device(device))
    window.resize(1280, 800)

    for scheme in SCHEMES:
        apply_scheme(themed, scheme)
        dark = scheme == Qt.ColorScheme.Dark
        qtbot.waitUntil(lambda dark=dark: is_dark(window.palette()) == dark)

        assert is_dark(themed.palette()) == dark
        assert f"color: {tone('ok')};" in window.connection_label.styleSheet()
        assert f"color: {tone('ok')};" in window.registrations_label.styleSheet()
        assert f"background: {tone('notice-fill')};" in window.cache_notice.styleSheet()
        screenshot(window, f"main_window_{scheme.name.lower()}")


def test_an_unknown_scheme_is_light(themed: QApplication) -> None:
    apply_scheme(themed, Qt.ColorScheme.Dark)

    apply_scheme(themed, Qt.ColorScheme.Unknown)

    assert not is_dark(themed.palette())


def test_a_change_of_the_system_scheme_switches_the_palette(themed: QApplication) -> None:
    hints = themed.styleHints()

    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert is_dark(themed.palette())
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not is_dark(themed.palette())


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.name)
def test_text_is_readable_in_both(themed: QApplication, scheme: Qt.ColorScheme) -> None:
    apply_scheme(themed, scheme)
    palette = themed.palette()
    dark = int(scheme == Qt.ColorScheme.Dark)

    pairs = [
        (Role.Text, Role.Base),
        (Role.Text, Role.AlternateBase),
        (Role.WindowText, Role.Window),
        (Role.ButtonText, Role.Button),
        (Role.HighlightedText, Role.Highlight),
        (Role.ToolTipText, Role.ToolTipBase),
    ]
    for text, background in pairs:
        ratio = contrast(palette.color(text), palette.color(background))
        assert ratio >= TEXT_CONTRAST, (text, background, ratio)
    for name in TEXT_TONES:
        for background in (Role.Window, Role.Base):
            ratio = contrast(QColor(tone(name)), palette.color(background))
            assert ratio >= TEXT_CONTRAST, (name, background, ratio)
    for text, fill in (("notice", "notice-fill"), ("error", "error-fill")):
        assert contrast(QColor(tone(text)), QColor(tone(fill))) >= TEXT_CONTRAST, text
    assert dark == is_dark(palette)


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.name)
def test_status_dots_stand_out_in_both(themed: QApplication, scheme: Qt.ColorScheme) -> None:
    apply_scheme(themed, scheme)
    base = themed.palette().color(Role.Base)

    for status in (Status.REGISTERED, Status.UNREGISTERED, Status.DISABLED):
        dot = status_icon(status).pixmap(32, 32).toImage()
        fill = dot.pixelColor(16, 11)  # inside the dot, above the Disabled bar
        assert contrast(fill, base) >= GRAPHIC_CONTRAST, status


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.name)
def test_device_drawings_are_inked_for_the_palette(
    themed: QApplication, scheme: Qt.ColorScheme
) -> None:
    apply_scheme(themed, scheme)
    dark = scheme == Qt.ColorScheme.Dark
    image = type_icon("sip_device").pixmap(32, 32).toImage()

    colours = {image.pixelColor(x, y).name() for x in range(32) for y in range(32)}

    assert (DARK_INK.decode() in colours) == dark
    assert (INK.decode() in colours) != dark
    base = themed.palette().color(Role.Base)
    ink = QColor((DARK_INK if dark else INK).decode())
    assert contrast(ink, base) >= GRAPHIC_CONTRAST
