"""A schema turned into a tree of field descriptions that a form builder can render (no Qt).

`build_fields(registry, "devices")` walks the device schema, follows every `$ref` through the
`SchemaRegistry` (so a registry built from a server's documents works the same as the bundled
one) and gives a `FieldSpec` per property: its dotted path, title, description, kind, default,
whether the parent requires it, enum, bounds, pattern, and what it holds (children for objects,
an item spec for arrays, key/value specs for maps, variants for `oneOf`/`anyOf`/multi-type).
A `$ref` that leads back into a schema being expanded (metaflow children) becomes a `Kind.ANY`
field marked `recursive`, which a form edits as raw JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from kazoodesk.schema.defaults import NO_DEFAULT, is_type, json_copy
from kazoodesk.schema.registry import SchemaRegistry


class Kind(StrEnum):
    OBJECT = "object"  # declared properties: a group of fields
    MAP = "map"  # only patternProperties / additionalProperties: key -> value
    ARRAY = "array"
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    VARIANT = "variant"  # oneOf / anyOf / several types
    ANY = "any"  # free-form JSON: untyped, a free object, a recursive reference


ITEM: Final = "[]"  # path segment of an array item
VALUE: Final = "*"  # path segment of a map value

_MAX_DEPTH: Final = 24
_SCALAR_KINDS: Final = frozenset({Kind.STRING, Kind.INTEGER, Kind.NUMBER, Kind.BOOLEAN, Kind.ENUM})
_ACRONYMS: Final = {
    "id": "ID",
    "ip": "IP",
    "sip": "SIP",
    "mac": "MAC",
    "mwi": "MWI",
    "uri": "URI",
    "url": "URL",
    "dtmf": "DTMF",
    "cid": "CID",
    "e164": "E.164",
    "npan": "NPAN",
    "1npan": "1NPAN",
}


@dataclass(eq=False)
class FieldSpec:
    path: tuple[str, ...]
    kind: Kind
    title: str
    description: str = ""
    schema: dict[str, Any] = field(default_factory=dict, repr=False)
    default: Any = NO_DEFAULT
    required: bool = False
    nullable: bool = False
    types: tuple[str, ...] = ()
    enum: tuple[Any, ...] | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    format: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    min_items: int | None = None
    max_items: int | None = None
    unique_items: bool = False
    children: dict[str, FieldSpec] = field(default_factory=dict, repr=False)
    items: FieldSpec | None = field(default=None, repr=False)
    pattern_properties: tuple[tuple[str, FieldSpec], ...] = field(default=(), repr=False)
    additional: FieldSpec | None = field(default=None, repr=False)
    additional_allowed: bool = True
    variants: tuple[FieldSpec, ...] = field(default=(), repr=False)
    variant_keyword: str | None = None  # "oneOf", "anyOf" or "type"
    ref: str | None = None  # the schema id a `$ref` led to
    recursive: bool = False

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else ""

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    @property
    def is_scalar(self) -> bool:
        return self.kind in _SCALAR_KINDS

    @property
    def map_value(self) -> FieldSpec | None:
        """The spec of a map's values: the only pattern property, else additionalProperties."""
        if len(self.pattern_properties) == 1 and self.additional is None:
            return self.pattern_properties[0][1]
        if not self.pattern_properties:
            return self.additional
        return None  # several patterns: values are free-form

    def walk(self) -> Iterator[FieldSpec]:
        """This field and every field below it through object properties (depth first)."""
        yield self
        for child in self.children.values():
            yield from child.walk()

    def leaves(self) -> Iterator[FieldSpec]:
        """The fields below that hold a value of their own (anything but an object group)."""
        for spec in self.walk():
            if spec.kind is not Kind.OBJECT:
                yield spec

    def find(self, dotted: str) -> FieldSpec | None:
        """The field at `dotted` (relative to this one) through object properties, or None."""
        spec: FieldSpec | None = self
        for part in dotted.split(".") if dotted else []:
            spec = spec.children.get(part) if spec is not None else None
        return spec

    def key_allowed(self, key: str) -> bool:
        """Whether a map key matches a pattern property (or any key is allowed)."""
        if any(pattern_matches(pattern, key) for pattern, _ in self.pattern_properties):
            return True
        if key in self.children:
            return True
        return self.additional is not None or (
            self.additional_allowed and not self.pattern_properties
        )

    def accepts(self, value: Any) -> bool:
        """A shallow check: `value` has one of this field's JSON types (and is in its enum)."""
        if value is None and self.nullable:
            return True
        if self.kind is Kind.VARIANT:
            return any(variant.accepts(value) for variant in self.variants)
        if self.enum is not None:
            return any(_same(value, option) for option in self.enum)
        if self.kind is Kind.ANY and not self.types:
            return True
        return any(is_type(value, name) for name in self.types) or (
            "number" in self.types and is_type(value, "integer")
        )


