"""LEAN's moving averages, ranges, channels and trend indicators, as its Indicators/*.cs compute them.

Each class keeps LEAN's warm-up period, IsReady rule and the values it returns while not ready (often 0 or a
partial value), and exposes LEAN's named parts (``kch.upper_band``, ``ichimoku.tenkan``, ``ha.open``) as
indicators of their own. ``lean_average`` is LEAN's MovingAverageType.AsIndicator.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime
from typing import Any

from qcmcp.sandbox.engine.indicators import (
    Delay,
    _Band,
    ExponentialMovingAverage,
    Indicator,
    Maximum,
    Minimum,
    MovingAverageType,
    SimpleMovingAverage,
)
from qcmcp.sandbox.engine.types import snake_case


def number(value: Any) -> str:
    """A decimal as C# prints it in LEAN's default names (2 not 2.0, 0.02 as is)."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


class _LeanIndicator(Indicator):
    """An indicator whose LEAN members are also reachable in PascalCase (``adx.PositiveDirectionalIndex``)."""

    def __getattr__(self, name: str) -> Any:
        if name[:1].isupper():
            snake = snake_case(name)
            if snake != name and snake in dir(self):
                return getattr(self, snake)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


class _Part(_LeanIndicator, _Band):
    """A named sub-indicator its owner sets (LEAN's FunctionalIndicator / Identity parts): indicators.py's band,
    its members reachable in PascalCase too."""

    def __init__(self, ready: Any = None, name: str = "PART") -> None:  # called as _Part(name, ready)
        _Band.__init__(self, ready, name)


class _Window:
    """LEAN's RollingWindow as _WindowIndicator holds it: [0] newest, the oldest, the most recently removed."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("RollingWindow must have size of at least 1.")
        self.size, self.samples, self.removed = size, 0, None
        self.items: deque[Any] = deque(maxlen=size)

    def add(self, item: Any) -> None:
        if len(self.items) == self.size:
            self.removed = self.items[-1]
        self.items.appendleft(item)
        self.samples += 1

    def __getitem__(self, index: int) -> Any:
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    is_ready = property(lambda self: len(self.items) == self.size)

    def first_or_removed(self) -> Any:
        """LEAN's ``window.Samples <= window.Size ? window[Count - 1] : window.MostRecentlyRemoved``."""
        return self.items[-1] if self.samples <= self.size else self.removed


class WindowIndicator(_LeanIndicator):
    """LEAN's _WindowIndicator: a window of the last ``period`` inputs; ready once it is full."""

    def __init__(self, period: int, name: str = "WINDOW") -> None:  # called as LEAN's (name, period)
        super().__init__(name, period)
        self.period = period
        self._window = _Window(period)

    @property
    def is_ready(self) -> bool:
        return self._window.is_ready

    def _compute(self, time: datetime, value: Any) -> float:
        self._window.add(self._price(value))
        return self._next(self._window, self._price(value))

    def _next(self, window: _Window, value: float) -> float:
        raise NotImplementedError


def lean_average(kind: Any, period: int, name: str | None = None, default: int = MovingAverageType.SIMPLE) -> Indicator:
    """LEAN's MovingAverageType.AsIndicator(name, period) for every type but Alma and MGD (refused)."""
    kind = default if kind is None else int(kind)
    makers: dict[int, Any] = {
        MovingAverageType.SIMPLE: SimpleMovingAverage,
        MovingAverageType.EXPONENTIAL: lambda p, n: ExponentialMovingAverage(p, None, n),
        MovingAverageType.WILDERS: WilderMovingAverage,
        MovingAverageType.LINEAR_WEIGHTED_MOVING_AVERAGE: LinearWeightedMovingAverage,
        MovingAverageType.DOUBLE_EXPONENTIAL: lambda p, n: DoubleExponentialMovingAverage(p, 1.0, n),
        MovingAverageType.TRIPLE_EXPONENTIAL: TripleExponentialMovingAverage,
        MovingAverageType.TRIANGULAR: TriangularMovingAverage,
        MovingAverageType.T3: lambda p, n: T3MovingAverage(p, 0.7, n),
        MovingAverageType.KAMA: lambda p, n: KaufmanAdaptiveMovingAverage(p, 2, 30, n),
        MovingAverageType.HULL: HullMovingAverage,
        MovingAverageType.ZLEMA: ZeroLagExponentialMovingAverage,
    }
    if kind not in makers:
        from qcmcp.sandbox.engine.unsupported import refuse

        label = MovingAverageType.NAMES[kind] if 0 <= kind < len(MovingAverageType.NAMES) else str(kind)
        refuse(f"MovingAverageType.{label}")
    return makers[kind](period, name)


