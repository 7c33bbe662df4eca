"""Validation as Kazoo 4.3 does it (docs/kazoo-api.md §4.1 and §5.2)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from helpers import NEW_DEVICE_DEFAULTS, SENT_CALL_FORWARD_DEFAULTS, SENT_MEDIA_DEFAULTS
from kazoodesk.schema import SchemaRegistry, Validated, error_path, merge_errors, validate

CODECS = [
    "OPUS",
    "CELT@32000h",
    "G7221@32000h",
    "G7221@16000h",
    "G722",
    "speex@32000h",
    "speex@16000h",
    "PCMU",
    "PCMA",
    "G729",
    "GSM",
    "CELT@48000h",
    "CELT@64000h",
    "G722_16",
    "G722_32",
    "CELT_48",
    "CELT_64",
    "Speex",
    "speex",
]
REALM_PATTERN = "^[.\\w_-]+$"


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load()


def device(registry: SchemaRegistry, doc: dict[str, Any]) -> Validated:
    return validate(registry, "devices", doc)


def min_length(n: int, value: str) -> dict[str, Any]:
    message = f"String must be at least {n} characters"
    return {"minLength": {"message": message, "target": n, "cause": value, "value": value}}


def type_error(types: str, value: Any) -> dict[str, Any]:
    message = f"Value did not match type(s): {types}"
    return {"type": {"message": message, "target": types, "value": value}}


def required(name: str) -> dict[str, Any]:
    return {"required": {"message": "Field is required but missing", "value": name}}


# ------------------------------------------------------------------ §4.1 examples


def test_missing_name_is_required(registry: SchemaRegistry) -> None:
    assert device(registry, {}).errors == {"name": required("name")}


def test_empty_name_is_too_short(registry: SchemaRegistry) -> None:
    assert device(registry, {"name": ""}).errors == {"name": min_length(1, "")}


def test_every_field_error_is_reported_at_once_one_code_per_path(
    registry: SchemaRegistry,
) -> None:
    doc = {"name": "d", "sip": {"password": "abc", "username": "a", "realm": "a b"}}

    errors = device(registry, doc).errors

    assert errors == {
        "sip.password": min_length(5, "abc"),
        "sip.username": min_length(2, "a"),
        # "a b" is also shorter than 4, but pattern is checked after minLength and wins
        "sip.realm": {
            "pattern": {
                "message": f"Failed to match pattern '{REALM_PATTERN}'",
                "target": REALM_PATTERN,
                "value": "a b",
            }
        },
    }


def test_unknown_sip_method_is_an_enum_error(registry: SchemaRegistry) -> None:
    errors = device(registry, {"name": "d", "sip": {"method": "foo"}}).errors

    assert errors == {
        "sip.method": {
            "enum": {
                "message": "Value not found in enumerated list of values",
                "target": ["password", "ip"],
                "value": "foo",
            }
        }
    }


def test_array_items_are_addressed_by_index(registry: SchemaRegistry) -> None:
    codecs = ["PCMU", "XYZ", "PCMU"]

    errors = device(registry, {"name": "d", "media": {"audio": {"codecs": codecs}}}).errors

    assert errors == {
        "media.audio.codecs.1": {
            "enum": {
                "message": "Value not found in enumerated list of values",
                "target": CODECS,
                "value": "XYZ",
            }
        },
        "media.audio.codecs": {
            "uniqueItems": {"message": "List of items is not unique", "value": codecs}
        },
    }


def test_the_keyword_checked_last_wins_on_a_path(registry: SchemaRegistry) -> None:
    # sip.method lists enum before type: a number fails both, and type is what Kazoo shows
    errors = device(registry, {"name": "d", "sip": {"method": 5}}).errors

    assert errors == {"sip.method": type_error("string", 5)}


# ------------------------------------------------------------------ type coercion


def test_boolean_text_true_is_stored_as_a_boolean(registry: SchemaRegistry) -> None:
    outcome = device(registry, {"name": "d", "enabled": "true", "exclude_from_queues": "false"})

    assert outcome.errors == {}
    assert outcome.doc["enabled"] is True
    assert outcome.doc["exclude_from_queues"] is False


@pytest.mark.parametrize("value", ["yes", "TRUE", 1, None])
def test_other_values_for_a_boolean_are_type_errors(registry: SchemaRegistry, value: Any) -> None:
    errors = device(registry, {"name": "d", "enabled": value}).errors

    assert errors == {"enabled": type_error("boolean", value)}


@pytest.mark.parametrize(
    ("value", "stored"),
    [("300", 300), ("-20", -20), (300.6, 301), (300.5, 301), (-2.5, -3), ("7.5", 8), (60.0, 60)],
)
def test_integer_text_and_floats_become_integers_rounding_half_away_from_zero(
    registry: SchemaRegistry, value: Any, stored: int
) -> None:
    outcome = device(registry, {"name": "d", "sip": {"expire_seconds": value}})

    assert outcome.errors == {}
    assert outcome.doc["sip"]["expire_seconds"] == stored
    assert type(outcome.doc["sip"]["expire_seconds"]) is int


@pytest.mark.parametrize("value", ["300s", " 300", "3e2", "", True, {}])
def test_values_that_are_not_integers_stay_and_fail(registry: SchemaRegistry, value: Any) -> None:
    outcome = device(registry, {"name": "d", "sip": {"expire_seconds": value}})

    assert outcome.errors == {"sip.expire_seconds": type_error("integer", value)}
    assert outcome.doc["sip"]["expire_seconds"] == value


def test_a_property_of_several_types_is_never_coerced(registry: SchemaRegistry) -> None:
    errors = device(registry, {"name": "d", "provision": {"endpoint_model": 1.5}}).errors

    assert errors == {"provision.endpoint_model": type_error("string, integer", 1.5)}


def test_coercion_and_other_errors_are_reported_together(registry: SchemaRegistry) -> None:
    outcome = device(registry, {"name": "", "enabled": "false", "ringtones": {"internal": 7}})

    assert outcome.errors == {
        "name": min_length(1, ""),
        "ringtones.internal": type_error("string", 7),
    }
    assert outcome.doc["enabled"] is False


# ------------------------------------------------------------------ §5.2 defaults


def test_a_new_device_gets_exactly_kazoos_defaults(registry: SchemaRegistry) -> None:
    outcome = device(registry, {"name": "New Device"})

    assert outcome.errors == {}
    assert outcome.doc == {"name": "New Device", **NEW_DEVICE_DEFAULTS}


def test_sent_media_and_call_forward_objects_get_their_sub_defaults(
    registry: SchemaRegistry,
) -> None:
    outcome = device(registry, {"name": "d", "media": {}, "call_forward": {}})

    assert outcome.doc["media"] == SENT_MEDIA_DEFAULTS
    assert outcome.doc["call_forward"] == SENT_CALL_FORWARD_DEFAULTS


def test_no_defaults_inside_ref_objects_the_client_did_not_send(
    registry: SchemaRegistry,
) -> None:
    doc = device(registry, {"name": "d"}).doc

    assert not {"media", "caller_id", "dial_plan", "call_forward", "metaflows"} & doc.keys()


def test_values_the_client_sent_are_kept_over_defaults(registry: SchemaRegistry) -> None:
    sent = {"name": "d", "enabled": False, "sip": {"method": "ip", "ip": "10.0.0.1"}}

    doc = device(registry, sent).doc

    assert doc["enabled"] is False
    assert doc["sip"] == {
        "method": "ip",
        "ip": "10.0.0.1",
        "expire_seconds": 300,
        "invite_format": "contact",
    }


def test_the_input_document_is_left_untouched(registry: SchemaRegistry) -> None:
    sent = {"name": "d", "enabled": "true", "media": {}, "sip": {"expire_seconds": "60"}}
    before = copy.deepcopy(sent)

    outcome = device(registry, sent)

    assert sent == before
    assert outcome.doc is not sent


def test_users_and_accounts_get_their_defaults(registry: SchemaRegistry) -> None:
    user = validate(registry, "users", {"first_name": "Ada", "last_name": "Lovelace"})
    account = validate(registry, "accounts", {"name": "Acme"})

    assert user.errors == {} and account.errors == {}
    assert user.doc["priv_level"] == "user"
    assert user.doc["hotdesk"] == {
        "enabled": False,
        "keep_logged_in_elsewhere": False,
        "require_pin": False,
    }
    assert account.doc == {
        "name": "Acme",
        "call_restriction": {},
        "enabled": True,
        "music_on_hold": {},
        "preflow": {},
        "ringtones": {},
    }


def test_a_default_applies_only_with_a_type_it_matches() -> None:
    props = {
        "untyped": {"default": 5},
        "mistyped": {"default": "5", "type": "integer"},
        "float_for_integer": {"default": 1.0, "type": "integer"},
        "listed_types": {"default": "x", "type": ["integer", "string"]},
        "array": {"default": [], "type": "array"},
    }
    registry = SchemaRegistry.from_documents({"t": {"properties": props, "type": "object"}})

    assert validate(registry, "t", {}).doc == {"listed_types": "x", "array": []}


def test_defaults_filled_in_by_the_passing_branch_of_any_of_are_kept() -> None:
    branch = {"properties": {"a": {"default": 1, "type": "integer"}}, "type": "object"}
    schema = {"properties": {"x": {"anyOf": [{"type": "string"}, branch]}}, "type": "object"}
    registry = SchemaRegistry.from_documents({"t": schema})

    assert validate(registry, "t", {"x": {}}).doc == {"x": {"a": 1}}
    assert validate(registry, "t", {"x": "s"}).doc == {"x": "s"}


# ------------------------------------------------------------------ other schemas and codes


def test_required_paths_name_the_missing_key_under_its_parent(registry: SchemaRegistry) -> None:
    assert validate(registry, "devices_notify", {}).errors == {"data": required("data")}
    assert validate(registry, "devices_notify", {"data": {}}).errors == {
        "data.event": required("event")
    }
    assert validate(registry, "devices_notify", {"data": {"event": "x", "body": {}}}).errors == {
        "data.body.data": required("data"),
        "data.body.content_type": required("content_type"),
    }


def test_extra_keys_are_refused_where_additional_properties_is_false(
    registry: SchemaRegistry,
) -> None:
    sent = {"api_key": "k" * 64, "extra": 1}

    errors = validate(registry, "api_auth", sent).errors

    message = "Strict checking of data is enabled; only include schema-defined properties"
    assert errors == {"extra": {"additionalProperties": {"message": message, "value": sent}}}


def test_an_api_key_of_the_wrong_length_is_a_length_error(registry: SchemaRegistry) -> None:
    short = validate(registry, "api_auth", {"api_key": "abc"}).errors
    long = validate(registry, "api_auth", {"api_key": "k" * 65}).errors

    assert short == {"api_key": min_length(64, "abc")}
    message = "String must not be more than 64 characters"
    value = "k" * 65
    assert long == {
        "api_key": {"maxLength": {"message": message, "target": 64, "cause": value, "value": value}}
    }


def test_a_dot_inside_a_key_is_escaped_in_the_error_path(registry: SchemaRegistry) -> None:
    errors = validate(registry, "api_auth", {"api_key": "k" * 64, "a.b": 1}).errors

    assert list(errors) == ["a%2Eb"]
    assert error_path(["a.b", 0, "c.d.e"]) == "a%2Eb.0.c%2Ed%2Ee"
    assert error_path([]) == ""


def test_one_of_and_any_of_failures_have_kazoos_generic_body(registry: SchemaRegistry) -> None:
    errors = device(
        registry, {"name": "d", "outbound_flags": "x", "sip": {"custom_sip_headers": {"in": 5}}}
    ).errors

    assert errors == {
        "outbound_flags": {"not_one_schema_valid": {"message": "failed to validate", "value": "x"}},
        "sip.custom_sip_headers": {
            "any_schemas_not_valid": {"message": "failed to validate", "value": {"in": 5}}
        },
    }


def test_one_of_fails_when_more_than_one_branch_matches(registry: SchemaRegistry) -> None:
    # null passes both combo key branches (their properties only constrain objects)
    errors = device(registry, {"name": "d", "provision": {"combo_keys": {"1": None}}}).errors

    assert errors == {
        "provision.combo_keys.1": {
            "not_one_schema_valid": {"message": "failed to validate", "value": None}
        }
    }


def test_one_of_and_any_of_accept_a_matching_branch(registry: SchemaRegistry) -> None:
    sent = {
        "name": "d",
        "outbound_flags": {"static": ["a"], "dynamic": []},
        "sip": {"custom_sip_headers": {"in": {"X-Foo": "bar"}, "out": {}}},
        "provision": {"combo_keys": {"1": {"type": "parking", "value": "3"}}},
    }

    assert device(registry, sent).errors == {}


def test_pattern_properties_use_erlang_posix_classes(registry: SchemaRegistry) -> None:
    # formatters keys must match ^[[:alnum:]_]+$; a matching key is then checked
    errors = device(registry, {"name": "d", "formatters": {"from_user": 5}}).errors

    assert errors == {
        "formatters.from_user": {
            "not_one_schema_valid": {"message": "failed to validate", "value": 5}
        }
    }


def test_regex_classes_are_ascii_only_as_in_erlang(registry: SchemaRegistry) -> None:
    errors = device(registry, {"name": "d", "sip": {"realm": "exämple.com"}}).errors

    assert list(errors["sip.realm"]) == ["pattern"]


def test_min_or_max_length_is_told_by_the_size_in_bytes(registry: SchemaRegistry) -> None:
    # one character, two bytes: under minLength 2, yet Kazoo names it a maxLength error
    errors = device(registry, {"name": "d", "sip": {"username": "é"}}).errors

    message = "String must not be more than 32 characters"
    assert errors == {
        "sip.username": {
            "maxLength": {"message": message, "target": 32, "cause": "é", "value": "é"}
        }
    }


def test_email_format_is_checked(registry: SchemaRegistry) -> None:
    errors = validate(registry, "users", {"first_name": "a", "last_name": "b", "email": "nope"})

    assert errors.errors == {
        "email": {
            "wrong_format": {
                "message": "Field is not in the correct format",
                "value": "nope",
                "format": "email",
            }
        }
    }


def test_unknown_schema_name_is_a_key_error(registry: SchemaRegistry) -> None:
    with pytest.raises(KeyError):
        validate(registry, "no_such_schema", {})


# ------------------------------------------------------------------ merge_errors


def test_custom_errors_are_deep_merged_with_the_later_winning() -> None:
    custom = {
        "sip.username": {"unique": {"message": "SIP credentials already in use", "cause": "a"}}
    }
    schema = {
        "sip.username": {"minLength": {"message": "too short", "target": 2}},
        "name": {"required": {"message": "Field is required but missing", "value": "name"}},
    }
    later = {"sip.username": {"unique": {"message": "replaced"}}}
    before = copy.deepcopy((custom, schema))

    merged = merge_errors(merge_errors(custom, schema), later)

    assert merged == {
        "sip.username": {
            "unique": {"message": "replaced", "cause": "a"},
            "minLength": {"message": "too short", "target": 2},
        },
        "name": {"required": {"message": "Field is required but missing", "value": "name"}},
    }
    assert (custom, schema) == before


# ------------------------------------------------------------------ the registry


def test_registry_built_from_documents_validates_like_the_loaded_one(
    registry: SchemaRegistry,
) -> None:
    fetched = SchemaRegistry.from_documents({n: registry.document(n) for n in registry.names()})
    samples = [
        {"name": "New Device", "media": {}},
        {"name": "", "sip": {"realm": "a b", "expire_seconds": "30"}, "caller_id": {"x": 1}},
    ]

    assert fetched.names() == registry.names()
    for doc in samples:
        assert device(fetched, doc) == device(registry, doc)


def test_registry_names_are_sorted_and_documents_are_copies(registry: SchemaRegistry) -> None:
    names = registry.names()
    doc = registry.document("devices")
    doc["properties"].clear()

    assert names == sorted(names)
    assert {"devices", "users", "accounts", "call_recording"} <= set(names)
    assert registry.document("devices")["properties"]
    with pytest.raises(KeyError):
        registry.document("nope")


def test_registry_resolves_bare_id_refs(registry: SchemaRegistry) -> None:
    media = registry.document("devices")["properties"]["media"]

    assert registry.resolve(media) == registry.document("endpoint.media")
    assert registry.resolve({"type": "string"}) == {"type": "string"}
    with pytest.raises(KeyError):
        registry.resolve({"$ref": "nope"})


def test_documents_given_to_from_documents_can_change_afterwards() -> None:
    docs = {"thing": {"properties": {"n": {"type": "integer"}}, "type": "object"}}
    registry = SchemaRegistry.from_documents(docs)

    docs["thing"]["properties"]["n"]["type"] = "string"

    assert validate(registry, "thing", {"n": "x"}).errors == {"n": type_error("integer", "x")}
