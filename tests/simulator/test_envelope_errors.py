"""Crossbar envelope, headers, CORS and error catalogue over HTTP (kazoo-api.md §1-§4, §12)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx
import pytest

from helpers import GLOBEX, Api, Server, md5_credentials
from helpers import error_of as any_error_of

UNKNOWN_ACCOUNT = "0" * 32
HEX32 = re.compile(r"^[0-9a-f]{32}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SUCCESS_KEYS = {"status", "request_id", "node", "version", "timestamp", "data"}
ERROR_KEYS = SUCCESS_KEYS | {"auth_token", "message", "error"}
CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-headers": (
        "content-type, depth, user-agent, x-http-method-override, x-file-size, x-requested-with,"
        " if-modified-since, x-file-name, cache-control, x-auth-token, x-kazoo-cluster-id, if-match"
    ),
    "access-control-expose-headers": (
        "content-type, x-auth-token, x-request-id, x-kazoo-cluster-id, location, etag, etag"
    ),
    "access-control-max-age": "86400",
}


# `helpers.error_of`, and the error envelope holds exactly ERROR_KEYS
error_of = partial(any_error_of, keys=ERROR_KEYS)


def methods(reply: httpx.Response) -> set[str]:
    return set(reply.headers["access-control-allow-methods"].split(", "))


def assert_cors(reply: httpx.Response, allowed: set[str]) -> None:
    for header, value in CORS.items():
        assert reply.headers.get(header) == value, header
    assert methods(reply) == {"OPTIONS", *allowed}


@pytest.fixture(scope="module")
def device_id(api: Api) -> str:
    return str(api.ok("GET", f"{api.account}/devices")["data"][0]["id"])


@pytest.fixture(scope="module")
def api(demo_server: Server) -> Iterator[Api]:
    """The demo company's admin, logged in once for the module (read-only tests)."""
    with Api.logged_in(demo_server) as client:
        yield client


def v1(api: Api) -> httpx.Client:
    return httpx.Client(base_url=api.server.api.replace("/v2", "/v1"), timeout=30)


# ---- success envelope and headers ------------------------------------------------------------


def test_success_envelope_of_a_single_document(api: Api) -> None:
    reply = api.call("GET", api.account)
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == SUCCESS_KEYS | {"auth_token", "revision"}
    assert body["auth_token"] == api.token
    assert body["status"] == "success"
    assert HEX32.match(body["request_id"])
    assert re.match(r"^[A-Za-z0-9_-]{22}$", body["node"])
    assert body["version"] == "4.3.142"
    assert TIMESTAMP.match(body["timestamp"])
    assert re.match(r"^\d+-[0-9a-f]{32}$", body["revision"])
    assert body["data"]["id"] == api.server.ready["account_id"]
    assert reply.headers["etag"] == f'"{body["revision"]}"'
    assert reply.headers["x-request-id"] == body["request_id"]
    assert reply.headers["expires"] == "Fri, 01 Jan 1999 00:00:00 GMT"
    assert reply.headers["content-type"].startswith("application/json")


def test_no_auth_token_key_without_a_token(api: Api) -> None:
    body = api.ok("GET", "/schemas/devices", token=None)
    assert "auth_token" not in body
    assert body["status"] == "success"


def test_request_id_header_is_echoed(api: Api) -> None:
    reply = api.call("GET", api.account, headers={"X-Request-ID": "my-trace-42"})
    assert reply.json()["request_id"] == "my-trace-42"
    assert reply.headers["x-request-id"] == "my-trace-42"
    failed = api.call("GET", api.account, token=None, headers={"X-Request-ID": "trace-401"})
    assert failed.json()["request_id"] == "trace-401"
    assert failed.headers["x-request-id"] == "trace-401"


def test_request_ids_are_fresh(api: Api) -> None:
    first = api.call("GET", api.account).json()["request_id"]
    second = api.call("GET", api.account).json()["request_id"]
    assert first != second


