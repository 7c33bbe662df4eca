"""The loading of the device list for a session: the live listing page by page, the
registration status, a user's devices, and the offline copy of the listing.

Start order: the list can show the listing it last showed for a server and account
(`show_cached`, from `kazoodesk.list_cache`) before anything else is imported or connected,
marked as cached; the live load then merges into it row for row (same rows, the selection
kept) and removes what the server no longer has. asyncio (~40 ms with what it imports) is not
imported with this module: the app paints the window before its event loop exists (see
kazoodesk.ui.app), so the methods that need asyncio (or the Kazoo client) import it themselves.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

from kazoodesk.list_cache import CachedList, CacheKeys, ListCache
from kazoodesk.ui.devices.device_list_view import DeviceListView
from kazoodesk.ui.devices.device_records import UNASSIGNED, hotdesk_flags
from kazoodesk.ui.tasks import spawn

if TYPE_CHECKING:
    import asyncio

    from kazoodesk.ui.session import Session

PAGE_SIZE = 500  # rows per listing request
# The rows of a page go into the list in slices, the loop running (and the list repainting)
# between them, so the UI thread is never busy for long: each slice is sized to take about
# FEED_BUDGET_S from what the one before took (a row costs more as the list grows, ~60 µs at
# 100,000 devices here; smaller slices mean more repaints, ~6 ms each, and a slower load).
FEED_BUDGET_S = 0.020
FIRST_SLICE = 100
MIN_SLICE = 25


class DeviceListLoader(QObject):
    """Fills `devices` from `session` (set by the window) and keeps its offline copy in
    `cache`; `notice`, a label over the list, says when the list shown is the cached one."""

    loaded = Signal(int)  # all pages are in the list (count)
    usersLoaded = Signal()  # `users` read anew
    pageShown = Signal()  # a page of the live listing is in the list, or the listing ended
    problem = Signal(str)  # what was not updated, for the status bar

    def __init__(
        self,
        devices: DeviceListView,
        notice: QLabel,
        cache: ListCache | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.devices = devices
        self.notice = notice
        self.cache = cache  # None: no offline list, read or written
        self.session: Session | None = None
        self.users: list[dict[str, Any]] = []
        self._cache_keys: CacheKeys | None = None  # of the session (None: nothing cached)
        self._login_account: str | None = None
        self._cached: CachedList | None = None  # the cached listing the list shows now
        self._cached_feed: asyncio.Task[None] | None = None
        self._cached_ids: set[str] = set()  # of the cached rows put in the list
        self._cached_pending = False  # rows after the cached head still to read and show
        self._cache_saving: asyncio.Future[bool] | None = None
        self._loading: asyncio.Task[None] | None = None
        self._slice = FIRST_SLICE
        devices.ownerFilterChanged.connect(lambda uid: spawn(self.filter_by_owner(uid)))

    def set_cache_keys(self, keys: CacheKeys | None) -> None:
        """Where the session's full listings are kept for the next start (None: not kept)."""
        self._cache_keys = keys
        auth = self.session.client.auth if self.session is not None else None
        self._login_account = auth.account_id if auth is not None else None

    # ---- the live list -----------------------------------------------------------------------

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
        self.show_cached_state("loading the live list…")
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
            self.usersLoaded.emit()
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
                self.pageShown.emit()
                _keep_out_of_full_collections()
            self.pageShown.emit()
        except KazooError as exc:
            self.devices.set_loading(False, f"Could not load the devices: {exc}")
            self.show_cached_state("the live list did not load")
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
        self.loaded.emit(count)

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
            self.problem.emit(f"Hotdesked devices not shown: {exc}")
            return
        if self.devices.owner_filter() == user_id:
            self.devices.set_owner_filter(user_id, hotdesk_flags(rows))

    async def refresh_status(self) -> None:
        registered = await self._registered_ids()
        if registered is not None:
            self.devices.model.set_registered(registered)

    async def _registered_ids(self) -> set[str] | None:
        """The ids of the registered devices; None (and a `problem`) on failure."""
        from kazoodesk.kazoo import KazooError

        session = self.session
        if session is None:
            return None
        try:
            return await session.call(session.client.registered_device_ids)
        except KazooError as exc:
            self.problem.emit(f"Registration status not updated: {exc}")
            return None

    # ---- the offline list --------------------------------------------------------------------

    def show_cached(self, keys: CacheKeys) -> bool:
        """Show the list last loaded for `keys` (if the cache has it) until a session's live
        list replaces it; marked as cached.

        Only the head of the listing is read now (the rows at the top of the list when it was
        saved) and goes in at once, so the first paint shows them; the rest is read on a
        worker and follows in slices once the loop runs (`continue_cached`)."""
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
            self.continue_cached()
        self.devices.set_loading(True, "")
        self.show_cached_state("connecting…")
        return True

    def continue_cached(self) -> None:
        """Read and show the rest of the cached list (after its head); the app calls it once
        its loop runs, when the list was shown before."""
        if self._cached_pending and self._cached is not None:
            self._cached_pending = False
            self._cached_feed = spawn(self._feed_cached(self._cached))

    def showing_cached(self) -> bool:
        """Whether the list shows a cached listing (not yet replaced by the live one)."""
        return self._cached is not None

    def show_cached_state(self, what: str) -> None:
        """The notice over a cached list: when it was loaded and what is happening now."""
        if self._cached is None:
            return
        self.notice.setText(f"Cached list · last loaded {self._cached.saved_text()} · {what}")
        self.notice.setToolTip(
            "The devices as they were when last loaded: read-only until the server's live"
            " list replaces them."
        )
        self.notice.show()

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

    def _drop_cached(self) -> None:
        self._stop_cached_feed()
        self._cached = None
        self._cached_ids = set()
        self.notice.hide()

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


def _loop_running() -> bool:
    """Whether an asyncio loop runs (without importing asyncio if nothing has)."""
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and asyncio._get_running_loop() is not None


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
