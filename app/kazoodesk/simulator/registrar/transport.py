"""SIP over UDP and TCP on asyncio (RFC 3261 §18): listeners that hand whole messages to one
handler and carry its answers back.

UDP: one datagram is one message; an answer goes to the datagram's source address
(RFC 3581 behaviour, which is what phones behind NAT need). TCP: messages are cut out of the
stream by `next_frame`; a double-CRLF ping is answered with one CRLF (RFC 5626 §3.5.1),
answers go back over the connection. Every buffer is bounded and no exception ever escapes
a protocol callback: hostile input is logged at DEBUG, shortened, never at INFO.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from kazoodesk.simulator.registrar.message import (
    DEFAULT_LIMITS,
    Limits,
    is_keepalive,
    next_frame,
    skip_keepalives,
)

log = logging.getLogger(__name__)

Addr = tuple[str, int]
PING = b"\r\n\r\n"
PONG = b"\r\n"
MAX_LOGGED = 80  # bytes of a hostile payload shown in a DEBUG line


class Link(Protocol):
    """Where a message came from and how to answer it: the UDP socket or a TCP connection."""

    @property
    def name(self) -> str:  # "UDP" or "TCP", as in a Via
        ...

    @property
    def reliable(self) -> bool: ...

    def send(self, data: bytes, addr: Addr) -> bool:
        """Queue `data` for `addr` (ignored by a connection); False when it cannot go."""
        ...


Handler = Callable[[bytes, Addr, Link], None]


def preview(data: bytes | bytearray) -> str:
    """A short, printable view of untrusted bytes for a DEBUG line."""
    return repr(bytes(data[:MAX_LOGGED])) + ("..." if len(data) > MAX_LOGGED else "")


def _peer(addr: tuple[str, int] | tuple[str, int, int, int]) -> Addr:
    return addr[0], addr[1]


@dataclass(frozen=True, slots=True)
class TcpLimits:
    """Bounds of the stream side: open connections, bytes waiting to be framed (one
    message plus slack) and bytes waiting to be written to a slow reader."""

    max_connections: int = 1024
    max_pending_write: int = 256 * 1024
    idle_timeout_s: float = 900.0


class UdpEndpoint:
    """The UDP socket: every datagram that is not a keepalive goes to the handler.

    On a selector loop (and uvloop) the socket is read with `add_reader`: each wakeup drains
    up to `READ_BATCH` datagrams, so under load one poll and one callback serve many
    requests instead of one each, and answers go straight to `sendto` (queued only while
    the kernel's send buffer is full, boundedly). Where `add_reader` is missing (Windows'
    proactor loop) the socket is an ordinary asyncio datagram endpoint."""

    name = "UDP"
    reliable = False
    READ_BATCH = 64
    MAX_QUEUED = 2048  # answers waiting for the send buffer; beyond that they are dropped

    def __init__(self, handler: Handler, limits: Limits = DEFAULT_LIMITS) -> None:
        self._handler = handler
        self._limits = limits
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queued: deque[tuple[bytes, Addr]] = deque()
        self._fallback: asyncio.DatagramTransport | None = None
        self._address: Addr = ("", 0)
        # one receive buffer, reused: `recvfrom(65536)` would allocate 64 KB per datagram and
        # shrink it, which leaves the C heap fragmented under load
        self._buffer = bytearray(65536)
        self._view = memoryview(self._buffer)

    async def open(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
            sock.setblocking(False)
            _grow_buffers(sock)
            self._address = _peer(sock.getsockname())
            try:
                loop.add_reader(sock.fileno(), self._read_ready)
            except NotImplementedError:
                self._fallback, _ = await loop.create_datagram_endpoint(
                    lambda: _Datagrams(self), sock=sock
                )
        except BaseException:
            sock.close()
            raise
        self._sock, self._loop = sock, loop

    def adopt(self, sock: socket.socket) -> None:
        """Read and answer on a socket opened elsewhere (the SIP front process's, inherited
        from the registrar's process). Selector loops only."""
        loop = asyncio.get_running_loop()
        sock.setblocking(False)
        self._address = _peer(sock.getsockname())
        loop.add_reader(sock.fileno(), self._read_ready)
        self._sock, self._loop = sock, loop

    def fileno(self) -> int:
        assert self._sock is not None, "the endpoint is not open"
        return self._sock.fileno()

    def pause_reading(self) -> None:
        """Leave the socket's datagrams to another reader (answers still go out here)."""
        if self._sock is not None and self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())

    def resume_reading(self) -> None:
        if self._sock is not None and self._loop is not None:
            self._loop.add_reader(self._sock.fileno(), self._read_ready)

    # -- receiving -----------------------------------------------------------------------

    def _read_ready(self) -> None:
        sock = self._sock
        if sock is None:
            return
        recvfrom_into, buffer, view = sock.recvfrom_into, self._buffer, self._view
        for _ in range(self.READ_BATCH):
            try:
                size, addr = recvfrom_into(buffer)
                data = view[:size].tobytes()  # exactly as large as the datagram
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # ICMP unreachable after a send, mostly
                if self._sock is None:  # closed by a handler
                    return
                log.debug("UDP socket error: %s", exc)
                continue
            self.datagram_received(data, addr)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            if len(data) > self._limits.max_message_bytes or is_keepalive(data):
                return
            self._handler(data, _peer(addr), self)
        except Exception:  # noqa: BLE001 - nothing may escape a socket callback
            log.debug("UDP datagram from %s not handled: %s", addr, preview(data), exc_info=True)

    # -- sending -------------------------------------------------------------------------

    def send(self, data: bytes, addr: Addr) -> bool:
        if self._fallback is not None:
            return self._fallback_send(data, addr)
        sock = self._sock
        if sock is None:
            return False
        if not self._queued:
            try:
                sock.sendto(data, addr)
                return True
            except (BlockingIOError, InterruptedError):
                assert self._loop is not None
                self._loop.add_writer(sock.fileno(), self._write_ready)
            except (OSError, ValueError, TypeError, OverflowError):
                log.debug("UDP send to %s failed", addr, exc_info=True)
                return False
        if len(self._queued) >= self.MAX_QUEUED:
            log.debug("UDP send queue full; answer to %s dropped", addr)
            return False
        self._queued.append((data, addr))
        return True

    def _write_ready(self) -> None:
        sock = self._sock
        queued = self._queued
        while sock is not None and queued:
            data, addr = queued[0]
            try:
                sock.sendto(data, addr)
            except (BlockingIOError, InterruptedError):
                return
            except (OSError, ValueError, TypeError, OverflowError):
                log.debug("UDP send to %s failed", addr, exc_info=True)
            queued.popleft()
        if sock is not None and self._loop is not None:
            self._loop.remove_writer(sock.fileno())

    def _fallback_send(self, data: bytes, addr: Addr) -> bool:
        transport = self._fallback
        if transport is None or transport.is_closing():
            return False
        try:
            transport.sendto(data, addr)
        except (OSError, ValueError, TypeError):
            log.debug("UDP send to %s failed", addr, exc_info=True)
            return False
        return True

    # -- lifetime ------------------------------------------------------------------------

    @property
    def address(self) -> Addr:
        return self._address

    def close(self) -> None:
        sock, self._sock = self._sock, None
        self._queued.clear()
        if self._fallback is not None:
            self._fallback.close()
            return
        if sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(sock.fileno())
                self._loop.remove_writer(sock.fileno())
            sock.close()


