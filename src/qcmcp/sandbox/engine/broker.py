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
AXOS_FEE_PER_SHARE = 0.0035
# LEAN's crypto fee models: (maker, taker) fractions; Binance, Bybit and Bitfinex take a buy's fee in the coin bought
PERCENT_FEES = {"binance": (0.001, 0.001), "bybit": (0.001, 0.001), "bitfinex": (0.001, 0.002),
                "alpha_streams": (0.001, 0.002)}
FEE_IN_BASE_ON_BUY = frozenset({"binance", "bybit", "bitfinex"})


def security_fee(security: Any, quantity: float, price: float, order_type: Any = None, order: Any = None) -> float:
    """The fee of an order on ``security`` in the account currency (see ``fee_cash``)."""
    amount, currency = fee_cash(security, quantity, price, order_type, order)
    book = getattr(security, "cash_book", None)
    if not amount or book is None or currency == book.account_currency:
        return amount
    rate = book[currency].conversion_rate if currency in book else 0.0
    account = book[book.account_currency].conversion_rate or 1.0
    return amount * rate / account


def coinbase_fee_fraction(utc: datetime | None, maker: bool, stable: bool) -> float:
    """LEAN's CoinbaseFeeModel.GetFeePercentage: the fee schedule in force when the order was placed."""
    if stable:
        return (0.0 if maker else 0.001) if utc is not None and utc < datetime(2022, 6, 1) else \
            (0.0 if maker else 0.00001)
    if utc is not None and utc < datetime(2019, 3, 23, 1, 30):
        return 0.0 if maker else 0.003
    if utc is not None and utc < datetime(2019, 10, 8, 0, 30):
        return 0.0015 if maker else 0.0025
    return 0.006 if maker else 0.008


def _is_maker(order_type: Any, order: Any, security: Any, quantity: float) -> bool:
    """A limit order that rests on the book: not marketable against the quotes when it was placed."""
    if order_type is None or int(order_type) != 1:
        return False
    limit = getattr(order, "limit_price", None)
    if limit is None:
        return True
    bid, ask = getattr(order, "submission_bid", None), getattr(order, "submission_ask", None)
    if bid is None or ask is None:
        return True
    return not (limit >= ask if quantity > 0 else limit <= bid)


def fee_cash(security: Any, quantity: float, price: float, order_type: Any = None,
             order: Any = None) -> tuple[float, str]:
    """An order's fee and its currency under the security's fee model (LEAN's BrokerageModel.GetFeeModel):
    ``ib`` (InteractiveBrokersFeeModel), ``zero`` (ConstantFeeModel(0)), ``axos`` ($0.0035 a share),
    ``coinbase`` (by date: 0.3 % taker before 23 March 2019 ... 0.8 % taker / 0.6 % maker now, in the quote
    currency), ``binance``/``bybit``/``bitfinex`` (a buy pays in the coin bought, a sell in the quote currency),
    or a fee model the algorithm set."""
    model = getattr(security, "fee_model", None) or ("ib" if security.hours.kind == "equity" else "zero")
    quote = getattr(getattr(security, "quote_currency", None), "symbol", "USD")
    if model == "zero" or not quantity:
        return 0.0, quote
    if not isinstance(model, str):  # a fee model the algorithm set
        from qcmcp.sandbox.engine.models import fee_of

        probe = order if order is not None else type("OrderProbe", (), {
            "id": 0, "quantity": quantity, "absolute_quantity": abs(quantity), "type": order_type,  # LEAN: id 0
            "direction": 0 if quantity > 0 else 1, "price": price, "symbol": security.symbol})()
        return fee_of(model, security, probe)
    if model == "axos":
        return AXOS_FEE_PER_SHARE * abs(quantity), "USD"
    maker = _is_maker(order_type, order, security, quantity)
    bid, ask = _quotes(security)
    if model == "coinbase":
        utc = _utc(getattr(order, "time", None) or (security.bar.end_time if security.bar is not None else None))
        from qcmcp.sandbox.engine.currencies import STABLE_PAIRS_COINBASE

        unit = ask if quantity > 0 else bid
        return abs(quantity) * unit * coinbase_fee_fraction(utc, maker, security.symbol.value in
                                                            STABLE_PAIRS_COINBASE), quote
    if model in PERCENT_FEES and security.hours.kind in ("crypto", "forex"):
        fraction = PERCENT_FEES[model][0 if maker else 1]
        if model in FEE_IN_BASE_ON_BUY and quantity > 0:
            return abs(quantity) * fraction, security.base_currency.symbol
        unit = ask if quantity > 0 else bid
        limit = getattr(order, "limit_price", None)
        if order_type is not None and int(order_type) == 1 and limit is not None:
            unit = limit
        return abs(quantity) * unit * fraction, quote
    if model == "alpha_streams" and security.hours.kind == "forex":
        return 0.000002 * abs(quantity) * price, "USD"
    return order_fee(quantity, price, "equity"), "USD"


