"""Validate a document the way Kazoo 4.3 Crossbar does and report errors in its format.

Kazoo runs jesse 1.5 (jesse.py) and turns each jesse error into
`{"<dotted.path>": {"<code>": {...}}}` (`kz_json_schema:error_to_jobj/2`). Crossbar merges
those shallowly, so when several keywords fail on one path the one checked last wins. A
wrong-typed integer or boolean is converted and the document checked again (see defaults.py).
docs/kazoo-api.md §4.1 has the details. Not modelled: Kazoo's `kazoo-validation` extra checks
(metaflow module data, recording URLs) and `support_level` filtering, both off by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from kazoodesk.schema.defaults import fix_js_type, json_copy, to_integer
from kazoodesk.schema.jesse import JsonPath, RawError, compile_schema
from kazoodesk.schema.registry import SchemaRegistry

ErrorMap = dict[str, dict[str, dict[str, Any]]]


@dataclass
class Validated:
    doc: dict[str, Any]  # the input with type coercion and defaults applied (a new object)
    errors: ErrorMap  # empty when valid


def validate(registry: SchemaRegistry, name: str, doc: dict[str, Any]) -> Validated:
    """Check `doc` against schema `name` as Kazoo would; KeyError if `name` is unknown."""
    check = compile_schema(registry, name)
    pristine: Any = doc  # the client's document, type fixes aside; never changed in place
    for _ in range(8):  # each round fixes every convertible value it found; two suffice
        work = json_copy(pristine)
        found: list[RawError] = []
        check(work, (), found)
        if not found:
            break
        if pristine is doc:
            pristine = json_copy(doc)
        if not _fix_js_types(pristine, found):
            break
    return Validated(work, _error_map(found))


def merge_errors(a: ErrorMap, b: ErrorMap) -> ErrorMap:
    """Deep merge, `b` winning on conflicts, as `cb_context:add_validation_error/4` merges."""
    return _deep_merge(a, b)


def error_path(parts: Iterable[str | int]) -> str:
    """Kazoo's error key: parts joined by ".", a "." inside a key written as "%2E"."""
    return ".".join(str(part).replace(".", "%2E") for part in parts)


def _fix_js_types(doc: Any, found: list[RawError]) -> bool:
    fixed = False
    for raw in found:
        if raw.kind == "wrong_type" and raw.path:
            converted = fix_js_type(raw.schema.get("type"), raw.value)
            if converted is not None and _set_at(doc, raw.path, converted):
                fixed = True
    return fixed


