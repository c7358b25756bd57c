"""LEAN's volume indicators (OBV, AD, ADOSC, MFI, VWAP, VWMA), as its Indicators/*.cs compute them from
trade bars."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from qcmcp.sandbox.engine.indicators import ExponentialMovingAverage
from qcmcp.sandbox.engine.swing_indicators import Sum
from qcmcp.sandbox.engine.trend_indicators import _LeanIndicator, _Part


def _volume(bar: Any) -> float:
    return float(getattr(bar, "volume", 0.0) or 0.0)


class OnBalanceVolume(_LeanIndicator):
    """The first bar's volume, then ± each bar's volume as its close is above or below the previous one."""

    uses_bars = True

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name or "OBV", 1)
        self._args = (name,)
        self._previous: Any = None

    is_ready = property(lambda self: self._previous is not None)

    def _compute(self, time: datetime, value: Any) -> float:
        obv = self.current.value
        if self._previous is None:
            obv = _volume(value)
        elif value.close > self._previous.close:
            obv += _volume(value)
        elif value.close < self._previous.close:
            obv -= _volume(value)
        self._previous = value
        return obv


class AccumulationDistribution(_LeanIndicator):
    """The running sum of ((close - low) - (high - close)) / (high - low) · volume (0 for a flat bar)."""

    uses_bars = True

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name or "AD", 1)
        self._args = (name,)

    def _compute(self, time: datetime, value: Any) -> float:
        high, low, close = float(value.high), float(value.low), float(value.close)
        span = high - low
        flow = ((close - low) - (high - close)) / span * _volume(value) if span > 0 else 0.0
        return self.current.value + flow


class AccumulationDistributionOscillator(_LeanIndicator):
    """Chaikin's oscillator: EMA(fast) - EMA(slow) of the AD line; 0 until max(fast, slow) bars."""

    uses_bars = True

    def __init__(self, fast_period: int, slow_period: int, name: str | None = None) -> None:
        name = name or f"ADOSC({fast_period},{slow_period})"
        super().__init__(name, max(fast_period, slow_period))
        self._args = (fast_period, slow_period, name)
        self._ad = AccumulationDistribution(name + "_AD")
        self._fast = ExponentialMovingAverage(fast_period, None, name + "_Fast")
        self._slow = ExponentialMovingAverage(slow_period, None, name + "_Slow")

    def _compute(self, time: datetime, value: Any) -> float:
        self._ad.update(time, value)
        self._fast.update(time, self._ad.current.value)
        self._slow.update(time, self._ad.current.value)
        return self._fast.current.value - self._slow.current.value if self.is_ready else 0.0


class MoneyFlowIndex(_LeanIndicator):
    """100 · positive money flow / total money flow over the period (100 when there is none); a bar's flow is
    its typical price · volume, positive when the typical price rose (from 0 before the first bar)."""

    uses_bars = True

    def __init__(self, period: int, name: str | None = None) -> None:
        name = name or f"MFI({period})"
        super().__init__(name, period)
        self._args = (period, name)
        self.positive_money_flow = Sum(period, name + "_PositiveMoneyFlow")
        self.negative_money_flow = Sum(period, name + "_NegativeMoneyFlow")
        self.previous_typical_price = 0.0

    is_ready = property(lambda self: self.positive_money_flow.is_ready and self.negative_money_flow.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        typical = (float(value.high) + float(value.low) + float(value.close)) / 3
        flow = typical * _volume(value)
        self.positive_money_flow.update(time, flow if typical > self.previous_typical_price else 0.0)
        self.negative_money_flow.update(time, flow if typical < self.previous_typical_price else 0.0)
        self.previous_typical_price = typical
        total = self.positive_money_flow.current.value + self.negative_money_flow.current.value
        return 100.0 if total == 0 else 100.0 * self.positive_money_flow.current.value / total


class IntradayVwap(_LeanIndicator):
    """The day's volume-weighted typical price ((high + low + close) / 3), restarting each day of the bars' end
    time; ready once the day has volume. Fill-forward bars and plain values are not counted (LEAN's
    InvalidInput: the value stays)."""

    uses_bars = True

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name or "VWAP", 1)
        self._args = (name,)
        self._day: date | None = None
        self._volume = self._weighted = 0.0

    is_ready = property(lambda self: self._volume > 0)

    def update(self, time: Any, value: Any = None) -> bool:
        bar = time if value is None and hasattr(time, "end_time") else value
        if not hasattr(bar, "high") or getattr(bar, "is_fill_forward", False):
            self.samples += 1
            return self.is_ready
        return super().update(bar.end_time, bar)

    def _compute(self, time: datetime, value: Any) -> float:
        day = value.end_time.date()
        if self._day != day:
            self._volume = self._weighted = 0.0
            self._day = day
        volume = _volume(value)
        self._volume += volume
        self._weighted += (float(value.high) + float(value.low) + float(value.close)) / 3 * volume
        return float(value.close) if self._volume == 0 else self._weighted / self._volume


class VolumeWeightedAveragePriceIndicator(_LeanIndicator):
    """The volume-weighted (open + high + low + close) / 4 over the last ``period`` bars (LEAN's
    Price.WeightedBy(Volume, period)); the previous value while the period has no volume."""

    uses_bars = True

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"VWAP({period})", period)
        self._args = (period, name)
        self._numerator, self._denominator = Sum(period, "Sum_xy"), Sum(period, "Sum_y")
        self.vwap = _Part("VWAP", lambda: self._numerator.is_ready and self._denominator.is_ready)

    is_ready = property(lambda self: self.vwap.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        price = (float(value.open) + float(value.high) + float(value.low) + float(value.close)) / 4
        volume = _volume(value)
        self._numerator.update(time, price * volume)
        self._denominator.update(time, volume)
        if self._denominator.current.value != 0:  # else LEAN's MathError: the value stays
            self.vwap.update(time, self._numerator.current.value / self._denominator.current.value)
        return self.vwap.current.value


class VolumeWeightedMovingAverage(_LeanIndicator):
    """sum(close · volume) / sum(volume) over the period (the close while the period has no volume)."""

    uses_bars = True

    def __init__(self, period: int, name: str | None = None) -> None:
        name = name or f"VWMA({period})"
        super().__init__(name, period)
        self._args = (period, name)
        self._price_volume = Sum(period, name + "_SumPxV")
        self._volume = Sum(period, name + "_SumVolume")

    is_ready = property(lambda self: self._price_volume.is_ready and self._volume.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        volume = _volume(value)
        self._price_volume.update(time, float(value.close) * volume)
        self._volume.update(time, volume)
        total = self._volume.current.value
        return self._price_volume.current.value / total if total != 0 else float(value.close)
