"""`/v2/accounts/{A}/devices...` and `/users/{U}/devices` (Kazoo 4.3 `cb_devices_v2`)."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from kazoodesk.schema.validate import validate
from kazoodesk.simulator import devices as rules
from kazoodesk.simulator.docs import new_id, normalized, request_fields
from kazoodesk.simulator.http.common import (
    data_object,
    doc_reply,
    list_reply,
    load,
    page_size,
    save,
    soft_delete,
    stamp,
    start_key,
    updated_data,
)
from kazoodesk.simulator.http.envelope import (
    Call,
    KazooError,
    Reply,
    system_error,
    validation_error,
)
from kazoodesk.simulator.http.registrations import flush, registered_device_ids
from kazoodesk.simulator.service import Notification
from kazoodesk.simulator.store import Transaction

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator

DEVICE = "device"


def _account_id(call: Call) -> str:
    assert call.account_id is not None
    return call.account_id


def _realm(sim: Simulator, account_id: str) -> str | None:
    account = sim.accounts.get(account_id) or {}
    realm = account.get("realm")
    return str(realm) if realm else None


def _scope(call: Call, sim: Simulator) -> rules.Scope:
    account_id = _account_id(call)
    superduper = sim.accounts.is_superduper(call.auth_account_id)
    return rules.Scope(account_id, _realm(sim, account_id), superduper)


# ---- validation and saving -------------------------------------------------------------------


def _checked(
    sim: Simulator, scope: rules.Scope, data: dict[str, Any], stored: dict[str, Any] | None
) -> dict[str, Any]:
    """Run `cb_devices:validate_device/2` on `data`; 400 with every error found, or the doc."""
    prepared = rules.prepare(data, scope.realm)
    prepared.pop("sync", None)
    errors = rules.custom_errors(sim.store.reader, scope, prepared, stored)
    outcome = validate(sim.schemas, "devices", prepared)
    errors.update(outcome.errors)  # a schema error on a path replaces the custom one
    if errors:
        raise validation_error(errors)
    return outcome.doc


async def _store_device(
    call: Call,
    sim: Simulator,
    scope: rules.Scope,
    doc: dict[str, Any],
    stored: dict[str, Any] | None,
) -> dict[str, Any]:
    def recheck(tx: Transaction) -> rules.ErrorMap:
        return rules.custom_errors(tx, scope, doc, stored)

    expected_rev = stored["_rev"] if stored else None
    return await save(call, sim, scope.account_id, doc, expected_rev, recheck)


def _wants_sync(data: dict[str, Any]) -> bool:
    return data.get("sync") is True or data.get("sync") == "true"


def _credentials(doc: dict[str, Any]) -> tuple[Any, Any]:
    sip = rules.sub_object(doc, "sip")
    return sip.get("username"), sip.get("password")


# ---- handlers ----------------------------------------------------------------------------------


async def list_devices(call: Call, sim: Simulator) -> Reply:
    start = start_key(call)
    docs = sim.store.reader.list_type(_account_id(call), DEVICE, start or "")
    page, following = rules.paginate(docs, call.query, page_size(call))
    return list_reply(call, [rules.listing_row(doc) for doc in reversed(page)], start, following)


async def create_device(call: Call, sim: Simulator) -> Reply:
    scope = _scope(call, sim)
    data = request_fields(data_object(call))
    doc = _checked(sim, scope, data, None)
    doc_id = str(data.get("id") or new_id())
    doc["_id"] = doc_id
    doc = stamp(call, doc, DEVICE)
    saved = await _store_device(call, sim, scope, doc, None)
    location = f"/{call.version}/accounts/{scope.account_id}/devices/{doc_id}"
    return doc_reply(saved, Location=location)


async def get_device(call: Call, sim: Simulator) -> Reply:
    stored = load(call, sim, call.params["device_id"], DEVICE)
    call.if_match(stored["_rev"])
    return doc_reply(stored)


async def update_device(call: Call, sim: Simulator) -> Reply:
    """POST replaces the device's public fields, PATCH merges into them (§5.4, §5.5)."""
    stored = load(call, sim, call.params["device_id"], DEVICE)
    scope = _scope(call, sim)
    request = request_fields(data_object(call))
    doc = _checked(sim, scope, updated_data(request, stored, call.method == "PATCH"), stored)
    doc["_id"] = stored["_id"]
    doc = stamp(call, doc, DEVICE, stored)
    saved = await _store_device(call, sim, scope, doc, stored)
    await flush(sim, scope.account_id, rules.usernames_to_flush(stored, saved))
    if _wants_sync(request) and _credentials(saved) != _credentials(stored):
        # `maybe_sync_sip_data/3`: the phone still registers with the old username
        _publish_check_sync(sim, stored, reboot=None)
    return doc_reply(saved)


