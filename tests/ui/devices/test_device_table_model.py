"""DeviceTableModel with Demo Co's devices: cells, search, filters, sorting, edits, and the
Qt model contract (qtmodeltester) through all of them."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt

from helpers import Api
from kazoodesk.ui.devices import UNASSIGNED, hotdesk_flags
from kazoodesk.ui.devices.device_records import Column
from kazoodesk.ui.devices.device_table_model import (
    DEVICE_ID_ROLE,
    HOTDESK_ROLE,
    STATUS_ROLE,
    DeviceTableModel,
)
from kazoodesk.ui.devices.device_types import Status

Rows = list[dict[str, Any]]
ByName = dict[str, dict[str, Any]]
ASC, DESC = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder
TOOLTIP = Qt.ItemDataRole.ToolTipRole
ICON = Qt.ItemDataRole.DecorationRole
COLOUR = Qt.ItemDataRole.ForegroundRole


def texts(model: DeviceTableModel, column: Column, role: int = 0) -> list[Any]:
    return [model.index(r, column).data(role) for r in range(model.rowCount())]


def names(model: DeviceTableModel) -> list[str]:
    return texts(model, Column.NAME)


def cell(model: DeviceTableModel, name: str, column: Column, role: int = 0) -> Any:
    row = names(model).index(name)
    return model.index(row, column).data(role)


# ---- the Qt contract ---------------------------------------------------------------------------


def test_model_contract_through_feeding_filtering_and_sorting(
    qapp: Any, qtmodeltester: Any, demo_rows: Rows, demo_users: Rows, user_id: Any
) -> None:
    model = DeviceTableModel()
    qtmodeltester.check(model)  # stays attached: every change below is checked too
    for start in range(0, len(demo_rows), 7):
        model.append_rows(demo_rows[start : start + 7])
    model.set_users(demo_users)
    model.set_registered([r["id"] for r in demo_rows[::3]])
    model.set_search("desk")
    model.set_search("desk ali")
    model.set_search("")
    model.set_type_filter({"softphone", "fax"})
    model.sort(Column.OWNER, DESC)
    model.set_owner_filter(user_id("Olivia"))
    model.set_type_filter(None)
    for column in Column:
        model.sort(column, ASC)
        model.sort(column, DESC)
    model.upsert({**demo_rows[0], "name": "Renamed"})
    model.remove_ids([demo_rows[1]["id"], demo_rows[2]["id"]])
    model.set_owner_filter(None)
    model.clear()
    model.append_rows(demo_rows)
    assert model.rowCount() == 31


def test_python_model_tester_agrees(qtmodeltester: Any, model: DeviceTableModel) -> None:
    model.set_search("a")
    model.sort(Column.MAC, DESC)
    qtmodeltester.check(model, force_py=True)


def test_layout_changes_move_persistent_indexes_with_their_devices(
    model: DeviceTableModel, by_name: ByName
) -> None:
    bob = model.index(names(model).index("Bob's Softphone"), Column.OWNER)
    fax = model.index(names(model).index("Warehouse Fax"), Column.MAC)
    held_bob, held_fax = QPersistentModelIndex(bob), QPersistentModelIndex(fax)
    model.sort(Column.TYPE, DESC)
    assert held_bob.data() == "Bob Martinez" and held_bob.column() == Column.OWNER
    assert model.device_id(held_bob) == by_name["Bob's Softphone"]["id"]
    model.set_search("bob")
    assert held_bob.isValid() and not held_fax.isValid()
    assert model.rowCount() == 3  # Bob's desk, softphone and cell


# ---- cells -------------------------------------------------------------------------------------


def test_macs_are_shown_as_colon_pairs_whatever_the_stored_form(model: DeviceTableModel) -> None:
    assert cell(model, "Reception – Yealink T54W", Column.MAC) == "80:5e:c0:4b:1a:01"
    assert cell(model, "Alice's Desk – Yealink T46U", Column.MAC) == "00:15:65:a1:3c:02"
    assert cell(model, "Bob's Desk – Polycom VVX 450", Column.MAC) == "00:04:f2:a1:b2:03"
    assert cell(model, "Conference Room – Polycom VVX 450", Column.MAC) == "64:16:7f:a1:b2:07"
    assert cell(model, "Alice's Softphone", Column.MAC) == ""
    tooltip = cell(model, "Conference Room – Polycom VVX 450", Column.MAC, TOOLTIP)
    assert tooltip == "Stored as 6416.7fa1.b207"


def test_owner_names_and_unassigned(model: DeviceTableModel, demo_rows: Rows) -> None:
    assert cell(model, "Reception – Yealink T54W", Column.OWNER) == "Carol Okafor"
    assert cell(model, "Conference Room – Polycom VVX 450", Column.OWNER) == "Unassigned"
    tip = cell(model, "Reception – Yealink T54W", Column.OWNER, TOOLTIP)
    assert tip == "Carol Okafor (carol.okafor)"
    unassigned = [r for r in demo_rows if not r.get("owner_id")]
    assert texts(model, Column.OWNER).count("Unassigned") == len(unassigned) == 11


def test_owner_of_a_user_not_loaded_yet(qapp: Any, demo_rows: Rows, demo_users: Rows) -> None:
    model = DeviceTableModel()
    model.append_rows(demo_rows)
    owner = cell(model, "Reception – Yealink T54W", Column.OWNER)
    assert owner.startswith("Unknown user 77aa6a0c")
    model.set_users(demo_users)
    assert cell(model, "Reception – Yealink T54W", Column.OWNER) == "Carol Okafor"


def test_friendly_types_with_icons(model: DeviceTableModel) -> None:
    shown = dict(zip(names(model), texts(model, Column.TYPE), strict=True))
    assert shown["Reception – Yealink T54W"] == "SIP phone"
    assert shown["Alice's Softphone"] == "Softphone"
    assert shown["Bob's Cell"] == "Cell phone"
    assert shown["Emma's Home Line"] == "Landline"
    assert shown["Warehouse Fax"] == "Fax"
    assert shown["Alice's iPhone"] == "Smartphone"
    assert shown["Front Desk ATA – Grandstream HT802"] == "ATA"
    assert shown["Conference Bridge (SIP URI)"] == "SIP URI"
    assert shown["Emma's Mobile"] == "Mobile"
    assert all(not icon.isNull() for icon in texts(model, Column.TYPE, ICON))


def test_unknown_types_are_shown_raw(model: DeviceTableModel) -> None:
    model.append_rows([{"id": "m1", "name": "Meta thing", "device_type": "meta", "enabled": True}])
    assert cell(model, "Meta thing", Column.TYPE) == "meta"
    assert not cell(model, "Meta thing", Column.TYPE, ICON).isNull()
    model.append_rows([{"id": "n1", "name": "No type"}])  # Kazoo lists it as sip_device
    assert cell(model, "No type", Column.TYPE) == "SIP phone"
    assert cell(model, "No type", Column.ENABLED) == "Enabled"


def test_status_states(model: DeviceTableModel, by_name: ByName) -> None:
    assert cell(model, "Alice's Softphone", Column.STATUS) == "Unknown"  # status not loaded
    model.set_registered({by_name["Alice's Softphone"]["id"]})
    expected = {
        "Alice's Softphone": Status.REGISTERED,
        "Bob's Softphone": Status.UNREGISTERED,
        "Old Lobby Phone – Cisco SPA504G (retired)": Status.DISABLED,
        "Bob's Cell": Status.NOT_REGISTRABLE,
        "Emma's Home Line": Status.NOT_REGISTRABLE,
        "Conference Bridge (SIP URI)": Status.NOT_REGISTRABLE,
        "Emma's Mobile": Status.NOT_REGISTRABLE,
        "Legacy PBX Gateway (auth by IP)": Status.NOT_REGISTRABLE,
    }
    labels = {
        Status.REGISTERED: "Registered",
        Status.UNREGISTERED: "Unregistered",
        Status.DISABLED: "Disabled",
        Status.NOT_REGISTRABLE: "Not registrable",
    }
    for name, status in expected.items():
        assert cell(model, name, Column.STATUS, STATUS_ROLE) == status, name
        assert cell(model, name, Column.STATUS) == labels[status]
        assert not cell(model, name, Column.STATUS, ICON).isNull()
    assert "forward" in cell(model, "Bob's Cell", Column.STATUS, TOOLTIP)
    model.set_registration(by_name["Bob's Softphone"]["id"], True)
    model.set_registration(by_name["Alice's Softphone"]["id"], False)
    assert cell(model, "Bob's Softphone", Column.STATUS) == "Registered"
    assert cell(model, "Alice's Softphone", Column.STATUS) == "Unregistered"


def _status_rows(model: DeviceTableModel) -> list[tuple[int, int]]:
    """(first, last) rows of each dataChanged of the status column, while attached."""
    spans: list[tuple[int, int]] = []

    def changed(top: Any, bottom: Any, _roles: Any = None) -> None:
        assert top.column() == bottom.column() == Column.STATUS
        spans.append((top.row(), bottom.row()))

    model.dataChanged.connect(changed)
    return spans


def test_status_refresh_repaints_only_the_devices_that_changed(
    qtmodeltester: Any, model: DeviceTableModel, by_name: ByName
) -> None:
    qtmodeltester.check(model)
    alice, bob = by_name["Alice's Softphone"]["id"], by_name["Bob's Softphone"]["id"]
    fax = by_name["Warehouse Fax"]["id"]
    model.set_registered({alice, fax})  # from unknown: every device's state is new
    spans = _status_rows(model)
    model.set_registered({alice, fax})  # the same answer: nothing to repaint
    assert spans == []
    model.set_registered({alice, bob, "not-listed"})  # Bob came, the fax went
    rows = sorted(names(model).index(n) for n in ("Bob's Softphone", "Warehouse Fax"))
    assert sorted(first for first, _ in spans) == rows
    assert all(first == last for first, last in spans)
    assert cell(model, "Bob's Softphone", Column.STATUS) == "Registered"
    assert cell(model, "Alice's Softphone", Column.STATUS) == "Registered"
    assert cell(model, "Warehouse Fax", Column.STATUS) == "Unregistered"
    model.set_registered(set())
    model.set_search("Bob's Softphone")
    spans.clear()
    model.set_registered({alice})  # a device not shown has no row to repaint
    assert spans == [] and cell(model, "Bob's Softphone", Column.STATUS) == "Unregistered"
    model.set_search("")
    assert cell(model, "Alice's Softphone", Column.STATUS) == "Registered"


def test_status_change_of_neighbours_is_one_range(qtmodeltester: Any, qapp: Any) -> None:
    model = DeviceTableModel()
    rows = [{"id": f"d{n:04}", "name": f"Desk {n:04}", "username": f"u{n}"} for n in range(600)]
    model.append_rows(rows)
    model.set_registered(set())
    qtmodeltester.check(model)
    spans = _status_rows(model)
    model.set_registered({"d0010", "d0011", "d0012", "d0020"})
    assert sorted(spans) == [(10, 12), (20, 20)]
    assert texts(model, Column.STATUS)[9:13] == ["Unregistered"] + ["Registered"] * 3
    spans.clear()
    model.set_registered({f"d{n:04}" for n in range(0, 600, 2)})  # many: one range
    assert spans == [(0, 599)]
    assert texts(model, Column.STATUS)[:3] == ["Registered", "Unregistered", "Registered"]
    model.sort(Column.STATUS, ASC)  # sorted by status: the rows move with their state
    model.set_registered({"d0001"})
    spans.clear()
    model.set_registered({"d0002"})
    assert sorted(spans) == sorted(
        (row, row) for row in (names(model).index("Desk 0001"), names(model).index("Desk 0002"))
    )
    assert cell(model, "Desk 0002", Column.STATUS) == "Registered"
    assert cell(model, "Desk 0001", Column.STATUS) == "Unregistered"
    statuses = texts(model, Column.STATUS, STATUS_ROLE)
    assert statuses == sorted(statuses) or statuses == sorted(statuses, reverse=True)


def test_enabled_column_and_greyed_disabled_rows(model: DeviceTableModel) -> None:
    retired = "Old Lobby Phone – Cisco SPA504G (retired)"
    assert texts(model, Column.ENABLED).count("Disabled") == 1
    assert cell(model, retired, Column.ENABLED) == "Disabled"
    assert cell(model, retired, Column.NAME, COLOUR) is not None
    assert cell(model, "Alice's Softphone", Column.NAME, COLOUR) is None


def test_headers_and_ids(model: DeviceTableModel, by_name: ByName) -> None:
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in Column]
    assert headers == ["Status", "Name", "Type", "SIP username", "MAC address", "Owner", "Enabled"]
    row = model.row_for_id(by_name["Warehouse Fax"]["id"])
    assert model.device_id(model.index(row, Column.MAC)) == by_name["Warehouse Fax"]["id"]
    assert model.index(row, 0).data(DEVICE_ID_ROLE) == by_name["Warehouse Fax"]["id"]
    assert model.row_for_id("no-such-device") == -1
    assert model.device_row(by_name["Warehouse Fax"]["id"]) == by_name["Warehouse Fax"]


# ---- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SPA504g", ["Break Room", "David's Desk", "Old Lobby Phone"]),  # name, any case
        ("cell phone", ["Bob's Cell", "David's Cell"]),  # friendly type, both words
        ("user_f0c634", ["Bob's Softphone"]),  # SIP username
        ("okafor", ["Carol's Android", "Front Desk ATA", "Reception"]),  # owner name
        ("emma.larsen", ["Emma's Desk", "Emma's Home Line", "Emma's Mobile"]),  # owner login
        ("landline", ["After-Hours Answering Service", "Emma's Home Line"]),  # raw type
        ("ebd8d0c3", ["Warehouse Fax"]),  # id
    ],
)
def test_search_matches_every_text_column(
    model: DeviceTableModel, text: str, expected: list[str]
) -> None:
    model.set_search(text)
    shown = names(model)
    assert len(shown) == len(expected), shown
    assert all(any(n.startswith(e) for n in shown) for e in expected), shown


@pytest.mark.parametrize(
    "typed",
    ["6416.7fa1.b207", "64:16:7f:a1:b2:07", "64-16-7F-A1-B2-07", "64167fa1b207", "7f:a1:b2:0"],
)
def test_search_finds_a_mac_typed_any_way(model: DeviceTableModel, typed: str) -> None:
    model.set_search(typed)
    assert names(model)[0] == "Conference Room – Polycom VVX 450"
    if typed != "7f:a1:b2:0":
        assert names(model) == ["Conference Room – Polycom VVX 450"]
    else:  # Executive Office: 64:16:7f:a1:b2:0f
        assert len(names(model)) == 2


def test_search_narrowing_matches_a_fresh_search(
    qapp: Any, model: DeviceTableModel, demo_rows: Rows, demo_users: Rows
) -> None:
    for text in ("a", "al", "ali", "alic", "alice'", "alice's d", "b", "bo", "bob m"):
        model.set_search(text)
        fresh = DeviceTableModel()
        fresh.set_users(demo_users)
        fresh.append_rows(demo_rows)
        fresh.set_search(text)
        assert names(model) == names(fresh), text


def test_search_keeps_the_sort(model: DeviceTableModel) -> None:
    model.sort(Column.NAME, DESC)
    model.set_search("softphone")
    assert names(model) == [
        "Olivia's Softphone",
        "David's Softphone",
        "Bob's Softphone",
        "Alice's Softphone",
    ]


# ---- filters -----------------------------------------------------------------------------------


def test_type_filter(model: DeviceTableModel) -> None:
    model.set_type_filter({"sip_device"})
    assert model.rowCount() == 15
    model.set_type_filter({"cellphone", "landline"})
    assert set(texts(model, Column.TYPE)) == {"Cell phone", "Landline"}
    assert model.rowCount() == 4
    model.set_type_filter(None)
    assert model.rowCount() == 31


def test_enabled_filter(model: DeviceTableModel) -> None:
    model.set_enabled_filter(False)
    assert names(model) == ["Old Lobby Phone – Cisco SPA504G (retired)"]
    model.set_enabled_filter(True)
    assert model.rowCount() == 30


def test_status_filter(model: DeviceTableModel, by_name: ByName) -> None:
    model.set_registered({by_name["Alice's Softphone"]["id"], by_name["Warehouse Fax"]["id"]})
    model.set_status_filter({Status.REGISTERED})
    assert names(model) == ["Alice's Softphone", "Warehouse Fax"]
    model.set_status_filter({Status.NOT_REGISTRABLE})
    assert set(names(model)) == {
        "Bob's Cell",
        "David's Cell",
        "Emma's Home Line",
        "After-Hours Answering Service",
        "Conference Bridge (SIP URI)",
        "Emma's Mobile",
        "Legacy PBX Gateway (auth by IP)",
    }
    model.set_status_filter({Status.UNREGISTERED})
    assert model.rowCount() == 31 - 2 - 7 - 1  # registered, not registrable, disabled
    # a device that registers leaves the "unregistered" view at once
    model.set_registration(by_name["Bob's Softphone"]["id"], True)
    assert "Bob's Softphone" not in names(model)


def test_owner_filter_unassigned(model: DeviceTableModel) -> None:
    model.set_owner_filter(UNASSIGNED)
    assert model.rowCount() == 11
    assert set(texts(model, Column.OWNER)) == {"Unassigned"}


def test_owner_filter_with_hotdesks_from_the_simulator(
    model: DeviceTableModel, api: Api, user_id: Any
) -> None:
    emma = user_id("Emma")
    model.set_owner_filter(emma)  # what the combo does before the loader answers
    owned = ["Emma's Desk – Grandstream GXP2170", "Emma's Home Line", "Emma's Mobile"]
    assert names(model) == owned
    answer = api.ok("GET", f"{api.account}/users/{emma}/devices")["data"]
    model.set_owner_filter(emma, hotdesk_flags(answer))
    assert names(model) == sorted([*owned, "Bob's Desk – Polycom VVX 450"])
    bob_desk = "Bob's Desk – Polycom VVX 450"
    assert cell(model, bob_desk, Column.OWNER) == "Bob Martinez (hotdesk)"
    assert cell(model, bob_desk, Column.OWNER, HOTDESK_ROLE) is True
    assert not cell(model, bob_desk, Column.OWNER, ICON).isNull()
    tip = cell(model, bob_desk, Column.OWNER, TOOLTIP)
    assert tip == "Emma Larsen is hotdesked into this device, owned by Bob Martinez"
    assert cell(model, "Emma's Mobile", Column.OWNER) == "Emma Larsen"
    assert cell(model, "Emma's Mobile", Column.OWNER, HOTDESK_ROLE) is False
    # Bob sees his desk as his own, unmarked
    bob = user_id("Bob")
    answer = api.ok("GET", f"{api.account}/users/{bob}/devices")["data"]
    model.set_owner_filter(bob, hotdesk_flags(answer))
    assert cell(model, bob_desk, Column.OWNER) == "Bob Martinez"
    model.set_owner_filter(None)
    assert model.rowCount() == 31
    assert cell(model, bob_desk, Column.OWNER) == "Bob Martinez"


def test_filters_combine(model: DeviceTableModel, user_id: Any) -> None:
    model.set_owner_filter(user_id("Alice"))
    model.set_type_filter({"sip_device"})
    assert names(model) == ["Alice's Desk – Yealink T46U", "Alice's Home Office – Yealink T54W"]
    model.set_search("t54")
    assert names(model) == ["Alice's Home Office – Yealink T54W"]
    model.set_enabled_filter(False)
    assert names(model) == []
    model.set_enabled_filter(None)
    model.set_type_filter(None)
    model.set_search("")
    assert model.rowCount() == 4  # desk, home office, softphone, iPhone


def test_counts_signal(qtbot: Any, model: DeviceTableModel) -> None:
    with qtbot.waitSignal(model.countsChanged) as blocker:
        model.set_search("fax")
    assert blocker.args == [31, 2]


# ---- sorting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("column", list(Column))
def test_sort_by_each_column_both_ways(model: DeviceTableModel, column: Column) -> None:
    model.set_registered(set())
    model.sort(column, ASC)
    up = texts(model, column)
    names_up = names(model)
    model.sort(column, DESC)
    down = texts(model, column)
    assert names(model) == names_up[::-1]  # unique keys: descending is the exact reverse
    assert down == up[::-1]
    # ascending groups equal values together and keeps empty values last
    filled = [v for v in up if v not in ("", "Unassigned")]
    assert up[: len(filled)] == filled
    if column in (Column.NAME, Column.MAC):
        assert filled == sorted(filled, key=str.lower)


def test_sort_orders_that_need_meaning(model: DeviceTableModel, by_name: ByName) -> None:
    model.set_registered({by_name["Warehouse Fax"]["id"]})
    model.sort(Column.STATUS, ASC)
    statuses = texts(model, Column.STATUS)
    assert statuses[0] == "Registered" and statuses[-1] == "Disabled"
    model.sort(Column.OWNER, ASC)
    owners = texts(model, Column.OWNER)
    assert owners[:4] == ["Alice Chen"] * 4
    assert owners[-11:] == ["Unassigned"] * 11
    model.sort(Column.ENABLED, DESC)
    assert texts(model, Column.ENABLED)[0] == "Disabled"
    model.sort(Column.TYPE, ASC)
    assert texts(model, Column.TYPE)[0] == "ATA"


def test_natural_name_order(qapp: Any) -> None:
    model = DeviceTableModel()
    model.append_rows([{"id": f"d{n}", "name": f"Desk {n}"} for n in (10, 9, 1, 100)])
    assert names(model) == ["Desk 1", "Desk 9", "Desk 10", "Desk 100"]


# ---- edits -------------------------------------------------------------------------------------


def test_upsert_in_place_emits_data_changed(
    qtbot: Any, model: DeviceTableModel, by_name: ByName
) -> None:
    row = by_name["Warehouse Fax"]
    with qtbot.assertNotEmitted(model.layoutChanged), qtbot.waitSignal(model.dataChanged):
        model.upsert({**row, "mac_address": "001122334455"})
    assert cell(model, "Warehouse Fax", Column.MAC) == "00:11:22:33:44:55"
    assert model.rowCount() == 31


def test_upsert_moves_adds_and_hides(model: DeviceTableModel, by_name: ByName) -> None:
    model.upsert({**by_name["Warehouse Fax"], "name": "AAA Fax"})
    assert names(model)[0] == "AAA Fax" and model.rowCount() == 31
    model.upsert({"id": "new1", "name": "Zed Phone", "device_type": "softphone", "enabled": True})
    assert names(model)[-1] == "Zed Phone" and model.total_count() == 32
    model.set_type_filter({"softphone"})
    model.upsert({**by_name["Alice's Softphone"], "device_type": "sip_device"})
    assert "Alice's Softphone" not in names(model)


def test_device_types_follow_edits(qapp: Any) -> None:
    model = DeviceTableModel()
    model.append_rows([{"id": "m1", "name": "Meta", "device_type": "meta"}])
    assert model.device_types() == ["meta"]
    model.upsert({"id": "m1", "name": "Meta", "device_type": "sip_device"})
    assert model.device_types() == ["sip_device"]
    model.remove_ids(["m1"])
    assert model.device_types() == []


def test_append_replaces_rows_with_known_ids(model: DeviceTableModel, demo_rows: Rows) -> None:
    model.append_rows([{**r, "name": r["name"] + " (2)"} for r in demo_rows[:5]])
    assert model.total_count() == 31
    assert sum(n.endswith(" (2)") for n in names(model)) == 5


def test_remove_ids(model: DeviceTableModel, by_name: ByName) -> None:
    model.set_search("fax")
    model.remove_ids([by_name["Warehouse Fax"]["id"], "unknown-id"])
    assert names(model) == ["Accounting Fax"]
    assert model.total_count() == 30
    model.set_search("")
    assert "Warehouse Fax" not in names(model)


def test_real_listing_of_the_simulator(qapp: Any, api: Api, demo_users: Rows) -> None:
    model = DeviceTableModel()
    model.set_users(demo_users)
    listing = api.ok("GET", f"{api.account}/devices?page_size=10")
    model.append_rows(listing["data"])
    while "next_start_key" in listing:
        path = f"{api.account}/devices?page_size=10&start_key={listing['next_start_key']}"
        listing = api.ok("GET", path)
        model.append_rows(listing["data"])
    assert model.total_count() == 31
    assert cell(model, "Bob's Desk – Polycom VVX 450", Column.MAC) == "00:04:f2:a1:b2:03"
    assert cell(model, "Conference Room – Polycom VVX 450", Column.OWNER) == "Unassigned"
    assert names(model) == sorted(names(model), key=str.lower)
