"""`KazooUnavailable` when there is no server to talk to: stopped, port closed, silent,
hanging up."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from kazoo_support import logged_in

from helpers import start_server
from kazoodesk.kazoo import KazooClient, KazooError, KazooUnavailable


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@asynccontextmanager
async def raw_server(answer: bytes | None) -> AsyncIterator[int]:
    """A TCP server on loopback that reads a request, then sends `answer` and hangs up, or
    (None) keeps silent until the client gives up; yields its port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if answer is None:
            await reader.read()  # until the client closes
        else:
            writer.write(answer)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def test_a_closed_port_is_unavailable() -> None:
    port = closed_port()

    async def scenario() -> KazooError:
        async with KazooClient(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(KazooUnavailable) as caught:
                await client.login(api_key="k" * 64)
            return caught.value

    error = asyncio.run(scenario())
    assert error.status == 0
    assert (
        str(error)
        == f"cannot connect to 127.0.0.1:{port} (connection refused: is the server running?)"
    )


def test_a_server_that_stopped_is_unavailable(tmp_path: Path) -> None:
    server = start_server(tmp_path)

    async def scenario() -> KazooError:
        client = await logged_in(server)
        async with client:
            assert await client.list_devices()
            server.runner.stop_thread()
            with pytest.raises(KazooUnavailable) as caught:
                await client.list_devices()
            with pytest.raises(KazooUnavailable) as again:  # and the next call alike
                await client.get_account()
            assert again.value.status == 0
            return caught.value

    try:
        error = asyncio.run(scenario())
    finally:
        server.runner.stop_thread()
    assert error.status == 0
    assert server.api.split("/")[2] in str(error)


def failure_against(answer: bytes | None, timeout: float = 10.0) -> KazooError:
    """The error a schema request to a `raw_server(answer)` ends in."""

    async def scenario() -> KazooError:
        async with raw_server(answer) as port:
            client = KazooClient(f"http://127.0.0.1:{port}/v2", timeout=timeout)
            async with client:
                with pytest.raises(KazooUnavailable) as caught:
                    await client.schema("devices")
                return caught.value

    return asyncio.run(scenario())


def test_a_silent_server_times_out() -> None:
    error = failure_against(None, timeout=0.3)
    assert error.status == 0
    assert "within 0.3 s (timed out)" in str(error)


def test_a_server_hanging_up_is_unavailable() -> None:
    error = failure_against(b"")
    assert error.status == 0
    assert str(error).startswith("lost the connection to 127.0.0.1:")


def test_an_answer_that_is_not_http_is_unavailable() -> None:
    assert failure_against(b"SSH-2.0-OpenSSH_9.6\r\n").status == 0
