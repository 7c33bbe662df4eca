"""Non-INVITE transactions (RFC 3261 §17.1.2, §17.2.2).

Server side: a request whose `transaction_key` already completed gets the cached final
response again without being processed twice (a retransmitted REGISTER would otherwise fail
CSeq ordering). Entries live for Timer J (64·T1 = 32 s on UDP, 0 on TCP), and the cache is
bounded in entries and in bytes (a response echoes Via/From/To, so a hostile request can make
it large): the oldest entry goes first, so memory stays flat under any load.

Client side (the registrar's NOTIFY): the request is retransmitted on UDP by Timer E (T1
doubling to T2, T2 once a provisional response came) until a final response or Timer F;
the caller awaits the final response, or None on timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from kazoodesk.simulator.registrar.message import SipMessage

TransactionKey = tuple[str, str, str]

T1_S = 0.5
T2_S = 4.0
TIMER_F_S = 64 * T1_S
TIMER_J_S = 64 * T1_S


class ServerTransactions:
    """Completed server transactions: key -> (deadline, final response bytes)."""

    def __init__(
        self,
        timer_j_s: float = TIMER_J_S,
        max_entries: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
        max_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self.timer_j_s = timer_j_s
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[TransactionKey, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0  # responses plus branch strings: what a hostile peer controls

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        return self._bytes

    def lookup(self, key: TransactionKey) -> bytes | None:
        """The final response already sent for this transaction, if it is still kept."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            self._drop(key)
            return None
        return entry[1]

    def complete(self, key: TransactionKey, response: bytes, reliable: bool) -> None:
        """Remember the final response; over TCP Timer J is 0, so nothing is kept."""
        if reliable or self.timer_j_s <= 0 or self.max_entries <= 0:
            return
        now = self._clock()
        entries = self._entries
        self.purge(now)
        if key in entries:  # keep insertion order = expiry order
            self._drop(key)
        entries[key] = (now + self.timer_j_s, response)
        self._bytes += _cost(key, response)
        while entries and (len(entries) > self.max_entries or self._bytes > self.max_bytes):
            self._drop(next(iter(entries)))

    def purge(self, now: float | None = None) -> int:
        """Drop the expired entries; cost O(expired) as they are in expiry order."""
        now = self._clock() if now is None else now
        entries = self._entries
        dropped = 0
        while entries:
            key, (deadline, _) = next(iter(entries.items()))
            if deadline > now:
                break
            self._drop(key)
            dropped += 1
        return dropped

    def _drop(self, key: TransactionKey) -> None:
        _, response = self._entries.pop(key)
        self._bytes -= _cost(key, response)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


def _cost(key: TransactionKey, response: bytes) -> int:
    return len(response) + len(key[0]) + len(key[1]) + 200  # + dict, tuple and bytes overhead


class TransactionError(Exception):
    """A client transaction could not start: the request cannot be sent, or too many are
    already pending."""


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[SipMessage | None]
    data: bytes
    send: Callable[[bytes], bool]
    interval: float
    retransmit: asyncio.TimerHandle | None = None
    timeout: asyncio.TimerHandle | None = None


ClientKey = tuple[str, str]  # (branch, method): RFC 3261 §17.1.3


@dataclass(frozen=True, slots=True)
class ClientTimers:
    t1_s: float = T1_S
    t2_s: float = T2_S
    timer_f_s: float = TIMER_F_S


class ClientTransactions:
    """Pending non-INVITE client transactions, matched by top-Via branch and CSeq method."""

    def __init__(self, timers: ClientTimers | None = None, max_pending: int = 10_000) -> None:
        self.timers = timers or ClientTimers()
        self.max_pending = max_pending
        self._pending: dict[ClientKey, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def start(
        self, data: bytes, branch: str, method: str, send: Callable[[bytes], bool], reliable: bool
    ) -> asyncio.Future[SipMessage | None]:
        """Send `data` and return a future for its final response (None: Timer F fired)."""
        key = (branch, method)
        if key in self._pending:
            raise TransactionError("branch already in use")
        if len(self._pending) >= self.max_pending:
            raise TransactionError("too many pending client transactions")
        if not send(data):
            raise TransactionError("request could not be sent")
        loop = asyncio.get_running_loop()
        pending = _Pending(loop.create_future(), data, send, self.timers.t1_s)
        if not reliable:
            pending.retransmit = loop.call_later(pending.interval, self._retransmit, key)
        pending.timeout = loop.call_later(self.timers.timer_f_s, self._finish, key, None)
        pending.future.add_done_callback(lambda _: self._finish(key, None))
        self._pending[key] = pending
        return pending.future

    def on_response(self, msg: SipMessage) -> bool:
        """Deliver a response; False when it matches no pending transaction (drop it)."""
        key = (msg.top_via.branch or "", msg.cseq_method)
        pending = self._pending.get(key)
        if pending is None:
            return False
        if msg.status < 200:  # Proceeding: keep retransmitting, at T2 (§17.1.2.2)
            pending.interval = self.timers.t2_s
            return True
        self._finish(key, msg)
        return True

    def _retransmit(self, key: ClientKey) -> None:
        pending = self._pending.get(key)
        if pending is None:
            return
        pending.send(pending.data)
        pending.interval = min(pending.interval * 2, self.timers.t2_s)
        loop = asyncio.get_running_loop()
        pending.retransmit = loop.call_later(pending.interval, self._retransmit, key)

    def _finish(self, key: ClientKey, result: SipMessage | None) -> None:
        pending = self._pending.pop(key, None)
        if pending is None:
            return
        for handle in (pending.retransmit, pending.timeout):
            if handle is not None:
                handle.cancel()
        if not pending.future.done():
            pending.future.set_result(result)

    def close(self) -> None:
        """End every pending transaction as timed out."""
        for key in list(self._pending):
            self._finish(key, None)
