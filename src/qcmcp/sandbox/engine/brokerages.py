"""LEAN's named brokerage models the sandbox has (``set_brokerage_model(BrokerageName.X, AccountType.Y)``).

Each gives what LEAN's model decides: the fee model of each asset class, leverage (a cash account has none),
whether crypto and forex use the cash account's buying power (CashBuyingPowerModel), the default crypto market,
the benchmark, and the orders it accepts (order types, minimum order sizes, whole shares) — from
``Common/Brokerages/*BrokerageModel.cs``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qcmcp.sandbox.engine.types import AccountType, BrokerageName, OrderType

_ALL = frozenset(OrderType)


@dataclass(frozen=True)
class Brokerage:
    key: str  # the fee family (broker.fee_cash)
    crypto_market: str = "coinbase"
    margin_leverage: dict[str, float] = field(default_factory=dict)  # by asset class, margin account
    cash_only: bool = False  # crypto always on CashBuyingPowerModel (Coinbase)
    benchmark: tuple[str, str, str] | str | None = None  # (ticker, kind, market), "zero", or None: SPY
    order_types: frozenset[OrderType] = _ALL
    asset_classes: frozenset[str] | None = None  # the asset classes it trades (None: all)
    minimum_in_quote: bool = False  # Binance: the minimum order size is a value in the quote currency
    whole_shares: bool = False
    equity_fee: str = "ib"

    def fee_model(self, kind: str) -> str:
        if kind == "equity":
            return self.equity_fee
        return self.key if self.key in ("coinbase", "binance", "bybit", "bitfinex", "alpha_streams") else "zero"

    def leverage(self, kind: str, account: int) -> float | None:
        """LEAN's GetLeverage: 1 on a cash account; None keeps what the algorithm asked for."""
        if account == AccountType.CASH:
            return 1.0
        return self.margin_leverage.get(kind)

    def cash_buying_power(self, kind: str, account: int) -> bool:
        return kind in ("crypto", "forex") and (account == AccountType.CASH or self.cash_only)

    def refusal(self, security: Any, order: Any) -> str | None:
        """LEAN's CanSubmitOrder: why this brokerage would not take the order, or None."""
        kind = security.hours.kind
        if self.asset_classes is not None and kind not in self.asset_classes:
            return f"The {self.key} brokerage does not support {kind} securities."
        if order.type not in self.order_types:
            names = ", ".join(t.name.title().replace("_", "") for t in sorted(self.order_types))
            return f"{order.type.name.title().replace('_', '')} order type is not supported by this brokerage " \
                   f"(it supports {names})."
        if self.key == "coinbase" and order.type == OrderType.STOP_MARKET and order.time >= datetime(2019, 3, 22, 21):
            return "StopMarket orders are no longer supported since 2019-03-23 01:00:00 (UTC)."
        if self.whole_shares and abs(order.quantity) % 1:
            return f"Order quantity must be a whole number of shares (got {order.quantity})."
        minimum = getattr(security.symbol_properties, "minimum_order_size", None)
        if minimum:
            if self.minimum_in_quote:
                price = order.limit_price if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and \
                    order.limit_price else security.price
                if abs(order.quantity) * price <= minimum:
                    return f"Order size ({abs(order.quantity) * price:g}) is below the minimum order size " \
                           f"({minimum:g} {security.quote_currency.symbol})."
            elif abs(order.quantity) < minimum:
                return f"The minimum order size (in quote currency) for {security.symbol} is {minimum:g}. " \
                       f"Order quantity was {order.quantity}."
        return None


BROKERAGES: dict[int, Brokerage] = {
    int(BrokerageName.DEFAULT): Brokerage("default"),
    int(BrokerageName.INTERACTIVE_BROKERS_BROKERAGE): Brokerage("default"),
    int(BrokerageName.GDAX): Brokerage("coinbase", "coinbase", {"crypto": 1.0}, cash_only=True,
                                       benchmark=("BTCUSD", "crypto", "coinbase"),
                                       order_types=frozenset({OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_LIMIT,
                                                              OrderType.STOP_MARKET}),
                                       asset_classes=frozenset({"crypto"})),
    int(BrokerageName.BINANCE): Brokerage("binance", "binance", {"crypto": 3.0}, benchmark=("BTCUSDC", "crypto",
                                                                                             "binance"),
                                          order_types=frozenset({OrderType.LIMIT, OrderType.MARKET,
                                                                 OrderType.STOP_LIMIT}),
                                          asset_classes=frozenset({"crypto"}), minimum_in_quote=True),
    int(BrokerageName.BYBIT): Brokerage("bybit", "bybit", {"crypto": 10.0}, benchmark=("BTCUSDC", "crypto", "bybit"),
                                        order_types=frozenset({OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_LIMIT,
                                                               OrderType.STOP_MARKET}),
                                        asset_classes=frozenset({"crypto", "base"})),  # LEAN's takes custom data
    int(BrokerageName.BITFINEX): Brokerage("bitfinex", "bitfinex", {"crypto": 3.3},
                                           benchmark=("BTCUSD", "crypto", "bitfinex"),
                                           order_types=frozenset({OrderType.LIMIT, OrderType.MARKET,
                                                                  OrderType.STOP_LIMIT, OrderType.STOP_MARKET}),
                                           asset_classes=frozenset({"crypto"})),
    int(BrokerageName.AXOS): Brokerage("axos", benchmark="zero", equity_fee="axos",
                                       order_types=frozenset({OrderType.LIMIT, OrderType.MARKET,
                                                              OrderType.MARKET_ON_CLOSE}),
                                       asset_classes=frozenset({"equity"}), whole_shares=True),
    int(BrokerageName.ALPHA_STREAMS): Brokerage("alpha_streams", margin_leverage={"equity": 1.0, "crypto": 1.0,
                                                                                  "forex": 10.0}),
}
BROKERAGES[int(BrokerageName.COINBASE)] = BROKERAGES[int(BrokerageName.GDAX)]


def named(name: int, account: int) -> Brokerage | None:
    """The model for a BrokerageName, or None when the sandbox lacks it; LEAN's own refusals raise."""
    model = BROKERAGES.get(int(name))
    if model is not None and model.key == "alpha_streams" and int(account) == AccountType.CASH:
        raise ValueError("The Alpha Streams brokerage does not currently support Cash trading.")
    return model


def alpha_streams_slippage(security: Any, order: Any) -> float:
    """LEAN's AlphaStreamsSlippageModel: 0.01 % of the last price, on equities only."""
    return 0.0001 * security.price if security.hours.kind == "equity" else 0.0
