"""The location table: who is registered where (RFC 3261 §10.3 steps 5-8).

Kazoo runs Kamailio's `save("location", "0x04")`: one contact per AOR, so a REGISTER
with a new contact replaces the old one whatever its Call-ID (`single_binding`, the
default); the first contact of the request with a non-zero expiry wins and later ones are
ignored, as Kamailio's `update_contacts` does. With `single_binding=False` each AOR keeps up
to `max_contacts` bindings (more: 503). Either way a request is applied atomically: every
check runs before anything changes.

Expiry uses a wheel of one-second buckets, so `sweep` costs O(expired + seconds elapsed)
and a refresh moves one binding between two sets.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from kazoodesk.simulator.registrar.credentials import DeviceCredentials
from kazoodesk.simulator.registrar.headers import NameAddr, unquote, uri_key
from kazoodesk.simulator.registrar.register import (
    RegisterRequest,
    RegisterResult,
    RegistrarPolicy,
    grant_expiries,
)


@dataclass(slots=True, eq=False)
class Binding:
    """One registered contact. Times are the table's clock (seconds). `device`: who
    registered it (the credentials it authenticated with), shared with the directory's
    cache rather than copied, so 100,000 bindings stay small."""

    realm: str
    username: str
    contact: str
    source_ip: str
    source_port: int
    transport: str
    user_agent: str
    call_id: str
    cseq: int
    expires_at: float
    first_registered: float
    last_registered: float
    instance: str | None = None  # +sip.instance as written (quoted)
    reg_id: str | None = None
    q: str | None = None
    device: DeviceCredentials | None = None
    bucket: int = field(default=0, repr=False)

    @property
    def device_id(self) -> str | None:
        return self.device.device_id if self.device is not None else None

    @property
    def aor(self) -> str:
        return f"{self.username}@{self.realm}"

    def remaining(self, now: float) -> int:
        """Seconds left, as the 200 OK's `expires` parameter shows them."""
        return max(0, int(self.expires_at - now + 0.5))

    def contact_value(self, now: float) -> str:
        text = f"<{self.contact}>;expires={self.remaining(now)}"
        if self.instance is not None:
            text += f";+sip.instance={self.instance}"
            if self.reg_id is not None:
                text += f";reg-id={self.reg_id}"
        return text


def contact_header(bindings: tuple[Binding, ...] | list[Binding], now: float) -> str | None:
    """The 200 OK's Contact value listing every binding (RFC 3261 §10.3 step 8), or None."""
    if not bindings:
        return None
    return ", ".join(b.contact_value(now) for b in bindings)


class ChangeKind(enum.Enum):
    REGISTERED = "registered"
    REFRESHED = "refreshed"
    UNREGISTERED = "unregistered"
    EXPIRED = "expired"


class BindingChange(NamedTuple):
    kind: ChangeKind
    binding: Binding


def _instance_id(raw: str) -> str:
    return unquote(raw).strip("<>")


def _find(bindings: list[Binding], contact: NameAddr) -> int:
    """Index of the binding `contact` refreshes: by +sip.instance and reg-id when the contact
    has an instance (as Kamailio does), else by URI comparison; -1 when new."""
    instance = contact.params.get("+sip.instance")
    if instance:
        wanted = _instance_id(instance)
        reg_id = contact.params.get("reg-id")
        for i, b in enumerate(bindings):
            if b.instance and b.reg_id == reg_id and _instance_id(b.instance) == wanted:
                return i
        return -1
    key: str | None = None
    for i, b in enumerate(bindings):
        if b.contact == contact.uri:
            return i
        if key is None:
            key = uri_key(contact.uri)
        if uri_key(b.contact) == key:
            return i
    return -1


