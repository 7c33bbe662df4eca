"""The event websocket (Kazoo 4.3 blackhole, kazoo-blackhole.md), over a real websocket on
127.0.0.1 with aiohttp's client; REST edits through httpx."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import os
import re
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx
import pytest

from helpers import ACME, DEMO, GLOBEX, Server, own_server_fixture, token_for
from kazoodesk.simulator.http import websocket
from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner

server = own_server_fixture("websocket-store")

DEVICE_BINDINGS = [f"object.{a}.device" for a in ("doc_created", "doc_edited", "doc_deleted")]
DEMO_DB = f"account%2F{DEMO[:2]}%2F{DEMO[2:4]}%2F{DEMO[4:]}"


def in_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test on a loop of its own, bounded to a minute."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(asyncio.wait_for(test(*args, **kwargs), 60))

    return run


class Socket:
    """A blackhole client: requests get their reply; events met meanwhile wait in `events`."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: deque[dict[str, Any]] = deque()

    async def request(
        self, action: str, data: Any = None, token: Any = None, **extra: Any
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"action": action, "request_id": "r-1", **extra}
        if token is not None:
            message["auth_token"] = token
        if data is not None:
            message["data"] = data
        await self.ws.send_str(json.dumps(message))
        return await self.reply()

    async def subscribe(self, account_id: str, binding: str, token: Any = None) -> dict[str, Any]:
        data = {"account_id": account_id, "binding": binding}
        return await self.request("subscribe", data, token)

    async def reply(self) -> dict[str, Any]:
        while True:
            message = await self.next()
            if message["action"] == "reply":
                return message
            self.events.append(message)

    async def event(self) -> dict[str, Any]:
        message = self.events.popleft() if self.events else await self.next()
        assert message["action"] == "event", message
        return message

    async def next(self) -> dict[str, Any]:
        frame = await self.ws.receive(timeout=10)
        assert frame.type is aiohttp.WSMsgType.TEXT, frame
        decoded: dict[str, Any] = json.loads(frame.data)
        return decoded

    async def closed_with(self) -> int | None:
        """The close code the server sends next."""
        frame = await self.ws.receive(timeout=10)
        assert frame.type is aiohttp.WSMsgType.CLOSE, frame
        return self.ws.close_code


@asynccontextmanager
async def connect(server: Server, path: str = "") -> AsyncIterator[Socket]:
    url = server.ready["websocket"] + path
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        yield Socket(ws)


@asynccontextmanager
async def rest(server: Server, token: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"X-Auth-Token": token}
    async with httpx.AsyncClient(base_url=server.api, headers=headers, timeout=30) as client:
        yield client


