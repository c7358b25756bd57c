"""LEAN's security seeding: ``get_last_known_prices`` / ``get_last_known_price``, ``FuncSecuritySeeder``,
``BrokerageModelSecurityInitializer(brokerage_model, seeder)`` and ``security.set_market_price``, with the
QuoteBar a seed (or ``security.cache``) holds.

As LEAN's QCAlgorithm.GetLastKnownPrices: for each data type the security is subscribed to, the last bar before
now at its resolution (at least minute): the trade bar, and for minute equities with quote files the quote bar
(bid and ask OHLC, last sizes, normalised like the trade bars), ordered by time then trades before quotes;
``get_last_known_price`` is the trade bar when there is one. Seeding sets the security's price, bar and quotes
before its first data arrives.
"""

from __future__ import annotations

import zipfile
from datetime import datetime, time, timedelta
from typing import Any

from qcmcp.sandbox.engine.types import PascalAliases, TradeBar


class Bar(PascalAliases):
    def __init__(self, open: float = 0.0, high: float = 0.0, low: float = 0.0, close: float = 0.0) -> None:
        self.open, self.high, self.low, self.close = float(open), float(high), float(low), float(close)


class QuoteBar(PascalAliases):
    """LEAN's QuoteBar: ``bid``/``ask`` Bars, ``last_bid_size``/``last_ask_size``; OHLC are the mid prices."""

    def __init__(self, time: datetime | None = None, symbol: Any = None, bid: Bar | None = None,
                 last_bid_size: float = 0.0, ask: Bar | None = None, last_ask_size: float = 0.0,
                 period: timedelta = timedelta(minutes=1)) -> None:
        self.time, self.symbol, self.bid, self.ask = time, symbol, bid, ask
        self.last_bid_size, self.last_ask_size = float(last_bid_size), float(last_ask_size)
        self.end_time = time + period if time is not None else None

    def _mid(self, side: str) -> float:
        values = [getattr(bar, side) for bar in (self.bid, self.ask) if bar is not None]
        return sum(values) / len(values) if values else 0.0

    open = property(lambda self: self._mid("open"))
    high = property(lambda self: self._mid("high"))
    low = property(lambda self: self._mid("low"))
    close = property(lambda self: self._mid("close"))
    value = price = close
    period = property(lambda self: self.end_time - self.time)

    def __repr__(self) -> str:
        return f"QuoteBar({self.symbol} {self.time} bid {self.bid and self.bid.close} ask {self.ask and self.ask.close})"


def _last_quote_bar(engine: Any, security: Any, before: datetime) -> QuoteBar | None:
    """The last minute quote bar ending at or before ``before`` in the subscription's hours, from the sample's
    quote files (looking back up to a week of sessions)."""
    from qcmcp.marketdata.factors import read_factor_file
    from qcmcp.sandbox.engine import data as market_data

    folder = engine.data_folder
    if folder is None or security.hours.kind != "equity" or security.resolution not in ("minute", "second"):
        return None
    directory = folder / "equity" / "usa" / "minute" / security.symbol.value.lower()
    for back in range(8):
        day = before.date() - timedelta(days=back)
        archive = directory / f"{day:%Y%m%d}_quote.zip"
        if not archive.is_file():
            continue
        with zipfile.ZipFile(archive) as zipped:
            rows = [line.split(",") for line in zipped.read(zipped.namelist()[0]).decode().splitlines() if line]
        midnight = datetime.combine(day, time())
        picked = None
        for row in rows:
            start = midnight + timedelta(milliseconds=int(float(row[0])))
            end = start + timedelta(minutes=1)
            if end > before or float(row[4]) <= 0 or float(row[9]) <= 0:
                continue
            if not security.extended_market_hours and not (engine.exchange_open(security, start) and
                                                           engine.exchange_open(security, end - timedelta(seconds=1))):
                continue
            picked = (start, row)
        if picked is None:
            continue
        start, row = picked
        mode = market_data.normalization_mode(security.data_normalization_mode)
        scale = 1.0
        factors = read_factor_file(folder / "equity" / "usa" / "factor_files" / f"{security.symbol.value.lower()}.csv")
        if mode != "raw" and factors:
            import numpy as np

            scale = float(factors.scale(np.array([np.datetime64(day)], dtype="datetime64[ns]"),
                                        "split_adjusted" if mode == "total_return" else mode)[0])
        prices = [float(x) / market_data.LEAN_PRICE_SCALE * scale for x in row[1:5] + row[6:10]]
        return QuoteBar(start, security.symbol, Bar(*prices[:4]), round(float(row[5]) / scale), Bar(*prices[4:]),
                        round(float(row[10]) / scale))
    return None


