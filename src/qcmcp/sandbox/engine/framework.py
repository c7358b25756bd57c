"""Algorithm Framework basics: alpha → portfolio construction → execution, with insights.

After each ``on_data`` the engine asks the alpha models for insights, records them, and
when the set of active insights changes asks the portfolio construction model for
targets and the execution model to reach them — LEAN's order of operations.
"""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any

from qcmcp.sandbox.engine.types import DataNormalizationMode, PascalAliases, PortfolioTarget, Resolution, Symbol
from qcmcp.sandbox.engine.types import TradeBar as _TradeBar


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


class InsightScoreType(IntEnum):
    DIRECTION = 0
    MAGNITUDE = 1
    Direction = 0
    Magnitude = 1


class InsightScore(PascalAliases):
    """LEAN's InsightScore: direction and magnitude scores kept within [0, 1], fixed once finalized."""

    def __init__(self, direction: float = 0.0, magnitude: float = 0.0, updated_time_utc: datetime | None = None) -> None:
        self.direction, self.magnitude, self.updated_time_utc = float(direction), float(magnitude), updated_time_utc
        self.is_final_score = False

    def set_score(self, type: Any, value: float, algorithm_utc_time: datetime) -> None:
        if self.is_final_score:
            return
        self.updated_time_utc = algorithm_utc_time
        clamped = max(0.0, min(1.0, float(value)))
        if int(type) == InsightScoreType.DIRECTION:
            self.direction = clamped
        elif int(type) == InsightScoreType.MAGNITUDE:
            self.magnitude = clamped
        else:
            raise ValueError(f"InsightScoreType out of range: {type}")

    def finalize(self, algorithm_utc_time: datetime) -> None:
        self.is_final_score, self.updated_time_utc = True, algorithm_utc_time

    def get_score(self, type: Any) -> float:
        return self.direction if int(type) == InsightScoreType.DIRECTION else self.magnitude

    def __repr__(self) -> str:
        return f"Direction: {round(self.direction, 4)} Magnitude: {round(self.magnitude, 4)}"


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
        self.requested_close_time: datetime | None = None
        self.score = InsightScore()
        self.estimated_value = 0.0
        self.group_id: str | None = None

    @staticmethod
    def price(symbol: Any, period: Any, *rest: Any, **named: Any) -> Insight:
        """LEAN's overloads: price(symbol, timedelta, direction, ...), price(symbol, resolution, bar_count,
        direction, ...), price(symbol, close_time: datetime, direction, ...)."""
        values = list(rest)
        close_time = None
        bars = None
        if isinstance(period, str) and values and isinstance(values[0], int) and not isinstance(values[0], InsightDirection):
            count = values.pop(0)
            bars = (period, count)  # the engine counts market bars from the generation time, as LEAN does
            span = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "second": timedelta(seconds=1)}
            period = span.get(period, timedelta(days=1)) * count
        elif isinstance(period, datetime):
            close_time, period = period, None
        elif not isinstance(period, timedelta):
            period = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}.get(str(period), timedelta(days=1))
        direction = values.pop(0) if values else named.pop("direction")
        names = ("magnitude", "confidence", "source_model", "weight", "tag")
        options = dict(zip(names, values, strict=False))
        options.update({k: v for k, v in named.items() if k in names})
        insight = Insight(symbol, period or timedelta(0), InsightType.PRICE, InsightDirection(int(direction)),
                          options.get("magnitude"), options.get("confidence"), options.get("source_model"),
                          options.get("weight"), options.get("tag", ""))
        insight.requested_close_time = close_time
        insight.bar_spec = bars
        return insight

    Price = price

    @staticmethod
    def group(*insights: Any) -> list[Insight]:
        """LEAN's Insight.Group: one new group id set on each insight (one already grouped is an error)."""
        items = list(insights[0]) if len(insights) == 1 and isinstance(insights[0], list | tuple) else list(insights)
        group_id = uuid.uuid4().hex
        for insight in items:
            if getattr(insight, "group_id", None) is not None:
                raise ValueError(f"Unable to set group id on insight {insight} because it has already been assigned "
                                 "to a group.")
            insight.group_id = group_id
        return items

    Group = group

    def is_active(self, now: datetime) -> bool:
        """LEAN's: active until its close time has passed (still active at the close time itself)."""
        return self.close_time_utc is not None and now <= self.close_time_utc

    def is_expired(self, now: datetime) -> bool:
        return not self.is_active(now)

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


class GeneratedInsightsCollection(PascalAliases):
    """What an ``insights_generated`` handler receives: the time and the insights of one step."""

    def __init__(self, date_time_utc: datetime, insights: list[Any]) -> None:
        self.date_time_utc, self.insights = date_time_utc, insights


class SecurityChanges(PascalAliases):
    """What on_securities_changed receives: the securities added and removed."""

    def __init__(self, added: list[Any] | None = None, removed: list[Any] | None = None) -> None:
        self.added_securities = list(added or [])
        self.removed_securities = list(removed or [])

    count = property(lambda self: len(self.added_securities) + len(self.removed_securities))

    def __repr__(self) -> str:
        return (f"SecurityChanges: Added: {', '.join(str(s.symbol) for s in self.added_securities)} "
                f"Removed: {', '.join(str(s.symbol) for s in self.removed_securities)}")


SecurityChanges.NONE = SecurityChanges()  # type: ignore[attr-defined]
SecurityChanges.None_ = SecurityChanges.NONE  # type: ignore[attr-defined]


class AlphaModel(PascalAliases):
    @property
    def name(self) -> str:
        """LEAN's Name: the class name unless set (``self.name = ...``, as LEAN's models do)."""
        return self.__dict__.get("_name") or type(self).__name__

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

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
        tracked = getattr(self, "_securities", None)
        securities = tracked if tracked is not None else list(algorithm.securities.values())
        for security in securities:
            symbol = security.symbol
            if security.price and algorithm.time >= self._next.get(symbol, datetime.min):
                insights.append(Insight(symbol, self.period, self.type, self.direction, self.magnitude,
                                        self.confidence, self.name, self.weight))
                self._next[symbol] = algorithm.time + self.period
        return insights

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        """LEAN's: the securities it emits for follow the universe; a removed one forgets its last insight."""
        tracked = getattr(self, "_securities", None)
        if tracked is None:
            tracked = self._securities = []
        for security in changes.added_securities:
            if security not in tracked:
                tracked.append(security)
        for security in changes.removed_securities:
            if security in tracked:
                tracked.remove(security)
            getattr(self, "_next", {}).pop(security.symbol, None)


