"""A second process in front of the registrar (`kazoodesk serve --sip-front`).

Kamailio runs several UDP workers on one socket; a Python process is one core. The front
process reads the UDP socket and answers what needs no state of the registrar's: OPTIONS and
the digest challenge to a REGISTER without credentials (nonces are stateless, signed with the
registrar's secret). Every other datagram goes on, with its source address, to the registrar's
process over a Unix socket pair (SOCK_SEQPACKET: message boundaries kept, and an end when the
registrar closes it); the registrar answers on the same UDP socket, which both processes hold.
A registration's two REGISTERs then run on two cores.

To challenge exactly when the registrar would, the front keeps a `FrontView`: the realms it may
challenge for (unknown ones go on: the registrar says 403/404, or knows a realm created a
moment ago) and the addresses of IP-authenticated devices (those need no challenge). The
registrar sends it at start and whenever it changes (checked every second).

If the front process ends, or the view outgrows one message (some thousands of realms), the
registrar reads the UDP socket itself again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from kazoodesk.simulator.registrar.auth import Authenticator, AuthSettings
from kazoodesk.simulator.registrar.credentials import DeviceCredentials, no_ip_devices
from kazoodesk.simulator.registrar.headers import SipParseError
from kazoodesk.simulator.registrar.message import (
    SipMessage,
    build_response,
    parse_message,
    transaction_key,
)
from kazoodesk.simulator.registrar.nonces import NonceSigner
from kazoodesk.simulator.registrar.ratelimit import FailureLimiter
from kazoodesk.simulator.registrar.register import RegistrarPolicy, check_bounds, register_request
from kazoodesk.simulator.registrar.service import stateless_answer, unparsable_answer
from kazoodesk.simulator.registrar.transactions import ServerTransactions
from kazoodesk.simulator.registrar.transport import (
    Addr,
    Handler,
    Link,
    UdpEndpoint,
    new_event_loop,
)

log = logging.getLogger(__name__)

CHANNEL_BUFFER = 4 * 1024 * 1024
READ_BATCH = 64
VIEW_CHECK_S = 1.0
STOP_WAIT_S = 3.0
MAX_DATAGRAM = 65535 + 64  # a SIP datagram and its address line
# a message on the channel is bounded by the socket buffer, which Linux caps at
# net.core.wmem_max (208 KB by default): the config or a view must fit well within
MAX_VIEW_BYTES = 128 * 1024
FORWARDED = b""  # in the front's transaction cache: this request went to the registrar
# Challenges kept to answer retransmissions alike: ~10,000 is a second or more at the highest
# rates (phones retransmit after 0.5 s, then 1, 2, 4 s), minutes at ordinary ones; bounded
# in bytes too, as the process's memory counts with the registrar's.
CACHED_ANSWERS = 12_000
CACHED_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class FrontView:
    """What the front must know to challenge as the registrar would."""

    realms: frozenset[str] = frozenset()
    ip_sources: frozenset[str] = frozenset()


ViewSource = Callable[[], FrontView]


@dataclass(frozen=True)
class FrontConfig:
    """The first message to the front: the nonce key and the registrar's settings that
    shape a challenge (as dicts of RegistrarPolicy and AuthSettings fields)."""

    nonce_key: str  # hex
    policy: dict[str, Any] = field(default_factory=dict)
    auth: dict[str, Any] = field(default_factory=dict)
    timer_j_s: float = 32.0
    view: dict[str, list[str]] = field(default_factory=dict)  # the first FrontView


def _view_data(view: FrontView) -> dict[str, list[str]]:
    return {"realms": sorted(view.realms), "ip_sources": sorted(view.ip_sources)}


class ViewTooLarge(Exception):
    pass


def _control_message(data: dict[str, Any]) -> bytes:
    encoded = json.dumps(data).encode()
    if len(encoded) > MAX_VIEW_BYTES:
        raise ViewTooLarge(f"the SIP front's view is {len(encoded)} bytes")
    return encoded


def _read_view(data: dict[str, list[str]]) -> FrontView:
    return FrontView(frozenset(data["realms"]), frozenset(data["ip_sources"]))


def _address_line(addr: Addr) -> bytes:
    return f"{addr[0]} {addr[1]}\n".encode()


def _split_forwarded(raw: bytes) -> tuple[bytes, Addr]:
    line, _, data = raw.partition(b"\n")
    host, _, port = line.decode().rpartition(" ")
    return data, (host, int(port))


def _for_the_registrar(data: bytes) -> bool:
    """Cheaply, from the bytes: a response (to the registrar's NOTIFY) or a REGISTER with
    credentials. Only a fast path: the front checks a parsed REGISTER for credentials too."""
    if data.startswith(b"SIP/"):
        return True
    return data.startswith(b"REGISTER ") and b"uthorization" in data


# -- the front process ---------------------------------------------------------------------


def _nobody(realm: str, username: str) -> DeviceCredentials | None:
    return None


class Front:
    """The front's handler: answers challenges and OPTIONS, hands the rest to `forward`."""

    def __init__(self, config: FrontConfig, forward: Handler) -> None:
        self.policy = RegistrarPolicy(**config.policy)
        nonces = NonceSigner(bytes.fromhex(config.nonce_key))
        settings = AuthSettings(**config.auth)
        self._auth = Authenticator(nonces, _nobody, no_ip_devices, FailureLimiter(), settings)
        self._transactions = ServerTransactions(
            config.timer_j_s, CACHED_ANSWERS, max_bytes=CACHED_BYTES
        )
        self._forward = forward
        self.view = _read_view(config.view) if config.view else FrontView()

    def handle(self, data: bytes, addr: Addr, link: Link) -> None:
        if _for_the_registrar(data):
            self._forward(data, addr, link)
            return
        try:
            msg = parse_message(data)
        except SipParseError as exc:
            answer = unparsable_answer(exc, addr)
            if answer is not None:
                link.send(answer, addr)
            return
        if not msg.is_request:
            self._forward(data, addr, link)
            return
        if msg.method == "ACK":
            return
        # A transaction stays with whoever answered it first, so that a retransmission
        # gets the same answer when the view changed in between.
        key = transaction_key(msg)
        response = self._transactions.lookup(key)
        if response is None:
            response = stateless_answer(msg, addr) or self._challenge(msg, addr, link)
            self._transactions.complete(key, response or FORWARDED, link.reliable)
        if response:
            link.send(response, addr)
        else:
            self._forward(data, addr, link)

    def _challenge(self, msg: SipMessage, addr: Addr, link: Link) -> bytes | None:
        """The 401 the registrar would send to this REGISTER, or None when the answer
        depends on the registrar's state (credentials, an IP device, a realm it may know)."""
        if "authorization" in msg.headers or addr[0] in self.view.ip_sources:
            return None
        try:
            req = register_request(msg, addr, link.name)
        except SipParseError:
            return None
        if req.realm not in self.view.realms or check_bounds(req, self.policy) is not None:
            return None
        challenge = self._auth.challenge(req.realm).challenge
        assert challenge is not None
        return build_response(msg, 401, source=addr, headers=[("WWW-Authenticate", challenge)])


async def serve_front(udp_fd: int, channel_fd: int) -> None:
    """The front process: until the registrar closes the channel."""
    loop = asyncio.get_running_loop()
    channel = socket.socket(fileno=channel_fd)
    channel.setblocking(False)
    first = await loop.sock_recv(channel, MAX_VIEW_BYTES)
    config = FrontConfig(**json.loads(first))

    def forward(data: bytes, addr: Addr, link: Link) -> None:
        try:
            channel.send(_address_line(addr) + data)
        except (BlockingIOError, InterruptedError):  # the registrar is behind: a UDP loss
            log.debug("front: channel full, datagram from %s dropped", addr)

    front = Front(config, forward)
    endpoint = UdpEndpoint(front.handle)
    endpoint.adopt(socket.socket(fileno=udp_fd))
    try:
        while message := await loop.sock_recv(channel, MAX_VIEW_BYTES):
            front.view = _read_view(json.loads(message)["view"])
    except ConnectionError:
        pass
    finally:
        endpoint.close()


def main() -> None:
    # Ctrl-C reaches the whole process group: the registrar stops, then closes the channel
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    udp_fd, channel_fd = int(sys.argv[1]), int(sys.argv[2])
    logging.basicConfig(level=logging.WARNING, format="kazoodesk sip front: %(message)s")
    loop = new_event_loop()
    try:
        loop.run_until_complete(serve_front(udp_fd, channel_fd))
    finally:
        loop.close()


# -- the registrar's side ------------------------------------------------------------------


class FrontProcess:
    """The registrar's end: starts the front on `endpoint`'s socket, hands what it forwards
    to the endpoint's handler, keeps its view current; reads the socket itself again if the
    front ends."""

    def __init__(self, endpoint: UdpEndpoint, view_source: ViewSource) -> None:
        self._endpoint = endpoint
        self._view_source = view_source
        self._view: FrontView | None = None
        self._channel: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, config: FrontConfig) -> None:
        """Start the front process; OSError or ViewTooLarge when it cannot be."""
        self._view = self._view_source()
        first = _control_message({**asdict(config), "view": _view_data(self._view)})
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for end in (ours, theirs):
            end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CHANNEL_BUFFER)
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHANNEL_BUFFER)
        udp_fd = self._endpoint.fileno()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(udp_fd), str(theirs.fileno())],
                pass_fds=(udp_fd, theirs.fileno()),
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        ours.setblocking(False)
        ours.send(first)
        self._channel = ours
        loop = asyncio.get_running_loop()
        loop.add_reader(ours.fileno(), self._read_forwarded)
        self._endpoint.pause_reading()
        self._watch = loop.create_task(self._watch_view())

    def _read_forwarded(self) -> None:
        channel = self._channel
        if channel is None:
            return
        for _ in range(READ_BATCH):
            try:
                raw = channel.recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                raw = b""
            if not raw:  # the front is gone
                self._front_gone()
                return
            try:
                data, addr = _split_forwarded(raw)
            except ValueError:
                log.debug("front: malformed forwarded datagram")
                continue
            self._endpoint.datagram_received(data, addr)

    def _send_view(self) -> None:
        view = self._view_source()
        if view == self._view or self._channel is None:
            return
        try:
            self._channel.send(_control_message({"view": _view_data(view)}))
            self._view = view
        except ViewTooLarge as exc:
            log.warning("%s: no more SIP front process", exc)
            self._front_gone()  # the front ends when its channel closes
        except OSError:
            log.debug("front: view not sent", exc_info=True)

    async def _watch_view(self) -> None:
        while self._channel is not None:
            await asyncio.sleep(VIEW_CHECK_S)
            if self._process is not None and self._process.poll() is not None:
                self._front_gone()
                return
            self._send_view()

    def _front_gone(self) -> None:
        if self._channel is None:
            return
        log.warning("no SIP front process any more: the registrar reads its socket itself")
        self._close_channel()
        self._endpoint.resume_reading()

    def _close_channel(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            asyncio.get_running_loop().remove_reader(channel.fileno())
            channel.close()

    async def stop(self) -> None:
        """Close the channel (the front ends on it), wait for the process, kill it if it
        does not end in time."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        self._close_channel()
        process, self._process = self._process, None
        if process is None:
            return
        try:
            await asyncio.to_thread(process.wait, STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)


if __name__ == "__main__":
    if os.name != "posix":
        raise SystemExit("the SIP front process needs a POSIX system")
    main()
