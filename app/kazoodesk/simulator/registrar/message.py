"""SIP messages on the wire: lenient parsing, strict building (RFC 3261 §7, §18, §20).

Bytes are decoded as UTF-8 with `surrogateescape`, so any byte survives a parse/build round
trip and nothing ever fails to decode. Header names are stored lower-case in their long form
(`v` -> `via`), values as written, one list entry per header line. Content-Length is consumed
by framing and rewritten on output, so it never appears in `SipMessage.headers`.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formatdate

from kazoodesk.simulator.registrar.headers import (
    SipParseError,
    Via,
    bare_host,
    format_params,
    parse_cseq,
    parse_via,
    split_values,
)

# RFC 3261 §7.3.3 compact forms, plus the ones later RFCs registered
COMPACT_FORMS = {
    "a": "accept-contact", "b": "referred-by", "c": "content-type", "d": "request-disposition",
    "e": "content-encoding", "f": "from", "i": "call-id", "j": "reject-contact",
    "k": "supported", "l": "content-length", "m": "contact", "o": "event", "r": "refer-to",
    "s": "subject", "t": "to", "u": "allow-events", "v": "via", "x": "session-expires",
    "y": "identity",
}  # fmt: skip
_SPELLING = {
    "call-id": "Call-ID", "cseq": "CSeq", "www-authenticate": "WWW-Authenticate",
    "mime-version": "MIME-Version", "content-id": "Content-ID",
}  # fmt: skip
REQUIRED_HEADERS = ("via", "from", "to", "call-id", "cseq")
REASONS = {
    100: "Trying", 180: "Ringing", 200: "OK", 202: "Accepted", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    407: "Proxy Authentication Required", 408: "Request Timeout", 413: "Request Entity Too Large",
    415: "Unsupported Media Type", 416: "Unsupported URI Scheme", 420: "Bad Extension",
    423: "Interval Too Brief", 429: "Too Many Requests", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
    489: "Bad Event", 500: "Server Internal Error", 501: "Not Implemented",
    503: "Service Unavailable", 504: "Server Time-out", 505: "Version Not Supported",
    513: "Message Too Large",
}  # fmt: skip
_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")
_FOLDING = re.compile(r"\n[ \t]+")


def spelling(name: str) -> str:
    """The conventional spelling of a lower-case header name: `call-id` -> `Call-ID`."""
    known = _SPELLING.get(name)
    return known if known else "-".join(p.capitalize() for p in name.split("-"))


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what the parser accepts (RFC 3261 §18.1.1: a UDP datagram is at most
    65,535 bytes). Lines are counted after unfolding; lengths are in characters."""

    max_message_bytes: int = 65535
    max_headers: int = 120
    max_header_length: int = 8192


DEFAULT_LIMITS = Limits()


@dataclass(slots=True)
class SipMessage:
    """A parsed request (`status` 0) or response (`method` "")."""

    method: str
    uri: str
    status: int
    reason: str
    headers: dict[str, list[str]]
    top_via: Via
    call_id: str
    cseq: int = 0
    cseq_method: str = ""
    body: bytes = b""
    version: str = "SIP/2.0"

    @property
    def is_request(self) -> bool:
        return self.status == 0

    def get(self, name: str) -> str | None:
        """The first value of a header (lower-case long name), or None."""
        values = self.headers.get(name)
        return values[0] if values else None

    def values(self, name: str) -> list[str]:
        """Every comma-separated value of a list header, across all its lines."""
        out: list[str] = []
        angles = name != "via"
        for line in self.headers.get(name, ()):
            out.extend(split_values(line, angles))
        return out


def is_keepalive(data: bytes) -> bool:
    """A CRLF keepalive (RFC 5626 §3.5.1) or an empty datagram: ignore, never answer."""
    return not data.strip(b"\r\n")


