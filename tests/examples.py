"""Build example JSON values from a JSON schema: every property filled, deterministic.

Used to make tool arguments from a tool's input schema and full API answers from a
response model's schema, so contract tests exercise every field the spec defines.
"""

from __future__ import annotations

from typing import Any


def example(schema: dict[str, Any], defs: dict[str, Any] | None = None, depth: int = 0, required_only: bool = False) -> Any:
    defs = defs if defs is not None else schema.get("$defs", {})
    if depth > 6:
        return None
    if "$ref" in schema:
        target = defs[schema["$ref"].rsplit("/", 1)[-1]]
        return example(target, defs, depth + 1, required_only)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            if key == "allOf":
                merged: dict[str, Any] = {}
                for option in options:
                    merged.update(example(option, defs, depth + 1, required_only) or {})
                return merged
            return example(options[0], defs, depth + 1, required_only)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        wanted = schema.get("required", []) if required_only else list(properties)
        value = {name: example(properties[name], defs, depth + 1, required_only) for name in wanted}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not properties and not required_only:
            value["key1"] = example(extra, defs, depth + 1, required_only)
        return {k: v for k, v in value.items() if v is not None}
    if kind == "array":
        item = example(schema.get("items", {"type": "string"}), defs, depth + 1, required_only)
        return [] if item is None else [item]
    if kind == "integer":
        return 7
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2024-01-02T03:04:05"
        return "text"
    return None
