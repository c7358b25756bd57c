"""LEAN's momentum and oscillator indicators, as its Indicators/*.cs compute them.

Momentum, the rate-of-change family and LogReturn compare a value with the one ``period`` samples before (with
the first value while the window fills, as LEAN's WindowIndicator does); the oscillators keep LEAN's warm-up
periods, IsReady rules, not-ready values (0 or 50) and named parts (``adx.positive_directional_index``,
``aroon.aroon_up``, ``cci.typical_price_average``).
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime
from typing import Any

from qcmcp.sandbox.engine.indicators import (
    Delay,
    ExponentialMovingAverage,
    Maximum,
    Minimum,
    MovingAverageConvergenceDivergence,
    MovingAverageType,
    SimpleMovingAverage,
)
from qcmcp.sandbox.engine.swing_indicators import Sum
from qcmcp.sandbox.engine.trend_indicators import (
    TrueRange,
    WilderMovingAverage,
    WindowIndicator,
    _LeanIndicator,
    _Part,
    _Window,
    lean_average,
)


class Momentum(WindowIndicator):
    """value - the value ``period`` samples ago."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"MOM({period})", period)
        self._args = (period, name)
        self.warm_up_period = period + 1

    is_ready = property(lambda self: self.samples > self.period)

    def _next(self, window: _Window, value: float) -> float:
        return value - window.first_or_removed()


class RateOfChangePercent(WindowIndicator):
    """100 · (value - the value ``period`` ago) / that value (0 when it is 0)."""

    scale = 100.0

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"ROCP({period})", period)
        self._args = (period, name)
        self.warm_up_period = period + 1

    is_ready = property(lambda self: self.samples > self.period)

    def _roc(self, window: _Window, value: float) -> float:
        denominator = window.first_or_removed()
        return 0.0 if denominator == 0 else (value - denominator) / denominator

    def _next(self, window: _Window, value: float) -> float:
        return self.scale * self._roc(window, value)


class MomentumPercent(RateOfChangePercent):
    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(period, name or f"MOMP({period})")
        self._args = (period, name)


class RateOfChangeRatio(RateOfChangePercent):
    """value / the value ``period`` ago (LEAN: ROC + 1, or 0 when the ROC is 0)."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(period, name or f"ROCR({period})")
        self._args = (period, name)

    def _next(self, window: _Window, value: float) -> float:
        roc = self._roc(window, value)
        return roc + 1 if roc != 0 else 0.0


class LogReturn(WindowIndicator):
    """ln(value / the value ``period`` ago); 0 when that is not finite."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"LOGR({period})", period)
        self._args = (period, name)

    def _next(self, window: _Window, value: float) -> float:
        first = window.first_or_removed()
        ratio = 0.0 if first == 0 else value / first
        return math.log(ratio) if ratio > 0 else 0.0


class MeanAbsoluteDeviation(WindowIndicator):
    """The mean of |value - the window's mean| (0 for one sample)."""

    def __init__(self, period: int, name: str | None = None) -> None:
        name = name or f"MAD({period})"
        super().__init__(name, period)
        self._args = (period, name)
        self.mean = SimpleMovingAverage(period, f"{name}_Mean")

    is_ready = property(lambda self: self.samples >= self.period)

    def _next(self, window: _Window, value: float) -> float:
        self.mean.update(None, value)
        if self.samples < 2:
            return 0.0
        mean = self.mean.current.value
        return sum(abs(v - mean) for v in window.items) / len(window)


class CommodityChannelIndex(_LeanIndicator):
    """(typical price - its average) / (0.015 · its mean absolute deviation); 0 when the deviation is 0."""

    uses_bars = True

    def __init__(self, period: int, moving_average_type: Any = MovingAverageType.SIMPLE,
                 name: str | None = None) -> None:
        name = name or f"CCI({period})"
        super().__init__(name, period)
        self._args = (period, moving_average_type, name)
        self.moving_average_type = moving_average_type
        self.typical_price_average = lean_average(moving_average_type, period, name + "_TypicalPriceAvg")
        self.typical_price_mean_deviation = MeanAbsoluteDeviation(period, name + "_TypicalPriceMAD")

    @property
    def is_ready(self) -> bool:
        return self.typical_price_average.is_ready and self.typical_price_mean_deviation.is_ready

    def _compute(self, time: datetime, value: Any) -> float:
        typical = (float(value.high) + float(value.low) + float(value.close)) / 3
        self.typical_price_average.update(time, typical)
        self.typical_price_mean_deviation.update(time, typical)
        weighted = 0.015 * self.typical_price_mean_deviation.current.value
        if weighted == 0:
            return 0.0
        return (typical - self.typical_price_average.current.value) / weighted


