"""The devices API over real HTTP (kazoo-api.md §3-§8, §11): create, read, replace, patch,
delete, If-Match, the custom checks, notify, sync, status, quickcall and a user's devices.

The module runs its own demo server (`demo_server` below overrides the session one, so the
`api` and `master_api` fixtures log in there): the devices created here stay out of other
modules' counts. Each test creates the devices it changes (unique names, SIP usernames, MACs
and IPs); the demo devices are only read.
"""

from __future__ import annotations

import ipaddress
import random
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from helpers import (
    GLOBEX,
    NEW_DEVICE_DEFAULTS,
    SENT_CALL_FORWARD_DEFAULTS,
    SENT_MEDIA_DEFAULTS,
    Api,
    Server,
    encoded_start_key,
    own_server_fixture,
    sip_register,
)
from kazoodesk.simulator.service import Notification

HEX32 = re.compile(r"^[0-9a-f]{32}$")
DEMO_REALM = "demo.kazoodesk.test"
BOB = "1b3f14b84bcaf05ba4a6b65ec0197dd9"
EMMA = "9b3f2e5f389d15c25df7b59ab7e333f3"
BOBS_DESK = "852abdc9b549e0d72585cbe3fa2d87fc"  # owned by Bob, hotdesked by Emma
EMMAS_DESK = "bb30da8e6cf7b3a976103173e4c8f448"
GLOBEX_GATEWAY_IP = "192.0.2.77"  # another account's auth-by-IP device
EXPIRES = "Fri, 01 Jan 1999 00:00:00 GMT"

# ---- helpers -------------------------------------------------------------------------------


def tag() -> str:
    return uuid.uuid4().hex[:12]


def sip_user() -> str:
    return f"t_{tag()}"


def mac() -> str:
    """A random MAC written the way phones print it (upper case, colons)."""
    return ":".join(f"{random.randrange(256):02X}" for _ in range(6))


def cleansed(mac_address: str) -> str:
    return re.sub(r"[^0-9a-fA-F]", "", mac_address).lower()


def free_ip() -> str:
    return str(ipaddress.IPv4Address("198.18.0.0") + random.randrange(1, 130_000))


def create(api: Api, **fields: Any) -> dict[str, Any]:
    """PUT a device (name made unique) and return the response envelope."""
    fields.setdefault("name", f"Test {tag()}")
    return api.ok("PUT", f"{api.account}/devices", fields)


def device(api: Api, **fields: Any) -> dict[str, Any]:
    return create(api, **fields)["data"]


def url(api: Api, device_id: str, *rest: str) -> str:
    return "/".join([f"{api.account}/devices/{device_id}", *rest])


def invalid(reply: httpx.Response) -> dict[str, Any]:
    """The `data` of a 400 validation error (checking the envelope on the way)."""
    assert reply.status_code == 400, reply.text
    body = reply.json()
    assert (body["status"], body["error"], body["message"]) == ("error", "400", "validation error")
    data: dict[str, Any] = body["data"]
    return data


def bad_identifier(reply: httpx.Response, cause: str) -> None:
    assert reply.status_code == 404, reply.text
    body = reply.json()
    assert body["message"] == "bad_identifier"
    assert body["data"] == {"cause": cause, "message": "bad identifier"}


def system_error(reply: httpx.Response, status: int, message: str, text: str) -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert (body["error"], body["message"], body["data"]) == (
        str(status),
        message,
        {"message": text},
    )


def is_listed(api: Api, device_id: str) -> bool:
    listing = api.ok("GET", f"{api.account}/devices", params={"paginate": "false"})
    return device_id in {row["id"] for row in listing["data"]}


class Published:
    """The NOTIFYs the simulator publishes from now on."""

    def __init__(self, server: Server) -> None:
        assert server.runner.sim is not None
        self._all = server.runner.sim.notifications
        self._start = len(self._all)

    @property
    def new(self) -> list[Notification]:
        return self._all[self._start :]


# this module's own demo server (see the module docstring), in place of the session's
demo_server = own_server_fixture("devices-api")


@pytest.fixture
def published(demo_server: Server) -> Published:
    return Published(demo_server)


def stored_doc(server: Server, account_id: str, device_id: str) -> dict[str, Any] | None:
    assert server.runner.sim is not None
    return server.runner.sim.store.reader.get(account_id, device_id, deleted=True)


@pytest.fixture(scope="module")
def child(demo_server: Server) -> Iterator[Api]:
    """The superduper admin working in a fresh child account of the master (nothing in it)."""
    client = Api.logged_in(demo_server, demo_server.ready["master"])
    master_id = demo_server.ready["master"]["account_id"]
    account = client.ok("PUT", f"/accounts/{master_id}", {"name": f"Devices Test {tag()}"})["data"]
    client.server = Server(demo_server.runner, {**demo_server.ready, "account_id": account["id"]})
    yield client
    client.http.close()


# ---- create (§5.2) -----------------------------------------------------------------------

DEFAULTS = {"name": "New Device", **NEW_DEVICE_DEFAULTS}


def test_create_returns_exactly_the_43_defaults(api: Api) -> None:
    reply = api.call("PUT", f"{api.account}/devices", {"name": "New Device"})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    data = dict(body["data"])
    device_id = data.pop("id")
    assert HEX32.match(device_id)
    assert data == DEFAULTS
    assert re.match(r"^1-[0-9a-f]{32}$", body["revision"])
    assert reply.headers["location"] == f"/v2{api.account}/devices/{device_id}"
    assert "etag" not in reply.headers and "expires" not in reply.headers
    assert body["status"] == "success" and body["auth_token"] == api.token
    assert "page_size" not in body


def test_create_fills_sub_defaults_only_for_objects_sent(api: Api) -> None:
    data = device(api, media={}, call_forward={})
    assert data["media"] == SENT_MEDIA_DEFAULTS
    assert data["call_forward"] == SENT_CALL_FORWARD_DEFAULTS
    assert not {"caller_id", "dial_plan"} & set(device(api))


