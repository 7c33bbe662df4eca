"""Each widget kind of the device editor: value in, value out, unset, defaults, models."""

from __future__ import annotations

from typing import Any

from editor_support import demo_device, editor, field
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QSpinBox,
    QTableView,
)

from kazoodesk.ui.editor.collections import ChecklistEditor, ListEditor, MapEditor, VariantEditor
from kazoodesk.ui.editor.editors import PasswordEditor, UserPickerEditor, strong_password
from kazoodesk.ui.editor.form import DeviceForm
from kazoodesk.ui.editor.models import KeyValueTableModel

YEALINK = "Reception – Yealink T54W"


def test_string_typed_shows_in_document_and_clears_to_absent(form: DeviceForm, qtbot: Any) -> None:
    form.load({"name": "Phone", "sip": {"username": "alice"}})
    line = field(form, "sip.username")
    assert isinstance(line, QLineEdit) and line.text() == "alice"
    line.clear()
    qtbot.keyClicks(line, "bob01")
    assert form.document()["sip"]["username"] == "bob01"
    line.clear()
    qtbot.keyClicks(line, "x")
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    assert "username" not in form.document()["sip"]


def test_string_live_feedback_on_length_and_pattern(form: DeviceForm, qtbot: Any) -> None:
    password = editor(form, "sip.password")
    qtbot.keyClicks(field(form, "sip.password"), "abc")
    assert password.feedback.text() == "At least 5 characters (3 now)"
    qtbot.keyClicks(field(form, "sip.password"), "defg")
    assert password.feedback.isHidden()
    qtbot.keyClicks(field(form, "sip.realm"), "bad realm!")
    assert "Must match" in editor(form, "sip.realm").feedback.text()


def test_password_is_masked_revealable_and_generated(form: DeviceForm, qtbot: Any) -> None:
    password = editor(form, "sip.password")
    assert isinstance(password, PasswordEditor)
    assert password.line.echoMode() == QLineEdit.EchoMode.Password
    qtbot.mouseClick(password.reveal, Qt.MouseButton.LeftButton)
    assert password.line.echoMode() == QLineEdit.EchoMode.Normal
    qtbot.mouseClick(password.generate, Qt.MouseButton.LeftButton)
    generated = form.document()["sip"]["password"]
    assert 5 <= len(generated) <= 32 and generated == password.line.text()
    assert any(c.isupper() for c in generated) and any(c.isdigit() for c in generated)
    assert strong_password(5, 32) != strong_password(5, 32)
    assert len(strong_password(20, 32)) == 20


def test_boolean_is_tri_state_with_default_shown(form: DeviceForm) -> None:
    form.load({"name": "Phone"})
    box = field(form, "enabled")
    assert isinstance(box, QCheckBox)
    assert box.checkState() == Qt.CheckState.PartiallyChecked
    assert box.text() == "not set (default: on)"
    assert field(form, "call_waiting.enabled").text() == "not set"  # type: ignore[attr-defined]
    box.setCheckState(Qt.CheckState.Unchecked)
    assert form.document()["enabled"] is False
    box.setCheckState(Qt.CheckState.Checked)
    assert form.document()["enabled"] is True
    box.setCheckState(Qt.CheckState.PartiallyChecked)
    assert "enabled" not in form.document()
    form.load({"name": "Phone", "enabled": False})
    assert box.checkState() == Qt.CheckState.Unchecked and box.text() == "off"


def test_enum_combo_with_not_set(form: DeviceForm) -> None:
    combo = field(form, "sip.invite_format")
    assert isinstance(combo, QComboBox)
    assert combo.itemText(0) == "(not set: default contact)"
    combo.setCurrentText("route")
    assert form.document() == {"sip": {"invite_format": "route"}}
    combo.setCurrentIndex(0)
    assert form.document() == {}
    form.load({"sip": {"invite_format": "e164"}})
    assert combo.currentText() == "e164"


def test_integer_spin_box_with_bounds_and_unset(form: DeviceForm) -> None:
    spin = field(form, "call_recording.inbound.offnet.time_limit")
    assert isinstance(spin, QSpinBox)
    assert (spin.minimum(), spin.maximum()) == (4, 10800)  # 4 = "not set"
    assert spin.text() == "not set"
    spin.setValue(60)
    assert form.document()["call_recording"]["inbound"]["offnet"]["time_limit"] == 60
    integer = editor(form, "call_recording.inbound.offnet.time_limit")
    integer.clear.click()  # type: ignore[attr-defined]
    assert form.document() == {}
    expire = field(form, "sip.expire_seconds")
    assert expire.specialValueText() == "not set (default 300)"  # type: ignore[attr-defined]


def test_out_of_range_integer_is_kept_not_clamped(form: DeviceForm) -> None:
    document = {"call_recording": {"any": {"any": {"time_limit": 2}}}}
    form.load(document)
    assert form.document() == document
    assert not field(form, "call_recording.any.any.time_limit").isEnabled()
    assert "kept as it is" in editor(form, "call_recording.any.any.time_limit").note.text()


