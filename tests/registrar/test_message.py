"""SIP message framing, parsing and building (kazoodesk/simulator/registrar/message.py)."""

from __future__ import annotations

import contextlib
import time

import pytest
from sip_samples import ODD_REGISTER, RFC3261_REGISTER, sipp_register

from kazoodesk.simulator.registrar.digest import parse_credentials
from kazoodesk.simulator.registrar.headers import SipParseError, Via, parse_name_addr, parse_via
from kazoodesk.simulator.registrar.message import (
    Limits,
    build_request,
    build_response,
    is_keepalive,
    new_branch,
    next_frame,
    parse_message,
    serialize,
    sip_date,
    stamp_via,
    transaction_key,
)
from kazoodesk.simulator.registrar.register import register_request


def header_lines(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    return head.split("\r\n")


# -- parsing -----------------------------------------------------------------------------


def test_a_sipp_register_parses_into_its_parts() -> None:
    msg = parse_message(sipp_register("alice", cseq=2))

    assert (msg.method, msg.uri, msg.version, msg.is_request) == (
        "REGISTER",
        "sip:sim.local",
        "SIP/2.0",
        True,
    )
    assert (msg.call_id, msg.cseq, msg.cseq_method) == ("1-4242@127.0.0.1", 2, "REGISTER")
    assert msg.top_via.branch == "z9hG4bK-4242-1-0"
    assert msg.top_via.has_rport and msg.top_via.rport is None
    assert (msg.top_via.host, msg.top_via.port, msg.top_via.transport) == ("127.0.0.1", 5061, "UDP")
    assert msg.get("expires") == "300"
    assert msg.get("user-agent") == "SIPp-reference"
    assert "content-length" not in msg.headers
    assert msg.body == b""


def test_the_rfc_3261_register_example_parses() -> None:
    msg = parse_message(RFC3261_REGISTER)

    assert msg.top_via.transport == "TLS"
    assert msg.top_via.sent_by == "client.biloxi.example.com:5061"
    assert parse_name_addr(msg.headers["from"][0]).display == "Bob"
    assert msg.values("contact") == ["<sips:bob@client.biloxi.example.com>"]


def test_compact_forms_folding_lf_line_ends_and_lists_are_understood() -> None:
    msg = parse_message(ODD_REGISTER)

    vias = msg.values("via")
    assert [parse_via(v).branch for v in vias] == ["z9hG4bKodd1", "z9hG4bKproxy", "z9hG4bKlast"]
    assert msg.top_via.host == "10.0.0.7"
    assert (msg.cseq, msg.cseq_method) == (7, "REGISTER")  # folded onto two lines
    assert msg.call_id == "odd-call@10.0.0.7"
    contacts = [parse_name_addr(v) for v in msg.values("contact")]
    assert [c.uri for c in contacts] == [
        "sip:bob@10.0.0.7:5062",
        "sip:bob@198.51.100.4:5070",
        "sip:bob@203.0.113.9",
    ]
    assert contacts[0].params == {"expires": "60", "q": "0.7"}
    assert (
        contacts[1].params["+sip.instance"] == '"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"'
    )
    assert contacts[2].params == {"expires": "0"}  # addr-spec: parameters belong to the header
    assert parse_name_addr(msg.headers["from"][0]).display == 'Bob, the "phone"'
    assert msg.get("user-agent") == "Odd/1.0"
    assert msg.body == b"body"  # cut to Content-Length, the rest of the datagram dropped


def test_a_response_parses_with_its_status() -> None:
    raw = b"SIP/2.0 401 Unauthorized\r\n" + sipp_register().split(b"\r\n", 1)[1]

    msg = parse_message(raw)

    assert (msg.is_request, msg.status, msg.reason, msg.method) == (False, 401, "Unauthorized", "")


def test_without_content_length_the_body_runs_to_the_end_of_the_datagram() -> None:
    raw = sipp_register().replace(b"Content-Length: 0\r\n", b"") + b"v=0\r\n"

    assert parse_message(raw).body == b"v=0\r\n"


def test_non_utf8_bytes_survive_as_surrogates_and_go_back_out_unchanged() -> None:
    raw = sipp_register().replace(
        b"<sip:alice@sim.local>;tag", b'"\xff\xfe" <sip:alice@sim.local>;tag'
    )

    msg = parse_message(raw)
    response = build_response(msg, 200)

    assert b'From: "\xff\xfe" <sip:alice@sim.local>;tag=4242SIPpTag001\r\n' in response


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "no end of headers"),
        (b"\r\n\r\n", "no end of headers"),
        (b"REGISTER sip:sim.local SIP/2.0\r\nVia: SIP/2.0/UDP h", "no end of headers"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "malformed request line"),
        (b"\x00\x01\x02\r\n\r\n", "malformed request line"),
        (b"SIP/2.0 2000 OK\r\n\r\n", "malformed status line"),
        (b"REGISTER sip:a SIP/2.0\r\nno colon here\r\n\r\n", "malformed header line"),
        (b"REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n", "missing From"),
    ],
)
def test_what_cannot_be_answered_is_rejected_without_a_message(raw: bytes, reason: str) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(raw)

    assert caught.value.reason == reason
    assert caught.value.message is None


