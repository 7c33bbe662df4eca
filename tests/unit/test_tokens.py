"""The simulator's auth tokens: signed, expiring JWTs (HS256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from helpers import jwt_claims
from kazoodesk.simulator.tokens import TOKEN_LIFETIME_S, TokenSigner

SECRET = b"k" * 32
CLAIMS = {"account_id": "a" * 32, "owner_id": "b" * 32}


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HEADER = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())


def forge(payload: bytes, secret: bytes = SECRET) -> str:
    """A token over any payload bytes, correctly signed with `secret`."""
    signing_input = f"{HEADER}.{b64(payload)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def signer(clock: Clock) -> TokenSigner:
    return TokenSigner(SECRET, clock=clock)


def test_round_trip_keeps_claims_and_adds_iat_exp(signer: TokenSigner, clock: Clock) -> None:
    token = signer.issue(CLAIMS)
    claims = signer.verify(token)
    assert claims is not None
    assert claims["account_id"] == CLAIMS["account_id"]
    assert claims["owner_id"] == CLAIMS["owner_id"]
    assert claims["iat"] == int(clock.now)
    assert claims["exp"] - claims["iat"] == TOKEN_LIFETIME_S == 3600


def test_token_is_a_three_part_hs256_jwt(signer: TokenSigner) -> None:
    header, _payload, _signature = signer.issue(CLAIMS).split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}


def test_claims_are_not_shared_between_tokens(signer: TokenSigner) -> None:
    first = signer.issue({"account_id": "1" * 32})
    second = signer.issue({"account_id": "2" * 32})
    assert first != second
    assert signer.verify(first)["account_id"] == "1" * 32  # type: ignore[index]


def test_tampered_payload_is_refused(signer: TokenSigner) -> None:
    header, _payload, signature = signer.issue(CLAIMS).split(".")
    claims = {**jwt_claims(signer.issue(CLAIMS)), "account_id": "c" * 32}
    forged = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    assert signer.verify(forged) is None


def test_tampered_signature_is_refused(signer: TokenSigner) -> None:
    token = signer.issue(CLAIMS)
    last = token[-1]
    flipped = token[:-1] + ("A" if last != "A" else "B")
    assert signer.verify(flipped) is None
    assert signer.verify(token.rsplit(".", 1)[0] + ".") is None


def test_token_of_another_secret_is_refused(signer: TokenSigner, clock: Clock) -> None:
    other = TokenSigner(b"x" * 32, clock=clock)
    assert signer.verify(other.issue(CLAIMS)) is None


def test_expired_token_is_refused(signer: TokenSigner, clock: Clock) -> None:
    token = signer.issue(CLAIMS)
    clock.now += TOKEN_LIFETIME_S - 1
    assert signer.verify(token) is not None
    clock.now += 1  # exactly at `exp`
    assert signer.verify(token) is None


def test_short_lifetime(clock: Clock) -> None:
    signer = TokenSigner(SECRET, lifetime_s=5, clock=clock)
    token = signer.issue(CLAIMS)
    assert jwt_claims(token)["exp"] - jwt_claims(token)["iat"] == 5
    clock.now += 5
    assert signer.verify(token) is None


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c.d", "...", "é.é.é", "\udcff.a.b", "Bearer x.y.z"],
)
def test_malformed_tokens_are_refused(signer: TokenSigner, token: str) -> None:
    assert signer.verify(token) is None


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'"text"',
        b"{}",  # no exp
        b'{"account_id": "x", "exp": "9999999999"}',
        b'{"account_id": "x", "exp": null}',
        b'{"account_id": "x", "exp": true}',
    ],
)
def test_signed_but_malformed_payload_is_refused(signer: TokenSigner, payload: bytes) -> None:
    assert signer.verify(forge(payload)) is None


def test_correctly_signed_payload_is_accepted(signer: TokenSigner, clock: Clock) -> None:
    """`forge` itself is right: the same payload with a valid exp passes."""
    payload = json.dumps({"account_id": "x", "exp": clock.now + 10}).encode()
    assert signer.verify(forge(payload)) == {"account_id": "x", "exp": clock.now + 10}
