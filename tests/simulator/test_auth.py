"""`PUT /v2/user_auth`, `PUT /v2/api_auth` and what a token reaches (kazoo-api.md §9)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import httpx
import pytest

from helpers import ACME, DEMO, GLOBEX, MASTER, Api, Server, error_of, jwt_claims, md5_credentials
from kazoodesk.simulator.tokens import TokenSigner

DEMO_ADMIN = "75a137a33f9ad620210ed3a1903d830e"
ACME_LOGIN = ("reseller", "Acme-Reseller-2024!", "Acme Telecom")
GLOBEX_LOGIN = ("jane.porter", "Globex-Admin-2024", "Globex Widgets")
INVALID_CREDENTIALS = {"message": "invalid credentials"}
DEMO_ADMIN_MD5 = md5_credentials("admin", "DemoCo-Admin-2024")


def sha1(username: str, password: str) -> str:
    return hashlib.sha1(f"{username.lower()}:{password}".encode()).hexdigest()


def user_auth(client: Api, **data: Any) -> httpx.Response:
    return client.call("PUT", "/user_auth", data, token=None)


def login_as(client: Api, username: str, password: str, account_name: str) -> str:
    reply = user_auth(
        client, credentials=md5_credentials(username, password), account_name=account_name
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["auth_token"])


def store_signer(server: Server, **kwargs: Any) -> TokenSigner:
    """A signer with the server's own secret (kept in the store)."""
    sim = server.runner.sim
    assert sim is not None
    secret = sim.store.reader.meta("token_secret")
    assert secret is not None
    return TokenSigner(bytes.fromhex(secret), **kwargs)


# ---- user_auth -------------------------------------------------------------------------------


def test_user_auth_success(anon: Api) -> None:
    ready = anon.server.ready
    reply = user_auth(
        anon,
        credentials=md5_credentials(ready["username"], ready["password"]),
        account_name="Demo Co",
    )
    assert reply.status_code == 201
    body = reply.json()
    assert body["status"] == "success"
    data = body["data"]
    assert {
        "account_id",
        "owner_id",
        "account_name",
        "is_reseller",
        "reseller_id",
        "is_master_account",
        "apps",
        "language",
    } <= set(data)
    assert data["account_id"] == DEMO
    assert data["owner_id"] == DEMO_ADMIN
    assert data["account_name"] == "Demo Co"
    assert data["is_master_account"] is False
    assert data["is_reseller"] is False
    assert data["language"] == "en-us"
    assert isinstance(data["apps"], list)
    token = body["auth_token"]
    claims = jwt_claims(token)
    assert claims["account_id"] == DEMO
    assert claims["owner_id"] == DEMO_ADMIN
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 60
    assert "expires" not in reply.headers
    assert anon.call("GET", f"/accounts/{DEMO}", token=token).status_code == 200


