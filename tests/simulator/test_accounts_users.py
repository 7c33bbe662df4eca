"""`/v2/accounts/{A}` (the account tree) and `/v2/accounts/{A}/users` over real HTTP."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import Api, Server, start_server

MASTER = "d7d94a2c632e577d17e31e95aefde6e5"
ACME = "cb35fef86cd8065a5b0999602b8e9cd2"
DEMO = "3298aa8a7018c518219080e1cefc1214"
GLOBEX = "966b2f9354a9d301b012d82b4f0e09b8"


def md5(username: str, password: str) -> str:
    return hashlib.md5(f"{username.lower()}:{password}".encode()).hexdigest()


def error_of(reply: httpx.Response, status: int, message: str, data: Any = ...) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    body: dict[str, Any] = reply.json()
    assert (body["status"], body["error"], body["message"]) == ("error", str(status), message)
    if data is not ...:
        assert body["data"] == data
    return body


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo server of this module's own: these tests create and delete things."""
    started = start_server(tmp_path_factory.mktemp("accounts-users-store"))
    yield started
    started.runner.stop_thread()


def client_of(server: Server, login: tuple[str, str, str] | None = None) -> Api:
    client = Api(server)
    ready = server.ready
    client.login(*(login or (ready["username"], ready["password"], ready["account_name"])))
    return client


@pytest.fixture
def demo(server: Server) -> Iterator[Api]:
    client = client_of(server)
    yield client
    client.http.close()


@pytest.fixture
def master(server: Server) -> Iterator[Api]:
    m = server.ready["master"]
    client = client_of(server, (m["username"], m["password"], m["account_name"]))
    yield client
    client.http.close()


def stored(server: Server, account_id: str, doc_id: str) -> dict[str, Any] | None:
    sim = server.runner.sim
    assert sim is not None
    return sim.store.reader.get(account_id, doc_id)


def ids(rows: list[dict[str, Any]]) -> set[str]:
    return {row["id"] for row in rows}


# ---- accounts ----------------------------------------------------------------------------------


def test_get_account(demo: Api) -> None:
    body = demo.ok("GET", demo.account)
    data = body["data"]
    assert data["id"] == DEMO
    assert data["name"] == "Demo Co"
    assert data["realm"] == "demo.kazoodesk.test"
    assert not [k for k in data if k.startswith(("_", "pvt_"))]
    assert re.match(r"^\d+-[0-9a-f]{32}$", body["revision"])


def test_create_child_account_and_the_tree(demo: Api, master: Api) -> None:
    name = unique("Child")
    reply = demo.call("PUT", demo.account, {"name": name, "timezone": "Europe/Paris"})
    assert reply.status_code == 201, reply.text
    child = reply.json()["data"]
    assert child["name"] == name
    assert child["timezone"] == "Europe/Paris"
    assert child["realm"]  # one is made up when none is given
    assert len(child["id"]) == 32
    doc = stored(demo.server, child["id"], child["id"])
    assert doc is not None
    assert doc["pvt_tree"] == [MASTER, ACME, DEMO]
    assert doc["pvt_type"] == "account"

    children = demo.ok("GET", f"{demo.account}/children")
    row = next(r for r in children["data"] if r["id"] == child["id"])
    assert row["name"] == name
    assert row["tree"] == [MASTER, ACME, DEMO]
    assert child["id"] in ids(demo.ok("GET", f"{demo.account}/descendants")["data"])
    for ancestor in (ACME, MASTER):
        descendants = master.ok("GET", f"/accounts/{ancestor}/descendants")["data"]
        assert child["id"] in ids(descendants)
        assert child["id"] not in ids(master.ok("GET", f"/accounts/{ancestor}/children")["data"])
    assert child["id"] not in ids(master.ok("GET", f"/accounts/{GLOBEX}/descendants")["data"])
    # the parent reaches the child
    assert demo.ok("GET", f"/accounts/{child['id']}")["data"]["name"] == name


