"""Plain helpers the test modules share; the fixtures built on them live in conftest.py."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import httpx
import pytest
from keyring.backend import KeyringBackend

from kazoodesk.simulator.registrar.digest import build_authorization, parse_challenge
from kazoodesk.simulator.registrar.headers import Via
from kazoodesk.simulator.registrar.message import (
    build_request,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
)
from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner

READY_PREFIX = "KAZOODESK READY "

# the demo data's accounts (resources/demo/README.md): the master; under it the reseller Acme
# Telecom (Demo Co's parent) and Globex Widgets; Demo Co
MASTER = "d7d94a2c632e577d17e31e95aefde6e5"
ACME = "cb35fef86cd8065a5b0999602b8e9cd2"
DEMO = "3298aa8a7018c518219080e1cefc1214"
GLOBEX = "966b2f9354a9d301b012d82b4f0e09b8"

# what the devices schema adds to a new device (the `name` aside)
NEW_DEVICE_DEFAULTS = {
    "call_restriction": {},
    "contact_list": {},
    "enabled": True,
    "exclude_from_queues": False,
    "music_on_hold": {},
    "mwi_unsolicited_updates": True,
    "register_overwrite_notify": False,
    "ringtones": {},
    "sip": {"expire_seconds": 300, "invite_format": "contact", "method": "password"},
    "suppress_unregister_notifications": False,
}
# what it fills into a `media` and a `call_forward` sent empty
SENT_MEDIA_DEFAULTS = {
    "audio": {},
    "encryption": {"enforce_security": False, "methods": []},
    "video": {"codecs": []},
}
SENT_CALL_FORWARD_DEFAULTS = {
    "direct_calls_only": False,
    "enabled": False,
    "failover": False,
    "ignore_early_media": True,
    "keep_caller_id": True,
    "require_keypress": True,
    "substitute": True,
}


def md5_credentials(username: str, password: str) -> str:
    """The `credentials` of `PUT /user_auth`: md5 of `lower(username):password`."""
    return hashlib.md5(f"{username.lower()}:{password}".encode()).hexdigest()


def encoded_start_key(key: str) -> str:
    """`base64url(term_to_binary(<<Key>>))` without padding (kazoo-api.md §5.1), built
    independently of the app."""
    term = b"\x83m" + len(key).to_bytes(4, "big") + key.encode()
    return base64.urlsafe_b64encode(term).decode().rstrip("=")


def jwt_claims(token: str) -> dict[str, Any]:
    """The decoded payload of a JWT (its signature unchecked)."""
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def error_of(
    reply: httpx.Response,
    status: int,
    message: str,
    data: Any = ...,
    *,
    keys: set[str] | None = None,
) -> dict[str, Any]:
    """Check an error reply's status, envelope (its exact `keys` when given) and `data`
    (when given); return the body."""
    assert reply.status_code == status, reply.text
    body: dict[str, Any] = reply.json()
    if keys is not None:
        assert set(body) == keys
    assert (body["status"], body["error"], body["message"]) == ("error", str(status), message)
    if data is not ...:
        assert body["data"] == data
    return body


# ---- an in-process simulator and its HTTP client ------------------------------------------------


@dataclass
class Server:
    """A simulator running in a thread of this process, with the info of its READY line."""

    runner: SimulatorRunner
    ready: dict[str, Any]

    @property
    def api(self) -> str:
        return str(self.ready["api"])


def start_server(data_dir: Path, demo: bool = True, **options: Any) -> Server:
    """A simulator on `data_dir` on a free port (stop it with `server.runner.stop_thread()`);
    `options`: more `ServeOptions`."""
    runner = SimulatorRunner(ServeOptions(data_dir=data_dir, port=0, demo=demo, **options))
    return Server(runner, runner.start_in_thread())


@contextmanager
def own_server(
    tmp_path_factory: pytest.TempPathFactory, store: str, *, demo: bool = True, **options: Any
) -> Iterator[Server]:
    """A simulator on a new store in a temp dir named after `store`; stopped on exit."""
    server = start_server(tmp_path_factory.mktemp(store), demo=demo, **options)
    try:
        yield server
    finally:
        server.runner.stop_thread()


def own_server_fixture(
    store: str, *, scope: Literal["function", "module"] = "module"
) -> Callable[..., Iterator[Server]]:
    """A fixture of a demo server of the module's own, for tests that write.

    Assign it to the fixture's name: `server = own_server_fixture("pykazoo-store")`.
    """

    @pytest.fixture(scope=scope)
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
        with own_server(tmp_path_factory, store) as server:
            yield server

    return fixture


class Api:
    """A thin HTTP client of the simulator: `call` returns the httpx response untouched."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.api, timeout=30)
        self.token: str | None = None

    @classmethod
    def logged_in(cls, server: Server, who: Mapping[str, Any] | None = None) -> Api:
        """A client logged in as `who` (username, password, account_name); by default as the
        server's demo admin (its READY info)."""
        client = cls(server)
        who = server.ready if who is None else who
        client.login(who["username"], who["password"], who["account_name"])
        return client

    def __enter__(self) -> Api:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.http.close()

    def login(self, username: str, password: str, account_name: str) -> str:
        creds = md5_credentials(username, password)
        reply = self.http.put(
            "/user_auth", json={"data": {"credentials": creds, "account_name": account_name}}
        )
        assert reply.status_code == 201, reply.text
        token = reply.json()["auth_token"]
        self.token = token
        return str(token)

    def call(
        self,
        method: str,
        path: str,
        data: Any = None,
        *,
        envelope: dict[str, Any] | None = None,
        token: str | None = "default",
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        use = self.token if token == "default" else token
        if use:
            headers["X-Auth-Token"] = use
        body = envelope if envelope is not None else ({"data": data} if data is not None else None)
        return self.http.request(method, path, json=body, headers=headers, **kwargs)

    def ok(self, method: str, path: str, data: Any = None, **kwargs: Any) -> dict[str, Any]:
        reply = self.call(method, path, data, **kwargs)
        assert reply.status_code in (200, 201), f"{reply.status_code} {reply.text}"
        body: dict[str, Any] = reply.json()
        return body

    @property
    def account(self) -> str:
        return f"/accounts/{self.server.ready['account_id']}"


# ---- `kazoodesk serve` as a subprocess ----------------------------------------------------------


def serve_command(data_dir: Path, *extra: str, port: int = 0) -> list[str]:
    """The command line of `python -m kazoodesk serve` on `data_dir`."""
    return [
        sys.executable,
        "-m",
        "kazoodesk",
        "serve",
        "--port",
        str(port),
        "--ws-port",
        "0",
        "--no-phones",  # the demo phones have tests of their own (test_phones.py)
        "--sip-port",
        "0",
        "--data",
        str(data_dir),
        *extra,
    ]


def ready_info(line: str) -> dict[str, Any]:
    """The JSON of a READY line (the caller has checked it is one)."""
    info: dict[str, Any] = json.loads(line[len(READY_PREFIX) :])
    return info


def user_auth(api: str, login: Mapping[str, Any]) -> httpx.Response:
    """`PUT {api}/user_auth` with the md5 credentials of `login` (username, password,
    account_name), over a plain httpx call."""
    body = {
        "data": {
            "credentials": md5_credentials(login["username"], login["password"]),
            "account_name": login["account_name"],
        }
    }
    return httpx.put(f"{api}/user_auth", json=body, timeout=10)


def token_for(api: str, login: Mapping[str, Any]) -> str:
    """A fresh auth token of `login` (see `user_auth`)."""
    reply = user_auth(api, login)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["auth_token"])


