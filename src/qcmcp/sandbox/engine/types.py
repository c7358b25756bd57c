"""Domain types of the QCAlgorithm API the sandbox engine supports.

Every type answers to LEAN's snake_case names and to the older PascalCase ones
(``Resolution.DAILY`` and ``Resolution.Daily``, ``holding.is_long`` and ``holding.IsLong``).
"""

from __future__ import annotations

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


class Market(_Names):
    USA, OANDA, COINBASE, BINANCE = "usa", "oanda", "coinbase", "binance"


class OrderStatus(IntEnum):
    NEW = 0
    SUBMITTED = 1
    PARTIALLY_FILLED = 2
    FILLED = 3
    CANCELED = 5
    NONE = 6
    INVALID = 7
    New = 0
    Submitted = 1
    PartiallyFilled = 2
    Filled = 3
    Canceled = 5
    Invalid = 7


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
    def create(ticker: str, security_type: int = SecurityType.EQUITY, market: str = "usa") -> Symbol:
        return Symbol(ticker, security_type)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Symbol):
            return self.value == other.value
        return isinstance(other, str) and other.upper() == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, other: Any) -> bool:
        return self.value < str(other)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return self.value


class TradeBar(PascalAliases):
    __slots__ = ("symbol", "time", "end_time", "open", "high", "low", "close", "volume")

    def __init__(self, symbol: Symbol, time: datetime, end_time: datetime, open: float, high: float, low: float,
                 close: float, volume: float) -> None:
        self.symbol, self.time, self.end_time = symbol, time, end_time
        self.open, self.high, self.low, self.close, self.volume = open, high, low, close, volume

    @property
    def price(self) -> float:
        return self.close

    @property
    def value(self) -> float:
        return self.close

    @property
    def period(self) -> timedelta:
        return self.end_time - self.time

    def __repr__(self) -> str:
        return f"{self.symbol}: O:{self.open} H:{self.high} L:{self.low} C:{self.close} V:{self.volume}"


class Slice(PascalAliases):
    """The data of one time step: ``slice[symbol]`` is that symbol's TradeBar."""

    def __init__(self, time: datetime, bars: dict[Symbol, TradeBar]) -> None:
        self.time = time
        self.bars = bars

    def __getitem__(self, key: Any) -> TradeBar:
        try:
            return self.bars[key]
        except KeyError:
            raise KeyError(f"'{key}' is not in this slice; check slice.contains_key({key!r}) first.") from None

    def __contains__(self, key: Any) -> bool:
        return key in self.bars

    def contains_key(self, key: Any) -> bool:
        return key in self.bars

    def get(self, key: Any, default: Any = None) -> Any:
        return self.bars.get(key, default)

    def keys(self) -> list[Symbol]:
        return list(self.bars)

    def values(self) -> list[TradeBar]:
        return list(self.bars.values())

    def items(self) -> list[tuple[Symbol, TradeBar]]:
        return list(self.bars.items())

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.bars)

    def __len__(self) -> int:
        return len(self.bars)

    @property
    def has_data(self) -> bool:
        return bool(self.bars)


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
    is_long = property(lambda self: self.quantity > 0)
    is_short = property(lambda self: self.quantity < 0)
    absolute_quantity = property(lambda self: abs(self.quantity))
    holdings_value = property(lambda self: self.quantity * self.security.price)
    absolute_holdings_value = property(lambda self: abs(self.quantity * self.security.price))
    holdings_cost = property(lambda self: self.quantity * self.average_price)
    @property
    def unrealized_profit(self) -> float:
        """LEAN's TotalCloseProfit: what closing now would make — at the bid (long) or ask (short) when quotes
        exist, else the last price — less the closing order's fee."""
        if not self.quantity:
            return 0.0
        from qcmcp.sandbox.engine.broker import order_fee

        quote = self.security.bid_price if self.quantity > 0 else self.security.ask_price
        price = quote if quote == quote and quote > 0 else self.security.price
        fee = order_fee(-self.quantity, self.security.price, self.security.hours.kind)
        return self.quantity * (price - self.average_price) - fee

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
        self.bid_price = float("nan")  # the latest quote bar's bid and ask closes (minute equities with quote files)
        self.ask_price = float("nan")

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

    def set_data_normalization_mode(self, mode: str) -> None:
        self.data_normalization_mode = mode


class OrderFee(PascalAliases):
    def __init__(self, amount: float) -> None:
        self.value = type("CashAmount", (), {"amount": amount, "currency": "USD", "Amount": amount, "Currency": "USD"})()


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

    def __repr__(self) -> str:
        return f"OrderEvent({self.order_id} {self.symbol} {self.status.name} {self.fill_quantity}@{self.fill_price})"


class OrderTicket(PascalAliases):
    def __init__(self, order: Any, engine: Any) -> None:
        self._order, self._engine = order, engine

    order_id = property(lambda self: self._order.id)
    symbol = property(lambda self: self._order.symbol)
    quantity = property(lambda self: self._order.quantity)
    status = property(lambda self: self._order.status)
    tag = property(lambda self: self._order.tag)
    order_type = property(lambda self: self._order.type)
    average_fill_price = property(lambda self: self._order.fill_price)
    quantity_filled = property(lambda self: self._order.filled_quantity)

    def cancel(self, tag: str = "") -> Any:
        return self._engine.cancel(self._order, tag)

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
