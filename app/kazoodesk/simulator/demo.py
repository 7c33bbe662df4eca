"""Seeding an empty store: the master account always, the demo company on request."""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path
from typing import Any

from kazoodesk.resources import resource_path
from kazoodesk.schema.registry import SchemaRegistry
from kazoodesk.schema.validate import validate
from kazoodesk.simulator import devices as device_rules
from kazoodesk.simulator.docs import stamp_private
from kazoodesk.simulator.http.accounts import account_document
from kazoodesk.simulator.http.users import user_document
from kazoodesk.simulator.store import DocumentStore, Transaction

CREDENTIALS_KEY = "login_credentials"
DEMO_FILE = "demo.json"


class SeedError(Exception):
    """The seed data does not fit the schemas or the rules (a bug in the shipped file)."""


def load_demo_data(path: Path | None = None) -> dict[str, Any]:
    with open(path or resource_path("demo", DEMO_FILE), encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def bootstrap_data() -> dict[str, Any]:
    """A master account with a fresh random login, for a store that is not a demo."""
    return {
        "accounts": [
            {
                "id": uuid.uuid4().hex,
                "name": "KazooDesk Master",
                "realm": "master.kazoodesk.test",
                "parent_id": None,
                "superduper_admin": True,
                "api_key": secrets.token_hex(32),
                "users": [
                    {
                        "id": uuid.uuid4().hex,
                        "first_name": "Super",
                        "last_name": "Admin",
                        "username": "superadmin",
                        "password": secrets.token_urlsafe(12),
                        "priv_level": "admin",
                    }
                ],
                "devices": [],
            }
        ]
    }


def _stamp(doc: dict[str, Any], doc_type: str, account_id: str) -> dict[str, Any]:
    return stamp_private(doc, doc_type, account_id, uuid.uuid4().hex, None, None)


def _checked(schemas: SchemaRegistry, name: str, doc: dict[str, Any]) -> dict[str, Any]:
    outcome = validate(schemas, name, doc)
    if outcome.errors:
        raise SeedError(f"{name} {doc.get('id')}: {outcome.errors}")
    return outcome.doc


def _seed_account(
    tx: Transaction, schemas: SchemaRegistry, spec: dict[str, Any], parents: dict[str, Any]
) -> dict[str, Any]:
    fields = {
        k: spec[k] for k in ("name", "realm", "timezone", "language") if spec.get(k) is not None
    }
    parent = parents.get(spec.get("parent_id") or "")
    doc = account_document(_checked(schemas, "accounts", fields), spec["id"], parent)
    doc = _stamp(doc, "account", spec["id"])
    doc["pvt_superduper_admin"] = bool(spec.get("superduper_admin"))
    doc["pvt_reseller"] = bool(spec.get("reseller"))
    if spec.get("api_key"):
        doc["pvt_api_key"] = spec["api_key"]
    account = tx.put(spec["id"], doc, None)
    realm = account.get("realm")
    for user in spec.get("users", []):
        data = {k: v for k, v in user.items() if k != "id"}
        user_doc = user_document(_checked(schemas, "users", data), None)
        user_doc["_id"] = user["id"]
        tx.put(spec["id"], _stamp(user_doc, "user", spec["id"]), None)
    for device in spec.get("devices", []):
        prepared = device_rules.prepare({k: v for k, v in device.items() if k != "id"}, realm)
        scope = device_rules.Scope(spec["id"], realm, superduper=True)
        errors = device_rules.custom_errors(tx, scope, prepared, None)
        if errors:
            raise SeedError(f"device {device['id']}: {errors}")
        device_doc = _checked(schemas, "devices", prepared)
        device_doc["_id"] = device["id"]
        tx.put(spec["id"], _stamp(device_doc, "device", spec["id"]), None)
    return account


def _login(account: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    admin = next(
        (u for u in spec.get("users", []) if u.get("priv_level") == "admin"), spec["users"][0]
    )
    return {
        "account_id": account["_id"],
        "account_name": account.get("name"),
        "realm": account.get("realm"),
        "username": admin["username"],
        "password": admin["password"],
        "api_key": spec.get("api_key"),
    }


def seed(store: DocumentStore, schemas: SchemaRegistry, data: dict[str, Any]) -> dict[str, Any]:
    """Write the accounts of `data`; remember and return the logins the READY line shows.

    The first superduper account is `master`; the demo company (the first account that has
    devices and a parent) is the main login, or the master when there is none.
    """

    def write(tx: Transaction) -> dict[str, Any]:
        accounts: dict[str, Any] = {}
        logins: dict[str, Any] = {}
        main: dict[str, Any] | None = None
        for spec in data["accounts"]:
            account = _seed_account(tx, schemas, spec, accounts)
            accounts[spec["id"]] = account
            login = _login(account, spec)
            if spec.get("superduper_admin") and "master" not in logins:
                logins["master"] = login
            if main is None and spec.get("devices") and spec.get("parent_id"):
                main = login
        credentials = {**(main or logins["master"]), "master": logins["master"]}
        tx.set_meta(CREDENTIALS_KEY, json.dumps(credentials))
        return credentials

    return store.write_sync(write)


def saved_credentials(store: DocumentStore) -> dict[str, Any] | None:
    value = store.reader.meta(CREDENTIALS_KEY)
    return json.loads(value) if value else None
