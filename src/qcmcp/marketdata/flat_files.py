"""A folder of CSV or Parquet files, one per symbol: data exported from anywhere.

Layout: ``<folder>/<resolution>/<SYMBOL>.csv`` (or ``.parquet``), e.g. ``minute/SPY.csv``; for daily bars
``<folder>/SPY.csv`` works too. File names match the ticker case-insensitively.

Columns (a header row; names case-insensitive, other columns ignored)::

    time     bar END time in exchange time (New York for US equities, UTC for crypto), as in the frames
             ``history`` returns; a time zone offset is converted. For daily bars a date is enough
             ("2013-10-07") and means that day's session. ("date" is accepted as the column name.)
    open, high, low, close    prices in currency units (not LEAN's deci-cents)
    volume   optional (0 when absent)

Prices are taken as stored, i.e. raw; when the folder also has ``factor_files/<symbol>.csv`` in LEAN's
format, the normalisation modes apply as they do to LEAN data, otherwise a note says prices are as stored.
Intraday rows outside the exchange hours are dropped unless extended hours are asked for. Parquet needs
pyarrow (or fastparquet); without it a Parquet file is a clear error saying so.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from qcmcp.marketdata.cache import Signature, cached, file_signature
from qcmcp.marketdata.errors import MarketDataError, MissingData, no_data
from qcmcp.marketdata.factors import NO_FACTORS, FactorFile, normalize, read_factor_file, with_dividends
from qcmcp.marketdata.lean_files import BAR_PERIOD
from qcmcp.marketdata.market_hours import ExchangeHours, database_in
from qcmcp.marketdata.request import COLUMNS, BarRequest, SymbolBars, empty_bars, select

SUFFIXES = (".csv", ".parquet")
REQUIRED = ("time", "open", "high", "low", "close")


def parquet_engine_available() -> bool:
    return any(importlib.util.find_spec(name) is not None for name in ("pyarrow", "fastparquet"))


def holds_flat_files(folder: Path) -> bool:
    """Whether a folder looks like this layout (files at the top or in a resolution subfolder)."""
    places = [folder] + [folder / name for name in ("daily", "hour", "minute", "second")]
    return any(p.suffix.lower() in SUFFIXES for place in places if place.is_dir() for p in place.iterdir())


def find_file(folder: Path, ticker: str, resolution: str) -> tuple[Path | None, list[str]]:
    """The symbol's file and the places looked in."""
    places = [folder / resolution] + ([folder] if resolution == "daily" else [])
    looked = []
    for place in places:
        looked.append(f"{place}/{ticker}.csv|.parquet")
        if not place.is_dir():
            continue
        for candidate in sorted(place.iterdir()):
            if candidate.suffix.lower() in SUFFIXES and candidate.stem.upper() == ticker.upper():
                return candidate, looked
    return None, looked


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path)
    if not parquet_engine_available():
        raise MarketDataError(f"{path} is a Parquet file and reading it needs pyarrow: install it "
                              "(pip install pyarrow, or uv add pyarrow), or save the file as CSV")
    return pd.read_parquet(path)


def _times(column: pd.Series, time_zone: str, where: str) -> pd.Series:
    try:
        times = column if pd.api.types.is_datetime64_any_dtype(column) else pd.to_datetime(column, format="mixed")
        if getattr(times.dt, "tz", None) is not None:
            times = times.dt.tz_convert(time_zone).dt.tz_localize(None)
        return times.astype("datetime64[ns]")  # a date past 2262 does not fit: OutOfBoundsDatetime, a ValueError
    except (ValueError, TypeError, OverflowError) as error:
        raise MarketDataError(f"{where}: the time column does not read as dates ({error}); use ISO times like "
                              "'2013-10-07 09:31' (bar end, exchange time) or dates for daily bars") from None


def lower_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The table with stripped, lower-case column names ("date" read as "time")."""
    table = table.set_axis([str(name).strip().lower() for name in table.columns], axis=1)
    if "time" not in table.columns and "date" in table.columns:
        table = table.rename(columns={"date": "time"})
    return table


def bar_rows(table: pd.DataFrame, time_zone: str, where: str) -> pd.DataFrame:
    """A table in the documented columns as ``time`` + ``COLUMNS``, sorted; ``where`` names it in errors."""
    table = lower_columns(table)
    missing = [name for name in REQUIRED if name not in table.columns]
    if missing:
        raise MarketDataError(f"{where} lacks the column(s) {', '.join(missing)}: the header must be "
                              "time,open,high,low,close[,volume] (time = bar end, exchange time)")
    bars = pd.DataFrame({"time": _times(table["time"], time_zone, where)})
    for name in COLUMNS:
        bars[name] = pd.to_numeric(table[name], errors="coerce").astype("float64") if name in table else 0.0
    bars = bars.dropna(subset=["time", "close"])
    _check_prices(bars, where)
    return bars.sort_values("time", kind="stable").drop_duplicates("time", keep="last")


def _check_prices(bars: pd.DataFrame, where: str) -> None:
    """Prices a statistic can use: finite and positive, high at least low, volume not negative."""
    prices = bars[["open", "high", "low", "close"]]
    bad = ~(np.isfinite(prices) & (prices > 0)).all(axis=1) | (bars["high"] < bars["low"])
    bad |= ~np.isfinite(bars["volume"]) | (bars["volume"] < 0)
    if bad.any():
        row = bars[bad].iloc[0]
        raise MarketDataError(f"{where}: {int(bad.sum())} bar(s) with prices that are not positive finite numbers, "
                              f"a high below the low, or a negative volume (first at {row['time']}: open "
                              f"{row['open']:g}, high {row['high']:g}, low {row['low']:g}, close {row['close']:g}, "
                              f"volume {row['volume']:g}); fix or drop those rows")


@cached(maxsize=256)
def _table(signature: Signature, time_zone: str) -> pd.DataFrame:
    """The file's rows as ``time`` + ``COLUMNS``, sorted (cached by signature)."""
    path = Path(signature[0])
    return bar_rows(_read_table(path), time_zone, str(path))


