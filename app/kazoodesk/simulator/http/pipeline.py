"""Crossbar's request pipeline: the checks run in Kazoo's order, so the same error wins.

body/envelope (400) -> route and method (404/405) -> account in URL (404) -> token (401)
-> account access (403) -> content type (415) -> the resource's handler (validation, If-Match,
execution) -> If-None-Match (304).
"""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kazoodesk.schema.validate import type_error
from kazoodesk.simulator.docs import normalize_key
from kazoodesk.simulator.http.envelope import (
    CORS_HEADERS,
    Call,
    KazooError,
    Reply,
    bad_identifier,
    dumps,
    error_envelope,
    forbidden,
    invalid_credentials,
    invalid_method,
    not_found,
    success_text,
    system_error,
    validation_error,
)
from kazoodesk.simulator.store import StoreError

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 8_000_000
# curl's `-d` sends a form content type; Crossbar still reads such a body as JSON.
JSON_TYPES = {
    "application/json",
    "application/x-json",
    "text/json",
    "application/x-www-form-urlencoded",
}
VERSIONS = {"v1", "v2"}
# Deeper JSON would exhaust Python's recursion in validation and merging; no Kazoo document
# comes near it.
MAX_JSON_DEPTH = 100
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

Handler = Callable[[Call, "Simulator"], Awaitable[Reply]]


@dataclass(frozen=True)
class Route:
    """A path shape (`{name}` captures a segment) and its handler per HTTP method."""

    pattern: tuple[str, ...]
    handlers: dict[str, Handler]
    under_account: bool = True
    public: Sequence[str] = ()  # methods that need no token

    @property
    def allowed_methods(self) -> str:
        return ", ".join(["OPTIONS", *self.handlers])

    def match(self, tokens: list[str]) -> dict[str, str] | None:
        if len(tokens) != len(self.pattern):
            return None
        params = {}
        for want, got in zip(self.pattern, tokens, strict=True):
            if want.startswith("{"):
                params[want[1:-1]] = got
            elif want != got:
                return None
        return params


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def find(self, under_account: bool, tokens: list[str]) -> tuple[Route, dict[str, str]]:
        for route in self.routes:
            if route.under_account != under_account:
                continue
            params = route.match(tokens)
            if params is not None:
                return route, params
        raise not_found()


def _is_not_json(request: web.Request) -> bool:
    """A content type that is not JSON; none at all counts as JSON."""
    return bool(request.headers.get("Content-Type")) and request.content_type not in JSON_TYPES


def _normalize_keys(envelope: dict[str, Any]) -> dict[str, Any]:
    """`api_util:normalize_envelope_keys/1`: lower-case, `-` to `_`, null values dropped."""
    return {normalize_key(str(k)): v for k, v in envelope.items() if v is not None}


async def read_envelope(request: web.Request) -> dict[str, Any]:
    """The request body as a Crossbar envelope; 400 for bad JSON, no `data`, or too large."""
    if request.content_length and request.content_length > MAX_UPLOAD_BYTES:
        raise _too_large()
    if _is_not_json(request):
        return {}
    raw = await _read_body(request)
    if not raw.strip():
        return {}
    envelope = _decode(raw)
    if isinstance(envelope, dict):
        envelope = _normalize_keys(envelope)
    if not isinstance(envelope, dict) or "data" not in envelope:
        raise validation_error(
            {"data": {"required": {"message": "Field is required but missing", "value": envelope}}}
        )
    if not isinstance(envelope["data"], dict | list):
        raise validation_error(
            {"data": {"type": type_error(["object", "array"], envelope["data"])}}
        )
    return envelope


def _decode(raw: bytes) -> Any:
    """JSON as Kazoo's decoder reads it: no NaN or infinite numbers, no lone surrogates."""
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, UnicodeDecodeError) as exc:
        position = getattr(exc, "pos", 0)
        message = f"{getattr(exc, 'msg', str(exc))} around {position}"
        raise _invalid_json(message) from exc
    except (RecursionError, _Unreadable) as exc:
        raise _invalid_json("All JSON must be valid") from exc
    if not _is_readable(value):
        raise _invalid_json("All JSON must be valid")
    return value


