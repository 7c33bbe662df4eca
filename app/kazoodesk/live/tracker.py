"""The registrations of one account as the app knows them, and what happened to them.

Fed either event by event (`apply_event`: the simulator's `registration.*` events, or a
`reg_success` of the `registration.success` binding) or by snapshots of `/registrations`
(`apply_snapshot`, polling a real Kazoo 4.3, which has no registration events): a snapshot is
diffed against what was known, so both sources give the same table and the same log kinds.
`expire` drops what outlived its expiry without a word from the server (Kamailio publishes
nothing when a contact expires, and an event can be lost).

Nothing here touches Qt: the UI takes the accumulated changes a few times a second
(`take_changes`) and updates its models in one batch, however many events came in meanwhile.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

GREGORIAN_OFFSET = 62167219200  # Kazoo's timestamps count seconds from year 0
FLAP_WINDOW_S = 600.0
FLAP_THRESHOLD = 3  # more changes than this in the window: flapping
EXPIRY_GRACE_S = 2.0  # a registration this long past its expiry is gone
HISTORY_LIMIT = 200  # points kept per device
ACTIVITY_SPAN_S = 24 * 3600.0
ENDED_MEMORY_S = 300.0  # how long an ended binding is remembered against stale snapshots
_TRANSPORT = re.compile(r";transport=([a-z]+)", re.I)
_TRANSPORT_TLS = re.compile(r";transport=tls\b", re.I)
_HOST_PORT = re.compile(r"sips?:(?:[^@;>]*@)?(\[[^\]]*\]|[^:;>?]+)(?::(\d{1,5}))?", re.I)

Key = tuple[str, str]  # (SIP username, lower-cased; contact URI)


class Kind(StrEnum):
    """What the event log records (the value is what it shows)."""

    REGISTERED = "registered"
    REFRESHED = "refreshed"
    UNREGISTERED = "unregistered"
    EXPIRED = "expired"
    AUTH_FAILED = "authentication failed"
    NOTIFY_SENT = "NOTIFY sent"
    NOTIFY_ANSWERED = "NOTIFY answered"
    NOTIFY_TIMED_OUT = "NOTIFY timed out"
    NOTIFY_FAILED = "NOTIFY failed"
    ACTION = "action"  # what the user asked for (sync, flush, ...) and the server's answer


@dataclass
class Registration:
    """One binding: a device's contact, as the panel shows it. Times are Unix seconds."""

    username: str
    contact: str  # the SIP URI, without angle brackets
    device_id: str | None = None
    owner_id: str | None = None
    realm: str = ""
    transport: str = "udp"
    user_agent: str = ""
    source: str = ""  # "ip:port" the REGISTER came from
    expires_at: float = 0.0
    registered_since: float = 0.0
    last_refresh: float = 0.0

    @property
    def key(self) -> Key:
        return (self.username.lower(), self.contact)

    @property
    def contact_address(self) -> str:
        """`host:port` of the contact URI; without a port, 5061 for sips: and TLS, else 5060."""
        found = _HOST_PORT.search(self.contact)
        if found is None:
            return self.contact
        host, port = found.groups()
        secure = self.contact.lower().startswith("sips:") or _TRANSPORT_TLS.search(self.contact)
        return f"{host}:{port or (5061 if secure else 5060)}"

    def expires_in(self, now: float) -> int:
        return max(0, int(self.expires_at - now + 0.5))


@dataclass(frozen=True)
class LogEntry:
    at: float  # Unix seconds
    kind: Kind
    username: str = ""
    device_id: str | None = None
    contact: str = ""
    user_agent: str = ""
    source: str = ""
    detail: str = ""


@dataclass(frozen=True)
class HistoryPoint:
    """A device came up (from `contact`, as `user_agent`) or went down, at `at`."""

    at: float
    up: bool
    contact: str = ""
    user_agent: str = ""
    why: str = ""  # the log kind that made it


@dataclass
class Changes:
    """What changed since the last `take_changes`."""

    updated: set[Key] = field(default_factory=set)  # new or changed registrations
    removed: set[Key] = field(default_factory=set)
    log: list[LogEntry] = field(default_factory=list)
    devices: dict[str, bool] = field(default_factory=dict)  # device id -> registered now
    flapping: bool = False  # the set of flapping devices changed
    activity: bool = False  # a new point of the registered-devices count

    def __bool__(self) -> bool:
        return (
            bool(self.updated or self.removed or self.log or self.devices or self.flapping)
            or self.activity
        )


