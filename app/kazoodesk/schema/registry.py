"""The set of JSON schemas a Kazoo serves, addressed by id, with `$ref` resolution.

Kazoo refers to other schemas by bare id (`"$ref": "call_recording"`), so each document is
registered under its id as a draft-4 `referencing` resource; the same registry works for our
validator and for any `jsonschema` validator (`Draft4Validator(schema, registry=...)`).
Every document is checked against the draft-4 meta-schema when a registry is built, so a
broken schema (say, one fetched from a server) fails there, with its id and location.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT4

from kazoodesk.resources import resource_path
from kazoodesk.schema.defaults import json_copy


class InvalidSchemaError(ValueError):
    """A schema document that the draft-4 meta-schema rejects."""

    def __init__(self, schema_id: str, path: Iterable[str | int], reason: str) -> None:
        self.schema_id = schema_id
        self.path = tuple(path)  # inside the document, e.g. ("properties", "sip", "type")
        self.reason = reason
        super().__init__(
            f"schema {schema_id!r} is not a valid draft-4 schema at {self.pointer}: {reason}"
        )

    @property
    def pointer(self) -> str:
        """`path` as a JSON pointer fragment, e.g. `#/properties/sip/type`."""
        escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in self.path)
        return "#" + "".join(f"/{part}" for part in escaped)


class SchemaRegistry:
    """Schema documents by id. Immutable once built; safe to share between threads."""

    def __init__(self, docs: Mapping[str, Mapping[str, Any]]) -> None:
        """InvalidSchemaError if a document is not a draft-4 schema."""
        # Our own copies: callers may keep mutating what they passed in.
        self._docs: dict[str, dict[str, Any]] = {
            name: _checked(name, json_copy(dict(doc)) if isinstance(doc, Mapping) else doc)
            for name, doc in docs.items()
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
        return json_copy(self._docs[name])

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
        return json_copy(dict(current))

    @property
    def referencing(self) -> Registry[Any]:
        """The `referencing` registry holding every document under its id."""
        return self._registry


# Digests of the documents found valid: registries are rebuilt from the same documents (the
# simulator per start, the GUI per connection), and the meta-schema check is most of the cost.
_CHECKED: set[bytes] = set()


def _checked(name: str, doc: Any) -> Any:
    digest = hashlib.blake2b(json.dumps(doc).encode(), digest_size=16).digest()
    if digest not in _CHECKED:
        # What Draft4Validator.check_schema does, but reporting the best error rather than the
        # first: for a failed anyOf (`items`, `type`...) that is the branch's specific one.
        error = best_match(_META_VALIDATOR.iter_errors(doc))
        if error is not None:
            raise InvalidSchemaError(name, error.absolute_path, error.message) from error
        _CHECKED.add(digest)
    return doc


# No format checks: `pattern` holds Erlang regular expressions, not Python ones.
_META_VALIDATOR = Draft4Validator(Draft4Validator.META_SCHEMA, format_checker=None)


def _resource(doc: dict[str, Any]) -> Resource[Any]:
    # Always draft 4, whatever `$schema` says: that is how Kazoo 4.3 validates them.
    return DRAFT4.create_resource(doc)
