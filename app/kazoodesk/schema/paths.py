"""Dotted paths into JSON documents (`sip.username`), the way Kazoo names fields in its errors.

A "." inside a key is written `%2E`, as Kazoo does (`kazoodesk.schema.validate.error_path`).
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def split_path(path: str) -> list[str]:
    return [part.replace("%2E", ".") for part in path.split(".")]


def join_path(parts: list[str]) -> str:
    return ".".join(part.replace(".", "%2E") for part in parts)


def get_path(doc: Any, path: str, default: Any = None) -> Any:
    for part in split_path(path):
        if not isinstance(doc, dict) or part not in doc:
            return default
        doc = doc[part]
    return doc


def has_path(doc: Any, path: str) -> bool:
    return get_path(doc, path, _MISSING) is not _MISSING


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at `path`, creating objects on the way (a non-object on the way is replaced)."""
    parts = split_path(path)
    for part in parts[:-1]:
        child = doc.get(part)
        if not isinstance(child, dict):
            child = doc[part] = {}
        doc = child
    doc[parts[-1]] = value


def delete_path(doc: dict[str, Any], path: str) -> None:
    parts = split_path(path)
    for part in parts[:-1]:
        child = doc.get(part)
        if not isinstance(child, dict):
            return
        doc = child
    doc.pop(parts[-1], None)


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values where `true` is not `1` (Python says it is)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def changed_leaves(before: Any, after: Any, prefix: list[str] | None = None) -> list[str]:
    """Dotted paths where `after` differs from `before`: objects are compared key by key,
    anything else (arrays included) as a whole."""
    prefix = prefix or []
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in sorted(before.keys() | after.keys()):
            paths.extend(
                changed_leaves(before.get(key, _MISSING), after.get(key, _MISSING), prefix + [key])
            )
        return paths
    return [] if json_equal(before, after) else [join_path(prefix)]
