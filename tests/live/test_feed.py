"""The registration feed (kazoodesk.live.feed) against a real simulator on 127.0.0.1 and real
SIP REGISTERs over UDP: live from the registrar's events, polling a server without them, offline
when the server goes away, reconnecting when it comes back, and quiet when cancelled. Qt-free:
each scenario runs on an asyncio loop of its own."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import secrets
import socket
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from helpers import Api, Server, own_server_fixture, sip_register, start_server
from kazoodesk.kazoo import KazooClient
from kazoodesk.live.feed import RECONNECT_FIRST_S, RESYNC_S, RegistrationFeed, Source
from kazoodesk.live.tracker import RegistrationTracker
from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner

T = TypeVar("T")
server = own_server_fixture("live-feed")
WAIT_S = 10.0
NEVER = 3600.0  # a poll interval no test outlives: what arrives did not come from a poll


def run(scenario: Coroutine[Any, Any, None], *, limit: float = 90.0) -> None:
    """Run a scenario on a loop of its own, bounded."""
    asyncio.run(asyncio.wait_for(scenario, limit))


async def until(check: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Wait for `check()` to hold (looked at every 20 ms), failing after `timeout` s."""
    try:
        async with asyncio.timeout(timeout):
            while not check():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {timeout:g} s: {what}") from None


class Phone:
    """A device made through the API and a phone registering as it over real UDP."""

    def __init__(self, api: Api, name: str) -> None:
        self.username = f"feed_{secrets.token_hex(4)}"
        self.password = "Feed-Pass-123"
        device = {"name": name, "sip": {"username": self.username, "password": self.password}}
        self.device_id: str = api.ok("PUT", f"{api.account}/devices", device)["data"]["id"]
        self.realm: str = api.ok("GET", api.account)["data"]["realm"]
        self.port = 40000 + secrets.randbelow(20000)

    async def register(self, server: Server, expires: int = 300) -> None:
        status = await asyncio.to_thread(
            sip_register, server, self.username, self.password, self.realm,
            expires=expires, contact=f"<sip:{self.username}@127.0.0.1:{self.port}>",
        )  # fmt: skip
        assert status == 200

    def known(self, tracker: RegistrationTracker) -> bool:
        """The tracker holds this phone's binding (and counts the device registered)."""
        usernames = {r.username for r in tracker.of_device(self.device_id)}
        return self.username in usernames and tracker.is_registered(self.device_id)


class Watch:
    """What a feed tells (sources, device events, reconnects) and the client calls it makes
    (`call` is the feed's caller: every request goes through it)."""

    def __init__(self) -> None:
        self.feed: RegistrationFeed | None = None
        self.sources: list[tuple[Source, str]] = []
        self.devices: list[tuple[str, str]] = []
        self.reconnects = 0
        self.started: Counter[str] = Counter()
        self.finished: Counter[str] = Counter()
        self.live_polls_done = 0  # polls begun while the feed was live, answered
        # per request name: an async hook run before the request (to hold it back)
        self.before: dict[str, Callable[[], Awaitable[None]]] = {}
        # per request name: an async hook run after the answer, before the feed sees it
        self.after: dict[str, Callable[[], Awaitable[None]]] = {}

    async def call(self, request: Callable[..., Awaitable[T]], *args: object) -> T:
        name = getattr(request, "__name__", "?")
        if name in self.before:
            await self.before[name]()
        live = self.feed is not None and self.feed.live
        self.started[name] += 1
        try:
            result = await request(*args)
        finally:
            self.finished[name] += 1
        if name == "registrations" and live:
            self.live_polls_done += 1
        if name in self.after:
            await self.after[name]()
        return result

    def source(self, source: Source, detail: str) -> None:
        self.sources.append((source, detail))

    def device(self, action: str, device_id: str) -> None:
        self.devices.append((action, device_id))

    def of_device(self, device_id: str) -> list[str]:
        return [action for action, d in self.devices if d == device_id]

    def reconnected(self) -> None:
        self.reconnects += 1


