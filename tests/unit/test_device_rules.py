"""The pure device rules (simulator/devices.py, docs.py): kazoo-api.md §4.1, §5.1, §5.2, §5.5."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from multidict import MultiDict

from kazoodesk.simulator import devices as rules
from kazoodesk.simulator.docs import (
    GREGORIAN_OFFSET,
    merge_left,
    public_fields,
    request_fields,
    stamp_private,
)
from kazoodesk.simulator.http.devices import check_sync_event

ACCOUNT = "a" * 32
REALM = "demo.kazoodesk.test"

# ---- MAC addresses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("00:04:F2:AB:7E:FD", "0004f2ab7efd"),
        ("00-15-65-A1-3C-02", "001565a13c02"),
        ("6416.7fa1.b207", "64167fa1b207"),
        ("0004F2A1B203", "0004f2a1b203"),
        (" 00 04 f2 ab 7e fd ", "0004f2ab7efd"),
        ("zz:zz", "zz:zz"),  # no hex digit: left as sent
        ("", ""),
        (None, None),
        (42, 42),
    ],
)
def test_cleanse_mac(sent: Any, stored: Any) -> None:
    assert rules.cleanse_mac(sent) == stored


def test_mac_digits_is_none_without_hex_digits() -> None:
    assert rules.mac_digits("zz-zz") is None
    assert rules.mac_digits("") is None
    assert rules.mac_digits(None) is None
    assert rules.mac_digits("AB:cd") == "abcd"


# ---- prepare (the prepare_* steps of validate_device/2) ----------------------------------


def test_prepare_works_on_a_copy() -> None:
    doc = {"mac_address": "AA:BB", "sip": {"realm": REALM}, "outbound_flags": [" x "]}
    before = copy.deepcopy(doc)
    prepared = rules.prepare(doc, REALM)
    assert doc == before
    assert prepared == {"mac_address": "aabb", "sip": {}, "outbound_flags": ["x"]}


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([" fax ", "intl\t", "\nlocal"], ["fax", "intl", "local"]),
        ([], []),
        ({"static": ["a"], "dynamic": ["b"]}, []),
        ("fax", []),
        (7, []),
    ],
)
def test_prepare_outbound_flags(flags: Any, expected: list[str]) -> None:
    assert rules.prepare({"outbound_flags": flags}, REALM)["outbound_flags"] == expected


def test_prepare_without_outbound_flags_adds_none() -> None:
    assert "outbound_flags" not in rules.prepare({"name": "x"}, REALM)


@pytest.mark.parametrize(
    ("realm", "account_realm", "kept"),
    [
        (REALM, REALM, False),
        ("other.example.net", REALM, True),
        ("DEMO.kazoodesk.test", REALM, True),  # compared exactly (`=:=`)
        (REALM, None, True),
    ],
)
def test_prepare_drops_only_the_account_realm(
    realm: str, account_realm: str | None, kept: bool
) -> None:
    sip = rules.prepare({"sip": {"realm": realm, "username": "u1"}}, account_realm)["sip"]
    assert ("realm" in sip) is kept
    assert sip["username"] == "u1"


def test_prepare_drops_null_combo_and_feature_keys_only() -> None:
    doc = {
        "provision": {
            "combo_keys": {"0": {"type": "line"}, "1": None},
            "feature_keys": {"0": None},
            "other": {"1": None},
        }
    }
    assert rules.prepare(doc, REALM)["provision"] == {
        "combo_keys": {"0": {"type": "line"}},
        "feature_keys": {},
        "other": {"1": None},
    }


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("(415) 555-0100", "+14155550100"),
        ("14155550100", "+14155550100"),
        ("+44 20 7946 0000", "+442079460000"),
        ("911", "+911"),
        ("no digits", "no digits"),
    ],
)
def test_prepare_normalises_the_emergency_caller_id_number(number: str, expected: str) -> None:
    doc = {
        "caller_id": {"emergency": {"number": number, "name": "HQ"}, "internal": {"number": "1"}}
    }
    caller_id = rules.prepare(doc, REALM)["caller_id"]
    assert caller_id == {
        "emergency": {"number": expected, "name": "HQ"},
        "internal": {"number": "1"},
    }


def test_prepare_leaves_odd_shapes_alone() -> None:
    doc = {"caller_id": "x", "sip": "y", "provision": ["z"], "mac_address": None}
    assert rules.prepare(doc, REALM) == doc


# ---- custom checks -----------------------------------------------------------------------


class Views:
    """A stand-in for the store's lookups: (view, key) -> [(account, doc id)]."""

    def __init__(self, rows: dict[tuple[str, str], list[tuple[str, str]]]) -> None:
        self.rows = rows

    def lookup(self, view: str, key: str, account_id: str | None = None) -> list[Any]:
        found = self.rows.get((view, key), [])
        return [(a, d, None) for a, d in found if account_id in (None, a)]