def test_codec_checklist_orders_and_unsets(form: DeviceForm) -> None:
    form.load({"media": {"audio": {"codecs": ["G722", "PCMU"]}}})
    codecs = editor(form, "media.audio.codecs")
    assert isinstance(codecs, ChecklistEditor)
    model = codecs.model
    assert [model.option(r) for r in range(3)] == ["G722", "PCMU", "OPUS"]
    assert [model.is_checked(r) for r in range(3)] == [True, True, False]
    model.setData(model.index(2, 0), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert form.document()["media"]["audio"]["codecs"] == ["G722", "PCMU", "OPUS"]
    codecs.view.setCurrentIndex(model.index(0, 0))
    codecs._move(1)
    assert form.document()["media"]["audio"]["codecs"] == ["PCMU", "G722", "OPUS"]
    codecs._unset()
    assert form.document() == {"media": {"audio": {}}}


def test_list_editor_adds_edits_moves_removes(form: DeviceForm) -> None:
    flags = editor(form, "flags")
    assert isinstance(flags, ListEditor)
    model = flags.model
    model.insertRows(0, 2)
    model.setData(model.index(0, 0), "alpha")
    model.setData(model.index(1, 0), "beta")
    assert form.document()["flags"] == ["alpha", "beta"]
    flags.view.setCurrentIndex(model.index(1, 0))
    flags._move(-1)
    assert form.document()["flags"] == ["beta", "alpha"]
    flags.view.setCurrentIndex(model.index(0, 0))
    flags._remove()
    assert form.document()["flags"] == ["alpha"]
    form.load({"flags": ["x", "y"]})
    assert model.texts() == ["x", "y"]


def test_key_value_table_edits_and_checks_keys(form: DeviceForm, qtmodeltester: Any) -> None:
    form.load({"sip": {"custom_sip_headers": {"X-Site": "warehouse"}}})
    headers = editor(form, "sip.custom_sip_headers")
    assert isinstance(headers, VariantEditor) and headers.switch.currentText() == "Key/value"
    table = headers.branches[0]
    assert isinstance(table, MapEditor)
    model = table.model
    qtmodeltester.check(model)
    row = model.add_row()
    model.setData(model.index(row, 0), "X-Extra")
    model.setData(model.index(row, 1), "1")
    assert form.document()["sip"]["custom_sip_headers"] == {"X-Site": "warehouse", "X-Extra": "1"}
    model.setData(model.index(row, 0), "bad key!")
    assert "does not match" in table.feedback.text()
    model.setData(model.index(row, 0), "X-Site")
    assert "more than once" in table.feedback.text()
    model.removeRows(row, 1)
    assert table.feedback.isHidden()
    qtmodeltester.check(model)


def test_table_spreads_object_values_over_columns(form: DeviceForm, qtmodeltester: Any) -> None:
    warehouse = demo_device("Warehouse – Yealink")
    form.load(warehouse)
    restrictions = editor(form, "call_restriction")
    assert isinstance(restrictions, MapEditor)
    model = restrictions.model
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(2)] == [
        "Number class",
        "Action",
    ]
    assert model.data(model.index(0, 0)) == "international"
    assert model.data(model.index(0, 1)) == "deny"
    model.setData(model.index(0, 1), "inherit")
    assert form.document()["call_restriction"]["international"] == {"action": "inherit"}
    qtmodeltester.check(model)


def test_combo_keys_table_keeps_values_round_trip(form: DeviceForm, qtmodeltester: Any) -> None:
    phone = demo_device(YEALINK)
    form.load(phone)
    keys = editor(form, "provision.combo_keys")
    assert isinstance(keys, MapEditor)
    model = keys.model
    assert model.columnCount() == 3
    assert model.data(model.index(4, 1)) == "parking" and model.data(model.index(4, 2)) == "1"
    model.setData(model.index(4, 2), "3")  # the previous value was a number: stays one
    assert form.document()["provision"]["combo_keys"]["4"] == {"type": "parking", "value": 3}
    model.setData(model.index(2, 2), '{"label": "Al", "value": "1002"}')
    assert form.document()["provision"]["combo_keys"]["2"]["value"] == {
        "label": "Al",
        "value": "1002",
    }
    qtmodeltester.check(model)


def test_model_testers_on_the_other_models(form: DeviceForm, qtmodeltester: Any) -> None:
    form.load(demo_device(YEALINK) | {"flags": ["a", "b"]})
    qtmodeltester.check(editor(form, "media.audio.codecs").model)  # type: ignore[attr-defined]
    qtmodeltester.check(editor(form, "flags").model)  # type: ignore[attr-defined]
    qtmodeltester.check(editor(form, "hotdesk.users").model)  # type: ignore[attr-defined]
    empty = KeyValueTableModel(form.spec.children["formatters"], None)
    qtmodeltester.check(empty)