@asynccontextmanager
async def following(
    server: Server,
    watch: Watch,
    *,
    websocket_url: str | None = None,
    poll_interval: float = NEVER,
) -> AsyncIterator[tuple[RegistrationFeed, asyncio.Task[None]]]:
    """A feed of the demo company's registrations on `server`, running (cancelled on exit;
    a feed that crashed meanwhile raises its error there)."""
    client = KazooClient(server.api)
    who = server.ready
    await client.login(
        account_name=who["account_name"], username=who["username"], password=who["password"]
    )
    feed = RegistrationFeed(
        client,
        RegistrationTracker(),
        websocket_url=websocket_url or server.ready["websocket"],
        poll_interval=poll_interval,
        call=watch.call,
        on_source=watch.source,
        on_device=watch.device,
        on_reconnect=watch.reconnected,
    )
    watch.feed = feed
    task = asyncio.create_task(feed.run())
    try:
        yield feed, task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()


def account_api(server: Server) -> Api:
    return Api.logged_in(server)


async def api_call(api: Api, method: str, path: str, data: Any = None) -> dict[str, Any]:
    return await asyncio.to_thread(api.ok, method, path, data)


# ---- live: the registrar's events -------------------------------------------------------------


def test_live_registrations_come_from_the_registrars_events(server: Server) -> None:
    with account_api(server) as api:
        phone = Phone(api, "Feed Live Desk")

        async def scenario() -> None:
            watch = Watch()
            async with following(server, watch) as (feed, _task):
                await until(lambda: feed.live and feed.source is Source.LIVE, "the feed is live")
                assert watch.sources[-1] == (Source.LIVE, "registrar events")
                assert feed.following_devices
                # the resync after connecting is done: the next poll is RESYNC_S away
                await until(lambda: watch.live_polls_done >= 1, "the resync poll after connecting")
                assert RESYNC_S >= 60
                polls = watch.started["registrations"]
                assert not phone.known(feed.tracker)

                await phone.register(server)
                await until(lambda: phone.known(feed.tracker), "the REGISTER in the tracker")
                assert watch.started["registrations"] == polls  # an event brought it
                [registration] = feed.tracker.of_device(phone.device_id)
                assert registration.contact == f"sip:{phone.username}@127.0.0.1:{phone.port}"
                assert registration.user_agent == "Test Phone"

                await phone.register(server, expires=0)
                await until(
                    lambda: not feed.tracker.of_device(phone.device_id), "the binding removed"
                )
                assert not feed.tracker.is_registered(phone.device_id)
                assert watch.started["registrations"] == polls
                assert feed.source is Source.LIVE and feed.live
                assert Source.OFFLINE not in [s for s, _ in watch.sources]

        run(scenario())


def test_device_edits_are_reported_once_each_but_not_the_feeds_own(server: Server) -> None:
    with account_api(server) as api:
        phone = Phone(api, "Feed Edited Desk")
        path = f"{api.account}/devices/{phone.device_id}"

        async def marker(watch: Watch) -> None:
            """A device created now: once its event is in, every earlier one is too (one
            socket delivers in order)."""
            created = await api_call(api, "PUT", f"{api.account}/devices", {"name": "Marker"})
            device_id = created["data"]["id"]
            await until(lambda: ("created", device_id) in watch.devices, "the marker's event")

        async def scenario() -> None:
            watch = Watch()
            async with following(server, watch) as (feed, _task):
                await until(lambda: feed.following_devices, "device events followed")
                await api_call(api, "PATCH", path, {"name": "Edited Once"})
                await until(lambda: watch.of_device(phone.device_id) == ["edited"], "edit 1")
                await api_call(api, "PATCH", path, {"name": "Edited Twice"})
                await until(lambda: len(watch.of_device(phone.device_id)) == 2, "edit 2")
                await marker(watch)
                assert watch.of_device(phone.device_id) == ["edited", "edited"]

                # an edit of the app's own, its revision noted: no reload asked for it
                own = await feed.client.patch_device(phone.device_id, {"name": "Own Edit"}, None)
                assert own.revision
                feed.note_revision(phone.device_id, own.revision)
                await marker(watch)
                assert watch.of_device(phone.device_id) == ["edited", "edited"]

                # and the next edit from elsewhere is reported again
                await api_call(api, "PATCH", path, {"name": "Edited Elsewhere"})
                await until(lambda: len(watch.of_device(phone.device_id)) == 3, "edit 3")
                await marker(watch)
                assert watch.of_device(phone.device_id) == ["edited"] * 3

                await api_call(api, "DELETE", path)
                await until(lambda: watch.of_device(phone.device_id)[-1] == "deleted", "delete")
                assert watch.of_device(phone.device_id) == ["edited"] * 3 + ["deleted"]

        run(scenario())


