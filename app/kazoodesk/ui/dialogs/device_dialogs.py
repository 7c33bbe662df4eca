"""Small dialogs of the device actions: what a new device needs, a NOTIFY, a quickcall."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.device_templates import AUTHN_BY_IP, NEW_DEVICE_TYPES, new_device
from kazoodesk.ui.theme import tone

# events a phone commonly acts on (Polycom, Yealink, Snom, Cisco, Grandstream)
COMMON_EVENTS = ["check-sync", "check-sync;reboot=true", "resync", "reboot"]
_DIAL_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")


class FormDialog(QDialog):
    """A titled form with OK/Cancel where OK runs `check()` and stays open on a problem."""

    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.problem = QLabel("", self)
        self.problem.setObjectName("dialog.problem")
        self.problem.setStyleSheet(f"color: {tone('error')};")
        self.problem.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._ok)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def line(self, name: str, label: str, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setAccessibleName(label)
        edit.setPlaceholderText(placeholder)
        self.form.addRow(label, edit)
        return edit

    def check(self) -> str:
        """An empty string when the input is fine, else what is wrong."""
        return ""

    def _ok(self) -> None:
        problem = self.check()
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        if not problem:
            self.accept()


class NewDeviceDialog(FormDialog):
    """Name, plus what the type needs: a number to forward to, a SIP URI, or the source IP."""

    def __init__(self, device_type: str, parent: QWidget | None = None) -> None:
        kind = "SIP device authenticating by IP" if device_type == AUTHN_BY_IP else None
        super().__init__(f"New {kind or NEW_DEVICE_TYPES[device_type]}", parent)
        self.device_type = device_type
        self.name = self.line("new.name", "Name", "e.g. Reception desk phone")
        # what the type needs besides a name: (template argument, its input)
        self.detail: tuple[str, QLineEdit] | None = None
        if device_type in {"cellphone", "landline", "smartphone"}:
            self.detail = ("number", self.line("new.number", "Number to ring", "+14155550123"))
        elif device_type == "sip_uri":
            self.detail = ("route", self.line("new.route", "SIP URI", "sip:alice@example.com"))
        elif device_type == AUTHN_BY_IP:
            self.detail = ("ip", self.line("new.ip", "Source IP address", "192.0.2.10"))
        self.document: dict[str, Any] = {}

    def check(self) -> str:
        name = self.name.text().strip()
        if not name:
            return "A name is required."
        details: dict[str, str] = {}
        if self.detail is not None:
            key, edit = self.detail
            value = edit.text().strip()
            if not value:
                return f"{edit.accessibleName()} is required."
            if key == "number":
                value = value.replace(" ", "")
                if not _DIAL_NUMBER.match(value):
                    return f"Not a number to dial: {edit.text()}"
            if key == "route" and not value.startswith(("sip:", "sips:")):
                return "A SIP URI starts with sip: or sips:"
            details[key] = value
        try:
            self.document = new_device(self.device_type, name, **details)
        except ValueError as exc:
            return str(exc)
        return ""


class NotifyDialog(FormDialog):
    """Event (common ones offered, any typed) and an optional body with its content type."""

    def __init__(self, device_names: list[str], parent: QWidget | None = None) -> None:
        super().__init__("Send NOTIFY", parent)
        who = device_names[0] if len(device_names) == 1 else f"{len(device_names)} devices"
        self.form.addRow(QLabel(f"To: {who}", self))
        self.event_box = QComboBox(self)
        self.event_box.setObjectName("notify.event")
        self.event_box.setAccessibleName("Event")
        self.event_box.setEditable(True)
        self.event_box.addItems(COMMON_EVENTS)
        self.form.addRow("Event", self.event_box)
        self.content_type = self.line("notify.content_type", "Content type", "application/xml")
        self.body = QPlainTextEdit(self)
        self.body.setObjectName("notify.body")
        self.body.setAccessibleName("Body")
        self.body.setPlaceholderText("optional")
        self.form.addRow("Body", self.body)

    def check(self) -> str:
        event = self.event_box.currentText().strip()
        if not event:
            return "An event is required."
        if any(c in event for c in "\r\n"):
            return "The event must be one line."
        if self.body.toPlainText().strip() and not self.content_type.text().strip():
            return "A body needs a content type."
        return ""


class QuickcallDialog(FormDialog):
    def __init__(self, device_name: str, parent: QWidget | None = None) -> None:
        super().__init__("Quickcall", parent)
        self.form.addRow(QLabel(f"Ring {device_name}, then call:", self))
        self.number = self.line("quickcall.number", "Number", "+14155550123")

    def check(self) -> str:
        number = self.number.text().replace(" ", "")
        if not _DIAL_NUMBER.match(number):
            return f"Not a number to dial: {self.number.text()}"
        return ""
