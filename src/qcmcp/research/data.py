"""Prices for an analysis: load through ``qcmcp.marketdata`` (or take the caller's frame), align, describe.

Every analysis works on one wide frame of closes (time × symbol) restricted to the bars all its symbols
share, so each statistic sees the same dates; the description says which dates those were and what was
dropped. Callers with their own data pass ``prices=`` (a ``MarketData`` or a frame) instead of loading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qcmcp.marketdata import MarketData, MarketDataError, MissingData, history
from qcmcp.marketdata.inputs import parse_range, parse_symbols
from qcmcp.research.errors import ResearchError, too_few
from qcmcp.research.results import BULK, DataDescription, Result

# Bars per year, for annualising: US equity regular hours are 6.5 h (7 hour bars: LEAN's first ends 10:00).
PERIODS_PER_YEAR = {"daily": 252, "hour": 252 * 7, "minute": 252 * 390, "second": 252 * 390 * 60}
EXCHANGE_TIME_ZONE = "America/New_York"


@dataclass(frozen=True)
class PriceData:
    """Closes on the common bars of the symbols, plus where they came from."""

    closes: pd.DataFrame  # index: bar end time; columns: symbols in the order asked
    description: DataDescription
    periods_per_year: int

    def returns(self) -> pd.DataFrame:
        """Simple returns bar to bar (the first bar has none)."""
        return self.closes.pct_change().iloc[1:]

    def log_returns(self) -> pd.DataFrame:
        return np.log(self.closes).diff().iloc[1:]


def symbol_list(symbols: object, parameter: str = "symbols", minimum: int = 1) -> tuple[str, ...]:
    """Tickers upper-cased and de-duplicated; at least ``minimum`` of them."""
    try:
        tickers = parse_symbols(symbols)
    except MarketDataError as error:
        raise ResearchError(parameter, str(error).removeprefix("symbols: ").removeprefix("symbols ")) from None
    if len(tickers) < minimum:
        raise ResearchError(parameter, f"needs at least {minimum} distinct symbols, got {len(tickers)} "
                                       f"({', '.join(tickers)})")
    return tickers


def one_symbol(symbol: object, parameter: str) -> str:
    """A single ticker, upper-cased (a list of one is accepted)."""
    tickers = symbol_list(symbol, parameter=parameter)
    if len(tickers) != 1:
        raise ResearchError(parameter, f"takes one ticker, got {len(tickers)} ({', '.join(tickers)})")
    return tickers[0]


def load_prices(symbols: Sequence[str], start_date: object, end_date: object, resolution: str = "daily",
                normalization: str = "adjusted", *, source: object = None, prices: object = None,
                min_observations: int = 2, what: str = "this analysis",
                parameters: dict[str, str] | None = None) -> PriceData:
    """Closes of ``symbols`` on their common bars, at least ``min_observations`` of them.

    ``parameters`` maps a symbol to the parameter that named it (``benchmark``, ``symbol2``), so an
    unknown ticker is reported under the argument the caller actually wrote.
    """
    parameters = parameters or {}
    if prices is None:
        if start_date is None or end_date is None:
            missing = "start_date" if start_date is None else "end_date"
            raise ResearchError(missing, "is required to load prices (or pass prices= with your own frame)")
        data = _history(symbols, start_date, end_date, resolution, normalization, source, parameters)
        wide, description = _from_market_data(data, symbols)
    elif isinstance(prices, MarketData):
        wide, description = _from_market_data(prices, symbols, parameters)
        wide = _within(wide, start_date, end_date)
    elif isinstance(prices, pd.DataFrame):
        wide = _within(_caller_closes(prices, symbols, parameters), start_date, end_date)
        description = _described(wide, "caller", "prices argument", resolution, "as given", symbols, {}, ())
    else:
        raise ResearchError("prices", f"{type(prices).__name__} is not usable: pass a MarketData from "
                                      "qcmcp.marketdata.history or a DataFrame of closes (time × symbol)")
    aligned, dropped = _common_bars(wide)
    notes = description.notes + ((f"{dropped} bars dropped where not every symbol had one",) if dropped else ())
    if len(aligned) < min_observations:
        raise too_few("start_date/end_date", f"{what} on {', '.join(symbols)}", len(aligned), min_observations,
                      "widen the range (common bars of all symbols count)")
    flat = [name for name in aligned.columns if np.ptp(aligned[name].to_numpy()) == 0]
    if flat:
        raise ResearchError(parameters.get(flat[0], "symbols"),
                            f"{', '.join(flat)} has a constant price over the range; no returns to analyse")
    description = _described(aligned, description.source, description.location, description.resolution,
                             description.normalization, symbols, description.requested, notes)
    return PriceData(aligned, description, PERIODS_PER_YEAR.get(description.resolution, 252))


def _history(symbols: Sequence[str], start_date: object, end_date: object, resolution: str, normalization: str,
             source: object, parameters: dict[str, str]) -> MarketData:
    try:
        return history(list(symbols), start_date, end_date, resolution, normalization, source=source)
    except MissingData as error:
        raise ResearchError(parameters.get(error.symbol, "symbols"), str(error)) from None
    except MarketDataError as error:
        raise ResearchError(_parameter_of(str(error)), str(error)) from None


def _parameter_of(message: str) -> str:
    """Which of our arguments a market-data message is about (its messages start with the argument name)."""
    for prefix, parameter in (("start and end", "start_date/end_date"), ("start", "start_date"),
                              ("end", "end_date"), ("resolution", "resolution"),
                              ("normalization", "normalization"), ("source", "source")):
        if message.startswith(prefix):
            return parameter
    return "symbols"


def _from_market_data(data: MarketData, symbols: Sequence[str],
                      parameters: dict[str, str] | None = None) -> tuple[pd.DataFrame, DataDescription]:
    wide = _caller_closes(data.frame, symbols, parameters or {})
    notes = tuple(f"{name}: {note}" for name, info in data.symbols.items() if name in symbols for note in info.notes)
    if data.synthetic:
        notes += (f"synthetic bars (not market data) for {', '.join(data.synthetic)}",)
    requested = {"after": str(data.requested.after), "until": str(data.requested.until)}
    return wide, _described(wide, data.source, data.location, data.resolution, data.normalization, symbols,
                            requested, notes)


def _caller_closes(frame: pd.DataFrame, symbols: Sequence[str], parameters: dict[str, str]) -> pd.DataFrame:
    """A wide close frame from LEAN's long (symbol, time) shape or from a wide one."""
    if isinstance(frame.index, pd.MultiIndex):
        if "close" not in frame.columns:
            raise ResearchError("prices", "a (symbol, time) frame needs a 'close' column")
        frame = frame["close"].unstack(level=0)
    absent = [name for name in symbols if name not in frame.columns]
    if absent:
        raise ResearchError(parameters.get(absent[0], "symbols"),
                            f"{', '.join(absent)} not in the prices given (it has {', '.join(map(str, frame.columns))})")
    wide = frame[list(symbols)].astype("float64").sort_index()
    wide.columns = pd.Index(list(symbols), name="symbol")
    return wide