_SPANS = {"daily": timedelta(days=1), "hour": timedelta(hours=1), "minute": timedelta(minutes=1),
          "second": timedelta(seconds=1)}


def _span(resolution: Any) -> timedelta:
    return _SPANS.get(str(resolution).lower(), timedelta(days=1))


class _IndicatorAlpha(AlphaModel):
    """Shared plumbing of LEAN's indicator alpha models: per-symbol state made when securities are added,
    indicators fed through ``resolve_consolidator`` at the model's resolution and warmed up from history."""

    warm_through_consolidator = False
    warm_up_bars = 0

    def __init__(self, resolution: Any) -> None:
        self.resolution = resolution
        self.by_symbol: dict[Any, dict[str, Any]] = {}

    def _indicators(self) -> dict[str, Any]:
        raise NotImplementedError

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        for security in changes.removed_securities:
            state = self.by_symbol.pop(security.symbol, None)
            if state is not None:
                algorithm.subscription_manager.remove_consolidator(security.symbol, state["consolidator"])
        for security in changes.added_securities:
            if security.symbol in self.by_symbol:
                continue
            state = self._indicators()
            consolidator = algorithm.resolve_consolidator(security.symbol, self.resolution)
            for name, indicator in list(state.items()):
                if hasattr(indicator, "update") and hasattr(indicator, "warm_up_period"):
                    algorithm.register_indicator(security.symbol, indicator, consolidator)
                    if not self.warm_through_consolidator:
                        algorithm.warm_up_indicator(security.symbol, indicator, self.resolution)
            if self.warm_through_consolidator:  # LEAN's RsiAlphaModel: `period` history bars into the consolidator
                for bar in algorithm.history[_TradeBar](security.symbol, self.warm_up_bars, self.resolution):
                    consolidator.update(bar.end_time, bar)
            state.update(consolidator=consolidator, security=security)
            self.by_symbol[security.symbol] = state


class RsiAlphaModel(_IndicatorAlpha):
    """LEAN's: RSI(period, Wilders) per security; up when it falls below 30 (oversold), down above 70, the state
    reset past 35 / 65; insights last resolution x period."""

    warm_through_consolidator = True

    def __init__(self, period: int = 14, resolution: Any = "daily") -> None:
        super().__init__(resolution)
        self.period = self.warm_up_bars = period
        self.insight_period = _span(resolution) * period
        self._name = f"RsiAlphaModel({period},{str(resolution).title()})"

    @property
    def name(self) -> str:
        return self._name

    def _indicators(self) -> dict[str, Any]:
        from qcmcp.sandbox.engine.indicators import MovingAverageType, RelativeStrengthIndex

        return {"rsi": RelativeStrengthIndex(self.period, MovingAverageType.WILDERS), "state": "middle"}

    def update(self, algorithm: Any, data: Any) -> list[Insight]:
        insights = []
        for symbol, state in self.by_symbol.items():
            rsi, previous = state["rsi"], state["state"]
            value = rsi.current.value
            current = "high" if value > 70 else "low" if value < 30 else \
                "middle" if (previous == "low" and value > 35) or (previous == "high" and value < 65) else previous
            if current != previous and rsi.is_ready:
                if current == "low":
                    insights.append(Insight.price(symbol, self.insight_period, InsightDirection.UP))
                if current == "high":
                    insights.append(Insight.price(symbol, self.insight_period, InsightDirection.DOWN))
            state["state"] = current
        return insights


class EmaCrossAlphaModel(_IndicatorAlpha):
    """LEAN's: up when the fast EMA crosses above the slow one, down when below; insights last resolution x
    the fast period."""

    def __init__(self, fast_period: int = 12, slow_period: int = 26, resolution: Any = "daily") -> None:
        super().__init__(resolution)
        self.fast_period, self.slow_period = fast_period, slow_period
        self.prediction_interval = _span(resolution) * fast_period
        self._name = f"EmaCrossAlphaModel({fast_period},{slow_period},{str(resolution).title()})"

    @property
    def name(self) -> str:
        return self._name

    def _indicators(self) -> dict[str, Any]:
        from qcmcp.sandbox.engine.indicators import ExponentialMovingAverage

        return {"fast": ExponentialMovingAverage(self.fast_period), "slow": ExponentialMovingAverage(self.slow_period),
                "fast_over_slow": False}

    def update(self, algorithm: Any, data: Any) -> list[Insight]:
        insights = []
        for symbol, state in self.by_symbol.items():
            fast, slow = state["fast"], state["slow"]
            if fast.is_ready and slow.is_ready:
                if state["fast_over_slow"] and slow > fast:
                    insights.append(Insight.price(symbol, self.prediction_interval, InsightDirection.DOWN))
                elif not state["fast_over_slow"] and fast > slow:
                    insights.append(Insight.price(symbol, self.prediction_interval, InsightDirection.UP))
            state["fast_over_slow"] = fast > slow
        return insights


class MacdAlphaModel(_IndicatorAlpha):
    """LEAN's: the MACD signal over the price beyond ±1 % gives up/down, else flat (cancelling the symbol's
    insights); a new insight when the direction changes; insights last resolution x the fast period."""

    def __init__(self, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9,
                 moving_average_type: Any = None, resolution: Any = "daily") -> None:
        super().__init__(resolution)
        self.periods = (fast_period, slow_period, signal_period)
        self.moving_average_type = moving_average_type
        self.insight_period = _span(resolution) * fast_period
        self.bounce_threshold_percent = 0.01

    def _indicators(self) -> dict[str, Any]:
        from qcmcp.sandbox.engine.indicators import MovingAverageConvergenceDivergence

        return {"macd": MovingAverageConvergenceDivergence(*self.periods, self.moving_average_type), "previous": None}

    def update(self, algorithm: Any, data: Any) -> list[Insight]:
        insights = []
        for symbol, state in self.by_symbol.items():
            price = state["security"].price
            if not price:
                continue
            signal = state["macd"].signal.current.value / price
            direction = InsightDirection.UP if signal > self.bounce_threshold_percent else \
                InsightDirection.DOWN if signal < -self.bounce_threshold_percent else InsightDirection.FLAT
            if direction == state["previous"]:
                continue
            state["previous"] = direction
            if direction == InsightDirection.FLAT:
                algorithm.insights.cancel([symbol])
                continue
            insights.append(Insight.price(symbol, self.insight_period, direction))
        return insights


