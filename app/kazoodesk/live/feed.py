"""Where the live registration state comes from, chosen by what the server offers.

`GET /v2/websockets` lists the event websocket's modules. With a `registration` module (the
simulator's; a stock Kazoo 4.3 has none) the tracker follows the registrar's events: "live".
Otherwise `/registrations` and `/devices/status` are polled every `poll_interval` seconds and
diffed: "polling", as a real Kazoo 4.3 needs. Device document events (`object.*.device`, which
every 4.3 offers) are passed on either way, so the list and an open editor hear of changes.

The websocket is reconnected with growing pauses (Monster UI's: 0.25 s doubling to 60 s) and,
since blackhole replays nothing, every (re)connect is followed by a poll that resyncs the
tracker; while it is down, polling takes over. A live feed is still resynced every
`RESYNC_S`, which also catches events a busy moment lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, TypeVar

from kazoodesk.kazoo import KazooClient, KazooError, KazooUnavailable
from kazoodesk.kazoo.events import EventSocket, EventSocketError, SocketEvent, SubscriptionRefused
from kazoodesk.live.tracker import RegistrationTracker, read_rows

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_INTERVAL_S = 5.0
RESYNC_S = 60.0
RECONNECT_FIRST_S = 0.25
RECONNECT_MAX_S = 60.0
DEVICE_BINDINGS = (
    "object.doc_created.device",
    "object.doc_edited.device",
    "object.doc_deleted.device",
)
# the simulator's registrar events, one binding each (kazoodesk.simulator.events)
REGISTRATION_BINDINGS = tuple(
    f"registration.{kind}"
    for kind in (
        "registered",
        "refreshed",
        "unregistered",
        "expired",
        "auth_failed",
        "notify_result",
    )
)
# what the unmerged Kazoo PR #5584 would offer instead (Kamailio's reg_success)
REG_SUCCESS_BINDING = "registration.success"


class Source(StrEnum):
    LIVE = "live"
    POLLING = "polling"
    OFFLINE = "offline"


Caller = Callable[..., Awaitable[Any]]
DeviceEvent = Callable[[str, str], None]  # (action: created/edited/deleted, device id)


async def _direct(request: Callable[..., Awaitable[T]], *args: object) -> T:
    return await request(*args)


class RegistrationFeed:
    """Keeps `tracker` up to date for the client's working account until cancelled (`run`)."""

    def __init__(
        self,
        client: KazooClient,
        tracker: RegistrationTracker,
        *,
        websocket_url: str | None,
        poll_interval: float = POLL_INTERVAL_S,
        call: Caller = _direct,
        on_source: Callable[[Source, str], None] = lambda source, detail: None,
        on_device: DeviceEvent = lambda action, device_id: None,
        on_reconnect: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.tracker = tracker
        self.websocket_url = websocket_url
        self.poll_interval = poll_interval
        self.account_id = client.account_id
        self._call = call
        self._on_source = on_source
        self._on_device = on_device
        # the event websocket is back after a break: what changed meanwhile was not heard
        self._on_reconnect = on_reconnect
        self.source = Source.OFFLINE  # until the first answer
        self.detail = "not read yet"
        self.live = False  # registration events are arriving
        self.following_devices = False  # device events are arriving
        self._connections = 0
        self._polled_once = False
        self._resync = asyncio.Event()
        self._seen_revs: dict[str, str] = {}

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._poll_loop())]
        if self.websocket_url:
            tasks.append(asyncio.create_task(self._socket_loop(self.websocket_url)))
        try:
            await asyncio.gather(*tasks)
        finally:
            # a task the gather has already cancelled is closing its websocket: cancelling it
            # again would cut that short
            for task in tasks:
                if not task.done() and not task.cancelling():
                    task.cancel()
            await asyncio.wait(tasks)

    def resync_soon(self) -> None:
        """Poll now (after a reconnect, or when the user asks)."""
        self._resync.set()

    # ---- polling -------------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        while True:
            self._resync.clear()  # before: a resync asked for during the poll must hold
            await self.poll()
            wait = RESYNC_S if self.live else self.poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._resync.wait(), wait)

    async def poll(self) -> bool:
        """Read `/registrations` (and, without registration events, `/devices/status`) once
        into the tracker."""
        asked_at = self.tracker.clock()
        try:
            rows = await self._call(self.client.registrations)
            # with events, the registrations alone say which devices are up
            live = self.live
            registered = set() if live else await self._call(self.client.registered_device_ids)
        except KazooUnavailable as exc:
            if not self.live:
                self._set_source(Source.OFFLINE, str(exc))
            return False
        except KazooError as exc:
            if not self.live:
                self._set_source(Source.POLLING, f"registrations not read: {exc}")
            return False
        # reading thousands of rows takes tens of ms: a worker's, not the UI thread's
        loop = asyncio.get_running_loop()
        listed = await loop.run_in_executor(None, read_rows, rows, self.tracker.clock())
        self.tracker.apply_registrations(
            listed, registered, initial=not self._polled_once, asked_at=asked_at
        )
        self._polled_once = True
        if not self.live:
            self._set_source(Source.POLLING, f"every {self.poll_interval:g} s")
        return True

    # ---- the event websocket ---------------------------------------------------------------

    async def _socket_loop(self, url: str) -> None:
        pause = RECONNECT_FIRST_S
        while True:
            try:
                offered = await self._call(self.client.websocket_bindings)
            except KazooUnavailable:
                await asyncio.sleep(pause)  # the server is away: ask again when it may be back
                pause = min(RECONNECT_MAX_S, pause * 2)
                continue
            except KazooError as exc:
                log.info("no websocket bindings from the server: %s", exc)
                offered = None
            bindings = _offered(offered)
            if not any(b in bindings for b in (*DEVICE_BINDINGS, *REGISTRATION_BINDINGS)):
                return  # nothing we listen to: polling alone
            try:
                await self._listen(url, bindings)
                pause = RECONNECT_FIRST_S  # it had worked: start the pauses again
            except SubscriptionRefused as exc:
                log.warning("event websocket subscription refused: %s", exc)
                if not exc.auth_failed:
                    self._socket_lost(f"events refused: {exc}")
                    return  # a configuration error: retrying will not help
                self._socket_lost("events: the login expired, reconnecting")
            except EventSocketError as exc:
                self._socket_lost(f"events: {exc}")
            await asyncio.sleep(pause)
            pause = min(RECONNECT_MAX_S, pause * 2)

    async def _listen(self, url: str, offered: set[str]) -> None:
        socket = EventSocket(url, lambda: self.client.auth.token if self.client.auth else None)
        try:
            await socket.connect()
            for binding in DEVICE_BINDINGS:
                if binding in offered:
                    await socket.subscribe(self.account_id, binding)
            self.following_devices = any(b in offered for b in DEVICE_BINDINGS)
            wanted = [b for b in REGISTRATION_BINDINGS if b in offered]
            if not wanted and REG_SUCCESS_BINDING in offered:
                wanted = [REG_SUCCESS_BINDING]
            for binding in wanted:
                await socket.subscribe(self.account_id, binding)
            self.live = bool(wanted)
            if self.live:
                self._set_source(Source.LIVE, "registrar events")
            self.resync_soon()  # nothing is replayed: what happened while away comes from a poll
            self._connections += 1
            if self._connections > 1:
                self._on_reconnect()
            async for batch in socket.events():
                self._dispatch(batch)
        finally:
            await socket.close()

    def _dispatch(self, batch: list[SocketEvent]) -> None:
        for event in batch:
            family, _, kind = event.binding.partition(".")
            if family == "registration":
                self.tracker.apply_event(kind, event.data)
            elif family == "object":
                self._device_event(event)

    def _device_event(self, event: SocketEvent) -> None:
        device_id, rev = event.data.get("id"), event.data.get("rev")
        if not isinstance(device_id, str) or event.data.get("type", "device") != "device":
            return
        action = event.name.removeprefix("doc_")
        if isinstance(rev, str) and action != "deleted":
            if self._seen_revs.get(device_id) == rev:
                return  # the same change heard twice
            self._seen_revs[device_id] = rev
        self._on_device(action, device_id)

    def note_revision(self, device_id: str, rev: str | None) -> None:
        """A revision this app made itself: its event needs no reload."""
        if rev:
            self._seen_revs[device_id] = rev

    def _socket_lost(self, detail: str) -> None:
        was_live, self.live = self.live, False
        self.following_devices = False
        if was_live or self.source is Source.LIVE:
            self._set_source(Source.POLLING, detail)
        self.resync_soon()

    def _set_source(self, source: Source, detail: str) -> None:
        if (source, detail) != (self.source, self.detail):
            self.source, self.detail = source, detail
            self._on_source(source, detail)


def _offered(listing: Any) -> set[str]:
    """The binding names of a `GET /websockets` answer (module -> names, or a plain list)."""
    if isinstance(listing, dict):
        names = [n for values in listing.values() if isinstance(values, list) for n in values]
    elif isinstance(listing, list):
        names = list(listing)
    else:
        names = []
    return {name for name in names if isinstance(name, str)}
