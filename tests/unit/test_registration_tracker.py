"""The registration tracker (kazoodesk/live/tracker.py), without Qt and with a fake clock.

Event data is made by the simulator's own producers (`event_payload`, `registration_events`,
the `notify_result` fields of `send_notify`) and snapshot rows by `registration_record` +
`_shown`, so the tracker is fed what the app receives.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kazoodesk.live.tracker import (
    ACTIVITY_SPAN_S,
    EXPIRY_GRACE_S,
    GREGORIAN_OFFSET,
    HISTORY_LIMIT,
    Changes,
    HistoryPoint,
    Kind,
    LogEntry,
    Registration,
    RegistrationTracker,
)
from kazoodesk.simulator.events import registration_events
from kazoodesk.simulator.http.registrations import _shown
from kazoodesk.simulator.registrar.bindings import Binding
from kazoodesk.simulator.registrar.changes import EventKind, RegistrarEvent
from kazoodesk.simulator.registrar.credentials import DeviceCredentials
from kazoodesk.simulator.registrar.records import registration_record
from kazoodesk.simulator.sip import event_payload

T0 = 1_700_000_000.25
ACCOUNT = "a" * 32
REALM = "acme.example.com"
DEV_A = "d" * 31 + "a"
DEV_B = "d" * 31 + "b"
OWNER = "0" * 31 + "1"
CONTACT_A = "sip:alice@10.0.0.5:5070;transport=tcp"
CONTACT_B = "sip:alice@10.0.0.6:5080"
UA = "Yealink SIP-T46U 108.86.0.20"


class Clock:
    """The tracker's clock: `now` moves only when a test moves it."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tracker(clock: Clock) -> RegistrationTracker:
    return RegistrationTracker(clock)


def device(
    device_id: str | None = DEV_A, username: str = "alice", owner: str | None = OWNER
) -> DeviceCredentials | None:
    if device_id is None:
        return None
    return DeviceCredentials(device_id, ACCOUNT, REALM, username, "secret", owner_id=owner)


def binding(
    at: float,
    *,
    username: str = "alice",
    contact: str = CONTACT_A,
    expires: float = 3600,
    user_agent: str = UA,
    source: tuple[str, int] = ("203.0.113.7", 40000),
    transport: str = "TCP",
    device_id: str | None = DEV_A,
    first: float | None = None,
) -> Binding:
    return Binding(
        realm=REALM,
        username=username,
        contact=contact,
        source_ip=source[0],
        source_port=source[1],
        transport=transport,
        user_agent=user_agent,
        call_id="call-1@10.0.0.5",
        cseq=1,
        expires_at=at + expires,
        first_registered=at if first is None else first,
        last_registered=at,
        device=device(device_id, username),
    )


def sim_event(
    kind: str, b: Binding | None, at: float, *, reason: str = "", **who: Any
) -> dict[str, Any]:
    """The data of the simulator's `registration.<kind>` event for binding `b`."""
    username = who.get("username", b.username if b else "alice")
    dev = b.device if b is not None else device(who.get("device_id", DEV_A), username)
    source = (b.source_ip, b.source_port) if b else who.get("source", ("198.51.100.9", 5060))
    event = RegistrarEvent(
        EventKind(kind), REALM, username, source, b.transport if b else "UDP", at, b, dev, reason
    )
    events = registration_events(ACCOUNT, kind, event_payload(event))
    assert events[0].name == kind
    return events[0].data


def reg_success(kind: str, b: Binding, at: float) -> dict[str, Any]:
    """The Kamailio `reg_success` the simulator publishes beside a `registration.<kind>`."""
    source = (b.source_ip, b.source_port)
    event = RegistrarEvent(EventKind(kind), REALM, b.username, source, "UDP", at, b, b.device)
    found = registration_events(ACCOUNT, kind, event_payload(event))
    assert found[1].name == "reg_success"
    return found[1].data


def row(b: Binding, now: float, **changes: Any) -> dict[str, Any]:
    """`/registrations` row for binding `b` as the simulator lists it at `now`."""
    shown = _shown(registration_record(b, b.device, now, proxy=("192.0.2.1", 5060)))
    shown.update(changes)
    return {k: v for k, v in shown.items() if v is not None}


def kinds(changes: Changes) -> list[Kind]:
    return [entry.kind for entry in changes.log]


def key(username: str = "alice", contact: str = CONTACT_A) -> tuple[str, str]:
    return (username.lower(), contact)


# ---- events: bindings ------------------------------------------------------------------------