class _Unreadable(Exception):
    """A value Python's decoder takes but Kazoo's does not."""


def _no_constant(name: str) -> Any:
    raise _Unreadable(name)


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _Unreadable(text)
    return number


def _is_readable(value: Any) -> bool:
    """At most MAX_JSON_DEPTH deep, and no string holding a lone surrogate (`"\\ud800"`)."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _LONE_SURROGATE.search(node):
                return False
        elif isinstance(node, dict | list):
            if depth == MAX_JSON_DEPTH:
                return False
            items = [*node, *node.values()] if isinstance(node, dict) else node
            stack.extend((item, depth + 1) for item in items)
    return True


def _invalid_json(message: str) -> KazooError:
    return validation_error({"json": {"invalid": {"message": message, "target": "body"}}})


async def _read_body(request: web.Request) -> bytes:
    """The whole body (`StreamReader.read(n)` stops at what is buffered); 400 past the limit."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> KazooError:
    return validation_error(
        {
            "file": {
                "maxSize": {
                    "message": f"Payload or Files must not be more than {MAX_UPLOAD_BYTES} bytes",
                    "target": MAX_UPLOAD_BYTES,
                }
            }
        }
    )


def _new_call(request: web.Request, envelope: dict[str, Any], request_id: str) -> Call:
    version = request.match_info.get("version", "v2")
    call = Call(request, version, request.method.upper(), envelope, request.query, request_id)
    call.token, call.token_type = _token(call)
    call.method = _tunnelled_method(call)
    return call


def _token(call: Call) -> tuple[str | None, str]:
    """`api_util:get_auth_token/2`: `X-Auth-Token`, then `auth_token` in the request, then
    `Authorization` (its Basic and Bearer tokens belong to modules the simulator lacks)."""
    token = call.request.headers.get("X-Auth-Token") or call.text("auth_token")
    if token:
        return token, "x-auth-token"
    authorization = call.request.headers.get("Authorization")
    if not authorization:
        return None, "x-auth-token"
    for prefix, kind in (("Basic ", "basic"), ("Bearer ", "oauth")):
        if authorization.startswith(prefix):
            return authorization.removeprefix(prefix), kind
    return authorization, "unknown"


def _tunnelled_method(call: Call) -> str:
    if call.method != "POST":
        return call.method
    verb = (call.text("verb") or "").upper()
    return verb if verb in {"PUT", "DELETE", "PATCH"} else call.method


