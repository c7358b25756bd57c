"""Flat JSON-schema parameters for a tool, derived from its generated request model.

The model is the single source of truth: the schema clients see in ``tools/list`` and
the validation the server applies come from the same class.
"""

from __future__ import annotations

import copy
import functools
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


def _inline(node: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """Replace ``$ref`` with the definition it names, so each parameter reads on its own.

    A reference back into a definition being expanded stays a ``$ref`` (recursion).
    """
    if isinstance(node, list):
        return [_inline(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return node
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {**_inline(defs[name], defs, (*seen, name)), **_inline(rest, defs, seen)}
    return {key: _inline(value, defs, seen) for key, value in node.items()}


def _refs(node: Any) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or any(_refs(v) for v in node.values())
    return isinstance(node, list) and any(_refs(v) for v in node)


def parameters_schema(spec: ToolSpec) -> dict[str, Any]:
    """The ``inputSchema`` for ``spec``: one property per request field, no wrapper."""
    return copy.deepcopy(_build(spec))


@functools.cache
def _build(spec: ToolSpec) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
    if spec.request is None:
        return schema
    raw = spec.request.model_json_schema(by_alias=True)
    properties = {name: prop for name, prop in raw.get("properties", {}).items() if name not in spec.hidden}
    schema["properties"] = properties
    required = [name for name in raw.get("required", []) if name in properties]
    if required:
        schema["required"] = required
    defs = raw.get("$defs", {})
    schema["properties"] = _inline(properties, defs)
    if _refs(schema["properties"]):
        schema["$defs"] = defs
    return _tidy(schema)