class InsightCollection(PascalAliases):
    """LEAN's InsightCollection: insights by symbol."""

    def __init__(self) -> None:
        self._by_symbol: dict[Any, list[Insight]] = {}

    def add(self, insight: Insight) -> None:
        self._by_symbol.setdefault(insight.symbol, []).append(insight)

    def add_range(self, insights: Any) -> None:
        for insight in insights:
            self.add(insight)

    def contains_key(self, symbol: Any) -> bool:
        return bool(self._by_symbol.get(symbol))

    def __getitem__(self, symbol: Any) -> list[Insight]:
        return list(self._by_symbol.get(symbol, []))

    def clear(self, symbols: Any = None) -> None:
        for symbol in (list(self._by_symbol) if symbols is None else symbols):
            self._by_symbol.pop(symbol, None)

    def get_insights(self, predicate: Any = None) -> list[Insight]:
        return [i for items in self._by_symbol.values() for i in items if predicate is None or predicate(i)]

    def __len__(self) -> int:
        return sum(len(items) for items in self._by_symbol.values())

    count = property(__len__)


class HistoricalReturnsAlphaModel(AlphaModel):
    """LEAN's: the ``lookback``-bar rate of change of each security (``resolution`` bars, warmed up from
    history): up when positive, down when negative — insights of resolution x lookback with the return as
    magnitude —, the symbol's insights canceled when flat; a new one each time the indicator updates."""

    def __init__(self, lookback: int = 1, resolution: Any = "daily") -> None:
        self.lookback, self.resolution = int(lookback), resolution
        self.prediction_interval = _span(resolution) * self.lookback
        self.by_symbol: dict[Any, dict[str, Any]] = {}
        self.insight_collection = InsightCollection()

    def update(self, algorithm: Any, data: Any) -> list[Insight]:
        insights = []
        for symbol, state in self.by_symbol.items():
            roc = state["roc"]
            if state["previous"] == roc.samples:
                continue
            state["previous"] = roc.samples
            if not roc.is_ready:
                continue
            magnitude = roc.current.value
            if magnitude == 0:
                self._cancel(algorithm, symbol)
                continue
            direction = InsightDirection.UP if magnitude > 0 else InsightDirection.DOWN
            insights.append(Insight.price(symbol, self.prediction_interval, direction, magnitude, None))
        self.insight_collection.add_range(insights)
        return insights

    def _cancel(self, algorithm: Any, symbol: Any) -> None:
        if self.insight_collection.contains_key(symbol):
            algorithm.insights.cancel(self.insight_collection[symbol])
            self.insight_collection.clear([symbol])

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        from qcmcp.sandbox.engine.indicators import RateOfChange

        for security in changes.removed_securities:
            state = self.by_symbol.pop(security.symbol, None)
            if state is not None:
                algorithm.subscription_manager.remove_consolidator(security.symbol, state["consolidator"])
            self._cancel(algorithm, security.symbol)
        for security in changes.added_securities:
            if security.symbol in self.by_symbol:
                continue
            history = algorithm.history[_TradeBar](security.symbol, self.lookback, self.resolution)
            if not history:
                continue
            roc = RateOfChange(self.lookback)
            consolidator = algorithm.resolve_consolidator(security.symbol, self.resolution)
            algorithm.register_indicator(security.symbol, roc, consolidator)
            for bar in history:
                roc.update(bar.end_time, bar.close)
            self.by_symbol[security.symbol] = {"roc": roc, "consolidator": consolidator, "previous": 0}


class CompositeAlphaModel(AlphaModel):
    """Several alpha models as one: every model's insights."""

    def __init__(self, *models: Any) -> None:
        self.models = [m for item in models for m in (item if isinstance(item, list | tuple) else [item])]

    def update(self, algorithm: Any, data: Any) -> list[Insight]:
        insights = []
        for model in self.models:
            produced = model.update(algorithm, data) or []
            for insight in produced:
                insight.source_model = insight.source_model or getattr(model, "name", type(model).__name__)
            insights.extend(produced)
        return insights

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        for model in self.models:
            handler = getattr(model, "on_securities_changed", None)
            if handler is not None:
                handler(algorithm, changes)

    def add_alpha(self, model: Any) -> None:
        self.models.append(model)


class PortfolioBias(IntEnum):
    SHORT = -1
    LONG_SHORT = 0
    LONG = 1
    Short = -1
    LongShort = 0
    Long = 1


def _rebalancing(rebalance: Any) -> Any:
    """LEAN's rebalancing function from a Resolution, a timedelta or a function of time (None: every call)."""
    if rebalance is None:
        return None
    if isinstance(rebalance, timedelta):
        return lambda moment: moment + rebalance
    if isinstance(rebalance, str):
        span = {"daily": timedelta(days=1), "hour": timedelta(hours=1), "minute": timedelta(minutes=1),
                "second": timedelta(seconds=1)}.get(rebalance.lower(), timedelta(days=1))
        return lambda moment: moment + span
    if getattr(rebalance, "is_date_rule", False):
        return _date_rule_function(rebalance)
    if callable(rebalance):
        return rebalance
    return None


def _date_rule_function(rule: Any) -> Any:
    """LEAN's IDateRule.ToFunc: the rule's next date (midnight, compared with the UTC time as LEAN does)
    once the current one is reached."""
    state: dict[str, Any] = {}

    def next_date(after: date) -> date:
        day = after
        for _ in range(3700):
            if rule(day):
                return day
            day += timedelta(days=1)
        return date.max

    def function(now: datetime) -> datetime:
        if "current" not in state:
            state["current"] = next_date(now.date())
        if state["current"] != date.max and now >= datetime.combine(state["current"], datetime.min.time()):
            state["current"] = next_date(state["current"] + timedelta(days=1))
        if state["current"] == date.max:
            return datetime.max
        return datetime.combine(state["current"], datetime.min.time())

    return function