def errors(
    doc: dict[str, Any],
    views: Views | None = None,
    stored: dict[str, Any] | None = None,
    superduper: bool = False,
) -> rules.ErrorMap:
    return rules.custom_errors(
        views or Views({}),  # type: ignore[arg-type]
        rules.Scope(ACCOUNT, REALM, superduper),
        rules.prepare(doc, REALM),
        stored,
    )


def test_username_uniqueness_is_case_insensitive_and_ignores_the_device_itself() -> None:
    views = Views({("sip_credentials", "bob"): [(ACCOUNT, "d1")]})
    assert errors({"sip": {"username": "BoB"}}, views) == {
        "sip.username": {"unique": {"message": "SIP credentials already in use", "cause": "BoB"}}
    }
    assert errors({"sip": {"username": "bob"}}, views, stored={"_id": "d1"}) == {}
    assert errors({"sip": {"username": "bob", "method": "ip", "ip": "10.0.0.1"}}, views) == {}
    other_account = Views({("sip_credentials", "bob"): [("b" * 32, "d9")]})
    assert errors({"sip": {"username": "bob"}}, other_account) == {}


def test_a_device_without_username_is_looked_up_as_undefined() -> None:
    assert errors({"sip": {}}) == {}
    views = Views({("sip_credentials", "undefined"): [(ACCOUNT, "d1")]})
    assert errors({"name": "x"}, views) == {
        "sip.username": {"unique": {"message": "SIP credentials already in use"}}
    }


def test_mac_uniqueness_uses_the_cleansed_mac() -> None:
    views = Views({("mac_address", "0004f2ab7efd"): [(ACCOUNT, "d1")]})
    assert errors({"mac_address": "00:04:F2:AB:7E:FD"}, views) == {
        "mac_address": {
            "unique": {"message": "MAC address already in use", "cause": "0004f2ab7efd"}
        }
    }
    stored = {"_id": "d1", "mac_address": "0004f2ab7efd"}
    assert errors({"mac_address": "00-04-f2-ab-7e-fd"}, views, stored=stored) == {}
    assert errors({"mac_address": "zz"}, Views({("mac_address", "zz"): [(ACCOUNT, "d1")]})) == {}


@pytest.mark.parametrize("ip", ["300.1.2.3", "10.0.0", "::1", "", None, 5])
def test_ip_authentication_needs_an_ipv4(ip: Any) -> None:
    found = errors({"sip": {"method": "ip", "ip": ip}})
    assert list(found) == ["sip.ip"] and list(found["sip.ip"]) == ["type"]
    assert found["sip.ip"]["type"]["message"] == "Must be a valid IPv4 RFC 791"


def test_ip_authentication_ips_are_unique_across_accounts() -> None:
    views = Views({("sip_ip", "192.0.2.7"): [("b" * 32, "d9")]})
    assert errors({"sip": {"method": "ip", "ip": "192.0.2.7"}}, views) == {
        "sip.ip": {"unique": {"message": "SIP IP already in use", "cause": "192.0.2.7"}}
    }
    assert errors({"sip": {"method": "ip", "ip": "192.0.2.7"}}, views, stored={"_id": "d9"}) == {}


