"""Stateless signed nonces (kazoodesk/simulator/registrar/nonces.py)."""

from __future__ import annotations

import base64

import pytest
from sip_samples import REALM, SECRET

from kazoodesk.simulator.registrar.nonces import NonceSigner, NonceState


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_fresh_nonce_is_valid_for_its_realm_only() -> None:
    signer = NonceSigner(SECRET, lifetime_s=300, clock=Clock())

    nonce = signer.issue(REALM)

    assert signer.check(nonce, REALM) is NonceState.VALID
    assert signer.check(nonce, "other.realm") is NonceState.INVALID


def test_a_nonce_goes_stale_after_its_lifetime() -> None:
    clock = Clock()
    signer = NonceSigner(SECRET, lifetime_s=300, clock=clock)
    nonce = signer.issue(REALM)

    clock.now += 300
    assert signer.check(nonce, REALM) is NonceState.VALID
    clock.now += 1
    assert signer.check(nonce, REALM) is NonceState.STALE


def test_nonces_of_the_same_second_differ() -> None:
    signer = NonceSigner(SECRET, clock=Clock())

    nonces = {signer.issue(REALM) for _ in range(1000)}

    assert len(nonces) == 1000
    assert all(len(n) == 32 and '"' not in n and "\\" not in n for n in nonces)


def test_another_server_secret_or_a_flipped_bit_makes_it_invalid() -> None:
    clock = Clock()
    nonce = NonceSigner(SECRET, clock=clock).issue(REALM)
    raw = bytearray(base64.b64decode(nonce))
    raw[0] ^= 1  # move the issue time: the signature no longer matches
    forged = base64.b64encode(bytes(raw)).decode()

    assert NonceSigner(b"another-secret-0123456789", clock=clock).check(nonce, REALM) is (
        NonceState.INVALID
    )
    assert NonceSigner(SECRET, clock=clock).check(forged, REALM) is NonceState.INVALID


@pytest.mark.parametrize(
    "nonce",
    ["", "short", "x" * 32, "é" * 32, "awfP0WsHz7Mzwv5ECc7RYU/NIsfaNwCi", "=" * 32, "A" * 33],
)
def test_garbage_is_invalid_not_an_error(nonce: str) -> None:
    assert NonceSigner(SECRET).check(nonce, REALM) is NonceState.INVALID


def test_a_nonce_from_the_future_is_invalid() -> None:
    clock = Clock()
    nonce = NonceSigner(SECRET, clock=clock).issue(REALM)

    clock.now -= 3600

    assert NonceSigner(SECRET, clock=clock).check(nonce, REALM) is NonceState.INVALID


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        NonceSigner(b"short")