class PortfolioConstructionModel(PascalAliases):
    """LEAN's PortfolioConstructionModel: rebalances when the rebalancing time comes, when insights arrive or
    expire (``rebalance_on_insight_changes``); targets from ``determine_target_percent`` over the latest active
    insight per symbol, whichever model made it (GetTargetInsights); flat targets for symbols whose insights all
    expired."""

    def __init__(self, rebalance: Any = None, *_: Any, **__: Any) -> None:
        self._rebalancing_func = _rebalancing(rebalance)
        self._rebalancing_time: datetime | None = None
        self.rebalance_on_insight_changes = True
        self.rebalance_on_security_changes = True
        self._security_changes = False

    def _state(self) -> None:
        if not hasattr(self, "_rebalancing_time"):  # a subclass that did not call our __init__
            PortfolioConstructionModel.__init__(self)

    def set_rebalancing_func(self, rebalance: Any) -> None:
        self._state()
        self._rebalancing_func = _rebalancing(rebalance)

    def is_rebalance_due(self, insights: list[Insight], now: datetime, algorithm: Any) -> bool:
        """LEAN's IsRebalanceDue: the rebalancing function sees and returns UTC times, as in LEAN."""
        self._state()
        if self._rebalancing_func is None:
            return True
        expiry = algorithm.insights.get_next_expiry_time()
        utc = algorithm.utc_time
        if self._rebalancing_time is None:
            self._rebalancing_time = self._rebalancing_func(utc)
            if self._rebalancing_time is not None and self._rebalancing_time <= utc:
                self._rebalancing_time = None  # LEAN asks the function again on the next call
                self._security_changes = False
                return True
        if (self._rebalancing_time is not None and self._rebalancing_time <= utc) or \
                (self.rebalance_on_security_changes and self._security_changes) or \
                (self.rebalance_on_insight_changes and (insights or (expiry is not None and expiry < now))):
            self._refresh(utc)
            return True
        return False

    def _refresh(self, now: datetime) -> None:
        self._rebalancing_time = self._rebalancing_func(now) if self._rebalancing_func is not None else None
        self._security_changes = False

    def get_target_insights(self, algorithm: Any) -> list[Insight]:
        """LEAN's: the active insights worth a target, grouped by symbol, the last generated of each (on a tie the
        last emitted)."""
        latest: dict[Any, Insight] = {}
        for insight in algorithm.insights.get_active_insights(algorithm.time):
            if not self.should_create_target_for_insight(insight):
                continue
            key = insight.symbol
            if key not in latest or insight.generated_time_utc >= latest[key].generated_time_utc:
                latest[key] = insight
        return list(latest.values())

    def should_create_target_for_insight(self, insight: Insight) -> bool:
        return True

    def determine_target_percent(self, active_insights: list[Insight]) -> dict[Insight, float]:
        return {}

    def create_targets(self, algorithm: Any, insights: list[Insight]) -> list[PortfolioTarget]:
        self.algorithm = algorithm  # LEAN's Algorithm property, which models read
        if not self.is_rebalance_due(insights, algorithm.time, algorithm):
            return []
        active = self.get_target_insights(algorithm)  # already filtered by should_create_target_for_insight
        percents = self.determine_target_percent(active)
        targets = [PortfolioTarget.percent(algorithm, insight.symbol, percent) for insight, percent in percents.items()]
        expired = algorithm.insights.remove_expired_insights(algorithm.time)
        still = {algorithm.engine.symbol_for(i.symbol) for i in algorithm.insights.get_active_insights(algorithm.time)}
        flat = {algorithm.engine.symbol_for(i.symbol) for i in expired} - still
        targets += [PortfolioTarget(symbol, 0) for symbol in flat]
        return targets

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        """LEAN's: a rebalance is due, and the insights of removed securities expire now."""
        self._state()
        if getattr(self, "algorithm", None) is None:
            self.algorithm = algorithm
        self._security_changes = True
        removed = [security.symbol for security in changes.removed_securities]
        if removed:
            algorithm.insights.expire(removed)


class NullPortfolioConstructionModel(PortfolioConstructionModel):
    def create_targets(self, algorithm: Any, insights: list[Insight]) -> list[PortfolioTarget]:
        return []


def _respects(bias: int, insight: Insight) -> bool:
    return bias == PortfolioBias.LONG_SHORT or int(insight.direction) == int(bias)


class EqualWeightingPortfolioConstructionModel(PortfolioConstructionModel):
    """An equal share for each active insight that is not flat (and respects the portfolio bias);
    rebalanced daily by default, as LEAN's."""

    def __init__(self, rebalance: Any = "daily", portfolio_bias: int = PortfolioBias.LONG_SHORT) -> None:
        super().__init__(rebalance)
        self.portfolio_bias = int(portfolio_bias)

    def determine_target_percent(self, active_insights: list[Insight]) -> dict[Insight, float]:
        count = sum(1 for i in active_insights if i.direction != InsightDirection.FLAT and _respects(self.portfolio_bias, i))
        share = 1.0 / count if count else 0.0
        return {i: int(i.direction) * share if _respects(self.portfolio_bias, i) else 0.0 for i in active_insights}


class InsightWeightingPortfolioConstructionModel(EqualWeightingPortfolioConstructionModel):
    """Each insight's weight (scaled down so the weights add up to at most 1); insights without one are skipped."""

    def _value(self, insight: Insight) -> float:
        return float(insight.weight or 0.0)

    def should_create_target_for_insight(self, insight: Insight) -> bool:
        return insight.weight is not None

    def determine_target_percent(self, active_insights: list[Insight]) -> dict[Insight, float]:
        total = sum(self._value(i) for i in active_insights if self.should_create_target_for_insight(i))
        factor = 1.0 / total if total > 1 else 1.0
        return {i: int(i.direction) * self._value(i) * factor if _respects(self.portfolio_bias, i) else 0.0
                for i in active_insights}