def test_create_takes_the_client_id_strips_private_keys_and_keeps_unknown_ones(
    api: Api, demo_server: Server
) -> None:
    device_id = uuid.uuid4().hex
    data = device(
        api,
        id=device_id,
        _rev="7-" + "0" * 32,
        _secret="x",
        pvt_type="user",
        pvt_account_id="0" * 32,
        custom_field={"nested": [1, "two", None]},
    )
    assert data["id"] == device_id
    assert data["custom_field"] == {"nested": [1, "two", None]}
    assert not [k for k in data if k.startswith(("_", "pvt_"))]
    assert api.ok("GET", url(api, device_id))["data"] == data
    stored = stored_doc(demo_server, demo_server.ready["account_id"], device_id)
    assert stored is not None
    account_id = demo_server.ready["account_id"]
    assert stored["_rev"].startswith("1-") and "_secret" not in stored
    assert (stored["pvt_type"], stored["pvt_vsn"], stored["pvt_account_id"]) == (
        "device",
        "1",
        account_id,
    )
    assert stored["pvt_account_db"] == (
        f"account%2F{account_id[:2]}%2F{account_id[2:4]}%2F{account_id[4:]}"
    )
    assert stored["pvt_created"] == stored["pvt_modified"] > 63_000_000_000  # Gregorian seconds
    assert stored["pvt_alphanum_name"] == re.sub(r"[^a-z0-9]", "", data["name"].lower())


def test_create_with_a_taken_or_soft_deleted_id_conflicts(api: Api) -> None:
    device_id = device(api)["id"]
    again = api.call("PUT", f"{api.account}/devices", {"name": "Again", "id": device_id})
    system_error(again, 409, "datastore_conflict", "conflicting documents")
    api.ok("DELETE", url(api, device_id))
    after_delete = api.call("PUT", f"{api.account}/devices", {"name": "Again", "id": device_id})
    system_error(after_delete, 409, "datastore_conflict", "conflicting documents")


def test_create_without_a_name_fails_schema_validation(api: Api) -> None:
    reply = api.call("PUT", f"{api.account}/devices", {})
    assert invalid(reply) == {
        "name": {"required": {"message": "Field is required but missing", "value": "name"}}
    }


# ---- read (§5.3) -------------------------------------------------------------------------


def test_get_shows_the_password_and_sends_etag_and_expires(api: Api) -> None:
    user = sip_user()
    created = create(api, sip={"username": user, "password": "s3cret-Pass"})
    reply = api.call("GET", url(api, created["data"]["id"]))
    assert reply.status_code == 200
    body = reply.json()
    assert body["data"] == created["data"]
    assert body["data"]["sip"]["password"] == "s3cret-Pass"
    assert body["revision"] == created["revision"]
    assert reply.headers["etag"] == f'"{created["revision"]}"'
    assert reply.headers["expires"] == EXPIRES


def test_get_of_an_unknown_id_or_of_another_document_type_is_a_bad_identifier(api: Api) -> None:
    missing = uuid.uuid4().hex
    bad_identifier(api.call("GET", url(api, missing)), missing)
    bad_identifier(api.call("GET", url(api, BOB)), BOB)  # a user document


# ---- replace (§5.4) ----------------------------------------------------------------------