def sip_address(server: Server) -> tuple[str, int]:
    """The (host, port) of the server's SIP registrar over UDP (READY's `sip`)."""
    _scheme, host, port = str(server.ready["sip"]).split(":")
    return host, int(port)


def sip_register(
    server: Server,
    username: str,
    password: str,
    realm: str,
    *,
    expires: int = 300,
    contact: str | None = None,
    user_agent: str = "Test Phone",
) -> int:
    """REGISTER `username@realm` over UDP from a throwaway socket as a phone does (the 401
    answered once); return the final status. The binding outlives the socket."""
    target = sip_address(server)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.connect(target)
        host, port = sock.getsockname()[:2]
        call_id, tag, aor = new_call_id(host), new_tag(), f"<sip:{username}@{realm}>"
        contact = contact or f"<sip:{username}@{host}:{port}>"
        authorization: str | None = None
        for cseq in (1, 2):
            headers = [("Contact", contact), ("Expires", str(expires))]
            if authorization is not None:
                headers.append(("Authorization", authorization))
            headers.append(("User-Agent", user_agent))
            via = Via("UDP", host, port, {"branch": new_branch(), "rport": None})
            sock.send(build_request(
                "REGISTER", f"sip:{realm}", via=via, from_addr=f"{aor};tag={tag}", to_addr=aor,
                call_id=call_id, cseq=cseq, headers=headers,
            ))  # fmt: skip
            while (answer := parse_message(sock.recv(65536))).status < 200:
                pass
            challenge = answer.get("www-authenticate")
            if answer.status != 401 or challenge is None or authorization is not None:
                return answer.status
            authorization = build_authorization(
                parse_challenge(challenge), username=username, password=password,
                method="REGISTER", uri=f"sip:{realm}",
            )  # fmt: skip
    return answer.status


class MemoryKeyring(KeyringBackend):
    """Stands in for the OS keyring, which is outside the product."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)
