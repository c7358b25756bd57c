"""LEAN's live commands: ``Command`` subclasses registered with ``add_command`` and run by their ``$type``.

A command sent to a deployment is JSON. With a ``$type`` naming a registered ``Command`` class, LEAN builds an
instance, copies the JSON's fields onto it and calls its ``run(algorithm)``; without one, it calls the
algorithm's ``on_command(data)``. Objects inside the JSON reach Python as C# dictionaries do in LEAN: iterating
one yields key/value pairs (``kvp.key``, ``kvp.value``), and indexing by key works.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from qcmcp.sandbox.engine.types import PascalAliases


class KeyValuePair(PascalAliases):
    """One entry of a dictionary as LEAN hands it to Python (``.key`` / ``.value``, ``.Key`` / ``.Value``)."""

    def __init__(self, key: Any, value: Any) -> None:
        self.key, self.value = key, value

    def __repr__(self) -> str:
        return f"[{self.key}, {self.value}]"


class CommandDictionary(dict):
    """A JSON object inside a command: iterates its pairs like the C# ``Dictionary`` LEAN passes."""

    def __iter__(self) -> Iterator[KeyValuePair]:  # type: ignore[override]
        return (KeyValuePair(key, value) for key, value in self.items())


class CommandData(dict):
    """A command without a registered ``$type``: ``data.text`` and ``data["text"]`` both work."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"the command has no field '{name}'") from None


class Command(PascalAliases):
    """Base class of an algorithm's own commands (``class MyCommand(Command)`` with a ``run`` method)."""

    def run(self, algorithm: Any) -> bool | None:
        return None


def command_value(value: Any) -> Any:
    """A JSON value as LEAN's command binding gives it to Python."""
    if isinstance(value, dict):
        return CommandDictionary({key: command_value(item) for key, item in value.items()})
    if isinstance(value, list):
        return [command_value(item) for item in value]
    return value


def type_name(payload: Any) -> str | None:
    """The class a command names: ``$type`` without a namespace or assembly (``My.NS.MyCommand, Asm``)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("$type"), str):
        return None
    return payload["$type"].split(",", 1)[0].rsplit(".", 1)[-1].strip() or None


def build(command_type: type, payload: dict[str, Any]) -> Any:
    """An instance of the registered class with the JSON's fields (except ``$type``) set on it."""
    command = command_type()
    for key, value in payload.items():
        if key != "$type":
            setattr(command, key, command_value(value))
    return command