class ConfidenceWeightedPortfolioConstructionModel(InsightWeightingPortfolioConstructionModel):
    """As insight weighting, by each insight's confidence."""

    def _value(self, insight: Insight) -> float:
        return float(insight.confidence or 0.0)

    def should_create_target_for_insight(self, insight: Insight) -> bool:
        return insight.confidence is not None


class AccumulativeInsightPortfolioConstructionModel(PortfolioConstructionModel):
    """LEAN's: every active insight moves its symbol's target by ``percent`` (3 %) in its direction, a flat one
    back towards 0, oldest first; rebalanced on every call unless a rebalancing rule is given."""

    def __init__(self, rebalance: Any = None, portfolio_bias: int = PortfolioBias.LONG_SHORT,
                 percent: float = 0.03) -> None:
        super().__init__(rebalance)
        self.portfolio_bias, self.percent = int(portfolio_bias), abs(float(percent))

    def get_target_insights(self, algorithm: Any) -> list[Insight]:
        active = [i for i in algorithm.insights.get_active_insights(algorithm.time)
                  if self.should_create_target_for_insight(i)]
        return sorted(active, key=lambda insight: insight.generated_time_utc)

    def determine_target_percent(self, active_insights: list[Insight]) -> dict[Insight, float]:
        per_symbol: dict[Any, float] = {}
        for insight in active_insights:
            target = per_symbol.get(insight.symbol)
            if target is not None and insight.direction == InsightDirection.FLAT:
                target = 0.0 if abs(target) < self.percent else target + (-self.percent if target > 0 else
                                                                          self.percent)
            target = (target or 0.0) + self.percent * int(insight.direction)
            if self.portfolio_bias != PortfolioBias.LONG_SHORT and (target > 0) - (target < 0) != self.portfolio_bias:
                target = 0.0
            per_symbol[insight.symbol] = target
        first: dict[Any, Insight] = {}
        for insight in active_insights:
            first.setdefault(insight.symbol, insight)
        return {insight: per_symbol[symbol] for symbol, insight in first.items()}


class ExecutionModel(PascalAliases):
    asynchronous = True  # LEAN's default: market orders submitted without waiting for their fill

    def __init__(self, asynchronous: bool = True) -> None:
        self.asynchronous = bool(asynchronous)

    def execute(self, algorithm: Any, targets: list[PortfolioTarget]) -> None:
        pass

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        pass

    def on_order_event(self, algorithm: Any, order_event: Any) -> None:
        """LEAN's: each order event reaches the execution model first, then the algorithm."""


class NullExecutionModel(ExecutionModel):
    pass


class ImmediateExecutionModel(ExecutionModel):
    """LEAN's: keeps the targets until reached; each step, in margin-impact order, a market order for what is not
    held or ordered yet, when its margin is above the minimum."""

    def __init__(self, *_: Any) -> None:
        self.targets: dict[Any, PortfolioTarget] = {}

    def execute(self, algorithm: Any, targets: list[PortfolioTarget]) -> None:
        engine = algorithm.engine
        if not hasattr(self, "targets"):
            self.targets = {}
        for target in targets:
            self.targets[engine.symbol_for(target.symbol)] = target
        if not self.targets:
            return
        deltas = []
        for symbol, target in self.targets.items():
            open_quantity = sum(o.quantity - o.filled_quantity for o in engine.transactions.get_open_orders(symbol))
            deltas.append((symbol, target.quantity - engine.portfolio[symbol].quantity - open_quantity))
        threshold = algorithm.settings.minimum_order_margin_portfolio_percentage * engine.portfolio.total_portfolio_value
        for symbol, delta in engine.by_margin_impact(deltas):
            security = engine.securities[symbol]
            if delta and abs(delta * security.price) / security.leverage >= threshold:
                algorithm.market_order(symbol, delta, tag=getattr(self.targets[symbol], "tag", "") or "")
        self.targets = {symbol: target for symbol, target in self.targets.items()
                        if engine.portfolio[symbol].quantity != target.quantity}


class SpreadExecutionModel(ExecutionModel):
    """LEAN's: keeps the targets until reached; orders what is not held or ordered yet (by margin impact) only
    while the exchange is open and the spread is at most ``accepting_spread_percent`` of the price;
    asynchronous market orders by default."""

    def __init__(self, accepting_spread_percent: float = 0.005, asynchronous: bool = True) -> None:
        self.accepting_spread_percent = abs(float(accepting_spread_percent))
        self.asynchronous = bool(asynchronous)
        self.targets: dict[Any, PortfolioTarget] = {}

    def spread_is_favorable(self, algorithm: Any, security: Any) -> bool:
        bid, ask, price = security.bid_price, security.ask_price, security.price
        return bool(algorithm.engine.exchange_open(security, algorithm.time) and price > 0 and ask > 0 and bid > 0
                    and (ask - bid) / price <= self.accepting_spread_percent)

    def execute(self, algorithm: Any, targets: list[PortfolioTarget]) -> None:
        engine = algorithm.engine
        for target in targets:
            self.targets[engine.symbol_for(target.symbol)] = target
        if not self.targets:
            return
        deltas = []
        for symbol, target in self.targets.items():
            open_quantity = sum(o.quantity - o.filled_quantity for o in engine.transactions.get_open_orders(symbol))
            deltas.append((symbol, target.quantity - engine.portfolio[symbol].quantity - open_quantity))
        for symbol, delta in engine.by_margin_impact(deltas):
            security = engine.securities[symbol]
            if delta and self.spread_is_favorable(algorithm, security):
                algorithm.market_order(symbol, delta, self.asynchronous, getattr(self.targets[symbol], "tag", "") or "")
        self.targets = {symbol: target for symbol, target in self.targets.items()
                        if engine.portfolio[symbol].quantity != target.quantity}


