"""The editor's presentation file (`resources/ui/device_editor.json`), read into plain objects.

Like react-jsonschema-form's uiSchema it says only how fields are shown, never what they are:

- `tabs`: in order; each has `id`, `title` and `fields`, a list of dotted paths (a leaf becomes
  a row, an object a group box holding everything below it that no tab lists itself) and
  `{"group": title, "fields": [...]}` boxes. `"rest": true` marks the tab that gets every
  field no other tab places (Advanced); `"json": true` the raw document tab.
- `fields`: per dotted path (`*` matches one segment) `widget` (`password`, `user_picker`,
  `suggest`, `json`), `label`, `placeholder`, `layout` (`tabs` for an object whose children
  become inner tabs) and widget `options`.
- `rules`: cross-field rules; while `when` holds, the `disable` fields are disabled and show
  `reason`. A condition is `{"path", "in" | "not_in": [values]}` on the field's effective value
  (its schema default when absent), or `{"all" | "any": [conditions]}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kazoodesk.resources import resource_path


@dataclass(frozen=True)
class FieldOptions:
    widget: str | None = None
    label: str | None = None
    placeholder: str | None = None
    layout: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    title: str
    fields: tuple[str, ...]


Item = str | Group


@dataclass(frozen=True)
class TabDef:
    id: str
    title: str
    items: tuple[Item, ...] = ()
    rest: bool = False
    json: bool = False
    note: str = ""

    def paths(self) -> list[str]:
        out: list[str] = []
        for item in self.items:
            out.extend(item.fields if isinstance(item, Group) else [item])
        return out


@dataclass(frozen=True)
class Rule:
    when: Mapping[str, Any]
    disable: tuple[str, ...]
    reason: str

    def holds(self, value_at: Callable[[str], Any]) -> bool:
        return _holds(self.when, value_at)


@dataclass(frozen=True)
class Presentation:
    schema: str
    tabs: tuple[TabDef, ...]
    fields: Mapping[str, FieldOptions]
    rules: tuple[Rule, ...]

    @classmethod
    def load(cls, path: Path | None = None) -> Presentation:
        source = path if path is not None else resource_path("ui", "device_editor.json")
        return cls.from_dict(json.loads(source.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Presentation:
        tabs = tuple(
            TabDef(
                id=str(tab["id"]),
                title=str(tab.get("title", tab["id"])),
                items=tuple(_item(item) for item in tab.get("fields", [])),
                rest=bool(tab.get("rest", False)),
                json=bool(tab.get("json", False)),
                note=str(tab.get("note", "")),
            )
            for tab in raw.get("tabs", [])
        )
        fields = {
            str(path): FieldOptions(
                widget=spec.get("widget"),
                label=spec.get("label"),
                placeholder=spec.get("placeholder"),
                layout=spec.get("layout"),
                options=dict(spec.get("options", {})),
            )
            for path, spec in raw.get("fields", {}).items()
        }
        rules = tuple(
            Rule(
                when=rule["when"],
                disable=tuple(rule["disable"]),
                reason=str(rule.get("reason", "")),
            )
            for rule in raw.get("rules", [])
        )
        return cls(str(raw.get("schema", "devices")), tabs, fields, rules)

    def options_for(self, dotted: str) -> FieldOptions:
        """The options for `dotted`: wildcard entries first, the exact entry winning."""
        parts = dotted.split(".")
        merged: dict[str, Any] = {}
        exact = self.fields.get(dotted)
        for key, opts in self.fields.items():
            if key != dotted and _wildcard_match(key.split("."), parts):
                merged.update({k: v for k, v in vars(opts).items() if v})
        if exact is not None:
            merged.update({k: v for k, v in vars(exact).items() if v})
        return FieldOptions(**merged)

    def placed_paths(self) -> set[str]:
        return {path for tab in self.tabs for path in tab.paths()}


def _item(raw: Any) -> Item:
    if isinstance(raw, str):
        return raw
    return Group(str(raw.get("group", "")), tuple(str(p) for p in raw.get("fields", [])))


def _wildcard_match(pattern: list[str], parts: list[str]) -> bool:
    return len(pattern) == len(parts) and all(
        p in ("*", q) for p, q in zip(pattern, parts, strict=True)
    )


def _holds(cond: Mapping[str, Any], value_at: Callable[[str], Any]) -> bool:
    if "all" in cond:
        return all(_holds(sub, value_at) for sub in cond["all"])
    if "any" in cond:
        return any(_holds(sub, value_at) for sub in cond["any"])
    value = value_at(str(cond["path"]))
    if "in" in cond:
        return any(_same(value, option) for option in cond["in"])
    if "not_in" in cond:
        return not any(_same(value, option) for option in cond["not_in"])
    return False


def _same(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)
