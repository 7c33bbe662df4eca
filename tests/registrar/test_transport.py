"""UDP and TCP listeners (kazoodesk/simulator/registrar/transport.py) on 127.0.0.1, port 0."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sip_client import Phone, SipClient, device, run, running_registrar
from sip_samples import sipp_register

from kazoodesk.simulator.registrar.message import DEFAULT_LIMITS, Limits
from kazoodesk.simulator.registrar.transport import Addr, Link, Listeners, TcpLimits, TcpListener

OPTIONS = (
    b"OPTIONS sip:sim.local SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-o1\r\n"
    b"From: <sip:probe@sim.local>;tag=1\r\nTo: <sip:sim.local>\r\nCall-ID: opt-1\r\n"
    b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


class Echo:
    """A handler that records what arrives and answers `got <n bytes>`; `boom` makes it fail."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self.arrived = asyncio.Event()

    def __call__(self, data: bytes, addr: Addr, link: Link) -> None:
        self.seen.append(data)
        self.arrived.set()
        if b"boom" in data:
            raise RuntimeError("handler bug")
        link.send(b"got %d" % len(data), addr)


async def udp_pair(handler: Echo) -> tuple[Listeners, asyncio.DatagramTransport, asyncio.Queue]:
    listeners = Listeners(handler)
    await listeners.start("127.0.0.1", 0)
    inbox: asyncio.Queue[bytes] = asyncio.Queue()

    class Receiver(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Addr) -> None:
            inbox.put_nowait(data)

    loop = asyncio.get_running_loop()
    sock, _ = await loop.create_datagram_endpoint(
        Receiver, local_addr=("127.0.0.1", 0), remote_addr=listeners.udp_address
    )
    return listeners, sock, inbox


def test_udp_answers_go_to_the_datagram_source_and_keepalives_are_ignored() -> None:
    async def story() -> None:
        handler = Echo()
        listeners, sock, inbox = await udp_pair(handler)
        sock.sendto(b"\r\n\r\n")
        sock.sendto(b"")
        sock.sendto(b"hello")
        assert await asyncio.wait_for(inbox.get(), 2) == b"got 5"
        assert handler.seen == [b"hello"]
        sock.close()
        await listeners.close()

    run(story())


def test_udp_handler_failure_does_not_escape_and_the_socket_keeps_serving() -> None:
    async def story() -> None:
        handler = Echo()
        listeners, sock, inbox = await udp_pair(handler)
        sock.sendto(b"boom")
        sock.sendto(b"after")
        assert await asyncio.wait_for(inbox.get(), 2) == b"got 5"
        sock.close()
        await listeners.close()

    run(story())


def test_tcp_shares_the_udp_port_number_when_free() -> None:
    async def story() -> None:
        listeners = Listeners(Echo())
        await listeners.start("127.0.0.1", 0)
        assert listeners.udp_address[1] == listeners.tcp_address[1]
        await listeners.close()

    run(story())


async def tcp_listener(
    handler: Echo, limits: Limits = DEFAULT_LIMITS, tcp: TcpLimits | None = None
) -> TcpListener:
    listener = TcpListener(handler, limits, tcp)
    await listener.start("127.0.0.1", 0)
    return listener


def test_tcp_frames_messages_split_and_joined_across_reads() -> None:
    async def story() -> None:
        handler = Echo()
        listener = await tcp_listener(handler)
        reader, writer = await asyncio.open_connection(*listener.address)
        one, two = sipp_register(cseq=1), sipp_register(cseq=2)
        writer.write(one[:30])
        await writer.drain()
        await asyncio.sleep(0.05)
        assert handler.seen == []
        writer.write(one[30:] + two + OPTIONS[:10])
        await writer.drain()
        expected = f"got {len(one)}got {len(two)}".encode()
        assert await asyncio.wait_for(reader.readexactly(len(expected)), 2) == expected
        assert handler.seen == [one, two]
        writer.close()
        await listener.close()

    run(story())


def test_tcp_double_crlf_ping_gets_a_crlf_pong_even_when_split() -> None:
    async def story() -> None:
        listener = await tcp_listener(Echo())
        reader, writer = await asyncio.open_connection(*listener.address)
        writer.write(b"\r\n\r\n")
        assert await asyncio.wait_for(reader.readexactly(2), 2) == b"\r\n"
        writer.write(b"\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"\r\n")  # the second half of a ping
        assert await asyncio.wait_for(reader.readexactly(2), 2) == b"\r\n"
        writer.write(b"\r\n" + OPTIONS)  # a CRLF before a start line is ignored
        expected = f"got {len(OPTIONS)}".encode()
        assert await asyncio.wait_for(reader.readexactly(len(expected)), 2) == expected
        writer.close()
        await listener.close()

    run(story())


def test_tcp_connection_with_an_unframeable_stream_is_closed_others_stay() -> None:
    async def story() -> None:
        handler = Echo()
        listener = await tcp_listener(handler, Limits(max_message_bytes=2048))
        bad_reader, bad = await asyncio.open_connection(*listener.address)
        good_reader, good = await asyncio.open_connection(*listener.address)
        bad.write(b"X" * 4096)  # no end of headers within the bound
        assert await asyncio.wait_for(bad_reader.read(), 2) == b""  # closed by the server
        good.write(OPTIONS)
        assert await asyncio.wait_for(good_reader.readexactly(3), 2) == b"got"
        good.close()
        await listener.close()

    run(story())


def test_tcp_handler_failure_keeps_the_connection() -> None:
    async def story() -> None:
        handler = Echo()
        listener = await tcp_listener(handler)
        reader, writer = await asyncio.open_connection(*listener.address)
        boom = OPTIONS.replace(b"probe", b"boom!")
        writer.write(boom + OPTIONS)
        expected = f"got {len(OPTIONS)}".encode()
        assert await asyncio.wait_for(reader.readexactly(len(expected)), 2) == expected
        writer.close()
        await listener.close()

    run(story())


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until `condition()` holds, checking every few milliseconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def test_tcp_connections_are_bounded_and_idle_ones_closed() -> None:
    async def story() -> None:
        limits = TcpLimits(max_connections=2, idle_timeout_s=0.3)
        listener = await tcp_listener(Echo(), tcp=limits)
        streams = [await asyncio.open_connection(*listener.address) for _ in range(3)]
        assert await asyncio.wait_for(streams[2][0].read(), 2) == b""  # refused
        assert len(listener) == 2
        for reader, _writer in streams[:2]:  # idle, then closed
            assert await asyncio.wait_for(reader.read(), 5) == b""
        await until(lambda: len(listener) == 0)
        await listener.close()

    run(story())


def test_register_and_options_over_tcp() -> None:
    async def story() -> None:
        async with running_registrar(device("alice")) as r:
            client = await SipClient.tcp(r.tcp)
            phone = Phone(client, "alice")
            ok = await phone.register()
            assert ok.status == 200
            assert ok.top_via.transport == "TCP"
            (binding,) = r.registrar.bindings_of("sim.local", "alice")
            assert (binding.transport, binding.source_port) == ("TCP", client.local[1])
            client.send(b"\r\n\r\n")
            options = await client.request(OPTIONS)
            assert options.status == 200
            assert b"\r\n\r\n" in bytes(client.received)  # the pong came before the 200
            client.close()

    run(story())
