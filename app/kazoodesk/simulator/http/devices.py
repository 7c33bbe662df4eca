"""`/v2/accounts/{A}/devices...` and `/users/{U}/devices` (Kazoo 4.3 `cb_devices_v2`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kazoodesk.schema.validate import validate
from kazoodesk.simulator import devices as rules
from kazoodesk.simulator.docs import new_id, request_fields
from kazoodesk.simulator.http.common import (
    data_object,
    doc_reply,
    load,
    save,
    soft_delete,
    stamp,
    updated_data,
)
from kazoodesk.simulator.http.envelope import (
    Call,
    KazooError,
    Reply,
    system_error,
    validation_error,
)
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


# ---- validation and saving -------------------------------------------------------------------


def _checked(
    call: Call, sim: Simulator, data: dict[str, Any], stored: dict[str, Any] | None
) -> dict[str, Any]:
    """Run `cb_devices:validate_device/2` on `data`; 400 with every error found, or the doc."""
    account_id = _account_id(call)
    prepared = rules.prepare(data, _realm(sim, account_id))
    prepared.pop("sync", None)
    device_id = stored["_id"] if stored else None
    superduper = sim.accounts.is_superduper(call.auth_account_id)
    errors = rules.custom_errors(
        sim.store.reader, account_id, prepared, device_id, stored, superduper
    )
    outcome = validate(sim.schemas, "devices", prepared)
    errors.update(outcome.errors)  # a schema error on a path replaces the custom one
    if errors:
        raise validation_error(errors)
    return outcome.doc


async def _store_device(
    call: Call, sim: Simulator, doc: dict[str, Any], stored: dict[str, Any] | None
) -> dict[str, Any]:
    account_id = _account_id(call)
    superduper = sim.accounts.is_superduper(call.auth_account_id)
    device_id = doc["_id"]

    def recheck(tx: Transaction) -> rules.ErrorMap:
        return rules.custom_errors(tx, account_id, doc, device_id, stored, superduper)

    return await save(call, sim, account_id, doc, stored["_rev"] if stored else None, recheck)


def _wants_sync(data: dict[str, Any]) -> bool:
    return data.get("sync") is True or data.get("sync") == "true"


def _credentials(doc: dict[str, Any]) -> tuple[Any, Any]:
    sip = rules.sub_object(doc, "sip")
    return sip.get("username"), sip.get("password")


# ---- handlers ----------------------------------------------------------------------------------


def _paginates(call: Call) -> bool:
    """`cb_context:should_paginate/1`: `/v2` unless `paginate=false`; `/v1` never."""
    return call.version == "v2" and call.flag("paginate", True)


async def list_devices(call: Call, sim: Simulator) -> Reply:
    account_id = _account_id(call)
    paginate = _paginates(call)
    page_size = rules.page_size_of(call.req_value("page_size")) if paginate else None
    start_key = call.req_value("start_key")
    start_id = rules.decode_start_key(str(start_key)) if start_key and paginate else ""
    docs = sim.store.reader.list_type(account_id, DEVICE, start_id)
    page, next_id = rules.paginate(docs, call.query, page_size)
    rows = [rules.listing_row(doc) for doc in reversed(page)]
    extra: dict[str, Any] = {}
    if paginate:
        extra["page_size"] = len(rows)
        if start_key:  # `api_util:encode_start_keys/2` re-encodes the key that was used
            extra["start_key"] = rules.encode_start_key(start_id)
        if next_id:
            extra["next_start_key"] = rules.encode_start_key(next_id)
    return Reply(rows, revision="auto", extra=extra)


async def create_device(call: Call, sim: Simulator) -> Reply:
    account_id = _account_id(call)
    data = request_fields(data_object(call))
    doc = _checked(call, sim, data, None)
    doc_id = str(data.get("id") or new_id())
    doc["_id"] = doc_id
    doc = stamp(call, doc, DEVICE)
    saved = await _store_device(call, sim, doc, None)
    location = f"/{call.version}/accounts/{account_id}/devices/{doc_id}"
    return doc_reply(saved, status=201, Location=location)


async def get_device(call: Call, sim: Simulator) -> Reply:
    stored = load(call, sim, call.params["device_id"], DEVICE)
    call.if_match(stored["_rev"])
    return doc_reply(stored)


async def _update(call: Call, sim: Simulator, merged: bool) -> Reply:
    stored = load(call, sim, call.params["device_id"], DEVICE)
    request = request_fields(data_object(call))
    doc = _checked(call, sim, updated_data(request, stored, merged), stored)
    doc["_id"] = stored["_id"]
    doc = stamp(call, doc, DEVICE, stored)
    saved = await _store_device(call, sim, doc, stored)
    if _wants_sync(request) and _credentials(saved) != _credentials(stored):
        # `maybe_sync_sip_data/3`: the phone still registers with the old username
        _publish_check_sync(sim, stored, reboot=None)
    return doc_reply(saved)


async def replace_device(call: Call, sim: Simulator) -> Reply:
    return await _update(call, sim, merged=False)


async def patch_device(call: Call, sim: Simulator) -> Reply:
    return await _update(call, sim, merged=True)


async def delete_device(call: Call, sim: Simulator) -> Reply:
    stored = load(call, sim, call.params["device_id"], DEVICE)
    return await soft_delete(call, sim, stored)


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
    return Reply("NOTIFY sent", status=201, revision=stored["_rev"])


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
    registrations = sim.store.reader.registrations(_account_id(call))
    seen: dict[str, None] = {}
    for registration in registrations:
        device_id = registration.get("authorizing_id")
        if device_id:
            seen[device_id] = None
    return Reply([{"device_id": d, "registered": True} for d in seen])


async def user_devices(call: Call, sim: Simulator) -> Reply:
    user_id = call.params["user_id"]
    load(call, sim, user_id, "user")
    account_id = _account_id(call)
    ids = sorted({d for _a, d, _v in sim.store.reader.lookup("device_users", user_id, account_id)})
    docs = [sim.store.reader.get(account_id, i) for i in ids]
    rows = [rules.user_device_row(doc, user_id) for doc in reversed(docs) if doc]
    return Reply(rows, revision="auto", extra={"page_size": len(rows)} if _paginates(call) else {})


# ---- quickcall ---------------------------------------------------------------------------------

NUMBER_STRIP = re.compile(r"[ ,.\-()]")


def originate_request(
    call: Call, sim: Simulator, device: dict[str, Any], number: str
) -> dict[str, Any]:
    """The originate request `cb_quickcall` would publish, keys in snake_case."""
    account_id = _account_id(call)
    if call.req_value("number_filter") not in ("false", False):
        number = NUMBER_STRIP.sub("", number)
    sip = rules.sub_object(device, "sip")
    timeout = rules.integer_above(call.req_value("timeout"), 3, 30)  # `get_timeout/1`
    return {
        "application_data": {"route": number},
        "application_name": "transfer",
        "continue_on_fail": False,
        "custom_channel_vars": {
            "account_id": account_id,
            "authorizing_id": device["_id"],
            "authorizing_type": "device",
            "inherit_codec": "false",
            "retain_cid": "true",
        },
        "dial_endpoint_method": "simultaneous",
        "endpoints": [
            {
                "endpoint_type": "sip",
                "invite_format": sip.get("invite_format", "contact"),
                "to_realm": sip.get("realm") or _realm(sim, account_id),
                "to_user": sip.get("username"),
                "auto_answer": call.flag("auto_answer", True),
            }
        ],
        "ignore_early_media": call.flag("ignore-early-media", True),
        "media": call.req_value("media", "process"),
        "outbound_callee_id_name": number,
        "outbound_callee_id_number": number,
        "outbound_caller_id_name": call.req_value("cid-name", "Device QuickCall"),
        "outbound_caller_id_number": call.req_value("cid-number", number),
        "timeout": timeout,
    }


async def quickcall(call: Call, sim: Simulator) -> Reply:
    device = load(call, sim, call.params["device_id"], DEVICE)
    if not device.get("enabled", True):
        raise system_error(500, "unspecified_fault", "unspecified fault")
    request = originate_request(call, sim, device, call.params["number"])
    if call.method == "POST":
        # POST waits for the switch's answer; the simulator has no media switch to place calls.
        raise KazooError(500, "quickcall initiation failed", {"message": "no media switch"})
    return Reply(request, revision=device["_rev"])