@pytest.mark.parametrize(
    ("old", "new", "status", "reason"),
    [
        (b"CSeq: 1 REGISTER", b"CSeq: one REGISTER", 400, "CSeq number is illegal"),
        (b"CSeq: 1 REGISTER", b"CSeq: 1 INVITE", 400, "CSeq method does not match"),
        (b"CSeq: 1 REGISTER", b"CSeq: 2147483648 REGISTER", 400, "CSeq number is illegal"),
        (b"Content-Length: 0", b"Content-Length: 10", 400, "Content-Length mis-match"),
        (b"Content-Length: 0", b"Content-Length: -1", 400, "Content-Length is illegal"),
        (b"Content-Length: 0", b"Content-Length: \xd9\xa3", 400, "Content-Length is illegal"),
        (b"sim.local SIP/2.0", b"sim.local SIP/3.0", 505, "Version Not Supported"),
    ],
)
def test_what_can_be_answered_carries_the_message_and_a_status(
    old: bytes, new: bytes, status: int, reason: str
) -> None:
    raw = sipp_register().replace(old, new, 1)

    with pytest.raises(SipParseError) as caught:
        parse_message(raw)

    assert (caught.value.status, caught.value.reason) == (status, reason)
    assert caught.value.message is not None
    assert b"SIP/2.0 %d " % status in build_response(caught.value.message, status, reason)


def test_size_limits_reject_oversized_messages_headers_and_header_counts() -> None:
    limits = Limits(max_message_bytes=2000, max_headers=15, max_header_length=200)
    long_header = sipp_register(authorization="Digest " + "x" * 300)
    many_headers = sipp_register().replace(b"Max-Forwards: 70\r\n", b"X-A: 1\r\n" * 10)

    for raw, reason in [
        (sipp_register() + b" " * 2000, "message too large"),
        (long_header, "header too long"),
        (many_headers, "too many headers"),
    ]:
        with pytest.raises(SipParseError) as caught:
            parse_message(raw, limits)
        assert caught.value.reason == reason
    assert parse_message(sipp_register(), limits).cseq == 1


def test_crlf_keepalives_are_recognised() -> None:
    assert is_keepalive(b"\r\n\r\n")
    assert is_keepalive(b"\r\n")
    assert not is_keepalive(sipp_register())


# -- stream framing ----------------------------------------------------------------------


def test_next_frame_cuts_messages_out_of_a_stream_buffer() -> None:
    one = sipp_register(cseq=1).replace(b"Content-Length: 0", b"l: 5") + b"hello"
    two = sipp_register(cseq=2)
    buffer = bytearray(b"\r\n\r\n" + one + two[:40])

    start, end = next_frame(buffer) or (0, 0)
    assert (start, parse_message(bytes(buffer[start:end])).body) == (4, b"hello")
    del buffer[:end]
    assert next_frame(buffer) is None  # half a message: wait for more
    buffer += two[40:]
    assert next_frame(buffer) == (0, len(two))


def test_next_frame_refuses_what_it_cannot_frame() -> None:
    with pytest.raises(SipParseError):
        next_frame(sipp_register().replace(b"Content-Length: 0", b"Content-Length: zz"))
    with pytest.raises(SipParseError):
        next_frame(b"REGISTER " + b"x" * 70000)


# -- building ----------------------------------------------------------------------------


def test_a_response_copies_the_dialog_headers_and_stamps_the_top_via() -> None:
    msg = parse_message(sipp_register(cseq=2))

    raw = build_response(
        msg, 200, source=("127.0.0.1", 40000), headers=[("Contact", "<sip:a@b>;expires=300")]
    )

    assert header_lines(raw) == [
        "SIP/2.0 200 OK",
        "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-1-0;rport=40000;received=127.0.0.1",
        "From: <sip:alice@sim.local>;tag=4242SIPpTag001",
        f"To: <sip:alice@sim.local>;tag={parse_message(raw).headers['to'][0].split('tag=')[1]}",
        "Call-ID: 1-4242@127.0.0.1",
        "CSeq: 2 REGISTER",
        "Contact: <sip:a@b>;expires=300",
        "Content-Length: 0",
    ]


def test_every_via_is_copied_in_order_and_only_the_top_one_is_stamped() -> None:
    msg = parse_message(ODD_REGISTER)

    response = parse_message(build_response(msg, 200, source=("192.0.2.50", 6000)))

    vias = [parse_via(v) for v in response.values("via")]
    assert [v.branch for v in vias] == ["z9hG4bKodd1", "z9hG4bKproxy", "z9hG4bKlast"]
    assert (vias[0].received, vias[0].rport) == ("192.0.2.50", 6000)
    assert vias[1].received is None and vias[2].received is None


