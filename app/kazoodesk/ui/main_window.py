"""The main window: account switcher, device list, editor, connection state.

The list's loading and its offline copy are the `DeviceListLoader`'s (kazoodesk.ui.device_loader),
which can show the cached list before anything else is imported or connected. What only a
connection needs (the Kazoo client, the schema registry, the editor, the device actions and
dialogs) is imported where it is first used, so this module costs little more than Qt and the
device list. That includes asyncio (~40 ms with what it imports): the app paints the window
before its event loop exists (see kazoodesk.ui.app), so the methods that need asyncio import it
themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QEvent, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kazoodesk.config import AppDirs
from kazoodesk.device_templates import AUTHN_BY_IP, NEW_DEVICE_TYPES, listing_row
from kazoodesk.list_cache import CacheKeys, ListCache, demo_keys, remote_keys
from kazoodesk.profiles import Profile, ProfileStore, store_secret
from kazoodesk.ui.device_loader import DeviceListLoader
from kazoodesk.ui.devices.device_list_view import DeviceListView
from kazoodesk.ui.tasks import spawn
from kazoodesk.ui.theme import SOURCE_TONES, tone

if TYPE_CHECKING:
    from kazoodesk.ui.connection import DemoServer
    from kazoodesk.ui.device_editor import DeviceEditor
    from kazoodesk.ui.registrations.live import LiveRegistrations
    from kazoodesk.ui.session import Session

# the tone of each ConnectionState value (kazoodesk.ui.session, imported once a session exists)
STATE_TONES = {
    "connecting": "pending",
    "connected": "ok",
    "reconnecting": "warning",
    "offline": "error",
}
WINDOW_STATE_VERSION = 1  # of saveState(): toolbars (and docks)


class MainWindow(QMainWindow):
    devicesLoaded = Signal(int)  # all pages are in the list (count)
    closed = Signal()

    def __init__(
        self,
        profiles: ProfileStore,
        demo: DemoServer | None = None,
        cache: ListCache | None = None,
        dirs: AppDirs | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("KazooDesk")
        self.profiles = profiles
        self.demo = demo
        self.dirs = dirs or AppDirs.default()
        self._connection_state = "offline"
        self._registration_source = "offline"
        self.editor: DeviceEditor | None = None
        # the registration panel, event log and their feed: made with the first session
        self.live: LiveRegistrations | None = None
        self.docks: dict[str, QDockWidget] = {}
        self._pending_editor: Callable[[], None] | None = None
        self._closing = False
        self.devices = DeviceListView("devices", self)
        self.devices.editRequested.connect(self._edit_requested)
        self.devices.contextMenuRequestedIds.connect(self._context_menu)
        self.devices.selectionChangedIds.connect(self._selection_changed)
        self.placeholder = QLabel("Connecting…", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.splitter = QSplitter(self)
        self.splitter.addWidget(self.devices)
        self.splitter.addWidget(self.placeholder)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.cache_notice = QLabel(self)
        self.cache_notice.setObjectName("list.cached")
        self.cache_notice.hide()
        self.loader = DeviceListLoader(self.devices, self.cache_notice, cache, self)
        self.loader.loaded.connect(self.devicesLoaded)
        self.loader.usersLoaded.connect(self._users_to_editor)
        self.loader.pageShown.connect(self._build_pending_editor)
        self.loader.problem.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.cache_notice)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.accounts = QComboBox(self)
        self.accounts.setObjectName("account.switcher")
        self.accounts.setAccessibleName("Account")
        self.accounts.setMinimumContentsLength(24)
        self.accounts.activated.connect(self._account_chosen)
        self.connection_label = QLabel(self)
        self.connection_label.setObjectName("connection.state")
        self.registrations_label = QLabel(self)
        self.registrations_label.setObjectName("registrations.state")
        self.statusBar().addPermanentWidget(self.registrations_label)
        self.statusBar().addPermanentWidget(self.connection_label)
        self._build_actions()
        self._show_connection("offline", "not connected")
        self._selection_changed([])
        self._restore_geometry()

    # ---- actions -----------------------------------------------------------------------------

    def _action(
        self, text: str, slot: Any, shortcut: QKeySequence.StandardKey | str | None = None
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName("action." + text.lower().rstrip(".…").replace(" ", "_"))
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.new_menu = QMenu("New device", self)
        for device_type, label in NEW_DEVICE_TYPES.items():
            action = self.new_menu.addAction(label)
            action.setObjectName(f"new.{device_type}")
            action.triggered.connect(lambda _=False, t=device_type: spawn(self.new_device(t)))
        self.new_menu.addSeparator()
        by_ip = self.new_menu.addAction("SIP device authenticating by IP…")
        by_ip.setObjectName(f"new.{AUTHN_BY_IP}")
        by_ip.triggered.connect(lambda _=False: spawn(self.new_device(AUTHN_BY_IP)))
        self.new_action = self._action("New", self._show_new_menu, QKeySequence.StandardKey.New)
        self.new_action.setMenu(self.new_menu)
        sel = self.devices.selected_ids
        self.edit_action = self._action("Edit", lambda: spawn(self.edit_selected()))
        self.duplicate_action = self._action(
            "Duplicate", lambda: spawn(_actions().duplicate(self, sel()))
        )
        self.delete_action = self._action(
            "Delete",
            lambda: spawn(_actions().delete(self, sel())),
            QKeySequence.StandardKey.Delete,
        )
        # Delete acts on the list only: in the editor the key belongs to the fields
        self.removeAction(self.delete_action)
        self.devices.table.addAction(self.delete_action)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.enable_action = self._action(
            "Enable", lambda: spawn(_actions().set_enabled(self, sel(), True))
        )
        self.disable_action = self._action(
            "Disable", lambda: spawn(_actions().set_enabled(self, sel(), False))
        )
        self.sync_action = self._action("Sync", lambda: spawn(_actions().sync(self, sel(), False)))
        self.reboot_action = self._action(
            "Reboot", lambda: spawn(_actions().sync(self, sel(), True))
        )
        self.notify_action = self._action(
            "Send NOTIFY…", lambda: spawn(_actions().notify(self, sel()))
        )
        self.quickcall_action = self._action(
            "Quickcall…", lambda: spawn(_actions().quickcall(self, sel()))
        )
        self.flush_action = self._action(
            "Flush registration", lambda: spawn(_actions().flush(self, sel()))
        )
        self.events_action = self._action("Show events", lambda: self._show_events(sel()))
        self.events_action.setToolTip("The selected device's registration events, in the log")
        self.watch_action = self._action("Watch", lambda: self._toggle_watch(sel()))
        self.watch_action.setToolTip("Notify me when the selected devices go offline")
        self.connect_phone_action = self._action(
            "Connect a phone…", lambda: spawn(self.connect_phone())
        )
        self.connect_phone_action.setEnabled(False)
        self.refresh_action = self._action(
            "Refresh", lambda: spawn(self.reload()), QKeySequence.StandardKey.Refresh
        )
        self._action("Find", self.devices.focus_search, QKeySequence.StandardKey.Find)
        self.connect_action = self._action("Connect…", lambda: spawn(self.connect_dialog()))
        self.demo_action = self._action("Open the demo", lambda: spawn(self.start_demo()))
        self.demo_action.setEnabled(self.demo is not None)
        quit_action = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        self._selection_actions = [
            self.edit_action,
            self.duplicate_action,
            self.delete_action,
            self.enable_action,
            self.disable_action,
            self.sync_action,
            self.reboot_action,
            self.notify_action,
            self.flush_action,
            self.quickcall_action,
            self.watch_action,
            self.events_action,
        ]
        self.toolbar = toolbar = self.addToolBar("Devices")
        toolbar.setObjectName("toolbar.devices")
        toolbar.setMovable(False)
        toolbar.addWidget(QLabel(" Account ", self))
        toolbar.addWidget(self.accounts)
        toolbar.addSeparator()
        toolbar.addAction(self.new_action)
        new_button = toolbar.widgetForAction(self.new_action)
        if isinstance(new_button, QToolButton):
            new_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        for action in self._selection_actions:
            if action not in (self.watch_action, self.events_action):
                toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.refresh_action)
        menu = self.menuBar()
        server_menu = menu.addMenu("&Server")
        server_menu.addActions([self.connect_action, self.demo_action])
        server_menu.addAction(self.connect_phone_action)
        server_menu.addSeparator()
        server_menu.addAction(quit_action)
        device_menu = menu.addMenu("&Devices")
        device_menu.addMenu(self.new_menu)
        device_menu.addActions([*self._selection_actions, self.refresh_action])
        self.view_menu = menu.addMenu("&View")
        help_menu = menu.addMenu("&Help")
        about = help_menu.addAction("About KazooDesk")
        about.setObjectName("action.about")
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(lambda _=False: spawn(self.about()))

    def _show_new_menu(self) -> None:
        button = self.toolbar.widgetForAction(self.new_action)
        self.new_menu.popup(button.mapToGlobal(QPoint(0, button.height())))

    def _selection_changed(self, ids: list[str]) -> None:
        connected = self.session is not None
        for action in self._selection_actions:
            action.setEnabled(connected and bool(ids))
        single = connected and len(ids) == 1
        for action in (
            self.edit_action,
            self.duplicate_action,
            self.quickcall_action,
            self.events_action,
        ):
            action.setEnabled(single)
        self.new_action.setEnabled(connected and self.editor is not None)
        watched = self.live is not None and bool(ids) and all(i in self.live.watched for i in ids)
        self.watch_action.setText("Unwatch" if watched else "Watch")

    def _context_menu(self, ids: list[str], position: QPoint) -> None:
        menu = QMenu(self)
        menu.addMenu(self.new_menu)
        menu.addSeparator()
        menu.addActions(self._selection_actions)
        menu.popup(position)

    # ---- connecting ------------------------------------------------------------------------

    def demo_cache_keys(self) -> CacheKeys:
        """Where the demo's list is cached: by the demo's `cache_name` (its store; the port
        changes every run), or one shared name."""
        return demo_keys(self.demo.cache_name if self.demo is not None else "demo")

    @staticmethod
    def profile_cache_keys(profile: Profile) -> CacheKeys:
        return remote_keys(profile.server, profile.secret_key)

    async def start_demo(self) -> bool:
        from kazoodesk.ui.connection import open_demo

        if self.demo is None:
            return False
        self._show_connection("connecting", "starting the demo server")
        try:
            session = await open_demo(self.demo)
        except Exception as exc:  # a start failure of any kind is shown, the window stays
            self._show_connection("offline", f"the demo did not start: {exc}")
            self.placeholder.setText(f"The demo server did not start:\n{exc}")
            self.loader.show_cached_state("the demo did not start")
            return False
        return await self.attach(session, self.demo_cache_keys())

    async def connect_remote(self, profile: Profile, secret: str) -> bool:
        from kazoodesk.ui.connection import open_remote, preload
        from kazoodesk.ui.dialogs.awaitable import inform

        self._show_connection("connecting", profile.server)
        await preload()  # the client's modules on a worker, not here
        from kazoodesk.kazoo import KazooError

        try:
            session = await open_remote(profile, secret)
        except KazooError as exc:
            self._show_connection("offline", str(exc))
            self.loader.show_cached_state("offline")
            await inform(
                self, "Connect", f"Could not connect to {profile.server}: {exc}", error=True
            )
            return False
        self.profiles.remember(profile)
        return await self.attach(session, self.profile_cache_keys(profile))

    async def connect_dialog(self, initial: Profile | None = None) -> bool:
        from kazoodesk.ui.dialogs.awaitable import run_dialog
        from kazoodesk.ui.dialogs.connect import ConnectDialog

        if self.editor is not None and not await self.editor.confirm_leave("connecting"):
            return False
        dialog = ConnectDialog(self.profiles, initial, self)
        if not await run_dialog(dialog):
            return False
        profile, secret = dialog.profile(), dialog.secret.text()
        if dialog.remember.isChecked():
            store_secret(profile, secret)
        return await self.connect_remote(profile, secret)

    async def attach(self, session: Session, cache_keys: CacheKeys | None = None) -> bool:
        """Show `session`'s server: its schemas, accounts and devices. With `cache_keys` (and
        a cache), each full listing is kept for the next start (see `show_cached_list`)."""
        import asyncio

        from kazoodesk.kazoo import KazooError
        from kazoodesk.ui.connection import CONNECTION_MODULES, WINDOW_MODULES, preload

        old, self.loader.session = self.session, session
        if old is not None:
            await old.close()
        self.loader.set_cache_keys(cache_keys)
        session.stateChanged.connect(self._show_connection)
        session.reconnected.connect(lambda: spawn(self.reload()))
        self._show_connection("connected")
        try:
            # the schema registry's (jsonschema, ~60 ms), the editor's and the actions' modules
            # load on a worker meanwhile, whichever way the session was made
            docs, accounts, _ = await asyncio.gather(
                session.call(session.client.device_schemas),
                session.call(session.client.account_tree),
                preload((*CONNECTION_MODULES, *WINDOW_MODULES)),
            )
        except KazooError as exc:
            self.placeholder.setText(f"Could not read the server's device schema: {exc}")
            return False
        from kazoodesk.schema.registry import SchemaRegistry

        registry = SchemaRegistry.from_documents(docs)
        self._fill_accounts(accounts)
        demo_registrar = "sip" in session.server_info  # a remote Kazoo's SIP is not ours
        self.connect_phone_action.setEnabled(demo_registrar)
        self.connect_phone_action.setVisible(demo_registrar)
        # The list first: building the editor's form takes the UI thread for over 100 ms, so
        # it is built once the first page of devices is shown (or the load has ended).
        self._pending_editor = lambda: self._set_editor(_new_editor(session, registry, self))
        try:
            await self.reload()
        finally:
            self._build_pending_editor()
        await self._live().start(session)
        return True

    def _build_pending_editor(self) -> None:
        build, self._pending_editor = self._pending_editor, None
        if build is not None:
            build()
            self._users_to_editor()

    def _set_editor(self, editor: DeviceEditor) -> None:
        if self.editor is not None:
            self.editor.deleteLater()
        self.editor = editor
        editor.saved.connect(self._device_saved)
        editor.opened.connect(lambda _id: self.live.refresh_editor() if self.live else None)
        self.splitter.replaceWidget(1, editor)
        self.placeholder.hide()
        self._selection_changed(self.devices.selected_ids())

    def _fill_accounts(self, accounts: list[dict[str, Any]]) -> None:
        self.accounts.clear()
        top = accounts[0].get("tree", []) if accounts else []
        for account in accounts:
            depth = max(0, len(account.get("tree", [])) - len(top))
            self.accounts.addItem(
                "    " * depth + str(account.get("name", account["id"])), account["id"]
            )
        self.accounts.setEnabled(len(accounts) > 1)

    def _account_chosen(self, index: int) -> None:
        spawn(self.switch_account(str(self.accounts.itemData(index))))

    async def switch_account(self, account_id: str) -> bool:
        session = self.session
        if session is None or account_id == session.client.account_id:
            return True
        if self.editor is not None and not await self.editor.confirm_leave("switching account"):
            self.accounts.setCurrentIndex(self.accounts.findData(session.client.account_id))
            return False
        session.client.account_id = account_id
        if self.editor is not None:
            self.editor.clear()
        await self.reload()
        if self.live is not None:
            await self.live.start(session)
        return True

    # ---- the list: loaded by the DeviceListLoader -------------------------------------------

    @property
    def session(self) -> Session | None:
        return self.loader.session

    @property
    def cache(self) -> ListCache | None:
        """None: no offline list, read or written."""
        return self.loader.cache

    @property
    def users(self) -> list[dict[str, Any]]:
        return self.loader.users

    async def reload(self) -> None:
        await self.loader.reload()

    async def refresh_status(self) -> None:
        await self.loader.refresh_status()

    async def filter_by_owner(self, user_id: str | None) -> None:
        await self.loader.filter_by_owner(user_id)

    def show_cached_list(self, keys: CacheKeys) -> bool:
        """The list last loaded for `keys`, until a session's live list replaces it; the
        actions off (there is no session yet). See `DeviceListLoader.show_cached`."""
        return self.loader.show_cached(keys)

    def continue_cached_list(self) -> None:
        self.loader.continue_cached()

    def showing_cached(self) -> bool:
        return self.loader.showing_cached()

    async def wait_cache_saved(self) -> None:
        await self.loader.wait_cache_saved()

    # ---- live registrations ------------------------------------------------------------------

    def _live(self) -> LiveRegistrations:
        """The registration panel, event log and their feed, made once (docks included)."""
        if self.live is None:
            from kazoodesk.ui.registrations.live import LiveRegistrations, string_list

            self.live = live = LiveRegistrations(self)
            live.sourceChanged.connect(self._show_registration_source)
            self.loader.loaded.connect(lambda _count: live.push_status())
            self._add_dock(
                "registrations", "Registrations", live.panel, Qt.DockWidgetArea.BottomDockWidgetArea
            )
            self._add_dock(
                "event_log", "Event log", live.log, Qt.DockWidgetArea.BottomDockWidgetArea
            )
            self.tabifyDockWidget(self.docks["registrations"], self.docks["event_log"])
            self.docks["registrations"].raise_()
            # made after the window's state was restored: placed now, shown unless hidden
            # when the app last closed (a dock added to a shown window starts hidden)
            settings = QSettings()
            hidden = string_list(settings.value("main/hidden_docks", []))
            for name, dock in self.docks.items():
                self.restoreDockWidget(dock)
                dock.setVisible(name not in hidden)
            if not settings.contains("main/hidden_docks"):  # never saved: the list keeps most
                dock = self.docks["registrations"]
                self.resizeDocks(
                    [dock], [max(300, self.height() * 2 // 5)], Qt.Orientation.Vertical
                )
            live.panel.restore_state()
            live.panel.add_tool(self.connect_phone_action)
        return self.live

    def _add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock.{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        self.view_menu.addAction(dock.toggleViewAction())

    def _show_registration_source(self, source: str, detail: str) -> None:
        self._registration_source = source
        self.registrations_label.setText(f"Registrations: {source}")
        self.registrations_label.setToolTip(detail)
        self._apply_colours()

    def _show_events(self, ids: list[str]) -> None:
        if self.live is not None and ids:
            self.live.show_events(ids[0])

    def _toggle_watch(self, ids: list[str]) -> None:
        if self.live is not None and ids:
            self.live.toggle_watch(ids)
            self._selection_changed(ids)

    async def connect_phone(self) -> None:
        """How to point a real phone at the demo's registrar (demo mode)."""
        from kazoodesk.ui.dialogs.connect_phone import connect_phone, phone_devices

        session = self.session
        if session is None:
            return
        devices = phone_devices(self.devices.model.rows())
        chosen = self.devices.selected_ids()
        await connect_phone(self, session, devices, chosen[0] if chosen else None)

    # ---- the editor ------------------------------------------------------------------------

    def _users_to_editor(self) -> None:
        if self.editor is not None:
            self.editor.set_users(self.users)

    def _device_saved(self, document: dict[str, Any]) -> None:
        self.devices.model.upsert(listing_row(document))
        self.devices.select_ids([str(document["id"])])
        if self.live is not None and self.editor is not None:
            self.live.note_saved(str(document["id"]), self.editor.revision)

    def _edit_requested(self, device_id: str) -> None:
        if self.editor is not None:
            spawn(self.editor.open_device(device_id))

    async def edit_selected(self) -> None:
        ids = self.devices.selected_ids()
        if ids and self.editor is not None:
            await self.editor.open_device(ids[0])

    async def new_device(self, device_type: str) -> None:
        await _actions().new(self, device_type)

    # ---- state, colours, about, closing -----------------------------------------------

    def _show_connection(self, state: str, detail: str = "") -> None:
        """`state`: a ConnectionState (or its value)."""
        session = self.session
        where = session.label if session is not None else ""
        if state in {"reconnecting", "offline"} and session:
            detail = detail or session.last_error
        text = f"● {str(state).capitalize()}"
        if where:
            text += f" — {where}"
        if detail:
            text += f" ({detail})"
        self.connection_label.setText(text)
        self.connection_label.setToolTip(text)
        self._connection_state = str(state)
        self._apply_colours()

    def _apply_colours(self) -> None:
        """Our own colours, chosen for the palette in use (light or dark)."""
        palette = self.palette()
        colour = tone(STATE_TONES[self._connection_state], palette)
        self.connection_label.setStyleSheet(f"color: {colour}; padding: 0 6px;")
        source_colour = tone(SOURCE_TONES[self._registration_source], palette)
        self.registrations_label.setStyleSheet(f"color: {source_colour}; padding: 0 6px;")
        fill, text = tone("notice-fill", palette), tone("notice", palette)
        self.cache_notice.setStyleSheet(f"background: {fill}; color: {text}; padding: 3px 8px;")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a switch to a light or dark scheme
            self._apply_colours()

    def bring_to_front(self) -> None:
        """Show the window over the others (another start asked for it)."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    async def about(self) -> None:
        from kazoodesk.ui.about import AboutDialog
        from kazoodesk.ui.dialogs.awaitable import run_dialog

        dialog = AboutDialog(self.dirs, self)
        await run_dialog(dialog)
        dialog.deleteLater()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing or self.editor is None or not self.editor.is_dirty():
            self._save_geometry()
            if self.live is not None:
                self.live.close_feed()
            event.accept()
            self.closed.emit()
            return
        event.ignore()
        spawn(self._close_after_asking())

    async def _close_after_asking(self) -> None:
        assert self.editor is not None
        if await self.editor.confirm_leave("quitting"):
            self._closing = True
            self.close()

    def _save_geometry(self) -> None:
        """Size and place, the list/editor split, toolbars (and docks) for the next start."""
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/splitter", self.splitter.saveState())
        settings.setValue("main/state", self.saveState(WINDOW_STATE_VERSION))
        self.devices.save_state()
        if self.live is not None:
            self.live.panel.save_state()
            hidden = [name for name, dock in self.docks.items() if dock.isHidden()]
            settings.setValue("main/hidden_docks", hidden)

    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry, splitter = settings.value("main/geometry"), settings.value("main/splitter")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            if isinstance(splitter, QByteArray):
                self.splitter.restoreState(splitter)
        else:
            self.resize(1280, 760)
            self.splitter.setSizes([720, 560])
        state = settings.value("main/state")
        if isinstance(state, QByteArray):
            self.restoreState(state, WINDOW_STATE_VERSION)


def _actions() -> Any:
    """The device actions (and their dialogs), imported on first use."""
    from kazoodesk.ui import device_actions

    return device_actions


def _new_editor(session: Session, registry: Any, window: MainWindow) -> DeviceEditor:
    from kazoodesk.ui.device_editor import DeviceEditor

    return DeviceEditor(session, registry, window)