def build_fields(registry: SchemaRegistry, name: str) -> FieldSpec:
    """The field tree of schema `name`; KeyError if the registry lacks it."""
    return _Builder(registry).build(registry.document(name), (), False, (name,), name)


def humanize(name: str) -> str:
    """A label for a property name: `mac_address` -> "MAC address", `sip` -> "SIP"."""
    words = [w for w in re.split(r"[_\s]+", name) if w]
    if not words:
        return name
    out = [_ACRONYMS.get(w.lower(), w) for w in words]
    first = out[0]
    if first == words[0]:
        out[0] = first[:1].upper() + first[1:]
    return " ".join(out)


def variant_label(spec: FieldSpec) -> str:
    """A short name for one branch of a type switcher."""
    title = spec.schema.get("title")
    if isinstance(title, str) and title:
        return title
    if spec.kind is Kind.OBJECT:
        for child in spec.children.values():  # a discriminator: a property limited to an enum
            if child.enum is not None and child.required:
                return " / ".join(str(option) for option in child.enum)
        return " / ".join(spec.children) or "Object"
    if spec.kind is Kind.ENUM:
        return " / ".join(_text(option) for option in spec.enum or ())
    return {
        Kind.MAP: "Key/value",
        Kind.ARRAY: "List",
        Kind.STRING: "Text",
        Kind.INTEGER: "Number",
        Kind.NUMBER: "Number",
        Kind.BOOLEAN: "Yes/No",
    }.get(spec.kind, "JSON")


def closest_variant(spec: FieldSpec, value: Any) -> int:
    """The index of the variant that fits `value` best (0 when none does)."""
    fallback = None
    for index, variant in enumerate(spec.variants):
        if not variant.accepts(value):
            continue
        if fallback is None:
            fallback = index
        if _discriminators_match(variant, value):
            return index
    return fallback if fallback is not None else 0


def convert_value(value: Any, target: FieldSpec) -> Any:
    """`value` carried over to another variant: unchanged if it fits, converted text <-> number
    or boolean when that is lossless, else NO_DEFAULT (nothing to keep)."""
    if target.accepts(value):
        return json_copy(value)
    candidates: list[Any] = []
    if isinstance(value, str):
        if re.fullmatch(r"[+-]?[0-9]+", value.strip()):
            candidates.append(int(value))
        candidates += [{"true": True, "false": False}.get(value)]
    elif isinstance(value, bool):
        candidates.append("true" if value else "false")
    elif isinstance(value, int | float):
        candidates.append(str(value))
    elif isinstance(value, dict) and "value" in value:
        candidates.append(value["value"])  # {label, value} -> bare value
    for candidate in candidates:
        if candidate is not None and target.accepts(candidate):
            return candidate
    return NO_DEFAULT


def pattern_matches(pattern: str, key: str) -> bool:
    """An Erlang (PCRE) pattern from a Kazoo schema tried in Python; a pattern Python cannot
    compile matches everything, leaving the verdict to the server."""
    compiled = _compile(pattern)
    return compiled is None or compiled.search(key) is not None