@pytest.mark.parametrize(
    ("old", "new", "cause"),
    [
        ("sip_device", "softphone", "softphone"),
        ("sip_device", None, ""),
        (None, "fax", "fax"),
    ],
)
def test_device_type_changes_need_a_superduper_admin(
    old: str | None, new: str | None, cause: str
) -> None:
    stored = {"_id": "d1", **({"device_type": old} if old else {})}
    doc = {"device_type": new} if new else {}
    assert errors(doc, stored=stored) == {
        "device_type": {
            "invalid": {"message": "Not authorized to change type of device", "cause": cause}
        }
    }
    assert errors(doc, stored=stored, superduper=True) == {}
    assert errors(doc) == {}  # a create sets whatever type it likes


def test_an_unchanged_type_passes() -> None:
    assert errors({"device_type": "fax"}, stored={"_id": "d1", "device_type": "fax"}) == {}
    assert errors({}, stored={"_id": "d1"}) == {}


def test_mobile_devices_need_an_mdn_that_only_superduper_admins_change() -> None:
    required = {"mobile.mdn": {"required": {"message": "Field is required but missing"}}}
    assert errors({"device_type": "mobile"}) == required
    assert errors({"device_type": "mobile", "mobile": {"mdn": ""}}) == required
    stored = {"_id": "d1", "device_type": "mobile", "mobile": {"mdn": "+14155550100"}}
    same = {"device_type": "mobile", "mobile": {"mdn": "4155550100"}}
    assert errors(same, stored=stored) == {}  # compared normalised
    other = {"device_type": "mobile", "mobile": {"mdn": "+14155550199"}}
    found = errors(other, stored=stored)
    assert found["mobile.mdn"]["invalid"]["cause"] == "+14155550199"
    assert errors(other, stored=stored, superduper=True) == {}


def test_every_custom_error_is_collected() -> None:
    views = Views(
        {("sip_credentials", "bob"): [(ACCOUNT, "d2")], ("mac_address", "aabb"): [(ACCOUNT, "d3")]}
    )
    found = errors(
        {"device_type": "mobile", "mac_address": "AA:BB", "sip": {"username": "bob"}},
        views,
        stored={"_id": "d1", "device_type": "sip_device"},
    )
    assert set(found) == {"mobile.mdn", "mac_address", "sip.username", "device_type"}


# ---- listing rows --------------------------------------------------------------------------


def test_a_minimal_listing_row() -> None:
    doc = {"_id": "d1", "_rev": "1-x", "name": "Desk", "enabled": True, "pvt_type": "device"}
    assert rules.listing_row(doc) == {
        "id": "d1",
        "name": "Desk",
        "mac_address": "",
        "enabled": True,
        "device_type": "sip_device",
        "flags": [],
    }


def test_a_full_listing_row_has_no_password() -> None:
    doc = {
        "_id": "d1",
        "name": "Desk",
        "enabled": False,
        "mac_address": "aabb",
        "owner_id": "u1",
        "device_type": "mobile",
        "mobile": {"mdn": "+1"},
        "call_recording": {"any": {}},
        "flags": ["a"],
        "sip": {"username": "user", "password": "secret"},
        "language": "fr",
    }
    assert rules.listing_row(doc) == {
        "id": "d1",
        "name": "Desk",
        "username": "user",
        "mac_address": "aabb",
        "owner_id": "u1",
        "enabled": False,
        "device_type": "mobile",
        "mobile": {"mdn": "+1"},
        "call_recording": {"any": {}},
        "flags": ["a"],
    }


