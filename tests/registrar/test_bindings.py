"""The location table (kazoodesk/simulator/registrar/bindings.py): RFC 3261 §10.3 + Kazoo."""

from __future__ import annotations

import pytest
from sip_samples import REALM

from kazoodesk.simulator.registrar.bindings import BindingTable, ChangeKind, contact_header
from kazoodesk.simulator.registrar.headers import parse_name_addr
from kazoodesk.simulator.registrar.register import RegisterRequest, RegistrarPolicy, check_bounds

T0 = 1_700_000_000.0
MULTI = RegistrarPolicy(single_binding=False, max_contacts=3)


def request(
    *contacts: str,
    expires: int | None = 300,
    call_id: str = "call-1",
    cseq: int = 1,
    user: str = "alice",
    port: int = 5061,
) -> RegisterRequest:
    return RegisterRequest(
        realm=REALM,
        username=user,
        contacts=[parse_name_addr(c) for c in contacts],
        expires=expires,
        call_id=call_id,
        cseq=cseq,
        source_ip="127.0.0.1",
        source_port=port,
        user_agent="test-phone",
    )


PHONE = "<sip:alice@127.0.0.1:5061;transport=UDP>"
DESK = "<sip:alice@127.0.0.1:5062>"


def contacts_of(table: BindingTable, user: str = "alice") -> list[str]:
    return [b.contact for b in table.lookup(REALM, user)]


# -- register, refresh, unregister ----------------------------------------------------------


def test_register_then_refresh_keeps_first_registration_and_moves_expiry() -> None:
    table = BindingTable()

    first = table.apply(request(PHONE, cseq=1), T0)
    again = table.apply(request(PHONE, cseq=2, expires=600, port=40000), T0 + 100)

    assert [c.kind for c in first.changes] == [ChangeKind.REGISTERED]
    assert [c.kind for c in again.changes] == [ChangeKind.REFRESHED]
    (binding,) = table.lookup(REALM, "alice")
    assert (binding.first_registered, binding.last_registered) == (T0, T0 + 100)
    assert (binding.expires_at, binding.cseq, binding.source_port) == (T0 + 700, 2, 40000)
    assert contact_header(again.bindings, T0 + 100) == (
        "<sip:alice@127.0.0.1:5061;transport=UDP>;expires=600"
    )
    assert len(table) == 1 and table.count(REALM) == 1


def test_contact_expires_beats_the_expires_header_and_max_lowers_it() -> None:
    table = BindingTable()

    result = table.apply(request(f"{PHONE};expires=7200", expires=300), T0)

    assert result.bindings[0].expires_at == T0 + 3600


def test_expires_zero_removes_the_matching_contact_whatever_the_call_id() -> None:
    table = BindingTable()
    table.apply(request(PHONE, call_id="boot-1", cseq=9), T0)

    result = table.apply(request(PHONE.replace("UDP", "udp"), expires=0, call_id="boot-2"), T0 + 5)

    assert result.status == 200 and result.bindings == ()
    assert [c.kind for c in result.changes] == [ChangeKind.UNREGISTERED]
    assert len(table) == 0 and table.count(REALM) == 0


def test_wildcard_with_expires_zero_removes_every_binding() -> None:
    table = BindingTable(MULTI)
    table.apply(request(PHONE, DESK), T0)

    result = table.apply(request("*", expires=0, cseq=2), T0 + 1)

    assert (result.status, result.bindings, contacts_of(table)) == (200, (), [])
    assert contact_header(result.bindings, T0) is None
    assert {c.kind for c in result.changes} == {ChangeKind.UNREGISTERED}


@pytest.mark.parametrize(
    ("contacts", "expires", "reason"),
    [
        (("*",), 300, "Contact * needs Expires: 0"),
        (("*",), None, "Contact * needs Expires: 0"),
        (("*", PHONE), 0, "Contact * must be alone"),
        ((PHONE, "*"), 0, "Contact * must be alone"),
    ],
)
def test_a_misused_wildcard_is_a_400_and_changes_nothing(
    contacts: tuple[str, ...], expires: int | None, reason: str
) -> None:
    table = BindingTable()
    table.apply(request(PHONE), T0)

    result = table.apply(request(*contacts, expires=expires, cseq=2), T0 + 1)

    assert (result.status, result.reason) == (400, reason)
    assert contacts_of(table) == ["sip:alice@127.0.0.1:5061;transport=UDP"]


