"""Domain types of the QCAlgorithm API the sandbox engine supports.

Every type answers to LEAN's snake_case names and to the older PascalCase ones
(``Resolution.DAILY`` and ``Resolution.Daily``, ``holding.is_long`` and ``holding.IsLong``).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any


def snake_case(name: str) -> str:
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class PascalAliases:
    """Resolve ``obj.IsLong`` to ``obj.is_long`` (LEAN's Python API accepts both)."""

    def __getattr__(self, name: str) -> Any:
        if name[:1].isupper():
            snake = snake_case(name)
            if snake != name:
                return getattr(self, snake)
        if not name.startswith("_"):
            from qcmcp.sandbox.engine.unsupported import is_lean_class_member, refuse_attribute

            if is_lean_class_member(name):
                refuse_attribute(type(self).__name__, name)  # a LEAN member the sandbox lacks: say so
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


class _Names:
    """Constant namespaces that accept ``DAILY`` and ``Daily`` alike."""

    def __init_subclass__(cls) -> None:
        for key, value in list(vars(cls).items()):
            if key.isupper():
                setattr(cls, "".join(part.capitalize() for part in key.split("_")), value)


class Resolution(_Names):
    TICK, SECOND, MINUTE, HOUR, DAILY = "tick", "second", "minute", "hour", "daily"


class DataNormalizationMode(_Names):
    RAW, ADJUSTED, SPLIT_ADJUSTED, TOTAL_RETURN = "Raw", "Adjusted", "SplitAdjusted", "TotalReturn"
    SCALED_RAW = "ScaledRaw"  # history requests only (a volatility model's warm-up), as LEAN


class AlgorithmMode(IntEnum):
    LIVE, OPTIMIZATION, BACKTESTING, RESEARCH = 0, 1, 2, 3
    Live, Optimization, Backtesting, Research = 0, 1, 2, 3


class DeploymentTarget(IntEnum):
    CLOUD_PLATFORM, LOCAL_PLATFORM, PRIVATE_CLOUD_PLATFORM = 0, 1, 2
    CloudPlatform, LocalPlatform, PrivateCloudPlatform = 0, 1, 2


class Market(_Names):
    USA, OANDA, COINBASE, BINANCE = "usa", "oanda", "coinbase", "binance"
    FXCM, DUKASCOPY, BITFINEX, BYBIT, KRAKEN, BINANCE_US = "fxcm", "dukascopy", "bitfinex", "bybit", "kraken", "binanceus"
    GDAX = "coinbase"
    CME, CBOT, NYMEX, COMEX, ICE, CFE, CBOE, EUREX = "cme", "cbot", "nymex", "comex", "ice", "cfe", "cboe", "eurex"
    HKFE, OSE, SGX, NSE, BSE, INDIA, NYSELIFFE = "hkfe", "ose", "sgx", "nse", "bse", "india", "nyseliffe"


class OrderStatus(IntEnum):
    NEW = 0
    SUBMITTED = 1
    PARTIALLY_FILLED = 2
    FILLED = 3
    CANCEL_PENDING = 4
    CANCELED = 5
    NONE = 6
    INVALID = 7
    UPDATE_SUBMITTED = 8
    New = 0
    Submitted = 1
    PartiallyFilled = 2
    Filled = 3
    CancelPending = 4
    Canceled = 5
    Invalid = 7
    UpdateSubmitted = 8

    def is_closed(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.INVALID)

    def is_open(self) -> bool:
        return not self.is_closed()

    def is_fill(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED)


class OrderType(IntEnum):
    MARKET = 0
    LIMIT = 1
    STOP_MARKET = 2
    STOP_LIMIT = 3
    MARKET_ON_OPEN = 4
    MARKET_ON_CLOSE = 5
    OPTION_EXERCISE = 6
    LIMIT_IF_TOUCHED = 7
    COMBO_MARKET = 8
    COMBO_LIMIT = 9
    COMBO_LEG_LIMIT = 10
    TRAILING_STOP = 11
    Market = 0
    Limit = 1
    StopMarket = 2
    StopLimit = 3
    MarketOnOpen = 4
    MarketOnClose = 5
    OptionExercise = 6
    LimitIfTouched = 7
    ComboMarket = 8
    ComboLimit = 9
    ComboLegLimit = 10
    TrailingStop = 11


class BrokerageName(IntEnum):
    """LEAN's BrokerageName; the sandbox models DEFAULT, INTERACTIVE_BROKERS_BROKERAGE, GDAX and COINBASE."""

    DEFAULT = 0
    INTERACTIVE_BROKERS_BROKERAGE = 1
    TRADIER_BROKERAGE = 2
    OANDA_BROKERAGE = 3
    FXCM_BROKERAGE = 4
    BITFINEX = 5
    BINANCE = 6
    GDAX = 12
    ALPACA = 13
    ALPHA_STREAMS = 14
    ZERODHA = 15
    SAMCO = 16
    ATREYU = 17
    TRADING_TECHNOLOGIES = 18
    KRAKEN = 19
    FTX = 20
    FTXUS = 21
    EXANTE = 22
    BINANCE_US = 23
    WOLVERINE = 24
    TD_AMERITRADE = 25
    BINANCE_FUTURES = 26
    BINANCE_COIN_FUTURES = 27
    RBI = 28
    BYBIT = 29
    EZE = 30
    AXOS = 31
    COINBASE = 32
    TRADE_STATION = 33
    TERMINAL_LINK = 34
    CHARLES_SCHWAB = 35
    TASTYTRADE = 36
    INTERACTIVE_BROKERS_FIX = 37
    DYDX = 38
    WEBULL = 39
    PUBLIC = 40
    QUANT_CONNECT_BROKERAGE = 0
    Default = 0
    InteractiveBrokersBrokerage = 1
    Coinbase = 32
    QuantConnectBrokerage = 0


class AccountType(IntEnum):
    MARGIN = 0
    CASH = 1
    Margin = 0
    Cash = 1


class OrderField(IntEnum):
    LIMIT_PRICE = 0
    STOP_PRICE = 1
    TRIGGER_PRICE = 2
    TRAILING_AMOUNT = 3
    TRAILING_AS_PERCENTAGE = 4
    LimitPrice = 0
    StopPrice = 1
    TriggerPrice = 2
    TrailingAmount = 3
    TrailingAsPercentage = 4


class OrderDirection(IntEnum):
    BUY = 0
    SELL = 1
    HOLD = 2
    Buy = 0
    Sell = 1
    Hold = 2


class SecurityType(IntEnum):
    BASE = 0
    EQUITY = 1
    FOREX = 4
    CRYPTO = 7
    Equity = 1
    Forex = 4
    Crypto = 7


class TimeInForce(PascalAliases):
    """How long an order works: GOOD_TIL_CANCELED, DAY, or good_til_date(expiry)."""

    def __init__(self, kind: str, expiry: datetime | None = None) -> None:
        self.kind, self.expiry = kind, expiry

    @staticmethod
    def good_til_date(expiry: datetime) -> TimeInForce:
        return TimeInForce("gtd", expiry)

    GoodTilDate = good_til_date

    def __repr__(self) -> str:
        return f"TimeInForce({self.kind})"


TimeInForce.GOOD_TIL_CANCELED = TimeInForce.GoodTilCanceled = TimeInForce("gtc")  # type: ignore[attr-defined]
TimeInForce.GOOD_TIL_DATE = TimeInForce.good_til_date  # type: ignore[attr-defined]
TimeInForce.DAY = TimeInForce.Day = TimeInForce("day")  # type: ignore[attr-defined]


class OrderProperties(PascalAliases):
    def __init__(self, time_in_force: TimeInForce | None = None) -> None:
        self.time_in_force = time_in_force or TimeInForce.GOOD_TIL_CANCELED  # type: ignore[attr-defined]


class Symbol(PascalAliases):
    """A security identifier; equal to its ticker string so ``df.loc["SPY"]`` works."""

    def __init__(self, ticker: str, security_type: int = SecurityType.EQUITY) -> None:
        from qcmcp.sandbox.engine.identifiers import security_id

        self.value = ticker.upper()
        self.security_type = security_type
        self.id = security_id(self.value, int(security_type))  # LEAN's identifier: "SPY R735QTJ8XC9X"

    @staticmethod
    def create(ticker: str, security_type: int = SecurityType.EQUITY, market: str = "usa", alias: str | None = None,
               base_data_type: Any = None) -> Symbol:
        if int(security_type) not in (SecurityType.EQUITY, SecurityType.CRYPTO, SecurityType.FOREX):
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse(f"Symbol.create for security type {int(security_type)}")
        return Symbol(ticker, security_type)

    @staticmethod
    def _derivative(kind: str) -> Any:
        def refuse_it(*_: Any, **__: Any) -> Any:
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse(f"Symbol.{kind} ({kind.split('_', 1)[1].replace('_', ' ')} symbols)")
        return staticmethod(refuse_it)

    def __eq__(self, other: object) -> bool:
        """Equal to a symbol of the same ticker — but custom data is never the market security of its ticker (LEAN
        keeps "BTCUSDT" crypto and "BTCUSDT" of a custom type apart) — and to the ticker itself."""
        if isinstance(other, Symbol):
            return self.value == other.value and \
                (self.security_type == SecurityType.BASE) == (other.security_type == SecurityType.BASE)
        return isinstance(other, str) and other.upper() == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, other: Any) -> bool:
        return self.value < str(other)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return self.value