def _within(wide: pd.DataFrame, start_date: object, end_date: object) -> pd.DataFrame:
    """The caller's frame cut to (start, end] with history()'s rules (a date-only end includes that day)."""
    if start_date is None and end_date is None:
        return wide
    first = start_date if start_date is not None else wide.index.min() - pd.Timedelta(seconds=1)
    last = end_date if end_date is not None else wide.index.max()
    try:
        window = parse_range(first, last, EXCHANGE_TIME_ZONE)
    except MarketDataError as error:
        raise ResearchError(_parameter_of(str(error)), str(error)) from None
    return wide[(wide.index > window.after) & (wide.index <= window.until)]


def _common_bars(wide: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    aligned = wide.dropna(how="any")
    return aligned, len(wide) - len(aligned)


def _described(wide: pd.DataFrame, source: str, location: str, resolution: str, normalization: str,
               symbols: Sequence[str], requested: dict, notes: tuple[str, ...]) -> DataDescription:
    has_rows = len(wide) > 0
    return DataDescription(source=source, location=location, resolution=resolution, normalization=normalization,
                           symbols=tuple(symbols), start=str(wide.index[0]) if has_rows else "",
                           end=str(wide.index[-1]) if has_rows else "", observations=len(wide),
                           requested=requested, notes=notes)


FIELDS = ("open", "high", "low", "close", "volume")
MAX_LISTED_VALUES = 1000  # bar values listed in a get_history answer (a tool reply is about 24,000 characters)


@dataclass(frozen=True, kw_only=True)
class HistoryResult(Result):
    table: pd.DataFrame  # per symbol: first/last bar, first/last close, total return, bars
    bars: dict[str, dict[str, list]]  # per symbol: time and each field asked for, when they fit; else empty
    bars_note: str  # what bars holds, or why it is empty and how to get them listed
    frame: pd.DataFrame = field(metadata=BULK)  # LEAN's shape: (symbol, time) × open, high, low, close, volume


def check_fields(fields: object) -> tuple[str, ...]:
    if fields is None:
        return FIELDS
    names = [fields] if isinstance(fields, str) else list(fields) if isinstance(fields, (list, tuple)) else None
    unknown = [name for name in names or [] if str(name).lower() not in FIELDS]
    if not names or unknown:
        raise ResearchError("fields", f"{fields!r}: pick from {', '.join(FIELDS)}")
    return tuple(dict.fromkeys(str(name).lower() for name in names))


def listed_bars(data: MarketData, tickers: Sequence[str], fields: tuple[str, ...]) -> tuple[dict, str]:
    """The bars themselves when they fit in a reply (prices to 4 decimals, LEAN's precision), else a way to get them."""
    count = len(data.frame) * len(fields)
    if count > MAX_LISTED_VALUES:
        return {}, (f"{len(data.frame)} bars × {len(fields)} field(s) = {count} values, more than the "
                    f"{MAX_LISTED_VALUES} listed in one answer: narrow the range, or ask for fewer fields "
                    "(fields=['close'])")
    bars = {}
    for name in tickers:
        frame = data.bars(name)
        bars[name] = {"time": [str(time) for time in frame.index],
                      **{column: (frame[column].round(0).astype("int64") if column == "volume"
                                  else frame[column].round(4)).tolist() for column in fields}}
    return bars, f"{', '.join(fields)} of every bar (time = bar end, exchange time; prices to 4 decimals)"


def get_history(symbols: str | Sequence[str], start_date: object, end_date: object, resolution: str = "daily",
                normalization: str = "adjusted", *, fields: Sequence[str] | None = None,
                source: object = None) -> HistoryResult:
    """A per-symbol summary (first/last close, return, bars), the bars themselves when they fit in a reply
    (``fields``: which of open, high, low, close, volume; default all), and LEAN's (symbol, time) frame.

    Each symbol keeps its own bars here (no alignment): this is the data, not an analysis of it.
    """
    tickers = symbol_list(symbols)
    chosen = check_fields(fields)
    data = _history(tickers, start_date, end_date, resolution, normalization, source, {})
    rows = {}
    for name in tickers:
        close = data.bars(name)["close"]
        rows[name] = {"first": str(close.index[0]), "last": str(close.index[-1]), "first_close": float(close.iloc[0]),
                      "last_close": float(close.iloc[-1]), "return": float(close.iloc[-1] / close.iloc[0] - 1),
                      "bars": len(close)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    best, worst = table["return"].idxmax(), table["return"].idxmin()
    reading = (f"{best} returned {table.loc[best, 'return']:+.1%} over {table.loc[best, 'bars']} bars"
               + (f", {worst} {table.loc[worst, 'return']:+.1%} (the lowest)" if worst != best else ""))
    notes = tuple(f"{name}: {note}" for name, info in data.symbols.items() for note in info.notes)
    description = DataDescription(source=data.source, location=data.location, resolution=data.resolution,
                                  normalization=data.normalization, symbols=tickers, start=str(data.start),
                                  end=str(data.end), observations=len(data.frame),
                                  requested={"after": str(data.requested.after), "until": str(data.requested.until)},
                                  notes=notes)
    bars, bars_note = listed_bars(data, tickers, chosen)
    return HistoryResult(table=table, bars=bars, bars_note=bars_note, frame=data.frame, interpretation=reading,
                         method=f"{data.normalization} {data.resolution} bars from qcmcp.marketdata.history "
                                "(bar end times, exchange time); return = last close / first close - 1",
                         data=description)
