"""`DeviceListView`: search box, filter combos, the device table and its counts.

Layout and signals only; loading rows and acting on devices belong to whoever owns the view
(it feeds `view.model`, answers `ownerFilterChanged` with /users/{U}/devices, and reacts to
`editRequested`, `selectionChangedIds` and `contextMenuRequestedIds`).

Selection is kept by device id: rows a filter hides drop out of the selection (actions never
touch what the user cannot see) and come back selected when the filter shows them again, as
long as the user has not picked something else meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    QSettings,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFontDatabase, QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.ui.devices.device_icons import status_icon, type_icon
from kazoodesk.ui.devices.device_records import UNASSIGNED, Column
from kazoodesk.ui.devices.device_table_model import DeviceTableModel
from kazoodesk.ui.devices.device_types import DEVICE_TYPES, STATUS_LABELS, Status, type_label
from kazoodesk.ui.tables import show_rows

_SAVE_DELAY_MS = 400
_ANY = None  # combo data of "no filter"
_STATUS_CHOICES = (
    Status.REGISTERED,
    Status.UNREGISTERED,
    Status.NOT_REGISTRABLE,
    Status.DISABLED,
    Status.UNKNOWN,
)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


class DeviceListView(QWidget):
    """The device list of one account. `settings_key` names its QSettings group (column
    widths, sort), restored on construction."""

    editRequested = Signal(str)  # device id; double click or Enter
    selectionChangedIds = Signal(list)  # ids of the selected rows, in display order
    contextMenuRequestedIds = Signal(list, QPoint)  # selected ids, global position
    ownerFilterChanged = Signal(object)  # user id, UNASSIGNED or None: load its hotdesks

    def __init__(
        self,
        settings_key: str,
        parent: QWidget | None = None,
        model: DeviceTableModel | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings_key = settings_key
        self.model = model or DeviceTableModel(self)
        self._sticky: list[str] = []  # the ids the user selected, shown or not
        self._last_emitted: list[str] = []
        self._relayout = False  # a model layout change / reset is under way
        self._restoring = False  # we are reselecting sticky ids
        self._loading = False
        self._known_types: tuple[str, ...] = ()

        self.search = QLineEdit(self)
        self.search.setObjectName("deviceSearch")
        self.search.setAccessibleName("Search devices")
        self.search.setPlaceholderText("Search name, type, SIP username, MAC, owner…")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(180)
        self.search.installEventFilter(self)

        self.type_combo = self._combo("deviceTypeFilter", "Device type")
        self.owner_combo = self._combo("deviceOwnerFilter", "Owner")
        self.enabled_combo = self._combo("deviceEnabledFilter", "Enabled")
        self.status_combo = self._combo("deviceStatusFilter", "Registration status")
        self._fill_static_combos()

        self.table = QTableView(self)
        self.table.setObjectName("deviceTable")
        self.table.setAccessibleName("Devices")
        self._setup_table()

        self.count_label = QLabel(self)
        self.count_label.setObjectName("deviceCount")
        self.loading_bar = QProgressBar(self)
        self.loading_bar.setRange(0, 0)
        self.loading_bar.setMaximumWidth(90)
        self.loading_bar.setMaximumHeight(12)
        self.loading_bar.setTextVisible(False)
        self.loading_label = QLabel(self)
        self.loading_label.setObjectName("deviceLoading")
        self.loading_bar.hide()
        self.loading_label.hide()

        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        for combo in (self.type_combo, self.owner_combo, self.enabled_combo, self.status_combo):
            filters.addWidget(combo)
        footer = QHBoxLayout()
        footer.addWidget(self.count_label)
        footer.addStretch(1)
        footer.addWidget(self.loading_label)
        footer.addWidget(self.loading_bar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.setSpacing(4)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(footer)

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(_SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_state)

        self._connect()
        self._refresh_owner_combo()
        self._refresh_type_combo()
        self._update_counts(self.model.total_count(), self.model.rowCount())
        self.restore_state()

    # ---- public API ----------------------------------------------------------------------------

    def selected_ids(self) -> list[str]:
        """Ids of the selected (and shown) devices, top to bottom."""
        return self.model.ids_at(self._selected_rows())

    def select_ids(self, ids: Iterable[str]) -> None:
        """Select these devices (those hidden now get selected when a filter shows them) and
        bring the first shown one into view."""
        self._sticky = list(dict.fromkeys(ids))
        self._restoring = True
        try:
            self.table.selectionModel().clearSelection()
            self._select_sticky(make_current=True)
        finally:
            self._restoring = False
        self._emit_selection()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def set_loading(self, loading: bool, text: str = "") -> None:
        """Show or hide the busy indicator with a line such as 'Loading devices… 12,500'; a
        text given with loading=False stays (an error such as 'Could not load the devices')."""
        self._loading = loading
        self.loading_bar.setVisible(loading)
        self.loading_label.setVisible(bool(text))
        self.loading_label.setText(text)
        self._update_counts(self.model.total_count(), self.model.rowCount())

    def set_users(self, users: Iterable[Mapping[str, Any]]) -> None:
        """The account's users: owner names in the table, entries of the owner filter."""
        self.model.set_users(users)

    def set_owner_filter(
        self, user_id: str | None, device_ids_with_hotdesk_flag: dict[str, bool] | None = None
    ) -> None:
        """Filter by owner as the owner combo does, without emitting `ownerFilterChanged`;
        the loader calls it with the answer of /users/{U}/devices (see `hotdesk_flags`)."""
        at = self.owner_combo.findData(user_id)
        if at < 0:
            # the loader knows this user before set_users lists it
            self.owner_combo.addItem(self.model.owner_name(user_id or "") or str(user_id), user_id)
            at = self.owner_combo.count() - 1
        self.owner_combo.blockSignals(True)
        self.owner_combo.setCurrentIndex(at)
        self.owner_combo.blockSignals(False)
        self.model.set_owner_filter(user_id, device_ids_with_hotdesk_flag)

    def owner_filter(self) -> str | None:
        """The owner the list is filtered by (a user id, UNASSIGNED), or None."""
        data = self.owner_combo.currentData()
        return data if isinstance(data, str) else None

    def save_state(self) -> None:
        header = self.table.horizontalHeader()
        settings = QSettings()
        settings.beginGroup(self._settings_key)
        widths = [header.sectionSize(c) for c in range(header.count())]
        settings.setValue("columnWidths", ",".join(str(w) for w in widths))
        settings.setValue("sortColumn", self.model.sort_column())
        descending = self.model.sort_order() == Qt.SortOrder.DescendingOrder
        settings.setValue("sortOrder", "descending" if descending else "ascending")
        settings.endGroup()

    def restore_state(self) -> None:
        settings = QSettings()
        settings.beginGroup(self._settings_key)
        widths = str(settings.value("columnWidths", "") or "")
        column = _int(settings.value("sortColumn"), self.model.sort_column())
        descending = str(settings.value("sortOrder", "")) == "descending"
        settings.endGroup()
        header = self.table.horizontalHeader()
        sizes = [_int(w, 0) for w in widths.split(",")] if widths else []
        if len(sizes) == header.count():
            for section, size in enumerate(sizes):
                if size > 0:
                    header.resizeSection(section, size)
        if 0 <= column < len(Column):
            order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
            self.table.sortByColumn(column, order)
        self._save_timer.stop()

    # ---- construction --------------------------------------------------------------------------

    def _combo(self, name: str, title: str) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.setAccessibleName(title)
        combo.setToolTip(title)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        return combo

    def _fill_static_combos(self) -> None:
        self.enabled_combo.addItem("Enabled and disabled", _ANY)
        self.enabled_combo.addItem("Enabled only", True)
        self.enabled_combo.addItem("Disabled only", False)
        self.status_combo.addItem("Any status", _ANY)
        for status in _STATUS_CHOICES:
            self.status_combo.addItem(status_icon(status), STATUS_LABELS[status], int(status))

    def _setup_table(self) -> None:
        table = self.table
        table.setModel(self.model)
        show_rows(table, row_padding=10)
        table.setShowGrid(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setIconSize(QSize(16, 16))
        table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.installEventFilter(self)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSortIndicator(self.model.sort_column(), self.model.sort_order())
        for column, width in self._default_widths().items():
            header.resizeSection(column, width)
        table.setSortingEnabled(True)

    def _default_widths(self) -> dict[Column, int]:
        text = QFontMetrics(self.table.font())
        mono = QFontMetrics(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        icon = 16 + 14  # icon, its gap and the cell's margins

        def fit(sample: str, extra: int = 0) -> int:
            return text.horizontalAdvance(sample) + 22 + extra

        return {
            Column.STATUS: fit("Not registrable", icon),
            Column.NAME: fit("Olivia's Desk – Grandstream GXP2170"),
            Column.TYPE: fit("Application", icon),
            Column.USERNAME: fit("user_xxxxxxxx"),
            Column.MAC: mono.horizontalAdvance("aa:bb:cc:dd:ee:ff") + 24,
            Column.OWNER: fit("Bob Martinez (hotdesk)", 20),
            Column.ENABLED: fit("Disabled"),
        }

    def _connect(self) -> None:
        self.search.textChanged.connect(self.model.set_search)
        self.type_combo.currentIndexChanged.connect(self._type_chosen)
        self.owner_combo.currentIndexChanged.connect(self._owner_chosen)
        self.enabled_combo.currentIndexChanged.connect(self._enabled_chosen)
        self.status_combo.currentIndexChanged.connect(self._status_chosen)
        model = self.model
        model.countsChanged.connect(self._update_counts)
        model.countsChanged.connect(self._refresh_type_combo)
        model.usersChanged.connect(self._refresh_owner_combo)
        # connected after setModel: the selection model has moved its indexes when these run
        model.layoutAboutToBeChanged.connect(self._model_changing)
        model.modelAboutToBeReset.connect(self._model_changing)
        model.layoutChanged.connect(self._model_changed)
        model.modelReset.connect(self._model_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(self._double_clicked)
        self.table.customContextMenuRequested.connect(self._context_menu)
        header = self.table.horizontalHeader()
        header.sectionResized.connect(self._schedule_save)
        header.sortIndicatorChanged.connect(self._schedule_save)

    # ---- filters -------------------------------------------------------------------------------

    def _refresh_type_combo(self) -> None:
        present = tuple(t for t in self.model.device_types() if t not in DEVICE_TYPES)
        types = (*DEVICE_TYPES, *present)
        if types == self._known_types:
            return
        self._known_types = types
        current = self.type_combo.currentData()
        self.type_combo.blockSignals(True)
        self.type_combo.clear()
        self.type_combo.addItem("All types", _ANY)
        for device_type in types:
            self.type_combo.addItem(type_icon(device_type), type_label(device_type), device_type)
        self.type_combo.setCurrentIndex(max(0, self.type_combo.findData(current)))
        self.type_combo.blockSignals(False)

    def _refresh_owner_combo(self) -> None:
        current = self.owner_combo.currentData()
        self.owner_combo.blockSignals(True)
        self.owner_combo.clear()
        self.owner_combo.addItem("All owners", _ANY)
        self.owner_combo.addItem("Unassigned", UNASSIGNED)
        users = self.model.users()
        if users:
            self.owner_combo.insertSeparator(self.owner_combo.count())
        for user_id, name in users:
            self.owner_combo.addItem(name, user_id)
        at = self.owner_combo.findData(current)
        if at < 0 and isinstance(current, str):
            self.owner_combo.addItem(current, current)
            at = self.owner_combo.count() - 1
        self.owner_combo.setCurrentIndex(max(0, at))
        self.owner_combo.blockSignals(False)

    def _type_chosen(self) -> None:
        chosen = self.type_combo.currentData()
        self.model.set_type_filter(None if chosen is None else {chosen})

    def _owner_chosen(self) -> None:
        user_id = self.owner_filter()
        self.model.set_owner_filter(user_id, None)
        self.ownerFilterChanged.emit(user_id)

    def _enabled_chosen(self) -> None:
        chosen = self.enabled_combo.currentData()
        self.model.set_enabled_filter(chosen if isinstance(chosen, bool) else None)

    def _status_chosen(self) -> None:
        chosen = self.status_combo.currentData()
        self.model.set_status_filter(None if chosen is None else {Status(chosen)})

    def _update_counts(self, total: int, shown: int) -> None:
        if total == 0:
            text = "Loading devices…" if self._loading else "No devices"
        elif shown == total:
            text = _plural(total, "device")
        else:
            text = f"{_plural(total, 'device')} · {shown:,} shown"
        self.count_label.setText(text)

    # ---- selection -----------------------------------------------------------------------------

    def _model_changing(self) -> None:
        self._relayout = True

    def _model_changed(self) -> None:
        self._relayout = False
        if len(self._sticky) > len(self._selected_rows()):
            self._restoring = True
            try:
                self._select_sticky(make_current=False)
            finally:
                self._restoring = False
        self._emit_selection()

    def _selection_changed(self) -> None:
        if self._relayout:
            return
        if not self._restoring:
            self._sticky = self.selected_ids()
        self._emit_selection()

    def _selected_rows(self) -> list[int]:
        # from the ranges: selectedRows() would wrap an index per row, slow for thousands
        rows: set[int] = set()
        selection = self.table.selectionModel().selection()
        for at in range(selection.count()):
            selected = selection.at(at)
            rows.update(range(selected.top(), selected.bottom() + 1))
        return sorted(rows)

    def _select_sticky(self, make_current: bool) -> None:
        """Select the shown sticky ids that are not selected (rows in contiguous ranges)."""
        selection_model = self.table.selectionModel()
        selected = set(self._selected_rows())
        rows = [r for r in self.model.rows_for_ids(self._sticky) if r not in selected]
        if not rows:
            return
        selection = QItemSelection()
        last_column = self.model.columnCount() - 1
        start = previous = rows[0]
        for row in (*rows[1:], None):
            if row is not None and row == previous + 1:
                previous = row
                continue
            selection.select(self.model.index(start, 0), self.model.index(previous, last_column))
            if row is not None:
                start = previous = row
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        selection_model.select(selection, flags)
        current = selection_model.currentIndex()
        if make_current or not current.isValid():
            first = self.model.row_for_id(self._sticky[0])
            target = self.model.index(first if first >= 0 else rows[0], Column.NAME)
            selection_model.setCurrentIndex(target, QItemSelectionModel.SelectionFlag.NoUpdate)
            if make_current:
                self.table.scrollTo(target)

    def _emit_selection(self) -> None:
        ids = self.selected_ids()
        if ids != self._last_emitted:
            self._last_emitted = ids
            self.selectionChangedIds.emit(ids)

    # ---- events --------------------------------------------------------------------------------

    def _double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.editRequested.emit(self.model.device_id(index))

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        selection_model = self.table.selectionModel()
        if index.isValid() and not selection_model.isRowSelected(index.row(), QModelIndex()):
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            selection_model.setCurrentIndex(index, flags)
        global_pos = self.table.viewport().mapToGlobal(pos)
        self.contextMenuRequestedIds.emit(self.selected_ids(), global_pos)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if watched is self.table and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                current = self.table.currentIndex()
                if current.isValid():
                    self.editRequested.emit(self.model.device_id(current))
                    return True
            if watched is self.search:
                if key == Qt.Key.Key_Escape and self.search.text():
                    self.search.clear()
                    return True
                if key == Qt.Key.Key_Down and self.model.rowCount() > 0:
                    self.table.setFocus(Qt.FocusReason.OtherFocusReason)
                    if not self.selected_ids():
                        current = self.table.currentIndex()
                        self.table.selectRow(current.row() if current.isValid() else 0)
                    return True
        return super().eventFilter(watched, event)

    def _schedule_save(self) -> None:
        self._save_timer.start()


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