def test_list_etag_is_md5_of_the_data(api: Api) -> None:
    reply = api.call("GET", f"{api.account}/users")
    body = reply.json()
    compact = json.dumps(body["data"], separators=(",", ":"))
    assert body["revision"] == hashlib.md5(compact.encode()).hexdigest()
    assert reply.headers["etag"] == f'"{body["revision"]}"'
    again = api.call("GET", f"{api.account}/users")
    assert again.json()["revision"] == body["revision"]


def test_empty_list_has_no_revision(api: Api) -> None:
    reply = api.call("GET", f"{api.account}/registrations")
    assert reply.json()["data"] == []
    assert "revision" not in reply.json()
    assert "etag" not in reply.headers


def test_if_none_match_gives_304(api: Api) -> None:
    revision = api.ok("GET", api.account)["revision"]
    reply = api.call("GET", api.account, headers={"If-None-Match": f'"{revision}"'})
    assert reply.status_code == 304
    assert reply.content == b""
    assert "x-request-id" in reply.headers


def test_expires_only_on_gets(fresh: Api) -> None:
    reply = fresh.call("PATCH", fresh.account, {})
    assert reply.status_code == 200
    assert "expires" not in reply.headers
    assert "etag" not in reply.headers
    assert reply.json()["revision"]


def test_error_envelope_without_token(api: Api) -> None:
    reply = api.call("GET", api.account, token=None)
    body = error_of(reply, 401, "invalid_credentials", {"message": "invalid credentials"})
    assert body["auth_token"] == "undefined"
    assert HEX32.match(body["request_id"])
    assert TIMESTAMP.match(body["timestamp"])
    assert body["version"] == "4.3.142"
    assert reply.headers["x-request-id"] == body["request_id"]


def test_error_envelope_echoes_the_token_sent(api: Api) -> None:
    reply = api.call("GET", f"{api.account}/users/{'f' * 32}")
    body = error_of(reply, 404, "bad_identifier")
    assert body["auth_token"] == api.token


# ---- the error catalogue ---------------------------------------------------------------------


def test_unknown_account_id(api: Api) -> None:
    error_of(
        api.call("GET", f"/accounts/{UNKNOWN_ACCOUNT}/devices"),
        404,
        "bad_identifier",
        {"cause": UNKNOWN_ACCOUNT, "message": "bad identifier"},
    )


@pytest.mark.parametrize(
    "account", ["x", "3298aa8a7018c518219080e1cefc121", "3298aa8a7018c518219080e1cefc12145"]
)
def test_malformed_account_id(api: Api, account: str) -> None:
    error_of(
        api.call("GET", f"/accounts/{account}/devices"),
        404,
        "bad identifier",
        {"message": f"invalid account_id '{account}'"},
    )


def test_unknown_device_and_user(api: Api) -> None:
    for path in (f"devices/{'e' * 32}", f"users/{'e' * 32}", f"users/{'e' * 32}/devices"):
        error_of(
            api.call("GET", f"{api.account}/{path}"),
            404,
            "bad_identifier",
            {"cause": "e" * 32, "message": "bad identifier"},
        )


def test_user_of_another_account_is_unknown(api: Api, master_api: Api) -> None:
    globex_user = master_api.ok("GET", f"/accounts/{GLOBEX}/users")["data"][0]["id"]
    error_of(api.call("GET", f"{api.account}/users/{globex_user}"), 404, "bad_identifier")


@pytest.mark.parametrize("path", ["devices/{device}/bogus", "bogus", "devices/{device}/sync/x"])
def test_unknown_path_is_not_found(api: Api, device_id: str, path: str) -> None:
    url = f"{api.account}/{path.format(device=device_id)}"
    error_of(api.call("GET", url), 404, "not_found", {"message": "not found"})
    error_of(api.call("GET", url, token=None), 404, "not_found")


