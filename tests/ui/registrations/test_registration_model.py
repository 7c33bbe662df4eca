"""The registration table model: batches from a real tracker, its own sorting and filtering,
the selection kept while rows move."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QTableView

from kazoodesk.live.tracker import RegistrationTracker
from kazoodesk.ui.registrations.registration_model import Col, RegistrationTableModel

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def event(username: str, port: int, ua: str = "Phone 1.0", expires: int = 300) -> dict[str, Any]:
    return {
        "username": username,
        "contact": f"<sip:{username}@10.0.0.1:{port}>",
        "expires": expires,
        "user_agent": ua,
        "device_id": f"dev-{username}",
        "transport": "udp",
    }


def setup(count: int) -> tuple[RegistrationTracker, RegistrationTableModel, Clock]:
    clock = Clock()
    tracker = RegistrationTracker(clock)
    model = RegistrationTableModel(tracker, lambda d: f"Desk {d}", lambda o: "", clock)
    for n in range(count):
        tracker.apply_event("registered", event(f"u{n:03d}", 5000 + n))
    changes = tracker.take_changes()
    model.apply(changes.updated, changes.removed)
    return tracker, model, clock


def column(model: RegistrationTableModel, col: Col) -> list[str]:
    return [str(model.index(row, col).data()) for row in range(model.rowCount())]


def flush(tracker: RegistrationTracker, model: RegistrationTableModel) -> None:
    changes = tracker.take_changes()
    model.apply(changes.updated, changes.removed)


def test_rows_follow_the_batches_sorted_by_device(qtbot: Any) -> None:
    tracker, model, clock = setup(5)
    assert column(model, Col.USERNAME) == ["u000", "u001", "u002", "u003", "u004"]
    tracker.apply_event("unregistered", event("u002", 5002))
    tracker.apply_event("registered", event("u010", 5010))
    flush(tracker, model)
    assert column(model, Col.USERNAME) == ["u000", "u001", "u003", "u004", "u010"]
    assert model.total_count() == 5


def test_sorting_by_last_refresh_moves_rows_and_keeps_the_selection(qtbot: Any) -> None:
    tracker, model, clock = setup(50)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    model.sort(Col.LAST_REFRESH, Qt.SortOrder.DescendingOrder)
    selected = model.row_of(("u007", "sip:u007@10.0.0.1:5007"))
    assert selected is not None
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    view.selectionModel().select(model.index(selected, 0), flags)

    clock.now += 5
    tracker.apply_event("refreshed", event("u042", 5042, ua="Phone 2.0"))
    flush(tracker, model)
    assert column(model, Col.USERNAME)[0] == "u042"  # the newest refresh on top
    assert column(model, Col.USER_AGENT)[0] == "Phone 2.0"
    rows = view.selectionModel().selectedRows()
    assert [model.key_at(index.row())[0] for index in rows] == ["u007"]


def test_the_filter_keeps_matching_rows_as_batches_come(qtbot: Any) -> None:
    tracker, model, clock = setup(20)
    model.set_text("u01")
    assert column(model, Col.USERNAME) == [f"u{n:03d}" for n in range(10, 20)]
    tracker.apply_event("registered", event("u019x", 6000))
    tracker.apply_event("registered", event("u200", 6001))  # does not match
    tracker.apply_event("unregistered", event("u015", 5015))
    flush(tracker, model)
    assert "u019x" in column(model, Col.USERNAME)
    assert "u200" not in column(model, Col.USERNAME) and "u015" not in column(model, Col.USERNAME)
    assert model.total_count() == 21  # 20 + 2 registered - 1 unregistered
    model.set_text("")
    assert model.rowCount() == 21


def test_a_big_batch_of_refreshes_is_one_layout_change(qtbot: Any) -> None:
    tracker, model, clock = setup(400)
    model.sort(Col.LAST_REFRESH, Qt.SortOrder.DescendingOrder)
    layouts: list[int] = []
    model.layoutChanged.connect(lambda *args: layouts.append(1))
    inserted: list[int] = []
    model.rowsInserted.connect(lambda *args: inserted.append(1))
    for n in range(0, 400, 2):
        clock.now += 0.01
        tracker.apply_event("refreshed", event(f"u{n:03d}", 5000 + n))
    flush(tracker, model)
    assert len(layouts) == 1 and not inserted
    assert column(model, Col.USERNAME)[:2] == ["u398", "u396"]
