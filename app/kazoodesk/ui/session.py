"""The connection to one Kazoo server, and its state as the user sees it.

Every call of the UI goes through `Session.call`, so one place learns that the server went away
and one place finds out when it is back: it probes with growing pauses and then says
`reconnected`, on which the window reloads what it shows. Calls are never retried blindly: a
save that failed stays in the editor for the user to send again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from kazoodesk.kazoo import KazooClient, KazooError, KazooUnavailable

T = TypeVar("T")

# seconds between probes of a server that went away; the last one repeats
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 15.0)
# failed probes before "reconnecting" becomes "offline"
PROBES_BEFORE_OFFLINE = 3


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


class Session(QObject):
    stateChanged = Signal(str)
    reconnected = Signal()
    closing = Signal()  # what uses the client stops now: it is about to be closed

    def __init__(
        self,
        client: KazooClient,
        *,
        label: str = "",
        retry_delays: Sequence[float] = RETRY_DELAYS,
        server_info: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        # the demo server's READY information (api, sip, sip_tcp, sip_host...); empty for a
        # remote Kazoo
        self.server_info: dict[str, Any] = dict(server_info or {})
        self.label = label or client.base_url
        self.state = ConnectionState.CONNECTING
        self.last_error = ""
        self._retry_delays = tuple(retry_delays)
        self._probe: asyncio.Task[None] | None = None
        self.closed = False

    async def call(self, request: Callable[..., Awaitable[T]], *args: object) -> T:
        """Await `request(*args)`; a network failure marks the session and is re-raised."""
        try:
            result = await request(*args)
        except KazooUnavailable as exc:
            self._lost(str(exc))
            raise
        self._answered()
        return result

    async def pages(self, pages: AsyncIterator[T]) -> AsyncIterator[T]:
        """`pages` passed through, with a network failure marking the session as in `call`."""
        try:
            async for page in pages:
                self._answered()
                yield page
        except KazooUnavailable as exc:
            self._lost(str(exc))
            raise

    def _answered(self) -> None:
        if self.state is not ConnectionState.CONNECTED and self._probe is None:
            self._set_state(ConnectionState.CONNECTED)

    async def close(self) -> None:
        self.closed = True
        self.closing.emit()
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None
        await self.client.aclose()

    def _lost(self, reason: str) -> None:
        self.last_error = reason
        if self._probe is None:
            self._set_state(ConnectionState.RECONNECTING)
            self._probe = asyncio.get_running_loop().create_task(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        failures = 0
        while True:
            await asyncio.sleep(self._retry_delays[min(failures, len(self._retry_delays) - 1)])
            try:
                await self.client.get_account()
            except KazooUnavailable as exc:
                failures += 1
                self.last_error = str(exc)
                if failures >= PROBES_BEFORE_OFFLINE:
                    self._set_state(ConnectionState.OFFLINE)
                continue
            except KazooError as exc:  # the server answers, if only with an error: it is back
                self.last_error = str(exc)
            break
        self._probe = None
        self._set_state(ConnectionState.CONNECTED)
        self.reconnected.emit()

    def _set_state(self, state: ConnectionState) -> None:
        if state is not self.state:
            self.state = state
            self.stateChanged.emit(state.value)