def test_unknown_top_level_noun_and_version(api: Api) -> None:
    error_of(api.call("GET", "/bogus", token=None), 404, "not_found")
    error_of(api.call("GET", "/%0A", token=None), 404, "not_found")  # a newline in a segment
    reply = api.http.get(api.server.api.replace("/v2", "/v9") + "/schemas")
    error_of(reply, 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "devices"),
        ("GET", "devices/{device}/sync"),
        ("POST", "devices/status"),
        ("PATCH", "users"),
        ("PUT", "registrations/count"),
    ],
)
def test_method_not_allowed(api: Api, device_id: str, method: str, path: str) -> None:
    url = f"{api.account}/{path.format(device=device_id)}"
    error_of(api.call(method, url), 405, "invalid_method", {"message": "method not allowed"})


def test_405_and_unknown_account_come_before_401(api: Api) -> None:
    error_of(api.call("DELETE", f"{api.account}/devices", token=None), 405, "invalid_method")
    unknown = f"/accounts/{UNKNOWN_ACCOUNT}/devices"
    error_of(api.call("GET", unknown, token=None), 404, "bad_identifier")
    error_of(api.call("DELETE", unknown, token=None), 405, "invalid_method")
    error_of(api.call("GET", f"/accounts/{UNKNOWN_ACCOUNT}/bogus", token=None), 404, "not_found")


def test_unknown_device_only_after_auth(api: Api) -> None:
    url = f"{api.account}/devices/{'e' * 32}"
    error_of(api.call("GET", url, token=None), 401, "invalid_credentials")
    error_of(api.call("GET", f"/accounts/{GLOBEX}/devices/{'e' * 32}"), 403, "forbidden")
    error_of(api.call("GET", url), 404, "bad_identifier")


def test_body_errors_come_first(api: Api) -> None:
    reply = api.http.request("DELETE", f"{api.account}/devices", content=b"{oops")
    error_of(reply, 400, "validation error")


def test_datastore_conflict_on_an_existing_id(api: Api) -> None:
    user_id = api.ok("GET", f"{api.account}/users")["data"][0]["id"]
    reply = api.call(
        "PUT", f"{api.account}/users", {"id": user_id, "first_name": "A", "last_name": "B"}
    )
    error_of(reply, 409, "datastore_conflict", {"message": "conflicting documents"})


def test_if_match_mismatch_is_412_with_empty_body(api: Api) -> None:
    reply = api.call(
        "GET", api.account, headers={"If-Match": '"1-00000000000000000000000000000000"'}
    )
    assert reply.status_code == 412
    assert reply.content == b""
    assert "x-request-id" in reply.headers
    revision = api.ok("GET", api.account)["revision"]
    assert api.call("GET", api.account, headers={"If-Match": f'"{revision}"'}).status_code == 200


def test_if_match_on_put_is_412_after_validation(fresh: Api) -> None:
    """cowboy checks If-Match on a PUT (any value) after Crossbar's validation (§1, §7)."""
    users = f"{fresh.account}/users"
    invalid = fresh.call("PUT", users, {}, headers={"If-Match": "*"})
    error_of(invalid, 400, "validation error")
    before = fresh.ok("GET", users)["data"]
    user = {"first_name": "If", "last_name": "Match", "username": "if.match"}
    for tag in ("*", '"1-00000000000000000000000000000000"'):
        reply = fresh.call("PUT", users, user, headers={"If-Match": tag})
        assert reply.status_code == 412
        assert reply.content == b""
    account = fresh.call("PUT", fresh.account, {"name": "If Match Co"}, headers={"If-Match": "*"})
    assert account.status_code == 412
    assert fresh.ok("GET", users)["data"] == before
    assert fresh.ok("GET", f"{fresh.account}/children")["data"] == []
    assert fresh.call("PUT", users, user).status_code == 201


