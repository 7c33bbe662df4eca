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
    method: str  # after verb tunnelling
    envelope: dict[str, Any]
    query: MultiMapping[str]
    request_id: str
    params: dict[str, str] = field(default_factory=dict)
    token: str | None = None  # shown in the reply's `auth_token`
    token_type: str = "x-auth-token"  # only this type is checked (`cb_token_auth`)
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

    def text(self, key: str) -> str | None:
        """`req_value` when it is a non-empty string."""
        value = self.req_value(key)
        return value if isinstance(value, str) and value else None

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


AUTO = "auto"  # a `Reply.revision` that stands for the md5 of the data (list replies)


@dataclass
class Reply:
    """A successful reply (201 for a PUT, 200 otherwise); `extra` holds list page keys."""

    data: Any
    revision: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def dumps(value: Any, pretty: bool = False) -> str:
    if pretty:
        return json.dumps(value, indent=2, sort_keys=True)
    return json.dumps(value, separators=(",", ":"))


def _common(call: Call) -> dict[str, Any]:
    return {
        "node": NODE_ID,
        "request_id": call.request_id,
        "timestamp": now_iso(),
        "version": KAZOO_VERSION,
    }


def success_text(call: Call, reply: Reply, pretty: bool) -> tuple[str, str | None]:
    """The JSON text of a success envelope and the revision it carries."""
    data_text = dumps(reply.data)
    revision = reply.revision
    if revision == AUTO:
        revision = hashlib.md5(data_text.encode()).hexdigest() if reply.data else None
    head: dict[str, Any] = {"auth_token": call.token} if call.token else {}
    head.update(reply.extra)
    head.update(_common(call))
    head["status"] = "success"
    if revision:
        head["revision"] = revision
    if pretty:
        return dumps({**head, "data": reply.data}, pretty=True), revision
    # the data is serialised once: its text goes into the envelope's as it is
    return f'{dumps(head)[:-1]},"data":{data_text}}}', revision


def error_envelope(call: Call, error: KazooError) -> dict[str, Any]:
    data = error.data
    if call.version == "v1" and error.system:
        data = data.get("message", "")
    return {
        "auth_token": call.token or "undefined",
        "data": data if data is not None else {},
        "error": str(error.status),
        "message": error.message,
        **_common(call),
        "status": "error",
    }
