"""LEAN-style indicators: ``update``, ``current.value``, ``is_ready``, and comparisons.

Definitions follow LEAN's: EMA seeded with the SMA of its first period, RSI and ATR averaging with any
MovingAverageType (Wilders by default), Bollinger bands from the population standard deviation.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime
from typing import Any


class IndicatorDataPoint:
    __slots__ = ("time", "value")

    def __init__(self, time: datetime | None = None, value: float = 0.0) -> None:
        self.time = time
        self.value = value

    Value = property(lambda self: self.value)
    Time = property(lambda self: self.time)
    end_time = property(lambda self: self.time)
    EndTime = end_time
    price = property(lambda self: self.value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IndicatorDataPoint):
            return self.time == other.time and self.value == other.value
        return NotImplemented

    __hash__ = object.__hash__

    def __float__(self) -> float:
        return float(self.value)

    def __repr__(self) -> str:
        return f"{self.value}"


class _Handlers:
    def __init__(self, handlers: list[Any]) -> None:
        self._handlers = handlers

    def __iadd__(self, handler: Any) -> _Handlers:
        self._handlers.append(handler)
        return self

    def __isub__(self, handler: Any) -> _Handlers:
        if handler in self._handlers:
            self._handlers.remove(handler)
        return self


def _value(other: Any) -> float:
    return float(other.current.value) if isinstance(other, Indicator) else float(other)


class Indicator:
    """Base: subclasses implement ``_compute(time, input)`` and ``warm_up_period``."""

    uses_bars = False  # True when the indicator needs OHLC, not just a price
    selector: Any = None  # register_indicator(..., selector=lambda bar: ...): what of a bar it takes

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """LEAN's constructors take an optional name first: RelativeStrengthIndex("First", 15, ...)."""
        super().__init_subclass__(**kwargs)
        original = cls.__dict__.get("__init__")
        if original is None:
            return

        def __init__(self: Any, *args: Any, **named: Any) -> None:
            if args and isinstance(args[0], str) and "name" not in named:
                named["name"], args = args[0], args[1:]
            original(self, *args, **named)

        __init__.__wrapped__ = original  # type: ignore[attr-defined]
        cls.__init__ = __init__  # type: ignore[method-assign]

    def __init__(self, name: str, period: int) -> None:
        self.name = name
        self.warm_up_period = period
        self.samples = 0
        self.current = IndicatorDataPoint()
        self.updated_handlers: list[Any] = []
        self.window = RollingWindow(2)  # LEAN's indicator history: [0] the current value, [1] the previous

    @property
    def updated(self) -> Any:
        """``indicator.updated += handler``: handler(sender, point) after each update."""
        return _Handlers(self.updated_handlers)

    @updated.setter
    def updated(self, value: Any) -> None:
        pass  # the += above already appended

    def __getitem__(self, index: int) -> IndicatorDataPoint:
        return self.window[index]

    @property
    def previous(self) -> IndicatorDataPoint:
        return self.window[1] if len(self.window) > 1 else IndicatorDataPoint()

    def feed_bar(self, bar: Any) -> bool:
        """Update from a bar as the engine feeds it: the selector's value, the bar, or its close."""
        value = self.selector(bar) if self.selector is not None else bar if self.uses_bars else bar.close
        return self.update(bar.end_time, value)

    @property
    def is_ready(self) -> bool:
        return self.samples >= self.warm_up_period

    def update(self, time: datetime, value: Any = None) -> bool:
        """Feed a price (``update(time, 101.5)``), an IndicatorDataPoint or a bar."""
        if value is None and hasattr(time, "end_time"):
            time, value = time.end_time, time  # update(bar)
        if isinstance(value, IndicatorDataPoint):
            value = value.value
        self.samples += 1
        self.current = IndicatorDataPoint(time, float(self._compute(time, value)))
        self.window.add(self.current)
        for handler in self.updated_handlers:
            handler(self, self.current)
        return self.is_ready

    def reset(self) -> None:
        """Back to its initial state; those listening to its updates still are (LEAN's Reset keeps ``Updated``)."""
        handlers = self.updated_handlers
        self.__init__(*self._args)  # type: ignore[misc, attr-defined]
        self.updated_handlers = handlers

    def _price(self, value: Any) -> float:
        return float(value.close) if hasattr(value, "close") else float(value)

    def _compute(self, time: datetime, value: Any) -> float:
        raise NotImplementedError

    # Comparisons and arithmetic against numbers and other indicators.
    def __lt__(self, other: Any) -> bool: return self.current.value < _value(other)
    def __le__(self, other: Any) -> bool: return self.current.value <= _value(other)
    def __gt__(self, other: Any) -> bool: return self.current.value > _value(other)
    def __ge__(self, other: Any) -> bool: return self.current.value >= _value(other)
    def __float__(self) -> float: return float(self.current.value)
    def __sub__(self, other: Any) -> float: return self.current.value - _value(other)
    def __add__(self, other: Any) -> float: return self.current.value + _value(other)
    def __mul__(self, other: Any) -> float: return self.current.value * _value(other)
    def __truediv__(self, other: Any) -> float: return self.current.value / _value(other)
    def __repr__(self) -> str: return f"{self.name}: {self.current.value}"

    # PascalCase aliases, as LEAN's Python API accepts both.
    Current = property(lambda self: self.current)
    IsReady = property(lambda self: self.is_ready)
    Update = property(lambda self: self.update)
    Name = property(lambda self: self.name)
    WarmUpPeriod = property(lambda self: self.warm_up_period)
    Samples = property(lambda self: self.samples)


