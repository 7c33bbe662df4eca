"""The editor's side panel: the open device's registrations now and its history this session."""

from __future__ import annotations

import time
from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kazoodesk.live.tracker import HistoryPoint, Registration
from kazoodesk.ui.registrations.history_view import RegistrationHistory
from kazoodesk.ui.registrations.registration_model import clock_text, countdown_text
from kazoodesk.ui.theme import tone


class DeviceRegistrationSide(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editor.registration")
        heading = QLabel("<b>Registration</b>", self)
        self.now_label = QLabel(self)
        self.now_label.setObjectName("editor.registration.now")
        self.now_label.setWordWrap(True)
        self.now_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.history = RegistrationHistory(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.addWidget(heading)
        layout.addWidget(self.now_label)
        layout.addWidget(self.history, 1)
        layout.addStretch(0)
        self.clear()

    def clear(self) -> None:
        self.now_label.setText("Not known yet")
        self.history.clear()
        self.history.hide()

    def show_state(
        self,
        registrations: Sequence[Registration],
        history: Sequence[HistoryPoint],
        registered: bool,
        flapping: bool,
        now: float | None = None,
    ) -> None:
        now = time.time() if now is None else now
        self.now_label.setText(_now_text(registrations, registered, flapping, now, self))
        self.history.set_points(history, now, registered)
        self.history.setVisible(bool(history))  # nothing to draw before its first change


def _now_text(
    registrations: Sequence[Registration],
    registered: bool,
    flapping: bool,
    now: float,
    widget: QWidget,
) -> str:
    palette = widget.palette()
    state, colour = ("Registered", "ok") if registered else ("Not registered", "error")
    lines = [f"<span style='color:{tone(colour, palette)}'>● {state}</span>"]
    if flapping:
        lines.append(
            f"<span style='color:{tone('warning', palette)}'>⚠ Flapping: dropped or moved"
            " often in the last 10 minutes</span>"
        )
    for r in registrations:
        lines.append(
            f"<tt>{escape(r.contact_address)}</tt> · {escape(r.transport.upper())}<br>"
            f"{escape(r.user_agent or 'no user agent')}<br>"
            f"since {clock_text(r.registered_since, now)}, refreshed"
            f" {clock_text(r.last_refresh, now)}, expires in {countdown_text(r.expires_in(now))}"
        )
    return "<br>".join(lines)