_POSIX_CLASSES: Final = {
    "[:alnum:]": "a-zA-Z0-9",
    "[:alpha:]": "a-zA-Z",
    "[:digit:]": "0-9",
    "[:xdigit:]": "0-9a-fA-F",
    "[:upper:]": "A-Z",
    "[:lower:]": "a-z",
    "[:space:]": r"\s",
}
_COMPILED: dict[str, re.Pattern[str] | None] = {}


def _compile(pattern: str) -> re.Pattern[str] | None:
    if pattern not in _COMPILED:
        text = pattern
        for posix, python in _POSIX_CLASSES.items():
            text = text.replace(posix, python)
        try:
            _COMPILED[pattern] = re.compile(text)
        except re.error:
            _COMPILED[pattern] = None
    return _COMPILED[pattern]


def _same(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _discriminators_match(variant: FieldSpec, value: Any) -> bool:
    if variant.kind is not Kind.OBJECT or not isinstance(value, dict):
        return True
    for name, child in variant.children.items():
        if child.required and name not in value:
            return False
        if child.enum is not None and name in value and not child.accepts(value[name]):
            return False
    return True


class _Builder:
    def __init__(self, registry: SchemaRegistry) -> None:
        self._registry = registry

    def build(
        self,
        schema: Any,
        path: tuple[str, ...],
        required: bool,
        stack: tuple[str, ...],
        ref: str | None = None,
    ) -> FieldSpec:
        if not isinstance(schema, Mapping):
            schema = {}
        schema = dict(schema)
        while isinstance(schema.get("$ref"), str):
            target = schema["$ref"]
            if target in stack or len(stack) > _MAX_DEPTH:
                return self._recursive(schema, path, required, target)
            try:
                resolved = self._registry.resolve({"$ref": target})
            except KeyError:
                return self._recursive(schema, path, required, target)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**_without_meta(resolved), **siblings}
            stack = (*stack, target)
            ref = target
        if len(path) > _MAX_DEPTH:
            return self._recursive(schema, path, required, ref)

        declared = _declared_types(schema)
        nullable = "null" in declared
        types = tuple(t for t in declared if t != "null")
        spec = FieldSpec(
            path=path,
            kind=Kind.ANY,
            title=_title(schema, path),
            description=str(schema.get("description", "")),
            schema=schema,
            default=json_copy(schema["default"]) if "default" in schema else NO_DEFAULT,
            required=required or schema.get("required") is True,
            nullable=nullable,
            types=types,
            ref=ref,
        )
        _bounds(spec, schema)
        combinator = next((k for k in ("oneOf", "anyOf") if isinstance(schema.get(k), list)), None)
        if combinator is not None:
            outer = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf", "description")}
            spec.kind = Kind.VARIANT
            spec.variant_keyword = combinator
            spec.variants = tuple(
                self.build(_merge(outer, branch), path, required, stack, ref)
                for branch in schema[combinator]
            )
            return spec
        if len(types) > 1:
            spec.kind = Kind.VARIANT
            spec.variant_keyword = "type"
            spec.variants = tuple(
                self.build(_one_type(schema, name), path, required, stack, ref) for name in types
            )
            return spec
        if isinstance(schema.get("enum"), list) and not _plain_boolean(schema):
            spec.kind = Kind.ENUM
            spec.enum = tuple(schema["enum"])
            return spec
        kind = types[0] if types else None
        if kind == "object":
            self._object(spec, schema, stack)
        elif kind == "array":
            spec.kind = Kind.ARRAY
            items = schema.get("items")
            if isinstance(items, Mapping):
                spec.items = self.build(items, (*path, ITEM), False, stack)
        elif kind in ("string", "integer", "number", "boolean"):
            spec.kind = Kind(kind)
        return spec

    def _object(self, spec: FieldSpec, schema: dict[str, Any], stack: tuple[str, ...]) -> None:
        properties = schema.get("properties")
        required = schema.get("required")
        names = set(required) if isinstance(required, list) else set()
        if isinstance(properties, Mapping):
            spec.children = {
                name: self.build(sub, (*spec.path, name), name in names, stack)
                for name, sub in sorted(properties.items())
            }
        patterns = schema.get("patternProperties")
        if isinstance(patterns, Mapping):
            spec.pattern_properties = tuple(
                (pattern, self.build(sub, (*spec.path, VALUE), False, stack))
                for pattern, sub in patterns.items()
            )
        additional = schema.get("additionalProperties")
        if isinstance(additional, Mapping):
            spec.additional = self.build(additional, (*spec.path, VALUE), False, stack)
        spec.additional_allowed = additional is not False
        if spec.children:
            spec.kind = Kind.OBJECT
        elif spec.pattern_properties or spec.additional is not None:
            spec.kind = Kind.MAP
        else:
            spec.kind = Kind.ANY  # a free-form object

    def _recursive(
        self, schema: dict[str, Any], path: tuple[str, ...], required: bool, ref: str | None
    ) -> FieldSpec:
        return FieldSpec(
            path=path,
            kind=Kind.ANY,
            title=_title(schema, path),
            description=str(schema.get("description", "")),
            schema=schema,
            required=required,
            ref=ref,
            recursive=True,
        )


