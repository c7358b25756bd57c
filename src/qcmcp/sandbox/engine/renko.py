"""LEAN's timeless consolidators: ``RenkoConsolidator`` (wicked bricks), ``VolumeRenkoConsolidator`` (and its
``DollarVolumeRenkoConsolidator``) and ``RangeConsolidator`` / ``ClassicRangeConsolidator``, with their bars.

They follow LEAN's Common/Data/Consolidators sources: a wicked Renko brick closes once the price moves a brick
beyond the previous brick's open (the first price rounded to the nearest multiple of the brick size); a volume
Renko bar closes once it holds ``bar_size`` of volume (the excess rolls into the next bar); a range bar closes
once its high-low range would exceed ``range`` minimum price variations (the first open rounded up to a multiple
of the range size), and the next one opens a tick beyond it. Bars are fed by the subscription like any
consolidator (``subscription_manager.add_consolidator``, ``consolidate(RenkoBar, symbol, size, None, handler)``)
or by ``update(bar)``.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from qcmcp.sandbox.engine.consolidators import EventHandlers, RenkoBar
from qcmcp.sandbox.engine.indicators import RollingWindow
from qcmcp.sandbox.engine.types import PascalAliases, TradeBar
from qcmcp.sandbox.engine.unsupported import refuse


class BarDirection:
    RISING = Rising = 0
    NO_DELTA = NoDelta = 1
    FALLING = Falling = 2


class RenkoType:
    CLASSIC = Classic = 0
    WICKED = Wicked = 1


class _TimelessBar(TradeBar):
    """The TradeBar surface of LEAN's volume Renko and range bars (``value``/``price`` are the close)."""

    start = property(lambda self: self.time)
    direction = RenkoBar.direction
    spread = RenkoBar.spread

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.symbol} {self.time} to {self.end_time} O:{self.open} H:{self.high} "
                f"L:{self.low} C:{self.close} V:{self.volume})")