Symbol.EMPTY = Symbol.Empty = Symbol.__new__(Symbol)  # type: ignore[attr-defined]  # LEAN's Symbol.Empty
Symbol.EMPTY.value, Symbol.EMPTY.security_type, Symbol.EMPTY.id = "", SecurityType.BASE, ""

for _name in ("create_future", "create_option", "create_canonical_option", "create_option_osi",
              "create_base", "create_equity_option"):
    setattr(Symbol, _name, Symbol._derivative(_name).__func__)
    setattr(Symbol, "".join(part.capitalize() for part in _name.split("_")), Symbol._derivative(_name).__func__)


class TradeBar(PascalAliases):
    __slots__ = ("symbol", "time", "end_time", "open", "high", "low", "close", "volume")

    def __init__(self, symbol: Symbol | None = None, time: datetime = datetime.min, end_time: datetime | None = None,
                 open: float = 0.0, high: float = 0.0, low: float = 0.0, close: float = 0.0,
                 volume: float = 0.0) -> None:
        self.symbol, self.time, self.end_time = symbol, time, end_time if end_time is not None else time
        self.open, self.high, self.low, self.close, self.volume = open, high, low, close, volume

    def get_source(self, config: Any, date: datetime, is_live: bool = False) -> Any:
        """LEAN's TradeBar.GetSource: the LEAN data folder's file of ``config``'s symbol for ``date`` (custom
        types call it to read LEAN's own files)."""
        from qcmcp.sandbox.engine.custom_data import Globals, LeanData, SubscriptionDataSource

        if is_live:
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse("TradeBar.get_source in live mode (streamed data)")
        path = LeanData.generate_zip_file_path(Globals.data_folder, config.symbol, date, config.resolution,
                                               config.tick_type)
        return SubscriptionDataSource(path)

    def reader(self, config: Any, line: str, date: datetime, is_live: bool = False) -> Any:
        """LEAN's TradeBar.Reader for equity files (scaled prices, times from the day's midnight)."""
        return TradeBar.parse_equity(config, line, date)

    @staticmethod
    def parse_equity(config: Any, line: str, date: datetime) -> TradeBar:
        """LEAN's TradeBar.ParseEquity: ``ms,open,high,low,close,volume`` (minute and second files: milliseconds
        since the day's midnight; hour and daily: ``yyyyMMdd HH:mm``), prices in ten-thousandths."""
        cells = line.split(",")
        resolution = str(config.resolution).lower()
        if resolution in ("daily", "hour"):
            start = datetime.strptime(cells[0].strip(), "%Y%m%d %H:%M")
        else:
            start = datetime.combine(date.date() if isinstance(date, datetime) else date, datetime.min.time()) \
                + timedelta(milliseconds=int(cells[0]))
        scale = 10_000  # divided, not times 1e-4: the float nearest LEAN's decimal (1000011 -> 100.0011)
        return TradeBar(config.symbol, start, start + config.increment, float(cells[1]) / scale,
                        float(cells[2]) / scale, float(cells[3]) / scale, float(cells[4]) / scale, float(cells[5]))

    @property
    def price(self) -> float:
        return self.close

    @property
    def value(self) -> float:
        return self.close

    @value.setter
    def value(self, amount: float) -> None:  # LEAN's TradeBar.Value is its close
        self.close = amount

    @property
    def period(self) -> timedelta:
        return self.end_time - self.time

    @period.setter
    def period(self, span: timedelta) -> None:  # LEAN: the end time follows the start
        self.end_time = self.time + span

    is_fill_forward = False
    data_type = "TradeBar"

    def __repr__(self) -> str:
        return f"{self.symbol}: O:{self.open} H:{self.high} L:{self.low} C:{self.close} V:{self.volume}"