def test_text_plain_is_415_after_auth(api: Api) -> None:
    url = f"{api.account}/users"
    headers = {"Content-Type": "text/plain", "X-Auth-Token": api.token or ""}
    for method in ("PUT", "POST", "PATCH"):
        target = url if method == "PUT" else f"{api.account}"
        reply = api.http.request(method, target, content=b'{"data":{}}', headers=headers)
        assert reply.status_code == 415, method
        assert reply.content == b""
        assert reply.headers["x-request-id"]
    reply = api.http.put(url, content=b'{"data":{}}', headers={"Content-Type": "text/plain"})
    error_of(reply, 401, "invalid_credentials")


def test_get_with_text_plain_is_fine(api: Api) -> None:
    reply = api.call("GET", api.account, headers={"Content-Type": "text/plain"})
    assert reply.status_code == 200


@pytest.mark.parametrize(
    "content_type", [None, "application/json; charset=utf-8", "application/x-json"]
)
def test_json_content_types(api: Api, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    reply = api.http.put("/user_auth", content=b'{"data":{}}', headers=headers)
    error_of(reply, 400, "validation error")
    assert "credentials" in reply.json()["data"]


def test_schema_validation_error(api: Api) -> None:
    reply = api.call("PUT", f"{api.account}/users", {"first_name": ""})
    error_of(
        reply,
        400,
        "validation error",
        {
            "first_name": {
                "minLength": {
                    "message": "String must be at least 1 characters",
                    "target": 1,
                    "cause": "",
                    "value": "",
                }
            },
            "last_name": {
                "required": {"message": "Field is required but missing", "value": "last_name"}
            },
        },
    )


def test_device_action_required_and_invalid(api: Api, device_id: str) -> None:
    url = f"{api.account}/devices/{device_id}"
    error_of(api.call("PUT", url, {}), 400, "action required", {})
    error_of(api.call("PUT", url, {"action": "reboot-now"}), 400, "invalid action", {})


def test_invalid_json(api: Api) -> None:
    reply = api.http.put("/user_auth", content=b'{"data": {"credentials": }')
    body = error_of(reply, 400, "validation error")
    invalid = body["data"]["json"]["invalid"]
    assert set(body["data"]) == {"json"}
    assert invalid["target"] == "body"
    assert re.match(r"^.+ around \d+$", invalid["message"]), invalid["message"]
    assert body["auth_token"] == "undefined"


@pytest.mark.parametrize("envelope", [{"name": "x"}, {}, {"data": None, "verb": "PUT"}])
def test_body_without_data(api: Api, envelope: dict[str, Any]) -> None:
    expected = {k: v for k, v in envelope.items() if v is not None}
    reply = api.call("PUT", f"{api.account}/users", envelope=envelope)
    error_of(
        reply,
        400,
        "validation error",
        {"data": {"required": {"message": "Field is required but missing", "value": expected}}},
    )


def test_body_without_data_shows_the_normalized_envelope(api: Api) -> None:
    reply = api.call("PUT", f"{api.account}/users", envelope={"Name": "x"})
    value = error_of(reply, 400, "validation error")["data"]["data"]["required"]["value"]
    assert value == {"name": "x"}


@pytest.mark.parametrize("data", ["text", 5, True])
def test_data_of_the_wrong_type(api: Api, data: Any) -> None:
    reply = api.call("PUT", f"{api.account}/users", envelope={"data": data})
    error_of(
        reply,
        400,
        "validation error",
        {
            "data": {
                "type": {
                    "message": "Value did not match type(s): object, array",
                    "target": "object, array",
                    "value": data,
                }
            }
        },
    )


def _too_large(reply: httpx.Response) -> None:
    body = error_of(reply, 400, "validation error")
    assert set(body["data"]) == {"file"}
    assert body["data"]["file"]["maxSize"]["target"] == 8_000_000
    assert "8000000" in body["data"]["file"]["maxSize"]["message"]


def test_body_over_the_upload_limit(api: Api) -> None:
    big = b'{"data":{"x":"' + b"a" * 8_000_000 + b'"}}'
    _too_large(api.http.put("/user_auth", content=big))

    def chunks() -> Iterator[bytes]:  # no content-length: the limit is found while reading
        yield big[:4_000_000]
        yield big[4_000_000:]

    _too_large(api.http.put("/user_auth", content=chunks()))


def test_body_just_under_the_limit_is_read(api: Api) -> None:
    envelope = b'{"data":{"credentials":"x"},"pad":"'
    body = envelope + b"a" * (8_000_000 - len(envelope) - 2) + b'"}'
    assert len(body) == 8_000_000
    reply = api.http.put("/user_auth", content=body)
    error_of(reply, 401, "invalid_credentials")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,  # deeper than any decoder goes
        b'{"data":{"name":"x","deep":' + b"[" * 500 + b"]" * 500 + b"}}",
        b'{"data":{"name":"x","sip":{"expire_seconds":NaN}}}',
        b'{"data":{"name":"x","sip":{"expire_seconds":1e999}}}',
        b'{"data":{"name":"x","sip":{"username":"\\ud800ab"}}}',  # a lone surrogate
    ],
)
def test_json_no_kazoo_could_read_is_invalid(api: Api, body: bytes) -> None:
    headers = {"X-Auth-Token": api.token or ""}
    reply = api.http.put(f"{api.account}/devices", content=body, headers=headers)
    data = error_of(reply, 400, "validation error")["data"]
    assert data == {"json": {"invalid": {"message": "All JSON must be valid", "target": "body"}}}


