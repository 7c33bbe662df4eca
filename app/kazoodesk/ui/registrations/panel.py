"""The registration panel: where the feed comes from, the live table, its actions, the chart.

Layout and signals only: the `LiveRegistrations` controller feeds the model and the chart and
carries out the actions (`actionRequested` with the device ids of the selected rows).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QSpinBox,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.live.tracker import Key
from kazoodesk.ui.registrations.activity_chart import ActivityChart
from kazoodesk.ui.registrations.registration_model import Col, RegistrationTableModel
from kazoodesk.ui.tables import show_rows
from kazoodesk.ui.theme import SOURCE_TONES, tone

# name -> button text; the controller acts on them
ACTIONS = {
    "sync": "Sync",
    "reboot": "Reboot",
    "notify": "Send NOTIFY…",
    "flush": "Flush",
    "watch": "Watch",
    "events": "Events",
}
COLUMN_WIDTHS = {
    Col.DEVICE: 160,
    Col.USERNAME: 110,
    Col.OWNER: 120,
    Col.CONTACT: 150,
    Col.TRANSPORT: 70,
    Col.USER_AGENT: 200,
    Col.EXPIRES: 64,
    Col.SINCE: 116,
    Col.LAST_REFRESH: 116,
}


class RegistrationPanel(QWidget):
    actionRequested = Signal(str, list)  # action name, device ids
    deviceActivated = Signal(str)  # a row's device (double-click): open it in the editor
    pollIntervalChanged = Signal(int)  # seconds

    def __init__(self, model: RegistrationTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("registrations.panel")
        self.model = model
        self._source = ("offline", "")
        self.source_label = QLabel(self)
        self.source_label.setObjectName("registrations.source")
        self.search = QLineEdit(self)
        self.search.setObjectName("registrations.search")
        self.search.setPlaceholderText("Filter by device, username, owner, contact, user agent")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter_changed)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("registrations.count")
        self.poll_interval = QSpinBox(self)
        self.poll_interval.setObjectName("registrations.poll_interval")
        self.poll_interval.setAccessibleName("Polling interval")
        self.poll_interval.setRange(1, 600)
        self.poll_interval.setPrefix("every ")
        self.poll_interval.setSuffix(" s")
        self.poll_interval.setToolTip(
            "How often /registrations and /devices/status are read while the server sends no"
            " registration events"
        )
        self.poll_interval.valueChanged.connect(self.pollIntervalChanged)
        self.table = self._build_table()
        self.chart = ActivityChart(self)
        self.actions_by_name = self._build_actions()
        self.top = top = QHBoxLayout()
        top.addWidget(self.source_label)
        top.addWidget(self.poll_interval)
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        buttons = QHBoxLayout()
        for action in self.actions_by_name.values():
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            buttons.addWidget(button)
        buttons.addStretch(1)
        upper = QWidget(self)
        column = QVBoxLayout(upper)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(top)
        column.addWidget(self.table, 1)
        column.addLayout(buttons)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("registrations.splitter")
        self.splitter.addWidget(upper)
        self.splitter.addWidget(self.chart)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset, model.dataChanged):
            signal.connect(self._update_count)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.set_source("offline", "not connected")
        self._update_count()
        self._selection_changed()

    def _build_table(self) -> QTableView:
        table = QTableView(self)
        table.setObjectName("registrations.table")
        table.setModel(self.model)
        table.setSortingEnabled(True)
        table.sortByColumn(Col.DEVICE, Qt.SortOrder.AscendingOrder)
        show_rows(table, row_padding=8)
        header = table.horizontalHeader()
        for column, width in COLUMN_WIDTHS.items():
            table.setColumnWidth(column, width)
        header.setSectionResizeMode(Col.USER_AGENT, QHeaderView.ResizeMode.Stretch)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._context_menu)
        table.doubleClicked.connect(self._activated)
        return table

    def _build_actions(self) -> dict[str, QAction]:
        actions = {}
        for name, text in ACTIONS.items():
            action = QAction(text, self)
            action.setObjectName(f"registrations.{name}")
            action.triggered.connect(lambda _=False, n=name: self._request(n))
            actions[name] = action
        watch = actions["watch"]
        watch.setToolTip("Notify me when the selected devices go offline")
        actions["flush"].setToolTip("End the selected devices' registrations on the server")
        actions["events"].setToolTip("Show the selected device's events in the event log")
        return actions

    def add_tool(self, action: QAction) -> None:
        """A button for `action` at the end of the top row (e.g. "Connect a phone…")."""
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.top.addWidget(button)

    # ---- reading ---------------------------------------------------------------------------

    def selected_keys(self) -> list[Key]:
        rows = self.table.selectionModel().selectedRows()
        return [self.model.key_at(index.row()) for index in rows]

    def selected_device_ids(self) -> list[str]:
        """The devices of the selected rows, each once, in the order shown."""
        ids: list[str] = []
        for key in self.selected_keys():
            registration = self.model.shown.get(key)
            device_id = registration.device_id if registration else None
            if device_id and device_id not in ids:
                ids.append(device_id)
        return ids

    def select_device(self, device_id: str) -> None:
        """Select the rows of `device_id` (and show the first)."""
        selection = self.table.selectionModel()
        selection.clear()
        first: QModelIndex | None = None
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        for registration in self.model.tracker.of_device(device_id):
            row = self.model.row_of(registration.key)
            if row is None:
                continue
            index = self.model.index(row, 0)
            selection.select(index, flags)
            first = first or index
        if first is not None:
            self.table.scrollTo(first)

    # ---- showing ---------------------------------------------------------------------------

    def set_source(self, source: str, detail: str = "") -> None:
        """`source`: live, polling or offline (kazoodesk.live.feed.Source)."""
        self._source = (source, detail)
        self.poll_interval.setVisible(source != "live")
        text = f"● {source.capitalize()}"
        self.source_label.setText(text)
        self.source_label.setToolTip(f"{text} — {detail}" if detail else text)
        self._apply_colours()

    def set_watched(self, watched: bool) -> None:
        self.actions_by_name["watch"].setText("Unwatch" if watched else "Watch")

    def _apply_colours(self) -> None:
        colour = tone(SOURCE_TONES[self._source[0]], self.palette())
        self.source_label.setStyleSheet(f"color: {colour}; font-weight: bold; padding: 0 6px;")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colours()

    def _update_count(self) -> None:
        total, shown = self.model.total_count(), self.model.rowCount()
        word = "registration" if total == 1 else "registrations"
        self.count_label.setText(
            f"{total:,} {word}" if shown == total else f"{shown:,} of {total:,} {word}"
        )

    def _filter_changed(self, text: str) -> None:
        self.model.set_text(text)
        self._update_count()

    def _selection_changed(self) -> None:
        any_device = bool(self.selected_device_ids())
        for action in self.actions_by_name.values():
            action.setEnabled(any_device)

    def _request(self, name: str) -> None:
        ids = self.selected_device_ids()
        if ids:
            self.actionRequested.emit(name, ids)

    def _context_menu(self, position: QPoint) -> None:
        if not self.selected_device_ids():
            return
        menu = QMenu(self)
        menu.addActions(list(self.actions_by_name.values()))
        menu.popup(self.table.viewport().mapToGlobal(position))

    def _activated(self, index: QModelIndex) -> None:
        key = self.model.key_at(index.row())
        registration = self.model.shown.get(key)
        if registration is not None and registration.device_id:
            self.deviceActivated.emit(registration.device_id)

    # ---- state -----------------------------------------------------------------------------

    def save_state(self) -> None:
        settings = QSettings()
        settings.setValue("registrations/header", self.table.horizontalHeader().saveState())
        settings.setValue("registrations/splitter", self.splitter.saveState())

    def restore_state(self) -> None:
        settings = QSettings()
        header, splitter = (
            settings.value("registrations/header"),
            settings.value("registrations/splitter"),
        )
        if header is not None:
            self.table.horizontalHeader().restoreState(header)
        if splitter is None or not self.splitter.restoreState(splitter):
            self.splitter.setSizes([3000, 1000])  # the table three quarters, the chart the rest
