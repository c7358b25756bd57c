"""Factor files and LEAN's price normalisation modes.

A factor file (``equity/usa/factor_files/<permtick>.csv``) has rows ``date,price factor,split factor,
reference price``. A row's factors apply to every trading day up to and including its date, back to the
previous row's date: the factor for day *d* is the row with the smallest date >= *d*, and 1 after the last
row (LEAN ``CorporateFactorProvider.GetPriceFactor``). A row's date is the last trading day before the
split or dividend takes effect; its reference price is that day's raw close.

Modes (LEAN ``DataNormalizationMode`` and ``Extensions.Normalize``/``Scale``):

- ``raw``: prices as traded.
- ``adjusted`` (LEAN's default): price × price factor × split factor (splits and dividends).
- ``split_adjusted``: price × split factor.
- ``total_return``: price × split factor + the dividends paid since the start of the request. LEAN keeps
  that running sum (``SubscriptionDataConfig.SumOfDividends``) from zero when a subscription starts and
  adds each dividend on its ex-date; the amount is ``round(reference price × (1 − pf_i / pf_next), 2)``
  (``Dividend.ComputeDistribution``), in raw currency.

Volume is scaled by the inverse of the same factor and rounded to a whole number, as LEAN does
(``Scale(..., volumeFactor: 1 / factor, ...)``): in ``adjusted`` mode that factor includes dividends, not
only splits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from qcmcp.marketdata.cache import Signature, cached, file_signature


@dataclass(frozen=True)
class FactorRow:
    day: date
    price_factor: float
    split_factor: float
    reference_price: float


@dataclass(frozen=True)
class Split:
    last_day_before: date
    ratio: float  # shares after per share before: 7.0 for AAPL in June 2014


class FactorFile:
    """The rows of one factor file, ordered by date; an empty file means no adjustment."""

    def __init__(self, rows: list[FactorRow], path: str | None = None) -> None:
        self.rows = sorted({row.day: row for row in rows}.values(), key=lambda row: row.day)
        self.path = path
        self._days = np.array([np.datetime64(row.day, "ns") for row in self.rows], dtype="datetime64[ns]")
        self._price = np.array([row.price_factor for row in self.rows], dtype="float64")
        self._split = np.array([row.split_factor for row in self.rows], dtype="float64")

    def __bool__(self) -> bool:
        return bool(self.rows)

    def _pick(self, values: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The factor in force on each day: the first row dated on or after it, else 1."""
        index = np.searchsorted(self._days, days, side="left")
        padded = np.append(values, 1.0)
        return padded[index]

    def scale(self, days: np.ndarray, mode: str) -> np.ndarray:
        """The price multiplier for each day (``days``: datetime64 at midnight) in a normalisation mode."""
        if mode == "raw" or not self.rows:
            return np.ones(len(days))
        split = self._pick(self._split, days)
        return split * self._pick(self._price, days) if mode == "adjusted" else split

    def dividends(self) -> tuple[np.ndarray, np.ndarray]:
        """(last day before each ex-date, raw amount), from consecutive rows whose price factors differ."""
        days, amounts = [], []
        for row, following in zip(self.rows, self.rows[1:]):
            if row.price_factor != following.price_factor and following.price_factor and row.reference_price:
                ratio = row.price_factor / following.price_factor
                days.append(np.datetime64(row.day, "ns"))
                amounts.append(round(row.reference_price - row.reference_price * ratio, 2))
        return np.array(days, dtype="datetime64[ns]"), np.array(amounts, dtype="float64")

    def splits(self) -> list[Split]:
        return [Split(row.day, following.split_factor / row.split_factor)
                for row, following in zip(self.rows, self.rows[1:])
                if row.split_factor != following.split_factor and row.split_factor]


NO_FACTORS = FactorFile([])


def _row(line: str) -> FactorRow | None:
    """One CSV line, or None for lines LEAN skips (``inf``/exponent notation, zero factors)."""
    if "inf" in line or "e+" in line or not line.strip():
        return None
    cells = line.strip().split(",")
    row = FactorRow(datetime.strptime(cells[0], "%Y%m%d").date(), float(cells[1]), float(cells[2]),
                    float(cells[3]) if len(cells) > 3 else 0.0)
    return row if row.price_factor * row.split_factor > 0 else None


@cached(maxsize=512)
def _parsed(signature: Signature) -> FactorFile:
    lines = Path(signature[0]).read_text(encoding="utf-8").splitlines()
    return FactorFile([row for row in map(_row, lines) if row is not None], signature[0])


def read_factor_file(path: Path) -> FactorFile:
    """The factor file at ``path`` (cached by signature), or no factors when it does not exist."""
    return _parsed(file_signature(path)) if path.is_file() else NO_FACTORS


def bar_days(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    return pd.DatetimeIndex(times).normalize().to_numpy(dtype="datetime64[ns]")


def normalize(bars: pd.DataFrame, factors: FactorFile, mode: str) -> pd.DataFrame:
    """Prices × the mode's factor for each bar's day (``bars['start']``), volume ÷ it, rounded."""
    if mode == "raw" or not factors:
        return bars
    scale = factors.scale(bar_days(bars["start"]), mode)
    adjusted = bars.copy()
    for column in ("open", "high", "low", "close"):
        adjusted[column] = bars[column].to_numpy() * scale
    adjusted["volume"] = np.round(bars["volume"].to_numpy() / scale)
    return adjusted


def dividends_paid(factors: FactorFile, first_day: date, days: np.ndarray) -> np.ndarray:
    """For ``total_return``: the raw dividends with ex-dates after ``first_day`` and on or before each day."""
    dividend_days, amounts = factors.dividends()
    if not len(amounts):
        return np.zeros(len(days))
    running = np.concatenate([[0.0], np.cumsum(amounts)])
    counted_before_start = running[np.searchsorted(dividend_days, np.datetime64(first_day, "ns"), side="left")]
    return running[np.searchsorted(dividend_days, days, side="left")] - counted_before_start


def with_dividends(frame: pd.DataFrame, factors: FactorFile, first_day: date) -> pd.DataFrame:
    """``total_return``: split-adjusted prices plus the dividends paid since ``first_day``."""
    paid = dividends_paid(factors, first_day, bar_days(frame.index))
    if not paid.any():
        return frame
    result = frame.copy()
    for column in ("open", "high", "low", "close"):
        result[column] = frame[column].to_numpy() + paid
    return result
