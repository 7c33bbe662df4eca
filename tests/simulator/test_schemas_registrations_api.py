"""`/v2/schemas` (kazoo-api.md §10) and `/v2/accounts/{A}/registrations` (§15) over HTTP."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from helpers import DEMO, GLOBEX, Api, Server, error_of, own_server_fixture, sip_register
from kazoodesk.resources import resource_path
from kazoodesk.simulator.http.registrations import HIDDEN, contact_address

SCHEMAS = resource_path("schemas")

# this module's own demo server, in place of the session's (conftest's `anon`, `api` and
# `master_api` use it): the registrations tests add and remove registrations
demo_server = own_server_fixture("registrations-store")


# ---- schemas -----------------------------------------------------------------------------------


def test_schema_list_needs_no_token(anon: Api) -> None:
    reply = anon.call("GET", "/schemas", token=None)
    assert reply.status_code == 200
    body = reply.json()
    names = body["data"]
    assert names == sorted(names)
    assert names == sorted(path.stem for path in SCHEMAS.glob("*.json"))
    assert {"devices", "users", "accounts", "user_auth", "api_auth"} <= set(names)
    assert "auth_token" not in body
    assert len(body["revision"]) == 32
    assert reply.headers["etag"] == f'"{body["revision"]}"'


def test_devices_schema_needs_no_token(anon: Api) -> None:
    reply = anon.call("GET", "/schemas/devices", token=None)
    assert reply.status_code == 200
    body = reply.json()
    on_disk = json.loads((SCHEMAS / "devices.json").read_text(encoding="utf-8"))
    expected = {k: v for k, v in on_disk.items() if k != "_id"} | {"id": "devices"}
    assert body["data"] == expected
    assert body["data"]["$schema"] == on_disk["$schema"]
    assert "_id" not in body["data"]
    assert body["revision"]
    assert reply.headers["etag"] == f'"{body["revision"]}"'
    again = anon.call("GET", "/schemas/devices", token=None).json()
    assert again["revision"] == body["revision"]


@pytest.mark.parametrize("name", ["users", "devices.combo_key", "endpoint.media"])
def test_other_schemas(anon: Api, name: str) -> None:
    data = anon.ok("GET", f"/schemas/{name}", token=None)["data"]
    assert data["id"] == name
    assert "properties" in data or "oneOf" in data or "anyOf" in data or "type" in data


def test_unknown_schema(anon: Api) -> None:
    reply = anon.call("GET", "/schemas/nope", token=None)
    error_of(reply, 404, "bad_identifier", {"cause": "nope", "message": "bad identifier"})


def test_schema_methods(anon: Api) -> None:
    error_of(anon.call("PUT", "/schemas", {}, token=None), 405, "invalid_method")
    error_of(anon.call("DELETE", "/schemas/devices", token=None), 405, "invalid_method")
    error_of(anon.call("GET", "/schemas/devices/extra", token=None), 404, "not_found")


def test_v1_schema(anon: Api) -> None:
    url = anon.server.api.replace("/v2", "/v1") + "/schemas/devices"
    body = httpx.get(url, timeout=30).json()
    assert body["data"]["id"] == "devices"


# ---- registrations -----------------------------------------------------------------------------


@pytest.fixture
def clean(demo_server: Server) -> Iterator[None]:
    """Every test starts and ends without registrations."""
    wipe(demo_server)
    yield
    wipe(demo_server)


def wipe(server: Server) -> None:
    with Api.logged_in(server, server.ready["master"]) as master:
        for account in (DEMO, GLOBEX):
            assert master.ok("DELETE", f"/accounts/{account}/registrations")["data"] == "ok"


def realm_of(client: Api, account: str) -> str:
    realm: str = client.ok("GET", f"/accounts/{account}")["data"]["realm"]
    return realm


def register(
    client: Api,
    account: str,
    contact: str | None = None,
    *,
    expires: int = 300,
    username: str | None = None,
) -> dict[str, Any]:
    """A new device of the account whose phone registers for real over UDP; return its
    username, realm and device id."""
    username = username or f"reg_{secrets.token_hex(4)}"
    password = "Pass-word-123"
    device = {"name": f"Phone {username}", "sip": {"username": username, "password": password}}
    device_id = client.ok("PUT", f"/accounts/{account}/devices", device)["data"]["id"]
    realm = realm_of(client, account)
    status = sip_register(client.server, username, password, realm, expires=expires,
                          contact=contact)  # fmt: skip
    assert status == 200
    return {"username": username, "realm": realm, "device_id": device_id, "password": password}


def shown(client: Api, account: str = DEMO, expires_in: float = 300) -> list[dict[str, Any]]:
    """The registrations the API lists, each checked to show the seconds it has left and
    returned without them."""
    rows: list[dict[str, Any]] = client.ok("GET", f"/accounts/{account}/registrations")["data"]
    for row in rows:
        assert 0 < row.pop("expires") <= expires_in
    return rows


def usernames(client: Api, account: str = DEMO) -> list[str]:
    return [row["username"] for row in shown(client, account)]


def device_usernames(client: Api, account: str) -> list[str]:
    devices = client.ok("GET", f"/accounts/{account}/devices")["data"]
    return [d["username"] for d in devices if d.get("username")]


def test_no_registrations(api: Api, clean: None) -> None:
    body = api.ok("GET", f"{api.account}/registrations")
    assert body["data"] == []
    assert "revision" not in body
    assert "page_size" not in body
    assert api.ok("GET", f"{api.account}/registrations/count")["data"] == {"count": 0}


def test_list_and_count(api: Api, master_api: Api, clean: None) -> None:
    a = register(api, DEMO, username=f"b_{secrets.token_hex(3)}")["username"]
    b = register(api, DEMO, username=f"a_{secrets.token_hex(3)}")["username"]
    register(master_api, GLOBEX)
    body = api.ok("GET", f"{api.account}/registrations")
    assert "page_size" not in body and "revision" not in body
    assert usernames(api) == [b, a]  # by username
    assert api.ok("GET", f"{api.account}/registrations/count")["data"] == {"count": 2}
    assert master_api.ok("GET", f"/accounts/{GLOBEX}/registrations/count")["data"] == {"count": 1}
    assert master_api.ok("GET", "/registrations/count")["data"] == {"count": 3}


def test_unregistered_phones_are_not_shown(api: Api, master_api: Api, clean: None) -> None:
    contact = "<sip:gone@192.0.2.1:5090>"
    kept = register(api, DEMO)["username"]
    gone = register(api, DEMO, contact)
    assert sorted(usernames(api)) == sorted([kept, gone["username"]])
    # the phone's own REGISTER with Expires: 0 ends its binding
    assert sip_register(api.server, gone["username"], gone["password"], gone["realm"],
                        expires=0, contact=contact) == 200  # fmt: skip
    assert usernames(api) == [kept]
    assert api.ok("GET", f"{api.account}/registrations/count")["data"] == {"count": 1}
    assert master_api.ok("GET", "/registrations/count")["data"] == {"count": 1}


def test_registration_rows_are_normalised_as_kazoo_shows_them(api: Api, clean: None) -> None:
    """`cb_registrations:normalize_registration/1`: snake_case keys, internal fields gone,
    the contact's address from `Original-Contact`; `expires` is the seconds left."""
    phone = register(api, DEMO, "<sip:phone@192.0.2.1:5080;transport=tls>", expires=300)
    [row] = api.ok("GET", f"{api.account}/registrations")["data"]
    assert 290 < row.pop("expires") <= 300
    assert not set(row) & set(HIDDEN)
    assert all(key == key.lower() and "-" not in key for key in row)
    assert {k: row[k] for k in EXPECTED_KEYS} == {
        "authorizing_id": phone["device_id"],
        "contact": "<sip:phone@192.0.2.1:5080;transport=tls>",
        "contact_ip": "192.0.2.1",
        "contact_port": 5080,
        "original_contact": "<sip:phone@192.0.2.1:5080;transport=tls>",
        "realm": phone["realm"],
        "user_agent": "Test Phone",
        "username": phone["username"],
    }