class RegistrationTracker:
    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        flap_threshold: int = FLAP_THRESHOLD,
        flap_window: float = FLAP_WINDOW_S,
    ) -> None:
        self.clock = clock
        self.flap_threshold = flap_threshold
        self.flap_window = flap_window
        self.registrations: dict[Key, Registration] = {}
        self._by_device: dict[str, set[Key]] = {}
        self._status: dict[str, bool] = {}  # the server's word (/devices/status), when polled
        self._registered: set[str] = set()  # registered_devices(), kept by _note_device
        self._history: dict[str, deque[HistoryPoint]] = {}
        self._last_contact: dict[str, str] = {}  # device id -> the contact it last came up from
        self._churn: dict[str, deque[float]] = {}  # device id -> times of drops, contact moves
        self.flapping: set[str] = set()
        self._ended: dict[Key, float] = {}  # when a binding last ended (for snapshot races)
        self.activity: list[tuple[float, int]] = []  # (time, devices registered)
        self._changes = Changes()

    # ---- reading -------------------------------------------------------------------------

    def registered_devices(self) -> set[str]:
        """The devices with a registration, or that the server last said are registered."""
        return set(self._registered)

    def is_registered(self, device_id: str) -> bool:
        return device_id in self._by_device or self._status.get(device_id, False)

    def history(self, device_id: str) -> list[HistoryPoint]:
        return list(self._history.get(device_id, ()))

    def of_device(self, device_id: str) -> list[Registration]:
        keys = self._by_device.get(device_id, ())
        return [self.registrations[k] for k in keys if k in self.registrations]

    def take_changes(self) -> Changes:
        changes, self._changes = self._changes, Changes()
        return changes

    # ---- feeding: events -------------------------------------------------------------------

    def apply_event(self, kind: str, data: Mapping[str, Any]) -> None:
        """One `registration.<kind>` event's `data` (kind as the simulator names it:
        registered, refreshed, unregistered, expired, auth_failed, notify_result) or a
        `reg_success` (kind "success", Kamailio's fields)."""
        now = self.clock()
        if kind == "success":
            kind = _success_kind(data)
        if kind in {"registered", "refreshed"}:
            self._up(_from_event(data, now), now, first=kind == "registered")
        elif kind in {"unregistered", "expired"}:
            self._down(_from_event(data, now), Kind(kind), now, _text(data.get("reason")))
        elif kind == "auth_failed":
            self._log(
                Kind.AUTH_FAILED,
                now,
                username=_text(data.get("username")),
                device_id=_text(data.get("device_id")) or None,
                source=_source(data),
                detail=_text(data.get("reason")),
            )
        elif kind == "notify_result":
            self._notify_result(data, now)

    def _notify_result(self, data: Mapping[str, Any], now: float) -> None:
        outcome = _text(data.get("outcome"))
        kind = {
            "sent": Kind.NOTIFY_SENT,
            "answered": Kind.NOTIFY_ANSWERED,
            "timed_out": Kind.NOTIFY_TIMED_OUT,
        }.get(outcome, Kind.NOTIFY_FAILED)
        event = _text(data.get("event"))
        code = data.get("code")
        detail = f"{event} → {code}" if kind is Kind.NOTIFY_ANSWERED and code else event
        if kind is Kind.NOTIFY_FAILED:
            detail = f"{event}: {outcome.replace('_', ' ') or 'failed'}"
        reason = _text(data.get("reason"))
        if reason:
            detail = f"{detail} ({reason})"
        self._log(
            kind,
            now,
            username=_text(data.get("username")),
            device_id=_text(data.get("device_id")) or None,
            contact=_bare(_text(data.get("contact"))),
            detail=detail,
        )

    # ---- feeding: polling --------------------------------------------------------------------

    def apply_snapshot(
        self,
        rows: Iterable[Mapping[str, Any]],
        registered_ids: Iterable[str] | None = None,
        *,
        initial: bool = False,
        asked_at: float | None = None,
    ) -> None:
        """What `/registrations` lists now (and `/devices/status`, when read): new bindings
        are registered, newer ones refreshed, missing ones expired (past their expiry) or
        unregistered. `initial` takes the snapshot as the starting state, logging nothing.

        `asked_at` (the clock when the request went out) keeps what events said since then:
        a binding an event registered or refreshed meanwhile is not ended for being missing,
        and one an event ended meanwhile does not come back for being listed."""
        listed = read_rows(rows, self.clock())
        self.apply_registrations(listed, registered_ids, initial=initial, asked_at=asked_at)

    def apply_registrations(
        self,
        listed: Iterable[Registration],
        registered_ids: Iterable[str] | None = None,
        *,
        initial: bool = False,
        asked_at: float | None = None,
    ) -> None:
        """`apply_snapshot` of rows already read by `read_rows` (which can run on a worker
        thread: it is most of the time a snapshot takes)."""
        now = self.clock()
        asked_at = now if asked_at is None else asked_at
        self._ended = {k: t for k, t in self._ended.items() if t >= now - ENDED_MEMORY_S}
        seen: set[Key] = set()
        for registration in listed:
            seen.add(registration.key)
            if self._ended.get(registration.key, -1.0) >= asked_at:
                continue
            known = self.registrations.get(registration.key)
            if known is None:
                self._up(registration, now, first=True, quiet=initial)
            elif (
                registration.last_refresh > known.last_refresh + 0.5
                or registration.expires_at > known.expires_at + 2.0
                or registration.user_agent != known.user_agent
            ):
                self._up(registration, now, first=False, quiet=initial)
        for key in [k for k in self.registrations if k not in seen]:
            gone = self.registrations[key]
            if gone.last_refresh >= asked_at:
                continue
            kind = Kind.EXPIRED if gone.expires_at <= now + EXPIRY_GRACE_S else Kind.UNREGISTERED
            self._down(gone, kind, now, "")
        if registered_ids is not None:
            self._set_server_status(set(registered_ids))

    def _set_server_status(self, registered: set[str]) -> None:
        before = {d for d, up in self._status.items() if up}
        was = {d: self.is_registered(d) for d in before ^ registered}
        self._status = dict.fromkeys(registered, True)
        for device_id, up in was.items():
            if self.is_registered(device_id) != up:
                self._note_device(device_id)

    # ---- the clock -----------------------------------------------------------------------

    def expire(self) -> None:
        """Drop the registrations past their expiry (no event came), and let the flapping
        flags of quiet devices fall."""
        now = self.clock()
        for key in [
            k for k, r in self.registrations.items() if r.expires_at + EXPIRY_GRACE_S < now
        ]:
            self._down(self.registrations[key], Kind.EXPIRED, now, "no refresh")
        for device_id in list(self.flapping):
            self._update_flapping(device_id, now)

    # ---- the user's actions ----------------------------------------------------------------

    def note(self, entry: LogEntry) -> None:
        """A log entry made elsewhere (an action's outcome)."""
        self._changes.log.append(entry)

    # ---- inside ----------------------------------------------------------------------------

    def _up(self, new: Registration, now: float, *, first: bool, quiet: bool = False) -> None:
        key = new.key
        known = self.registrations.get(key)
        if known is not None:
            new = replace(new, registered_since=known.registered_since)
            new.device_id = new.device_id or known.device_id
            new.owner_id = new.owner_id or known.owner_id
            if known.device_id and known.device_id != new.device_id:
                self._release(known, Kind.UNREGISTERED, now)  # the username moved devices
                known = None
        kind = Kind.REGISTERED if known is None and first else Kind.REFRESHED
        self.registrations[key] = new
        self._changes.updated.add(key)
        self._changes.removed.discard(key)
        device_id = new.device_id
        if device_id:
            keys = self._by_device.setdefault(device_id, set())
            was_up = bool(keys)
            keys.add(key)
            if known is None:
                moved = self._last_contact.get(device_id) not in (None, new.contact)
                self._last_contact[device_id] = new.contact
                self._add_history(
                    device_id, HistoryPoint(now, True, new.contact, new.user_agent, kind.value)
                )
                if moved and not quiet:
                    self._churned(device_id, now)
            if not was_up:
                self._note_device(device_id)
        if not quiet:
            self._log_binding(kind, now, new, device_id, f"expires in {new.expires_in(now)} s")

    def _down(self, gone: Registration, kind: Kind, now: float, reason: str) -> None:
        key = gone.key
        known = self.registrations.pop(key, None)
        if known is None:  # a binding we never saw ended: logged all the same
            self._log_binding(kind, now, gone, gone.device_id, reason)
            return
        self._changes.removed.add(key)
        self._changes.updated.discard(key)
        self._ended[key] = now
        device_id = known.device_id or gone.device_id
        self._release(known, kind, now)
        self._log_binding(kind, now, known, device_id, reason)

    def _release(self, known: Registration, kind: Kind, now: float) -> None:
        """`known` no longer counts for its device: the device goes down with its last."""
        device_id = known.device_id
        keys = self._by_device.get(device_id) if device_id else None
        if device_id is None or keys is None:
            return
        keys.discard(known.key)
        if keys:
            return
        del self._by_device[device_id]
        self._note_device(device_id)
        self._add_history(
            device_id, HistoryPoint(now, False, known.contact, known.user_agent, kind.value)
        )
        self._churned(device_id, now)

    def _log_binding(
        self, kind: Kind, at: float, r: Registration, device_id: str | None, detail: str
    ) -> None:
        self._log(kind, at, r.username, device_id, r.contact, r.user_agent, r.source, detail)

    def _log(
        self,
        kind: Kind,
        at: float,
        username: str = "",
        device_id: str | None = None,
        contact: str = "",
        user_agent: str = "",
        source: str = "",
        detail: str = "",
    ) -> None:
        self._changes.log.append(
            LogEntry(at, kind, username, device_id, contact, user_agent, source, detail)
        )

    def _note_device(self, device_id: str) -> None:
        up = self.is_registered(device_id)
        self._changes.devices[device_id] = up
        if up:
            self._registered.add(device_id)
        else:
            self._registered.discard(device_id)
        count = len(self._registered)
        now = self.clock()
        if self.activity and self.activity[-1][1] == count:
            return
        if self.activity and now - self.activity[-1][0] < 1.0:
            self.activity[-1] = (self.activity[-1][0], count)  # one point a second at most
        else:
            self.activity.append((now, count))
        while self.activity and self.activity[0][0] < now - ACTIVITY_SPAN_S:
            self.activity.pop(0)
        self._changes.activity = True

    def _add_history(self, device_id: str, point: HistoryPoint) -> None:
        points = self._history.setdefault(device_id, deque(maxlen=HISTORY_LIMIT))
        points.append(point)

    def _churned(self, device_id: str, now: float) -> None:
        self._churn.setdefault(device_id, deque()).append(now)
        self._update_flapping(device_id, now)

    def _update_flapping(self, device_id: str, now: float) -> None:
        times = self._churn.get(device_id)
        if times is None:
            return
        while times and times[0] < now - self.flap_window:
            times.popleft()
        flapping = len(times) > self.flap_threshold
        if flapping != (device_id in self.flapping):
            if flapping:
                self.flapping.add(device_id)
            else:
                self.flapping.discard(device_id)
            self._changes.flapping = True
        if not times:
            del self._churn[device_id]


