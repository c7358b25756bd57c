"""LEAN's CashBuyingPowerModel: a cash account buys a currency pair with the quote currency it holds and sells
only the base currency it holds — no leverage, no shorting, open orders' amounts reserved.
"""

from __future__ import annotations

import math
from typing import Any

from qcmcp.sandbox.engine.types import OrderType


def order_price(security: Any, order: Any) -> float:
    """LEAN's CashBuyingPowerModel.GetOrderPrice: the limit (or stop) price, the last price for market orders."""
    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED) and order.limit_price:
        return float(order.limit_price)
    if order.type in (OrderType.STOP_MARKET, OrderType.TRAILING_STOP) and order.stop_price:
        return float(order.stop_price)
    return float(security.price)


def reserved(engine: Any, security: Any, order: Any) -> float:
    """What open limit and stop-market orders already hold of the currency this order spends."""
    buy = order.quantity > 0
    target = security.quote_currency.symbol if buy else security.base_currency.symbol
    sides: dict[Any, bool] = {}  # symbol -> True: its buys spend the target, False: its sells do
    for other in engine.securities.values():
        if other.base_currency is None:
            continue
        if other.base_currency.symbol == target:
            sides[other.symbol] = False
        elif other.quote_currency is not None and other.quote_currency.symbol == target:
            sides[other.symbol] = True
    total = 0.0
    for orders in engine.open_orders.values():
        for open_order in orders:
            if open_order.symbol not in sides or open_order is order or not open_order.is_open:
                continue
            if (open_order.quantity > 0) != sides[open_order.symbol] or \
                    open_order.type not in (OrderType.LIMIT, OrderType.STOP_MARKET):
                continue
            amount = abs(open_order.quantity)
            if engine.securities[open_order.symbol].quote_currency.symbol == target:
                amount *= order_price(security, open_order)
            total += amount
    return total


def refusal(engine: Any, order: Any, security: Any) -> str | None:
    """LEAN's HasSufficientBuyingPowerForOrder for a cash account, or None when the order can be placed."""
    from qcmcp.sandbox.engine.broker import fee_cash

    book = engine.portfolio.cash_book
    base, quote = security.base_currency, security.quote_currency
    buy = order.quantity > 0
    held = quote.amount if buy else base.amount
    wanted = abs(order.quantity) * (order_price(security, order) if buy else 1.0)
    held_back = reserved(engine, security, order)
    if not buy:
        if wanted <= held - held_back + 1e-12:
            return None
        return (f"Your portfolio holds {held:g} {base.symbol}, {held_back:g} {base.symbol} of which are reserved "
                f"for open orders, but your Sell order is for {wanted:g} {base.symbol}. Cash Modeling trading does "
                "not permit short holdings so ensure you only sell what you have, including any additional open "
                "orders.")
    if order.type == OrderType.MARKET:
        holdings = book.convert(base.amount, base.symbol, quote.symbol) if base.amount else 0.0
        total = engine.portfolio.total_portfolio_value
        value = _to_account(book, held - held_back + holdings, quote.symbol)
        percent = value / total if total else 0.0
        maximum = abs(target_quantity(engine, security, percent) * order_price(security, order))
    else:
        fee = 0.0
        if order.type == OrderType.LIMIT:
            amount, currency = fee_cash(security, order.quantity, order_price(security, order), order.type, order)
            fee = book.convert(amount, currency, quote.symbol) if amount else 0.0
        maximum = held - held_back - fee
    if wanted <= maximum + 1e-9:
        return None
    return (f"Your portfolio holds {held:g} {quote.symbol}, {held_back:g} {quote.symbol} of which are reserved for "
            f"open orders, but your Buy order is for {abs(order.quantity):g} {base.symbol}. Your order requires a "
            f"total value of {wanted:g} {quote.symbol}, but only a total value of {maximum:g} {quote.symbol} is "
            "available.")


def _to_account(book: Any, amount: float, currency: str) -> float:
    return book.convert_to_account_currency(amount, currency) if amount else 0.0


def target_quantity(engine: Any, security: Any, target: float) -> float:
    """LEAN's CashBuyingPowerModel.GetMaximumOrderQuantityForTargetBuyingPower: the order (in the base currency)
    that brings the base currency held to ``target`` of the portfolio, fees included, in whole lots."""
    from qcmcp.sandbox.engine.broker import security_fee

    portfolio = engine.portfolio
    target_value = target * portfolio.total_portfolio_value
    if target_value < 0:
        return 0.0  # no shorting
    base = security.base_currency
    if target_value == 0:
        return -base.amount
    position = _to_account(portfolio.cash_book, base.amount, base.symbol)
    order_value = abs(target_value - position)
    buy = target_value > position
    bid, ask = security.bid_price, security.ask_price
    unit = (ask if buy else bid)
    unit = unit if unit > 0 else security.price  # NaN (no quotes) is not > 0
    unit *= security.quote_currency.conversion_rate * security.symbol_properties.contract_multiplier
    if unit == 0:
        return 0.0
    lot = security.symbol_properties.lot_size
    quantity = _round_lot(order_value / unit, lot)
    if quantity == 0:
        return 0.0
    current = 0.0
    last = 0.0
    while True:
        if current > order_value:
            per_unit = current / quantity
            remove = max((current - order_value) / per_unit, lot)
            quantity -= remove
        quantity = _round_lot(quantity, lot)
        if quantity <= 0 or quantity == last:
            return 0.0
        last = quantity
        fees = security_fee(security, quantity, unit / (security.quote_currency.conversion_rate or 1.0))
        current = quantity * unit + fees
        if current <= order_value:
            break
    return float(round(quantity if buy else -quantity, 10))


def _round_lot(quantity: float, lot: float) -> float:
    """``quantity - quantity % lot`` as LEAN's decimals give it (tolerant of binary fractions of the lot)."""
    lots = math.floor(quantity / lot + 1e-9)
    return round(lots * lot, 12)
