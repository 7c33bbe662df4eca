"""HTTP Digest (kazoodesk/simulator/registrar/digest.py) against RFC 2617 and Kamailio vectors."""

from __future__ import annotations

import pytest
from sip_samples import KAMAILIO_AUTHORIZATION

from kazoodesk.simulator.registrar.digest import (
    DigestChallenge,
    build_authorization,
    build_challenge,
    compute_ha1,
    compute_response,
    parse_challenge,
    parse_credentials,
    verify_response,
)
from kazoodesk.simulator.registrar.headers import SipParseError

# RFC 2617 §3.5, the Authorization header exactly as the RFC prints it
RFC2617_AUTHORIZATION = """Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41\""""


def test_the_rfc_2617_example_verifies() -> None:
    creds = parse_credentials(RFC2617_AUTHORIZATION)

    assert (creds.username, creds.realm, creds.uri, creds.qop, creds.nc, creds.cnonce) == (
        "Mufasa",
        "testrealm@host.com",
        "/dir/index.html",
        "auth",
        "00000001",
        "0a4f113b",
    )
    assert creds.opaque == "5ccc069c403ebaf9f0171e9517f40e41"
    assert verify_response(creds, "GET", password="Circle Of Life")
    assert not verify_response(creds, "GET", password="circle of life")
    assert not verify_response(creds, "POST", password="Circle Of Life")


def test_the_sipp_authorization_kamailio_accepted_verifies_against_its_uri_parameter() -> None:
    creds = parse_credentials(KAMAILIO_AUTHORIZATION)

    assert compute_ha1("alice", "sim.local", "pw-alice") == "9ecf2461b46a1b7b0e7ace43f6b39339"
    # the uri parameter (sip:127.0.0.1:5070) is hashed, not the Request-URI (sip:sim.local)
    assert creds.uri == "sip:127.0.0.1:5070"
    assert verify_response(creds, "REGISTER", password="pw-alice")
    assert verify_response(creds, "REGISTER", ha1="9ecf2461b46a1b7b0e7ace43f6b39339")
    assert not verify_response(creds, "REGISTER", password="pw-bob")


def test_a_response_without_qop_is_the_rfc_2069_form() -> None:
    ha1 = compute_ha1("alice", "sim.local", "pw-alice")

    response = compute_response(
        ha1=ha1, nonce="awfP0WsHz7Mzwv5ECc7RYU/NIsfaNwCi", method="REGISTER", uri="sip:sim.local"
    )

    # sip-registrar.md §2.2 prints these two values the other way round: HA2 is 6c4abe...
    assert response == "046b7366bcd3dfd9ce396a62b83e9669"
    creds = parse_credentials(
        'Digest username="alice", realm="sim.local", nonce="awfP0WsHz7Mzwv5ECc7RYU/NIsfaNwCi", '
        f'uri="sip:sim.local", response="{response.upper()}"'
    )
    assert creds.qop is None and creds.algorithm == "MD5"
    assert verify_response(creds, "REGISTER", password="pw-alice")


def test_a_non_ascii_response_is_simply_wrong() -> None:
    creds = parse_credentials(
        'Digest username="a", realm="r", nonce="n", uri="sip:r", response="\u00e9\u00e9"'
    )

    assert not verify_response(creds, "REGISTER", password="x")


@pytest.mark.parametrize(
    "value",
    [
        "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
        'Digest realm="r", nonce="n", uri="u", response="x"',  # no username
        'Digest username="a", realm="r", nonce="n", uri="u"',  # no response
        'Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth',  # no nc
        'Digest username="a", realm="r", nonce="n", uri="u", response="x", algorithm=SHA-1',
    ],
)
def test_credentials_missing_what_the_rfc_requires_are_refused(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_credentials(value)


def test_the_challenge_is_what_phones_and_sipp_expect() -> None:
    assert build_challenge("sim.local", "abc") == (
        'Digest realm="sim.local", nonce="abc", qop="auth", algorithm=MD5'
    )
    assert build_challenge("sim.local", "abc", qop=None, algorithm=None, stale=True) == (
        'Digest realm="sim.local", nonce="abc", stale=true'
    )
    assert parse_challenge(build_challenge('we"ird', "n", opaque="o", stale=True)) == (
        DigestChallenge('we"ird', "n", ("auth",), "MD5", "o", True)
    )


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256"])
@pytest.mark.parametrize("qop", ['"auth"', None])
def test_a_uac_answer_to_a_challenge_verifies_on_the_server(
    algorithm: str, qop: str | None
) -> None:
    offer = f'Digest realm="sim.local", nonce="n0nce", algorithm={algorithm}'
    if qop:
        offer += f", qop={qop}"
    challenge = parse_challenge(offer)

    header = build_authorization(
        challenge,
        username="alice",
        password="pw-alice",
        method="NOTIFY",
        uri="sip:alice@127.0.0.1:5061",
        nc=3,
        cnonce="c0ffee",
    )
    creds = parse_credentials(header)

    assert creds.algorithm == algorithm.upper()
    assert creds.qop == ("auth" if qop else None)
    assert creds.nc == ("00000003" if qop else None)
    assert verify_response(creds, "NOTIFY", password="pw-alice")
    assert not verify_response(creds, "NOTIFY", password="pw-alicf")


def test_auth_int_covers_the_body() -> None:
    ha1 = compute_ha1("a", "r", "p")
    args = {"ha1": ha1, "nonce": "n", "method": "NOTIFY", "uri": "sip:x", "nc": "00000001"}

    with_body = compute_response(**args, qop="auth-int", cnonce="c", body=b"hello")
    creds = parse_credentials(
        'Digest username="a", realm="r", nonce="n", uri="sip:x", qop=auth-int, nc=00000001, '
        f'cnonce="c", response="{with_body}"'
    )

    assert verify_response(creds, "NOTIFY", password="p", body=b"hello")
    assert not verify_response(creds, "NOTIFY", password="p", body=b"hellO")


def test_verify_needs_a_secret() -> None:
    creds = parse_credentials(KAMAILIO_AUTHORIZATION)

    with pytest.raises(ValueError):
        verify_response(creds, "REGISTER")