class SimpleMovingAverage(Indicator):
    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"SMA({period})", period)
        self._args = (period, name)
        self.period = period
        self._buffer: deque[float] = deque(maxlen=period)
        self._sum = 0.0

    def _compute(self, time: datetime, value: Any) -> float:
        price = self._price(value)
        if len(self._buffer) == self.period:
            self._sum -= self._buffer[0]
        self._buffer.append(price)
        self._sum += price
        return self._sum / len(self._buffer)


class MovingAverageType:
    """LEAN's MovingAverageType (both spellings, ``EXPONENTIAL`` and ``Exponential``)."""

    SIMPLE, EXPONENTIAL, WILDERS, LINEAR_WEIGHTED_MOVING_AVERAGE, DOUBLE_EXPONENTIAL, TRIPLE_EXPONENTIAL, \
        TRIANGULAR, T3, KAMA, HULL, ALMA, ZLEMA, MGD = range(13)
    Simple, Exponential, Wilders, LinearWeightedMovingAverage, DoubleExponential, TripleExponential, \
        Triangular, _t3, Kama, Hull, Alma, Zlema, Mgd = range(13)
    NAMES = ("Simple", "Exponential", "Wilders", "LinearWeightedMovingAverage", "DoubleExponential",
             "TripleExponential", "Triangular", "T3", "Kama", "Hull", "Alma", "Zlema", "MGD")


def moving_average(kind: Any, period: int, default: int = MovingAverageType.EXPONENTIAL) -> Indicator:
    """LEAN's MovingAverageType.AsIndicator(period) (every type but Alma and MGD, which refuse)."""
    kind = default if kind is None else int(kind)
    if kind == MovingAverageType.SIMPLE:
        return SimpleMovingAverage(period)
    if kind == MovingAverageType.EXPONENTIAL:
        return ExponentialMovingAverage(period)
    from qcmcp.sandbox.engine.trend_indicators import lean_average

    return lean_average(kind, period)


class Identity(Indicator):
    """The last value itself (LEAN's Identity)."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name or "IDENTITY", 1)
        self._args = (name,)

    def _compute(self, time: datetime, value: Any) -> float:
        return self._price(value)


class Delay(Indicator):
    """The value ``period`` samples ago (LEAN's Delay); the first value until it has one."""

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"DELAY({period})", period + 1)
        self._args = (period, name)
        self._buffer: deque[float] = deque(maxlen=period + 1)

    def _compute(self, time: datetime, value: Any) -> float:
        self._buffer.append(self._price(value))
        return self._buffer[0]  # the oldest kept: the first value until ``period`` have passed


