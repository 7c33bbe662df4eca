"""EventLogModel and EventLogPanel: batches, capacity, filters, following the newest entries,
the CSV export (what the view shows, a round trip, failures) and a screenshot to look at."""

from __future__ import annotations

import csv
import os
import random
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from helpers_ui import open_dialog, screenshot
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox, QWidget

from kazoodesk.live.tracker import Kind, LogEntry
from kazoodesk.ui import theme
from kazoodesk.ui.registrations.event_log import (
    ENTRY_ROLE,
    Col,
    EventLogModel,
    EventLogPanel,
    write_csv,
)

T0 = 1_700_000_000.0
NAMES = {
    "dev-alice": "Alice's Desk – Yealink T46S",
    "dev-bob": "Bob's Desk – Polycom VVX 450",
    "dev-carol": "Carol's Android",
}
USERNAMES = {"dev-alice": "user_alice01", "dev-bob": "user_bob0042", "dev-carol": "user_carol77"}


def name_of(device_id: str | None) -> str:
    return NAMES.get(device_id or "", "")


def entry(
    n: int, kind: Kind = Kind.REFRESHED, device: str | None = "dev-alice", **fields: Any
) -> LogEntry:
    username = USERNAMES.get(device or "", "user_stray99")
    values: dict[str, Any] = {
        "username": username,
        "device_id": device,
        "contact": f"sip:{username}@192.0.2.{n % 250}:5060",
        "user_agent": "Yealink SIP-T46S 66.86.0.15",
        "source": f"192.0.2.{n % 250}:5060",
        "detail": "expires in 3600 s",
    }
    values.update(fields)
    return LogEntry(T0 + n, kind, **values)


def batch(start: int, count: int, **fields: Any) -> list[LogEntry]:
    return [entry(n, **fields) for n in range(start, start + count)]


def shown_ns(model: EventLogModel) -> list[int]:
    """The entries shown, by the number they were made with."""
    return [int(model.entry_at(r).at - T0) for r in range(model.rowCount())]


