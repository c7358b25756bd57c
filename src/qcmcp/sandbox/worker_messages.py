"""What a worker may say on its stdout, checked before the server believes any of it.

The worker runs an agent's code, so its output is untrusted: every line is read with a size cap, parsed as
JSON and validated against the message shapes below. Anything else ends the run with a clear error instead
of reaching the store (or the server's memory).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_LINE_CHARS = 64 * 1024 * 1024  # a final result with every order, chart and log line fits well within this


class WorkerProtocolError(Exception):
    """The worker sent something that is not a valid message."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Progress(_Message):
    progress: float = Field(ge=0, le=1)


class Failure(_Message):
    message: str = Field(max_length=100_000)
    stacktrace: str = Field(default="", max_length=100_000)
    initializeError: bool = False  # noqa: N815 - the worker's wire name
    logs: list[str] = Field(default_factory=list, max_length=100_000)


class Result(_Message):
    """A backtest result, a live snapshot or an initialization check: the keys the engine writes, typed."""

    statistics: dict[str, str] | None = None
    runtimeStatistics: dict[str, str] | None = None  # noqa: N815
    totalPerformance: dict[str, Any] | None = None  # noqa: N815
    charts: dict[str, dict[str, Any]] | None = None
    orders: list[dict[str, Any]] | None = None
    insights: list[dict[str, Any]] | None = None
    logs: list[str] | None = None
    notes: list[str] | None = None
    totalFees: float | None = None  # noqa: N815
    tradeableDates: int | None = None  # noqa: N815
    backtestStart: str | None = None  # noqa: N815
    backtestEnd: str | None = None  # noqa: N815
    synthetic: list[str] | None = None
    dataSource: dict[str, Any] | None = None  # noqa: N815
    status: str | None = None
    time: str | None = None
    portfolio: dict[str, Any] | None = None
    initialized: bool | None = None


class Final(_Message):
    result: Result | None = None
    error: Failure | None = None


class Snapshot(_Message):
    snapshot: Result


def read_messages(stream: IO[str], max_chars: int = MAX_LINE_CHARS) -> Iterator[dict[str, Any]]:
    """Yield each valid message (as plain data) until the stream ends; raise on the first bad one."""
    import json

    while True:
        line = stream.readline(max_chars + 1)
        if not line:
            return
        if len(line) > max_chars:
            raise WorkerProtocolError(f"the worker sent a message over the {max_chars // (1024 * 1024)} MB limit")
        try:
            message = json.loads(line)
        except ValueError:
            raise WorkerProtocolError("the worker sent output that is not a result message") from None
        yield validate(message)


def validate(message: Any) -> dict[str, Any]:
    if not isinstance(message, dict) or len(message) != 1:
        raise WorkerProtocolError("the worker sent a message of an unknown shape")
    key = next(iter(message))
    model: type[_Message] | None = {"progress": Progress, "snapshot": Snapshot, "result": Final,
                                    "error": Final}.get(key)
    if model is None:
        raise WorkerProtocolError(f"the worker sent an unknown message ({key[:40]!r})")
    try:
        return model.model_validate(message).model_dump(exclude_unset=True)
    except ValidationError as error:
        fields = ", ".join(sorted({".".join(map(str, e["loc"])) for e in error.errors()})[:5])
        raise WorkerProtocolError(f"the worker sent a malformed {key} message ({fields})") from None