class ExponentialMovingAverage(Indicator):
    def __init__(self, period: int, smoothing_factor: float | None = None, name: str | None = None) -> None:
        super().__init__(name or f"EMA({period})", period)
        self._args = (period, smoothing_factor, name)
        self.period = period
        self.k = smoothing_factor if smoothing_factor is not None else 2.0 / (period + 1)
        self._seed: list[float] = []
        self._ema = 0.0

    def _compute(self, time: datetime, value: Any) -> float:
        """LEAN's: 0 until ready, then the SMA of the first ``period`` samples, then the exponential update."""
        price = self._price(value)
        if len(self._seed) < self.period:
            self._seed.append(price)
            self._ema = sum(self._seed) / len(self._seed)
            return self._ema if len(self._seed) == self.period else 0.0
        self._ema = price * self.k + self._ema * (1 - self.k)
        return self._ema


class RelativeStrengthIndex(Indicator):
    """LEAN's RSI: 100 - 100 / (1 + average gain / average loss), the averages of any MovingAverageType (Wilders
    by default) fed from the second value on; 100 while the average loss rounds to 0 (the first value too)."""

    def __init__(self, period: int, moving_average_type: Any = None, name: str | None = None) -> None:
        name = name or f"RSI({period})"
        super().__init__(name, period + 1)
        self._args = (period, moving_average_type, name)
        self.moving_average_type = MovingAverageType.WILDERS if moving_average_type is None else moving_average_type
        from qcmcp.sandbox.engine.trend_indicators import lean_average

        self.average_gain = lean_average(self.moving_average_type, period, name + "Up")
        self.average_loss = lean_average(self.moving_average_type, period, name + "Down")
        self._previous: float | None = None

    @property
    def is_ready(self) -> bool:
        return bool(self.average_gain.is_ready and self.average_loss.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        price = self._price(value)
        if self._previous is not None:
            change = price - self._previous
            self.average_gain.update(time, max(change, 0.0))
            self.average_loss.update(time, max(-change, 0.0))
        self._previous = price
        loss = max(self.average_loss.current.value, 0.0)
        gain = max(self.average_gain.current.value, 0.0)
        if round(loss, 10) == 0:
            return 100.0
        return 100.0 - 100.0 / (1.0 + gain / loss)

    AverageGain = property(lambda self: self.average_gain)
    AverageLoss = property(lambda self: self.average_loss)


class StandardDeviation(Indicator):
    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"STD({period})", period)
        self._args = (period, name)
        self._buffer: deque[float] = deque(maxlen=period)

    def _compute(self, time: datetime, value: Any) -> float:
        self._buffer.append(self._price(value))
        mean = sum(self._buffer) / len(self._buffer)
        return math.sqrt(sum((x - mean) ** 2 for x in self._buffer) / len(self._buffer))


class MovingAverageConvergenceDivergence(Indicator):
    def __init__(self, fast_period: int, slow_period: int, signal_period: int, moving_average_type: Any = None,
                 name: str | None = None) -> None:
        super().__init__(name or f"MACD({fast_period},{slow_period},{signal_period})", slow_period + signal_period - 1)
        self._args = (fast_period, slow_period, signal_period, moving_average_type, name)
        self.fast = moving_average(moving_average_type, fast_period)
        self.slow = moving_average(moving_average_type, slow_period)
        self.signal = moving_average(moving_average_type, signal_period)
        self.histogram = _Band(self.name + "_Histogram")

    @property
    def is_ready(self) -> bool:
        return self.signal.is_ready

    def _compute(self, time: datetime, value: Any) -> float:
        price = self._price(value)
        fast_ready = self.fast.update(time, price)
        slow_ready = self.slow.update(time, price)
        macd = self.fast.current.value - self.slow.current.value
        if fast_ready and slow_ready and self.signal.update(time, macd):
            self.histogram.update(time, macd - self.signal.current.value)
        return macd

    Fast = property(lambda self: self.fast)
    Slow = property(lambda self: self.slow)
    Signal = property(lambda self: self.signal)
    Histogram = property(lambda self: self.histogram)


