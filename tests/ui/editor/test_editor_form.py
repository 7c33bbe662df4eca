"""DeviceForm as a whole: tabs, Advanced, JSON tab, dirty tracking, errors, rules, names,
load time on the demo devices, and screenshots of every tab."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from editor_support import (
    OUTPUT,
    demo_device,
    demo_devices,
    editor,
    field,
    show,
    tab_index,
    tab_titles,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from kazoodesk.schema import SchemaRegistry
from kazoodesk.ui.editor.form import DeviceForm

BOB = "Bob's Desk – Polycom VVX 450"
TABS = [
    "Basic",
    "SIP",
    "Caller ID",
    "Call forwarding",
    "Media",
    "Restrictions",
    "Features",
    "Provisioning",
    "Advanced",
    "JSON",
]


def test_tabs_in_order_and_each_has_fields(form: DeviceForm) -> None:
    assert tab_titles(form) == TABS
    per_tab: dict[int, list[str]] = {}
    for path in form.paths():
        per_tab.setdefault(form.tab_of(path), []).append(path)
    for index, title in enumerate(TABS[:-1]):
        assert per_tab.get(index), f"{title} has no fields"
    assert "owner_id" in per_tab[0] and "sip.password" in per_tab[1]
    assert "provision.combo_keys" in per_tab[TABS.index("Provisioning")]
    assert "metaflows.numbers" in per_tab[TABS.index("Features")]


def test_advanced_holds_what_no_tab_places(form: DeviceForm) -> None:
    advanced = TABS.index("Advanced")
    for path in (
        "provision.check_sync_event",
        "dial_plan.system",
        "flags",
        "outbound_flags",
        "mwi_unsolicited_updates",
        "formatters",
    ):
        assert form.tab_of(path) == advanced, path
    assert form.tab_of("sip.username") != advanced
    # every field of the schema has a tab
    json_tab = TABS.index("JSON")
    assert all(form.tab_of(path) != json_tab for path in form.paths())


def _served(registry: SchemaRegistry, extra: bool) -> SchemaRegistry:
    docs = {name: registry.document(name) for name in registry.names()}
    if extra:
        devices = docs["devices"]
        devices["properties"]["shiny_new"] = {"type": "string", "description": "Only here"}
        devices["properties"]["sip"]["properties"]["transport"] = {
            "type": "string",
            "enum": ["udp", "tcp", "tls"],
        }
    return SchemaRegistry.from_documents(docs)


def test_server_schema_extra_fields_land_on_advanced(qtbot: Any, registry: SchemaRegistry) -> None:
    form = DeviceForm(_served(registry, extra=True))
    qtbot.addWidget(form)
    advanced = TABS.index("Advanced")
    assert form.tab_of("shiny_new") == advanced
    assert form.tab_of("sip.transport") == advanced
    document = {"name": "x", "shiny_new": "yes", "sip": {"transport": "tls", "username": "u1"}}
    form.load(document)
    assert form.document() == document
    transport = field(form, "sip.transport")
    assert isinstance(transport, QComboBox)
    transport.setCurrentText("tcp")
    assert form.document()["sip"]["transport"] == "tcp"


def test_served_registry_builds_the_same_form(qtbot: Any, registry: SchemaRegistry) -> None:
    served = DeviceForm(_served(registry, extra=False))
    bundled = DeviceForm(registry)
    for widget in (served, bundled):
        qtbot.addWidget(widget)
    assert served.paths() == bundled.paths()
    assert [served.tab_of(p) for p in served.paths()] == [
        bundled.tab_of(p) for p in bundled.paths()
    ]
    device = demo_device(BOB)
    served.load(device)
    assert served.document() == device


def test_json_tab_round_trip_both_ways(form: DeviceForm, qtbot: Any) -> None:
    device = demo_device(BOB)
    form.load(device)
    form.tabs.setCurrentWidget(form.json_tab)
    text = form.json_tab.editor
    assert json.loads(text.toPlainText()) == device
    assert "matches the device schema" in form.json_tab.status.text()

    # JSON -> form, through the debounce as a user would type
    changed = dict(device, name="Bob's new desk", presence_id="1003")
    text.setPlainText(json.dumps(changed, indent=2))
    qtbot.waitUntil(lambda: field(form, "name").text() == "Bob's new desk")  # type: ignore[attr-defined]
    assert field(form, "presence_id").text() == "1003"  # type: ignore[attr-defined]
    assert form.is_dirty() and set(form.changed_paths()) == {"name", "presence_id"}

    # form -> JSON
    form.tabs.setCurrentIndex(0)
    field(form, "name").setText("Renamed")  # type: ignore[attr-defined]
    editor(form, "name").user_changed()
    form.tabs.setCurrentWidget(form.json_tab)
    assert json.loads(text.toPlainText())["name"] == "Renamed"


def test_invalid_json_shows_an_error_and_loses_nothing(form: DeviceForm) -> None:
    device = demo_device(BOB)
    form.load(device)
    form.tabs.setCurrentWidget(form.json_tab)
    broken = '{"name": "half typed",\n  "sip": '
    form.json_tab.editor.setPlainText(broken)
    assert form.json_tab.apply() is False
    status = form.json_tab.status.text()
    assert "Not valid JSON: line 2" in status and "keeps its last valid values" in status
    assert form.document() == device and not form.is_dirty()
    form.tabs.setCurrentIndex(0)  # leaving the tab keeps the text for later
    form.tabs.setCurrentWidget(form.json_tab)
    assert form.json_tab.editor.toPlainText() == broken
    form.json_tab.editor.setPlainText("[1, 2]")
    assert form.json_tab.apply() is False
    assert "must be a JSON object" in form.json_tab.status.text()
    assert form.document() == device


def test_json_tab_reports_schema_problems(form: DeviceForm) -> None:
    form.tabs.setCurrentWidget(form.json_tab)
    form.json_tab.editor.setPlainText('{"name": "", "sip": {"password": "abc"}}')
    assert form.json_tab.apply() is True
    assert "2 schema problems" in form.json_tab.status.text()
    assert form.document() == {"name": "", "sip": {"password": "abc"}}


def test_dirty_tracking_and_revert(form: DeviceForm, qtbot: Any) -> None:
    device = demo_device(BOB)
    form.load(device)
    assert not form.is_dirty() and form.changed_paths() == []
    name = field(form, "name")
    with qtbot.waitSignal(form.dirtyChanged) as dirty, qtbot.waitSignal(form.edited):
        qtbot.keyClicks(name, "!")
    assert dirty.args == [True]
    field(form, "call_forward.failover").setCheckState(Qt.CheckState.Unchecked)  # type: ignore[attr-defined]
    assert form.changed_paths() == ["call_forward.failover", "name"]
    with qtbot.waitSignal(form.dirtyChanged) as clean:
        form.revert()
    assert clean.args == [False]
    assert form.document() == device and name.text() == device["name"]  # type: ignore[attr-defined]
    # undoing an edit by hand is not dirty either
    qtbot.keyClicks(name, "x")
    qtbot.keyClick(name, Qt.Key.Key_Backspace)
    assert not form.is_dirty()


def test_load_is_a_new_baseline(form: DeviceForm, qtbot: Any) -> None:
    qtbot.keyClicks(field(form, "name"), "abc")
    assert form.is_dirty()
    form.load({"name": "other"})
    assert not form.is_dirty()


def test_unknown_keys_are_kept(form: DeviceForm, qtbot: Any) -> None:
    document = {
        "name": "Mobile",
        "mobile": {"mdn": "+14155550177"},
        "sip": {"username": "user_a", "x_vendor": {"k": 1}},
        "caller_id": {"internal": {"name": "A", "x": True}},
    }
    form.load(document)
    line = field(form, "sip.username")
    line.clear()  # type: ignore[attr-defined]
    qtbot.keyClicks(line, "user_b")
    expected = json.loads(json.dumps(document))
    expected["sip"]["username"] = "user_b"
    assert form.document() == expected
    assert form.changed_paths() == ["sip.username"]


def test_set_errors_places_messages_badges_and_summary(form: DeviceForm, qtbot: Any) -> None:
    form.load(demo_device("Reception"))
    show(form, qtbot)
    form.set_errors(
        {
            "sip.username": ["SIP credentials already in use"],
            "mac_address.unique": ["MAC address already in use"],
            "provision.combo_keys.2.value": ["Failed to validate"],
            "mobile.mdn": ["The MDN already exists in the system"],
        }
    )
    assert editor(form, "sip.username").errors() == ["SIP credentials already in use"]
    assert editor(form, "mac_address").errors() == ["unique: MAC address already in use"]
    assert editor(form, "provision.combo_keys").errors() == ["2.value: Failed to validate"]
    titles = tab_titles(form)
    assert titles[tab_index(form, "SIP")] == "SIP (1)"
    assert titles[tab_index(form, "Basic")] == "Basic (1)"
    assert titles[tab_index(form, "Provisioning")] == "Provisioning (1)"
    assert titles[tab_index(form, "JSON")] == "JSON (1)"
    assert not form.tabs.tabIcon(tab_index(form, "SIP")).isNull()
    assert titles[tab_index(form, "Media")] == "Media"
    summary = form.summary.list
    assert form.summary.isVisible() and summary.count() == 4
    assert summary.item(0).text() == "SIP › Username: SIP credentials already in use"
    _save(form, "editor-errors.png")

    form.tabs.setCurrentIndex(0)
    summary.itemClicked.emit(summary.item(0))
    assert form.tabs.currentIndex() == tab_index(form, "SIP")
    username = field(form, "sip.username")
    qtbot.waitUntil(username.hasFocus)

    # editing the field clears its error and the tab's badge
    qtbot.keyClicks(username, "2")
    assert editor(form, "sip.username").errors() == []
    assert tab_titles(form)[tab_index(form, "SIP")] == "SIP"
    assert summary.count() == 3


def test_focus_field_switches_inner_tabs(form: DeviceForm, qtbot: Any) -> None:
    show(form, qtbot)
    assert form.focus_field("call_recording.outbound.onnet.format")
    target = field(form, "call_recording.outbound.onnet.format")
    assert form.tabs.currentIndex() == tab_index(form, "Features")
    assert target.isVisible()
    qtbot.waitUntil(target.hasFocus)
    assert form.focus_field("no_such.field") is False
    assert form.tabs.currentWidget() is form.json_tab


def test_local_validation_errors_land_on_their_fields(form: DeviceForm) -> None:
    form.load({"name": "", "sip": {"password": "abc", "realm": "x"}, "owner_id": "short"})
    errors = form.validate()
    assert errors == {
        "name": ["String must be at least 1 characters"],
        "sip.password": ["String must be at least 5 characters"],
        "sip.realm": ["String must be at least 4 characters"],
        "owner_id": ["String must be at least 32 characters"],
    }
    assert editor(form, "sip.password").errors() == ["String must be at least 5 characters"]
    assert tab_titles(form)[tab_index(form, "SIP")] == "SIP (2)"
    form.load({"name": "fine"})
    assert form.validate() == {} and not form.summary.isVisible()


def test_required_field_missing(form: DeviceForm) -> None:
    form.load({"sip": {"username": "abc"}})
    assert form.validate() == {"name": ["Field is required but missing"]}
    assert editor(form, "name").errors() == ["Field is required but missing"]


def _reason(form: DeviceForm, path: str) -> str | None:
    return editor(form, path).rule_reason()


def test_call_forward_enabled_takes_precedence_over_failover(form: DeviceForm) -> None:
    form.load({"call_forward": {"enabled": True, "failover": True, "number": "+1415"}})
    failover = field(form, "call_forward.failover")
    assert not failover.isEnabled()
    assert "takes precedence" in (_reason(form, "call_forward.failover") or "")
    assert not editor(form, "call_forward.failover").note.isHidden()
    assert field(form, "call_forward.number").isEnabled()
    assert form.document()["call_forward"]["failover"] is True  # disabled, not dropped

    field(form, "call_forward.enabled").setCheckState(Qt.CheckState.Unchecked)  # type: ignore[attr-defined]
    assert failover.isEnabled() and _reason(form, "call_forward.failover") is None
    assert field(form, "call_forward.number").isEnabled()

    failover.setCheckState(Qt.CheckState.Unchecked)  # type: ignore[attr-defined]
    assert not field(form, "call_forward.number").isEnabled()
    assert "forwarding or failover" in (_reason(form, "call_forward.number") or "")


def test_sip_ip_only_with_ip_method(form: DeviceForm) -> None:
    form.load({})
    assert not field(form, "sip.ip").isEnabled()  # default method: password
    field(form, "sip.method").setCurrentText("ip")  # type: ignore[attr-defined]
    assert field(form, "sip.ip").isEnabled()
    form.load(demo_device("auth by IP"))
    assert field(form, "sip.ip").isEnabled()


def test_sip_number_and_route_follow_invite_format(form: DeviceForm) -> None:
    form.load({"sip": {"invite_format": "route", "route": "sip:a@b"}})
    assert field(form, "sip.route").isEnabled()
    assert not field(form, "sip.number").isEnabled()
    field(form, "sip.invite_format").setCurrentText("e164")  # type: ignore[attr-defined]
    assert field(form, "sip.number").isEnabled()
    assert not field(form, "sip.route").isEnabled()
    assert form.document()["sip"]["route"] == "sip:a@b"


_INPUTS = (QLineEdit, QComboBox, QCheckBox, QAbstractSpinBox, QPlainTextEdit, QAbstractItemView)
_PATH = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_*]+)*$")


def _is_inner(widget: QWidget) -> bool:
    """Parts of a compound Qt widget (a combo's line edit, a spin box's, popups)."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QComboBox, QAbstractSpinBox, QAbstractItemView)):
            return True
        parent = parent.parentWidget()
    return False