class BindingTable:
    """Bindings by realm, then username. `now` is passed in so the table stays a pure data
    structure; use one clock for every call."""

    def __init__(self, policy: RegistrarPolicy | None = None) -> None:
        self.policy = policy or RegistrarPolicy()
        self._realms: dict[str, dict[str, tuple[Binding, ...]]] = {}  # tuples: smallest
        self._counts: dict[str, int] = {}
        self._total = 0
        self._wheel: dict[int, set[Binding]] = {}
        self._cursor: int | None = None  # every bucket <= cursor has been swept

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._total

    def count(self, realm: str | None = None) -> int:
        return self._total if realm is None else self._counts.get(realm, 0)

    def lookup(self, realm: str, username: str) -> tuple[Binding, ...]:
        """Every stored binding of the AOR (including ones kept for `retention_s`)."""
        users = self._realms.get(realm)
        found = users.get(username) if users is not None else None
        return tuple(found) if found else ()

    def live(self, realm: str, username: str, now: float) -> tuple[Binding, ...]:
        """The AOR's bindings that have not expired: where a NOTIFY can go."""
        return tuple(b for b in self.lookup(realm, username) if b.expires_at > now)

    def bindings(self, realm: str | None = None) -> Iterator[Binding]:
        realms = self._realms.values() if realm is None else [self._realms.get(realm, {})]
        for users in realms:
            for stored in users.values():
                yield from stored

    def next_expiry(self) -> float | None:
        """When `sweep` next has work (to the second), or None when the table is empty."""
        return float(min(self._wheel)) if self._wheel else None

    # -- changing --------------------------------------------------------------------------

    def apply(self, req: RegisterRequest, now: float) -> RegisterResult:
        """Process one REGISTER atomically (RFC 3261 §10.3 steps 6-8)."""
        users = self._realms.get(req.realm)
        stored = users.get(req.username) if users is not None else None
        live = [b for b in stored if b.expires_at > now] if stored else []
        if not req.contacts:  # a fetch: bindings unchanged (§10.2.3)
            return RegisterResult(200, "OK", tuple(live))
        expiries = grant_expiries(req, self.policy)
        if isinstance(expiries, RegisterResult):
            return expiries
        for b in live:  # CSeq must grow per Call-ID (§10.2, §10.3 steps 6-7)
            if b.call_id == req.call_id and req.cseq <= b.cseq:
                return RegisterResult(400, "Out of order request", tuple(live))

        keep = list(live)
        added: list[Binding] = []
        updates: list[tuple[Binding, NameAddr, int]] = []
        if req.wildcard:
            keep = []
        for contact, expires in zip(req.contacts, expiries, strict=True):
            if contact.is_wildcard:
                break
            i = _find(keep, contact)
            if expires == 0:
                if i >= 0:
                    keep.pop(i)
                continue
            if i >= 0:
                target = keep[i]
                updates.append((target, contact, expires))
            else:
                target = self._new_binding(req, contact, now + expires, now)
                keep.append(target)
                added.append(target)
            if self.policy.single_binding:  # Kamailio save() flag 0x04: this one replaces all
                keep = [target]
                break
        if len(keep) > self.policy.max_contacts and not self.policy.single_binding:
            return RegisterResult(503, "Too many registered contacts", tuple(live))

        return self._commit(req, now, stored or (), keep, added, updates)

    def _new_binding(
        self, req: RegisterRequest, contact: NameAddr, expires_at: float, now: float
    ) -> Binding:
        params = contact.params
        return Binding(
            req.realm, req.username, contact.uri, req.source_ip, req.source_port,
            req.transport, req.user_agent, req.call_id, req.cseq, expires_at, now, now,
            params.get("+sip.instance"), params.get("reg-id"), params.get("q"), req.device,
        )  # fmt: skip

    def _commit(
        self,
        req: RegisterRequest,
        now: float,
        stored: tuple[Binding, ...],
        keep: list[Binding],
        added: list[Binding],
        updates: list[tuple[Binding, NameAddr, int]],
    ) -> RegisterResult:
        """Make the planned state real; nothing here can fail, so the request is atomic."""
        kept = {id(b) for b in keep}
        was_stored = {id(b) for b in stored}
        changes: list[BindingChange] = []
        for b in stored:  # removed, replaced (one binding per AOR) or found expired
            if id(b) not in kept:
                self._unschedule(b)
                gone = ChangeKind.UNREGISTERED if b.expires_at > now else ChangeKind.EXPIRED
                changes.append(BindingChange(gone, b))
        for b, contact, expires in updates:
            if id(b) not in kept:
                continue
            params = contact.params
            b.contact = contact.uri
            b.source_ip, b.source_port, b.transport = req.source_ip, req.source_port, req.transport
            b.user_agent, b.call_id, b.cseq = req.user_agent, req.call_id, req.cseq
            b.expires_at, b.last_registered = now + expires, now
            b.instance, b.reg_id, b.q = (
                params.get("+sip.instance"),
                params.get("reg-id"),
                params.get("q"),
            )
            if req.device is not None:
                b.device = req.device
            self._schedule(b)
            if id(b) in was_stored:  # else added by an earlier contact of this request
                changes.append(BindingChange(ChangeKind.REFRESHED, b))
        for b in added:
            if id(b) in kept:
                self._schedule(b)
                changes.append(BindingChange(ChangeKind.REGISTERED, b))
        self._store(req.realm, req.username, keep, len(stored))
        return RegisterResult(200, "OK", tuple(keep), changes=tuple(changes))

    def _store(
        self, realm: str, username: str, keep: list[Binding] | tuple[Binding, ...], before: int
    ) -> None:
        users = self._realms.get(realm)
        if keep:
            if users is None:
                users = self._realms[realm] = {}
            users[username] = tuple(keep)
        elif users is not None:
            users.pop(username, None)
            if not users:
                del self._realms[realm]
        delta = len(keep) - before
        self._total += delta
        left = self._counts.get(realm, 0) + delta
        if left:
            self._counts[realm] = left
        else:
            self._counts.pop(realm, None)

    def _schedule(self, b: Binding) -> None:
        key = math.ceil(b.expires_at + self.policy.retention_s)
        if self._cursor is not None and key <= self._cursor:
            key = self._cursor + 1
        if key == b.bucket and b in self._wheel.get(key, ()):
            return
        self._unschedule(b)
        b.bucket = key
        bucket = self._wheel.get(key)
        if bucket is None:
            bucket = self._wheel[key] = set()
        bucket.add(b)

    def _unschedule(self, b: Binding) -> None:
        bucket = self._wheel.get(b.bucket)
        if bucket is not None:
            bucket.discard(b)
            if not bucket:
                del self._wheel[b.bucket]

    def remove(self, realm: str, username: str) -> list[Binding]:
        """Flush one AOR (Kazoo's `registration flush`); returns what was removed."""
        stored = list(self.lookup(realm, username))
        for b in stored:
            self._unschedule(b)
        if stored:
            self._store(realm, username, (), len(stored))
        return stored

    def remove_realm(self, realm: str) -> list[Binding]:
        """Flush every AOR of a realm (account)."""
        removed: list[Binding] = []
        for username in list(self._realms.get(realm, {})):
            removed.extend(self.remove(realm, username))
        return removed

    def sweep(self, now: float) -> list[Binding]:
        """Remove and return the bindings whose time (plus `retention_s`) is up."""
        if not self._wheel:
            self._cursor = max(self._cursor or 0, math.floor(now))
            return []
        limit = math.floor(now)
        cursor = self._cursor if self._cursor is not None else min(self._wheel) - 1
        if limit - cursor > len(self._wheel):  # a long gap: visit buckets, not seconds
            keys: Iterator[int] | range = iter(sorted(k for k in self._wheel if k <= limit))
        else:
            keys = range(cursor + 1, limit + 1)
        expired: list[Binding] = []
        for key in keys:
            bucket = self._wheel.pop(key, None)
            if bucket:
                expired.extend(bucket)
        for b in expired:
            users = self._realms[b.realm]
            rest = tuple(x for x in users[b.username] if x is not b)
            self._store(b.realm, b.username, rest, len(rest) + 1)
        self._cursor = max(cursor, limit)
        return expired
