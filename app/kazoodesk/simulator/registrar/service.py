"""The registrar service: sockets, transactions, REGISTER as Kazoo answers it, OPTIONS, 405
for the rest, the expiry sweep, NOTIFY, and what the REST layer reads and flushes.

Every request is handled synchronously in the transport callback (parse, a few dict
lookups, two MD5s, one response), so the per-packet work is O(1) and REGISTERs are
processed in arrival order and atomically (RFC 3261 §10.3). Binding events go to
`on_change` in that callback too: keep it cheap (queue the event, do not block).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from kazoodesk.simulator.registrar.auth import AuthDecision, Authenticator
from kazoodesk.simulator.registrar.bindings import Binding, BindingTable, contact_header
from kazoodesk.simulator.registrar.changes import EventKind, RegistrarEvent, RegistrarSettings
from kazoodesk.simulator.registrar.credentials import (
    CredentialsLookup,
    DeviceCredentials,
    IpLookup,
    RealmCheck,
)
from kazoodesk.simulator.registrar.headers import SipParseError
from kazoodesk.simulator.registrar.memory import MemoryTrimmer
from kazoodesk.simulator.registrar.message import (
    SipMessage,
    build_response,
    parse_message,
    sip_date,
    transaction_key,
)
from kazoodesk.simulator.registrar.nonces import NonceSigner
from kazoodesk.simulator.registrar.notify import NotifyOutcome, NotifySpec, notify_over, spec_for
from kazoodesk.simulator.registrar.ratelimit import FailureLimiter
from kazoodesk.simulator.registrar.records import registration_record
from kazoodesk.simulator.registrar.register import (
    RegisterRequest,
    RegisterResult,
    RegistrarPolicy,
    check_bounds,
    register_request,
)
from kazoodesk.simulator.registrar.transactions import ClientTransactions, ServerTransactions
from kazoodesk.simulator.registrar.transport import Addr, Link, Listeners, UdpEndpoint, preview

if TYPE_CHECKING:
    from kazoodesk.simulator.registrar.front import FrontProcess, ViewSource

log = logging.getLogger(__name__)

ALLOW = "REGISTER, OPTIONS"
OUT_OF_ORDER = "Out of order request"


ChangeCallback = Callable[[RegistrarEvent], None]
NotifyTarget = Binding | tuple[str, str]


def unparsable_answer(exc: SipParseError, addr: Addr) -> bytes | None:
    """The answer to a message that does not parse: an error response when it is a request
    far enough to answer (not an ACK), else None (dropped)."""
    bad = exc.message
    if bad is not None and bad.is_request and bad.method != "ACK":
        return build_response(bad, exc.status, exc.reason, source=addr)
    return None


def stateless_answer(msg: SipMessage, addr: Addr) -> bytes | None:
    """The answer to a request that needs nothing of the registrar's state: 405 for a method
    we do not handle, 420 for any Require (we support no extension, RFC 3261 §8.2.2.3), 200
    to OPTIONS; None for a REGISTER."""
    method = msg.method
    if method not in ("REGISTER", "OPTIONS"):
        return build_response(msg, 405, source=addr, headers=[("Allow", ALLOW)])
    required = msg.get("require")
    if required:
        return build_response(msg, 420, source=addr, headers=[("Unsupported", required[:256])])
    if method == "OPTIONS":
        return build_response(msg, 200, source=addr, headers=[("Allow", ALLOW), ("Accept", "*/*")])
    return None


class Registrar:
    def __init__(
        self,
        policy: RegistrarPolicy,
        nonces: NonceSigner,
        lookup: CredentialsLookup,
        realm_known: RealmCheck,
        lookup_ip: IpLookup,
        on_change: ChangeCallback | None = None,
        settings: RegistrarSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or RegistrarSettings()
        s = self.settings
        self.policy = policy
        self.table = BindingTable(policy)
        self._lookup = lookup
        self._realm_known = realm_known
        self._on_change = on_change
        self._clock = clock
        self.limiter = FailureLimiter(s.rate_limit)
        self._auth = Authenticator(nonces, lookup, lookup_ip, self.limiter, s.auth)
        self.server_transactions = ServerTransactions(
            s.timer_j_s, s.max_transactions, max_bytes=s.max_transaction_bytes
        )
        self.client_transactions = ClientTransactions(s.client_timers)
        self.trimmer = MemoryTrimmer()  # RSS back down after the table grew or shrank a lot
        self._nonces = nonces
        self._listeners: Listeners | None = None
        self._front: FrontProcess | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._date: tuple[int, str] = (0, "")

    # -- lifetime ------------------------------------------------------------------------

    async def start(
        self,
        host: str = "127.0.0.1",
        udp_port: int = 5060,
        tcp_port: int | None = None,
        front: ViewSource | None = None,
    ) -> None:
        """Listen on UDP and TCP (port 0 = any free one; TCP tries the UDP port number
        first) and start the expiry sweep. With `front` (POSIX only), a second process
        reads the UDP socket and answers the challenges (kazoodesk.simulator.registrar.front)."""
        listeners = Listeners(self.handle, self.settings.limits)
        await listeners.start(host, udp_port, tcp_port)
        self._listeners = listeners
        if front is not None and listeners.udp is not None:
            self._front = self._start_front(listeners.udp, front)
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    def _start_front(self, endpoint: UdpEndpoint, view: ViewSource) -> FrontProcess | None:
        from kazoodesk.simulator.registrar.front import FrontConfig, FrontProcess, ViewTooLarge

        if not hasattr(socket, "SOCK_SEQPACKET") or not hasattr(socket, "AF_UNIX"):
            log.warning("no SIP front process on this system: one process reads SIP")
            return None
        config = FrontConfig(
            nonce_key=self._nonces.key.hex(),
            policy=asdict(self.policy),
            auth=asdict(self.settings.auth),
            timer_j_s=self.settings.timer_j_s,
        )
        front = FrontProcess(endpoint, view)
        try:
            front.start(config)
        except (OSError, ViewTooLarge) as exc:
            log.warning("no SIP front process (%s): one process reads SIP", exc)
            return None
        return front

    @property
    def front_pid(self) -> int | None:
        """The SIP front process's id while it runs."""
        return self._front.pid if self._front is not None else None

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        if self._front is not None:
            await self._front.stop()
            self._front = None
        self.client_transactions.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listeners is not None:
            await self._listeners.close()
            self._listeners = None

    @property
    def udp_address(self) -> Addr:
        assert self._listeners is not None, "the registrar is not started"
        return self._listeners.udp_address

    @property
    def tcp_address(self) -> Addr:
        assert self._listeners is not None, "the registrar is not started"
        return self._listeners.tcp_address

    # -- the transport handler -----------------------------------------------------------

    def handle(self, data: bytes, addr: Addr, link: Link) -> None:
        """One message from `addr`; answers go back through `link`. Never raises."""
        try:
            self._handle(data, addr, link)
        except Exception:  # noqa: BLE001 - a bug must not take the socket down
            log.debug("SIP message from %s failed: %s", addr, preview(data), exc_info=True)

    def _handle(self, data: bytes, addr: Addr, link: Link) -> None:
        try:
            msg = parse_message(data, self.settings.limits)
        except SipParseError as exc:
            answer = unparsable_answer(exc, addr)
            if answer is not None:
                link.send(answer, addr)
            else:
                log.debug("dropped from %s (%s): %s", addr, exc.reason, preview(data))
            return
        if not msg.is_request:  # responses are never answered, only matched
            self.client_transactions.on_response(msg)
            return
        if msg.method == "ACK":
            return
        key = transaction_key(msg)
        cached = self.server_transactions.lookup(key)
        if cached is not None:  # a retransmission: same answer, no second processing
            link.send(cached, addr)
            return
        response = self._dispatch(msg, addr, link)
        if response is not None:
            self.server_transactions.complete(key, response, link.reliable)
            link.send(response, addr)

    def _dispatch(self, msg: SipMessage, addr: Addr, link: Link) -> bytes | None:
        return stateless_answer(msg, addr) or self._register(msg, addr, link)

    def _respond(
        self,
        msg: SipMessage,
        addr: Addr,
        status: int,
        reason: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> bytes:
        return build_response(msg, status, reason, source=addr, headers=list(headers))

    # -- REGISTER ------------------------------------------------------------------------

    def _register(self, msg: SipMessage, addr: Addr, link: Link) -> bytes | None:
        """Kazoo's order: bounds (400/423), realm, who (IP device or digest), then the
        table (CSeq ordering, one binding per AOR, ...)."""
        try:
            req = register_request(msg, addr, link.name)
        except SipParseError as exc:
            return self._respond(msg, addr, 400, exc.reason)
        bounds = check_bounds(req, self.policy)
        if bounds is not None:
            return self._result_response(msg, addr, bounds, 0.0)
        now = self._clock()
        decision = self._auth.ip_device(addr[0], req)
        if decision is None:
            if not self._realm_known(req.realm):
                return self._respond(msg, addr, self.settings.unknown_realm_status)
            decision = self._auth.check(msg, req, addr[0], now)
        if decision.device is None:
            return self._refused(msg, addr, req, decision, now)
        req.device = decision.device
        result = self._retransmitted(req, self.table.apply(req, now))
        if result.ok:
            self._committed(req, decision.device, result, now)
        return self._result_response(msg, addr, result, now)

    def _refused(
        self, msg: SipMessage, addr: Addr, req: RegisterRequest, decision: AuthDecision, now: float
    ) -> bytes | None:
        if decision.failure is not None and self._on_change is not None:
            self._emit(RegistrarEvent(
                EventKind.AUTH_FAILED, req.realm, req.username, addr, req.transport, now,
                device=decision.failed_device, reason=decision.failure,
            ))  # fmt: skip
        if decision.status == 0:
            return None
        headers = [("WWW-Authenticate", decision.challenge)] if decision.challenge else []
        return self._respond(msg, addr, decision.status, decision.reason, headers)

    @staticmethod
    def _retransmitted(req: RegisterRequest, result: RegisterResult) -> RegisterResult:
        """A REGISTER already applied (same Call-ID and CSeq) whose cached answer is gone:
        200 with the current bindings, as Kamailio's `R_RETRANS`."""
        if result.status == 400 and result.reason == OUT_OF_ORDER:
            for b in result.bindings:
                if b.call_id == req.call_id and b.cseq == req.cseq:
                    return RegisterResult(200, "OK", result.bindings)
        return result

    def _committed(
        self, req: RegisterRequest, device: DeviceCredentials, result: RegisterResult, now: float
    ) -> None:
        if self._on_change is None:
            return
        for change in result.changes:
            self._binding_event(EventKind(change.kind.value), change.binding, device, now)

    def _result_response(
        self, msg: SipMessage, addr: Addr, result: RegisterResult, now: float
    ) -> bytes:
        headers: list[tuple[str, str]] = []
        if result.status == 423 and result.min_expires is not None:
            headers.append(("Min-Expires", str(result.min_expires)))
        if result.status == 200:
            contacts = contact_header(result.bindings, now)
            if contacts:
                headers.append(("Contact", contacts))
            headers.append(("Date", self._date_header(now)))
        return self._respond(msg, addr, result.status, result.reason, headers)

    def _date_header(self, now: float) -> str:
        second = int(now)
        if self._date[0] != second:
            self._date = (second, sip_date(second))
        return self._date[1]

    # -- events and expiry ---------------------------------------------------------------

    def _binding_event(
        self,
        kind: EventKind,
        b: Binding,
        device: DeviceCredentials | None,
        now: float,
        reason: str = "",
    ) -> None:
        if self._on_change is not None:
            source = (b.source_ip, b.source_port)
            self._emit(RegistrarEvent(kind, b.realm, b.username, source, b.transport, now, b,
                                      device, reason))  # fmt: skip

    def _emit(self, event: RegistrarEvent) -> None:
        assert self._on_change is not None
        try:
            self._on_change(event)
        except Exception:  # noqa: BLE001
            log.exception("registrar event consumer failed on %s", event.kind.value)

    def sweep(self, now: float | None = None) -> list[Binding]:
        """Remove the bindings whose time is up, emitting `expired` for each."""
        now = self._clock() if now is None else now
        expired = self.table.sweep(now)
        for b in expired:
            self._binding_event(EventKind.EXPIRED, b, b.device, now)
        self.server_transactions.purge()
        return expired

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval_s)
            try:
                self.sweep()
                self.trimmer.check(len(self.table), time.monotonic())
            except Exception:  # noqa: BLE001
                log.exception("registrar expiry sweep failed")

    # -- what the REST layer reads and does ----------------------------------------------

    def bindings(self, realm: str | None = None) -> list[Binding]:
        return list(self.table.bindings(realm.lower() if realm else None))

    def bindings_of(self, realm: str, username: str) -> tuple[Binding, ...]:
        """The AOR's bindings (any case: realms and usernames are kept lower-case)."""
        return self.table.lookup(realm.lower(), username.lower())

    def count(self, realm: str | None = None) -> int:
        return self.table.count(realm.lower() if realm else None)

    def registered_device_ids(self, realm: str) -> set[str]:
        """For `/devices/status`: every device with a binding in the realm."""
        return {b.device_id for b in self.table.bindings(realm.lower()) if b.device_id}

    def records(self, realm: str | None = None) -> list[dict[str, Any]]:
        """Rows for `/registrations` (see `records.registration_record`)."""
        now = self._clock()
        listeners = self._listeners
        rows = []
        for b in self.table.bindings(realm.lower() if realm else None):
            proxy = None
            if listeners is not None:
                proxy = listeners.tcp_address if b.transport == "TCP" else listeners.udp_address
            rows.append(registration_record(b, b.device, now, proxy))
        return rows

    def flush(self, realm: str, username: str | None = None) -> list[Binding]:
        """Kazoo's registration flush: remove the AOR's bindings (the realm's when
        `username` is None) for real, emitting `unregistered` with reason "flushed"."""
        realm = realm.lower()
        if username is None:
            removed = self.table.remove_realm(realm)
        else:
            removed = self.table.remove(realm, username.lower())
        now = self._clock()
        for b in removed:
            self._binding_event(EventKind.UNREGISTERED, b, b.device, now, "flushed")
        return removed

    # -- NOTIFY --------------------------------------------------------------------------

    def notify(
        self,
        target: NotifyTarget,
        event: str,
        body: bytes | str | None = None,
        content_type: str | None = None,
    ) -> asyncio.Task[list[NotifyOutcome]]:
        """Send NOTIFY (`Event: event`) to every live binding of the device (`target` = a
        binding or (realm, username)) and return a task with one outcome per binding
        (an empty list when nothing is registered). Call from the registrar's loop."""
        for text in (event, content_type or ""):
            if "\r" in text or "\n" in text:
                raise ValueError("header value cannot hold a line break")
        payload = body.encode() if isinstance(body, str) else (body or b"")
        bindings: tuple[Binding, ...]
        if isinstance(target, Binding):
            realm, username, bindings = target.realm, target.username, (target,)
        else:
            realm, username = target[0].lower(), target[1].lower()
            bindings = self.table.live(realm, username, self._clock())
        listeners = self._listeners
        if listeners is None:
            raise RuntimeError("the registrar is not started")
        specs = [
            spec_for(b, listeners.tcp_address if b.transport == "TCP" else listeners.udp_address,
                     event, payload, content_type)
            for b in bindings
        ]  # fmt: skip
        credentials = self._notify_credentials(realm, username)
        task = asyncio.get_running_loop().create_task(self._notify_all(specs, credentials))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _notify_credentials(self, realm: str, username: str) -> tuple[str, str] | None:
        device = self._lookup(realm, username)
        if device is None:  # gone from the store: the credentials it registered with
            known = (b.device for b in self.table.lookup(realm, username) if b.device)
            device = next(known, None)
        if device is None or not device.password:
            return None
        return device.username or username, device.password

    async def _notify_all(
        self, specs: list[NotifySpec], credentials: tuple[str, str] | None
    ) -> list[NotifyOutcome]:
        listeners = self._listeners
        jobs = [
            notify_over(
                self.client_transactions,
                spec,
                listeners.link_for(spec.transport, spec.target) if listeners else None,
                credentials,
            )
            for spec in specs
        ]
        return list(await asyncio.gather(*jobs))