def test_registered_event_makes_a_registration_and_logs_it(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    b = binding(clock.now)
    tracker.apply_event("registered", sim_event("registered", b, clock.now))

    assert list(tracker.registrations) == [key()]
    r = tracker.registrations[key()]
    assert r.username == "alice"
    assert r.contact == CONTACT_A  # the simulator sends "<sip:...>"
    assert r.contact_address == "10.0.0.5:5070"
    assert r.transport == "tcp"
    assert r.user_agent == UA
    assert r.source == "203.0.113.7:40000"
    assert r.realm == REALM
    assert r.expires_at == clock.now + 3600
    assert r.expires_in(clock.now) == 3600
    assert r.registered_since == r.last_refresh == clock.now
    assert (r.device_id, r.owner_id) == (DEV_A, OWNER)
    assert tracker.of_device(DEV_A) == [r]
    assert tracker.registered_devices() == {DEV_A}
    assert tracker.is_registered(DEV_A)

    changes = tracker.take_changes()
    assert changes.updated == {key()}
    assert changes.removed == set()
    assert changes.devices == {DEV_A: True}
    assert changes.log == [
        LogEntry(
            clock.now,
            Kind.REGISTERED,
            "alice",
            DEV_A,
            CONTACT_A,
            UA,
            "203.0.113.7:40000",
            "expires in 3600 s",
        )
    ]


@pytest.mark.parametrize(
    ("contact", "address"),
    [
        ("sip:bob@192.0.2.10", "192.0.2.10:5060"),
        ("sip:bob@192.0.2.10:5099;ob", "192.0.2.10:5099"),
        ("sip:192.0.2.11:5070", "192.0.2.11:5070"),
        ("sip:bob@[2001:db8::1]:5062;transport=tcp", "[2001:db8::1]:5062"),
        ("sip:bob@[2001:db8::2]", "[2001:db8::2]:5060"),
        ("sip:bob@phone.example.net;transport=udp", "phone.example.net:5060"),
        ("not a uri", "not a uri"),
    ],
)
def test_contact_address_is_host_and_port(contact: str, address: str) -> None:
    assert Registration("bob", contact).contact_address == address


@pytest.mark.parametrize("contact", ["sips:bob@192.0.2.10", "sip:bob@192.0.2.10;transport=tls"])
def test_contact_address_of_a_tls_contact_defaults_to_5061(contact: str) -> None:
    assert Registration("bob", contact).contact_address == "192.0.2.10:5061"


@pytest.mark.parametrize(
    ("transport_field", "contact", "expected"),
    [
        ("tls", "sip:bob@192.0.2.10:5061", "tls"),
        (None, "sip:bob@192.0.2.10:5061;transport=TLS", "tls"),
        (None, "sip:bob@192.0.2.10", "udp"),
    ],
)
def test_transport_from_the_field_else_the_contact_else_udp(
    tracker: RegistrationTracker, transport_field: str | None, contact: str, expected: str
) -> None:
    data: dict[str, Any] = {"username": "bob", "contact": f"<{contact}>", "expires": 60}
    if transport_field is not None:
        data["transport"] = transport_field
    tracker.apply_event("registered", data)
    assert tracker.registrations[("bob", contact)].transport == expected


def test_contact_with_a_display_name_and_nested_brackets_is_bare(
    tracker: RegistrationTracker,
) -> None:
    uri = "sip:bob@192.0.2.10:5060;fs_path=<sip:10.1.1.1;lr>"
    tracker.apply_event("registered", {"username": "Bob", "contact": f'"Bob" <{uri}>'})
    assert list(tracker.registrations) == [("bob", uri)]
    assert tracker.registrations[("bob", uri)].username == "Bob"


def test_refreshed_updates_the_refresh_and_expiry_but_not_registered_since(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    start = clock.now
    b = binding(start)
    tracker.apply_event("registered", sim_event("registered", b, start))
    tracker.take_changes()

    clock.advance(60.5)
    b.expires_at, b.last_registered = clock.now + 1800, clock.now
    b.user_agent = "Yealink SIP-T46U 108.86.0.45"
    tracker.apply_event("refreshed", sim_event("refreshed", b, clock.now))

    r = tracker.registrations[key()]
    assert r.registered_since == start
    assert r.last_refresh == clock.now
    assert r.expires_at == clock.now + 1800
    assert r.user_agent == "Yealink SIP-T46U 108.86.0.45"
    changes = tracker.take_changes()
    assert changes.updated == {key()}
    assert changes.devices == {}  # it was registered already
    assert kinds(changes) == [Kind.REFRESHED]
    assert changes.log[0].detail == "expires in 1800 s"
    assert len(tracker.history(DEV_A)) == 1  # a refresh is not a new "up"


def test_refresh_without_ids_keeps_the_device_and_owner_known(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    tracker.apply_event("registered", sim_event("registered", binding(clock.now), clock.now))
    clock.advance(30)
    tracker.apply_event("refreshed", {"username": "alice", "contact": CONTACT_A, "expires": 60})
    r = tracker.registrations[key()]
    assert (r.device_id, r.owner_id) == (DEV_A, OWNER)
    assert tracker.registered_devices() == {DEV_A}


def test_registered_again_for_a_known_binding_keeps_one_row(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    start = clock.now
    tracker.apply_event("registered", sim_event("registered", binding(start), start))
    clock.advance(10)
    tracker.apply_event("registered", sim_event("registered", binding(clock.now), clock.now))
    assert list(tracker.registrations) == [key()]
    assert tracker.registrations[key()].registered_since == start
    assert kinds(tracker.take_changes()) == [Kind.REGISTERED, Kind.REFRESHED]


@pytest.mark.parametrize(
    ("kind", "logged"), [("unregistered", Kind.UNREGISTERED), ("expired", Kind.EXPIRED)]
)
def test_unregistered_and_expired_remove_the_registration(
    tracker: RegistrationTracker, clock: Clock, kind: str, logged: Kind
) -> None:
    b = binding(clock.now)
    tracker.apply_event("registered", sim_event("registered", b, clock.now))
    tracker.take_changes()

    clock.advance(100)
    tracker.apply_event(kind, sim_event(kind, b, clock.now, reason="flushed"))

    assert tracker.registrations == {}
    assert tracker.of_device(DEV_A) == []
    assert tracker.registered_devices() == set()
    assert not tracker.is_registered(DEV_A)
    changes = tracker.take_changes()
    assert changes.removed == {key()}
    assert changes.updated == set()
    assert changes.devices == {DEV_A: False}
    assert changes.log == [
        LogEntry(clock.now, logged, "alice", DEV_A, CONTACT_A, UA, "203.0.113.7:40000", "flushed")
    ]


def test_the_end_of_an_unknown_binding_is_logged_and_changes_nothing_else(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    b = binding(clock.now, contact=CONTACT_B)
    tracker.apply_event("unregistered", sim_event("unregistered", b, clock.now))
    changes = tracker.take_changes()
    assert kinds(changes) == [Kind.UNREGISTERED]
    assert changes.log[0].contact == CONTACT_B
    assert changes.removed == set()
    assert changes.devices == {}
    assert tracker.registrations == {}
    assert tracker.history(DEV_A) == []


def test_auth_failed_logs_only(tracker: RegistrationTracker, clock: Clock) -> None:
    data = sim_event("auth_failed", None, clock.now, reason="wrong password")
    tracker.apply_event("auth_failed", data)
    changes = tracker.take_changes()
    assert changes.log == [
        LogEntry(
            clock.now,
            Kind.AUTH_FAILED,
            "alice",
            DEV_A,
            "",
            "",
            "198.51.100.9:5060",
            "wrong password",
        )
    ]
    assert changes.updated == changes.removed == set()
    assert changes.devices == {}
    assert not changes.flapping and not changes.activity
    assert tracker.registrations == {}
    assert tracker.registered_devices() == set()
    assert tracker.history(DEV_A) == []


def test_an_unknown_event_kind_is_ignored(tracker: RegistrationTracker) -> None:
    tracker.apply_event("something_new", {"username": "alice", "contact": CONTACT_A})
    assert not tracker.take_changes()
    assert tracker.registrations == {}


# ---- events: NOTIFY outcomes -------------------------------------------------------------------


def notify(outcome: str, **extra: Any) -> dict[str, Any]:
    """A `notify_result` as `send_notify` publishes it."""
    base = {"username": "alice", "realm": REALM, "device_id": DEV_A, "event": "check-sync"}
    return {**base, "outcome": outcome, **extra}


@pytest.mark.parametrize(
    ("data", "kind", "contact", "detail"),
    [
        (
            notify("answered", code=200, contact=CONTACT_A, transport="tcp"),
            Kind.NOTIFY_ANSWERED,
            CONTACT_A,
            "check-sync → 200",
        ),
        (
            notify("answered", code=481, contact=f"<{CONTACT_A}>", reason="no subscription"),
            Kind.NOTIFY_ANSWERED,
            CONTACT_A,
            "check-sync → 481 (no subscription)",
        ),
        (
            notify("timed_out", code=None, contact=CONTACT_B, transport="udp"),
            Kind.NOTIFY_TIMED_OUT,
            CONTACT_B,
            "check-sync",
        ),
        (
            notify("sent", code=None, contact=CONTACT_A, transport="tcp"),
            Kind.NOTIFY_SENT,
            CONTACT_A,
            "check-sync",
        ),
        (notify("not_registered"), Kind.NOTIFY_FAILED, "", "check-sync: not registered"),
        (notify("failed"), Kind.NOTIFY_FAILED, "", "check-sync: failed"),
        (
            notify("failed", code=None, contact=CONTACT_A, reason="no connection to the phone"),
            Kind.NOTIFY_FAILED,
            CONTACT_A,
            "check-sync: failed (no connection to the phone)",
        ),
    ],
)
def test_notify_results_are_logged_by_outcome(
    tracker: RegistrationTracker,
    clock: Clock,
    data: dict[str, Any],
    kind: Kind,
    contact: str,
    detail: str,
) -> None:
    tracker.apply_event("notify_result", data)
    changes = tracker.take_changes()
    assert changes.log == [LogEntry(clock.now, kind, "alice", DEV_A, contact, "", "", detail)]
    assert changes.updated == changes.removed == set()
    assert changes.devices == {}
    assert tracker.registrations == {}


# ---- events: Kamailio's reg_success -------------------------------------------------------------


def test_reg_success_first_registration_registers_with_the_channel_vars_ids(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    b = binding(clock.now, contact="sip:alice@10.0.0.5:5070")
    data = reg_success("registered", b, clock.now)
    assert "device_id" not in data and data["first_registration"] is True
    assert data["custom_channel_vars"]["authorizing_id"] == DEV_A

    tracker.apply_event("success", data)

    r = tracker.registrations[key(contact="sip:alice@10.0.0.5:5070")]
    assert (r.device_id, r.owner_id) == (DEV_A, OWNER)
    assert r.source == "203.0.113.7:40000"
    assert r.user_agent == UA
    assert r.transport == "udp"
    assert r.expires_at == clock.now + 3600
    assert tracker.registered_devices() == {DEV_A}
    changes = tracker.take_changes()
    assert kinds(changes) == [Kind.REGISTERED]
    assert changes.devices == {DEV_A: True}


def test_reg_success_not_first_is_a_refresh(tracker: RegistrationTracker, clock: Clock) -> None:
    start = clock.now
    b = binding(start)
    tracker.apply_event("success", reg_success("registered", b, start))
    clock.advance(300)
    b.expires_at = clock.now + 600
    data = reg_success("refreshed", b, clock.now)
    assert data["first_registration"] is False
    tracker.apply_event("success", data)
    r = tracker.registrations[key()]
    assert r.registered_since == start
    assert r.expires_at == clock.now + 600
    assert kinds(tracker.take_changes()) == [Kind.REGISTERED, Kind.REFRESHED]


def test_reg_success_unregistered_removes(tracker: RegistrationTracker, clock: Clock) -> None:
    b = binding(clock.now)
    tracker.apply_event("success", reg_success("registered", b, clock.now))
    clock.advance(5)
    data = reg_success("unregistered", b, clock.now)
    assert data["status"] == "Unregistered"
    tracker.apply_event("success", data)
    assert tracker.registrations == {}
    changes = tracker.take_changes()
    assert kinds(changes) == [Kind.REGISTERED, Kind.UNREGISTERED]
    assert changes.removed == {key()}
    assert changes.devices == {DEV_A: False}


def test_reg_success_with_expires_zero_is_an_unregistration(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    b = binding(clock.now)
    tracker.apply_event("success", reg_success("registered", b, clock.now))
    data = {**reg_success("refreshed", b, clock.now), "status": "Registered", "expires": 0}
    tracker.apply_event("success", data)
    assert tracker.registrations == {}
    assert kinds(tracker.take_changes())[-1] is Kind.UNREGISTERED


# ---- take_changes -------------------------------------------------------------------------------


def test_changes_accumulate_across_events_and_reset_when_taken(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    users = [
        ("alice", DEV_A, CONTACT_A),
        ("bob", DEV_B, "sip:bob@10.0.0.9"),
        ("carol", None, "sip:carol@10.0.0.10"),
    ]
    for username, device_id, contact in users:
        b = binding(clock.now, username=username, contact=contact, device_id=device_id)
        tracker.apply_event("registered", sim_event("registered", b, clock.now))
        clock.advance(0.1)
    tracker.apply_event("auth_failed", sim_event("auth_failed", None, clock.now, username="dave"))
    b = binding(clock.now, username="bob", contact="sip:bob@10.0.0.9", device_id=DEV_B)
    tracker.apply_event("refreshed", sim_event("refreshed", b, clock.now))
    tracker.note(LogEntry(clock.now, Kind.ACTION, detail="check-sync asked"))

    changes = tracker.take_changes()
    assert changes
    assert changes.updated == {key(u, c) for u, _d, c in users}
    assert kinds(changes) == [
        Kind.REGISTERED,
        Kind.REGISTERED,
        Kind.REGISTERED,
        Kind.AUTH_FAILED,
        Kind.REFRESHED,
        Kind.ACTION,
    ]
    assert [e.username for e in changes.log] == ["alice", "bob", "carol", "dave", "bob", ""]
    assert changes.devices == {DEV_A: True, DEV_B: True}
    assert changes.activity

    again = tracker.take_changes()
    assert not again
    assert again == Changes()
    assert tracker.registered_devices() == {DEV_A, DEV_B}  # the state stays


def test_added_then_removed_in_one_batch_ends_as_removed_only(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    b = binding(clock.now)
    tracker.apply_event("registered", sim_event("registered", b, clock.now))
    clock.advance(1)
    tracker.apply_event("unregistered", sim_event("unregistered", b, clock.now))
    changes = tracker.take_changes()
    assert changes.removed == {key()}
    assert changes.updated == set()
    assert changes.devices == {DEV_A: False}
    assert kinds(changes) == [Kind.REGISTERED, Kind.UNREGISTERED]


def test_removed_then_added_again_in_one_batch_ends_as_updated_only(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    b = binding(clock.now)
    tracker.apply_event("registered", sim_event("registered", b, clock.now))
    tracker.take_changes()
    tracker.apply_event("unregistered", sim_event("unregistered", b, clock.now))
    clock.advance(2)
    tracker.apply_event("registered", sim_event("registered", binding(clock.now), clock.now))
    changes = tracker.take_changes()
    assert changes.updated == {key()}
    assert changes.removed == set()
    assert changes.devices == {DEV_A: True}


def test_a_device_with_two_contacts_stays_registered_until_both_go(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    a, b = binding(clock.now), binding(clock.now, contact=CONTACT_B, user_agent="Zoiper 5")
    tracker.apply_event("registered", sim_event("registered", a, clock.now))
    tracker.apply_event("registered", sim_event("registered", b, clock.now))
    first = tracker.take_changes()
    assert first.devices == {DEV_A: True}
    assert {r.contact for r in tracker.of_device(DEV_A)} == {CONTACT_A, CONTACT_B}

    clock.advance(10)
    tracker.apply_event("unregistered", sim_event("unregistered", a, clock.now))
    second = tracker.take_changes()
    assert second.removed == {key()}
    assert second.devices == {}  # still registered: not a change of the device
    assert tracker.registered_devices() == {DEV_A}
    assert tracker.is_registered(DEV_A)
    assert [r.contact for r in tracker.of_device(DEV_A)] == [CONTACT_B]
    assert [p.up for p in tracker.history(DEV_A)] == [True, True]

    clock.advance(10)
    tracker.apply_event("expired", sim_event("expired", b, clock.now))
    third = tracker.take_changes()
    assert third.devices == {DEV_A: False}
    assert tracker.registered_devices() == set()
    down = tracker.history(DEV_A)[-1]
    assert (down.up, down.contact, down.user_agent, down.why) == (
        False,
        CONTACT_B,
        "Zoiper 5",
        "expired",
    )


def test_changes_truth() -> None:
    assert not Changes()
    assert Changes(activity=True)
    assert Changes(flapping=True)
    assert Changes(devices={DEV_A: False})
    assert Changes(removed={key()})
    assert Changes(log=[LogEntry(T0, Kind.ACTION)])


def _move_to_device_b(tracker: RegistrationTracker, clock: Clock) -> Binding:
    """alice's binding, registered by device A, refreshed by device B (the username went to
    another device: the simulator's refresh takes the device it authenticated with)."""
    tracker.apply_event("registered", sim_event("registered", binding(clock.now), clock.now))
    clock.advance(30)
    moved = binding(clock.now, device_id=DEV_B)
    tracker.apply_event("refreshed", sim_event("refreshed", moved, clock.now))
    assert tracker.registrations[key()].device_id == DEV_B
    return moved


def test_a_binding_that_changes_device_leaves_the_old_device(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    moved = _move_to_device_b(tracker, clock)
    assert tracker.registered_devices() == {DEV_B}
    clock.advance(30)
    tracker.apply_event("unregistered", sim_event("unregistered", moved, clock.now))
    assert tracker.registered_devices() == set()
    assert not tracker.is_registered(DEV_A)


def test_of_device_after_a_moved_binding_ended(tracker: RegistrationTracker, clock: Clock) -> None:
    moved = _move_to_device_b(tracker, clock)
    clock.advance(30)
    tracker.apply_event("unregistered", sim_event("unregistered", moved, clock.now))
    assert tracker.of_device(DEV_A) == []


# ---- snapshots of /registrations --------------------------------------------------------------


def test_an_initial_snapshot_logs_nothing_but_fills_the_table_and_history(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    registered = clock.now - 7200
    a = binding(clock.now - 120, first=registered)
    a.expires_at = clock.now + 3480
    b = binding(
        clock.now - 30, username="bob", contact="sip:bob@10.0.0.9", device_id=DEV_B, transport="UDP"
    )
    tracker.apply_snapshot([row(a, clock.now), row(b, clock.now)], [DEV_A, DEV_B], initial=True)

    changes = tracker.take_changes()
    assert changes.log == []
    assert changes.updated == {key(), key("bob", "sip:bob@10.0.0.9")}
    assert changes.devices == {DEV_A: True, DEV_B: True}
    r = tracker.registrations[key()]
    assert r.contact == CONTACT_A
    assert r.contact_address == "10.0.0.5:5070"
    assert r.transport == "tcp"  # proxy_protocol
    assert r.source == "203.0.113.7:40000"
    assert r.user_agent == UA
    assert (r.device_id, r.owner_id) == (DEV_A, OWNER)
    assert r.registered_since == int(registered)  # Gregorian seconds: whole ones
    assert r.last_refresh == int(clock.now - 120)
    assert r.expires_at == clock.now + 3480
    assert tracker.registered_devices() == {DEV_A, DEV_B}
    assert tracker.history(DEV_A) == [HistoryPoint(clock.now, True, CONTACT_A, UA, "registered")]
    assert [p.up for p in tracker.history(DEV_B)] == [True]


def test_a_later_snapshot_logs_a_new_row_as_registered(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    a = binding(clock.now)
    tracker.apply_snapshot([row(a, clock.now)], initial=True)
    tracker.take_changes()

    clock.advance(5)
    b = binding(clock.now - 2, username="bob", contact="sip:bob@10.0.0.9", device_id=DEV_B)
    tracker.apply_snapshot([row(a, clock.now), row(b, clock.now)])

    changes = tracker.take_changes()
    assert kinds(changes) == [Kind.REGISTERED]
    entry = changes.log[0]
    assert (entry.at, entry.username, entry.device_id, entry.contact) == (
        clock.now,
        "bob",
        DEV_B,
        "sip:bob@10.0.0.9",
    )
    assert changes.updated == {key("bob", "sip:bob@10.0.0.9")}
    assert changes.devices == {DEV_B: True}


def test_a_newer_last_registration_logs_refreshed(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    first = clock.now - 100
    a = binding(first)
    tracker.apply_snapshot([row(a, clock.now)], initial=True)
    tracker.take_changes()

    clock.advance(40)
    a.last_registered, a.expires_at = clock.now - 3, clock.now - 3 + 3600
    tracker.apply_snapshot([row(a, clock.now)])

    changes = tracker.take_changes()
    assert kinds(changes) == [Kind.REFRESHED]
    assert changes.updated == {key()}
    assert changes.devices == {}
    r = tracker.registrations[key()]
    assert r.last_refresh == int(clock.now - 3)
    assert r.registered_since == int(first)


def test_a_changed_user_agent_in_a_snapshot_is_a_refresh(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    a = binding(clock.now)
    tracker.apply_snapshot([row(a, clock.now)], initial=True)
    tracker.take_changes()
    clock.advance(5)
    tracker.apply_snapshot([row(a, clock.now, user_agent="Yealink SIP-T46U 108.86.0.45")])
    assert kinds(tracker.take_changes()) == [Kind.REFRESHED]
    assert tracker.registrations[key()].user_agent == "Yealink SIP-T46U 108.86.0.45"


def test_the_same_snapshot_again_changes_nothing(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    a = binding(clock.now - 50)
    b = binding(clock.now - 10, username="bob", contact="sip:bob@10.0.0.9", device_id=DEV_B)
    tracker.apply_snapshot([row(a, clock.now), row(b, clock.now)], [DEV_A, DEV_B], initial=True)
    tracker.take_changes()
    before = {k: Registration(**vars(r)) for k, r in tracker.registrations.items()}

    for _ in range(3):
        clock.advance(5.3)
        tracker.apply_snapshot([row(b, clock.now), row(a, clock.now)], [DEV_B, DEV_A])
        changes = tracker.take_changes()
        assert not changes, changes
    assert tracker.registrations == before


def test_a_snapshot_agrees_with_what_events_said(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    a = binding(clock.now)
    tracker.apply_event("registered", sim_event("registered", a, clock.now))
    tracker.take_changes()
    clock.advance(20)
    tracker.apply_snapshot([row(a, clock.now)], [DEV_A])
    changes = tracker.take_changes()
    assert (changes.log, changes.updated, changes.removed) == ([], set(), set())
    assert not changes.flapping and not changes.activity
    assert tracker.registered_devices() == {DEV_A}


def test_server_status_agreeing_with_the_rows_is_no_device_change(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    a = binding(clock.now)
    tracker.apply_event("registered", sim_event("registered", a, clock.now))
    tracker.take_changes()
    clock.advance(20)
    tracker.apply_snapshot([row(a, clock.now)], [DEV_A])
    assert tracker.take_changes().devices == {}


@pytest.mark.parametrize(
    ("left_until", "logged"),
    [(-30.0, Kind.EXPIRED), (-0.5, Kind.EXPIRED), (300.0, Kind.UNREGISTERED)],
)
def test_a_missing_row_is_expired_past_its_expiry_else_unregistered(
    tracker: RegistrationTracker, clock: Clock, left_until: float, logged: Kind
) -> None:
    a = binding(clock.now, expires=600)
    tracker.apply_snapshot([row(a, clock.now)], initial=True)
    tracker.take_changes()

    clock.advance(600 - left_until)
    tracker.apply_snapshot([])

    assert tracker.registrations == {}
    changes = tracker.take_changes()
    assert kinds(changes) == [logged]
    assert (changes.log[0].contact, changes.log[0].device_id) == (CONTACT_A, DEV_A)
    assert changes.removed == {key()}
    assert changes.devices == {DEV_A: False}
    assert tracker.history(DEV_A)[-1].up is False
    assert tracker.history(DEV_A)[-1].why == logged.value


def test_registered_ids_count_a_device_with_no_row(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    a = binding(clock.now)
    tracker.apply_snapshot([row(a, clock.now)], [DEV_A, DEV_B], initial=True)
    assert tracker.registered_devices() == {DEV_A, DEV_B}
    assert tracker.is_registered(DEV_B)
    assert tracker.of_device(DEV_B) == []
    assert tracker.take_changes().devices == {DEV_A: True, DEV_B: True}

    clock.advance(5)
    tracker.apply_snapshot([row(a, clock.now)])  # /devices/status not read: the word stands
    assert tracker.registered_devices() == {DEV_A, DEV_B}
    assert not tracker.take_changes()

    clock.advance(5)
    tracker.apply_snapshot([row(a, clock.now)], [DEV_A])
    assert tracker.registered_devices() == {DEV_A}
    assert not tracker.is_registered(DEV_B)
    assert tracker.take_changes().devices == {DEV_B: False}


def test_rows_without_username_or_contact_are_skipped(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    a = binding(clock.now)
    no_user = row(a, clock.now, username=None, from_user=None, to_user=None)
    no_contact = row(a, clock.now, contact=None, original_contact=None)
    tracker.apply_snapshot([no_user, no_contact, {}], initial=True)
    tracker.apply_snapshot([no_user, no_contact])
    assert tracker.registrations == {}
    assert not tracker.take_changes()


@pytest.mark.parametrize("offset", [GREGORIAN_OFFSET, 0], ids=["gregorian", "unix"])
def test_timestamps_in_gregorian_or_unix_seconds(
    tracker: RegistrationTracker, clock: Clock, offset: int
) -> None:
    last, first = int(clock.now) - 90, int(clock.now) - 86400
    data = {
        "username": "alice",
        "contact": f"<{CONTACT_A}>",
        "expires": 120,
        "first_registration": first + offset,
        "last_registration": last + offset,
    }
    tracker.apply_snapshot([data])
    r = tracker.registrations[key()]
    assert (r.registered_since, r.last_refresh) == (first, last)
    assert r.expires_at == clock.now + 120


@pytest.mark.parametrize("offset", [GREGORIAN_OFFSET, 0], ids=["gregorian", "unix"])
def test_a_kazoo_row_with_only_event_timestamp(
    tracker: RegistrationTracker, clock: Clock, offset: int
) -> None:
    """The row of a real Kazoo 4.3 (`doc/registrations.md`): no first/last registration."""
    stamp = int(clock.now) - 40
    kazoo_row = {
        "account_name": "Acme",
        "account_realm": REALM,
        "authorizing_id": DEV_A,
        "authorizing_type": "device",
        "call_id": "792957271@10.26.0.158",
        "contact": "sip:alice@10.26.0.158:5060",
        "contact_ip": "10.26.0.158",
        "contact_port": "5060",
        "event_timestamp": stamp + offset,
        "expires": 257,
        "original_contact": "sip:alice@10.26.0.158:5060",
        "owner_id": OWNER,
        "proxy_ip": "192.0.2.1",
        "proxy_port": "5060",
        "realm": REALM,
        "suppress_unregister_notify": True,
        "user_agent": "Yealink SIP-T38G 38.0.0.115",
        "username": "alice",
    }
    tracker.apply_snapshot([kazoo_row], [DEV_A])
    r = tracker.registrations[key(contact="sip:alice@10.26.0.158:5060")]
    assert (r.device_id, r.owner_id) == (DEV_A, OWNER)
    assert r.last_refresh == r.registered_since == stamp
    assert r.expires_at == clock.now + 257
    assert r.contact_address == "10.26.0.158:5060"
    assert kinds(tracker.take_changes()) == [Kind.REGISTERED]

    clock.advance(30)
    tracker.apply_snapshot([{**kazoo_row, "expires": 227}], [DEV_A])
    assert not tracker.take_changes()
    clock.advance(30)
    newer = {**kazoo_row, "event_timestamp": stamp + 58 + offset, "expires": 299}
    tracker.apply_snapshot([newer], [DEV_A])
    assert kinds(tracker.take_changes()) == [Kind.REFRESHED]


def test_undefined_network_address_is_no_source(tracker: RegistrationTracker, clock: Clock) -> None:
    data = {
        "username": "alice",
        "contact": CONTACT_A,
        "expires": 60,
        "network_ip": "undefined",
        "network_port": "undefined",
    }
    tracker.apply_snapshot([data])
    assert tracker.registrations[key()].source == ""


def test_a_last_registration_ahead_of_our_clock_is_taken_as_now(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    ahead = {
        "username": "alice",
        "contact": CONTACT_A,
        "expires": 60,
        "last_registration": int(clock.now) + 30 + GREGORIAN_OFFSET,
    }
    tracker.apply_snapshot([ahead])
    r = tracker.registrations[key()]
    assert r.last_refresh == r.registered_since == clock.now


# ---- expire() ---------------------------------------------------------------------------------


def test_expire_drops_a_registration_only_past_expiry_and_grace(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    start = clock.now
    tracker.apply_event("registered", sim_event("registered", binding(start, expires=60), start))
    tracker.take_changes()

    for at in (start + 30, start + 60, start + 60 + EXPIRY_GRACE_S - 0.1):
        clock.now = at
        tracker.expire()
        assert key() in tracker.registrations
        assert not tracker.take_changes()

    clock.now = start + 60 + EXPIRY_GRACE_S + 0.1
    tracker.expire()
    assert tracker.registrations == {}
    changes = tracker.take_changes()
    assert [(e.kind, e.detail, e.contact) for e in changes.log] == [
        (Kind.EXPIRED, "no refresh", CONTACT_A)
    ]
    assert changes.removed == {key()}
    assert changes.devices == {DEV_A: False}
    assert tracker.registered_devices() == set()
    tracker.expire()
    assert not tracker.take_changes()


def test_expire_spares_a_refreshed_registration(tracker: RegistrationTracker, clock: Clock) -> None:
    start = clock.now
    tracker.apply_event("registered", sim_event("registered", binding(start, expires=60), start))
    clock.now = start + 50
    tracker.apply_event(
        "refreshed", sim_event("refreshed", binding(clock.now, expires=60), clock.now)
    )
    clock.now = start + 100
    tracker.expire()
    assert key() in tracker.registrations
    clock.now = start + 50 + 60 + EXPIRY_GRACE_S + 1
    tracker.expire()
    assert key() not in tracker.registrations


# ---- flapping ---------------------------------------------------------------------------------


def up(tracker: RegistrationTracker, clock: Clock, contact: str = CONTACT_A, **kw: Any) -> Binding:
    b = binding(clock.now, contact=contact, **kw)
    tracker.apply_event("registered", sim_event("registered", b, clock.now))
    return b


def down(tracker: RegistrationTracker, clock: Clock, b: Binding) -> None:
    tracker.apply_event("unregistered", sim_event("unregistered", b, clock.now))


def test_more_drops_than_the_threshold_in_the_window_flag_the_device(clock: Clock) -> None:
    tracker = RegistrationTracker(clock, flap_threshold=3, flap_window=600)
    for _ in range(3):
        down(tracker, clock, up(tracker, clock))
        clock.advance(60)
    assert tracker.flapping == set()
    assert not tracker.take_changes().flapping

    down(tracker, clock, up(tracker, clock))  # the fourth drop in 180 s
    assert tracker.flapping == {DEV_A}
    assert tracker.take_changes().flapping

    clock.advance(30)
    down(tracker, clock, up(tracker, clock))  # still flapping: no news
    assert tracker.flapping == {DEV_A}
    assert not tracker.take_changes().flapping


def test_drops_spread_wider_than_the_window_do_not_flag(clock: Clock) -> None:
    tracker = RegistrationTracker(clock, flap_threshold=3, flap_window=600)
    for _ in range(8):
        down(tracker, clock, up(tracker, clock))
        clock.advance(201)
    assert tracker.flapping == set()


def test_contact_moves_alone_flag_the_device(clock: Clock) -> None:
    """The phone hops between two addresses; it is never without a registration."""
    tracker = RegistrationTracker(clock, flap_threshold=3, flap_window=600)
    old = up(tracker, clock, CONTACT_A)
    for n, contact in enumerate([CONTACT_B, CONTACT_A, CONTACT_B, CONTACT_A], 1):
        clock.advance(20)
        new = up(tracker, clock, contact)
        down(tracker, clock, old)
        old = new
        assert tracker.registered_devices() == {DEV_A}
        assert tracker.flapping == ({DEV_A} if n > 3 else set()), n
    assert tracker.take_changes().flapping


def test_registering_again_from_the_same_contact_is_no_move(clock: Clock) -> None:
    tracker = RegistrationTracker(clock, flap_threshold=3, flap_window=600)
    b = up(tracker, clock)
    for _ in range(3):  # three drops, three comebacks from the same place
        clock.advance(10)
        down(tracker, clock, b)
        clock.advance(10)
        b = up(tracker, clock)
    assert tracker.flapping == set()
    clock.advance(10)
    down(tracker, clock, b)  # the fourth drop
    assert tracker.flapping == {DEV_A}


def test_the_flag_falls_once_the_window_passes(clock: Clock) -> None:
    tracker = RegistrationTracker(clock, flap_threshold=3, flap_window=600)
    start = clock.now
    for _ in range(4):
        down(tracker, clock, up(tracker, clock))
        clock.advance(10)
    assert tracker.flapping == {DEV_A}
    tracker.take_changes()

    clock.now = start + 600 - 1  # every drop still inside the window
    tracker.expire()
    assert tracker.flapping == {DEV_A}
    assert not tracker.take_changes().flapping

    clock.now = start + 600 + 1  # the first drop left the window: three remain
    tracker.expire()
    assert tracker.flapping == set()
    assert tracker.take_changes().flapping


def test_flapping_is_per_device(clock: Clock) -> None:
    tracker = RegistrationTracker(clock, flap_threshold=3, flap_window=600)
    for _ in range(4):
        down(tracker, clock, up(tracker, clock))
        down(
            tracker, clock, up(tracker, clock, "sip:bob@10.0.0.9", username="bob", device_id=DEV_B)
        )
        down(
            tracker,
            clock,
            up(tracker, clock, "sip:carol@10.0.0.10", username="carol", device_id=None),
        )
        clock.advance(1)
    assert tracker.flapping == {DEV_A, DEV_B}
    tracker2 = RegistrationTracker(clock, flap_threshold=3, flap_window=600)
    for _ in range(4):
        down(tracker2, clock, up(tracker2, clock))
    up(tracker2, clock, "sip:bob@10.0.0.9", username="bob", device_id=DEV_B)
    assert tracker2.flapping == {DEV_A}


def test_the_threshold_and_window_are_the_trackers(clock: Clock) -> None:
    tracker = RegistrationTracker(clock, flap_threshold=1, flap_window=30)
    down(tracker, clock, up(tracker, clock))
    assert tracker.flapping == set()
    clock.advance(29)
    down(tracker, clock, up(tracker, clock))
    assert tracker.flapping == {DEV_A}
    clock.advance(2)
    tracker.expire()
    assert tracker.flapping == set()


def test_an_initial_snapshot_does_not_count_as_a_move(clock: Clock) -> None:
    tracker = RegistrationTracker(clock, flap_threshold=0, flap_window=600)
    a = binding(clock.now)
    tracker.apply_snapshot([row(a, clock.now)], initial=True)
    assert tracker.flapping == set()
    clock.advance(5)
    up(tracker, clock, CONTACT_B)  # a second place: a move from CONTACT_A
    assert tracker.flapping == {DEV_A}


# ---- history ----------------------------------------------------------------------------------


def test_history_has_up_and_down_points_in_order(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    t1 = clock.now
    a = up(tracker, clock, CONTACT_A, user_agent="Yealink A")
    clock.advance(30)
    tracker.apply_event("refreshed", sim_event("refreshed", binding(clock.now), clock.now))
    t2 = clock.advance(30)
    down(tracker, clock, a)
    t3 = clock.advance(30)
    b = up(tracker, clock, CONTACT_B, user_agent="Zoiper 5")
    t4 = clock.advance(5000)
    tracker.expire()

    assert tracker.history(DEV_A) == [
        HistoryPoint(t1, True, CONTACT_A, "Yealink A", "registered"),
        HistoryPoint(t2, False, CONTACT_A, UA, "unregistered"),  # the refresh's user agent
        HistoryPoint(t3, True, CONTACT_B, "Zoiper 5", "registered"),
        HistoryPoint(t4, False, CONTACT_B, "Zoiper 5", "expired"),
    ]
    assert b.contact == CONTACT_B
    assert tracker.history(DEV_B) == []
    tracker.history(DEV_A).clear()  # a copy
    assert len(tracker.history(DEV_A)) == 4


def test_history_is_bounded(tracker: RegistrationTracker, clock: Clock) -> None:
    cycles = HISTORY_LIMIT  # two points each
    for n in range(cycles):
        down(tracker, clock, up(tracker, clock, f"sip:alice@10.0.{n // 250}.{n % 250}"))
        clock.advance(700)  # no flapping involved
    points = tracker.history(DEV_A)
    assert len(points) == HISTORY_LIMIT
    assert [p.up for p in points[:2]] == [True, False]
    last = cycles - 1
    assert points[-1].contact == f"sip:alice@10.0.{last // 250}.{last % 250}"
    first_kept = cycles - HISTORY_LIMIT // 2
    assert points[0].contact == f"sip:alice@10.0.{first_kept // 250}.{first_kept % 250}"
    assert [p.at for p in points] == sorted(p.at for p in points)


# ---- activity ---------------------------------------------------------------------------------


def test_a_point_per_change_of_the_registered_device_count(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    t0 = clock.now
    a = up(tracker, clock)
    assert tracker.take_changes().activity
    t1 = clock.advance(10)
    up(tracker, clock, "sip:bob@10.0.0.9", username="bob", device_id=DEV_B)
    clock.advance(10)
    up(tracker, clock, CONTACT_B)  # a second contact of a registered device: same count
    tracker.apply_event("refreshed", sim_event("refreshed", binding(clock.now), clock.now))
    assert tracker.activity == [(t0, 1), (t1, 2)]
    tracker.take_changes()
    t3 = clock.advance(10)
    down(tracker, clock, a)  # CONTACT_B still up
    assert not tracker.take_changes().activity
    tracker.apply_event(
        "expired", sim_event("expired", binding(clock.now, contact=CONTACT_B), clock.now)
    )
    assert tracker.activity == [(t0, 1), (t1, 2), (t3, 1)]
    assert tracker.take_changes().activity


def test_server_status_moves_the_activity_too(tracker: RegistrationTracker, clock: Clock) -> None:
    tracker.apply_snapshot([], [DEV_A, DEV_B], initial=True)
    t1 = clock.advance(5)
    tracker.apply_snapshot([], [DEV_A])
    assert tracker.activity == [(t1 - 5, 2), (t1, 1)]


def test_at_most_one_activity_point_a_second(tracker: RegistrationTracker, clock: Clock) -> None:
    t0 = clock.now
    up(tracker, clock)
    clock.advance(0.4)
    up(tracker, clock, "sip:bob@10.0.0.9", username="bob", device_id=DEV_B)
    clock.advance(0.4)
    up(tracker, clock, "sip:carol@10.0.0.10", username="carol", device_id="c" * 32)
    assert tracker.activity == [(t0, 3)]  # the same second: the last point took the count
    t1 = clock.advance(1.5)
    tracker.apply_event(
        "unregistered",
        sim_event(
            "unregistered",
            binding(clock.now, contact="sip:bob@10.0.0.9", username="bob", device_id=DEV_B),
            clock.now,
        ),
    )
    assert tracker.activity == [(t0, 3), (t1, 2)]


def test_activity_older_than_a_day_is_dropped(tracker: RegistrationTracker, clock: Clock) -> None:
    t0 = clock.now
    a = up(tracker, clock)
    t1 = clock.advance(3600)
    down(tracker, clock, a)
    assert tracker.activity == [(t0, 1), (t1, 0)]
    t2 = clock.advance(ACTIVITY_SPAN_S - 1800)  # t0 is now more than a day ago, t1 is not
    up(tracker, clock)
    assert tracker.activity == [(t1, 0), (t2, 1)]
    assert all(at >= clock.now - ACTIVITY_SPAN_S for at, _ in tracker.activity)


# ---- property: the tracker against a reference model -----------------------------------------

USERS = [("alice", DEV_A), ("Bob", DEV_B), ("bob", DEV_B), ("carol", None)]  # Bob is bob
CONTACTS = ["sip:u@10.0.0.1", "sip:u@10.0.0.2:5070;transport=tcp", "sip:u@[2001:db8::3]"]
OPS = st.lists(
    st.tuples(
        st.sampled_from(["registered", "refreshed", "unregistered", "expired", "tick"]),
        st.integers(0, len(USERS) - 1),
        st.integers(0, len(CONTACTS) - 1),
        st.sampled_from([30, 120, 3600]),
        st.floats(0, 200, allow_nan=False),
    ),
    max_size=60,
)


def _as_binding(r: Registration) -> Binding:
    ip, _, port = r.source.rpartition(":")
    return Binding(
        realm=REALM,
        username=r.username,
        contact=r.contact,
        source_ip=ip,
        source_port=int(port),
        transport=r.transport.upper(),
        user_agent=r.user_agent,
        call_id="call",
        cseq=1,
        expires_at=r.expires_at,
        first_registered=r.registered_since,
        last_registered=r.last_refresh,
        device=device(r.device_id, r.username),
    )


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_the_tracker_follows_a_reference_model(ops: list[tuple[str, int, int, int, float]]) -> None:
    clock = Clock()
    tracker = RegistrationTracker(clock)
    model: dict[tuple[str, str], tuple[float, str | None]] = {}  # key -> expires_at, device

    def model_devices() -> set[str]:
        return {d for _, d in model.values() if d is not None}

    for kind, user, contact_index, expires, dt in ops:
        before_keys, before_devices = set(model), model_devices()
        clock.advance(dt)
        username, device_id = USERS[user]
        k = (username.lower(), CONTACTS[contact_index])
        if kind == "tick":
            tracker.expire()
            for gone in [g for g, (at, _) in model.items() if at + EXPIRY_GRACE_S < clock.now]:
                del model[gone]
        else:
            b = binding(
                clock.now,
                username=username,
                contact=CONTACTS[contact_index],
                expires=expires,
                device_id=device_id,
            )
            tracker.apply_event(kind, sim_event(kind, b, clock.now))
            if kind in {"registered", "refreshed"}:
                model[k] = (clock.now + expires, device_id)
            else:
                model.pop(k, None)

        assert {k: r.expires_at for k, r in tracker.registrations.items()} == {
            k: at for k, (at, _) in model.items()
        }
        assert tracker.registered_devices() == model_devices()
        for d in model_devices():
            assert {r.key for r in tracker.of_device(d)} == {
                k for k, (_, dev) in model.items() if dev == d
            }
        changes = tracker.take_changes()
        assert not changes.updated & changes.removed
        assert set(model) - before_keys <= changes.updated <= set(model)
        assert before_keys - set(model) <= changes.removed
        assert not changes.removed & set(model)
        assert set(changes.devices) >= before_devices ^ model_devices()
        assert all(up == tracker.is_registered(d) for d, up in changes.devices.items())

    # the same final state read back as a poll of /registrations: nothing new to say
    tracker.expire()
    for gone in [g for g, (at, _) in model.items() if at + EXPIRY_GRACE_S < clock.now]:
        del model[gone]
    tracker.take_changes()
    assert set(tracker.registrations) == set(model)
    table = dict(tracker.registrations)
    rows = [row(_as_binding(r), clock.now) for r in table.values()]
    tracker.apply_snapshot(rows, model_devices())
    changes = tracker.take_changes()
    assert [e for e in changes.log if e.kind in {Kind.REGISTERED, Kind.UNREGISTERED}] == []
    assert changes.log == []
    assert set(tracker.registrations) == set(table)
    assert tracker.registered_devices() == model_devices()


# ---- a poll racing the events ----------------------------------------------------------------


def test_a_snapshot_asked_before_an_event_does_not_undo_it(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    asked_at = clock()
    clock.advance(0.2)
    b = binding(clock())
    tracker.apply_event("registered", sim_event("registered", b, clock()))
    clock.advance(0.2)
    tracker.apply_snapshot([], asked_at=asked_at)  # listed before the phone registered
    assert key() in tracker.registrations
    assert kinds(tracker.take_changes()) == [Kind.REGISTERED]

    tracker.apply_snapshot([], asked_at=clock())  # asked after: it is really gone
    assert key() not in tracker.registrations
    assert kinds(tracker.take_changes()) == [Kind.UNREGISTERED]


def test_a_snapshot_asked_before_an_unregister_does_not_bring_the_binding_back(
    tracker: RegistrationTracker, clock: Clock
) -> None:
    b = binding(clock())
    tracker.apply_event("registered", sim_event("registered", b, clock()))
    asked_at = clock.advance(0.2)
    listed = row(b, clock())
    clock.advance(0.2)
    tracker.apply_event("unregistered", sim_event("unregistered", b, clock()))
    tracker.take_changes()
    tracker.apply_snapshot([listed], asked_at=asked_at)
    assert key() not in tracker.registrations
    assert not tracker.take_changes().log

    tracker.apply_snapshot([listed], asked_at=clock.advance(1))  # listed again later: back
    assert key() in tracker.registrations