class _Datagrams(asyncio.DatagramProtocol):
    """The fallback's protocol: datagrams to the endpoint, one per callback."""

    def __init__(self, endpoint: UdpEndpoint) -> None:
        self._endpoint = endpoint

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._endpoint.datagram_received(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP socket error: %s", exc)


class TcpConnection(asyncio.Protocol):
    """One accepted stream: frames messages out of a bounded buffer, answers pings."""

    name = "TCP"
    reliable = True

    def __init__(self, listener: TcpListener) -> None:
        self._listener = listener
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self.peer: Addr = ("", 0)
        self._last_active = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None

    # -- asyncio callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        try:
            self.peer = _peer(transport.get_extra_info("peername"))
        except (TypeError, IndexError):
            transport.abort()
            return
        if not self._listener.adopt(self):
            log.debug("TCP connection from %s refused: too many connections", self.peer)
            transport.abort()
            return
        self._touch()

    def data_received(self, data: bytes) -> None:
        try:
            self._touch()
            self._buffer += data
            self._drain()
        except Exception:  # noqa: BLE001
            log.debug("TCP data from %s not handled", self.peer, exc_info=True)
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._listener.forget(self)
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._buffer = bytearray()

    # -- framing -------------------------------------------------------------------------

    def _drain(self) -> None:
        limits = self._listener.limits
        while self._buffer and self._transport is not None:
            self._pings()
            if not self._buffer:
                return
            frame = next_frame(self._buffer, limits)  # SipParseError: unframeable, close
            if frame is None:
                return
            start, end = frame
            message = bytes(self._buffer[start:end])
            del self._buffer[:end]
            try:
                self._listener.handler(message, self.peer, self)
            except Exception:  # noqa: BLE001 - one bad message does not end the stream
                log.debug("TCP message from %s not handled: %s", self.peer, preview(message))

    def _pings(self) -> None:
        """Answer each leading double-CRLF with a CRLF and drop other leading CR/LF bytes,
        keeping what may be the start of a ping split across reads."""
        buffer = self._buffer
        pongs = 0
        while buffer.startswith(PING):
            del buffer[: len(PING)]
            pongs += 1
        if pongs:
            self.send(PONG * pongs, self.peer)
        lead = skip_keepalives(buffer)
        if lead and not (lead == len(buffer) and PING.startswith(buffer)):
            del buffer[:lead]

    # -- sending and lifetime ------------------------------------------------------------

    def send(self, data: bytes, addr: Addr | None = None) -> bool:
        transport = self._transport
        if transport is None or transport.is_closing():
            return False
        if transport.get_write_buffer_size() > self._listener.tcp_limits.max_pending_write:
            log.debug("TCP peer %s does not read its answers; closing", self.peer)
            self.abort()
            return False
        transport.write(data)
        return True

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _touch(self) -> None:
        loop = asyncio.get_running_loop()
        self._last_active = loop.time()
        if self._idle_timer is None:
            timeout = self._listener.tcp_limits.idle_timeout_s
            self._idle_timer = loop.call_later(timeout, self._check_idle)

    def _check_idle(self) -> None:
        loop = asyncio.get_running_loop()
        timeout = self._listener.tcp_limits.idle_timeout_s
        idle = loop.time() - self._last_active
        if idle >= timeout:
            self._idle_timer = None
            log.debug("TCP connection from %s idle for %.0f s; closing", self.peer, idle)
            if self._transport is not None:
                self._transport.close()
            return
        self._idle_timer = loop.call_later(timeout - idle, self._check_idle)


class TcpListener:
    """The TCP server socket and its live connections, findable by peer address (a NOTIFY to
    a phone that registered over TCP goes back over its connection)."""

    def __init__(
        self, handler: Handler, limits: Limits = DEFAULT_LIMITS, tcp: TcpLimits | None = None
    ) -> None:
        self.handler = handler
        self.limits = limits
        self.tcp_limits = tcp or TcpLimits()
        self._server: asyncio.Server | None = None
        self._connections: dict[Addr, TcpConnection] = {}

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: TcpConnection(self), host, port, reuse_address=True
        )

    @property
    def address(self) -> Addr:
        assert self._server is not None
        return _peer(self._server.sockets[0].getsockname())

    def adopt(self, conn: TcpConnection) -> bool:
        if len(self._connections) >= self.tcp_limits.max_connections:
            return False
        old = self._connections.get(conn.peer)
        if old is not None and old is not conn:
            old.abort()
        self._connections[conn.peer] = conn
        return True

    def forget(self, conn: TcpConnection) -> None:
        if self._connections.get(conn.peer) is conn:
            del self._connections[conn.peer]

    def connection(self, addr: Addr) -> TcpConnection | None:
        return self._connections.get(addr)

    def __len__(self) -> int:
        return len(self._connections)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections.values()):
            conn.abort()
        self._connections.clear()
        if self._server is not None:
            await self._server.wait_closed()