# ---- moving averages ----------------------------------------------------------------------------------------


class WilderMovingAverage(_LeanIndicator):
    """The SMA of the first ``period`` values, then value/period + previous·(1 - 1/period)."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"WWMA{period}", period)
        self._args = (period, name)
        self.period, self._k = period, 1.0 / period
        self._sma = SimpleMovingAverage(period)

    def _compute(self, time: datetime, value: Any) -> float:
        price = self._price(value)
        if not self.is_ready:
            self._sma.update(time, price)
            return self._sma.current.value
        return price * self._k + self.current.value * (1 - self._k)


class LinearWeightedMovingAverage(WindowIndicator):
    """Weights period, period-1, ... 1 from the newest; 0 until the window is full."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"LWMA({period})", period)
        self._args = (period, name)
        self._denominator = period * (period + 1) // 2

    def _next(self, window: _Window, value: float) -> float:
        if not self.is_ready:
            return 0.0
        return sum((window.size - i) * window[i] for i in range(min(window.size, window.samples))) / self._denominator


class DoubleExponentialMovingAverage(_LeanIndicator):
    """(1 + v)·EMA - v·EMA(EMA); the second EMA fed once the first is ready."""

    def __init__(self, period: int, volume_factor: float = 1.0, name: str | None = None) -> None:
        super().__init__(name or f"DEMA({period})", 1 + 2 * (period - 1))
        self._args = (period, volume_factor, name)
        self.period, self._v = period, float(volume_factor)
        self._ema1, self._ema2 = ExponentialMovingAverage(period), ExponentialMovingAverage(period)

    def _compute(self, time: datetime, value: Any) -> float:
        self._ema1.update(time, self._price(value))
        if not self._ema1.is_ready:
            return self._ema1.current.value
        self._ema2.update(time, self._ema1.current.value)
        return (self._v + 1) * self._ema1.current.value - self._v * self._ema2.current.value


class TripleExponentialMovingAverage(_LeanIndicator):
    """3·EMA - 3·EMA(EMA) + EMA(EMA(EMA)), each fed once the one before is ready; 0 until the third is."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"TEMA({period})", 3 * (period - 1) + 1)
        self._args = (period, name)
        self._ema1, self._ema2, self._ema3 = (ExponentialMovingAverage(period) for _ in range(3))

    is_ready = property(lambda self: self._ema3.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        self._ema1.update(time, self._price(value))
        if self._ema1.is_ready:
            self._ema2.update(time, self._ema1.current.value)
        if self._ema2.is_ready:
            self._ema3.update(time, self._ema2.current.value)
        if not self.is_ready:
            return 0.0
        return 3 * self._ema1.current.value - 3 * self._ema2.current.value + self._ema3.current.value


class T3MovingAverage(_LeanIndicator):
    """Tillson's T3: three generalized DEMAs (volume factor v) in a chain, each fed once the one before is ready."""

    def __init__(self, period: int, volume_factor: float = 0.7, name: str | None = None) -> None:
        super().__init__(name or f"T3({period},{number(volume_factor)})", 1 + 6 * (period - 1))
        self._args = (period, volume_factor, name)
        self._gd = [DoubleExponentialMovingAverage(period, volume_factor) for _ in range(3)]

    def _compute(self, time: datetime, value: Any) -> float:
        gd1, gd2, gd3 = self._gd
        gd1.update(time, self._price(value))
        if not gd1.is_ready:
            return gd1.current.value
        gd2.update(time, gd1.current.value)
        if not gd2.is_ready:
            return gd2.current.value
        gd3.update(time, gd2.current.value)
        return gd3.current.value


