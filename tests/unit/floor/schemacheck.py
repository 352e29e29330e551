"""A small JSON Schema (draft 2020-12) checker for the subset docs/schemas/ uses: type, enum,
properties, required, additionalProperties, items, minimum, maximum, minLength, maxLength,
pattern and $ref to a sibling file. Any other keyword fails loudly, so a schema cannot grow
past what this checks without the test noticing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

__all__ = ["SCHEMAS", "errors", "load"]

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"
ANNOTATIONS = {"$schema", "$id", "title", "description"}
KNOWN = ANNOTATIONS | {"type", "enum", "properties", "required", "additionalProperties", "items",
                       "minimum", "maximum", "minLength", "maxLength", "pattern", "$ref"}
TYPES: dict[str, tuple[type, ...]] = {"object": (dict,), "array": (list,), "string": (str,),
                                      "boolean": (bool,), "null": (type(None),),
                                      "number": (int, float), "integer": (int,)}


def load(name: str) -> dict[str, Any]:
    """One schema file of docs/schemas."""
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text())
    return schema


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("number", "integer"):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, TYPES[kind])


def errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (empty: it conforms)."""
    unknown = set(schema) - KNOWN
    if unknown:
        raise ValueError(f"{path}: the checker does not know {sorted(unknown)}")
    if "$ref" in schema:
        return errors(value, load(schema["$ref"]), path)
    out: list[str] = []
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, k) for k in kinds):
            return [f"{path}: {value!r} is not {' or '.join(kinds)}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{path}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{path}: {value} > {schema['maximum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1 << 30):
            out.append(f"{path}: length {len(value)} out of bounds")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += errors(item, schema["items"], f"{path}[{i}]")
    if isinstance(value, dict):
        out += _object(value, schema, path)
    return out


def _object(value: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    out = [f"{path}: {key!r} is required" for key in schema.get("required", []) if key not in value]
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in props:
            out += errors(item, props[key], f"{path}.{key}")
        elif extra is False:
            out.append(f"{path}: {key!r} is not allowed")
        elif isinstance(extra, dict):
            out += errors(item, extra, f"{path}.{key}")
    return out