EXPECTED_KEYS = (
    "authorizing_id",
    "contact",
    "contact_ip",
    "contact_port",
    "original_contact",
    "realm",
    "user_agent",
    "username",
)


@pytest.mark.parametrize(
    ("contact", "ip", "port"),
    [
        ("sip:a@192.0.2.5:5070", "192.0.2.5", 5070),
        ('"Desk" <sip:a@192.0.2.5;transport=udp>', "192.0.2.5", 5060),
        ("<sip:a@192.0.2.5;transport=TLS>", "192.0.2.5", 5061),
        ("<sips:192.0.2.5>", "192.0.2.5", 5061),
        ("<sip:a@[2001:db8::1]:5062>", "[2001:db8::1]", 5062),
    ],
)
def test_the_contact_address(api: Api, clean: None, contact: str, ip: str, port: int) -> None:
    register(api, DEMO, contact)
    [row] = shown(api)
    assert (row["contact_ip"], row["contact_port"]) == (ip, port)


def test_contact_address_of_odd_uris() -> None:
    assert contact_address("<sip:a@[2001:db8::1]>") == {
        "contact_ip": "[2001:db8::1]",
        "contact_port": 5060,
    }
    assert contact_address("tel:+14155550100") == {}
    assert contact_address(None) == {}


def test_flush_one_of_an_ip_device(api: Api, clean: None) -> None:
    """`devices/sip_credentials` knows the username of a device of any method."""
    device = {"name": "Gateway", "sip": {"method": "ip", "ip": "198.18.7.7", "username": "gw_7"}}
    api.ok("PUT", f"{api.account}/devices", device)
    assert api.ok("DELETE", f"{api.account}/registrations/gw_7")["data"] == "ok"


