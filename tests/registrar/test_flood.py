"""A malformed-datagram flood: the registrar keeps answering and its memory stays bounded
(sip-registrar.md §6)."""

from __future__ import annotations

import asyncio
import gc
import random
import tracemalloc

from sip_client import Phone, SipClient, device, run, running_registrar
from sip_samples import sipp_register

from kazoodesk.simulator.registrar.changes import RegistrarSettings

DATAGRAMS = 20_000
CACHE = 2_000  # completed transactions kept: the only thing a flood of valid requests fills
CACHE_BYTES = 500_000


def mutated(rng: random.Random, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(rng.randint(1, 8)):
        where = rng.randrange(len(data))
        choice = rng.random()
        if choice < 0.4:
            data[where] = rng.randrange(256)
        elif choice < 0.7:
            del data[where : where + rng.randint(1, 40)]
        else:
            data[where:where] = rng.choice([b"\r\n", b":", b";", b"<", b'"', b"\x00", b"%n%s"])
        if not data:
            break
    return bytes(data)


def hostile(rng: random.Random, i: int) -> bytes:
    kind = i % 5
    if kind == 0:
        return rng.randbytes(rng.randint(0, 1400))
    if kind == 1:
        return mutated(rng, sipp_register(branch=f"z9hG4bK-m{i}", cseq=i % 1000 + 1))
    if kind == 2:
        return sipp_register(user="x" * rng.randint(1, 4000), branch=f"z9hG4bK-l{i}")
    if kind == 3:  # well-formed, answered (401), so it fills the transaction cache
        return sipp_register(user=f"u{i}", branch=f"z9hG4bK-v{i}", call_id=f"{i}@flood")
    head, _, _ = sipp_register(branch=f"z9hG4bK-h{i}").partition(b"\r\n\r\n")
    return head + b"\r\n" + b"X-Junk: y\r\n" * rng.randint(100, 300) + b"\r\n"


async def blast(flood: Blaster, rng: random.Random) -> None:
    for i in range(DATAGRAMS):
        flood.send(hostile(rng, i))
        await asyncio.sleep(0)  # asyncio reads one datagram per loop turn
    await asyncio.sleep(0.3)


class Blaster(asyncio.DatagramProtocol):
    """Sends datagrams and only counts the answers (keeping none)."""

    def __init__(self) -> None:
        self.answers = 0
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls, server: tuple[str, int]) -> Blaster:
        loop = asyncio.get_running_loop()
        _, blaster = await loop.create_datagram_endpoint(
            cls, local_addr=("127.0.0.1", 0), remote_addr=server
        )
        return blaster

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.answers += 1

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.sendto(data)

    def close(self) -> None:
        assert self.transport is not None
        self.transport.close()


def test_registrar_survives_a_flood_of_malformed_datagrams_with_bounded_memory() -> None:
    async def story() -> None:
        settings = RegistrarSettings(max_transactions=CACHE, max_transaction_bytes=CACHE_BYTES)
        async with running_registrar(device("alice"), settings=settings) as r:
            phone = Phone(await SipClient.udp(r.udp), "alice")
            flood = await Blaster.open(r.udp)
            # a first flood fills the caches (and lets CPython size its interned-string
            # table); of what the second, traced flood allocates, no more than the
            # transaction cache's bound may still be held afterwards
            await blast(flood, random.Random(4475))
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
            await blast(flood, random.Random(5118))
            assert (await phone.register()).status == 200  # still answering
            gc.collect()
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
            stats = after.compare_to(before, "lineno")
            grown = sum(s.size_diff for s in stats)
            assert grown < CACHE_BYTES + 500_000, f"memory grew by {grown} bytes"
            assert len(r.registrar.server_transactions) <= CACHE
            assert r.registrar.server_transactions.size <= CACHE_BYTES
            assert r.registrar.count() == 1
            assert flood.answers > DATAGRAMS * 2 * 3 // 10  # all the well-formed ones, and more
            phone.client.close()
            flood.close()

    run(story(), timeout=50)
