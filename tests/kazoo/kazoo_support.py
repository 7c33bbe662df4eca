"""What the `kazoodesk.kazoo` tests share: logins, a recording transport, stand-in servers.

The stand-ins play other Kazoo servers than our simulator (a 4.3.0 that writes timestamps
without `Z` and answers 202, a server lacking some schemas, one that never answers); the
product under test is always the real client.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from aiohttp import web

from helpers import Server
from kazoodesk.kazoo import KazooClient

# the reseller above Demo Co (resources/demo/README.md: demo credentials, shown on purpose)
ACME_LOGIN = {
    "account_name": "Acme Telecom",
    "username": "reseller",
    "password": "Acme-Reseller-2024!",
}


def login_of(who: Mapping[str, Any]) -> dict[str, str]:
    """The `login` keywords of a READY-style login (account_name, username, password)."""
    return {key: str(who[key]) for key in ("account_name", "username", "password")}


async def logged_in(
    server: Server, who: Mapping[str, Any] | None = None, **options: Any
) -> KazooClient:
    """A client of `server` logged in as `who` (the demo company's admin by default)."""
    client = KazooClient(server.api, **options)
    await client.login(**login_of(server.ready if who is None else who))
    return client


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real HTTP transport, noting each request; paths in `missing` are answered 404
    `bad_identifier` as by a server that lacks them."""

    def __init__(self, missing: set[str] | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.missing = missing or set()
        self.seen: list[tuple[str, str, int]] = []  # (method, path below /v2, status)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.split("/v2/", 1)[-1]
        if path in self.missing:
            body: dict[str, Any] = {"status": "error", "error": "404", "message": "bad_identifier"}
            body["data"] = {"cause": path.rsplit("/", 1)[-1], "message": "bad identifier"}
            response = httpx.Response(404, json=body)
        else:
            response = await self.inner.handle_async_request(request)
        self.seen.append((request.method, path, response.status_code))
        return response

    def paths(self, method: str | None = None) -> list[str]:
        return [path for m, path, _status in self.seen if method in (None, m)]

    async def aclose(self) -> None:
        await self.inner.aclose()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def standin(
    routes: Mapping[tuple[str, str], Handler], tls: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """A small aiohttp server on 127.0.0.1 (a free port) answering `routes`
    ({(method, path): handler}) on the running loop, over TLS with `tls`; yields its `/v2`
    URL."""
    app = web.Application()
    for (method, path), handler in routes.items():
        app.router.add_route(method, path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}/v2"
    finally:
        await runner.cleanup()


def envelope(data: Any, status: int = 200, **extra: Any) -> web.Response:
    """A success envelope as Kazoo 4.3.0 wrote it: its timestamp has no `Z`."""
    body = {
        "data": data,
        "status": "success",
        "request_id": "0" * 32,
        "version": "4.3.0",
        "timestamp": "2018-05-16T19:08:00",
        **extra,
    }
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")