def last_known_prices(engine: Any, symbol: Any) -> list[Any]:
    """LEAN's GetLastKnownPrices(symbol): the last trade bar (and quote bar) before now."""
    security = engine.securities.get(symbol)
    if security is None:
        return []
    if getattr(security, "custom_type", None) is not None:
        from qcmcp.sandbox.engine.unsupported import refuse

        refuse("get_last_known_prices for custom data (seeding a custom data security)")
    now = engine._now_for_history()
    resolution = security.resolution if security.resolution in ("minute", "hour", "daily") else "minute"
    found: list[Any] = []
    bars = engine._history_bars(symbol, 1, resolution, now)
    if bars:
        found.append(bars[-1])
    quote = _last_quote_bar(engine, security, now) if resolution == "minute" else None
    if quote is not None:
        found.append(quote)
    return sorted(found, key=lambda data: (data.time, isinstance(data, QuoteBar)))


def set_market_price(security: Any, data: Any) -> None:
    """LEAN's Security.SetMarketPrice: a trade bar becomes the security's bar, a quote bar its bid and ask."""
    if data is None:
        return
    if isinstance(data, QuoteBar):
        if data.bid is not None:
            security.bid_price, security.bid_size = data.bid.close, data.last_bid_size
        if data.ask is not None:
            security.ask_price, security.ask_size = data.ask.close, data.last_ask_size
        if security.bar is None:  # LEAN's price follows the latest data: a quote-only seed prices at the mid
            security.bar = TradeBar(data.symbol, data.time, data.end_time, data.open, data.high, data.low,
                                    data.close, 0.0)
        return
    if isinstance(data, TradeBar):
        security.bar = TradeBar(data.symbol, data.time, data.end_time, data.open, data.high, data.low, data.close,
                                data.volume)
        return
    from qcmcp.sandbox.engine.unsupported import refuse

    refuse(f"Security.set_market_price({type(data).__name__})")


class FuncSecuritySeeder(PascalAliases):
    """LEAN's FuncSecuritySeeder(func): seeds a security with what ``func(security)`` returns (one data point or
    several)."""

    def __init__(self, seed_function: Any) -> None:
        self.seed_function = seed_function

    def seed_security(self, security: Any) -> bool:
        data = self.seed_function(security)
        for point in (data if isinstance(data, list | tuple) else [data]):
            set_market_price(security, point)
        return True


class SecuritySeeder:
    NULL = Null = None  # LEAN's SecuritySeeder.Null: no seeding


class BrokerageModelSecurityInitializer(PascalAliases):
    """LEAN's BrokerageModelSecurityInitializer(brokerage_model, security_seeder): the brokerage's models (the
    engine applies them to every security) and the seeder's prices."""

    def __init__(self, brokerage_model: Any = None, security_seeder: Any = None) -> None:
        self.brokerage_model, self.security_seeder = brokerage_model, security_seeder

    def initialize(self, security: Any) -> None:
        if self.security_seeder is not None:
            self.security_seeder.seed_security(security)


class FuncSecurityInitializer(PascalAliases):
    """LEAN's FuncSecurityInitializer(func): ``func(security)`` for every security added."""

    def __init__(self, initializer: Any) -> None:
        self._initializer = initializer

    def initialize(self, security: Any) -> None:
        self._initializer(security)


class CompositeSecurityInitializer(PascalAliases):
    """LEAN's CompositeSecurityInitializer(*initializers): each in turn."""

    def __init__(self, *initializers: Any) -> None:
        self.initializers = list(initializers)

    def initialize(self, security: Any) -> None:
        for initializer in self.initializers:
            apply = getattr(initializer, "initialize", None) or initializer
            apply(security)
