"""Shared fixtures: a real simulator on 127.0.0.1 (port 0) with its store on disk.

The plain helpers they build on (`Api`, `Server`, `own_server`, `error_of`, ...) are in
helpers.py, which test modules import.
"""

from __future__ import annotations

import os

# before anything imports Qt: widgets render offscreen (no display needed, screenshots work)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import keyring  # noqa: E402
import pytest  # noqa: E402
from keyring.backends import fail  # noqa: E402

from helpers import Api, MemoryKeyring, Server, own_server  # noqa: E402


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo server the session shares; a module that writes overrides it with one of its
    own (`demo_server = own_server_fixture(...)`)."""
    with own_server(tmp_path_factory, "demo-store") as server:
        yield server


@pytest.fixture
def api(demo_server: Server) -> Iterator[Api]:
    """A client logged in as the demo company's admin."""
    with Api.logged_in(demo_server) as client:
        yield client


@pytest.fixture
def master_api(demo_server: Server) -> Iterator[Api]:
    """A client logged in as the superduper-admin of the master account."""
    with Api.logged_in(demo_server, demo_server.ready["master"]) as client:
        yield client


@pytest.fixture(scope="module")
def anon(demo_server: Server) -> Iterator[Api]:
    """A client of the demo server without a token."""
    with Api(demo_server) as client:
        yield client


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The demo company's admin on a demo server of the requesting module's own, for tests
    that write."""
    with own_server(tmp_path_factory, "fresh-store") as server, Api.logged_in(server) as client:
        yield client


@pytest.fixture
def started() -> Iterator[list[Any]]:
    """Every `kazoodesk serve` process a test starts (objects with a `proc`); whatever is still
    running at the end is killed."""
    servers: list[Any] = []
    yield servers
    for server in servers:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)
