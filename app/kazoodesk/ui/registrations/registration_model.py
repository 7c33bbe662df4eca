"""The registration panel's table: one row per binding the tracker knows, updated in batches.

`apply` takes the tracker's accumulated changes (a few times a second, however many events
came in): rows that went are removed, new ones appended with one insert, and the order is put
right with one layout change that keeps the selection. The model sorts and filters itself: a
`QSortFilterProxyModel` re-sorted every changed row through Python calls, 70-540 ms per batch
at 1,000 refreshes a second (bench/gui.py), where sorting the keys here takes a few ms. The
Expires column counts down on its own (`tick`, once a second).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication, QPalette

from kazoodesk.live.tracker import Key, Registration, RegistrationTracker
from kazoodesk.ui.theme import tone

AnyIndex = QModelIndex | QPersistentModelIndex
RESET_SHARE = 4  # removing more than 1/RESET_SHARE of the rows resets the model instead


class Col(IntEnum):
    DEVICE = 0
    USERNAME = 1
    OWNER = 2
    CONTACT = 3
    TRANSPORT = 4
    USER_AGENT = 5
    EXPIRES = 6
    SINCE = 7
    LAST_REFRESH = 8


HEADERS = {
    Col.DEVICE: "Device",
    Col.USERNAME: "SIP username",
    Col.OWNER: "Owner",
    Col.CONTACT: "Contact",
    Col.TRANSPORT: "Transport",
    Col.USER_AGENT: "User agent",
    Col.EXPIRES: "Expires",
    Col.SINCE: "Registered since",
    Col.LAST_REFRESH: "Last refresh",
}


def clock_text(at: float, now: float) -> str:
    """A time of day; with the date when it is not today."""
    moment, today = datetime.fromtimestamp(at), datetime.fromtimestamp(now)
    if moment.date() == today.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def countdown_text(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}" if minutes else f"{secs} s"


class RegistrationTableModel(QAbstractTableModel):
    COLUMNS = len(Col)
    TEXT_COLUMNS = (Col.DEVICE, Col.USERNAME, Col.OWNER, Col.CONTACT, Col.USER_AGENT)

    def __init__(
        self,
        tracker: RegistrationTracker,
        device_name: Callable[[str | None], str],
        owner_name: Callable[[str | None], str],
        clock: Callable[[], float] = time.time,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.tracker = tracker
        self.device_name = device_name
        self.owner_name = owner_name
        self.clock = clock
        self.flapping: set[str] = set()
        self.stale = False  # the source is offline: the rows are the last known state
        # the registrations as of the last batch: a row shows what the other views show
        # until the next batch, not a tracker that has moved on meanwhile
        self.shown: dict[Key, Registration] = {}
        self._keys: list[Key] = []  # the rows: keys of `shown` the filter keeps, in order
        self._rows: dict[Key, int] = {}
        self._terms: list[str] = []
        self._sort_column = Col.DEVICE
        self._descending = False
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._columns = list(Col)

    # ---- Qt model interface ------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.COLUMNS

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[self._columns[section]]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        registration = self.shown[self._keys[index.row()]]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(registration, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(registration, column)
        if role == Qt.ItemDataRole.FontRole and column == Col.CONTACT:
            return self._mono
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(registration, column)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column = self._columns[column]
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._reorder()

    # ---- updates -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Every row from the tracker anew."""
        self.beginResetModel()
        self.shown = dict(self.tracker.registrations)
        self._keys = sorted(
            filter(self._keeps, self.shown), key=self._key_of, reverse=self._descending
        )
        self._index_rows()
        self.endResetModel()

    def apply(self, updated: Iterable[Key], removed: Iterable[Key]) -> None:
        """The tracker's changes of a batch: its rows removed, added, repainted, re-sorted."""
        known = self.tracker.registrations
        touched = set(removed)
        for key in touched:
            self.shown.pop(key, None)
        for key in updated:
            if key in known:
                self.shown[key] = known[key]
                touched.add(key)
        if touched:
            self._reconcile(touched)
            if self._keys:
                last = len(self._keys) - 1
                self.dataChanged.emit(self.index(0, 0), self.index(last, self.COLUMNS - 1))

    def set_text(self, text: str) -> None:
        """Keep the rows whose device, username, owner, contact or user agent hold every word."""
        self._terms = text.lower().split()
        self._reconcile()

    def total_count(self) -> int:
        return len(self.shown)

    def set_flapping(self, device_ids: set[str]) -> None:
        self.flapping = set(device_ids)
        self._column_changed(Col.DEVICE)

    def set_stale(self, stale: bool) -> None:
        """Grey the rows while nothing says whether they still hold (the server is away)."""
        if stale != self.stale:
            self.stale = stale
            self._column_changed(*self._columns)

    def tick(self) -> None:
        """The Expires column counts down."""
        self._column_changed(Col.EXPIRES)

    def names_changed(self) -> None:
        self._reconcile()
        self._column_changed(Col.DEVICE, Col.OWNER)

    def key_at(self, row: int) -> Key:
        return self._keys[row]

    def row_of(self, key: Key) -> int | None:
        return self._rows.get(key)

    # ---- inside --------------------------------------------------------------------------------

    def _keeps(self, key: Key) -> bool:
        if not self._terms:
            return True
        r = self.shown[key]
        haystack = " ".join(self._display(r, c) for c in self.TEXT_COLUMNS).lower()
        return all(term in haystack for term in self._terms)

    def _key_of(self, key: Key) -> Any:
        return (self._sort_value(self.shown[key], self._sort_column), key)

    def _index_rows(self) -> None:
        self._rows = {key: row for row, key in enumerate(self._keys)}

    def _reconcile(self, touched: set[Key] | None = None) -> None:
        """The rows to match `shown` and the filter (for the `touched` keys; all when None):
        gone ones removed, new ones appended, then the order put right."""
        rows = self._rows
        check = self._keys if touched is None else [k for k in touched if k in rows]
        gone = [rows[k] for k in check if k not in self.shown or not self._keeps(k)]
        if gone:
            self._remove(sorted(gone))
        candidates = self.shown if touched is None else [k for k in touched if k in self.shown]
        new = [key for key in candidates if key not in self._rows and self._keeps(key)]
        if new:
            first = len(self._keys)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._keys.extend(new)
            self._index_rows()
            self.endInsertRows()
        self._reorder()

    def _remove(self, rows: list[int]) -> None:
        if len(rows) * RESET_SHARE > len(self._keys):
            self.beginResetModel()
            dropped = set(rows)
            self._keys = [key for row, key in enumerate(self._keys) if row not in dropped]
            self._index_rows()
            self.endResetModel()
            return
        for row in reversed(rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._keys[row]
            self.endRemoveRows()
        self._index_rows()

    def _reorder(self) -> None:
        """Sort the rows; the views' selection and current row follow their registrations."""
        ordered = sorted(self._keys, key=self._key_of, reverse=self._descending)
        if ordered == self._keys:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        held = [self._keys[index.row()] if index.isValid() else None for index in old]
        self._keys = ordered
        self._index_rows()
        moved = [
            self.index(self._rows[key], index.column()) if key is not None else QModelIndex()
            for key, index in zip(held, old, strict=True)
        ]
        self.changePersistentIndexList(old, moved)
        self.layoutChanged.emit()

    def _column_changed(self, *columns: Col) -> None:
        if self._keys:
            last = len(self._keys) - 1
            for column in columns:
                self.dataChanged.emit(self.index(0, column), self.index(last, column))

    def _display(self, r: Registration, column: Col) -> str:
        now = self.clock()
        if column == Col.DEVICE:
            name = self.device_name(r.device_id) if r.device_id else ""
            name = name or r.username
            return f"⚠ {name}" if r.device_id in self.flapping else name
        if column == Col.USERNAME:
            return r.username
        if column == Col.OWNER:
            return self.owner_name(r.owner_id) if r.owner_id else ""
        if column == Col.CONTACT:
            return r.contact_address
        if column == Col.TRANSPORT:
            return r.transport.upper()
        if column == Col.USER_AGENT:
            return r.user_agent
        if column == Col.EXPIRES:
            return countdown_text(r.expires_in(now))
        if column == Col.SINCE:
            return clock_text(r.registered_since, now)
        return clock_text(r.last_refresh, now)

    def _sort_value(self, r: Registration, column: Col) -> Any:
        if column == Col.EXPIRES:
            return r.expires_at
        if column == Col.SINCE:
            return r.registered_since
        if column == Col.LAST_REFRESH:
            return r.last_refresh
        return self._display(r, column).lower()

    def _tooltip(self, r: Registration, column: Col) -> str | None:
        if column == Col.DEVICE:
            lines = [f"{self._display(r, Col.DEVICE)} ({r.username}@{r.realm})"]
            if r.device_id in self.flapping:
                lines.append("Flapping: it dropped or moved contact often in the last 10 minutes")
            if r.device_id:
                lines.append(f"id {r.device_id}")
            return "\n".join(lines)
        if column == Col.CONTACT:
            via = f"\nfrom {r.source}" if r.source else ""
            return f"{r.contact}{via}"
        if column == Col.USER_AGENT:
            return r.user_agent or None
        if column in (Col.SINCE, Col.LAST_REFRESH, Col.EXPIRES):
            at = {Col.SINCE: r.registered_since, Col.LAST_REFRESH: r.last_refresh}.get(
                column, r.expires_at
            )
            return datetime.fromtimestamp(at).astimezone().isoformat(timespec="seconds")
        return None

    def _foreground(self, r: Registration, column: Col) -> Any:
        palette = QGuiApplication.palette()
        if self.stale:
            return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        if column == Col.DEVICE and r.device_id in self.flapping:
            return QColor(tone("warning", palette))
        if column == Col.EXPIRES and r.expires_in(self.clock()) <= 30:
            return QColor(tone("warning", palette))
        return None
