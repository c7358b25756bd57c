"""Market data for the sandbox engine: a LEAN-format data folder, or synthetic bars.

LEAN folder layout (what `lean` CLI users have on disk), prices scaled by 10,000:
    equity/usa/daily/spy.zip           spy.csv: "YYYYMMDD 00:00,open,high,low,close,volume"
    equity/usa/minute/spy/YYYYMMDD_trade.zip
                                       YYYYMMDD_spy_minute_trade.csv: "ms since midnight,o,h,l,c,v"
Without a folder (or without the ticker in it) bars are synthetic: a seeded random walk
per ticker on the NYSE trading calendar, identical for the same ticker and date whatever
range is requested, and always labelled synthetic in results.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

LEAN_PRICE_SCALE = 10_000
SYNTHETIC_EPOCH = date(1998, 1, 2)
MARKET_OPEN, MARKET_CLOSE = time(9, 30), time(16, 0)
MINUTES_PER_SESSION = 390


@dataclass(frozen=True)
class MarketHours:
    """When an asset class trades: equities on NYSE sessions, crypto every day, forex on weekdays."""

    kind: str
    open: time
    minutes: int
    weekends: bool

    def days(self, first: date, last: date) -> list[date]:
        if self.kind == "equity":
            return trading_days(first, last)
        days, day = [], first
        while day <= last:
            if self.weekends or day.weekday() < 5:
                days.append(day)
            day += timedelta(days=1)
        return days

    def session_close(self, day: date) -> datetime:
        return datetime.combine(day, self.open) + timedelta(minutes=self.minutes)


EQUITY = MarketHours("equity", MARKET_OPEN, MINUTES_PER_SESSION, weekends=False)
CRYPTO = MarketHours("crypto", time(), 24 * 60, weekends=True)
FOREX = MarketHours("forex", time(), 24 * 60, weekends=False)  # simplified: Monday 00:00 to Friday 24:00
BASE = MarketHours("base", time(), 24 * 60, weekends=True)  # custom data: LEAN's Base securities, always open
HOURS = {"equity": EQUITY, "crypto": CRYPTO, "forex": FOREX, "base": BASE}
# Per asset class: start price range, annual volatility range, annual drift range (None: no drift in
# log price, which keeps high-volatility paths in a plausible band), and the first synthetic day.
TRAITS = {"equity": ((10, 100), (0.15, 0.35), (0.03, 0.09)), "crypto": ((100, 50_000), (0.5, 0.9), None),
          "forex": ((0.6, 1.6), (0.05, 0.12), None)}
MEAN_REVERSION = 1 / 365  # per day
EPOCHS = {"equity": SYNTHETIC_EPOCH, "crypto": date(2015, 1, 1), "forex": SYNTHETIC_EPOCH}


@dataclass
class Bars:
    """Bars of one symbol as columns; ``end`` is when each bar became known."""

    start: list[datetime]
    end: list[datetime]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    synthetic: bool

    def __len__(self) -> int:
        return len(self.end)


@functools.cache
def trading_days(first: date, last: date) -> list[date]:
    """NYSE sessions between two dates (weekends and exchange holidays removed)."""
    import holidays

    closed = holidays.NYSE(years=range(first.year, last.year + 1))
    days, day = [], first
    while day <= last:
        if day.weekday() < 5 and day not in closed:
            days.append(day)
        day += timedelta(days=1)
    return days


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "little")


@functools.cache
def _daily_path(ticker: str, last: date, kind: str = "equity") -> tuple[list[date], np.ndarray, np.ndarray, np.ndarray,
                                                                         np.ndarray, np.ndarray]:
    """Synthetic daily OHLCV from the epoch to ``last`` (cached: later ranges reuse it)."""
    days = HOURS[kind].days(EPOCHS[kind], last)
    n = len(days)
    (p0, p1), (v0, v1), drift_range = TRAITS[kind]

    def stream(part: str) -> np.random.Generator:
        # One generator per component: a longer range only appends draws, so the bar of
        # a given date is the same whatever range is requested.
        return np.random.default_rng(_seed("daily", part, ticker))

    traits = stream("traits").random(3)
    start_price = p0 + traits[0] * (p1 - p0)
    annual_vol = v0 + traits[1] * (v1 - v0)
    daily_vol = annual_vol / np.sqrt(365 if HOURS[kind].weekends else 252)
    if drift_range is not None:  # equities: geometric Brownian motion with drift
        annual_drift = drift_range[0] + traits[2] * (drift_range[1] - drift_range[0])
        returns = stream("returns").normal((annual_drift - 0.5 * annual_vol**2) / 252, daily_vol, n)
        close = start_price * np.exp(np.cumsum(returns))
    else:  # crypto and forex: log price mean-reverting to its start (half-life about a year)
        shocks, level, path = stream("returns").normal(0, daily_vol, n), 0.0, np.empty(n)
        for i, shock in enumerate(shocks):
            level = level * (1 - MEAN_REVERSION) + shock
            path[i] = level
        close = start_price * np.exp(path)
    gap = stream("gaps").normal(0, daily_vol * 0.3, n)
    open_ = np.concatenate([[start_price], close[:-1]]) * np.exp(gap)
    spread = np.abs(stream("ranges").normal(0, daily_vol * 0.6, n))
    high = np.maximum(open_, close) * (1 + spread)
    low = np.minimum(open_, close) * (1 - spread)
    volume = np.round(stream("volumes").lognormal(15, 0.4, n))
    decimals = 5 if kind == "forex" else 2
    return days, *(np.round(x, decimals) for x in (open_, high, low, close)), volume  # type: ignore[return-value]


def synthetic_daily(ticker: str, first: date, last: date, hours: MarketHours = EQUITY) -> Bars:
    days, o, h, l, c, v = _daily_path(ticker.upper(), max(last, first), hours.kind)
    keep = [i for i, day in enumerate(days) if first <= day <= last]
    sl = slice(keep[0], keep[-1] + 1) if keep else slice(0, 0)
    picked = days[sl]
    return Bars([datetime.combine(d, time()) for d in picked], [hours.session_close(d) for d in picked],
                o[sl], h[sl], l[sl], c[sl], v[sl], synthetic=True)


def synthetic_minute(ticker: str, first: date, last: date, hours: MarketHours = EQUITY) -> Bars:
    """Minute bars whose sessions open and close exactly on the synthetic daily bars."""
    daily = synthetic_daily(ticker, first, last, hours)
    minutes = hours.minutes
    starts: list[datetime] = []
    columns: list[np.ndarray] = []
    for i, session_start in enumerate(daily.start):
        rng = np.random.default_rng(_seed("minute", ticker.upper(), session_start.date()))
        # A Brownian bridge from the day's open to its close.
        steps = rng.normal(0, 1, minutes)
        walk = np.cumsum(steps) - np.linspace(0, 1, minutes) * steps.sum()
        scale = (daily.high[i] - daily.low[i]) / max(np.ptp(walk), 1e-9) * 0.5
        path = daily.open[i] + np.linspace(0, daily.close[i] - daily.open[i], minutes) + walk * scale
        opens = np.concatenate([[daily.open[i]], path[:-1]])
        wiggle = np.abs(rng.normal(0, scale * 0.3, minutes))
        columns.append(np.stack([opens, np.maximum(opens, path) + wiggle, np.minimum(opens, path) - wiggle, path,
                                 np.round(rng.lognormal(9, 0.5, minutes))]))
        open_at = datetime.combine(session_start.date(), hours.open)
        starts.extend(open_at + timedelta(minutes=m) for m in range(minutes))
    if not columns:
        empty = np.array([])
        return Bars([], [], empty, empty, empty, empty, empty, synthetic=True)
    data = np.round(np.concatenate(columns, axis=1), 6 if hours.kind == "forex" else 4)
    return Bars(starts, [s + timedelta(minutes=1) for s in starts], data[0], data[1], data[2], data[3], data[4], synthetic=True)


def _rows(archive: Path) -> list[list[str]]:
    with zipfile.ZipFile(archive) as zipped:
        name = zipped.namelist()[0]
        return list(csv.reader(io.TextIOWrapper(zipped.open(name), encoding="utf-8")))


def _columns(rows: list[tuple[datetime, datetime, list[str]]]) -> Bars:
    values = np.array([[float(x) for x in r[2][1:6]] for r in rows]) if rows else np.zeros((0, 5))
    prices = values[:, :4] / LEAN_PRICE_SCALE
    return Bars([r[0] for r in rows], [r[1] for r in rows], prices[:, 0], prices[:, 1], prices[:, 2], prices[:, 3],
                values[:, 4], synthetic=False)


def lean_daily(folder: Path, ticker: str, first: date, last: date) -> Bars | None:
    archive = folder / "equity" / "usa" / "daily" / f"{ticker.lower()}.zip"
    if not archive.is_file():
        return None
    rows = []
    for row in _rows(archive):
        day = datetime.strptime(row[0][:8], "%Y%m%d").date()
        if first <= day <= last:
            rows.append((datetime.combine(day, time()), datetime.combine(day, MARKET_CLOSE), row))
    return _columns(rows)


def lean_minute(folder: Path, ticker: str, first: date, last: date) -> Bars | None:
    directory = folder / "equity" / "usa" / "minute" / ticker.lower()
    if not directory.is_dir():
        return None
    rows = []
    for day in trading_days(first, last):
        archive = directory / f"{day:%Y%m%d}_trade.zip"
        if archive.is_file():
            midnight = datetime.combine(day, time())
            for row in _rows(archive):
                start = midnight + timedelta(milliseconds=int(row[0]))
                rows.append((start, start + timedelta(minutes=1), row))
    return _columns(rows)


def load_bars(ticker: str, resolution: str, first: date, last: date, folder: Path | None,
              hours: MarketHours = EQUITY) -> Bars:
    """Bars for ``ticker``: from the data folder for equities it holds, else synthetic."""
    if folder is not None and hours.kind == "equity":
        found = (lean_daily if resolution == "daily" else lean_minute)(folder, ticker, first, last)
        if found is not None and len(found):
            return found
    return (synthetic_daily if resolution == "daily" else synthetic_minute)(ticker, first, last, hours)


def aggregate_hourly(minute: Bars, hours: MarketHours = EQUITY) -> Bars:
    """Hour bars built from minute bars (LEAN consolidates the same way)."""
    groups: dict[datetime, list[int]] = {}
    for i, start in enumerate(minute.start):
        groups.setdefault(start.replace(minute=0), []).append(i)
    starts = sorted(groups)
    idx = [groups[s] for s in starts]
    return Bars(
        [max(s, datetime.combine(s.date(), hours.open)) for s in starts],
        [minute.end[i[-1]] for i in idx],
        np.array([minute.open[i[0]] for i in idx]), np.array([minute.high[i].max() for i in idx]),
        np.array([minute.low[i].min() for i in idx]), np.array([minute.close[i[-1]] for i in idx]),
        np.array([minute.volume[i].sum() for i in idx]), minute.synthetic,
    )


# ---- LEAN data folders through the market-data layer (qcmcp.marketdata) ----------------------------------
NORMALIZATION_MODES = {"raw": "raw", "adjusted": "adjusted", "splitadjusted": "split_adjusted",
                       "totalreturn": "total_return", "split_adjusted": "split_adjusted", "total_return": "total_return"}


def normalization_mode(mode: object) -> str:
    """LEAN's DataNormalizationMode (``Adjusted``, ``SplitAdjusted``, …) as the market-data layer names it."""
    key = str(mode).split(".")[-1].replace("_", "").lower()
    if key not in NORMALIZATION_MODES:
        raise ValueError(f"data normalization mode {mode!r}: not supported in the sandbox: {mode} normalization; "
                         "run it in the cloud (the sandbox has Raw, Adjusted, SplitAdjusted and TotalReturn)")
    return NORMALIZATION_MODES[key]


