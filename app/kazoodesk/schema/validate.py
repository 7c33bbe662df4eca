"""Validate a document the way Kazoo 4.3 Crossbar does and report errors in its format.

Kazoo runs jesse 1.5 (draft 4, every error collected, defaults filled in) and turns each jesse
error into `{"<dotted.path>": {"<code>": {...}}}` (`kz_json_schema:error_to_jobj/2`). Crossbar
merges those shallowly, so when several keywords fail on one path the one checked last wins;
jesse checks keywords in the order the schema lists them (alphabetical in Kazoo's files). A
wrong-typed integer or boolean is converted and the document checked again (see defaults.py).
docs/kazoo-api.md §4.1 has the details.

The checker below is compiled once per schema and follows jesse rather than a generic JSON
Schema library, because these details decide which error a client sees: keyword order, the
siblings of `$ref` being checked too, Erlang regular expressions (ASCII `\\w`, POSIX classes),
`1 != 1.0` in `enum`. Not modelled: Kazoo's `kazoo-validation` extra checks (metaflow module
data, recording URLs) and `support_level` filtering, both off in a default install.
"""

from __future__ import annotations

import ipaddress
import math
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from referencing.exceptions import Unresolvable

from kazoodesk.schema.defaults import NO_DEFAULT, TYPE_TESTS, default_for, fix_js_type, json_copy
from kazoodesk.schema.defaults import to_integer as _to_integer
from kazoodesk.schema.registry import SchemaRegistry

ErrorMap = dict[str, dict[str, dict[str, Any]]]


@dataclass
class Validated:
    doc: dict[str, Any]  # the input with type coercion and defaults applied (a new object)
    errors: ErrorMap  # empty when valid


def validate(registry: SchemaRegistry, name: str, doc: dict[str, Any]) -> Validated:
    """Check `doc` against schema `name` as Kazoo would; KeyError if `name` is unknown."""
    check = _compiler(registry).root(name)
    pristine: Any = doc  # the client's document, type fixes aside; never changed in place
    for _ in range(8):  # each round fixes every convertible value it found; two suffice
        work = json_copy(pristine)
        found: list[_Raw] = []
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


def _fix_js_types(doc: Any, found: list[_Raw]) -> bool:
    fixed = False
    for raw in found:
        if raw.kind == "wrong_type" and raw.path:
            converted = fix_js_type(raw.schema.get("type"), raw.value)
            if converted is not None and _set_at(doc, raw.path, converted):
                fixed = True
    return fixed


def _set_at(doc: Any, path: _Path, value: Any) -> bool:
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


# ------------------------------------------------------------------ the checker (jesse 1.5)

_Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class _Raw:
    """One failed check, before Kazoo turns it into an error body."""

    path: _Path
    kind: str  # jesse's error name
    schema: Mapping[str, Any]  # the schema holding the keyword that failed
    value: Any


_Check = Callable[[Any, _Path, list[_Raw]], None]
_Builder = Callable[["_Compiler", Any, Mapping[str, Any], Any], _Check | None]


class _Compiler:
    """Turns the schemas of one registry into check functions, each schema once."""

    def __init__(self, registry: SchemaRegistry) -> None:
        # Not the SchemaRegistry itself: _COMPILERS must not keep it alive.
        self._names = frozenset(registry.names())
        self._refs = registry.referencing  # holds the schema objects, so their ids stay unique
        self._checks: dict[int, _Check] = {}  # by id() of schema object
        self._roots: dict[str, _Check] = {}
        self._lock = threading.Lock()

    def root(self, name: str) -> _Check:
        found = self._roots.get(name)
        if found is None:
            if name not in self._names:
                raise KeyError(name)
            with self._lock:  # a half-built check must never escape to another thread
                if name not in self._roots:
                    resolved = self._refs.resolver().lookup(name)
                    self._roots[name] = self.check(resolved.contents, resolved.resolver)
            found = self._roots[name]
        return found

    def check(self, schema: Any, resolver: Any) -> _Check:
        found = self._checks.get(id(schema))
        if found is not None:
            return found
        steps: list[_Check] = []

        def run(value: Any, path: _Path, errors: list[_Raw]) -> None:
            for step in steps:
                step(value, path, errors)

        self._checks[id(schema)] = run  # before the steps, so recursive $refs find it
        if isinstance(schema, Mapping):
            for keyword, arg in schema.items():
                build = _BUILDERS.get(keyword)
                step = build(self, arg, schema, resolver) if build is not None else None
                if step is not None:
                    steps.append(step)
        return run


