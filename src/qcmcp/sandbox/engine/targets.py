"""LEAN's helpers for execution models: the PortfolioTargetCollection they keep targets in, and OrderSizing."""

from __future__ import annotations

import math
from typing import Any

from qcmcp.sandbox.engine.types import PascalAliases


def lot_size(security: Any) -> float:
    return 1e-8 if security.hours.kind == "crypto" else 1.0


class OrderSizing(PascalAliases):
    """LEAN's OrderSizing: quantities to the lot size, what is left to order for a target, sizes capped by value
    or by a share of the bar's volume."""

    @staticmethod
    def adjust_by_lot_size(security: Any, quantity: float) -> float:
        """Towards zero to whole lots; a quantity a millionth of a lot short of the next lot rounds up."""
        lot = lot_size(security)
        size = abs(float(quantity))
        remainder = math.fmod(size, lot)
        if lot - remainder < lot / 1_000_000:
            remainder -= lot
        size -= remainder
        return math.copysign(round(size, 8), quantity) if size else 0.0

    @staticmethod
    def get_unordered_quantity(algorithm: Any, target: Any, security: Any = None, account_for_fees: bool = False) -> float:
        """The target less the projected holdings (held plus open orders still to fill), to the lot size. (LEAN's
        fee adjustment applies to crypto fees in the base currency; the engine charges fees in the account
        currency, so there is none.)"""
        engine = algorithm.engine
        symbol = engine.symbol_for(target.symbol)
        security = security if security is not None else engine.securities[symbol]
        open_quantity = sum(o.quantity - o.filled_quantity for o in engine.transactions.get_open_orders(symbol))
        return OrderSizing.adjust_by_lot_size(security, target.quantity - security.holdings.quantity - open_quantity)

    @staticmethod
    def get_order_size_for_maximum_value(security: Any, maximum_order_value: float, desired_order_size: float) -> float:
        price = security.price
        if not price:
            return 0.0
        size = min(float(maximum_order_value) / price, abs(float(desired_order_size)))
        return math.copysign(OrderSizing.adjust_by_lot_size(security, size), desired_order_size) if size else 0.0

    @staticmethod
    def get_order_size_for_percent_volume(security: Any, maximum_percent_current_volume: float,
                                          desired_order_size: float) -> float:
        size = min(float(maximum_percent_current_volume) * security.volume, abs(float(desired_order_size)))
        return math.copysign(OrderSizing.adjust_by_lot_size(security, size), desired_order_size) if size else 0.0


class PortfolioTargetCollection(PascalAliases):
    """LEAN's: one target per symbol (a new one replaces the old), cleared once the holdings reach it."""

    def __init__(self) -> None:
        self._targets: dict[Any, Any] = {}

    count = property(lambda self: len(self._targets))
    is_empty = property(lambda self: not self._targets)
    keys = property(lambda self: list(self._targets))
    values = property(lambda self: list(self._targets.values()))

    def add(self, target: Any, *_: Any) -> None:
        if target is not None:
            self._targets[target.symbol] = target

    def add_range(self, targets: Any) -> None:
        for target in targets or []:
            self.add(target)

    def clear(self) -> None:
        self._targets.clear()

    def contains_key(self, symbol: Any) -> bool:
        return symbol in self._targets

    def contains(self, target: Any) -> bool:
        return target is not None and target.symbol in self._targets

    def remove(self, item: Any) -> bool:
        symbol = getattr(item, "symbol", item)
        if symbol in self._targets and (item is symbol or self._targets[symbol] is item):
            del self._targets[symbol]
            return True
        return False

    def try_get_value(self, symbol: Any) -> tuple[bool, Any]:
        return (symbol in self._targets, self._targets.get(symbol))

    def __getitem__(self, symbol: Any) -> Any:
        return self._targets[symbol]

    def __setitem__(self, symbol: Any, target: Any) -> None:
        self.add(target)

    def __contains__(self, symbol: Any) -> bool:
        return symbol in self._targets

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._targets.values()))

    def __len__(self) -> int:
        return len(self._targets)

    def clear_fulfilled(self, algorithm: Any) -> None:
        """Drop the targets the holdings are within a lot of."""
        for target in list(self._targets.values()):
            security = algorithm.securities[target.symbol]
            if abs(target.quantity - security.holdings.quantity) < lot_size(security):
                self.remove(target.symbol)

    def order_by_margin_impact(self, algorithm: Any) -> list[Any]:
        """LEAN's OrderTargetsByMarginImpact: targets still at least a lot away from the projected holdings, of
        tradable securities with data — those reducing a position first, then the largest order value first."""
        if not self._targets or algorithm.is_warming_up:
            return []
        engine = algorithm.engine
        keyed = []
        for position, target in enumerate(self._targets.values()):
            symbol = engine.symbol_for(target.symbol)
            security = engine.securities[symbol]
            wanted = OrderSizing.adjust_by_lot_size(security, target.quantity)
            existing = security.holdings.quantity + sum(o.quantity - o.filled_quantity
                                                        for o in engine.transactions.get_open_orders(symbol))
            if not security.has_data or not security.is_tradable or abs(wanted - existing) < lot_size(security):
                continue
            reducing = existing != 0 and abs(wanted) < abs(existing)
            keyed.append((not reducing, -abs((wanted - existing) * security.price), position, target))
        return [target for *_, target in sorted(keyed, key=lambda k: k[:3])]
