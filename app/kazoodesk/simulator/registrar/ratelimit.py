"""Slowing down password guessing (sip-registrar.md §6): token buckets of failed
authentications per (source IP, username) and per source IP.

Only failures take tokens: a phone that is challenged once and then succeeds never creates
a bucket, so well-behaved phones are never slowed. A guesser that empties a bucket has its
credentials refused unchecked (403 or silence) until a token comes back, so it learns nothing
and guesses at the refill rate. The per-IP bucket catches one source trying many usernames.
Buckets are kept in LRU order up to `max_tracked`; a dropped bucket would have been full
again anyway unless someone floods with more keys than that.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """`*_burst` failures are allowed at once, then one more per `*_refill_s` seconds.
    `action`: "reject" answers 403 while blocked, "drop" stays silent."""

    per_user_burst: int = 5
    per_user_refill_s: float = 10.0
    per_ip_burst: int = 30
    per_ip_refill_s: float = 2.0
    max_tracked: int = 10_000
    action: Literal["reject", "drop"] = "reject"
    enabled: bool = True


class _Buckets:
    """Token buckets by key, LRU-bounded; a missing key is a full bucket."""

    def __init__(self, burst: int, refill_s: float, max_tracked: int) -> None:
        self.burst = float(burst)
        self.rate = 1.0 / refill_s if refill_s > 0 else float("inf")
        self.max_tracked = max_tracked
        self._state: OrderedDict[object, tuple[float, float]] = OrderedDict()

    def tokens(self, key: object, now: float) -> float:
        state = self._state.get(key)
        if state is None:
            return self.burst
        tokens, at = state
        return min(self.burst, tokens + (now - at) * self.rate)

    def take(self, key: object, now: float) -> None:
        self._state[key] = (max(0.0, self.tokens(key, now) - 1.0), now)
        self._state.move_to_end(key)
        while len(self._state) > self.max_tracked:
            self._state.popitem(last=False)

    def __len__(self) -> int:
        return len(self._state)


class FailureLimiter:
    def __init__(self, policy: RateLimitPolicy | None = None) -> None:
        self.policy = policy or RateLimitPolicy()
        p = self.policy
        self._users = _Buckets(p.per_user_burst, p.per_user_refill_s, p.max_tracked)
        self._ips = _Buckets(p.per_ip_burst, p.per_ip_refill_s, p.max_tracked)

    def blocked(self, ip: str, username: str, now: float) -> bool:
        """Whether credentials from `ip` for `username` are refused unchecked."""
        if not self.policy.enabled:
            return False
        return self._users.tokens((ip, username), now) < 1.0 or self._ips.tokens(ip, now) < 1.0

    def failed(self, ip: str, username: str, now: float) -> None:
        if self.policy.enabled:
            self._users.take((ip, username), now)
            self._ips.take(ip, now)

    def tracked(self) -> int:
        """How many buckets are kept (bounded by 2 x `max_tracked`)."""
        return len(self._users) + len(self._ips)