def _unordered_by_margin_impact(engine: Any, kept: dict[Any, PortfolioTarget],
                                targets: list[PortfolioTarget]) -> list[tuple[Any, float]]:
    """An execution model's first step (LEAN's PortfolioTargetCollection.AddRange, OrderByMarginImpact): the new
    targets over the kept ones, then each kept target's unordered quantity, largest margin impact first."""
    for target in targets:
        kept[engine.symbol_for(target.symbol)] = target
    if not kept:
        return []
    return engine.by_margin_impact([(symbol, _unordered_quantity(engine, target)) for symbol, target in kept.items()])


def _unordered_quantity(engine: Any, target: Any) -> float:
    """LEAN's OrderSizing.GetUnorderedQuantity: the target less holdings and open orders, to the lot size."""
    symbol = engine.symbol_for(target.symbol)
    open_quantity = sum(o.quantity - o.filled_quantity for o in engine.transactions.get_open_orders(symbol))
    return _to_lot(engine.securities[symbol], target.quantity - engine.portfolio[symbol].quantity - open_quantity)


def _to_lot(security: Any, quantity: float) -> float:
    """LEAN's OrderSizing.AdjustByLotSize: towards zero, to a whole number of lots."""
    lot = 1e-8 if security.hours.kind == "crypto" else 1.0
    whole = math.floor(abs(quantity) / lot + 1e-9) * lot
    return math.copysign(whole, quantity) if whole else 0.0


class StandardDeviationExecutionModel(ExecutionModel):
    """LEAN's: orders (at most ``maximum_order_value`` each, asynchronous by default) only when the bid is more
    than ``deviations`` standard deviations below the ``period`` SMA (to buy) or the ask as far above it (to
    sell), the SMA and deviation of ``resolution`` closes, warmed up from history."""

    def __init__(self, period: int = 60, deviations: float = 2, resolution: Any = "minute",
                 asynchronous: bool = True) -> None:
        self.period, self.deviations, self.resolution = int(period), float(deviations), resolution
        self.asynchronous = bool(asynchronous)
        self.maximum_order_value = 20000.0
        self.targets: dict[Any, PortfolioTarget] = {}
        self.symbol_data: dict[Any, dict[str, Any]] = {}

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        from qcmcp.sandbox.engine.indicators import SimpleMovingAverage, StandardDeviation

        for security in changes.added_securities:
            if security.symbol in self.symbol_data:
                continue
            consolidator = algorithm.resolve_consolidator(security.symbol, self.resolution)
            sma, std = SimpleMovingAverage(self.period), StandardDeviation(self.period)
            algorithm.register_indicator(security.symbol, sma, consolidator)
            algorithm.register_indicator(security.symbol, std, consolidator)
            for bar in algorithm.history[_TradeBar](security.symbol, self.period, self.resolution):
                sma.update(bar.end_time, bar.close)
                std.update(bar.end_time, bar.close)
            self.symbol_data[security.symbol] = {"security": security, "sma": sma, "std": std,
                                                 "consolidator": consolidator}
        for security in changes.removed_securities:
            data = self.symbol_data.pop(security.symbol, None)
            if data is not None:
                algorithm.subscription_manager.remove_consolidator(security.symbol, data["consolidator"])

    def _favorable(self, data: dict[str, Any], quantity: float) -> bool:
        sma, deviations = data["sma"].current.value, self.deviations * data["std"].current.value
        security = data["security"]
        return security.bid_price < sma - deviations if quantity > 0 else security.ask_price > sma + deviations

    def execute(self, algorithm: Any, targets: list[PortfolioTarget]) -> None:
        engine = algorithm.engine
        for symbol, quantity in _unordered_by_margin_impact(engine, self.targets, targets):
            data = self.symbol_data.get(symbol)
            if data is None or not data["std"].is_ready or not self._favorable(data, quantity):
                continue
            price = data["security"].price
            if not price:
                continue
            size = _to_lot(data["security"], math.copysign(min(abs(self.maximum_order_value / price), abs(quantity)),
                                                           quantity))
            if size:
                algorithm.market_order(symbol, size, self.asynchronous, getattr(self.targets[symbol], "tag", "") or "")
        self.targets = {symbol: target for symbol, target in self.targets.items()
                        if engine.portfolio[symbol].quantity != target.quantity}


class _IntradayVwap:
    """LEAN's Python IntradayVwap: the day's sum of typical price x volume over volume, reset each day."""

    def __init__(self) -> None:
        self.value, self.last_date = 0.0, None
        self.sum_of_volume = self.sum_of_price_times_volume = 0.0

    def feed_bar(self, bar: Any) -> None:
        if self.last_date != bar.end_time.date():
            self.sum_of_volume = self.sum_of_price_times_volume = 0.0
            self.last_date = bar.end_time.date()
        self.sum_of_volume += float(bar.volume)
        self.sum_of_price_times_volume += (bar.high + bar.low + bar.close) / 3 * float(bar.volume)
        self.value = bar.close if self.sum_of_volume == 0 else self.sum_of_price_times_volume / self.sum_of_volume

    def update(self, time: Any, bar: Any = None) -> None:
        self.feed_bar(bar if bar is not None else time)


class VolumeWeightedAveragePriceExecutionModel(ExecutionModel):
    """LEAN's: orders at most 1 % of the bar's volume at a time (asynchronous by default), buying while the
    bid is below the intraday VWAP and selling while the ask is above it."""

    def __init__(self, asynchronous: bool = True) -> None:
        self.asynchronous = bool(asynchronous)
        self.maximum_order_quantity_percent_volume = 0.01
        self.targets: dict[Any, PortfolioTarget] = {}
        self.symbol_data: dict[Any, dict[str, Any]] = {}

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        for security in changes.removed_securities:
            data = self.symbol_data.pop(security.symbol, None)
            if data is not None:
                algorithm.subscription_manager.remove_consolidator(security.symbol, data["consolidator"])
        for security in changes.added_securities:
            if security.symbol in self.symbol_data:
                continue
            consolidator = algorithm.resolve_consolidator(security.symbol, security.resolution)
            vwap = _IntradayVwap()
            consolidator.data_consolidated += lambda _, bar, vwap=vwap: vwap.feed_bar(bar)
            algorithm.subscription_manager.add_consolidator(security.symbol, consolidator)
            self.symbol_data[security.symbol] = {"security": security, "vwap": vwap, "consolidator": consolidator}

    def execute(self, algorithm: Any, targets: list[PortfolioTarget]) -> None:
        engine = algorithm.engine
        for symbol, quantity in _unordered_by_margin_impact(engine, self.targets, targets):
            data = self.symbol_data.get(symbol)
            if data is None:
                return  # as LEAN's: the targets stay
            security, vwap = data["security"], data["vwap"].value
            favorable = security.bid_price < vwap if quantity > 0 else security.ask_price > vwap
            if not favorable:
                continue
            size = min(self.maximum_order_quantity_percent_volume * security.volume, abs(quantity))
            size = math.copysign(_to_lot(security, size), quantity) if size else 0.0
            if size:
                algorithm.market_order(symbol, size, self.asynchronous, getattr(self.targets[symbol], "tag", "") or "")
        self.targets = {symbol: target for symbol, target in self.targets.items()
                        if engine.portfolio[symbol].quantity != target.quantity}


