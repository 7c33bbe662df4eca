"""The editor panel in the window against a real simulator: create, edit, save, conflicts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_ui import RunningDemo, open_dialog, screenshot
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLineEdit, QMessageBox, QPushButton, QSpinBox

from helpers import Api, Server, own_server, own_server_fixture
from kazoodesk.device_templates import AUTHN_BY_IP, NEW_DEVICE_TYPES
from kazoodesk.profiles import ProfileStore
from kazoodesk.schema.paths import get_path
from kazoodesk.ui import device_actions
from kazoodesk.ui.device_editor import DeviceEditor
from kazoodesk.ui.dialogs.conflict import ConflictDialog
from kazoodesk.ui.dialogs.device_dialogs import NewDeviceDialog
from kazoodesk.ui.main_window import MainWindow
from kazoodesk.ui.session import ConnectionState
from kazoodesk.ui.tasks import spawn

server = own_server_fixture("editor-flow-store")


@pytest.fixture
def api(server: Server) -> Iterator[Api]:
    with Api.logged_in(server) as client:
        yield client


def editor_of(window: MainWindow) -> DeviceEditor:
    assert window.editor is not None
    return window.editor


def device_named(api: Api, part: str) -> dict[str, Any]:
    rows = api.ok("GET", f"{api.account}/devices?paginate=false")["data"]
    return next(row for row in rows if part in row["name"])


def stored(api: Api, device_id: str) -> dict[str, Any]:
    return api.ok("GET", f"{api.account}/devices/{device_id}")["data"]


def open_device(run_async: Any, window: MainWindow, device_id: str) -> DeviceEditor:
    editor = editor_of(window)
    assert run_async(editor.open_device(device_id))
    return editor


def save(run_async: Any, editor: DeviceEditor) -> bool:
    return bool(run_async(editor.save(), timeout=20))


def type_into(qtbot: Any, editor: DeviceEditor, path: str, text: str) -> None:
    edit = editor.form.field_widget(path)
    assert isinstance(edit, QLineEdit), path
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def change(qtbot: Any, editor: DeviceEditor, path: str) -> None:
    """Change the field at `path` the way a user would, whatever its widget."""
    widget = editor.form.field_widget(path)
    editor.form.focus_field(path)
    if isinstance(widget, QLineEdit):
        type_into(qtbot, editor, path, "edited-7")
    elif isinstance(widget, QCheckBox):
        target = Qt.CheckState.Unchecked if widget.isChecked() else Qt.CheckState.Checked
        while widget.checkState() != target:
            qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    elif isinstance(widget, QSpinBox):
        widget.setValue(min(widget.maximum(), max(widget.minimum(), widget.value() + 7)))
    else:
        raise AssertionError(f"no way to change {path} ({type(widget).__name__})")


# one field per tab, each edited through its widget (the JSON tab has a test of its own)
FIELD_PER_TAB = {
    "Basic": "name",
    "SIP": "sip.expire_seconds",
    "Caller ID": "caller_id.internal.name",
    "Call forwarding": "call_forward.enabled",
    "Media": "media.progress_timeout",
    "Features": "do_not_disturb.enabled",
    "Provisioning": "provision.endpoint_brand",
    "Advanced": "exclude_from_queues",
}


def test_a_field_edited_on_every_tab_is_saved(
    qtbot: Any, run_async: Any, window: MainWindow, api: Api
) -> None:
    device = device_named(api, "Emma's Desk")
    editor = open_device(run_async, window, device["id"])
    before = editor.form.document()
    tabs = {
        editor.form.tabs.tabText(editor.form.tab_of(p)).split(" (")[0]: p
        for p in FIELD_PER_TAB.values()
    }
    assert set(tabs) == set(FIELD_PER_TAB)

    for path in FIELD_PER_TAB.values():
        change(qtbot, editor, path)
    restriction = editor.form.field_widget("call_restriction")
    restriction.model().add_row("international", {"action": "deny"})  # type: ignore[union-attr]
    edited = editor.form.document()
    assert editor.save_button.isEnabled()

    assert save(run_async, editor)

    on_server = stored(api, device["id"])
    for path in [*FIELD_PER_TAB.values(), "call_restriction.international"]:
        assert get_path(on_server, path) == get_path(edited, path), path
        assert get_path(on_server, path) != get_path(before, path), path
    assert not editor.save_button.isEnabled()
    assert window.devices.model.device_row(device["id"])["name"] == on_server["name"]  # type: ignore[index]


def test_editor_tabs_screenshots(qtbot: Any, run_async: Any, window: MainWindow, api: Api) -> None:
    window.resize(1440, 900)
    window.splitter.setSizes([760, 680])
    editor = open_device(run_async, window, device_named(api, "Alice's Desk")["id"])
    tabs = editor.form.tabs
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        title = tabs.tabText(index).split(" (")[0].lower().replace(" ", "_")
        screenshot(window, f"window_editor_{index:02d}_{title}")
    assert tabs.count() >= 10


def test_json_tab_round_trip(qtbot: Any, run_async: Any, window: MainWindow, api: Api) -> None:
    device = device_named(api, "Bob's Desk")
    editor = open_device(run_async, window, device["id"])
    json_tab = editor.form.json_tab
    editor.form.tabs.setCurrentWidget(json_tab)  # its text is written when it is shown
    document = json.loads(json_tab.editor.toPlainText())
    document["name"] = "Bob's Desk (from JSON)"
    document["x_integrator_tag"] = {"kept": True}
    json_tab.editor.setPlainText(json.dumps(document, indent=2))
    assert json_tab.apply()

    assert editor.form.field_widget("name").text() == "Bob's Desk (from JSON)"  # type: ignore[union-attr]
    assert save(run_async, editor)
    on_server = stored(api, device["id"])
    assert on_server["x_integrator_tag"] == {"kept": True}
    assert on_server["name"] == "Bob's Desk (from JSON)"


def test_server_validation_error_lands_on_its_field(
    qtbot: Any, run_async: Any, window: MainWindow, api: Api
) -> None:
    taken = stored(api, device_named(api, "Alice's Desk")["id"])["sip"]["username"]
    editor = open_device(run_async, window, device_named(api, "David's Desk")["id"])
    type_into(qtbot, editor, "sip.username", taken)

    assert not save(run_async, editor)

    assert "SIP credentials already in use" in " ".join(editor.form.errors()["sip.username"])
    assert "sip.username" in editor.message.text()
    assert editor.form.field_widget("sip.username").text() == taken  # type: ignore[union-attr]
    assert editor.is_dirty()  # the edit is kept


def test_local_validation_stops_a_bad_save(
    qtbot: Any, run_async: Any, window: MainWindow, api: Api
) -> None:
    device = device_named(api, "Carol's Android")
    editor = open_device(run_async, window, device["id"])
    editor.form.field_widget("name").clear()  # type: ignore[union-attr]

    assert not save(run_async, editor)

    assert editor.form.errors().get("name")
    assert stored(api, device["id"])["name"] == device["name"]


def answer_conflict(qtbot: Any, choice: str, keep_theirs: list[str] = ()) -> ConflictDialog:  # type: ignore[assignment]
    dialog = open_dialog(qtbot, ConflictDialog)
    for path in keep_theirs:
        dialog.keep_mine(path, False)
    button = dialog.findChild(QPushButton, f"conflict.{choice}")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return dialog


def test_412_merge_keeps_both_changes(
    qtbot: Any, run_async: Any, window: MainWindow, api: Api
) -> None:
    device = device_named(api, "Executive Office")
    editor = open_device(run_async, window, device["id"])
    type_into(qtbot, editor, "caller_id.internal.name", "Exec Office")
    type_into(qtbot, editor, "name", "Exec (mine)")
    api.ok("PATCH", f"{api.account}/devices/{device['id']}", {"name": "Exec (theirs)"})

    job = spawn(editor.save())
    dialog = answer_conflict(qtbot, "merge", keep_theirs=["name"])
    qtbot.waitUntil(job.done, timeout=10_000)

    assert job.result() is True
    assert set(dialog.paths) == {"caller_id.internal.name", "name"}
    on_server = stored(api, device["id"])
    assert on_server["name"] == "Exec (theirs)"
    assert on_server["caller_id"]["internal"]["name"] == "Exec Office"


def test_412_reload_drops_mine_and_shows_theirs(
    qtbot: Any, run_async: Any, window: MainWindow, api: Api
) -> None:
    device = device_named(api, "Break Room")
    editor = open_device(run_async, window, device["id"])
    type_into(qtbot, editor, "name", "Break Room (mine)")
    api.ok("PATCH", f"{api.account}/devices/{device['id']}", {"name": "Break Room (theirs)"})

    job = spawn(editor.save())
    answer_conflict(qtbot, "reload")
    qtbot.waitUntil(job.done, timeout=10_000)

    assert job.result() is False
    assert editor.form.field_widget("name").text() == "Break Room (theirs)"  # type: ignore[union-attr]
    assert not editor.is_dirty()
    assert stored(api, device["id"])["name"] == "Break Room (theirs)"


@pytest.mark.parametrize("device_type", [*NEW_DEVICE_TYPES, AUTHN_BY_IP])
def test_create_a_device_of_each_type(
    qtbot: Any, run_async: Any, window: MainWindow, api: Api, device_type: str
) -> None:
    job = spawn(device_actions.new(window, device_type))
    dialog = open_dialog(qtbot, NewDeviceDialog)
    name = f"New {device_type} device"
    qtbot.keyClicks(dialog.name, name)
    details = {"number": "+14155550123", "route": "sip:desk@example.com", "ip": "198.51.100.7"}
    if dialog.detail is not None:
        qtbot.keyClicks(dialog.detail[1], details[dialog.detail[0]])
    dialog._ok()
    qtbot.waitUntil(job.done)
    editor = editor_of(window)
    assert editor.device_id is None and editor.save_button.isEnabled()

    assert save(run_async, editor)

    assert editor.device_id is not None
    created = stored(api, editor.device_id)
    assert created["name"] == name
    assert created.get("device_type", "sip_device") == (
        "sip_device" if device_type == AUTHN_BY_IP else device_type
    )
    assert window.devices.model.device_row(editor.device_id) is not None


def test_authn_by_ip_refuses_a_bad_address(qtbot: Any, window: MainWindow) -> None:
    dialog = NewDeviceDialog(AUTHN_BY_IP, window)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.name, "gateway")
    assert dialog.detail is not None
    qtbot.keyClicks(dialog.detail[1], "300.1.2.3")

    dialog._ok()

    assert "not an IP address" in dialog.problem.text()
    assert dialog.document == {}


def test_delete_asks_then_removes(qtbot: Any, run_async: Any, window: MainWindow, api: Api) -> None:
    device = device_named(api, "Door Intercom")
    window.devices.select_ids([device["id"]])

    job = spawn(device_actions.delete(window, window.devices.selected_ids()))
    box = open_dialog(qtbot, QMessageBox)
    assert "Door Intercom" in box.text()
    delete = next(b for b in box.buttons() if b.text() == "Delete")
    qtbot.mouseClick(delete, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(job.done)

    assert api.call("GET", f"{api.account}/devices/{device['id']}").status_code == 404
    assert window.devices.model.device_row(device["id"]) is None


def test_unsaved_edits_are_guarded(
    qtbot: Any, run_async: Any, window: MainWindow, api: Api
) -> None:
    first, second = device_named(api, "Alice's Softphone"), device_named(api, "Bob's Softphone")
    editor = open_device(run_async, window, first["id"])
    type_into(qtbot, editor, "name", "Alice soft (unsaved)")

    job = spawn(editor.open_device(second["id"]))
    box = open_dialog(qtbot, QMessageBox)
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.waitUntil(job.done)
    assert job.result() is False
    assert editor.device_id == first["id"]
    assert editor.form.document()["name"] == "Alice soft (unsaved)"

    job = spawn(editor.open_device(second["id"]))
    box = open_dialog(qtbot, QMessageBox)
    box.button(QMessageBox.StandardButton.Discard).click()
    qtbot.waitUntil(job.done)
    assert job.result() is True and editor.device_id == second["id"]
    assert stored(api, first["id"])["name"] == first["name"]


def test_closing_with_unsaved_edits_asks_first(
    qtbot: Any, run_async: Any, window: MainWindow, api: Api
) -> None:
    editor = open_device(run_async, window, device_named(api, "David's Softphone")["id"])
    type_into(qtbot, editor, "name", "not yet saved")

    window.close()
    box = open_dialog(qtbot, QMessageBox)
    box.button(QMessageBox.StandardButton.Cancel).click()

    qtbot.waitUntil(lambda: not box.isVisible())
    assert window.isVisible()


def test_an_unreachable_server_keeps_the_edits(
    qtbot: Any, run_async: Any, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    with own_server(tmp_path_factory, "offline-editor-store") as vanishing:
        window = MainWindow(ProfileStore(tmp_path), RunningDemo(vanishing))
        qtbot.addWidget(window)
        assert run_async(window.start_demo(), timeout=30)
        with Api.logged_in(vanishing) as api:
            device_id = device_named(api, "Olivia's Desk")["id"]
        editor = open_device(run_async, window, device_id)
        type_into(qtbot, editor, "name", "Typed while offline")
        vanishing.runner.stop_thread()

        assert not save(run_async, editor)

        assert "unreachable" in editor.message.text()
        assert editor.form.document()["name"] == "Typed while offline"
        assert editor.is_dirty() and editor.save_button.isEnabled()
        assert window.session is not None
        assert window.session.state is ConnectionState.RECONNECTING
        run_async(window.session.close())