def test_child_token_cannot_reach_the_parent(demo: Api) -> None:
    name = unique("Leaf")
    child = demo.ok("PUT", demo.account, {"name": name})["data"]
    user = {"first_name": "L", "last_name": "F", "username": "leaf", "password": "Leaf-2024!"}
    demo.ok("PUT", f"/accounts/{child['id']}/users", user)
    leaf = client_of(demo.server, ("leaf", "Leaf-2024!", name))
    try:
        assert leaf.ok("GET", f"/accounts/{child['id']}")["data"]["id"] == child["id"]
        for account in (DEMO, ACME, MASTER, GLOBEX):
            error_of(leaf.call("GET", f"/accounts/{account}"), 403, "forbidden")
        error_of(leaf.call("PUT", f"/accounts/{DEMO}", {"name": unique("Sib")}), 403, "forbidden")
    finally:
        leaf.http.close()


def test_put_on_accounts_creates_under_the_token_account(demo: Api) -> None:
    reply = demo.call("PUT", "/accounts", {"name": unique("Top")})
    assert reply.status_code == 201, reply.text
    doc = stored(demo.server, reply.json()["data"]["id"], reply.json()["data"]["id"])
    assert doc is not None
    assert doc["pvt_tree"] == [MASTER, ACME, DEMO]


def test_create_account_validation(demo: Api) -> None:
    body = error_of(demo.call("PUT", demo.account, {}), 400, "validation error")
    assert body["data"] == {
        "name": {"required": {"message": "Field is required but missing", "value": "name"}}
    }


def test_duplicate_account_name_and_realm(demo: Api) -> None:
    name = unique("Dup Co")
    realm = f"{uuid.uuid4().hex[:8]}.dup.test"
    demo.ok("PUT", demo.account, {"name": name, "realm": realm})
    same = demo.call("PUT", demo.account, {"name": name, "realm": f"x{realm}"})
    error_of(
        same,
        400,
        "validation error",
        {"name": {"unique": {"message": "Account name already in use", "cause": name}}},
    )
    spelled = name.upper().replace(" ", "-")
    again = demo.call("PUT", demo.account, {"name": spelled, "realm": f"y{realm}"})
    assert again.json()["data"]["name"]["unique"]["cause"] == spelled
    realm_taken = demo.call("PUT", demo.account, {"name": unique("Other"), "realm": realm.upper()})
    error_of(
        realm_taken,
        400,
        "validation error",
        {"realm": {"unique": {"message": "Account realm already in use", "cause": realm.upper()}}},
    )
    # the names of existing accounts, anywhere in the system, are taken too
    error_of(demo.call("PUT", demo.account, {"name": "Globex Widgets"}), 400, "validation error")


def test_create_account_with_an_existing_id_conflicts(demo: Api) -> None:
    reply = demo.call("PUT", demo.account, {"id": DEMO, "name": unique("Clash")})
    error_of(reply, 409, "datastore_conflict", {"message": "conflicting documents"})


def test_replace_and_patch_account(demo: Api) -> None:
    name = unique("Edit Co")
    child = demo.ok("PUT", demo.account, {"name": name, "timezone": "Europe/Paris"})["data"]
    url = f"/accounts/{child['id']}"
    patched = demo.ok("PATCH", url, {"language": "de-de"})
    assert patched["data"]["language"] == "de-de"
    assert patched["data"]["timezone"] == "Europe/Paris"
    assert patched["data"]["name"] == name
    assert patched["revision"].startswith("2-")
    replaced = demo.ok("POST", url, {"name": name, "realm": child["realm"]})
    assert "timezone" not in replaced["data"]
    assert "language" not in replaced["data"]
    assert replaced["revision"].startswith("3-")
    assert demo.ok("GET", url)["data"] == replaced["data"]
    # keeping its own name and realm is not a duplicate
    assert demo.call("PATCH", url, {"name": name}).status_code == 200
    error_of(demo.call("POST", url, {"realm": "r.test"}), 400, "validation error")
    error_of(demo.call("PATCH", url, {"name": "Demo Co"}), 400, "validation error")