class _Band(Indicator):
    """A named part its owner sets (LEAN's composite bands, MACD's histogram), ready by the owner's rule."""

    def __init__(self, ready: Any = None, name: str = "BAND") -> None:  # called as _Band(name, ready)
        super().__init__(name, 1)
        self._args = (ready, name)
        self._ready = ready

    @property
    def is_ready(self) -> bool:
        return bool(self._ready()) if self._ready is not None else self.samples > 0

    def _compute(self, time: datetime, value: Any) -> float:
        return self._price(value)


class BollingerBands(Indicator):
    """LEAN's BB: middle band (a moving average, simple by default) ± k standard deviations, band width
    100·(upper - lower)/middle and %B (price - lower)/(upper - lower), each an indicator; the value is the price
    (kept when the deviation is 0 once ready: LEAN's MathError)."""

    def __init__(self, period: int, k: float, moving_average_type: Any = None, name: str | None = None) -> None:
        name = name or f"BB({period},{k})"
        super().__init__(name, period)
        self._args = (period, k, moving_average_type, name)
        self.k = k
        self.standard_deviation = StandardDeviation(period, name + "_StandardDeviation")
        self.middle_band = moving_average(moving_average_type, period, MovingAverageType.SIMPLE)
        self.price = Identity(name + "_Close")

        def bands() -> bool:
            return bool(self.middle_band.is_ready and self.standard_deviation.is_ready)

        self.upper_band = _Band(name + "_UpperBand", bands)
        self.lower_band = _Band(name + "_LowerBand", bands)
        self.band_width = _Band(name + "_BandWidth", bands)
        self.percent_b = _Band(name + "_%B", lambda: bands() and self.price.is_ready)

    @property
    def is_ready(self) -> bool:
        return bool(self.middle_band.is_ready and self.upper_band.is_ready and self.lower_band.is_ready
                    and self.band_width.is_ready and self.percent_b.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        price = self._price(value)
        self.standard_deviation.update(time, price)
        self.middle_band.update(time, price)
        self.price.update(time, price)
        middle, width = self.middle_band.current.value, self.k * self.standard_deviation.current.value
        self.lower_band.update(time, middle - width)
        self.upper_band.update(time, middle + width)
        if middle != 0:  # else LEAN's Over gives a MathError: the part keeps its value
            self.band_width.update(time, 2 * width / middle * 100)
        if width != 0:
            self.percent_b.update(time, (price - (middle - width)) / (2 * width))
        if self.is_ready and self.standard_deviation.current.value == 0:
            return self.current.value
        return price

    MiddleBand = property(lambda self: self.middle_band)
    UpperBand = property(lambda self: self.upper_band)
    LowerBand = property(lambda self: self.lower_band)
    StandardDeviation = property(lambda self: self.standard_deviation)
    BandWidth = property(lambda self: self.band_width)
    PercentB = property(lambda self: self.percent_b)
    Price = property(lambda self: self.price)


class AverageTrueRange(Indicator):
    """LEAN's ATR: a moving average (Wilders by default; QCAlgorithm.atr's default is Simple) of every true range,
    the first bar's high - low included; ready with the average."""

    uses_bars = True

    def __init__(self, period: int, moving_average_type: Any = None, name: str | None = None) -> None:
        name = name or f"ATR({period})"
        super().__init__(name, period)
        self._args = (period, moving_average_type, name)
        from qcmcp.sandbox.engine.trend_indicators import TrueRange, lean_average

        kind = MovingAverageType.WILDERS if moving_average_type is None else moving_average_type
        self.true_range = TrueRange(name)
        self._smoother = lean_average(kind, period, f"{name}_{MovingAverageType.NAMES[int(kind)]}")

    @property
    def is_ready(self) -> bool:
        return bool(self._smoother.is_ready)

    def _compute(self, time: datetime, value: Any) -> float:
        if not hasattr(value, "high"):  # a plain price: a bar of that price
            from qcmcp.sandbox.engine.types import TradeBar

            value = TradeBar(None, time, time, float(value), float(value), float(value), float(value))
        self.true_range.update(time, value)
        self._smoother.update(time, self.true_range.current.value)
        return self._smoother.current.value

    TrueRange = property(lambda self: self.true_range)


class RateOfChange(Indicator):
    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"ROC({period})", period + 1)
        self._args = (period, name)
        self._buffer: deque[float] = deque(maxlen=period + 1)

    def _compute(self, time: datetime, value: Any) -> float:
        self._buffer.append(self._price(value))
        first = self._buffer[0]
        return 0.0 if len(self._buffer) <= self._buffer.maxlen - 1 or first == 0 else (self._buffer[-1] - first) / first  # type: ignore[operator]