class HullMovingAverage(_LeanIndicator):
    """LWMA(round(√n)) of 2·LWMA(round(n/2)) - LWMA(n), fed once both are ready (C#'s banker's rounding)."""

    def __init__(self, period: int, name: str | None = None) -> None:
        if period < 2:
            raise ValueError("The Hull Moving Average period should be greater or equal to 2")
        k = round(math.sqrt(period))
        super().__init__(name or f"HMA({period})", period + k - 1)
        self._args = (period, name)
        self._slow, self._fast = LinearWeightedMovingAverage(period), LinearWeightedMovingAverage(round(period / 2))
        self._hull = LinearWeightedMovingAverage(k)

    is_ready = property(lambda self: self._hull.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        price = self._price(value)
        self._fast.update(time, price)
        self._slow.update(time, price)
        if self._fast.is_ready and self._slow.is_ready:
            self._hull.update(time, 2 * self._fast.current.value - self._slow.current.value)
        return self._hull.current.value


class TriangularMovingAverage(_LeanIndicator):
    """The SMA of an SMA (periods n/2 and n/2+1 when even, (n+1)/2 twice when odd)."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"TRIMA({period})", period)
        self._args = (period, name)
        first = period // 2 if period % 2 == 0 else (period + 1) // 2
        second = period // 2 + 1 if period % 2 == 0 else (period + 1) // 2
        self._sma1, self._sma2 = SimpleMovingAverage(first), SimpleMovingAverage(second)

    def _compute(self, time: datetime, value: Any) -> float:
        self._sma1.update(time, self._price(value))
        self._sma2.update(time, self._sma1.current.value)
        return self._sma2.current.value


class ZeroLagExponentialMovingAverage(_LeanIndicator):
    """EMA of price + (price - price lag), the lag round((n-1)/2); 0 until the lag is ready."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"ZLEMA({period})", period + period // 2)
        self._args = (period, name)
        self._ema = ExponentialMovingAverage(period)
        self._delay = Delay(round((period - 1) / 2.0))

    is_ready = property(lambda self: self._delay.is_ready and self._ema.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        price = self._price(value)
        if self._delay.update(time, price):
            self._ema.update(time, price + (price - self._delay.current.value))
            return self._ema.current.value
        return 0.0


class KaufmanEfficiencyRatio(WindowIndicator):
    """|change over n| / sum of |one-step changes| over n (1 when the path is straight or flat)."""

    def __init__(self, period: int = 2, name: str | None = None) -> None:
        super().__init__(name or f"KER({period})", period + 1)
        self._args = (period, name)
        self._sum_roc1 = self._period_roc = self._trailing = 0.0

    is_ready = property(lambda self: self.samples >= self.period)

    def _next(self, window: _Window, value: float) -> float:
        p = self.period  # the window's size: the ratio's period + 1, as LEAN's base(name, period + 1)
        if self.samples < p:
            if self.samples > 1:
                self._sum_roc1 += abs(value - window[1])
            return value
        if self.samples == p:
            self._sum_roc1 += abs(value - window[1])
        trailing = window[p - 1]
        self._period_roc = value - trailing
        if self.samples > p:
            self._sum_roc1 -= abs(self._trailing - trailing)
            self._sum_roc1 += abs(value - window[1])
        self._trailing = trailing
        if self._sum_roc1 <= self._period_roc or self._sum_roc1 == 0:
            return 1.0
        return abs(self._period_roc / self._sum_roc1)


class KaufmanAdaptiveMovingAverage(KaufmanEfficiencyRatio):
    """KAMA: previous + (price - previous)·(ER·(fast k - slow k) + slow k)²; the price itself until ready."""

    def __init__(self, period: int, fast_ema_period: int = 2, slow_ema_period: int = 30,
                 name: str | None = None) -> None:
        super().__init__(period, name or f"KAMA({period},{fast_ema_period},{slow_ema_period})")
        self._args = (period, fast_ema_period, slow_ema_period, name)
        self._slow_k = 2.0 / (slow_ema_period + 1)
        self._diff_k = 2.0 / (fast_ema_period + 1) - self._slow_k
        self._kama = 0.0

    def _next(self, window: _Window, value: float) -> float:
        ratio = super()._next(window, value)
        if self.samples < self.period:
            return value
        if self.samples == self.period:
            self._kama = window[1]
        constant = (ratio * self._diff_k + self._slow_k) ** 2
        self._kama = (value - self._kama) * constant + self._kama
        return self._kama


# ---- ranges, channels and trend --------------------------------------------------------------------------


class TrueRange(_LeanIndicator):
    """max(high - low, |previous close - high|, |previous close - low|); high - low for the first bar."""

    uses_bars = True

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name or "TR", 2)
        self._args = (name,)
        self._previous: Any = None

    is_ready = property(lambda self: self.samples > 1)

    def _compute(self, time: datetime, value: Any) -> float:
        greatest = float(value.high) - float(value.low)
        if self.is_ready:
            greatest = max(greatest, abs(self._previous.close - value.high), abs(self._previous.close - value.low))
        self._previous = value
        return greatest


class _AverageTrueRange(_LeanIndicator):
    """LEAN's AverageTrueRange with any moving average: the average of every true range (the first bar's too)."""

    uses_bars = True

    def __init__(self, period: int, moving_average_type: Any = MovingAverageType.WILDERS,
                 name: str | None = None) -> None:
        super().__init__(name or f"ATR({period})", period)
        self._args = (period, moving_average_type, name)
        self.true_range = TrueRange(self.name)
        self._smoother = lean_average(moving_average_type, period)

    is_ready = property(lambda self: self._smoother.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        self.true_range.update(time, value)
        self._smoother.update(time, self.true_range.current.value)
        return self._smoother.current.value


class NormalizedAverageTrueRange(_LeanIndicator):
    """100 · ATR / close: a simple ATR until ready, then Wilder-smoothed true ranges."""

    uses_bars = True

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"NATR({period})", period + 1)
        self._args = (period, name)
        self.period = period
        self._tr = TrueRange()
        self._atr = _AverageTrueRange(period, MovingAverageType.SIMPLE)
        self._last = 0.0

    def _compute(self, time: datetime, value: Any) -> float:
        self._tr.update(time, value)
        close = float(value.close)
        if not self.is_ready:
            self._atr.update(time, value)
            return self._atr.current.value / close * 100 if close != 0 else 0.0
        if self.samples == self.period + 1:
            self._atr.update(time, value)
            self._last = self._atr.current.value
        else:
            self._last = (self._last * (self.period - 1) + self._tr.current.value) / self.period
        return self._last / close * 100 if close != 0 else 0.0


class KeltnerChannels(_LeanIndicator):
    """Middle: a moving average of the typical price; bands: middle ± k · simple ATR (0 until the middle is
    ready)."""

    uses_bars = True

    def __init__(self, period: int, k: float, moving_average_type: Any = MovingAverageType.SIMPLE,
                 name: str | None = None) -> None:
        name = name or f"KC({period},{number(k)})"
        super().__init__(name, period)
        self._args = (period, k, moving_average_type, name)
        self.k = float(k)
        self.average_true_range = _AverageTrueRange(period, MovingAverageType.SIMPLE, name + "_AverageTrueRange")
        self.middle_band = lean_average(moving_average_type, period, name + "_MiddleBand")
        self.lower_band = _Part(name + "_LowerBand", lambda: self.middle_band.is_ready)
        self.upper_band = _Part(name + "_UpperBand", lambda: self.middle_band.is_ready)

    @property
    def is_ready(self) -> bool:
        return self.middle_band.is_ready and self.average_true_range.is_ready

    def _compute(self, time: datetime, value: Any) -> float:
        self.average_true_range.update(time, value)
        self.middle_band.update(time, (float(value.high) + float(value.low) + float(value.close)) / 3)
        ready, middle = self.middle_band.is_ready, self.middle_band.current.value
        width = self.average_true_range.current.value * self.k
        self.lower_band.update(time, middle - width if ready else 0.0)
        self.upper_band.update(time, middle + width if ready else 0.0)
        return middle


class DonchianChannel(_LeanIndicator):
    """Upper: the highest high of ``upper_period``; lower: the lowest low of ``lower_period``; value their mean."""

    uses_bars = True

    def __init__(self, upper_period: int, lower_period: int | None = None, name: str | None = None) -> None:
        lower_period = upper_period if lower_period is None else lower_period
        name = name or f"DCH({lower_period},{lower_period})"  # LEAN names it by the lower period twice
        super().__init__(name, max(upper_period, lower_period))
        self._args = (upper_period, lower_period, name)
        self.upper_band = Maximum(upper_period, name + "_UpperBand")
        self.lower_band = Minimum(lower_period, name + "_LowerBand")

    is_ready = property(lambda self: self.upper_band.is_ready and self.lower_band.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        self.upper_band.update(time, float(value.high))
        self.lower_band.update(time, float(value.low))
        return (self.upper_band.current.value + self.lower_band.current.value) / 2


class MidPoint(_LeanIndicator):
    """(highest + lowest value of the period) / 2."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"MIDPOINT({period})", period)
        self._args = (period, name)
        self._max, self._min = Maximum(period), Minimum(period)

    def _compute(self, time: datetime, value: Any) -> float:
        price = self._price(value)
        self._max.update(time, price)
        self._min.update(time, price)
        return (self._max.current.value + self._min.current.value) / 2


class MidPrice(_LeanIndicator):
    """(highest high + lowest low of the period) / 2."""

    uses_bars = True

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"MIDPRICE({period})", period)
        self._args = (period, name)
        self._max, self._min = Maximum(period), Minimum(period)

    def _compute(self, time: datetime, value: Any) -> float:
        self._max.update(time, float(value.high))
        self._min.update(time, float(value.low))
        return (self._max.current.value + self._min.current.value) / 2


class Variance(WindowIndicator):
    """The population variance of the window (mean of squares - square of the mean, never below 0); 0 for one
    sample."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"VAR({period})", period)
        self._args = (period, name)

    def _next(self, window: _Window, value: float) -> float:
        if self.samples < 2:
            return 0.0
        values = list(window.items)
        n = len(values)
        mean = sum(values) / n
        return max(0.0, sum(v * v for v in values) / n - mean * mean)


class ChoppinessIndex(_LeanIndicator):
    """100 · log10(sum of true ranges / (highest high - lowest low)) / log10(n); 0 until ready, 100 when flat."""

    uses_bars = True

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"CHOP({period})", period)
        self._args = (period, name)
        self.period = period
        self._tr = TrueRange()
        self._highs: deque[float] = deque(maxlen=period)
        self._lows: deque[float] = deque(maxlen=period)
        self._ranges: deque[float] = deque(maxlen=period)

    def _compute(self, time: datetime, value: Any) -> float:
        self._tr.update(time, value)
        self._highs.append(float(value.high))
        self._lows.append(float(value.low))
        self._ranges.append(self._tr.current.value if self._tr.is_ready else float(value.high) - float(value.low))
        if not self.is_ready:
            return 0.0
        high, low = max(self._highs), min(self._lows)
        if high == low:
            return 100.0
        return 100.0 * math.log10(sum(self._ranges) / (high - low)) / math.log10(self.period)


class HeikinAshi(_LeanIndicator):
    """Heikin-Ashi bars: open, high, low, close and volume parts; the value is the HA close."""

    uses_bars = True

    def __init__(self, name: str | None = None) -> None:
        name = name or "HA"
        super().__init__(name, 2)
        self._args = (name,)
        self.open, self.high, self.low = _Part(name + "_Open"), _Part(name + "_High"), _Part(name + "_Low")
        self.close, self.volume = _Part(name + "_Close"), _Part(name + "_Volume")

    is_ready = property(lambda self: self.samples > 1)

    def _compute(self, time: datetime, value: Any) -> float:
        o, h, lo, c = float(value.open), float(value.high), float(value.low), float(value.close)
        if not self.is_ready:
            self.open.update(time, (o + c) / 2)
            self.close.update(time, (o + h + lo + c) / 4)
            self.high.update(time, h)
            self.low.update(time, lo)
        else:
            self.open.update(time, (self.open.current.value + self.close.current.value) / 2)
            self.close.update(time, (o + h + lo + c) / 4)
            self.high.update(time, max(h, self.open.current.value, self.close.current.value))
            self.low.update(time, min(lo, self.open.current.value, self.close.current.value))
        self.volume.update(time, float(getattr(value, "volume", 0.0) or 0.0))
        return self.close.current.value


class IchimokuKinkoHyo(_LeanIndicator):
    """Tenkan and Kijun (mid of the period's high and low), Senkou A (their mean, delayed), Senkou B (the mid of
    the long period, delayed) and Chikou (the close, delayed); the value is the close."""

    uses_bars = True

    def __init__(self, tenkan_period: int = 9, kijun_period: int = 26, senkou_a_period: int = 26,
                 senkou_b_period: int = 52, senkou_a_delay_period: int = 26, senkou_b_delay_period: int = 26,
                 name: str | None = None) -> None:
        name = name or (f"ICHIMOKU({tenkan_period},{kijun_period},{senkou_a_period},{senkou_b_period},"
                        f"{senkou_a_delay_period},{senkou_b_delay_period})")
        warm_up = max(tenkan_period + senkou_a_delay_period, kijun_period + senkou_a_delay_period,
                      senkou_b_period + senkou_b_delay_period)
        super().__init__(name, warm_up)
        self._args = (tenkan_period, kijun_period, senkou_a_period, senkou_b_period, senkou_a_delay_period,
                      senkou_b_delay_period, name)
        self.tenkan_maximum, self.tenkan_minimum = Maximum(tenkan_period), Minimum(tenkan_period)
        self.kijun_maximum, self.kijun_minimum = Maximum(kijun_period), Minimum(kijun_period)
        self.senkou_b_maximum, self.senkou_b_minimum = Maximum(senkou_b_period), Minimum(senkou_b_period)
        self.delayed_maximum_senkou_b = Delay(senkou_b_delay_period, name + "DelayedMax")
        self.delayed_minimum_senkou_b = Delay(senkou_b_delay_period, name + "DelayedMin")
        self.delayed_tenkan_senkou_a = Delay(senkou_a_delay_period, name + "DelayedTenkan")
        self.delayed_kijun_senkou_a = Delay(senkou_a_delay_period, name + "DelayedKijun")
        self.tenkan = _Part(name + "_Tenkan", lambda: self.tenkan_maximum.is_ready and self.tenkan_minimum.is_ready)
        self.kijun = _Part(name + "_Kijun", lambda: self.kijun_maximum.is_ready and self.kijun_minimum.is_ready)
        self.senkou_a = _Part(name + "_SenkouA", lambda: self.delayed_tenkan_senkou_a.is_ready
                             and self.delayed_kijun_senkou_a.is_ready)
        self.senkou_b = _Part(name + "_SenkouB", lambda: self.delayed_maximum_senkou_b.is_ready
                             and self.delayed_minimum_senkou_b.is_ready)
        self.chikou = Delay(senkou_a_delay_period, name + "_Chikou")
        self._fresh = {"a": [False, False], "b": [False, False]}  # CompositeIndicator: both sides new

    @property
    def is_ready(self) -> bool:
        return self.tenkan.is_ready and self.kijun.is_ready and self.senkou_a.is_ready and self.senkou_b.is_ready

    def _compose(self, key: str, part: _Part, left: Indicator, right: Indicator, fed: tuple[bool, bool],
                 time: datetime) -> None:
        """LEAN's Plus(...).Over(2): a new value once both sides have updated since the last one."""
        fresh = self._fresh[key]
        fresh[0], fresh[1] = fresh[0] or fed[0], fresh[1] or fed[1]
        if all(fresh):
            self._fresh[key] = [False, False]
            part.update(time, (left.current.value + right.current.value) / 2)

    def _compute(self, time: datetime, value: Any) -> float:
        high, low = float(value.high), float(value.low)
        for indicator, price in ((self.tenkan_maximum, high), (self.tenkan_minimum, low), (self.kijun_maximum, high),
                                 (self.kijun_minimum, low), (self.senkou_b_maximum, high),
                                 (self.senkou_b_minimum, low)):
            indicator.update(time, price)
        self.chikou.update(time, float(value.close))
        self.tenkan.update(time, (self.tenkan_maximum.current.value + self.tenkan_minimum.current.value) / 2)
        self.kijun.update(time, (self.kijun_maximum.current.value + self.kijun_minimum.current.value) / 2)
        fed = []
        for delayed, source in ((self.delayed_tenkan_senkou_a, self.tenkan), (self.delayed_kijun_senkou_a, self.kijun),
                                (self.delayed_maximum_senkou_b, self.senkou_b_maximum),
                                (self.delayed_minimum_senkou_b, self.senkou_b_minimum)):
            if source.is_ready:  # LEAN's Delay(...).Of(source): fed once the source is ready
                delayed.update(time, source.current.value)
            fed.append(source.is_ready)
        self._compose("a", self.senkou_a, self.delayed_tenkan_senkou_a, self.delayed_kijun_senkou_a,
                      (fed[0], fed[1]), time)
        self._compose("b", self.senkou_b, self.delayed_maximum_senkou_b, self.delayed_minimum_senkou_b,
                      (fed[2], fed[3]), time)
        return float(value.close)


class ParabolicStopAndReverse(_LeanIndicator):
    """Wilder's parabolic SAR (LEAN's ParabolicStopAndReverseExtended with no start value or offset, the absolute
    value): the first bar's close, then the stop that trails the extreme point by an accelerating factor."""

    uses_bars = True

    def __init__(self, af_start: float = 0.02, af_increment: float = 0.02, af_max: float = 0.2,
                 name: str | None = None) -> None:
        super().__init__(name or f"PSAR({number(af_start)},{number(af_increment)},{number(af_max)})", 2)
        self._args = (af_start, af_increment, af_max, name)
        self._af_init, self._af_increment, self._af_max = float(af_start), float(af_increment), float(af_max)
        self._af_short = self._af_long = self._af_init
        self._is_long, self._previous, self._sar, self._extreme, self._output = False, None, 0.0, 0.0, 0.0

    is_ready = property(lambda self: self.samples >= 2)

    def _compute(self, time: datetime, value: Any) -> float:
        if self.samples == 1:
            self._previous = value
            return float(value.close)
        if self.samples == 2:
            previous = self._previous
            negative_dm = value.low < previous.low and (value.high - previous.high) < (previous.low - value.low)
            self._is_long = not negative_dm
            self._sar = float(previous.low if self._is_long else previous.high)
            self._extreme = float(value.high if self._is_long else value.low)
            self._previous = value
        if self._is_long:
            self._long(value)
        else:
            self._short(value)
        self._previous = value
        return abs(self._output)

    def _long(self, bar: Any) -> None:
        previous = self._previous
        if bar.low <= self._sar:
            self._is_long = False
            self._sar = max(self._extreme, previous.high, bar.high)
            self._output = -self._sar
            self._af_short = self._af_init
            self._extreme = float(bar.low)
            self._sar = max(self._sar + self._af_short * (self._extreme - self._sar), previous.high, bar.high)
        else:
            self._output = self._sar
            if bar.high > self._extreme:
                self._extreme = float(bar.high)
                self._af_long = min(self._af_long + self._af_increment, self._af_max)
            self._sar = min(self._sar + self._af_long * (self._extreme - self._sar), previous.low, bar.low)

    def _short(self, bar: Any) -> None:
        previous = self._previous
        if bar.high >= self._sar:
            self._is_long = True
            self._sar = min(self._extreme, previous.low, bar.low)
            self._output = self._sar
            self._af_long = self._af_init
            self._extreme = float(bar.high)
            self._sar = min(self._sar + self._af_long * (self._extreme - self._sar), previous.low, bar.low)
        else:
            self._output = -self._sar
            if bar.low < self._extreme:
                self._extreme = float(bar.low)
                self._af_short = min(self._af_short + self._af_increment, self._af_max)
            self._sar = max(self._sar + self._af_short * (self._extreme - self._sar), previous.high, bar.high)