def scaled_to(bars: Bars, folder: Path, ticker: str, first: date, last: date) -> Bars:
    """LEAN's ScaledRaw from adjusted bars: each price over the adjustment factor in force on ``last`` (the
    request's end), so the bars are raw prices as of that date; volumes the other way. The factor file is that of
    the company the ticker names on ``first``, as the adjusted bars' own (GOOG in 2013 is today's GOOGL)."""
    from qcmcp.marketdata.factors import read_factor_file

    company = _company_of(folder, ticker, first, last)
    name = company.permtick if company is not None else ticker
    factors = read_factor_file(folder / "equity" / "usa" / "factor_files" / f"{name.lower()}.csv")
    if not len(bars) or not factors:
        return bars
    factor = float(factors.scale(np.array([np.datetime64(last, "ns")]), "adjusted")[0])
    return Bars(bars.start, bars.end, bars.open / factor, bars.high / factor, bars.low / factor, bars.close / factor,
                np.round(bars.volume * factor), bars.synthetic)


def exchange_hours(folder: Path | None, ticker: str) -> object:
    """The market-hours database entry of a US equity (the data folder's own database, else the shipped one)."""
    from qcmcp.marketdata.market_hours import database_in

    return database_in(folder).hours("equity", "usa", ticker)


def _frame_bars(frame: object, resolution: str, hours: object) -> Bars:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    ends = [moment.to_pydatetime() for moment in frame.index]
    if resolution == "daily":
        starts = []
        for end in ends:
            session = hours.regular_session(end.date())  # type: ignore[attr-defined]
            starts.append(datetime.combine(end.date(), time()) + session[0] if session else end - timedelta(days=1))
    else:
        period = timedelta(hours=1) if resolution == "hour" else timedelta(minutes=1)
        starts = [end - period for end in ends]
    return Bars(starts, ends, frame["open"].to_numpy(dtype=float), frame["high"].to_numpy(dtype=float),
                frame["low"].to_numpy(dtype=float), frame["close"].to_numpy(dtype=float),
                frame["volume"].to_numpy(dtype=float), synthetic=False)