def _set_at(doc: Any, path: JsonPath, value: Any) -> bool:
    try:
        for part in path[:-1]:
            doc = doc[part]
        doc[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _deep_merge(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    merged = {key: json_copy(value) for key, value in left.items()}
    for key, value in right.items():
        if isinstance(merged.get(key), dict) and isinstance(value, Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = json_copy(value)
    return merged


# ------------------------------------------------------ Kazoo's error bodies (kz_json_schema)

_UNDEFINED: Final[Any] = object()  # Erlang `undefined`, which kz_json:from_list drops
_Error = tuple[str, dict[str, Any]]  # an error code and its body


def _error_map(found: list[RawError]) -> ErrorMap:
    errors: ErrorMap = {}
    for raw in found:  # a later error on a path replaces the earlier one (shallow merge)
        code, body = _BODIES.get(raw.kind, _generic)(raw)
        errors[error_path(raw.path)] = {
            code: {k: v for k, v in body.items() if v is not _UNDEFINED}
        }
    return errors


def type_error(types: Any, value: Any) -> dict[str, Any]:
    """The body of a `type` error: `value` is not of the JSON type(s) `types`."""
    text = _types_text(types)
    return _body(f"Value did not match type(s): {text}", text, value)


def _wrong_type(raw: RawError) -> _Error:
    return "type", type_error(raw.schema.get("type"), raw.value)


def _wrong_length(raw: RawError) -> _Error:
    schema, value = raw.schema, raw.value
    # Which of min and max failed is told by minLength against the size in *bytes*.
    minimum = to_integer(schema.get("minLength"))
    if minimum is not None and minimum > len(value.encode()):
        code, target = "minLength", schema["minLength"]
        message = f"String must be at least {_text(target)} characters"
    else:
        code, target = "maxLength", schema.get("maxLength", _UNDEFINED)
        message = f"String must not be more than {_text(target)} characters"
    return code, {"message": message, "target": target, "cause": value, "value": value}


def _not_in_range(raw: RawError) -> _Error:
    schema, value = raw.schema, raw.value
    minimum = to_integer(schema.get("minimum"))
    if minimum is not None and minimum > value:
        target = _first(schema, "minimum", "exclusiveMinimum")
        return "minimum", _body(f"Value must be at least {_text(target)}", target, value)
    target = _first(schema, "maximum", "exclusiveMaximum")
    return "maximum", _body(f"Value must be at most {_text(target)}", target, value)


def _wrong_size(raw: RawError) -> _Error:
    schema, value = raw.schema, raw.value
    minimum = schema.get("minItems", _UNDEFINED)
    if minimum is _UNDEFINED or len(value) < minimum:  # Erlang: `N < undefined` is true
        text = f"The list must have at least {_text(minimum)} items"
        return "minItems", _body(text, minimum, value)
    maximum = schema.get("maxItems", _UNDEFINED)
    return "maxItems", _body(f"The list is more than {_text(maximum)} items", maximum, value)


def _not_in_enum(raw: RawError) -> _Error:
    text = "Value not found in enumerated list of values"
    return "enum", _body(text, raw.schema.get("enum", []), raw.value)


def _no_match(raw: RawError) -> _Error:
    pattern = raw.schema.get("pattern")
    return "pattern", _body(f"Failed to match pattern '{pattern}'", pattern, raw.value)


def _wrong_format(raw: RawError) -> _Error:
    text = "Field is not in the correct format"
    return "wrong_format", {"message": text, "value": raw.value, "format": raw.schema.get("format")}


def _schema_not_found(raw: RawError) -> _Error:
    return "schema", {"message": "schema not found", "schema": raw.value}


def _generic(raw: RawError) -> _Error:
    code, message = _MESSAGES.get(raw.kind, (raw.kind, "failed to validate"))
    return code, {"message": message, "value": raw.value}


_BODIES: Final[dict[str, Callable[[RawError], _Error]]] = {
    "wrong_type": _wrong_type,
    "wrong_length": _wrong_length,
    "not_in_range": _not_in_range,
    "wrong_size": _wrong_size,
    "not_in_enum": _not_in_enum,
    "no_match": _no_match,
    "wrong_format": _wrong_format,
    "schema_not_found": _schema_not_found,
}

_MESSAGES: Final = {
    "missing_required_property": ("required", "Field is required but missing"),
    "not_unique": ("uniqueItems", "List of items is not unique"),
    "no_extra_properties_allowed": (
        "additionalProperties",
        "Strict checking of data is enabled; only include schema-defined properties",
    ),
    "no_extra_items_allowed": (
        "additionalItems",
        "Strict checking of data is enabled; only include schema-defined items",
    ),
    "missing_dependency": ("dependencies", "Dependencies were not validated"),
}


def _body(message: str, target: Any, value: Any) -> dict[str, Any]:
    return {"message": message, "target": target, "value": value}


def _first(schema: Mapping[str, Any], *keys: str) -> Any:
    return next((schema[k] for k in keys if schema.get(k) is not None), _UNDEFINED)


def _types_text(declared: Any) -> str:
    if isinstance(declared, str):
        return declared
    if isinstance(declared, list):
        return ", ".join(_text(name) for name in declared)
    return "type schema"


def _text(value: Any) -> str:
    """kz_term:to_binary/1 of a schema value."""
    if value is _UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
