"""Parsers for SIP header values: parameters, URIs, name-addr, Via, CSeq, Expires.

Lenient on input (RFC 3261 §7.3.1 LWS, quoted strings with escapes, either case), but every
failure is a `SipParseError` with a reason fit for a reason phrase, never another exception.
The work is done by `str` methods and a few anchored regexes, so a typical header costs a
microsecond or two and a hostile 8 KB one stays linear, in C.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kazoodesk.simulator.registrar.message import SipMessage

Params = dict[str, str | None]

MAX_EXPIRES = 2**32 - 1  # RFC 3261 §10.2.1.1: larger values MAY be treated as this
MAX_CSEQ = 2**31 - 1  # RFC 3261 §8.1.1.5: "MUST be less than 2**31"
MAX_PARAMS = 64  # per header value: far above real use, keeps hostile input cheap
MAX_VALUES = 256  # per header line (Max-Forwards 70 bounds a real Via list)


class SipParseError(ValueError):
    """Input that is not acceptable SIP.

    `reason` is a fixed phrase (never an echo of the input), `status` the response code a
    request with this fault deserves, and `message` the request parsed so far when it has
    enough (Via, From, To, Call-ID, CSeq) to be answered; None means: drop it silently.
    """

    def __init__(self, reason: str, status: int = 400, message: SipMessage | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.message = message


_QUOTED_TAIL = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def closing_quote(text: str, start: int) -> int:
    """Index of the `"` closing a quoted string whose content starts at `start`, or -1."""
    match = _QUOTED_TAIL.match(text, start)
    return match.end() - 1 if match else -1


_DROP_BACKSLASHES = operator.methodcaller("replace", "\\", "")


def unescape(text: str) -> str:
    """The content of a quoted string with its `\\x` escapes resolved (RFC 3261 §25.1).
    Between escaped backslashes every backslash escapes the next character, so dropping
    them is enough, and it all runs in C."""
    if "\\" not in text:
        return text
    return "\\".join(map(_DROP_BACKSLASHES, text.split("\\\\")))


def unquote(value: str) -> str:
    """`"a\\"b"` -> `a"b`; an unquoted value is returned as it is."""
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return unescape(value[1:-1])
    return value


def quote(value: str) -> str:
    """A quoted string for `value`, escaping `"` and `\\`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _splitter(sep: str, angles: bool) -> tuple[re.Pattern[str], re.Pattern[str]]:
    quoted = r'"[^"\\]*(?:\\.[^"\\]*)*"'
    bracketed = r"<[^>]*(?:>|\Z)|" if angles else ""  # an unclosed < runs to the end
    other = '[^"<' + sep + "]" if angles else '[^"' + sep + "]"
    piece = rf"(?:{quoted}|{bracketed}{other})*"
    return re.compile(rf"{piece}(?:{sep}{piece})*", re.DOTALL), re.compile(
        rf"({piece})(?:{sep}|\Z)", re.DOTALL
    )


_SPLITTERS = {(sep, angles): _splitter(sep, angles) for sep in ",;" for angles in (True, False)}


def split_outside(text: str, sep: str, angles: bool = True) -> list[str]:
    """Split on `sep` (`,` or `;`) except inside quoted strings and, with `angles`, `<...>`;
    the result may hold extra empty pieces, which callers skip. Two regex passes, so even
    hostile input is split at C speed."""
    whole, piece = _SPLITTERS[(sep, angles)]
    if not whole.fullmatch(text):
        raise SipParseError("unterminated quoted string")
    return piece.findall(text)


def split_values(value: str, angles: bool = True) -> list[str]:
    """The comma-separated values of a list header (Contact, ...; Via with `angles=False`,
    as `<` has no meaning there), empty ones dropped."""
    if "," not in value:
        return [value]
    if value.count(",") >= MAX_VALUES:
        raise SipParseError("too many values")
    simple = not angles and '"' not in value
    pieces = value.split(",") if simple else split_outside(value, ",", angles)
    return list(filter(None, map(str.strip, pieces)))


def parse_params(text: str) -> Params:
    """`a=1;b;c="x;y"` -> {"a": "1", "b": None, "c": '"x;y"'}: names lower-cased, values as
    written (quotes kept, so the parameter can be written back unchanged)."""
    params: Params = {}
    if not text:
        return params
    if text.count(";") >= MAX_PARAMS:
        raise SipParseError("too many parameters")
    parts = split_outside(text, ";") if '"' in text else text.split(";")
    for part in parts:
        eq = part.find("=")
        if eq < 0:
            name = part.strip()
            if name:
                params[name.lower()] = None
            continue
        name = part[:eq].strip()
        if not name:
            raise SipParseError("malformed parameter")
        params[name.lower()] = part[eq + 1 :].strip()
    return params


