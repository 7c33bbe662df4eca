"""Crossbar's request pipeline: the checks run in Kazoo's order, so the same error wins.

body/envelope (400) -> route and method (404/405) -> account in URL (404) -> token (401)
-> account access (403) -> content type (415) -> the resource's handler (validation, If-Match,
execution) -> If-None-Match (304).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kazoodesk.simulator.http.envelope import (
    CORS_HEADERS,
    Call,
    KazooError,
    Reply,
    bad_identifier,
    dumps,
    error_body,
    forbidden,
    invalid_credentials,
    invalid_method,
    not_found,
    precondition_failed,
    success_body,
    validation_error,
)

if TYPE_CHECKING:
    from kazoodesk.simulator.service import Simulator

MAX_UPLOAD_BYTES = 8_000_000
# curl's `-d` sends a form content type; Crossbar still reads such a body as JSON.
JSON_TYPES = {
    "application/json",
    "application/x-json",
    "text/json",
    "application/x-www-form-urlencoded",
}
VERSIONS = {"v1", "v2"}

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


def _lower_keys(envelope: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in envelope.items()}


async def read_envelope(request: web.Request) -> dict[str, Any]:
    """The request body as a Crossbar envelope; 400 for bad JSON, no `data`, or too large."""
    if request.content_length and request.content_length > MAX_UPLOAD_BYTES:
        raise _too_large()
    if request.content_type not in JSON_TYPES and request.headers.get("Content-Type"):
        return {}
    raw = await request.content.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise _too_large()
    if not raw.strip():
        return {}
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        position = getattr(exc, "pos", 0)
        message = f"{getattr(exc, 'msg', str(exc))} around {position}"
        raise validation_error(
            {"json": {"invalid": {"message": message, "target": "body"}}}
        ) from exc
    if not isinstance(envelope, dict) or "data" not in envelope:
        raise validation_error(
            {"data": {"required": {"message": "Field is required but missing", "value": envelope}}}
        )
    if not isinstance(envelope["data"], dict | list):
        raise validation_error(
            {
                "data": {
                    "type": {
                        "message": "Value did not match type(s): object,array",
                        "target": "object,array",
                        "value": envelope["data"],
                    }
                }
            }
        )
    return _lower_keys(envelope)


def _too_large() -> KazooError:
    return validation_error(
        {
            "file": {
                "maxSize": {
                    "message": f"File must be smaller than {MAX_UPLOAD_BYTES} bytes",
                    "target": MAX_UPLOAD_BYTES,
                }
            }
        }
    )


def _token(request: web.Request, envelope: dict[str, Any]) -> str | None:
    token = request.headers.get("X-Auth-Token")
    if token:
        return token
    data = envelope.get("data")
    for source in (data if isinstance(data, dict) else {}, request.query, envelope):
        value = source.get("auth_token")
        if isinstance(value, str) and value:
            return value
    return None


def _tunnelled_method(request: web.Request, envelope: dict[str, Any]) -> str:
    method = request.method.upper()
    if method != "POST":
        return method
    verb = envelope.get("verb") or request.query.get("verb")
    if isinstance(verb, str) and verb.upper() in {"PUT", "DELETE", "PATCH"}:
        return verb.upper()
    return method


class Pipeline:
    def __init__(self, sim: Simulator, router: Router) -> None:
        self.sim = sim
        self.router = router

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        version = request.match_info.get("version", "v2")
        envelope: dict[str, Any] = {}
        call: Call | None = None
        try:
            envelope = await read_envelope(request)
            call, route = await self._prepare(request, version, envelope, request_id)
            if call.method == "OPTIONS":
                return self._options_reply(call, route)
            reply = await route.handlers[call.method](call, self.sim)
            return self._success(call, route, reply)
        except KazooError as error:
            token = call.token if call else _token(request, envelope)
            return self._error(error, request_id, token, version)

    async def _prepare(
        self, request: web.Request, version: str, envelope: dict[str, Any], request_id: str
    ) -> tuple[Call, Route]:
        if version not in VERSIONS:
            raise not_found()
        tokens = [t for t in request.match_info.get("path", "").split("/") if t]
        method = _tunnelled_method(request, envelope)
        call = Call(request, version, method, envelope, request.query, request_id)
        call.token = _token(request, envelope)
        under_account = bool(tokens) and tokens[0] in {"accounts", "account"}
        if under_account and tokens[0] == "account":
            # `/account/...` is `/accounts/{the token's account}/...`
            tokens = ["accounts", self._claims(call).get("account_id", ""), *tokens[1:]]
        account_segment: str | None = None
        rest = tokens
        if under_account and len(tokens) > 1:
            account_segment, rest = tokens[1], tokens[2:]
        route, params = self.router.find(account_segment is not None, rest)
        call.params = params
        if method != "OPTIONS" and method not in route.handlers:
            raise invalid_method()
        if account_segment is not None:
            call.account_id = self._known_account(account_segment)
        if method == "OPTIONS":
            return call, route
        if method not in route.public:
            claims = self._claims(call)
            if not claims:
                raise invalid_credentials()
            call.auth_account_id = claims["account_id"]
            call.auth_owner_id = claims.get("owner_id")
            if call.account_id and not self.sim.accounts.may_access(
                call.auth_account_id, call.account_id
            ):
                raise forbidden()
        if method in {"PUT", "POST", "PATCH"}:
            content_type = request.headers.get("Content-Type")
            if content_type and request.content_type not in JSON_TYPES:
                raise KazooError(415)
        if method == "PUT" and "If-Match" in request.headers:
            raise precondition_failed()
        return call, route

    def _claims(self, call: Call) -> dict[str, Any]:
        if not call.token:
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

    def _options_reply(self, call: Call, route: Route) -> web.Response:
        headers = {**CORS_HEADERS, "Access-Control-Allow-Methods": route.allowed_methods}
        headers["X-Request-ID"] = call.request_id
        return web.Response(status=200, headers=headers)

    def _success(self, call: Call, route: Route, reply: Reply) -> web.Response:
        body, revision = success_body(call, reply)
        headers = {"X-Request-ID": call.request_id, **reply.headers}
        if _is_cors(call.request):
            headers.update(CORS_HEADERS)
            headers["Access-Control-Allow-Methods"] = route.allowed_methods
        if call.method == "GET":
            headers["Expires"] = "Fri, 01 Jan 1999 00:00:00 GMT"
            if revision:
                headers["ETag"] = f'"{revision}"'
                if _none_match(call.request, revision):
                    return web.Response(status=304, headers=headers)
        return _json_response(call, body, reply.status, headers)

    def _error(
        self, error: KazooError, request_id: str, token: str | None, version: str
    ) -> web.Response:
        headers = {"X-Request-ID": request_id, **CORS_HEADERS}
        headers["Access-Control-Allow-Methods"] = "OPTIONS"
        if error.status in {304, 412, 415}:
            return web.Response(status=error.status, headers=headers)
        body = error_body(error, request_id, token, version)
        return web.Response(
            status=error.status,
            text=dumps(body),
            content_type="application/json",
            headers=headers,
        )


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


def _json_response(call: Call, body: dict[str, Any], status: int, headers: dict[str, str]):
    pretty = (
        call.request.headers.get("X-Pretty-Print", "").lower() == "true"
        or call.query.get("pretty_print", "").lower() == "true"
    )
    text = dumps(body, pretty)
    jsonp = call.query.get("jsonp")
    if jsonp:
        return web.Response(
            status=status, text=f"/**/ typeof {jsonp} === 'function' && {jsonp}({text});",
            content_type="application/javascript", headers=headers,
        )  # fmt: skip
    return web.Response(status=status, text=text, content_type="application/json", headers=headers)