def test_user_device_rows_mark_hotdesked_devices() -> None:
    doc = {"_id": "d1", "name": "Desk", "enabled": True, "owner_id": "bob", "mac_address": "ab"}
    owned = rules.user_device_row(doc, "bob")
    assert owned == {
        "id": "d1",
        "name": "Desk",
        "mac_address": "ab",
        "owner_id": "bob",
        "enabled": True,
        "device_type": "sip_device",
        "hotdesked": False,
    }
    assert rules.user_device_row(doc, "emma") == {**owned, "hotdesked": True}


# ---- start keys ----------------------------------------------------------------------------

SPEC_ID = "4f3330e78e664bb57f8fb23fbaac2429"
SPEC_KEY = "g20AAAAgNGYzMzMwZTc4ZTY2NGJiNTdmOGZiMjNmYmFhYzI0Mjk"


def test_start_key_encoding_matches_the_documented_example() -> None:
    assert rules.encode_start_key(SPEC_ID) == SPEC_KEY
    assert rules.decode_start_key(SPEC_KEY) == SPEC_ID
    assert rules.decode_start_key(SPEC_KEY + "=") == SPEC_ID  # padding tolerated


@pytest.mark.parametrize("key", ["", "a", "status", "Ünïcode-ключ", "x" * 300])
def test_start_keys_round_trip(key: str) -> None:
    assert rules.decode_start_key(rules.encode_start_key(key)) == key


@pytest.mark.parametrize(
    "value",
    [
        SPEC_ID,  # a raw id is used as it is
        "!!not base64!!",
        "g20AAAAh" + SPEC_KEY[8:],  # the length does not match
        "g2gCZAABYWQAAWI",  # another Erlang term (a tuple)
        "g20AAAAB_w",  # a binary that is not UTF-8
    ],
)
def test_undecodable_start_keys_are_used_raw(value: str) -> None:
    assert rules.decode_start_key(value) == value


# ---- filters -------------------------------------------------------------------------------

DOC: dict[str, Any] = {
    "_id": "d1",
    "name": "Desk",
    "enabled": True,
    "device_type": "softphone",
    "flags": ["vip", "night"],
    "sip": {"username": "bob", "expire_seconds": 300},
    "presence_id": "",
    "language": "0",
    "mobile": {},
    "do_not_disturb": {"enabled": False},
    "pvt_type": "device",
    "pvt_created": 63_900_000_000,
    "pvt_modified": 63_900_000_100,
}


def holds(**query: str) -> bool:
    return rules.matches(DOC, MultiDict(query))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"filter_device_type": "softphone"}, True),
        ({"filter_device_type": "fax"}, False),
        ({"filter_not_device_type": "fax"}, True),
        ({"filter_not_device_type": "softphone"}, False),
        ({"filter_device_type": '["fax","softphone"]'}, True),
        ({"filter_device_type": '["fax"]'}, False),
        ({"filter_device_type": '"softphone"'}, True),  # a JSON string decodes to the value
        ({"filter_enabled": "true"}, True),
        ({"filter_enabled": "false"}, False),
        ({"filter_enabled": "[true]"}, False),  # list members must be strings
        ({"filter_enabled": '["true"]'}, True),
        ({"filter_sip.username": "bob"}, True),
        ({"filter_sip.expire_seconds": "300"}, True),
        ({"filter_flags.1": "night"}, True),
        ({"filter_flags.\u00b9": "night"}, False),  # "¹" is a digit to str.isdigit, not an index
        ({"filter_flags." + "9" * 5000: "night"}, False),  # no such index (nor such an int)
        ({"filter_name": "[" * 5000}, False),  # too deep to decode: not a JSON list
        ({"filter_pvt_type": "device"}, True),
        ({"filter_owner_id": ""}, True),  # a missing value reads as ""
        ({"filter_owner_id": "u1"}, False),
        ({"filter_not_owner_id": "u1"}, True),
        ({"filter_not_owner_id": ""}, False),
        ({"has_key": "presence_id"}, True),
        ({"has_key": "owner_id"}, False),
        ({"has_key": "sip.username"}, True),
        ({"key_missing": "owner_id"}, True),
        ({"key_missing": "name"}, False),
        ({"has_value": "name"}, True),
        ({"has_value": "presence_id"}, False),
        ({"has_value": "language"}, False),  # "0" is empty to kz_term:is_empty/1
        ({"has_value": "mobile"}, False),
        ({"has_value": "do_not_disturb.enabled"}, False),
        ({"has_value": "enabled"}, True),
        ({"has_value": "sip.expire_seconds"}, True),
        ({"value_missing": "presence_id"}, True),
        ({"value_missing": "owner_id"}, True),
        ({"value_missing": "name"}, False),
        ({"created_from": "63900000000"}, True),
        ({"created_from": "63900000001"}, False),
        ({"created_to": "63900000000"}, True),
        ({"created_to": "63899999999"}, False),
        ({"modified_from": "63900000100"}, True),
        ({"modified_to": "63900000099"}, False),
        ({"created_from": "63899999999.6"}, True),  # rounded like kz_term:to_integer/1
        ({"created_from": "yesterday"}, False),
        ({"created_from": "9" * 5000}, False),  # more digits than Python turns into an int
        ({"modified_to": ""}, False),
        ({"page_size": "5", "paginate": "true", "start_key": "x"}, True),  # not filters
        ({"filter_enabled": "true", "has_key": "owner_id"}, False),  # filters AND
    ],
)
def test_filters(query: dict[str, str], expected: bool) -> None:
    assert holds(**query) is expected


