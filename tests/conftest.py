"""Shared fixtures: a real simulator on 127.0.0.1 (port 0) with its store on disk."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kazoodesk.simulator.runner import ServeOptions, SimulatorRunner


@dataclass
class Server:
    runner: SimulatorRunner
    ready: dict[str, Any]

    @property
    def api(self) -> str:
        return str(self.ready["api"])


def start_server(data_dir: Path, demo: bool = True) -> Server:
    runner = SimulatorRunner(ServeOptions(data_dir=data_dir, port=0, demo=demo))
    return Server(runner, runner.start_in_thread())


class Api:
    """A thin HTTP client of the simulator: `call` returns the httpx response untouched."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.api, timeout=30)
        self.token: str | None = None

    def login(self, username: str, password: str, account_name: str) -> str:
        creds = hashlib.md5(f"{username.lower()}:{password}".encode()).hexdigest()
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


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("demo-store"))
    yield server
    server.runner.stop_thread()


@pytest.fixture
def api(demo_server: Server) -> Iterator[Api]:
    """A client logged in as the demo company's admin."""
    client = Api(demo_server)
    ready = demo_server.ready
    client.login(ready["username"], ready["password"], ready["account_name"])
    yield client
    client.http.close()


@pytest.fixture
def master_api(demo_server: Server) -> Iterator[Api]:
    """A client logged in as the superduper-admin of the master account."""
    client = Api(demo_server)
    master = demo_server.ready["master"]
    client.login(master["username"], master["password"], master["account_name"])
    yield client
    client.http.close()