def _quotes(security: Any) -> tuple[float, float]:
    bid, ask = getattr(security, "bid_price", float("nan")), getattr(security, "ask_price", float("nan"))
    price = security.price
    return (bid if bid > 0 else price), (ask if ask > 0 else price)  # NaN (no quotes) is not > 0


def _utc(moment: datetime | None) -> datetime | None:
    """The algorithm's time in UTC (the fee schedules are dated in UTC)."""
    if moment is None:
        return None
    from qcmcp.sandbox.engine import clock

    return clock.to_utc(moment)


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
    submission_bid: float | None = None  # the quotes when it was placed (LEAN's OrderSubmissionData)
    submission_ask: float | None = None
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
        from qcmcp.sandbox.engine.cashbook import CashBook

        self._securities = securities
        self.cash_book = CashBook()
        self.cash_book["USD"].set_amount(100_000.0)
        self.unsettled_cash_book = CashBook()  # sales awaiting settlement (engine/settlement.py)
        self.total_fees = 0.0
        self.starting_cash = 100_000.0
        self._account_currency_set = False

    @property
    def cash(self) -> float:
        """LEAN's Portfolio.Cash: every currency held, valued in the account currency."""
        return self.cash_book.total_value_in_account_currency

    @cash.setter
    def cash(self, value: float) -> None:
        self.cash_book[self.cash_book.account_currency].add_amount(float(value) - self.cash)

    def set_cash(self, cash: float) -> None:
        """LEAN's SetCash(amount): the account currency's amount."""
        self.cash_book[self.cash_book.account_currency].set_amount(cash)
        self.starting_cash = self.cash

    def set_currency_cash(self, symbol: str, amount: float, conversion_rate: float) -> None:
        """LEAN's SetCash(symbol, amount, rate): that currency's amount, and its rate until prices value it."""
        symbol = str(symbol).upper()
        if symbol in self.cash_book:
            cash = self.cash_book[symbol]
            cash.set_amount(amount)
            cash.conversion_rate = conversion_rate
        else:
            self.cash_book.add(symbol, amount, conversion_rate)
        self.starting_cash = self.cash

    def set_account_currency(self, currency: str, amount: float | None = None) -> None:
        """LEAN's SetAccountCurrency: once, before any security; the account entry keeps the amount it had."""
        currency = str(currency).upper()
        if self._account_currency_set:
            return
        if self._securities:
            raise RuntimeError("SecurityPortfolioManager.SetAccountCurrency(): Cannot change AccountCurrency after "
                               "adding a Security. Please move SetAccountCurrency() before AddSecurity().")
        self._account_currency_set = True
        self.cash_book.account_currency = currency
        self.unsettled_cash_book.account_currency = currency
        if amount is not None:
            self.cash_book[currency].set_amount(amount)
        self.starting_cash = self.cash

    @property
    def account_currency(self) -> str:
        return self.cash_book.account_currency

    def unsettled_cash_book_entry(self, currency: str) -> Any:
        """The unsettled cash book's entry for a currency, valued as the cash book's (LEAN shares the conversion)."""
        book = self.unsettled_cash_book
        entry = book.ensure(currency)
        if currency in self.cash_book and str(currency).upper() != book.account_currency:
            entry.currency_conversion = self.cash_book[currency].currency_conversion
        return entry

    @property
    def unsettled_cash(self) -> float:
        return self.unsettled_cash_book.total_value_in_account_currency

    def add_cash(self, amount: float, currency: str | None = None) -> None:
        self.cash_book[currency or self.cash_book.account_currency].add_amount(amount)

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

    @staticmethod
    def _swaps_currencies(security: Security) -> bool:
        """Crypto and forex holdings live in the cash book as their base currency (LEAN's currency swaps)."""
        return security.hours.kind in ("crypto", "forex")

    @property
    def total_absolute_holdings_cost(self) -> float:
        return sum(abs(h.holdings_value) for h in self.values())

    @property
    def total_portfolio_value(self) -> float:
        """LEAN: the cash book in the account currency plus the holdings that are not currency swaps."""
        return self.cash + self.unsettled_cash + sum(sec.holdings.holdings_value for sec in self._securities.values()
                               if sec.holdings.quantity and not self._swaps_currencies(sec))

    @property
    def total_unrealized_profit(self) -> float:
        return sum(h.unrealized_profit for h in self.values())

    @property
    def total_profit(self) -> float:
        return sum(h.net_profit for h in self.values())

    @property
    def invested(self) -> bool:
        return any(h.invested for h in self.values())

    hold_stock = invested  # LEAN's older name (SecurityPortfolioManager.HoldStock)

    @property
    def total_margin_used(self) -> float:
        """Holdings over leverage; a cash account's currency pairs reserve nothing (CashBuyingPowerModel)."""
        return sum(abs(h.holdings_value) / h.security.leverage for h in self.values()
                   if not getattr(h.security, "cash_buying_power", False))

    @property
    def margin_remaining(self) -> float:
        return self.total_portfolio_value - self.unsettled_cash - self.total_margin_used

    total_unrealised_profit = total_unrealized_profit

    def apply_fill(self, security: Security, quantity: float, price: float, fee: float,
                   fee_currency: str | None = None, utc: datetime | None = None) -> float:
        """Update cash and holdings for a fill (LEAN's SecurityPortfolioModel.ProcessFill): the quote currency
        pays for it, a crypto or forex pair's base currency receives it (both through the security's settlement
        model, at the fill's UTC time), the fee leaves its own currency; returns the realised profit in the
        account currency (before fees)."""
        from qcmcp.sandbox.engine.settlement import apply_funds

        holding = security.holdings
        book = self.cash_book
        account = book.account_currency
        quote = getattr(security, "quote_currency", None) or book[account]
        fee_currency = (fee_currency or account).upper()
        utc = utc or datetime.min
        apply_funds(self, security, -quantity * price, quote.symbol, utc)
        if self._swaps_currencies(security) and getattr(security, "base_currency", None) is not None:
            apply_funds(self, security, quantity, security.base_currency.symbol, utc)
        fee_value = fee
        if fee:
            book.ensure(fee_currency).add_amount(-fee)
            if fee_currency != account:
                rate, account_rate = book[fee_currency].conversion_rate, book[account].conversion_rate or 1.0
                fee_value = fee * rate / account_rate
        fee = fee_value
        self.total_fees += fee
        holding.total_fees += fee
        realised = 0.0
        old = holding.quantity
        new = round(old + quantity, 12)  # LEAN's quantities are decimals: 318 + 0.1 + 0.01 - 0.02 is 318.09
        if old == 0 or (old > 0) == (quantity > 0):
            holding.average_price = (old * holding.average_price + quantity * price) / new if new else 0.0
        else:
            closed = min(abs(quantity), abs(old)) * (1 if old > 0 else -1)
            realised = closed * (price - holding.average_price) * quote.conversion_rate
            if new == 0:
                holding.average_price = 0.0
            elif (new > 0) != (old > 0):  # flipped through zero: the rest opens at this price
                holding.average_price = price
        holding.quantity = new
        holding.net_profit += realised - fee
        return realised