def test_a_request_without_contact_fetches_the_bindings_unchanged() -> None:
    table = BindingTable()
    table.apply(request(PHONE), T0)

    result = table.apply(request(expires=None, cseq=1, call_id="other"), T0 + 10)

    assert result.status == 200
    assert contact_header(result.bindings, T0 + 10) == (
        "<sip:alice@127.0.0.1:5061;transport=UDP>;expires=290"
    )


# -- CSeq ordering, expiry bounds ------------------------------------------------------------


@pytest.mark.parametrize("cseq", [4, 5])
def test_an_older_or_equal_cseq_for_the_same_call_id_is_rejected(cseq: int) -> None:
    table = BindingTable()
    table.apply(request(PHONE, cseq=5), T0)

    result = table.apply(request(DESK, cseq=cseq, expires=900), T0 + 1)

    assert (result.status, result.reason) == (400, "Out of order request")
    (binding,) = table.lookup(REALM, "alice")
    assert (binding.contact, binding.cseq, binding.expires_at) == (
        "sip:alice@127.0.0.1:5061;transport=UDP",
        5,
        T0 + 300,
    )


def test_a_new_call_id_may_start_again_at_cseq_1() -> None:
    table = BindingTable()
    table.apply(request(PHONE, cseq=5, call_id="before-reboot"), T0)

    assert table.apply(request(PHONE, cseq=1, call_id="after-reboot"), T0 + 1).status == 200


def test_too_brief_an_interval_is_423_with_min_expires_before_any_change() -> None:
    table = BindingTable()
    req = request(PHONE, f"{DESK};expires=60", expires=300)

    result = table.apply(req, T0)

    assert (result.status, result.reason, result.min_expires) == (423, "Interval Too Brief", 300)
    assert len(table) == 0
    bounds = check_bounds(req, table.policy)
    assert bounds is not None and bounds.status == 423
    assert check_bounds(request(PHONE, expires=300), table.policy) is None


def test_missing_expires_is_400_like_kazoo_or_the_default_when_allowed() -> None:
    kazoo = BindingTable()
    lenient = BindingTable(RegistrarPolicy(reject_missing_expires=False, default_expires=600))

    refused = kazoo.apply(request(PHONE, expires=None), T0)
    granted = lenient.apply(request(PHONE, expires=None), T0)

    assert (refused.status, refused.reason) == (400, "Missing Expires")
    assert granted.bindings[0].expires_at == T0 + 600


def test_a_malformed_contact_expires_counts_as_3600() -> None:
    table = BindingTable(RegistrarPolicy(max_expires=7200))

    result = table.apply(request(f"{PHONE};expires=tomorrow"), T0)

    assert result.bindings[0].expires_at == T0 + 3600


def test_an_over_long_contact_is_refused() -> None:
    table = BindingTable(RegistrarPolicy(max_contact_length=40))

    result = table.apply(request(f"<sip:{'a' * 40}@127.0.0.1>"), T0)

    assert (result.status, len(table)) == (400, 0)


# -- one binding per AOR (Kazoo) and several -------------------------------------------------


def test_kazoo_mode_a_new_contact_replaces_the_old_one() -> None:
    table = BindingTable()
    table.apply(request(PHONE, call_id="c1"), T0)

    result = table.apply(request(DESK, call_id="c2"), T0 + 1)

    assert contacts_of(table) == ["sip:alice@127.0.0.1:5062"]
    assert [(c.kind, c.binding.contact) for c in result.changes] == [
        (ChangeKind.UNREGISTERED, "sip:alice@127.0.0.1:5061;transport=UDP"),
        (ChangeKind.REGISTERED, "sip:alice@127.0.0.1:5062"),
    ]
    assert len(table) == 1


def test_kazoo_mode_keeps_only_the_first_contact_of_a_request() -> None:
    table = BindingTable()

    result = table.apply(request(PHONE, DESK), T0)

    assert [b.contact for b in result.bindings] == ["sip:alice@127.0.0.1:5061;transport=UDP"]


