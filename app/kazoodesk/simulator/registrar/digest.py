"""HTTP Digest for SIP (RFC 2617 §3.2, RFC 7616, RFC 8760; RFC 3261 §22.4).

Server side: `parse_credentials` + `verify_response` (with and without `qop`, hashing the
`uri` parameter the client sent, constant-time compare) and `build_challenge`.
Client side (NOTIFY answered with 401, demo phones): `parse_challenge` + `build_authorization`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from kazoodesk.simulator.registrar.headers import SipParseError, quote, unescape

_HASHES: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "MD5": hashlib.md5,
    "MD5-SESS": hashlib.md5,
    "SHA-256": hashlib.sha256,
    "SHA-256-SESS": hashlib.sha256,
}


def _hex(algorithm: str, text: str) -> str:
    return _HASHES[algorithm](text.encode("utf-8", "surrogateescape")).hexdigest()


_AUTH_PARAM = re.compile(r'([^\s=,]+)[ \t]*=[ \t]*("[^"\\]*(?:\\.[^"\\]*)*"|[^\s,"]*)')


def parse_auth(value: str) -> tuple[str, dict[str, str]]:
    """`Digest username="a", nc=00000001` -> ("digest", {"username": "a", "nc": "00000001"}):
    scheme lower-cased, parameter names lower-cased, quoted values unescaped. Text between
    parameters that is not one is skipped; a missing directive shows up to the caller."""
    text = value.strip()
    parts = text.split(None, 1)
    if len(parts) != 2 or "=" in parts[0]:
        raise SipParseError("malformed credentials")
    params: dict[str, str] = {}
    for name, raw in _AUTH_PARAM.findall(parts[1]):
        if raw[:1] == '"':
            raw = unescape(raw[1:-1])
        params[name.lower()] = raw
    return parts[0].lower(), params


@dataclass(slots=True)
class DigestCredentials:
    """The directives of an Authorization / Proxy-Authorization header (values unquoted)."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None
    opaque: str | None = None


def parse_credentials(value: str) -> DigestCredentials:
    """Raises `SipParseError` (answer 400, RFC 2617 §3.2.2) for another scheme, a missing
    directive, `qop` without `nc`/`cnonce`, or an algorithm we do not know."""
    scheme, p = parse_auth(value)
    if scheme != "digest":
        raise SipParseError("unsupported authorization scheme")
    try:
        username, realm, nonce, uri, response = (
            p["username"],
            p["realm"],
            p["nonce"],
            p["uri"],
            p["response"],
        )
    except KeyError:
        raise SipParseError("missing digest directive") from None
    algorithm = p.get("algorithm", "MD5").upper() or "MD5"
    if algorithm not in _HASHES:
        raise SipParseError("unsupported digest algorithm")
    qop = p.get("qop") or None
    if qop is not None:
        qop = qop.lower()
        if qop not in ("auth", "auth-int") or not p.get("nc") or not p.get("cnonce"):
            raise SipParseError("malformed digest qop")
    return DigestCredentials(
        username, realm, nonce, uri, response, algorithm, qop, p.get("nc"), p.get("cnonce"),
        p.get("opaque"),
    )  # fmt: skip


def compute_ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    """H(username:realm:password): what a store may keep instead of the password."""
    return _hex(algorithm.upper(), f"{username}:{realm}:{password}")