class RenkoConsolidator(PascalAliases):
    """LEAN's RenkoConsolidator(bar_size): wicked Renko bricks of the data's price."""

    uses_bars = True
    type = RenkoType.WICKED

    def __init__(self, bar_size: float, *rest: Any) -> None:
        if rest:
            refuse("RenkoConsolidator with selectors (use ClassicRenkoConsolidator)")
        if not isinstance(bar_size, int | float) or isinstance(bar_size, bool) or bar_size <= 0:
            raise ValueError("Renko consolidator BarSize must be strictly greater than zero")
        self.bar_size = float(bar_size)
        self.data_consolidated = EventHandlers()
        self.window = RollingWindow(2)
        self.consolidated: Any = None
        self._current: Any = None
        self._last: RenkoBar | None = None
        self._first = True
        self.open_on = self.close_on = datetime.min
        self.open_rate = self.high_rate = self.low_rate = self.close_rate = 0.0
        self.input_type, self.output_type = TradeBar, RenkoBar

    working_data = property(lambda self: self._current)
    is_ready = property(lambda self: self.consolidated is not None)

    def __getitem__(self, index: int) -> Any:
        return self.window[index]

    current = property(lambda self: self.window[0] if len(self.window) else None)
    previous = property(lambda self: self.window[1] if len(self.window) > 1 else None)

    @staticmethod
    def get_closest_multiple(price: float, bar_size: float) -> float:
        """LEAN's GetClosestMultiple: the price rounded to the nearest multiple of the brick (half to even)."""
        if bar_size <= 0:
            raise ValueError("BarSize must be strictly greater than zero")
        floor = math.floor(price / bar_size)
        return bar_size * (floor + round((price - bar_size * floor) / bar_size))

    def update(self, time: Any, data: Any = None) -> None:
        data = data if data is not None else time
        rate = float(getattr(data, "price", None) if getattr(data, "price", None) is not None else data.value)
        if self._first:
            self._first = False
            rate = self.get_closest_multiple(rate, self.bar_size)
            self.open_on = self.close_on = data.time
            self.open_rate = self.high_rate = self.low_rate = self.close_rate = rate
            return
        self.close_on = data.time
        self.high_rate, self.low_rate = max(self.high_rate, rate), min(self.low_rate, rate)
        self.close_rate = rate
        if self.close_rate > self.open_rate:
            if self._last is None or self._last.direction == BarDirection.RISING:
                self._rising(data)
                return
            limit = self._last.open + self.bar_size
            if self.close_rate > limit:
                self._emit(RenkoBar(data.symbol, self.open_on, self.close_on, self.bar_size, self._last.open,
                                          limit, self.low_rate, limit))
                self.open_on, self.open_rate, self.low_rate = self.close_on, limit, limit
                self._rising(data)
        elif self.close_rate < self.open_rate:
            if self._last is None or self._last.direction == BarDirection.FALLING:
                self._falling(data)
                return
            limit = self._last.open - self.bar_size
            if self.close_rate < limit:
                self._emit(RenkoBar(data.symbol, self.open_on, self.close_on, self.bar_size, self._last.open,
                                          self.high_rate, limit, limit))
                self.open_on, self.open_rate, self.high_rate = self.close_on, limit, limit
                self._falling(data)

    def _rising(self, data: Any) -> None:
        while self.close_rate > (limit := self.open_rate + self.bar_size):
            self._emit(RenkoBar(data.symbol, self.open_on, self.close_on, self.bar_size, self.open_rate, limit,
                                      self.low_rate, limit))
            self.open_on, self.open_rate, self.low_rate = self.close_on, limit, limit

    def _falling(self, data: Any) -> None:
        while self.close_rate < (limit := self.open_rate - self.bar_size):
            self._emit(RenkoBar(data.symbol, self.open_on, self.close_on, self.bar_size, self.open_rate,
                                      self.high_rate, limit, limit))
            self.open_on, self.open_rate, self.high_rate = self.close_on, limit, limit

    def _emit(self, bar: Any) -> None:
        self._last = bar
        self.window.add(bar)
        self.data_consolidated(self, bar)
        self._current = bar
        self.consolidated = bar

    def feed_bar(self, bar: Any) -> None:
        self.update(bar)

    def scan(self, moment: datetime) -> None:
        pass

    def reset(self) -> None:
        self.__init__(self.bar_size)  # type: ignore[misc]


class WickedRenkoConsolidator(RenkoConsolidator):
    pass


class VolumeRenkoBar(_TimelessBar):
    """LEAN's VolumeRenkoBar: closed once it holds ``brick_size`` of volume."""

    def __init__(self, symbol: Any = None, start: datetime = datetime.min, end_time: datetime = datetime.min,
                 brick_size: float = 0.0, open: float = 0.0, high: float = 0.0, low: float = 0.0,
                 close: float = 0.0, volume: float = 0.0) -> None:
        self.symbol, self.time, self.end_time, self.brick_size = symbol, start, end_time, float(brick_size)
        self.open, self.high, self.low, self.close, self.volume = open, high, low, close, float(volume)
        self.type = RenkoType.CLASSIC

    is_closed = property(lambda self: self.volume >= self.brick_size)

    def update(self, time: datetime, high: float, low: float, close: float, volume: float) -> float:
        """Add a bar's volume; returns the volume beyond the brick (negative while the bar is not full)."""
        if self.is_closed:
            return 0.0
        self.end_time = time
        excess = self.volume + volume - self.brick_size
        self.volume = self.brick_size if excess > 0 else self.volume + volume
        self.close = close
        self.high, self.low = max(self.high, high), min(self.low, low)
        return excess

    def rollover(self) -> VolumeRenkoBar:
        return VolumeRenkoBar(self.symbol, self.end_time, self.end_time, self.brick_size, self.close, self.close,
                              self.close, self.close, 0.0)


