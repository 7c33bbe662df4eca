"""The set-up every table of records here shares."""

from __future__ import annotations

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView


def show_rows(table: QTableView, row_padding: int) -> None:
    """A read-only table of records: whole rows selected (several with Ctrl or Shift), no
    editing, alternate rows shaded, one line per row, no row numbers. Rows have one fixed
    height (the font's plus `row_padding`), so the view never measures them one by one."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    rows = table.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(QFontMetrics(table.font()).height() + row_padding)