class KeyValuePair(tuple):  # type: ignore[type-arg]
    """What iterating a LEAN dictionary yields in Python: ``kvp.key``, ``kvp.value`` (and it unpacks)."""

    key = property(lambda self: self[0])
    value = property(lambda self: self[1])
    Key = key
    Value = value

    def __new__(cls, key: Any, value: Any) -> KeyValuePair:
        return super().__new__(cls, (key, value))

    def __repr__(self) -> str:
        return f"[{self[0]}, {self[1]}]"


class _Listing(list):  # type: ignore[type-arg]
    """``.keys`` / ``.values`` that work both as LEAN's properties and as Python's methods."""

    def __call__(self) -> _Listing:
        return self


class DataDictionary(dict):  # type: ignore[type-arg]
    """A LEAN DataDictionary (``slice.bars``, ``slice.quote_bars``, …): a dict whose iteration yields
    KeyValuePairs, with ``contains_key``, ``count``, ``get_value``/``try_get_value``."""

    def contains_key(self, key: Any) -> bool:
        return key in self

    ContainsKey = contains_key

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter([KeyValuePair(k, v) for k, v in super().items()])

    def __getitem__(self, key: Any) -> Any:
        try:
            return super().__getitem__(key)
        except KeyError:
            raise KeyError(f"'{key}' is not in this slice; check contains_key({key!r}) first.") from None

    @property
    def count(self) -> int:
        return len(self)

    Count = count

    def get_value(self, key: Any) -> Any:
        return self.get(key)

    def try_get_value(self, key: Any) -> tuple[bool, Any]:
        return (key in self, self.get(key))

    def __getattr__(self, name: str) -> Any:
        if name in ("Keys", "Values"):
            return _Listing(super().keys() if name == "Keys" else super().values())
        raise AttributeError(name)


class Dividend(PascalAliases):
    def __init__(self, symbol: Any, time: datetime, distribution: float, reference_price: float = 0.0) -> None:
        self.symbol, self.time, self.end_time = symbol, time, time
        self.distribution, self.reference_price = distribution, reference_price
        self.value = distribution

    def __repr__(self) -> str:
        return f"Dividend: {self.symbol}: {self.distribution}"


class DelistingType(IntEnum):
    WARNING = 0
    DELISTED = 1
    Warning = 0
    Delisted = 1


class Delisting(PascalAliases):
    def __init__(self, symbol: Any, time: datetime, price: float, type: int) -> None:
        self.symbol, self.time, self.end_time, self.price = symbol, time, time, price
        self.type = DelistingType(type)
        self.value = price

    def __repr__(self) -> str:
        return f"Delisting: {self.symbol}: {self.type.name}"


class SymbolChangedEvent(PascalAliases):
    """A ticker change from the map file: ``old_symbol`` and ``new_symbol`` are the tickers."""

    def __init__(self, symbol: Any, time: datetime, old_symbol: str, new_symbol: str) -> None:
        self.symbol, self.time, self.end_time = symbol, time, time
        self.old_symbol, self.new_symbol = old_symbol, new_symbol
        self.value = 0.0

    def __repr__(self) -> str:
        return f"{self.time} {self.old_symbol}->{self.new_symbol}"


class SplitType(IntEnum):
    WARNING = 0
    SPLIT_OCCURRED = 1
    Warning = 0
    SplitOccurred = 1


class Split(PascalAliases):
    def __init__(self, symbol: Any, time: datetime, price: float, split_factor: float, type: int = 1) -> None:
        self.symbol, self.time, self.end_time, self.price = symbol, time, time, price
        self.split_factor, self.type = split_factor, SplitType(type)
        self.reference_price = price
        self.value = split_factor

    def __repr__(self) -> str:
        return f"Split: {self.symbol}: {self.split_factor}"