class _Extremum(Indicator):
    pick = max

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"{type(self).__name__.upper()}({period})", period)
        self._args = (period, name)
        self._buffer: deque[float] = deque(maxlen=period)

    def _compute(self, time: datetime, value: Any) -> float:
        self._buffer.append(self._price(value))
        return type(self).pick(self._buffer)


class Maximum(_Extremum):
    pick = max


class Minimum(_Extremum):
    pick = min


class RollingWindow:
    """A fixed-size window where [0] is the most recent item, like LEAN's (``RollingWindow[T](size)`` too)."""

    def __class_getitem__(cls, item: Any) -> type[RollingWindow]:
        return cls

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: deque[Any] = deque(maxlen=size)
        self.samples = 0

    @property
    def size(self) -> int:
        return self._size

    @size.setter
    def size(self, value: int) -> None:
        self._size = value
        self._items = deque(self._items, maxlen=value)

    def reset(self) -> None:
        self._items.clear()

    @property
    def most_recently_removed(self) -> Any:
        return None

    def __setitem__(self, index: int, value: Any) -> None:
        self._items[index] = value

    def add(self, item: Any) -> None:
        self._items.appendleft(item)
        self.samples += 1

    def __getitem__(self, index: int) -> Any:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)

    @property
    def is_ready(self) -> bool:
        return len(self._items) == self._size

    @property
    def count(self) -> int:
        return len(self._items)

    Add = add
    IsReady = is_ready
    Count = count
    Size = size


SMA, EMA, RSI, MACD, BB, ATR, STD, ROC, MAX, MIN = (
    SimpleMovingAverage, ExponentialMovingAverage, RelativeStrengthIndex, MovingAverageConvergenceDivergence,
    BollingerBands, AverageTrueRange, StandardDeviation, RateOfChange, Maximum, Minimum,
)


class IndicatorResult:
    """What a CompositeIndicator's composer returns: a value (and LEAN's status, kept as given)."""

    def __init__(self, value: float, status: Any = 1) -> None:
        self.value, self.status = float(value), status

    Value = property(lambda self: self.value)


class IndicatorStatus:
    SUCCESS = Success = 1
    INVALID_INPUT = InvalidInput = 2
    MATH_ERROR = MathError = 3
    VALUE_NOT_READY = ValueNotReady = 4


class CompositeIndicator(Indicator):
    """LEAN's CompositeIndicator: ``composer(left, right)`` each time both sides have a new value, timed as
    the later; ready when both are. ``CompositeIndicator([name,] left, right, composer)``."""

    def __init__(self, left: Any, right: Any = None, composer: Any = None, name: str | None = None) -> None:
        super().__init__(name or f"COMPOSE({getattr(left, 'name', left)},{getattr(right, 'name', right)})", 0)
        self._args = (left, right, composer, name)
        self.left, self.right, self.composer = left, right, composer
        self._new = {"left": False, "right": False}
        left.updated_handlers.append(lambda sender, point: self._side("left", point))
        right.updated_handlers.append(lambda sender, point: self._side("right", point))

    @property
    def is_ready(self) -> bool:
        return bool(self.left.is_ready and self.right.is_ready)

    def _side(self, side: str, point: IndicatorDataPoint) -> None:
        self._new[side] = True
        # LEAN's: a constant side never updates, so the other side's new value alone updates the composite
        if all(new or isinstance(getattr(self, name), _Constant) for name, new in self._new.items()):
            self._new = {"left": False, "right": False}
            Indicator.update(self, point.time, point)

    def _compute(self, time: datetime, value: Any) -> float:
        result = self.composer(self.left, self.right)
        return float(result.value if isinstance(result, IndicatorResult) else result)

    def reset(self) -> None:  # the sides keep their own state, as LEAN's Reset resets both
        self.left.reset()
        self.right.reset()
        self.samples, self.current, self.window = 0, IndicatorDataPoint(), RollingWindow(2)
        self._new = {"left": False, "right": False}