class Listeners:
    """The registrar's sockets: one UDP endpoint and one TCP listener on the same host.
    Port 0 means any free port; TCP tries the UDP port number first so both share it."""

    def __init__(self, handler: Handler, limits: Limits = DEFAULT_LIMITS) -> None:
        self._handler = handler
        self._limits = limits
        self.udp: UdpEndpoint | None = None
        self.tcp: TcpListener | None = None

    async def start(
        self, host: str = "127.0.0.1", udp_port: int = 5060, tcp_port: int | None = None
    ) -> None:
        endpoint = UdpEndpoint(self._handler, self._limits)
        await endpoint.open(host, udp_port)
        self.udp = endpoint
        tcp = TcpListener(self._handler, self._limits)
        wanted = self.udp.address[1] if tcp_port is None else tcp_port
        try:
            await tcp.start(host, wanted)
        except OSError:
            if tcp_port is not None or udp_port != 0:
                self.udp.close()
                raise
            await tcp.start(host, 0)  # the UDP port number is taken on TCP: any free one
        self.tcp = tcp

    @property
    def udp_address(self) -> Addr:
        assert self.udp is not None
        return self.udp.address

    @property
    def tcp_address(self) -> Addr:
        assert self.tcp is not None
        return self.tcp.address

    def link_for(self, transport: str, addr: Addr) -> Link | None:
        """How to reach `addr`: the UDP socket, or the live TCP connection from that peer."""
        if transport == "TCP":
            return self.tcp.connection(addr) if self.tcp is not None else None
        return self.udp

    async def close(self) -> None:
        if self.udp is not None:
            self.udp.close()
        if self.tcp is not None:
            await self.tcp.close()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop where it is installed (about 25 % more SIP requests per second than the
    default loop), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def _grow_buffers(sock: socket.socket, size: int = 4 * 1024 * 1024) -> None:
    """A larger receive buffer absorbs bursts (sipp at thousands of calls/s); the kernel
    caps it at net.core.rmem_max, which is fine."""
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, size)
        except OSError:
            log.debug("cannot set UDP socket buffer size", exc_info=True)