def test_type_switcher_keeps_compatible_values(form: DeviceForm) -> None:
    form.load({"outbound_flags": ["fax"]})
    flags = editor(form, "outbound_flags")
    assert isinstance(flags, VariantEditor)
    assert [flags.switch.itemText(i) for i in range(3)] == [
        "(not set)",
        "List",
        "dynamic / static",
    ]
    assert flags.switch.currentIndex() == 1
    flags.switch.setCurrentIndex(2)
    assert form.document()["outbound_flags"] == {}
    flags.switch.setCurrentIndex(1)
    assert form.document()["outbound_flags"] == ["fax"]  # remembered
    flags.switch.setCurrentIndex(0)
    assert "outbound_flags" not in form.document()

    form.load({"provision": {"endpoint_model": "42"}})
    model = editor(form, "provision.endpoint_model")
    assert isinstance(model, VariantEditor) and model.switch.currentText() == "Text"
    model.switch.setCurrentText("Number")
    assert form.document()["provision"]["endpoint_model"] == 42


def test_bypass_media_boolean_or_auto(form: DeviceForm) -> None:
    form.load({"media": {"bypass_media": "auto"}})
    bypass = editor(form, "media.bypass_media")
    assert isinstance(bypass, VariantEditor) and bypass.switch.currentText() == "auto"
    assert form.document() == {"media": {"bypass_media": "auto"}}
    bypass.switch.setCurrentText("Yes/No")
    assert "bypass_media" not in form.document()["media"]
    checkbox = bypass.branches[0].inputs()[0]  # type: ignore[attr-defined]
    assert isinstance(checkbox, QCheckBox)
    checkbox.setCheckState(Qt.CheckState.Checked)
    assert form.document()["media"]["bypass_media"] is True


def test_nested_objects_are_group_boxes(form: DeviceForm) -> None:
    for path in ("caller_id.internal", "media.encryption", "call_waiting", "dial_plan"):
        assert isinstance(form.field_widget(path), QGroupBox), path
    assert form.field_widget("caller_id.internal").title() == "Internal calls"  # type: ignore[union-attr]


def test_object_extras_table_for_additional_properties(form: DeviceForm) -> None:
    document = {"dial_plan": {"system": ["us"], "^(\\d{7})$": {"prefix": "+1415"}}}
    form.load(document)
    assert form.document() == document
    extras = editor(form, "dial_plan.*")
    assert isinstance(extras, MapEditor) and extras.model.rowCount() == 1


def test_user_picker(form: DeviceForm) -> None:
    phone = demo_device(YEALINK)
    form.load(phone)
    picker = editor(form, "owner_id")
    assert isinstance(picker, UserPickerEditor)
    assert picker.combo.currentText() == "Carol Okafor (carol.okafor)"
    picker.combo.setCurrentIndex(0)
    assert "owner_id" not in form.document()
    form.load({"owner_id": "f" * 32})
    assert picker.combo.currentText() == f"Unknown user ({'f' * 32})"
    assert form.document() == {"owner_id": "f" * 32} and not form.is_dirty()
    form.set_users([{"id": "f" * 32, "first_name": "Fay", "last_name": "Wong", "username": "fw"}])
    assert picker.combo.currentText() == "Fay Wong (fw)" and not form.is_dirty()


def test_suggestions_are_free_text(form: DeviceForm, qtbot: Any) -> None:
    device_type = field(form, "device_type")
    assert isinstance(device_type, QComboBox) and device_type.isEditable()
    assert device_type.findText("softphone") >= 0
    timezone = field(form, "timezone")
    assert isinstance(timezone, QComboBox) and timezone.findText("Europe/Berlin") >= 0
    device_type.setEditText("teammate")
    assert form.document()["device_type"] == "teammate"


def test_free_json_editor_keeps_last_valid_value(form: DeviceForm) -> None:
    document = {"hotdesk": {"users": {"a" * 32: {"keep": 1}}}, "formatters": {}}
    form.load({"metaflows": {"numbers": {"1": {"module": "hold", "children": {"x": {}}}}}})
    text_field = editor(form, "metaflows.numbers")
    assert isinstance(text_field, MapEditor)
    form.load(document)
    assert form.document() == document


def test_defaults_are_placeholders_never_written(form: DeviceForm) -> None:
    form.load({})
    assert form.document() == {}
    assert not form.is_dirty()
    username = field(form, "presence_id")
    assert isinstance(username, QLineEdit)
    assert username.placeholderText() == "defaults to the SIP username"


def test_description_is_tooltip_and_required_is_marked(form: DeviceForm) -> None:
    name = field(form, "name")
    assert name.toolTip() == "A friendly name for the device"
    label = form.findChild(QLineEdit, "name")
    assert label is name
    from kazoodesk.ui.editor.build import FieldLabel

    labels = {lab.objectName(): lab for lab in form.findChildren(FieldLabel)}
    assert "*" in labels["label:name"].text()
    assert "*" not in labels["label:sip.username"].text()
    assert isinstance(form.field_widget("media.audio.codecs"), QListView)
    assert isinstance(form.field_widget("call_restriction"), QTableView)
    assert isinstance(form.field_widget("call_recording.any.any.url"), QLineEdit)
    assert isinstance(editor(form, "hotdesk.users").inputs()[0], QTableView)
    assert not isinstance(form.field_widget("name"), QPlainTextEdit)