def cell(model: Any, row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
    return model.index(row, column).data(role)


@pytest.fixture
def model(qapp: Any) -> EventLogModel:
    return EventLogModel(name_of, capacity=100)


@pytest.fixture
def panel(qtbot: Any) -> EventLogPanel:
    panel = EventLogPanel(name_of)
    qtbot.addWidget(panel)
    panel.resize(1000, 320)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def settle() -> None:
    """Let the view lay out what changed (item views do it on a zero timer)."""
    QApplication.processEvents()


# ---- the model -------------------------------------------------------------------------------


def test_model_passes_the_model_tester(model: EventLogModel, qtmodeltester: Any) -> None:
    model.add_entries(batch(0, 30) + batch(30, 10, kind=Kind.EXPIRED, device="dev-bob"))
    qtmodeltester.check(model)
    # the tester stays connected: it checks the signals of what follows too
    model.set_kinds({Kind.EXPIRED})
    model.add_entries(batch(40, 80, kind=Kind.EXPIRED))  # over capacity by a tenth: trimmed
    model.set_text("bob")
    model.refresh_names()
    model.clear()
    qtmodeltester.check(model)


def test_a_batch_is_one_insert(model: EventLogModel, qtbot: Any) -> None:
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.add_entries(batch(0, 5))
    model.add_entries(batch(5, 60))
    model.add_entries([])
    model.add_entries(batch(65, 1))
    assert inserted == [(0, 4), (5, 64), (65, 65)]
    assert model.rowCount() == model.total_count() == 66
    assert model.entries() == batch(0, 66)


def test_cells_and_kind_colours(model: EventLogModel) -> None:
    model.add_entries(
        [
            entry(0, Kind.REGISTERED),
            entry(1, Kind.REFRESHED, device=None),
            entry(2, Kind.EXPIRED, device="dev-unknown"),
            entry(3, Kind.AUTH_FAILED, device="dev-bob", detail="wrong password"),
        ]
    )
    local = datetime.fromtimestamp(T0).astimezone()
    assert cell(model, 0, Col.TIME) == local.strftime("%H:%M:%S")
    assert datetime.fromisoformat(cell(model, 0, Col.TIME, Qt.ItemDataRole.ToolTipRole)) == local
    assert [cell(model, r, Col.EVENT) for r in range(4)] == [
        "registered",
        "refreshed",
        "expired",
        "authentication failed",
    ]
    # the resolver's name, or the SIP username when it has none
    devices = [cell(model, r, Col.DEVICE) for r in range(4)]
    assert devices == [NAMES["dev-alice"], "user_stray99", "user_stray99", NAMES["dev-bob"]]
    assert cell(model, 3, Col.DETAIL) == "wrong password"
    assert cell(model, 3, 0, ENTRY_ROLE) == entry(
        3, Kind.AUTH_FAILED, "dev-bob", detail="wrong password"
    )
    colours = [cell(model, r, Col.EVENT, Qt.ItemDataRole.ForegroundRole) for r in range(4)]
    assert colours == [
        QColor(theme.tone("ok")),
        None,
        QColor(theme.tone("warning")),
        QColor(theme.tone("error")),
    ]


def test_capacity_keeps_the_newest(model: EventLogModel) -> None:
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    model.add_entries(batch(0, 110))  # capacity 100: a tenth over is tolerated
    assert model.total_count() == 110 and removed == []
    model.add_entries(batch(110, 5))
    assert removed == [(0, 14)]  # the oldest 15, in one removal
    assert model.entries() == batch(15, 100)
    assert shown_ns(model) == list(range(15, 115))


def test_trimming_under_a_filter_removes_only_shown_rows(model: EventLogModel) -> None:
    model.set_kinds({Kind.EXPIRED})
    model.add_entries(batch(0, 10, kind=Kind.EXPIRED) + batch(10, 100))
    assert model.rowCount() == 10
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    model.add_entries(batch(110, 5, kind=Kind.EXPIRED))  # trims n 0..14
    assert removed == [(0, 9)]
    assert shown_ns(model) == [110, 111, 112, 113, 114]
    model.set_kinds(())
    assert shown_ns(model) == list(range(15, 115))


def test_filter_by_kind(model: EventLogModel) -> None:
    model.add_entries(
        [entry(0, Kind.REGISTERED), entry(1, Kind.EXPIRED), entry(2, Kind.AUTH_FAILED)]
    )
    model.set_kinds({Kind.EXPIRED, Kind.AUTH_FAILED})
    assert shown_ns(model) == [1, 2]
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.add_entries([entry(3, Kind.REFRESHED), entry(4, Kind.EXPIRED), entry(5)])
    assert inserted == [(2, 2)]  # only what the filter shows comes in
    assert shown_ns(model) == [1, 2, 4]
    model.set_kinds(set())
    assert shown_ns(model) == [0, 1, 2, 3, 4, 5]


def test_filter_by_device_text(model: EventLogModel) -> None:
    model.add_entries(
        [
            entry(0, device="dev-alice"),
            entry(1, device="dev-bob"),
            entry(2, device="dev-carol", contact="sip:user_carol77@203.0.113.9:5080"),
            entry(3, device=None),
        ]
    )
    model.set_text("DESK")  # device names, case-insensitive
    assert shown_ns(model) == [0, 1]
    model.set_text("bob polycom")  # every word
    assert shown_ns(model) == [1]
    model.set_text("user_stray")  # SIP username
    assert shown_ns(model) == [3]
    model.set_text("203.0.113")  # contact
    assert shown_ns(model) == [2]
    model.set_text("nothing like it")
    assert model.rowCount() == 0
    model.set_text("  ")
    assert model.rowCount() == 4


def test_names_refresh(model: EventLogModel, monkeypatch: pytest.MonkeyPatch) -> None:
    model.add_entries([entry(0, device="dev-alice"), entry(1, device="dev-bob")])
    model.set_text("reception")
    assert model.rowCount() == 0
    monkeypatch.setitem(NAMES, "dev-bob", "Reception")
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, _bottom, *_: changed.append((top.column(), top.row())))
    model.refresh_names()
    assert shown_ns(model) == [1]
    assert cell(model, 0, Col.DEVICE) == "Reception"
    assert changed == [(Col.DEVICE, 0)]


def test_selection_follows_its_entry_through_a_filter(panel: EventLogPanel) -> None:
    model = panel.model
    model.add_entries(batch(0, 40) + batch(40, 5, device="dev-bob") + batch(45, 5))
    selection = panel.table.selectionModel()
    flags = (
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    )
    selection.setCurrentIndex(model.index(42, 0), flags)
    panel.filter_edit.setText("bob")
    assert [r.row() for r in selection.selectedRows()] == [2]
    assert model.entry_at(2) == entry(42, device="dev-bob")
    panel.filter_edit.clear()
    assert [r.row() for r in selection.selectedRows()] == [42]


