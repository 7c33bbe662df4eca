"""Kazoo 4.3's device rules (`cb_devices`): preparation, custom checks, listing rows, filters."""

from __future__ import annotations

import base64
import copy
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping

from kazoodesk.schema.defaults import to_integer
from kazoodesk.simulator.store import Queries

ErrorMap = dict[str, dict[str, dict[str, Any]]]

DEFAULT_DEVICE_TYPE = "sip_device"


def sub_object(doc: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """`doc[key]` when it is an object, else an empty one (for reading only)."""
    value = (doc or {}).get(key)
    return value if isinstance(value, dict) else {}


def mac_digits(mac: Any) -> str | None:
    """`provisioner_util:cleanse_mac_address/1`: the lower-case hex digits, or None."""
    if not isinstance(mac, str):
        return None
    return re.sub(r"[^0-9a-fA-F]", "", mac).lower() or None


def cleanse_mac(mac: Any) -> Any:
    """`prepare_mac_address`: the cleansed MAC; a value without hex digits is left as sent."""
    return mac_digits(mac) or mac


def format_e164(number: str) -> str:
    """A rough `knm_converters:normalize/1`: NANP 10/11 digits to +1..., other digits to +..."""
    digits = re.sub(r"\D", "", number)
    if number.startswith("+") and digits:
        return "+" + digits
    if len(digits) == 10:
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return "+" + digits if digits else number


def prepare(doc: dict[str, Any], account_realm: str | None) -> dict[str, Any]:
    """The `prepare_*` steps of `cb_devices:validate_device/2`, on a copy."""
    doc = copy.deepcopy(doc)
    if "mac_address" in doc:
        doc["mac_address"] = cleanse_mac(doc["mac_address"])
    if "outbound_flags" in doc:
        flags = doc["outbound_flags"]
        doc["outbound_flags"] = (
            [f.strip() if isinstance(f, str) else f for f in flags]
            if isinstance(flags, list)
            else []
        )
    sip = doc.get("sip")
    if isinstance(sip, dict) and account_realm and sip.get("realm") == account_realm:
        del sip["realm"]
    provision = doc.get("provision")
    if isinstance(provision, dict):
        for keys in ("combo_keys", "feature_keys"):
            if isinstance(provision.get(keys), dict):
                provision[keys] = {k: v for k, v in provision[keys].items() if v is not None}
    emergency = sub_object(doc, "caller_id").get("emergency")
    if isinstance(emergency, dict) and isinstance(emergency.get("number"), str):
        emergency["number"] = format_e164(emergency["number"])
    return doc


def _error(path: str, code: str, message: str, cause: Any = None) -> ErrorMap:
    body: dict[str, Any] = {"message": message}
    if cause is not None:
        body["cause"] = cause
    return {path: {code: body}}


@dataclass(frozen=True)
class Scope:
    """Where a device is written (its account and the account's realm), and whether the
    writer is a superduper-admin."""

    account_id: str
    realm: str | None
    superduper: bool


def custom_errors(
    queries: Queries, scope: Scope, doc: dict[str, Any], stored: dict[str, Any] | None
) -> ErrorMap:
    """The checks of `cb_devices` that a schema cannot express (kazoo-api.md §4.1) for `doc`,
    new or replacing `stored`."""
    errors: ErrorMap = {}
    for found in (
        _mdn_errors(queries, doc, stored, scope.superduper),
        _mac_errors(queries, scope.account_id, doc, stored),
        _credential_errors(queries, scope, doc, _id_of(stored)),
        _device_type_errors(doc, stored, scope.superduper),
    ):
        for path, codes in found.items():
            errors.setdefault(path, {}).update(codes)
    return errors


def _id_of(stored: dict[str, Any] | None) -> str | None:
    return stored["_id"] if stored else None


def _mdn_errors(
    queries: Queries, doc: dict[str, Any], stored: dict[str, Any] | None, superduper: bool
) -> ErrorMap:
    if doc.get("device_type") != "mobile":
        return {}
    mdn = sub_object(doc, "mobile").get("mdn")
    if not mdn:
        return {"mobile.mdn": {"required": {"message": "Field is required but missing"}}}
    if stored is not None:
        old = sub_object(stored, "mobile").get("mdn")
        if old and not _mdn_changed(old, mdn):
            return {}
        if not superduper:
            return _error("mobile.mdn", "invalid", "Mobile Device Number cannot be changed", mdn)
    # `check_mdn_taken/2`: the number manager holds one number system-wide
    number = format_e164(str(mdn))
    if any(d != _id_of(stored) for _a, d, _v in queries.lookup("mobile_mdn", number)):
        message = "Mobile Device Number already exists in the system"
        return _error("mobile.mdn", "unique", message, number)
    return {}


def _mdn_changed(old: Any, new: Any) -> bool:
    """`check_mdn_changed/3` compares the numbers normalised (`knm_converters:normalize/1`)."""
    return format_e164(str(old)) != format_e164(str(new))


def _mac_errors(
    queries: Queries, account_id: str, doc: dict[str, Any], stored: dict[str, Any] | None
) -> ErrorMap:
    mac = mac_digits(doc.get("mac_address"))
    if mac is None:  # `unique_mac_address(undefined)`: nothing to check
        return {}
    if stored is not None and stored.get("mac_address") == mac:
        return {}
    rows = queries.lookup("mac_address", mac, account_id)
    if any(d != _id_of(stored) for _a, d, _v in rows):
        return _error("mac_address", "unique", "MAC address already in use", mac)
    return {}


def credentials_key(username: str, realm: str) -> str:
    """The key of a username in a realm in the system-wide `sip_auth` aggregate (a realm has
    no spaces)."""
    return f"{realm.lower()} {username.lower()}"


def _credential_errors(
    queries: Queries, scope: Scope, doc: dict[str, Any], device_id: str | None
) -> ErrorMap:
    sip = sub_object(doc, "sip")
    method = sip.get("method", "password")
    if method == "ip":
        ip = sip.get("ip")
        if not _is_ipv4(ip):
            return _error("sip.ip", "type", "Must be a valid IPv4 RFC 791", ip)
        used = [d for _a, d, _v in queries.lookup("sip_ip", str(ip)) if d != device_id]
        return _error("sip.ip", "unique", "SIP IP already in use", ip) if used else {}
    if method != "password":
        # the schema's enum error on this path replaces the custom one (shallow merge)
        return _error("sip.method", "enum", "SIP authentication method is invalid")
    username = sip.get("username")
    key = username if isinstance(username, str) else "undefined"
    realm = sip.get("realm") or scope.realm  # `prepare_device_realm/2`
    rows = queries.lookup("sip_credentials", key.lower(), scope.account_id)
    if isinstance(realm, str):
        rows += queries.lookup("sip_auth", credentials_key(key, realm))
    if any(d != device_id for _a, d, _v in rows):
        cause = username if isinstance(username, str) else None
        return _error("sip.username", "unique", "SIP credentials already in use", cause)
    return {}


def _is_ipv4(value: Any) -> bool:
    """`kz_network_utils:is_ipv4/1`: dotted-quad text only (`IPv4Address(5)` would pass)."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _device_type_errors(
    doc: dict[str, Any], stored: dict[str, Any] | None, superduper: bool
) -> ErrorMap:
    if stored is None or superduper:
        return {}
    new_type = doc.get("device_type")
    if new_type == stored.get("device_type"):  # a type added to an untyped device is a change too
        return {}
    return _error(
        "device_type", "invalid", "Not authorized to change type of device", new_type or ""
    )


def sip_username(doc: dict[str, Any]) -> str | None:
    username = sub_object(doc, "sip").get("username")
    return username if isinstance(username, str) else None


def usernames_to_flush(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """`crossbar_util:flush_registration/1` on an update: the SIP usernames whose
    registrations end (the first rule that applies: password, username, owner, enabled)."""
    before, after = sub_object(old, "sip"), sub_object(new, "sip")
    if before.get("password") != after.get("password"):
        flushed = [sip_username(old)]
    elif sip_username(old) != sip_username(new):
        flushed = [sip_username(old), sip_username(new)]
    elif old.get("owner_id") != new.get("owner_id") or old.get("enabled") != new.get("enabled"):
        flushed = [sip_username(old)]
    else:
        flushed = []
    return [username for username in flushed if username]


def listing_row(doc: dict[str, Any]) -> dict[str, Any]:
    """One item of `GET /devices` (view `devices/crossbar_listing`)."""
    sip = sub_object(doc, "sip")
    row = {
        "id": doc["_id"],
        "name": doc.get("name"),
        "username": sip.get("username"),
        "mac_address": doc.get("mac_address") or "",
        "owner_id": doc.get("owner_id"),
        "enabled": doc.get("enabled"),
        "device_type": doc.get("device_type", DEFAULT_DEVICE_TYPE),
        "mobile": doc.get("mobile"),
        "call_recording": doc.get("call_recording"),
        "flags": doc.get("flags", []),
    }
    return {k: v for k, v in row.items() if v is not None}


def user_device_row(doc: dict[str, Any], user_id: str) -> dict[str, Any]:
    """One item of `GET /users/{U}/devices` (view `devices/listing_by_owner`)."""
    row = {
        "id": doc["_id"],
        "name": doc.get("name"),
        "mac_address": doc.get("mac_address") or "",
        "owner_id": doc.get("owner_id"),
        "enabled": doc.get("enabled"),
        "device_type": doc.get("device_type", DEFAULT_DEVICE_TYPE),
        "hotdesked": doc.get("owner_id") != user_id,
        "call_recording": doc.get("call_recording"),
    }
    return {k: v for k, v in row.items() if v is not None}


# ---- pagination keys ---------------------------------------------------------------------

_TERM_BINARY = b"\x83m"  # Erlang external term format: a binary follows


def encode_start_key(key: str) -> str:
    """`api_util:encode_start_key/1`: base64url of `term_to_binary(Key)`, without padding."""
    raw = key.encode()
    term = _TERM_BINARY + len(raw).to_bytes(4, "big") + raw
    return base64.urlsafe_b64encode(term).decode().rstrip("=")


def decode_start_key(value: str) -> str:
    """The inverse; a value that is not such a key is used as it is (a raw device id)."""
    try:
        term = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return value
    if term[:2] == _TERM_BINARY and int.from_bytes(term[2:6], "big") == len(term) - 6:
        try:
            return term[6:].decode()
        except UnicodeDecodeError:
            return value
    return value


# ---- query-string filters (crossbar_filter) ------------------------------------------------

RANGE_KEYS = {
    "created_from": ("pvt_created", 1),
    "created_to": ("pvt_created", -1),
    "modified_from": ("pvt_modified", 1),
    "modified_to": ("pvt_modified", -1),
}

_MISSING = object()


def _at_path(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and _is_index(part, len(doc)):
            doc = doc[int(part)]
        else:
            return _MISSING
    return doc


def _is_index(part: str, size: int) -> bool:
    """`part` is a 0-based index of a list of `size` items, written in ASCII digits."""
    return part.isascii() and part.isdigit() and len(part) <= len(str(size)) and int(part) < size


def _as_text(value: Any) -> str:
    """`kz_json:get_binary_value(Path, Doc, <<>>)`: a missing value reads as ""."""
    if value is _MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _value_matches(stored: Any, wanted: str) -> bool:
    """`crossbar_filter:should_filter/2`: equal text, in the JSON list, or the JSON string."""
    text = _as_text(stored)
    if text == wanted:
        return True
    try:
        decoded = json.loads(wanted)
    except (ValueError, RecursionError):
        return False
    if isinstance(decoded, list):
        return text in [o for o in decoded if isinstance(o, str)]
    return decoded == text


def _is_empty(value: Any) -> bool:
    """`kz_term:is_empty/1`, which `has_value` uses through `kz_json:get_ne_value/2`."""
    empty: tuple[Any, ...] = (None, False, 0, 0.0, "", "0", "false", "NULL", "undefined", [], {})
    return value is _MISSING or any(type(value) is type(e) and value == e for e in empty)


def _one_filter(doc: dict[str, Any], key: str, wanted: str) -> bool | None:
    """True/False when `key` is a filter, None when it is not one."""
    if key.startswith("filter_not_"):
        return not _value_matches(_at_path(doc, key[len("filter_not_") :]), wanted)
    if key.startswith("filter_"):
        return _value_matches(_at_path(doc, key[len("filter_") :]), wanted)
    if key == "has_key":
        return _at_path(doc, wanted) is not _MISSING
    if key == "key_missing":
        return _at_path(doc, wanted) is _MISSING
    if key in {"has_value", "value_missing"}:
        empty = _is_empty(_at_path(doc, wanted))
        return not empty if key == "has_value" else empty
    if key in RANGE_KEYS:
        field, sign = RANGE_KEYS[key]
        bound = to_integer(wanted)
        stamp = doc.get(field)
        return bound is not None and isinstance(stamp, int) and (stamp - bound) * sign >= 0
    return None


def matches(doc: dict[str, Any], query: MultiMapping[str]) -> bool:
    """Every filter of the query string holds for the stored document (filters AND)."""
    for key, wanted in query.items():
        outcome = _one_filter(doc, key, wanted)
        if outcome is False:
            return False
    return True


def paginate(
    docs: Iterable[dict[str, Any]], query: MultiMapping[str], page_size: int | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The documents of one page (ascending) and the id that starts the next page, if any."""
    selected: list[dict[str, Any]] = []
    iterator: Iterator[dict[str, Any]] = iter(docs)
    for doc in iterator:
        if not matches(doc, query):
            continue
        if page_size is not None and len(selected) == page_size:
            return selected, doc["_id"]
        selected.append(doc)
    return selected, None


def integer_above(value: Any, floor: int, default: int) -> int:
    """`kz_term:to_integer/1` of a request value when it is above `floor`, else `default`."""
    number = to_integer(value)
    return number if number is not None and number > floor else default


def page_size_of(value: Any) -> int:
    """`cb_context:pagination_page_size/2`: default 50, non-integer or non-positive -> 50."""
    return integer_above(value, 0, 50)
