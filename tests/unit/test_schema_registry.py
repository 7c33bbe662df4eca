"""Building a registry checks every document against the draft-4 meta-schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kazoodesk.schema import InvalidSchemaError, SchemaRegistry


def broken(doc: Any, name: str = "thing") -> InvalidSchemaError:
    with pytest.raises(InvalidSchemaError) as caught:
        SchemaRegistry.from_documents({"fine": {"type": "object"}, name: doc})
    return caught.value


def test_a_broken_document_is_named_with_the_offending_location() -> None:
    doc = {"properties": {"sip": {"properties": {"realm": {"minLength": -1}}}}}

    error = broken(doc, "devices")

    assert error.schema_id == "devices"
    assert error.path == ("properties", "sip", "properties", "realm", "minLength")
    assert error.pointer == "#/properties/sip/properties/realm/minLength"
    assert str(error) == (
        "schema 'devices' is not a valid draft-4 schema at "
        f"#/properties/sip/properties/realm/minLength: {error.reason}"
    )
    assert "-1" in error.reason


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ({"type": "strin"}, "#/type"),
        ({"required": []}, "#/required"),
        ({"items": [{"enum": "a"}]}, "#/items/0/enum"),
        ({"patternProperties": {"^a/b~$": {"type": 5}}}, "#/patternProperties/^a~1b~0$/type"),
        (["not", "an", "object"], "#"),
    ],
)
def test_each_kind_of_mistake_is_located(doc: Any, pointer: str) -> None:
    assert broken(doc).pointer == pointer


def test_a_broken_document_fails_every_time() -> None:
    doc = {"type": "strin"}

    assert broken(doc).pointer == broken(doc).pointer == "#/type"


def test_a_broken_file_is_named_by_its_id(tmp_path: Path) -> None:
    (tmp_path / "fine.json").write_text(json.dumps({"type": "object"}), encoding="utf-8")
    (tmp_path / "users.json").write_text(json.dumps({"maxLength": "9"}), encoding="utf-8")

    with pytest.raises(InvalidSchemaError, match=r"^schema 'users' .* at #/maxLength: "):
        SchemaRegistry.load(tmp_path)


def test_erlang_patterns_python_cannot_compile_are_not_schema_errors() -> None:
    # Kazoo's patterns are PCRE; the validator handles them (tests in test_schema_validate.py)
    doc = {"properties": {"a": {"pattern": "[[:alpha:]"}}, "type": "object"}

    assert "t" in SchemaRegistry.from_documents({"t": doc})
