"""DeviceListView with Demo Co's devices: filters from its own widgets, selection by id,
signals, remembered columns and sort, and a screenshot to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QPoint, QSettings, Qt
from PySide6.QtWidgets import QComboBox

from helpers import Api
from kazoodesk.ui.devices import UNASSIGNED, DeviceListView, hotdesk_flags
from kazoodesk.ui.devices.device_records import Column
from kazoodesk.ui.devices.device_types import Status

ByName = dict[str, dict[str, Any]]
OUTPUT = Path(__file__).resolve().parents[2] / "output"


def shown_names(view: DeviceListView) -> list[str]:
    model = view.model
    return [model.index(r, Column.NAME).data() for r in range(model.rowCount())]


def choose(combo: QComboBox, data: Any) -> None:
    at = combo.findData(data)
    assert at >= 0, data
    combo.setCurrentIndex(at)


def row_centre(view: DeviceListView, name: str) -> QPoint:
    row = shown_names(view).index(name)
    return view.table.visualRect(view.model.index(row, Column.NAME)).center()


# ---- layout and counts -------------------------------------------------------------------------


def test_widgets_and_count(view: DeviceListView) -> None:
    assert view.search.placeholderText().startswith("Search")
    assert view.search.isClearButtonEnabled()
    assert view.count_label.text() == "31 devices"
    assert view.table.isSortingEnabled()
    mode = view.table.selectionMode()
    assert mode == view.table.SelectionMode.ExtendedSelection
    view.search.setText("fax")
    assert view.count_label.text() == "31 devices · 2 shown"


def test_loading_indicator(view: DeviceListView) -> None:
    view.set_loading(True, "Loading devices… 500")
    assert view.loading_bar.isVisible() and view.loading_label.text() == "Loading devices… 500"
    view.set_loading(False, "Could not load the devices: timeout")
    assert not view.loading_bar.isVisible()
    assert view.loading_label.isVisible()  # the failure stays in sight
    view.set_loading(False)
    assert not view.loading_label.isVisible()


def test_empty_list_says_so(qtbot: Any) -> None:
    view = DeviceListView("tests/emptyList")
    qtbot.addWidget(view)
    assert view.count_label.text() == "No devices"
    view.set_loading(True, "Loading devices…")
    assert view.count_label.text() == "Loading devices…"


def test_focus_search(view: DeviceListView, qtbot: Any) -> None:
    view.search.setText("desk")
    view.table.setFocus()
    view.focus_search()
    qtbot.waitUntil(view.search.hasFocus)
    assert view.search.selectedText() == "desk"


# ---- filters through the widgets ---------------------------------------------------------------


def test_search_box_filters(view: DeviceListView, qtbot: Any) -> None:
    qtbot.keyClicks(view.search, "00-04-F2")  # Bob's desk phone, stored bare
    assert shown_names(view) == ["Bob's Desk – Polycom VVX 450"]
    qtbot.keyClick(view.search, Qt.Key.Key_Escape)
    assert view.search.text() == "" and view.model.rowCount() == 31


def test_filter_combos(view: DeviceListView, by_name: ByName, user_id: Any) -> None:
    choose(view.type_combo, "landline")
    assert shown_names(view) == ["After-Hours Answering Service", "Emma's Home Line"]
    choose(view.type_combo, None)
    choose(view.enabled_combo, False)
    assert shown_names(view) == ["Old Lobby Phone – Cisco SPA504G (retired)"]
    choose(view.enabled_combo, None)
    view.model.set_registered({by_name["Carol's Android"]["id"]})
    choose(view.status_combo, int(Status.REGISTERED))
    assert shown_names(view) == ["Carol's Android"]
    choose(view.status_combo, None)
    choose(view.owner_combo, user_id("Carol"))
    assert view.count_label.text() == "31 devices · 3 shown"
    choose(view.type_combo, "ata")  # combined
    assert shown_names(view) == ["Front Desk ATA – Grandstream HT802"]


def test_owner_combo_lists_users(view: DeviceListView) -> None:
    entries = [view.owner_combo.itemText(i) for i in range(view.owner_combo.count())]
    assert entries[:2] == ["All owners", "Unassigned"]
    users = [e for e in entries[2:] if e]  # after the separator
    assert users == [
        "Alice Chen",
        "Bob Martinez",
        "Carol Okafor",
        "David Kim",
        "Emma Larsen",
        "Olivia Bennett",
    ]


def test_owner_filter_asks_for_hotdesks_and_marks_them(
    view: DeviceListView, qtbot: Any, api: Api, user_id: Any
) -> None:
    emma = user_id("Emma")
    with qtbot.waitSignal(view.ownerFilterChanged) as asked:
        choose(view.owner_combo, emma)
    assert asked.args == [emma]
    assert view.model.rowCount() == 3  # owned, until the loader answers
    # the loader's part: GET /users/{U}/devices, then back to the view
    answer = api.ok("GET", f"{api.account}/users/{emma}/devices")["data"]
    with qtbot.assertNotEmitted(view.ownerFilterChanged):
        view.set_owner_filter(emma, hotdesk_flags(answer))
    row = shown_names(view).index("Bob's Desk – Polycom VVX 450")
    assert view.model.index(row, Column.OWNER).data() == "Bob Martinez (hotdesk)"
    assert view.owner_filter() == emma
    with qtbot.waitSignal(view.ownerFilterChanged) as asked:
        choose(view.owner_combo, UNASSIGNED)
    assert asked.args == [UNASSIGNED] and view.model.rowCount() == 11


# ---- selection ---------------------------------------------------------------------------------


def test_select_ids_and_selection_signal(view: DeviceListView, qtbot: Any, by_name: ByName) -> None:
    accounting, warehouse = by_name["Accounting Fax"]["id"], by_name["Warehouse Fax"]["id"]
    with qtbot.waitSignal(view.selectionChangedIds) as changed:
        view.select_ids([warehouse, accounting])
    assert changed.args == [[accounting, warehouse]]  # in display order
    assert view.selected_ids() == [accounting, warehouse]
    assert view.model.device_id(view.table.currentIndex()) == warehouse  # the first asked for


def test_selection_kept_by_id_across_filters_and_sorts(
    view: DeviceListView, qtbot: Any, by_name: ByName
) -> None:
    bob, fax = by_name["Bob's Softphone"]["id"], by_name["Warehouse Fax"]["id"]
    view.select_ids([bob, fax])
    view.table.sortByColumn(Column.TYPE, Qt.SortOrder.DescendingOrder)
    assert set(view.selected_ids()) == {bob, fax}
    with qtbot.waitSignal(view.selectionChangedIds) as changed:
        view.search.setText("soft")  # hides the fax
    assert changed.args == [[bob]] and view.selected_ids() == [bob]
    with qtbot.waitSignal(view.selectionChangedIds) as changed:
        view.search.clear()  # shows it again, selected again
    assert set(changed.args[0]) == {bob, fax}
    # a reload (clear + pages) keeps it too
    rows = view.model.rows()
    view.model.clear()
    view.model.append_rows(rows[:10])
    view.model.append_rows(rows[10:])
    assert set(view.selected_ids()) == {bob, fax}


def test_a_new_choice_replaces_the_hidden_selection(
    view: DeviceListView, qtbot: Any, by_name: ByName
) -> None:
    fax = by_name["Warehouse Fax"]["id"]
    view.select_ids([fax])
    view.search.setText("bob")
    qtbot.mouseClick(
        view.table.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(view, "Bob's Cell")
    )
    view.search.clear()
    assert view.selected_ids() == [by_name["Bob's Cell"]["id"]]


def test_upsert_and_remove_keep_the_selection(view: DeviceListView, by_name: ByName) -> None:
    fax = by_name["Warehouse Fax"]
    view.select_ids([fax["id"]])
    view.model.upsert({**fax, "name": "AAA Warehouse Fax"})  # moves to the top
    assert view.selected_ids() == [fax["id"]]
    assert view.table.currentIndex().row() == 0
    view.model.remove_ids([by_name["Accounting Fax"]["id"]])
    assert view.selected_ids() == [fax["id"]]
    view.model.remove_ids([fax["id"]])
    assert view.selected_ids() == []


# ---- signals -----------------------------------------------------------------------------------


def test_double_click_requests_edit(view: DeviceListView, qtbot: Any, by_name: ByName) -> None:
    at = row_centre(view, "Emma's Mobile")
    # a view takes a double click only on the row the first click pressed
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=at)
    with qtbot.waitSignal(view.editRequested) as edit:
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert edit.args == [by_name["Emma's Mobile"]["id"]]


def test_enter_requests_edit(view: DeviceListView, qtbot: Any, by_name: ByName) -> None:
    view.select_ids([by_name["David's Cell"]["id"]])
    view.table.setFocus()
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        with qtbot.waitSignal(view.editRequested) as edit:
            qtbot.keyClick(view.table, key)
        assert edit.args == [by_name["David's Cell"]["id"]]


def test_down_from_search_goes_to_the_list(view: DeviceListView, qtbot: Any) -> None:
    view.search.setText("fax")
    qtbot.keyClick(view.search, Qt.Key.Key_Down)
    assert view.selected_ids() == [view.model.device_id(view.model.index(0, 0))]


def test_context_menu_signal(view: DeviceListView, qtbot: Any, by_name: ByName) -> None:
    view.select_ids([by_name["Warehouse Fax"]["id"], by_name["Accounting Fax"]["id"]])
    inside = row_centre(view, "Warehouse Fax")
    with qtbot.waitSignal(view.contextMenuRequestedIds) as menu:
        view.table.customContextMenuRequested.emit(inside)
    assert set(menu.args[0]) == {by_name["Warehouse Fax"]["id"], by_name["Accounting Fax"]["id"]}
    assert menu.args[1] == view.table.viewport().mapToGlobal(inside)
    # on a row outside the selection: that row alone
    other = row_centre(view, "Bob's Cell")
    with qtbot.waitSignal(view.contextMenuRequestedIds) as menu:
        view.table.customContextMenuRequested.emit(other)
    assert menu.args[0] == [by_name["Bob's Cell"]["id"]]


# ---- remembered state --------------------------------------------------------------------------


def test_widths_and_sort_saved_and_restored(qtbot: Any, demo_rows: list[dict[str, Any]]) -> None:
    first = DeviceListView("tests/stateRoundTrip")
    qtbot.addWidget(first)
    first.model.append_rows(demo_rows)
    header = first.table.horizontalHeader()
    header.resizeSection(Column.NAME, 333)
    header.resizeSection(Column.MAC, 177)
    first.table.sortByColumn(Column.MAC, Qt.SortOrder.DescendingOrder)
    first.save_state()
    assert QSettings().value("tests/stateRoundTrip/sortOrder") == "descending"

    second = DeviceListView("tests/stateRoundTrip")
    qtbot.addWidget(second)
    second.model.append_rows(demo_rows)
    restored = second.table.horizontalHeader()
    assert restored.sectionSize(Column.NAME) == 333
    assert restored.sectionSize(Column.MAC) == 177
    assert restored.sortIndicatorSection() == Column.MAC
    assert restored.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert second.model.sort_column() == Column.MAC
    assert second.model.sort_order() == Qt.SortOrder.DescendingOrder
    macs = [second.model.index(r, Column.MAC).data() for r in range(second.model.rowCount())]
    assert [m for m in macs if m][0] == "e0:5f:b9:a1:b2:1b"  # the highest MAC first


def test_changes_are_saved_without_being_asked(qtbot: Any) -> None:
    view = DeviceListView("tests/autoSave")
    qtbot.addWidget(view)
    view.table.sortByColumn(Column.OWNER, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: QSettings().value("tests/autoSave/sortColumn") is not None)
    assert int(QSettings().value("tests/autoSave/sortColumn")) == Column.OWNER


def test_garbage_settings_are_ignored(qtbot: Any) -> None:
    settings = QSettings()
    settings.setValue("tests/garbage/columnWidths", "a,b")
    settings.setValue("tests/garbage/sortColumn", "99")
    view = DeviceListView("tests/garbage")
    qtbot.addWidget(view)
    assert view.model.sort_column() == Column.NAME


# ---- how it looks ------------------------------------------------------------------------------


def test_screenshot(view: DeviceListView, qtbot: Any, by_name: ByName) -> None:
    """tests/output/device_list.png: the demo devices as a user first sees them, with the
    phones the demo registers shown registered and one row selected."""
    registering = [
        row["id"]
        for row in by_name.values()
        if row.get("username") and row["enabled"] and "Emma's Desk" not in row["name"]
    ]
    view.model.set_registered(registering)
    view.select_ids([by_name["Bob's Desk – Polycom VVX 450"]["id"]])
    view.table.selectionModel().setCurrentIndex(
        view.table.currentIndex(), QItemSelectionModel.SelectionFlag.NoUpdate
    )
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / "device_list.png"
    assert view.grab().save(str(path))
    assert path.stat().st_size > 10_000
