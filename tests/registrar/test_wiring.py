"""The registrar inside the simulator: a phone registering against the runner's registrar is
what the REST API lists, counts, flushes and notifies, and what the event websocket reports."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import socket
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from sip_client import Phone, SipClient

from helpers import DEMO, Server, own_server_fixture, sip_address, token_for

server = own_server_fixture("sip-wiring-store")


async def _event(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The data of the next `registration.<kind>` event (others skipped)."""
    while True:
        frame = await ws.receive(timeout=10)
        assert frame.type is aiohttp.WSMsgType.TEXT, frame
        message = json.loads(frame.data)
        if message.get("action") == "event" and message.get("name") == kind:
            data: dict[str, Any] = message["data"]
            return data


async def _subscribe(ws: aiohttp.ClientWebSocketResponse, token: str) -> None:
    data = {"account_id": DEMO, "binding": "registration.*"}
    request = {"action": "subscribe", "request_id": "r", "auth_token": token, "data": data}
    await ws.send_str(json.dumps(request))
    while True:
        message = json.loads((await ws.receive(timeout=10)).data)
        if message["action"] == "reply":
            assert message["status"] == "success", message
            return


async def _story(server: Server) -> None:
    token = token_for(server.api, server.ready)
    headers = {"X-Auth-Token": token}
    base = f"{server.api}/accounts/{DEMO}"
    user, password = f"wired_{secrets.token_hex(3)}", "pass-word-1"
    async with (
        httpx.AsyncClient(headers=headers, timeout=30) as rest,
        aiohttp.ClientSession() as session,
        session.ws_connect(server.ready["websocket"]) as ws,
    ):
        realm = (await rest.get(base)).json()["data"]["realm"]
        made = await rest.put(
            f"{base}/devices",
            json={"data": {"name": "Wired", "sip": {"username": user, "password": password}}},
        )
        assert made.status_code == 201, made.text
        device_id = made.json()["data"]["id"]
        await _subscribe(ws, token)

        client = await SipClient.udp(sip_address(server))
        try:
            phone = Phone(client, user, password)
            phone.realm = realm
            assert (await phone.register(300)).status == 200
            registered = await _event(ws, "registered")
            assert (registered["username"], registered["device_id"]) == (user, device_id)

            [row] = [r for r in (await rest.get(f"{base}/registrations")).json()["data"]
                     if r["username"] == user]  # fmt: skip
            assert row["authorizing_id"] == device_id
            assert (row["contact_ip"], row["contact_port"]) == client.local
            assert "account_id" not in row and 0 < row["expires"] <= 300
            status = (await rest.get(f"{base}/devices/status")).json()["data"]
            assert {"device_id": device_id, "registered": True} in status
            count = (await rest.get(f"{base}/registrations/count")).json()["data"]["count"]
            assert count >= 1

            # a sync reaches the phone as a NOTIFY; its answer comes back as an event
            synced = await rest.post(f"{base}/devices/{device_id}/sync", json={"data": {}})
            assert synced.status_code == 200, synced.text
            notify = await asyncio.wait_for(client.requests.get(), 10)
            assert notify.method == "NOTIFY" and notify.get("event") == "check-sync"
            client.answer(notify, 200, [])
            result = await _event(ws, "notify_result")
            assert (result["outcome"], result["code"], result["event"]) == (
                "answered",
                200,
                "check-sync",
            )

            # the flush removes the binding for real
            flushed = await rest.delete(f"{base}/registrations/{user}")
            assert flushed.status_code == 200, flushed.text
            unregistered = await _event(ws, "unregistered")
            assert (unregistered["username"], unregistered["reason"]) == (user, "flushed")
            rows = (await rest.get(f"{base}/registrations")).json()["data"]
            assert user not in {r["username"] for r in rows}
            assert server.runner.sim is not None and server.runner.sim.registrar is not None
            assert server.runner.sim.registrar.bindings_of(realm, user) == ()
        finally:
            client.close()


def test_a_phone_registers_is_listed_notified_and_flushed(server: Server) -> None:
    asyncio.run(asyncio.wait_for(_story(server), 60))


async def _notify_nobody(server: Server) -> None:
    token = token_for(server.api, server.ready)
    base = f"{server.api}/accounts/{DEMO}"
    async with (
        httpx.AsyncClient(headers={"X-Auth-Token": token}, timeout=30) as rest,
        aiohttp.ClientSession() as session,
        session.ws_connect(server.ready["websocket"]) as ws,
    ):
        sip = {"username": f"idle_{secrets.token_hex(3)}", "password": "pass-word-1"}
        made = await rest.put(f"{base}/devices", json={"data": {"name": "Idle", "sip": sip}})
        device_id = made.json()["data"]["id"]
        await _subscribe(ws, token)
        synced = await rest.post(f"{base}/devices/{device_id}/sync", json={"data": {}})
        assert synced.status_code == 200, synced.text
        result = await _event(ws, "notify_result")
        assert (result["outcome"], result["device_id"]) == ("not_registered", device_id)


