"""Qt-free asyncio client of Kazoo's event websocket, blackhole (kazoo-blackhole.md).

```python
socket = EventSocket("ws://kazoo:5555", lambda: client.token)
await socket.connect()
await socket.subscribe(account_id, "object.doc_edited.device")  # SubscriptionRefused
async for batch in socket.events():  # EventSocketError once the connection ends
    ...
```

Only the 4.3 wire form is sent (§11a): one request per binding, `data.account_id` and a
singular `data.binding`, replies matched by `request_id`. One reader task owns the socket:
replies resolve their request's future, events queue up for `events()`. A WS ping goes out
every `ping_interval` s whatever arrives, because blackhole's 1 h idle timeout only counts
frames from the client (§1). Reconnecting is the caller's job: it has to resync over REST
after every reconnect anyway (there is no replay).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

log = logging.getLogger(__name__)

# the most events one step of `events()` hands over
BATCH_LIMIT = 500
# events read but not yet taken by `events()`: past this, the consumer is not keeping up and
# the connection is closed (it resyncs after a reconnect) rather than memory growing unbounded
BACKLOG_LIMIT = 100_000
KAZOO_PORTS = {"http": ("ws", 5555), "https": ("wss", 5556)}  # blackhole's defaults (§1)
# error texts of blackhole's steps (§5), matched by prefix as Monster UI does
UNAVAILABLE = "no available subscriptions to requested binding"
AUTH_ERRORS = (
    "failed to authenticate token",
    "authentication token required",
    "invalid authentication token format",
)


class EventSocketError(Exception):
    """The event websocket failed: it could not connect, closed, broke or did not reply."""


class SubscriptionRefused(EventSocketError):
    """The server answered a subscribe or unsubscribe with status "error"."""

    def __init__(self, action: str, binding: str, errors: list[str]) -> None:
        self.errors = errors
        # "failed to authenticate token <TOKEN>" echoes the token: kept out of the text
        shown = [AUTH_ERRORS[0] if e.startswith(AUTH_ERRORS[0]) else e for e in errors]
        super().__init__(f"{action} {binding} refused: {'; '.join(shown) or 'no reason given'}")

    @property
    def unavailable(self) -> bool:
        """The server has no module for the binding (e.g. `registration` on a stock 4.3)."""
        return any(error.startswith(UNAVAILABLE) for error in self.errors)

    @property
    def auth_failed(self) -> bool:
        """The token was missing, bad or expired: renew it, reconnect and resubscribe."""
        return any(error.startswith(AUTH_ERRORS) for error in self.errors)


@dataclass(frozen=True)
class SocketEvent:
    binding: str  # the client binding it matched (`subscribed_key`)
    name: str  # "doc_edited", "registered", "reg_success", ...
    routing_key: str
    data: dict[str, Any]


def default_websocket_url(api_url: str) -> str:
    """Blackhole's URL on the API's host by Kazoo's defaults: `http://h:8000/v2` gives
    `ws://h:5555`, `https://…` gives `wss://h:5556`."""
    parts = urlsplit(api_url)
    if parts.scheme not in KAZOO_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) API URL: {api_url!r}")
    scheme, port = KAZOO_PORTS[parts.scheme]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{scheme}://{host}:{port}"


class EventSocket:
    """One connection to blackhole; `token()` gives the current auth token for each request."""

    def __init__(
        self,
        url: str,
        token: Callable[[], str | None],
        *,
        ping_interval: float = 30.0,
        reply_timeout: float = 10.0,
        verify: bool | ssl.SSLContext = True,
    ) -> None:
        self.url = url
        self._token = token
        self._ping_interval = ping_interval
        self._reply_timeout = reply_timeout
        self._verify = verify
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._pong: asyncio.Future[None] | None = None
        # events, then once the connection has ended the error saying why
        self._queue: asyncio.Queue[SocketEvent | EventSocketError] = asyncio.Queue()
        self._ended: EventSocketError | None = None
        self._closing: asyncio.Future[None] | None = None

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._ended is None and not self._ws.closed

    # ---- life ------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the connection (once per EventSocket: reconnecting takes a new one)."""
        if self._session is not None or self._ended is not None:
            raise EventSocketError(f"this EventSocket of {self.url} was already used")
        session = aiohttp.ClientSession()
        try:
            async with asyncio.timeout(self._reply_timeout):
                ws = await session.ws_connect(
                    self.url,
                    autoping=False,  # the reader sees the pongs that answer our pings
                    heartbeat=None,
                    compress=0,
                    ssl=self._ssl(),
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=self._reply_timeout),
                )
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            await session.close()
            reason = _why(exc, self._reply_timeout)
            raise EventSocketError(f"cannot reach {self.url}: {reason}") from exc
        except BaseException:  # cancelled: the session must not leak
            await session.close()
            raise
        self._session, self._ws = session, ws
        self._tasks = [
            asyncio.create_task(self._read(ws), name="event-socket-reader"),
            asyncio.create_task(self._keep_alive(ws), name="event-socket-pinger"),
        ]
        log.info("event websocket %s connected", self.url)

    async def close(self) -> None:
        """Close the connection; `events()` then ends with EventSocketError("… closed")."""
        self._end(EventSocketError(f"the event websocket {self.url} was closed"))
        await self._teardown()

    async def _teardown(self) -> None:
        """Close the socket, stop the tasks, close the session: once, whoever asks first
        (the caller, the reader at the end of the stream, the pinger without a pong)."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close_all())
        await asyncio.shield(self._closing)

    async def _close_all(self) -> None:
        if self._ws is not None:
            await self._ws.close()  # bounded by ws_close; a reader in receive() returns
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()

    def _end(self, error: EventSocketError) -> None:
        """The connection is over: fail the pending requests, end `events()` after what is
        queued. Only the first reason counts."""
        if self._ended is not None:
            return
        self._ended = error
        for future in self._replies.values():
            if not future.done():
                future.set_exception(error)
        self._replies.clear()
        self._queue.put_nowait(error)
        if self._ws is not None:  # a connection that was up: say how it ended
            log.info("%s", error)

    def _ssl(self) -> bool | ssl.SSLContext:
        if self._verify is True and self.url.startswith("wss:"):
            import truststore  # the OS trust store, as the REST client uses (session.py)

            return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return self._verify

    # ---- requests --------------------------------------------------------------------------

    async def subscribe(self, account_id: str, binding: str) -> None:
        await self._request("subscribe", account_id, binding)

    async def unsubscribe(self, account_id: str, binding: str) -> None:
        """Only unsubscribe what was subscribed: blackhole's count is node-wide (§2.3)."""
        await self._request("unsubscribe", account_id, binding)

    async def _request(self, action: str, account_id: str, binding: str) -> None:
        ws = self._ws
        if ws is None or self._ended is not None:
            raise self._ended or EventSocketError(f"not connected to {self.url}")
        request_id = uuid.uuid4().hex
        message: dict[str, Any] = {"action": action}
        token = self._token()
        if token is not None:
            message["auth_token"] = token
        message["request_id"] = request_id
        message["data"] = {"account_id": account_id, "binding": binding}
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = future
        try:
            await ws.send_str(json.dumps(message, separators=(",", ":")))
            async with asyncio.timeout(self._reply_timeout):
                reply = await future
        except TimeoutError:
            raise EventSocketError(
                f"no reply to {action} {binding} from {self.url} within {self._reply_timeout:g} s"
            ) from None
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise EventSocketError(f"cannot send to {self.url}: {_why(exc, 0)}") from exc
        finally:
            self._replies.pop(request_id, None)
        if reply.get("status") != "success":
            raise SubscriptionRefused(action, binding, _errors(reply))

    # ---- events ----------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[list[SocketEvent]]:
        """Batches of the events received, in order, each as many as have arrived (up to
        BATCH_LIMIT); raises EventSocketError once the connection has ended and every
        event received before has been handed over."""
        if self._session is None:
            raise EventSocketError(f"not connected to {self.url}")
        while True:
            yield await self._next_batch()

    async def _next_batch(self) -> list[SocketEvent]:
        batch: list[SocketEvent] = []
        item = await self._queue.get()
        while True:
            if isinstance(item, EventSocketError):
                self._queue.put_nowait(item)  # the end stays last, for any later read
                if batch:
                    return batch
                raise item
            batch.append(item)
            if len(batch) >= BATCH_LIMIT or self._queue.empty():
                return batch
            item = self._queue.get_nowait()

    # ---- the reader and the pinger ---------------------------------------------------------

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            message = await ws.receive()
            kind = message.type
            if kind is aiohttp.WSMsgType.TEXT:
                self._dispatch(message.data)
            elif kind is aiohttp.WSMsgType.PONG:
                if self._pong is not None and not self._pong.done():
                    self._pong.set_result(None)
            elif kind is aiohttp.WSMsgType.PING:  # blackhole never pings; answered anyway
                with contextlib.suppress(ConnectionError, aiohttp.ClientError):
                    await ws.pong(message.data)
            elif kind is not aiohttp.WSMsgType.BINARY:
                break
            if self._queue.qsize() > BACKLOG_LIMIT:
                self._end(EventSocketError(f"events from {self.url} arrive faster than read"))
                await self._teardown()
                return
        self._end(EventSocketError(self._closed_reason(ws, message)))
        await self._teardown()

    def _closed_reason(
        self, ws: aiohttp.ClientWebSocketResponse, message: aiohttp.WSMessage
    ) -> str:
        if message.type is aiohttp.WSMsgType.ERROR:
            return f"the event websocket {self.url} broke: {_why(message.data, 0)}"
        code = ws.close_code
        if message.type is aiohttp.WSMsgType.CLOSE and code is not None:
            return f"the event websocket {self.url} was closed by the server (code {code})"
        return f"the connection to the event websocket {self.url} was lost"

    def _dispatch(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            log.debug("not JSON from %s: %.80r", self.url, text)
            return
        if not isinstance(message, dict):
            return
        action = message.get("action")
        if action == "event":
            data = message.get("data")
            self._queue.put_nowait(
                SocketEvent(
                    binding=str(message.get("subscribed_key") or ""),
                    name=str(message.get("name") or ""),
                    routing_key=str(message.get("routing_key") or ""),
                    data=data if isinstance(data, dict) else {},
                )
            )
        elif action == "reply":
            future = self._replies.pop(str(message.get("request_id")), None)
            if future is not None and not future.done():
                future.set_result(message)

    async def _keep_alive(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        loop = asyncio.get_running_loop()
        while self._ended is None:
            await asyncio.sleep(self._ping_interval)
            self._pong = loop.create_future()
            try:
                await ws.ping()
                async with asyncio.timeout(self._reply_timeout):
                    await self._pong
            except TimeoutError:
                wait = f"{self._reply_timeout:g} s"
                self._end(EventSocketError(f"{self.url} did not answer a ping within {wait}"))
                await self._teardown()
                return
            except (ConnectionError, aiohttp.ClientError):
                return  # the reader sees the connection go


def _errors(reply: dict[str, Any]) -> list[str]:
    data = reply.get("data")
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return [f"status {reply.get('status')!r}"]
    return [str(error) for error in errors]


def _why(exc: BaseException, timeout: float) -> str:
    """One short reason for a failed connection."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"the server refused the websocket upgrade (HTTP {exc.status})"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate not trusted ({exc.certificate_error})"
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, socket.gaierror):
            return "host name not resolved"
        if os_error.errno:  # asyncio's own text is "Connect call failed (host, port)"
            return os.strerror(os_error.errno).lower()
        return str(os_error) or type(os_error).__name__
    if isinstance(exc, aiohttp.InvalidURL | ValueError):
        return "not a websocket URL"
    return str(exc) or type(exc).__name__