def test_every_input_is_named_after_its_path_and_title(form: DeviceForm) -> None:
    paths = form.paths()
    for path in paths:
        widget = field(form, path)
        assert widget.objectName() == path
        assert widget.accessibleName(), path
    inputs = [
        w
        for w in form.tabs.findChildren(QWidget)
        if isinstance(w, _INPUTS) and not _is_inner(w) and w is not form.json_tab.editor
    ]
    assert len(inputs) > 150
    for widget in inputs:
        name = widget.objectName()
        assert _PATH.match(name), (type(widget).__name__, name)
        assert any(name == p or name.startswith(p + ".") for p in paths), name
        assert widget.accessibleName(), name


def test_demo_devices_load_fast_and_round_trip(form: DeviceForm) -> None:
    devices = demo_devices()
    assert len(devices) == 31
    timings = []
    for device in devices:
        started = time.perf_counter()
        form.load(device)
        timings.append(time.perf_counter() - started)
        assert form.document() == device, device["name"]
        assert not form.is_dirty() and form.changed_paths() == []
    worst = max(timings)
    print(
        f"\nload(): worst {worst * 1000:.1f} ms, mean {sum(timings) / len(timings) * 1000:.1f} ms"
    )
    assert worst <= 0.150


def test_building_the_form_once(qtbot: Any, registry: SchemaRegistry) -> None:
    started = time.perf_counter()
    widget = DeviceForm(registry)
    built = time.perf_counter() - started
    qtbot.addWidget(widget)
    print(f"\nDeviceForm(): {built * 1000:.0f} ms")
    assert built < 3.0


def _save(widget: QWidget, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(OUTPUT / name))


@pytest.mark.parametrize("device_name", [BOB])
def test_screenshots_of_every_tab(form: DeviceForm, qtbot: Any, device_name: str) -> None:
    form.load(demo_device(device_name))
    show(form, qtbot)
    for index in range(form.tabs.count()):
        form.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        slug = TABS[index].lower().replace(" ", "-")
        _save(form, f"editor-{index:02d}-{slug}.png")
    form.load(demo_device("Bob's Cell"))
    form.tabs.setCurrentIndex(TABS.index("Call forwarding"))
    QApplication.processEvents()
    _save(form, "editor-call-forwarding-cell.png")