def test_repeated_filter_keys_must_all_hold() -> None:
    query = MultiDict([("has_key", "name"), ("has_key", "owner_id")])
    assert rules.matches(DOC, query) is False


def test_filters_see_the_stored_document_not_the_listing_row() -> None:
    untyped = {"_id": "d2", "name": "x"}
    assert rules.listing_row(untyped)["device_type"] == "sip_device"
    assert not rules.matches(untyped, MultiDict({"filter_device_type": "sip_device"}))


# ---- paging ----------------------------------------------------------------------------------


def docs(*ids: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"_id": i, **extra} for i in ids]


def test_paginate_returns_a_page_and_the_id_after_it() -> None:
    page, next_id = rules.paginate(docs("a", "b", "c", "d"), MultiDict(), 2)
    assert [d["_id"] for d in page] == ["a", "b"] and next_id == "c"
    page, next_id = rules.paginate(docs("a", "b"), MultiDict(), 2)
    assert [d["_id"] for d in page] == ["a", "b"] and next_id is None
    page, next_id = rules.paginate(docs("a", "b", "c"), MultiDict(), None)
    assert len(page) == 3 and next_id is None


def test_paginate_skips_documents_the_filters_reject() -> None:
    rows = [*docs("a", "c", "e", kind="x"), *docs("b", "d", kind="y")]
    rows.sort(key=lambda d: d["_id"])
    page, next_id = rules.paginate(rows, MultiDict({"filter_kind": "x"}), 2)
    assert [d["_id"] for d in page] == ["a", "c"] and next_id == "e"


def test_paginate_reads_no_further_than_needed() -> None:
    read: list[str] = []

    def source() -> Any:
        for d in docs("a", "b", "c", "d", "e"):
            read.append(d["_id"])
            yield d

    rules.paginate(source(), MultiDict(), 2)
    assert read == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("value", "size"),
    [(None, 50), ("", 50), ("abc", 50), ("0", 50), (0, 50), ("-1", 50), ("7", 7), (7, 7)]
    + [("7.5", 8), (7.4, 7), ("1e3", 50), (True, 50), ([], 50)],
)
def test_page_size_of(value: Any, size: int) -> None:
    assert rules.page_size_of(value) == size


def test_integer_above() -> None:
    assert rules.integer_above("45", 3, 30) == 45
    assert rules.integer_above("9" * 5000, 3, 30) == 30
    assert rules.integer_above("3", 3, 30) == 30
    assert rules.integer_above("soon", 3, 30) == 30
    assert rules.integer_above(None, 3, 30) == 30


