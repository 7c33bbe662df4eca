"""The simulator's event bus: the REST API and the registrar publish, websocket sessions listen.

Events carry an AMQP-style routing key, as Kazoo's do, and the payload blackhole sends as an
event's `data` (kazoo-blackhole.md §3). Publishing never waits: each subscription has a bounded
queue, and an event that finds it full is dropped for that subscription alone (counted in
`dropped`), as blackhole 4.3.116+ drops events while a session's mailbox holds more than 50
messages (§6). The websocket server also closes a connection it cannot write to for a few
seconds (§1 `send_timeout`), so a reader that stalls loses events, then its connection, and
never slows down the REST API or the other subscribers.

`publish` may be called from any thread; off the loop, the fan-out is handed to the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kazoodesk.simulator.docs import account_db, normalized

QUEUE_LIMIT = 50  # blackhole's `max_queued_messages`
# Not Kazoo: what the simulator's registrar reports (the `registration.*` bindings)
REGISTRATION_KINDS = (
    "registered",
    "refreshed",
    "unregistered",
    "expired",
    "auth_failed",
    "notify_result",
)
_KEY_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-~_")


@dataclass(frozen=True)
class Event:
    routing_key: str  # dot-separated words, each encoded with `encode_key`
    name: str
    data: dict[str, Any]


def encode_key(word: str) -> str:
    """`kz_amqp_util:encode/1`: one routing key word (`.` is `%2E`, a space `+`)."""
    if word in {"*", "#"}:
        return word
    out = []
    for byte in word.encode():
        char = chr(byte)
        out.append(char if char in _KEY_SAFE else "+" if char == " " else f"%{byte:02X}")
    return "".join(out)


class Subscription:
    """One subscriber: `select(event)` says what to queue for it (None: not wanted)."""

    def __init__(self, bus: EventBus, select: Callable[[Event], Any], limit: int) -> None:
        self._bus = bus
        self._select = select
        self.queue: asyncio.Queue[Any] = asyncio.Queue(limit)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        item = self._select(event)
        if item is None:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1

    def close(self) -> None:
        self._bus._subscriptions.discard(self)


class EventBus:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def __len__(self) -> int:
        return len(self._subscriptions)

    def subscribe(self, select: Callable[[Event], Any], limit: int = QUEUE_LIMIT) -> Subscription:
        """A new subscription (call it on the loop that reads it)."""
        self._loop = asyncio.get_running_loop()
        subscription = Subscription(self, select, limit)
        self._subscriptions.add(subscription)
        return subscription

    def publish(self, event: Event) -> None:
        loop = self._loop
        if loop is None or not self._subscriptions:
            return  # no replay: nobody listens, nothing is kept
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._fan_out(event)
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(self._fan_out, event)

    def _fan_out(self, event: Event) -> None:
        for subscription in list(self._subscriptions):
            subscription.offer(event)

    def publish_registration(self, account_id: str, kind: str, payload: Mapping[str, Any]) -> None:
        """Not Kazoo: a registrar event of the account, `kind` one of REGISTRATION_KINDS.

        `payload` (JSON values; keys are normalised, `Source-IP` is `source_ip`) should hold
        `username` and `realm`, and what applies of `device_id`, `owner_id`, `contact`,
        `expires`, `user_agent`, `call_id`, `source_ip`, `source_port`, `transport`, and for
        `notify_result` `event`, `outcome` (`sent`, `answered`, `timed_out`, `not_registered`)
        and `code`. It goes out unchanged as `data` of `registration.<kind>` events, and, for
        registered/refreshed/unregistered, as a Kamailio `reg_success` for the
        `registration.success` binding of the unmerged blackhole module (kazoo-blackhole.md §4).
        """
        for event in registration_events(account_id, kind, payload):
            self.publish(event)


def doc_event(action: str, account_id: str, doc: dict[str, Any], soft_deleted: bool) -> Event:
    """`kzs_publish:publish/3`: what a save or delete of `doc` in the account's database
    publishes (`action` is created, edited or deleted); the body itself is never sent."""
    name = f"doc_{action}"
    database = account_db(account_id)
    doc_type = str(doc.get("pvt_type") or "undefined")
    data = {
        "id": doc["_id"],
        "origin_cache": "kazoo_data_cache",
        "type": doc_type,
        "database": database,
        "rev": doc.get("_rev"),
        "account_id": account_id,
        # swapped in every 4.3 tag: `Date-Modified` is the creation time, and the reverse
        "date_modified": doc.get("pvt_created"),
        "date_created": doc.get("pvt_modified"),
        "is_soft_deleted": soft_deleted,
        "event_category": "configuration",
        "event_name": name,
        "app_name": "datamgr",
        "app_version": "4.0.0",
        "msg_id": uuid.uuid4().hex,
    }
    routing_key = f"{name}.{database}.{doc_type}.{encode_key(doc['_id'])}"
    return Event(routing_key, name, {k: v for k, v in data.items() if v is not None})


def registration_events(account_id: str, kind: str, payload: Mapping[str, Any]) -> list[Event]:
    if kind not in REGISTRATION_KINDS:
        raise ValueError(f"unknown registration event {kind!r}")
    fields: dict[str, Any] = normalized(json.loads(json.dumps(dict(payload))))  # JSON only
    now = int(time.time())
    username = str(fields.get("username") or "")
    realm = str(fields.get("realm") or "")
    head = {"account_id": account_id, "event_category": "registration", "event_name": kind}
    data = {**fields, **head, "event_timestamp": now, "msg_id": uuid.uuid4().hex}
    user_key = encode_key(username or str(fields.get("device_id") or "undefined"))
    events = [Event(f"registration.{kind}.{account_id}.{user_key}", kind, data)]
    if kind in {"registered", "refreshed", "unregistered"}:
        gone = kind == "unregistered"
        port = fields.get("source_port")
        channel_vars = {
            "account_id": account_id,
            "authorizing_id": fields.get("device_id"),
            "authorizing_type": "device",
            "owner_id": fields.get("owner_id"),
            "username": username,
            "realm": realm,
        }
        success = {
            # the fields Kamailio 4.3 publishes (`registrar-role.cfg`, §4.2)
            "event_category": "directory",
            "event_name": "reg_success",
            "status": "Unregistered" if gone else "Registered",
            "event_timestamp": now,
            "expires": 0 if gone else fields.get("expires"),
            "first_registration": kind == "registered",
            "contact": fields.get("contact"),
            "call_id": fields.get("call_id"),
            "realm": realm,
            "username": username,
            "from_user": username,
            "from_host": realm,
            "to_user": username,
            "to_host": realm,
            "user_agent": fields.get("user_agent"),
            "custom_channel_vars": _present(channel_vars),
            "source_ip": fields.get("source_ip"),
            "source_port": None if port is None else str(port),
            "msg_id": uuid.uuid4().hex,
        }
        key = f"registration.success.{encode_key(realm)}.{encode_key(username)}"
        events.append(Event(key, "reg_success", _present(success)))
    return events


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