@pytest.mark.parametrize("name", ["Demo Co", "demo co", "DEMO-CO", "democo", " Demo  Co! "])
def test_account_name_is_normalised(anon: Api, name: str) -> None:
    ready = anon.server.ready
    reply = user_auth(
        anon, credentials=md5_credentials(ready["username"], ready["password"]), account_name=name
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["data"]["account_id"] == DEMO


@pytest.mark.parametrize("key", ["account_realm", "realm"])
@pytest.mark.parametrize("realm", ["demo.kazoodesk.test", "DEMO.KazooDesk.test"])
def test_login_by_realm(anon: Api, key: str, realm: str) -> None:
    ready = anon.server.ready
    reply = user_auth(
        anon, credentials=md5_credentials(ready["username"], ready["password"]), **{key: realm}
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["data"]["account_id"] == DEMO


def test_login_with_sha1(anon: Api) -> None:
    ready = anon.server.ready
    creds = sha1(ready["username"], ready["password"])
    reply = user_auth(anon, credentials=creds, method="sha", account_name="Demo Co")
    assert reply.status_code == 201, reply.text
    assert reply.json()["data"]["owner_id"] == DEMO_ADMIN
    # the same sha1 sent as an md5 does not match
    error_of(user_auth(anon, credentials=creds, account_name="Demo Co"), 401, "invalid_credentials")


def test_md5_is_over_the_lower_cased_username(anon: Api) -> None:
    ready = anon.server.ready
    upper = hashlib.md5(f"{ready['username'].upper()}:{ready['password']}".encode()).hexdigest()
    error_of(user_auth(anon, credentials=upper, account_name="Demo Co"), 401, "invalid_credentials")


@pytest.mark.parametrize(
    "data",
    [
        {"credentials": md5_credentials("admin", "wrong-password"), "account_name": "Demo Co"},
        {"credentials": DEMO_ADMIN_MD5, "account_name": "No Such Co"},
        {"credentials": DEMO_ADMIN_MD5, "account_realm": "nope.test"},
        {"credentials": DEMO_ADMIN_MD5},  # no account at all
        {"credentials": DEMO_ADMIN_MD5, "account_name": "Globex Widgets"},
        {"credentials": md5_credentials(*GLOBEX_LOGIN[:2]), "account_name": "Demo Co"},
    ],
)
def test_wrong_credentials(anon: Api, data: dict[str, Any]) -> None:
    reply = user_auth(anon, **data)
    body = error_of(reply, 401, "invalid_credentials", INVALID_CREDENTIALS)
    assert body["auth_token"] == "undefined"


def test_missing_or_bad_credentials_are_validation_errors(anon: Api) -> None:
    missing = error_of(user_auth(anon, account_name="Demo Co"), 400, "validation error")
    assert missing["data"] == {
        "credentials": {
            "required": {"message": "Field is required but missing", "value": "credentials"}
        }
    }
    empty = error_of(
        user_auth(anon, credentials="", account_name="Demo Co"), 400, "validation error"
    )
    assert set(empty["data"]["credentials"]) == {"minLength"}
    long = error_of(
        user_auth(anon, credentials="a" * 65, account_name="x"), 400, "validation error"
    )
    assert long["data"]["credentials"]["maxLength"]["target"] == 64


def test_master_login(anon: Api) -> None:
    master = anon.server.ready["master"]
    creds = md5_credentials(master["username"], master["password"])
    reply = user_auth(anon, credentials=creds, account_name=master["account_name"])
    assert reply.status_code == 201
    data = reply.json()["data"]
    assert data["account_id"] == MASTER
    assert data["is_master_account"] is True
    assert data["reseller_id"] == MASTER


def test_reseller_flags(anon: Api) -> None:
    """resources/demo/README.md calls Acme Telecom a reseller with Demo Co its customer."""
    acme = user_auth(anon, credentials=md5_credentials(*ACME_LOGIN[:2]), account_name=ACME_LOGIN[2])
    assert acme.json()["data"]["is_reseller"] is True
    ready = anon.server.ready
    demo = user_auth(
        anon,
        credentials=md5_credentials(ready["username"], ready["password"]),
        realm=ready["realm"],
    )
    assert demo.json()["data"]["reseller_id"] == ACME


def test_disabled_user_cannot_log_in(fresh: Api) -> None:
    user = {
        "first_name": "Off",
        "last_name": "Line",
        "username": "off.line",
        "password": "Off-2024!",
    }
    created = fresh.ok("PUT", f"{fresh.account}/users", {**user, "enabled": False})
    assert created["data"]["enabled"] is False
    md5_reply = user_auth(
        fresh, credentials=md5_credentials("off.line", "Off-2024!"), account_name="Demo Co"
    )
    error_of(md5_reply, 401, "invalid_credentials")
    sha_reply = user_auth(
        fresh, credentials=sha1("off.line", "Off-2024!"), method="sha", account_name="Demo Co"
    )
    error_of(sha_reply, 401, "invalid_credentials")
    # enabling the user lets it in
    fresh.ok("PATCH", f"{fresh.account}/users/{created['data']['id']}", {"enabled": True})
    reply = user_auth(
        fresh, credentials=md5_credentials("off.line", "Off-2024!"), account_name="Demo Co"
    )
    assert reply.status_code == 201, reply.text


def test_disabled_account_cannot_log_in(fresh: Api) -> None:
    child = fresh.ok("PUT", fresh.account, {"name": "Sleepy Co"})["data"]
    user = {"first_name": "S", "last_name": "L", "username": "sleepy", "password": "Sleepy-2024"}
    fresh.ok("PUT", f"/accounts/{child['id']}/users", user)
    creds = md5_credentials("sleepy", "Sleepy-2024")
    assert user_auth(fresh, credentials=creds, account_name="Sleepy Co").status_code == 201
    fresh.ok("PATCH", f"/accounts/{child['id']}", {"enabled": False})
    error_of(
        user_auth(fresh, credentials=creds, account_name="Sleepy Co"),
        400,
        "validation error",
        {"account": {"disabled": {"message": "account disabled"}}},
    )


# ---- api_auth --------------------------------------------------------------------------------


def test_api_auth(anon: Api) -> None:
    reply = anon.call("PUT", "/api_auth", {"api_key": anon.server.ready["api_key"]}, token=None)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["data"]["account_id"] == DEMO
    assert "owner_id" not in body["data"]
    claims = jwt_claims(body["auth_token"])
    assert claims["account_id"] == DEMO
    assert "owner_id" not in claims
    assert claims["exp"] - claims["iat"] == 3600
    assert anon.call("GET", f"/accounts/{DEMO}/users", token=body["auth_token"]).status_code == 200


def test_api_auth_unknown_key(anon: Api) -> None:
    key = "0" * 64
    reply = anon.call("PUT", "/api_auth", {"api_key": key}, token=None)
    error_of(reply, 404, "bad identifier", [key])


@pytest.mark.parametrize(("key", "code"), [("a" * 63, "minLength"), ("a" * 65, "maxLength")])
def test_api_auth_key_length(anon: Api, key: str, code: str) -> None:
    reply = anon.call("PUT", "/api_auth", {"api_key": key}, token=None)
    body = error_of(reply, 400, "validation error")
    assert body["data"]["api_key"][code]["target"] == 64
    assert body["data"]["api_key"][code]["value"] == key


def test_api_auth_extra_key(anon: Api) -> None:
    data = {"api_key": anon.server.ready["api_key"], "extra": 1}
    body = error_of(anon.call("PUT", "/api_auth", data, token=None), 400, "validation error")
    assert body["data"] == {
        "extra": {
            "additionalProperties": {
                "message": "Strict checking of data is enabled; only include schema-defined"
                " properties",
                "value": data,
            }
        }
    }


def test_api_auth_missing_key(anon: Api) -> None:
    body = error_of(anon.call("PUT", "/api_auth", {}, token=None), 400, "validation error")
    assert set(body["data"]) == {"api_key"}


# ---- 401: the token ----------------------------------------------------------------------------


def _rejected(anon: Api, token: str | None) -> None:
    reply = anon.call("GET", f"/accounts/{DEMO}/users", token=token)
    body = error_of(reply, 401, "invalid_credentials", INVALID_CREDENTIALS)
    assert body["auth_token"] == (token or "undefined")


def test_no_token(anon: Api) -> None:
    _rejected(anon, None)


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "Bearer x", "....", "x" * 500])
def test_garbage_token(anon: Api, token: str) -> None:
    _rejected(anon, token)


