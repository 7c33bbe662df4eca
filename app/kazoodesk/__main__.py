"""Command line: `kazoodesk` opens the app (demo mode unless `--server` is given);
`kazoodesk serve` runs the Kazoo simulator headless.

This is the composition root: the only place that knows both the app and the simulator.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kazoodesk import __version__
from kazoodesk.config import AppDirs, default_data_dir

# The simulator (aiohttp, the registrar, its store: ~0.25 s of imports) is imported where it is
# used: `kazoodesk --server` never needs it, and demo mode loads it on the thread that starts
# the demo, so the window is up meanwhile. asyncio too (~40 ms): the window paints before it.
if TYPE_CHECKING:
    from kazoodesk.crash import CrashReporter
    from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner

log = logging.getLogger("kazoodesk")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kazoodesk",
        description="Manage the devices of a Kazoo 4.3 account (demo mode unless --server is"
        " given); `kazoodesk serve` runs the offline Kazoo simulator headless.",
    )
    parser.add_argument("--version", action="version", version=f"kazoodesk {__version__}")
    parser.add_argument("--server", help="Crossbar API URL of a Kazoo server (default: demo mode)")
    parser.add_argument("--account", default="", help="account name to log in to, with --user")
    parser.add_argument("--user", default="", help="user name (the password is asked for)")
    parser.add_argument("--api-key", help="log in with this API key instead of a user")
    parser.add_argument(
        "--data", type=Path, default=None, help="directory of the demo server's SQLite database"
    )
    parser.add_argument(
        "--sip-host",
        dest="demo_sip_host",
        metavar="ADDR",
        help="demo mode: the address the demo's SIP registrar listens on, e.g. 0.0.0.0 for"
        " phones on the network (default: loopback; the API stays on loopback)",
    )
    parser.add_argument(
        "--sip-port",
        dest="demo_sip_port",
        type=_port,
        default=None,
        metavar="PORT",
        help="demo mode: the demo's SIP registrar port, UDP and TCP (default 0: any free port)",
    )
    parser.add_argument(
        "--smoke-test",
        type=Path,
        metavar="OUT.png",
        help="start in demo mode, save a screenshot once the devices are listed and a demo"
        " phone shows registered, exit (0 = ok)",
    )
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser(
        "serve", help="run the embedded Kazoo 4.3 simulator (devices API) until interrupted"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8000, help="HTTP port (0 = any free port)")
    serve.add_argument(
        "--ws-port",
        type=_port,
        default=None,
        help="event websocket port (default 5555 as Kazoo's blackhole, any free one with --port 0)",
    )
    serve.add_argument(
        "--sip-port",
        type=_port,
        default=None,
        help="SIP registrar port, UDP and TCP (default 5060, any free one with --port 0)",
    )
    serve.add_argument(
        "--sip-host",
        metavar="ADDR",
        default=None,
        help="address the SIP registrar listens on (default: --host's)",
    )
    serve.add_argument(
        "--no-registration-events",
        action="store_true",
        help="behave like a stock Kazoo 4.3, whose websocket has no registration events"
        " (clients poll)",
    )
    serve.add_argument(
        "--sip-front",
        action="store_true",
        help="a second process answers the SIP challenges: about 1.5x the registrations/s"
        " on a second core (POSIX)",
    )
    serve.add_argument("--data", type=Path, default=None, help="directory of the SQLite database")
    serve.add_argument("--demo", action="store_true", help="load the demo data into an empty store")
    serve.add_argument(
        "--no-phones",
        action="store_true",
        help="with --demo, no live demo phones registering with the registrar",
    )
    serve.add_argument("--reset", action="store_true", help="start from an empty store")
    return parser


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port (0-65535): {value!r}")
    return port


async def _serve(options: ServeOptions) -> int:
    import asyncio
    import gc
    import json
    import signal

    from kazoodesk.simulator.runner import SimulatorRunner

    # Handlers first: a SIGTERM/SIGINT sent as soon as READY is read (or while the store opens)
    # must stop the server cleanly, not kill it or raise KeyboardInterrupt.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = SimulatorRunner(options)
    try:
        ready = await runner.start()
        for warning in runner.warnings:
            _warn(warning)
        # Everything loaded so far (schemas, validators, modules) lives as long as the process:
        # keep it out of the collector's full passes, which otherwise stall requests for ms.
        gc.collect()
        gc.freeze()
        if not stop.is_set():
            print("KAZOODESK READY " + json.dumps(ready), flush=True)
            await stop.wait()
    finally:
        await runner.stop()
    return 0


def serve(args: argparse.Namespace) -> int:
    import asyncio

    from kazoodesk.simulator.runner import ServeOptions, StartError, new_event_loop

    options = ServeOptions(
        data_dir=args.data or default_data_dir(),
        host=args.host,
        port=args.port,
        ws_port=args.ws_port,
        sip_port=args.sip_port,
        sip_host=args.sip_host,
        registration_events=not args.no_registration_events,
        sip_front=args.sip_front,
        demo=args.demo,
        reset=args.reset,
        phones=args.demo and not args.no_phones,
    )
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            return runner.run(_serve(options))
    except StartError as exc:
        print(f"kazoodesk: error: {exc}", file=sys.stderr)
        return 1


class EmbeddedDemo:
    """The simulator on its own loop in a background thread, on free loopback ports; its SIP
    registrar on `sip_host` (None: loopback) and `sip_port` (0: any free one) if given."""

    def __init__(self, data_dir: Path, sip_host: str | None = None, sip_port: int = 0) -> None:
        self.data_dir = data_dir
        self.sip_host = sip_host
        self.sip_port = sip_port
        # the window's cached list of the demo is filed under its store (the port changes)
        self.cache_name = str(data_dir.absolute())
        self.runner: SimulatorRunner | None = None

    def start(self) -> dict[str, Any]:
        from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner

        options = ServeOptions(
            data_dir=self.data_dir,
            port=0,
            demo=True,
            phones=True,
            sip_host=self.sip_host,
            sip_port=self.sip_port,
        )
        self.runner = SimulatorRunner(options)
        ready = self.runner.start_in_thread()
        for warning in self.runner.warnings:
            _warn(warning)
        return ready

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop_thread()


def _warn(text: str) -> None:
    """One line on stderr, and in the log when there is one (its stderr handler skips it)."""
    if logging.getLogger().hasHandlers():
        from kazoodesk.app_log import ON_STDERR

        log.warning("%s", text, extra={ON_STDERR: True})
    print(f"kazoodesk: warning: {text}", file=sys.stderr, flush=True)


def gui(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.server is not None and args.smoke_test is not None:
        parser.error("--smoke-test runs in demo mode, without --server")
    for flag, value in (("--sip-host", args.demo_sip_host), ("--sip-port", args.demo_sip_port)):
        if args.server is not None and value is not None:
            parser.error(f"{flag} is for the demo's SIP registrar, not with --server")
    if args.server is not None and args.api_key is None and not (args.account and args.user):
        parser.error("--server needs --account and --user, or --api-key")
    if args.smoke_test is not None and _without_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a health check needs no screen
    dirs = AppDirs.default(demo=args.data)
    crash = _log_and_report_crashes(dirs, "demo" if args.server is None else args.server)
    # Qt is imported only here: `kazoodesk serve` runs without it. What the first paint does
    # not need (the Kazoo client, keyring, the schemas, the simulator, the editor) is imported
    # after it (see kazoodesk.ui.app).
    from kazoodesk.list_cache import ListCache
    from kazoodesk.profiles import ProfileStore
    from kazoodesk.ui.app import GuiOptions, run_gui
    from kazoodesk.ui.qt_log import route_qt_messages

    route_qt_messages()
    options = GuiOptions(
        server=args.server,
        account=args.account,
        user=args.user,
        api_key=args.api_key,
        smoke_test=args.smoke_test,
    )
    demo = EmbeddedDemo(dirs.demo, args.demo_sip_host, args.demo_sip_port or 0)
    cache = ListCache(dirs.cache / "lists")
    status = run_gui(options, demo, ProfileStore(dirs.config), cache, dirs, crash)
    log.info("exit %s", status)
    return status


def _log_and_report_crashes(dirs: AppDirs, server: str) -> CrashReporter:
    """The log file and the crash handler, first of all (the GUI's own start may fail)."""
    from kazoodesk.app_log import setup_logging
    from kazoodesk.crash import CrashReporter

    log_file = setup_logging(dirs.log)
    crash = CrashReporter(dirs.log, log_file)
    earlier = crash.collect_hard_crash()
    if earlier is not None:
        print(f"kazoodesk: the last run crashed; a report is in {earlier}", file=sys.stderr)
    crash.install()
    log.info("KazooDesk %s starting (%s), pid %s", __version__, server, os.getpid())
    return crash


def _without_display() -> bool:
    """On Linux with neither X11 nor Wayland to show a window on."""
    linux = sys.platform.startswith("linux")
    return linux and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    _give_streams_a_target()
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        if args.demo_sip_host is not None or args.demo_sip_port is not None:
            parser.error("give --sip-host and --sip-port after `serve` to set its registrar")
        return serve(args)
    return gui(args, parser)


def _give_streams_a_target() -> None:
    """A windowed Windows build starts with no stdout/stderr (None): what the app prints
    there then goes nowhere instead of failing (the log file has it all)."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115 - for the whole run


if __name__ == "__main__":
    sys.exit(main())