def _header_end(data: bytes | bytearray, start: int) -> tuple[int, int]:
    """(end of the header block, start of the body) or (-1, -1) when there is no blank line."""
    crlf = data.find(b"\n\r\n", start)
    lf = data.find(b"\n\n", start, len(data) if crlf < 0 else crlf + 2)
    if lf >= 0:
        return lf, lf + 2
    if crlf >= 0:
        return crlf, crlf + 3
    return -1, -1


def skip_keepalives(buffer: bytes | bytearray) -> int:
    """How many CR/LF bytes lead the buffer: keepalives (RFC 5626 §3.5.1) and the CRLFs that
    RFC 3261 §7.5 says to ignore before a start line. A stream reader drops them (and may
    answer a double-CRLF ping with one CRLF)."""
    return len(buffer) - len(buffer.lstrip(b"\r\n"))


# Header names as written -> their canonical form, for the names seen most (a dict lookup per
# line instead of strip, lower and the compact-form table); bounded, as names are input.
_NAMES: dict[str, str] = {}
_MAX_NAMES = 512


def _header_name(written: str) -> str:
    """The lower-case long form of a header name as written before its colon."""
    name = written.rstrip().lower()
    if not name:
        raise SipParseError("malformed header line")
    name = COMPACT_FORMS.get(name, name)
    if len(_NAMES) < _MAX_NAMES:
        _NAMES[written] = name
    return name


def parse_message(data: bytes, limits: Limits = DEFAULT_LIMITS) -> SipMessage:
    """One message from a datagram (or a frame cut by `next_frame`); see `SipParseError`."""
    if len(data) > limits.max_message_bytes:
        raise SipParseError("message too large", 513)
    start = skip_keepalives(data)
    end, body_start = _header_end(data, start)
    if end < 0:
        raise SipParseError("no end of headers")
    text = data[start:end].decode("utf-8", "surrogateescape")
    if "\r" in text:  # CRLF -> LF; a stray CR becomes a space so it never reaches the output
        text = text.replace("\r\n", "\n").replace("\r", " ")
    if ("\n " in text or "\n\t" in text) and _FOLDING.search(text):  # folded lines (§7.3.1)
        text = _FOLDING.sub(" ", text)
    lines = text.split("\n")
    if len(lines) > limits.max_headers + 1:
        raise SipParseError("too many headers", 513)
    if len(text) > limits.max_header_length and max(map(len, lines)) > limits.max_header_length:
        raise SipParseError("header too long", 513)
    first = lines[0].strip()
    method = uri = reason = ""
    status = 0
    if first.startswith("SIP/"):
        parts = first.split(" ", 2)
        code = parts[1] if len(parts) > 1 else ""
        if not (len(code) == 3 and code.isascii() and code.isdigit() and "1" <= code[0] <= "6"):
            raise SipParseError("malformed status line")
        version, status = parts[0].upper(), int(code)
        reason = parts[2].strip() if len(parts) > 2 else ""
    else:
        parts = first.split()
        if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or parts[2][:4].upper() != "SIP/":
            raise SipParseError("malformed request line")
        method, uri, version = parts[0], parts[1], parts[2].upper()

    headers: dict[str, list[str]] = {}
    known = _NAMES.get
    for line in itertools.islice(lines, 1, None):
        written, colon, value = line.partition(":")
        name = known(written)
        if name is None:
            if not colon:
                raise SipParseError("malformed header line")
            name = _header_name(written)
        values = headers.get(name)
        if values is None:
            headers[name] = [value.strip()]
        else:
            values.append(value.strip())

    for required in REQUIRED_HEADERS:
        values = headers.get(required)
        if not values or not values[0]:
            raise SipParseError(f"missing {spelling(required)}")
    top = headers["via"][0]
    vias = split_values(top, angles=False) if "," in top else [top]
    if not vias:
        raise SipParseError("missing Via")
    top_via = parse_via(vias[0])
    lengths = headers.pop("content-length", None)
    msg = SipMessage(method, uri, status, reason, headers, top_via, headers["call-id"][0])
    msg.version = version
    # From here on the message can be answered, so faults carry it
    try:
        msg.cseq, msg.cseq_method = parse_cseq(headers["cseq"][0])
    except SipParseError as exc:
        raise SipParseError(exc.reason, 400, msg) from None
    if method and msg.cseq_method != method:
        raise SipParseError("CSeq method does not match", 400, msg)
    if version != "SIP/2.0":
        raise SipParseError("Version Not Supported", 505, msg)
    if lengths is None:  # RFC 3261 §18.3: the body runs to the end of the datagram
        msg.body = data[body_start:]
        return msg
    declared = lengths[0]
    if any(v != declared for v in lengths) or not (
        declared.isascii() and declared.isdigit() and len(declared) <= 9
    ):
        raise SipParseError("Content-Length is illegal", 400, msg)
    size = int(declared)
    if size > len(data) - body_start:
        raise SipParseError("Content-Length mis-match", 400, msg)
    msg.body = data[body_start : body_start + size]
    return msg