def test_a_poll_answered_before_the_subscription_is_not_taken_as_the_resync(
    server: Server,
) -> None:
    with account_api(server) as api:
        phone = Phone(api, "Feed Between")

        async def scenario() -> None:
            watch = Watch()
            answered, go_on = asyncio.Event(), asyncio.Event()
            may_connect = asyncio.Event()

            async def slow_answer() -> None:  # the first poll's answer reaches us late
                watch.after.pop("registrations")
                answered.set()
                await go_on.wait()

            async def held_back() -> None:  # the websocket connects after the REGISTER
                watch.before.pop("websocket_bindings")
                await may_connect.wait()

            watch.after["registrations"] = slow_answer
            watch.before["websocket_bindings"] = held_back
            async with following(server, watch) as (feed, _task):
                await until(answered.is_set, "the first poll answered")
                await phone.register(server)  # after that answer, before any subscription
                may_connect.set()
                await until(lambda: feed.live, "the feed is live")
                go_on.set()  # the old answer goes in now; the connect asked for a resync
                await until(lambda: phone.known(feed.tracker), "the phone after the resync")

        run(scenario())


# ---- polling: a server without registration events ----------------------------------------------


def test_without_registration_events_the_feed_polls(tmp_path: Path) -> None:
    polled = start_server(tmp_path / "store", registration_events=False)
    try:
        with account_api(polled) as api:

            async def scenario() -> None:
                watch = Watch()
                async with following(polled, watch, poll_interval=0.2) as (feed, _task):
                    await until(lambda: feed.source is Source.POLLING, "the feed polls")
                    assert watch.sources[-1] == (Source.POLLING, "every 0.2 s")
                    await until(lambda: feed.following_devices, "device events followed")
                    assert not feed.live

                    phone = await asyncio.to_thread(Phone, api, "Feed Polled Desk")
                    await until(
                        lambda: ("created", phone.device_id) in watch.devices, "created event"
                    )
                    polls = watch.started["registrations"]
                    await phone.register(polled)
                    await until(lambda: phone.known(feed.tracker), "the REGISTER, by a poll")
                    assert watch.started["registrations"] > polls
                    assert watch.started["registered_device_ids"] > 0  # /devices/status too

                    await phone.register(polled, expires=0)
                    await until(
                        lambda: not feed.tracker.is_registered(phone.device_id), "unregistered"
                    )
                    assert not feed.tracker.of_device(phone.device_id)
                    assert not feed.live
                    assert {s for s, _ in watch.sources} == {Source.POLLING}

            run(scenario())
    finally:
        polled.runner.stop_thread()


# ---- offline: the server goes away -------------------------------------------------------------


@pytest.mark.parametrize("events", [True, False], ids=["live", "polling"])
def test_a_server_that_goes_away_makes_the_feed_offline(tmp_path: Path, events: bool) -> None:
    own = start_server(tmp_path / "store", registration_events=events)
    try:
        with account_api(own) as api:
            phone = Phone(api, "Feed Offline Desk")

        async def scenario() -> None:
            watch = Watch()
            async with following(own, watch, poll_interval=0.2) as (feed, task):
                expected = Source.LIVE if events else Source.POLLING
                await until(lambda: feed.source is expected, f"the feed is {expected}")
                await phone.register(own)
                await until(lambda: phone.known(feed.tracker), "the REGISTER in the tracker")

                await asyncio.to_thread(own.runner.stop_thread)
                await until(lambda: feed.source is Source.OFFLINE, "the feed is offline")
                assert not feed.live and not feed.following_devices
                assert watch.sources[-1][0] is Source.OFFLINE
                assert "127.0.0.1" in watch.sources[-1][1]  # which server could not be reached
                # what was known stays: an unanswered poll is no empty snapshot
                assert phone.known(feed.tracker)
                assert not task.done()

        run(scenario())
    finally:
        own.runner.stop_thread()


# ---- reconnect: the server comes back ---------------------------------------------------------