def lean_folder_bars(folder: Path, ticker: str, resolution: str, first: date, last: date, normalization: str,
                     extended: bool) -> Bars | None:
    """Trade bars from a LEAN folder as LEAN feeds them: map files, factor files, market hours; None if absent."""
    import pandas as pd

    from qcmcp.marketdata.errors import MarketDataError
    from qcmcp.marketdata.inputs import TimeRange
    from qcmcp.marketdata.lean_folder import LeanFolder
    from qcmcp.marketdata.request import BarRequest

    window = TimeRange(pd.Timestamp(first), pd.Timestamp(last) + pd.Timedelta(days=1))
    request = BarRequest(ticker.upper(), "equity", "usa", resolution, normalization, extended, window)
    try:
        loaded = LeanFolder(folder).load(request)
    except MarketDataError:
        return None
    return _frame_bars(loaded.frame, resolution, exchange_hours(folder, ticker))


def lean_folder_crypto_bars(folder: Path, ticker: str, market: str, resolution: str, first: date,
                            last: date) -> Bars | None:
    """Crypto trade bars from a LEAN folder (``crypto/<market>/...``), their UTC times in the algorithm's time
    zone (its clock, New York unless set), from the bar ending at the first day's midnight; None if the folder
    has none."""
    import pandas as pd

    from qcmcp.sandbox.engine import clock

    from qcmcp.marketdata.errors import MarketDataError
    from qcmcp.marketdata.inputs import TimeRange
    from qcmcp.marketdata.lean_folder import LeanFolder
    from qcmcp.marketdata.request import BarRequest

    if clock.zone() == clock.NEW_YORK:
        window = TimeRange(pd.Timestamp(first) + pd.Timedelta(hours=3),
                           pd.Timestamp(last) + pd.Timedelta(days=1, hours=5))
    else:  # any zone is within a day of UTC: read a day more each side, the filter below keeps the run's bars
        window = TimeRange(pd.Timestamp(first) - pd.Timedelta(days=1), pd.Timestamp(last) + pd.Timedelta(days=2))
    request = BarRequest(ticker.upper(), "crypto", market.lower(), resolution, "raw", False, window)
    try:
        frame = LeanFolder(folder).load(request).frame
    except MarketDataError:
        return None
    ends = frame.index.tz_localize("UTC").tz_convert(clock.zone()).tz_localize(None)
    period = {"daily": timedelta(days=1), "hour": timedelta(hours=1)}.get(resolution, timedelta(minutes=1))
    end_times = [moment.to_pydatetime() for moment in ends]
    # LEAN's SubscriptionDataReader skips only bars ending before the start: one ending at its midnight is the first
    opening = datetime.combine(first, time())
    keep = [i for i, moment in enumerate(end_times) if opening <= moment and (moment - period).date() <= last]
    pick = lambda column: frame[column].to_numpy(dtype=float)[keep]  # noqa: E731
    return Bars([end_times[i] - period for i in keep], [end_times[i] for i in keep], pick("open"), pick("high"),
                pick("low"), pick("close"), pick("volume"), synthetic=False)