class IndicatorExtensions:
    """LEAN's IndicatorExtensions: ``of`` feeds an indicator with another's values; ``over``, ``plus``,
    ``minus``, ``times`` compose two; ``sma``/``ema``/``max``/``min`` of an indicator's values."""

    @staticmethod
    def of(second: Any, first: Any, wait_for_first_to_ready: bool = True) -> Any:
        def feed(sender: Any, point: IndicatorDataPoint) -> None:
            if not wait_for_first_to_ready or first.is_ready:
                receive = getattr(second, "receive", None)  # a PythonIndicator's update takes the point itself
                receive(point.time, point) if receive is not None else second.update(point.time, point.value)

        first.updated_handlers.append(feed)
        return second

    @staticmethod
    def _compose(left: Any, right: Any, operation: Any, label: str, name: str | None) -> CompositeIndicator:
        if not isinstance(right, Indicator):
            constant = float(right)

            def value(indicator: Any) -> float:
                return constant
        else:
            def value(indicator: Any) -> float:
                return float(indicator.current.value)
        if not isinstance(right, Indicator):  # a constant: LEAN's ConstantIndicator, always ready
            right = _Constant(float(right))
        return CompositeIndicator(left, right, lambda l, r: operation(float(l.current.value), value(r)),
                                  name or f"{label}({left.name},{right.name})")

    @staticmethod
    def over(left: Any, right: Any, name: str | None = None) -> CompositeIndicator:
        return IndicatorExtensions._compose(left, right, lambda a, b: 0.0 if b == 0 else a / b, "OVER", name)

    @staticmethod
    def plus(left: Any, right: Any, name: str | None = None) -> CompositeIndicator:
        return IndicatorExtensions._compose(left, right, lambda a, b: a + b, "PLUS", name)

    @staticmethod
    def minus(left: Any, right: Any, name: str | None = None) -> CompositeIndicator:
        return IndicatorExtensions._compose(left, right, lambda a, b: a - b, "MINUS", name)

    @staticmethod
    def times(left: Any, right: Any, name: str | None = None) -> CompositeIndicator:
        return IndicatorExtensions._compose(left, right, lambda a, b: a * b, "TIMES", name)

    @staticmethod
    def sma(indicator: Any, period: int, wait_for_first_to_ready: bool = True) -> Any:
        return IndicatorExtensions.of(SimpleMovingAverage(period, f"SMA{period}_Of_{indicator.name}"), indicator,
                                      wait_for_first_to_ready)

    @staticmethod
    def ema(indicator: Any, period: int, smoothing_factor: float | None = None,
            wait_for_first_to_ready: bool = True) -> Any:
        return IndicatorExtensions.of(ExponentialMovingAverage(period, smoothing_factor,
                                                               f"EMA{period}_Of_{indicator.name}"),
                                      indicator, wait_for_first_to_ready)

    @staticmethod
    def max(indicator: Any, period: int, wait_for_first_to_ready: bool = True) -> Any:
        return IndicatorExtensions.of(Maximum(period, f"MAX{period}_Of_{indicator.name}"), indicator,
                                      wait_for_first_to_ready)

    @staticmethod
    def min(indicator: Any, period: int, wait_for_first_to_ready: bool = True) -> Any:
        return IndicatorExtensions.of(Minimum(period, f"MIN{period}_Of_{indicator.name}"), indicator,
                                      wait_for_first_to_ready)

    Of, Over, Plus, Minus, Times = of, over, plus, minus, times
    SMA, EMA, MAX, MIN = sma, ema, max, min


class _Constant(Indicator):
    def __init__(self, value: float, name: str | None = None) -> None:
        super().__init__(name or f"ConstantIndicator({value:g})", 0)
        self._args = (value, name)
        self.current = IndicatorDataPoint(None, float(value))

    def _compute(self, time: datetime, value: Any) -> float:
        return float(self.current.value)