class Slice(PascalAliases):
    """The data of one time step: ``slice[symbol]`` is that symbol's TradeBar (or QuoteBar when it only has
    quotes); ``slice.bars``, ``slice.quote_bars``, ``splits``, ``dividends``, ``delistings``,
    ``symbol_changed_events``, and the empty ``ticks`` the sandbox does not emit."""

    def __init__(self, time: datetime, bars: dict[Symbol, TradeBar], quote_bars: dict[Symbol, Any] | None = None,
                 custom: dict[Symbol, Any] | None = None) -> None:
        self.time = time
        self.bars = DataDictionary(bars)
        self.quote_bars = DataDictionary(quote_bars or {})
        self.custom = DataDictionary(custom or {})  # custom data points (add_data), by symbol
        self.ticks = DataDictionary()
        self.splits = DataDictionary()
        self.dividends = DataDictionary()
        self.delistings = DataDictionary()
        self.symbol_changed_events = DataDictionary()
        self.margin_interest_rates = DataDictionary()

    def _all(self) -> dict[Symbol, Any]:
        merged = dict(self.quote_bars)
        merged.update(self.bars)
        merged.update(self.custom)
        return merged

    def _auxiliary(self, key: Any) -> bool:
        return any(key in events for events in (self.dividends, self.splits, self.delistings,
                                                self.symbol_changed_events))

    def __getitem__(self, key: Any) -> Any:
        if key in self.custom:
            return dict.__getitem__(self.custom, key)
        found = self.bars.get(key) if key in self.bars else self.quote_bars.get(key)
        if found is None and key not in self.quote_bars:
            if self._auxiliary(key):
                return None  # LEAN: a symbol with only a dividend, split, … in the slice has no bar (None)
            raise KeyError(f"'{key}' is not in this slice; check slice.contains_key({key!r}) first.")
        return found

    def __contains__(self, key: Any) -> bool:
        return key in self.bars or key in self.quote_bars or key in self.custom or self._auxiliary(key)

    def contains_key(self, key: Any) -> bool:
        return key in self

    def get(self, key: Any, default: Any = None) -> Any:
        """``get(symbol[, default])``; ``get(Type)`` the points of that type by symbol; ``get(Type, symbol)`` one
        (None when absent), as LEAN's Slice.Get."""
        if isinstance(key, type):
            found = {symbol: item for symbol, item in self._all().items() if isinstance(item, key)}
            if default is None:
                return DataDictionary(found)
            return found.get(default)
        return self[key] if key in self else default

    @property
    def keys(self) -> _Listing:
        return _Listing(self._all())

    @property
    def values(self) -> _Listing:
        return _Listing(self._all().values())

    def items(self) -> list[tuple[Symbol, Any]]:
        return list(self._all().items())

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter([KeyValuePair(k, v) for k, v in self._all().items()])

    def __len__(self) -> int:
        return len(self._all())

    @property
    def count(self) -> int:
        return len(self)

    @property
    def has_data(self) -> bool:
        return bool(self.bars) or bool(self.quote_bars)


class SecurityManager(PascalAliases):
    """``self.securities``: LEAN's SecurityManager over the engine's securities (iteration yields
    KeyValuePairs, as in LEAN's Python API)."""

    def __init__(self, securities: dict[Symbol, Any]) -> None:
        self._securities = securities

    def __getitem__(self, key: Any) -> Any:
        try:
            return self._securities[key]
        except KeyError:
            raise KeyError(f"'{key}' is not in the algorithm's securities: add it with add_equity first.") from None

    def __contains__(self, key: Any) -> bool:
        return key in self._securities

    def contains_key(self, key: Any) -> bool:
        return key in self._securities

    def get(self, key: Any, default: Any = None) -> Any:
        return self._securities.get(key, default)

    def try_get_value(self, key: Any) -> tuple[bool, Any]:
        return (key in self._securities, self._securities.get(key))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter([KeyValuePair(k, v) for k, v in self._securities.items()])

    def __len__(self) -> int:
        return len(self._securities)

    count = property(__len__)
    total = property(lambda self: list(self._securities.values()))

    @property
    def keys(self) -> _Listing:
        return _Listing(self._securities)

    @property
    def values(self) -> _Listing:
        return _Listing(self._securities.values())

    def items(self) -> list[tuple[Symbol, Any]]:
        return list(self._securities.items())


def _quote_rate(security: Any) -> float:
    """The security's quote currency in the account currency (1 for a security quoted in it)."""
    quote = getattr(security, "quote_currency", None)
    return float(quote.conversion_rate) if quote is not None else 1.0


class SecurityHolding(PascalAliases):
    def __init__(self, security: Security) -> None:
        self.security = security
        self.quantity = 0.0
        self.average_price = 0.0
        self.total_fees = 0.0
        self.net_profit = 0.0

    symbol = property(lambda self: self.security.symbol)
    price = property(lambda self: self.security.price)
    invested = property(lambda self: self.quantity != 0)

    def get_quantity_value(self, quantity: float, price: float | None = None) -> Any:
        """LEAN's GetQuantityValue: ``quantity`` at the price (the market's by default), with its cash."""
        from qcmcp.sandbox.engine.security_models import quantity_value

        return quantity_value(self.security, float(quantity), price)
    is_long = property(lambda self: self.quantity > 0)
    is_short = property(lambda self: self.quantity < 0)
    absolute_quantity = property(lambda self: abs(self.quantity))
    holdings_value = property(lambda self: self.quantity * self.security.price * _quote_rate(self.security))
    absolute_holdings_value = property(lambda self: abs(self.holdings_value))
    holdings_cost = property(lambda self: self.quantity * self.average_price)
    @property
    def unrealized_profit(self) -> float:
        """LEAN's TotalCloseProfit: what closing now would make — at the bid (long) or ask (short) when quotes
        exist, else the last price — less the closing order's fee."""
        if not self.quantity:
            return 0.0
        from qcmcp.sandbox.engine.broker import security_fee

        quote = self.security.bid_price if self.quantity > 0 else self.security.ask_price
        price = quote if quote == quote and quote > 0 else self.security.price
        fee = security_fee(self.security, -self.quantity, self.security.price)
        return self.quantity * (price - self.average_price) * _quote_rate(self.security) - fee

    @property
    def unrealized_profit_percent(self) -> float:
        cost = abs(self.quantity * self.average_price)
        return self.unrealized_profit / cost if cost else 0.0

    absolute_holdings_cost = property(lambda self: abs(self.quantity * self.average_price))
    total_close_profit = property(lambda self: self.unrealized_profit)

    def __repr__(self) -> str:
        return f"{self.symbol}: {self.quantity} @ {self.average_price}"


