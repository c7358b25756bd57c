"""Synthetic bars, only when asked for (``source="synthetic"`` or ``synthetic=True``), always labelled.

A seeded random walk per ticker on the exchange calendar of the market-hours database: the same ticker and
day give the same bar whatever range is asked, so results are reproducible. Daily paths start on a fixed
epoch; intraday bars are a Brownian bridge from each day's open to its close over the regular session.
They are stand-ins for code paths, not prices: nothing about them resembles the real asset.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from qcmcp.marketdata.cache import cached
from qcmcp.marketdata.errors import MissingData
from qcmcp.marketdata.lean_files import BAR_PERIOD
from qcmcp.marketdata.market_hours import ExchangeHours, database_in
from qcmcp.marketdata.request import COLUMNS, BarRequest, SymbolBars, empty_bars, select

EPOCH = date(1990, 1, 1)
LABEL = "synthetic prices (seeded random walk), not market data"


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@cached(maxsize=64)
def _daily_path(ticker: str, hours: ExchangeHours, last: date) -> pd.DataFrame:
    """Sessions from the epoch to ``last``: later ranges only append, earlier bars never change."""
    days = hours.trading_days(EPOCH, last)
    count = len(days)
    traits = _rng("traits", ticker).random(3)
    start_price, daily_vol = 10 + traits[0] * 190, (0.15 + traits[1] * 0.3) / np.sqrt(252)
    drift = (0.02 + traits[2] * 0.08) / 252
    returns = _rng("returns", ticker).normal(drift - daily_vol ** 2 / 2, daily_vol, count)
    close = start_price * np.exp(np.cumsum(returns))
    open_ = np.concatenate([[start_price], close[:-1]]) * np.exp(_rng("gaps", ticker).normal(0, daily_vol / 3, count))
    spread = np.abs(_rng("ranges", ticker).normal(0, daily_vol / 2, count))
    return pd.DataFrame({"day": days, "open": open_, "high": np.maximum(open_, close) * (1 + spread),
                         "low": np.minimum(open_, close) * (1 - spread), "close": close,
                         "volume": np.round(_rng("volumes", ticker).lognormal(15, 0.4, count))})


def _session_bars(ticker: str, row: pd.Series, opens_at: datetime, closes_at: datetime,
                  period: timedelta) -> pd.DataFrame:
    """A day's intraday bars: a bridge from the daily open to the daily close."""
    count = max(int((closes_at - opens_at) / period), 1)
    rng = _rng("intraday", ticker, row["day"], period)
    steps = rng.normal(0, 1, count)
    walk = np.cumsum(steps) - np.linspace(0, 1, count) * steps.sum()
    scale = (row["high"] - row["low"]) / max(float(np.ptp(walk)), 1e-9) / 2
    path = row["open"] + np.linspace(0, row["close"] - row["open"], count) + walk * scale
    opens = np.concatenate([[row["open"]], path[:-1]])
    wiggle = np.abs(rng.normal(0, scale / 3, count))
    ends = pd.date_range(opens_at + period, periods=count, freq=period)
    return pd.DataFrame({"open": opens, "high": np.maximum(opens, path) + wiggle,
                         "low": np.minimum(opens, path) - wiggle, "close": path,
                         "volume": np.round(rng.lognormal(9, 0.5, count))}, index=ends)


def synthetic_frame(ticker: str, hours: ExchangeHours, resolution: str, first: date, last: date) -> pd.DataFrame:
    daily = _daily_path(ticker, hours, last)
    daily = daily[daily["day"] >= first]
    pieces = []
    for _, row in daily.iterrows():
        midnight = datetime.combine(row["day"], datetime.min.time())
        opens, closes = hours.regular_session(row["day"])
        opens_at, closes_at = midnight + opens, midnight + closes
        if resolution == "daily":
            pieces.append(pd.DataFrame([row[COLUMNS].to_numpy(dtype="float64")], columns=COLUMNS, index=[closes_at]))
        else:
            pieces.append(_session_bars(ticker, row, opens_at, closes_at, BAR_PERIOD[resolution].to_pytimedelta()))
    if not pieces:
        return empty_bars()
    frame = pd.concat(pieces)
    frame.index = pd.DatetimeIndex(frame.index, name="time").as_unit("ns")
    return frame[COLUMNS].astype("float64")


@dataclass
class SyntheticSource:
    kind: str = "synthetic"
    location: str = "generated in process"
    chosen_by: str = "source argument"

    def load(self, request: BarRequest) -> SymbolBars:
        hours = database_in(None).hours(request.security_type, request.market, request.symbol)
        frame = select(synthetic_frame(request.symbol, hours, request.resolution, request.window.first_day,
                                       request.window.last_day), request.window)
        if frame.empty:
            raise MissingData(request.symbol, f"no {request.resolution} session for {request.symbol} in "
                              f"{request.window} (weekend or holiday?): widen the range")
        notes = [LABEL]
        if request.normalization != "raw":
            notes.append("synthetic prices have no corporate actions: every normalization gives the same bars")
        return SymbolBars(frame, hours.time_zone, notes, synthetic=True)
