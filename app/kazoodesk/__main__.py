"""Command line: `kazoodesk serve` runs the Kazoo simulator headless."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import sys
from pathlib import Path

from kazoodesk import __version__
from kazoodesk.config import default_data_dir
from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner, StartError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kazoodesk", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kazoodesk {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
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
    # Handlers first: a SIGTERM/SIGINT sent as soon as READY is read (or while the store opens)
    # must stop the server cleanly, not kill it or raise KeyboardInterrupt.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = SimulatorRunner(options)
    try:
        ready = await runner.start()
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
    options = ServeOptions(
        data_dir=args.data or default_data_dir(),
        host=args.host,
        port=args.port,
        ws_port=args.ws_port,
        sip_port=args.sip_port,
        demo=args.demo,
        reset=args.reset,
        phones=args.demo and not args.no_phones,
    )
    try:
        return asyncio.run(_serve(options))
    except StartError as exc:
        print(f"kazoodesk: error: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