class Security(PascalAliases):
    def __init__(self, symbol: Symbol, resolution: str, leverage: float, normalization: str, hours: Any = None,
                 extended_market_hours: bool = False) -> None:
        from qcmcp.sandbox.engine.data import EQUITY

        self.hours = hours or EQUITY  # when it trades (data.MarketHours)
        self.symbol = symbol
        self.resolution = resolution
        self.leverage = leverage
        self.data_normalization_mode = normalization
        self.extended_market_hours = extended_market_hours
        self.holdings = SecurityHolding(self)
        self.bar: TradeBar | None = None
        self.is_tradable = True
        self.is_delisted = False
        self.bid_price = float("nan")  # the latest quote bar's bid and ask closes (minute equities with quote files)
        self.ask_price = float("nan")
        self.bid_size = self.ask_size = 0.0  # and its last bid and ask sizes

    price = property(lambda self: self.bar.close if self.bar else 0.0)
    close = property(lambda self: self.bar.close if self.bar else 0.0)
    open = property(lambda self: self.bar.open if self.bar else 0.0)
    high = property(lambda self: self.bar.high if self.bar else 0.0)
    low = property(lambda self: self.bar.low if self.bar else 0.0)
    volume = property(lambda self: self.bar.volume if self.bar else 0.0)
    has_data = property(lambda self: self.bar is not None)
    invested = property(lambda self: self.holdings.invested)
    type = property(lambda self: self.symbol.security_type)

    def set_leverage(self, leverage: float) -> None:
        self.leverage = float(leverage)
        if self.custom_buying_power_model is not None:  # LEAN sets it on the security's buying power model
            self.custom_buying_power_model._leverage = float(leverage)

    def get_last_data(self) -> Any:
        """LEAN's GetLastData: the latest data the security received (None before any)."""
        return self.bar

    hours_source: Any = None  # the engine's: () -> the market-hours database entry (equities)
    _exchange: Any = None
    _session: Any = None

    @property
    def exchange(self) -> Any:
        """LEAN's SecurityExchange (``exchange.hours.get_next_market_open(...)`` and friends)."""
        if self._exchange is None:
            from qcmcp.sandbox.engine.session import ExchangeHoursView, SecurityExchange

            source = self.hours_source() if self.hours_source is not None else None
            self._exchange = SecurityExchange(ExchangeHoursView(source, weekdays=self.hours.kind == "forex"))
        return self._exchange

    @exchange.setter
    def exchange(self, value: Any) -> None:  # LEAN: an algorithm may give a security another exchange
        self._exchange = value

    @property
    def cache(self) -> Any:
        """LEAN's SecurityCache, as far as fill models read it: ``get_data(TradeBar)`` (the latest trade bar),
        ``get_data(QuoteBar)``/``get_data(Tick)`` (None: the engine keeps only quote closes), bid/ask prices."""
        security = self

        class _Cache(PascalAliases):
            price = property(lambda self: security.price)
            bid_price = property(lambda self: security.bid_price if security.bid_price == security.bid_price
                                 else security.price)
            ask_price = property(lambda self: security.ask_price if security.ask_price == security.ask_price
                                 else security.price)

            def get_data(self, kind: Any = None) -> Any:
                name = getattr(kind, "__name__", "TradeBar") if kind is not None else "TradeBar"
                return security.bar if name == "TradeBar" else None

        return _Cache()

    @property
    def session(self) -> Any:
        """LEAN's Security.Session: off until ``session.size`` is set (see engine/session.py)."""
        if self._session is None:
            from qcmcp.sandbox.engine.session import Session

            self._session = Session(self.symbol, self.exchange.hours)
        return self._session

    # LEAN's Security is a dynamic object: custom properties by attribute, by key, add/get/try_get/remove
    def add(self, key: str, value: Any) -> None:
        setattr(self, str(key), value)

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, str(key))
        except AttributeError:
            raise KeyError(f"The security does not have a '{key}' property.") from None

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, str(key), value)

    def try_get(self, key: str) -> tuple[bool, Any]:
        return (True, getattr(self, str(key))) if hasattr(self, str(key)) else (False, None)

    def remove(self, key: str) -> bool:
        if str(key) in vars(self):
            delattr(self, str(key))
            return True
        return False

    @property
    def get(self) -> Any:
        """``security.get("name")`` or ``security.get[Type]("name")``."""
        security = self

        class _Get:
            def __getitem__(self, _type: Any) -> Any:
                return security.__getitem__

            def __call__(self, key: str, default: Any = None) -> Any:
                return getattr(security, str(key), default)

        return _Get()

    def set_fee_model(self, model: Any) -> None:
        """LEAN's fee models: constant, Interactive Brokers, or your own FeeModel (see engine/models.py)."""
        if getattr(model, "builtin", None):  # LEAN's own fee models the engine computes (broker.fee_cash)
            self.fee_model = model.builtin
        elif callable(getattr(model, "get_order_fee", None)) or callable(getattr(model, "GetOrderFee", None)):
            if not hasattr(model, "get_order_fee"):
                model.get_order_fee = model.GetOrderFee
            self.fee_model = model
        else:
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse(f"fee model {type(model).__name__}")

    def set_slippage_model(self, model: Any) -> None:
        approximation = getattr(model, "get_slippage_approximation", None) or \
            getattr(model, "GetSlippageApproximation", None)
        if not callable(approximation):
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse(f"slippage model {type(model).__name__}")
        self.slippage = approximation

    def set_fill_model(self, model: Any) -> None:
        """Your own fill model (derived from FillModel / ImmediateFillModel / EquityFillModel, see
        engine/models.py) for market orders; other order types keep the default fills."""
        if not callable(getattr(model, "fill", None)):
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse(f"fill model {type(model).__name__}")
        self.fill_model_object = model

    fee_model: Any = None
    slippage: Any = None
    fill_model_object: Any = None
    data_filter: Any = None
    margin_interest_rate_model: Any = None
    custom_shortable_provider: Any = None

    def set_shortable_provider(self, provider: Any) -> None:
        """Your own shortable provider (derived from NullShortableProvider, see engine/security_models.py)."""
        from qcmcp.sandbox.engine.security_models import set_shortable_provider

        set_shortable_provider(self, provider)

    @property
    def shortable_provider(self) -> Any:
        """LEAN's Security.ShortableProvider: the one set, else the NullShortableProvider (no limit)."""
        from qcmcp.sandbox.engine.security_models import ShortableProvider

        return self.custom_shortable_provider if self.custom_shortable_provider is not None else ShortableProvider.NULL

    custom_volatility_model: Any = None

    @property
    def volatility_model(self) -> Any:
        """LEAN's Security.VolatilityModel: the one set, else VolatilityModel.NULL (engine/volatility.py)."""
        if self.custom_volatility_model is None:
            from qcmcp.sandbox.engine.volatility import VolatilityModel

            return VolatilityModel.NULL
        return self.custom_volatility_model

    @volatility_model.setter
    def volatility_model(self, model: Any) -> None:
        self.set_volatility_model(model)

    def set_volatility_model(self, model: Any) -> None:
        """Your own volatility model, updated by each data point (engine/volatility.py)."""
        from qcmcp.sandbox.engine.volatility import VolatilityModel, check

        self.custom_volatility_model = None if model is VolatilityModel.NULL else check(model)

    custom_settlement_model: Any = None

    @property
    def settlement_model(self) -> Any:
        """LEAN's Security.SettlementModel: the one set (or the brokerage model's), else ImmediateSettlementModel."""
        if self.custom_settlement_model is None:
            from qcmcp.sandbox.engine.settlement import ImmediateSettlementModel

            self.custom_settlement_model = ImmediateSettlementModel()
        return self.custom_settlement_model

    @settlement_model.setter
    def settlement_model(self, model: Any) -> None:
        self.set_settlement_model(model)

    def set_settlement_model(self, model: Any) -> None:
        """Your own settlement model: ``apply_funds`` for each fill's cash, ``scan`` hourly (engine/settlement.py)."""
        from qcmcp.sandbox.engine.settlement import check

        self.custom_settlement_model = check(model)

    def set_margin_interest_rate_model(self, model: Any) -> None:
        """Your own margin interest rate model, applied hourly (see engine/security_models.py)."""
        from qcmcp.sandbox.engine.security_models import set_margin_interest_rate_model

        set_margin_interest_rate_model(self, model)
    custom_buying_power_model: Any = None

    def set_buying_power_model(self, model: Any) -> None:
        """Your own BuyingPowerModel (see engine/security_models.py)."""
        from qcmcp.sandbox.engine.security_models import attach

        attach(self, model)

    set_margin_model = set_buying_power_model

    @property
    def buying_power_model(self) -> Any:
        """LEAN's Security.BuyingPowerModel: the one set (engine/security_models.py), else LEAN's SecurityMarginModel
        over this security's leverage (engine/buying_power.py)."""
        if self.custom_buying_power_model is not None:
            return self.custom_buying_power_model
        from qcmcp.sandbox.engine.buying_power import SecurityMarginModel

        return SecurityMarginModel()

    margin_model = buying_power_model

    def set_data_filter(self, data_filter: Any) -> None:
        """LEAN's SecurityDataFilter: bars for which ``data_filter.filter(security, data)`` is False are dropped."""
        if not callable(getattr(data_filter, "filter", None)):
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse(f"data filter {type(data_filter).__name__}")
        self.data_filter = data_filter

    # the cash book entries it is priced in and, for a currency pair, the base currency (LEAN's QuoteCurrency and
    # BaseCurrency), its symbol properties, and whether its buying power is a cash account's (CashBuyingPowerModel)
    quote_currency: Any = None
    base_currency: Any = None
    symbol_properties: Any = None
    cash_book: Any = None
    cash_buying_power = False
    is_internal = False  # a currency-conversion feed the engine added (LEAN's internal subscription)
    custom_type: Any = None  # a custom data security's PythonData type (add_data)
    custom_data: Any = None  # and its latest point
    quote_range: Any = None  # crypto: the latest quote bar's (bid high, bid low, ask high, ask low)

    def set_market_price(self, data: Any) -> None:
        """LEAN's SetMarketPrice: a trade or quote bar becomes the security's latest data (see engine/seeding.py)."""
        from qcmcp.sandbox.engine.seeding import set_market_price

        set_market_price(self, data)

    def set_data_normalization_mode(self, mode: str) -> None:
        self.data_normalization_mode = mode


