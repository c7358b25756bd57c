"""LEAN's volatility models (``Common/Securities/Volatility/``): ``security.volatility_model``.

Every data point a security receives with a price updates its model (LEAN's Security.UpdateConsumersMarketPrice),
before the step's orders fill and ``on_data``. After a split or dividend of an equity in Raw mode, the engine warms
its model up again with the history it asks for (``get_history_requirements``; LEAN's
ApplySplitOrDividendToVolatilityModel — a backtest has no warm-up at the start, live trading only): that history is
ScaledRaw (adjusted relative to the request's end date), so a split does not look like a price jump.

- VolatilityModel.NULL (LEAN's default): volatility 0, no history.
- StandardDeviationOfReturnsVolatilityModel(periods | resolution, resolution, update_frequency): the standard
  deviation of the last ``periods`` returns, sampled at most once per update frequency, × √252.
- RelativeStandardDeviationVolatilityModel(period span, periods): the standard deviation of the last prices
  over their mean.
- IndicatorVolatilityModel(indicator[, update(security, data, indicator)]): the indicator's current value.
- Your own: derive from BaseVolatilityModel (``volatility``, ``update``, ``get_history_requirements``).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from qcmcp.sandbox.engine.types import PascalAliases

_PERIOD = {"tick": timedelta(seconds=1), "second": timedelta(seconds=1), "minute": timedelta(minutes=1),
           "hour": timedelta(hours=1), "daily": timedelta(days=1)}


def _resolution(value: Any) -> str | None:
    if value is None:
        return None
    from qcmcp.sandbox.engine.engine import RESOLUTION_ALIASES

    return RESOLUTION_ALIASES.get(str(value).split(".")[-1].lower(), str(value).lower())


class HistoryRequirement(PascalAliases):
    """What a model asks history for: ``bar_count`` bars of ``resolution`` (None: daily, LEAN's widest) ending now."""

    def __init__(self, symbol: Any, resolution: str | None, bar_count: int) -> None:
        self.symbol, self.resolution, self.bar_count = symbol, resolution, int(bar_count)


class BaseVolatilityModel(PascalAliases):
    """LEAN's BaseVolatilityModel: volatility 0, updates ignored, no history wanted."""

    @property
    def volatility(self) -> float:
        return 0.0

    def update(self, security: Any, data: Any) -> None:
        return None

    def get_history_requirements(self, security: Any, utc_time: datetime, resolution: Any = None,
                                 bar_count: int | None = None) -> list[HistoryRequirement]:
        if bar_count is None:
            return []
        return [HistoryRequirement(security.symbol, _resolution(resolution), bar_count)]

    def set_subscription_data_config_provider(self, provider: Any) -> None:
        return None


class _NullVolatilityModel(BaseVolatilityModel):
    pass


class VolatilityModel:
    NULL = Null = _NullVolatilityModel()


def _std(values: list[float]) -> float:
    """The sample standard deviation (MathNet's, as LEAN's RollingWindow.StandardDeviation)."""
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


class _Window:
    """The newest ``size`` values."""

    def __init__(self, size: int) -> None:
        self.size, self.values = int(size), []  # type: ignore[var-annotated]

    def add(self, value: float) -> None:
        self.values.append(float(value))
        del self.values[:-self.size]

    def reset(self) -> None:
        self.values.clear()


def _price(data: Any) -> float:
    return float(getattr(data, "price", getattr(data, "close", getattr(data, "value", 0.0))) or 0.0)


def _end(data: Any) -> datetime:
    return getattr(data, "end_time", None) or getattr(data, "time")


class StandardDeviationOfReturnsVolatilityModel(BaseVolatilityModel):
    """The annualised (× √252) standard deviation of the last ``periods`` returns, one a period span at most."""

    def __init__(self, periods: Any, resolution: Any = None, update_frequency: timedelta | None = None) -> None:
        if isinstance(periods, str):  # (resolution[, update_frequency]): LEAN's periods in that resolution
            if isinstance(resolution, timedelta):
                update_frequency = resolution
            resolution = periods
            periods = {"tick": 600, "second": 600, "minute": 60 * 24, "hour": 24 * 30}.get(_resolution(periods), 30)
        if int(periods) < 2:
            raise ValueError("'periods' must be greater than or equal to 2.")
        self._window = _Window(int(periods))
        self._resolution = _resolution(resolution)
        self._span = update_frequency or (_PERIOD.get(self._resolution) if self._resolution else None) or \
            timedelta(days=1)
        self._reset()

    def _reset(self) -> None:
        self._last_update, self._last_price = datetime.min, 0.0
        self._window.reset()

    @property
    def volatility(self) -> float:
        values = self._window.values
        return 0.0 if len(values) < 2 else _std(values) * math.sqrt(252.0)

    def update(self, security: Any, data: Any) -> None:
        price = _price(data)
        if _end(data) - self._last_update >= self._span and price > 0:
            if self._last_price > 0:
                self._window.add(price / self._last_price - 1.0)
            self._last_update, self._last_price = _end(data), price

    def get_history_requirements(self, security: Any, utc_time: datetime, resolution: Any = None,
                                 bar_count: int | None = None) -> list[HistoryRequirement]:
        if bar_count is not None:
            return super().get_history_requirements(security, utc_time, resolution, bar_count)
        self._reset()  # warmed up again from this history
        return [HistoryRequirement(security.symbol, self._resolution, self._window.size + 1)]


class RelativeStandardDeviationVolatilityModel(BaseVolatilityModel):
    """The standard deviation of the last ``periods`` prices (one a period span at most) over their mean."""

    def __init__(self, period_span: timedelta, periods: int) -> None:
        if int(periods) < 2:
            raise ValueError("'periods' must be greater than or equal to 2.")
        self._span, self._window = period_span, _Window(int(periods))
        self._reset()

    def _reset(self) -> None:
        self._window.reset()
        # LEAN starts its clock at DateTime.MinValue + span × periods
        self._last_update = datetime.min + min(self._span * self._window.size, datetime.max - datetime.min)

    @property
    def volatility(self) -> float:
        values = self._window.values
        if len(values) < 2:
            return 0.0
        mean = abs(sum(values) / len(values))
        return _std(values) / mean if mean else 0.0

    def update(self, security: Any, data: Any) -> None:
        price = _price(data)
        if _end(data) - self._last_update >= self._span and price > 0:
            self._window.add(price)
            self._last_update = _end(data)

    def get_history_requirements(self, security: Any, utc_time: datetime, resolution: Any = None,
                                 bar_count: int | None = None) -> list[HistoryRequirement]:
        if bar_count is not None:
            return super().get_history_requirements(security, utc_time, resolution, bar_count)
        self._reset()
        return [HistoryRequirement(security.symbol, security.resolution, self._window.size + 1)]


class IndicatorVolatilityModel(BaseVolatilityModel):
    """The volatility an indicator gives; ``indicator_update(security, data, indicator)`` feeds it each point."""

    def __init__(self, indicator: Any, indicator_update: Any = None) -> None:
        self._indicator, self._indicator_update = indicator, indicator_update

    @property
    def volatility(self) -> float:
        return float(self._indicator.current.value)

    def update(self, security: Any, data: Any) -> None:
        if self._indicator_update is not None:
            self._indicator_update(security, data, self._indicator)


def _warm(engine: Any, model: Any, security: Any, requirements: Any, mode: Any) -> None:
    """Feed the model the history its requirements name (ScaledRaw in Raw mode, as LEAN)."""
    from qcmcp.sandbox.engine.data import normalization_mode

    scaled = mode is not None and normalization_mode(mode) == "raw" and security.hours.kind == "equity"
    now = engine._now_for_history()
    for requirement in requirements or []:
        resolution = getattr(requirement, "resolution", None) or "daily"
        count = int(getattr(requirement, "bar_count", 0))
        if count <= 0:
            continue
        for bar in engine._history_bars(security.symbol, count, resolution, now, "scaled_raw" if scaled else None):
            model.update(security, bar)


class VolatilityModelExtensions:
    @staticmethod
    def warm_up(model: Any, algorithm: Any, security: Any, resolution: Any = None, bar_count: int | None = None,
                data_normalization_mode: Any = None) -> None:
        """LEAN's WarmUp(algorithm, security, resolution, bar_count, mode): the model updated with the last
        ``bar_count`` bars (ScaledRaw when ``mode`` is Raw)."""
        if model is VolatilityModel.NULL or security is None:
            return
        engine = algorithm.engine
        if bar_count is None:
            requirements = model.get_history_requirements(security, algorithm.utc_time)
        else:
            requirements = [HistoryRequirement(security.symbol, _resolution(resolution), bar_count)]
        _warm(engine, model, security, requirements, data_normalization_mode)


def check(model: Any) -> Any:
    """``security.set_volatility_model(model)``: LEAN wraps any Python object with ``volatility`` and ``update``."""
    if not hasattr(model, "volatility") or not callable(getattr(model, "update", None)):
        from qcmcp.sandbox.engine.unsupported import refuse

        refuse(f"volatility model {type(model).__name__} (it needs volatility and update)")
    return model


def update(security: Any, data: Any) -> None:
    """A data point reaches the security: its volatility model updates (LEAN skips points without a price)."""
    model = security.custom_volatility_model
    if model is not None and _price(data) != 0:
        model.update(security, data)


def after_split_or_dividend(engine: Any, security: Any) -> None:
    """LEAN's ApplySplitOrDividendToVolatilityModel: an equity in Raw mode warms its model up again."""
    model = security.custom_volatility_model
    if model is None or security.hours.kind != "equity":
        return
    from qcmcp.sandbox.engine.data import normalization_mode

    if normalization_mode(security.data_normalization_mode) == "raw":
        _warm(engine, model, security, model.get_history_requirements(security, engine.algorithm.utc_time),
              security.data_normalization_mode)
