"""Orders, fills, fees and the portfolio — the sandbox's documented, simpler-than-LEAN model.

Fills: market and market-on-open orders fill at the next bar's open; market-on-close at
the next bar's close; limit orders when the bar's range reaches the limit (at the open
if it gapped through); stop orders when the range reaches the stop (at the open if it
gapped through); stop-limit orders trigger like a stop, then fill like a limit. No
slippage, no partial fills. Equity fees follow LEAN's default US-equity model (Interactive
Brokers): $0.005 a share, at least $1.00 (even above 0.5% of a small order's value), else at most 0.5%
of the order's value. Crypto and forex pay nothing under the default brokerage (LEAN's ConstantFeeModel(0));
the Coinbase brokerage model charges 0.6 % taker and 0.4 % maker (``security_fee``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qcmcp.sandbox.engine.types import (
    OrderDirection,
    OrderStatus,
    OrderType,
    PascalAliases,
    Security,
    SecurityHolding,
    Symbol,
    TimeInForce,
    TradeBar,
)

FEE_PER_SHARE, MIN_FEE, MAX_FEE_FRACTION = 0.005, 1.0, 0.005
CRYPTO_FEE_FRACTION = 0.006


MAKER_FEE_FRACTION = 0.004  # Coinbase's maker fee (a resting limit order); market orders pay the taker fee


def security_fee(security: Any, quantity: float, price: float, order_type: Any = None, order: Any = None) -> float:
    """The fee of an order on ``security`` under its brokerage's fee model (LEAN's BrokerageModel.GetFeeModel):
    ``ib`` (InteractiveBrokersFeeModel: equities under the default and IB brokerages), ``zero`` (the default
    brokerage's ConstantFeeModel(0) for crypto and forex), ``coinbase`` (taker 0.6 %, maker 0.4 % for limit
    orders)."""
    model = getattr(security, "fee_model", None) or ("ib" if security.hours.kind == "equity" else "zero")
    if model == "zero" or not quantity:
        return 0.0
    if not isinstance(model, str):  # a fee model the algorithm set
        from qcmcp.sandbox.engine.models import fee_of

        probe = order if order is not None else type("OrderProbe", (), {
            "id": 0, "quantity": quantity, "absolute_quantity": abs(quantity), "type": order_type,  # LEAN: id 0
            "direction": 0 if quantity > 0 else 1, "price": price, "symbol": security.symbol})()
        return fee_of(model, security, probe)
    if model == "coinbase":
        maker = order_type is not None and int(order_type) in (1, 3, 7)  # limit, stop limit, limit if touched
        return abs(quantity) * price * (MAKER_FEE_FRACTION if maker else CRYPTO_FEE_FRACTION)
    return order_fee(quantity, price, "equity")


def order_fee(quantity: float, price: float, kind: str = "equity") -> float:
    """LEAN's default US-equity fee (InteractiveBrokersFeeModel, fixed tier: unrounded, as LEAN keeps it in
    decimal); see the module doc for others."""
    if kind == "crypto":
        return abs(quantity) * price * CRYPTO_FEE_FRACTION
    if kind == "forex":
        return 0.0
    if not quantity:
        return 0.0
    fee = abs(quantity) * FEE_PER_SHARE
    # As LEAN: the $1 minimum wins over the 0.5 % cap (a one-share order pays $1).
    return MIN_FEE if fee < MIN_FEE else min(fee, MAX_FEE_FRACTION * abs(quantity) * price)


@dataclass
class Order:
    id: int
    symbol: Symbol
    quantity: float
    type: OrderType
    time: datetime
    tag: str = ""
    limit_price: float | None = None
    stop_price: float | None = None
    time_in_force: TimeInForce = field(default_factory=lambda: TimeInForce.GOOD_TIL_CANCELED)  # type: ignore[attr-defined]
    status: OrderStatus = OrderStatus.SUBMITTED
    stop_triggered: bool = False
    fill_price: float = 0.0
    filled_quantity: float = 0.0
    fee: float = 0.0
    last_fill_time: datetime | None = None
    canceled_time: datetime | None = None
    submission_price: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)
    trigger_price: float | None = None
    trigger_touched: bool = False
    trailing_amount: float = 0.0
    trailing_as_percentage: bool = False
    last_update_time: datetime | None = None
    created_time: datetime | None = None

    @property
    def direction(self) -> OrderDirection:
        return OrderDirection.BUY if self.quantity > 0 else OrderDirection.SELL if self.quantity < 0 else OrderDirection.HOLD

    absolute_quantity = property(lambda self: abs(self.quantity))

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)

    def fill_on(self, bar: TradeBar) -> float | None:
        """The price a bar that closed after the order was placed fills a limit or stop order at, or None.

        LEAN's EquityFillModel: a buy limit fills when the bar's low is below the limit (at the open when the
        bar opened below it, else at the limit), a sell limit when the high is above it; a stop market order
        triggers when the range reaches the stop and fills at the stop (at the open on an unfavourable gap); a
        stop limit triggers past the stop, then fills when the close is through the limit (at the better of the
        bar's extreme and the limit); a trailing stop moves its stop with the price and fills like a stop market
        order; a limit-if-touched order waits for its trigger, then fills like a limit at the close.
        """
        buy = self.quantity > 0
        if self.type == OrderType.LIMIT:
            assert self.limit_price is not None
            if buy and bar.low < self.limit_price:
                return bar.open if bar.open < self.limit_price else self.limit_price
            if not buy and bar.high > self.limit_price:
                return bar.open if bar.open > self.limit_price else self.limit_price
            return None
        if self.type == OrderType.STOP_MARKET:
            assert self.stop_price is not None
            stop = self.stop_price
            if buy and bar.high >= stop:
                return bar.open if bar.open >= stop else stop
            if not buy and bar.low <= stop:
                return bar.open if bar.open <= stop else stop
            return None
        if self.type == OrderType.TRAILING_STOP:
            assert self.stop_price is not None
            if not buy and bar.low <= self.stop_price:
                return min(self.stop_price, bar.close)
            if buy and bar.high >= self.stop_price:
                return max(self.stop_price, bar.close)
            self._trail(bar.low if buy else bar.high)
            return None
        if self.type == OrderType.STOP_LIMIT:
            assert self.stop_price is not None and self.limit_price is not None
            if buy and (bar.high > self.stop_price or self.stop_triggered):
                self.stop_triggered = True
                return min(bar.high, self.limit_price) if bar.close < self.limit_price else None
            if not buy and (bar.low < self.stop_price or self.stop_triggered):
                self.stop_triggered = True
                return max(bar.low, self.limit_price) if bar.close > self.limit_price else None
            return None
        if self.type == OrderType.LIMIT_IF_TOUCHED:
            assert self.trigger_price is not None and self.limit_price is not None
            if buy and (bar.low <= self.trigger_price or self.trigger_touched):
                self.trigger_touched = True
                return min(bar.close, self.limit_price) if bar.close <= self.limit_price else None
            if not buy and (bar.high >= self.trigger_price or self.trigger_touched):
                self.trigger_touched = True
                return max(bar.close, self.limit_price) if bar.close >= self.limit_price else None
        return None

    def _trail(self, price: float) -> None:
        """LEAN's TrailingStopOrder.TryUpdateStopPrice: follow the market when it moved more than the trailing
        amount away from the stop (the high for a sell, the low for a buy)."""
        assert self.stop_price is not None
        reference = self.trailing_amount * price if self.trailing_as_percentage else self.trailing_amount
        if self.quantity < 0 and price - self.stop_price > reference:
            self.stop_price = price * (1 - self.trailing_amount) if self.trailing_as_percentage else price - self.trailing_amount
        elif self.quantity > 0 and self.stop_price - price > reference:
            self.stop_price = price * (1 + self.trailing_amount) if self.trailing_as_percentage else price + self.trailing_amount

    def expired(self, now: datetime) -> bool:
        kind = self.time_in_force.kind
        if kind == "day":
            return now.date() > self.time.date()
        if kind == "gtd":
            return self.time_in_force.expiry is not None and now > self.time_in_force.expiry
        return False


class Portfolio(PascalAliases):
    """Cash and holdings, keyed by Symbol (or ticker)."""

    def __init__(self, securities: dict[Symbol, Security]) -> None:
        self._securities = securities
        self.cash = 100_000.0
        self.total_fees = 0.0
        self.starting_cash = self.cash

    def set_cash(self, cash: float) -> None:
        self.cash = self.starting_cash = cash

    def __getitem__(self, symbol: Any) -> SecurityHolding:
        return self._securities[symbol].holdings

    def __contains__(self, symbol: Any) -> bool:
        return symbol in self._securities

    def items(self) -> Iterator[tuple[Symbol, SecurityHolding]]:
        return ((s, sec.holdings) for s, sec in self._securities.items())

    @property
    def keys(self) -> Any:
        from qcmcp.sandbox.engine.types import _Listing

        return _Listing(self._securities)

    @property
    def values(self) -> Any:
        from qcmcp.sandbox.engine.types import _Listing

        return _Listing(sec.holdings for sec in self._securities.values())

    def __iter__(self) -> Iterator[Any]:
        """As LEAN's Python API: KeyValuePairs of symbol and holding."""
        from qcmcp.sandbox.engine.types import KeyValuePair

        return iter([KeyValuePair(s, sec.holdings) for s, sec in self._securities.items()])

    def __len__(self) -> int:
        return len(self._securities)

    def contains_key(self, symbol: Any) -> bool:
        return symbol in self._securities

    def get(self, symbol: Any, default: Any = None) -> Any:
        return self._securities[symbol].holdings if symbol in self._securities else default

    @property
    def total_holdings_value(self) -> float:
        return sum(h.holdings_value for h in self.values())

    @property
    def total_absolute_holdings_cost(self) -> float:
        return sum(abs(h.holdings_value) for h in self.values())

    @property
    def total_portfolio_value(self) -> float:
        return self.cash + self.total_holdings_value

    @property
    def total_unrealized_profit(self) -> float:
        return sum(h.unrealized_profit for h in self.values())

    @property
    def total_profit(self) -> float:
        return sum(h.net_profit for h in self.values())

    @property
    def invested(self) -> bool:
        return any(h.invested for h in self.values())

    @property
    def margin_remaining(self) -> float:
        used = sum(abs(h.holdings_value) / h.security.leverage for h in self.values())
        return self.total_portfolio_value - used

    total_unrealised_profit = total_unrealized_profit

    def apply_fill(self, security: Security, quantity: float, price: float, fee: float) -> float:
        """Update cash and holdings for a fill; returns the realised profit (before fees)."""
        holding = security.holdings
        self.cash -= quantity * price + fee
        self.total_fees += fee
        holding.total_fees += fee
        realised = 0.0
        old = holding.quantity
        new = old + quantity
        if old == 0 or (old > 0) == (quantity > 0):
            holding.average_price = (old * holding.average_price + quantity * price) / new if new else 0.0
        else:
            closed = min(abs(quantity), abs(old)) * (1 if old > 0 else -1)
            realised = closed * (price - holding.average_price)
            if new == 0:
                holding.average_price = 0.0
            elif (new > 0) != (old > 0):  # flipped through zero: the rest opens at this price
                holding.average_price = price
        holding.quantity = new
        holding.net_profit += realised - fee
        return realised
