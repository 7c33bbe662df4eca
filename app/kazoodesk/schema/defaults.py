"""How Kazoo 4.3 changes a document while validating it: defaults and type fixes.

Defaults: Kazoo validates with jesse 1.5 and the options `use_defaults` and
`apply_defaults_to_empty_objects` (`kz_json_schema` `?DEFAULT_OPTIONS`). While checking the
`properties` of an object the client sent, jesse fills in each missing property whose own
schema has both `default` and `type` (the default being of that type), then validates the
filled-in value, which fills in its own sub-defaults (`sip: {}` becomes
`sip: {expire_seconds: 300, ...}`). A property whose schema is only a `$ref` has no default,
so nothing is filled in inside an object the client did not send.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Final = _NoDefault()


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# JSON types as jesse tests them: 1.0 is a number but not an integer, true is not a number.
TYPE_TESTS: Final[dict[str, Callable[[Any], bool]]] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
}


def is_type(value: Any, type_name: Any) -> bool:
    """True when `value` is of the JSON type `type_name`; unknown type names match nothing."""
    test = TYPE_TESTS.get(type_name) if isinstance(type_name, str) else None
    return test is not None and test(value)


def default_for(property_schema: Any) -> Any:
    """The default jesse fills in for a missing property with this schema, or NO_DEFAULT."""
    if not isinstance(property_schema, Mapping) or "default" not in property_schema:
        return NO_DEFAULT
    default = property_schema["default"]
    declared = property_schema.get("type")
    if isinstance(declared, str):
        fits = is_type(default, declared)
    elif isinstance(declared, list):
        fits = any(is_type(default, name) for name in declared)
    else:  # no type, or a type given as a schema: jesse applies nothing
        fits = False
    return default if fits else NO_DEFAULT


CONTAINERS: Final = (dict, list)  # a tuple: `dict | list` would be built anew at every use


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts and lists copied, scalars shared); fast for our use."""
    if isinstance(value, dict):
        return {k: json_copy(v) if isinstance(v, CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) if isinstance(v, CONTAINERS) else v for v in value]
    return value


# Kazoo's second fix-up: with `schema_strict_validation` off (the default), a wrong-typed value
# of a property typed exactly "integer" or "boolean" is converted with kz_term and the document
# validated again (cb_context:maybe_fix_js_types/5).

_INTEGER_TEXT: Final = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT: Final = re.compile(r"[+-]?[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?")


def fix_js_type(declared: Any, value: Any) -> int | bool | None:
    """The converted value for a property of type `declared`, or None when Kazoo keeps it."""
    if declared == "integer":
        return to_integer(value)
    if declared == "boolean":
        return {"true": True, "false": False}.get(_erlang_text(value) or "")
    return None


def to_integer(value: Any) -> int | None:
    """kz_term:to_integer/1: integer text as is, floats and float text rounded half away from 0."""
    if isinstance(value, float):
        return _erlang_round(value)
    if _is_integer(value):
        return int(value)
    text = _erlang_text(value)
    if text is None:
        return None
    try:
        if _INTEGER_TEXT.fullmatch(text):
            return int(text)
        if _FLOAT_TEXT.fullmatch(text):
            return _erlang_round(float(text))
    except ValueError:  # more digits than `sys.get_int_max_str_digits()` allows
        return None
    return None


def _erlang_text(value: Any) -> str | None:
    """Text as kz_term sees it: a string, or an array of character codes (an Erlang string)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(_is_integer(c) and 0 <= c <= 0x10FFFF for c in value):
        return "".join(map(chr, value))
    return None


def _erlang_round(number: float) -> int | None:
    if not math.isfinite(number):
        return None
    size = abs(number)
    whole = math.floor(size)
    rounded = whole + 1 if size - whole >= 0.5 else whole
    return rounded if number >= 0 else -rounded
