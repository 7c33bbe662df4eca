"""The main window: account switcher, device list, editor, connection state.

Start order: the window can show the list it last showed for a server and account
(`show_cached_list`, from `kazoodesk.list_cache`) before anything else is imported or
connected, marked as cached; the live load then merges into it row for row (same rows, the
selection kept) and removes what the server no longer has. What only a connection needs (the
Kazoo client, the schema registry, the editor, the device actions and dialogs) is imported
where it is first used, so this module costs little more than Qt and the device list. That
includes asyncio (~40 ms with what it imports): the app paints the window before its event
loop exists (see kazoodesk.ui.app), so the methods that need asyncio import it themselves.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kazoodesk import __version__
from kazoodesk.device_templates import AUTHN_BY_IP, NEW_DEVICE_TYPES, listing_row
from kazoodesk.list_cache import CachedList, CacheKeys, ListCache, demo_keys, remote_keys
from kazoodesk.profiles import Profile, ProfileStore, store_secret
from kazoodesk.ui.devices.device_list_view import DeviceListView
from kazoodesk.ui.devices.device_records import UNASSIGNED, hotdesk_flags

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Coroutine

    from kazoodesk.ui.connection import DemoServer
    from kazoodesk.ui.device_editor import DeviceEditor
    from kazoodesk.ui.session import Session

PAGE_SIZE = 500  # rows per listing request
# The rows of a page go into the list in slices, the loop running (and the list repainting)
# between them, so the UI thread is never busy for long: each slice is sized to take about
# FEED_BUDGET_S from what the one before took (a row costs more as the list grows, ~60 µs at
# 100,000 devices here; smaller slices mean more repaints, ~6 ms each, and a slower load).
FEED_BUDGET_S = 0.020
FIRST_SLICE = 100
MIN_SLICE = 25
STATUS_REFRESH_MS = 15_000
# by ConnectionState value (kazoodesk.ui.session, imported once a session exists)
STATE_COLOURS = {
    "connecting": "#8a6d00",
    "connected": "#1b7f3b",
    "reconnecting": "#b35c00",
    "offline": "#b3261e",
}
CACHED_STYLE = "background: #fff4ce; color: #5c4400; padding: 3px 8px;"


class MainWindow(QMainWindow):
    devicesLoaded = Signal(int)  # all pages are in the list (count)
    closed = Signal()

    def __init__(
        self,
        profiles: ProfileStore,
        demo: DemoServer | None = None,
        cache: ListCache | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("KazooDesk")
        self.profiles = profiles
        self.demo = demo
        self.cache = cache  # None: no offline list, read or written
        self.session: Session | None = None
        self._cache_keys: CacheKeys | None = None  # of the session (None: nothing cached)
        self._login_account: str | None = None
        self._cached: CachedList | None = None  # the cached listing the list shows now
        self._cached_feed: asyncio.Task[None] | None = None
        self._cached_ids: set[str] = set()  # of the cached rows put in the list
        self._cached_pending = False  # rows after the cached head still to read and show
        self._cache_saving: asyncio.Future[bool] | None = None
        self.editor: DeviceEditor | None = None
        self.users: list[dict[str, Any]] = []
        self._loading: asyncio.Task[None] | None = None
        self._pending_editor: Callable[[], None] | None = None
        self._slice = FIRST_SLICE
        self._closing = False
        self.devices = DeviceListView("devices", self)
        self.devices.editRequested.connect(self._edit_requested)
        self.devices.contextMenuRequestedIds.connect(self._context_menu)
        self.devices.selectionChangedIds.connect(self._selection_changed)
        self.devices.ownerFilterChanged.connect(lambda uid: spawn(self.filter_by_owner(uid)))
        self.placeholder = QLabel("Connecting…", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.splitter = QSplitter(self)
        self.splitter.addWidget(self.devices)
        self.splitter.addWidget(self.placeholder)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.cache_notice = QLabel(self)
        self.cache_notice.setObjectName("list.cached")
        self.cache_notice.setStyleSheet(CACHED_STYLE)
        self.cache_notice.hide()
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
        self.statusBar().addPermanentWidget(self.connection_label)
        self._build_actions()
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(lambda: spawn(self.refresh_status()))
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
        run = spawn
        self.new_menu = QMenu("New device", self)
        for device_type, label in NEW_DEVICE_TYPES.items():
            action = self.new_menu.addAction(label)
            action.setObjectName(f"new.{device_type}")
            action.triggered.connect(lambda _=False, t=device_type: run(self.new_device(t)))
        self.new_menu.addSeparator()
        by_ip = self.new_menu.addAction("SIP device authenticating by IP…")
        by_ip.setObjectName(f"new.{AUTHN_BY_IP}")
        by_ip.triggered.connect(lambda _=False: run(self.new_device(AUTHN_BY_IP)))
        self.new_action = self._action("New", self._show_new_menu, QKeySequence.StandardKey.New)
        self.new_action.setMenu(self.new_menu)
        sel = self.devices.selected_ids
        self.edit_action = self._action("Edit", lambda: run(self.edit_selected()))
        self.duplicate_action = self._action(
            "Duplicate", lambda: run(_actions().duplicate(self, sel()))
        )
        self.delete_action = self._action(
            "Delete",
            lambda: run(_actions().delete(self, sel())),
            QKeySequence.StandardKey.Delete,
        )
        # Delete acts on the list only: in the editor the key belongs to the fields
        self.removeAction(self.delete_action)
        self.devices.table.addAction(self.delete_action)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.enable_action = self._action(
            "Enable", lambda: run(_actions().set_enabled(self, sel(), True))
        )
        self.disable_action = self._action(
            "Disable", lambda: run(_actions().set_enabled(self, sel(), False))
        )
        self.sync_action = self._action("Sync", lambda: run(_actions().sync(self, sel(), False)))
        self.reboot_action = self._action("Reboot", lambda: run(_actions().sync(self, sel(), True)))
        self.notify_action = self._action(
            "Send NOTIFY…", lambda: run(_actions().notify(self, sel()))
        )
        self.quickcall_action = self._action(
            "Quickcall…", lambda: run(_actions().quickcall(self, sel()))
        )
        self.refresh_action = self._action(
            "Refresh", lambda: run(self.reload()), QKeySequence.StandardKey.Refresh
        )
        self._action("Find", self.devices.focus_search, QKeySequence.StandardKey.Find)
        self.connect_action = self._action("Connect…", lambda: run(self.connect_dialog()))
        self.demo_action = self._action("Open the demo", lambda: run(self.start_demo()))
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
            self.quickcall_action,
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
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.refresh_action)
        menu = self.menuBar()
        server_menu = menu.addMenu("&Server")
        server_menu.addActions([self.connect_action, self.demo_action])
        server_menu.addSeparator()
        server_menu.addAction(quit_action)
        device_menu = menu.addMenu("&Devices")
        device_menu.addMenu(self.new_menu)
        device_menu.addActions([*self._selection_actions, self.refresh_action])
        help_menu = menu.addMenu("&Help")
        about = help_menu.addAction("About KazooDesk")
        about.triggered.connect(lambda _=False: run(self.about()))

    def _show_new_menu(self) -> None:
        button = self.toolbar.widgetForAction(self.new_action)
        self.new_menu.popup(button.mapToGlobal(QPoint(0, button.height())))

    def _selection_changed(self, ids: list[str]) -> None:
        connected = self.session is not None
        for action in self._selection_actions:
            action.setEnabled(connected and bool(ids))
        single = connected and len(ids) == 1
        for action in (self.edit_action, self.duplicate_action, self.quickcall_action):
            action.setEnabled(single)
        self.new_action.setEnabled(connected and self.editor is not None)

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
        return demo_keys(str(getattr(self.demo, "cache_name", "") or "demo"))

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
            self._cached_state("the demo did not start")
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
            self._cached_state("offline")
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
        from kazoodesk.schema.registry import SchemaRegistry
        from kazoodesk.ui.connection import WINDOW_MODULES, preload

        old, self.session = self.session, session
        if old is not None:
            await old.close()
        self._cache_keys = cache_keys
        auth = session.client.auth
        self._login_account = auth.account_id if auth is not None else None
        session.stateChanged.connect(self._show_connection)
        session.reconnected.connect(lambda: spawn(self.reload()))
        self._show_connection("connected")
        try:
            # the editor's and the actions' modules load on a worker meanwhile
            docs, accounts, _ = await asyncio.gather(
                session.call(session.client.device_schemas),
                session.call(session.client.account_tree),
                preload(WINDOW_MODULES),
            )
        except KazooError as exc:
            self.placeholder.setText(f"Could not read the server's device schema: {exc}")
            return False
        registry = SchemaRegistry.from_documents(docs)
        self._fill_accounts(accounts)
        self._status_timer.start()
        # The list first: building the editor's form takes the UI thread for over 100 ms, so
        # it is built once the first page of devices is shown (or the load has ended).
        self._pending_editor = lambda: self._set_editor(_new_editor(session, registry, self))
        try:
            await self.reload()
        finally:
            self._build_pending_editor()
        return True

    def _build_pending_editor(self) -> None:
        build, self._pending_editor = self._pending_editor, None
        if build is not None:
            build()
            if self.editor is not None:
                self.editor.set_users(self.users)

    def _set_editor(self, editor: DeviceEditor) -> None:
        if self.editor is not None:
            self.editor.deleteLater()
        self.editor = editor
        editor.saved.connect(self._device_saved)
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
        return True

    # ---- the list ----------------------------------------------------------------------------

    async def reload(self) -> None:
        """Load users, registrations and every device page by page; the first page shows at once.

        The next page is requested while one is being shown, and a page goes into the list
        in slices with the loop running in between (`_feed`), so the window stays responsive
        however many devices there are."""
        import asyncio

        from kazoodesk.kazoo import KazooError

        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        self._loading = asyncio.current_task()
        session = self.session
        if session is None:
            return
        self._stop_cached_feed()
        account_id = session.client.account_id
        cached = self._cached
        if cached is not None and (
            self._cache_keys is None
            or cached.server != self._cache_keys.server
            or cached.account_id != account_id
        ):
            self._drop_cached()  # another server or account: its rows go with the clear below
            cached = None
        model = self.devices.model
        self.devices.set_loading(True, "Loading devices…")
        self._cached_state("loading the live list…")
        # the first page is on its way while the users and the registrations are read
        pages = _PagesAhead(session.pages(session.client.iter_devices(PAGE_SIZE)))
        keep = self.cache is not None and self._cache_keys is not None
        listed: list[dict[str, Any]] = []  # for the cache (up to one row over its limit)
        seen: set[str] = set()  # ids listed, when merging into a cached list
        try:
            self.users, registered = await asyncio.gather(
                session.call(session.client.list_users), self._registered_ids()
            )
            if cached is None:
                model.clear()
            # the status before the rows: each device gets it as it is added, where a pass over
            # them all afterwards would hold the UI thread (~50 ms at 100,000 devices)
            if registered is not None:
                model.set_registered(registered)
            self.devices.set_users(self.users)
            if self.editor is not None:
                self.editor.set_users(self.users)
            count = 0
            self._slice = FIRST_SLICE
            while (page := await pages.next()) is not None:
                await self._feed(page)
                count += len(page)
                if cached is not None:
                    seen.update(str(row.get("id")) for row in page)
                    # rows replaced where they were emit nothing: repaint what they show
                    self.devices.table.viewport().update()
                if keep and self.cache is not None and len(listed) <= self.cache.max_rows:
                    listed.extend(page)
                self.devices.set_loading(True, f"Loading devices… {count}")
                self._build_pending_editor()
                _keep_out_of_full_collections()
            self._build_pending_editor()
        except KazooError as exc:
            self.devices.set_loading(False, f"Could not load the devices: {exc}")
            self._cached_state("the live list did not load")
            return
        finally:
            await pages.close()
        if cached is not None:
            # what the server no longer has
            model.remove_ids(self._cached_ids - seen)
            self._drop_cached()
        self.devices.set_loading(False, "")
        if keep:
            self._save_to_cache(account_id, listed, registered)
        self.devicesLoaded.emit(count)

    async def _feed(self, page: list[dict[str, Any]]) -> None:
        """Append `page` to the list in slices of about FEED_BUDGET_S of UI thread each, the
        loop running (input, timers, painting) after every slice."""
        import asyncio

        model = self.devices.model
        start = 0
        while start < len(page):
            rows = page[start : start + self._slice]
            began = time.perf_counter()
            model.append_rows(rows)
            took = time.perf_counter() - began
            start += len(rows)
            fitting = int(len(rows) * FEED_BUDGET_S / max(took, 1e-6))
            self._slice = max(MIN_SLICE, min(PAGE_SIZE, fitting))
            await asyncio.sleep(0)

    async def filter_by_owner(self, user_id: str | None) -> None:
        """A user's devices as `/users/{U}/devices` has them: owned and hotdesked into."""
        from kazoodesk.kazoo import KazooError

        session = self.session
        if session is None or user_id is None or user_id == UNASSIGNED:
            return
        try:
            rows = await session.call(session.client.user_devices, user_id)
        except KazooError as exc:
            self.statusBar().showMessage(f"Hotdesked devices not shown: {exc}", 10_000)
            return
        if self.devices.owner_filter() == user_id:
            self.devices.set_owner_filter(user_id, hotdesk_flags(rows))

    # ---- the offline list -----------------------------------------------------------------

    def show_cached_list(self, keys: CacheKeys) -> bool:
        """Show the list last loaded for `keys` (if the cache has it) until a session's live
        list replaces it; marked as cached, the actions off (there is no session yet).

        Only the head of the listing is read now (the rows at the top of the list when it was
        saved) and goes in at once, so the first paint shows them; the rest is read on a
        worker and follows in slices once the loop runs (`continue_cached_list`)."""
        if self.cache is None or self.session is not None:
            return False
        cached = self.cache.load_for(keys, head_only=True)
        if cached is None:
            return False
        self._stop_cached_feed()
        self._cached = cached
        model = self.devices.model
        model.clear()
        if cached.registered is not None:
            model.set_registered(cached.registered)
        self.users = cached.users
        self.devices.set_users(cached.users)
        model.append_rows(cached.rows)
        self._cached_ids = {str(row["id"]) for row in cached.rows}
        self._cached_pending = not cached.complete
        if _loop_running():
            self.continue_cached_list()
        self.devices.set_loading(True, "")
        self._cached_state("connecting…")
        return True

    def continue_cached_list(self) -> None:
        """Read and show the rest of the cached list (after its head); the app calls it once
        its loop runs, when the list was shown before."""
        if self._cached_pending and self._cached is not None:
            self._cached_pending = False
            self._cached_feed = spawn(self._feed_cached(self._cached))

    def showing_cached(self) -> bool:
        """Whether the list shows a cached listing (not yet replaced by the live one)."""
        return self._cached is not None

    async def wait_cache_saved(self) -> None:
        """Until the listing being written to the cache (if any) is on disk."""
        import asyncio

        saving = self._cache_saving
        if saving is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(saving)

    async def _feed_cached(self, cached: CachedList) -> None:
        import asyncio

        if self.cache is None:
            return
        loop = asyncio.get_running_loop()
        rest = await loop.run_in_executor(None, self.cache.load_rest, cached)
        if rest is None or self._cached is not cached:
            return  # the file changed meanwhile, or the live list came first
        self._cached_ids.update(str(row["id"]) for row in rest)
        self._slice = FIRST_SLICE
        await self._feed(rest)

    def _stop_cached_feed(self) -> None:
        self._cached_pending = False
        feed, self._cached_feed = self._cached_feed, None
        if feed is not None and not feed.done():
            feed.cancel()

    def _cached_state(self, what: str) -> None:
        """The notice over a cached list: when it was loaded and what is happening now."""
        if self._cached is None:
            return
        text = f"Cached list · last loaded {self._cached.saved_text()} · {what}"
        self.cache_notice.setText(text)
        self.cache_notice.setToolTip(
            "The devices as they were when last loaded: read-only until the server's live"
            " list replaces them."
        )
        self.cache_notice.show()

    def _drop_cached(self) -> None:
        self._stop_cached_feed()
        self._cached = None
        self._cached_ids = set()
        self.cache_notice.hide()

    def _save_to_cache(
        self, account_id: str, rows: list[dict[str, Any]], registered: set[str] | None
    ) -> None:
        """Write the listing just loaded to the cache on a worker thread (JSON and gzip of
        up to 20,000 rows: tens of ms that the UI thread need not spend)."""
        import asyncio

        if self.cache is None or self._cache_keys is None:
            return
        model = self.devices.model
        top = model.ids_at(range(min(FIRST_SLICE, model.rowCount())))
        save = functools.partial(
            self.cache.save,
            self._cache_keys,
            account_id,
            rows,
            list(self.users),
            registered,
            login_account=account_id == self._login_account,
            first=top,
        )
        self._cache_saving = asyncio.get_running_loop().run_in_executor(None, save)

    async def refresh_status(self) -> None:
        registered = await self._registered_ids()
        if registered is not None:
            self.devices.model.set_registered(registered)

    async def _registered_ids(self) -> set[str] | None:
        """The ids of the registered devices; None (and a word in the status bar) on failure."""
        from kazoodesk.kazoo import KazooError

        session = self.session
        if session is None:
            return None
        try:
            return await session.call(session.client.registered_device_ids)
        except KazooError as exc:
            self.statusBar().showMessage(f"Registration status not updated: {exc}", 10_000)
            return None

    def _device_saved(self, document: dict[str, Any]) -> None:
        self.devices.model.upsert(listing_row(document))
        self.devices.select_ids([str(document["id"])])

    def _edit_requested(self, device_id: str) -> None:
        if self.editor is not None:
            spawn(self.editor.open_device(device_id))

    async def edit_selected(self) -> None:
        ids = self.devices.selected_ids()
        if ids and self.editor is not None:
            await self.editor.open_device(ids[0])

    async def new_device(self, device_type: str) -> None:
        await _actions().new(self, device_type)

    # ---- state, about, closing ----------------------------------------------------------

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
        self.connection_label.setStyleSheet(f"color: {STATE_COLOURS[state]}; padding: 0 6px;")
        self.connection_label.setToolTip(text)

    async def about(self) -> None:
        from kazoodesk.ui.dialogs.awaitable import inform

        await inform(
            self,
            "About KazooDesk",
            f"KazooDesk {__version__}\nDesktop administration of Kazoo 4.3 devices.",
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing or self.editor is None or not self.editor.is_dirty():
            self._save_geometry()
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
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/splitter", self.splitter.saveState())
        self.devices.save_state()

    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry, splitter = settings.value("main/geometry"), settings.value("main/splitter")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            if isinstance(splitter, QByteArray):
                self.splitter.restoreState(splitter)
        else:
            self.resize(1280, 760)
            self.splitter.setSizes([720, 560])


def spawn(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """`kazoodesk.ui.tasks.spawn`, imported (with asyncio) on first use."""
    from kazoodesk.ui.tasks import spawn as spawn_task

    return spawn_task(coro)


def _loop_running() -> bool:
    """Whether an asyncio loop runs (without importing asyncio if nothing has)."""
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and asyncio._get_running_loop() is not None


def _actions() -> Any:
    """The device actions (and their dialogs), imported on first use."""
    from kazoodesk.ui import device_actions

    return device_actions


def _new_editor(session: Session, registry: Any, window: MainWindow) -> DeviceEditor:
    from kazoodesk.ui.device_editor import DeviceEditor

    return DeviceEditor(session, registry, window)


class _PagesAhead:
    """The pages of a listing, the next one requested as soon as one is handed out, so the
    server works on it while the UI shows the one before. `close()` when done."""

    def __init__(self, pages: AsyncIterator[list[dict[str, Any]]]) -> None:
        import asyncio

        self._pages = pages
        self._next: asyncio.Future[list[dict[str, Any]]] = asyncio.ensure_future(anext(pages))

    async def next(self) -> list[dict[str, Any]] | None:
        """The next page, or None after the last one."""
        import asyncio

        try:
            page = await self._next
        except StopAsyncIteration:
            return None
        self._next = asyncio.ensure_future(anext(self._pages))
        return page

    async def close(self) -> None:
        self._next.cancel()
        with contextlib.suppress(BaseException):  # an answer no one waits for any more
            await self._next
        aclose = getattr(self._pages, "aclose", None)
        if aclose is not None:
            await aclose()


def _keep_out_of_full_collections() -> None:
    """Move what the process holds now (the devices listed so far among it) out of reach of
    the garbage collector's full passes.

    A full pass walks every tracked object: with 100,000 devices listed it stalls the UI
    thread for 60-150 ms, and one comes each time the heap has grown by a quarter, so several
    during a load and one soon after. Young collections first, so the short-lived cycles of
    the page just shown are freed rather than frozen; frozen devices are still freed (by
    reference counting) when the list is cleared. While the collector is off (the app's
    start holds it, see kazoodesk.ui.app) there is no young collection: the young generations
    then hold everything the start allocated, tens of ms to walk.
    """
    if gc.isenabled():
        gc.collect(1)
    gc.freeze()
