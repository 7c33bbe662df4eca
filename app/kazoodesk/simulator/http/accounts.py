"""`/v2/accounts/{A}`, its children and descendants (Kazoo 4.3 `cb_accounts`)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from kazoodesk.schema.validate import validate
from kazoodesk.simulator.docs import (
    alphanum,
    new_id,
    request_fields,
    stamp_private,
)
from kazoodesk.simulator.http.common import (
    data_object,
    doc_reply,
    list_reply,
    save,
    soft_delete,
    updated_data,
)
from kazoodesk.simulator.http.envelope import Call, Reply, system_error, validation_error
from kazoodesk.simulator.store import Transaction

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator

ACCOUNT = "account"
ErrorMap = dict[str, dict[str, dict[str, Any]]]


def _account(call: Call, sim: Simulator) -> dict[str, Any]:
    assert call.account_id is not None
    account = sim.accounts.get(call.account_id)
    assert account is not None  # the pipeline answered 404 already
    return account


def _unique_errors(sim: Simulator, doc: dict[str, Any], own_id: str | None) -> ErrorMap:
    errors: ErrorMap = {}
    name = doc.get("name", "")
    key = alphanum(name)
    if key and any(a["_id"] != own_id for a in sim.accounts.by_name(key)):
        errors["name"] = {"unique": {"message": "Account name already in use", "cause": name}}
    realm = doc.get("realm")
    if isinstance(realm, str) and any(a["_id"] != own_id for a in sim.accounts.by_realm(realm)):
        errors["realm"] = {"unique": {"message": "Account realm already in use", "cause": realm}}
    return errors


def _checked(sim: Simulator, data: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    outcome = validate(sim.schemas, "accounts", data)
    errors = {**_unique_errors(sim, outcome.doc, own_id), **outcome.errors}
    if errors:
        raise validation_error(errors)
    return outcome.doc


def _stamp(call: Call, doc: dict[str, Any], stored: dict[str, Any] | None = None) -> dict[str, Any]:
    """The private fields of an account document: it lives in its own database."""
    return stamp_private(
        doc, ACCOUNT, doc["_id"], call.request_id, call.auth_account_id, call.auth_owner_id, stored
    )


def account_document(
    data: dict[str, Any], account_id: str, parent: dict[str, Any] | None
) -> dict[str, Any]:
    """A new account document under `parent` (None for the master account)."""
    doc = dict(data)
    doc["_id"] = account_id
    doc.setdefault("realm", f"{secrets.token_hex(4)}.sip.kazoodesk.test")
    doc["pvt_tree"] = [*(parent.get("pvt_tree") or []), parent["_id"]] if parent else []
    doc["pvt_enabled"] = doc.get("enabled", True)
    return doc


async def create_child(call: Call, sim: Simulator, parent: dict[str, Any]) -> Reply:
    data = request_fields(data_object(call))
    doc = _checked(sim, data, None)
    child_id = str(data.get("id") or new_id())
    doc = account_document(doc, child_id, parent)
    doc = _stamp(call, doc)

    def recheck(tx: Transaction) -> ErrorMap:
        return _unique_errors(sim, doc, child_id)

    saved = await save(call, sim, child_id, doc, None, recheck)
    return doc_reply(saved)


async def put_account(call: Call, sim: Simulator) -> Reply:
    return await create_child(call, sim, _account(call, sim))


async def put_top_account(call: Call, sim: Simulator) -> Reply:
    parent = sim.accounts.get(call.auth_account_id or "")
    assert parent is not None
    return await create_child(call, sim, parent)


async def get_account(call: Call, sim: Simulator) -> Reply:
    account = _account(call, sim)
    call.if_match(account["_rev"])
    return doc_reply(account)


async def update_account(call: Call, sim: Simulator) -> Reply:
    """POST replaces the account's public fields, PATCH merges into them."""
    stored = _account(call, sim)
    data = updated_data(request_fields(data_object(call)), stored, call.method == "PATCH")
    doc = _checked(sim, data, stored["_id"])
    doc["_id"] = stored["_id"]
    doc = _stamp(call, doc, stored)
    doc["pvt_enabled"] = doc.get("enabled", True)
    saved = await save(call, sim, stored["_id"], doc, stored["_rev"])
    return doc_reply(saved)


async def delete_account(call: Call, sim: Simulator) -> Reply:
    stored = _account(call, sim)
    call.if_match(stored["_rev"])
    if sim.accounts.children(stored["_id"]):
        # `cb_context:add_system_error(account_has_descendants)` is a 500 in Kazoo 4.3
        raise system_error(500, "account_has_descendants", "account has descendants")
    return await soft_delete(call, sim, stored)


def _tree_row(account: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": account["_id"],
        "name": account.get("name"),
        "realm": account.get("realm"),
        "tree": account.get("pvt_tree", []),
    }


async def children(call: Call, sim: Simulator) -> Reply:
    accounts = sim.accounts.children(_account(call, sim)["_id"])
    return list_reply(call, [_tree_row(a) for a in accounts])


async def descendants(call: Call, sim: Simulator) -> Reply:
    accounts = sim.accounts.descendants(_account(call, sim)["_id"])
    return list_reply(call, [_tree_row(a) for a in accounts])
