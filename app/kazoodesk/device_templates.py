"""New devices as a user expects them, per device type: credentials generated, forwarding set up.

The defaults follow what Monster UI's SmartPBX gives a new device (ui-anchors.md §1.1) and the
seed's examples; everything else is left to the server's schema defaults.
"""

from __future__ import annotations

import copy
import ipaddress
import secrets
import string
from typing import Any

# device types offered by "New", in menu order, with what a user calls them
NEW_DEVICE_TYPES: dict[str, str] = {
    "sip_device": "SIP phone",
    "softphone": "Softphone",
    "cellphone": "Cell phone",
    "smartphone": "Smartphone",
    "landline": "Landline",
    "fax": "Fax",
    "ata": "ATA",
    "sip_uri": "SIP URI",
}
AUTHN_BY_IP = "authn_by_ip"  # the seed's SIP device that authenticates by its source address

# types that register with credentials of their own
SIP_TYPES = {"sip_device", "softphone", "smartphone", "fax", "ata", "teammate"}
# types that ring a number somewhere else
FORWARDING_TYPES = {"cellphone", "landline", "smartphone"}

_PASSWORD_ALPHABET = string.ascii_letters + string.digits
_USERNAME_ALPHABET = string.ascii_lowercase + string.digits


def generate_password(length: int = 16) -> str:
    """A strong SIP password within the schema's 5..32 characters, with every character class."""
    while True:
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password


def generate_username() -> str:
    """`user_` and ten random characters, as SmartPBX names new SIP credentials."""
    return "user_" + "".join(secrets.choice(_USERNAME_ALPHABET) for _ in range(10))


def new_device(device_type: str, name: str, **details: str) -> dict[str, Any]:
    """The document to create for a new device of `device_type`.

    `details` carries what a type needs from the user: `number` for forwarding types,
    `route` for a SIP URI, `ip` for an authn-by-IP device (checked, ValueError if invalid).
    """
    if device_type == AUTHN_BY_IP:
        ip = checked_ip(details.get("ip", ""))
        return {
            "name": name,
            "enabled": True,
            "device_type": "sip_device",
            "sip": {"method": "ip", "ip": ip, "invite_format": "e164"},
        }
    if device_type not in NEW_DEVICE_TYPES:
        raise ValueError(f"unknown device type {device_type!r}")
    doc: dict[str, Any] = {"name": name, "enabled": True, "device_type": device_type}
    if device_type in SIP_TYPES:
        doc["sip"] = {"username": generate_username(), "password": generate_password()}
        doc["suppress_unregister_notifications"] = True
    if device_type in FORWARDING_TYPES:
        doc["call_forward"] = {
            "enabled": True,
            "number": details.get("number", ""),
            "require_keypress": True,
            "keep_caller_id": True,
        }
    if device_type == "fax":
        doc["media"] = {"fax_option": False}
        doc["outbound_flags"] = ["fax"]
    if device_type == "sip_uri":
        doc["sip"] = {"invite_format": "route", "route": details.get("route", "")}
    return doc


def checked_ip(text: str) -> str:
    """The IPv4 address a device authenticates from; ValueError with a message otherwise."""
    text = text.strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"not an IP address: {text!r}") from None
    if address.version != 4:
        raise ValueError(f"Kazoo matches devices by IPv4 address only: {text}")
    if address.is_unspecified or address.is_multicast:
        raise ValueError(f"a phone cannot send from {text}")
    return str(address)


def duplicate_device(doc: dict[str, Any], existing_names: set[str] | None = None) -> dict[str, Any]:
    """A copy of `doc` that the server will accept as a new device: no id, revision or private
    fields, a new name, fresh SIP credentials and no MAC address (both must be unique)."""
    copied = {
        key: copy.deepcopy(value)
        for key, value in doc.items()
        if key != "id" and not key.startswith(("_", "pvt_"))
    }
    copied["name"] = _copy_name(str(doc.get("name", "Device")), existing_names or set())
    copied.pop("mac_address", None)
    sip = copied.get("sip")
    if isinstance(sip, dict) and sip.get("method", "password") == "password" and "username" in sip:
        sip["username"] = generate_username()
        sip["password"] = generate_password()
    if isinstance(sip, dict) and sip.get("method") == "ip":
        sip.pop("ip", None)  # one device per address: the copy needs its own
    return copied


def _copy_name(name: str, existing: set[str]) -> str:
    candidate = f"{name} (copy)"
    number = 2
    while candidate in existing:
        candidate = f"{name} (copy {number})"
        number += 1
    return candidate


def listing_row(document: dict[str, Any]) -> dict[str, Any]:
    """The list row of a device document, as `GET /devices` shows it (kazoo-api.md §5.1)."""
    sip = document.get("sip")
    sip = sip if isinstance(sip, dict) else {}
    row = {
        "id": document["id"],
        "name": document.get("name"),
        "username": sip.get("username"),
        "mac_address": document.get("mac_address", ""),
        "owner_id": document.get("owner_id"),
        "enabled": document.get("enabled", True),
        "device_type": document.get("device_type", "sip_device"),
        "flags": document.get("flags", []),
    }
    return {key: value for key, value in row.items() if value is not None}
