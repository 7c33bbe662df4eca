"""The set of JSON schemas a Kazoo serves, addressed by id, with `$ref` resolution.

Kazoo refers to other schemas by bare id (`"$ref": "call_recording"`), so each document is
registered under its id as a draft-4 `referencing` resource; the same registry works for our
validator and for any `jsonschema` validator (`Draft4Validator(schema, registry=...)`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT4

from kazoodesk.resources import resource_path


class SchemaRegistry:
    """Schema documents by id. Immutable once built; safe to share between threads."""

    def __init__(self, docs: Mapping[str, Mapping[str, Any]]) -> None:
        # Our own copies: callers may keep mutating what they passed in.
        self._docs: dict[str, dict[str, Any]] = {
            name: copy.deepcopy(dict(doc)) for name, doc in docs.items()
        }
        resources = [(name, _resource(doc)) for name, doc in self._docs.items()]
        self._registry: Registry[Any] = Registry().with_resources(resources).crawl()

    @classmethod
    def load(cls, directory: Path | None = None) -> SchemaRegistry:
        """Read every `<id>.json` of `directory` (default: the bundled `resources/schemas`)."""
        folder = directory if directory is not None else resource_path("schemas")
        docs = {
            path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.json"))
        }
        return cls(docs)

    @classmethod
    def from_documents(cls, docs: Mapping[str, Mapping[str, Any]]) -> SchemaRegistry:
        """Build from documents already in memory, e.g. fetched from `GET /v2/schemas/{id}`."""
        return cls(docs)

    def names(self) -> list[str]:
        return sorted(self._docs)

    def __contains__(self, name: object) -> bool:
        return name in self._docs

    def document(self, name: str) -> dict[str, Any]:
        """A copy of the schema document `name`; KeyError if there is none."""
        return copy.deepcopy(self._docs[name])

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Follow `$ref`s (bare ids such as `"devices.combo_key"`) to the schema they name.

        A schema without `$ref` comes back as it is; a `$ref` that names nothing known
        raises KeyError.
        """
        resolver = self._registry.resolver()
        current: Any = schema
        seen: set[str] = set()
        while isinstance(current, Mapping) and isinstance(current.get("$ref"), str):
            ref = current["$ref"]
            if ref in seen:
                raise KeyError(f"$ref cycle through {ref!r}")
            seen.add(ref)
            try:
                resolved = resolver.lookup(ref)
            except Unresolvable:
                raise KeyError(ref) from None
            current, resolver = resolved.contents, resolved.resolver
        if current is schema:
            return schema
        return copy.deepcopy(dict(current))

    @property
    def referencing(self) -> Registry[Any]:
        """The `referencing` registry holding every document under its id."""
        return self._registry


def _resource(doc: dict[str, Any]) -> Resource[Any]:
    # Always draft 4, whatever `$schema` says: that is how Kazoo 4.3 validates them.
    return DRAFT4.create_resource(doc)
