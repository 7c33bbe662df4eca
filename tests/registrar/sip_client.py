"""A tiny SIP phone for the registrar's socket tests (UDP or TCP on 127.0.0.x), built on the
registrar's own message and digest code, plus a registrar running on port 0 with an
in-memory device directory."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from sip_samples import REALM, SECRET

from kazoodesk.simulator.registrar.changes import RegistrarEvent, RegistrarSettings
from kazoodesk.simulator.registrar.credentials import DeviceCredentials
from kazoodesk.simulator.registrar.digest import build_authorization, parse_challenge
from kazoodesk.simulator.registrar.front import FrontView
from kazoodesk.simulator.registrar.headers import SipParseError, Via
from kazoodesk.simulator.registrar.message import (
    SipMessage,
    build_request,
    build_response,
    new_branch,
    new_call_id,
    new_tag,
    next_frame,
    parse_message,
)
from kazoodesk.simulator.registrar.nonces import NonceSigner
from kazoodesk.simulator.registrar.register import RegistrarPolicy
from kazoodesk.simulator.registrar.service import Registrar

Addr = tuple[str, int]
T = TypeVar("T")
ACCOUNT = "a" * 32
_device_ids = itertools.count(1)


def run(coro: Awaitable[T], timeout: float = 20.0) -> T:
    """Run one async test story on a fresh loop, bounded in time."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def device(user: str, password: str | None = None, **fields: object) -> DeviceCredentials:
    base = DeviceCredentials(
        device_id=f"dev{next(_device_ids):029d}",
        account_id=ACCOUNT,
        realm=REALM,
        username=user,
        password=password if password is not None else f"pw-{user}",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


@dataclass
class FrontSwitch:
    on: bool = False


FRONT = FrontSwitch()


@dataclass
class Directory:
    """The simulator's store as the registrar sees it."""

    devices: dict[tuple[str, str], DeviceCredentials] = field(default_factory=dict)
    by_ip: dict[str, DeviceCredentials] = field(default_factory=dict)
    realms: set[str] = field(default_factory=lambda: {REALM})

    def add(self, dev: DeviceCredentials) -> DeviceCredentials:
        if dev.method == "ip" and dev.ip:
            self.by_ip[dev.ip] = dev
        else:
            self.devices[(dev.realm, dev.username.lower())] = dev
        return dev

    def lookup(self, realm: str, username: str) -> DeviceCredentials | None:
        return self.devices.get((realm, username))

    def realm_known(self, realm: str) -> bool:
        return realm in self.realms

    def lookup_ip(self, ip: str) -> DeviceCredentials | None:
        return self.by_ip.get(ip)

    def front_view(self) -> FrontView:
        return FrontView(frozenset(self.realms), frozenset(self.by_ip))


@dataclass
class Running:
    registrar: Registrar
    directory: Directory
    events: list[RegistrarEvent]
    changed: asyncio.Event

    @property
    def udp(self) -> Addr:
        return self.registrar.udp_address

    @property
    def tcp(self) -> Addr:
        return self.registrar.tcp_address

    def kinds(self) -> list[str]:
        return [e.kind.value for e in self.events]

    async def wait_for(self, kind: str, count: int = 1, timeout: float = 5.0) -> None:
        async def until() -> None:
            while self.kinds().count(kind) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), timeout)


@contextlib.asynccontextmanager
async def running_registrar(
    *devices: DeviceCredentials,
    policy: RegistrarPolicy | None = None,
    settings: RegistrarSettings | None = None,
    nonces: NonceSigner | None = None,
    front: bool | None = None,
) -> AsyncIterator[Running]:
    """A registrar on free loopback ports; with `front` (default: `FRONT.on`, which the
    tests that run both ways set) its SIP front process reads the UDP socket."""
    directory = Directory()
    for dev in devices:
        directory.add(dev)
    events: list[RegistrarEvent] = []
    changed = asyncio.Event()

    def on_change(event: RegistrarEvent) -> None:
        events.append(event)
        changed.set()

    registrar = Registrar(
        policy or RegistrarPolicy(),
        nonces or NonceSigner(SECRET),
        directory.lookup,
        directory.realm_known,
        directory.lookup_ip,
        on_change,
        settings,
    )
    with_front = FRONT.on if front is None else front
    await registrar.start("127.0.0.1", 0, front=directory.front_view if with_front else None)
    try:
        yield Running(registrar, directory, events, changed)
    finally:
        await registrar.stop()