class VolumeRenkoConsolidator(PascalAliases):
    """LEAN's VolumeRenkoConsolidator(bar_size): a bar per ``bar_size`` of traded volume, from trade bars."""

    uses_bars = True

    def __init__(self, bar_size: float) -> None:
        self.bar_size = float(bar_size)
        self.data_consolidated = EventHandlers()
        self.window = RollingWindow(2)
        self.consolidated: Any = None
        self._current: VolumeRenkoBar | None = None
        self.input_type, self.output_type = TradeBar, VolumeRenkoBar

    working_data = property(lambda self: self._current)
    is_ready = property(lambda self: self.consolidated is not None)
    current = property(lambda self: self.window[0] if len(self.window) else None)
    previous = property(lambda self: self.window[1] if len(self.window) > 1 else None)

    def __getitem__(self, index: int) -> Any:
        return self.window[index]

    def adjust_volume(self, volume: float, price: float) -> float:
        return volume

    def update(self, time: Any, data: Any = None) -> None:
        data = data if data is not None else time
        if type(data) is not TradeBar:
            raise ValueError(f"{type(self).__name__} must be used with TradeBar or Tick data.")
        close = float(data.close)
        volume = self.adjust_volume(float(data.volume), close)
        if self._current is None:
            self._current = VolumeRenkoBar(data.symbol, data.time, data.end_time, self.bar_size, data.open, data.high,
                                           data.low, close, 0.0)
        left = self._current.update(data.end_time, data.high, data.low, close, volume)
        while left >= 0:
            done = self._current
            self.window.add(done)
            self.consolidated = done
            self.data_consolidated(self, done)
            self._current = done.rollover()
            left = self._current.update(data.end_time, data.high, data.low, close, left)

    def feed_bar(self, bar: Any) -> None:
        self.update(bar)

    def scan(self, moment: datetime) -> None:
        pass

    def reset(self) -> None:
        self._current, self.consolidated = None, None
        self.window = RollingWindow(2)


class DollarVolumeRenkoConsolidator(VolumeRenkoConsolidator):
    """LEAN's DollarVolumeRenkoConsolidator: bars of ``bar_size`` dollars traded (volume × price)."""

    def adjust_volume(self, volume: float, price: float) -> float:
        return volume * price


class RangeBar(_TimelessBar):
    """LEAN's RangeBar: closed once the price leaves a ``range_size`` band (LEAN leaves its ``time`` unset)."""

    def __init__(self, symbol: Any = None, end_time: datetime = datetime.min, range_size: float = 0.0,
                 open: float = 0.0, high: float | None = None, low: float | None = None,
                 close: float | None = None, volume: float = 0.0) -> None:
        self.symbol, self.end_time, self.range_size = symbol, end_time, float(range_size)
        self.time = datetime.min
        self.open = float(open)
        self.close = float(close if close is not None else open)
        self.high = float(high if high is not None else open)
        self.low = float(low if low is not None else open)
        self.volume, self.is_closed = float(volume), False

    def update(self, time: datetime, value: float, volume: float) -> None:
        self.end_time = time
        if value < self.low:
            if self.high - value > self.range_size:
                self.is_closed = True
                self.low = self.close = self.high - self.range_size
                return
            self.low = value
        elif value > self.high:
            if value - self.low > self.range_size:
                self.is_closed = True
                self.high = self.close = self.low + self.range_size
                return
            self.high = value
        self.volume += volume


def _minimum_price_variation(symbol: Any) -> float:
    """The symbol's minimum price variation from LEAN's symbol properties database (a cent for US equities)."""
    from qcmcp.sandbox.engine.types import SecurityType

    if getattr(symbol, "security_type", SecurityType.EQUITY) == SecurityType.EQUITY:
        return 0.01
    refuse(f"RangeConsolidator for {symbol} (the sandbox knows the tick size of US equities)")