class RiskManagementModel(PascalAliases):
    """Base of risk models: ``manage_risk(algorithm, targets)`` returns targets that override the others."""

    def manage_risk(self, algorithm: Any, targets: list[PortfolioTarget]) -> list[PortfolioTarget]:
        return []

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        pass


class NullRiskManagementModel(RiskManagementModel):
    pass


def _flatten(algorithm: Any, symbol: Any) -> PortfolioTarget:
    algorithm.insights.cancel([symbol])
    return PortfolioTarget(symbol, 0)


class MaximumDrawdownPercentPerSecurity(RiskManagementModel):
    """Liquidate a holding whose unrealised loss (LEAN's: after the closing fee, at the bid or ask) passes the
    limit, and cancel its insights."""

    def __init__(self, maximum_drawdown_percent: float = 0.05) -> None:
        self.maximum_drawdown_percent = -abs(maximum_drawdown_percent)

    def manage_risk(self, algorithm: Any, targets: list[PortfolioTarget]) -> list[PortfolioTarget]:
        return [_flatten(algorithm, symbol) for symbol, security in algorithm.securities.items()
                if security.invested and security.holdings.unrealized_profit_percent < self.maximum_drawdown_percent]


class MaximumUnrealizedProfitPercentPerSecurity(RiskManagementModel):
    """Take profit: liquidate a holding whose unrealised gain passes the limit."""

    def __init__(self, maximum_unrealized_profit_percent: float = 0.05) -> None:
        self.maximum_unrealized_profit_percent = abs(maximum_unrealized_profit_percent)

    def manage_risk(self, algorithm: Any, targets: list[PortfolioTarget]) -> list[PortfolioTarget]:
        return [_flatten(algorithm, symbol) for symbol, security in algorithm.securities.items()
                if security.invested and
                security.holdings.unrealized_profit_percent > self.maximum_unrealized_profit_percent]


class MaximumDrawdownPercentPortfolio(RiskManagementModel):
    """Flatten every target when the portfolio falls the limit below its start (or its high, trailing)."""

    def __init__(self, maximum_drawdown_percent: float = 0.05, is_trailing: bool = False) -> None:
        self.maximum_drawdown_percent = -abs(maximum_drawdown_percent)
        self.is_trailing = is_trailing
        self.high: float | None = None

    def manage_risk(self, algorithm: Any, targets: list[PortfolioTarget]) -> list[PortfolioTarget]:
        value = algorithm.portfolio.total_portfolio_value
        if self.high is None:
            self.high = value
        if self.is_trailing and value > self.high:
            self.high = value
            return []
        if self.high and value / self.high - 1 < self.maximum_drawdown_percent and targets:
            self.high = None  # start again from the next value
            return [_flatten(algorithm, target.symbol) for target in targets]
        return []


class TrailingStopRiskManagementModel(RiskManagementModel):
    """Liquidate a holding whose value fell the limit below the best value it had since it was opened."""

    def __init__(self, maximum_drawdown_percent: float = 0.05) -> None:
        self.maximum_drawdown_percent = abs(maximum_drawdown_percent)
        self.best: dict[Any, tuple[bool, float]] = {}

    def manage_risk(self, algorithm: Any, targets: list[PortfolioTarget]) -> list[PortfolioTarget]:
        flatten = []
        for symbol, security in algorithm.securities.items():
            holding = security.holdings
            if not security.invested:
                self.best.pop(symbol, None)
                continue
            long, value = holding.is_long, holding.absolute_holdings_value
            state = self.best.get(symbol)
            if state is None or state[0] != long:
                state = self.best[symbol] = (long, abs(holding.quantity * holding.average_price))
            best = state[1]
            if (long and best < value) or (not long and best > value):
                self.best[symbol] = (long, value)
                continue
            if best and self.maximum_drawdown_percent < abs((best - value) / best):
                self.best.pop(symbol, None)
                flatten.append(_flatten(algorithm, symbol))
        return flatten


class CompositeRiskManagementModel(RiskManagementModel):
    """Several risk models as one: each sees the targets, later ones override earlier ones per symbol."""

    def __init__(self, *models: Any) -> None:
        self.models = [m for item in models for m in (item if isinstance(item, list | tuple) else [item])]

    def manage_risk(self, algorithm: Any, targets: list[PortfolioTarget]) -> list[PortfolioTarget]:
        merged: dict[Any, PortfolioTarget] = {}
        for model in self.models:
            for target in model.manage_risk(algorithm, targets) or []:
                merged[target.symbol] = target
        return list(merged.values())

    def add_risk_management(self, model: Any) -> None:
        self.models.append(model)


