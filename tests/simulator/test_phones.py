"""The live demo phones: real SIP user agents over loopback UDP registering with the running
registrar, rebooting on check-sync, one with a wrong password; off unless asked for."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from helpers import DEMO, Server, token_for
from kazoodesk.__main__ import _parser
from kazoodesk.simulator.phones import PhoneTimings, user_agent
from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner

FAST = PhoneTimings(
    start_spread=0.3,
    reboot_delay=(0.3, 0.5),
    flap_online=(600.0, 600.0),  # the flapping phone stays up during the tests
    fail_backoff=(0.5, 2.0),
    transaction_timeout=2.0,
    stop_timeout=0.5,
)


def start(data_dir: Path, **options: Any) -> Server:
    runner = SimulatorRunner(ServeOptions(data_dir=data_dir, port=0, demo=True, **options))
    return Server(runner, runner.start_in_thread())


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start(tmp_path_factory.mktemp("phones-store"), phones=True, phone_timings=FAST)
    try:
        yield running
    finally:
        running.runner.stop_thread()


@pytest.fixture(scope="module")
def token(server: Server) -> str:
    return token_for(server.api, server.ready)


def registered_ids(server: Server, token: str) -> set[str]:
    reply = httpx.get(
        f"{server.api}/accounts/{DEMO}/devices/status",
        headers={"X-Auth-Token": token},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return {row["device_id"] for row in reply.json()["data"]}


def test_demo_phones_register(server: Server, token: str) -> None:
    phones = server.runner.phones
    assert phones is not None and 18 <= len(phones.phones) <= 20
    assert wait_for(lambda: len(registered_ids(server, token)) >= len(phones.phones) - 1)
    ids = registered_ids(server, token)
    expected = {p.spec.device_id for p in phones.phones if p.spec.role != "wrong_password"}
    assert expected <= ids
    assert len(phones.by_role("flapping")) == 1
    assert all(p.state == "registered" for p in phones.phones if p.spec.device_id in expected)
    registrar = server.runner.sim.registrar if server.runner.sim else None
    assert registrar is not None
    agents = {b.user_agent for b in registrar.bindings()}
    assert "Yealink SIP-T54W 96.86.0.70" in agents
    assert any(a.startswith("PolycomVVX-VVX_450") for a in agents)


def test_the_wrong_password_keeps_failing_with_backoff(server: Server, token: str) -> None:
    phones = server.runner.phones
    assert phones is not None
    (wrong,) = phones.by_role("wrong_password")
    assert wait_for(lambda: wrong.failures >= 2)
    assert wrong.state == "auth_failed"
    assert wrong.spec.device_id not in registered_ids(server, token)
    # backing off (0.5 s, 1 s, 2 s ...): a handful of tries in the tests' seconds, no flood
    assert wrong.failures <= 8
    assert wrong.registrations == 0


def test_sync_reboots_the_phone(server: Server, token: str) -> None:
    phones = server.runner.phones
    assert phones is not None
    phone = next(p for p in phones.phones if p.spec.role == "steady")
    assert wait_for(lambda: phone.state == "registered")
    seen: list[str] = []

    async def watch() -> None:
        url = server.ready["websocket"]
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            data = {"account_id": DEMO, "binding": "registration.*"}
            subscribe = {"action": "subscribe", "auth_token": token, "data": data}
            await ws.send_str(json.dumps(subscribe))
            reply = json.loads((await ws.receive(timeout=5)).data)
            assert reply["status"] == "success", reply
            async with httpx.AsyncClient(timeout=10) as http:
                url = f"{server.api}/accounts/{DEMO}/devices/{phone.spec.device_id}/sync"
                posted = await http.post(url, headers={"X-Auth-Token": token})
                assert posted.status_code == 200, posted.text
            while "registered" not in seen:
                message = json.loads((await ws.receive(timeout=5)).data)
                event = message.get("data", {})
                if message.get("action") != "event":
                    continue
                if event.get("username") == phone.spec.username:
                    seen.append(event["event_name"])

    asyncio.run(asyncio.wait_for(watch(), 10))
    registering = [k for k in seen if k in {"registered", "unregistered", "refreshed"}]
    assert registering[-2:] == ["unregistered", "registered"], seen
    assert "notify_result" in seen
    assert phone.reboots == 1
    assert wait_for(lambda: phone.state == "registered")


def test_stopping_leaves_nothing_behind(tmp_path: Path) -> None:
    running = start(tmp_path, phones=True, phone_timings=FAST)
    phones = running.runner.phones
    assert phones is not None
    assert wait_for(lambda: sum(p.state == "registered" for p in phones.phones) >= 18)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        running.runner.stop_thread()
        gc.collect()
    assert not [w for w in caught if "destroyed" in str(w.message) or "unclosed" in str(w.message)]
    assert running.runner.phones is None
    assert all(p.state == "stopped" and p._transport is None for p in phones.phones)
    assert all(p._task is None for p in phones.phones)


def test_no_phones_by_default_or_with_the_flag(tmp_path: Path) -> None:
    assert _parser().parse_args(["serve", "--demo", "--no-phones"]).no_phones
    running = start(tmp_path)  # ServeOptions.phones defaults to False
    try:
        assert running.runner.phones is None
        time.sleep(0.5)
        sim = running.runner.sim
        assert sim is not None and sim.registrar is not None
        assert sim.registrar.count() == 0
    finally:
        running.runner.stop_thread()


def test_user_agents() -> None:
    yealink = {"provision": {"endpoint_brand": "yealink", "endpoint_model": "t46u"}}
    assert user_agent(yealink) == "Yealink SIP-T46U 96.86.0.70"
    assert user_agent({"device_type": "softphone"}).startswith("Bria")


def test_the_flapping_phone_drops_off_and_comes_back(tmp_path: Path) -> None:
    timings = replace(FAST, flap_online=(0.5, 0.5), flap_offline=(0.3, 0.3))
    running = start(tmp_path, phones=True, phone_timings=timings)
    try:
        phones = running.runner.phones
        assert phones is not None
        (flapping,) = phones.by_role("flapping")
        assert wait_for(lambda: flapping.flaps >= 1)  # it unregistered (Expires: 0) ...
        assert wait_for(lambda: flapping.state == "registered")  # ... and came back
        assert flapping.registrations >= 2
        steady = [p for p in phones.phones if p.spec.role == "steady"]
        assert all(p.flaps == 0 for p in steady)
    finally:
        running.runner.stop_thread()
