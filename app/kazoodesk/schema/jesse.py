"""A draft-4 checker that behaves as jesse 1.5, the validator of Kazoo 4.3, compiled per schema.

Not a generic JSON Schema library, because these details decide which error a Kazoo client
sees: every error is collected, in the order the schema lists its keywords; the siblings of
`$ref` are checked too; patterns are Erlang regular expressions (ASCII `\\w`, POSIX classes);
`1 != 1.0` in `enum`; missing properties get their defaults (see defaults.py) as they are
checked, so a check changes the value it is given.

    check = compile_schema(registry, "devices")
    errors: list[RawError] = []
    check(doc, (), errors)
"""

from __future__ import annotations

import ipaddress
import math
import re
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from referencing.exceptions import Unresolvable

from kazoodesk.schema.defaults import CONTAINERS, NO_DEFAULT, TYPE_TESTS, default_for, json_copy
from kazoodesk.schema.registry import SchemaRegistry

JsonPath = tuple[str | int, ...]  # keys and indexes from the document root


@dataclass(frozen=True, slots=True)
class RawError:
    """One failed check, as jesse reports it."""

    path: JsonPath
    kind: str  # jesse's error name, e.g. "wrong_type"
    schema: Mapping[str, Any]  # the schema holding the keyword that failed
    value: Any


Check = Callable[[Any, JsonPath, list[RawError]], None]
"""`check(value, path, errors)`: fills in defaults in `value`, appends what fails to `errors`."""


def compile_schema(registry: SchemaRegistry, name: str) -> Check:
    """The check for schema `name` of `registry`, compiled once; KeyError if there is none."""
    found = _COMPILERS.get(registry)
    if found is None:
        with _COMPILERS_LOCK:
            found = _COMPILERS.setdefault(registry, _Compiler(registry))
    return found.root(name)


_Builder = Callable[["_Compiler", Any, Mapping[str, Any], Any], Check | None]


class _Compiler:
    """Turns the schemas of one registry into checks, each schema object once."""

    def __init__(self, registry: SchemaRegistry) -> None:
        # Not the SchemaRegistry itself: _COMPILERS must not keep it alive.
        self._names = frozenset(registry.names())
        self._refs = registry.referencing  # holds the schema objects, so their ids stay unique
        self._checks: dict[int, Check] = {}  # by id() of the schema object
        self._roots: dict[str, Check] = {}
        self._lock = threading.Lock()

    def root(self, name: str) -> Check:
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

    def check(self, schema: Any, resolver: Any) -> Check:
        found = self._checks.get(id(schema))
        if found is not None:
            return found
        built: list[Check] = []  # a recursive $ref met while building calls through this
        self._checks[id(schema)] = lambda value, path, errors: built[0](value, path, errors)
        steps = []
        if isinstance(schema, Mapping):
            for keyword, arg in schema.items():
                build = _BUILDERS.get(keyword)
                step = build(self, arg, schema, resolver) if build is not None else None
                if step is not None:
                    steps.append(step)
        built.append(_sequence(steps))
        self._checks[id(schema)] = built[0]
        return built[0]


def _sequence(steps: list[Check]) -> Check:
    if len(steps) == 1:  # most schemas: a lone $ref or type, called directly
        return steps[0]

    def run(value: Any, path: JsonPath, errors: list[RawError]) -> None:
        for step in steps:
            step(value, path, errors)

    return run


_COMPILERS: weakref.WeakKeyDictionary[SchemaRegistry, _Compiler] = weakref.WeakKeyDictionary()
_COMPILERS_LOCK = threading.Lock()


# ------------------------------------------------------------------ structural keywords


def _ref(c: _Compiler, ref: Any, schema: Mapping[str, Any], resolver: Any) -> Check | None:
    if not isinstance(ref, str):
        return None
    try:
        resolved = resolver.lookup(ref)
    except Unresolvable:
        missing = RawError(("schema",), "schema_not_found", schema, ref)
        return lambda value, path, errors: errors.append(missing)
    return c.check(resolved.contents, resolved.resolver)


