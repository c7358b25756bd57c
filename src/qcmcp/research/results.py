"""The shape every analysis answers with: the deciding numbers, what they mean, how, and on what data.

Results are frozen dataclasses, so callers (the MCP tools, notebooks) read typed fields; ``to_dict()``
turns one into JSON-ready data: NaN and infinity become ``None`` (JSON has neither), frames become
nested dicts, and bulk fields (full price frames, spread series) are left out: charts show those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

BULK = {"bulk": True}  # field metadata: too long for a tool reply, kept for charts and callers


@dataclass(frozen=True)
class DataDescription:
    """Where the numbers came from: source, normalisation and the rows actually used (after alignment)."""

    source: str
    location: str
    resolution: str
    normalization: str
    symbols: tuple[str, ...]
    start: str  # first bar used (its end time)
    end: str  # last bar used
    observations: int  # price rows used (returns are one fewer)
    requested: dict[str, str | None] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return jsonable({name.name: getattr(self, name.name) for name in fields(self)})


@dataclass(frozen=True, kw_only=True)
class Result:
    """Common to every analysis: a one-line reading of the numbers, the method, the data."""

    interpretation: str
    method: str
    data: DataDescription

    def to_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"analysis": type(self).__name__.removesuffix("Result").lower() or "result"}
        for item in fields(self):
            if not item.metadata.get("bulk"):
                answer[item.name] = jsonable(getattr(self, item.name))
        return answer


def jsonable(value: Any) -> Any:
    """Plain JSON types from numpy, pandas and dataclass values."""
    if isinstance(value, (DataDescription, Result)):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: jsonable(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, pd.DataFrame):
        return {str(row): jsonable(values) for row, values in value.to_dict(orient="index").items()}
    if isinstance(value, pd.Series):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return str(value)
    return value
