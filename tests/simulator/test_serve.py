"""`kazoodesk serve` as a user runs it: a subprocess, its READY line, signals, data, errors."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from helpers import (
    READY_PREFIX,
    Server,
    ready_info,
    serve_command,
    sip_register,
    token_for,
    user_auth,
)
from kazoodesk.__main__ import EmbeddedDemo, _parser, main

LOGIN_KEYS = {"account_id", "account_name", "realm", "username", "password", "api_key"}
LISTENERS = {"api", "websocket", "sip", "sip_tcp", "sip_host"}
WARNING = "kazoodesk: warning: "
START_TIMEOUT = 30.0
DEMO_CO_DEVICES = 31


class Serve:
    """One `python -m kazoodesk serve` process; stdout is read line by line in a thread."""

    def __init__(
        self,
        data_dir: Path,
        *extra: str,
        port: int = 0,
        signal_on_ready: int | None = None,
        phones: bool = False,
    ) -> None:
        self.signal_on_ready = signal_on_ready
        self.signalled_at: float | None = None
        self.args = serve_command(data_dir, *extra, port=port)
        if phones:  # with --demo: the live demo phones, which serve_command turns off
            self.args.remove("--no-phones")
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._first_line = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.stderr = ""

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if self.signal_on_ready is not None and not self.lines:
                # as soon as READY is readable, as a supervisor racing the server would
                self.proc.send_signal(self.signal_on_ready)
                self.signalled_at = time.monotonic()
            self.lines.append(line)
            self._first_line.set()
        self._first_line.set()

    def ready(self) -> dict[str, Any]:
        assert self._first_line.wait(START_TIMEOUT), "no READY line in time"
        assert self.lines, f"exited with {self.proc.wait(5)}: {self.finish_stderr()}"
        line = self.lines[0]
        assert line.startswith(READY_PREFIX) and line.endswith("\n"), line
        return ready_info(line)

    def finish_stderr(self) -> str:
        if self.proc.stderr is not None and not self.proc.stderr.closed:
            self.stderr = self.proc.stderr.read()
            self.proc.stderr.close()
        return self.stderr

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send `signum`, wait for the exit code (killing it if it does not come)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self._reader.join(5)
            self.finish_stderr()
        return code

    def run_to_end(self, timeout: float = START_TIMEOUT) -> tuple[int, str, str]:
        """For a start that must fail: (exit code, stdout, stderr)."""
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        return code, "".join(self.lines), self.finish_stderr()


def serve(
    started: list[Serve],
    data_dir: Path,
    *extra: str,
    port: int = 0,
    signal_on_ready: int | None = None,
    phones: bool = False,
) -> Serve:
    """Start `kazoodesk serve`; `started` (conftest) kills it if the test leaves it running."""
    server = Serve(data_dir, *extra, port=port, signal_on_ready=signal_on_ready, phones=phones)
    started.append(server)
    return server


def get(api: str, path: str, token: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{api}{path}", headers={"X-Auth-Token": token}, params=params, timeout=10)


def all_devices(api: str, account_id: str, token: str) -> list[dict[str, Any]]:
    reply = get(api, f"/accounts/{account_id}/devices", token, paginate="false")
    assert reply.status_code == 200, reply.text
    rows: list[dict[str, Any]] = reply.json()["data"]
    return rows


def assert_failed_cleanly(code: int, stdout: str, stderr: str, *needles: str) -> None:
    assert code != 0
    assert "Traceback" not in stderr, stderr
    assert READY_PREFIX not in stdout
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("kazoodesk: error: "), stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# ---- READY and logins ---------------------------------------------------------------------------


def test_ready_line_with_demo_and_every_login_works(tmp_path: Path, started: list[Serve]) -> None:
    server = serve(started, tmp_path / "data", "--demo")
    ready = server.ready()
    assert set(ready) == {*LISTENERS, "master", *LOGIN_KEYS}
    assert set(ready["master"]) == LOGIN_KEYS
    assert ready["sip_host"] == "127.0.0.1" and ready["sip"].startswith("udp:127.0.0.1:")
    api = ready["api"]
    assert api.startswith("http://127.0.0.1:") and api.endswith("/v2")
    assert int(api.split(":")[2].split("/")[0]) > 0  # the port actually bound, not 0
    assert ready["account_name"] == "Demo Co"
    assert ready["master"]["account_name"] != ready["account_name"]

    for login in (ready, ready["master"]):
        reply = user_auth(api, login)
        assert reply.status_code == 201, reply.text
        assert reply.json()["data"]["account_id"] == login["account_id"]
        token = reply.json()["auth_token"]
        account = get(api, f"/accounts/{login['account_id']}", token)
        assert (
            account.status_code == 200 and account.json()["data"]["name"] == login["account_name"]
        )

        by_key = httpx.put(f"{api}/api_auth", json={"data": {"api_key": login["api_key"]}})
        assert by_key.status_code == 201, by_key.text
        assert by_key.json()["data"]["account_id"] == login["account_id"]
        key_token = by_key.json()["auth_token"]
        assert get(api, f"/accounts/{login['account_id']}/devices", key_token).status_code == 200

    wrong = {**ready, "password": ready["password"] + "x"}
    assert user_auth(api, wrong).status_code == 401

    token = token_for(api, ready)
    devices = all_devices(api, ready["account_id"], token)
    assert len(devices) == DEMO_CO_DEVICES

    assert server.stop() == 0
    assert len(server.lines) == 1, server.lines  # exactly one stdout line
    assert WARNING not in server.stderr  # everything on loopback


def test_without_demo_only_the_master_account_exists(tmp_path: Path, started: list[Serve]) -> None:
    server = serve(started, tmp_path / "data")
    ready = server.ready()
    assert set(ready) == {*LISTENERS, "master", *LOGIN_KEYS}
    master = ready["master"]
    assert set(master) == LOGIN_KEYS
    assert ready["account_id"] == master["account_id"]
    assert len(master["api_key"]) == 64
    api = ready["api"]
    token = token_for(api, master)
    assert (
        httpx.put(f"{api}/api_auth", json={"data": {"api_key": master["api_key"]}}).status_code
        == 201
    )
    descendants = get(api, f"/accounts/{master['account_id']}/descendants", token)
    assert descendants.status_code == 200 and descendants.json()["data"] == []
    assert all_devices(api, master["account_id"], token) == []
    demo_admin = {"username": "admin", "password": "DemoCo-Admin-2024", "account_name": "Demo Co"}
    assert user_auth(api, demo_admin).status_code == 401
    assert server.stop() == 0

    # a second fresh store gets its own random master login
    other = serve(started, tmp_path / "other").ready()["master"]
    assert other["password"] != master["password"] and other["api_key"] != master["api_key"]


# ---- where the registrar listens, what the websocket offers -----------------------------------


def sip_device(api: str, account_id: str, token: str) -> dict[str, Any]:
    """A device of the account with SIP credentials (its full document)."""
    for row in all_devices(api, account_id, token):
        doc: dict[str, Any] = get(api, f"/accounts/{account_id}/devices/{row['id']}", token).json()
        sip = doc["data"].get("sip", {})
        if sip.get("username") and sip.get("password"):
            return doc["data"]  # type: ignore[no-any-return]
    raise AssertionError("no device with SIP credentials")


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(WARNING)]


def test_sip_host_on_every_address_is_reached_by_loopback_and_warned(
    tmp_path: Path, started: list[Serve]
) -> None:
    server = serve(started, tmp_path / "data", "--demo", "--sip-host", "0.0.0.0")
    ready = server.ready()
    assert ready["sip_host"] == "0.0.0.0"
    assert ready["api"].startswith("http://127.0.0.1:")  # the API stays where --host says
    assert ready["sip"].startswith("udp:127.0.0.1:") and ready["sip_tcp"].startswith(
        "tcp:127.0.0.1:"
    )
    api, account_id = ready["api"], ready["account_id"]
    token = token_for(api, ready)
    device = sip_device(api, account_id, token)
    sip = device["sip"]
    registering = Server(runner=cast(Any, None), ready=ready)  # sip_register reads `ready` only
    assert sip_register(registering, sip["username"], sip["password"], ready["realm"]) == 200
    status = get(api, f"/accounts/{account_id}/devices/status", token).json()["data"]
    assert device["id"] in {row["device_id"] for row in status}
    tcp_port = int(ready["sip_tcp"].rsplit(":", 1)[1])
    socket.create_connection(("127.0.0.1", tcp_port), timeout=10).close()

    assert server.stop() == 0
    udp_port = ready["sip"].rsplit(":", 1)[1]
    assert warnings_of(server.stderr) == [
        f"{WARNING}the simulator's SIP registrar listens on 0.0.0.0:{udp_port} (UDP and TCP):"
        " any host that can reach this machine can try to register; the demo's SIP passwords"
        " are public"
    ]
    assert "Traceback" not in server.stderr, server.stderr


def test_no_registration_events_lists_objects_only(tmp_path: Path, started: list[Serve]) -> None:
    server = serve(started, tmp_path / "data", "--no-registration-events")
    api = server.ready()["api"]
    listing = httpx.get(f"{api}/websockets", timeout=10)
    assert listing.status_code == 200, listing.text
    assert list(listing.json()["data"]) == ["object"]
    assert server.stop() == 0


def test_the_demo_registrar_address_and_port_are_chosen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free a moment ago: the registrar takes it
    demo = EmbeddedDemo(tmp_path / "demo", sip_host="0.0.0.0", sip_port=port)
    try:
        ready = demo.start()
    finally:
        demo.stop()
    assert ready["api"].startswith("http://127.0.0.1:")
    assert ready["websocket"].startswith("ws://127.0.0.1:")
    assert (ready["sip_host"], ready["sip"]) == ("0.0.0.0", f"udp:127.0.0.1:{port}")
    assert warnings_of(capsys.readouterr().err) == [
        f"{WARNING}the simulator's SIP registrar listens on 0.0.0.0:{port} (UDP and TCP):"
        " any host that can reach this machine can try to register; the demo's SIP passwords"
        " are public"
    ]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--server", "http://k:8000/v2", "--api-key", "k", "--sip-host", "0.0.0.0"], "--sip-host"),
        (["--server", "http://k:8000/v2", "--api-key", "k", "--sip-port", "5060"], "--sip-port"),
        (["--sip-host", "0.0.0.0", "serve"], "after `serve`"),
        (["--sip-port", "5060", "serve"], "after `serve`"),
        (["--sip-port", "70000"], "70000"),
    ],
)
def test_misplaced_sip_options_are_usage_errors(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert needle in capsys.readouterr().err


def test_serve_options_parse() -> None:
    args = _parser().parse_args(["serve", "--sip-host", "0.0.0.0", "--no-registration-events"])
    assert (args.sip_host, args.no_registration_events) == ("0.0.0.0", True)
    args = _parser().parse_args(["serve"])
    assert (args.sip_host, args.no_registration_events) == (None, False)
    args = _parser().parse_args(["--sip-host", "::", "--sip-port", "5062"])
    assert (args.demo_sip_host, args.demo_sip_port, args.command) == ("::", 5062, None)


# ---- signals -------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_right_after_ready_exits_zero(
    tmp_path: Path, started: list[Serve], signum: int
) -> None:
    server = serve(started, tmp_path / "data", signal_on_ready=signum)
    server.ready()
    assert server.stop(signum, timeout=30) == 0, server.stderr
    # far below aiohttp's 60 s graceful-shutdown wait, with room for a loaded machine
    assert server.signalled_at is not None and time.monotonic() - server.signalled_at < 15
    assert "Traceback" not in server.stderr, server.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_with_open_client_connections_exits_zero_promptly(
    tmp_path: Path, started: list[Serve], signum: int
) -> None:
    server = serve(started, tmp_path / "data", "--demo")
    ready = server.ready()
    with httpx.Client(base_url=ready["api"], timeout=10) as client:  # keeps its connection
        token = token_for(ready["api"], ready)
        headers = {"X-Auth-Token": token}
        assert client.get(f"/accounts/{ready['account_id']}/devices", headers=headers).is_success
        began = time.monotonic()
        assert server.stop(signum, timeout=30) == 0, server.stderr
        # an open keep-alive connection must not hold the exit for aiohttp's 60 s wait
        assert time.monotonic() - began < 15
    assert "Traceback" not in server.stderr, server.stderr


def open_websocket(url: str) -> socket.socket:
    """A websocket to the event server (the upgrade handshake only), left open."""
    host, port = url.removeprefix("ws://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    assert sock.recv(4096).startswith(b"HTTP/1.1 101"), "no websocket upgrade"
    return sock


def test_sigterm_with_the_demo_phones_exits_zero(tmp_path: Path, started: list[Serve]) -> None:
    """`serve --reset --demo` with its phones registered, one of them rebooting after a
    check-sync and an event websocket open: SIGTERM ends it (phones unregister within their
    stop timeout, the HTTP sites within theirs) well before the generous timeout below."""
    server = serve(started, tmp_path / "data", "--reset", "--demo", phones=True)
    ready = server.ready()
    api, account = ready["api"], ready["account_id"]
    token = token_for(api, ready)

    def registered() -> list[str]:
        reply = get(api, f"/accounts/{account}/devices/status", token)
        assert reply.status_code == 200, reply.text
        return [row["device_id"] for row in reply.json()["data"]]

    deadline = time.monotonic() + 30
    while len(registered()) < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    phones = registered()
    assert len(phones) >= 5, phones
    sync = httpx.post(
        f"{api}/accounts/{account}/devices/{phones[0]}/sync",
        headers={"X-Auth-Token": token},
        json={"data": {}},
        timeout=10,
    )
    assert sync.status_code == 200, sync.text  # that phone unregisters and reboots
    with open_websocket(ready["websocket"]):
        assert server.stop(signal.SIGTERM, timeout=30) == 0, server.stderr
    assert "Traceback" not in server.stderr, server.stderr


# ---- data across restarts --------------------------------------------------------------------


def test_data_persists_across_restarts_and_reset_starts_empty(
    tmp_path: Path, started: list[Serve]
) -> None:
    data = tmp_path / "data"
    first = serve(started, data, "--demo")
    ready = first.ready()
    api = ready["api"]
    token = token_for(api, ready)
    created = httpx.put(
        f"{api}/accounts/{ready['account_id']}/devices",
        headers={"X-Auth-Token": token},
        json={"data": {"name": "Made before restart", "sip": {"username": "persist1"}}},
    )
    assert created.status_code == 201, created.text
    device = created.json()
    assert first.stop() == 0

    second = serve(started, data)  # no --demo: the store is not empty, nothing is re-seeded
    again = second.ready()
    listeners = {"api", "websocket", "sip", "sip_tcp"}  # their ports are chosen anew
    assert {k: v for k, v in again.items() if k not in listeners} == {
        k: v for k, v in ready.items() if k not in listeners
    }
    api = again["api"]
    # a token issued before the restart is still accepted (the signing key is stored)
    kept = get(api, f"/accounts/{ready['account_id']}/devices/{device['data']['id']}", token)
    assert kept.status_code == 200, kept.text
    assert kept.json()["data"] == device["data"]
    assert kept.json()["revision"] == device["revision"]
    assert len(all_devices(api, ready["account_id"], token)) == DEMO_CO_DEVICES + 1
    assert second.stop() == 0

    third = serve(started, data, "--reset")
    fresh = third.ready()
    assert fresh["account_id"] == fresh["master"]["account_id"] != ready["master"]["account_id"]
    api = fresh["api"]
    assert user_auth(api, ready).status_code == 401  # Demo Co is gone
    master_token = token_for(api, fresh["master"])
    descendants = get(api, f"/accounts/{fresh['account_id']}/descendants", master_token)
    assert descendants.json()["data"] == []
    assert get(api, f"/accounts/{ready['account_id']}", master_token).status_code == 404
    assert third.stop() == 0

    fourth = serve(started, data, "--reset", "--demo")
    demo_again = fourth.ready()
    api = demo_again["api"]
    token = token_for(api, demo_again)
    devices = all_devices(api, demo_again["account_id"], token)
    assert len(devices) == DEMO_CO_DEVICES
    assert device["data"]["id"] not in {d["id"] for d in devices}
    assert fourth.stop() == 0


# ---- start-up errors: one line on stderr, non-zero exit ---------------------------------------


def test_busy_port(tmp_path: Path, started: list[Serve]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve(started, tmp_path / "data", port=port).run_to_end()
    assert_failed_cleanly(*result, str(port))


def test_busy_websocket_port(tmp_path: Path, started: list[Serve]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve(started, tmp_path / "data", "--ws-port", str(port)).run_to_end()
    assert_failed_cleanly(*result, str(port))


def test_data_directory_under_a_regular_file(tmp_path: Path, started: list[Serve]) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file, not a directory")
    result = serve(started, blocker / "data").run_to_end()
    assert_failed_cleanly(*result, str(blocker))
    assert blocker.read_text() == "a file, not a directory"


def test_data_directory_is_a_regular_file(tmp_path: Path, started: list[Serve]) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file, not a directory")
    result = serve(started, blocker).run_to_end()
    assert_failed_cleanly(*result, str(blocker), "not a directory")


def test_corrupt_database_is_refused_and_left_alone(tmp_path: Path, started: list[Serve]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    garbage = bytes(range(256)) * 64
    (data / "kazoodesk.sqlite3").write_bytes(garbage)
    result = serve(started, data, "--demo").run_to_end()
    assert_failed_cleanly(*result, "kazoodesk.sqlite3")
    assert (data / "kazoodesk.sqlite3").read_bytes() == garbage


def test_damaged_pages_in_a_real_database_are_refused(tmp_path: Path, started: list[Serve]) -> None:
    data = tmp_path / "data"
    server = serve(started, data, "--demo")
    server.ready()
    assert server.stop() == 0
    path = data / "kazoodesk.sqlite3"
    content = bytearray(path.read_bytes())
    middle = len(content) // 2 // 4096 * 4096
    content[middle : middle + 4096] = b"\xff\x00garbage" * 455 + b"\xff" * 6
    path.write_bytes(bytes(content))
    result = serve(started, data).run_to_end()
    assert_failed_cleanly(*result, "malformed")


def test_port_out_of_range_is_a_usage_error(tmp_path: Path, started: list[Serve]) -> None:
    code, stdout, stderr = serve(started, tmp_path / "data", port=70000).run_to_end()
    assert code == 2
    assert "Traceback" not in stderr and READY_PREFIX not in stdout
    assert "--port" in stderr and "70000" in stderr