def _type(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> Check:
    names = arg if isinstance(arg, list) else [arg]
    tests = [TYPE_TESTS[n] for n in names if isinstance(n, str) and n in TYPE_TESTS]
    test = tests[0] if len(tests) == 1 else lambda value: any(t(value) for t in tests)

    def step(value: Any, path: JsonPath, errors: list[RawError]) -> None:
        if not test(value):
            errors.append(RawError(path, "wrong_type", schema, value))

    return step


def _properties(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> Check | None:
    if not isinstance(arg, Mapping):
        return None
    entries = [(name, c.check(sub, resolver), default_for(sub)) for name, sub in arg.items()]

    def step(value: Any, path: JsonPath, errors: list[RawError]) -> None:
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
) -> Check | None:
    if not isinstance(arg, Mapping):
        return None
    patterns = [(_regex(p), c.check(sub, resolver)) for p, sub in arg.items()]

    def step(value: Any, path: JsonPath, errors: list[RawError]) -> None:
        if isinstance(value, dict):
            for key, item in list(value.items()):
                for regex, check in patterns:
                    if regex is not None and regex.search(key):
                        check(item, (*path, key), errors)

    return step


def _additional(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> Check | None:
    known = set(schema.get("properties") or ())
    regexes = [r for r in map(_regex, schema.get("patternProperties") or ()) if r is not None]
    check = c.check(arg, resolver) if isinstance(arg, Mapping) else None
    if arg is not False and check is None:
        return None

    def step(value: Any, path: JsonPath, errors: list[RawError]) -> None:
        if not isinstance(value, dict):
            return
        for key in [k for k in value if k not in known and not any(r.search(k) for r in regexes)]:
            if check is None:  # the error's value is the whole object, its path the extra key
                errors.append(RawError((*path, key), "no_extra_properties_allowed", schema, value))
            else:
                check(value[key], (*path, key), errors)

    return step


def _items(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> Check | None:
    if isinstance(arg, Mapping):  # one schema for every item
        checks, extra = [], arg
    elif isinstance(arg, list):  # a schema per position, then additionalItems for the rest
        checks, extra = [c.check(sub, resolver) for sub in arg], schema.get("additionalItems", True)
    else:
        return None
    extra_check = c.check(extra, resolver) if isinstance(extra, Mapping) else None

    def step(value: Any, path: JsonPath, errors: list[RawError]) -> None:
        if not isinstance(value, list):
            return
        surplus = len(value) - len(checks)
        if surplus > 0 and extra_check is None:
            if extra is False:
                errors.append(RawError(path, "no_extra_items_allowed", schema, value))
            return  # with additionalItems absent or true, jesse checks none of the items
        plan = checks + [extra_check] * surplus if extra_check is not None else checks
        for index, (item, check) in enumerate(zip(value, plan, strict=False)):
            check(item, (*path, index), errors)

    return step


def _required(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> Check | None:
    if not isinstance(arg, list):
        return None  # a draft-3 style `"required": true`, which the draft-4 checker ignores

    def step(value: Any, path: JsonPath, errors: list[RawError]) -> None:
        if isinstance(value, dict):
            for name in arg:
                if name not in value:
                    errors.append(
                        RawError((*path, name), "missing_required_property", schema, name)
                    )

    return step


def _dependencies(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> Check | None:
    if not isinstance(arg, Mapping):
        return None
    schemas = [(n, c.check(d, resolver)) for n, d in arg.items() if isinstance(d, Mapping)]
    names = [(n, d) for n, d in arg.items() if isinstance(d, list)]

    def step(value: Any, path: JsonPath, errors: list[RawError]) -> None:
        if not isinstance(value, dict):
            return
        for name, check in schemas:
            if name in value:
                check(value, (*path, name), errors)  # jesse adds the name to the path
        for name, needed in names:
            if name in value and any(other not in value for other in needed):
                errors.append(RawError(path, "missing_dependency", schema, value))

    return step


# ------------------------------------------------------------------ combinators


def _all_of(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> Check | None:
    if not isinstance(arg, list) or not arg:
        return None
    checks = [c.check(sub, resolver) for sub in arg]

    def step(value: Any, path: JsonPath, errors: list[RawError]) -> None:
        for check in checks:
            check(value, path, errors)

    return step


def _alternatives(kind: str, error: str) -> _Builder:
    """anyOf, oneOf, not: each branch is tried on a copy; only the keyword's own error counts."""

    def build(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> Check | None:
        branches = [arg] if kind == "not" else arg
        if not isinstance(branches, list) or not branches:
            return None
        checks = [c.check(sub, resolver) for sub in branches]
        enough = 2 if kind == "one" else 1  # trying more branches cannot change the outcome

        def step(value: Any, path: JsonPath, errors: list[RawError]) -> None:
            passing = _passing(checks, value, path, enough)
            if bool(passing) if kind == "not" else len(passing) != 1:
                errors.append(RawError(path, error, schema, value))
            elif kind != "not":
                _adopt(value, passing[0])

        return step

    return build


def _passing(checks: list[Check], value: Any, path: JsonPath, enough: int) -> list[Any]:
    """The copies of `value` that passed, trying the checks in order until `enough` pass."""
    passing = []
    for check in checks:
        trial = json_copy(value)
        trial_errors: list[RawError] = []
        check(trial, path, trial_errors)
        if not trial_errors:
            passing.append(trial)
            if len(passing) == enough:
                break
    return passing


def _adopt(value: Any, trial: Any) -> None:
    """Keep what the passing branch filled in (its defaults), as jesse keeps its state."""
    if isinstance(value, dict):
        value.clear()
        value.update(trial)
    elif isinstance(value, list):
        value[:] = trial


# ------------------------------------------------------------------ value keywords


def _plain(kind: str, applies: str, fails: Callable[[Any, Any, Any], bool]) -> _Builder:
    """A keyword that checks values of JSON type `applies` with `fails(value, arg, schema)`."""
    test = TYPE_TESTS[applies]

    def build(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> Check:
        def step(value: Any, path: JsonPath, errors: list[RawError]) -> None:
            if test(value) and fails(value, arg, schema):
                errors.append(RawError(path, kind, schema, value))

        return step

    return build


def _enum(c: _Compiler, arg: Any, schema: Mapping[str, Any], resolver: Any) -> Check | None:
    if not isinstance(arg, list):
        return None
    scalars = {(type(o), o) for o in arg if not isinstance(o, CONTAINERS)}
    containers = [o for o in arg if isinstance(o, CONTAINERS)]

    def step(value: Any, path: JsonPath, errors: list[RawError]) -> None:
        if isinstance(value, CONTAINERS):
            found = any(_kz_equal(value, o) for o in containers)
        else:
            found = (type(value), value) in scalars
        if not found:
            errors.append(RawError(path, "not_in_enum", schema, value))

    return step


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


def _has_duplicates(items: list[Any]) -> bool:
    return any(_kz_equal(x, y) for i, x in enumerate(items) for y in items[i + 1 :])


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

    None when Python cannot compile it (Kazoo would fail the request): such a `pattern` passes
    every string, such a `patternProperties` key matches no property.
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
    "allOf": _all_of,
    "anyOf": _alternatives("any", "any_schemas_not_valid"),
    "oneOf": _alternatives("one", "not_one_schema_valid"),
    "not": _alternatives("not", "not_schema_valid"),
    "enum": _enum,
    "minimum": _plain(
        "not_in_range", "number", lambda v, a, s: _below(v, a, s, "exclusiveMinimum")
    ),
    "maximum": _plain(
        "not_in_range", "number", lambda v, a, s: _below(a, v, s, "exclusiveMaximum")
    ),
    "multipleOf": _plain("not_multiple_of", "number", lambda v, a, s: _not_multiple(v, a)),
    "minLength": _plain("wrong_length", "string", lambda v, a, s: len(v) < a),
    "maxLength": _plain("wrong_length", "string", lambda v, a, s: len(v) > a),
    "pattern": _plain("no_match", "string", _pattern_fails),
    "format": _plain("wrong_format", "string", lambda v, a, s: _bad_format(v, a)),
    "minItems": _plain("wrong_size", "array", lambda v, a, s: len(v) < a),
    "maxItems": _plain("wrong_size", "array", lambda v, a, s: len(v) > a),
    "uniqueItems": _plain("not_unique", "array", lambda v, a, s: a is True and _has_duplicates(v)),
    "minProperties": _plain("too_few_properties", "object", lambda v, a, s: len(v) < a),
    "maxProperties": _plain("too_many_properties", "object", lambda v, a, s: len(v) > a),
}
