"""Schemas and websocket bindings, which need no token; the bundled fallback for a server
that lacks a schema."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from kazoo_support import RecordingTransport

from helpers import Server
from kazoodesk.kazoo import KazooClient, KazooError, SchemaSet
from kazoodesk.kazoo.schemas import referenced_schemas
from kazoodesk.resources import resource_path


def bundled_closure() -> set[str]:
    """`devices` and what it references, transitively, by our bundled files."""
    names, todo = set(), ["devices"]
    while todo:
        name = todo.pop()
        if name not in names:
            names.add(name)
            path = resource_path("schemas", f"{name}.json")
            todo.extend(referenced_schemas(json.loads(path.read_text(encoding="utf-8"))))
    return names


def test_one_schema_without_logging_in(demo_server: Server) -> None:
    async def scenario() -> dict[str, object]:
        async with KazooClient(demo_server.api) as client:
            return await client.schema("devices")

    schema = asyncio.run(scenario())
    assert schema["id"] == "devices"
    assert "sip" in schema["properties"]  # type: ignore[operator]


def test_an_unknown_schema_is_a_404(demo_server: Server) -> None:
    async def scenario() -> None:
        async with KazooClient(demo_server.api) as client:
            with pytest.raises(KazooError) as caught:
                await client.schema("no.such.schema")
            assert caught.value.status == 404

    asyncio.run(scenario())


def test_device_schemas_come_from_the_server(demo_server: Server) -> None:
    transport = RecordingTransport()

    async def scenario() -> SchemaSet:
        async with KazooClient(demo_server.api, transport=transport) as client:
            return await client.device_schemas()

    schemas = asyncio.run(scenario())
    assert set(schemas) == bundled_closure()
    assert {"devices", "endpoint.media", "devices.combo_key", "call_recording.source"} <= set(
        schemas
    )
    assert schemas.bundled == frozenset()
    assert schemas.from_server == frozenset(schemas)
    assert all(schema["id"] == name for name, schema in schemas.items())
    fetched = transport.paths("GET")
    assert sorted(fetched) == sorted(f"schemas/{name}" for name in schemas)  # each once


def test_a_schema_the_server_lacks_comes_from_the_bundled_files(demo_server: Server) -> None:
    # a server without `endpoint.media` and `call_recording.source` (a stand-in for an older
    # release); `call_recording.source` is only reachable through `call_recording`
    transport = RecordingTransport({"schemas/endpoint.media", "schemas/call_recording.source"})

    async def scenario() -> SchemaSet:
        async with KazooClient(demo_server.api, transport=transport) as client:
            return await client.device_schemas()

    schemas = asyncio.run(scenario())
    assert set(schemas) == bundled_closure()
    assert schemas.bundled == {"endpoint.media", "call_recording.source"}
    assert "devices" in schemas.from_server
    media = json.loads(resource_path("schemas", "endpoint.media.json").read_text("utf-8"))
    assert schemas["endpoint.media"]["properties"] == media["properties"]
    assert schemas["endpoint.media"]["id"] == "endpoint.media"


def test_a_missing_schema_with_no_bundled_copy_raises(
    demo_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "schemas").mkdir()
    monkeypatch.setenv("KAZOODESK_RESOURCES", str(tmp_path))  # resources without schemas
    transport = RecordingTransport({"schemas/devices"})

    async def scenario() -> None:
        async with KazooClient(demo_server.api, transport=transport) as client:
            with pytest.raises(KazooError) as caught:
                await client.device_schemas()
            assert caught.value.status == 404

    asyncio.run(scenario())


def test_websocket_bindings(demo_server: Server) -> None:
    async def scenario() -> object:
        async with KazooClient(demo_server.api) as client:
            return await client.websocket_bindings()

    bindings = asyncio.run(scenario())
    assert isinstance(bindings, dict)
    assert "object.doc_edited.device" in bindings["object"]
