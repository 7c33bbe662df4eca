"""DeviceForm built a slice at a time (`deferred=True`, `build()`): what it is given before it
is built shows once it is, the calls that hand out widgets finish the build, and the device
editor builds its form in the background."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import shiboken6
from editor_support import demo_account, demo_device, editor, field, tab_index, tab_titles
from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from kazoodesk.schema import SchemaRegistry
from kazoodesk.ui.device_editor import DeviceEditor
from kazoodesk.ui.editor.form import DeviceForm

BOB = "Bob's Desk – Polycom VVX 450"
ERRORS = {
    "sip.username": ["SIP credentials already in use"],
    "provision.combo_keys.2.value": ["Failed to validate"],
    "call_recording.inbound.onnet.format": ["Not a format"],
}


_hosts: list[QWidget] = []


def deferred(qtbot: Any, registry: SchemaRegistry) -> DeviceForm:
    host = QWidget()  # shown while it builds, as in the window
    qtbot.addWidget(host)
    _hosts.append(host)  # qtbot holds widgets weakly
    form = DeviceForm(registry, host, deferred=True)
    form.resize(1000, 760)
    host.resize(1000, 760)
    host.show()
    return form


def _copy(document: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(json.dumps(document)))


def test_what_it_is_given_before_it_is_built_shows_once_built(
    qtbot: Any, registry: SchemaRegistry, qloop: asyncio.AbstractEventLoop, run_async: Any
) -> None:
    form = deferred(qtbot, registry)
    assert not form.is_built() and form.tabs.count() == 0
    device = demo_device(BOB)
    form.load(_copy(device))
    form.set_users(demo_account()["users"])
    # answered from the loaded document, no widget needed
    assert form.document() == device
    assert not form.is_dirty() and form.changed_paths() == []
    assert form.validate() == {}
    form.set_errors(ERRORS)
    assert form.errors() == ERRORS
    assert not form.is_built()

    # one small slice per turn of the loop: the tabs come one after the other
    task = qloop.create_task(form.build(0.0))
    qtbot.waitUntil(lambda: form.tabs.count() > 0)
    assert not form.is_built() and not task.done()
    qtbot.waitUntil(task.done, timeout=10_000)
    task.result()
    assert form.is_built()

    assert form.document() == device and not form.is_dirty()
    name = field(form, "name")
    assert isinstance(name, QLineEdit) and name.text() == device["name"]
    owner = field(form, "owner_id")
    assert isinstance(owner, QComboBox) and owner.count() > 1  # the users came too
    assert editor(form, "sip.username").errors() == ERRORS["sip.username"]
    assert editor(form, "provision.combo_keys").errors() == ["2.value: Failed to validate"]
    titles = tab_titles(form)
    assert titles[tab_index(form, "SIP")] == "SIP (1)"
    assert titles[tab_index(form, "Provisioning")] == "Provisioning (1)"
    assert titles[tab_index(form, "Features")] == "Features (1)"
    assert form.summary.list.count() == 3
    run_async(form.build())  # built: returns at once


def test_asking_for_a_widget_finishes_the_build(qtbot: Any, registry: SchemaRegistry) -> None:
    form = deferred(qtbot, registry)
    document = {"name": "Lab", "call_recording": {"inbound": {"onnet": {"enabled": True}}}}
    form.load(_copy(document))
    target = field(form, "call_recording.inbound.onnet.enabled")  # on Features, not yet shown
    assert form.is_built()
    assert target.isChecked()  # type: ignore[attr-defined]
    assert form.focus_field("call_recording.inbound.onnet.enabled")
    assert form.tabs.currentIndex() == tab_index(form, "Features")
    assert form.document() == document
    target.setChecked(False)  # type: ignore[attr-defined]
    assert form.is_dirty()
    assert form.changed_paths() == ["call_recording.inbound.onnet.enabled"]


def test_a_form_deleted_while_building_stops_quietly(
    qtbot: Any, registry: SchemaRegistry, qloop: asyncio.AbstractEventLoop
) -> None:
    form = deferred(qtbot, registry)
    task = qloop.create_task(form.build(0.0))
    qtbot.waitUntil(lambda: form.tabs.count() > 0)
    shiboken6.delete(form)
    qtbot.waitUntil(task.done)
    assert task.result() is None


def test_the_editor_builds_its_form_in_the_background(
    qtbot: Any, registry: SchemaRegistry, qloop: asyncio.AbstractEventLoop
) -> None:
    panel = DeviceEditor(None, registry)  # type: ignore[arg-type]  # no server needed here
    qtbot.addWidget(panel)
    panel.resize(1000, 760)
    assert not panel.form.is_built()
    panel.set_users(demo_account()["users"])
    device = demo_device(BOB)
    panel.new_device(_copy(device))  # before the form is built: shown once it is
    assert not panel.form.is_built()
    assert panel.is_dirty() and panel.save_button.isEnabled()
    qtbot.waitUntil(panel.form.is_built, timeout=10_000)
    assert field(panel.form, "name").text() == device["name"]  # type: ignore[attr-defined]
    assert panel.form.document() == device and not panel.form.is_dirty()
    assert panel.title.text() == f"New device: {device['name']}"