def test_a_notify_to_an_unregistered_device_reports_so(server: Server) -> None:
    asyncio.run(asyncio.wait_for(_notify_nobody(server), 60))


async def _tcp_phone_and_device_delete(server: Server) -> None:
    token = token_for(server.api, server.ready)
    base = f"{server.api}/accounts/{DEMO}"
    user, password = f"tcp_{secrets.token_hex(3)}", "pass-word-1"
    _scheme, host, port = str(server.ready["sip_tcp"]).split(":")
    async with httpx.AsyncClient(headers={"X-Auth-Token": token}, timeout=30) as rest:
        realm = (await rest.get(base)).json()["data"]["realm"]
        sip = {"username": user, "password": password}
        made = await rest.put(f"{base}/devices", json={"data": {"name": "TCP", "sip": sip}})
        device_id = made.json()["data"]["id"]
        client = await SipClient.tcp((host, int(port)))
        try:
            phone = Phone(client, user, password)
            phone.realm = realm
            assert (await phone.register(300)).status == 200
            rows = (await rest.get(f"{base}/registrations")).json()["data"]
            [row] = [r for r in rows if r["username"] == user]
            assert row["proxy_protocol"] == "tcp"
            # deleting the device flushes its registration (`crossbar_util:flush_registration`)
            assert (await rest.delete(f"{base}/devices/{device_id}")).status_code == 200
            rows = (await rest.get(f"{base}/registrations")).json()["data"]
            assert user not in {r["username"] for r in rows}
        finally:
            client.close()


def test_a_tcp_phone_is_flushed_with_its_device(server: Server) -> None:
    asyncio.run(asyncio.wait_for(_tcp_phone_and_device_delete(server), 60))


# -- a sipp phone (Debian `sip-tester`) notified through the REST API ---------------------------

SIPP = shutil.which("sipp")
SCENARIOS = Path(__file__).parent / "sipp"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _sync_reaches_sipp(server: Server, work: Path) -> None:
    token = token_for(server.api, server.ready)
    base = f"{server.api}/accounts/{DEMO}"
    user, password = f"sipp_{secrets.token_hex(3)}", "pass-word-1"
    host, port = sip_address(server)
    async with (
        httpx.AsyncClient(headers={"X-Auth-Token": token}, timeout=30) as rest,
        aiohttp.ClientSession() as session,
        session.ws_connect(server.ready["websocket"]) as ws,
    ):
        realm = (await rest.get(base)).json()["data"]["realm"]
        sip = {"username": user, "password": password}
        made = await rest.put(f"{base}/devices", json={"data": {"name": "sipp", "sip": sip}})
        assert made.status_code == 201, made.text
        device_id = made.json()["data"]["id"]
        await _subscribe(ws, token)
        # the phone: register, stay 8 s while -oocsf answers NOTIFYs, unregister
        command = [
            SIPP or "sipp", f"{host}:{port}", "-sf", str(SCENARIOS / "register_wait_notify.xml"),
            "-oocsf", str(SCENARIOS / "uas_notify.xml"), "-s", user, "-au", user, "-ap", password,
            "-key", "domain", realm, "-key", "expires", "300", "-i", "127.0.0.1",
            "-p", str(_free_udp_port()), "-d", "8000", "-m", "1", "-nostdin", "-trace_err",
            "-trace_msg", "-trace_logs", "-timeout", "30s", "-timeout_error",
        ]  # fmt: skip
        phone = await asyncio.create_subprocess_exec(
            *command, cwd=work, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            registered = await _event(ws, "registered")
            assert (registered["username"], registered["device_id"]) == (user, device_id)
            synced = await rest.post(f"{base}/devices/{device_id}/sync", json={"data": {}})
            assert synced.status_code == 200, synced.text
            assert synced.json()["data"] == "sync request sent"
            result = await _event(ws, "notify_result")
            assert (result["device_id"], result["event"]) == (device_id, "check-sync")
            assert (result["outcome"], result["code"]) == ("answered", 200)
            out, _ = await asyncio.wait_for(phone.communicate(), 40)
        finally:
            if phone.returncode is None:
                phone.kill()
                await phone.wait()
        logs = {p.name: p.read_text(errors="replace") for p in work.glob("*.log")}
        assert phone.returncode == 0, (out.decode(errors="replace")[-2000:], logs)
        unregistered = await _event(ws, "unregistered")
        assert unregistered["username"] == user
    # what sipp itself saw: the NOTIFY with Event: check-sync, answered by uas_notify.xml
    messages = "".join(v for k, v in logs.items() if k.endswith("_messages.log"))
    assert "NOTIFY sip:" in messages and "Event: check-sync" in messages, messages[-3000:]
    said = "".join(v for k, v in logs.items() if k.endswith("_logs.log"))
    assert "NOTIFY received, Event: check-sync" in said, said[-2000:]


@pytest.mark.skipif(SIPP is None, reason="sipp is not installed (apt-get install -y sip-tester)")
def test_a_rest_sync_reaches_a_registered_sipp_phone(server: Server, tmp_path: Path) -> None:
    asyncio.run(asyncio.wait_for(_sync_reaches_sipp(server, tmp_path), 90))