class RangeConsolidator(PascalAliases):
    """LEAN's RangeConsolidator(range, [selector, volume_selector]): bars ``range`` ticks high; a move through a
    whole bar emits it and opens the next a tick beyond (intermediate bars carry no volume)."""

    uses_bars = True

    def __init__(self, range: int, selector: Any = None, volume_selector: Any = None) -> None:
        self.range = int(range)
        self._selector = selector or (lambda data: data.value)
        self._volume = volume_selector or (lambda data: getattr(data, "volume", 0.0) if isinstance(data, TradeBar)
                                           else getattr(data, "quantity", 0.0))
        self.data_consolidated = EventHandlers()
        self.window = RollingWindow(2)
        self.consolidated: Any = None
        self._current: RangeBar | None = None
        self._first, self._tick, self.range_size = True, 0.0, 0.0
        self.input_type, self.output_type = TradeBar, RangeBar

    working_data = property(lambda self: self._current)
    is_ready = property(lambda self: self.consolidated is not None)
    current = property(lambda self: self.window[0] if len(self.window) else None)
    previous = property(lambda self: self.window[1] if len(self.window) > 1 else None)

    def __getitem__(self, index: int) -> Any:
        return self.window[index]

    def update(self, time: Any, data: Any = None) -> None:
        data = data if data is not None else time
        value, volume = float(self._selector(data)), float(self._volume(data))
        if self._current is not None:
            self._update_bar(data.time, value, volume)
        if self._current is None:
            opening = value
            if self._first:
                self._tick = _minimum_price_variation(data.symbol)
                self.range_size = self._tick * self.range
                opening = math.ceil(round(opening / self.range_size, 9)) * self.range_size
                self._first = False
            self._current = RangeBar(data.symbol, data.time, self.range_size, opening, volume=volume)

    def _update_bar(self, time: datetime, value: float, volume: float) -> None:
        bar = self._current
        assert bar is not None
        rising = value > bar.high if value > bar.high or value < bar.low else False
        bar.update(time, value, volume)
        while bar.is_closed:
            self._emit(bar)
            start = bar.high + self._tick if rising else bar.low - self._tick
            bar = self._current = RangeBar(bar.symbol, bar.end_time, self.range_size, start)
            bar.update(time, value, 0.0 if abs(bar.low - value) > self.range_size else volume)

    def _emit(self, bar: RangeBar) -> None:
        self.window.add(bar)
        self.consolidated = bar
        self.data_consolidated(self, bar)

    def feed_bar(self, bar: Any) -> None:
        self.update(bar)

    def scan(self, moment: datetime) -> None:
        pass

    def reset(self) -> None:
        self._current, self.consolidated, self._first, self._tick, self.range_size = None, None, True, 0.0, 0.0
        self.window = RollingWindow(2)


class ClassicRangeConsolidator(RangeConsolidator):
    """LEAN's ClassicRangeConsolidator: a move beyond the range closes the bar; the next bar opens with the next
    data point (no intermediate bars)."""

    def _update_bar(self, time: datetime, value: float, volume: float) -> None:
        bar = self._current
        assert bar is not None
        bar.update(time, value, volume)
        if bar.is_closed:
            self._emit(bar)
            self._current = None


def typed_consolidator(bar_type: type, size: float) -> Any:
    """LEAN's QCAlgorithm.Consolidate(type, symbol, size, tick_type, handler): the size is a Renko brick, a volume
    brick, a range in ticks, or a bar count for trade bars, quote bars or any data (BaseData: its values)."""
    from qcmcp.sandbox.engine.consolidators import BaseDataConsolidator, QuoteBarConsolidator, TradeBarConsolidator

    name = bar_type.__name__
    if name == "RenkoBar":
        return RenkoConsolidator(size)
    if name == "VolumeRenkoBar":
        return VolumeRenkoConsolidator(size)
    if name == "RangeBar":
        return RangeConsolidator(int(size))
    if name == "TradeBar":
        return TradeBarConsolidator(int(size))
    if name == "QuoteBar":
        return QuoteBarConsolidator(int(size))
    if name == "BaseData":
        return BaseDataConsolidator(int(size))
    refuse(f"consolidate({name}, symbol, size, ...) (the sandbox consolidates trade bars, quote bars and data "
           "values)")