_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "\u20ac", "GBP": "\u20a4", "JPY": "\u00a5", "AUD": "$", "CAD": "$", "NZD": "$",
                     "HKD": "$", "SGD": "$", "CNY": "\u00a5", "CNH": "\u00a5", "INR": "\u20b9", "CHF": "Fr",
                     "BTC": "\u0e3f", "ETH": "\u039e", "LTC": "\u0141", "USDT": "\u20ae"}


def currency_symbol(currency: str) -> str:
    """LEAN's Currencies.GetCurrencySymbol: the symbol, or the code and a space for one it does not know."""
    return _CURRENCY_SYMBOLS.get(currency, f"{currency} ") if currency else ""


def decimal_text(value: float) -> str:
    """A number as C# prints a decimal: no exponent, no trailing zeros."""
    from decimal import Decimal

    text = format(Decimal(repr(round(float(value), 10))).normalize(), "f")
    return "0" if text in ("-0", "") else text


def smart_rounding(value: float) -> float:
    """LEAN's SmartRounding: above 1000 to 4 decimals, else to 7 significant digits (half to even)."""
    from decimal import ROUND_HALF_EVEN, Decimal

    if value > 1000:
        return round(value, 4)
    if value == 0:
        return 0.0
    exponent = math.floor(math.log10(abs(value))) + 1 - 7
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN))