def next_frame(
    buffer: bytes | bytearray, limits: Limits = DEFAULT_LIMITS
) -> tuple[int, int] | None:
    """Where the first message of a stream buffer lies: (start, end), start past any CRLF
    keepalives; None while more bytes are needed. Raises `SipParseError` when the stream
    cannot be framed (oversized, Content-Length garbage): close the connection then."""
    data = buffer
    start = skip_keepalives(data)
    end, body_start = _header_end(data, start)
    if end < 0:
        if len(data) - start > limits.max_message_bytes:
            raise SipParseError("message too large", 513)
        return None
    size = 0  # RFC 3261 §18.3 makes Content-Length mandatory on streams; absent reads as 0
    for line in data[start:end].split(b"\n"):
        colon = line.find(b":")
        if colon > 0 and line[:colon].strip().lower() in (b"content-length", b"l"):
            value = line[colon + 1 :].strip()
            if not (value.isdigit() and len(value) <= 9):
                raise SipParseError("Content-Length is illegal")
            size = int(value)
            break
    stop = body_start + size
    if stop - start > limits.max_message_bytes:
        raise SipParseError("message too large", 513)
    return (start, stop) if len(data) >= stop else None


_tag_counter = itertools.count(int.from_bytes(os.urandom(4), "big"))
_TAG_PREFIX = os.urandom(3).hex()


def new_tag() -> str:
    """A To/From tag, unique within this process and unguessable across restarts."""
    return f"{_TAG_PREFIX}{next(_tag_counter):x}"


def new_branch() -> str:
    """A Via branch with the RFC 3261 magic cookie."""
    return f"z9hG4bK{_TAG_PREFIX}{next(_tag_counter):x}"


def new_call_id(host: str) -> str:
    return f"{os.urandom(8).hex()}@{host}"


def sip_date(timestamp: float) -> str:
    """A Date header value (RFC 3261 §20.17: RFC 1123 form, always GMT)."""
    return formatdate(timestamp, usegmt=True)


def has_tag(value: str) -> bool:
    """Whether a From/To value carries a `tag` header parameter (outside `<...>`)."""
    gt = value.rfind(">")
    params = value[gt + 1 :] if gt >= 0 else value
    return ";tag=" in params.lower().replace(" ", "")


def stamp_via(via: Via, ip: str, port: int) -> Via:
    """The top Via as the server transport records it (RFC 3261 §18.2.1, RFC 3581 §4):
    `received` when sent-by differs from the source address or rport was asked for, and
    the source port filled into an empty `rport`."""
    params = dict(via.params)
    if "rport" in params and not params["rport"]:
        params["rport"] = str(port)
        params["received"] = ip
    elif bare_host(via.host) != ip:
        params["received"] = ip
    return Via(via.transport, via.host, via.port, params, via.protocol)


def _stamped_text(via: Via, ip: str, port: int) -> str:
    """`str(stamp_via(via, ip, port))`, without the Via in between."""
    params = via.params
    if "rport" in params and not params["rport"]:
        params = {**params, "rport": str(port), "received": ip}
    elif bare_host(via.host) != ip:
        params = {**params, "received": ip}
    sent_by = via.host if via.port is None else f"{via.host}:{via.port}"
    return f"{via.protocol}/{via.transport} {sent_by}{format_params(params)}"