# ---- reading the server's fields -------------------------------------------------------------


def _text(value: Any) -> str:
    """A field as text; Kazoo's "undefined" (an unknown address) as nothing."""
    if value is None or value == "undefined":
        return ""
    return value if isinstance(value, str) else str(value)


def _bare(contact: str) -> str:
    """A contact without its angle brackets (and display name)."""
    start, end = contact.find("<"), contact.rfind(">")
    return contact[start + 1 : end] if 0 <= start < end else contact.strip()


def _source(data: Mapping[str, Any]) -> str:
    ip = _text(data.get("source_ip") or data.get("network_ip"))
    port = _text(data.get("source_port") or data.get("network_port"))
    return f"{ip}:{port}" if ip and port else ip


def _transport(data: Mapping[str, Any], contact: str) -> str:
    named = _text(data.get("transport") or data.get("proxy_protocol")).lower()
    if named:
        return named
    found = _TRANSPORT.search(contact)
    return found.group(1).lower() if found else "udp"


def _unix(value: Any) -> float | None:
    """A Kazoo timestamp (Gregorian seconds) or a Unix one, as Unix seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value - GREGORIAN_OFFSET if value > GREGORIAN_OFFSET / 2 else value)


def _expires(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _common(data: Mapping[str, Any], now: float) -> Registration:
    contact = _bare(_text(data.get("contact") or data.get("original_contact")))
    ccvs = data.get("custom_channel_vars")
    ccvs = ccvs if isinstance(ccvs, dict) else {}
    device_id = _text(
        data.get("device_id") or data.get("authorizing_id") or ccvs.get("authorizing_id")
    )
    owner_id = _text(data.get("owner_id") or ccvs.get("owner_id"))
    return Registration(
        username=_text(data.get("username") or ccvs.get("username")),
        contact=contact,
        device_id=device_id or None,
        owner_id=owner_id or None,
        realm=_text(data.get("realm")),
        transport=_transport(data, contact),
        user_agent=_text(data.get("user_agent")),
        source=_source(data),
        expires_at=now + _expires(data.get("expires")),
        registered_since=now,
        last_refresh=now,
    )


def read_rows(rows: Iterable[Mapping[str, Any]], now: float) -> list[Registration]:
    """`/registrations` rows as registrations (those naming a username and a contact)."""
    listed = (_from_row(row, now) for row in rows)
    return [r for r in listed if r.username and r.contact]


def _from_event(data: Mapping[str, Any], now: float) -> Registration:
    return _common(data, now)


def _from_row(row: Mapping[str, Any], now: float) -> Registration:
    registration = _common(row, now)
    last = _unix(row.get("last_registration")) or _unix(row.get("event_timestamp"))
    first = _unix(row.get("first_registration"))
    if last is not None:
        registration.last_refresh = min(last, now)
    registration.registered_since = min(
        first if first is not None else registration.last_refresh, now
    )
    return registration


def _success_kind(data: Mapping[str, Any]) -> str:
    """A Kamailio `reg_success` as one of ours."""
    if _text(data.get("status")).lower() == "unregistered" or _expires(data.get("expires")) == 0:
        return "unregistered"
    return "registered" if data.get("first_registration") is True else "refreshed"