async def delete_device(call: Call, sim: Simulator) -> Reply:
    stored = load(call, sim, call.params["device_id"], DEVICE)
    reply = await soft_delete(call, sim, stored)
    username = rules.sip_username(stored)
    await flush(sim, _account_id(call), [username] if username else [])
    return reply


async def device_action(call: Call, sim: Simulator) -> Reply:
    """PUT on a device: `"action":"notify"` with the 4.3 body `{"data":{"event":..}}`."""
    stored = load(call, sim, call.params["device_id"], DEVICE)
    action = call.req_value("action")
    if action is None:
        raise KazooError(400, "action required", {})
    if action != "notify":
        raise KazooError(400, "invalid action", {})
    return await _notify(call, sim, stored, data_object(call))


async def notify_device(call: Call, sim: Simulator) -> Reply:
    """`/devices/{D}/notify`, the URL the seed document shows, with `data.event` (or 4.3's body)."""
    stored = load(call, sim, call.params["device_id"], DEVICE)
    data = data_object(call)
    if isinstance(data.get("event"), str) and "data" not in data:
        data = {"data": data}  # the seed's form: the event sits directly in `data`
    return await _notify(call, sim, stored, data)


async def _notify(
    call: Call, sim: Simulator, stored: dict[str, Any], data: dict[str, Any]
) -> Reply:
    outcome = validate(sim.schemas, "devices_notify", data)
    if outcome.errors:
        raise validation_error(outcome.errors)
    params = outcome.doc["data"]
    body = params.get("body") or {}
    call.if_match(stored["_rev"])
    _publish(sim, stored, params["event"], body.get("data"), body.get("content_type"))
    return Reply("NOTIFY sent", revision=stored["_rev"])


def _publish(
    sim: Simulator,
    device: dict[str, Any],
    event: str,
    body: str | None = None,
    content_type: str | None = None,
) -> None:
    username, _password = _credentials(device)
    if not isinstance(username, str):
        return
    account_id = device["pvt_account_id"]
    realm = _realm(sim, account_id) or ""  # `kzd_accounts:fetch_realm/1`, not the device's realm
    sim.publish_notify(
        Notification(account_id, device["_id"], username, realm, event, body, content_type)
    )


def check_sync_event(device: dict[str, Any], reboot: bool | None) -> str:
    """`cb_devices:check_sync_event/2`: the device's own event and reboot/reload suffix."""
    provision = rules.sub_object(device, "provision")
    event = provision.get("check_sync_event")
    if not event:
        return "check-sync"
    suffix = None
    if reboot is True:
        suffix = provision.get("check_sync_reboot")
    elif reboot is False:
        suffix = provision.get("check_sync_reload")
    return f"{event};{suffix}" if suffix else str(event)


def _publish_check_sync(sim: Simulator, device: dict[str, Any], reboot: bool | None) -> None:
    _publish(sim, device, check_sync_event(device, reboot))


async def sync_device(call: Call, sim: Simulator) -> Reply:
    stored = load(call, sim, call.params["device_id"], DEVICE)
    call.if_match(stored["_rev"])
    reboot_value = call.req_value("reboot")
    reboot = None if reboot_value is None else call.flag("reboot", False)
    _publish_check_sync(sim, stored, reboot)
    return Reply("sync request sent", revision=stored["_rev"])


async def devices_status(call: Call, sim: Simulator) -> Reply:
    registered = sorted(registered_device_ids(sim, _account_id(call)))
    return Reply([{"device_id": device_id, "registered": True} for device_id in registered])


async def user_devices(call: Call, sim: Simulator) -> Reply:
    user_id = call.params["user_id"]
    load(call, sim, user_id, "user")
    account_id = _account_id(call)
    ids = sorted({d for _a, d, _v in sim.store.reader.lookup("device_users", user_id, account_id)})
    docs = [doc for doc in (sim.store.reader.get(account_id, i) for i in ids) if doc]
    page, following = rules.paginate(docs, call.query, page_size(call))
    rows = [rules.user_device_row(doc, user_id) for doc in reversed(page)]
    # every row of `listing_by_owner` has the user id as its key: a page asked from it is the
    # first page again (kazoo-api.md §5.11)
    return list_reply(call, rows, start_key(call), user_id if following else None)


# ---- quickcall (`cb_quickcall`) ----------------------------------------------------------------

NUMBER_STRIP = re.compile(r"[ ,.\-()]")
# knm's default `reconcile_regex`: a number that leaves the system, shown the external caller id
RECONCILABLE = re.compile(r"(\+?1)?\d{10}|\+[2-9]\d{7,}|011\d*|00\d*")
EXPORTED_CHANNEL_VARS = [
    "Account-ID",
    "Authorizing-ID",
    "Authorizing-Type",
    "Outbound-Callee-ID-Name",
    "Outbound-Callee-ID-Number",
    "Retain-CID",
]