def test_private_fields_cannot_be_set(demo: Api) -> None:
    child = demo.ok("PUT", demo.account, {"name": unique("Sneaky"), "pvt_superduper_admin": True})
    doc = stored(demo.server, child["data"]["id"], child["data"]["id"])
    assert doc is not None
    assert not doc.get("pvt_superduper_admin")
    demo.ok("PATCH", f"/accounts/{child['data']['id']}", {"pvt_tree": []})
    doc = stored(demo.server, child["data"]["id"], child["data"]["id"])
    assert doc is not None
    assert doc["pvt_tree"] == [MASTER, ACME, DEMO]


def test_delete_account(demo: Api) -> None:
    parent = demo.ok("PUT", demo.account, {"name": unique("Parent")})["data"]
    child = demo.ok("PUT", f"/accounts/{parent['id']}", {"name": unique("Kid")})["data"]
    assert ids(demo.ok("GET", f"/accounts/{parent['id']}/children")["data"]) == {child["id"]}

    refused = demo.call("DELETE", f"/accounts/{parent['id']}")
    error_of(refused, 500, "account_has_descendants", {"message": "account has descendants"})
    assert demo.call("GET", f"/accounts/{parent['id']}").status_code == 200

    deleted = demo.ok("DELETE", f"/accounts/{child['id']}")
    assert deleted["data"]["id"] == child["id"]
    error_of(
        demo.call("GET", f"/accounts/{child['id']}"),
        404,
        "bad_identifier",
        {"cause": child["id"], "message": "bad identifier"},
    )
    doc = stored(demo.server, child["id"], child["id"])
    assert doc is None  # soft-deleted: hidden from reads ...
    sim = demo.server.runner.sim
    assert sim is not None
    kept = sim.store.reader.get(child["id"], child["id"], deleted=True)
    assert kept is not None and kept["pvt_deleted"] is True  # ... but kept
    assert demo.ok("GET", f"/accounts/{parent['id']}/children")["data"] == []
    assert child["id"] not in ids(demo.ok("GET", f"{demo.account}/descendants")["data"])

    assert demo.call("DELETE", f"/accounts/{parent['id']}").status_code == 200
    error_of(demo.call("DELETE", f"/accounts/{parent['id']}"), 404, "bad_identifier")


def test_deleted_account_name_is_free_again(demo: Api) -> None:
    name = unique("Reuse")
    first = demo.ok("PUT", demo.account, {"name": name})["data"]
    demo.ok("DELETE", f"/accounts/{first['id']}")
    assert demo.call("PUT", demo.account, {"name": name}).status_code == 201


# ---- users -------------------------------------------------------------------------------------