def success(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["status"] == "success", reply
    data: dict[str, Any] = reply["data"]
    return data


def errors(reply: dict[str, Any]) -> list[str]:
    assert reply["status"] == "error", reply
    assert set(reply) == {"action", "request_id", "status", "data"}
    found: list[str] = reply["data"]["errors"]
    return found


@pytest.fixture(scope="module")
def demo_token(server: Server) -> str:
    return token_for(server.api, server.ready)


@pytest.fixture(scope="module")
def master_token(server: Server) -> str:
    return token_for(server.api, server.ready["master"])


# ---- document events ----------------------------------------------------------------------------


@in_loop
async def test_device_events_follow_rest_edits(server: Server, demo_token: str) -> None:
    async with connect(server) as bh, rest(server, demo_token) as api:
        for n, binding in enumerate(DEVICE_BINDINGS, 1):
            reply = await bh.subscribe(DEMO, binding, demo_token)
            assert reply == {
                "action": "reply",
                "request_id": "r-1",
                "status": "success",
                "data": {"subscribed": DEVICE_BINDINGS[:n]},
            }

        created = (
            await api.put(f"/accounts/{DEMO}/devices", json={"data": {"name": "WS 1"}})
        ).json()
        device_id = created["data"]["id"]
        event = await bh.event()
        assert event == {
            "action": "event",
            "subscribed_key": "object.doc_created.device",
            "subscription_key": f"doc_created.{DEMO_DB}.device.*",
            "name": "doc_created",
            "routing_key": f"doc_created.{DEMO_DB}.device.{device_id}",
            "data": event["data"],
        }
        data = event["data"]
        assert data == {
            "id": device_id,
            "origin_cache": "kazoo_data_cache",
            "type": "device",
            "database": DEMO_DB,
            "rev": created["revision"],
            "account_id": DEMO,
            "date_modified": data["date_modified"],
            "date_created": data["date_created"],
            "is_soft_deleted": False,
            "event_category": "configuration",
            "event_name": "doc_created",
            "app_name": "datamgr",
            "app_version": "4.0.0",
            "msg_id": data["msg_id"],
        }
        assert isinstance(data["date_created"], int) and len(data["msg_id"]) == 32

        path = f"/accounts/{DEMO}/devices/{device_id}"
        patched = (await api.patch(path, json={"data": {"name": "WS 1b"}})).json()
        event = await bh.event()
        assert (event["name"], event["subscribed_key"]) == (
            "doc_edited",
            "object.doc_edited.device",
        )
        assert (event["data"]["id"], event["data"]["rev"]) == (device_id, patched["revision"])

        deleted = await api.delete(path)
        assert deleted.status_code == 200
        event = await bh.event()
        assert (event["name"], event["data"]["id"]) == ("doc_deleted", device_id)
        assert event["data"]["is_soft_deleted"] is True
        assert event["routing_key"] == f"doc_deleted.{DEMO_DB}.device.{device_id}"

        # a hard delete says so
        other = (await api.put(f"/accounts/{DEMO}/devices", json={"data": {"name": "WS 2"}})).json()
        assert (await bh.event())["name"] == "doc_created"
        other_path = f"/accounts/{DEMO}/devices/{other['data']['id']}"
        await api.delete(other_path, params={"should_soft_delete": "false"})
        event = await bh.event()
        assert (event["name"], event["data"]["is_soft_deleted"]) == ("doc_deleted", False)
        assert not bh.events


@in_loop
async def test_user_events_and_unsubscribe(server: Server, demo_token: str) -> None:
    async with connect(server) as bh, rest(server, demo_token) as api:
        assert success(await bh.subscribe(DEMO, "object.*.user", demo_token)) == {
            "subscribed": ["object.*.user"]
        }
        user = {"first_name": "Web", "last_name": "Socket"}
        created = (await api.put(f"/accounts/{DEMO}/users", json={"data": user})).json()
        user_id = created["data"]["id"]
        event = await bh.event()
        assert (event["subscribed_key"], event["name"]) == ("object.*.user", "doc_created")
        assert event["subscription_key"] == f"*.{DEMO_DB}.user.*"
        assert (event["data"]["type"], event["data"]["id"]) == ("user", user_id)

        await api.patch(f"/accounts/{DEMO}/users/{user_id}", json={"data": {"first_name": "W"}})
        assert (await bh.event())["name"] == "doc_edited"

        # the token may be left out now: the connection is authenticated
        reply = await bh.request(
            "unsubscribe", {"account_id": DEMO, "binding": "object.*.user"}, request_id="u-1"
        )
        assert reply == {
            "action": "reply",
            "request_id": "u-1",
            "status": "success",
            "data": {"unsubscribed": ["object.*.user"], "subscribed": []},
        }
        # unsubscribing what was never subscribed succeeds too
        never = {"account_id": DEMO, "binding": "object.doc_edited.vmbox"}
        assert success(await bh.request("unsubscribe", never))["unsubscribed"] == [
            "object.doc_edited.vmbox"
        ]

        # no more user events: a device event, subscribed afterwards, comes first
        await bh.subscribe(DEMO, "object.doc_created.device")
        await api.delete(f"/accounts/{DEMO}/users/{user_id}")
        await api.put(f"/accounts/{DEMO}/devices", json={"data": {"name": "WS fence"}})
        event = await bh.event()
        assert (event["name"], event["data"]["type"]) == ("doc_created", "device")


@in_loop
async def test_subscribed_lists_every_binding_pair(
    server: Server, demo_token: str, master_token: str
) -> None:
    async with connect(server) as bh:
        # a type wildcard binds the account database and the month's one
        assert success(await bh.subscribe(DEMO, "object.*.*", demo_token)) == {
            "subscribed": ["object.*.*", "object.*.*"]
        }
        assert success(await bh.subscribe(DEMO, "object.*.*")) == {
            "subscribed": ["object.*.*", "object.*.*"]
        }
        assert success(await bh.subscribe(DEMO, "object.doc_deleted.fax"))["subscribed"] == [
            "object.*.*",
            "object.*.*",
            "object.doc_deleted.fax",
        ]
        # an unknown action gets the last data back (`bh_ping` is not loaded in 4.3)
        assert success(await bh.request("ping")) == {
            "subscribed": ["object.*.*", "object.*.*", "object.doc_deleted.fax"]
        }
    async with connect(server) as bh:
        await bh.subscribe(DEMO, "object.doc_edited.device", master_token)
        assert success(await bh.subscribe(GLOBEX, "object.doc_edited.device")) == {
            "subscribed": ["object.doc_edited.device", "object.doc_edited.device"]
        }


# ---- authentication, accounts, validation ------------------------------------------------------


@in_loop
async def test_token_rules(server: Server, demo_token: str) -> None:
    async with connect(server) as bh:
        assert errors(await bh.subscribe(DEMO, "object.*.device")) == [
            "authentication token required"
        ]
        assert errors(await bh.request("ping", token="")) == ["authentication token required"]
        assert errors(await bh.request("ping", token=12345)) == [
            "invalid authentication token format"
        ]
        assert errors(await bh.request("ping", token="nonsense")) == [
            "failed to authenticate token nonsense"
        ]
        tampered = demo_token[:-2] + ("AA" if not demo_token.endswith("AA") else "BB")
        assert errors(await bh.subscribe(DEMO, "object.*.device", tampered)) == [
            f"failed to authenticate token {tampered}"
        ]
        assert success(await bh.request("ping", token=demo_token)) == {}
        # sticky: once authenticated, later tokens are not looked at
        assert success(await bh.subscribe(DEMO, "object.*.device", "nonsense"))
        assert success(await bh.subscribe(DEMO, "object.*.user"))


@in_loop
async def test_account_rules(server: Server, demo_token: str, master_token: str) -> None:
    async with connect(server) as bh:
        for account_id in (GLOBEX, ACME):  # a sibling's, the parent's
            reply = await bh.subscribe(account_id, "object.doc_edited.device", demo_token)
            assert errors(reply) == ["unauthorized account id"]
        # a failed request authenticated nothing
        assert errors(await bh.request("ping")) == ["authentication token required"]
        assert errors(await bh.subscribe("*", "object.*.device", demo_token)) == [
            "unauthorized wildcard account id"
        ]
        assert success(await bh.subscribe(DEMO, "object.*.device", demo_token))
        # the first account stays the one checked, whatever token comes later
        assert errors(await bh.subscribe(GLOBEX, "object.*.device", master_token)) == [
            "unauthorized account id"
        ]
        # the account check comes before the binding's module is looked for
        assert errors(await bh.subscribe(GLOBEX, "call.CHANNEL_CREATE.*")) == [
            "unauthorized account id"
        ]
    async with connect(server) as bh:
        assert success(await bh.subscribe(GLOBEX, "object.*.device", master_token))
        assert success(await bh.subscribe("*", "object.doc_edited.user"))


@in_loop
async def test_invalid_subscriptions(server: Server, demo_token: str) -> None:
    bindings = [
        ("object.doc_edited.devices", "event doc_edited.devices not supported"),
        ("object.*.foo", "event *.foo not supported"),
        ("object.doc_foo.*", "event doc_foo.* not supported"),
        ("object.doc_edited", "invalid format for object subscription : doc_edited"),
        ("object.a.b.c", "invalid format for object subscription : a, b, c"),
        ("registration.foo", "invalid format for registration subscription : foo"),
        ("call.CHANNEL_CREATE.*", "no available subscriptions to requested binding"),
        ("presence.update.x", "no available subscriptions to requested binding"),
    ]
    cases = [
        (None, "missing required keys in data object"),
        ({}, "missing required keys in data object"),
        ({"bindings": ["object.*.device"]}, "missing required keys : account_id, binding"),
        ({"account_id": DEMO, "bindings": ["x"]}, "missing required keys : binding"),
        ({"binding": "object.*.device"}, "missing required keys : account_id"),
        *(({"account_id": DEMO, "binding": b}, error) for b, error in bindings),
    ]
    async with connect(server) as bh:
        for data, error in cases:
            for action in ("subscribe", "unsubscribe"):
                assert errors(await bh.request(action, data, demo_token)) == [error], data
        # none of them authenticated the connection
        assert errors(await bh.request("ping")) == ["authentication token required"]


@in_loop
async def test_malformed_frames(server: Server, demo_token: str) -> None:
    async with connect(server) as bh:
        # binary frames are ignored; request ids are echoed as strings or made up
        await bh.ws.send_bytes(b"\x00\x01")
        reply = await bh.request("ping", token=demo_token, request_id=42)
        assert (reply["request_id"], reply["status"]) == ("42", "success")
        await bh.ws.send_str(json.dumps({"auth_token": demo_token}))
        reply = await bh.reply()
        assert re.fullmatch("[0-9a-f]{32}", reply["request_id"]) and reply["status"] == "success"
    not_text = {"account_id": DEMO, "binding": 5}
    bad_frames = [
        "{nope",
        "[1, 2]",
        '{"action": "ping", "n": NaN}',
        json.dumps({"action": 5}),
        json.dumps({"action": "subscribe", "auth_token": demo_token, "data": not_text}),
    ]
    for frame in bad_frames:
        async with connect(server) as bh:
            await bh.ws.send_str(frame)
            assert await bh.closed_with() == 1011, frame


@in_loop
async def test_rate_limit(server: Server, demo_token: str) -> None:
    async with connect(server) as bh:
        host, port = bh.ws.get_extra_info("sockname")[:2]
        count = websocket.BUCKET_SIZE + 20
        frame = json.dumps({"action": "ping", "auth_token": demo_token, "request_id": "p"})
        for _ in range(count):
            await bh.ws.send_str(frame)
        replies = [await bh.reply() for _ in range(count)]
    assert all(r["status"] == "success" for r in replies[: websocket.BUCKET_SIZE])
    refused = [errors(r) for r in replies if r["status"] == "error"]
    assert refused and set(map(tuple, refused)) == {
        (f"rate limiting threshold hit for {host}:{port}!",)
    }


# ---- transport -------------------------------------------------------------------------------


@in_loop
async def test_any_path_and_no_subprotocol(server: Server, demo_token: str) -> None:
    async with connect(server, "/whatever/path") as bh:
        assert success(await bh.request("ping", token=demo_token)) == {}
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(server.ready["websocket"], protocols=("chat",))
        assert refused.value.status == 400


@in_loop
async def test_idle_connection_is_closed(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(websocket, "IDLE_TIMEOUT_S", 0.3)
    async with connect(server) as bh:
        assert await bh.closed_with() == 1000


# ---- registration events (not Kazoo) and the listing -------------------------------------------


@in_loop
async def test_registration_events(server: Server, demo_token: str) -> None:
    sim = server.runner.sim
    assert sim is not None
    realm = sim.accounts.get(DEMO)["realm"]  # type: ignore[index]
    phone = {
        "username": "ws phone",
        "realm": realm,
        "device_id": "d" * 32,
        "contact": "<sip:ws@127.0.0.1:5070>",
        "expires": 600,
        "user_agent": "test",
        "Source-IP": "127.0.0.1",
        "source_port": 5070,
    }
    async with connect(server) as bh:
        assert success(await bh.subscribe(DEMO, "registration.*", demo_token))
        assert success(await bh.subscribe(DEMO, "registration.success"))
        sim.events.publish_registration(DEMO, "registered", phone)  # from another thread

        event = await bh.event()
        assert {k: event[k] for k in ("subscribed_key", "subscription_key", "name")} == {
            "subscribed_key": "registration.*",
            "subscription_key": f"registration.*.{DEMO}.*",
            "name": "registered",
        }
        assert event["routing_key"] == f"registration.registered.{DEMO}.ws+phone"
        data = event["data"]
        assert (data["account_id"], data["event_name"], data["source_ip"]) == (
            DEMO,
            "registered",
            "127.0.0.1",
        )
        assert (data["username"], data["expires"], data["device_id"]) == ("ws phone", 600, "d" * 32)

        event = await bh.event()
        realm_key = realm.replace(".", "%2E")
        assert (event["subscribed_key"], event["name"]) == ("registration.success", "reg_success")
        assert event["subscription_key"] == f"registration.success.{realm_key}.*"
        assert event["routing_key"] == f"registration.success.{realm_key}.ws+phone"
        data = event["data"]
        assert (data["status"], data["expires"], data["first_registration"]) == (
            "Registered",
            600,
            True,
        )
        assert data["custom_channel_vars"]["authorizing_id"] == "d" * 32
        assert data["source_port"] == "5070"

        # another account's events do not come; each kind does
        sim.events.publish_registration(GLOBEX, "auth_failed", {"username": "x"})
        sim.events.publish_registration(DEMO, "notify_result", {**phone, "outcome": "timed_out"})
        event = await bh.event()
        assert (event["name"], event["data"]["outcome"]) == ("notify_result", "timed_out")
        sim.events.publish_registration(DEMO, "unregistered", {**phone, "expires": 0})
        assert (await bh.event())["name"] == "unregistered"
        event = await bh.event()
        assert (event["data"]["status"], event["data"]["expires"]) == ("Unregistered", 0)
        for kind in ("expired", "auth_failed", "refreshed"):
            sim.events.publish_registration(DEMO, kind, phone)
            assert (await bh.event())["name"] == kind
        assert (await bh.event())["name"] == "reg_success"  # refreshed is a reg_success too
        with pytest.raises(ValueError):
            sim.events.publish_registration(DEMO, "bogus", phone)


def test_websockets_listing(server: Server) -> None:
    reply = httpx.get(f"{server.api}/websockets", timeout=10)  # no token needed, as in Kazoo
    assert reply.status_code == 200, reply.text
    data = reply.json()["data"]
    assert set(data) == {"object", "registration"}
    assert len(data["object"]) == 30 and set(DEVICE_BINDINGS) <= set(data["object"])
    assert "object.doc_deleted.user" in data["object"]
    assert data["registration"] == [
        "registration.success",
        "registration.registered",
        "registration.refreshed",
        "registration.unregistered",
        "registration.expired",
        "registration.auth_failed",
        "registration.notify_result",
    ]


# ---- a stock Kazoo 4.3: no registration module ----------------------------------------------


@pytest.fixture(scope="module")
def stock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo server without registration events (`serve --no-registration-events`)."""
    options = ServeOptions(
        tmp_path_factory.mktemp("stock-43"), port=0, demo=True, registration_events=False
    )
    runner = SimulatorRunner(options)
    try:
        yield Server(runner, runner.start_in_thread())
    finally:
        runner.stop_thread()


def test_without_registration_events_the_listing_has_objects_only(stock_server: Server) -> None:
    reply = httpx.get(f"{stock_server.api}/websockets", timeout=10)
    assert reply.status_code == 200, reply.text
    data = reply.json()["data"]
    assert list(data) == ["object"]
    assert set(DEVICE_BINDINGS) <= set(data["object"])


@in_loop
async def test_without_registration_events_their_bindings_are_unavailable(
    stock_server: Server,
) -> None:
    unavailable = ["no available subscriptions to requested binding"]
    token = token_for(stock_server.api, stock_server.ready)
    async with connect(stock_server) as bh:
        # as for a module not loaded: nothing validates the keys, the account is checked
        assert errors(await bh.subscribe(GLOBEX, "registration.success", token)) == [
            "unauthorized account id"
        ]
        for binding in ("registration.success", "registration.*", "registration.foo.bar"):
            assert errors(await bh.subscribe(DEMO, binding, token)) == unavailable, binding
        assert success(await bh.subscribe(DEMO, "object.doc_edited.device", token)) == {
            "subscribed": ["object.doc_edited.device"]
        }
        sim = stock_server.runner.sim
        assert sim is not None
        sim.events.publish_registration(DEMO, "registered", {"username": "u", "realm": "r"})
        # the refused subscriptions bound nothing: this event, published first, would come first
        async with rest(stock_server, token) as api:
            devices = (await api.get(f"/accounts/{DEMO}/devices")).json()["data"]
            path = f"/accounts/{DEMO}/devices/{devices[0]['id']}"
            patched = await api.patch(path, json={"data": {"name": "Stock 4.3"}})
        event = await bh.event()
        assert (event["name"], event["data"]["rev"]) == ("doc_edited", patched.json()["revision"])


# ---- a subscriber that stops reading -------------------------------------------------------------


def stalled_client(url: str, frame: str) -> socket.socket:
    """A websocket client with a small receive buffer that sends `frame`, then never reads."""
    host, port = url.removeprefix("ws://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    payload, mask = frame.encode(), os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") + mask + masked)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Read what is left: True once the server has closed or reset the connection."""
    try:
        while sock.recv(1 << 20):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return False
    return True


@in_loop
async def test_stalled_subscriber_slows_nobody(
    server: Server, demo_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(websocket, "SEND_TIMEOUT_S", 0.5)
    sim = server.runner.sim
    assert sim is not None
    data = {"account_id": DEMO, "binding": "registration.*"}
    frame = json.dumps({"action": "subscribe", "auth_token": demo_token, "data": data})
    stalled = stalled_client(server.ready["websocket"], frame)
    blob = {"username": "flood", "realm": "x", "blob": "x" * 128_000}
    try:
        async with connect(server) as healthy, rest(server, demo_token) as api:
            await healthy.subscribe(DEMO, "object.doc_edited.device", demo_token)
            created = await api.put(f"/accounts/{DEMO}/devices", json={"data": {"name": "Fl"}})
            path = f"/accounts/{DEMO}/devices/{created.json()['data']['id']}"
            # more than the socket buffers hold: the stalled connection blocks, then closes
            for _ in range(100):
                sim.events.publish_registration(DEMO, "refreshed", blob)
                await asyncio.sleep(0.002)
            slowest = 0.0
            for n in range(10):
                started = time.monotonic()
                reply = await api.patch(path, json={"data": {"name": f"Fl {n}"}})
                slowest = max(slowest, time.monotonic() - started)
                assert reply.status_code == 200
                event = await healthy.event()
                assert event["data"]["rev"] == reply.json()["revision"]
            assert slowest < 1.0
            # the server gives up on the stalled connection; the healthy one stays
            for _ in range(200):
                if len(sim.events) == 1:
                    break
                await asyncio.sleep(0.05)
            assert len(sim.events) == 1
        assert await asyncio.to_thread(closed_by_server, stalled)
    finally:
        stalled.close()
