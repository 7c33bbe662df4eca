"""The event log: what happened to the account's registrations this session, newest last.

`EventLogModel` holds the newest `capacity` entries the tracker logged (`LogEntry`, Qt-free)
and shows those passing its filter. The filter lives in the model, as in DeviceTableModel:
a QSortFilterProxyModel would make a Python `filterAcceptsRow` call per row on every
keystroke, where here a filter is a few list comprehensions over 50,000 entries. Entries are
numbered as they arrive (serials); the model's rows are the serials of the shown entries, in
order, so a batch of arrivals is one insert at the end and a trim of the oldest one removal
at the top, whatever the filter.

`EventLogPanel` is the toolbar (text, kind and device filters, Clear, Export CSV…), the table
and the count. The table follows the newest entries while it is scrolled to the bottom, and
stays where it is once the user scrolls up.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import os
import secrets
import sys
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    QStandardPaths,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.live.tracker import Kind, LogEntry
from kazoodesk.ui.dialogs.awaitable import confirm, inform, run_dialog
from kazoodesk.ui.tables import show_rows
from kazoodesk.ui.tasks import spawn
from kazoodesk.ui.theme import tone

AnyIndex = QModelIndex | QPersistentModelIndex
DEFAULT_CAPACITY = 50_000
TRIM_SHARE = 10  # the oldest are trimmed once the log is over capacity by 1/TRIM_SHARE
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's LogEntry
EXPORT_TITLE = "Export events"


class Col(IntEnum):
    TIME = 0
    EVENT = 1
    DEVICE = 2
    USERNAME = 3
    CONTACT = 4
    USER_AGENT = 5
    SOURCE = 6
    DETAIL = 7


HEADERS = {
    Col.TIME: "Time",
    Col.EVENT: "Event",
    Col.DEVICE: "Device",
    Col.USERNAME: "SIP username",
    Col.CONTACT: "Contact",
    Col.USER_AGENT: "User agent",
    Col.SOURCE: "Source",
    Col.DETAIL: "Detail",
}

# the kinds that stand out (names of theme.TONES); the others are plain text
KIND_TONES = {
    Kind.REGISTERED: "ok",
    Kind.EXPIRED: "warning",
    Kind.NOTIFY_TIMED_OUT: "warning",
    Kind.AUTH_FAILED: "error",
    Kind.NOTIFY_FAILED: "error",
}


def clock_text(at: float) -> str:
    """The local time of day, "HH:MM:SS"."""
    return time.strftime("%H:%M:%S", time.localtime(at))


def iso_time(at: float) -> str:
    """The local date and time with its UTC offset, to the second (ISO 8601)."""
    return datetime.fromtimestamp(at, UTC).astimezone().isoformat(timespec="seconds")


def cell_text(entry: LogEntry, column: int, device_name: str) -> str:
    """What the table shows in a cell (`device_name`: the resolver's)."""
    if column == Col.TIME:
        return clock_text(entry.at)
    if column == Col.EVENT:
        return entry.kind.value
    if column == Col.DEVICE:
        return device_name or entry.username
    if column == Col.USERNAME:
        return entry.username
    if column == Col.CONTACT:
        return entry.contact
    if column == Col.USER_AGENT:
        return entry.user_agent
    if column == Col.SOURCE:
        return entry.source
    return entry.detail


def csv_row(entry: LogEntry, device_name: str) -> list[str]:
    """The cells of the entry's row, the time in full."""
    cells = [cell_text(entry, column, device_name) for column in Col]
    cells[Col.TIME] = iso_time(entry.at)
    return cells


def _no_name(_device_id: str | None) -> str:
    return ""


def _haystack(entry: LogEntry) -> str:
    return f"{entry.username}\n{entry.contact}".lower()


@dataclasses.dataclass(frozen=True)
class LogFilter:
    kinds: frozenset[Kind] = frozenset()  # empty: every kind
    device_id: str | None = None
    words: tuple[str, ...] = ()  # each in the device name, SIP username or contact

    @staticmethod
    def words_of(text: str) -> tuple[str, ...]:
        return tuple(text.lower().split())


class EventLogModel(QAbstractTableModel):
    """The session's log entries, oldest first; `add_entries` takes them in batches."""

    countsChanged = Signal(int, int)  # entries held, entries shown

    def __init__(
        self,
        device_name: Callable[[str | None], str] = _no_name,
        capacity: int = DEFAULT_CAPACITY,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._device_name = device_name
        self._capacity = max(1, capacity)
        self._entries: list[LogEntry] = []
        self._haystacks: list[str] = []  # of _entries, index for index
        self._base = 0  # the serial of _entries[0]
        self._shown: list[int] = []  # serials of the entries passing the filter, ascending
        self._filter = LogFilter()
        self._names: dict[str | None, str] = {}
        self._colours: dict[str, QColor] = {}
        self._counts = (0, 0)

    # ---- Qt model interface --------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Col)

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
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Col):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Col(section)]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._shown):
            return None
        entry = self.entry_at(index.row())
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(entry, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == Col.EVENT:
            return self._colour(KIND_TONES.get(entry.kind))
        if role == ENTRY_ROLE:
            return entry
        return None

    # ---- feeding -------------------------------------------------------------------------

    def add_entries(self, entries: Sequence[LogEntry]) -> None:
        """Append a batch (oldest first): one row insert for those the filter shows; the
        oldest beyond the capacity go once there are a tenth too many."""
        if not entries:
            return
        start = len(self._entries)
        self._entries.extend(entries)
        self._haystacks.extend(map(_haystack, entries))
        fresh = self._select(start)
        if fresh:
            first = len(self._shown)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._shown.extend(fresh)
            self.endInsertRows()
        if len(self._entries) > self._capacity + max(1, self._capacity // TRIM_SHARE):
            self._trim(len(self._entries) - self._capacity)
        self._emit_counts()

    def clear(self) -> None:
        """Forget every entry (the filter stays)."""
        self.beginResetModel()
        self._base += len(self._entries)
        self._entries, self._haystacks, self._shown = [], [], []
        self.endResetModel()
        self._emit_counts()

    def refresh_names(self) -> None:
        """The device names changed: the Device column (and a text filter) reads them again."""
        self._names.clear()
        if self._filter.words:
            self._refilter()
        if self._shown:
            last = len(self._shown) - 1
            self.dataChanged.emit(self.index(0, Col.DEVICE), self.index(last, Col.DEVICE))

    # ---- filters -------------------------------------------------------------------------

    def set_kinds(self, kinds: Iterable[Kind]) -> None:
        """Show only these kinds (none: all)."""
        self._set_filter(kinds=frozenset(kinds))

    def set_device(self, device_id: str | None) -> None:
        """Show only this device's entries (None: every device's)."""
        self._set_filter(device_id=device_id)

    def set_text(self, text: str) -> None:
        """Show the entries whose device name, SIP username or contact hold every word of
        `text` (case-insensitive)."""
        self._set_filter(words=LogFilter.words_of(text))

    def log_filter(self) -> LogFilter:
        return self._filter

    # ---- reading -------------------------------------------------------------------------

    def entries(self) -> list[LogEntry]:
        """Every entry held, shown or not, oldest first."""
        return list(self._entries)

    def entry_at(self, row: int) -> LogEntry:
        return self._entries[self._shown[row] - self._base]

    def total_count(self) -> int:
        return len(self._entries)

    def device_name(self, device_id: str | None) -> str:
        """The resolver's name for the device (cached until `refresh_names`)."""
        name = self._names.get(device_id)
        if name is None:
            name = self._names[device_id] = self._device_name(device_id)
        return name

    def csv_header(self) -> list[str]:
        return [HEADERS[c] for c in Col]

    def csv_rows(self) -> Iterator[list[str]]:
        """The shown rows as the view shows them, but the time in full (`iso_time`): copied
        now, formatted as they are read (by the export, off the UI thread)."""
        base, entries = self._base, self._entries
        shown = [entries[serial - base] for serial in self._shown]
        names = {d: self.device_name(d) for d in {e.device_id for e in shown}}
        return (csv_row(entry, names[entry.device_id]) for entry in shown)

    # ---- cells ---------------------------------------------------------------------------

    def _display(self, entry: LogEntry, column: int) -> str:
        return cell_text(entry, column, self.device_name(entry.device_id))

    def _tooltip(self, entry: LogEntry, column: int) -> str | None:
        if column == Col.TIME:
            return iso_time(entry.at)
        if column == Col.DEVICE and entry.device_id:
            return f"{self._display(entry, column)}\nid {entry.device_id}"
        if column in (Col.CONTACT, Col.USER_AGENT, Col.DETAIL):
            return self._display(entry, column) or None  # long: the cell may elide them
        return None

    def _colour(self, tone_name: str | None) -> QColor | None:
        if tone_name is None:
            return None
        value = tone(tone_name)  # follows the palette of the moment
        colour = self._colours.get(value)
        if colour is None:
            colour = self._colours[value] = QColor(value)
        return colour

    # ---- inside --------------------------------------------------------------------------

    def _select(self, start: int) -> list[int]:
        """The serials of the entries from position `start` on that pass the filter."""
        entries, haystacks, wanted = self._entries, self._haystacks, self._filter
        at: Sequence[int] = range(start, len(entries))
        if wanted.kinds:
            at = [i for i in at if entries[i].kind in wanted.kinds]
        if wanted.device_id is not None:
            at = [i for i in at if entries[i].device_id == wanted.device_id]
        for word in wanted.words:
            # a name is looked at once per device, not once per entry
            devices = {entries[i].device_id for i in at}
            named = {d for d in devices if word in self.device_name(d).lower()}
            at = [i for i in at if word in haystacks[i] or entries[i].device_id in named]
        base = self._base
        return [base + i for i in at]

    def _set_filter(self, **changes: Any) -> None:
        new = dataclasses.replace(self._filter, **changes)
        if new != self._filter:
            self._filter = new
            self._refilter()

    def _refilter(self) -> None:
        """Show what the filter passes now, as one layout change: persistent indexes (the
        selection, the current row) follow their entries, or go if these are hidden."""
        shown = self._select(0)
        if shown != self._shown:
            self.layoutAboutToBeChanged.emit()
            before = self.persistentIndexList()
            serials = [self._shown[i.row()] for i in before]
            self._shown = shown
            after = [self._index_of(s, i.column()) for s, i in zip(serials, before, strict=True)]
            self.changePersistentIndexList(before, after)
            self.layoutChanged.emit()
        self._emit_counts()

    def _index_of(self, serial: int, column: int) -> QModelIndex:
        row = bisect_left(self._shown, serial)
        if row < len(self._shown) and self._shown[row] == serial:
            return self.index(row, column)
        return QModelIndex()

    def _trim(self, count: int) -> None:
        base = self._base + count
        gone = bisect_left(self._shown, base)  # the shown among the trimmed: the top rows
        if gone:
            self.beginRemoveRows(QModelIndex(), 0, gone - 1)
        del self._entries[:count]
        del self._haystacks[:count]
        del self._shown[:gone]
        self._base = base
        if gone:
            self.endRemoveRows()

    def _emit_counts(self) -> None:
        counts = (len(self._entries), len(self._shown))
        if counts != self._counts:
            self._counts = counts
            self.countsChanged.emit(*counts)


# ---- CSV -------------------------------------------------------------------------------------


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Write a CSV file Excel opens as UTF-8 (with a BOM), all at once or not at all: the rows
    go to a temporary file beside `path`, which then replaces it."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8-sig", errors="replace", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            writer.writerows(rows)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def default_export_path() -> Path:
    """kazoodesk-events-YYYYMMDD-HHMMSS.csv in the user's documents (or home) folder."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    folder = Path(documents) if documents and Path(documents).is_dir() else Path.home()
    return folder / datetime.now().strftime("kazoodesk-events-%Y%m%d-%H%M%S.csv")


# ---- the panel -------------------------------------------------------------------------------


class _KindMenu(QMenu):
    """A menu of checkable kinds that stays open while they are ticked with the mouse."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        action = self.activeAction()
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            return
        super().mouseReleaseEvent(event)


class _MenuButton(QToolButton):
    """A tool button with room for its menu arrow, which Fusion draws over the text."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        arrow = self.style().pixelMetric(QStyle.PixelMetric.PM_MenuButtonIndicator, None, self)
        return QSize(hint.width() + arrow, hint.height())


class EventLogPanel(QWidget):
    """The event log with its filters, count and export; `model` is fed by the app."""

    def __init__(
        self,
        device_name: Callable[[str | None], str] = _no_name,
        parent: QWidget | None = None,
        model: EventLogModel | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model or EventLogModel(device_name, parent=self)
        self._following = True  # the table shows the newest entries and keeps showing them
        self._scrolled_from: int | None = None

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("log.filter")
        self.filter_edit.setAccessibleName("Filter events")
        self.filter_edit.setPlaceholderText("Filter by device, username or contact")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMinimumWidth(220)

        self.kinds_button = _MenuButton(self)
        self.kinds_button.setObjectName("log.kinds")
        self.kinds_button.setAccessibleName("Event kinds")
        self.kinds_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.kinds_menu = _KindMenu(self.kinds_button)
        self._kind_actions = self._fill_kinds_menu()
        self.kinds_button.setMenu(self.kinds_menu)

        self.device_button = QToolButton(self)
        self.device_button.setObjectName("log.device")
        self.device_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.device_button.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_LineEditClearButton)
        )
        self.device_button.setToolTip("Show the events of every device")
        self.device_button.hide()

        self.count_label = QLabel(self)
        self.count_label.setObjectName("log.count")
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.setObjectName("log.clear")
        self.clear_button.setToolTip("Forget the events logged so far")
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setObjectName("log.export")
        self.export_button.setToolTip("Save the events shown to a CSV file")

        self.table = QTableView(self)
        self.table.setObjectName("log.table")
        self.table.setAccessibleName("Registration events")
        self._setup_table()
        self._lay_out()
        self._connect()
        self._update_kinds_button()
        self._update_counts(self.model.total_count(), self.model.rowCount())

    # ---- public API ----------------------------------------------------------------------

    def set_device_filter(self, device_id: str | None) -> None:
        """Show only this device's entries (None: every device's)."""
        self.model.set_device(device_id)
        self._update_device_button()

    def refresh_names(self) -> None:
        """The device names changed."""
        self.model.refresh_names()
        self._update_device_button()

    def is_following(self) -> bool:
        """Whether the table stays on the newest entries as they arrive."""
        return self._following

    def scroll_to_newest(self) -> None:
        self._following = True
        self.table.scrollToBottom()

    async def export_csv(self, path: Path | None = None) -> Path | None:
        """Save the rows shown, as shown (the time in full), to `path` or, when None, to a
        file the user picks. The path written, or None when cancelled or failed (said)."""
        if path is None:
            path = await self._ask_path()
            if path is None:
                return None
        header, rows = self.model.csv_header(), self.model.csv_rows()
        try:
            await asyncio.get_running_loop().run_in_executor(None, write_csv, path, header, rows)
        except OSError as error:
            reason = error.strerror or str(error)
            text = f"The events could not be saved to {path}:\n{reason}."
            await inform(self, EXPORT_TITLE, text, error=True)
            return None
        return path

    # ---- construction --------------------------------------------------------------------

    def _fill_kinds_menu(self) -> dict[Kind, Any]:
        every = self.kinds_menu.addAction("Show all kinds")
        every.triggered.connect(self._show_all_kinds)
        self.kinds_menu.addSeparator()
        actions = {}
        for kind in Kind:
            action = self.kinds_menu.addAction(kind.value)
            action.setCheckable(True)
            action.toggled.connect(self._kinds_chosen)
            actions[kind] = action
        return actions

    def _setup_table(self) -> None:
        table = self.table
        table.setModel(self.model)
        show_rows(table, row_padding=8)
        table.setShowGrid(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in self._default_widths().items():
            header.resizeSection(column, width)

    def _default_widths(self) -> dict[Col, int]:
        metrics = QFontMetrics(self.table.font())

        def fit(sample: str) -> int:
            return metrics.horizontalAdvance(sample) + 20

        return {
            Col.TIME: fit("00:00:00"),
            Col.EVENT: fit(Kind.AUTH_FAILED.value),
            Col.DEVICE: fit("Olivia's Desk – Grandstream"),
            Col.USERNAME: fit("user_xxxxxxxx"),
            Col.CONTACT: fit("sip:user_xxxxxxxx@192.0.2.184:5060"),
            Col.USER_AGENT: fit("Yealink SIP-T46S 66.86.0.15"),
            Col.SOURCE: fit("192.0.2.184:50600"),
        }

    def _lay_out(self) -> None:
        tools = QHBoxLayout()
        tools.addWidget(self.filter_edit, 1)
        tools.addWidget(self.kinds_button)
        tools.addWidget(self.device_button)
        tools.addStretch(1)
        tools.addWidget(self.count_label)
        tools.addSpacing(8)
        tools.addWidget(self.clear_button)
        tools.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(tools)
        layout.addWidget(self.table, 1)

    def _connect(self) -> None:
        self.filter_edit.textChanged.connect(self.model.set_text)
        self.device_button.clicked.connect(lambda: self.set_device_filter(None))
        self.clear_button.clicked.connect(self.model.clear)
        self.export_button.clicked.connect(lambda: spawn(self.export_csv()))
        model = self.model
        model.countsChanged.connect(self._update_counts)
        model.rowsAboutToBeRemoved.connect(self._rows_leaving)
        model.rowsRemoved.connect(self._rows_left)
        model.layoutChanged.connect(self._refiltered)
        model.modelReset.connect(self.scroll_to_newest)
        bar = self.table.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)

    # ---- following the newest ------------------------------------------------------------

    def _scrolled(self, value: int) -> None:
        self._following = value >= self.table.verticalScrollBar().maximum()

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        # rows came (or the view was resized): the range grows under a value left behind
        if self._following:
            self.table.verticalScrollBar().setValue(maximum)

    def _rows_leaving(self, _parent: QModelIndex, first: int, _last: int) -> None:
        bar = self.table.verticalScrollBar()
        self._scrolled_from = bar.value() if first == 0 and not self._following else None

    def _rows_left(self, _parent: QModelIndex, first: int, last: int) -> None:
        # the oldest rows were trimmed above the user's place: keep the same entries in view
        if self._scrolled_from is None:
            return
        height = self.table.verticalHeader().defaultSectionSize()
        value = max(0, self._scrolled_from - (last - first + 1) * height)
        self._scrolled_from = None
        self.table.verticalScrollBar().setValue(value)

    def _refiltered(self) -> None:
        """After a filter change: the selected entry stays in sight, else the newest."""
        current = self.table.currentIndex()
        if current.isValid() and self.table.selectionModel().isSelected(current):
            self.table.doItemsLayout()  # the scroll range of the new rows, before scrolling
            self.table.scrollTo(current, QAbstractItemView.ScrollHint.PositionAtCenter)
        else:
            self.scroll_to_newest()

    # ---- filters -------------------------------------------------------------------------

    def _kinds_chosen(self) -> None:
        kinds = [k for k, action in self._kind_actions.items() if action.isChecked()]
        self.model.set_kinds(kinds)
        self._update_kinds_button()

    def _show_all_kinds(self) -> None:
        for action in self._kind_actions.values():
            action.blockSignals(True)
            action.setChecked(False)
            action.blockSignals(False)
        self._kinds_chosen()

    def _update_kinds_button(self) -> None:
        kinds = self.model.log_filter().kinds
        if not kinds:
            text = "All kinds"
        elif len(kinds) == 1:
            value = next(iter(kinds)).value
            text = value[:1].upper() + value[1:]  # not capitalize(): NOTIFY stays upper case
        else:
            text = f"{len(kinds)} kinds"
        self.kinds_button.setText(text)
        shown = ", ".join(k.value for k in Kind if k in kinds) or "every kind"
        self.kinds_button.setToolTip(f"Events shown: {shown}")

    def _update_device_button(self) -> None:
        device_id = self.model.log_filter().device_id
        self.device_button.setVisible(device_id is not None)
        if device_id is not None:
            name = self.model.device_name(device_id) or device_id
            self.device_button.setText(f"Device: {name}")

    def _update_counts(self, total: int, shown: int) -> None:
        events = f"{total:,} event" + ("" if total == 1 else "s")
        self.count_label.setText(events if shown == total else f"{shown:,} of {events}")

    # ---- export --------------------------------------------------------------------------

    async def _ask_path(self) -> Path | None:
        """A file to save to, asked without a nested event loop (an existing one is replaced
        only once the user agrees)."""
        while True:
            dialog = self._file_dialog()
            accepted = await run_dialog(dialog) == QDialog.DialogCode.Accepted
            files = dialog.selectedFiles() if accepted else []
            ours_to_ask = dialog.testOption(QFileDialog.Option.DontConfirmOverwrite)
            dialog.deleteLater()
            if not files:
                return None
            path = Path(files[0])
            if not ours_to_ask or not path.exists():
                return path
            question = f"{path.name} already exists. Replace it?"
            if await confirm(self, EXPORT_TITLE, question, "Replace"):
                return path

    def _file_dialog(self) -> QFileDialog:
        default = default_export_path()
        dialog = QFileDialog(self, EXPORT_TITLE)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setNameFilters(["CSV files (*.csv)", "All files (*)"])
        dialog.setDefaultSuffix("csv")
        dialog.setDirectory(str(default.parent))
        dialog.selectFile(default.name)
        if sys.platform != "darwin":  # macOS's save panel asks itself, always
            # Qt's own dialog would ask in a nested event loop: we ask, awaited
            dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, True)
        return dialog
