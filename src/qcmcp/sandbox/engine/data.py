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
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

LEAN_PRICE_SCALE = 10_000
SYNTHETIC_EPOCH = date(1998, 1, 2)
MARKET_OPEN, MARKET_CLOSE = time(9, 30), time(16, 0)
MINUTES_PER_SESSION = 390


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
def _daily_path(ticker: str, last: date) -> tuple[list[date], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic daily OHLCV from the epoch to ``last`` (cached: later ranges reuse it)."""
    days = trading_days(SYNTHETIC_EPOCH, last)
    n = len(days)

    def stream(part: str) -> np.random.Generator:
        # One generator per component: a longer range only appends draws, so the bar of
        # a given date is the same whatever range is requested.
        return np.random.default_rng(_seed("daily", part, ticker))

    traits = stream("traits").random(3)
    start_price = 10 + traits[0] * 90
    annual_vol = 0.15 + traits[1] * 0.2
    annual_drift = 0.03 + traits[2] * 0.06
    daily_vol = annual_vol / np.sqrt(252)
    returns = stream("returns").normal((annual_drift - 0.5 * annual_vol**2) / 252, daily_vol, n)
    close = start_price * np.exp(np.cumsum(returns))
    gap = stream("gaps").normal(0, daily_vol * 0.3, n)
    open_ = np.concatenate([[start_price], close[:-1]]) * np.exp(gap)
    spread = np.abs(stream("ranges").normal(0, daily_vol * 0.6, n))
    high = np.maximum(open_, close) * (1 + spread)
    low = np.minimum(open_, close) * (1 - spread)
    volume = np.round(stream("volumes").lognormal(15, 0.4, n))
    return days, np.round(open_, 2), np.round(high, 2), np.round(low, 2), np.round(close, 2), volume


def synthetic_daily(ticker: str, first: date, last: date) -> Bars:
    days, o, h, l, c, v = _daily_path(ticker.upper(), max(last, first))
    keep = [i for i, day in enumerate(days) if first <= day <= last]
    sl = slice(keep[0], keep[-1] + 1) if keep else slice(0, 0)
    picked = days[sl]
    return Bars([datetime.combine(d, time()) for d in picked], [datetime.combine(d, MARKET_CLOSE) for d in picked],
                o[sl], h[sl], l[sl], c[sl], v[sl], synthetic=True)


def synthetic_minute(ticker: str, first: date, last: date) -> Bars:
    """Minute bars whose session opens and closes match the synthetic daily bars."""
    daily = synthetic_daily(ticker, first, last)
    starts: list[datetime] = []
    columns: list[np.ndarray] = []
    for i, session_start in enumerate(daily.start):
        rng = np.random.default_rng(_seed("minute", ticker.upper(), session_start.date()))
        # A Brownian bridge from the day's open to its close.
        steps = rng.normal(0, 1, MINUTES_PER_SESSION)
        walk = np.cumsum(steps) - np.linspace(0, 1, MINUTES_PER_SESSION) * steps.sum()
        scale = (daily.high[i] - daily.low[i]) / max(np.ptp(walk), 1e-9) * 0.5
        path = daily.open[i] + np.linspace(0, daily.close[i] - daily.open[i], MINUTES_PER_SESSION) + walk * scale
        opens = np.concatenate([[daily.open[i]], path[:-1]])
        wiggle = np.abs(rng.normal(0, scale * 0.3, MINUTES_PER_SESSION))
        columns.append(np.stack([opens, np.maximum(opens, path) + wiggle, np.minimum(opens, path) - wiggle, path,
                                 np.round(rng.lognormal(9, 0.5, MINUTES_PER_SESSION))]))
        open_at = datetime.combine(session_start.date(), MARKET_OPEN)
        starts.extend(open_at + timedelta(minutes=m) for m in range(MINUTES_PER_SESSION))
    if not columns:
        empty = np.array([])
        return Bars([], [], empty, empty, empty, empty, empty, synthetic=True)
    data = np.round(np.concatenate(columns, axis=1), 4)
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


def load_bars(ticker: str, resolution: str, first: date, last: date, folder: Path | None) -> Bars:
    """Bars for ``ticker`` from the data folder when it has them, else synthetic."""
    if folder is not None:
        found = (lean_daily if resolution == "daily" else lean_minute)(folder, ticker, first, last)
        if found is not None and len(found):
            return found
    return (synthetic_daily if resolution == "daily" else synthetic_minute)(ticker, first, last)


def aggregate_hourly(minute: Bars) -> Bars:
    """Hour bars built from minute bars (LEAN consolidates the same way)."""
    groups: dict[datetime, list[int]] = {}
    for i, start in enumerate(minute.start):
        groups.setdefault(start.replace(minute=0), []).append(i)
    starts = sorted(groups)
    idx = [groups[s] for s in starts]
    return Bars(
        [max(s, datetime.combine(s.date(), MARKET_OPEN)) for s in starts],
        [minute.end[i[-1]] for i in idx],
        np.array([minute.open[i[0]] for i in idx]), np.array([minute.high[i].max() for i in idx]),
        np.array([minute.low[i].min() for i in idx]), np.array([minute.close[i[-1]] for i in idx]),
        np.array([minute.volume[i].sum() for i in idx]), minute.synthetic,
    )