_COMPILERS: weakref.WeakKeyDictionary[SchemaRegistry, _Compiler] = weakref.WeakKeyDictionary()
_COMPILERS_LOCK = threading.Lock()


def _compiler(registry: SchemaRegistry) -> _Compiler:
    found = _COMPILERS.get(registry)
    if found is None:
        with _COMPILERS_LOCK:
            found = _COMPILERS.setdefault(registry, _Compiler(registry))
    return found


def _ref(c: _Compiler, ref: Any, schema: Mapping[str, Any], resolver: Any) -> _Check | None:
    if not isinstance(ref, str):
        return None
    try:
        resolved = resolver.lookup(ref)
    except Unresolvable:
        missing = _Raw(("schema",), "schema_not_found", schema, ref)
        return lambda value, path, errors: errors.append(missing)
    return c.check(resolved.contents, resolved.resolver)


def _type(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> _Check:
    names = arg if isinstance(arg, list) else [arg]
    tests = [TYPE_TESTS[n] for n in names if isinstance(n, str) and n in TYPE_TESTS]

    if len(tests) == 1:  # the usual case, kept fast
        (test,) = tests

        def one(value: Any, path: _Path, errors: list[_Raw]) -> None:
            if not test(value):
                errors.append(_Raw(path, "wrong_type", schema, value))

        return one

    def step(value: Any, path: _Path, errors: list[_Raw]) -> None:
        if not any(test(value) for test in tests):
            errors.append(_Raw(path, "wrong_type", schema, value))

    return step


def _properties(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> _Check | None:
    if not isinstance(arg, Mapping):
        return None
    entries = [(name, c.check(sub, resolver), default_for(sub)) for name, sub in arg.items()]

    def step(value: Any, path: _Path, errors: list[_Raw]) -> None:
        if isinstance(value, dict):
            for name, check, default in entries:
                if name in value:
                    check(value[name], (*path, name), errors)
                elif default is not NO_DEFAULT:
                    value[name] = json_copy(default)
                    check(value[name], (*path, name), errors)

    return step


def _pattern_properties(
    c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any
) -> _Check | None:
    if not isinstance(arg, Mapping):
        return None
    patterns = [(_regex(p), c.check(sub, resolver)) for p, sub in arg.items()]

    def step(value: Any, path: _Path, errors: list[_Raw]) -> None:
        if isinstance(value, dict):
            for key, item in list(value.items()):
                for regex, check in patterns:
                    if regex is not None and regex.search(key):
                        check(item, (*path, key), errors)

    return step


def _additional(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> _Check | None:
    known = set(schema.get("properties") or ())
    regexes = [r for r in map(_regex, schema.get("patternProperties") or ()) if r is not None]
    check = c.check(arg, resolver) if isinstance(arg, Mapping) else None
    if arg is not False and check is None:
        return None

    def step(value: Any, path: _Path, errors: list[_Raw]) -> None:
        if not isinstance(value, dict):
            return
        for key in [k for k in value if k not in known and not any(r.search(k) for r in regexes)]:
            if check is None:  # the error's value is the whole object, its path the extra key
                errors.append(_Raw((*path, key), "no_extra_properties_allowed", schema, value))
            else:
                check(value[key], (*path, key), errors)

    return step


def _items(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> _Check | None:
    if isinstance(arg, Mapping):  # one schema for every item
        checks, extra = [], arg
    elif isinstance(arg, list):  # a schema per position, then additionalItems for the rest
        checks, extra = [c.check(sub, resolver) for sub in arg], schema.get("additionalItems", True)
    else:
        return None
    extra_check = c.check(extra, resolver) if isinstance(extra, Mapping) else None

    def step(value: Any, path: _Path, errors: list[_Raw]) -> None:
        if not isinstance(value, list):
            return
        surplus = len(value) - len(checks)
        if surplus > 0 and extra_check is None:
            if extra is False:
                errors.append(_Raw(path, "no_extra_items_allowed", schema, value))
            return  # with additionalItems absent or true, jesse checks none of the items
        plan = checks + [extra_check] * surplus if extra_check is not None else checks
        for index, (item, check) in enumerate(zip(value, plan, strict=False)):
            check(item, (*path, index), errors)

    return step


def _required(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> _Check | None:
    if not isinstance(arg, list):
        return None  # a draft-3 style `"required": true`, which the draft-4 checker ignores

    def step(value: Any, path: _Path, errors: list[_Raw]) -> None:
        if isinstance(value, dict):
            for name in arg:
                if name not in value:
                    errors.append(_Raw((*path, name), "missing_required_property", schema, name))

    return step


def _dependencies(
    c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any
) -> _Check | None:
    if not isinstance(arg, Mapping):
        return None
    schemas = [(n, c.check(d, resolver)) for n, d in arg.items() if isinstance(d, Mapping)]
    names = [(n, d) for n, d in arg.items() if isinstance(d, list)]

    def step(value: Any, path: _Path, errors: list[_Raw]) -> None:
        if not isinstance(value, dict):
            return
        for name, check in schemas:
            if name in value:
                check(value, (*path, name), errors)  # jesse adds the name to the path
        for name, needed in names:
            if name in value and any(other not in value for other in needed):
                errors.append(_Raw(path, "missing_dependency", schema, value))

    return step


def _combinator(kind: str, error: str) -> _Builder:
    """allOf, anyOf, oneOf, not. Only the combinator's own error is reported, not its branches'."""

    def build(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> _Check | None:
        branches = [arg] if kind == "not" else arg
        if not isinstance(branches, list) or not branches:
            return None
        checks = [c.check(sub, resolver) for sub in branches]

        def step(value: Any, path: _Path, errors: list[_Raw]) -> None:
            if kind == "all":
                for check in checks:
                    check(value, path, errors)
                return
            passing = []
            for check in checks:
                trial = json_copy(value)
                trial_errors: list[_Raw] = []
                check(trial, path, trial_errors)
                if not trial_errors:
                    passing.append(trial)
                    if kind != "one" or len(passing) > 1:
                        break
            if bool(passing) if kind == "not" else len(passing) != 1:
                errors.append(_Raw(path, error, schema, value))
            elif kind != "not":
                _adopt(value, passing[0])

        return step

    return build


def _adopt(value: Any, trial: Any) -> None:
    """Keep what a passing branch filled in (its defaults), as jesse keeps its state."""
    if isinstance(value, dict):
        value.clear()
        value.update(trial)
    elif isinstance(value, list):
        value[:] = trial


def _plain(kind: str, applies: str | None, fails: Callable[[Any, Any, Any], bool]) -> _Builder:
    """A keyword that checks one value of JSON type `applies` (None: any) with `fails`."""
    test = TYPE_TESTS[applies] if applies else None

    def build(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> _Check:
        def step(value: Any, path: _Path, errors: list[_Raw]) -> None:
            if (test is None or test(value)) and fails(value, arg, schema):
                errors.append(_Raw(path, kind, schema, value))

        return step

    return build


def _kz_equal(a: Any, b: Any) -> bool:
    """jesse's is_equal: Erlang =:= on decoded JSON, so 1 and 1.0 (and true and 1) differ."""
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and len(a) == len(b)
            and all(k in b and _kz_equal(v, b[k]) for k, v in a.items())
        )
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and len(a) == len(b)
            and all(_kz_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    return type(a) is type(b) and a == b


def _enum(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> _Check | None:
    if not isinstance(arg, list):
        return None
    scalars = {(type(o), o) for o in arg if not isinstance(o, dict | list)}
    containers = [o for o in arg if isinstance(o, dict | list)]

    def step(value: Any, path: _Path, errors: list[_Raw]) -> None:
        if isinstance(value, dict | list):
            found = any(_kz_equal(value, o) for o in containers)
        else:
            found = (type(value), value) in scalars
        if not found:
            errors.append(_Raw(path, "not_in_enum", schema, value))

    return step


def _below(value: Any, bound: Any, schema: Any, exclusive: str) -> bool:
    return bool(value < bound or (value == bound and schema.get(exclusive) is True))


def _not_multiple(value: Any, divisor: Any) -> bool:
    if not TYPE_TESTS["number"](divisor) or divisor <= 0:
        return False
    try:
        quotient = value / divisor
        return bool((quotient - math.trunc(quotient)) * divisor != 0.0)
    except (OverflowError, ValueError):
        return True


_EMAIL: Final = re.compile(r"^[^@]+@[^@]+$")
_DATE_TIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _bad_format(value: str, fmt: Any) -> bool:
    """The formats jesse checks; every other one (uri, regex, hostname...) passes."""
    if fmt == "email":
        return _EMAIL.search(value) is None
    if fmt == "date-time":
        return _DATE_TIME.fullmatch(value) is None
    if fmt == "ipv4":
        parts = value.split(".")
        return len(parts) != 4 or not all(
            p.isascii() and p.isdigit() and int(p) < 256 for p in parts
        )
    if fmt == "ipv6":
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            return True
        return "%" in value
    return False


_POSIX_CLASSES: Final = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "lower": "a-z",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
    "space": r"\t\n\v\f\r ",
    "word": r"\w",
}


@lru_cache(maxsize=512)
def _regex(pattern: Any) -> re.Pattern[str] | None:
    """An Erlang `re` pattern (PCRE without UCP) for Python: ASCII classes, POSIX ones spelled out.

    A pattern Python cannot compile matches nothing (Kazoo would fail the request).
    """
    if not isinstance(pattern, str):
        return None
    spelled = re.sub(r"\[:(\w+):\]", lambda m: _POSIX_CLASSES.get(m[1], m[0]), pattern)
    try:
        return re.compile(spelled, re.ASCII)
    except re.error:
        return None


def _pattern_fails(value: str, pattern: Any, schema: Any) -> bool:
    regex = _regex(pattern)
    return regex is not None and regex.search(value) is None


_BUILDERS: Final[dict[str, _Builder]] = {
    "$ref": _ref,
    "type": _type,
    "properties": _properties,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional,
    "items": _items,
    "required": _required,
    "dependencies": _dependencies,
    "minimum": _plain(
        "not_in_range", "number", lambda v, a, s: _below(v, a, s, "exclusiveMinimum")
    ),
    "maximum": _plain(
        "not_in_range", "number", lambda v, a, s: _below(a, v, s, "exclusiveMaximum")
    ),
    "minItems": _plain("wrong_size", "array", lambda v, a, s: len(v) < a),
    "maxItems": _plain("wrong_size", "array", lambda v, a, s: len(v) > a),
    "uniqueItems": _plain(
        "not_unique",
        "array",
        lambda v, a, s: (
            a is True and any(_kz_equal(x, y) for i, x in enumerate(v) for y in v[i + 1 :])
        ),
    ),
    "pattern": _plain("no_match", "string", _pattern_fails),
    "minLength": _plain("wrong_length", "string", lambda v, a, s: len(v) < a),
    "maxLength": _plain("wrong_length", "string", lambda v, a, s: len(v) > a),
    "enum": _enum,
    "format": _plain("wrong_format", "string", lambda v, a, s: _bad_format(v, a)),
    "multipleOf": _plain("not_multiple_of", "number", lambda v, a, s: _not_multiple(v, a)),
    "maxProperties": _plain("too_many_properties", "object", lambda v, a, s: len(v) > a),
    "minProperties": _plain("too_few_properties", "object", lambda v, a, s: len(v) < a),
    "allOf": _combinator("all", ""),
    "anyOf": _combinator("any", "any_schemas_not_valid"),
    "oneOf": _combinator("one", "not_one_schema_valid"),
    "not": _combinator("not", "not_schema_valid"),
}


# ------------------------------------------------------ Kazoo's error bodies (kz_json_schema)

_UNDEFINED: Final[Any] = object()  # Erlang `undefined`, which kz_json:from_list drops


def _error_map(found: list[_Raw]) -> ErrorMap:
    errors: ErrorMap = {}
    for raw in found:  # a later error on a path replaces the earlier one (shallow merge)
        code, body = _kazoo_error(raw)
        errors[error_path(raw.path)] = {
            code: {k: v for k, v in body.items() if v is not _UNDEFINED}
        }
    return errors


def _kazoo_error(raw: _Raw) -> tuple[str, dict[str, Any]]:
    """`kz_json_schema:error_to_jobj/2` for one jesse error: its code and body."""
    schema, value, kind = raw.schema, raw.value, raw.kind
    if kind == "wrong_type":
        types = _types_text(schema.get("type"))
        return "type", _body(f"Value did not match type(s): {types}", types, value)
    if kind == "wrong_length":  # min or max is told by minLength against the size in *bytes*
        minimum = _to_integer(schema.get("minLength"))
        if minimum is not None and minimum > len(value.encode()):
            target = schema["minLength"]
            text = f"String must be at least {_text(target)} characters"
            return "minLength", {"message": text, "target": target, "cause": value, "value": value}
        target = schema.get("maxLength", _UNDEFINED)
        text = f"String must not be more than {_text(target)} characters"
        return "maxLength", {"message": text, "target": target, "cause": value, "value": value}
    if kind == "not_in_range":
        minimum = _to_integer(schema.get("minimum"))
        if minimum is not None and minimum > value:
            target = _first(schema, "minimum", "exclusiveMinimum")
            return "minimum", _body(f"Value must be at least {_text(target)}", target, value)
        target = _first(schema, "maximum", "exclusiveMaximum")
        return "maximum", _body(f"Value must be at most {_text(target)}", target, value)
    if kind == "wrong_size":  # Erlang sorts numbers before atoms: `N < undefined` is true
        minimum = schema.get("minItems", _UNDEFINED)
        if minimum is _UNDEFINED or len(value) < minimum:
            text = f"The list must have at least {_text(minimum)} items"
            return "minItems", _body(text, minimum, value)
        maximum = schema.get("maxItems", _UNDEFINED)
        return "maxItems", _body(f"The list is more than {_text(maximum)} items", maximum, value)
    if kind == "not_in_enum":
        text = "Value not found in enumerated list of values"
        return "enum", _body(text, schema.get("enum", []), value)
    if kind == "no_match":
        pattern = schema.get("pattern")
        return "pattern", _body(f"Failed to match pattern '{pattern}'", pattern, value)
    if kind == "wrong_format":
        text = "Field is not in the correct format"
        return "wrong_format", {"message": text, "value": value, "format": schema.get("format")}
    if kind == "schema_not_found":
        return "schema", {"message": "schema not found", "schema": value}
    code, message = _MESSAGES.get(kind, (kind, "failed to validate"))
    return code, {"message": message, "value": value}


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
