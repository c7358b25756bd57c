"""Argument checking: every problem becomes one message naming the parameter and the fix."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from qcmcp.tools.spec import ToolSpec

MAX_LISTED_PROBLEMS = 8
# Bounds on what one call may carry, checked before anything is built from the arguments. The API's ids and
# counts are 64-bit integers (the sandbox stores them in SQLite); the sizes keep one call's cost bounded.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_ARGUMENT_CHARS = 4 * 1024 * 1024  # all strings of one call together (file contents, Object Store data)
MAX_LIST_ITEMS = 10_000
MAX_DEPTH = 32


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


def check_bounds(tool: str, arguments: dict[str, Any]) -> None:
    """Refuse arguments whose size, nesting or numbers are out of bounds, naming the first offending parameter."""
    total = 0
    stack: list[tuple[str, Any, int]] = [(name, value, 1) for name, value in arguments.items()]
    while stack:
        where, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ArgumentError(f"{where} for {tool} is nested more than {MAX_DEPTH} levels deep; flatten it.")
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise ArgumentError(f"{where} for {tool} is out of range: integers must fit in 64 bits "
                                    f"({INT64_MIN} to {INT64_MAX}).")
        elif isinstance(value, str):
            total += len(value)
        elif isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                raise ArgumentError(f"{where} for {tool} has {len(value)} items; at most {MAX_LIST_ITEMS} are "
                                    "accepted in one call.")
            stack.extend((f"{where}[{index}]", item, depth + 1) for index, item in enumerate(value))
        elif isinstance(value, dict):
            total += sum(len(str(key)) for key in value)
            stack.extend((f"{where}.{key}", item, depth + 1) for key, item in value.items())
        if total > MAX_ARGUMENT_CHARS:
            raise ArgumentError(f"The arguments of {tool} are over {MAX_ARGUMENT_CHARS // (1024 * 1024)} MB of text "
                                "(at " + where + "); send large content in several calls.")


def validate_arguments(spec: ToolSpec, schema: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """Check ``arguments`` against the tool's parameters; return the API request body."""
    properties: dict[str, Any] = schema.get("properties", {})
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        valid = ", ".join(properties) or "none"
        names = ", ".join(repr(name) for name in unknown)
        raise ArgumentError(f"Unknown parameter {names} for {spec.name}. Valid parameters: {valid}.")
    missing = [name for name in schema.get("required", []) if arguments.get(name) is None]
    if missing:
        raise ArgumentError(
            f"Missing required parameter {', '.join(repr(n) for n in missing)} for {spec.name}. "
            f"Required: {', '.join(schema['required'])}."
        )
    # A null is not a value of any parameter's type: leaving a parameter out is how it is omitted.
    nulls = [name for name, value in arguments.items() if value is None]
    if nulls:
        raise ArgumentError(f"Parameter {', '.join(repr(n) for n in nulls)} of {spec.name} is null: give a value of "
                            "its type, or leave it out to use the default.")
    check_bounds(spec.name, arguments)
    given = arguments
    request_model = spec.request_model
    if request_model is None:
        return {}
    try:
        model = request_model.model_validate(given)
    except ValidationError as error:
        raise ArgumentError(describe_validation_error(spec.name, error)) from None
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)
