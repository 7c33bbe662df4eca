"""The bundled schema files: Kazoo 4.3's facts, our descriptions, every $ref resolvable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kazoodesk.resources import resource_path
from kazoodesk.schema.registry import SchemaRegistry

SHARED = Path(__file__).parents[2].parent / "shared"
REFERENCE = SHARED / "reference" / "kazoo-4.3-schemas"
SEED = SHARED / "seed" / "kazoo-4.3-devices.txt"
SCHEMAS = resource_path("schemas")

REFERENCE_NAMES = (
    sorted(path.stem for path in REFERENCE.glob("*.json")) if REFERENCE.is_dir() else ["-"]
)
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(),
    reason=f"Kazoo 4.3 reference schemas not found at {REFERENCE} (../shared beside the checkout)",
)
OUR_NAMES = sorted(path.stem for path in SCHEMAS.glob("*.json"))


def read(folder: Path, name: str) -> Any:
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


def facts(tree: Any) -> Any:
    """The tree without descriptions. A property named "description" has a schema (an
    object) as its value, so only string-valued "description" keys are dropped."""
    if isinstance(tree, dict):
        return {
            key: facts(value)
            for key, value in tree.items()
            if not (key == "description" and isinstance(value, str))
        }
    if isinstance(tree, list):
        return [facts(value) for value in tree]
    return tree


def canonical(tree: Any) -> str:
    # JSON text, so that 1 and 1.0, or 1 and true, count as different facts.
    return json.dumps(tree, sort_keys=True)


def subschemas(schema: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object inside `schema` (itself included), with a readable location."""
    if not isinstance(schema, dict):
        return
    yield where or "(top)", schema
    for keyword in ("properties", "patternProperties"):
        for name, sub in (schema.get(keyword) or {}).items():
            yield from subschemas(sub, f"{where}/{keyword}/{name}")
    for keyword in ("additionalProperties", "additionalItems", "not"):
        yield from subschemas(schema.get(keyword), f"{where}/{keyword}")
    items = schema.get("items")
    for index, sub in enumerate(items if isinstance(items, list) else [items]):
        yield from subschemas(sub, f"{where}/items/{index}")
    for keyword in ("allOf", "anyOf", "oneOf"):
        for index, sub in enumerate(schema.get(keyword) or []):
            yield from subschemas(sub, f"{where}/{keyword}/{index}")


@needs_reference
@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_our_file_states_the_same_facts_as_kazoo_4_3(name: str) -> None:
    ours = read(SCHEMAS, name)

    assert canonical(facts(ours)) == canonical(facts(read(REFERENCE, name)))


@needs_reference
@pytest.mark.skipif(not SEED.is_file(), reason=f"seed document not found at {SEED}")
@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_descriptions_are_the_seeds_or_our_own_never_copied_from_the_reference(
    name: str,
) -> None:
    seed = SEED.read_text(encoding="utf-8").translate(str.maketrans("\u2018\u2019", "''"))
    theirs = dict(subschemas(read(REFERENCE, name)))

    copied = [
        where
        for where, schema in subschemas(read(SCHEMAS, name))
        if where in theirs
        and schema.get("description") == theirs[where].get("description")
        and schema.get("description")
        and schema["description"] not in seed
    ]

    assert copied == []


def test_the_bundle_holds_devices_and_the_auth_users_and_accounts_schemas() -> None:
    wanted = {"devices", "devices_notify", "user_auth", "api_auth", "users", "accounts"}

    assert wanted <= set(OUR_NAMES)


