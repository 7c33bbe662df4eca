"""The schema -> FieldSpec tree (kazoodesk/schema/fields.py), without Qt."""

from __future__ import annotations

import pytest

from kazoodesk.schema import SchemaRegistry
from kazoodesk.schema.defaults import NO_DEFAULT
from kazoodesk.schema.fields import (
    ITEM,
    VALUE,
    FieldSpec,
    Kind,
    build_fields,
    closest_variant,
    convert_value,
    humanize,
    pattern_matches,
    variant_label,
)


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load()


@pytest.fixture(scope="module")
def devices(registry: SchemaRegistry) -> FieldSpec:
    return build_fields(registry, "devices")


def field(root: FieldSpec, dotted: str) -> FieldSpec:
    spec = root.find(dotted)
    assert spec is not None, dotted
    return spec


def test_scalars_carry_title_description_default_and_bounds(devices: FieldSpec) -> None:
    password = field(devices, "sip.password")
    assert password.kind is Kind.STRING
    assert password.path == ("sip", "password")
    assert password.dotted == "sip.password"
    assert password.title == "Password"
    assert password.description == "SIP authentication password"
    assert (password.min_length, password.max_length) == (5, 32)
    assert password.default is NO_DEFAULT and not password.has_default

    expire = field(devices, "sip.expire_seconds")
    assert expire.kind is Kind.INTEGER and expire.default == 300 and expire.has_default
    assert field(devices, "sip.realm").pattern == "^[.\\w_-]+$"
    assert field(devices, "enabled").kind is Kind.BOOLEAN
    assert field(devices, "enabled").default is True


def test_required_comes_from_the_parent(devices: FieldSpec) -> None:
    assert field(devices, "name").required
    assert not field(devices, "sip.username").required
    module = field(devices, "metaflows.numbers").map_value
    assert module is not None and module.children["module"].required


def test_enum_and_its_default(devices: FieldSpec) -> None:
    invite = field(devices, "sip.invite_format")
    assert invite.kind is Kind.ENUM
    assert invite.enum is not None and "route" in invite.enum
    assert invite.default == "contact"


def test_refs_are_resolved_with_sibling_description(devices: FieldSpec) -> None:
    caller_id = field(devices, "caller_id")
    assert caller_id.kind is Kind.OBJECT and caller_id.ref == "caller_id"
    assert caller_id.description == "The device caller ID parameters"
    assert field(devices, "caller_id.internal.name").max_length == 35
    recording = field(devices, "call_recording.inbound.offnet.time_limit")
    assert (recording.minimum, recording.maximum) == (5, 10800)


def test_arrays_of_enum_and_of_text(devices: FieldSpec) -> None:
    codecs = field(devices, "media.audio.codecs")
    assert codecs.kind is Kind.ARRAY and codecs.unique_items
    assert codecs.items is not None and codecs.items.kind is Kind.ENUM
    assert codecs.items.path == ("media", "audio", "codecs", ITEM)
    flags = field(devices, "flags")
    assert flags.items is not None and flags.items.kind is Kind.STRING


def test_maps_from_pattern_and_additional_properties(devices: FieldSpec) -> None:
    users = field(devices, "hotdesk.users")
    assert users.kind is Kind.MAP
    assert users.key_allowed("a" * 32) and not users.key_allowed("bob")
    restriction = field(devices, "call_restriction")
    assert restriction.kind is Kind.MAP
    value = restriction.map_value
    assert value is not None and value.path == ("call_restriction", VALUE)
    assert value.children["action"].enum == ("inherit", "deny")
    keys = field(devices, "provision.combo_keys").map_value
    assert keys is not None and keys.kind is Kind.VARIANT and keys.nullable


def test_object_with_properties_and_additional_properties(devices: FieldSpec) -> None:
    dial_plan = field(devices, "dial_plan")
    assert dial_plan.kind is Kind.OBJECT
    assert list(dial_plan.children) == ["system"]
    assert dial_plan.additional is not None