def free_ports() -> tuple[int, int, int]:
    """Free TCP ports for the API and the websocket, and one free for both UDP and TCP for
    the SIP registrar (all on 127.0.0.1)."""
    held: list[socket.socket] = []
    try:
        ports: list[int] = []
        for _ in range(2):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
            ports.append(sock.getsockname()[1])
        while True:
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.bind(("127.0.0.1", 0))
            held.append(tcp)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp.bind(("127.0.0.1", tcp.getsockname()[1]))
            except OSError:
                udp.close()
                continue
            held.append(udp)
            return ports[0], ports[1], tcp.getsockname()[1]
    finally:
        for sock in held:
            sock.close()


def server_on(data_dir: Path, ports: tuple[int, int, int]) -> Server:
    """A demo simulator on fixed ports (`start_server` always asks for port 0)."""
    port, ws_port, sip_port = ports
    options = ServeOptions(
        data_dir=data_dir, port=port, ws_port=ws_port, sip_port=sip_port, demo=True
    )
    runner = SimulatorRunner(options)
    return Server(runner, runner.start_in_thread())


def test_the_feed_reconnects_to_a_server_back_before_its_retry(tmp_path: Path) -> None:
    """The server restarted on the same ports and store while the first retry was pending
    (held back here until the new server listens): the feed reconnects by itself, says so
    once, and resyncs what changed meanwhile."""
    ports = free_ports()
    first = server_on(tmp_path / "store", ports)
    servers = [first]
    try:
        with account_api(first) as api:
            before = Phone(api, "Feed Before Restart")
            during = Phone(api, "Feed During Restart")

        async def scenario() -> None:
            watch = Watch()
            back = asyncio.Event()
            async with following(first, watch) as (feed, task):
                await until(lambda: feed.live, "the feed is live")
                token = feed.client.auth.token if feed.client.auth else None
                await before.register(first)
                await until(lambda: before.known(feed.tracker), "the first REGISTER")

                watch.before["websocket_bindings"] = back.wait  # the retry waits for the server
                await asyncio.to_thread(first.runner.stop_thread)
                await until(lambda: feed.source is Source.OFFLINE, "offline while stopped")
                assert not feed.live and watch.reconnects == 0

                again = await asyncio.to_thread(server_on, tmp_path / "store", ports)
                servers.append(again)
                assert again.ready["websocket"] == first.ready["websocket"]
                await during.register(again)  # before the reconnect; no event can tell it
                back.set()
                await until(lambda: feed.live and feed.source is Source.LIVE, "live again")
                assert watch.reconnects == 1
                await until(lambda: during.known(feed.tracker), "the REGISTER made meanwhile")
                # the registrar's bindings did not survive the restart, and the resync says so
                await until(lambda: not before.known(feed.tracker), "the lost binding gone")
                # the restarted simulator signs with the key kept in its store: the token held
                assert feed.client.auth is not None and feed.client.auth.token == token
                assert watch.reconnects == 1
                assert not task.done()

        run(scenario())
    finally:
        for each in servers:
            each.runner.stop_thread()


def test_the_feed_reconnects_to_a_server_away_for_a_while(tmp_path: Path) -> None:
    """Still away when the first retry asks `GET /websockets`: the feed asks again, with the
    pauses growing, and reconnects once the server is back."""
    ports = free_ports()
    first = server_on(tmp_path / "store", ports)
    servers = [first]
    try:
        with account_api(first) as api:
            phone = Phone(api, "Feed Away A While")

        async def scenario() -> None:
            watch = Watch()
            async with following(first, watch) as (feed, task):
                await until(lambda: feed.live, "the feed is live")
                tries = watch.finished["websocket_bindings"]
                await asyncio.to_thread(first.runner.stop_thread)
                await until(lambda: feed.source is Source.OFFLINE, "offline while stopped")
                # away long enough for a reconnect attempt to fail
                await until(lambda: watch.finished["websocket_bindings"] > tries, "a retry")

                again = await asyncio.to_thread(server_on, tmp_path / "store", ports)
                servers.append(again)
                await phone.register(again)
                # pauses of 0.25 s, 0.5 s, 1 s, ...: the next attempt comes well within the wait
                await until(lambda: feed.live and feed.source is Source.LIVE, "live again")
                assert watch.reconnects == 1
                await until(lambda: phone.known(feed.tracker), "the REGISTER made meanwhile")
                assert not task.done()

        run(scenario())
    finally:
        for each in servers:
            each.runner.stop_thread()


