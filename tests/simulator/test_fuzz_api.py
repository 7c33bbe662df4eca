"""Robustness over real HTTP: whatever the method, path, query string, headers, content type
and body, the simulator answers with a well-formed Kazoo envelope (or one of the documented
empty bodies) and never with a 5xx but the documented ones (kazoo-api.md §1-§5)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import DEMO, GLOBEX, Api, Server, own_server

# the 5xx Kazoo documents: quickcall (POST, or no endpoint), deleting an account with
# children, and a store that fails
DOCUMENTED_5XX = {
    (500, "quickcall initiation failed"),
    (500, "unspecified_fault"),
    (500, "account_has_descendants"),
    (503, "datastore_unreachable"),
}
EMPTY_BODY_STATUSES = {304, 412, 415}
ENVELOPE_KEYS = {"status", "request_id", "node", "version", "timestamp", "data"}
JSONP = re.compile(r"/\*\*/ typeof (.*) === 'function' && \1\((.*)\);", re.DOTALL)

# methods the HTTP parser knows (it refuses others before the application sees them)
METHODS = ["GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "HEAD", "PROPFIND"]
# every route with its methods, `{...}` filled in by `requests`
ROUTES = [
    ("GET", "schemas"),
    ("GET", "schemas/{any}"),
    ("PUT", "user_auth"),
    ("PUT", "api_auth"),
    ("PUT", "accounts"),
    ("GET", "registrations/count"),
    ("GET PUT POST PATCH DELETE", "accounts/{account}"),
    ("GET", "accounts/{account}/children"),
    ("GET", "accounts/{account}/descendants"),
    ("GET PUT", "accounts/{account}/users"),
    ("GET POST PATCH DELETE", "accounts/{account}/users/{user}"),
    ("GET PUT", "accounts/{account}/users/{user}/devices"),
    ("GET PUT", "accounts/{account}/devices"),
    ("GET", "accounts/{account}/devices/status"),
    ("GET PUT POST PATCH DELETE", "accounts/{account}/devices/{device}"),
    ("POST", "accounts/{account}/devices/{device}/sync"),
    ("PUT POST", "accounts/{account}/devices/{device}/notify"),
    ("GET POST", "accounts/{account}/devices/{device}/quickcall/{any}"),
    ("GET DELETE", "accounts/{account}/registrations"),
    ("GET", "accounts/{account}/registrations/count"),
    ("DELETE", "accounts/{account}/registrations/{any}"),
    ("GET PUT", "account/devices"),
]
QUERY_KEYS = [
    "page_size",
    "start_key",
    "paginate",
    "filter_name",
    "filter_not_sip.username",
    "has_key",
    "value_missing",
    "created_from",
    "verb",
    "auth_token",
    "should_soft_delete",
    "reboot",
    "pretty_print",
    "jsonp",
    "number_filter",
    "timeout",
    "cid-name",
    "action",
    "internals",
]
HEADERS = [
    "X-Auth-Token",
    "X-Request-ID",
    "If-Match",
    "If-None-Match",
    "Origin",
    "Access-Control-Request-Method",
    "X-Pretty-Print",
    "Authorization",
]
CONTENT_TYPES = [
    None,
    None,
    None,
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "text/plain",
    "multipart/form-data; boundary=x",
]


def mostly(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` four times in five, else `other`."""
    return st.integers(0, 4).flatmap(lambda i: usual if i else other)