def test_post_replaces_every_public_field_and_reapplies_defaults(api: Api) -> None:
    user = sip_user()
    created = create(
        api,
        language="fr-ca",
        presence_id="desk",
        enabled=False,
        sip={"username": user, "password": "first-pass", "expire_seconds": 600},
        ringtones={"internal": "in"},
    )
    device_id = created["data"]["id"]
    reply = api.call(
        "POST",
        url(api, device_id),
        {"name": "Replaced", "sip": {"username": user}, "id": "0" * 32, "_rev": "9-" + "a" * 32},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    expected = {
        **DEFAULTS,
        "name": "Replaced",
        "sip": {**DEFAULTS["sip"], "username": user},
        "id": device_id,
    }
    assert body["data"] == expected
    assert body["revision"].startswith("2-") and body["revision"] != created["revision"]
    assert "etag" not in reply.headers
    fetched = api.ok("GET", url(api, device_id))
    assert fetched["data"] == expected and fetched["revision"] == body["revision"]


def test_post_of_an_invalid_document_changes_nothing(api: Api) -> None:
    created = create(api)
    device_id = created["data"]["id"]
    errors = invalid(api.call("POST", url(api, device_id), {"name": "", "enabled": "yes"}))
    assert set(errors) == {"name", "enabled"}
    assert api.ok("GET", url(api, device_id))["revision"] == created["revision"]


# ---- patch (§5.5) ------------------------------------------------------------------------


def test_patch_merges_nested_objects_deletes_nulls_and_replaces_empty_objects_and_arrays(
    api: Api,
) -> None:
    created = create(
        api,
        language="en-us",
        caller_id={"internal": {"name": "Desk", "number": "100"}, "external": {"number": "200"}},
        ringtones={"internal": "a", "external": "b"},
        flags=["one", "two"],
        media={"audio": {"codecs": ["PCMU", "PCMA"]}},
    )
    device_id = created["data"]["id"]
    patched = api.ok(
        "PATCH",
        url(api, device_id),
        {
            "caller_id": {"internal": {"name": "Front"}, "external": {"number": None}},
            "language": None,
            "ringtones": {},
            "flags": ["three"],
            "timezone": "Europe/Oslo",
        },
    )
    data = patched["data"]
    assert data["caller_id"] == {"internal": {"name": "Front", "number": "100"}, "external": {}}
    assert "language" not in data
    assert data["ringtones"] == {}
    assert data["flags"] == ["three"]
    assert data["timezone"] == "Europe/Oslo"
    assert data["media"] == created["data"]["media"]
    assert data["name"] == created["data"]["name"] and data["id"] == device_id
    assert patched["revision"].startswith("2-")
    assert api.ok("GET", url(api, device_id))["data"] == data


def test_patch_runs_the_full_validation_on_the_merged_document(api: Api) -> None:
    device_id = device(api)["id"]
    errors = invalid(api.call("PATCH", url(api, device_id), {"name": None}))
    assert errors == {
        "name": {"required": {"message": "Field is required but missing", "value": "name"}}
    }


# ---- delete (§5.6, §8) -------------------------------------------------------------------


def test_soft_delete_hides_the_device_and_frees_its_username_and_mac(
    api: Api, demo_server: Server
) -> None:
    user, address = sip_user(), mac()
    created = create(api, sip={"username": user, "password": "pass-word"}, mac_address=address)
    device_id = created["data"]["id"]
    reply = api.call("DELETE", url(api, device_id))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["data"] == {**created["data"], "_read_only": {"deleted": True}}
    assert body["revision"] == created["revision"]  # the revision before the delete

    for method in ("GET", "POST", "PATCH", "DELETE"):
        data = {"name": "x"} if method in {"POST", "PATCH"} else None
        bad_identifier(api.call(method, url(api, device_id), data), device_id)
    bad_identifier(api.call("POST", url(api, device_id, "sync")), device_id)
    assert not is_listed(api, device_id)
    stored = stored_doc(demo_server, demo_server.ready["account_id"], device_id)
    assert stored is not None and stored["pvt_deleted"] is True

    reused = device(
        api, sip={"username": user.upper(), "password": "pass-word"}, mac_address=address
    )
    assert reused["mac_address"] == cleansed(address)


def test_hard_delete_removes_the_document_so_its_id_can_be_reused(
    api: Api, demo_server: Server
) -> None:
    device_id = uuid.uuid4().hex
    created = create(api, id=device_id)
    reply = api.call("DELETE", url(api, device_id), params={"should_soft_delete": "false"})
    assert reply.status_code == 200
    assert reply.json()["data"] == {**created["data"], "_read_only": {"deleted": True}}
    assert stored_doc(demo_server, demo_server.ready["account_id"], device_id) is None
    bad_identifier(api.call("GET", url(api, device_id)), device_id)
    assert create(api, id=device_id)["revision"].startswith("1-")


# ---- If-Match / If-None-Match (§7) -------------------------------------------------------


def test_if_match_with_another_revision_is_412_with_an_empty_body(api: Api) -> None:
    created = create(api)
    device_id, rev = created["data"]["id"], created["revision"]
    stale = {"If-Match": '"1-' + "0" * 32 + '"'}
    for method, data in (
        ("GET", None),
        ("POST", {"name": "Changed"}),
        ("PATCH", {"name": "Changed"}),
        ("DELETE", None),
    ):
        reply = api.call(method, url(api, device_id), data, headers=stale)
        assert reply.status_code == 412, (method, reply.text)
        assert reply.content == b""
    current = api.ok("GET", url(api, device_id))
    assert current["revision"] == rev and current["data"]["name"] == created["data"]["name"]


def test_if_match_with_the_current_revision_succeeds(api: Api) -> None:
    created = create(api)
    device_id = created["data"]["id"]

    def match(rev: str) -> dict[str, str]:
        return {"If-Match": f'"{rev}"'}

    got = api.call("GET", url(api, device_id), headers=match(created["revision"]))
    assert got.status_code == 200
    posted = api.ok("POST", url(api, device_id), {"name": "P"}, headers=match(created["revision"]))
    patched = api.ok("PATCH", url(api, device_id), {"name": "Q"}, headers=match(posted["revision"]))
    assert patched["data"]["name"] == "Q"
    deleted = api.call("DELETE", url(api, device_id), headers=match(patched["revision"]))
    assert deleted.status_code == 200


def test_if_match_on_a_create_is_412_and_creates_nothing(api: Api) -> None:
    device_id = uuid.uuid4().hex
    reply = api.call(
        "PUT",
        f"{api.account}/devices",
        {"name": "Nope", "id": device_id},
        headers={"If-Match": "*"},
    )
    assert reply.status_code == 412 and reply.content == b""
    bad_identifier(api.call("GET", url(api, device_id)), device_id)


def test_if_match_on_a_create_is_checked_after_validation(api: Api) -> None:
    """cowboy only looks at If-Match once `resource_exists` (Crossbar validation) passed (§1)."""
    reply = api.call("PUT", f"{api.account}/devices", {}, headers={"If-Match": "*"})
    assert invalid(reply) == {
        "name": {"required": {"message": "Field is required but missing", "value": "name"}}
    }


def test_if_none_match_with_the_current_revision_is_304(api: Api) -> None:
    created = create(api)
    device_id, rev = created["data"]["id"], created["revision"]
    reply = api.call("GET", url(api, device_id), headers={"If-None-Match": f'"{rev}"'})
    assert reply.status_code == 304 and reply.content == b""
    assert reply.headers["etag"] == f'"{rev}"'
    other = api.call("GET", url(api, device_id), headers={"If-None-Match": '"1-abc"'})
    assert other.status_code == 200


# ---- custom checks (§4.1, §5.2) ----------------------------------------------------------


def create_with_username(api: Api, username: str) -> httpx.Response:
    sip = {"username": username, "password": "pw-12"}
    return api.call("PUT", f"{api.account}/devices", {"name": "Dup", "sip": sip})


def username_taken(username: str) -> dict[str, Any]:
    return {
        "sip.username": {"unique": {"message": "SIP credentials already in use", "cause": username}}
    }


def test_sip_username_is_unique_case_insensitively_for_password_devices(api: Api) -> None:
    user = sip_user()
    owner = device(api, sip={"username": user.upper(), "password": "pass-word"})
    assert invalid(create_with_username(api, user)) == username_taken(user)
    # the owner itself may keep (and re-case) its username
    api.ok("POST", url(api, owner["id"]), {"name": "Owner", "sip": {"username": user.lower()}})
    # IP-authenticated devices are not checked; devices without a username pass too
    device(api, sip={"method": "ip", "ip": free_ip(), "username": user})
    device(api, sip={"password": "no-user-1"})
    device(api, sip={"password": "no-user-2"})


def test_the_username_of_an_ip_device_is_taken_for_password_devices(api: Api) -> None:
    """`devices/sip_credentials` holds every device with a SIP username, whatever its method."""
    user = sip_user()
    device(api, sip={"method": "ip", "ip": free_ip(), "username": user})
    assert invalid(create_with_username(api, user)) == username_taken(user)


def test_sip_credentials_are_unique_per_realm_across_accounts(api: Api, child: Api) -> None:
    """Devices with a realm of their own join the system-wide `sip_auth` aggregate, where a
    username is unique per realm (`is_creds_global_unique/3`)."""
    taken, free = sip_user(), sip_user()
    device(child, sip={"username": taken, "password": "pass-word", "realm": DEMO_REALM})
    device(child, sip={"username": free, "password": "pass-word", "realm": "pbx.other.example"})
    assert invalid(create_with_username(api, taken.upper())) == username_taken(taken.upper())
    device(api, sip={"username": free, "password": "pass-word"})  # another realm: free


def test_a_mobile_device_number_is_unique_in_the_whole_system(api: Api, child: Api) -> None:
    number = f"+1628{random.randrange(10**6, 10**7)}"
    first = device(child, device_type="mobile", mobile={"mdn": number})
    again = {"name": "M2", "device_type": "mobile", "mobile": {"mdn": number[2:]}}
    assert invalid(api.call("PUT", f"{api.account}/devices", again)) == {
        "mobile.mdn": {
            "unique": {
                "message": "Mobile Device Number already exists in the system",
                "cause": number,
            }
        }
    }
    second = device(
        child, device_type="mobile", mobile={"mdn": f"+1629{random.randrange(10**6, 10**7)}"}
    )
    taken = child.call("PATCH", url(child, second["id"]), {"mobile": {"mdn": number}})
    assert list(invalid(taken)["mobile.mdn"]) == ["unique"]
    child.ok("DELETE", url(child, first["id"]))
    assert device(api, device_type="mobile", mobile={"mdn": number})["mobile"] == {"mdn": number}


def test_mac_address_is_stored_cleansed_and_unique(api: Api) -> None:
    address = mac()
    owner = device(api, mac_address=address)
    assert owner["mac_address"] == cleansed(address)
    dashed = address.replace(":", "-").lower()
    reply = api.call("PUT", f"{api.account}/devices", {"name": "D", "mac_address": dashed})
    assert invalid(reply) == {
        "mac_address": {
            "unique": {"message": "MAC address already in use", "cause": cleansed(address)}
        }
    }
    # keeping its own MAC is no conflict; a demo phone's MAC (stored cleansed) is one
    api.ok("PATCH", url(api, owner["id"]), {"mac_address": address.lower()})
    demo = api.call(
        "PUT", f"{api.account}/devices", {"name": "D", "mac_address": "00:04:f2:a1:b2:03"}
    )
    assert "mac_address" in invalid(demo)


def test_a_mac_without_hex_digits_is_kept_as_sent_and_not_checked(api: Api) -> None:
    assert device(api, mac_address="zz:zz")["mac_address"] == "zz:zz"
    assert device(api, mac_address="zz:zz")["mac_address"] == "zz:zz"


def test_ip_authentication_needs_a_valid_unused_ipv4(api: Api) -> None:
    bad = api.call(
        "PUT", f"{api.account}/devices", {"name": "G", "sip": {"method": "ip", "ip": "300.1.2.3"}}
    )
    assert invalid(bad) == {
        "sip.ip": {"type": {"message": "Must be a valid IPv4 RFC 791", "cause": "300.1.2.3"}}
    }
    ip = free_ip()
    gateway = device(api, sip={"method": "ip", "ip": ip})
    assert gateway["sip"]["ip"] == ip
    for taken in (ip, GLOBEX_GATEWAY_IP):  # IPs are unique across accounts
        reply = api.call(
            "PUT", f"{api.account}/devices", {"name": "G", "sip": {"method": "ip", "ip": taken}}
        )
        assert invalid(reply) == {
            "sip.ip": {"unique": {"message": "SIP IP already in use", "cause": taken}}
        }
    api.ok("PATCH", url(api, gateway["id"]), {"name": "Same IP"})  # its own IP is fine


def test_only_superduper_admins_change_a_device_type(api: Api, master_api: Api) -> None:
    typed = device(api, device_type="sip_device")
    reply = api.call("PATCH", url(api, typed["id"]), {"device_type": "softphone"})
    assert invalid(reply) == {
        "device_type": {
            "invalid": {"message": "Not authorized to change type of device", "cause": "softphone"}
        }
    }
    omitted = api.call("POST", url(api, typed["id"]), {"name": "No type"})
    assert invalid(omitted)["device_type"]["invalid"]["cause"] == ""
    untyped = device(api)
    added = api.call("PATCH", url(api, untyped["id"]), {"device_type": "fax"})
    assert invalid(added)["device_type"]["invalid"]["cause"] == "fax"
    api.ok("PATCH", url(api, typed["id"]), {"device_type": "sip_device", "name": "Same type"})

    changed = master_api.ok("PATCH", url(master_api, typed["id"]), {"device_type": "softphone"})
    assert changed["data"]["device_type"] == "softphone"


def test_a_mobile_device_needs_an_mdn(api: Api) -> None:
    reply = api.call("PUT", f"{api.account}/devices", {"name": "M", "device_type": "mobile"})
    assert invalid(reply) == {
        "mobile.mdn": {"required": {"message": "Field is required but missing"}}
    }
    number = "+1415555" + str(random.randrange(1000, 9999))
    assert device(api, device_type="mobile", mobile={"mdn": number})["mobile"] == {"mdn": number}


def test_outbound_flags_are_trimmed_and_the_object_form_becomes_an_empty_list(api: Api) -> None:
    assert device(api, outbound_flags=[" fax ", "intl\t"])["outbound_flags"] == ["fax", "intl"]
    flags = {"static": ["a"], "dynamic": ["b"]}
    assert device(api, outbound_flags=flags)["outbound_flags"] == []


def test_the_account_realm_is_dropped_from_sip_and_another_realm_kept(api: Api) -> None:
    same = device(api, sip={"realm": DEMO_REALM, "username": sip_user(), "password": "pass-1"})
    assert "realm" not in same["sip"]
    other = device(api, sip={"realm": "other.example.net"})
    assert other["sip"]["realm"] == "other.example.net"


def test_null_combo_and_feature_keys_are_dropped(api: Api) -> None:
    data = device(
        api,
        provision={
            "combo_keys": {"0": {"type": "line"}, "1": None},
            "feature_keys": {"0": None, "1": {"type": "parking", "value": "3"}},
        },
    )
    assert data["provision"] == {
        "combo_keys": {"0": {"type": "line"}},
        "feature_keys": {"1": {"type": "parking", "value": "3"}},
    }


def test_the_emergency_caller_id_number_is_normalised(api: Api) -> None:
    data = device(api, caller_id={"emergency": {"number": "(415) 555-0100"}})
    assert data["caller_id"]["emergency"]["number"] == "+14155550100"


def test_wrongly_typed_booleans_and_integers_are_converted_when_they_can_be(api: Api) -> None:
    data = device(api, enabled="false", sip={"expire_seconds": "600"})
    assert data["enabled"] is False and data["sip"]["expire_seconds"] == 600
    patched = api.ok("PATCH", url(api, data["id"]), {"enabled": "true"})
    assert patched["data"]["enabled"] is True
    reply = api.call("PUT", f"{api.account}/devices", {"name": "T", "enabled": "yes"})
    assert invalid(reply) == {
        "enabled": {
            "type": {
                "message": "Value did not match type(s): boolean",
                "target": "boolean",
                "value": "yes",
            }
        }
    }


def test_every_error_is_reported_at_once(api: Api) -> None:
    user, address = sip_user(), mac()
    device(api, sip={"username": user, "password": "pass-word"}, mac_address=address)
    reply = api.call(
        "PUT",
        f"{api.account}/devices",
        {
            "name": "",
            "enabled": "yes",
            "mac_address": address,
            "sip": {"username": user, "password": "abc"},
        },
    )
    errors = invalid(reply)
    assert set(errors) == {"name", "enabled", "mac_address", "sip.username", "sip.password"}
    assert set(errors["sip.password"]) == {"minLength"}
    assert set(errors["sip.username"]) == {"unique"}


# ---- notify (§5.7) -----------------------------------------------------------------------


def test_notify_in_the_43_form_publishes_to_the_device(api: Api, published: Published) -> None:
    user = sip_user()
    created = create(api, sip={"username": user, "password": "pass-word"})
    device_id = created["data"]["id"]
    reply = api.call(
        "PUT",
        url(api, device_id),
        envelope={
            "action": "notify",
            "data": {
                "data": {
                    "event": "check-sync",
                    "body": {"content_type": "application/simple-message-summary", "data": "hi"},
                }
            },
        },
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert (body["data"], body["status"], body["revision"]) == (
        "NOTIFY sent",
        "success",
        created["revision"],
    )
    assert published.new == [
        Notification(
            api.server.ready["account_id"],
            device_id,
            user,
            DEMO_REALM,
            "check-sync",
            "hi",
            "application/simple-message-summary",
        )
    ]


def test_notify_goes_to_the_account_realm_even_when_the_device_has_its_own(
    api: Api, published: Published
) -> None:
    user = sip_user()
    data = device(api, sip={"username": user, "password": "pass-word", "realm": "pbx.example.net"})
    body = {"action": "notify", "data": {"data": {"event": "resync"}}}
    api.ok("PUT", url(api, data["id"]), envelope=body)
    assert [(n.username, n.realm, n.event) for n in published.new] == [(user, DEMO_REALM, "resync")]


def test_notify_with_the_documented_body_on_the_43_url_is_a_validation_error(
    api: Api, published: Published
) -> None:
    """kazoo-api.md §5.7: `{"action":"notify","data":{"event":..}}` fails the schema in 4.3;
    the seed's body is accepted only on the seed's URL `/devices/{id}/notify`."""
    data = device(api, sip={"username": sip_user(), "password": "pass-word"})
    reply = api.call(
        "PUT", url(api, data["id"]), envelope={"action": "notify", "data": {"event": "x"}}
    )
    assert invalid(reply) == {
        "data": {"required": {"message": "Field is required but missing", "value": "data"}}
    }
    assert published.new == []


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_notify_on_the_seed_url_takes_data_event(
    api: Api, published: Published, method: str
) -> None:
    user = sip_user()
    data = device(api, sip={"username": user, "password": "pass-word"})
    reply = api.call(method, url(api, data["id"], "notify"), {"event": "check-sync"})
    assert reply.status_code == (201 if method == "PUT" else 200), reply.text
    assert reply.json()["data"] == "NOTIFY sent"
    assert [(n.device_id, n.username, n.realm, n.event) for n in published.new] == [
        (data["id"], user, DEMO_REALM, "check-sync")
    ]


def test_notify_needs_a_known_action(api: Api, published: Published) -> None:
    device_id = device(api, sip={"username": sip_user(), "password": "pass-word"})["id"]
    event = {"data": {"event": "check-sync"}}
    for envelope, message in (
        ({"data": event}, "action required"),
        ({"action": "reboot", "data": event}, "invalid action"),
    ):
        reply = api.call("PUT", url(api, device_id), envelope=envelope)
        assert reply.status_code == 400, reply.text
        body = reply.json()
        assert (body["message"], body["data"]) == (message, {})
    assert published.new == []
    # like every `req_value`, the action may also come in the query string
    reply = api.call("PUT", url(api, device_id), event, params={"action": "notify"})
    assert reply.status_code == 201 and len(published.new) == 1


def test_a_notify_body_needs_a_content_type(api: Api, published: Published) -> None:
    device_id = device(api, sip={"username": sip_user(), "password": "pass-word"})["id"]
    data = {"data": {"event": "talk", "body": {"data": "x"}}}
    reply = api.call("PUT", url(api, device_id), envelope={"action": "notify", "data": data})
    assert invalid(reply) == {
        "data.body.content_type": {
            "required": {"message": "Field is required but missing", "value": "content_type"}
        }
    }
    assert published.new == []


def test_if_match_on_a_notify_is_412_after_validation(api: Api, published: Published) -> None:
    """A PUT target never exists for cowboy, so even the current revision fails (§7)."""
    created = create(api, sip={"username": sip_user(), "password": "pass-word"})
    device_id, current = created["data"]["id"], {"If-Match": f'"{created["revision"]}"'}
    good = {"action": "notify", "data": {"data": {"event": "check-sync"}}}
    reply = api.call("PUT", url(api, device_id), envelope=good, headers=current)
    assert reply.status_code == 412 and reply.content == b""
    bad = {"action": "notify", "data": {"data": {}}}
    assert "data.event" in invalid(
        api.call("PUT", url(api, device_id), envelope=bad, headers=current)
    )
    assert published.new == []


def test_notify_on_an_unknown_device_is_a_bad_identifier(api: Api) -> None:
    missing = uuid.uuid4().hex
    envelope = {"action": "notify", "data": {"data": {"event": "x"}}}
    bad_identifier(api.call("PUT", url(api, missing), envelope=envelope), missing)


# ---- sync (§5.9, §5.4) -------------------------------------------------------------------


def test_sync_publishes_check_sync(api: Api, published: Published) -> None:
    user = sip_user()
    created = create(api, sip={"username": user, "password": "pass-word"})
    reply = api.call("POST", url(api, created["data"]["id"], "sync"))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["data"], body["revision"]) == ("sync request sent", created["revision"])
    assert [(n.username, n.realm, n.event) for n in published.new] == [
        (user, DEMO_REALM, "check-sync")
    ]


def test_sync_uses_the_devices_own_event_with_reboot_or_reload(
    api: Api, published: Published
) -> None:
    provision = {
        "check_sync_event": "resync",
        "check_sync_reboot": "reboot=true",
        "check_sync_reload": "reboot=false",
    }
    data = device(api, sip={"username": sip_user(), "password": "pass-word"}, provision=provision)
    for params in ({}, {"reboot": "true"}, {"reboot": "false"}):
        api.ok("POST", url(api, data["id"], "sync"), params=params)
    assert [n.event for n in published.new] == [
        "resync",
        "resync;reboot=true",
        "resync;reboot=false",
    ]


def test_sync_without_a_username_sends_nothing(api: Api, published: Published) -> None:
    data = device(api)
    assert api.ok("POST", url(api, data["id"], "sync"))["data"] == "sync request sent"
    assert published.new == []


def test_sync_only_takes_post(api: Api) -> None:
    device_id = device(api)["id"]
    system_error(
        api.call("GET", url(api, device_id, "sync")), 405, "invalid_method", "method not allowed"
    )


def test_sync_true_on_a_credentials_change_notifies_the_old_username(
    api: Api, published: Published, demo_server: Server
) -> None:
    old, new = sip_user(), sip_user()
    data = device(api, sip={"username": old, "password": "pass-word"})
    same = api.ok("PATCH", url(api, data["id"]), {"sync": True, "name": "Renamed"})
    assert "sync" not in same["data"] and published.new == []  # credentials unchanged
    changed = api.ok("PATCH", url(api, data["id"]), {"sync": True, "sip": {"username": new}})
    assert changed["data"]["sip"]["username"] == new and "sync" not in changed["data"]
    assert [(n.username, n.realm, n.event) for n in published.new] == [
        (old, DEMO_REALM, "check-sync")
    ]
    stored = stored_doc(demo_server, demo_server.ready["account_id"], data["id"])
    assert stored is not None and "sync" not in stored
    # POST too; `sync` absent or false sends nothing
    api.ok(
        "POST", url(api, data["id"]), {"name": "R", "sip": {"username": new, "password": "pass-2"}}
    )
    api.ok("POST", url(api, data["id"]), {"name": "R", "sync": "true", "sip": {"username": old}})
    assert [n.username for n in published.new] == [old, new]


# ---- status (§5.8) -----------------------------------------------------------------------


def registered_phone(
    client: Api, server: Server, *, expires: int = 300, **sip: Any
) -> dict[str, Any]:
    """A new device of the client's account whose phone registers for real over UDP."""
    username = sip.pop("username", None) or sip_user()
    password = sip.pop("password", "pass-word")
    data = device(client, sip={"username": username, "password": password, **sip})
    realm = client.ok("GET", client.account)["data"]["realm"]
    assert sip_register(server, username, password, realm, expires=expires) == 200
    return data


def test_status_lists_registered_devices_once(child: Api, demo_server: Server) -> None:
    status = f"{child.account}/devices/status"
    empty = child.call("GET", status)
    assert empty.status_code == 200
    body = empty.json()
    assert body["data"] == [] and "revision" not in body and "page_size" not in body

    first = registered_phone(child, demo_server)
    # the same phone again (a new binding replaces the first: one per AOR)
    realm = child.ok("GET", child.account)["data"]["realm"]
    assert sip_register(demo_server, first["sip"]["username"], "pass-word", realm) == 200
    second = registered_phone(child, demo_server)["id"]
    device(child)  # not registered
    rows = child.ok("GET", status)["data"]
    assert sorted(rows, key=lambda r: r["device_id"]) == sorted(
        [{"device_id": first["id"], "registered": True}, {"device_id": second, "registered": True}],
        key=lambda r: r["device_id"],
    )


def test_status_leaves_out_ended_registrations(child: Api, demo_server: Server) -> None:
    """The registrar only answers with live registrations (kazoo-api.md §5.8, §15)."""
    gone = registered_phone(child, demo_server)["id"]
    child.ok("DELETE", f"{child.account}/registrations")
    rows = child.ok("GET", f"{child.account}/devices/status")["data"]
    assert gone not in {row["device_id"] for row in rows}


def test_status_only_takes_get(api: Api) -> None:
    reply = api.call("POST", f"{api.account}/devices/status", {"name": "x"})
    system_error(reply, 405, "invalid_method", "method not allowed")


# ---- registration flushes (§5.6, `crossbar_util:flush_registration/1`) ------------------


def registered(api: Api) -> list[str]:
    return sorted(r["username"] for r in api.ok("GET", f"{api.account}/registrations")["data"])


def test_deleting_a_device_flushes_its_registrations(child: Api, demo_server: Server) -> None:
    gone, kept = sip_user(), sip_user()
    data = registered_phone(child, demo_server, username=gone.upper())
    registered_phone(child, demo_server, username=kept)
    assert {gone, kept} <= set(registered(child))
    child.ok("DELETE", url(child, data["id"]))
    assert gone not in registered(child) and kept in registered(child)


@pytest.mark.parametrize(
    ("change", "flushed"),
    [
        ({"name": "Renamed", "sip": {"expire_seconds": 600}}, False),
        ({"sip": {"password": "other-pass"}}, True),
        ({"sip": {"username": sip_user()}}, True),
        ({"enabled": False}, True),
        ({"owner_id": "f" * 32}, True),
    ],
)
def test_changing_what_a_registration_rests_on_flushes_it(
    child: Api, demo_server: Server, change: dict[str, Any], flushed: bool
) -> None:
    user = sip_user()
    data = registered_phone(child, demo_server, username=user)
    assert user in registered(child)
    child.ok("PATCH", url(child, data["id"]), change)
    assert (user not in registered(child)) is flushed
    child.ok("DELETE", url(child, data["id"]))


# ---- quickcall (§5.10) -------------------------------------------------------------------


def test_quickcall_get_needs_no_token_and_returns_the_originate_request(api: Api) -> None:
    """`cb_quickcall:originate_quickcall/3`: the request it publishes, keys in snake_case."""
    user = sip_user()
    caller_id = {"external": {"name": "Front Desk", "number": "+14155550100"}}
    device_id = device(api, sip={"username": user, "password": "pass-word"}, caller_id=caller_id)[
        "id"
    ]
    reply = api.call("GET", url(api, device_id, "quickcall", "1 (415) 555-01.00"), token=None)
    assert reply.status_code == 200, reply.text
    request = reply.json()["data"]
    [endpoint] = request.pop("endpoints")
    assert request == {
        "application_name": "transfer",
        "application_data": {"route": "1 (415) 555-01.00"},  # the number as the URL has it
        "continue_on_fail": False,
        "custom_application_vars": {},
        "custom_channel_vars": {
            "account_id": api.server.ready["account_id"],
            "authorizing_id": device_id,
            "authorizing_type": "device",
            "inherit_codec": "false",
            "retain_cid": "false",
        },
        "dial_endpoint_method": "simultaneous",
        "export_custom_channel_vars": [
            "Account-ID",
            "Authorizing-ID",
            "Authorizing-Type",
            "Outbound-Callee-ID-Name",
            "Outbound-Callee-ID-Number",
            "Retain-CID",
        ],
        "ignore_early_media": True,
        "media": "process",
        "outbound_callee_id_name": "Front Desk",  # an external number: the external caller id
        "outbound_callee_id_number": "+14155550100",
        "outbound_caller_id_name": "Device QuickCall",
        "outbound_caller_id_number": "14155550100",
        "timeout": 30,
    }
    assert (endpoint["to_user"], endpoint["to_realm"]) == (user, DEMO_REALM)
    assert endpoint["custom_channel_vars"] == {"auto_answer": True}
    assert re.fullmatch(r"[0-9a-f]{36}-quickcall", endpoint["outbound_call_id"])
    for given, used in (("45", 45), ("3", 30), ("soon", 30)):
        again = api.ok("GET", url(api, device_id, "quickcall", "100"), params={"timeout": given})
        assert again["data"]["timeout"] == used, given


def test_quickcall_options(api: Api) -> None:
    device_id = device(api, sip={"username": sip_user(), "password": "pass-word"})["id"]
    params = {
        "auto_answer": "false",
        "cid-name": "Sales%20Line",
        "cid-number": "%2B15551230000",
        "ignore-early-media": "false",
        "media": "bypass",
        "target_call_id": "call-42",
        "number_filter": "^\\+?1?(\\d{10})$",
    }
    envelope = {"data": {"custom_application_vars": {"Campaign-ID": "spring"}}}
    body = api.ok(
        "GET", url(api, device_id, "quickcall", "+14155550199"), envelope=envelope, params=params
    )
    request = body["data"]
    assert request["outbound_caller_id_number"] == "4155550199"  # the regex's capture
    assert (request["outbound_callee_id_name"], request["outbound_callee_id_number"]) == (
        "Sales Line",
        "+15551230000",
    )
    assert request["custom_channel_vars"]["retain_cid"] == "true"
    assert request["custom_application_vars"] == {"campaign_id": "spring"}
    assert request["existing_call_id"] == "call-42"
    assert (request["ignore_early_media"], request["media"]) == (False, "bypass")
    assert request["endpoints"][0]["custom_channel_vars"] == {"auto_answer": False}
    internal = api.ok("GET", url(api, device_id, "quickcall", "1-0.0"), params={"media": "x"})
    assert internal["data"]["outbound_caller_id_number"] == "100"
    assert internal["data"]["media"] == "process"
    assert "outbound_callee_id_name" not in internal["data"]  # the device has no caller id
    unfiltered = {"number_filter": "false"}
    raw = api.ok("GET", url(api, device_id, "quickcall", "1-0.0"), params=unfiltered)
    assert raw["data"]["outbound_caller_id_number"] == "1-0.0"
    broken = {"number_filter": "(unclosed"}  # an unusable regex leaves the number as it is
    assert (
        api.ok("GET", url(api, device_id, "quickcall", "100"), params=broken)["data"][
            "outbound_caller_id_number"
        ]
        == "100"
    )


def test_quickcall_on_a_disabled_device_fails(api: Api) -> None:
    device_id = device(api, enabled=False, sip={"username": sip_user(), "password": "pw-123"})["id"]
    reply = api.call("GET", url(api, device_id, "quickcall", "100"))
    assert reply.status_code == 500
    assert reply.json()["message"] == "unspecified_fault"


def test_quickcall_post_fails_to_initiate(api: Api) -> None:
    device_id = device(api, sip={"username": sip_user(), "password": "pass-word"})["id"]
    reply = api.call("POST", url(api, device_id, "quickcall", "100"))
    assert reply.status_code == 500
    assert reply.json()["message"] == "quickcall initiation failed"


def test_quickcall_post_needs_a_token(api: Api) -> None:
    """Only GET quickcall is let through without a token (`cb_devices:authenticate/1`)."""
    device_id = device(api, sip={"username": sip_user(), "password": "pass-word"})["id"]
    reply = api.call("POST", url(api, device_id, "quickcall", "100"), token=None)
    system_error(reply, 401, "invalid_credentials", "invalid credentials")


# ---- a user's devices (§5.11) ------------------------------------------------------------


def user_rows(api: Api, user_id: str, **params: str) -> dict[str, Any]:
    return api.ok("GET", f"{api.account}/users/{user_id}/devices", params=params)


def test_a_users_devices_include_the_ones_hotdesked_into(api: Api) -> None:
    bobs = {row["id"]: row for row in user_rows(api, BOB)["data"]}
    assert bobs[BOBS_DESK]["hotdesked"] is False and bobs[BOBS_DESK]["owner_id"] == BOB
    emmas_body = user_rows(api, EMMA)
    emmas = {row["id"]: row for row in emmas_body["data"]}
    assert emmas[BOBS_DESK]["hotdesked"] is True and emmas[BOBS_DESK]["owner_id"] == BOB
    assert emmas[EMMAS_DESK]["hotdesked"] is False
    assert set(emmas[EMMAS_DESK]) == {
        "id", "name", "mac_address", "owner_id", "enabled", "device_type", "hotdesked"
    }  # fmt: skip
    assert emmas[EMMAS_DESK]["mac_address"] == "000b82a1b206"
    ids = [row["id"] for row in emmas_body["data"]]
    assert ids == sorted(ids, reverse=True)
    assert emmas_body["page_size"] == len(ids)


def test_a_users_device_rows(child: Api) -> None:
    user = child.ok(
        "PUT",
        f"{child.account}/users",
        {"first_name": "Row", "last_name": "Tester", "username": f"u{tag()}", "password": "pw"},
    )["data"]["id"]
    other = child.ok(
        "PUT", f"{child.account}/users", {"first_name": "Other", "last_name": "Owner"}
    )["data"]["id"]
    own = device(child, owner_id=user, device_type="softphone")
    bare = device(child, owner_id=user, mac_address="AA-BB-CC-00-11-22", enabled=False)
    desk = device(child, owner_id=other, hotdesk={"users": {user: {}}})
    rows = user_rows(child, user)["data"]
    assert rows == [
        {
            "id": d["id"],
            "name": d["name"],
            "mac_address": d.get("mac_address", ""),
            "owner_id": d["owner_id"],
            "enabled": d["enabled"],
            "device_type": d.get("device_type", "sip_device"),
            "hotdesked": d is desk,
        }
        for d in sorted([own, bare, desk], key=lambda d: d["id"], reverse=True)
    ]
    desk_row = next(r for r in rows if r["id"] == desk["id"])
    assert user_rows(child, other)["data"] == [{**desk_row, "hotdesked": False}]

    # `/v1` and paginate=false carry no page keys
    assert "page_size" not in user_rows(child, user, paginate="false")
    v1 = child.http.get(
        child.server.api.replace("/v2", "/v1") + f"{child.account}/users/{user}/devices",
        headers={"X-Auth-Token": child.token or ""},
    )
    assert v1.status_code == 200 and "page_size" not in v1.json()
    assert v1.json()["data"] == rows

    api_deleted = child.ok("DELETE", url(child, own["id"]))
    assert api_deleted["data"]["_read_only"] == {"deleted": True}
    assert [r["id"] for r in user_rows(child, user)["data"]] == sorted(
        [bare["id"], desk["id"]], reverse=True
    )


def test_a_users_devices_come_in_pages_that_do_not_advance(child: Api) -> None:
    """Every row of `listing_by_owner` has the user id as key: the next key is the user id
    and a page asked from it is the first page again (kazoo-api.md §5.11)."""
    user = child.ok("PUT", f"{child.account}/users", {"first_name": "Many", "last_name": "Phones"})
    user_id = user["data"]["id"]
    disabled = device(child, owner_id=user_id, enabled=False)["id"]
    ids = sorted([disabled, *(device(child, owner_id=user_id)["id"] for _ in range(2))])
    body = user_rows(child, user_id, page_size="2")
    assert [row["id"] for row in body["data"]] == ids[1::-1]
    assert body["page_size"] == 2 and "start_key" not in body
    assert body["next_start_key"] == encoded_start_key(user_id)
    again = user_rows(child, user_id, page_size="2", start_key=body["next_start_key"])
    assert again["data"] == body["data"] and again["start_key"] == body["next_start_key"]
    everything = user_rows(child, user_id)
    assert len(everything["data"]) == 3 and "next_start_key" not in everything
    enabled = user_rows(child, user_id, filter_enabled="true")  # the filters of §5.1 apply
    assert sorted(row["id"] for row in enabled["data"]) == [i for i in ids if i != disabled]


def test_a_deleted_users_devices_are_a_bad_identifier(child: Api) -> None:
    user = child.ok("PUT", f"{child.account}/users", {"first_name": "Gone", "last_name": "Soon"})
    user_id = user["data"]["id"]
    device(child, owner_id=user_id)
    child.ok("DELETE", f"{child.account}/users/{user_id}")
    bad_identifier(child.call("GET", f"{child.account}/users/{user_id}/devices"), user_id)


def test_an_unknown_users_devices_are_a_bad_identifier(api: Api) -> None:
    missing = uuid.uuid4().hex
    bad_identifier(api.call("GET", f"{api.account}/users/{missing}/devices"), missing)


def test_put_on_a_users_devices_creates_a_device_without_an_owner(api: Api) -> None:
    reply = api.call("PUT", f"{api.account}/users/{BOB}/devices", {"name": f"Bob {tag()}"})
    assert reply.status_code == 201, reply.text
    data = reply.json()["data"]
    assert "owner_id" not in data
    assert data["id"] not in {row["id"] for row in user_rows(api, BOB)["data"]}
    assert is_listed(api, data["id"])


# ---- routing (§1, §5) --------------------------------------------------------------------


def test_unknown_sub_resources_and_methods(api: Api) -> None:
    device_id = device(api)["id"]
    system_error(api.call("GET", url(api, device_id, "bogus")), 404, "not_found", "not found")
    system_error(
        api.call("DELETE", f"{api.account}/devices"), 405, "invalid_method", "method not allowed"
    )


def test_the_id_status_is_reserved(api: Api) -> None:
    """A device stored under the id `status` cannot be addressed: the path is the status list."""
    device(api, id="status")
    assert api.ok("GET", f"{api.account}/devices/status")["data"] == []
    system_error(
        api.call("DELETE", f"{api.account}/devices/status"),
        405,
        "invalid_method",
        "method not allowed",
    )


def test_a_device_of_another_account_is_out_of_reach(api: Api) -> None:
    reply = api.call("GET", f"/accounts/{GLOBEX}/devices/bfe1f822555d403e7632368debef56d0")
    system_error(reply, 403, "forbidden", "forbidden")