class WilliamsPercentR(_LeanIndicator):
    """-100 · (highest high - close) / (highest high - lowest low); 0 until ready or when flat."""

    uses_bars = True

    def __init__(self, period: int, name: str | None = None) -> None:
        name = name or f"WILR({period})"
        super().__init__(name, period)
        self._args = (period, name)
        self.maximum, self.minimum = Maximum(period, name + "_Max"), Minimum(period, name + "_Min")

    is_ready = property(lambda self: self.maximum.is_ready and self.minimum.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        self.minimum.update(time, float(value.low))
        self.maximum.update(time, float(value.high))
        if not self.is_ready:
            return 0.0
        high, low = self.maximum.current.value, self.minimum.current.value
        return 0.0 if high == low else -100.0 * (high - float(value.close)) / (high - low)


class ChandeMomentumOscillator(WindowIndicator):
    """100 · (gains - losses) / (gains + losses), Wilder-smoothed sums of the one-step changes; 0 until ready."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"CMO({period})", period)
        self._args = (period, name)
        self.warm_up_period = period + 1
        self._previous = self._gain = self._loss = 0.0

    is_ready = property(lambda self: self.samples > self.period)

    def _next(self, window: _Window, value: float) -> float:
        if self.samples == 1:
            self._previous = value
            return 0.0
        difference, self._previous = value - self._previous, value
        if self.samples > self.period + 1:
            self._loss *= self.period - 1
            self._gain *= self.period - 1
        if difference < 0:
            self._loss -= difference
        else:
            self._gain += difference
        if not self.is_ready:
            return 0.0
        self._loss /= self.period
        self._gain /= self.period
        total = self._gain + self._loss
        return 100.0 * (self._gain - self._loss) / total if total != 0 else 0.0


class AbsolutePriceOscillator(MovingAverageConvergenceDivergence):
    """fast average - slow average (LEAN's MACD with a signal of the slow period, simple averages by default)."""

    def __init__(self, fast_period: int, slow_period: int, moving_average_type: Any = MovingAverageType.SIMPLE,
                 name: str | None = None) -> None:
        kind = MovingAverageType.SIMPLE if moving_average_type is None else moving_average_type
        super().__init__(fast_period, slow_period, slow_period, kind,
                         name or f"{self._label}({fast_period},{slow_period})")
        self._args = (fast_period, slow_period, moving_average_type, name)

    _label = "APO"

    def __getattr__(self, name: str) -> Any:
        return _LeanIndicator.__getattr__(self, name)  # type: ignore[arg-type]


class PercentagePriceOscillator(AbsolutePriceOscillator):
    """100 · (fast - slow) / slow (0 while the slow average is 0)."""

    _label = "PPO"

    def _compute(self, time: datetime, value: Any) -> float:
        difference = super()._compute(time, value)
        slow = self.slow.current.value
        return 100.0 * difference / slow if slow != 0 else 0.0


class Trix(_LeanIndicator):
    """The one-period percent rate of change of a triple EMA (each EMA fed once the one before is ready)."""

    def __init__(self, period: int, name: str | None = None) -> None:
        name = name or f"TRIX({period})"
        super().__init__(name, 3 * (period - 1) + 2)
        self._args = (period, name)
        self._emas = [ExponentialMovingAverage(period) for _ in range(3)]
        self._roc = RateOfChangePercent(1, name + "_ROCP1")

    is_ready = property(lambda self: self._roc.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        ema1, ema2, ema3 = self._emas
        ema1.update(time, self._price(value))
        if ema1.is_ready:
            ema2.update(time, ema1.current.value)
        if ema2.is_ready:
            ema3.update(time, ema2.current.value)
        if ema3.is_ready:
            self._roc.update(time, ema3.current.value)
        return self._roc.current.value


class AroonOscillator(_LeanIndicator):
    """Aroon up - Aroon down: 100 · (n - periods since the n+1-bar high [low]) / n."""

    uses_bars = True

    def __init__(self, up_period: int, down_period: int | None = None, name: str | None = None) -> None:
        down_period = up_period if down_period is None else down_period
        name = name or f"AROON({up_period},{down_period})"
        super().__init__(name, 1 + max(up_period, down_period))
        self._args = (up_period, down_period, name)
        self.up_period, self.down_period = up_period, down_period
        self._highs: deque[float] = deque(maxlen=up_period + 1)
        self._lows: deque[float] = deque(maxlen=down_period + 1)
        self.aroon_up = _Part(name + "_AroonUp", lambda: len(self._highs) == self._highs.maxlen)
        self.aroon_down = _Part(name + "_AroonDown", lambda: len(self._lows) == self._lows.maxlen)

    is_ready = property(lambda self: self.aroon_up.is_ready and self.aroon_down.is_ready)

    @staticmethod
    def _since(values: deque[float], pick: Any) -> int:
        """LEAN's PeriodsSinceMaximum/Minimum: bars back to the newest occurrence of the window's extreme."""
        extreme = pick(values)
        for back, value in enumerate(reversed(values)):
            if value == extreme:
                return back
        return 0

    def _compute(self, time: datetime, value: Any) -> float:
        self._highs.append(float(value.high))
        self._lows.append(float(value.low))
        up = 100.0 * (self.up_period - self._since(self._highs, max)) / self.up_period
        down = 100.0 * (self.down_period - self._since(self._lows, min)) / self.down_period
        self.aroon_up.update(time, up)
        self.aroon_down.update(time, down)
        return up - down


class AverageDirectionalIndex(_LeanIndicator):
    """Wilder's ADX: the Wilder average of 100·|+DI - -DI| / (+DI + -DI) (50 while both are 0), the DIs from
    smoothed directional movements and true ranges."""

    uses_bars = True

    def __init__(self, period: int, name: str | None = None) -> None:
        name = name or f"ADX({period})"
        super().__init__(name, period * 2)
        self._args = (period, name)
        self.period = period
        self._previous: Any = None
        self._tr = self._dm_plus = self._dm_minus = 0.0
        self._smoothed_tr = self._smoothed_plus = self._smoothed_minus = 0.0
        self._adx = WilderMovingAverage(period)
        self.positive_directional_index = _Part(name + "_PositiveDirectionalIndex", self._smoothed_ready)
        self.negative_directional_index = _Part(name + "_NegativeDirectionalIndex", self._smoothed_ready)

    def _smoothed_ready(self) -> bool:
        return self.samples > self.period

    is_ready = property(lambda self: self._adx.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        previous = self._previous
        high, low = float(value.high), float(value.low)
        if previous is None:
            self._tr = self._dm_plus = self._dm_minus = 0.0
        else:
            self._tr = max(high - low, abs(high - previous.close), abs(low - previous.close))
            up, down = high - previous.high, previous.low - low
            self._dm_plus = up if high > previous.high and up >= down else 0.0
            self._dm_minus = down if previous.low > low and down > up else 0.0
        decays = self.samples > self.period + 1
        self._smoothed_tr += self._tr - (self._smoothed_tr / self.period if decays else 0.0)
        self._smoothed_plus += self._dm_plus - (self._smoothed_plus / self.period if decays else 0.0)
        self._smoothed_minus += self._dm_minus - (self._smoothed_minus / self.period if decays else 0.0)
        self._previous = value
        ready = self._smoothed_ready() and self._smoothed_tr != 0
        plus = 100.0 * self._smoothed_plus / self._smoothed_tr if ready else 0.0
        minus = 100.0 * self._smoothed_minus / self._smoothed_tr if ready else 0.0
        self.positive_directional_index.update(time, plus)
        self.negative_directional_index.update(time, minus)
        if plus + minus == 0:
            return 50.0
        self._adx.update(time, 100.0 * abs(plus - minus) / (plus + minus))
        return self._adx.current.value


class AverageDirectionalMovementIndexRating(_LeanIndicator):
    """(ADX + the ADX of ``period`` - 1 ready samples ago) / 2; 50 until ready."""

    uses_bars = True

    def __init__(self, period: int, name: str | None = None) -> None:
        name = name or f"ADXR({period})"
        super().__init__(name, period * 3 - 1)
        self._args = (period, name)
        self.period = period
        self.adx = AverageDirectionalIndex(period, name + "_ADX")
        self._history: deque[float] = deque(maxlen=period)

    is_ready = property(lambda self: len(self._history) == self.period)

    def _compute(self, time: datetime, value: Any) -> float:
        self.adx.update(time, value)
        if self.adx.is_ready:
            self._history.append(self.adx.current.value)
        return (self.adx.current.value + self._history[0]) / 2 if self.is_ready else 50.0


class UltimateOscillator(_LeanIndicator):
    """100 · (4·A1 + 2·A2 + A3) / 7, Ai the buying pressure over true range summed over period i; 50 until
    ready."""

    uses_bars = True

    def __init__(self, period1: int, period2: int, period3: int, name: str | None = None) -> None:
        name = name or f"ULTOSC({period1},{period2},{period3})"
        self.period = max(period1, period2, period3)
        super().__init__(name, self.period + 1)
        self._args = (period1, period2, period3, name)
        self._tr = TrueRange(name + "_TR")
        self._pressure = [Sum(p) for p in (period1, period2, period3)]
        self._ranges = [Sum(p) for p in (period1, period2, period3)]
        self._previous: Any = None

    is_ready = property(lambda self: self.samples > self.period)

    def _compute(self, time: datetime, value: Any) -> float:
        self._tr.update(time, value)
        if self.samples == 1:
            self._previous = value
            return 50.0
        pressure = float(value.close) - min(float(value.low), float(self._previous.close))
        for total in self._pressure:
            total.update(time, pressure)
        for total in self._ranges:
            total.update(time, self._tr.current.value)
        self._previous = value
        if not self.is_ready:
            return 50.0
        ranges = [total.current.value for total in self._ranges]
        if any(r == 0 for r in ranges):
            return self.current.value
        a1, a2, a3 = (p.current.value / r for p, r in zip(self._pressure, ranges, strict=True))
        return 100.0 * (4 * a1 + 2 * a2 + a3) / 7


class BalanceOfPower(_LeanIndicator):
    """(close - open) / (high - low), 0 for a flat bar."""

    uses_bars = True

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name or "BOP", 1)
        self._args = (name,)

    def _compute(self, time: datetime, value: Any) -> float:
        span = float(value.high) - float(value.low)
        return (float(value.close) - float(value.open)) / span if span > 0 else 0.0


class AwesomeOscillator(_LeanIndicator):
    """Fast average - slow average of the bars' median price (simple by default); 0 until both are ready."""

    uses_bars = True

    def __init__(self, fast_period: int, slow_period: int, moving_average_type: Any = MovingAverageType.SIMPLE,
                 name: str | None = None) -> None:
        kind = MovingAverageType.SIMPLE if moving_average_type is None else int(moving_average_type)
        name = name or f"AO({fast_period},{slow_period},{MovingAverageType.NAMES[kind]})"
        super().__init__(name, max(fast_period, slow_period))
        self._args = (fast_period, slow_period, moving_average_type, name)
        self.slow_ao, self.fast_ao = lean_average(kind, slow_period), lean_average(kind, fast_period)

    is_ready = property(lambda self: self.slow_ao.is_ready and self.fast_ao.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        median = (float(value.high) + float(value.low)) / 2
        self.slow_ao.update(time, median)
        self.fast_ao.update(time, median)
        return self.fast_ao.current.value - self.slow_ao.current.value if self.is_ready else 0.0


class FisherTransform(_LeanIndicator):
    """Ehlers' Fisher transform of the median price's place in its period range (smoothed by 0.33)."""

    uses_bars = True

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"FISH({period})", period)
        self._args = (period, name)
        self._max, self._min = Maximum(period, "MedianMax"), Minimum(period, "MedianMin")
        self._previous = 0.0

    is_ready = property(lambda self: self._max.is_ready and self._min.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        price = (float(value.low) + float(value.high)) / 2
        self._min.update(time, price)
        self._max.update(time, price)
        if not self.is_ready:
            return 0.0
        x = y = 0.0
        low, high = self._min.current.value, self._max.current.value
        if low != high:
            x = 0.33 * 2 * ((price - low) / (high - low) - 0.5) + (1 - 0.33) * self._previous
            clipped = min(max(x, -0.999), 0.999)
            y = 0.5 * math.log((1.0 + clipped) / (1.0 - clipped))
        self._previous = x
        return y + 0.5 * self.current.value


class DetrendedPriceOscillator(_LeanIndicator):
    """The price period/2 + 1 samples ago - the period's SMA."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"DPO({period})", period)
        self._args = (period, name)
        self._lag, self._sma = Delay(period // 2 + 1), SimpleMovingAverage(period)

    is_ready = property(lambda self: self._sma.is_ready and self._lag.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        price = self._price(value)
        self._lag.update(time, price)
        self._sma.update(time, price)
        return self._lag.current.value - self._sma.current.value
