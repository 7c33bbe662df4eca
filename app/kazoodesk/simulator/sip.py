"""The simulator's SIP registrar: the store answers its credential lookups, its binding
events go on the event bus, and the API's NOTIFYs go out through it."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import TYPE_CHECKING, Any

from kazoodesk.simulator.devices import credentials_key
from kazoodesk.simulator.registrar.changes import RegistrarEvent
from kazoodesk.simulator.registrar.credentials import DeviceCredentials
from kazoodesk.simulator.registrar.front import FrontView
from kazoodesk.simulator.registrar.nonces import NonceSigner
from kazoodesk.simulator.registrar.notify import NotifyOutcome
from kazoodesk.simulator.registrar.register import RegistrarPolicy
from kazoodesk.simulator.registrar.service import Registrar

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Notification, Simulator

log = logging.getLogger(__name__)

_MISSING = object()


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class DeviceDirectory:
    """The registrar's view of the store: devices by (realm, username) and by `sip.ip`,
    realms by account. Answers are cached in memory until the next commit (a write anywhere
    drops them all, so an edit is seen at once); the cache is bounded too, so REGISTERs for
    ever new usernames cannot grow it without limit.

    A lookup that misses the cache costs one or two indexed reads: the realm's accounts and
    whether any device has this realm of its own are cached per realm, so a username in an
    account's realm is one view row and one document away."""

    MAX_CACHED = 250_000  # entries; past this the cache starts over (about 25 MB at most)

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._users: dict[tuple[str, str], DeviceCredentials | None] = {}
        self._realms: dict[str, tuple[tuple[str, ...], bool]] = {}
        self._ips: dict[str, DeviceCredentials | None] = {}
        self._generation = 0
        self._front: tuple[int, FrontView] = (-1, FrontView())
        sim.store.on_commit(self._forget)

    def _forget(self, touched: list[tuple[str, str]]) -> None:
        """On the writer thread, before the writer is answered: drop every answer."""
        if touched:
            self._generation += 1
            self._users.clear()
            self._realms.clear()
            self._ips.clear()

    def warm(self) -> int:
        """Fill the cache at start with every device that a lookup in its account's realm
        would find, from one query (a first REGISTER then costs no store read); return how
        many. Same answers as `lookup`: the realm's accounts in its order, the first device
        by id for a username; a realm that some device has as its own is left to `lookup`.
        Nothing is kept past `MAX_CACHED`, nor when a commit came in meanwhile (a commit
        drops the cache as before; it then fills again a lookup at a time)."""
        generation = self._generation
        rows = self._sim.store.reader.conn.execute(
            "SELECT v.account_id, v.key, v.doc_id, d.body FROM views v"
            " JOIN docs d ON d.account_id = v.account_id AND d.id = v.doc_id"
            " WHERE v.view = 'sip_credentials' AND d.deleted = 0"
            " ORDER BY v.account_id, v.doc_id"
        )
        firsts: dict[str, dict[str, str]] = {}  # account -> username -> its first device
        for count, (account_id, key, _doc_id, body) in enumerate(rows, 1):
            if count > self.MAX_CACHED:
                return 0
            firsts.setdefault(account_id, {}).setdefault(key, body)
        users: dict[tuple[str, str], DeviceCredentials | None] = {}
        realms: set[str] = set()
        for account_id in firsts:
            realm = (self._sim.accounts.get(account_id) or {}).get("realm")
            if isinstance(realm, str) and realm:
                realms.add(realm.lower())
        for realm in realms:
            accounts, own = self._realm(realm)
            if own:
                continue
            realm = sys.intern(realm)
            for account_id in accounts:
                for key, body in firsts.get(account_id, {}).items():
                    if (realm, key) not in users:
                        users[realm, key] = self._credentials(account_id, json.loads(body), realm)
        if generation != self._generation or len(self._users) + len(users) > self.MAX_CACHED:
            return 0
        self._users.update(users)
        return len(users)

    def _keep(self, cache: dict[Any, Any], key: Any, value: Any, generation: int) -> None:
        if generation != self._generation:  # a commit during the read: keep nothing
            return
        if len(cache) >= self.MAX_CACHED:
            cache.clear()
        cache[key] = value

    def lookup(self, realm: str, username: str) -> DeviceCredentials | None:
        key = (realm, username)
        found = self._users.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        generation = self._generation
        device = self._find(realm, username)
        self._keep(self._users, key, device, generation)
        return device

    def front_view(self) -> FrontView:
        """What the SIP front process must know: every realm of an account or of a device
        of its own, and the addresses of IP-authenticated devices. Read again after a commit."""
        if self._front[0] != self._generation:
            generation = self._generation
            rows = self._sim.store.reader.conn.execute(
                "SELECT v.view, v.key FROM views v"
                " JOIN docs d ON d.account_id = v.account_id AND d.id = v.doc_id"
                " WHERE v.view IN ('account_realm', 'sip_realm', 'sip_ip') AND d.deleted = 0"
            )
            realms: set[str] = set()
            ips: set[str] = set()
            for view, key in rows:
                (ips if view == "sip_ip" else realms).add(key)
            self._front = (generation, FrontView(frozenset(realms), frozenset(ips)))
        return self._front[1]

    def realm_known(self, realm: str) -> bool:
        accounts, own = self._realm(realm)
        return bool(accounts) or own

    def lookup_ip(self, source_ip: str) -> DeviceCredentials | None:
        found = self._ips.get(source_ip, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        generation = self._generation
        device = self._first("sip_ip", source_ip, None)
        self._keep(self._ips, source_ip, device, generation)
        return device

    def _realm(self, realm: str) -> tuple[tuple[str, ...], bool]:
        """The ids of the accounts with this realm, and whether a device has it as a realm
        of its own (`sip.realm`)."""
        found = self._realms.get(realm)
        if found is not None:
            return found
        generation = self._generation
        accounts = tuple(sys.intern(a["_id"]) for a in self._sim.accounts.by_realm(realm))
        own = bool(self._sim.store.reader.lookup("sip_realm", realm))
        value = (accounts, own)
        self._keep(self._realms, sys.intern(realm), value, generation)
        return value

    def _find(self, realm: str, username: str) -> DeviceCredentials | None:
        # a device with a realm of its own (`sip_auth`), else the realm's account's device
        accounts, own = self._realm(realm)
        if own:
            found = self._first("sip_auth", credentials_key(username, realm), realm)
            if found is not None:
                return found
        for account_id in accounts:
            found = self._first("sip_credentials", username.lower(), realm, account_id)
            if found is not None:
                return found
        return None

    def _first(
        self, view: str, key: str, realm: str | None, account_id: str | None = None
    ) -> DeviceCredentials | None:
        reader = self._sim.store.reader
        for acc, doc_id, _value in reader.lookup(view, key, account_id):
            doc = reader.get(acc, doc_id)
            if doc is not None:
                return self._credentials(acc, doc, realm)
        return None

    def _credentials(
        self, account_id: str, doc: dict[str, Any], realm: str | None
    ) -> DeviceCredentials:
        sip = _object(doc.get("sip"))
        account = self._sim.accounts.get(account_id) or {}
        enabled = (
            doc.get("enabled", True) is not False and account.get("enabled", True) is not False
        )
        owner = doc.get("owner_id")
        ip = sip.get("ip")
        home = realm or str(sip.get("realm") or account.get("realm") or "")
        # shared strings: a cached device costs its id and password, not another copy of
        # its account id and realm
        return DeviceCredentials(
            device_id=doc["_id"],
            account_id=sys.intern(account_id),
            realm=sys.intern(home.lower()),
            username=str(sip.get("username") or ""),
            password=str(sip.get("password") or ""),
            enabled=enabled,
            method="ip" if sip.get("method") == "ip" else "password",
            owner_id=owner if isinstance(owner, str) and owner else None,
            ip=ip if isinstance(ip, str) else None,
        )


def event_payload(event: RegistrarEvent) -> dict[str, Any]:
    """What `registration.<kind>` events carry (serialised now: a binding changes later)."""
    payload: dict[str, Any] = {
        "username": event.username,
        "realm": event.realm,
        "source_ip": event.source[0],
        "source_port": event.source[1],
        "transport": event.transport.lower(),
    }
    b = event.binding
    if b is not None:
        payload.update(
            contact=f"<{b.contact}>",
            expires=b.remaining(event.at),
            user_agent=b.user_agent,
            call_id=b.call_id,
        )
    device = event.device
    device_id = (b.device_id if b is not None else None) or (device.device_id if device else None)
    if device_id:
        payload["device_id"] = device_id
    if device is not None and device.owner_id:
        payload["owner_id"] = device.owner_id
    if event.reason:
        payload["reason"] = event.reason
    return payload


def build_registrar(sim: Simulator, secret: bytes) -> tuple[Registrar, DeviceDirectory]:
    directory = DeviceDirectory(sim)
    directory.warm()

    def on_change(event: RegistrarEvent) -> None:
        if not len(sim.events):  # nobody listens: the bus would build the events and drop them
            return
        account_id = event.device.account_id if event.device is not None else None
        if account_id is None:
            accounts = sim.accounts.by_realm(event.realm)
            account_id = accounts[0]["_id"] if accounts else None
        if account_id is not None:
            sim.events.publish_registration(account_id, event.kind.value, event_payload(event))

    registrar = Registrar(
        RegistrarPolicy(),
        NonceSigner(secret),
        directory.lookup,
        directory.realm_known,
        directory.lookup_ip,
        on_change,
    )
    return registrar, directory


def send_notify(sim: Simulator, registrar: Registrar, notification: Notification) -> None:
    """Hand the API's NOTIFY to the registrar; its outcomes become `notify_result` events."""
    n = notification
    base: dict[str, Any] = {
        "username": n.username,
        "realm": n.realm,
        "device_id": n.device_id,
        "event": n.event,
    }
    try:
        task = registrar.notify((n.realm, n.username), n.event, n.body, n.content_type)
    except (ValueError, RuntimeError) as exc:
        log.debug("NOTIFY to %s@%s not sent: %s", n.username, n.realm, exc)
        sim.events.publish_registration(
            n.account_id, "notify_result", {**base, "outcome": "failed"}
        )
        return

    def done(finished: asyncio.Task[list[NotifyOutcome]]) -> None:
        if finished.cancelled():
            return
        if finished.exception() is not None:
            log.error("NOTIFY to %s@%s failed", n.username, n.realm, exc_info=finished.exception())
            return
        outcomes = finished.result()
        if not outcomes:
            missing = {**base, "outcome": "not_registered"}
            sim.events.publish_registration(n.account_id, "notify_result", missing)
        for outcome in outcomes:
            payload: dict[str, Any] = {
                **base,
                "outcome": outcome.result.value,
                "code": outcome.code,
                "contact": outcome.contact,
                "transport": outcome.transport.lower(),
            }
            if outcome.reason:
                payload["reason"] = outcome.reason
            sim.events.publish_registration(n.account_id, "notify_result", payload)

    task.add_done_callback(done)