# ---- the panel -------------------------------------------------------------------------------


def test_toolbar_and_counts(panel: EventLogPanel) -> None:
    named = {
        "log.filter": panel.filter_edit,
        "log.kinds": panel.kinds_button,
        "log.export": panel.export_button,
        "log.table": panel.table,
    }
    for name, widget in named.items():
        assert panel.findChild(QWidget, name) is widget, name
    assert panel.filter_edit.placeholderText() == "Filter by device, username or contact"
    assert panel.export_button.text() == "Export CSV…" and panel.clear_button.text() == "Clear"
    assert panel.table.wordWrap() is False
    assert panel.count_label.text() == "0 events"
    panel.model.add_entries(batch(0, 1))
    assert panel.count_label.text() == "1 event"
    panel.model.add_entries(batch(1, 1233, kind=Kind.EXPIRED))
    assert panel.count_label.text() == "1,234 events"
    panel.filter_edit.setText("bob")
    assert panel.count_label.text() == "0 of 1,234 events"
    panel.filter_edit.clear()
    panel.clear_button.click()
    assert panel.model.rowCount() == 0 and panel.count_label.text() == "0 events"


def test_kinds_menu(panel: EventLogPanel) -> None:
    panel.model.add_entries(
        [entry(0, Kind.REGISTERED), entry(1, Kind.EXPIRED), entry(2, Kind.NOTIFY_FAILED)]
    )
    actions = {a.text(): a for a in panel.kinds_menu.actions() if a.isCheckable()}
    assert list(actions) == [k.value for k in Kind]
    assert panel.kinds_button.text() == "All kinds"
    actions["expired"].trigger()
    assert shown_ns(panel.model) == [1]
    assert panel.kinds_button.text() == "Expired"
    actions["NOTIFY failed"].trigger()
    assert shown_ns(panel.model) == [1, 2]
    assert panel.kinds_button.text() == "2 kinds"
    actions["expired"].trigger()
    assert panel.kinds_button.text() == "NOTIFY failed"
    assert shown_ns(panel.model) == [2]
    show_all = next(a for a in panel.kinds_menu.actions() if a.text() == "Show all kinds")
    show_all.trigger()
    assert not any(a.isChecked() for a in actions.values())
    assert shown_ns(panel.model) == [0, 1, 2]


def test_device_filter(panel: EventLogPanel) -> None:
    panel.model.add_entries(batch(0, 3) + batch(3, 2, device="dev-bob") + batch(5, 2))
    assert not panel.device_button.isVisible()
    panel.set_device_filter("dev-bob")
    assert shown_ns(panel.model) == [3, 4]
    assert panel.count_label.text() == "2 of 7 events"
    assert panel.device_button.isVisible()
    assert panel.device_button.text() == f"Device: {NAMES['dev-bob']}"
    panel.filter_edit.setText("alice")  # both filters at once
    assert panel.model.rowCount() == 0
    panel.filter_edit.clear()
    panel.device_button.click()  # shows every device again
    assert panel.model.rowCount() == 7 and not panel.device_button.isVisible()


# ---- following the newest --------------------------------------------------------------------


def last_row_in_view(panel: EventLogPanel) -> bool:
    last = panel.model.index(panel.model.rowCount() - 1, 0)
    return panel.table.viewport().rect().contains(panel.table.visualRect(last))


def top_entry(panel: EventLogPanel) -> LogEntry:
    return panel.model.entry_at(panel.table.rowAt(0))


def test_follows_the_newest_at_the_bottom(panel: EventLogPanel) -> None:
    bar = panel.table.verticalScrollBar()
    for start in range(0, 300, 50):
        panel.model.add_entries(batch(start, 50))
        settle()
        assert bar.maximum() > 0 and bar.value() == bar.maximum()
        assert last_row_in_view(panel) and panel.is_following()