class OrderFee(PascalAliases):
    """An order's fee: ``OrderFee(CashAmount(amount, "USD"))`` as LEAN's, or a plain amount."""

    def __init__(self, amount: Any) -> None:
        currency = getattr(amount, "currency", "USD")
        amount = float(getattr(amount, "amount", amount))
        self.value = type("CashAmount", (), {"amount": amount, "currency": currency, "Amount": amount,
                                             "Currency": currency})()


class OrderEvent(PascalAliases):
    def __init__(self, order: Any, status: OrderStatus, time: datetime, fill_price: float = 0.0,
                 fill_quantity: float = 0.0, fee: float = 0.0, message: str = "") -> None:
        self.order_id, self.symbol, self.status = order.id, order.symbol, status
        self.fill_price, self.fill_quantity, self.utc_time = fill_price, fill_quantity, time
        self.direction = order.direction
        self.order_fee = OrderFee(fee)
        self.message = message
        self.is_assignment = False
        self.quantity = order.quantity
        self.limit_price, self.stop_price = order.limit_price, order.stop_price
        self.trigger_price = getattr(order, "trigger_price", None)
        trailing = getattr(order, "type", None) == OrderType.TRAILING_STOP
        self.trailing_amount = getattr(order, "trailing_amount", None) if trailing else None
        self.trailing_as_percentage = bool(getattr(order, "trailing_as_percentage", False)) if trailing else None
        self.ticket: Any = None
        self.id = len(getattr(order, "events", [])) + 1  # LEAN's OrderEvent.Id: the order's events, counted

    absolute_fill_quantity = property(lambda self: abs(self.fill_quantity))
    fill_price_currency = "USD"

    def to_string(self) -> str:
        """As LEAN prints an order event (Messages.OrderEvent.ToString): the UTC time, prices smart-rounded after
        the currency symbol."""
        from qcmcp.sandbox.engine import clock

        utc = clock.to_utc(self.utc_time)
        money = currency_symbol(self.fill_price_currency)
        status = "".join(part.capitalize() for part in self.status.name.split("_"))
        text = (f"Time: {utc:%m/%d/%Y %H:%M:%S} OrderID: {self.order_id} EventID: {self.id} Symbol: "
                f"{getattr(self.symbol, 'value', self.symbol)} Status: {status} Quantity: {decimal_text(self.quantity)}")
        if self.fill_quantity:
            text += (f" FillQuantity: {decimal_text(self.fill_quantity)} FillPrice: "
                     f"{money}{decimal_text(smart_rounding(self.fill_price))}")
        for name, value in (("LimitPrice", self.limit_price), ("StopPrice", self.stop_price)):
            if value is not None:
                text += f" {name}: {money}{decimal_text(smart_rounding(value))}"
        if self.trailing_amount is not None:
            text += " TrailingAmount: " + (f"{decimal_text(self.trailing_amount * 100)}%" if self.trailing_as_percentage
                                           else f"{money}{decimal_text(self.trailing_amount)}")
        if self.trigger_price is not None:
            text += f" TriggerPrice: {money}{decimal_text(smart_rounding(self.trigger_price))}"
        if self.order_fee.value.amount:
            text += f" OrderFee: {decimal_text(self.order_fee.value.amount)} {self.order_fee.value.currency}"
        return text + (f" Message: {self.message}" if self.message else "")

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return f"OrderEvent({self.order_id} {self.symbol} {self.status.name} {self.fill_quantity}@{self.fill_price})"


class OrderResponse(PascalAliases):
    def __init__(self, order_id: int, error: str = "") -> None:
        self.order_id, self.error_message = order_id, error
        self.is_success, self.is_error = not error, bool(error)
        self.error_code = 0 if not error else -1

    def __repr__(self) -> str:
        return "OrderResponse(success)" if self.is_success else f"OrderResponse(error: {self.error_message})"


class UpdateOrderFields(PascalAliases):
    """What ``ticket.update(fields)`` changes; None leaves a field as it is."""

    def __init__(self, quantity: float | None = None, limit_price: float | None = None,
                 stop_price: float | None = None, trigger_price: float | None = None,
                 trailing_amount: float | None = None, tag: str | None = None) -> None:
        self.quantity, self.limit_price, self.stop_price = quantity, limit_price, stop_price
        self.trigger_price, self.trailing_amount, self.tag = trigger_price, trailing_amount, tag


class OrderRequest(PascalAliases):
    def __init__(self, order_id: int, tag: str, time: datetime | None) -> None:
        self.order_id, self.tag, self.time = order_id, tag, time
        self.response: OrderResponse | None = None
        self.status = "Unprocessed"


class UpdateOrderRequest(OrderRequest):
    def __init__(self, time: datetime | None, order_id: int, fields: UpdateOrderFields) -> None:
        super().__init__(order_id, fields.tag or "", time)
        self.quantity, self.limit_price, self.stop_price = fields.quantity, fields.limit_price, fields.stop_price
        self.trigger_price, self.trailing_amount = fields.trigger_price, fields.trailing_amount


class CancelOrderRequest(OrderRequest):
    pass


