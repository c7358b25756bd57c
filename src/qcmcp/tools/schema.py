"""Flat JSON-schema parameters for a tool, derived from its generated request model.

The model is the single source of truth: the schema clients see in ``tools/list`` and
the validation the server applies come from the same class.
"""

from __future__ import annotations

from typing import Any

from qcmcp.tools.spec import ToolSpec


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _tidy(node: Any) -> Any:
    """Drop generated titles and collapse ``anyOf [X, null]`` of optional fields to ``X``.

    An optional parameter is expressed by leaving it out, so advertising ``null`` only
    adds noise for the reading model (``null`` is still accepted and means "omitted").
    """
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _tidy(value) for key, value in node.items() if not (key == "title" and isinstance(value, str))}
    options = node.get("anyOf")
    if isinstance(options, list) and any(_is_null(o) for o in options):
        rest = [o for o in options if not _is_null(o)]
        node.pop("anyOf")
        if node.get("default", ...) is None:
            node.pop("default")
        if len(rest) == 1:
            node = {**rest[0], **node}
        else:
            node["anyOf"] = rest
    return node


def parameters_schema(spec: ToolSpec) -> dict[str, Any]:
    """The ``inputSchema`` for ``spec``: one property per request field, no wrapper."""
    schema: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
    if spec.request is None:
        return schema
    raw = spec.request.model_json_schema(by_alias=True)
    properties = {name: prop for name, prop in raw.get("properties", {}).items() if name not in spec.hidden}
    schema["properties"] = properties
    required = [name for name in raw.get("required", []) if name in properties]
    if required:
        schema["required"] = required
    if "$defs" in raw:
        schema["$defs"] = raw["$defs"]
    return _tidy(schema)
