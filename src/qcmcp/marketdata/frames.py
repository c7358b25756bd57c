"""The result of a history request: one frame for all symbols, and what it is made of.

The frame is shaped like LEAN's own ``history()`` DataFrame: a (symbol, time) MultiIndex and columns open,
high, low, close, volume. ``time`` is the bar's END time, as LEAN labels history (``PandasData`` uses
``EndTime``): the minute bar covering 09:30–09:31 is 09:31, the first hour bar of a session 10:00, a daily
bar its session close (16:00, or 13:00 on an early close). Times are naive, in the exchange time zone
(``SymbolInfo.time_zone``: America/New_York for US equities, UTC for crypto).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from qcmcp.marketdata.inputs import TimeRange
from qcmcp.marketdata.request import COLUMNS, SymbolBars

TIME_LABEL = "end"


@dataclass(frozen=True)
class SymbolInfo:
    symbol: str
    bars: int
    first: pd.Timestamp
    last: pd.Timestamp
    time_zone: str
    synthetic: bool
    company: str | None = None  # the map file's permtick when it is not the ticker asked for
    notes: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "bars": self.bars, "first": str(self.first), "last": str(self.last),
                "time_zone": self.time_zone, "synthetic": self.synthetic, "company": self.company,
                "notes": list(self.notes)}


@dataclass(frozen=True)
class MarketData:
    """Bars plus where they came from: source, normalisation, the range asked and the range covered."""

    frame: pd.DataFrame
    source: str  # sample, lean-folder, lean-workspace, files, synthetic
    location: str
    chosen_by: str
    resolution: str
    normalization: str
    extended_hours: bool
    requested: TimeRange
    symbols: dict[str, SymbolInfo] = field(default_factory=dict)
    time_label: str = TIME_LABEL

    @property
    def start(self) -> pd.Timestamp:
        """The first bar's end time over all symbols."""
        return min(info.first for info in self.symbols.values())

    @property
    def end(self) -> pd.Timestamp:
        return max(info.last for info in self.symbols.values())

    @property
    def synthetic(self) -> tuple[str, ...]:
        return tuple(name for name, info in self.symbols.items() if info.synthetic)

    def bars(self, symbol: str) -> pd.DataFrame:
        """One symbol's bars, indexed by time alone."""
        return self.frame.xs(symbol.upper(), level="symbol")

    def describe(self) -> dict[str, Any]:
        """JSON-ready metadata (everything but the bars)."""
        return {"source": self.source, "location": self.location, "chosen_by": self.chosen_by,
                "resolution": self.resolution, "normalization": self.normalization,
                "extended_hours": self.extended_hours, "time_label": self.time_label,
                "requested": {"after": str(self.requested.after), "until": str(self.requested.until)},
                "covered": {"start": str(self.start), "end": str(self.end)},
                "synthetic": list(self.synthetic), "symbols": [info.describe() for info in self.symbols.values()]}


def symbol_info(symbol: str, bars: SymbolBars) -> SymbolInfo:
    frame = bars.frame
    return SymbolInfo(symbol, len(frame), frame.index[0], frame.index[-1], bars.time_zone, bars.synthetic,
                      bars.company, tuple(bars.notes))


def combine(per_symbol: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One (symbol, time)-indexed frame from per-symbol frames (at least one)."""
    return pd.concat(per_symbol, names=["symbol", "time"])[COLUMNS]
