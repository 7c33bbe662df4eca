"""Device types, MACs and registration states of the device list (no Qt)."""

from __future__ import annotations

import pytest

from kazoodesk.resources import resource_path
from kazoodesk.ui.devices.device_types import (
    DEVICE_TYPES,
    Status,
    can_register,
    format_mac,
    mac_search_form,
    status_of,
    type_icon_name,
    type_label,
)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("80:5E:C0:4B:1A:01", "80:5e:c0:4b:1a:01"),
        ("00-15-65-A1-3C-02", "00:15:65:a1:3c:02"),
        ("0004F2A1B203", "00:04:f2:a1:b2:03"),
        ("6416.7fa1.b207", "64:16:7f:a1:b2:07"),
        ("000413a1b20b", "00:04:13:a1:b2:0b"),
        ("", ""),
        # not a MAC: shown as stored rather than disguised
        ("00:15:65", "00:15:65"),
        ("zz:15:65:a1:3c:02", "zz:15:65:a1:3c:02"),
    ],
)
def test_mac_is_shown_in_one_form(stored: str, shown: str) -> None:
    assert format_mac(stored) == shown


@pytest.mark.parametrize(
    ("term", "form"),
    [("80-5e", "805e"), ("6416.7f", "64167f"), ("a1:b2:0", "a1b20"), ("a1b2", None), ("bob", None)],
)
def test_search_terms_lose_mac_separators(term: str, form: str | None) -> None:
    assert mac_search_form(term) == form


def test_friendly_names_and_unknown_types() -> None:
    assert [type_label(t) for t in DEVICE_TYPES] == [
        "SIP phone",
        "Softphone",
        "Smartphone",
        "Cell phone",
        "Landline",
        "Fax",
        "ATA",
        "SIP URI",
        "Mobile",
        "Application",
        "Teammate",
    ]
    assert type_label("meta") == "meta"
    assert type_icon_name("meta") == "unknown"


def test_every_type_has_its_own_drawing() -> None:
    for device_type in (*DEVICE_TYPES, "meta"):
        assert resource_path("icons", "devices", f"{type_icon_name(device_type)}.svg").is_file()


@pytest.mark.parametrize(
    ("device_type", "username", "registrable"),
    [
        ("sip_device", "user_1", True),
        ("sip_device", "", False),  # authenticates by IP
        ("smartphone", "user_2", True),
        ("smartphone", "", False),  # forwarding only
        ("cellphone", "user_3", False),
        ("landline", "", False),
        ("sip_uri", "", False),
        ("mobile", "", False),
        ("meta", "user_4", True),
    ],
)
def test_which_devices_can_register(device_type: str, username: str, registrable: bool) -> None:
    assert can_register(device_type, username) is registrable


def test_status_precedence() -> None:
    assert status_of(False, True, True) == Status.DISABLED
    assert status_of(True, False, True) == Status.REGISTERED  # the server knows best
    assert status_of(True, False, False) == Status.NOT_REGISTRABLE
    assert status_of(True, True, None) == Status.UNKNOWN
    assert status_of(True, True, False) == Status.UNREGISTERED
