"""`DeviceTableModel`: the account's devices as a flat table, filtered and sorted in place.

Why not a QSortFilterProxyModel: its `filterAcceptsRow` is a Python call per row per
keystroke, far over the 50 ms a keystroke may take at 100,000 devices. Here each device has a
lowercase haystack and a sort key computed once (device_records.py); filters are list
comprehensions; a new result is published as one layout change that moves persistent indexes
with their devices (as QSortFilterProxyModel::invalidate does), so views keep their selection
and current row.

Invariants: `_by_name` holds every device by (name, id); `_order` holds them by `total_key`
(the sort column's key, then name and id: unique), built by a stable sort of `_by_name` on the
column's key alone; `_shown` is the filtered subsequence of `_order`. A descending sort reads
`_shown` back to front, so flipping the order costs nothing, and a device's row is found by
bisecting.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication, QPalette

from kazoodesk.ui.devices.device_icons import hotdesk_icon, status_icon, type_icon
from kazoodesk.ui.devices.device_records import (
    UNASSIGNED,
    Column,
    DeviceFilter,
    DeviceRecord,
    OwnerIndex,
    by_sort_key,
    compact_haystacks,
    insert_sorted,
    name_order_key,
    natural_key,
    position,
    sort_key,
    total_key,
)
from kazoodesk.ui.devices.device_types import (
    STATUS_LABELS,
    Status,
    device_type_of,
    type_label,
    why_not_registrable,
)
from kazoodesk.ui.theme import tone

AnyIndex = QModelIndex | QPersistentModelIndex
_WARM_DELAY_MS = 300
_BISECT_LIMIT = 512  # persistent indexes found by bisecting below this, by a scan above
# a status change of up to this many devices repaints their rows; more, one range of the column
_ROW_SIGNAL_LIMIT = 256
_Moved = tuple[list[QModelIndex], list[tuple[DeviceRecord, int]]]

HEADERS: dict[Column, str] = {
    Column.STATUS: "Status",
    Column.NAME: "Name",
    Column.TYPE: "Type",
    Column.USERNAME: "SIP username",
    Column.MAC: "MAC address",
    Column.OWNER: "Owner",
    Column.ENABLED: "Enabled",
}

DEVICE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2  # int(Status)
HOTDESK_ROLE = Qt.ItemDataRole.UserRole + 3  # shown because the filtered owner hotdesks here

NO_OWNER_TEXT = "Unassigned"
HOTDESK_SUFFIX = " (hotdesk)"
FLAPPING_TIP = (
    "Flapping: it dropped its registration or came back from a new contact more than"
    " a few times in the last 10 minutes (see the registration panel and the event log)"
)


class DeviceTableModel(QAbstractTableModel):
    """Devices of one account, fed listing rows page by page (kazoo-api.md §5.1)."""

    countsChanged = Signal(int, int)  # all devices, devices shown
    usersChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._by_id: dict[str, DeviceRecord] = {}
        self._type_counts: Counter[str] = Counter()
        self._by_name: list[DeviceRecord] = []
        self._order: list[DeviceRecord] = []
        self._shown: list[DeviceRecord] = []
        # the haystacks of _order and _shown, index for index, while still valid
        self._order_haystacks: list[str] | None = None
        self._shown_haystacks: list[str] | None = None
        # builds _order_haystacks once the list has been left alone for a moment, so the
        # first keystroke after loading or sorting does not pay for it
        self._warm = QTimer(self)
        self._warm.setSingleShot(True)
        self._warm.setInterval(_WARM_DELAY_MS)
        self._warm.timeout.connect(self._warm_haystacks)
        self._registered: set[str] | None = None
        self._flapping: set[str] = set()  # devices that dropped or moved often of late
        self._owners = OwnerIndex()
        self._filter = DeviceFilter()
        self._sort_column = Column.NAME
        self._descending = False
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    # ---- Qt model interface --------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Sort by {HEADERS[Column(section)].lower()}"
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._shown):
            return None
        device = self._at(index.row())
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(device, column)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._decoration(device, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(device, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(device, column)
        if role == Qt.ItemDataRole.FontRole:
            return self._mono if column == Column.MAC else None
        if role == DEVICE_ID_ROLE:
            return device.device_id
        if role == STATUS_ROLE:
            return int(device.status)
        if role == HOTDESK_ROLE:
            return device.device_id in self._filter.hotdesked
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(Column):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if column == self._sort_column and descending == self._descending:
            return
        self.layoutAboutToBeChanged.emit()
        moved = self._remember_persistent()
        if column != self._sort_column:
            self._sort_column = Column(column)
            self._order, self._shown = self._sorted()
            self._order_haystacks = self._shown_haystacks = None
            self._warm.start()
        self._descending = descending
        self._restore_persistent(moved)
        self.layoutChanged.emit()

    # ---- feeding -------------------------------------------------------------------------------

    def append_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Add a page of listing rows; a row whose id is already here replaces that device."""
        self._merge(rows)

    def upsert(self, row: Mapping[str, Any]) -> None:
        """Add or replace one device (after a save, or on an event)."""
        self._merge([row])

    def remove_ids(self, ids: Iterable[str]) -> None:
        gone = {i for i in ids if i in self._by_id}
        if not gone:
            return
        for device_id in gone:
            self._type_counts[self._by_id.pop(device_id).device_type] -= 1
        self._by_name = [d for d in self._by_name if d.device_id not in gone]
        self._publish(
            order=[d for d in self._order if d.device_id not in gone],
            shown=[d for d in self._shown if d.device_id not in gone],
        )

    def clear(self) -> None:
        """Forget every device (a reload starts here); users, status and filters stay."""
        self.beginResetModel()
        self._by_id.clear()
        self._type_counts.clear()
        self._by_name = []
        self._order = []
        self._shown = []
        self._order_haystacks = self._shown_haystacks = None
        self.endResetModel()
        self._emit_counts()

    def set_users(self, users: Iterable[Mapping[str, Any]]) -> None:
        """The account's users ({id, first_name, last_name, username}), for owner names."""
        self._owners = OwnerIndex.of(users)
        for device in self._by_name:
            if device.owner_id:
                device.set_haystack(self._owners)
        self._order_haystacks = self._shown_haystacks = None
        if self._sort_column == Column.OWNER:
            self._resort_all()
        if self._filter.terms:
            self._refilter()
        self._column_changed(Column.OWNER)
        self.usersChanged.emit()

    def set_registered(self, ids: Iterable[str]) -> None:
        """The ids /devices/status reports registered; every other device that can register
        shows as unregistered from now on."""
        registered = set(ids)
        previous, self._registered = self._registered, registered
        if previous is None:  # unknown until now: every device that can register changes
            changed = [d for d in self._order if d.set_status(registered)]
        else:  # only the ids that came or went (a refresh usually changes a handful)
            by_id = self._by_id
            changed = [
                device
                for device_id in previous ^ registered
                if (device := by_id.get(device_id)) is not None and device.set_status(registered)
            ]
        self._after_status_change(changed)

    def set_registration(self, device_id: str, registered: bool) -> None:
        """One device registered or went away (a live event)."""
        if self._registered is None:
            self._registered = set()
        if registered:
            self._registered.add(device_id)
        else:
            self._registered.discard(device_id)
        device = self._by_id.get(device_id)
        if device is not None and device.set_status(self._registered):
            self._after_status_change([device])

    def set_flapping(self, ids: Iterable[str]) -> None:
        """The devices flagged as flapping (kazoodesk.live.tracker): marked in the status."""
        flapping = set(ids)
        changed = flapping ^ self._flapping
        self._flapping = flapping
        by_id = self._by_id
        self._rows_changed([by_id[i] for i in changed if i in by_id], Column.STATUS)

    def is_flapping(self, device_id: str) -> bool:
        return device_id in self._flapping

    # ---- filters -------------------------------------------------------------------------------

    def set_search(self, text: str) -> None:
        """Case-insensitive substring search over name, type, SIP username, MAC (typed with or
        without separators), owner name and username, and id; all words must match."""
        self._set_filter(terms=DeviceFilter.terms_of(text))

    def set_type_filter(self, device_types: Iterable[str] | None) -> None:
        """Show only these `device_type`s (None: all)."""
        self._set_filter(device_types=None if device_types is None else frozenset(device_types))

    def set_owner_filter(
        self, user_id: str | None, device_ids_with_hotdesk_flag: dict[str, bool] | None = None
    ) -> None:
        """Show one user's devices (None: everyone's; UNASSIGNED: nobody's).

        Until the loader passes the answer of /users/{U}/devices as {device id: hotdesked}
        (`hotdesk_flags` builds it), the devices the user owns are shown; with it, the devices
        the user is hotdesked into join them, marked (HOTDESK_ROLE, "(hotdesk)" after the
        owner's name).
        """
        flags = device_ids_with_hotdesk_flag if user_id not in (None, UNASSIGNED) else None
        hotdesked = frozenset(i for i, flag in (flags or {}).items() if flag)
        self._set_filter(owner=user_id, hotdesked=hotdesked)
        self._column_changed(Column.OWNER)

    def set_enabled_filter(self, enabled: bool | None) -> None:
        self._set_filter(enabled=enabled)

    def set_status_filter(self, statuses: Iterable[Status] | None) -> None:
        self._set_filter(statuses=None if statuses is None else frozenset(statuses))

    def device_filter(self) -> DeviceFilter:
        return self._filter

    # ---- reading -------------------------------------------------------------------------------

    def device_id(self, index: AnyIndex) -> str:
        return self._at(index.row()).device_id if index.isValid() else ""

    def row_for_id(self, device_id: str) -> int:
        """The row showing this device, or -1 when it is filtered out or unknown."""
        device = self._by_id.get(device_id)
        return -1 if device is None else self._row_of(device)

    def rows_for_ids(self, ids: Iterable[str]) -> list[int]:
        """The rows showing these devices, ascending; hidden and unknown ones left out."""
        devices = [d for i in ids if (d := self._by_id.get(i)) is not None]
        if len(devices) <= _BISECT_LIMIT:
            return sorted(r for r in map(self._row_of, devices) if r >= 0)
        wanted = {id(d) for d in devices}
        return [r for r, d in enumerate(self._iter_shown()) if id(d) in wanted]

    def ids_at(self, rows: Iterable[int]) -> list[str]:
        """The device ids of these rows."""
        return [self._at(r).device_id for r in rows]

    def device_row(self, device_id: str) -> dict[str, Any] | None:
        """The listing row last fed for this device, shown or not."""
        device = self._by_id.get(device_id)
        return device.as_row() if device else None

    def device_name(self, device_id: str) -> str:
        """The device's name ("" for one not in the list)."""
        device = self._by_id.get(device_id)
        return device.name if device else ""

    def rows(self) -> list[dict[str, Any]]:
        """Every device's listing row (copies), shown or not, in the current sort order."""
        return [d.as_row() for d in self._order]

    def total_count(self) -> int:
        return len(self._by_id)

    def owner_name(self, user_id: str) -> str:
        return self._owners.names.get(user_id, "")

    def users(self) -> list[tuple[str, str]]:
        """(id, name) of the account's users sorted by name, for an owner picker."""
        return sorted(self._owners.names.items(), key=lambda item: natural_key(item[1]))

    def device_types(self) -> list[str]:
        """The device types among the loaded devices."""
        return sorted(t for t, n in self._type_counts.items() if n > 0)

    def sort_column(self) -> int:
        return int(self._sort_column)

    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder

    # ---- cells ---------------------------------------------------------------------------------

    def _owner_text(self, device: DeviceRecord) -> str:
        if not device.owner_id:
            return NO_OWNER_TEXT
        name = self._owners.names.get(device.owner_id)
        return name or f"Unknown user {device.owner_id[:8]}…"

    def _display(self, device: DeviceRecord, column: int) -> str:
        if column == Column.STATUS:
            label = STATUS_LABELS[device.status]
            return f"{label} · flapping" if device.device_id in self._flapping else label
        if column == Column.NAME:
            return device.name
        if column == Column.TYPE:
            return type_label(device.device_type)
        if column == Column.USERNAME:
            return device.username
        if column == Column.MAC:
            return device.mac
        if column == Column.OWNER:
            owner = self._owner_text(device)
            hotdesked = device.device_id in self._filter.hotdesked
            return owner + HOTDESK_SUFFIX if hotdesked else owner
        return "Enabled" if device.enabled else "Disabled"

    def _decoration(self, device: DeviceRecord, column: int) -> Any:
        if column == Column.STATUS:
            return status_icon(device.status)
        if column == Column.TYPE:
            return type_icon(device.device_type)
        if column == Column.OWNER and device.device_id in self._filter.hotdesked:
            return hotdesk_icon()
        return None

    def _tooltip(self, device: DeviceRecord, column: int) -> str | None:
        if column == Column.STATUS and device.device_id in self._flapping:
            return FLAPPING_TIP
        if column == Column.STATUS:
            return {
                Status.NOT_REGISTRABLE: why_not_registrable(device.device_type, device.username),
                Status.UNKNOWN: "Registration status not loaded yet",
                Status.DISABLED: "Disabled: Kazoo refuses its registrations and calls",
            }.get(device.status, STATUS_LABELS[device.status])
        if column == Column.NAME:
            return f"{device.name}\nid {device.device_id}"
        if column == Column.TYPE:
            return f"{type_label(device.device_type)} (device_type {device.device_type})"
        if column == Column.MAC:
            stored = device.stored_mac
            return f"Stored as {stored}" if stored and stored != device.mac else None
        if column == Column.OWNER:
            owner = self._filter.owner
            if owner and device.device_id in self._filter.hotdesked:
                who = self._owners.names.get(owner, owner)
                return f"{who} is hotdesked into this device, owned by {self._owner_text(device)}"
            username = self._owners.usernames.get(device.owner_id)
            return f"{self._owner_text(device)} ({username})" if username else None
        return None

    def _foreground(self, device: DeviceRecord, column: int) -> QColor | None:
        if column == Column.STATUS and device.device_id in self._flapping:
            return QColor(tone("warning", QGuiApplication.palette()))
        if not device.enabled or (column == Column.OWNER and not device.owner_id):
            return QGuiApplication.palette().color(
                QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text
            )
        return None

    # ---- filtering, merging, publishing --------------------------------------------------------

    def _set_filter(self, **changes: Any) -> None:
        new = dataclasses.replace(self._filter, **changes)
        if new == self._filter:
            return
        old, self._filter = self._filter, new
        if new.narrows(old):
            if self._shown_haystacks is None:
                self._shown_haystacks = compact_haystacks(self._shown)
            self._publish(*new.search((self._shown, self._shown_haystacks)))
        else:
            self._refilter()

    def _refilter(self) -> None:
        haystacks = None
        if self._filter.terms and self._filter.narrows_nothing():
            if self._order_haystacks is None:
                self._order_haystacks = compact_haystacks(self._order)
            haystacks = self._order_haystacks
        self._publish(*self._filter.apply(self._order, haystacks))

    def _sorted(self) -> tuple[list[DeviceRecord], list[DeviceRecord]]:
        """`_order` and `_shown` sorted afresh by the sort column (keys recomputed)."""
        column, owners = self._sort_column, self._owners
        for device in self._by_name:
            device.sort_key = sort_key(device, column, owners)
        order = (
            list(self._by_name)
            if column == Column.NAME
            else sorted(self._by_name, key=by_sort_key)  # stable: ties stay in name order
        )
        if self._shown is self._order or len(self._shown) == len(self._order):
            return order, order
        kept = {id(d) for d in self._shown}
        return order, [d for d in order if id(d) in kept]

    def _resort_all(self) -> None:
        order, shown = self._sorted()
        self._publish(order=order, shown=shown)

    def _merge(self, rows: Iterable[Mapping[str, Any]]) -> None:
        incoming = {str(row["id"]): row for row in rows if row.get("id")}
        if not incoming:
            return
        replaced = {id(self._by_id[i]) for i in incoming if i in self._by_id}
        if len(incoming) == 1 and replaced and self._update_in_place(incoming):
            return
        by_name, order, shown = self._by_name, self._order, self._shown
        if replaced:
            by_name = [d for d in by_name if id(d) not in replaced]
            order = [d for d in order if id(d) not in replaced]
            shown = [d for d in shown if id(d) not in replaced]
        fresh: list[DeviceRecord] = []
        for device_id, row in incoming.items():
            device = self._by_id.get(device_id)
            if device is None:
                device = self._by_id[device_id] = DeviceRecord(row, self._registered, self._owners)
            else:
                self._type_counts[device.device_type] -= 1
                device.update(row, self._registered, self._owners)
            self._type_counts[device.device_type] += 1
            device.sort_key = sort_key(device, self._sort_column, self._owners)
            fresh.append(device)
        fresh.sort(key=name_order_key)
        self._by_name = insert_sorted(by_name, fresh, name_order_key)
        fresh.sort(key=total_key)
        self._publish(
            order=insert_sorted(order, fresh),
            shown=insert_sorted(shown, self._filter.apply(fresh)[0]),
        )

    def _update_in_place(self, incoming: Mapping[str, Mapping[str, Any]]) -> bool:
        """Apply an edit to one device as a plain dataChanged when it keeps its place and its
        visibility, so an edit does not disturb the view; False if it has to move."""
        ((device_id, row),) = incoming.items()
        device = self._by_id[device_id]
        was_shown = self._filter.keeps(device)
        if device_type_of(row) != device.device_type:
            return False  # the slow path keeps the type counts
        old_key = total_key(device)
        device.update(row, self._registered, self._owners)
        device.sort_key = sort_key(device, self._sort_column, self._owners)
        if total_key(device) != old_key:
            return False
        self._order_haystacks = self._shown_haystacks = None  # its haystack may have changed
        if self._filter.keeps(device) != was_shown:
            return False
        at = self.row_for_id(device_id)
        if at >= 0:
            self.dataChanged.emit(self.index(at, 0), self.index(at, len(Column) - 1))
        return True

    def _after_status_change(self, changed: list[DeviceRecord]) -> None:
        if not changed:
            return
        if self._sort_column == Column.STATUS:
            self._resort_all()
        if self._filter.statuses is not None:
            self._refilter()
        self._rows_changed(changed, Column.STATUS)

    def _rows_changed(self, devices: list[DeviceRecord], column: Column) -> None:
        """`column` of `devices` changed: their rows (runs of neighbours as one range), or, for
        many devices, the whole column as one range (a view repaints only what it shows)."""
        if not self._shown:
            return
        if len(devices) > _ROW_SIGNAL_LIMIT:
            self._column_changed(column)
            return
        rows = sorted(row for device in devices if (row := self._row_of(device)) >= 0)
        start = 0
        for at in range(1, len(rows) + 1):
            if at == len(rows) or rows[at] != rows[at - 1] + 1:
                first, last = rows[start], rows[at - 1]
                self.dataChanged.emit(self.index(first, column), self.index(last, column))
                start = at

    def _column_changed(self, column: Column) -> None:
        if self._shown:
            last = len(self._shown) - 1
            self.dataChanged.emit(self.index(0, column), self.index(last, column))

    def _publish(
        self,
        shown: list[DeviceRecord] | None = None,
        shown_haystacks: list[str] | None = None,
        *,
        order: list[DeviceRecord] | None = None,
    ) -> None:
        """Make `order`/`shown` (with the haystacks of `shown`, if known) current as one
        layout change that moves persistent indexes (selection, current row) with their
        devices. The row count may change in it, as in QSortFilterProxyModel::invalidate;
        nothing is emitted when the rows stay the same."""
        if order is not None:
            self._order = order
            self._order_haystacks = None
            self._warm.start()
        if shown is not None:
            self._shown_haystacks = shown_haystacks
        if shown is not None and shown != self._shown:
            self.layoutAboutToBeChanged.emit()
            moved = self._remember_persistent()
            self._shown = shown
            self._restore_persistent(moved)
            self.layoutChanged.emit()
        self._emit_counts()

    def _warm_haystacks(self) -> None:
        if self._order_haystacks is None:
            self._order_haystacks = compact_haystacks(self._order)

    def _remember_persistent(self) -> _Moved:
        indexes = self.persistentIndexList()
        return indexes, [(self._at(i.row()), i.column()) for i in indexes]

    def _restore_persistent(self, moved: _Moved) -> None:
        old, devices = moved
        if not old:
            return
        rows: dict[int, int] = {}
        if len(devices) <= _BISECT_LIMIT:
            for device, _ in devices:
                rows[id(device)] = self._row_of(device)
        else:  # a big selection: one pass beats a bisect each
            wanted = {id(device) for device, _ in devices}
            rows = {id(d): r for r, d in enumerate(self._iter_shown()) if id(d) in wanted}
        new = [
            self.index(row, column) if (row := rows.get(id(device), -1)) >= 0 else QModelIndex()
            for device, column in devices
        ]
        self.changePersistentIndexList(old, new)

    def _row_of(self, device: DeviceRecord) -> int:
        at = position(self._shown, device)
        if at < 0 or not self._descending:
            return at
        return len(self._shown) - 1 - at

    def _emit_counts(self) -> None:
        self.countsChanged.emit(len(self._by_id), len(self._shown))

    def _at(self, row: int) -> DeviceRecord:
        return self._shown[-1 - row] if self._descending else self._shown[row]

    def _iter_shown(self) -> Iterator[DeviceRecord]:
        return reversed(self._shown) if self._descending else iter(self._shown)
