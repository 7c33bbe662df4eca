"""What an action on devices (sync, reboot, NOTIFY, flush) came to, device by device.

A small window that stays open beside the main one: each device's row says what the server
answered to the request and, for a NOTIFY where the server reports it (the simulator's
`notify_result` events), what the phone did: answered with a code, timed out, not registered.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.live.tracker import Kind
from kazoodesk.ui.theme import tone

ANSWER_WAIT_MS = 45_000  # the registrar gives up on a NOTIFY after 32 s (Timer F)
WAITING = "waiting for the phone…"
PHONE_KINDS = {
    Kind.NOTIFY_ANSWERED: "ok",
    Kind.NOTIFY_TIMED_OUT: "error",
    Kind.NOTIFY_FAILED: "error",
}


class ActionOutcomes(QDialog):
    def __init__(
        self,
        what: str,
        devices: list[tuple[str, str]],
        phone_answers: bool,
        parent: QWidget | None = None,
    ) -> None:
        """`devices`: (id, name) in order; `phone_answers`: the server reports what the
        phone answered (else the Phone column says it cannot know)."""
        super().__init__(parent)
        self.setObjectName("outcomes")
        self.setWindowTitle(f"{what} — outcome")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.phone_answers = phone_answers
        self._rows = {device_id: row for row, (device_id, _name) in enumerate(devices)}
        self._answered: set[int] = set()  # rows the server has answered for
        self._failed: set[int] = set()
        self._phone_done: set[int] = set()  # rows with the phone's answer (it can come first)
        self.summary = QLabel(self)
        self.summary.setObjectName("outcomes.summary")
        self.table = QTableWidget(len(devices), 3, self)
        self.table.setObjectName("outcomes.table")
        self.table.setHorizontalHeaderLabels(["Device", "Server", "Phone"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # the phone's answer
        for row, (_device_id, name) in enumerate(devices):
            self._set(row, 0, name)
            self._set(row, 1, "sending…")
            self._set(row, 2, "")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(620, min(520, 140 + 26 * len(devices)))
        self._give_up = QTimer(self)
        self._give_up.setSingleShot(True)
        self._give_up.setInterval(ANSWER_WAIT_MS)
        self._give_up.timeout.connect(self._stop_waiting)
        self._update_summary()

    def request_done(self, device_id: str, ok: bool, text: str, expects_answer: bool) -> None:
        """The server's answer to the request for one device."""
        row = self._rows.get(device_id)
        if row is None:
            return
        self._set(row, 1, text, None if ok else "error")
        self._answered.add(row)
        if not ok:
            self._failed.add(row)
        if row in self._phone_done:
            self._update_summary()
            return
        if not ok or not expects_answer:
            self._set(row, 2, "")
        elif self.phone_answers:
            self._set(row, 2, WAITING, "pending")
            self._give_up.start()
        else:
            self._set(row, 2, "not reported by this server")
        self._update_summary()

    def phone_answered(self, device_id: str, kind: Kind, detail: str) -> None:
        """A `notify_result` for one device (answered, timed out, failed)."""
        row = self._rows.get(device_id)
        if row is None or kind not in PHONE_KINDS:
            return
        current = self.cell(row, 2)
        text = f"{kind.value}: {detail}" if detail else kind.value
        # one NOTIFY per contact: a device registered twice answers twice
        if current and current != WAITING:
            text = f"{current}; {text}"
        self._set(row, 2, text, PHONE_KINDS[kind])
        self._phone_done.add(row)
        self._update_summary()

    def cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def row_of(self, device_id: str) -> int | None:
        return self._rows.get(device_id)

    def _stop_waiting(self) -> None:
        for row in range(self.table.rowCount()):
            if self.cell(row, 2) == WAITING:
                self._set(row, 2, "no answer reported", "warning")
        self._update_summary()

    def _set(self, row: int, column: int, text: str, tone_name: str | None = None) -> None:
        item = QTableWidgetItem(text)
        item.setToolTip(text)
        if tone_name is not None:
            item.setForeground(QColor(tone(tone_name, self.palette())))
        self.table.setItem(row, column, item)

    def _update_summary(self) -> None:
        total = self.table.rowCount()
        waiting = sum(1 for row in range(total) if self.cell(row, 2) == WAITING)
        parts = [f"{len(self._answered) - len(self._failed)} of {total} done"]
        if self._failed:
            parts.append(f"{len(self._failed)} failed")
        if waiting:
            parts.append(f"{waiting} waiting for the phone")
        self.summary.setText(", ".join(parts))
