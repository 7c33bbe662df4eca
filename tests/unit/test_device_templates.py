"""New and duplicated devices: valid for the schema, with what each type needs."""

from __future__ import annotations

import pytest

from kazoodesk.device_templates import (
    AUTHN_BY_IP,
    NEW_DEVICE_TYPES,
    checked_ip,
    duplicate_device,
    generate_password,
    generate_username,
    listing_row,
    new_device,
)
from kazoodesk.schema.registry import SchemaRegistry
from kazoodesk.schema.validate import validate

REGISTRY = SchemaRegistry.load()
DETAILS = {
    "cellphone": {"number": "+14155550100"},
    "landline": {"number": "+14155550101"},
    "smartphone": {"number": "+14155550102"},
    "sip_uri": {"route": "sip:alice@example.com"},
    AUTHN_BY_IP: {"ip": "192.0.2.10"},
}


@pytest.mark.parametrize("device_type", [*NEW_DEVICE_TYPES, AUTHN_BY_IP])
def test_every_new_device_is_valid_for_the_schema(device_type: str) -> None:
    doc = new_device(device_type, "Front desk", **DETAILS.get(device_type, {}))

    assert validate(REGISTRY, "devices", doc).errors == {}
    assert doc["name"] == "Front desk"


def test_sip_devices_get_generated_credentials() -> None:
    first, second = new_device("sip_device", "a"), new_device("sip_device", "b")

    assert first["sip"]["username"].startswith("user_")
    assert first["sip"]["username"] != second["sip"]["username"]
    assert first["sip"]["password"] != second["sip"]["password"]


def test_forwarding_types_ring_the_number_given() -> None:
    doc = new_device("cellphone", "Bob's cell", number="+14155550100")

    assert doc["call_forward"] == {
        "enabled": True,
        "number": "+14155550100",
        "require_keypress": True,
        "keep_caller_id": True,
    }
    assert "sip" not in doc


def test_fax_and_sip_uri_defaults() -> None:
    assert new_device("fax", "Fax")["outbound_flags"] == ["fax"]
    uri = new_device("sip_uri", "Trunk", route="sip:pbx@example.com")
    assert uri["sip"] == {"invite_format": "route", "route": "sip:pbx@example.com"}


def test_authn_by_ip_is_the_seed_device() -> None:
    doc = new_device(AUTHN_BY_IP, "authn_by_ip", ip=" 192.0.2.10 ")

    assert doc["sip"] == {"method": "ip", "ip": "192.0.2.10", "invite_format": "e164"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "not an IP address"),
        ("192.0.2", "not an IP address"),
        ("2001:db8::1", "IPv4"),
        ("0.0.0.0", "cannot send from"),
        ("224.0.0.1", "cannot send from"),
    ],
)
def test_bad_ip_addresses_are_refused_with_a_reason(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        checked_ip(text)


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown device type"):
        new_device("teleporter", "x")


def test_passwords_are_strong_and_within_the_schema_limits() -> None:
    for _ in range(200):
        password = generate_password()
        assert 5 <= len(password) <= 32
        assert any(c.isupper() for c in password) and any(c.isdigit() for c in password)
    assert 2 <= len(generate_username()) <= 32


def test_duplicate_drops_identity_and_unique_fields() -> None:
    original = {
        "id": "abc",
        "_rev": "3-x",
        "pvt_type": "device",
        "name": "Desk",
        "mac_address": "00:04:f2:aa:bb:cc",
        "sip": {"username": "desk", "password": "Secret123", "realm": "r"},
        "custom_key": {"kept": True},
    }

    copy = duplicate_device(original, {"Desk (copy)"})

    assert copy["name"] == "Desk (copy 2)"
    assert "id" not in copy and "_rev" not in copy and "pvt_type" not in copy
    assert "mac_address" not in copy
    assert copy["sip"]["username"] != "desk" and copy["sip"]["realm"] == "r"
    assert copy["custom_key"] == {"kept": True}
    assert original["sip"]["username"] == "desk"  # the original is untouched


def test_listing_row_matches_the_api_listing() -> None:
    row = listing_row({"id": "d1", "name": "Desk", "sip": {"username": "desk"}})

    assert row == {
        "id": "d1",
        "name": "Desk",
        "username": "desk",
        "mac_address": "",
        "enabled": True,
        "device_type": "sip_device",
        "flags": [],
    }
