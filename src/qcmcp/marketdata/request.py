"""What a source is asked for one symbol, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from qcmcp.marketdata.inputs import TimeRange

COLUMNS = ["open", "high", "low", "close", "volume"]


@dataclass(frozen=True)
class BarRequest:
    symbol: str
    security_type: str
    market: str
    resolution: str
    normalization: str
    extended_hours: bool
    window: TimeRange


@dataclass
class SymbolBars:
    """One symbol's bars: index ``time`` = bar end (exchange time, naive), columns ``COLUMNS``."""

    frame: pd.DataFrame
    time_zone: str
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False
    company: str | None = None  # the map file's permtick when it differs from the ticker asked for


class Source(Protocol):
    """Where bars come from. ``kind``: sample, lean-folder, lean-workspace, files, object-store or synthetic."""

    kind: str
    location: str
    chosen_by: str

    def load(self, request: BarRequest) -> SymbolBars:
        """The bars in ``request.window``; raises MissingData when the symbol has none there."""
        ...


def select(frame: pd.DataFrame, window: TimeRange) -> pd.DataFrame:
    """Rows whose bar end lies in the window (the index is sorted)."""
    index = frame.index
    low = index.searchsorted(window.after, side="right")
    high = index.searchsorted(window.until, side="right")
    return frame.iloc[low:high]


def empty_bars() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype="float64") for column in COLUMNS})
    frame.index = pd.DatetimeIndex([], dtype="datetime64[ns]", name="time")
    return frame
