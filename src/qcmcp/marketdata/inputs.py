"""Reading the caller's arguments: symbols, resolution, normalisation, asset class and time range.

Each parser accepts the spellings people actually type (LEAN's enum names included) and turns anything
else into a MarketDataError naming the parameter and the values it takes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from qcmcp.marketdata.errors import MarketDataError

RESOLUTIONS = ("daily", "hour", "minute", "second")
NORMALIZATIONS = ("adjusted", "raw", "split_adjusted", "total_return")
SECURITY_TYPES = ("equity", "crypto")
DEFAULT_MARKETS = {"equity": "usa", "crypto": "coinbase"}

_RESOLUTION_ALIASES = {"day": "daily", "hourly": "hour"}
_TICKER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_MARKET = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def _bare(value: str, prefix: str) -> str:
    """``'Resolution.DAILY'`` → ``'daily'``; ``'SplitAdjusted'`` → ``'splitadjusted'``."""
    text = value.strip().lower()
    if text.startswith(prefix + "."):
        text = text[len(prefix) + 1:]
    return re.sub(r"[\s_-]", "", text)


def parse_resolution(value: object) -> str:
    if isinstance(value, str):
        bare = _bare(value, "resolution")
        bare = _RESOLUTION_ALIASES.get(bare, bare)
        if bare in RESOLUTIONS:
            return bare
    raise MarketDataError(f"resolution={value!r} is not supported: use one of {', '.join(RESOLUTIONS)}")


def parse_normalization(value: object) -> str:
    if isinstance(value, str):
        bare = _bare(value, "datanormalizationmode")
        for mode in NORMALIZATIONS:
            if bare == mode.replace("_", ""):
                return mode
    raise MarketDataError(f"normalization={value!r} is not supported: use one of {', '.join(NORMALIZATIONS)} "
                          "(LEAN's DataNormalizationMode names, e.g. 'SplitAdjusted', work too)")


def parse_security_type(value: object) -> str:
    if isinstance(value, str) and value.strip().lower() in SECURITY_TYPES:
        return value.strip().lower()
    raise MarketDataError(f"security_type={value!r} is not supported: use one of {', '.join(SECURITY_TYPES)}")


def parse_market(value: object, security_type: str) -> str:
    if value is None:
        return DEFAULT_MARKETS[security_type]
    if isinstance(value, str) and _MARKET.match(value.strip().lower()):
        return value.strip().lower()
    raise MarketDataError(f"market={value!r} is not a LEAN market name: use e.g. 'usa' for equities or "
                          "'coinbase', 'binance', 'bitfinex' for crypto (the folder name under crypto/)")


def parse_symbols(value: object) -> tuple[str, ...]:
    """One ticker or several, upper-cased, duplicates dropped, order kept."""
    items: Iterable[object] = [value] if isinstance(value, str) else value if isinstance(value, Iterable) else [value]
    tickers: list[str] = []
    for item in items:
        if not isinstance(item, str) or not _TICKER.match(item.strip()):
            raise MarketDataError(f"symbols: {item!r} is not a ticker; pass one like 'SPY' or a list like "
                                  "['SPY', 'AAPL'] (letters, digits, '.', '-' and '_' only)")
        ticker = item.strip().upper()
        if ticker not in tickers:
            tickers.append(ticker)
    if not tickers:
        raise MarketDataError("symbols is empty: pass a ticker like 'SPY' or a list like ['SPY', 'AAPL']")
    return tuple(tickers)


@dataclass(frozen=True)
class TimeRange:
    """Bars whose end time is after ``after`` and no later than ``until`` (exchange-local, naive).

    A date-only ``end`` means the whole of that day, so ``until`` is the next midnight.
    """

    after: pd.Timestamp
    until: pd.Timestamp

    @property
    def first_day(self) -> date:
        return self.after.date()

    @property
    def last_day(self) -> date:
        return self.until.date()

    def __str__(self) -> str:
        return f"({self.after:%Y-%m-%d %H:%M}, {self.until:%Y-%m-%d %H:%M}]"


def _not_a_date(name: str, value: object) -> MarketDataError:
    return MarketDataError(f"{name}={value!r} is not a date: use 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM' (exchange "
                           "time), a datetime.date or a datetime.datetime")


def _from_text(text: str, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise _not_a_date(name, text) from None
    if pd.isna(stamp):
        raise _not_a_date(name, text)
    return stamp


def _timestamp(value: object, name: str, time_zone: str) -> tuple[pd.Timestamp, bool]:
    """The moment in exchange time, and whether it was a plain date (no time of day given)."""
    if isinstance(value, datetime):
        stamp, date_only = pd.Timestamp(value), False
    elif isinstance(value, date):
        stamp, date_only = pd.Timestamp(value), True
    elif isinstance(value, str) and value.strip():
        stamp, date_only = _from_text(value.strip(), name), bool(re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", value.strip()))
    else:
        raise _not_a_date(name, value)
    try:
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert(time_zone).tz_localize(None)
        return stamp.as_unit("ns"), date_only
    except (ValueError, OverflowError):
        raise MarketDataError(f"{name}={value!r} is outside the dates a frame can hold (1678 to 2261)") from None


def parse_range(start: object, end: object, time_zone: str) -> TimeRange:
    """Check the range; time-zone-aware inputs are converted to exchange time (``time_zone``)."""
    after, _ = _timestamp(start, "start", time_zone)
    until, end_is_date = _timestamp(end, "end", time_zone)
    if (after.normalize() if end_is_date else after) > until:
        raise MarketDataError(f"start ({after}) is after end ({until}): swap them, or pass an end after start")
    if end_is_date:
        until = until.normalize() + pd.Timedelta(days=1)
    if after == until:
        raise MarketDataError(f"start and end are both {after}: the range is empty; pass an end after start "
                              "(a date-only end includes that whole day)")
    return TimeRange(after, until)
