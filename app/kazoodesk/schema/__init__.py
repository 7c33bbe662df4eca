"""Kazoo 4.3 JSON schemas: the registry of schema documents and Kazoo-exact validation."""

from kazoodesk.schema.registry import InvalidSchemaError, SchemaRegistry
from kazoodesk.schema.validate import (
    ErrorMap,
    Validated,
    error_path,
    merge_errors,
    type_error,
    validate,
)

__all__ = [
    "ErrorMap",
    "InvalidSchemaError",
    "SchemaRegistry",
    "Validated",
    "error_path",
    "merge_errors",
    "type_error",
    "validate",
]