class SipClient:
    """One socket to the registrar; incoming requests and responses in separate queues."""

    def __init__(self, transport: str) -> None:
        self.transport_name = transport
        self.responses: asyncio.Queue[SipMessage] = asyncio.Queue()
        self.requests: asyncio.Queue[SipMessage] = asyncio.Queue()
        self.local: Addr = ("", 0)
        self._send_raw: object = None
        self._udp: asyncio.DatagramTransport | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self.received = bytearray()  # every byte a TCP client got (for pong checks)
        self.unparsed = 0

    @classmethod
    async def udp(cls, server: Addr, local_ip: str = "127.0.0.1") -> SipClient:
        client = cls("UDP")
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpReceiver(client), local_addr=(local_ip, 0), remote_addr=server
        )
        client._udp = transport
        client.local = transport.get_extra_info("sockname")[:2]
        return client

    @classmethod
    async def tcp(cls, server: Addr) -> SipClient:
        client = cls("TCP")
        reader, writer = await asyncio.open_connection(*server)
        client._writer = writer
        client.local = writer.get_extra_info("sockname")[:2]
        client._reader_task = asyncio.get_running_loop().create_task(client._read(reader))
        return client

    def send(self, data: bytes) -> None:
        if self._udp is not None:
            self._udp.sendto(data)
        else:
            assert self._writer is not None
            self._writer.write(data)

    def deliver(self, data: bytes) -> None:
        try:
            msg = parse_message(data)
        except SipParseError:  # e.g. a 400 echoing a broken CSeq back
            self.unparsed += 1
            return
        (self.requests if msg.is_request else self.responses).put_nowait(msg)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        buffer = bytearray()
        while chunk := await reader.read(65536):
            self.received += chunk
            buffer += chunk
            while (frame := next_frame(buffer)) is not None:
                start, end = frame
                self.deliver(bytes(buffer[start:end]))
                del buffer[:end]
            if buffer.strip(b"\r\n") == b"":
                buffer.clear()

    async def response(self, timeout: float = 3.0) -> SipMessage:
        """The next final response (provisional ones skipped)."""
        while True:
            msg = await asyncio.wait_for(self.responses.get(), timeout)
            if msg.status >= 200:
                return msg

    async def request(self, data: bytes, timeout: float = 3.0) -> SipMessage:
        self.send(data)
        return await self.response(timeout)

    def answer(self, request: SipMessage, status: int, headers: list[tuple[str, str]]) -> None:
        self.send(build_response(request, status, headers=headers))

    def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()


class _UdpReceiver(asyncio.DatagramProtocol):
    def __init__(self, client: SipClient) -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        self.client.deliver(data)


class Phone:
    """A SIP user agent registering one AOR, the way sipp and real phones do."""

    def __init__(self, client: SipClient, user: str, password: str | None = None) -> None:
        self.client = client
        self.user = user
        self.password = password if password is not None else f"pw-{user}"
        self.realm = REALM
        self.call_id = new_call_id(client.local[0])
        self.cseq = 0
        self.use_qop = True
        self.tag = new_tag()

    @property
    def contact(self) -> str:
        host, port = self.client.local
        return f"<sip:{self.user}@{host}:{port};transport={self.client.transport_name}>"

    def register_request(
        self,
        expires: int | None = 300,
        contact: str | None = None,
        authorization: str | None = None,
        branch: str | None = None,
        extra: list[tuple[str, str]] | None = None,
        method: str = "REGISTER",
    ) -> bytes:
        self.cseq += 1
        host, port = self.client.local
        aor = f"<sip:{self.user}@{self.realm}>"
        headers = [("Contact", contact or self.contact)] if contact != "" else []
        if expires is not None:
            headers.append(("Expires", str(expires)))
        if authorization is not None:
            headers.append(("Authorization", authorization))
        headers += extra or [("User-Agent", "test-phone")]
        via = Via(self.client.transport_name, host, port, {"branch": branch or new_branch(),
                                                           "rport": None})  # fmt: skip
        return build_request(
            method, f"sip:{self.realm}", via=via, from_addr=f"{aor};tag={self.tag}",
            to_addr=aor, call_id=self.call_id, cseq=self.cseq, headers=headers,
        )  # fmt: skip

    def authorization(self, challenge_response: SipMessage, password: str | None = None) -> str:
        value = challenge_response.get("www-authenticate")
        assert value is not None, "a 401 carries a challenge"
        challenge = parse_challenge(value)
        if not self.use_qop:
            challenge = replace(challenge, qop=())
        return build_authorization(
            challenge, username=self.user, password=password or self.password,
            method="REGISTER", uri=f"sip:{self.realm}",
        )  # fmt: skip

    async def register(
        self, expires: int | None = 300, contact: str | None = None, password: str | None = None
    ) -> SipMessage:
        """REGISTER, answer the 401 once, return the final response."""
        first = await self.client.request(self.register_request(expires, contact))
        if first.status != 401:
            return first
        auth = self.authorization(first, password)
        return await self.client.request(self.register_request(expires, contact, auth))
