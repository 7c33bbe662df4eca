"""Live demo phones: a score of Demo Co's devices as real SIP user agents over loopback UDP.

Each phone has a socket of its own and REGISTERs with digest, refreshes at 80-90 % of the
granted expiry, answers NOTIFY with 200 and reboots on `check-sync` (unregisters, registers
again a few seconds later). One phone drops off now and then; one has a wrong password and
keeps failing, backing off so the registrar's failed-auth limiting is exercised, never flooded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kazoodesk.simulator.registrar.digest import build_authorization, parse_challenge
from kazoodesk.simulator.registrar.headers import SipParseError, Via
from kazoodesk.simulator.registrar.message import (
    SipMessage,
    build_request,
    build_response,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
)

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator

log = logging.getLogger(__name__)

DEMO_REALM = "demo.kazoodesk.test"
MAX_PHONES = 20


@dataclass(frozen=True)
class PhoneTimings:
    """How often the phones act (seconds); tests shorten them."""

    expires: tuple[int, int] = (300, 600)  # asked for, uniformly (the registrar's min is 300)
    refresh: tuple[float, float] = (0.8, 0.9)  # share of the granted expiry before refreshing
    start_spread: float = 3.0  # phones start within this many seconds
    reboot_delay: tuple[float, float] = (3.0, 6.0)  # off-line while rebooting after check-sync
    flap_online: tuple[float, float] = (60.0, 120.0)  # the flapping phone stays up this long
    flap_offline: tuple[float, float] = (60.0, 120.0)  # ... then away this long
    fail_backoff: tuple[float, float] = (30.0, 600.0)  # wrong password: first and longest wait
    retransmit: float = 0.5  # RFC 3261 T1
    transaction_timeout: float = 4.0  # no final answer in this long: 408
    stop_timeout: float = 1.0  # for the best-effort unregister on stop


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def user_agent(doc: dict[str, Any]) -> str:
    """A realistic User-Agent from the device's provisioning brand and model."""
    provision = _object(doc.get("provision"))
    brand = str(provision.get("endpoint_brand") or "").lower()
    model = str(provision.get("endpoint_model") or "")
    if brand == "yealink":
        return f"Yealink SIP-{model.upper() or 'T46U'} 96.86.0.70"
    if brand == "polycom":
        name = model.upper() or "VVX450"
        return f"PolycomVVX-{name.replace('VVX', 'VVX_')}-UA/6.4.3.5019"
    if brand == "snom":
        return f"snom{model.upper() or 'D785'}/10.1.101.11"
    if brand == "cisco":
        return f"Cisco/{model.upper() or 'SPA504G'}-7.6.2f"
    if brand == "grandstream":
        return f"Grandstream {model.upper() or 'GXP2170'} 1.0.11.74"
    if doc.get("device_type") == "smartphone":
        return "Zoiper rv2.10.20.5"
    return "Bria 6 6.6.2 stamp 113048"


@dataclass(frozen=True)
class PhoneSpec:
    device_id: str
    username: str
    password: str
    realm: str
    user_agent: str
    role: str = "steady"  # or "flapping", "wrong_password"


def demo_phone_specs(sim: Simulator, limit: int = MAX_PHONES) -> list[PhoneSpec]:
    """Demo Co's enabled devices with password credentials; the last two of them are the
    flapping phone and the one with a wrong password."""
    accounts = sim.accounts.by_realm(DEMO_REALM)
    if not accounts:
        return []
    account = accounts[0]
    reader = sim.store.reader
    specs: list[PhoneSpec] = []
    for doc in reader.list_type(account["_id"], "device"):
        sip = _object(doc.get("sip"))
        if doc.get("enabled", True) is False or sip.get("method", "password") != "password":
            continue
        if not sip.get("username") or not sip.get("password") or sip.get("realm"):
            continue
        specs.append(
            PhoneSpec(
                doc["_id"],
                str(sip["username"]),
                str(sip["password"]),
                str(account.get("realm") or DEMO_REALM),
                user_agent(doc),
            )
        )
        if len(specs) >= limit:
            break
    if len(specs) >= 3:
        specs[-2] = replace(specs[-2], role="flapping")
        specs[-1] = replace(specs[-1], password=specs[-1].password + "-x", role="wrong_password")
    return specs


