"""Hypothesis properties of the SIP parser and builder: hostile bytes never escape as anything
but `SipParseError`, and what we build parses back to what we meant."""

from __future__ import annotations

import contextlib
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sip_samples import ODD_REGISTER, RFC3261_REGISTER, sipp_register

from kazoodesk.simulator.registrar.bindings import BindingTable
from kazoodesk.simulator.registrar.digest import parse_challenge, parse_credentials
from kazoodesk.simulator.registrar.headers import (
    SipParseError,
    Via,
    parse_name_addr,
    parse_uri,
    parse_via,
    split_values,
)
from kazoodesk.simulator.registrar.message import (
    SipMessage,
    build_request,
    build_response,
    next_frame,
    parse_message,
    serialize,
)
from kazoodesk.simulator.registrar.register import register_request

SEEDS = [
    sipp_register(),
    sipp_register(
        cseq=2, authorization='Digest username="a", realm="r", nonce="n", uri="u", response="x"'
    ),
    RFC3261_REGISTER,
    ODD_REGISTER,
]
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real message with a few bytes replaced, inserted or deleted: gets past the start line
    far more often than random bytes."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        chunk = draw(
            st.binary(min_size=1, max_size=4)
            | st.sampled_from([b":", b";", b",", b'"', b"<", b"\r\n", b"\n ", b"="])
        )
        if op == "replace":
            data[at : at + len(chunk)] = chunk
        elif op == "insert":
            data[at:at] = chunk
        else:
            del data[at : at + len(chunk)]
    return bytes(data)


def parse_or_none(data: bytes) -> SipMessage | None:
    try:
        return parse_message(data)
    except SipParseError as exc:
        assert exc.reason and "\n" not in exc.reason
        if exc.message is not None:  # answerable: the 400/505 must build (it echoes the
            answer = build_response(exc.message, exc.status, exc.reason)  # faulty CSeq too)
            assert answer.startswith(b"SIP/2.0 %d %s\r\nVia: " % (exc.status, exc.reason.encode()))
            assert answer.endswith(b"\r\nContent-Length: 0\r\n\r\n")
        return None


@FAST
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_message_or_a_parse_error(data: bytes) -> None:
    parse_or_none(data)


@FAST
@given(mutated())
def test_damaged_messages_are_parsed_answered_and_applied_or_cleanly_refused(data: bytes) -> None:
    msg = parse_or_none(data)
    if msg is None:
        return
    assert parse_message(serialize(msg)) == msg  # canonical form is stable
    if not msg.is_request:
        return
    response = parse_message(build_response(msg, 401, source=("203.0.113.250", 5999)))
    assert (response.status, response.call_id, response.cseq) == (401, msg.call_id, msg.cseq)
    assert response.top_via.received == "203.0.113.250"
    try:
        req = register_request(msg, ("203.0.113.250", 5999), "UDP")
    except SipParseError as exc:
        assert exc.message is msg
        return
    result = BindingTable().apply(req, 1_700_000_000.0)
    assert result.status in (200, 400, 423, 503)


@FAST
@given(st.text(max_size=300))
def test_header_value_parsers_fail_only_with_parse_errors(text: str) -> None:
    for parse in (
        parse_via,
        parse_name_addr,
        parse_uri,
        split_values,
        parse_credentials,
        parse_challenge,
    ):
        with contextlib.suppress(SipParseError):
            parse(text)


@FAST
@given(st.binary(max_size=600))
def test_stream_framing_of_any_bytes_is_none_a_frame_or_a_parse_error(data: bytes) -> None:
    try:
        frame = next_frame(data)
    except SipParseError:
        return
    if frame is not None:
        start, end = frame
        assert 0 <= start <= end <= len(data)


@FAST
@given(st.lists(st.sampled_from(SEEDS[:3]), min_size=1, max_size=4), st.data())
def test_a_stream_cut_anywhere_yields_the_same_messages(
    messages: list[bytes], data: st.DataObject
) -> None:
    stream = b"\r\n".join(messages)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=5)))
    buffer = bytearray()
    got: list[SipMessage] = []
    for piece in (stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)):
        buffer += piece
        while (frame := next_frame(buffer)) is not None:
            got.append(parse_message(bytes(buffer[frame[0] : frame[1]])))
            del buffer[: frame[1]]
    assert got == [parse_message(m) for m in messages]


TOKEN = st.text(string.ascii_letters + string.digits + "-.!%*_+`'~", min_size=1, max_size=12)
VALUE = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85"),
    max_size=40,
).map(str.strip)


@FAST
@given(
    method=TOKEN,
    user=st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10),
    call_id=TOKEN,
    cseq=st.integers(0, 2**31 - 1),
    branch=TOKEN,
    port=st.integers(1, 65535),
    extra=st.lists(st.tuples(TOKEN.map(lambda t: "X-" + t), VALUE), max_size=5),
    body=st.binary(max_size=200),
)
def test_a_built_request_parses_back_to_what_was_built(
    method: str,
    user: str,
    call_id: str,
    cseq: int,
    branch: str,
    port: int,
    extra: list[tuple[str, str]],
    body: bytes,
) -> None:
    via = Via("UDP", "127.0.0.1", port, {"branch": "z9hG4bK" + branch, "rport": None})
    raw = build_request(
        method,
        f"sip:{user}@sim.local",
        via=via,
        from_addr=f"<sip:{user}@sim.local>;tag=1",
        to_addr=f"<sip:{user}@sim.local>",
        call_id=call_id,
        cseq=cseq,
        headers=extra,
        body=body,
    )

    msg = parse_message(raw)

    assert (msg.method, msg.uri, msg.call_id, msg.cseq, msg.cseq_method, msg.body) == (
        method,
        f"sip:{user}@sim.local",
        call_id,
        cseq,
        method,
        body,
    )
    assert msg.top_via == parse_via(str(via))
    for name, value in extra:
        assert value in msg.headers[name.lower()]
    response = parse_message(build_response(msg, 200, headers=extra, body=body))
    assert (response.status, response.top_via, response.body) == (200, msg.top_via, body)
    assert response.headers["from"] == msg.headers["from"]