class Pipeline:
    def __init__(self, sim: Simulator, router: Router) -> None:
        self.sim = sim
        self.router = router

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        call: Call | None = None
        try:
            call = _new_call(request, await read_envelope(request), request_id)
            route = self._prepare(call)
            if call.method == "OPTIONS":
                return self._options_reply(call)
            reply = await route.handlers[call.method](call, self.sim)
            return self._success(call, reply)
        except KazooError as error:
            failure = error
        except StoreError as error:
            log.error("datastore failure on %s %s: %s", request.method, request.path, error)
            failure = system_error(503, "datastore_unreachable", "datastore unreachable")
        return self._error(failure, call or _new_call(request, {}, request_id))

    def _prepare(self, call: Call) -> Route:
        if call.version not in VERSIONS:
            raise not_found()
        account_segment, rest = self._path(call)
        route, call.params = self.router.find(account_segment is not None, rest)
        call.allowed_methods = route.allowed_methods
        if call.method != "OPTIONS" and call.method not in route.handlers:
            raise invalid_method()
        if account_segment is not None:
            call.account_id = self._known_account(account_segment)
        if call.method == "OPTIONS":
            return route
        if call.method not in route.public:
            self._authorize(call)
        if call.method in {"PUT", "POST", "PATCH"} and _is_not_json(call.request):
            raise KazooError(415)
        return route

    def _path(self, call: Call) -> tuple[str | None, list[str]]:
        """The account id segment (None off `/accounts`) and the path after it."""
        tokens = [t for t in call.request.match_info.get("path", "").split("/") if t]
        if tokens[:1] == ["account"]:
            # `/account/...` is `/accounts/{the token's account}/...`; 401 without a valid token
            # (`api_util:parse_path_tokens/3` answers `crossbar_util:response_401/1`)
            account_id = self._claims(call).get("account_id")
            if not account_id:
                raise KazooError(401, "invalid credentials", {})
            tokens = ["accounts", account_id, *tokens[1:]]
        if tokens[:1] == ["accounts"] and len(tokens) > 1:
            return tokens[1], tokens[2:]
        return None, tokens

    def _authorize(self, call: Call) -> None:
        """401 without a valid token, 403 when the token's account may not reach the URL's."""
        claims = self._claims(call)
        if not claims:
            raise invalid_credentials()
        call.auth_account_id = claims["account_id"]
        call.auth_owner_id = claims.get("owner_id")
        if call.account_id and not self.sim.accounts.may_access(
            call.auth_account_id, call.account_id
        ):
            raise forbidden()

    def _claims(self, call: Call) -> dict[str, Any]:
        if not call.token or call.token_type != "x-auth-token":
            return {}
        return self.sim.tokens.verify(call.token) or {}

    def _known_account(self, account_id: str) -> str:
        if len(account_id) != 32:
            raise KazooError(
                404, "bad identifier", {"message": f"invalid account_id '{account_id}'"}, True
            )
        if self.sim.accounts.get(account_id) is None:
            raise bad_identifier(account_id)
        return account_id

    def _options_reply(self, call: Call) -> web.Response:
        headers = {**_cors_headers(call), "X-Request-ID": call.request_id}
        return web.Response(status=200, headers=headers)

    def _success(self, call: Call, reply: Reply) -> web.Response:
        text, revision = success_text(call, reply, _pretty(call))
        headers = {"X-Request-ID": call.request_id, **reply.headers}
        if _is_cors(call.request):
            headers.update(_cors_headers(call))
        if call.method == "GET":
            headers["Expires"] = "Fri, 01 Jan 1999 00:00:00 GMT"
            if revision:
                headers["ETag"] = f'"{revision}"'
                if _none_match(call.request, revision):
                    return web.Response(status=304, headers=headers)
        # cowboy answers 201 to every PUT that succeeds: its target never "exists" (§3.3)
        return _json_response(call, text, 201 if call.method == "PUT" else 200, headers)

    def _error(self, error: KazooError, call: Call) -> web.Response:
        headers = {"X-Request-ID": call.request_id, **_cors_headers(call)}
        if error.status in {304, 412, 415}:
            return web.Response(status=error.status, headers=headers)
        text = dumps(error_envelope(call, error), _pretty(call))
        return _json_response(call, text, error.status, headers)


def _cors_headers(call: Call) -> dict[str, str]:
    """`api_util:add_cors_headers/2`, with the methods of the matched route."""
    return {**CORS_HEADERS, "Access-Control-Allow-Methods": call.allowed_methods}


def _is_cors(request: web.Request) -> bool:
    return "Origin" in request.headers or any(
        h.lower().startswith("access-control-request-") for h in request.headers
    )


def _none_match(request: web.Request, revision: str) -> bool:
    wanted = request.headers.get("If-None-Match")
    if not wanted:
        return False
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in wanted.split(",")]
    return revision in tags or "*" in tags


def _pretty(call: Call) -> bool:
    header = call.request.headers.get("X-Pretty-Print", "").lower() == "true"
    return header or call.flag("pretty_print", False)


def _json_response(call: Call, text: str, status: int, headers: dict[str, str]) -> web.Response:
    jsonp = call.text("jsonp")
    if jsonp:
        return web.Response(
            status=status, text=f"/**/ typeof {jsonp} === 'function' && {jsonp}({text});",
            content_type="application/javascript", headers=headers,
        )  # fmt: skip
    return web.Response(status=status, text=text, content_type="application/json", headers=headers)
