"""The registration panel's table: one row per binding the tracker knows, updated in batches.

`apply` takes the tracker's accumulated changes (a few times a second, however many events
came in): new rows are appended with one insert, changed rows repainted with a few
`dataChanged` signals, removed rows taken out (or the model reset when most of it went). The
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
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication

from kazoodesk.live.tracker import Key, Registration, RegistrationTracker
from kazoodesk.ui.theme import tone

AnyIndex = QModelIndex | QPersistentModelIndex
RESET_SHARE = 4  # removing more than 1/RESET_SHARE of the rows resets the model instead
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
KEY_ROLE = Qt.ItemDataRole.UserRole + 2


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
        self._keys: list[Key] = []
        self._rows: dict[Key, int] = {}
        # the registrations as of the last batch: a row shows what the other views show
        # until the next batch, not a tracker that has moved on meanwhile
        self.shown: dict[Key, Registration] = {}
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    # ---- Qt model interface ------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Col)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Col(section)]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        registration = self.shown[self._keys[index.row()]]
        column = Col(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(registration, column)
        if role == SORT_ROLE:
            return self._sort_value(registration, column)
        if role == KEY_ROLE:
            return registration.key
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(registration, column)
        if role == Qt.ItemDataRole.FontRole and column == Col.CONTACT:
            return self._mono
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(registration, column)
        return None

    # ---- updates -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Every row from the tracker anew."""
        self.beginResetModel()
        self.shown = dict(self.tracker.registrations)
        self._keys = list(self.shown)
        self._rows = {key: row for row, key in enumerate(self._keys)}
        self.endResetModel()

    def apply(self, updated: Iterable[Key], removed: Iterable[Key]) -> None:
        gone = [self._rows[key] for key in removed if key in self._rows]
        if gone:
            self._remove(sorted(gone))
        known = self.tracker.registrations
        new: list[Key] = []
        changed: list[int] = []
        for key in updated:
            if key not in known:
                continue
            self.shown[key] = known[key]
            row = self._rows.get(key)
            if row is None:
                new.append(key)
            else:
                changed.append(row)
        if changed:
            self._repaint(sorted(changed))
        if new:
            first = len(self._keys)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for offset, key in enumerate(new):
                self._rows[key] = first + offset
            self._keys.extend(new)
            self.endInsertRows()

    def set_flapping(self, device_ids: set[str]) -> None:
        self.flapping = set(device_ids)
        self._column_changed(Col.DEVICE)

    def tick(self) -> None:
        """The Expires column counts down."""
        self._column_changed(Col.EXPIRES)

    def names_changed(self) -> None:
        self._column_changed(Col.DEVICE, Col.OWNER)

    def key_at(self, row: int) -> Key:
        return self._keys[row]

    def row_of(self, key: Key) -> int | None:
        return self._rows.get(key)

    # ---- inside --------------------------------------------------------------------------------

    def _remove(self, rows: list[int]) -> None:
        for row in rows:
            del self.shown[self._keys[row]]
        if len(rows) * RESET_SHARE > len(self._keys):
            self.beginResetModel()
            keep = set(range(len(self._keys))) - set(rows)
            self._keys = [self._keys[row] for row in sorted(keep)]
            self._rows = {key: row for row, key in enumerate(self._keys)}
            self.endResetModel()
            return
        for row in reversed(rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[self._keys.pop(row)]
            self.endRemoveRows()
        first = rows[0]
        for row in range(first, len(self._keys)):
            self._rows[self._keys[row]] = row

    def _repaint(self, rows: list[int]) -> None:
        """`dataChanged` for runs of adjacent rows; one signal over the whole span when the
        rows are many (cheaper than hundreds of signals)."""
        last = len(Col) - 1
        if len(rows) > 32:
            self.dataChanged.emit(self.index(rows[0], 0), self.index(rows[-1], last))
            return
        start = previous = rows[0]
        for row in [*rows[1:], None]:
            if row is not None and row == previous + 1:
                previous = row
                continue
            self.dataChanged.emit(self.index(start, 0), self.index(previous, last))
            if row is not None:
                start = previous = row

    def _column_changed(self, *columns: Col) -> None:
        if self._keys:
            for column in columns:
                top, bottom = self.index(0, column), self.index(len(self._keys) - 1, column)
                self.dataChanged.emit(top, bottom)

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
        if column == Col.DEVICE and r.device_id in self.flapping:
            return QColor(tone("warning", palette))
        if column == Col.EXPIRES and r.expires_in(self.clock()) <= 30:
            return QColor(tone("warning", palette))
        return None


class RegistrationFilter(QSortFilterProxyModel):
    """Sorts by each column's own value (times as times) and filters on free text across
    device, username, owner, contact and user agent."""

    TEXT_COLUMNS = (Col.DEVICE, Col.USERNAME, Col.OWNER, Col.CONTACT, Col.USER_AGENT)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._terms: list[str] = []

    def set_text(self, text: str) -> None:
        self._terms = text.lower().split()
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        if not self._terms:
            return True
        model = self.sourceModel()
        haystack = " ".join(
            str(model.index(source_row, column, source_parent).data() or "")
            for column in self.TEXT_COLUMNS
        ).lower()
        return all(term in haystack for term in self._terms)
