"""The simulator's services, built once and handed to every request handler."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kazoodesk.schema.registry import SchemaRegistry
from kazoodesk.simulator.events import EventBus
from kazoodesk.simulator.registrar.service import Registrar
from kazoodesk.simulator.sip import send_notify
from kazoodesk.simulator.store import DocumentStore
from kazoodesk.simulator.tokens import TokenSigner
from kazoodesk.simulator.views import INDEX_VERSION, index_document

DB_FILE = "kazoodesk.sqlite3"


class AccountDirectory:
    """The account tree: lookups by id, name, realm and API key, and who may reach what.

    Account documents are read on every request (URL account, token account) and rarely
    written, so they are kept in memory; the store's commit listener drops a changed one
    before its writer is answered. Callers must not modify the documents they get.
    """

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._cache: dict[str, dict[str, Any]] = {}
        self._generation = 0  # bumped by every commit that touches an account document
        store.on_commit(self._forget)

    def _forget(self, touched: list[tuple[str, str]]) -> None:
        for account_id, doc_id in touched:
            if account_id == doc_id:
                self._generation += 1
                self._cache.pop(doc_id, None)

    def get(self, account_id: str) -> dict[str, Any] | None:
        cached = self._cache.get(account_id)
        if cached is not None:
            return cached
        generation = self._generation
        doc = self._store.reader.get(account_id, account_id)
        if not doc or doc.get("pvt_type") != "account":
            return None
        # a commit that landed while this read ran may have been read or not: keep neither
        if generation == self._generation:
            self._cache[account_id] = doc
        return doc

    def may_access(self, auth_account_id: str, target_id: str) -> bool:
        """Crossbar's `cb_simple_authz`: own account, a descendant, or superduper-admin."""
        if auth_account_id == target_id:
            return True
        auth = self.get(auth_account_id)
        if auth is None:
            return False
        if auth.get("pvt_superduper_admin"):
            return True
        target = self.get(target_id)
        return target is not None and auth_account_id in (target.get("pvt_tree") or [])

    def is_superduper(self, account_id: str | None) -> bool:
        account = self.get(account_id) if account_id else None
        return bool(account and account.get("pvt_superduper_admin"))

    def _find(self, view: str, key: str) -> list[dict[str, Any]]:
        found = []
        for account_id, _doc_id, _value in self._store.reader.lookup(view, key):
            account = self.get(account_id)
            if account is not None:
                found.append(account)
        return found

    def by_name(self, normalized_name: str) -> list[dict[str, Any]]:
        return self._find("account_name", normalized_name)

    def by_realm(self, realm: str) -> list[dict[str, Any]]:
        return self._find("account_realm", realm.lower())

    def by_api_key(self, api_key: str) -> list[dict[str, Any]]:
        return self._find("account_api_key", api_key)

    def children(self, account_id: str) -> list[dict[str, Any]]:
        rows = self._store.reader.lookup("account_ancestor", account_id)
        return [a for a in (self.get(acc) for acc, _d, parent in rows if parent) if a]

    def descendants(self, account_id: str) -> list[dict[str, Any]]:
        rows = self._store.reader.lookup("account_ancestor", account_id)
        return [a for a in (self.get(acc) for acc, _d, _p in rows) if a]


@dataclass
class Notification:
    """A SIP NOTIFY the API asked the switch to send (Kazoo publishes it on AMQP)."""

    account_id: str
    device_id: str
    username: str
    realm: str
    event: str
    body: str | None = None
    content_type: str | None = None


@dataclass
class Simulator:
    store: DocumentStore
    schemas: SchemaRegistry
    tokens: TokenSigner
    accounts: AccountDirectory
    # What was published for the switch to act on (a record; `registrar` sends it).
    notifications: list[Notification] = field(default_factory=list)
    # document and registration events, for the event websocket (http/websocket.py)
    events: EventBus = field(default_factory=EventBus)
    # the running SIP registrar (runner.py starts it); None when serving without one
    registrar: Registrar | None = None

    @classmethod
    def open(cls, data_dir: Path, schemas: SchemaRegistry | None = None) -> Simulator:
        store = DocumentStore(data_dir / DB_FILE, index_document, INDEX_VERSION)
        try:
            secret = store.setting("token_secret", lambda: secrets.token_hex(32))
            return cls(
                store=store,
                schemas=schemas or SchemaRegistry.load(),
                tokens=TokenSigner(bytes.fromhex(secret)),
                accounts=AccountDirectory(store),
            )
        except BaseException:
            store.close()
            raise

    def publish_notify(self, notification: Notification) -> None:
        self.notifications.append(notification)
        if self.registrar is not None:
            send_notify(self, self.registrar, notification)

    def close(self) -> None:
        self.store.close()