def new_user(**fields: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    return {"first_name": "New", "last_name": f"User{tag}", **fields}


def test_list_users(demo: Api) -> None:
    body = demo.ok("GET", f"{demo.account}/users")
    usernames = {row.get("username") for row in body["data"]}
    assert {"admin", "alice.chen", "bob.martinez", "emma.larsen"} <= usernames
    assert body["page_size"] == len(body["data"])
    assert len(body["revision"]) == 32
    for row in body["data"]:
        assert len(row["id"]) == 32
        assert not {"password", "pvt_md5_auth", "pvt_sha1_auth"} & set(row)


def test_create_user_and_log_in(demo: Api) -> None:
    user = new_user(username="Zed.Mixed", password="Zed-Secret-2024", email="zed@example.net")
    reply = demo.call("PUT", f"{demo.account}/users", user)
    assert reply.status_code == 201, reply.text
    data = reply.json()["data"]
    assert data["username"] == "zed.mixed"
    assert data["email"] == "zed@example.net"
    assert "password" not in data
    assert not [k for k in data if k.startswith(("_", "pvt_"))]
    doc = stored(demo.server, DEMO, data["id"])
    assert doc is not None
    assert "password" not in doc
    assert doc["pvt_md5_auth"] == md5("zed.mixed", "Zed-Secret-2024")
    assert "Zed-Secret-2024" not in str(doc)
    assert data["id"] in ids(demo.ok("GET", f"{demo.account}/users")["data"])

    # the user typed "Zed.Mixed": the hash is over the lower-cased name, so it matches
    login = demo.call(
        "PUT",
        "/user_auth",
        {"credentials": md5("Zed.Mixed", "Zed-Secret-2024"), "account_name": "Demo Co"},
        token=None,
    )
    assert login.status_code == 201, login.text
    assert login.json()["data"]["owner_id"] == data["id"]


def test_username_is_unique_ignoring_case(demo: Api) -> None:
    demo.ok("PUT", f"{demo.account}/users", new_user(username="only.one", password="Only-1234"))
    reply = demo.call("PUT", f"{demo.account}/users", new_user(username="ONLY.One"))
    error_of(
        reply,
        400,
        "validation error",
        {"username": {"unique": {"message": "User name already in use", "cause": "only.one"}}},
    )
    # the check does not leak across accounts: Demo Co cannot even write to Globex
    foreign = demo.call("PUT", f"/accounts/{GLOBEX}/users", new_user(username="only.one"))
    error_of(foreign, 403, "forbidden")


def test_same_username_in_another_account(master: Api) -> None:
    """Usernames are unique per account: Globex may have its own "admin"."""
    reply = master.call("PUT", f"/accounts/{GLOBEX}/users", new_user(username="admin"))
    assert reply.status_code == 201, reply.text


def test_get_replace_patch_delete_user(demo: Api) -> None:
    user = new_user(username="cycle.user", password="Cycle-2024", timezone="Europe/Oslo")
    created = demo.ok("PUT", f"{demo.account}/users", user)["data"]
    url = f"{demo.account}/users/{created['id']}"

    got = demo.ok("GET", url)
    assert got["data"] == created
    assert got["revision"].startswith("1-")

    patched = demo.ok("PATCH", url, {"first_name": "Patched"})
    assert patched["data"]["first_name"] == "Patched"
    assert patched["data"]["timezone"] == "Europe/Oslo"

    replaced = demo.ok(
        "POST", url, {"first_name": "Re", "last_name": "Placed", "username": "cycle.user"}
    )
    assert replaced["data"]["first_name"] == "Re"
    assert "timezone" not in replaced["data"]
    # the password survives a replace that does not send one
    login = {"credentials": md5("cycle.user", "Cycle-2024"), "account_name": "Demo Co"}
    assert demo.call("PUT", "/user_auth", login, token=None).status_code == 201

    deleted = demo.ok("DELETE", url)
    assert deleted["data"]["id"] == created["id"]
    error_of(
        demo.call("GET", url),
        404,
        "bad_identifier",
        {"cause": created["id"], "message": "bad identifier"},
    )
    assert created["id"] not in ids(demo.ok("GET", f"{demo.account}/users")["data"])
    error_of(demo.call("PUT", "/user_auth", login, token=None), 401, "invalid_credentials")


def test_password_change(demo: Api) -> None:
    user = new_user(username="pw.change", password="Old-Pass-2024")
    created = demo.ok("PUT", f"{demo.account}/users", user)["data"]
    demo.ok("PATCH", f"{demo.account}/users/{created['id']}", {"password": "New-Pass-2024"})
    old = {"credentials": md5("pw.change", "Old-Pass-2024"), "account_name": "Demo Co"}
    new = {"credentials": md5("pw.change", "New-Pass-2024"), "account_name": "Demo Co"}
    error_of(demo.call("PUT", "/user_auth", old, token=None), 401, "invalid_credentials")
    assert demo.call("PUT", "/user_auth", new, token=None).status_code == 201


def login_status(client: Api, username: str, password: str) -> int:
    creds = {"credentials": md5(username, password), "account_name": "Demo Co"}
    return client.call("PUT", "/user_auth", creds, token=None).status_code


def test_changing_the_user_name_needs_the_password(demo: Api) -> None:
    user = new_user(username="rename.me", password="Rename-2024")
    url = f"{demo.account}/users/{demo.ok('PUT', f'{demo.account}/users', user)['data']['id']}"
    error_of(
        demo.call("PATCH", url, {"username": "renamed"}),
        400,
        "validation error",
        {
            "password": {
                "required": {"message": "The password must be provided when updating the user name"}
            }
        },
    )
    assert demo.ok("PATCH", url, {"username": "Renamed", "password": "Renamed-2024"})
    assert login_status(demo, "renamed", "Renamed-2024") == 201
    assert login_status(demo, "rename.me", "Rename-2024") == 401
    # the same name in another case is not a change
    assert demo.call("PATCH", url, {"username": "RENAMED"}).status_code == 200
    assert login_status(demo, "renamed", "Renamed-2024") == 201


def test_a_password_needs_a_user_name(demo: Api) -> None:
    expected = {
        "username": {
            "required": {"message": "The user name must be provided when updating the password"}
        }
    }
    reply = demo.call("PUT", f"{demo.account}/users", new_user(password="Lonely-2024"))
    error_of(reply, 400, "validation error", expected)
    created = demo.ok("PUT", f"{demo.account}/users", new_user())["data"]
    url = f"{demo.account}/users/{created['id']}"
    error_of(
        demo.call("PATCH", url, {"password": "Lonely-2024"}), 400, "validation error", expected
    )


def test_replacing_without_a_user_name_removes_the_login(demo: Api) -> None:
    user = new_user(username="gone.login", password="Gone-2024")
    created = demo.ok("PUT", f"{demo.account}/users", user)["data"]
    assert login_status(demo, "gone.login", "Gone-2024") == 201
    demo.ok("POST", f"{demo.account}/users/{created['id']}", new_user())
    assert login_status(demo, "gone.login", "Gone-2024") == 401
    doc = stored(demo.server, DEMO, created["id"])
    assert doc is not None
    assert "pvt_md5_auth" not in doc and "pvt_sha1_auth" not in doc


def test_user_validation(demo: Api) -> None:
    body = error_of(demo.call("PUT", f"{demo.account}/users", {}), 400, "validation error")
    assert set(body["data"]) == {"first_name", "last_name"}
    created = demo.ok("PUT", f"{demo.account}/users", new_user())["data"]
    url = f"{demo.account}/users/{created['id']}"
    error_of(demo.call("PATCH", url, {"first_name": ""}), 400, "validation error")
    error_of(demo.call("POST", url, {"first_name": "Only"}), 400, "validation error")


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_unknown_user(demo: Api, method: str) -> None:
    missing = "9" * 32
    data = new_user() if method in {"POST", "PATCH"} else None
    reply = demo.call(method, f"{demo.account}/users/{missing}", data)
    error_of(reply, 404, "bad_identifier", {"cause": missing, "message": "bad identifier"})


def test_a_device_id_is_not_a_user(demo: Api) -> None:
    device = demo.ok("GET", f"{demo.account}/devices")["data"][0]["id"]
    error_of(demo.call("GET", f"{demo.account}/users/{device}"), 404, "bad_identifier")


def test_user_etag_and_if_match(demo: Api) -> None:
    created = demo.ok("PUT", f"{demo.account}/users", new_user())["data"]
    url = f"{demo.account}/users/{created['id']}"
    reply = demo.call("GET", url)
    revision = reply.json()["revision"]
    assert reply.headers["etag"] == f'"{revision}"'
    stale = demo.call("PATCH", url, {"first_name": "X"}, headers={"If-Match": '"1-stale"'})
    assert stale.status_code == 412
    fresh = demo.call("PATCH", url, {"first_name": "X"}, headers={"If-Match": f'"{revision}"'})
    assert fresh.status_code == 200
