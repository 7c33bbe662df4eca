"""Start and stop the simulator: in the foreground (`kazoodesk serve`) or on a background thread."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from kazoodesk.simulator import demo
from kazoodesk.simulator.http.app import build_app
from kazoodesk.simulator.http.websocket import (
    BLACKHOLE_PORT,
    build_blackhole_app,
    set_registration_events,
)
from kazoodesk.simulator.phones import DemoPhones, PhoneTimings, demo_phone_specs
from kazoodesk.simulator.registrar.transport import new_event_loop
from kazoodesk.simulator.service import DB_FILE, Simulator
from kazoodesk.simulator.sip import build_registrar
from kazoodesk.simulator.store import StoreError

SIP_PORT = 5060
# How long a stop waits for in-flight HTTP requests (aiohttp's default is 60 s); open
# websockets are closed by the blackhole app's own shutdown handler within a second.
HTTP_SHUTDOWN_TIMEOUT_S = 5.0


class StartError(Exception):
    """The simulator could not start; the message says why in one line."""


@dataclass
class ServeOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    demo: bool = False
    reset: bool = False
    # the event websocket's port: None is Kazoo's 5555, or any free one when `port` is 0
    ws_port: int | None = None
    # the SIP registrar's UDP (and TCP) port: None is 5060, or any free one when `port` is 0
    sip_port: int | None = None
    # the SIP registrar's address: None is `host` (the API and websocket stay on `host`)
    sip_host: str | None = None
    # the websocket's `registration.*` bindings (not Kazoo); off, it is a stock 4.3's
    registration_events: bool = True
    # a second process answering the SIP challenges (`serve --sip-front`; POSIX)
    sip_front: bool = False
    # live demo phones registering with the registrar (`serve --demo` turns them on)
    phones: bool = False
    phone_timings: PhoneTimings | None = None


def _remove_database(data_dir: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path = data_dir / f"{DB_FILE}{suffix}"
        if path.exists():
            path.unlink()


def open_simulator(options: ServeOptions) -> tuple[Simulator, dict[str, Any]]:
    """Open (and seed when empty) the store; return the services and the logins."""
    data_dir = options.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "it is not a directory" if data_dir.exists() else (exc.strerror or str(exc))
        raise StartError(f"cannot use the data directory {data_dir}: {reason}") from exc
    try:
        if options.reset:
            _remove_database(data_dir)
        sim = Simulator.open(data_dir)
    except StoreError as exc:
        raise StartError(str(exc)) from exc
    except OSError as exc:
        raise StartError(f"cannot use the data directory {data_dir}: {exc}") from exc
    try:
        credentials = demo.saved_credentials(sim.store)
        if credentials is None:
            data = demo.load_demo_data() if options.demo else demo.bootstrap_data()
            credentials = demo.seed(sim.store, sim.schemas, data)
    except (demo.SeedError, OSError) as exc:
        sim.close()
        raise StartError(f"cannot seed the store: {exc}") from exc
    return sim, credentials


class SimulatorRunner:
    """One running simulator: its services, HTTP site and the READY information."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.sim: Simulator | None = None
        self.ready: dict[str, Any] = {}
        # what the user should know about how it listens (one line each, for stderr)
        self.warnings: list[str] = []
        self._runners: list[web.AppRunner] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self.phones: DemoPhones | None = None

    async def start(self) -> dict[str, Any]:
        """Open the store and start serving on the running loop; return the READY info."""
        options = self.options
        self.sim, credentials = open_simulator(options)
        set_registration_events(self.sim, options.registration_events)
        port = await self._listen(build_app(self.sim), options.port)
        ws_port = options.ws_port
        if ws_port is None:
            ws_port = 0 if options.port == 0 else BLACKHOLE_PORT
        ws_port = await self._listen(build_blackhole_app(self.sim), ws_port)
        sip_udp, sip_tcp = await self._start_registrar(self.sim)
        if options.phones:
            await self._start_phones(self.sim, sip_udp)
        host, sip_host = _url_host(options.host), _url_host(self.sip_host)
        self.ready = {
            "api": f"http://{host}:{port}/v2",
            "websocket": f"ws://{host}:{ws_port}",
            "sip": f"udp:{sip_host}:{sip_udp}",
            "sip_tcp": f"tcp:{sip_host}:{sip_tcp}",
            "sip_host": self.sip_host,  # as given: a wildcard says who may reach it
            **credentials,
        }
        if not _is_loopback(self.sip_host):
            self.warnings.append(exposure_warning(self.sip_host, sip_udp))
        return self.ready

    @property
    def sip_host(self) -> str:
        """The address the SIP registrar listens on."""
        return self.options.host if self.options.sip_host is None else self.options.sip_host

    async def _start_registrar(self, sim: Simulator) -> tuple[int, int]:
        """Start the SIP registrar on this loop; return its UDP and TCP ports."""
        options = self.options
        sip_port = options.sip_port
        if sip_port is None:
            sip_port = 0 if options.port == 0 else SIP_PORT
        secret = sim.store.setting("sip_nonce_secret", lambda: secrets.token_hex(32))
        registrar, directory = build_registrar(sim, bytes.fromhex(secret))
        front = directory.front_view if options.sip_front else None
        try:
            await registrar.start(self.sip_host, sip_port, front=front)
        except OSError as exc:
            await registrar.stop()
            await self.stop()
            reason = exc.strerror or exc
            raise StartError(
                f"cannot listen on {self.sip_host}:{sip_port} (SIP): {reason}"
            ) from exc
        sim.registrar = registrar
        return registrar.udp_address[1], registrar.tcp_address[1]

    async def _start_phones(self, sim: Simulator, sip_port: int) -> None:
        target = (_url_host(self.sip_host).strip("[]"), sip_port)
        phones = DemoPhones(demo_phone_specs(sim), target, self.options.phone_timings)
        try:
            await phones.start()
        except OSError as exc:
            await self.stop()
            raise StartError(f"cannot start the demo phones: {exc.strerror or exc}") from exc
        self.phones = phones

    async def _listen(self, app: web.Application, port: int) -> int:
        """Serve `app` on the host and `port`; return the port bound."""
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=HTTP_SHUTDOWN_TIMEOUT_S
        )
        self._runners.append(runner)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.options.host, port).start()
        except OSError as exc:
            await self.stop()
            reason = exc.strerror or exc
            raise StartError(f"cannot listen on {self.options.host}:{port}: {reason}") from exc
        bound: int = runner.addresses[0][1]
        return bound

    async def stop(self) -> None:
        """Phones first (they unregister on the way out, each within its `stop_timeout`),
        then the HTTP sites (bounded by `HTTP_SHUTDOWN_TIMEOUT_S`), then the registrar
        (its pending NOTIFYs end as timed out at once), then the store."""
        if self.phones is not None:  # before the registrar: they unregister on the way out
            phones, self.phones = self.phones, None
            await phones.stop()
        while self._runners:
            await self._runners.pop().cleanup()
        if self.sim is not None and self.sim.registrar is not None:
            registrar, self.sim.registrar = self.sim.registrar, None
            await registrar.stop()
        if self.sim is not None:
            self.sim.close()
            self.sim = None

    # ---- on a background thread with its own loop (demo mode, tests) ------------------------

    def start_in_thread(self, timeout: float = 30.0) -> dict[str, Any]:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # handed to the starting thread
                failure.append(exc)
                started.set()
                loop.close()
                return
            self._stop_event = asyncio.Event()
            started.set()
            loop.run_until_complete(self._stop_event.wait())
            loop.run_until_complete(self.stop())
            _cancel_leftovers(loop)
            loop.close()

        self._thread = threading.Thread(target=run, name="kazoo-simulator", daemon=True)
        self._thread.start()
        if not started.wait(timeout):
            raise StartError("the simulator did not start in time")
        if failure:
            raise failure[0]
        return self.ready

    def stop_thread(self, timeout: float = 30.0) -> None:
        if self._thread is None or self._loop is None or self._stop_event is None:
            return
        self._loop.call_soon_threadsafe(self._stop_event.set)
        self._thread.join(timeout)
        self._thread = None


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Finish the tasks still pending on `loop` before it closes, as `asyncio.run` does: left
    pending, their coroutines would be closed later by the GC, on whatever thread runs it."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def _url_host(host: str) -> str:
    """`host` as clients on this machine reach it: a wildcard address by loopback."""
    if host in {"0.0.0.0", ""}:
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # "" (every address) or a host name, which may be any interface's


def exposure_warning(sip_host: str, port: int) -> str:
    """The line to show when the SIP registrar listens beyond this machine."""
    where = f"[{sip_host}]:{port}" if ":" in sip_host else f"{sip_host or '*'}:{port}"
    return (
        f"the simulator's SIP registrar listens on {where} (UDP and TCP): any host that can"
        " reach this machine can try to register; the demo's SIP passwords are public"
    )