def test_numbers_too_long_for_an_integer_are_not_integers(api: Api) -> None:
    body = api.ok("GET", f"{api.account}/devices", params={"page_size": "9" * 5000})
    assert body["page_size"] == min(50, len(body["data"]))


def test_empty_body_is_fine(api: Api) -> None:
    reply = api.http.put("/user_auth", content=b"", headers={"Content-Type": "application/json"})
    error_of(reply, 400, "validation error")
    assert set(reply.json()["data"]) == {"credentials"}
    whitespace = api.http.request(
        "GET", api.account, content=b"  \n", headers={"X-Auth-Token": api.token or ""}
    )
    assert whitespace.status_code == 200


# ---- CORS ------------------------------------------------------------------------------------


def test_preflight_needs_no_token(api: Api, device_id: str) -> None:
    headers = {"Origin": "http://app.test", "Access-Control-Request-Method": "PUT"}
    reply = api.call("OPTIONS", f"{api.account}/devices", token=None, headers=headers)
    assert reply.status_code == 200
    assert reply.content == b""
    assert_cors(reply, {"GET", "PUT"})
    one = api.call("OPTIONS", f"{api.account}/devices/{device_id}", token=None)
    assert_cors(one, {"GET", "POST", "PATCH", "PUT", "DELETE"})
    assert one.headers["x-request-id"]


def test_cors_headers_on_every_error(api: Api, device_id: str) -> None:
    cases = [
        (api.call("GET", f"{api.account}/devices", token=None), {"GET", "PUT"}),
        (api.call("DELETE", f"{api.account}/devices"), {"GET", "PUT"}),
        (
            api.call("GET", f"{api.account}/devices/{'e' * 32}"),
            {"GET", "POST", "PATCH", "PUT", "DELETE"},
        ),
        (api.call("GET", f"/accounts/{GLOBEX}/users"), {"GET", "PUT"}),
        (api.call("POST", f"{api.account}/devices/{device_id}/sync", token=None), {"POST"}),
        (api.call("GET", f"{api.account}/bogus"), set()),
        (api.http.put("/user_auth", content=b"{"), set()),
    ]
    for reply, allowed in cases:
        assert reply.status_code >= 400
        assert_cors(reply, allowed)


