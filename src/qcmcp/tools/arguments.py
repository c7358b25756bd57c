"""Argument checking: every problem becomes one message naming the parameter and the fix."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from qcmcp.tools.spec import ToolSpec

MAX_LISTED_PROBLEMS = 8


class ArgumentError(ValueError):
    """The caller's arguments cannot be used; the message says why and how to fix it."""


def _location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif parts:
            parts.append(f".{item}")
        else:
            parts.append(str(item))
    return "".join(parts) or "(arguments)"


def describe_validation_error(tool: str, error: ValidationError) -> str:
    """Summarise a pydantic error without echoing the values (they may be secrets)."""
    lines: list[str] = []
    for problem in error.errors(include_url=False, include_input=False, include_context=False):
        line = f"- {_location(problem['loc'])}: {problem['msg']}"
        if line not in lines:
            lines.append(line)
    shown = lines[:MAX_LISTED_PROBLEMS]
    if len(lines) > len(shown):
        shown.append(f"- … and {len(lines) - len(shown)} more")
    return f"Invalid arguments for {tool}:\n" + "\n".join(shown) + f"\nFix these parameters and call {tool} again."


def validate_arguments(spec: ToolSpec, schema: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """Check ``arguments`` against the tool's parameters; return the API request body."""
    properties: dict[str, Any] = schema.get("properties", {})
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        valid = ", ".join(properties) or "none"
        names = ", ".join(repr(name) for name in unknown)
        raise ArgumentError(f"Unknown parameter {names} for {spec.name}. Valid parameters: {valid}.")
    # An explicit null means "not given", which is how optional parameters are omitted.
    given = {name: value for name, value in arguments.items() if value is not None}
    missing = [name for name in schema.get("required", []) if name not in given]
    if missing:
        raise ArgumentError(
            f"Missing required parameter {', '.join(repr(n) for n in missing)} for {spec.name}. "
            f"Required: {', '.join(schema['required'])}."
        )
    request_model = spec.request_model
    if request_model is None:
        return {}
    try:
        model = request_model.model_validate(given)
    except ValidationError as error:
        raise ArgumentError(describe_validation_error(spec.name, error)) from None
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)