def _daily_times(times: pd.Series, hours: ExchangeHours) -> tuple[np.ndarray, np.ndarray]:
    """(start, end): a date-only daily row spans its session; a timed one ends at its time."""
    days = times.dt.normalize().to_numpy(dtype="datetime64[ns]")
    ends = times.to_numpy(dtype="datetime64[ns]").copy()
    for i in np.flatnonzero(ends == days):
        session = hours.regular_session(days[i].astype("datetime64[D]").item())
        ends[i] = days[i] + (np.timedelta64(session[1]) if session else np.timedelta64(1, "D"))
    return days, ends


def prepare(table: pd.DataFrame, factors: FactorFile, mode: str, hours: ExchangeHours, extended: bool,
            resolution: str) -> pd.DataFrame:
    """Rows from ``bar_rows`` as bars: LEAN's times, exchange hours kept (intraday), normalised."""
    if table.empty:
        return empty_bars()
    if resolution == "daily":
        starts, ends = _daily_times(table["time"], hours)
        bars = table.assign(start=starts)
    else:
        ends = table["time"].to_numpy(dtype="datetime64[ns]")
        starts = ends - BAR_PERIOD[resolution].to_timedelta64()
        keep = hours.inside(starts, ends, extended)
        bars, ends = table.assign(start=starts)[keep], ends[keep]
    bars = normalize(bars, factors, mode)
    return bars[COLUMNS].set_axis(pd.DatetimeIndex(ends, name="time"), axis=0).sort_index(kind="stable")


@cached(maxsize=256)
def _prepared(signature: Signature, factors: Signature | None, mode: str, hours: ExchangeHours, extended: bool,
              resolution: str) -> pd.DataFrame:
    return prepare(_table(signature, hours.time_zone), read_factor_file(Path(factors[0])) if factors else NO_FACTORS,
                   mode, hours, extended, resolution)


@dataclass
class FlatFilesFolder:
    """CSV/Parquet files in a folder given by ``source=`` or ``QCMCP_DATA_DIR``."""

    root: Path
    chosen_by: str = "source argument"
    kind: str = "files"

    @property
    def location(self) -> str:
        return str(self.root)

    def load(self, request: BarRequest) -> SymbolBars:
        hours = database_in(self.root).hours(request.security_type, request.market, request.symbol)
        path, looked = find_file(self.root, request.symbol, request.resolution)
        if path is None:
            raise no_data(request.symbol, request.resolution, looked,
                          "name the file after the ticker (e.g. SPY.csv) with columns time,open,high,low,close"
                          "[,volume], or pass synthetic=True for labelled synthetic bars")
        factors = read_factor_file(self.root / "factor_files" / f"{request.symbol.lower()}.csv")
        prepared = _prepared(file_signature(path), file_signature(Path(factors.path)) if factors else None,
                             request.normalization, hours, request.extended_hours, request.resolution)
        frame = select(prepared, request.window)
        if frame.empty:
            span = f"from {prepared.index[0]} to {prepared.index[-1]}" if len(prepared) else "no usable rows"
            raise MissingData(request.symbol, f"no {request.resolution} bars for {request.symbol} in "
                              f"{request.window} in {path}: the file has {span}. Widen the range, or pass "
                              "synthetic=True for labelled synthetic bars")
        if request.normalization == "total_return" and factors:
            frame = with_dividends(frame, factors, request.window.first_day)
        return SymbolBars(frame, hours.time_zone, self._notes(request, path, factors))

    def _notes(self, request: BarRequest, path: Path, factors: FactorFile) -> list[str]:
        notes = [f"read from {path.name}"]
        if request.normalization != "raw" and not factors:
            notes.append(f"no factor_files/{request.symbol.lower()}.csv in {self.root}: prices are as stored in "
                         f"the file, not re-normalised to {request.normalization}")
        return notes
