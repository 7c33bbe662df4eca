"""Someone else saved the device first (412): show both versions and let the user decide.

Reload takes the server's version, Overwrite saves the user's whole document over it, Merge
saves the server's version with the fields the user picked from their own.
"""

from __future__ import annotations

import copy
import json
from enum import StrEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.schema.paths import changed_leaves, delete_path, get_path, has_path, set_path


class Resolution(StrEnum):
    RELOAD = "reload"
    OVERWRITE = "overwrite"
    MERGE = "merge"
    CANCEL = "cancel"


def shown(doc: dict[str, Any], path: str) -> str:
    if not has_path(doc, path):
        return "(not set)"
    return json.dumps(get_path(doc, path), ensure_ascii=False)


def merged(theirs: dict[str, Any], mine: dict[str, Any], take_mine: list[str]) -> dict[str, Any]:
    """The server's document with the user's values at `take_mine` (absent there: removed)."""
    result = copy.deepcopy(theirs)
    for path in take_mine:
        if has_path(mine, path):
            set_path(result, path, copy.deepcopy(get_path(mine, path)))
        else:
            delete_path(result, path)
    return result


class ConflictDialog(QDialog):
    """One row per field the user changed: their value, the server's, and which to keep."""

    def __init__(
        self,
        base: dict[str, Any],
        mine: dict[str, Any],
        theirs: dict[str, Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("The device was changed on the server")
        self.resolution = Resolution.CANCEL
        self._mine, self._theirs = mine, theirs
        self.paths = [p for p in changed_leaves(base, mine) if not p.startswith(("_", "id"))]
        server_changes = set(changed_leaves(base, theirs))
        intro = QLabel(
            "Someone saved this device after you opened it. Your changes are on the left, the "
            "server's current values on the right. Nothing has been overwritten."
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(len(self.paths), 4, self)
        self.table.setObjectName("conflict.table")
        self.table.setHorizontalHeaderLabels(["Field", "Your value", "Server's value", "Keep"])
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._keep_mine: dict[str, QRadioButton] = {}
        self._keep_theirs: dict[str, QRadioButton] = {}
        for row, path in enumerate(self.paths):
            self._add_row(row, path, path in server_changes)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QHBoxLayout()
        for text, resolution, tip in (
            ("Reload", Resolution.RELOAD, "Drop your changes and show the server's version"),
            ("Overwrite", Resolution.OVERWRITE, "Save your whole version over the server's"),
            ("Merge", Resolution.MERGE, "Save the server's version with the fields you keep"),
        ):
            button = QPushButton(text, self)
            button.setObjectName(f"conflict.{resolution.value}")
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, r=resolution: self._finish(r))
            buttons.addWidget(button)
        buttons.addStretch(1)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.resize(760, 360)

    def _add_row(self, row: int, path: str, server_changed: bool) -> None:
        field = QTableWidgetItem(path)
        if server_changed:
            field.setToolTip("Changed on the server too")
            field.setForeground(Qt.GlobalColor.darkRed)
        self.table.setItem(row, 0, field)
        self.table.setItem(row, 1, QTableWidgetItem(shown(self._mine, path)))
        self.table.setItem(row, 2, QTableWidgetItem(shown(self._theirs, path)))
        cell = QWidget(self.table)
        mine, theirs = QRadioButton("yours", cell), QRadioButton("server's", cell)
        mine.setObjectName(f"keep.mine.{path}")
        theirs.setObjectName(f"keep.theirs.{path}")
        group = QButtonGroup(cell)
        group.addButton(mine)
        group.addButton(theirs)
        mine.setChecked(True)
        box = QHBoxLayout(cell)
        box.setContentsMargins(4, 0, 4, 0)
        box.addWidget(mine)
        box.addWidget(theirs)
        self.table.setCellWidget(row, 3, cell)
        self._keep_mine[path] = mine
        self._keep_theirs[path] = theirs

    def keep_mine(self, path: str, mine: bool) -> None:
        (self._keep_mine if mine else self._keep_theirs)[path].setChecked(True)

    def merged_document(self) -> dict[str, Any]:
        take = [path for path, button in self._keep_mine.items() if button.isChecked()]
        return merged(self._theirs, self._mine, take)

    def _finish(self, resolution: Resolution) -> None:
        self.resolution = resolution
        self.accept()
