"""The secondary lookups ("views") kept for each document, as Kazoo's CouchDB views do."""

from __future__ import annotations

from typing import Any

from kazoodesk.simulator.devices import credentials_key, format_e164
from kazoodesk.simulator.store import ViewRow

# Raise whenever what the functions below compute changes: stores rebuild their views on open.
INDEX_VERSION = "3"


def index_document(doc: dict[str, Any]) -> list[ViewRow]:
    kind = doc.get("pvt_type")
    if kind == "device":
        return _device_rows(doc)
    if kind == "user":
        return _user_rows(doc)
    if kind == "account":
        return _account_rows(doc)
    return []


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _device_rows(doc: dict[str, Any]) -> list[ViewRow]:
    rows = []
    sip = _object(doc.get("sip"))
    username, realm = sip.get("username"), sip.get("realm")
    if isinstance(username, str):  # `devices/sip_credentials`: whatever the method
        rows.append(ViewRow("sip_credentials", username.lower()))
    if isinstance(username, str) and isinstance(realm, str):
        # `credentials/lookup` of the `sip_auth` aggregate, which holds the devices with a
        # realm of their own
        rows.append(ViewRow("sip_auth", credentials_key(username, realm)))
        # the realms the SIP registrar knows besides the accounts' own
        rows.append(ViewRow("sip_realm", realm.lower()))
    if sip.get("method") == "ip" and isinstance(sip.get("ip"), str):
        rows.append(ViewRow("sip_ip", sip["ip"]))
    mdn = _object(doc.get("mobile")).get("mdn")
    if doc.get("device_type") == "mobile" and mdn:  # the number `add_mobile_mdn/1` creates
        rows.append(ViewRow("mobile_mdn", format_e164(str(mdn))))
    mac = doc.get("mac_address")
    if isinstance(mac, str) and mac:
        rows.append(ViewRow("mac_address", mac))
    owner = doc.get("owner_id")
    if isinstance(owner, str) and owner:
        rows.append(ViewRow("device_users", owner, False))
    users = _object(doc.get("hotdesk")).get("users")
    if isinstance(users, dict):
        rows.extend(ViewRow("device_users", u, True) for u in users if u != owner)
    return rows


def _user_rows(doc: dict[str, Any]) -> list[ViewRow]:
    rows = []
    # `users/creds_by_md5` and `creds_by_sha` only hold enabled users: a disabled one cannot log in
    enabled = doc.get("enabled", True) is not False
    if enabled and doc.get("pvt_md5_auth"):
        rows.append(ViewRow("creds_by_md5", doc["pvt_md5_auth"]))
    if enabled and doc.get("pvt_sha1_auth"):
        rows.append(ViewRow("creds_by_sha", doc["pvt_sha1_auth"]))
    if isinstance(doc.get("username"), str):
        rows.append(ViewRow("user_username", doc["username"].lower()))
    return rows


def _account_rows(doc: dict[str, Any]) -> list[ViewRow]:
    rows = [ViewRow("account_name", doc.get("pvt_alphanum_name", ""))]
    if doc.get("realm"):
        rows.append(ViewRow("account_realm", str(doc["realm"]).lower()))
    if doc.get("pvt_api_key"):
        rows.append(ViewRow("account_api_key", doc["pvt_api_key"]))
    tree = doc.get("pvt_tree") or []
    # one row per ancestor; the value says whether it is the direct parent
    rows.extend(ViewRow("account_ancestor", a, i == len(tree) - 1) for i, a in enumerate(tree))
    return rows
