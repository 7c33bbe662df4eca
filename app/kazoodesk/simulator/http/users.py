"""`/v2/accounts/{A}/users...` with the core of Kazoo 4.3's users (`cb_users_v2`)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from kazoodesk.schema.validate import validate
from kazoodesk.simulator.docs import new_id, request_fields
from kazoodesk.simulator.http.common import (
    data_object,
    doc_reply,
    list_reply,
    load,
    save,
    soft_delete,
    stamp,
    updated_data,
)
from kazoodesk.simulator.http.envelope import Call, Reply, validation_error
from kazoodesk.simulator.store import Queries, Transaction

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator

USER = "user"
HASHES = ("pvt_md5_auth", "pvt_sha1_auth")
ErrorMap = dict[str, dict[str, dict[str, Any]]]


def password_hashes(username: str, password: str) -> dict[str, str]:
    """`kzd_module_utils:pass_hashes/2` over the lower-cased username."""
    creds = f"{username.lower()}:{password}".encode()
    return {
        "pvt_md5_auth": hashlib.md5(creds).hexdigest(),
        "pvt_sha1_auth": hashlib.sha1(creds).hexdigest(),
    }


def _account_id(call: Call) -> str:
    assert call.account_id is not None
    return call.account_id


def _username_errors(
    queries: Queries, account_id: str, doc: dict[str, Any], own_id: str | None
) -> ErrorMap:
    """`cb_users_v2:check_user_name/2`, over the lower-cased name."""
    username = doc.get("username")
    if not isinstance(username, str):
        return {}
    taken = [d for _a, d, _v in queries.lookup("user_username", username.lower(), account_id)]
    if any(d != own_id for d in taken):
        cause = username.lower()
        return {"username": {"unique": {"message": "User name already in use", "cause": cause}}}
    return {}


def _credential_errors(doc: dict[str, Any], stored: dict[str, Any] | None) -> ErrorMap:
    """`cb_users_v2:maybe_validate_username/2`: a changed user name needs the password, and a
    password needs a user name (the hashes are made from both)."""
    username = str(doc.get("username") or "").lower()
    current = str((stored or {}).get("username") or username)
    if doc.get("password"):
        if username:
            return {}
        message = "The user name must be provided when updating the password"
        return {"username": {"required": {"message": message}}}
    if username and username != current:
        message = "The password must be provided when updating the user name"
        return {"password": {"required": {"message": message}}}
    return {}


def user_document(data: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """Lower-case the username and keep the password only as its hashes; without a user name
    there are no hashes (no login)."""
    doc = dict(data)
    if isinstance(doc.get("username"), str):
        doc["username"] = doc["username"].lower()
    password = doc.pop("password", None)
    if isinstance(password, str) and isinstance(doc.get("username"), str):
        doc.update(password_hashes(doc["username"], password))
    elif stored is not None and doc.get("username"):
        doc.update({k: stored[k] for k in HASHES if k in stored})
    return doc


async def _write(
    call: Call, sim: Simulator, data: dict[str, Any], stored: dict[str, Any] | None
) -> dict[str, Any]:
    account_id = _account_id(call)
    own_id = stored["_id"] if stored else str(data.get("id") or new_id())
    outcome = validate(sim.schemas, "users", data)
    errors = {**_username_errors(sim.store.reader, account_id, outcome.doc, own_id)}
    errors.update(_credential_errors(outcome.doc, stored))
    errors.update(outcome.errors)
    if errors:
        raise validation_error(errors)
    doc = user_document(outcome.doc, stored)
    doc["_id"] = own_id
    hashes = {k: doc.pop(k) for k in HASHES if k in doc}
    stamped = stamp(call, doc, USER, stored)  # it keeps the stored private fields ...
    doc = {k: v for k, v in stamped.items() if k not in HASHES} | hashes  # ... but not hashes

    def recheck(tx: Transaction) -> ErrorMap:
        return _username_errors(tx, account_id, doc, own_id)

    return await save(call, sim, account_id, doc, stored["_rev"] if stored else None, recheck)


def _listing_row(doc: dict[str, Any]) -> dict[str, Any]:
    row = {
        "id": doc["_id"],
        "first_name": doc.get("first_name"),
        "last_name": doc.get("last_name"),
        "username": doc.get("username"),
        "email": doc.get("email"),
        "priv_level": doc.get("priv_level"),
        "presence_id": doc.get("presence_id"),
        "features": doc.get("features", []),
        "enabled": doc.get("enabled"),
    }
    return {k: v for k, v in row.items() if v is not None}


async def list_users(call: Call, sim: Simulator) -> Reply:
    docs = list(sim.store.reader.list_type(_account_id(call), USER))
    return list_reply(call, [_listing_row(doc) for doc in reversed(docs)])


async def create_user(call: Call, sim: Simulator) -> Reply:
    saved = await _write(call, sim, request_fields(data_object(call)), None)
    return doc_reply(saved)


async def get_user(call: Call, sim: Simulator) -> Reply:
    stored = load(call, sim, call.params["user_id"], USER)
    call.if_match(stored["_rev"])
    return doc_reply(stored)


async def update_user(call: Call, sim: Simulator) -> Reply:
    """POST replaces the user's public fields, PATCH merges into them."""
    stored = load(call, sim, call.params["user_id"], USER)
    data = updated_data(request_fields(data_object(call)), stored, call.method == "PATCH")
    return doc_reply(await _write(call, sim, data, stored))


async def delete_user(call: Call, sim: Simulator) -> Reply:
    stored = load(call, sim, call.params["user_id"], USER)
    return await soft_delete(call, sim, stored)