# ---- a websocket that cannot be reached ---------------------------------------------------------


def closed_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_websocket_leaves_the_feed_polling_with_bounded_retries(
    server: Server,
) -> None:
    with account_api(server) as api:
        phone = Phone(api, "Feed No Socket")

    async def scenario() -> None:
        watch = Watch()
        url = f"ws://127.0.0.1:{closed_port()}"
        async with following(server, watch, websocket_url=url, poll_interval=0.2) as (feed, task):
            await until(lambda: feed.source is Source.POLLING, "the feed polls")
            loop = asyncio.get_running_loop()
            start, attempts = loop.time(), watch.started["websocket_bindings"]
            await asyncio.sleep(2.0)
            elapsed = loop.time() - start
            tried = watch.started["websocket_bindings"] - attempts
            # one attempt per pause, the pauses doubling from RECONNECT_FIRST_S
            bound = 2 + math.log2(elapsed / RECONNECT_FIRST_S + 1)
            assert 1 <= tried <= bound, (tried, elapsed)
            assert not task.done()
            assert not feed.live and not feed.following_devices
            assert {s for s, _ in watch.sources} == {Source.POLLING}

            await phone.register(server)
            await until(lambda: phone.known(feed.tracker), "the REGISTER, by a poll")
            assert feed.source is Source.POLLING

    run(scenario())


# ---- cancelled -------------------------------------------------------------------------------


def others(before: set[asyncio.Task[Any]]) -> list[str]:
    """The tasks of the running loop that were not there `before` (what a feed left
    running), by their coroutine's name."""
    return sorted(t.get_coro().__qualname__ for t in asyncio.all_tasks() - before)


async def cancelled(task: asyncio.Task[None]) -> None:
    """Cancel the feed's task; it must end within 5 s, as cancelled."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert task.cancelled()


@contextlib.contextmanager
def unclosed_resources() -> Iterator[list[str]]:
    """Collects ResourceWarnings and the loops' "Unclosed ..." reports (aiohttp's unclosed
    client sessions are both), garbage collected at the end."""
    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield found
        gc.collect()
    found.extend(str(w.message) for w in caught if w.category is ResourceWarning)


def reporting(found: list[str]) -> None:
    """The running loop's exception reports go to `found`."""
    asyncio.get_running_loop().set_exception_handler(
        lambda _loop, context: found.append(str(context.get("message")))
    )


def test_a_cancelled_feed_ends_and_its_websocket_closes(tmp_path: Path) -> None:
    own = start_server(tmp_path / "store")
    try:
        events = own.runner.sim.events if own.runner.sim is not None else None
        assert events is not None

        async def scenario() -> None:
            watch = Watch()
            async with following(own, watch) as (feed, task):
                await until(lambda: feed.live, "the feed is live")
                await until(lambda: len(events) == 1, "the server holds the websocket")
                await cancelled(task)
                await until(lambda: len(events) == 0, "the server saw the websocket close")

        run(scenario())
    finally:
        own.runner.stop_thread()


def test_a_cancelled_live_feed_has_closed_its_websocket_when_run_returns(server: Server) -> None:
    with unclosed_resources() as found:

        async def scenario() -> None:
            reporting(found)
            watch, before = Watch(), asyncio.all_tasks()
            async with following(server, watch) as (feed, task):
                await until(lambda: feed.live, "the feed is live")
                await cancelled(task)
                assert others(before) == []  # no close still going on behind run()'s back
            # the loop ends now, as at the app's exit

        run(scenario())
    assert found == []


def test_a_feed_cancelled_while_reconnecting_ends_cleanly(server: Server) -> None:
    with unclosed_resources() as found:

        async def scenario() -> None:
            reporting(found)
            watch, before = Watch(), asyncio.all_tasks()
            url = f"ws://127.0.0.1:{closed_port()}"
            async with following(server, watch, websocket_url=url) as (_feed, task):
                await until(lambda: watch.finished["websocket_bindings"] >= 2, "a retry")
                await asyncio.sleep(0.1)  # its connect refused: in the pause before the next
                await cancelled(task)
                assert others(before) == []

        run(scenario())
    assert found == []