def _without_meta(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("_id", "id", "$schema")}


def _merge(outer: dict[str, Any], branch: Any) -> dict[str, Any]:
    if not isinstance(branch, Mapping):
        return dict(outer)
    merged = {**outer, **branch}
    if "$ref" in branch:  # a branch that is a reference: the outer keys describe it too
        merged = {"$ref": branch["$ref"], **{k: v for k, v in merged.items() if k != "$ref"}}
    return merged


def _declared_types(schema: Mapping[str, Any]) -> tuple[str, ...]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return (declared,)
    if isinstance(declared, list):
        return tuple(t for t in declared if isinstance(t, str))
    if isinstance(schema.get("properties"), Mapping) or "patternProperties" in schema:
        return ("object",)
    if "items" in schema:
        return ("array",)
    enum = schema.get("enum")
    if isinstance(enum, list):
        return tuple(
            dict.fromkeys(
                name
                for value in enum
                for name in ("boolean", "integer", "number", "string")
                if is_type(value, name)
            )
        )
    return ()


def _one_type(schema: dict[str, Any], name: str) -> dict[str, Any]:
    branch = {k: v for k, v in schema.items() if k not in ("type", "description", "default")}
    branch["type"] = name
    if isinstance(schema.get("enum"), list):
        allowed = [v for v in schema["enum"] if is_type(v, name)]
        if allowed:
            branch["enum"] = allowed
        else:
            del branch["enum"]
    if "default" in schema and is_type(schema["default"], name):
        branch["default"] = schema["default"]
    return branch


def _plain_boolean(schema: Mapping[str, Any]) -> bool:
    """`enum: [true, false]` on a boolean says nothing a checkbox does not."""
    enum = schema.get("enum")
    return schema.get("type") == "boolean" and isinstance(enum, list) and set(enum) <= {True, False}


def _title(schema: Mapping[str, Any], path: tuple[str, ...]) -> str:
    title = schema.get("title")
    if isinstance(title, str) and title:
        return title
    name = next((part for part in reversed(path) if part not in (ITEM, VALUE)), "")
    return humanize(name) if name else "Document"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _bounds(spec: FieldSpec, schema: Mapping[str, Any]) -> None:
    def integer(key: str) -> int | None:
        value = schema.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    spec.min_length = integer("minLength")
    spec.max_length = integer("maxLength")
    spec.min_items = integer("minItems")
    spec.max_items = integer("maxItems")
    spec.unique_items = schema.get("uniqueItems") is True
    pattern = schema.get("pattern")
    spec.pattern = pattern if isinstance(pattern, str) else None
    fmt = schema.get("format")
    spec.format = fmt if isinstance(fmt, str) else None
    spec.minimum = _number(schema.get("minimum"))
    spec.maximum = _number(schema.get("maximum"))
    spec.exclusive_minimum = schema.get("exclusiveMinimum") is True
    spec.exclusive_maximum = schema.get("exclusiveMaximum") is True
