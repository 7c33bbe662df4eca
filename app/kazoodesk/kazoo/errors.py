"""What a Kazoo server's error answers mean, as exceptions whose text a user can act on.

Crossbar error bodies (kazoo-api.md §4): the envelope `message` is a code name such as
`invalid_credentials` or `validation error`; a system error's `data` is `{"message": ...}`
(plus `cause` for a bad identifier); a validation error's `data` is the field error map
`{dotted.path: {code: {"message": ...}}}` (§4.1). Some answers have no body at all (412, 415,
304), so the status alone has to carry the meaning.
"""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any

import httpx

# at most this many field errors are spelled out in the one-line text
SHOWN_FIELD_ERRORS = 3

# what each status means to a user when the body says nothing better: "<message>; <hint>"
STATUS_TEXT = {
    304: "not modified since the revision given",
    400: "the server refused the request as invalid",
    401: "invalid credentials; check the user name, password and account name",
    402: "the server asks to accept charges for this change",
    403: "forbidden; this login may not reach that account",
    404: "not found",
    405: "method not allowed; the server does not offer this operation",
    409: "conflicting documents; the {subject} was saved by someone else at the same moment, "
    "or its id is taken: reload and try again",
    412: "the {subject} was changed by someone else (revision mismatch); reload it and "
    "apply your changes again",
    413: "the request is too large for the server",
    415: "the server refused the request's content type",
    429: "too many requests; wait a moment and try again",
    500: "the server failed to handle the request (internal error)",
    502: "bad gateway; a proxy in front of the server could not reach it",
    503: "the server's datastore is unavailable; try again later",
    504: "gateway timeout; a proxy in front of the server timed out waiting for it",
}


class KazooError(Exception):
    """An error answer of a Kazoo server.

    `status` is the HTTP status (0 for `KazooUnavailable`); `message` is Kazoo's human
    message ("validation error", "invalid credentials", "bad identifier"); `code` is the
    envelope's raw `message` ("invalid_credentials", "bad_identifier", "datastore_conflict"),
    empty when the body had none; `errors` maps a dotted field path to its messages;
    `data` is the error body's raw `data`. `str()` is one line a user can act on.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: dict[str, list[str]] | None = None,
        data: Any = None,
        code: str = "",
        text: str | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.errors: dict[str, list[str]] = errors or {}
        self.data = data
        self.code = code
        self.text = text if text is not None else message
        super().__init__(self.text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, message={self.message!r})"


class KazooUnavailable(KazooError):
    """The server could not be reached or did not answer: refused, DNS, TLS, timeout, a
    broken connection. `status` is 0 and `message` says what failed."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


def field_errors(data: Any) -> dict[str, list[str]]:
    """`{path: [message, ...]}` from a validation error map `{path: {code: {message}}}`.

    A body without a `message` falls back to its code, so no error is lost.
    """
    if not isinstance(data, dict):
        return {}
    errors: dict[str, list[str]] = {}
    for path, codes in data.items():
        if not isinstance(codes, dict) or not codes:
            continue
        if not all(isinstance(body, dict) for body in codes.values()):
            continue  # not a field error, e.g. a system error's {"message": ..., "cause": ...}
        errors[str(path)] = [
            body["message"] if isinstance(body.get("message"), str) else str(code)
            for code, body in codes.items()
        ]
    return errors


def describe_field_errors(errors: dict[str, list[str]]) -> str:
    """ "SIP credentials already in use (sip.username); ..." with the first few errors."""
    parts = [f"{message} ({path})" for path, messages in errors.items() for message in messages]
    shown = "; ".join(parts[:SHOWN_FIELD_ERRORS])
    hidden = len(parts) - SHOWN_FIELD_ERRORS
    return f"{shown}; and {hidden} more" if hidden > 0 else shown


def _decode(body: bytes) -> dict[str, Any] | None:
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if isinstance(decoded, dict) else None


def _system_message(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    if isinstance(data, str) and data:
        return data  # a /v1-style system error: `data` is the message itself
    return None


def error_from_answer(status: int, body: bytes, *, subject: str = "item") -> KazooError:
    """The `KazooError` of an error answer (`status`, raw `body`); `subject` names what the
    request was about ("device"), for texts such as the 412 one."""
    envelope = _decode(body) if body else None
    default = STATUS_TEXT.get(status, f"the server answered HTTP {status}").format(subject=subject)
    if envelope is None:
        return KazooError(status, default.split("; ")[0], text=default)
    data = envelope.get("data")
    code = str(envelope.get("message") or "")
    message = _system_message(data) or code.replace("_", " ") or default
    errors = field_errors(data) if status == 400 else {}
    text = _text(status, code, message, data, errors, default)
    return KazooError(status, message, errors=errors, data=data, code=code, text=text)


def _text(
    status: int,
    code: str,
    message: str,
    data: Any,
    errors: dict[str, list[str]],
    default: str,
) -> str:
    if errors:
        return describe_field_errors(errors)
    cause = data.get("cause") if isinstance(data, dict) else None
    if status == 404 and code in ("bad_identifier", "bad identifier"):
        if isinstance(cause, str):
            return f"not found: {cause} does not exist (or was deleted)"
        if isinstance(data, list) and data:  # api_auth: data is the unknown key
            return "not found: unknown API key"
        return f"not found: {message}"
    if status in (401, 402, 403, 405, 409, 412, 429) or status >= 500:
        # Kazoo's words for these ("invalid credentials", "conflicting documents") are terse
        return default if status < 500 else f"{default}: {message}"
    if isinstance(cause, str) and cause:
        return f"{message} ({cause})"
    return message


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def network_failure(exc: BaseException, where: str) -> str:
    """What went wrong reaching `where` ("127.0.0.1:8000"), from an httpx transport error and
    the OS/TLS errors under it."""
    chain = _causes(exc)
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or "verification failed"
            return f"the TLS certificate of {where} is not trusted ({reason})"
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake with {where} failed ({cause.reason or cause})"
        if isinstance(cause, socket.gaierror):
            return f"cannot find the server {where} (host name not resolved)"
        if isinstance(cause, ConnectionRefusedError):
            return f"cannot connect to {where} (connection refused: is the server running?)"
    for cause in chain:
        if isinstance(cause, ConnectionResetError | BrokenPipeError):
            return f"the connection to {where} was reset"
    kind = "cannot connect to" if isinstance(exc, httpx.ConnectError) else "lost the connection to"
    detail = str(exc) or type(exc).__name__
    return f"{kind} {where} ({detail})"
