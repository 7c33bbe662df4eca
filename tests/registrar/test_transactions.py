"""Server and client non-INVITE transactions (kazoodesk/simulator/registrar/transactions.py)."""

from __future__ import annotations

import asyncio

import pytest
from sip_client import run

from kazoodesk.simulator.registrar.message import parse_message
from kazoodesk.simulator.registrar.ratelimit import FailureLimiter, RateLimitPolicy
from kazoodesk.simulator.registrar.transactions import (
    ClientTimers,
    ClientTransactions,
    ServerTransactions,
    TransactionError,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


KEY = ("z9hG4bK-1", "127.0.0.1:5061", "REGISTER")


def test_a_completed_transaction_answers_until_timer_j() -> None:
    clock = Clock()
    cache = ServerTransactions(timer_j_s=32, clock=clock)
    cache.complete(KEY, b"SIP/2.0 200 OK", reliable=False)

    clock.now += 31.9
    assert cache.lookup(KEY) == b"SIP/2.0 200 OK"
    clock.now += 0.2
    assert cache.lookup(KEY) is None


def test_nothing_is_kept_for_tcp() -> None:
    cache = ServerTransactions()
    cache.complete(KEY, b"SIP/2.0 200 OK", reliable=True)
    assert cache.lookup(KEY) is None
    assert len(cache) == 0


def test_the_cache_is_bounded_oldest_first_and_purged_in_order() -> None:
    clock = Clock()
    cache = ServerTransactions(timer_j_s=10, max_entries=3, clock=clock)
    for i in range(5):
        cache.complete((f"b{i}", "h", "REGISTER"), b"%d" % i, reliable=False)
        clock.now += 1
    assert len(cache) == 3
    assert cache.lookup(("b1", "h", "REGISTER")) is None
    assert cache.lookup(("b4", "h", "REGISTER")) == b"4"

    clock.now += 8.5  # now 1013.5: b2 (stored at 1002) and b3 (1003) are past 10 s
    assert cache.purge() == 2
    assert len(cache) == 1


RESPONSE = (
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-n1\r\n"
    b"From: <sip:a@sim.local>;tag=1\r\nTo: <sip:a@sim.local>;tag=2\r\nCall-ID: n\r\n"
    b"CSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n"
)


def test_udp_client_transaction_retransmits_with_doubling_interval_until_answered() -> None:
    async def story() -> None:
        clients = ClientTransactions(ClientTimers(t1_s=0.05, t2_s=0.2, timer_f_s=5))
        loop = asyncio.get_running_loop()
        sent: list[float] = []

        def send(data: bytes) -> bool:
            sent.append(loop.time())
            return True

        future = clients.start(b"NOTIFY", "z9hG4bK-n1", "NOTIFY", send, reliable=False)
        await asyncio.sleep(0.5)
        assert clients.on_response(parse_message(RESPONSE))
        answer = await future
        assert answer is not None and answer.status == 200
        gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
        assert gaps[:3] == pytest.approx([0.05, 0.1, 0.2], abs=0.03)  # T1, 2·T1, 4·T1 = T2
        assert all(g < 0.2 + 0.03 for g in gaps)  # never beyond T2
        count = len(sent)
        await asyncio.sleep(0.3)
        assert len(sent) == count  # no retransmission after the final response
        assert len(clients) == 0

    run(story())


def test_client_transaction_times_out_at_timer_f_and_tcp_is_not_retransmitted() -> None:
    async def story() -> None:
        clients = ClientTransactions(ClientTimers(t1_s=0.02, t2_s=0.04, timer_f_s=0.2))
        sent: list[bytes] = []

        def send(data: bytes) -> bool:
            sent.append(data)
            return True

        udp = clients.start(b"u", "z9hG4bK-u", "NOTIFY", send, reliable=False)
        tcp = clients.start(b"t", "z9hG4bK-t", "NOTIFY", send, reliable=True)
        assert await udp is None
        assert await tcp is None
        assert sent.count(b"t") == 1
        assert sent.count(b"u") > 3
        assert not clients.on_response(parse_message(RESPONSE))  # nothing pending: dropped

    run(story())


def test_client_transactions_are_bounded() -> None:
    async def story() -> None:
        clients = ClientTransactions(max_pending=1)
        clients.start(b"a", "z9hG4bK-a", "NOTIFY", lambda d: True, reliable=True)
        try:
            clients.start(b"b", "z9hG4bK-b", "NOTIFY", lambda d: True, reliable=True)
        except TransactionError:
            pass
        else:
            raise AssertionError("a second transaction was accepted")
        clients.close()

    run(story())


# -- failed-authentication rate limiting (ratelimit.py) -------------------------------------


def test_limiter_blocks_after_the_burst_and_lets_one_through_per_refill() -> None:
    limiter = FailureLimiter(RateLimitPolicy(per_user_burst=3, per_user_refill_s=10))
    for _ in range(3):
        assert not limiter.blocked("192.0.2.1", "alice", 0.0)
        limiter.failed("192.0.2.1", "alice", 0.0)
    assert limiter.blocked("192.0.2.1", "alice", 0.0)
    assert not limiter.blocked("192.0.2.1", "bob", 0.0)  # another user from the same place
    assert not limiter.blocked("192.0.2.2", "alice", 0.0)  # the same user from elsewhere
    assert not limiter.blocked("192.0.2.1", "alice", 10.0)


def test_limiter_per_ip_bucket_catches_username_spraying_and_memory_is_bounded() -> None:
    policy = RateLimitPolicy(per_ip_burst=10, per_ip_refill_s=5, max_tracked=100)
    limiter = FailureLimiter(policy)
    for i in range(10):
        limiter.failed("192.0.2.9", f"user{i}", 0.0)
    assert limiter.blocked("192.0.2.9", "fresh-name", 1.0)
    for i in range(1000):
        limiter.failed(f"10.0.{i // 256}.{i % 256}", "x", 2.0)
    assert limiter.tracked() <= 200