class ConstantIndicator(_Constant):
    """LEAN's ConstantIndicator[IndicatorDataPoint](name, value): always ready, always ``value``."""

    def __class_getitem__(cls, item: Any) -> type[ConstantIndicator]:
        return cls


class Field:
    """LEAN's Field selectors: what of a bar an indicator takes."""

    OPEN = Open = staticmethod(lambda bar: bar.open)
    HIGH = High = staticmethod(lambda bar: bar.high)
    LOW = Low = staticmethod(lambda bar: bar.low)
    CLOSE = Close = staticmethod(lambda bar: bar.close)
    VOLUME = Volume = staticmethod(lambda bar: bar.volume)
    AVERAGE = Average = staticmethod(lambda bar: (bar.open + bar.high + bar.low + bar.close) / 4)
    MEDIAN = Median = staticmethod(lambda bar: (bar.high + bar.low) / 2)
    TYPICAL = Typical = staticmethod(lambda bar: (bar.high + bar.low + bar.close) / 3)
    WEIGHTED = Weighted = staticmethod(lambda bar: (bar.high + bar.low + 2 * bar.close) / 4)


class _Part:
    """A sub-indicator's face (Stochastic's fast_stoch, stoch_k, stoch_d): current value and readiness."""

    def __init__(self, name: str, ready: Any) -> None:
        self.name, self._ready = name, ready
        self.current = IndicatorDataPoint()
        self.samples = 0

    is_ready = property(lambda self: bool(self._ready()))
    IsReady = is_ready
    Current = property(lambda self: self.current)

    def _set(self, time: datetime, value: float) -> None:
        self.samples += 1
        self.current = IndicatorDataPoint(time, value)

    def __float__(self) -> float:
        return float(self.current.value)


class Stochastic(Indicator):
    """LEAN's Stochastic(period, k_period, d_period) of bars: fast %K from the period's high and low, %K its
    k-period mean, %D the d-period mean of %K (each 0 until ready); the value is the fast %K."""

    uses_bars = True

    def __init__(self, period: int, k_period: int, d_period: int, name: str | None = None) -> None:
        name = name or f"STO({period},{k_period},{d_period})"
        super().__init__(name, period + k_period + d_period - 2)
        self._args = (period, k_period, d_period, name)
        self.period, self.k_period, self.d_period = period, k_period, d_period
        self._max, self._min = Maximum(period), Minimum(period)
        self._fast_k: deque[float] = deque(maxlen=k_period)
        self._slow_k: deque[float] = deque(maxlen=d_period)
        self.fast_stoch = _Part(name + "_FastStoch", lambda: self._max.is_ready)
        self.stoch_k = _Part(name + "_StochK", lambda: len(self._fast_k) == self.k_period)
        self.stoch_d = _Part(name + "_StochD", lambda: len(self._slow_k) == self.d_period)

    @property
    def is_ready(self) -> bool:
        return self.fast_stoch.is_ready and self.stoch_k.is_ready and self.stoch_d.is_ready

    def _compute(self, time: datetime, value: Any) -> float:
        self._max.update(time, float(value.high))
        self._min.update(time, float(value.low))
        fast = 0.0
        if self._max.is_ready:
            denominator = self._max.current.value - self._min.current.value
            if denominator != 0:
                fast = (float(value.close) - self._min.current.value) / denominator
                self._fast_k.append(fast)
        self.fast_stoch._set(time, fast * 100)
        k = 0.0
        if len(self._fast_k) == self.k_period:
            k = sum(self._fast_k) / self.k_period
            self._slow_k.append(k)
        self.stoch_k._set(time, k * 100)
        d = sum(self._slow_k) / self.d_period if len(self._slow_k) == self.d_period else 0.0
        self.stoch_d._set(time, d * 100)
        return fast * 100

    FastStoch = property(lambda self: self.fast_stoch)
    StochK = property(lambda self: self.stoch_k)
    StochD = property(lambda self: self.stoch_d)