def test_received_is_added_only_when_sent_by_differs_without_rport() -> None:
    via = parse_via("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx")

    assert stamp_via(via, "10.0.0.1", 5060).params == {"branch": "z9hG4bKx"}
    assert stamp_via(via, "192.0.2.9", 5060).received == "192.0.2.9"
    named = parse_via("SIP/2.0/UDP phone.example;branch=z9hG4bKx")
    assert stamp_via(named, "192.0.2.9", 5060).received == "192.0.2.9"  # a name always differs
    ipv6 = parse_via("SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKx;rport")
    assert str(stamp_via(ipv6, "2001:db8::9", 5070)) == (
        "SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKx;rport=5070;received=2001:db8::9"
    )


def test_to_tag_is_kept_when_present_and_never_added_to_a_100() -> None:
    tagged = parse_message(
        sipp_register().replace(b"To: <sip:alice@sim.local>", b"To: <sip:alice@sim.local>;tag=abc")
    )
    plain = parse_message(sipp_register())

    assert parse_message(build_response(tagged, 200)).headers["to"] == [
        "<sip:alice@sim.local>;tag=abc"
    ]
    assert parse_message(build_response(plain, 100)).headers["to"] == ["<sip:alice@sim.local>"]
    assert parse_message(build_response(plain, 401, to_tag="t1")).headers["to"] == [
        "<sip:alice@sim.local>;tag=t1"
    ]


def test_a_response_refuses_header_values_that_would_split_lines() -> None:
    msg = parse_message(sipp_register())

    with pytest.raises(ValueError):
        build_response(msg, 200, headers=[("X-Evil", "a\r\nContact: <sip:x@y>")])
    with pytest.raises(ValueError):
        build_response(msg, 400, "bad\r\nX: y")


def test_a_request_is_built_with_its_mandatory_headers_and_parses_back() -> None:
    via = Via("UDP", "127.0.0.1", 5060, {"branch": new_branch(), "rport": None})

    raw = build_request(
        "NOTIFY",
        "sip:alice@127.0.0.1:5061",
        via=via,
        from_addr="<sip:alice@sim.local>;tag=n1",
        to_addr="<sip:alice@sim.local>",
        call_id="notify-1@127.0.0.1",
        cseq=1,
        headers=[("Event", "check-sync;reboot=true"), ("Subscription-State", "terminated")],
    )
    msg = parse_message(raw)

    assert (msg.method, msg.uri, msg.cseq, msg.cseq_method) == (
        "NOTIFY",
        "sip:alice@127.0.0.1:5061",
        1,
        "NOTIFY",
    )
    assert msg.top_via.branch == via.branch and via.branch.startswith("z9hG4bK")
    assert msg.get("max-forwards") == "70"
    assert msg.get("event") == "check-sync;reboot=true"
    assert raw.endswith(b"Content-Length: 0\r\n\r\n")


def test_serialize_writes_canonical_names_and_parses_back_equal() -> None:
    msg = parse_message(ODD_REGISTER)

    raw = serialize(msg)

    assert b"\r\nCall-ID: odd-call@10.0.0.7\r\n" in raw
    assert b"\r\nContent-Length: 4\r\n\r\nbody" in raw
    assert parse_message(raw) == msg


def test_transaction_key_uses_branch_sent_by_and_method() -> None:
    msg = parse_message(sipp_register())
    old_style = parse_message(sipp_register(branch="1234"))

    assert transaction_key(msg) == ("z9hG4bK-4242-1-0", "127.0.0.1:5061", "REGISTER")
    assert transaction_key(old_style)[0] == "1234|1-4242@127.0.0.1|1"


def test_the_date_header_is_rfc_1123_in_gmt() -> None:
    assert sip_date(1_289_690_940) == "Sat, 13 Nov 2010 23:29:00 GMT"


@pytest.mark.parametrize(
    "line",
    [
        b"Contact: " + b"," * 8000,
        b"Contact: " + b'"",' * 2600 + b"<sip:a@b>",
        b"Contact: <sip:a@b>" + b";x" * 4000,
        b'Contact: "' + b"\\\\" * 4000 + b'" <sip:a@b>',
        b'Contact: "' + b'\\"' * 4000 + b'" <sip:a@b>',
        b"Via: " + b"SIP/2.0/UDP h," * 580,
        b"Authorization: Digest " + b'a="\\",' * 1300,
    ],
)
def test_hostile_maximum_size_datagrams_cost_linear_time(line: bytes) -> None:
    """Seven 8 KB headers of the worst kind: milliseconds, never a quadratic blow-up."""
    raw = sipp_register().replace(b"Max-Forwards: 70\r\n", (line[:8000] + b"\r\n") * 7)
    started = time.perf_counter()

    for _ in range(3):
        with contextlib.suppress(SipParseError):
            msg = parse_message(raw)
            with contextlib.suppress(SipParseError):
                register_request(msg, ("192.0.2.1", 5060), "UDP")
            with contextlib.suppress(SipParseError):
                parse_credentials(msg.get("authorization") or "")
            build_response(msg, 400)

    assert (time.perf_counter() - started) / 3 < 0.2
