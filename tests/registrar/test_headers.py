"""Header-value parsers (kazoodesk/simulator/registrar/headers.py)."""

from __future__ import annotations

import pytest

from kazoodesk.simulator.registrar.digest import parse_auth
from kazoodesk.simulator.registrar.headers import (
    MAX_EXPIRES,
    SipParseError,
    parse_cseq,
    parse_expires,
    parse_name_addr,
    parse_params,
    parse_uri,
    parse_via,
    split_values,
    unescape_user,
    uri_key,
)


def test_params_keep_quoted_values_whole_and_lower_case_names() -> None:
    params = parse_params('Expires=60;q=0.5;+sip.instance="<urn:a;b>";lr')

    assert params == {"expires": "60", "q": "0.5", "+sip.instance": '"<urn:a;b>"', "lr": None}


def test_split_values_respects_quotes_and_angle_brackets() -> None:
    value = '"Smith, J" <sip:a@b;x=1,2>;expires=5, <sip:c@d>,sip:e@f'

    assert split_values(value) == ['"Smith, J" <sip:a@b;x=1,2>;expires=5', "<sip:c@d>", "sip:e@f"]
    with pytest.raises(SipParseError):
        split_values('"unterminated, <sip:a@b>')


@pytest.mark.parametrize(
    ("value", "display", "uri", "params"),
    [
        ("<sip:alice@sim.local>;tag=1", "", "sip:alice@sim.local", {"tag": "1"}),
        ('"A \\"B\\" C" <sip:a@b>', 'A "B" C', "sip:a@b", {}),
        (
            "Bob Smith <sips:bob@b.example;transport=tls>",
            "Bob Smith",
            "sips:bob@b.example;transport=tls",
            {},
        ),
        ("sip:alice@h;tag=x;expires=3", "", "sip:alice@h", {"tag": "x", "expires": "3"}),
        ("  <sip:a@b> ; expires = 30 ", "", "sip:a@b", {"expires": "30"}),
        ("*", "", "*", {}),
    ],
)
def test_name_addr_forms(value: str, display: str, uri: str, params: dict[str, str]) -> None:
    parsed = parse_name_addr(value)

    assert (parsed.display, parsed.uri, parsed.params) == (display, uri, params)


@pytest.mark.parametrize(
    "value", ["<sip:a@b", '"x" junk <sip:a@b>', "<sip:a@b> junk", "nocolon", ""]
)
def test_malformed_name_addr_is_refused(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_name_addr(value)


def test_name_addr_writes_back_what_it_read() -> None:
    parsed = parse_name_addr(
        '"A \\"B\\"" <sip:a@b;transport=udp>;expires=60;+sip.instance="<urn:x>"'
    )

    assert parse_name_addr(str(parsed)) == parsed


def test_sip_uri_parts_and_comparison_key() -> None:
    uri = parse_uri("SIP:alice:secret@Sim.Local:5070;Transport=UDP;lr?subject=x")

    assert (uri.scheme, uri.user, uri.host, uri.port) == ("sip", "alice", "sim.local", 5070)
    assert uri.params == {"transport": "UDP", "lr": None}
    assert uri.headers == "subject=x"
    # RFC 3261 §19.1.4: scheme/host case and unrelated parameters do not matter, port does
    assert uri_key("sip:a@HOST:5060;transport=UDP") == uri_key("SIP:a@host:5060;transport=udp;lr")
    assert uri_key("sip:a@host") != uri_key("sip:a@host:5060")
    assert uri_key("sip:a@host") != uri_key("sip:A@host")
    assert uri_key("sip:a@host;transport=tcp") != uri_key("sip:a@host")


def test_ipv6_uri_hosts() -> None:
    uri = parse_uri("sip:bob@[2001:DB8::10]:5070")

    assert (uri.host, uri.port) == ("[2001:db8::10]", 5070)


@pytest.mark.parametrize(
    "text",
    ["tel:+15551234", "sip:", "sip:@host", "sip:a@host:99999", "sip:a@host:5o60", "sip:a@[::1"],
)
def test_bad_uris_are_refused(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(text)


def test_user_escapes_are_resolved_for_aor_comparison() -> None:
    assert unescape_user("%61lice%2") == "alice%2"


def test_via_with_lws_everywhere_rport_and_received() -> None:
    via = parse_via(
        "SIP / 2.0 / udp  192.0.2.1 : 5060 ;branch=z9hG4bK77;rport=5062;received=198.51.100.2"
    )

    assert (via.protocol, via.transport, via.host, via.port) == (
        "SIP/2.0",
        "UDP",
        "192.0.2.1",
        5060,
    )
    assert (via.branch, via.rport, via.received) == ("z9hG4bK77", 5062, "198.51.100.2")
    assert (
        str(via) == "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK77;rport=5062;received=198.51.100.2"
    )


@pytest.mark.parametrize("value", ["SIP/2.0 host", "SIP/2.0/UDP", "garbage", "SIP/2.0/UDP host:x"])
def test_malformed_via_is_refused(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_via(value)


def test_cseq_and_its_limits() -> None:
    assert parse_cseq(" 4711   REGISTER ") == (4711, "REGISTER")
    for bad in [
        "REGISTER",
        "1",
        "-1 REGISTER",
        "2147483648 REGISTER",
        "1_0 REGISTER",
        "١ REGISTER",
    ]:
        with pytest.raises(SipParseError):
            parse_cseq(bad)


def test_expires_is_clamped_and_malformed_values_say_so() -> None:
    assert parse_expires(" 3600 ") == 3600
    assert parse_expires("0") == 0
    assert parse_expires("99999999999") == MAX_EXPIRES
    assert parse_expires("9" * 5000) == MAX_EXPIRES  # no int() of a 5000-digit string
    assert parse_expires("Thu, 01 Dec 1994 16:00:00 GMT") is None
    assert parse_expires("-1") is None
    assert parse_expires("") is None


def test_auth_params_with_quoted_commas_and_escapes() -> None:
    scheme, params = parse_auth(
        'Digest username="a\\"b", realm="x,y", nonce="n", uri="sip:h", qop=auth,nc=00000001 ,'
        ' response="R"'
    )

    assert scheme == "digest"
    assert params == {
        "username": 'a"b',
        "realm": "x,y",
        "nonce": "n",
        "uri": "sip:h",
        "qop": "auth",
        "nc": "00000001",
        "response": "R",
    }


@pytest.mark.parametrize("value", ["", "Digest", "username=x"])
def test_auth_without_scheme_and_params_is_refused(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_auth(value)
