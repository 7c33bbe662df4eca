"""Crossbar's response envelope, its error catalogue, and the request/reply values handlers see."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import MultiMapping

KAZOO_VERSION = "4.3.142"
NODE = base64.urlsafe_b64encode(hashlib.md5(f"kazoodesk@{socket.gethostname()}".encode()).digest())
NODE_ID = NODE.decode().rstrip("=")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": (
        "content-type, depth, user-agent, x-http-method-override, x-file-size, x-requested-with,"
        " if-modified-since, x-file-name, cache-control, x-auth-token, x-kazoo-cluster-id, if-match"
    ),
    "Access-Control-Expose-Headers": (
        "content-type, x-auth-token, x-request-id, x-kazoo-cluster-id, location, etag, etag"
    ),
    "Access-Control-Max-Age": "86400",
}


class KazooError(Exception):
    """An error reply: HTTP status, envelope `message` and `data` (None means an empty body)."""

    def __init__(self, status: int, message: str = "", data: Any = None, system: bool = False):
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.data = data
        self.system = system  # a system error: v1 replies carry only its text as `data`


def system_error(status: int, code: str, text: str, **extra: Any) -> KazooError:
    """A Crossbar system error; v1 flattens `data` to the text (done when the reply is built)."""
    return KazooError(status, code, {**extra, "message": text}, system=True)


def invalid_credentials() -> KazooError:
    return system_error(401, "invalid_credentials", "invalid credentials")


def forbidden() -> KazooError:
    return system_error(403, "forbidden", "forbidden")


def bad_identifier(cause: str) -> KazooError:
    return system_error(404, "bad_identifier", "bad identifier", cause=cause)


def not_found() -> KazooError:
    return system_error(404, "not_found", "not found")


def invalid_method() -> KazooError:
    return system_error(405, "invalid_method", "method not allowed")


def datastore_conflict() -> KazooError:
    return system_error(409, "datastore_conflict", "conflicting documents")


def precondition_failed() -> KazooError:
    return KazooError(412)


def validation_error(errors: dict[str, Any]) -> KazooError:
    return KazooError(400, "validation error", errors)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Call:
    """One API request after parsing: what every handler reads."""

    request: web.Request
    version: str
    method: str
    envelope: dict[str, Any]
    query: MultiMapping[str]
    request_id: str
    params: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    auth_account_id: str | None = None
    auth_owner_id: str | None = None
    account_id: str | None = None
    allowed_methods: str = "OPTIONS"  # the matched route's, for the CORS headers

    @property
    def data(self) -> Any:
        return self.envelope.get("data")

    def req_value(self, key: str, default: Any = None) -> Any:
        """Crossbar's `cb_context:req_value/2`: request data, then query string, then envelope."""
        if isinstance(self.data, dict) and key in self.data:
            return self.data[key]
        if key in self.query:
            return self.query[key]
        return self.envelope.get(key, default)

    def flag(self, key: str, default: bool) -> bool:
        value = self.req_value(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() == "true"

    def if_match(self, revision: str | None) -> None:
        """Answer 412 when the client's `If-Match` names another revision than the current one;
        on a PUT any `If-Match` is a 412 (cowboy's `if_match_must_not_exist/2`)."""
        wanted = self.request.headers.get("If-Match")
        if wanted is None:
            return
        if self.method == "PUT":
            raise precondition_failed()
        if wanted.strip() == "*":
            return
        tags = [tag.strip().removeprefix("W/").strip('"') for tag in wanted.split(",")]
        if revision not in tags:
            raise precondition_failed()


@dataclass
class Reply:
    """A successful reply. `revision="auto"` stands for the md5 of the data (list replies);
    `extra` holds the pagination keys (left out on `/v1`)."""

    data: Any
    status: int = 200
    revision: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def dumps(value: Any, pretty: bool = False) -> str:
    if pretty:
        return json.dumps(value, indent=2, sort_keys=True)
    return json.dumps(value, separators=(",", ":"))


def success_body(call: Call, reply: Reply) -> tuple[dict[str, Any], str | None]:
    """The envelope of a success, and the revision it carries."""
    revision = reply.revision
    if revision == "auto":
        revision = hashlib.md5(dumps(reply.data).encode()).hexdigest() if reply.data else None
    body: dict[str, Any] = {}
    if call.token:
        body["auth_token"] = call.token
    if call.version != "v1":  # v1 never paginates
        body.update(reply.extra)
    body.update(
        {
            "data": reply.data,
            "node": NODE_ID,
            "request_id": call.request_id,
            "status": "success",
            "timestamp": now_iso(),
            "version": KAZOO_VERSION,
        }
    )
    if revision:
        body["revision"] = revision
    return body, revision


def error_body(error: KazooError, request_id: str, token: str | None, version: str) -> dict:
    data = error.data
    if version == "v1" and error.system:
        data = data.get("message", "")
    return {
        "auth_token": token or "undefined",
        "data": data if data is not None else {},
        "error": str(error.status),
        "message": error.message,
        "node": NODE_ID,
        "request_id": request_id,
        "status": "error",
        "timestamp": now_iso(),
        "version": KAZOO_VERSION,
    }