def test_system_count_is_for_superduper_admins(
    api: Api, master_api: Api, demo_server: Server
) -> None:
    error_of(api.call("GET", "/registrations/count"), 403, "forbidden", {"message": "forbidden"})
    error_of(api.call("GET", "/registrations/count", token=None), 401, "invalid_credentials")
    assert master_api.ok("GET", "/registrations/count")["data"]["count"] >= 0
    acme = Api(demo_server)
    acme.login("reseller", "Acme-Reseller-2024!", "Acme Telecom")
    error_of(acme.call("GET", "/registrations/count"), 403, "forbidden")
    acme.http.close()


def test_flush_all(api: Api, master_api: Api, clean: None) -> None:
    register(api, DEMO, "<sip:1@192.0.2.1>")
    register(api, DEMO, "<sip:2@192.0.2.2>")
    register(master_api, GLOBEX, "<sip:g@192.0.2.9>")
    reply = api.ok("DELETE", f"{api.account}/registrations")
    assert reply["data"] == "ok"
    assert api.ok("GET", f"{api.account}/registrations")["data"] == []
    assert master_api.ok("GET", f"/accounts/{GLOBEX}/registrations/count")["data"] == {"count": 1}
    # flushing nothing is fine too
    assert api.ok("DELETE", f"{api.account}/registrations")["data"] == "ok"


def test_flush_one(api: Api, clean: None) -> None:
    mine = register(api, DEMO, "<sip:1@192.0.2.1>")["username"]
    kept = register(api, DEMO, "<sip:3@192.0.2.1>")["username"]
    reply = api.ok("DELETE", f"{api.account}/registrations/{mine.upper()}")
    assert reply["data"] == "ok"
    assert usernames(api) == [kept]
    # a known device without a registration: still "ok"
    assert api.ok("DELETE", f"{api.account}/registrations/{mine}")["data"] == "ok"


def test_flush_one_unknown_username(api: Api, master_api: Api, clean: None) -> None:
    error_of(
        api.call("DELETE", f"{api.account}/registrations/no_such_user"),
        404,
        "bad_identifier",
        {"cause": "no_such_user", "message": "bad identifier"},
    )
    # a device username of another account is unknown here
    globex_username = device_usernames(master_api, GLOBEX)[0]
    reply = api.call("DELETE", f"{api.account}/registrations/{globex_username}")
    error_of(reply, 404, "bad_identifier")


def test_flush_one_of_a_deleted_device(api: Api, clean: None) -> None:
    device = {"name": "Short Lived", "sip": {"username": "short_lived_1", "password": "Pass-12345"}}
    created = api.ok("PUT", f"{api.account}/devices", device)["data"]
    assert api.ok("DELETE", f"{api.account}/registrations/short_lived_1")["data"] == "ok"
    api.ok("DELETE", f"{api.account}/devices/{created['id']}")
    error_of(
        api.call("DELETE", f"{api.account}/registrations/short_lived_1"), 404, "bad_identifier"
    )


def test_registrations_need_auth_and_access(api: Api) -> None:
    url = f"{api.account}/registrations"
    error_of(api.call("GET", url, token=None), 401, "invalid_credentials")
    error_of(api.call("DELETE", url, token=None), 401, "invalid_credentials")
    error_of(api.call("GET", f"/accounts/{GLOBEX}/registrations"), 403, "forbidden")
    error_of(api.call("DELETE", f"/accounts/{GLOBEX}/registrations"), 403, "forbidden")


def test_registration_methods(api: Api) -> None:
    url = f"{api.account}/registrations"
    error_of(api.call("PUT", url, {}), 405, "invalid_method")
    error_of(api.call("DELETE", f"{url}/count"), 405, "invalid_method")
    error_of(api.call("GET", f"{url}/someone"), 405, "invalid_method")
    error_of(api.call("GET", f"{url}/someone/else"), 404, "not_found")