def dialed_number(call: Call, number: str) -> str:
    """`build_number_uri/2`: `number_filter` (query string) `false`, `true` (strip ` ,.-()`)
    or a regex whose first group is the number (no match: the number as it is)."""
    number_filter = call.query.get("number_filter", "true")
    if number_filter == "false":
        return number
    if number_filter == "true":
        return NUMBER_STRIP.sub("", number)
    try:
        found = re.search(number_filter, number)
    except re.error:  # Kazoo fails on it; the simulator keeps the number
        return number
    return (found.group(1) or "") if found and found.re.groups else number


def _default_caller_id(sim: Simulator, device: dict[str, Any], number: str) -> dict[str, Any]:
    """`kz_attributes:caller_id/2`, simplified: each of name and number from the device, else
    its owner, else its account, of the kind the dialed number calls for."""
    kind = "external" if RECONCILABLE.fullmatch(number) else "internal"
    account_id = device["pvt_account_id"]
    owner_id = device.get("owner_id")
    owner = sim.store.reader.get(account_id, owner_id) if isinstance(owner_id, str) else None
    if owner is not None and owner.get("pvt_type") != "user":
        owner = None
    docs = [device, owner, sim.accounts.get(account_id)]
    sources = [rules.sub_object(rules.sub_object(doc, "caller_id"), kind) for doc in docs]
    return {f: next((s[f] for s in sources if s.get(f)), None) for f in ("name", "number")}


def _asked_or(value: Any, default: Any) -> Any:
    """A caller id the request gives (URL-decoded again, as `kz_http_util:urldecode/1` does),
    else the default."""
    return default if value is None else unquote_plus(str(value))


def _endpoint(call: Call, sim: Simulator, device: dict[str, Any]) -> dict[str, Any]:
    sip = rules.sub_object(device, "sip")
    auto_answer = call.query.get("auto_answer", "true") == "true"
    return {
        "endpoint_type": "sip",
        "invite_format": sip.get("invite_format", "contact"),
        "to_realm": sip.get("realm") or _realm(sim, device["pvt_account_id"]),
        "to_user": sip.get("username"),
        "custom_channel_vars": {"auto_answer": auto_answer},
        "outbound_call_id": f"{secrets.token_hex(18)}-quickcall",
    }


def originate_request(
    call: Call, sim: Simulator, device: dict[str, Any], number: str
) -> dict[str, Any]:
    """The originate request `cb_quickcall:originate_quickcall/3` publishes, keys in
    snake_case (`kz_json:normalize/1`), unset values left out."""
    dialed = dialed_number(call, number)
    default = _default_caller_id(sim, device, dialed)
    cid_number = call.req_value("cid-number")
    variables = call.req_value("custom_application_vars")
    request = {
        "application_name": "transfer",
        "application_data": {"route": number},
        "continue_on_fail": False,
        "custom_application_vars": normalized(variables) if isinstance(variables, dict) else {},
        "custom_channel_vars": {
            "account_id": device["pvt_account_id"],
            "authorizing_id": device["_id"],
            "authorizing_type": "device",
            "inherit_codec": "false",
            "retain_cid": "false" if cid_number is None else "true",
        },
        "dial_endpoint_method": "simultaneous",
        "endpoints": [_endpoint(call, sim, device)],
        "existing_call_id": call.req_value("target_call_id"),
        "export_custom_channel_vars": EXPORTED_CHANNEL_VARS,
        "ignore_early_media": call.req_value("ignore-early-media", True) in (True, "true"),
        "media": "bypass" if call.req_value("media") == "bypass" else "process",
        "outbound_callee_id_name": _asked_or(call.req_value("cid-name"), default["name"]),
        "outbound_callee_id_number": _asked_or(cid_number, default["number"]),
        "outbound_caller_id_name": "Device QuickCall",
        "outbound_caller_id_number": dialed,
        "timeout": rules.integer_above(call.req_value("timeout"), 3, 30),  # `get_timeout/1`
    }
    return {key: value for key, value in request.items() if value is not None}


async def quickcall(call: Call, sim: Simulator) -> Reply:
    device = load(call, sim, call.params["device_id"], DEVICE)
    if not device.get("enabled", True):
        raise system_error(500, "unspecified_fault", "unspecified fault")
    request = originate_request(call, sim, device, call.params["number"])
    if call.method == "POST":
        # POST waits for the switch's answer; the simulator has no media switch to place calls.
        raise KazooError(500, "quickcall initiation failed", {"message": "no media switch"})
    return Reply(request, revision=device["_rev"])
