"""`/v2/accounts/{A}` (the account tree) and `/v2/accounts/{A}/users` over real HTTP."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from helpers import (
    ACME,
    DEMO,
    GLOBEX,
    MASTER,
    Api,
    Server,
    error_of,
    md5_credentials,
    own_server_fixture,
)


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


# this module's own demo server, in place of the session's (conftest's `api` and `master_api`
# log in there): these tests create and delete things
demo_server = own_server_fixture("accounts-users-store")


def stored(server: Server, account_id: str, doc_id: str) -> dict[str, Any] | None:
    sim = server.runner.sim
    assert sim is not None
    return sim.store.reader.get(account_id, doc_id)


def ids(rows: list[dict[str, Any]]) -> set[str]:
    return {row["id"] for row in rows}


# ---- accounts ----------------------------------------------------------------------------------


def test_get_account(api: Api) -> None:
    body = api.ok("GET", api.account)
    data = body["data"]
    assert data["id"] == DEMO
    assert data["name"] == "Demo Co"
    assert data["realm"] == "demo.kazoodesk.test"
    assert not [k for k in data if k.startswith(("_", "pvt_"))]
    assert re.match(r"^\d+-[0-9a-f]{32}$", body["revision"])


def test_create_child_account_and_the_tree(api: Api, master_api: Api) -> None:
    name = unique("Child")
    reply = api.call("PUT", api.account, {"name": name, "timezone": "Europe/Paris"})
    assert reply.status_code == 201, reply.text
    child = reply.json()["data"]
    assert child["name"] == name
    assert child["timezone"] == "Europe/Paris"
    assert child["realm"]  # one is made up when none is given
    assert len(child["id"]) == 32
    doc = stored(api.server, child["id"], child["id"])
    assert doc is not None
    assert doc["pvt_tree"] == [MASTER, ACME, DEMO]
    assert doc["pvt_type"] == "account"

    children = api.ok("GET", f"{api.account}/children")
    row = next(r for r in children["data"] if r["id"] == child["id"])
    assert row["name"] == name
    assert row["tree"] == [MASTER, ACME, DEMO]
    assert child["id"] in ids(api.ok("GET", f"{api.account}/descendants")["data"])
    for ancestor in (ACME, MASTER):
        descendants = master_api.ok("GET", f"/accounts/{ancestor}/descendants")["data"]
        assert child["id"] in ids(descendants)
        assert child["id"] not in ids(
            master_api.ok("GET", f"/accounts/{ancestor}/children")["data"]
        )
    assert child["id"] not in ids(master_api.ok("GET", f"/accounts/{GLOBEX}/descendants")["data"])
    # the parent reaches the child
    assert api.ok("GET", f"/accounts/{child['id']}")["data"]["name"] == name


def test_child_token_cannot_reach_the_parent(api: Api) -> None:
    name = unique("Leaf")
    child = api.ok("PUT", api.account, {"name": name})["data"]
    user = {"first_name": "L", "last_name": "F", "username": "leaf", "password": "Leaf-2024!"}
    api.ok("PUT", f"/accounts/{child['id']}/users", user)
    leaf = Api.logged_in(api.server, user | {"account_name": name})
    try:
        assert leaf.ok("GET", f"/accounts/{child['id']}")["data"]["id"] == child["id"]
        for account in (DEMO, ACME, MASTER, GLOBEX):
            error_of(leaf.call("GET", f"/accounts/{account}"), 403, "forbidden")
        error_of(leaf.call("PUT", f"/accounts/{DEMO}", {"name": unique("Sib")}), 403, "forbidden")
    finally:
        leaf.http.close()


def test_put_on_accounts_creates_under_the_token_account(api: Api) -> None:
    reply = api.call("PUT", "/accounts", {"name": unique("Top")})
    assert reply.status_code == 201, reply.text
    doc = stored(api.server, reply.json()["data"]["id"], reply.json()["data"]["id"])
    assert doc is not None
    assert doc["pvt_tree"] == [MASTER, ACME, DEMO]


def test_create_account_validation(api: Api) -> None:
    body = error_of(api.call("PUT", api.account, {}), 400, "validation error")
    assert body["data"] == {
        "name": {"required": {"message": "Field is required but missing", "value": "name"}}
    }


def test_duplicate_account_name_and_realm(api: Api) -> None:
    name = unique("Dup Co")
    realm = f"{uuid.uuid4().hex[:8]}.dup.test"
    api.ok("PUT", api.account, {"name": name, "realm": realm})
    same = api.call("PUT", api.account, {"name": name, "realm": f"x{realm}"})
    error_of(
        same,
        400,
        "validation error",
        {"name": {"unique": {"message": "Account name already in use", "cause": name}}},
    )
    spelled = name.upper().replace(" ", "-")
    again = api.call("PUT", api.account, {"name": spelled, "realm": f"y{realm}"})
    assert again.json()["data"]["name"]["unique"]["cause"] == spelled
    realm_taken = api.call("PUT", api.account, {"name": unique("Other"), "realm": realm.upper()})
    error_of(
        realm_taken,
        400,
        "validation error",
        {"realm": {"unique": {"message": "Account realm already in use", "cause": realm.upper()}}},
    )
    # the names of existing accounts, anywhere in the system, are taken too
    error_of(api.call("PUT", api.account, {"name": "Globex Widgets"}), 400, "validation error")


def test_create_account_with_an_existing_id_conflicts(api: Api) -> None:
    reply = api.call("PUT", api.account, {"id": DEMO, "name": unique("Clash")})
    error_of(reply, 409, "datastore_conflict", {"message": "conflicting documents"})


def test_replace_and_patch_account(api: Api) -> None:
    name = unique("Edit Co")
    child = api.ok("PUT", api.account, {"name": name, "timezone": "Europe/Paris"})["data"]
    url = f"/accounts/{child['id']}"
    patched = api.ok("PATCH", url, {"language": "de-de"})
    assert patched["data"]["language"] == "de-de"
    assert patched["data"]["timezone"] == "Europe/Paris"
    assert patched["data"]["name"] == name
    assert patched["revision"].startswith("2-")
    replaced = api.ok("POST", url, {"name": name, "realm": child["realm"]})
    assert "timezone" not in replaced["data"]
    assert "language" not in replaced["data"]
    assert replaced["revision"].startswith("3-")
    assert api.ok("GET", url)["data"] == replaced["data"]
    # keeping its own name and realm is not a duplicate
    assert api.call("PATCH", url, {"name": name}).status_code == 200
    error_of(api.call("POST", url, {"realm": "r.test"}), 400, "validation error")
    error_of(api.call("PATCH", url, {"name": "Demo Co"}), 400, "validation error")


def test_private_fields_cannot_be_set(api: Api) -> None:
    child = api.ok("PUT", api.account, {"name": unique("Sneaky"), "pvt_superduper_admin": True})
    doc = stored(api.server, child["data"]["id"], child["data"]["id"])
    assert doc is not None
    assert not doc.get("pvt_superduper_admin")
    api.ok("PATCH", f"/accounts/{child['data']['id']}", {"pvt_tree": []})
    doc = stored(api.server, child["data"]["id"], child["data"]["id"])
    assert doc is not None
    assert doc["pvt_tree"] == [MASTER, ACME, DEMO]


def test_delete_account(api: Api) -> None:
    parent = api.ok("PUT", api.account, {"name": unique("Parent")})["data"]
    child = api.ok("PUT", f"/accounts/{parent['id']}", {"name": unique("Kid")})["data"]
    assert ids(api.ok("GET", f"/accounts/{parent['id']}/children")["data"]) == {child["id"]}

    refused = api.call("DELETE", f"/accounts/{parent['id']}")
    error_of(refused, 500, "account_has_descendants", {"message": "account has descendants"})
    assert api.call("GET", f"/accounts/{parent['id']}").status_code == 200

    deleted = api.ok("DELETE", f"/accounts/{child['id']}")
    assert deleted["data"]["id"] == child["id"]
    error_of(
        api.call("GET", f"/accounts/{child['id']}"),
        404,
        "bad_identifier",
        {"cause": child["id"], "message": "bad identifier"},
    )
    doc = stored(api.server, child["id"], child["id"])
    assert doc is None  # soft-deleted: hidden from reads ...
    sim = api.server.runner.sim
    assert sim is not None
    kept = sim.store.reader.get(child["id"], child["id"], deleted=True)
    assert kept is not None and kept["pvt_deleted"] is True  # ... but kept
    assert api.ok("GET", f"/accounts/{parent['id']}/children")["data"] == []
    assert child["id"] not in ids(api.ok("GET", f"{api.account}/descendants")["data"])

    assert api.call("DELETE", f"/accounts/{parent['id']}").status_code == 200
    error_of(api.call("DELETE", f"/accounts/{parent['id']}"), 404, "bad_identifier")


def test_deleted_account_name_is_free_again(api: Api) -> None:
    name = unique("Reuse")
    first = api.ok("PUT", api.account, {"name": name})["data"]
    api.ok("DELETE", f"/accounts/{first['id']}")
    assert api.call("PUT", api.account, {"name": name}).status_code == 201


# ---- users -------------------------------------------------------------------------------------


def new_user(**fields: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    return {"first_name": "New", "last_name": f"User{tag}", **fields}


def test_list_users(api: Api) -> None:
    body = api.ok("GET", f"{api.account}/users")
    usernames = {row.get("username") for row in body["data"]}
    assert {"admin", "alice.chen", "bob.martinez", "emma.larsen"} <= usernames
    assert body["page_size"] == len(body["data"])
    assert len(body["revision"]) == 32
    for row in body["data"]:
        assert len(row["id"]) == 32
        assert not {"password", "pvt_md5_auth", "pvt_sha1_auth"} & set(row)


def test_create_user_and_log_in(api: Api) -> None:
    user = new_user(username="Zed.Mixed", password="Zed-Secret-2024", email="zed@example.net")
    reply = api.call("PUT", f"{api.account}/users", user)
    assert reply.status_code == 201, reply.text
    data = reply.json()["data"]
    assert data["username"] == "zed.mixed"
    assert data["email"] == "zed@example.net"
    assert "password" not in data
    assert not [k for k in data if k.startswith(("_", "pvt_"))]
    doc = stored(api.server, DEMO, data["id"])
    assert doc is not None
    assert "password" not in doc
    assert doc["pvt_md5_auth"] == md5_credentials("zed.mixed", "Zed-Secret-2024")
    assert "Zed-Secret-2024" not in str(doc)
    assert data["id"] in ids(api.ok("GET", f"{api.account}/users")["data"])

    # the user typed "Zed.Mixed": the hash is over the lower-cased name, so it matches
    login = api.call(
        "PUT",
        "/user_auth",
        {"credentials": md5_credentials("Zed.Mixed", "Zed-Secret-2024"), "account_name": "Demo Co"},
        token=None,
    )
    assert login.status_code == 201, login.text
    assert login.json()["data"]["owner_id"] == data["id"]


def test_username_is_unique_ignoring_case(api: Api) -> None:
    api.ok("PUT", f"{api.account}/users", new_user(username="only.one", password="Only-1234"))
    reply = api.call("PUT", f"{api.account}/users", new_user(username="ONLY.One"))
    error_of(
        reply,
        400,
        "validation error",
        {"username": {"unique": {"message": "User name already in use", "cause": "only.one"}}},
    )
    # the check does not leak across accounts: Demo Co cannot even write to Globex
    foreign = api.call("PUT", f"/accounts/{GLOBEX}/users", new_user(username="only.one"))
    error_of(foreign, 403, "forbidden")


def test_same_username_in_another_account(master_api: Api) -> None:
    """Usernames are unique per account: Globex may have its own "admin"."""
    reply = master_api.call("PUT", f"/accounts/{GLOBEX}/users", new_user(username="admin"))
    assert reply.status_code == 201, reply.text


def test_get_replace_patch_delete_user(api: Api) -> None:
    user = new_user(username="cycle.user", password="Cycle-2024", timezone="Europe/Oslo")
    created = api.ok("PUT", f"{api.account}/users", user)["data"]
    url = f"{api.account}/users/{created['id']}"

    got = api.ok("GET", url)
    assert got["data"] == created
    assert got["revision"].startswith("1-")

    patched = api.ok("PATCH", url, {"first_name": "Patched"})
    assert patched["data"]["first_name"] == "Patched"
    assert patched["data"]["timezone"] == "Europe/Oslo"

    replaced = api.ok(
        "POST", url, {"first_name": "Re", "last_name": "Placed", "username": "cycle.user"}
    )
    assert replaced["data"]["first_name"] == "Re"
    assert "timezone" not in replaced["data"]
    # the password survives a replace that does not send one
    login = {"credentials": md5_credentials("cycle.user", "Cycle-2024"), "account_name": "Demo Co"}
    assert api.call("PUT", "/user_auth", login, token=None).status_code == 201

    deleted = api.ok("DELETE", url)
    assert deleted["data"]["id"] == created["id"]
    error_of(
        api.call("GET", url),
        404,
        "bad_identifier",
        {"cause": created["id"], "message": "bad identifier"},
    )
    assert created["id"] not in ids(api.ok("GET", f"{api.account}/users")["data"])
    error_of(api.call("PUT", "/user_auth", login, token=None), 401, "invalid_credentials")


def test_password_change(api: Api) -> None:
    user = new_user(username="pw.change", password="Old-Pass-2024")
    created = api.ok("PUT", f"{api.account}/users", user)["data"]
    api.ok("PATCH", f"{api.account}/users/{created['id']}", {"password": "New-Pass-2024"})
    old = {"credentials": md5_credentials("pw.change", "Old-Pass-2024"), "account_name": "Demo Co"}
    new = {"credentials": md5_credentials("pw.change", "New-Pass-2024"), "account_name": "Demo Co"}
    error_of(api.call("PUT", "/user_auth", old, token=None), 401, "invalid_credentials")
    assert api.call("PUT", "/user_auth", new, token=None).status_code == 201


def login_status(client: Api, username: str, password: str) -> int:
    creds = {"credentials": md5_credentials(username, password), "account_name": "Demo Co"}
    return client.call("PUT", "/user_auth", creds, token=None).status_code


def test_changing_the_user_name_needs_the_password(api: Api) -> None:
    user = new_user(username="rename.me", password="Rename-2024")
    url = f"{api.account}/users/{api.ok('PUT', f'{api.account}/users', user)['data']['id']}"
    error_of(
        api.call("PATCH", url, {"username": "renamed"}),
        400,
        "validation error",
        {
            "password": {
                "required": {"message": "The password must be provided when updating the user name"}
            }
        },
    )
    assert api.ok("PATCH", url, {"username": "Renamed", "password": "Renamed-2024"})
    assert login_status(api, "renamed", "Renamed-2024") == 201
    assert login_status(api, "rename.me", "Rename-2024") == 401
    # the same name in another case is not a change
    assert api.call("PATCH", url, {"username": "RENAMED"}).status_code == 200
    assert login_status(api, "renamed", "Renamed-2024") == 201


def test_a_password_needs_a_user_name(api: Api) -> None:
    expected = {
        "username": {
            "required": {"message": "The user name must be provided when updating the password"}
        }
    }
    reply = api.call("PUT", f"{api.account}/users", new_user(password="Lonely-2024"))
    error_of(reply, 400, "validation error", expected)
    created = api.ok("PUT", f"{api.account}/users", new_user())["data"]
    url = f"{api.account}/users/{created['id']}"
    error_of(api.call("PATCH", url, {"password": "Lonely-2024"}), 400, "validation error", expected)


def test_replacing_without_a_user_name_removes_the_login(api: Api) -> None:
    user = new_user(username="gone.login", password="Gone-2024")
    created = api.ok("PUT", f"{api.account}/users", user)["data"]
    assert login_status(api, "gone.login", "Gone-2024") == 201
    api.ok("POST", f"{api.account}/users/{created['id']}", new_user())
    assert login_status(api, "gone.login", "Gone-2024") == 401
    doc = stored(api.server, DEMO, created["id"])
    assert doc is not None
    assert "pvt_md5_auth" not in doc and "pvt_sha1_auth" not in doc


def test_user_validation(api: Api) -> None:
    body = error_of(api.call("PUT", f"{api.account}/users", {}), 400, "validation error")
    assert set(body["data"]) == {"first_name", "last_name"}
    created = api.ok("PUT", f"{api.account}/users", new_user())["data"]
    url = f"{api.account}/users/{created['id']}"
    error_of(api.call("PATCH", url, {"first_name": ""}), 400, "validation error")
    error_of(api.call("POST", url, {"first_name": "Only"}), 400, "validation error")


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_unknown_user(api: Api, method: str) -> None:
    missing = "9" * 32
    data = new_user() if method in {"POST", "PATCH"} else None
    reply = api.call(method, f"{api.account}/users/{missing}", data)
    error_of(reply, 404, "bad_identifier", {"cause": missing, "message": "bad identifier"})


def test_a_device_id_is_not_a_user(api: Api) -> None:
    device = api.ok("GET", f"{api.account}/devices")["data"][0]["id"]
    error_of(api.call("GET", f"{api.account}/users/{device}"), 404, "bad_identifier")


def test_user_etag_and_if_match(api: Api) -> None:
    created = api.ok("PUT", f"{api.account}/users", new_user())["data"]
    url = f"{api.account}/users/{created['id']}"
    reply = api.call("GET", url)
    revision = reply.json()["revision"]
    assert reply.headers["etag"] == f'"{revision}"'
    stale = api.call("PATCH", url, {"first_name": "X"}, headers={"If-Match": '"1-stale"'})
    assert stale.status_code == 412
    fresh = api.call("PATCH", url, {"first_name": "X"}, headers={"If-Match": f'"{revision}"'})
    assert fresh.status_code == 200