def test_scrolled_away_stays_put(qtbot: Any) -> None:
    model = EventLogModel(name_of, capacity=400)
    panel = EventLogPanel(model=model)
    qtbot.addWidget(panel)
    panel.resize(1000, 320)
    panel.show()
    qtbot.waitExposed(panel)
    model.add_entries(batch(0, 300))
    settle()
    bar = panel.table.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    assert not panel.is_following()
    value, top = bar.value(), top_entry(panel)
    model.add_entries(batch(300, 100))
    settle()
    assert bar.value() == value and top_entry(panel) == top
    assert not last_row_in_view(panel)
    model.add_entries(batch(400, 50))  # 450 > 440: the oldest 50 go, above the user's place
    settle()
    assert model.total_count() == 400
    assert top_entry(panel) == top
    panel.table.scrollToBottom()  # back at the bottom: following again
    model.add_entries(batch(450, 20))
    settle()
    assert panel.is_following() and last_row_in_view(panel)


def test_filter_change_keeps_the_selected_entry_in_view(panel: EventLogPanel) -> None:
    model = panel.model
    model.add_entries(batch(0, 150) + batch(150, 5, device="dev-bob") + batch(155, 150))
    settle()
    panel.table.selectRow(10)
    panel.filter_edit.setText("user_alice")
    settle()
    assert model.entry_at(panel.table.currentIndex().row()) == entry(10)
    assert panel.table.viewport().rect().contains(panel.table.visualRect(model.index(10, 0)))
    panel.table.clearSelection()
    panel.filter_edit.setText("user_")  # nothing selected: the newest
    settle()
    assert last_row_in_view(panel)


# ---- CSV export ------------------------------------------------------------------------------


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def varied(count: int) -> Iterator[LogEntry]:
    """Every kind, of every device (and none, and an unknown one), shuffled the same way each
    time; refreshes the most frequent, as in life."""
    pick = random.Random(7)
    kinds = [*Kind, Kind.REFRESHED, Kind.REFRESHED, Kind.REFRESHED]
    devices = [*NAMES, None, "dev-unknown"]
    for n in range(count):
        yield entry(n, pick.choice(kinds), pick.choice(devices))


def test_export_holds_what_the_view_shows(
    panel: EventLogPanel, run_async: Any, tmp_path: Path
) -> None:
    model = panel.model
    model.add_entries(list(varied(300)))
    panel.filter_edit.setText("desk")
    next(a for a in panel.kinds_menu.actions() if a.text() == "expired").trigger()
    next(a for a in panel.kinds_menu.actions() if a.text() == "refreshed").trigger()
    view_model = panel.table.model()
    assert 0 < view_model.rowCount() < 300
    target = tmp_path / "events.csv"
    assert run_async(panel.export_csv(target)) == target
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    header, *rows = read_csv(target)
    assert header == [view_model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(Col))]
    assert len(rows) == view_model.rowCount()
    for row, cells in enumerate(rows):
        shown = [cell(view_model, row, c) for c in range(len(Col))]
        assert cells[1:] == shown[1:]
        at = datetime.fromisoformat(cells[Col.TIME])
        assert at.utcoffset() is not None
        assert cells[Col.TIME] == cell(view_model, row, Col.TIME, Qt.ItemDataRole.ToolTipRole)
        assert at.strftime("%H:%M:%S") == shown[Col.TIME]
        assert at.timestamp() == model.entry_at(row).at


def test_csv_round_trips_awkward_text(panel: EventLogPanel, run_async: Any, tmp_path: Path) -> None:
    agent = 'Zoë\'s "Fancy" phone, v2\nline two ☎'
    panel.model.add_entries([entry(0, user_agent=agent, detail="a,b;c")])
    target = tmp_path / "awkward.csv"
    run_async(panel.export_csv(target))
    rows = read_csv(target)
    assert rows[1][Col.USER_AGENT] == agent and rows[1][Col.DETAIL] == "a,b;c"


def test_write_csv_replaces_all_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "events.csv"
    target.write_text("the previous export", encoding="utf-8")

    def failing_rows() -> Iterator[list[str]]:
        yield ["a", "b"]
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_csv(target, ["x", "y"], failing_rows())
    assert target.read_text(encoding="utf-8") == "the previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["events.csv"]


def fail_export(panel: EventLogPanel, qtbot: Any, qloop: Any, target: Path) -> str:
    """Export to `target`, which must fail: the warning's text, once dismissed."""
    task = qloop.create_task(panel.export_csv(target))
    box = open_dialog(qtbot, QMessageBox)
    assert box.icon() == QMessageBox.Icon.Warning
    text = box.text()
    box.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(task.done)
    assert task.result() is None
    return text