def test_variants_from_one_of_any_of_and_type_lists(devices: FieldSpec) -> None:
    flags = field(devices, "outbound_flags")
    assert flags.kind is Kind.VARIANT and flags.variant_keyword == "oneOf"
    assert [v.kind for v in flags.variants] == [Kind.ARRAY, Kind.OBJECT]
    assert [variant_label(v) for v in flags.variants] == ["List", "dynamic / static"]

    headers = field(devices, "sip.custom_sip_headers")
    assert headers.variant_keyword == "anyOf"
    assert [v.kind for v in headers.variants] == [Kind.MAP, Kind.OBJECT]

    model = field(devices, "provision.endpoint_model")
    assert model.variant_keyword == "type"
    assert [v.kind for v in model.variants] == [Kind.STRING, Kind.INTEGER]

    bypass = field(devices, "media.bypass_media")
    assert [v.kind for v in bypass.variants] == [Kind.BOOLEAN, Kind.ENUM]
    assert bypass.variants[1].enum == ("auto",)
    assert bypass.accepts(True) and bypass.accepts("auto") and not bypass.accepts("sometimes")


def test_recursive_refs_stop_as_free_json(devices: FieldSpec) -> None:
    node = field(devices, "metaflows.numbers").map_value
    assert node is not None and node.ref == "metaflow"
    children = node.children["children"].map_value
    assert children is not None and children.kind is Kind.ANY and children.recursive


def test_a_cycle_between_schemas_terminates() -> None:
    registry = SchemaRegistry.from_documents(
        {
            "a": {"type": "object", "properties": {"b": {"$ref": "b"}}},
            "b": {"type": "object", "properties": {"a": {"$ref": "a"}, "x": {"type": "string"}}},
        }
    )
    root = build_fields(registry, "a")
    assert field(root, "b.x").kind is Kind.STRING
    assert field(root, "b.a").recursive


def test_server_documents_give_the_same_tree(registry: SchemaRegistry) -> None:
    served = SchemaRegistry.from_documents({n: registry.document(n) for n in registry.names()})
    bundled = [(s.dotted, s.kind) for s in build_fields(registry, "devices").walk()]
    assert [(s.dotted, s.kind) for s in build_fields(served, "devices").walk()] == bundled


def test_extra_property_of_a_server_schema(registry: SchemaRegistry) -> None:
    docs = {n: registry.document(n) for n in registry.names()}
    docs["devices"]["properties"]["shiny_new"] = {"type": "string", "description": "New"}
    root = build_fields(SchemaRegistry.from_documents(docs), "devices")
    assert field(root, "shiny_new").kind is Kind.STRING


def test_leaves_skip_object_groups(devices: FieldSpec) -> None:
    leaves = {s.dotted for s in devices.leaves()}
    assert "sip.username" in leaves and "sip" not in leaves
    assert "provision.combo_keys" in leaves


def test_closest_variant_uses_discriminators(devices: FieldSpec) -> None:
    key = field(devices, "provision.combo_keys").map_value
    assert key is not None
    assert closest_variant(key, {"type": "parking", "value": 1}) == 0
    assert closest_variant(key, {"type": "presence", "value": "1002"}) == 1
    flags = field(devices, "outbound_flags")
    assert closest_variant(flags, ["fax"]) == 0
    assert closest_variant(flags, {"static": ["x"]}) == 1


def test_convert_value_keeps_what_fits(devices: FieldSpec) -> None:
    model = field(devices, "provision.endpoint_model")
    text, number = model.variants
    assert convert_value("42", number) == 42
    assert convert_value(42, text) == "42"
    assert convert_value("t54w", number) is NO_DEFAULT
    bypass = field(devices, "media.bypass_media")
    assert convert_value("true", bypass.variants[0]) is True


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("mac_address", "MAC address"),
        ("sip", "SIP"),
        ("expire_seconds", "Expire seconds"),
        ("media_id", "Media ID"),
        ("owner_id", "Owner ID"),
    ],
)
def test_humanize(name: str, label: str) -> None:
    assert humanize(name) == label


def test_erlang_patterns() -> None:
    assert pattern_matches("^[[:alnum:]_]+$", "caller_id_1")
    assert not pattern_matches("^[[:alnum:]_]+$", "no-dash")
    assert pattern_matches("^[0-9]+$", "12") and not pattern_matches("^[0-9]+$", "x")
    assert pattern_matches("(unclosed", "anything")  # left to the server