def compute_response(
    *,
    ha1: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
    algorithm: str = "MD5",
    body: bytes = b"",
) -> str:
    """request-digest of RFC 2617 §3.2.2.1; without qop the RFC 2069 form."""
    algorithm = algorithm.upper()
    if algorithm.endswith("-SESS"):
        ha1 = _hex(algorithm, f"{ha1}:{nonce}:{cnonce or ''}")
    if qop == "auth-int":
        body_hash = _HASHES[algorithm](body).hexdigest()
        ha2 = _hex(algorithm, f"{method}:{uri}:{body_hash}")
    else:
        ha2 = _hex(algorithm, f"{method}:{uri}")
    if qop:
        return _hex(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _hex(algorithm, f"{ha1}:{nonce}:{ha2}")


def verify_response(
    creds: DigestCredentials,
    method: str,
    *,
    password: str | None = None,
    ha1: str | None = None,
    body: bytes = b"",
) -> bool:
    """Whether `creds.response` is right for this password (or precomputed HA1 over
    `creds.username`/`creds.realm`). The caller checks realm, username and nonce."""
    if ha1 is None:
        if password is None:
            raise ValueError("a password or an HA1 is needed")
        ha1 = compute_ha1(creds.username, creds.realm, password, creds.algorithm)
    expected = compute_response(
        ha1=ha1,
        nonce=creds.nonce,
        method=method,
        uri=creds.uri,
        qop=creds.qop,
        nc=creds.nc,
        cnonce=creds.cnonce,
        algorithm=creds.algorithm,
        body=body,
    )
    given = creds.response.lower()
    return given.isascii() and hmac.compare_digest(expected, given)


def build_challenge(
    realm: str,
    nonce: str,
    *,
    qop: str | None = "auth",
    stale: bool = False,
    opaque: str | None = None,
    algorithm: str | None = "MD5",
) -> str:
    """A WWW-Authenticate / Proxy-Authenticate value. RFC 3261 §22.4 wants `qop` always;
    Kazoo's first challenge has none (`qop=None`), nor `algorithm` (MD5 implied)."""
    parts = [f"Digest realm={quote(realm)}", f"nonce={quote(nonce)}"]
    if opaque is not None:
        parts.append(f"opaque={quote(opaque)}")
    if qop:
        parts.append(f"qop={quote(qop)}")
    if algorithm:
        parts.append(f"algorithm={algorithm}")
    if stale:
        parts.append("stale=true")
    return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    realm: str
    nonce: str
    qop: tuple[str, ...] = ()
    algorithm: str = "MD5"
    opaque: str | None = None
    stale: bool = False


def parse_challenge(value: str) -> DigestChallenge:
    scheme, p = parse_auth(value)
    if scheme != "digest" or "realm" not in p or "nonce" not in p:
        raise SipParseError("malformed digest challenge")
    qop = tuple(q.strip().lower() for q in p.get("qop", "").split(",") if q.strip())
    algorithm = p.get("algorithm", "MD5").upper() or "MD5"
    if algorithm not in _HASHES:
        raise SipParseError("unsupported digest algorithm")
    stale = p.get("stale", "").lower() == "true"
    return DigestChallenge(p["realm"], p["nonce"], qop, algorithm, p.get("opaque"), stale)


def build_authorization(
    challenge: DigestChallenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    nc: int = 1,
    cnonce: str | None = None,
) -> str:
    """An Authorization value answering `challenge` (qop=auth when offered, else RFC 2069)."""
    qop = "auth" if "auth" in challenge.qop else None
    nc_text = f"{nc:08x}" if qop else None
    cnonce = (cnonce or os.urandom(8).hex()) if qop else None
    ha1 = compute_ha1(username, challenge.realm, password, challenge.algorithm)
    response = compute_response(
        ha1=ha1,
        nonce=challenge.nonce,
        method=method,
        uri=uri,
        qop=qop,
        nc=nc_text,
        cnonce=cnonce,
        algorithm=challenge.algorithm,
    )
    parts = [
        f"Digest username={quote(username)}",
        f"realm={quote(challenge.realm)}",
        f"nonce={quote(challenge.nonce)}",
        f"uri={quote(uri)}",
        f"response={quote(response)}",
        f"algorithm={challenge.algorithm}",
    ]
    if qop:
        parts += [f"qop={qop}", f"nc={nc_text}", f"cnonce={quote(cnonce or '')}"]
    if challenge.opaque is not None:
        parts.append(f"opaque={quote(challenge.opaque)}")
    return ", ".join(parts)
