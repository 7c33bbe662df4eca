"""Open a session: on the embedded demo server, or on a remote Kazoo with a profile.

The UI never sees the simulator: demo mode gets an object that starts "a Kazoo" and says where
it is and how to log in (the composition root, `kazoodesk.__main__`, builds it).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from kazoodesk.kazoo import KazooClient
from kazoodesk.profiles import Profile
from kazoodesk.ui.session import Session


class DemoServer(Protocol):
    def start(self) -> dict[str, Any]:
        """Start (blocking) and return its READY information: api, account_name, username,
        password and the rest `kazoodesk serve` prints."""
        ...

    def stop(self) -> None: ...


async def open_demo(demo: DemoServer) -> Session:
    """Start the demo server off the GUI thread and log in as its admin, like any user."""
    ready = await asyncio.get_running_loop().run_in_executor(None, demo.start)
    client = KazooClient(ready["api"])
    try:
        await client.login(
            account_name=ready["account_name"],
            username=ready["username"],
            password=ready["password"],
        )
    except BaseException:
        await client.aclose()
        raise
    return Session(client, label=f"Demo · {ready['api'].split('//')[1].split('/')[0]}", demo=True)


async def open_remote(profile: Profile, secret: str) -> Session:
    client = KazooClient(profile.server)
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
    return Session(client, label=profile.name)