class SubmitOrderRequest(OrderRequest):
    """LEAN's SubmitOrderRequest(order_type, security_type, symbol, quantity, stop_price, limit_price,
    [trigger_price,] [trailing_amount, trailing_as_percentage,] time, tag, [order_properties])."""

    def __init__(self, order_type: Any, security_type: Any, symbol: Any, quantity: float, stop_price: float,
                 limit_price: float, *rest: Any, **named: Any) -> None:
        values = list(rest)
        trigger = trailing = 0.0
        as_percentage = False
        if len(values) >= 5 or (len(values) >= 4 and isinstance(values[2], bool)):
            # trigger_price, trailing_amount, trailing_as_percentage, time, tag[, properties]
            if isinstance(values[2], bool):
                trigger, trailing, as_percentage, *values = values
            else:
                trigger, *values = values
        elif len(values) >= 3 and not isinstance(values[0], datetime):
            trigger, *values = values
        time = values[0] if values else named.get("time")
        tag = values[1] if len(values) > 1 else named.get("tag", "")
        properties = values[2] if len(values) > 2 else named.get("properties", named.get("order_properties"))
        asynchronous = values[3] if len(values) > 3 else named.get("asynchronous", False)
        super().__init__(0, tag or "", time)
        self.asynchronous = bool(asynchronous)
        self.order_type, self.security_type, self.symbol, self.quantity = order_type, security_type, symbol, quantity
        self.stop_price, self.limit_price, self.trigger_price = stop_price, limit_price, trigger
        self.trailing_amount, self.trailing_as_percentage = trailing, bool(as_percentage)
        self.order_properties = properties


class MarketOnCloseOrder(PascalAliases):
    """``MarketOnCloseOrder.submission_time_buffer``: how long before the close a market-on-close order may
    still be placed (LEAN's default 15.5 minutes); settable."""

    DEFAULT_SUBMISSION_TIME_BUFFER = timedelta(minutes=15.5)
    submission_time_buffer = DEFAULT_SUBMISSION_TIME_BUFFER
    SubmissionTimeBuffer = DEFAULT_SUBMISSION_TIME_BUFFER


class OrderTicket(PascalAliases):
    """LEAN's OrderTicket: the order's live state, its update and cancel requests."""

    def __init__(self, order: Any, engine: Any) -> None:
        self._order, self._engine = order, engine
        self.update_requests: list[UpdateOrderRequest] = []
        self.cancel_request: CancelOrderRequest | None = None
        self.submit_request: Any = None

    order_id = property(lambda self: self._order.id)
    symbol = property(lambda self: self._order.symbol)
    quantity = property(lambda self: self._order.quantity)
    status = property(lambda self: self._order.status)
    tag = property(lambda self: self._order.tag)
    order_type = property(lambda self: self._order.type)
    time = property(lambda self: self._order.time)
    average_fill_price = property(lambda self: self._order.fill_price)
    quantity_filled = property(lambda self: self._order.filled_quantity)
    quantity_remaining = property(lambda self: self._order.quantity - self._order.filled_quantity)
    order_closed = property(lambda self: self._order.status.is_closed())

    def to_string(self) -> str:
        return str(self)

    def get(self, field: Any) -> Any:
        """ticket.get(OrderField.LIMIT_PRICE) and friends."""
        name = {0: "limit_price", 1: "stop_price", 2: "trigger_price", 3: "trailing_amount",
                4: "trailing_as_percentage"}.get(int(field), str(field).lower())
        return getattr(self._order, name)

    def update(self, fields: UpdateOrderFields) -> OrderResponse:
        request = UpdateOrderRequest(self._engine.time, self.order_id, fields)
        self.update_requests.append(request)
        request.response = self._engine.update_order(self._order, request)
        request.status = "Processed" if request.response.is_success else "Error"
        return request.response

    def update_quantity(self, quantity: float, tag: str | None = None) -> OrderResponse:
        return self.update(UpdateOrderFields(quantity=quantity, tag=tag))

    def update_limit_price(self, limit_price: float, tag: str | None = None) -> OrderResponse:
        return self.update(UpdateOrderFields(limit_price=limit_price, tag=tag))

    def update_stop_price(self, stop_price: float, tag: str | None = None) -> OrderResponse:
        return self.update(UpdateOrderFields(stop_price=stop_price, tag=tag))

    def update_trigger_price(self, trigger_price: float, tag: str | None = None) -> OrderResponse:
        return self.update(UpdateOrderFields(trigger_price=trigger_price, tag=tag))

    def update_tag(self, tag: str) -> OrderResponse:
        return self.update(UpdateOrderFields(tag=tag))

    def cancel(self, tag: str = "") -> OrderResponse:
        request = CancelOrderRequest(self.order_id, tag, self._engine.time)
        self.cancel_request = request
        record = getattr(self, "submit_request", None)
        if getattr(record, "asynchronous", False) and self._order.type == OrderType.MARKET and self._order.is_open \
                and self._order.created_time == self._engine.time:
            # LEAN's backtest fills an asynchronous market order at the brokerage scan that follows; cancelling it
            # before then fails (InvalidNewStatus) and it fills (OrderTicketDemoAlgorithm: 9 fills of 12 orders)
            request.response = OrderResponse(self.order_id, f"Order {self.order_id} is new: it cannot be canceled.")
            request.status = "Error"
            return request.response
        canceled = self._engine.cancel(self._order, tag)
        request.response = OrderResponse(self.order_id, "" if canceled else
                                         f"Order {self.order_id} is {self.status.name.lower()}: it cannot be canceled.")
        request.status = "Processed" if canceled else "Error"
        return request.response

    def __str__(self) -> str:
        order = self._order
        prices = "".join(f" {name}: {value}" for name, value in (("LimitPrice", order.limit_price),
                                                                 ("StopPrice", order.stop_price)) if value is not None)
        return (f"{self.order_id}: {self.order_type.name.title().replace('_', '')} {self.status.name.title()} "
                f"{self.quantity:g} {self.symbol}{prices} Filled: {self.quantity_filled:g}")

    def __repr__(self) -> str:
        return f"OrderTicket({self.order_id} {self.symbol} {self.quantity} {self.status.name})"


class PortfolioTarget(PascalAliases):
    def __init__(self, symbol: Any, quantity: float, tag: str = "") -> None:
        self.symbol, self.quantity, self.tag = symbol, quantity, tag

    @staticmethod
    def percent(algorithm: Any, symbol: Any, percent: float) -> PortfolioTarget:
        """The target holding quantity worth ``percent`` of the portfolio (as LEAN's)."""
        from qcmcp.sandbox.engine.framework import percent_target

        return percent_target(algorithm, symbol, percent)

    Percent = percent
