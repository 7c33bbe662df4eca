"""Invariants of the location table under random REGISTER/sweep/flush sequences, and its size."""

from __future__ import annotations

import gc
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st
from sip_samples import REALM

from kazoodesk.simulator.registrar.bindings import BindingTable
from kazoodesk.simulator.registrar.headers import parse_name_addr
from kazoodesk.simulator.registrar.message import parse_message
from kazoodesk.simulator.registrar.register import (
    RegisterRequest,
    RegistrarPolicy,
    register_request,
)

T0 = 1_700_000_000.0
USERS = ["u0", "u1", "u2"]

register_op = st.tuples(
    st.just("register"),
    st.sampled_from(USERS),
    st.lists(st.sampled_from(["<sip:a@10.0.0.1>", "<sip:a@10.0.0.2>;expires=0", "*"]), max_size=3),
    st.sampled_from([0, 60, 300, 3600, 99999, None]),
    st.sampled_from(["call-a", "call-b"]),
    st.integers(1, 6),
)
time_op = st.tuples(st.just("wait"), st.floats(0, 2000))
sweep_op = st.tuples(st.just("sweep"))
flush_op = st.tuples(st.just("flush"), st.sampled_from(USERS))
policies = st.builds(
    RegistrarPolicy,
    single_binding=st.booleans(),
    max_contacts=st.integers(1, 3),
    reject_missing_expires=st.booleans(),
    retention_s=st.sampled_from([0.0, 180.0]),
)


def check_invariants(table: BindingTable, now: float) -> None:
    stored = [b for user in USERS for b in table.lookup(REALM, user)]
    assert len(table) == table.count(REALM) == len(stored) == len(list(table.bindings()))
    wheel = [b for bucket in table._wheel.values() for b in bucket]
    assert sorted(map(id, wheel)) == sorted(map(id, stored))  # every binding timed, once
    for b in stored:
        assert b in table._wheel[b.bucket]
        assert b.bucket >= b.expires_at + table.policy.retention_s
    if table.policy.single_binding:
        assert all(len(table.live(REALM, u, now)) <= 1 for u in USERS)


@settings(max_examples=300, deadline=None)
@given(policies, st.lists(st.one_of(register_op, time_op, sweep_op, flush_op), max_size=40))
def test_random_sequences_keep_counts_wheel_and_lists_consistent(
    policy: RegistrarPolicy, ops: list[tuple]
) -> None:
    table = BindingTable(policy)
    now = T0
    for op in ops:
        if op[0] == "register":
            _, user, contacts, expires, call_id, cseq = op
            req = RegisterRequest(
                REALM, user, [parse_name_addr(c) for c in contacts], expires, call_id, cseq,
                "127.0.0.1", 5060,
            )  # fmt: skip
            before = table.lookup(REALM, user)
            result = table.apply(req, now)
            assert result.status in (200, 400, 423, 503)
            if result.ok:
                assert result.bindings == table.live(REALM, user, now)
            elif req.contacts:
                assert table.lookup(REALM, user) == before  # all or nothing
        elif op[0] == "wait":
            now += op[1]
        elif op[0] == "sweep":
            for b in table.sweep(now):
                assert b.expires_at + policy.retention_s <= now
        else:
            table.remove(REALM, op[1])
        check_invariants(table, now)


def test_a_binding_costs_well_under_a_kilobyte() -> None:
    """100,000 live bindings must fit in 300 MB RSS with everything else; measured ~620 B."""
    count = 10_000
    raws = [
        (
            f"REGISTER sip:{REALM} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5064;branch=z9hG4bK{k}\r\n"
            f"From: <sip:user{k:06d}@{REALM}>;tag={k}\r\nTo: <sip:user{k:06d}@{REALM}>\r\n"
            f"Call-ID: {k}-1234@127.0.0.1\r\nCSeq: 2 REGISTER\r\n"
            f"Contact: <sip:user{k:06d}@127.0.0.1:{5064 + k % 1000};transport=UDP>\r\n"
            "Expires: 3600\r\nUser-Agent: SIPp-load\r\n\r\n"
        ).encode()
        for k in range(count)
    ]
    table = BindingTable()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for k, raw in enumerate(raws):
            req = register_request(parse_message(raw), ("127.0.0.1", 5064 + k % 1000), "UDP")
            table.apply(req, T0 + k * 0.01)
        del req
        gc.collect()
        per_binding = (tracemalloc.get_traced_memory()[0] - before) / count
    finally:
        tracemalloc.stop()

    assert len(table) == count
    assert per_binding < 900, per_binding