def test_cors_headers_on_empty_error_bodies(api: Api) -> None:
    reply = api.call("GET", api.account, headers={"If-Match": '"nope"'})
    assert reply.status_code == 412
    assert_cors(reply, {"GET", "PUT", "POST", "PATCH", "DELETE"})


def test_cors_headers_on_success_only_with_origin(api: Api) -> None:
    plain = api.call("GET", f"{api.account}/users")
    assert "access-control-allow-origin" not in plain.headers
    cors = api.call("GET", f"{api.account}/users", headers={"Origin": "http://app.test"})
    assert cors.status_code == 200
    assert_cors(cors, {"GET", "PUT"})


# ---- request forms ---------------------------------------------------------------------------


def test_verb_tunnelling_on_post(fresh: Api) -> None:
    before = fresh.ok("GET", fresh.account)["data"]
    patched = fresh.ok(
        "POST", fresh.account, {"timezone": "Europe/Paris"}, params={"verb": "patch"}
    )
    assert patched["data"]["timezone"] == "Europe/Paris"
    assert patched["data"]["name"] == before["name"]  # a PATCH, not a replace
    envelope = {"data": {"timezone": "Asia/Tokyo"}, "verb": "PATCH"}
    via_envelope = fresh.ok("POST", fresh.account, envelope=envelope)
    assert via_envelope["data"]["timezone"] == "Asia/Tokyo"
    upper = fresh.ok(
        "POST", fresh.account, envelope={"data": {"language": "fr-fr"}, "VERB": "PATCH"}
    )
    assert upper["data"]["language"] == "fr-fr"
    # a plain POST replaces, so the name is required
    error_of(fresh.call("POST", fresh.account, {"timezone": "UTC"}), 400, "validation error")


def test_verb_tunnelling_reaches_method_checks(api: Api) -> None:
    reply = api.call("POST", f"{api.account}/devices", {}, params={"verb": "DELETE"})
    error_of(reply, 405, "invalid_method")


def test_verb_only_tunnels_a_post(api: Api) -> None:
    reply = api.call("GET", f"{api.account}/devices", params={"verb": "DELETE"})
    assert reply.status_code == 200


def test_envelope_keys_are_lower_cased_not_data_keys(api: Api) -> None:
    ready = api.server.ready
    md5 = md5_credentials(ready["username"], ready["password"])
    reply = api.call(
        "PUT",
        "/user_auth",
        envelope={"DATA": {"credentials": md5, "account_name": ready["account_name"]}},
        token=None,
    )
    assert reply.status_code == 201, reply.text
    upper_inside = api.call(
        "PUT",
        "/user_auth",
        envelope={"data": {"CREDENTIALS": md5, "account_name": ready["account_name"]}},
        token=None,
    )
    error_of(upper_inside, 400, "validation error")


def test_auth_token_from_query_string(api: Api) -> None:
    reply = api.call("GET", api.account, token=None, params={"auth_token": api.token})
    assert reply.status_code == 200
    assert reply.json()["auth_token"] == api.token


@pytest.mark.parametrize("where", ["envelope", "Auth-Token", "data"])
def test_auth_token_from_the_body(api: Api, where: str) -> None:
    data: dict[str, Any] = {"first_name": ""}
    envelope: dict[str, Any] = {"data": data}
    if where == "data":
        data["auth_token"] = api.token
    else:
        envelope["auth_token" if where == "envelope" else where] = api.token
    reply = api.call("PUT", f"{api.account}/users", envelope=envelope, token=None)
    body = error_of(reply, 400, "validation error")  # authenticated: the data was checked
    assert body["auth_token"] == api.token


def test_header_token_wins_over_query(api: Api) -> None:
    reply = api.call("GET", api.account, token="garbage", params={"auth_token": api.token})
    error_of(reply, 401, "invalid_credentials")
    assert reply.json()["auth_token"] == "garbage"


