"""Algorithm Framework basics: alpha → portfolio construction → execution, with insights.

After each ``on_data`` the engine asks the alpha models for insights, records them, and
when the set of active insights changes asks the portfolio construction model for
targets and the execution model to reach them — LEAN's order of operations.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from qcmcp.sandbox.engine.types import PascalAliases, PortfolioTarget, Resolution, Symbol


class InsightDirection(IntEnum):
    DOWN = -1
    FLAT = 0
    UP = 1
    Down = -1
    Flat = 0
    Up = 1


class InsightType(IntEnum):
    PRICE = 0
    VOLATILITY = 1
    Price = 0
    Volatility = 1


class Insight(PascalAliases):
    def __init__(self, symbol: Any, period: timedelta, type: InsightType, direction: InsightDirection,
                 magnitude: float | None = None, confidence: float | None = None, source_model: str | None = None,
                 weight: float | None = None, tag: str = "") -> None:
        self.symbol, self.period, self.type, self.direction = symbol, period, type, direction
        self.magnitude, self.confidence, self.weight, self.tag = magnitude, confidence, weight, tag
        self.source_model = source_model or ""
        self.id = uuid.uuid4().hex
        self.generated_time_utc: datetime | None = None
        self.close_time_utc: datetime | None = None
        self.reference_value = 0.0
        self.reference_value_final: float | None = None

    @staticmethod
    def price(symbol: Any, period: timedelta | int | str, direction: InsightDirection, magnitude: float | None = None,
              confidence: float | None = None, source_model: str | None = None, weight: float | None = None,
              tag: str = "") -> Insight:
        if not isinstance(period, timedelta):
            period = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}.get(str(period), timedelta(days=1))
        return Insight(symbol, period, InsightType.PRICE, direction, magnitude, confidence, source_model, weight, tag)

    Price = price

    def is_active(self, now: datetime) -> bool:
        return self.close_time_utc is not None and now < self.close_time_utc

    def __repr__(self) -> str:
        return f"Insight({self.symbol} {self.direction.name} {self.period})"


def timespan_text(span: timedelta) -> str:
    """A duration as C#'s TimeSpan prints it (``[-][d.]hh:mm:ss[.fffffff]``), as LEAN's model names show it."""
    ticks = round(span.total_seconds() * 10_000_000)
    sign, ticks = ("-" if ticks < 0 else ""), abs(ticks)
    seconds, fraction = divmod(ticks, 10_000_000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    text = f"{sign}{f'{days}.' if days else ''}{hour:02d}:{minute:02d}:{second:02d}"
    return text + (f".{fraction:07d}" if fraction else "")


def number_text(value: float) -> str:
    """A number as C# prints a double: no trailing ``.0``."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


class AlphaModel(PascalAliases):
    @property
    def name(self) -> str:
        return type(self).__name__

    def update(self, algorithm: Any, data: Any) -> list[Insight]:
        return []

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        pass


class ConstantAlphaModel(AlphaModel):
    """The same insight for every security, re-emitted each time the previous one ends."""

    def __init__(self, type: InsightType, direction: InsightDirection, period: timedelta,
                 magnitude: float | None = None, confidence: float | None = None, weight: float | None = None) -> None:
        self.type, self.direction, self.period = type, direction, period
        self.magnitude, self.confidence, self.weight = magnitude, confidence, weight
        self._next: dict[Symbol, datetime] = {}

    @property
    def name(self) -> str:
        """LEAN's name for the model, with its arguments: ``ConstantAlphaModel(Price,Up,30.00:00:00,0.1,0.2)``."""
        parts = [self.type.name.capitalize(), self.direction.name.capitalize(), timespan_text(self.period)]
        parts += [number_text(value) for value in (self.magnitude, self.confidence) if value is not None]
        return f"ConstantAlphaModel({','.join(parts)})"

    def update(self, algorithm: Any, data: Any) -> list[Insight]:
        insights = []
        for symbol, security in algorithm.securities.items():
            if security.has_data and algorithm.time >= self._next.get(symbol, datetime.min):
                insights.append(Insight(symbol, self.period, self.type, self.direction, self.magnitude,
                                        self.confidence, self.name, self.weight))
                self._next[symbol] = algorithm.time + self.period
        return insights


class PortfolioConstructionModel(PascalAliases):
    def create_targets(self, algorithm: Any, insights: list[Insight]) -> list[PortfolioTarget]:
        return []


class EqualWeightingPortfolioConstructionModel(PortfolioConstructionModel):
    """An equal share of the portfolio for each symbol with an active up or down insight."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def create_targets(self, algorithm: Any, insights: list[Insight]) -> list[PortfolioTarget]:
        latest: dict[Symbol, Insight] = {}
        for insight in insights:
            latest[insight.symbol] = insight
        active = [i for i in latest.values() if i.direction != InsightDirection.FLAT]
        weight = 1.0 / len(active) if active else 0.0
        targets = [PortfolioTarget.percent(algorithm, i.symbol, int(i.direction) * weight) for i in latest.values()]
        held = {s for s, h in algorithm.portfolio.items() if h.invested}
        targets += [PortfolioTarget(s, 0) for s in held - set(latest)]
        return targets


class ExecutionModel(PascalAliases):
    def execute(self, algorithm: Any, targets: list[PortfolioTarget]) -> None:
        pass


class ImmediateExecutionModel(ExecutionModel):
    """Market orders for the whole difference between each target and the holdings."""

    def execute(self, algorithm: Any, targets: list[PortfolioTarget]) -> None:
        engine = algorithm.engine
        for target in targets:
            symbol = engine.symbol_for(target.symbol)
            open_quantity = sum(o.quantity for o in engine.transactions.get_open_orders(symbol))
            delta = target.quantity - engine.portfolio[symbol].quantity - open_quantity
            price = engine.securities[symbol].price
            threshold = algorithm.settings.minimum_order_margin_portfolio_percentage * engine.portfolio.total_portfolio_value
            if delta and abs(delta * price) >= threshold:
                algorithm.market_order(symbol, delta)


class NullRiskManagementModel(PascalAliases):
    def manage_risk(self, algorithm: Any, targets: list[PortfolioTarget]) -> list[PortfolioTarget]:
        return []


class ManualUniverseSelectionModel(PascalAliases):
    def __init__(self, symbols: list[Any] | Any = ()) -> None:
        self.symbols = list(symbols) if isinstance(symbols, list | tuple) else [symbols]


class UniverseSettings(PascalAliases):
    def __init__(self) -> None:
        self.resolution = Resolution.MINUTE
        self.leverage = 2.0


def percent_target(algorithm: Any, symbol: Any, percent: float) -> PortfolioTarget:
    """PortfolioTarget.percent: the holdings quantity that is ``percent`` of the portfolio."""
    engine = algorithm.engine
    sym = engine.symbol_for(symbol)
    price = engine.securities[sym].price
    if not price:
        return PortfolioTarget(sym, engine.portfolio[sym].quantity)
    value = percent * engine.portfolio.total_portfolio_value * (1 - algorithm.settings.free_portfolio_value_percentage)
    return PortfolioTarget(sym, float(math.trunc(value / price)))
