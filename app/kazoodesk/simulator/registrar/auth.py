"""Who is registering: digest authentication of a REGISTER as Kazoo does it
(sip-registrar.md §1.5, §2), or recognition of an IP-authenticated device (§4).

Pure decision logic, no sockets: `Authenticator.check` says which device the request
authenticates as, or which response to give instead (challenge, stale challenge, 403, 400,
or silence while a guesser is rate limited).
"""

from __future__ import annotations

from dataclasses import dataclass

from kazoodesk.simulator.registrar.credentials import (
    CredentialsLookup,
    DeviceCredentials,
    IpLookup,
)
from kazoodesk.simulator.registrar.digest import (
    DigestCredentials,
    build_challenge,
    parse_auth,
    parse_credentials,
    verify_response,
)
from kazoodesk.simulator.registrar.headers import SipParseError
from kazoodesk.simulator.registrar.message import SipMessage
from kazoodesk.simulator.registrar.nonces import NonceSigner, NonceState
from kazoodesk.simulator.registrar.ratelimit import FailureLimiter
from kazoodesk.simulator.registrar.register import RegisterRequest


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """`wrong_password_status`: 401 re-challenges as Kazoo does, 403 is the RFC's other
    choice. `challenge_qop`: "auth" as RFC 3261 §22.4 wants, None as Kazoo's first
    challenge (responses with and without qop are accepted either way)."""

    wrong_password_status: int = 401
    challenge_qop: str | None = "auth"


@dataclass(frozen=True, slots=True)
class AuthDecision:
    """`device` on success; otherwise the response (`status` 0 = send nothing), with
    `challenge` for a 401 and `failure` set when this was a failed authentication."""

    device: DeviceCredentials | None = None
    status: int = 0
    reason: str | None = None
    challenge: str | None = None
    failure: str | None = None
    failed_device: DeviceCredentials | None = None


class Authenticator:
    def __init__(
        self,
        nonces: NonceSigner,
        lookup: CredentialsLookup,
        lookup_ip: IpLookup,
        limiter: FailureLimiter,
        settings: AuthSettings | None = None,
    ) -> None:
        self._nonces = nonces
        self._lookup = lookup
        self._lookup_ip = lookup_ip
        self.limiter = limiter
        self.settings = settings or AuthSettings()

    def ip_device(self, ip: str, req: RegisterRequest) -> AuthDecision | None:
        """The decision for a request from an IP-authenticated device's address in its
        realm (accepted without digest; 403 when disabled), or None: authenticate normally."""
        device = self._lookup_ip(ip)
        if device is None or device.method != "ip" or device.realm != req.realm:
            return None
        if device.username and device.username.lower() != req.username:
            return None
        if not device.enabled:
            return AuthDecision(status=403, reason="Device disabled", failure="device disabled",
                                failed_device=device)  # fmt: skip
        return AuthDecision(device=device)

    def challenge(self, realm: str, *, stale: bool = False, qop: str | None = None) -> AuthDecision:
        nonce = self._nonces.issue(realm)
        offered = qop or self.settings.challenge_qop
        value = build_challenge(realm, nonce, qop=offered, stale=stale)
        return AuthDecision(status=401, challenge=value)

    def check(self, msg: SipMessage, req: RegisterRequest, ip: str, now: float) -> AuthDecision:
        """Digest check, in Kazoo's order: credentials present and for this realm, the
        right user, not rate limited, nonce genuine, device usable, response right, nonce
        fresh."""
        header = _credentials_for(msg, req.realm)
        if header is None:
            return self.challenge(req.realm)
        try:
            creds = parse_credentials(header)
        except SipParseError as exc:
            return AuthDecision(status=400, reason=exc.reason)
        if creds.realm.lower() != req.realm:
            return self.challenge(req.realm)
        username = creds.username.lower()
        if username != req.username:  # RFC 3261 §10.3 step 4: no third-party registration
            return AuthDecision(status=403, reason="Authentication user does not match AOR")
        if self.limiter.blocked(ip, username, now):
            drop = self.limiter.policy.action == "drop"
            return AuthDecision(status=0 if drop else 403, reason="Too many failed attempts")
        state = self._nonces.check(creds.nonce, req.realm)
        if state is NonceState.INVALID:  # not ours, or from before a restart: no guess made
            return self.challenge(req.realm)
        return self._verify(creds, req, ip, now, state)

    def _verify(
        self,
        creds: DigestCredentials,
        req: RegisterRequest,
        ip: str,
        now: float,
        state: NonceState,
    ) -> AuthDecision:
        device = self._lookup(req.realm, req.username)
        refusal = _refusal(device)
        if refusal is not None:
            return self._failed(ip, req, now, refusal, device)
        assert device is not None
        if not verify_response(creds, "REGISTER", password=device.password):
            if self.settings.wrong_password_status == 401:  # Kazoo: re-challenge, with qop
                fresh = self.challenge(req.realm, qop="auth")
                self.limiter.failed(ip, req.username, now)
                return AuthDecision(status=401, challenge=fresh.challenge,
                                    failure="wrong password", failed_device=device)  # fmt: skip
            return self._failed(ip, req, now, "wrong password", device)
        if state is NonceState.STALE:  # right password, old nonce (RFC 2617 §3.2.1)
            return self.challenge(req.realm, stale=True)
        return AuthDecision(device=device)

    def _failed(
        self,
        ip: str,
        req: RegisterRequest,
        now: float,
        why: str,
        device: DeviceCredentials | None,
    ) -> AuthDecision:
        self.limiter.failed(ip, req.username, now)
        return AuthDecision(status=403, reason="Forbidden", failure=why, failed_device=device)


def _refusal(device: DeviceCredentials | None) -> str | None:
    """Why these credentials can never register (Kazoo's `authn_err`), or None."""
    if device is None:
        return "unknown device"
    if not device.enabled:
        return "device disabled"
    if device.method != "password" or not device.password:
        return "device has no SIP password"
    return None


def _credentials_for(msg: SipMessage, realm: str) -> str | None:
    """The Authorization line for `realm` (a phone may carry several), else the first."""
    lines = msg.headers.get("authorization")
    if not lines:
        return None
    if len(lines) == 1:
        return lines[0]
    for line in lines:
        try:
            _, params = parse_auth(line)
        except SipParseError:
            continue
        if params.get("realm", "").lower() == realm:
            return line
    return lines[0]