@pytest.mark.parametrize("name", OUR_NAMES)
def test_file_is_draft_4_named_after_its_id_and_formatted_like_kazoos(name: str) -> None:
    text = (SCHEMAS / f"{name}.json").read_text(encoding="utf-8")
    doc = json.loads(text)

    assert doc["_id"] == name
    assert doc["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert text == json.dumps(doc, sort_keys=True, indent=4, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load()


@pytest.mark.parametrize("name", OUR_NAMES)
def test_file_passes_the_draft_4_meta_schema_check(name: str) -> None:
    assert name in SchemaRegistry.from_documents({name: read(SCHEMAS, name)})


@needs_reference
@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_kazoos_own_file_passes_the_draft_4_meta_schema_check(name: str) -> None:
    assert name in SchemaRegistry.from_documents({name: read(REFERENCE, name)})


@pytest.mark.parametrize("name", OUR_NAMES)
def test_every_ref_names_a_bundled_schema(name: str, registry: SchemaRegistry) -> None:
    refs = [
        (where, schema["$ref"])
        for where, schema in subschemas(read(SCHEMAS, name))
        if "$ref" in schema
    ]

    unresolved = [(where, ref) for where, ref in refs if ref not in registry]

    assert unresolved == []
    for _, ref in refs:
        assert registry.resolve({"$ref": ref}) == read(SCHEMAS, ref)


@pytest.mark.parametrize("name", OUR_NAMES)
def test_every_property_has_a_description(name: str) -> None:
    doc = read(SCHEMAS, name)
    missing = [
        f"{where}/{keyword}/{prop}"
        for where, schema in subschemas(doc)
        for keyword in ("properties", "patternProperties")
        for prop, sub in (schema.get(keyword) or {}).items()
        if not (isinstance(sub.get("description"), str) and sub["description"].strip())
    ]

    assert isinstance(doc.get("description"), str) and doc["description"].strip()
    assert missing == []


# users and accounts are not in the reference folder; these are Kazoo 4.3's facts for the
# fields the app relies on (applications/crossbar/priv/couchdb/schemas/{users,accounts}.json).
USERS_AND_ACCOUNTS_FACTS = [
    ("users", "required", ["first_name", "last_name"]),
    (
        "users",
        "first_name",
        {"maxLength": 128, "minLength": 1, "support_level": "supported", "type": "string"},
    ),
    (
        "users",
        "priv_level",
        {
            "default": "user",
            "enum": ["user", "admin"],
            "support_level": "supported",
            "type": "string",
        },
    ),
    (
        "users",
        "username",
        {
            "maxLength": 256,
            "minLength": 1,
            "pattern": "^([+@.\\w_-]+)$",
            "support_level": "supported",
            "type": "string",
        },
    ),
    (
        "users",
        "email",
        {
            "format": "email",
            "maxLength": 254,
            "minLength": 3,
            "support_level": "supported",
            "type": "string",
        },
    ),
    ("users", "caller_id", {"$ref": "caller_id"}),
    (
        "users",
        "hotdesk",
        {
            "default": {},
            "type": "object",
            "properties": {
                "enabled": {"default": False, "type": "boolean"},
                "id": {"maxLength": 15, "type": "string"},
                "keep_logged_in_elsewhere": {"default": False, "type": "boolean"},
                "pin": {"maxLength": 15, "minLength": 4, "type": "string"},
                "require_pin": {"default": False, "type": "boolean"},
            },
        },
    ),
    ("accounts", "required", ["name"]),
    (
        "accounts",
        "name",
        {"maxLength": 128, "minLength": 1, "support_level": "supported", "type": "string"},
    ),
    (
        "accounts",
        "realm",
        {
            "maxLength": 253,
            "minLength": 4,
            "pattern": "^[.\\w-]+$",
            "support_level": "supported",
            "type": "string",
        },
    ),
    (
        "accounts",
        "timezone",
        {"maxLength": 32, "minLength": 5, "support_level": "supported", "type": "string"},
    ),
    ("accounts", "enabled", {"default": True, "support_level": "supported", "type": "boolean"}),
]


@pytest.mark.parametrize(("name", "field", "expected"), USERS_AND_ACCOUNTS_FACTS)
def test_users_and_accounts_keep_kazoo_4_3_facts(name: str, field: str, expected: Any) -> None:
    doc = read(SCHEMAS, name)
    actual = doc["required"] if field == "required" else doc["properties"][field]

    assert canonical(facts(actual)) == canonical(expected)
