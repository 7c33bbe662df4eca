"""What the device list knows about Kazoo device types and MAC addresses (no Qt here).

Friendly names follow SmartPBX's wording where it has one (ui-anchors.md §1.1); a type this
module does not know is shown as Kazoo spells it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

DEFAULT_DEVICE_TYPE = "sip_device"


@dataclass(frozen=True)
class DeviceType:
    """One Kazoo `device_type`: how it is named and whether it ever registers over SIP."""

    key: str
    label: str
    registers: bool
    why_not: str = ""  # shown when the device never registers


DEVICE_TYPES: dict[str, DeviceType] = {
    t.key: t
    for t in (
        DeviceType("sip_device", "SIP phone", True),
        DeviceType("softphone", "Softphone", True),
        DeviceType("smartphone", "Smartphone", True),
        DeviceType("cellphone", "Cell phone", False, "Cell phones only forward calls"),
        DeviceType("landline", "Landline", False, "Landlines only forward calls"),
        DeviceType("fax", "Fax", True),
        DeviceType("ata", "ATA", True),
        DeviceType("sip_uri", "SIP URI", False, "Calls go to a SIP URI; no registration"),
        DeviceType("mobile", "Mobile", False, "Business mobiles reach Kazoo through the carrier"),
        DeviceType("application", "Application", True),
        DeviceType("teammate", "Teammate", True),
    )
}

UNKNOWN_ICON = "unknown"


class Status(IntEnum):
    """Registration state of a device as the list shows it; the value is its sort rank."""

    REGISTERED = 0
    UNREGISTERED = 1
    UNKNOWN = 2  # /devices/status not loaded yet
    NOT_REGISTRABLE = 3
    DISABLED = 4


STATUS_LABELS: dict[Status, str] = {
    Status.REGISTERED: "Registered",
    Status.UNREGISTERED: "Unregistered",
    Status.UNKNOWN: "Unknown",
    Status.NOT_REGISTRABLE: "Not registrable",
    Status.DISABLED: "Disabled",
}


def status_of(enabled: bool, registrable: bool, registered: bool | None) -> Status:
    """The state shown for a device; `registered` is None until /devices/status has answered.

    Disabled wins (Kazoo refuses its calls whatever a phone claims); a registration the server
    reports wins over the type's rule, since the server knows best.
    """
    if not enabled:
        return Status.DISABLED
    if registered:
        return Status.REGISTERED
    if not registrable:
        return Status.NOT_REGISTRABLE
    if registered is None:
        return Status.UNKNOWN
    return Status.UNREGISTERED


_NOT_HEX = re.compile(r"[^0-9a-f]")
_MAC_SEPARATORS = re.compile(r"[\s:.\-]")
_MAC_TERM = re.compile(r"[0-9a-f:.\-]+")


def device_type_of(row: Mapping[str, object]) -> str:
    """A listing row's device type (Kazoo lists a device saved without one as `sip_device`)."""
    value = row.get("device_type")
    return value if isinstance(value, str) and value else DEFAULT_DEVICE_TYPE


def type_label(device_type: str) -> str:
    known = DEVICE_TYPES.get(device_type)
    return known.label if known else device_type


def type_icon_name(device_type: str) -> str:
    """The file stem of the type's drawing under resources/icons/devices/."""
    return device_type if device_type in DEVICE_TYPES else UNKNOWN_ICON


def can_register(device_type: str, sip_username: str) -> bool:
    """Whether a device of this type and SIP username can ever show up in /devices/status.

    Forwarding-only types never register; neither does a device without SIP credentials (a
    smartphone used for forwarding only, a gateway authenticating by IP).
    """
    known = DEVICE_TYPES.get(device_type)
    if known is not None and not known.registers:
        return False
    return bool(sip_username)


def why_not_registrable(device_type: str, sip_username: str) -> str:
    known = DEVICE_TYPES.get(device_type)
    if known is not None and not known.registers:
        return known.why_not
    if not sip_username:
        return "No SIP username: the device cannot register (forwarding or IP authentication)"
    return ""


def mac_digits(raw: str) -> str:
    """The lowercase hex digits of a MAC in any stored form ('00-15-65-A1-3C-02',
    '6416.7fa1.b207', '0004F2A1B203')."""
    return _NOT_HEX.sub("", raw.lower())


def format_mac(raw: str) -> str:
    """`aa:bb:cc:dd:ee:ff` whatever the stored form; a value that is not 12 hex digits is shown
    as stored, so a bad MAC stays visible instead of being disguised."""
    if not raw:
        return ""
    digits = mac_digits(raw)
    if len(digits) != 12 or len(_MAC_SEPARATORS.sub("", raw)) != 12:
        return raw
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def mac_search_form(term: str) -> str | None:
    """A lowercase search term with its MAC separators removed, when it could be part of a MAC
    typed with separators ('80-5e', '6416.7f'); otherwise None."""
    if _MAC_TERM.fullmatch(term) and _MAC_SEPARATORS.search(term):
        stripped = _MAC_SEPARATORS.sub("", term)
        return stripped or None
    return None
