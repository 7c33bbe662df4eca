"""`PUT /v2/user_auth` and `PUT /v2/api_auth` (Kazoo 4.3 `cb_user_auth`, `cb_api_auth`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kazoodesk.schema.validate import validate
from kazoodesk.simulator.docs import alphanum
from kazoodesk.simulator.http.common import data_object
from kazoodesk.simulator.http.envelope import (
    Call,
    KazooError,
    Reply,
    invalid_credentials,
    validation_error,
)

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator


def auth_data(sim: Simulator, account: dict[str, Any], owner_id: str | None) -> dict[str, Any]:
    """The body of a successful login (`crossbar_util:response_auth/3`)."""
    tree = account.get("pvt_tree") or []
    reseller = next(
        (a for a in reversed(tree) if (sim.accounts.get(a) or {}).get("pvt_reseller")), None
    )
    data = {
        "account_id": account["_id"],
        "account_name": account.get("name"),
        "apps": [],
        "capabilities": {},
        "is_master_account": not tree,
        "is_reseller": bool(account.get("pvt_reseller")),
        "language": account.get("language", "en-us"),
        "reseller_id": reseller or (tree[0] if tree else account["_id"]),
        "ui_config": {},
    }
    if owner_id:
        data["owner_id"] = owner_id
    return data


def _login(sim: Simulator, call: Call, account: dict[str, Any], owner_id: str | None) -> Reply:
    if not account.get("enabled", True):
        raise validation_error({"account": {"disabled": {"message": "account disabled"}}})
    claims: dict[str, Any] = {"account_id": account["_id"]}
    if owner_id:
        claims["owner_id"] = owner_id
    call.token = sim.tokens.issue(claims)
    return Reply(auth_data(sim, account, owner_id))


def _accounts_named(sim: Simulator, data: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(data.get("account_name"), str):
        return sim.accounts.by_name(alphanum(data["account_name"]))
    realm = data.get("account_realm") or data.get("realm")
    if isinstance(realm, str):
        return sim.accounts.by_realm(realm)
    return []


async def user_auth(call: Call, sim: Simulator) -> Reply:
    outcome = validate(sim.schemas, "user_auth", data_object(call))
    if outcome.errors:
        raise validation_error(outcome.errors)
    data = outcome.doc
    view = "creds_by_sha" if data.get("method") == "sha" else "creds_by_md5"
    for account in _accounts_named(sim, data):
        for _a, user_id, _v in sim.store.reader.lookup(view, data["credentials"], account["_id"]):
            return _login(sim, call, account, user_id)
    raise invalid_credentials()


async def api_auth(call: Call, sim: Simulator) -> Reply:
    outcome = validate(sim.schemas, "api_auth", data_object(call))
    if outcome.errors:
        raise validation_error(outcome.errors)
    api_key = outcome.doc["api_key"]
    accounts = sim.accounts.by_api_key(api_key)
    if not accounts:
        raise KazooError(404, "bad identifier", [api_key])
    return _login(sim, call, accounts[0], None)
