"""The shipped demo data (`resources/demo/demo.json`): what it must show, and that it seeds."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import md5_credentials
from kazoodesk.schema.validate import validate
from kazoodesk.simulator import demo
from kazoodesk.simulator import devices as device_rules
from kazoodesk.simulator.docs import public_fields
from kazoodesk.simulator.service import Simulator

DEVICE_TYPES = {
    "sip_device",
    "softphone",
    "smartphone",
    "cellphone",
    "landline",
    "fax",
    "ata",
    "sip_uri",
}
HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return demo.load_demo_data()


def by_name(data: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [a for a in data["accounts"] if a["name"] == name]
    assert len(matches) == 1, name
    return matches[0]


def master_of(data: dict[str, Any]) -> dict[str, Any]:
    masters = [a for a in data["accounts"] if a.get("superduper_admin")]
    assert len(masters) == 1
    return masters[0]


@pytest.fixture(scope="module")
def demo_co(data: dict[str, Any]) -> dict[str, Any]:
    return by_name(data, "Demo Co")


def clean_mac(mac: str) -> str:
    return re.sub(r"[^0-9a-f]", "", mac.lower())


# ---- the account tree ---------------------------------------------------------------------------


def test_account_tree(data: dict[str, Any]) -> None:
    master = master_of(data)
    acme = by_name(data, "Acme Telecom")
    demo_co = by_name(data, "Demo Co")
    assert master["parent_id"] is None
    assert acme["parent_id"] == master["id"]
    assert demo_co["parent_id"] == acme["id"]
    # an unrelated customer: under the master, outside the Acme branch
    others = [
        a for a in data["accounts"] if a["id"] not in {master["id"], acme["id"], demo_co["id"]}
    ]
    assert others, "no unrelated customer"
    assert any(a["parent_id"] == master["id"] and a.get("devices") for a in others)
    ids = [a["id"] for a in data["accounts"]]
    assert all(HEX32.match(i) for i in ids) and len(set(ids)) == len(ids)
    # parents come first, so seeding can build each account's tree
    seen: set[str] = set()
    for account in data["accounts"]:
        assert account["parent_id"] is None or account["parent_id"] in seen, account["name"]
        seen.add(account["id"])


def test_acme_telecom_is_a_reseller(data: dict[str, Any]) -> None:
    """`demo.seed` turns `"reseller": true` into `pvt_reseller` (login's `is_reseller`)."""
    assert by_name(data, "Acme Telecom").get("reseller") is True
    assert not any(a.get("reseller") for a in data["accounts"] if a["name"] != "Acme Telecom")


def test_logins_and_api_keys(data: dict[str, Any], demo_co: dict[str, Any]) -> None:
    for account in data["accounts"]:
        assert account["users"], account["name"]
        assert any(u.get("priv_level") == "admin" for u in account["users"]), account["name"]
    admins = [u for u in demo_co["users"] if u.get("priv_level") == "admin"]
    assert [u["username"] for u in admins] == ["admin"]
    assert re.fullmatch(r"[0-9a-f]{64}", demo_co["api_key"])
    assert re.fullmatch(r"[0-9a-f]{64}", master_of(data)["api_key"])
    keys = [a["api_key"] for a in data["accounts"] if a.get("api_key")]
    assert len(keys) == len(set(keys))


# ---- Demo Co ------------------------------------------------------------------------------------


def test_demo_co_size(demo_co: dict[str, Any]) -> None:
    assert 5 <= len(demo_co["users"]) <= 8
    assert 25 <= len(demo_co["devices"]) <= 40
    user_ids = [u["id"] for u in demo_co["users"]]
    device_ids = [d["id"] for d in demo_co["devices"]]
    assert all(HEX32.match(i) for i in user_ids + device_ids)
    assert len(set(user_ids + device_ids)) == len(user_ids) + len(device_ids)


def test_every_device_type_is_there(demo_co: dict[str, Any]) -> None:
    types = Counter(d.get("device_type", "sip_device") for d in demo_co["devices"])
    assert set(types) >= DEVICE_TYPES, DEVICE_TYPES - set(types)


def test_desk_phones_of_several_brands_with_macs_and_provisioning(demo_co: dict[str, Any]) -> None:
    desk = [
        d
        for d in demo_co["devices"]
        if d.get("device_type", "sip_device") in {"sip_device", "ata"} and d.get("mac_address")
    ]
    assert len(desk) >= 10
    for phone in desk:
        provision = phone.get("provision") or {}
        assert {"endpoint_brand", "endpoint_family", "endpoint_model"} <= set(provision), phone
        assert len(clean_mac(phone["mac_address"])) == 12, phone["mac_address"]
    brands = {d["provision"]["endpoint_brand"] for d in desk}
    assert len(brands) >= 4, brands
    assert any(d["provision"].get("combo_keys") for d in desk)
    # MACs come in the notations people type; each is unique once cleansed
    macs = [clean_mac(d["mac_address"]) for d in demo_co["devices"] if d.get("mac_address")]
    assert len(macs) == len(set(macs))
    notations = {":" in d["mac_address"] or "-" in d["mac_address"] for d in desk}
    assert notations == {True, False}


def test_cell_and_landline_forward_calls(demo_co: dict[str, Any]) -> None:
    for kind in ("cellphone", "landline"):
        devices = [d for d in demo_co["devices"] if d.get("device_type") == kind]
        assert devices, kind
        for device in devices:
            forward = device.get("call_forward") or {}
            assert forward.get("enabled") is True, device["name"]
            assert re.fullmatch(r"\+\d{8,15}", forward.get("number", "")), device["name"]


def test_special_devices(demo_co: dict[str, Any]) -> None:
    devices = demo_co["devices"]
    users = {u["id"]: u for u in demo_co["users"]}

    by_ip = [d for d in devices if (d.get("sip") or {}).get("method") == "ip"]
    assert by_ip and all(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", d["sip"]["ip"]) for d in by_ip)

    hotdesked = [
        d
        for d in devices
        if d.get("owner_id") in users
        and set((d.get("hotdesk") or {}).get("users") or {}) - {d["owner_id"]}
    ]
    assert hotdesked, "no device hotdesked by a user other than its owner"
    for device in hotdesked:
        assert set(device["hotdesk"]["users"]) <= set(users)

    assert any(d.get("enabled") is False for d in devices)

    for device in devices:
        owner = device.get("owner_id")
        assert owner is None or owner in users, device["name"]

    usernames = [
        d["sip"]["username"].lower() for d in devices if (d.get("sip") or {}).get("username")
    ]
    assert len(usernames) == len(set(usernames))


# ---- seeding ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any]
) -> Iterator[tuple[Simulator, dict[str, Any]]]:
    sim = Simulator.open(Path(tmp_path_factory.mktemp("demo-seed")))
    try:
        credentials = demo.seed(sim.store, sim.schemas, data)
        yield sim, credentials
    finally:
        sim.close()


def test_seed_writes_everything_and_reports_the_logins(
    seeded: tuple[Simulator, dict[str, Any]], data: dict[str, Any], demo_co: dict[str, Any]
) -> None:
    sim, credentials = seeded
    master = master_of(data)
    assert credentials["account_id"] == demo_co["id"]
    assert credentials["username"] == "admin"
    assert credentials["api_key"] == demo_co["api_key"]
    assert credentials["master"]["account_id"] == master["id"]
    assert demo.saved_credentials(sim.store) == credentials
    reader = sim.store.reader
    for account in data["accounts"]:
        stored = reader.get(account["id"], account["id"])
        assert stored is not None and stored["pvt_type"] == "account"
        devices = list(reader.list_type(account["id"], "device"))
        assert sorted(d["_id"] for d in devices) == sorted(d["id"] for d in account["devices"])
        users = list(reader.list_type(account["id"], "user"))
        assert len(users) == len(account["users"])
    tree = reader.get(demo_co["id"], demo_co["id"])["pvt_tree"]  # type: ignore[index]
    assert tree == [master["id"], demo_co["parent_id"]]


def test_every_seeded_device_passes_the_device_rules(
    seeded: tuple[Simulator, dict[str, Any]], data: dict[str, Any]
) -> None:
    """Each stored device, sent back unchanged as an update, is valid (rules and schema)."""
    sim, _credentials = seeded
    reader = sim.store.reader
    checked = 0
    for account in data["accounts"]:
        realm = account["realm"]
        for stored in reader.list_type(account["id"], "device"):
            fields = public_fields(stored)
            del fields["id"]
            prepared = device_rules.prepare(fields, realm)
            assert prepared == fields, stored["name"]  # already in stored form
            scope = device_rules.Scope(account["id"], realm, superduper=False)
            errors = device_rules.custom_errors(reader, scope, prepared, stored)
            assert errors == {}, (stored["name"], errors)
            outcome = validate(sim.schemas, "devices", prepared)
            assert not outcome.errors, (stored["name"], outcome.errors)
            assert outcome.doc == prepared, stored["name"]  # defaults already applied
            checked += 1
    assert checked == sum(len(a["devices"]) for a in data["accounts"])


def test_seeded_lookups_serve_logins_and_devices(
    seeded: tuple[Simulator, dict[str, Any]], demo_co: dict[str, Any]
) -> None:
    sim, _credentials = seeded
    reader = sim.store.reader
    account_id = demo_co["id"]
    for user in demo_co["users"]:
        md5 = md5_credentials(user["username"], user["password"])
        assert [(a, d) for a, d, _v in reader.lookup("creds_by_md5", md5)] == [
            (account_id, user["id"])
        ]
    assert [a for a, _d, _v in reader.lookup("account_api_key", demo_co["api_key"])] == [account_id]
    for device in demo_co["devices"]:
        if device.get("mac_address"):
            rows = reader.lookup("mac_address", clean_mac(device["mac_address"]), account_id)
            assert [d for _a, d, _v in rows] == [device["id"]]
        for hotdesker in (device.get("hotdesk") or {}).get("users") or {}:
            rows = reader.lookup("device_users", hotdesker, account_id)
            assert (account_id, device["id"], True) in rows
