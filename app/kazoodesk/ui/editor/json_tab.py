"""The JSON tab: the raw document, editable. Text that parses to an object is handed to the
form (after a short pause in typing, or at once with `apply()`); text that does not shows
where it breaks and changes nothing, so a typo never costs the form its values."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from kazoodesk.ui.editor.editors import monospace
from kazoodesk.ui.theme import tone

DEBOUNCE_MS = 400


class JsonTab(QWidget):
    documentEdited = Signal(dict)  # noqa: N815 (Qt naming)

    def __init__(
        self,
        check: Callable[[dict[str, Any]], dict[str, list[str]]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._check = check
        self._setting = False
        self._valid = True
        column = QVBoxLayout(self)
        top = QHBoxLayout()
        self.status = QLabel(self)
        self.status.setObjectName("json:status")
        self.status.setWordWrap(True)
        top.addWidget(self.status, 1)
        self.format_button = QPushButton("Format", self)
        self.format_button.setToolTip("Re-indent the JSON")
        self.format_button.setAccessibleName("Format the JSON")
        self.format_button.clicked.connect(self._format)
        top.addWidget(self.format_button)
        column.addLayout(top)
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("json")
        self.editor.setAccessibleName("Device document (JSON)")
        self.editor.setToolTip(
            "The whole device document as the server stores it; edits here "
            "show up on the other tabs and the other way round."
        )
        self.editor.setFont(monospace())
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        column.addWidget(self.editor, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.apply)
        self.editor.textChanged.connect(self._typed)

    def is_valid(self) -> bool:
        return self._valid

    def set_document(self, document: dict[str, Any]) -> None:
        self._setting = True
        try:
            self.editor.setPlainText(json.dumps(document, indent=2, ensure_ascii=False))
        finally:
            self._setting = False
        self._timer.stop()
        self._valid = True
        self._show_check(document)

    def _typed(self) -> None:
        if not self._setting:
            self._timer.start()

    def apply(self) -> bool:
        """Parse the text now; hand it to the form if it is a JSON object."""
        self._timer.stop()
        text = self.editor.toPlainText()
        try:
            document = json.loads(text)
        except ValueError as exc:
            line, column = getattr(exc, "lineno", 0), getattr(exc, "colno", 0)
            message = getattr(exc, "msg", str(exc))
            self._bad(f"Not valid JSON: line {line}, column {column}: {message}.")
            return False
        if not isinstance(document, dict):
            self._bad("The device must be a JSON object ({ ... }).")
            return False
        self._valid = True
        self._show_check(document)
        self.documentEdited.emit(document)
        return True

    def _bad(self, message: str) -> None:
        self._valid = False
        self.status.setStyleSheet(f"color: {tone('error')};")
        self.status.setText(f"{message} The form keeps its last valid values.")

    def _show_check(self, document: dict[str, Any]) -> None:
        problems = self._check(document)
        if not problems:
            self.status.setStyleSheet(f"color: {tone('ok')};")
            self.status.setText("Valid JSON that matches the device schema.")
            return
        count = sum(len(m) for m in problems.values())
        first = "; ".join(f"{path}: {', '.join(m)}" for path, m in list(problems.items())[:3])
        self.status.setStyleSheet(f"color: {tone('warning')};")
        self.status.setText(f"Valid JSON, {count} schema problem{'s' * (count != 1)}: {first}")

    def _format(self) -> None:
        if self.apply():
            self.set_document(json.loads(self.editor.toPlainText()))
