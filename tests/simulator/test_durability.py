"""Every create acknowledged with 201 survives a SIGKILL of `kazoodesk serve`."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from helpers import READY_PREFIX, ready_info, serve_command, token_for

CLIENTS = 4
MAX_CREATES_PER_CLIENT = 1500  # bounds the stream if the kill came late
ACKS_BEFORE_KILL = 200
STREAM_TIME_LIMIT = 20.0


class Server:
    """One `kazoodesk serve` process: its READY line read at start, stderr discarded."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            serve_command(data_dir, *extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # pytest-timeout bounds a hang here
        assert line.startswith(READY_PREFIX), f"no READY line (exit {self.proc.poll()})"
        self.ready = ready_info(line)

    def login(self) -> str:
        """A token of the demo admin."""
        return token_for(self.ready["api"], self.ready)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def test_acknowledged_creates_survive_sigkill(tmp_path: Path, started: list[Server]) -> None:
    data = tmp_path / "data"
    server = Server(data, "--demo")
    started.append(server)
    token = server.login()
    account_id = server.ready["account_id"]
    url = f"{server.ready['api']}/accounts/{account_id}/devices"
    headers = {"X-Auth-Token": token}

    acknowledged: dict[str, dict[str, Any]] = {}  # id -> the 201 body
    attempted = [0]
    lock = threading.Lock()
    stop = threading.Event()
    unexpected: list[str] = []

    def client(n: int) -> None:
        with httpx.Client(timeout=10) as http:
            for i in range(MAX_CREATES_PER_CLIENT):
                if stop.is_set():
                    return
                body = {
                    "data": {
                        "name": f"Durable {n}-{i}",
                        "sip": {"username": f"durable_{n}_{i}", "password": "durable-pass-1"},
                    }
                }
                with lock:
                    attempted[0] += 1
                try:
                    reply = http.put(url, json=body, headers=headers)
                except httpx.HTTPError:
                    return  # the server died under us
                if reply.status_code != 201:
                    unexpected.append(f"{reply.status_code} {reply.text[:200]}")
                    return
                created = reply.json()
                with lock:
                    acknowledged[created["data"]["id"]] = created

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + STREAM_TIME_LIMIT
    while len(acknowledged) < ACKS_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.01)
    streaming = all(thread.is_alive() for thread in threads)
    server.proc.send_signal(signal.SIGKILL)  # mid-stream: no shutdown code runs
    server.proc.wait(10)
    stop.set()
    for thread in threads:
        thread.join(15)
    assert not unexpected, unexpected[:3]
    assert streaming, "the clients stopped before the kill"
    assert len(acknowledged) >= ACKS_BEFORE_KILL

    restarted = Server(data)
    started.append(restarted)
    assert restarted.ready["account_id"] == account_id
    api = restarted.ready["api"]
    with httpx.Client(base_url=api, headers={"X-Auth-Token": restarted.login()}) as http:
        listing = http.get(f"/accounts/{account_id}/devices", params={"paginate": "false"})
        assert listing.status_code == 200
        listed = {row["id"] for row in listing.json()["data"]}
        missing = set(acknowledged) - listed
        assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged creates lost"
        demo_devices = 31
        # writes in flight at the kill may or may not have landed; nothing else appeared
        assert len(acknowledged) <= len(listed) - demo_devices <= attempted[0]

        # each document is the acknowledged one, and its view rows were committed with it
        for device_id in sorted(acknowledged)[:: max(1, len(acknowledged) // 25)]:
            got = http.get(f"/accounts/{account_id}/devices/{device_id}")
            assert got.status_code == 200, got.text
            assert got.json()["data"] == acknowledged[device_id]["data"]
            assert got.json()["revision"] == acknowledged[device_id]["revision"]
        some = next(iter(acknowledged.values()))["data"]
        duplicate = http.put(
            f"/accounts/{account_id}/devices",
            json={"data": {"name": "Duplicate", "sip": {"username": some["sip"]["username"]}}},
        )
        assert duplicate.status_code == 400
        assert "sip.username" in duplicate.json()["data"]
    restarted.terminate()
    assert restarted.proc.returncode == 0
