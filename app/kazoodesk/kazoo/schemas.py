"""The device schemas as a server serves them, with our bundled copies filling its gaps.

The editor's forms follow the connected server's `devices` schema (architecture.md). Kazoo
schemas name each other by id (`"$ref": "endpoint.media"`), so the set the editor needs is
`devices` plus every schema reachable through such references. A server that answers 404 for
one of them (older releases lack some) gets our copy from `resources/schemas` instead, and
the result records which ones those were.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from kazoodesk.kazoo.errors import KazooError
from kazoodesk.resources import resource_path

ROOT_SCHEMA = "devices"

Schema = dict[str, Any]


class SchemaSet(dict[str, Schema]):
    """Schemas by id (a plain dict to its users), knowing where each came from:
    `bundled` holds the ids the server answered 404 for and that come from our files."""

    def __init__(self, schemas: dict[str, Schema], bundled: frozenset[str]) -> None:
        super().__init__(schemas)
        self.bundled = bundled

    @property
    def from_server(self) -> frozenset[str]:
        return frozenset(self) - self.bundled


def referenced_schemas(schema: Any) -> set[str]:
    """Ids of the other schemas a schema `$ref`s anywhere inside it (`"endpoint.media"`,
    `"call_recording#/definitions/x"`); references within itself (`"#/..."`) are not."""
    found: set[str] = set()

    def walk(node: Any) -> Iterator[Any]:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield ref
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for ref in walk(schema):
        name = ref.split("#", 1)[0].removesuffix(".json")
        if name:
            found.add(name)
    return found


def bundled_schema(name: str) -> Schema | None:
    """Our copy of schema `name`, shaped as a server serves it (`id` set, no `_id`), or None."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None  # a reference is an id, never a path out of the folder
    path = resource_path("schemas", f"{name}.json")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    schema = {key: value for key, value in document.items() if key != "_id"}
    schema["id"] = name
    return schema


async def collect_schemas(
    fetch: Callable[[str], Awaitable[Schema]], root: str = ROOT_SCHEMA
) -> SchemaSet:
    """`root` and every schema it references transitively, each fetched once with `fetch`
    (one round of references at a time, concurrently); a fetch failing with 404 falls back
    to the bundled copy. Raises the 404 when there is no bundled copy either."""
    schemas: dict[str, Schema] = {}
    bundled: set[str] = set()

    async def one(name: str) -> tuple[str, Schema]:
        try:
            return name, await fetch(name)
        except KazooError as exc:
            fallback = bundled_schema(name) if exc.status == 404 else None
            if fallback is None:
                raise
            bundled.add(name)
            return name, fallback

    wanted = {root}
    while wanted:
        for name, schema in await asyncio.gather(*(one(name) for name in sorted(wanted))):
            schemas[name] = schema
        wanted = {ref for s in schemas.values() for ref in referenced_schemas(s)} - set(schemas)
    return SchemaSet(schemas, frozenset(bundled))