def test_several_bindings_per_aor_when_allowed_up_to_the_limit() -> None:
    table = BindingTable(MULTI)
    table.apply(request(PHONE, DESK, call_id="c1"), T0)
    table.apply(request("<sip:alice@10.0.0.9>", call_id="c2"), T0)

    refused = table.apply(request("<sip:alice@10.0.0.10>", call_id="c3"), T0)

    assert (refused.status, refused.reason) == (503, "Too many registered contacts")
    assert len(contacts_of(table)) == 3 and table.count(REALM) == 3


def test_an_instance_id_matches_across_a_change_of_address() -> None:
    table = BindingTable(MULTI)
    instance = ';+sip.instance="<urn:uuid:0C67446E-F1A1-11D9-94D3-000A95A0E128>";reg-id=1'
    table.apply(request(PHONE + instance, call_id="c1"), T0)

    result = table.apply(
        request("<sip:alice@192.0.2.77:5061>" + instance, call_id="c1", cseq=2), T0 + 1
    )

    assert [c.kind for c in result.changes] == [ChangeKind.REFRESHED]
    assert contacts_of(table) == ["sip:alice@192.0.2.77:5061"]
    assert result.bindings[0].contact_value(T0 + 1).endswith(instance)


def test_a_failing_request_leaves_the_table_exactly_as_it_was() -> None:
    table = BindingTable(MULTI)
    table.apply(request(PHONE, call_id="c1", cseq=3), T0)
    before = [(b.contact, b.cseq, b.expires_at) for b in table.lookup(REALM, "alice")]

    # the first contact alone would succeed; the second is too brief: all or nothing
    result = table.apply(
        request(f"{PHONE};expires=0", f"{DESK};expires=10", call_id="c1", cseq=4), T0 + 1
    )

    assert result.status == 423
    assert [(b.contact, b.cseq, b.expires_at) for b in table.lookup(REALM, "alice")] == before


# -- expiry, flush, listing -----------------------------------------------------------------


def test_sweep_removes_only_what_expired_and_keeps_counts_right() -> None:
    table = BindingTable()
    for i in range(10):
        table.apply(request(PHONE, user=f"u{i}", expires=300 + i * 60), T0)

    assert table.sweep(T0 + 299) == []
    expired = table.sweep(T0 + 400)

    assert sorted(b.username for b in expired) == ["u0", "u1"]
    assert len(table) == 8 and table.count(REALM) == 8
    assert table.next_expiry() == T0 + 420
    assert table.sweep(T0 + 10_000) and len(table) == 0 and table.next_expiry() is None


def test_a_refreshed_binding_is_not_swept_at_its_old_time() -> None:
    table = BindingTable()
    table.apply(request(PHONE, cseq=1), T0)
    table.apply(request(PHONE, cseq=2, expires=600), T0 + 200)

    assert table.sweep(T0 + 301) == []
    assert [b.username for b in table.sweep(T0 + 801)] == ["alice"]


def test_an_expired_binding_is_no_longer_live_before_the_sweep() -> None:
    table = BindingTable()
    table.apply(request(PHONE), T0)

    assert table.live(REALM, "alice", T0 + 299)
    assert table.live(REALM, "alice", T0 + 300) == ()
    result = table.apply(request(DESK, call_id="c2"), T0 + 301)
    assert [c.kind for c in result.changes] == [ChangeKind.EXPIRED, ChangeKind.REGISTERED]


def test_retention_keeps_an_expired_binding_listed_like_ecallmgr() -> None:
    table = BindingTable(RegistrarPolicy(retention_s=180))
    table.apply(request(PHONE), T0)

    assert table.sweep(T0 + 400) == [] and table.count(REALM) == 1
    assert table.live(REALM, "alice", T0 + 400) == ()
    assert len(table.sweep(T0 + 481)) == 1


def test_flush_one_user_or_a_whole_realm() -> None:
    table = BindingTable()
    for user in ("a", "b", "c"):
        table.apply(request(PHONE, user=user), T0)
    other = request(PHONE, user="z")
    other.realm = "other.realm"
    table.apply(other, T0)

    assert [b.username for b in table.remove(REALM, "a")] == ["a"]
    assert sorted(b.username for b in table.remove_realm(REALM)) == ["b", "c"]
    assert [b.aor for b in table.bindings()] == ["z@other.realm"]
    assert table.sweep(T0 + 1000)[0].username == "z"  # flushed ones left the wheel too
    assert len(table) == 0