def test_account_alias(api: Api) -> None:
    body = api.ok("GET", "/account")
    assert body["data"]["id"] == api.server.ready["account_id"]
    users = api.ok("GET", "/account/users")
    assert users["data"] == api.ok("GET", f"{api.account}/users")["data"]


def test_account_alias_without_a_valid_token(api: Api) -> None:
    for token in (None, "garbage"):
        reply = api.call("GET", "/account/users", token=token)
        error_of(reply, 401, "invalid credentials", {})


def test_pretty_print(api: Api) -> None:
    compact = api.call("GET", api.account)
    assert "\n" not in compact.text
    for kwargs in ({"headers": {"X-Pretty-Print": "true"}}, {"params": {"pretty_print": "true"}}):
        reply = api.call("GET", api.account, **kwargs)  # type: ignore[arg-type]
        assert reply.status_code == 200
        assert "\n  " in reply.text
        assert reply.json()["data"] == compact.json()["data"]


def test_pretty_print_from_the_envelope_also_on_errors(api: Api) -> None:
    envelope = {"data": {"credentials": "x", "account_name": "nobody"}, "pretty_print": True}
    reply = api.call("PUT", "/user_auth", envelope=envelope, token=None)
    error_of(reply, 401, "invalid_credentials")
    assert "\n  " in reply.text


def test_a_bearer_token_is_echoed_but_not_accepted(api: Api) -> None:
    """`Authorization` is the last token source; only `X-Auth-Token`-type tokens are checked."""
    headers = {"Authorization": f"Bearer {api.token}"}
    reply = api.call("GET", api.account, token=None, headers=headers)
    assert error_of(reply, 401, "invalid_credentials")["auth_token"] == api.token


def test_jsonp(api: Api) -> None:
    reply = api.call("GET", api.account, params={"jsonp": "handle"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/javascript")
    prefix = "/**/ typeof handle === 'function' && handle("
    assert reply.text.startswith(prefix)
    assert reply.text.endswith(");")
    inner = json.loads(reply.text[len(prefix) : -2])
    assert inner["data"]["id"] == api.server.ready["account_id"]


# ---- v1 ----------------------------------------------------------------------------------------


def test_v1_lists_never_paginate(api: Api) -> None:
    with v1(api) as client:
        headers = {"X-Auth-Token": api.token or ""}
        for noun in ("users", "devices", "descendants", "children"):
            body = client.get(f"{api.account}/{noun}", headers=headers).json()
            assert body["status"] == "success", noun
            assert not {"page_size", "start_key", "next_start_key"} & set(body), noun
        devices = client.get(f"{api.account}/devices", params={"page_size": "1"}, headers=headers)
        assert len(devices.json()["data"]) > 1  # no paging at all on v1
    assert "page_size" in api.ok("GET", f"{api.account}/users")


def test_v1_system_errors_carry_the_message_string(api: Api) -> None:
    with v1(api) as client:
        missing = client.get(
            f"{api.account}/users/{'e' * 32}", headers={"X-Auth-Token": api.token or ""}
        )
        error_of(missing, 404, "bad_identifier", "bad identifier")
        error_of(
            client.get(f"{api.account}/users"), 401, "invalid_credentials", "invalid credentials"
        )
        error_of(
            client.delete(f"{api.account}/devices"), 405, "invalid_method", "method not allowed"
        )
        error_of(client.get("/accounts/x/users"), 404, "bad identifier", "invalid account_id 'x'")


def test_v1_validation_errors_keep_the_object_format(api: Api) -> None:
    with v1(api) as client:
        reply = client.put(
            f"{api.account}/users",
            json={"data": {"first_name": "A"}},
            headers={"X-Auth-Token": api.token or ""},
        )
    error_of(
        reply,
        400,
        "validation error",
        {
            "last_name": {
                "required": {"message": "Field is required but missing", "value": "last_name"}
            }
        },
    )