# ---- check-sync events ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provision", "reboot", "event"),
    [
        ({}, None, "check-sync"),
        ({}, True, "check-sync"),
        ({"check_sync_event": "resync"}, None, "resync"),
        (
            {"check_sync_event": "resync", "check_sync_reboot": "reboot=true"},
            True,
            "resync;reboot=true",
        ),
        (
            {"check_sync_event": "resync", "check_sync_reload": "reboot=false"},
            False,
            "resync;reboot=false",
        ),
        ({"check_sync_event": "resync", "check_sync_reload": "reboot=false"}, True, "resync"),
        ({"check_sync_reboot": "reboot=true"}, True, "check-sync"),
    ],
)
def test_check_sync_event(provision: dict[str, str], reboot: bool | None, event: str) -> None:
    assert check_sync_event({"provision": provision}, reboot) == event


# ---- documents (docs.py) -------------------------------------------------------------------


def test_merge_left_is_kazoos_patch_merge() -> None:
    stored = {
        "name": "Desk",
        "caller_id": {"internal": {"name": "A", "number": "1"}, "external": {"number": "2"}},
        "ringtones": {"internal": "x"},
        "flags": ["a", "b"],
        "language": "en",
    }
    before = copy.deepcopy(stored)
    request = {
        "caller_id": {"internal": {"name": "B"}, "external": {"number": None}},
        "ringtones": {},
        "flags": ["c"],
        "language": None,
        "gone": None,
        "new": {"kept": 1, "dropped": None},
    }
    assert merge_left(request, stored) == {
        "name": "Desk",
        "caller_id": {"internal": {"name": "B", "number": "1"}, "external": {}},
        "ringtones": {},
        "flags": ["c"],
        "new": {"kept": 1},
    }
    assert stored == before


def test_merge_left_replaces_a_scalar_with_an_object_and_back() -> None:
    assert merge_left({"a": {"b": 1}}, {"a": "x"}) == {"a": {"b": 1}}
    assert merge_left({"a": "x"}, {"a": {"b": 1}}) == {"a": "x"}


def test_request_fields_drop_private_keys_and_copy() -> None:
    data = {"name": "x", "_id": "i", "_rev": "r", "pvt_type": "user", "nested": {"_keep": 1}}
    fields = request_fields(data)
    assert fields == {"name": "x", "nested": {"_keep": 1}}
    fields["nested"]["_keep"] = 2
    assert data["nested"] == {"_keep": 1}


def test_public_fields_show_the_id_and_hide_private_keys() -> None:
    doc = {"_id": "d1", "_rev": "1-x", "pvt_type": "device", "name": "x", "id": "ignored"}
    assert public_fields(doc) == {"name": "x", "id": "d1"}


def test_stamp_private_keeps_the_creation_time_and_names() -> None:
    stored = {"_id": "d1", "pvt_created": 63_000_000_000, "pvt_deleted": False, "name": "Old"}
    doc = stamp_private({"name": "Front Desk #2"}, "device", ACCOUNT, "req", "auth", None, stored)
    assert doc["pvt_created"] == 63_000_000_000
    assert doc["pvt_modified"] > GREGORIAN_OFFSET
    assert (doc["pvt_type"], doc["pvt_vsn"], doc["pvt_account_id"]) == ("device", "1", ACCOUNT)
    assert doc["pvt_account_db"] == f"account%2F{ACCOUNT[:2]}%2F{ACCOUNT[2:4]}%2F{ACCOUNT[4:]}"
    assert doc["pvt_alphanum_name"] == "frontdesk2"
    assert doc["pvt_request_id"] == "req" and doc["pvt_auth_account_id"] == "auth"
    assert "pvt_auth_user_id" not in doc
    fresh = stamp_private({"name": "x"}, "device", ACCOUNT, "req", None, None)
    assert fresh["pvt_created"] == fresh["pvt_modified"]
    assert fresh["pvt_is_authenticated"] is False