class Phone(asyncio.DatagramProtocol):
    """One simulated phone: a UDP socket on loopback and the task that keeps it registered."""

    def __init__(self, spec: PhoneSpec, registrar: tuple[str, int], timings: PhoneTimings) -> None:
        self.spec = spec
        self.registrar = registrar
        self.timings = timings
        self.state = "starting"  # registered, unregistered, rebooting, offline, auth_failed...
        self.registrations = 0
        self.failures = 0
        self.reboots = 0
        self.flaps = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._local: tuple[str, int] = ("127.0.0.1", 0)
        self._call_id = ""
        self._tag = new_tag()
        self._cseq = 0
        self._waiting: tuple[int, asyncio.Future[SipMessage]] | None = None
        self._wake = asyncio.Event()
        self._reboot = False
        self._online = True  # answers NOTIFY
        self._task: asyncio.Task[None] | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        host = "::1" if ":" in self.registrar[0] else "127.0.0.1"
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, 0))
        self._transport = transport
        self._local = transport.get_extra_info("sockname")[:2]
        self._call_id = new_call_id(self._local[0])
        self._task = asyncio.create_task(self._run(), name=f"phone {self.spec.username}")

    async def stop(self) -> None:
        """Stop the phone's task, unregister if registered (best effort), close the socket;
        all of it within about `stop_timeout` whatever the registrar does."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # asyncio.wait, not `await task`: a cancellation swallowed somewhere below (3.11's
            # wait_for does that when its inner future completes at the same moment) must
            # not hold the shutdown
            await asyncio.wait({task}, timeout=self.timings.stop_timeout)
        if self._transport is not None and self.state == "registered":
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.timings.stop_timeout):
                    await self._register(0)
        self.state = "stopped"
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._waiting is not None:
            self._waiting[1].cancel()
            self._waiting = None

    # ---- the phone's life --------------------------------------------------------------------

    async def _run(self) -> None:
        t = self.timings
        await asyncio.sleep(random.uniform(0, t.start_spread))
        flap_at = self._now() + random.uniform(*t.flap_online)
        while True:
            code, granted = await self._register(random.randint(*t.expires))
            if code == 200:
                self.state = "registered"
                self.registrations += 1
                self.failures = 0
                delay = granted * random.uniform(*t.refresh)
            else:
                self.state = "auth_failed" if code in {401, 403, 407} else "failed"
                self.failures += 1
                first, longest = t.fail_backoff
                delay = min(first * 2 ** min(self.failures - 1, 20), longest)
                delay *= random.uniform(0.9, 1.1)
            if self.spec.role == "flapping" and code == 200:
                delay = min(delay, max(flap_at - self._now(), 0.0))
            await self._sleep(delay)
            if self._reboot:
                await self._do_reboot()
            elif self.spec.role == "flapping" and self._now() >= flap_at:
                await self._flap(granted)
                flap_at = self._now() + random.uniform(*t.flap_online)

    async def _do_reboot(self) -> None:
        self._reboot = False
        self.reboots += 1
        self.state = "rebooting"
        self._online = False
        await self._register(0)
        await asyncio.sleep(random.uniform(*self.timings.reboot_delay))
        self._online = True
        self._call_id = new_call_id(self._local[0])  # a fresh boot: a fresh Call-ID
        self._reboot = False

    async def _flap(self, granted: int) -> None:
        """Drop off, in turn: unregister, or go silent (the binding then expires on its own)."""
        self._online = False
        self.state = "offline"
        self.flaps += 1
        away = random.uniform(*self.timings.flap_offline)
        if self.flaps % 2 == 1:
            await self._register(0)
        else:
            away = max(away, float(granted) + 1.0)
        await self._sleep(away)
        self._reboot = False
        self._online = True

    async def _sleep(self, delay: float) -> None:
        """Sleep, or less when a check-sync NOTIFY asks for a reboot."""
        self._wake.clear()
        if self._reboot:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(delay, 0.0)):
                await self._wake.wait()

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    # ---- REGISTER ----------------------------------------------------------------------------

    async def _register(self, expires: int) -> tuple[int, int]:
        """One registration (challenge answered once, 423 followed once); return the final
        status and the expiry granted."""
        authorization: str | None = None
        for _attempt in range(3):
            response = await self._transaction(expires, authorization)
            if response is None:
                return 408, 0
            if response.status in {401, 407} and authorization is None:
                header = "www-authenticate" if response.status == 401 else "proxy-authenticate"
                value = response.get(header)
                if value is None:
                    return response.status, 0
                try:
                    challenge = parse_challenge(value)
                except SipParseError:
                    return response.status, 0
                authorization = build_authorization(
                    challenge,
                    username=self.spec.username,
                    password=self.spec.password,
                    method="REGISTER",
                    uri=self._uri,
                )
                continue
            if response.status == 423 and expires:
                try:
                    expires = int(response.get("min-expires") or "")
                except ValueError:
                    return 423, 0
                authorization = None
                continue
            if response.status == 200:
                return 200, self._granted(response, expires)
            return response.status, 0
        return 500, 0

    @property
    def _uri(self) -> str:
        return f"sip:{self.spec.realm}"

    @property
    def _contact_uri(self) -> str:
        host, port = self._local
        host = f"[{host}]" if ":" in host else host
        return f"sip:{self.spec.username}@{host}:{port}"

    def _granted(self, response: SipMessage, asked: int) -> int:
        mine = self._contact_uri.lower()
        for value in response.values("contact"):
            if mine in value.lower():
                for param in value.split(";")[1:]:
                    name, _, number = param.partition("=")
                    if name.strip().lower() == "expires" and number.strip().isdigit():
                        return int(number.strip())
        text = response.get("expires")
        return int(text) if text and text.strip().isdigit() else asked

    async def _transaction(self, expires: int, authorization: str | None) -> SipMessage | None:
        """Send one REGISTER, retransmitting (T1 doubling) until a final response or timeout."""
        transport = self._transport
        if transport is None:
            return None
        self._cseq += 1
        host, port = self._local
        sent_by = f"[{host}]" if ":" in host else host
        via = Via("UDP", sent_by, port, {"branch": new_branch(), "rport": None})
        aor = f"<sip:{self.spec.username}@{self.spec.realm}>"
        headers = [
            ("Contact", f"<{self._contact_uri};transport=udp>"),
            ("Expires", str(expires)),
            ("User-Agent", self.spec.user_agent),
            ("Allow-Events", "check-sync, talk, hold"),
        ]
        if authorization is not None:
            headers.append(("Authorization", authorization))
        data = build_request(
            "REGISTER",
            self._uri,
            via=via,
            from_addr=f"{aor};tag={self._tag}",
            to_addr=aor,
            call_id=self._call_id,
            cseq=self._cseq,
            headers=headers,
        )
        future: asyncio.Future[SipMessage] = asyncio.get_running_loop().create_future()
        self._waiting = (self._cseq, future)
        t = self.timings
        deadline = self._now() + t.transaction_timeout
        interval = t.retransmit
        try:
            while True:
                transport.sendto(data, self.registrar)
                wait = min(interval, deadline - self._now())
                if wait <= 0:
                    return None
                try:
                    async with asyncio.timeout(wait):
                        return await asyncio.shield(future)
                except TimeoutError:
                    interval = min(interval * 2, 4.0)
        finally:
            if not future.done():
                future.cancel()
            if self._waiting is not None and self._waiting[1] is future:
                self._waiting = None

    # ---- the socket --------------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        try:
            msg = parse_message(data)
        except (SipParseError, ValueError):
            return
        if not msg.is_request:
            waiting = self._waiting
            if (
                waiting is not None
                and msg.status >= 200
                and msg.call_id == self._call_id
                and msg.cseq == waiting[0]
                and not waiting[1].done()
            ):
                waiting[1].set_result(msg)
            return
        self._answer(msg, addr)

    def _answer(self, msg: SipMessage, addr: tuple[str | Any, int]) -> None:
        transport = self._transport
        if transport is None or not self._online:
            return  # off-line: the request goes unanswered
        if msg.method in {"NOTIFY", "OPTIONS"}:
            status = 200
        elif msg.method == "ACK":
            return
        else:
            status = 501
        headers = [("User-Agent", self.spec.user_agent)]
        with contextlib.suppress(ValueError):
            transport.sendto(build_response(msg, status, headers=headers), addr)
        event = (msg.get("event") or "").strip().lower()
        if msg.method == "NOTIFY" and event.startswith("check-sync"):
            self._reboot = True
            self._wake.set()

    def error_received(self, exc: Exception) -> None:
        log.debug("phone %s: %s", self.spec.username, exc)


class DemoPhones:
    """The demo's phones, started after the registrar and stopped before it."""

    def __init__(
        self,
        specs: Iterable[PhoneSpec],
        registrar: tuple[str, int],
        timings: PhoneTimings | None = None,
    ) -> None:
        self.timings = timings or PhoneTimings()
        self.phones = [Phone(spec, registrar, self.timings) for spec in specs]

    async def start(self) -> None:
        try:
            for phone in self.phones:
                await phone.start()
        except OSError:
            await self.stop()
            raise

    async def stop(self) -> None:
        await asyncio.gather(*(phone.stop() for phone in self.phones), return_exceptions=True)

    def by_role(self, role: str) -> list[Phone]:
        return [p for p in self.phones if p.spec.role == role]