def test_export_to_a_directory_fails_and_says_so(
    panel: EventLogPanel, qtbot: Any, qloop: Any, tmp_path: Path
) -> None:
    panel.model.add_entries(batch(0, 3))
    folder = tmp_path / "a folder"
    folder.mkdir()
    text = fail_export(panel, qtbot, qloop, folder)
    assert str(folder) in text and "directory" in text.lower()
    assert [p.name for p in tmp_path.iterdir()] == ["a folder"]
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_export_to_a_read_only_folder_fails_and_says_so(
    panel: EventLogPanel, qtbot: Any, qloop: Any, tmp_path: Path
) -> None:
    panel.model.add_entries(batch(0, 3))
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        text = fail_export(panel, qtbot, qloop, folder / "events.csv")
        assert "Permission denied" in text
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def answer_file_dialog(qtbot: Any, target: Path) -> str:
    """Pick `target` in the export's file dialog; the name it proposed."""
    dialog = open_dialog(qtbot, QFileDialog)
    proposed = Path(dialog.selectedFiles()[0]).name
    name_edit = dialog.findChild(QLineEdit, "fileNameEdit")  # Qt's own dialog, offscreen
    assert isinstance(name_edit, QLineEdit)
    name_edit.setText(str(target))  # as typed
    dialog.accept()
    return proposed


def test_export_asks_where(panel: EventLogPanel, qtbot: Any, qloop: Any, tmp_path: Path) -> None:
    panel.model.add_entries(batch(0, 4))
    target = tmp_path / "picked.csv"
    task = qloop.create_task(panel.export_csv())
    proposed = answer_file_dialog(qtbot, target)
    assert re.fullmatch(r"kazoodesk-events-\d{8}-\d{6}\.csv", proposed)
    qtbot.waitUntil(task.done)
    assert task.result() == target and len(read_csv(target)) == 5

    # an existing file is replaced once the user agrees
    target.write_text("old", encoding="utf-8")
    task = qloop.create_task(panel.export_csv())
    answer_file_dialog(qtbot, target)
    box = open_dialog(qtbot, QMessageBox)
    assert "picked.csv already exists" in box.text()
    replace = next(b for b in box.buttons() if b.text() == "Replace")
    replace.click()
    qtbot.waitUntil(task.done)
    assert task.result() == target and len(read_csv(target)) == 5


def test_export_cancelled(panel: EventLogPanel, qtbot: Any, qloop: Any) -> None:
    task = qloop.create_task(panel.export_csv())
    open_dialog(qtbot, QFileDialog).reject()
    qtbot.waitUntil(task.done)
    assert task.result() is None


# ---- to look at ------------------------------------------------------------------------------


def screenshot_entries() -> list[LogEntry]:
    agents = [
        "Yealink SIP-T46S 66.86.0.15",
        "PolycomVVX-VVX_450-UA/6.4.3",
        "Linphone/5.2 (Android)",
    ]
    out = []
    for n, logged in enumerate(varied(200)):
        details = {
            Kind.AUTH_FAILED: "wrong password",
            Kind.NOTIFY_ANSWERED: "check-sync → 200",
            Kind.NOTIFY_FAILED: "check-sync: unreachable",
            Kind.UNREGISTERED: "",
            Kind.EXPIRED: "no refresh",
        }
        detail = details.get(logged.kind, logged.detail)
        out.append(
            LogEntry(
                logged.at + n * 3,
                logged.kind,
                logged.username,
                logged.device_id,
                logged.contact,
                agents[n % len(agents)],
                logged.source,
                detail,
            )
        )
    return out


def test_screenshot(qtbot: Any) -> None:
    panel = EventLogPanel(name_of)
    qtbot.addWidget(panel)
    panel.resize(1280, 420)
    panel.show()
    qtbot.waitExposed(panel)
    panel.model.add_entries(screenshot_entries())
    settle()
    assert last_row_in_view(panel)
    screenshot(panel, "event-log")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    app.setPalette(theme.dark_palette())
    try:
        panel.set_device_filter("dev-bob")
        settle()
        screenshot(panel, "event-log-dark")
    finally:
        app.setPalette(light)