class InsightManager(PascalAliases):
    """``algorithm.insights``: the insights of the run (cancel, active ones, all)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def set_insight_score_function(self, function: Any) -> None:
        """LEAN's: an object whose ``score(insight_manager, utc_time)`` the framework calls at each step."""
        self._engine.framework.score_function = function

    def step(self, now: Any) -> None:
        """LEAN's InsightManager.Step: run the score function, if one is set (LEAN scores nothing otherwise)."""
        function = self._engine.framework.score_function
        if function is not None:
            (function.score if hasattr(function, "score") else function.Score)(self, now)

    def cancel(self, symbols: Any = None) -> int:
        return self._engine.cancel_insights(symbols)

    expire = cancel  # LEAN's Expire and Cancel both close the insights now

    def get_active_insights(self, time: Any = None) -> list[Insight]:
        moment = time or self._engine.time
        return [i for i in self._engine.framework.active if i.is_active(moment)]

    def get_next_expiry_time(self) -> datetime | None:
        closes = [i.close_time_utc for i in self._engine.framework.active if i.close_time_utc is not None]
        return min(closes) if closes else None

    def remove_expired_insights(self, time: Any = None) -> list[Insight]:
        moment = time or self._engine.time
        framework = self._engine.framework
        expired = [i for i in framework.active if not i.is_active(moment)]
        for insight in expired:
            if insight.reference_value_final is None and insight.symbol in self._engine.securities:
                insight.reference_value_final = self._engine.securities[insight.symbol].price
        framework.active = [i for i in framework.active if i.is_active(moment)]
        return expired

    def has_active_insights(self, symbol: Any, time: Any = None) -> bool:
        return any(i.symbol == symbol for i in self.get_active_insights(time))

    def get_insights(self, predicate: Any = None) -> list[Insight]:
        return [i for i in self._engine.framework.recorded if predicate is None or predicate(i)]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._engine.framework.recorded)

    def __len__(self) -> int:
        return len(self._engine.framework.recorded)

    total_count = property(__len__)


class ManualUniverseSelectionModel(PascalAliases):
    """LEAN's: a fixed set of symbols, added when the algorithm's initialize is done."""

    def __init__(self, *symbols: Any, universe_settings: Any = None) -> None:
        if len(symbols) == 1 and isinstance(symbols[0], list | tuple | set) or \
                len(symbols) == 1 and hasattr(symbols[0], "__iter__") and not isinstance(symbols[0], str):
            symbols = tuple(symbols[0])
        self.symbols = list(symbols)
        self.universe_settings = universe_settings


class ScheduledUniverseSelectionModel(PascalAliases):
    """LEAN's: ``selector(time)`` picks the universe's symbols at each time the date and time rules give
    (``(date_rule, time_rule, selector[, settings])``, optionally after a time zone, ignored: New York)."""

    def __init__(self, *arguments: Any, universe_settings: Any = None) -> None:
        if arguments and not callable(arguments[0]):  # a leading time zone
            arguments = arguments[1:]
        if len(arguments) < 3:
            raise TypeError("ScheduledUniverseSelectionModel(date_rule, time_rule, selector[, universe_settings])")
        self.date_rule, self.time_rule, self.selector = arguments[:3]
        self.universe_settings = arguments[3] if len(arguments) > 3 else universe_settings


class ScheduledUniverse(ScheduledUniverseSelectionModel):
    """LEAN's ScheduledUniverse for ``add_universe``: ``selector(utc_time)`` at the date and time rules' times."""


class UserDefinedUniverse(PascalAliases):
    """LEAN's ``add_universe(name, selector)``: ``selector(utc_time)`` gives tickers at the start and then at
    midnight of each trading day (UserDefinedUniverse.GetTriggerTimes with a daily interval)."""

    def __init__(self, name: str, selector: Any, universe_settings: Any = None) -> None:
        self.name, self.user_selector, self.universe_settings = name, selector, universe_settings
        self.members: dict[Any, Any] = {}

    def selector(self, moment: Any) -> Any:
        return self.user_selector(moment)


class CustomUniverseSelectionModel(UserDefinedUniverse):
    """LEAN's CustomUniverseSelectionModel(name, selector) (or (security_type, name, market, selector,
    universe_settings, interval)): ``select(algorithm, utc_time)`` gives tickers at the start and each trading
    day's midnight; a subclass may override ``select``."""

    def __init__(self, *arguments: Any) -> None:
        rest = list(arguments)
        if rest and isinstance(rest[0], int) and not isinstance(rest[0], bool):
            rest = [rest[1], rest[3], rest[4] if len(rest) > 4 else None]  # (type, name, market, selector, …)
        name = rest[0] if rest else "custom"
        super().__init__(name, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None)
        self.algorithm: Any = None

    def select(self, algorithm: Any, date: Any) -> Any:
        return self.user_selector(date) if self.user_selector is not None else []

    def selector(self, moment: Any) -> Any:
        return self.select(self.algorithm, moment)


class InceptionDateUniverseSelectionModel(CustomUniverseSelectionModel):
    """LEAN's: each ticker joins once its date has come (``{ticker: date}``); unchanged otherwise."""

    def __init__(self, name: str, tickers_by_date: Any) -> None:
        super().__init__(name, None)
        self._queue = sorted(dict(tickers_by_date).items(), key=lambda item: item[1]) \
            if not isinstance(tickers_by_date, dict) else list(tickers_by_date.items())
        self._symbols: list[str] = []

    def select(self, algorithm: Any, date: Any) -> Any:
        added = []
        while self._queue and self._queue[0][1] <= date:
            added.append(self._queue.pop(0)[0])
        if not added:
            return Universe.UNCHANGED
        self._symbols.extend(added)
        return list(self._symbols)


class Universe(PascalAliases):
    """Only ``Universe.UNCHANGED``: what a selector returns to keep the current members."""

    UNCHANGED = Unchanged = object()


class UniverseSettings(PascalAliases):
    def __init__(self) -> None:
        self.resolution = Resolution.MINUTE
        self.leverage = 2.0
        self.data_normalization_mode = DataNormalizationMode.ADJUSTED
        self.extended_market_hours = False
        self.fill_forward = True


def percent_target(algorithm: Any, symbol: Any, percent: float) -> PortfolioTarget:
    """PortfolioTarget.percent: the holdings quantity that is ``percent`` of the portfolio, as LEAN computes it
    (margin terms, free-portfolio buffer, fees, lot size, minimum order margin)."""
    engine = algorithm.engine
    sym = engine.symbol_for(symbol)
    if not engine.securities[sym].price:
        return PortfolioTarget(sym, engine.portfolio[sym].quantity)
    return PortfolioTarget(sym, engine.portfolio[sym].quantity + engine.quantity_for_target(sym, float(percent)))