def test_tampered_signature(anon: Api) -> None:
    token = login_as(anon, "admin", "DemoCo-Admin-2024", "Demo Co")
    head, payload, signature = token.split(".")
    _rejected(anon, f"{head}.{payload}.{signature[::-1]}")


def test_tampered_payload(anon: Api) -> None:
    """A Demo Co token rewritten to claim the master account."""
    token = login_as(anon, "admin", "DemoCo-Admin-2024", "Demo Co")
    head, _payload, signature = token.split(".")
    claims = {**jwt_claims(token), "account_id": MASTER}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    _rejected(anon, f"{head}.{forged}.{signature}")


def test_expired_token(anon: Api) -> None:
    an_hour_ago = store_signer(anon.server, clock=lambda: time.time() - 3601)
    _rejected(anon, an_hour_ago.issue({"account_id": DEMO, "owner_id": DEMO_ADMIN}))
    # the same signer with a live clock is accepted: only the expiry differs
    live = store_signer(anon.server)
    token = live.issue({"account_id": DEMO, "owner_id": DEMO_ADMIN})
    assert anon.call("GET", f"/accounts/{DEMO}/users", token=token).status_code == 200


def test_token_of_another_server(anon: Api, fresh: Api) -> None:
    """Each store has its own secret: a token from another server is not valid here."""
    _rejected(anon, fresh.token)


