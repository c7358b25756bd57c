"""LEAN's Sum, MassIndex, WilderSwingIndex, WilderAccumulativeSwingIndex and Beta indicators.

As LEAN's Indicators sources: Sum adds the last ``period`` values; MassIndex sums ``sum_period`` ratios of an EMA
of the bars' high-low range to the EMA of that EMA (the second fed once the first is ready), reading the period
until ready; Wilder's swing index is 50 · N/R · K/T from a bar and the previous one (T the limit move);
the accumulative one sums it; Beta is cov(target returns, reference returns) / var(reference returns) over
``period`` returns of bars the two symbols end at the same time (LEAN's DualSymbolIndicator).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

from qcmcp.sandbox.engine.indicators import ExponentialMovingAverage, Indicator


class Sum(Indicator):
    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"SUM({period})", period)
        self._args = (period, name)
        self.period = period
        self._buffer: deque[float] = deque(maxlen=period)

    def _compute(self, time: datetime, value: Any) -> float:
        self._buffer.append(self._price(value))
        return sum(self._buffer)


class MassIndex(Indicator):
    uses_bars = True

    def __init__(self, ema_period: int = 9, sum_period: int = 25, name: str | None = None) -> None:
        super().__init__(name or f"MASS({ema_period},{sum_period})", 2 * (ema_period - 1) + sum_period)
        self._args = (ema_period, sum_period, name)
        self._ema1, self._ema2 = ExponentialMovingAverage(ema_period), ExponentialMovingAverage(ema_period)
        self._sum = Sum(sum_period)

    is_ready = property(lambda self: self._sum.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        self._ema1.update(time, float(value.high) - float(value.low))
        if self._ema1.is_ready:  # LEAN's ema1.EMA(period): fed once the first EMA is ready
            self._ema2.update(time, self._ema1.current.value)
        if self._ema2.is_ready:
            ema2 = self._ema2.current.value
            self._sum.update(time, self._ema1.current.value / ema2 if ema2 else 0.0)
        return self._sum.current.value if self._sum.is_ready else float(self._sum.period)


class WilderSwingIndex(Indicator):
    uses_bars = True

    def __init__(self, limit_move: float, name: str | None = None) -> None:
        super().__init__(name or "SI", 2)
        self._args = (limit_move, name)
        self._limit = abs(float(limit_move))
        self._current: Any = None

    is_ready = property(lambda self: self.samples > 1)

    def _compute(self, time: datetime, value: Any) -> float:
        if self.samples <= 1:
            self._current = value
            return 0.0
        previous, current = self._current, value
        self._current = value
        n = (current.close - previous.close) + 0.5 * (current.close - current.open) + \
            0.25 * (previous.close - previous.open)
        up, down, span = abs(current.high - previous.close), abs(current.low - previous.close), \
            abs(current.high - current.low)
        largest = max(up, down, span)
        drift = abs(0.25 * (previous.close - previous.open))
        if largest == up:
            r = up - abs(0.5 * (current.low - previous.close)) + drift
        elif largest == down:
            r = down - abs(0.5 * (current.high - previous.close)) + drift
        else:
            r = span + drift
        k = max(abs(current.high - previous.close), abs(current.low - previous.close))
        if r == 0 or self._limit == 0:
            return 0.0
        return 50.0 * (n / r) * (k / self._limit)


class WilderAccumulativeSwingIndex(Indicator):
    uses_bars = True

    def __init__(self, limit_move: float, name: str | None = None) -> None:
        super().__init__(name or "ASI", 2)
        self._args = (limit_move, name)
        self._swing = WilderSwingIndex(limit_move)

    is_ready = property(lambda self: self.samples > 1)

    def _compute(self, time: datetime, value: Any) -> float:
        if not self._swing.update(time, value):
            return 0.0
        # LEAN reads IsReady (Samples > 1) after counting this sample
        return self.current.value + self._swing.current.value if self.samples > 1 else self._swing.current.value


class Beta(Indicator):
    """Beta(name, period, target, reference) or Beta(target, reference, period)."""

    uses_bars = True

    def __init__(self, *args: Any, name: str | None = None) -> None:
        if isinstance(args[0], int) and not isinstance(args[0], bool):
            period, target, reference = args[0], args[1], args[2]
        else:
            target, reference, period = args[0], args[1], args[2]
        if period < 2:
            raise ValueError(f"Period parameter for Beta indicator must be greater than 2 but was {period}.")
        super().__init__(name or f"B({period})", period + 1)
        self._args = (*args,)
        self._name = name
        self._target, self._reference = str(target), str(reference)
        self._points: dict[str, deque[Any]] = {self._target: deque(maxlen=2), self._reference: deque(maxlen=2)}
        self._inputs: dict[str, Any] = {}
        self._returns: dict[str, deque[float]] = {self._target: deque(maxlen=period),
                                                  self._reference: deque(maxlen=period)}
        self._resolution: timedelta | None = None
        self._value = 0.0

    @property
    def is_ready(self) -> bool:
        return all(len(r) == r.maxlen for r in self._returns.values())

    def reset(self) -> None:
        self.__init__(*self._args, name=self._name)  # type: ignore[misc]

    def _key(self, bar: Any) -> datetime:
        """The bar's end time rounded to the resolution of the first bar (LEAN's AdjustDateToResolution: daily
        beyond an hour, else the resolution at or below the bar's span)."""
        end = bar.end_time
        step = self._resolution or timedelta(0)
        if step > timedelta(hours=1):
            return datetime.combine(end.date(), datetime.min.time())
        if step >= timedelta(hours=1):
            return end.replace(minute=0, second=0, microsecond=0)
        if step >= timedelta(minutes=1):
            return end.replace(second=0, microsecond=0)
        return end

    def _compute(self, time: datetime, value: Any) -> float:
        symbol = str(value.symbol)
        if symbol not in self._points:
            raise ValueError(f"Input symbol {symbol} does not correspond to any of the symbols this indicator "
                             f"works on ({self._target}, {self._reference})")
        if self.samples == 1:
            self._resolution = value.end_time - value.time
            self._inputs[symbol] = value
            return 0.0
        self._inputs[symbol] = value
        keys = {self._key(self._inputs[s]) if s in self._inputs else None for s in self._points}
        if len(keys) == 1 and None not in keys:
            for s, points in self._points.items():
                points.append(self._inputs[s])
            for s, points in self._points.items():
                if len(points) == 2:
                    self._returns[s].append(points[1].close / points[0].close - 1 if points[0].close else -1.0)
            self._value = self._beta()
        return self._value

    def _beta(self) -> float:
        target, reference = list(self._returns[self._target]), list(self._returns[self._reference])
        count = min(len(target), len(reference))
        if count < 2:
            return 0.0
        target, reference = target[-count:], reference[-count:]
        mean_t, mean_r = sum(target) / count, sum(reference) / count
        variance = sum((r - mean_r) ** 2 for r in reference) / (count - 1)
        covariance = sum((t - mean_t) * (r - mean_r) for t, r in zip(target, reference, strict=True)) / (count - 1)
        return (covariance if covariance else 0.0) / (variance if variance else 1.0)
