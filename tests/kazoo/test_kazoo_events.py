"""The event websocket client (kazoodesk.kazoo.events) against the simulator's blackhole on
127.0.0.1, and against small stand-ins for what the simulator never does (no pong, no reply)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from kazoo_support import standin

from helpers import DEMO, Api, Server, own_server, own_server_fixture, sip_register, token_for
from kazoodesk.kazoo.events import (
    BATCH_LIMIT,
    EventSocket,
    EventSocketError,
    SocketEvent,
    SubscriptionRefused,
    default_websocket_url,
)
from kazoodesk.simulator.http import websocket

server = own_server_fixture("kazoo-events")


def run(scenario: Awaitable[None]) -> None:
    """Run a scenario on a loop of its own, bounded to a minute."""
    asyncio.run(asyncio.wait_for(scenario, 60))


@pytest.fixture(scope="module")
def token(server: Server) -> str:
    return token_for(server.api, server.ready)


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[Api]:
    with Api.logged_in(server) as client:
        yield client


@asynccontextmanager
async def connected(url: str, token: str | None, **options: Any) -> AsyncIterator[EventSocket]:
    socket_ = EventSocket(url, lambda: token, **options)
    await socket_.connect()
    try:
        yield socket_
    finally:
        await socket_.close()


async def next_event(socket_: EventSocket, wanted: Callable[[SocketEvent], bool]) -> SocketEvent:
    """The first event `wanted` accepts (events of other tests' edits are skipped)."""
    async for batch in socket_.events():
        for event in batch:
            if wanted(event):
                return event
    raise AssertionError("unreachable: events() ends by raising")


def some_device(api: Api) -> dict[str, Any]:
    """A demo device with SIP credentials (the full document)."""
    rows = api.ok("GET", f"{api.account}/devices", params={"paginate": "false"})["data"]
    for row in rows:
        doc = api.ok("GET", f"{api.account}/devices/{row['id']}")["data"]
        if doc.get("sip", {}).get("password") and doc["sip"].get("username"):
            return doc  # type: ignore[no-any-return]
    raise AssertionError("the demo data has a device with SIP credentials")


# ---- against the simulator -----------------------------------------------------------------


def test_a_device_edit_arrives_as_doc_edited(server: Server, token: str, api: Api) -> None:
    device = some_device(api)

    async def scenario() -> None:
        async with connected(server.ready["websocket"], token) as events:
            assert events.connected
            await events.subscribe(DEMO, "object.doc_edited.device")
            path = f"{api.account}/devices/{device['id']}"
            edited = await asyncio.to_thread(api.ok, "PATCH", path, {"name": "Events edit"})
            event = await next_event(events, lambda e: e.data.get("rev") == edited["revision"])
            assert (event.binding, event.name) == ("object.doc_edited.device", "doc_edited")
            assert event.data["id"] == device["id"]
            assert event.routing_key.endswith(f".device.{device['id']}")
        assert not events.connected

    run(scenario())


def test_unsubscribed_events_stop_coming(server: Server, token: str, api: Api) -> None:
    device = some_device(api)

    async def scenario() -> None:
        async with connected(server.ready["websocket"], token) as events:
            await events.subscribe(DEMO, "object.doc_edited.device")
            await events.subscribe(DEMO, "object.doc_created.device")
            await events.unsubscribe(DEMO, "object.doc_edited.device")
            path = f"{api.account}/devices/{device['id']}"
            await asyncio.to_thread(api.ok, "PATCH", path, {"name": "Not told"})
            created = await asyncio.to_thread(
                api.ok, "PUT", f"{api.account}/devices", {"name": "Told"}
            )
            # the edit, published first, would come first if still subscribed
            event = (await anext(events.events()))[0]
            assert (event.name, event.data["id"]) == ("doc_created", created["data"]["id"])

    run(scenario())


def test_a_sip_register_arrives_as_registered(server: Server, token: str, api: Api) -> None:
    device = some_device(api)
    sip = device["sip"]

    async def scenario() -> None:
        async with connected(server.ready["websocket"], token) as events:
            await events.subscribe(DEMO, "registration.registered")
            status = await asyncio.to_thread(
                sip_register, server, sip["username"], sip["password"], server.ready["realm"]
            )
            assert status == 200
            event = await next_event(events, lambda e: e.data.get("device_id") == device["id"])
            assert (event.binding, event.name) == ("registration.registered", "registered")
            assert event.data["username"] == sip["username"]
            assert event.data["account_id"] == DEMO

    run(scenario())


def test_many_edits_all_arrive_in_order(server: Server, token: str, api: Api) -> None:
    device = some_device(api)
    path = f"{api.account}/devices/{device['id']}"

    def edit_many(count: int) -> list[str]:
        return [api.ok("PATCH", path, {"name": f"Burst {n}"})["revision"] for n in range(count)]

    async def scenario() -> None:
        async with connected(server.ready["websocket"], token) as events:
            await events.subscribe(DEMO, "object.doc_edited.device")
            editing = asyncio.create_task(asyncio.to_thread(edit_many, 150))
            seen: list[str] = []
            async for batch in events.events():
                assert 0 < len(batch) <= BATCH_LIMIT
                seen += [e.data["rev"] for e in batch if e.data["id"] == device["id"]]
                if len(seen) >= 150:
                    break
            assert seen == await editing

    run(scenario())


def test_a_binding_of_a_module_not_loaded_is_unavailable(server: Server, token: str) -> None:
    async def scenario() -> None:
        async with connected(server.ready["websocket"], token) as events:
            with pytest.raises(SubscriptionRefused) as refused:
                await events.subscribe(DEMO, "call.CHANNEL_CREATE.*")
            assert refused.value.errors == ["no available subscriptions to requested binding"]
            assert refused.value.unavailable and not refused.value.auth_failed
            assert "call.CHANNEL_CREATE.*" in str(refused.value)
            # the connection stays usable
            await events.subscribe(DEMO, "object.doc_edited.device")
            assert events.connected

    run(scenario())


@pytest.mark.parametrize("bad", ["not-a-token", None], ids=["wrong", "missing"])
def test_a_bad_token_is_an_auth_failure(server: Server, bad: str | None) -> None:
    async def scenario() -> None:
        async with connected(server.ready["websocket"], bad) as events:
            with pytest.raises(SubscriptionRefused) as refused:
                await events.subscribe(DEMO, "object.doc_edited.device")
            assert refused.value.auth_failed and not refused.value.unavailable
            assert "not-a-token" not in str(refused.value)  # the echoed token is not shown

    run(scenario())


def test_a_stopped_server_ends_events(tmp_path_factory: pytest.TempPathFactory) -> None:
    with own_server(tmp_path_factory, "kazoo-events-stopped") as doomed:
        url = doomed.ready["websocket"]
        token = token_for(doomed.api, doomed.ready)

        async def scenario() -> None:
            async with connected(url, token) as events:
                await events.subscribe(DEMO, "object.doc_edited.device")
                await asyncio.to_thread(doomed.runner.stop_thread)
                with pytest.raises(EventSocketError, match="closed by the server"):
                    async for _batch in events.events():
                        pass
                assert not events.connected
                with pytest.raises(EventSocketError):
                    await events.subscribe(DEMO, "object.doc_created.device")
            with pytest.raises(EventSocketError, match=f"cannot reach {url}: "):
                await EventSocket(url, lambda: token).connect()

        run(scenario())


def test_a_port_nobody_listens_on_is_a_clear_error() -> None:
    with socket.socket() as bound:  # bound, not listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{bound.getsockname()[1]}"

        async def scenario() -> None:
            events = EventSocket(url, lambda: "t")
            with pytest.raises(EventSocketError) as failed:
                await events.connect()
            assert str(failed.value) == f"cannot reach {url}: connection refused"
            assert not events.connected
            with pytest.raises(EventSocketError, match="not connected"):
                await events.subscribe(DEMO, "object.doc_edited.device")

        run(scenario())


def test_pings_keep_an_idle_connection_open(
    server: Server, token: str, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(websocket, "IDLE_TIMEOUT_S", 0.5)
    device = some_device(api)
    url = server.ready["websocket"]

    async def scenario() -> None:
        async with (
            connected(url, token, ping_interval=0.1) as pinged,
            connected(url, token, ping_interval=3600) as silent,
        ):
            await pinged.subscribe(DEMO, "object.doc_edited.device")
            await silent.subscribe(DEMO, "object.doc_edited.device")
            # the silent one is closed by the idle timeout ...
            with pytest.raises(EventSocketError, match=r"\(code 1000\)"):
                async for _batch in silent.events():
                    pass
            # ... which the pinged one, idle as long, outlived
            assert pinged.connected
            path = f"{api.account}/devices/{device['id']}"
            edited = await asyncio.to_thread(api.ok, "PATCH", path, {"name": "Still here"})
            event = await next_event(pinged, lambda e: e.data.get("rev") == edited["revision"])
            assert event.data["id"] == device["id"]

    run(scenario())


# ---- against stand-ins ---------------------------------------------------------------------


def mute_websocket(received: list[dict[str, Any]]) -> Callable[[web.Request], Awaitable[Any]]:
    """A websocket that notes what it is sent and never answers: no reply, no pong."""

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                received.append(json.loads(message.data))
        return ws

    return handler


def burst_websocket(count: int) -> Callable[[web.Request], Awaitable[Any]]:
    """A websocket that answers a request with `count` events first, then the reply."""

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            request_id = json.loads(message.data)["request_id"]
            for n in range(count):
                event = {"action": "event", "subscribed_key": "b", "name": "e", "data": {"n": n}}
                await ws.send_str(json.dumps({**event, "routing_key": f"k.{n}"}))
            reply = {"request_id": request_id, "status": "success", "data": {}}
            await ws.send_str(json.dumps({"action": "reply", **reply}))
        return ws

    return handler


@asynccontextmanager
async def on_standin(
    handler: Callable[[web.Request], Awaitable[Any]], token: str, **options: Any
) -> AsyncIterator[EventSocket]:
    """An EventSocket connected to a stand-in websocket served by `handler`."""
    async with standin({("GET", "/"): handler}) as api_url:
        url = api_url.replace("http://", "ws://").removesuffix("/v2") + "/"
        async with connected(url, token, **options) as events:
            yield events


def test_requests_have_the_43_form_and_time_out_unanswered() -> None:
    received: list[dict[str, Any]] = []

    async def scenario() -> None:
        async with on_standin(mute_websocket(received), "tok", reply_timeout=0.3) as events:
            with pytest.raises(EventSocketError, match="no reply to subscribe object"):
                await events.subscribe("acc", "object.doc_edited.device")
            assert events.connected  # a late reply is no reason to give the socket up

    run(scenario())
    assert received == [
        {
            "action": "subscribe",
            "auth_token": "tok",
            "request_id": received[0]["request_id"],
            "data": {"account_id": "acc", "binding": "object.doc_edited.device"},
        }
    ]
    assert len(received[0]["request_id"]) == 32


def test_an_unanswered_ping_breaks_the_connection() -> None:
    async def scenario() -> None:
        options = {"ping_interval": 0.05, "reply_timeout": 0.3}
        async with on_standin(mute_websocket([]), "t", **options) as events:
            with pytest.raises(EventSocketError, match="did not answer a ping within 0.3 s"):
                async for _batch in events.events():
                    pass
            assert not events.connected

    run(scenario())


def test_buffered_events_come_in_batches_in_order() -> None:
    count = 2 * BATCH_LIMIT + 7

    async def scenario() -> None:
        async with on_standin(burst_websocket(count), "t") as events:
            # the reply comes after the events: all of them are read by then
            await events.subscribe("acc", "b")
            stream = events.events()
            batches = [await anext(stream) for _ in range(3)]
        assert [len(batch) for batch in batches] == [BATCH_LIMIT, BATCH_LIMIT, 7]
        flat = [event for batch in batches for event in batch]
        assert [event.data["n"] for event in flat] == list(range(count))
        assert flat[1] == SocketEvent(binding="b", name="e", routing_key="k.1", data={"n": 1})

    run(scenario())


def test_events_end_after_close() -> None:
    async def scenario() -> None:
        async with on_standin(burst_websocket(3), "t") as events:
            await events.subscribe("acc", "b")
            await events.close()
            stream = events.events()
            assert len(await anext(stream)) == 3  # what was read before the close comes first
            with pytest.raises(EventSocketError, match="was closed"):
                await anext(stream)
            with pytest.raises(EventSocketError, match="already used"):
                await events.connect()

    run(scenario())


# ---- the URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        ("http://kazoo.example.com:8000/v2", "ws://kazoo.example.com:5555"),
        ("https://kazoo.example.com/v2/", "wss://kazoo.example.com:5556"),
        ("http://user:pw@10.0.0.5:8000", "ws://10.0.0.5:5555"),
        ("http://[2001:db8::1]:8000/v2", "ws://[2001:db8::1]:5555"),
    ],
)
def test_default_websocket_url(api_url: str, expected: str) -> None:
    assert default_websocket_url(api_url) == expected


def test_default_websocket_url_needs_an_http_url() -> None:
    with pytest.raises(ValueError):
        default_websocket_url("ftp://kazoo.example.com")
