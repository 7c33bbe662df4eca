"""What the registrar tells the rest of the simulator (binding events), and its knobs."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kazoodesk.simulator.registrar.auth import AuthSettings
from kazoodesk.simulator.registrar.bindings import Binding
from kazoodesk.simulator.registrar.credentials import DeviceCredentials
from kazoodesk.simulator.registrar.message import DEFAULT_LIMITS, Limits
from kazoodesk.simulator.registrar.ratelimit import RateLimitPolicy
from kazoodesk.simulator.registrar.transactions import ClientTimers

Addr = tuple[str, int]


class EventKind(enum.Enum):
    REGISTERED = "registered"
    REFRESHED = "refreshed"
    UNREGISTERED = "unregistered"
    EXPIRED = "expired"
    AUTH_FAILED = "auth_failed"


@dataclass(frozen=True, slots=True)
class RegistrarEvent:
    """A binding change or a failed authentication. `binding` is the live record (read it
    in the callback; a refresh updates it in place). `reason`: why a REGISTER failed, or
    "flushed" for a removal through the API."""

    kind: EventKind
    realm: str
    username: str
    source: Addr
    transport: str
    at: float
    binding: Binding | None = None
    device: DeviceCredentials | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RegistrarSettings:
    """`unknown_realm_status`: 404 (RFC 3261 §10.3 step 5) or 403. `timer_j_s` and
    `client_timers` are RFC 3261's (32 s, T1 0.5 s, T2 4 s, F 32 s); tests shorten them."""

    auth: AuthSettings = field(default_factory=AuthSettings)
    rate_limit: RateLimitPolicy = field(default_factory=RateLimitPolicy)
    unknown_realm_status: int = 404
    sweep_interval_s: float = 1.0
    timer_j_s: float = 32.0
    # Timer J's cache holds a few seconds of answers at thousands of REGISTERs/s, which covers
    # the retransmissions that follow a stall (an authenticated REGISTER evicted early is still
    # answered 200 again, as Kamailio's R_RETRANS; a challenge would get a new nonce, which
    # sipp counts as a failed call).
    max_transactions: int = 40_000
    max_transaction_bytes: int = 24 * 1024 * 1024
    client_timers: ClientTimers = field(default_factory=ClientTimers)
    limits: Limits = DEFAULT_LIMITS