def format_params(params: Params) -> str:
    return "".join([f";{k}" if v is None else f";{k}={v}" for k, v in params.items()])


def parse_port(text: str) -> int:
    if not (0 < len(text) <= 5 and text.isascii() and text.isdigit()):
        raise SipParseError("malformed port")
    port = int(text)
    if port > 65535:
        raise SipParseError("malformed port")
    return port


_HOST = re.compile(r"[A-Za-z0-9._-]+")


def split_hostport(text: str) -> tuple[str, int | None]:
    """`Host:5060` -> ("host", 5060); `[::1]:5060` -> ("[::1]", 5060); hosts lower-cased."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SipParseError("malformed IPv6 reference")
        host, rest = text[: end + 1], text[end + 1 :]
        if not rest:
            return host.lower(), None
        if rest[0] != ":":
            raise SipParseError("malformed host")
        return host.lower(), parse_port(rest[1:])
    colon = text.find(":")
    host = text if colon < 0 else text[:colon]
    if not _HOST.fullmatch(host):
        raise SipParseError("malformed host")
    return host.lower(), None if colon < 0 else parse_port(text[colon + 1 :])


def bare_host(host: str) -> str:
    """`[::1]` -> `::1`: the address as it appears in a `received` parameter."""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


@dataclass(slots=True)
class SipUri:
    """A `sip:`/`sips:` URI (RFC 3261 §19.1). `user` keeps its escapes, `host` is lower-case."""

    scheme: str
    user: str
    host: str
    port: int | None
    params: Params
    headers: str = ""

    def key(self) -> str:
        """A comparison key approximating RFC 3261 §19.1.4: scheme, user, host and port, plus
        the parameters that make URIs differ whenever either side has them."""
        base = f"{self.scheme}:{self.user}@{self.host}:{self.port or ''}"
        extra = [
            f";{k}={(v or '').lower()}"
            for k, v in sorted(self.params.items())
            if k in ("transport", "user", "ttl", "method", "maddr")
        ]
        return base + "".join(extra) if extra else base


_URI_CHARS = re.compile(r"[A-Za-z0-9\-_.!~*'()%;/?:@&=+$,\[\]]+")


def parse_uri(text: str) -> SipUri:
    """A sip/sips URI made only of the characters RFC 3261 §25.1 allows unescaped."""
    if not _URI_CHARS.fullmatch(text):
        raise SipParseError("malformed URI")
    colon = text.find(":")
    scheme = text[:colon].lower() if colon > 0 else ""
    if scheme not in ("sip", "sips"):
        raise SipParseError("unsupported URI scheme")
    rest = text[colon + 1 :]
    qmark = rest.find("?")
    headers = ""
    if qmark >= 0:
        rest, headers = rest[:qmark], rest[qmark + 1 :]
    at = rest.find("@")
    user = ""
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        pw = userinfo.find(":")
        user = userinfo if pw < 0 else userinfo[:pw]
        if not user:
            raise SipParseError("malformed URI user")
    semi = rest.find(";")
    hostport = rest if semi < 0 else rest[:semi]
    host, port = split_hostport(hostport)
    params = parse_params(rest[semi + 1 :]) if semi >= 0 else {}
    return SipUri(scheme, user, host, port, params, headers)


def uri_key(text: str) -> str:
    """The binding-comparison key of a Contact URI (the URI itself if it cannot be parsed)."""
    try:
        return parse_uri(text).key()
    except SipParseError:
        return text


def unescape_user(user: str) -> str:
    """`%61lice` -> `alice` (RFC 3261 §10.3 step 5: AORs compare unescaped)."""
    if "%" not in user:
        return user
    out = bytearray()
    raw = user.encode("utf-8", "surrogateescape")
    i, n = 0, len(raw)
    hexdigits = b"0123456789abcdefABCDEF"
    while i < n:
        if raw[i] == 0x25 and i + 2 < n and raw[i + 1] in hexdigits and raw[i + 2] in hexdigits:
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", "surrogateescape")


@dataclass(slots=True)
class NameAddr:
    """A From/To/Contact value: display name, URI (without `<>`) and header parameters.
    A Contact `*` is `NameAddr("", "*", {})`."""

    display: str
    uri: str
    params: Params

    @property
    def is_wildcard(self) -> bool:
        return self.uri == "*"

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def __str__(self) -> str:
        if self.is_wildcard:
            return "*"
        name = quote(self.display) + " " if self.display else ""
        return f"{name}<{self.uri}>{format_params(self.params)}"


def parse_name_addr(value: str) -> NameAddr:
    text = value.strip()
    if text == "*":
        return NameAddr("", "*", {})
    display = ""
    search_from = 0
    if text.startswith('"'):
        end = closing_quote(text, 1)
        if end < 0:
            raise SipParseError("unterminated quoted string")
        display = unescape(text[1:end])
        search_from = end + 1
    lt = text.find("<", search_from)
    if lt >= 0:
        if not display:
            display = text[search_from:lt].strip()
        elif text[search_from:lt].strip():
            raise SipParseError("malformed name-addr")
        gt = text.find(">", lt)
        if gt < 0:
            raise SipParseError("unterminated <")
        uri = text[lt + 1 : gt].strip()
        rest = text[gt + 1 :].lstrip()
        if rest and rest[0] != ";":
            raise SipParseError("malformed name-addr")
        params = parse_params(rest[1:]) if rest else {}
    else:
        if search_from:
            raise SipParseError("malformed name-addr")
        # addr-spec: every ;parameter belongs to the header, not the URI (RFC 3261 §20)
        semi = text.find(";")
        uri = text if semi < 0 else text[:semi].strip()
        params = parse_params(text[semi + 1 :]) if semi >= 0 else {}
    if not uri or ":" not in uri or " " in uri:
        raise SipParseError("malformed URI")
    return NameAddr(display, uri, params)


@dataclass(slots=True)
class Via:
    """One Via value (RFC 3261 §20.42): transport, sent-by host/port and parameters."""

    transport: str
    host: str
    port: int | None
    params: Params
    protocol: str = "SIP/2.0"

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def has_rport(self) -> bool:
        return "rport" in self.params

    @property
    def rport(self) -> int | None:
        value = self.params.get("rport")
        return int(value) if value and value.isascii() and value.isdigit() else None

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.protocol}/{self.transport} {self.sent_by}{format_params(self.params)}"


_TOKEN_CHARS = r"[A-Za-z0-9.!%*_+`'~-]+"
_VIA = re.compile(
    rf"""\s*({_TOKEN_CHARS})\s*/\s*({_TOKEN_CHARS})\s*/\s*({_TOKEN_CHARS})
    \s+({_TOKEN_CHARS}|\[[0-9A-Fa-f:.]+\])(?:\s*:\s*([0-9]{{1,5}}))?
    ((?:\s*;\s*{_TOKEN_CHARS}(?:\s*=\s*(?:[A-Za-z0-9.!%*_+`'~:\[\]-]+|"[^"\\]*(?:\\.[^"\\]*)*"))?)*)
    \s*""",
    re.VERBOSE,
)


def parse_via(value: str) -> Via:
    """One Via value; strict enough that `str(via)` always parses back to the same Via."""
    match = _VIA.fullmatch(value)
    if match is None:
        raise SipParseError("malformed Via")
    name, version, transport, host, port, params = match.groups()
    return Via(
        transport.upper(),
        host.lower(),
        None if port is None else parse_port(port),
        parse_params(params[params.find(";") + 1 :]) if params else {},
        f"{name.upper()}/{version}",
    )


def parse_cseq(value: str) -> tuple[int, str]:
    """`1 REGISTER` -> (1, "REGISTER")."""
    parts = value.split()
    if len(parts) != 2:
        raise SipParseError("malformed CSeq")
    number = parts[0]
    if not (len(number) <= 10 and number.isascii() and number.isdigit()):
        raise SipParseError("CSeq number is illegal")
    seq = int(number)
    if seq > MAX_CSEQ:
        raise SipParseError("CSeq number is illegal")
    return seq, parts[1]


def parse_expires(value: str) -> int | None:
    """Delta-seconds (clamped to 2**32-1), or None when malformed (RFC 3261 §20.19 says to
    treat a malformed value as 3600; the caller decides)."""
    text = value.strip()
    if not (text and text.isascii() and text.isdigit()):
        return None
    if len(text) > 10:  # also keeps int() away from its 4300-digit limit
        return MAX_EXPIRES
    return min(int(text), MAX_EXPIRES)