def lean_folder_crypto_quotes(folder: Path, ticker: str, market: str, resolution: str, first: date, last: date,
                              ends: list[datetime]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Bid and ask closes (and the bid high, bid low, ask high, ask low) of a crypto pair's LEAN quote files
    (``<day>_quote.zip`` in UTC days for minute bars, ``<ticker>_quote.zip`` for hour and daily), their UTC times
    in the algorithm's time zone, aligned to the trade bars' ``ends`` (the last quote at or before each, within an hour); None
    without quote files."""
    import pandas as pd

    from qcmcp.sandbox.engine import clock

    base = folder / "crypto" / market.lower() / resolution
    if resolution == "minute":
        archives = []
        day = first - timedelta(days=1)
        while day <= last + timedelta(days=1):
            archive = base / ticker.lower() / f"{day:%Y%m%d}_quote.zip"
            if archive.is_file():
                archives.append((day, archive))
            day += timedelta(days=1)
    else:
        archive = base / f"{ticker.lower()}_quote.zip"
        archives = [(None, archive)] if archive.is_file() else []
    if not archives or not ends:
        return None
    period = {"daily": pd.Timedelta(days=1), "hour": pd.Timedelta(hours=1)}.get(resolution, pd.Timedelta(minutes=1))
    frames = []
    for day, archive in archives:
        with zipfile.ZipFile(archive) as zipped:
            raw = pd.read_csv(zipped.open(zipped.namelist()[0]), header=None, usecols=[0, 2, 3, 4, 7, 8, 9],
                              names=["time", "bid_high", "bid_low", "bid", "ask_high", "ask_low", "ask"],
                              dtype={"time": str})
        if day is not None:
            start = pd.Timestamp(day) + pd.to_timedelta(raw["time"].astype("float64"), unit="ms")
        else:
            start = pd.to_datetime(raw["time"], format="%Y%m%d %H:%M")
        end = (start + period).dt.tz_localize("UTC").dt.tz_convert(clock.zone()).dt.tz_localize(None)
        columns = ["bid", "ask", "bid_high", "bid_low", "ask_high", "ask_low"]
        frames.append(pd.DataFrame({c: raw[c].to_numpy(dtype=float) for c in columns}, index=pd.DatetimeIndex(end)))
    quotes = pd.concat(frames).sort_index()
    quotes = quotes[~quotes.index.duplicated(keep="last")]
    quotes = quotes.where(quotes > 0)
    target = pd.DatetimeIndex(ends)
    limit = 60 if resolution == "minute" else 1
    aligned = quotes.reindex(quotes.index.union(target)).ffill(limit=limit).reindex(target)
    return aligned["bid"].to_numpy(dtype=float), aligned["ask"].to_numpy(dtype=float), \
        aligned[["bid_high", "bid_low", "ask_high", "ask_low"]].to_numpy(dtype=float)


def no_bars() -> Bars:
    empty = np.array([])
    return Bars([], [], empty, empty, empty, empty, empty, synthetic=False)


QUOTE_COLUMNS = ["bidopen", "bidhigh", "bidlow", "bidclose", "bidsize", "askopen", "askhigh", "asklow", "askclose",
                 "asksize"]


def lean_folder_quote_bars(folder: Path, ticker: str, first: date, last: date, normalization: str) -> Any:
    """LEAN's minute quote bars of an equity (``<day>_quote.zip``: bid OHLC and size, ask OHLC and size), indexed by
    bar end, normalised like the trade bars (prices times the factor, sizes divided by it and rounded); None if
    the folder has none."""
    import pandas as pd

    from qcmcp.marketdata.factors import read_factor_file

    directory = folder / "equity" / "usa" / "minute" / ticker.lower()
    if not directory.is_dir():
        return None
    frames = []
    for day in trading_days(first, last):
        archive = directory / f"{day:%Y%m%d}_quote.zip"
        if not archive.is_file():
            continue
        with zipfile.ZipFile(archive) as zipped:
            raw = pd.read_csv(zipped.open(zipped.namelist()[0]), header=None, names=["ms", *QUOTE_COLUMNS])
        end = pd.Timestamp(day) + pd.to_timedelta(raw["ms"].astype("float64"), unit="ms") + pd.Timedelta(minutes=1)
        frame = raw[QUOTE_COLUMNS].astype(float)
        prices = [name for name in QUOTE_COLUMNS if not name.endswith("size")]
        frame[prices] = frame[prices] / LEAN_PRICE_SCALE
        frame.index = pd.DatetimeIndex(end)
        frames.append(frame)
    if not frames:
        return None
    quotes = pd.concat(frames).sort_index()
    quotes = quotes[~quotes.index.duplicated(keep="last")]
    factors = read_factor_file(folder / "equity" / "usa" / "factor_files" / f"{ticker.lower()}.csv")
    if normalization != "raw" and factors:
        scale = factors.scale(quotes.index.normalize().to_numpy(dtype="datetime64[ns]"),
                              "split_adjusted" if normalization == "total_return" else normalization)
        prices = [name for name in QUOTE_COLUMNS if not name.endswith("size")]
        quotes[prices] = quotes[prices].mul(scale, axis=0)
        quotes[["bidsize", "asksize"]] = np.round(quotes[["bidsize", "asksize"]].div(scale, axis=0))
    return quotes


QUOTE_OHLC = ("bidopen", "bidhigh", "bidlow", "bidclose", "askopen", "askhigh", "asklow", "askclose")


def lean_folder_quotes(folder: Path, ticker: str, first: date, last: date, normalization: str,
                       ends: list[datetime]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Bid and ask closes, last bid and ask sizes and the bid and ask OHLC (columns in ``QUOTE_OHLC`` order) of
    LEAN's minute quote files, aligned to ``ends`` (the last quote at or before each trade bar's end, within
    LEAN's one-hour stale-price span; a filled-forward bar is flat at the last close, as LEAN fills forward),
    normalised like the trade bars (sizes divided by the price factor, rounded, as LEAN's volumes); None if
    absent."""
    import pandas as pd

    if not ends:
        return None
    bars = lean_folder_quote_bars(folder, ticker, first, last, normalization)
    if bars is None:
        return None
    bars = bars[(bars["bidclose"] > 0) & (bars["askclose"] > 0)]
    if not len(bars):
        return None
    target = pd.DatetimeIndex(ends)
    aligned = bars.reindex(bars.index.union(target)).ffill(limit=60).reindex(target)
    closes = tuple(aligned[name].to_numpy(dtype=float) for name in ("bidclose", "askclose", "bidsize", "asksize"))
    ohlc = np.array(aligned[list(QUOTE_OHLC)], dtype=float)
    stale = ~target.isin(bars.index)
    ohlc[stale, 0:3], ohlc[stale, 4:7] = ohlc[stale, 3:4], ohlc[stale, 7:8]
    return (*closes, ohlc)  # type: ignore[return-value]


def delisting_day(folder: Path, ticker: str, first: date, last: date) -> date | None:
    """The day the company the ticker names on ``first`` was delisted (its map file's last row), if in range."""
    import pandas as pd

    from qcmcp.marketdata.inputs import TimeRange
    from qcmcp.marketdata.lean_folder import LeanFolder
    from qcmcp.marketdata.request import BarRequest

    source = LeanFolder(folder)
    request = BarRequest(ticker.upper(), "equity", "usa", "daily", "raw", False,
                         TimeRange(pd.Timestamp(first), pd.Timestamp(last) + pd.Timedelta(days=1)))
    try:
        company = source._company(request)
    except Exception:  # noqa: BLE001 - no map file: never delisted
        return None
    day = company.delisting_day if company.rows else None
    return day if day is not None and first <= day <= last and day.year < 2050 else None


def _company_of(folder: Path, ticker: str, first: date, last: date) -> Any:
    """The map file of the company ``ticker`` names on ``first``, or None without one."""
    import pandas as pd

    from qcmcp.marketdata.inputs import TimeRange
    from qcmcp.marketdata.lean_folder import LeanFolder
    from qcmcp.marketdata.request import BarRequest

    request = BarRequest(ticker.upper(), "equity", "usa", "daily", "raw", False,
                         TimeRange(pd.Timestamp(first), pd.Timestamp(last) + pd.Timedelta(days=1)))
    try:
        company = LeanFolder(folder)._company(request)
    except Exception:  # noqa: BLE001 - no map file: the ticker is its own company
        return None
    return company if company.rows else None


def mapped_tickers(folder: Path, ticker: str, first: date, last: date) -> Callable[[date], str]:
    """Day → the ticker the company ``ticker`` names on ``first`` traded under that day (LEAN's
    MapFile.GetMappedSymbol, what a mapped subscription's ``config.mapped_symbol`` is)."""
    company = _company_of(folder, ticker, first, last)
    return (lambda day: ticker.upper()) if company is None else company.ticker_on


def symbol_changes(folder: Path, ticker: str, first: date, last: date,
                   every_day: bool = False) -> dict[date, tuple[str, str]]:
    """(old ticker, new ticker) by the first session under the new one (the first day, for an always-open
    security such as mapped custom data), from the map file of the company the ticker names on ``first``
    (LEAN's MappingEventProvider: on each tradable date after the first, the mapped ticker is compared with the
    one before)."""
    company = _company_of(folder, ticker, first, last)
    if company is None:
        return {}
    end = last + timedelta(days=10)
    sessions = [first + timedelta(days=n) for n in range((end - first).days + 1)] if every_day \
        else trading_days(first, end)
    changes: dict[date, tuple[str, str]] = {}
    for day, old, new in company.ticker_changes():
        if not first < day <= last:  # a change before the subscription starts is no event
            continue
        session = next((d for d in sessions if d >= day), None)
        if session is not None and session <= last:
            changes[session] = (old.upper(), new.upper())
    return changes


def corporate_actions(folder: Path, ticker: str, first: date,
                      last: date) -> tuple[dict[date, float], dict[date, float], dict[date, float]]:
    """Dividends (raw amount per share) and splits (LEAN's split factor: the price after per price before) by
    ex-date, and split warnings by the day before, from the factor file of the company the ticker names on
    ``first``. LEAN's DividendEventProvider and SplitEventProvider look at each tradable date from the
    subscription's first: on a factor-file row's date they warn of a split, and on the next session they emit
    the dividend or split (so an event whose row date is before ``first`` is not emitted)."""
    import pandas as pd

    from qcmcp.marketdata.inputs import TimeRange
    from qcmcp.marketdata.lean_folder import LeanFolder
    from qcmcp.marketdata.request import BarRequest

    source = LeanFolder(folder)
    request = BarRequest(ticker.upper(), "equity", "usa", "daily", "raw", False,
                         TimeRange(pd.Timestamp(first), pd.Timestamp(last) + pd.Timedelta(days=1)))
    try:
        factors = source._factor_file(request, source._company(request))
    except Exception:  # noqa: BLE001 - no factor file: no corporate actions
        return {}, {}
    sessions = trading_days(first - timedelta(days=10), last + timedelta(days=10))

    def ex_date(day: date) -> date | None:
        later = [d for d in sessions if d > day]
        return later[0] if later else None

    dividends: dict[date, float] = {}
    days, amounts = factors.dividends()
    for day, amount in zip(days, amounts, strict=True):
        row_day = pd.Timestamp(day).date()
        ex = ex_date(row_day)
        if ex is not None and first <= row_day and ex <= last and amount:
            dividends[ex] = float(amount)
    splits: dict[date, float] = {}
    warnings: dict[date, float] = {}
    for row, following in zip(factors.rows, factors.rows[1:]):
        if row.split_factor == following.split_factor or not row.split_factor:
            continue
        ex = ex_date(row.day)
        if ex is not None and first <= row.day <= last:
            # LEAN's SplitFactor: this row's split factor over the next one's, in decimal as the file prints them
            # (AAPL's 0.0357143 / 0.25 = 0.1428572, not 1/7: 52 shares become int(52 / 0.1428572) = 363)
            factor = float(Decimal(repr(row.split_factor)) / Decimal(repr(following.split_factor)))
            if row.day in sessions:  # LEAN warns on the row's date when it is a session
                warnings[row.day] = factor
            if ex <= last:
                splits[ex] = factor
    return dividends, splits, warnings
