"""Open a session: on the embedded demo server, or on a remote Kazoo with a profile.

The UI never sees the simulator: demo mode gets an object that starts "a Kazoo" and says where
it is and how to log in (the composition root, `kazoodesk.__main__`, builds it).

The Kazoo client (httpx: ~65 ms of imports) and the schema registry (jsonschema: ~50 ms) are
not imported with this module: the window paints its cached list first, and `preload()` then
imports them on a worker thread, so the UI thread keeps running (and painting) meanwhile. The
client is built on a worker too (its HTTP transport imports more and loads the trust store).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from kazoodesk.kazoo import KazooClient
    from kazoodesk.profiles import Profile
    from kazoodesk.ui.session import Session

# Qt-free modules a connection needs, importable off the UI thread
CONNECTION_MODULES = (
    "kazoodesk.kazoo",
    "kazoodesk.schema.registry",
    # what httpx's transport would import on the first request, ~20 ms (anyio's backend)
    "anyio.lowlevel",
    "anyio._backends._asyncio",
)
# what the window builds once connected: module bodies that only define classes and
# constants (no Qt object is made at import), so a worker thread can import them
WINDOW_MODULES = (
    "kazoodesk.ui.session",
    "kazoodesk.ui.device_editor",
    "kazoodesk.ui.device_actions",
    "kazoodesk.ui.registrations.live",
    # the event websocket's client (aiohttp's, ~80 ms)
    "kazoodesk.live.feed",
)


class DemoServer(Protocol):
    # names the demo's store, which outlives its ports: the key of its cached device list
    cache_name: str

    def start(self) -> dict[str, Any]:
        """Start (blocking) and return its READY information: api, account_name, username,
        password and the rest `kazoodesk serve` prints."""
        ...

    def stop(self) -> None: ...


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # imported again where it is used, which then raises
            return


async def preload(names: tuple[str, ...] = CONNECTION_MODULES) -> None:
    """Import `names` on a worker thread (a no-op for those already imported); a failure is
    left for the import where the module is used to report."""
    missing = tuple(n for n in names if n not in sys.modules)
    if missing:
        await asyncio.get_running_loop().run_in_executor(None, _import_all, missing)


async def _new_client(base_url: str) -> KazooClient:
    await preload()
    from kazoodesk.kazoo import KazooClient

    return await asyncio.get_running_loop().run_in_executor(None, KazooClient, base_url)


async def open_demo(demo: DemoServer) -> Session:
    """Start the demo server off the GUI thread and log in as its admin, like any user."""
    # the client's imports on one worker while the demo starts on another
    starting = asyncio.get_running_loop().run_in_executor(None, demo.start)
    ready, _ = await asyncio.gather(starting, preload())
    client = await _new_client(ready["api"])
    try:
        await client.login(
            account_name=ready["account_name"],
            username=ready["username"],
            password=ready["password"],
        )
    except BaseException:
        await client.aclose()
        raise
    from kazoodesk.ui.session import Session

    label = f"Demo · {ready['api'].split('//')[1].split('/')[0]}"
    return Session(client, label=label, server_info=ready)


async def open_remote(profile: Profile, secret: str) -> Session:
    client = await _new_client(profile.server)
    try:
        if profile.use_api_key:
            await client.login(api_key=secret)
        else:
            await client.login(
                account_name=profile.account_name, username=profile.username, password=secret
            )
    except BaseException:
        await client.aclose()
        raise
    from kazoodesk.ui.session import Session

    return Session(client, label=profile.name)