def test_non_ascii_token_in_query(anon: Api) -> None:
    for token in ("é.é.é", "\u00ff.a.b"):
        reply = anon.call(
            "GET", f"/accounts/{DEMO}/users", token=None, params={"auth_token": token}
        )
        error_of(reply, 401, "invalid_credentials")


def test_non_ascii_token_header(anon: Api) -> None:
    reply = anon.http.get(f"/accounts/{DEMO}/users", headers=[(b"X-Auth-Token", b"\xff\xfe.a.b")])
    assert reply.status_code == 401


def test_public_routes_ignore_a_bad_token(anon: Api) -> None:
    assert anon.call("GET", "/schemas", token="garbage").status_code == 200
    ready = anon.server.ready
    reply = anon.call(
        "PUT",
        "/user_auth",
        {
            "credentials": md5_credentials(ready["username"], ready["password"]),
            "account_name": "Demo Co",
        },
        token="garbage",
    )
    assert reply.status_code == 201
    assert reply.json()["auth_token"] != "garbage"


# ---- 403: which accounts a token reaches -----------------------------------------------------


def test_foreign_account_is_forbidden(api: Api) -> None:
    for account in (GLOBEX, ACME, MASTER):
        for path in ("", "/users", "/devices"):
            reply = api.call("GET", f"/accounts/{account}{path}")
            error_of(reply, 403, "forbidden", {"message": "forbidden"})


def test_forbidden_comes_before_validation(api: Api) -> None:
    reply = api.call("PUT", f"/accounts/{GLOBEX}/users", {"first_name": ""})
    error_of(reply, 403, "forbidden")


def test_descendant_is_allowed(anon: Api) -> None:
    token = login_as(anon, *ACME_LOGIN)
    for path in (f"/accounts/{DEMO}", f"/accounts/{DEMO}/users", f"/accounts/{ACME}"):
        assert anon.call("GET", path, token=token).status_code == 200, path
    error_of(anon.call("GET", f"/accounts/{GLOBEX}", token=token), 403, "forbidden")
    error_of(anon.call("GET", f"/accounts/{MASTER}", token=token), 403, "forbidden")


def test_globex_cannot_reach_demo(anon: Api) -> None:
    token = login_as(anon, *GLOBEX_LOGIN)
    error_of(anon.call("GET", f"/accounts/{DEMO}/devices", token=token), 403, "forbidden")
    assert anon.call("GET", f"/accounts/{GLOBEX}/devices", token=token).status_code == 200


def test_master_reaches_everything(master_api: Api) -> None:
    for account in (MASTER, ACME, DEMO, GLOBEX):
        assert master_api.call("GET", f"/accounts/{account}").status_code == 200
        assert master_api.call("GET", f"/accounts/{account}/users").status_code == 200
