"""Signed, expiring auth tokens (JWT, HS256), as Crossbar's `kz_auth_jwt` hands out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

TOKEN_LIFETIME_S = 3600


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(
        self,
        secret: bytes,
        lifetime_s: int = TOKEN_LIFETIME_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self.lifetime_s = lifetime_s
        self._clock = clock

    def _sign(self, signing_input: str) -> str:
        return _b64(hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest())

    def issue(self, claims: dict[str, Any]) -> str:
        now = int(self._clock())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps({**claims, "iat": now, "exp": now + self.lifetime_s}).encode())
        signing_input = f"{header}.{payload}"
        return f"{signing_input}.{self._sign(signing_input)}"

    def verify(self, token: str) -> dict[str, Any] | None:
        """The token's claims, or None when it is malformed, tampered with or expired."""
        parts = token.split(".") if token.isascii() else []
        if len(parts) != 3:
            return None
        signing_input = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._sign(signing_input), parts[2]):
            return None
        try:
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return None
        if not isinstance(claims, dict) or not self._is_live(claims.get("exp")):
            return None
        return claims

    def _is_live(self, exp: Any) -> bool:
        return isinstance(exp, int | float) and not isinstance(exp, bool) and exp > self._clock()