class ArmsIndex(Indicator):
    """LEAN's ArmsIndex (TRIN) over several symbols: (advancing / declining issues) / (advancing / declining
    volume), each symbol's bar against its bar of the previous period (LEAN's AdvanceDeclineIndicator: ready once
    a second period has begun; 0 until every symbol has a bar in the current period)."""

    uses_bars = True

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name or "TRIN", 2)
        self._args = (name,)
        self._current: dict[Any, Any] = {}
        self._previous: dict[Any, Any] = {}
        self._period_time: datetime | None = None

    def add(self, symbol: Any) -> None:
        self._current.setdefault(symbol, None)

    def remove(self, symbol: Any) -> None:
        self._current.pop(symbol, None)

    add_stock, remove_stock = add, remove

    @property
    def is_ready(self) -> bool:
        return bool(self._previous)

    def reset(self) -> None:
        symbols = list(self._current)
        super().reset()
        self._current = dict.fromkeys(symbols)

    def _enqueue(self, bar: Any) -> None:
        if bar.end_time == self._period_time:
            self._previous[bar.symbol] = bar
            return
        if self._period_time is not None and bar.time > self._period_time:
            self._previous = dict(self._current)
            self._current = dict.fromkeys(self._current)
            self._period_time = bar.time
        if bar.symbol in self._current and (self._period_time is None or bar.time == self._period_time):
            self._current[bar.symbol] = bar
            if self._period_time is None:
                self._period_time = bar.time

    def _compute(self, time: datetime, value: Any) -> float:
        self._enqueue(value)
        if not self._previous or any(bar is None for bar in self._current.values()):
            return 0.0
        advancing, declining = [], []
        for symbol, bar in self._current.items():
            before = self._previous.get(symbol)
            if before is None:
                continue
            if bar.close < before.close:
                declining.append(bar)
            elif bar.close > before.close:
                advancing.append(bar)

        def ratio(up: float, down: float) -> float:
            return up if down == 0 else up / down

        issues = ratio(len(advancing), len(declining))
        volume = ratio(sum(b.volume for b in advancing), sum(b.volume for b in declining))
        return 0.0 if volume == 0 else issues / volume


class IndicatorDataPoints:
    """One point of LEAN's IndicatorHistory: ``current`` and each sub-value (``point.upper_band``,
    ``point["middle_band"]``), all IndicatorDataPoints."""

    def __init__(self, time: datetime, current: IndicatorDataPoint, values: dict[str, IndicatorDataPoint]) -> None:
        self.time, self.end_time, self.current, self._values = time, time, current, values

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    def __getitem__(self, name: str) -> IndicatorDataPoint:
        return self.current if name == "current" else self._values[name]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int | float):
            return self.current.value == other
        return self is other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{self.time} {self.current.value}"


class IndicatorHistory:
    """LEAN's IndicatorHistory: the indicator's ready points over the history, oldest first (``count``,
    iteration, ``current``, ``history["upper_band"]``, ``data_frame``)."""

    def __init__(self, points: list[IndicatorDataPoints]) -> None:
        self.points = points

    count = property(lambda self: len(self.points))
    Count = count
    current = property(lambda self: [p.current for p in self.points])

    def __len__(self) -> int:
        return len(self.points)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.points)

    def __getitem__(self, name: str) -> list[IndicatorDataPoint]:
        return [p[name] for p in self.points]

    @property
    def data_frame(self) -> Any:
        import pandas as pd

        rows = [{"current": p.current.value, **{k: v.value for k, v in p._values.items()}} for p in self.points]
        return pd.DataFrame(rows, index=pd.Index([p.time for p in self.points], name="time"))

    def __repr__(self) -> str:
        return f"IndicatorHistory({len(self.points)} points)"


def sub_values(indicator: Any, time: datetime) -> dict[str, IndicatorDataPoint]:
    """The indicator's named parts (sub-indicators' current values, band points) at ``time``."""
    values = {}
    for name, part in vars(indicator).items():
        if name.startswith("_") or name in ("current", "window"):
            continue
        if isinstance(part, Indicator):
            values[name] = IndicatorDataPoint(time, part.current.value)
        elif isinstance(part, IndicatorDataPoint):
            values[name] = IndicatorDataPoint(time, part.value)
    return values
