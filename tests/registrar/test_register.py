"""REGISTER requests and their expiry rules (kazoodesk/simulator/registrar/register.py)."""

from __future__ import annotations

import pytest
from sip_samples import REALM, sipp_register

from kazoodesk.simulator.registrar.headers import SipParseError, parse_name_addr
from kazoodesk.simulator.registrar.message import parse_message
from kazoodesk.simulator.registrar.register import (
    MALFORMED_EXPIRES,
    RegisterRequest,
    RegistrarPolicy,
    grant_expiries,
    register_request,
)

KAZOO = RegistrarPolicy()


def request(*contacts: str, expires: int | None = 300) -> RegisterRequest:
    return RegisterRequest(
        REALM, "alice", [parse_name_addr(c) for c in contacts], expires, "c", 1, "127.0.0.1", 5060
    )


# -- from a SIP message --------------------------------------------------------------------


def test_a_sipp_register_becomes_a_table_request() -> None:
    msg = parse_message(
        sipp_register("Alice", cseq=2, expires="3600").replace(
            b"sim.local>", b"SIM.local:5060;user=phone>"
        )
    )

    req = register_request(msg, ("127.0.0.1", 40000), "udp")

    assert (req.realm, req.username, req.call_id, req.cseq) == (
        "sim.local",
        "alice",
        "1-4242@127.0.0.1",
        2,
    )
    assert (req.source_ip, req.source_port, req.transport) == ("127.0.0.1", 40000, "UDP")
    assert [c.uri for c in req.contacts] == ["sip:Alice@127.0.0.1:5061;transport=UDP"]
    assert (req.expires, req.user_agent) == (3600, "SIPp-reference")


def test_a_malformed_expires_header_counts_as_3600_and_absent_as_none() -> None:
    odd = register_request(parse_message(sipp_register(expires="soon")), ("127.0.0.1", 1), "UDP")
    absent = register_request(parse_message(sipp_register(expires=None)), ("127.0.0.1", 1), "UDP")

    assert (odd.expires, absent.expires) == (3600, None)


@pytest.mark.parametrize(
    "contact",
    ["<tel:+15551234>", "*, <sip:a@b>", "<sip:alice@127.0.0.1", ", ".join(["<sip:a@h>"] * 33)],
)
def test_a_bad_contact_is_a_400_that_can_be_answered(contact: str) -> None:
    msg = parse_message(sipp_register(contact=contact))

    with pytest.raises(SipParseError) as caught:
        register_request(msg, ("127.0.0.1", 1), "UDP")

    assert caught.value.status == 400 and caught.value.message is msg


def test_a_to_without_user_is_a_400() -> None:
    msg = parse_message(
        sipp_register().replace(b"To: <sip:alice@sim.local>", b"To: <sip:sim.local>")
    )

    with pytest.raises(SipParseError) as caught:
        register_request(msg, ("127.0.0.1", 1), "UDP")

    assert (caught.value.status, caught.value.reason) == (400, "Address of record has no user")


# -- expiry rules ------------------------------------------------------------------------


def test_each_contact_gets_its_own_expiry_within_kazoo_bounds() -> None:
    granted = grant_expiries(
        request(
            "<sip:a@h1>;expires=900",
            "<sip:a@h2>",
            "<sip:a@h3>;expires=0",
            "<sip:a@h4>;expires=99999",
        ),
        KAZOO,
    )

    assert granted == [900, 300, 0, 3600]


@pytest.mark.parametrize(
    ("contacts", "expires", "status", "reason"),
    [
        (("<sip:a@h>",), 299, 423, "Interval Too Brief"),
        (("<sip:a@h>;expires=1",), 3600, 423, "Interval Too Brief"),
        (("<sip:a@h>",), None, 400, "Missing Expires"),
        (("*",), 300, 400, "Contact * needs Expires: 0"),
    ],
)
def test_refusals_come_with_their_status(
    contacts: tuple[str, ...], expires: int | None, status: int, reason: str
) -> None:
    refused = grant_expiries(request(*contacts, expires=expires), KAZOO)

    assert not isinstance(refused, list)
    assert (refused.status, refused.reason) == (status, reason)
    assert refused.min_expires == (300 if status == 423 else None)


def test_a_lower_minimum_or_the_default_when_missing_is_allowed() -> None:
    lenient = RegistrarPolicy(min_expires=60, reject_missing_expires=False, default_expires=600)

    assert grant_expiries(request("<sip:a@h>", expires=120), lenient) == [120]
    assert grant_expiries(request("<sip:a@h>", expires=None), lenient) == [600]
    assert grant_expiries(request("<sip:a@h>;expires=x", expires=None), lenient) == [
        MALFORMED_EXPIRES
    ]