header_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
# devices, users and accounts with fields of every type, so that the rules run
device_like = st.fixed_dictionaries(
    {"name": mostly(st.text(min_size=1, max_size=12), json_values)},
    optional={
        "id": st.sampled_from(["status", "0" * 32]) | st.text(max_size=8),
        "sip": st.fixed_dictionaries(
            {},
            optional={
                k: json_values | st.sampled_from(["ip", "password", "10.1.2.3"])
                for k in ("username", "password", "method", "ip", "realm")
            },
        ),
        "mac_address": json_values,
        "device_type": st.sampled_from(["mobile", "sip_device"]) | json_values,
        "mobile": st.fixed_dictionaries({}, optional={"mdn": json_values}),
        "owner_id": json_values,
        "hotdesk": json_values,
        "enabled": json_values,
        "first_name": json_values,
        "last_name": json_values,
        "credentials": json_values,
        "api_key": json_values,
        "data": json_values,
    },
)
envelopes = st.fixed_dictionaries(
    {"data": mostly(device_like, json_values)},
    optional={"verb": st.sampled_from(["PUT", "PATCH", "DELETE", "GET"]), "action": json_values},
)
bodies = mostly(
    envelopes.map(lambda e: json.dumps(e).encode()),
    st.none() | st.binary(max_size=120) | json_values.map(lambda v: json.dumps(v).encode()),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo server of the module's own: the requests write to it."""
    with own_server(tmp_path_factory, "fuzz-store") as server:
        yield server


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[Api]:
    with Api.logged_in(server) as api:
        yield api


@st.composite
def requests(draw: st.DrawFn, token: str, ids: dict[str, list[str]]) -> dict[str, Any]:
    """A request to one of the routes (or past it), its parts arbitrary or real."""
    methods, template = draw(st.sampled_from(ROUTES))
    method = draw(mostly(st.sampled_from(methods.split()), st.sampled_from(METHODS)))
    fill = {k: draw(mostly(st.sampled_from(v), st.text(max_size=12))) for k, v in ids.items()}
    segments = template.format(any=draw(st.text(max_size=12)), **fill)
    extra = draw(mostly(st.just([]), st.lists(st.text(min_size=1, max_size=12), max_size=2)))
    path = "/".join(quote(s, safe="") for s in [*segments.split("/"), *extra])
    if method == "DELETE" and segments == f"accounts/{DEMO}":
        method = "GET"  # keep the demo company, so that later requests reach its devices
    query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), st.text(max_size=16), max_size=3))
    headers = draw(st.dictionaries(st.sampled_from(HEADERS), header_text, max_size=3))
    if draw(st.integers(0, 3)):
        headers["X-Auth-Token"] = token
    content_type = draw(mostly(st.sampled_from(CONTENT_TYPES), header_text))
    if content_type:
        headers["Content-Type"] = content_type
    version = draw(st.sampled_from(["v2", "v2", "v2", "v1", "v9"]))
    return {
        "method": method,
        "url": f"/{version}/{path}?{urlencode(query)}",
        "headers": headers,
        "content": draw(bodies),
    }


def strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def check(method: str, reply: httpx.Response) -> None:
    """The reply is a Kazoo one (see the module docstring)."""
    assert "x-request-id" in reply.headers
    if method == "HEAD":
        assert reply.status_code < 500 and not reply.content
        return
    if reply.status_code in EMPTY_BODY_STATUSES or (method == "OPTIONS" and reply.is_success):
        assert reply.content == b"", reply.text
        return
    text = reply.text
    if reply.headers["content-type"].startswith("application/javascript"):
        found = JSONP.fullmatch(text)
        assert found, text
        text = found.group(2)
    else:
        assert reply.headers["content-type"].startswith("application/json")
    body = strict_json(text)
    assert set(body) >= ENVELOPE_KEYS, body
    if body["status"] == "success":
        assert reply.status_code in (200, 201)
        return
    assert body["status"] == "error" and body["error"] == str(reply.status_code)
    assert isinstance(body["message"], str) and isinstance(body["auth_token"], str)
    if reply.status_code >= 500:
        assert (reply.status_code, body["message"]) in DOCUMENTED_5XX, body


@pytest.fixture(scope="module")
def ids(client: Api) -> dict[str, list[str]]:
    """Real ids to put in paths, by placeholder."""
    devices = client.ok("GET", f"{client.account}/devices")["data"][:3]
    users = client.ok("GET", f"{client.account}/users")["data"][:2]
    return {
        "account": [DEMO, DEMO, DEMO, GLOBEX, "0" * 32],
        "device": [row["id"] for row in devices],
        "user": [row["id"] for row in users],
    }


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_request_gets_a_kazoo_reply(
    client: Api, ids: dict[str, list[str]], data: st.DataObject
) -> None:
    request = data.draw(requests(client.token or "", ids))
    url = client.server.api.removesuffix("/v2") + request.pop("url")
    reply = client.http.request(url=url, **request)
    check(request["method"], reply)