_CHECKED_NAMES: set[str] = set()


def _checked(lines: list[str], headers: Sequence[tuple[str, str]]) -> None:
    for name, value in headers:
        if "\n" in value or "\r" in value:
            raise ValueError(f"header {name!r} cannot be written as one line")
        if name not in _CHECKED_NAMES:
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"{name!r} is not a header name")
            if len(_CHECKED_NAMES) < 256:  # callers use a few constant names
                _CHECKED_NAMES.add(name)
        lines.append(f"{name}: {value}")


def _finish(lines: list[str], body: bytes) -> bytes:
    lines.append(f"Content-Length: {len(body)}\r\n\r\n")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + body


def build_response(
    request: SipMessage,
    status: int,
    reason: str | None = None,
    *,
    source: tuple[str, int] | None = None,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    to_tag: str | None = None,
) -> bytes:
    """A response to `request`: every Via (the top one stamped with `source` when given),
    From, To (with a tag for anything but 100), Call-ID and CSeq copied, then `headers`
    in order, then Content-Length. `to_tag` defaults to a fresh one."""
    phrase = REASONS.get(status, "") if reason is None else reason
    if "\n" in phrase or "\r" in phrase:
        raise ValueError("reason phrase cannot hold a line break")
    h = request.headers
    top = request.top_via if source is None else _stamped_text(request.top_via, *source)
    lines = [f"SIP/2.0 {status} {phrase}", f"Via: {top}"]
    first_line = h["via"][0]
    if "," in first_line:
        lines.extend(f"Via: {v}" for v in split_values(first_line, angles=False)[1:])
    lines.extend(f"Via: {v}" for v in h["via"][1:])
    to = h["to"][0]
    if status != 100 and not has_tag(to):
        to = f"{to};tag={to_tag or new_tag()}"
    lines += [f"From: {h['from'][0]}", f"To: {to}", f"Call-ID: {request.call_id}"]
    lines.append(f"CSeq: {h['cseq'][0]}")
    _checked(lines, headers)
    return _finish(lines, body)


def build_request(
    method: str,
    uri: str,
    *,
    via: Via,
    from_addr: str,
    to_addr: str,
    call_id: str,
    cseq: int,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    max_forwards: int = 70,
) -> bytes:
    """A request as a UAC sends it (NOTIFY to a phone, REGISTER from a demo phone)."""
    if not _TOKEN.fullmatch(method) or " " in uri or "\n" in uri or "\r" in uri:
        raise ValueError("method or Request-URI cannot be written")
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: {via}",
        f"Max-Forwards: {max_forwards}",
        f"From: {from_addr}",
        f"To: {to_addr}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
    ]
    _checked(lines, headers)
    return _finish(lines, body)


def serialize(msg: SipMessage) -> bytes:
    """The message written back in canonical form (long names, one value list per line)."""
    if msg.is_request:
        lines = [f"{msg.method} {msg.uri} {msg.version}"]
    else:
        lines = [f"{msg.version} {msg.status} {msg.reason}"]
    for name, values in msg.headers.items():
        spelled = spelling(name)
        lines.extend(f"{spelled}: {v}" for v in values)
    return _finish(lines, msg.body)


def transaction_key(msg: SipMessage) -> tuple[str, str, str]:
    """RFC 3261 §17.2.3 server-transaction key: top branch, sent-by, method (ACK -> INVITE).
    Pre-RFC 3261 branches (no magic cookie) fall back to Call-ID and CSeq."""
    via = msg.top_via
    branch = via.branch or ""
    method = msg.method if msg.method != "ACK" else "INVITE"
    if not branch.startswith("z9hG4bK"):
        branch = f"{branch}|{msg.call_id}|{msg.cseq}"
    # the cache keeps tens of thousands of keys: one copy of each sent-by and method
    return branch, sys.intern(via.sent_by), sys.intern(method)
