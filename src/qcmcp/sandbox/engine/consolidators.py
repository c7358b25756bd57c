"""LEAN's bar consolidators: ``TradeBarConsolidator(timedelta | int)``, ``consolidate(...)``, ``add_consolidator``.

A period consolidator groups bars into periods that start on multiples of the period since midnight (LEAN's
``PeriodCountConsolidatorBase`` rounds the bar time down to the period) and emits the consolidated bar as soon
as the period is over: when the bar that ends it arrives (LEAN also scans each time step, which emits at the
same moment for bars of a finer resolution). A count consolidator emits every ``n`` bars. The bar emitted has
``time`` = period start, ``end_time`` = start + period, open of the first bar, high/low of all, close of the
last, summed volume. Handlers subscribed with ``data_consolidated += handler`` are called ``handler(sender,
bar)``; ``window`` keeps the latest consolidated bars (``[0]`` the newest), as LEAN's ``RollingWindow``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from qcmcp.sandbox.engine.data_config import SubscriptionDataConfig
from qcmcp.sandbox.engine.indicators import RollingWindow
from qcmcp.sandbox.engine.seeding import Bar, QuoteBar
from qcmcp.sandbox.engine.types import PascalAliases, Resolution, TradeBar
from qcmcp.sandbox.engine.unsupported import refuse

RESOLUTION_PERIODS = {Resolution.MINUTE: timedelta(minutes=1), Resolution.HOUR: timedelta(hours=1),
                      Resolution.SECOND: timedelta(seconds=1)}


class EventHandlers:
    """``event += handler`` / ``event -= handler``, as LEAN's Python events."""

    def __init__(self) -> None:
        self.handlers: list[Callable[..., Any]] = []

    def __iadd__(self, handler: Callable[..., Any]) -> EventHandlers:
        self.handlers.append(handler)
        return self

    def __isub__(self, handler: Callable[..., Any]) -> EventHandlers:
        if handler in self.handlers:
            self.handlers.remove(handler)
        return self

    def __call__(self, *args: Any) -> None:
        for handler in list(self.handlers):
            handler(*args)


class TradeBarConsolidator(PascalAliases):
    uses_bars = True  # fed like an indicator that takes bars

    def __init__(self, period: timedelta | int | Any = None, start_time: timedelta | None = None, *,
                 window_size: int = 2) -> None:
        self.start_time = start_time or timedelta(0)  # periods start at midnight + start_time + k * period
        self.period: timedelta | None = None
        self.count: int | None = None
        if isinstance(period, timedelta):
            self.period = period
        elif isinstance(period, int) and not isinstance(period, bool):
            self.count = period
        elif isinstance(period, str) and period in RESOLUTION_PERIODS:
            self.period = RESOLUTION_PERIODS[period]
        elif isinstance(period, str) and period == Resolution.DAILY:
            self.period = timedelta(days=1)
        else:
            refuse(f"{type(self).__name__}({period!r}) (the sandbox consolidates by a timedelta, a bar count or a "
                   "resolution)")
        self.data_consolidated = EventHandlers()
        self.window = RollingWindow(window_size)
        self.working_data: TradeBar | None = None
        self.consolidated: TradeBar | None = None
        self._seen = 0
        self.input_type = TradeBar
        self.output_type = TradeBar

    # LEAN's newer consolidator surface: [0], current, previous, window
    def __getitem__(self, index: int) -> TradeBar:
        return self.window[index]

    @property
    def current(self) -> TradeBar | None:
        return self.window[0] if len(self.window) else None

    @property
    def previous(self) -> TradeBar | None:
        return self.window[1] if len(self.window) > 1 else None

    def _start_of(self, moment: datetime) -> datetime:
        assert self.period is not None
        if self.period >= timedelta(days=1):
            return datetime.combine(moment.date(), datetime.min.time())
        origin = datetime.combine(moment.date(), datetime.min.time()) + self.start_time
        steps = (moment - origin) // self.period
        return origin + steps * self.period

    def update(self, time: Any, bar: Any = None) -> None:
        bar = bar if bar is not None else time
        if self.period is not None:
            start = self._start_of(bar.time)
            if self.working_data is not None and start >= self.working_data.end_time:
                self._emit()  # a bar of a later period: the working one is complete
        if self.working_data is None:
            start = self._start_of(bar.time) if self.period is not None else bar.time
            end = start + self.period if self.period is not None else bar.end_time
            self.working_data = self._new_bar(bar, start, end)
            self._seen = 1
        else:
            self._aggregate(self.working_data, bar)
            self._seen += 1
            if self.count is not None:
                self.working_data.end_time = bar.end_time
        if self.period is not None and self.period < timedelta(days=1) and bar.end_time >= self.working_data.end_time:
            self._emit()
        elif self.count is not None and self._seen >= self.count:
            self._emit()

    def _new_bar(self, bar: Any, start: datetime, end: datetime) -> Any:
        return TradeBar(bar.symbol, start, end, bar.open, bar.high, bar.low, bar.close, bar.volume)

    def _aggregate(self, working: Any, bar: Any) -> None:
        working.high, working.low = max(working.high, bar.high), min(working.low, bar.low)
        working.close, working.volume = bar.close, working.volume + bar.volume

    def feed_bar(self, bar: Any) -> None:
        self.update(bar.end_time, bar)

    def scan(self, moment: datetime) -> None:
        """LEAN's Scan: emit a period bar whose period ended by ``moment`` (e.g. a daily bar at the close)."""
        if self.working_data is not None and self.period is not None and moment >= self.working_data.end_time:
            self._emit()

    def close_session(self, moment: datetime) -> None:
        """A daily period ends with the session."""
        if self.working_data is not None and self.period is not None and self.period >= timedelta(days=1):
            self.working_data.end_time = moment
            self._emit()

    def _emit(self) -> None:
        bar, self.working_data = self.working_data, None
        if bar is None:
            return
        self.consolidated = bar
        self.window.add(bar)
        self.data_consolidated(self, bar)

    def reset(self) -> None:
        self.working_data, self.consolidated, self._seen = None, None, 0
        self.window = RollingWindow(self.window.size)

    is_ready = property(lambda self: self.consolidated is not None)


class QuoteBarConsolidator(TradeBarConsolidator):
    """LEAN's QuoteBarConsolidator: fed the subscription's quote bars; the bid and ask bars open at the first
    quote's open (or, after the first emission, at the previous consolidated bar's closes), take the highs and
    lows, close at the last quote; the last bid/ask sizes are the latest quote's."""

    uses_quotes = True

    def __init__(self, period: timedelta | int | Any = None, start_time: timedelta | None = None, *,
                 window_size: int = 2) -> None:
        super().__init__(period, start_time, window_size=window_size)
        self.input_type = self.output_type = QuoteBar

    def _new_bar(self, bar: Any, start: datetime, end: datetime) -> Any:
        working = QuoteBar(start, bar.symbol, None, 0.0, None, 0.0, period=end - start)
        previous = self.consolidated
        if previous is not None:  # LEAN: open at the previous consolidated bar's closes
            working.last_bid_size, working.last_ask_size = previous.last_bid_size, previous.last_ask_size
            if previous.bid is not None:
                working.bid = Bar(*[previous.bid.close] * 4)
            if previous.ask is not None:
                working.ask = Bar(*[previous.ask.close] * 4)
        self._aggregate(working, bar)
        return working

    def _aggregate(self, working: Any, bar: Any) -> None:
        for side in ("bid", "ask"):
            quote = getattr(bar, side)
            if quote is None:
                continue
            setattr(working, f"last_{side}_size", getattr(bar, f"last_{side}_size"))
            mine = getattr(working, side)
            if mine is None:
                setattr(working, side, Bar(quote.open, quote.high, quote.low, quote.close))
            else:
                mine.close, mine.high, mine.low = quote.close, max(mine.high, quote.high), min(mine.low, quote.low)


class BaseDataConsolidator(TradeBarConsolidator):
    """LEAN's BaseDataConsolidator: a TradeBar of the data points' values (open, high, low, close of ``value``;
    no volume)."""

    def _new_bar(self, bar: Any, start: datetime, end: datetime) -> Any:
        return TradeBar(bar.symbol, start, end, bar.value, bar.value, bar.value, bar.value, 0.0)

    def _aggregate(self, working: Any, bar: Any) -> None:
        working.high, working.low, working.close = max(working.high, bar.value), min(working.low, bar.value), bar.value


class IdentityDataConsolidator(TradeBarConsolidator):
    """Passes every bar through (LEAN's IdentityDataConsolidator: what resolve_consolidator gives at the
    subscription's own resolution)."""

    def __init__(self, *_: Any) -> None:
        super().__init__(1)

    def update(self, time: Any, bar: Any = None) -> None:
        bar = bar if bar is not None else time
        self.working_data = bar
        self._emit()


class _Items(list):  # type: ignore[type-arg]
    """A LEAN collection seen from Python: ``.count`` is its size."""

    count = property(len)  # type: ignore[assignment]
    Count = count


class SubscriptionManager(PascalAliases):
    """``self.subscription_manager``: consolidators and the securities' data configurations."""

    def __init__(self, algorithm: Any) -> None:
        self._algorithm = algorithm

    def add_consolidator(self, symbol: Any, consolidator: Any, tick_type: Any = None) -> None:
        if not isinstance(consolidator, TradeBarConsolidator) and not hasattr(consolidator, "feed_bar"):
            refuse(f"consolidator {type(consolidator).__name__} (the sandbox has TradeBarConsolidator)")
        engine = self._algorithm.engine
        sym = engine.symbol_for(symbol)
        if sym not in engine.securities:
            raise KeyError(f"'{sym}' is not subscribed: call add_equity('{sym}') before adding a consolidator.")
        if any(item is consolidator for _, item in engine.indicator_registry.get(sym, [])):
            return  # LEAN keeps a subscription's consolidators in a set: adding one twice feeds it once
        engine.attach(sym, engine.securities[sym].resolution, consolidator)

    @property
    def subscriptions(self) -> list[SubscriptionDataConfig]:
        """LEAN's SubscriptionManager.Subscriptions: one trade-bar configuration per security with data."""
        engine = self._algorithm.engine
        configs = []
        for symbol, security in engine.securities.items():
            if symbol in engine.removed:
                continue
            consolidators = _Items(item for _, item in engine.indicator_registry.get(symbol, [])
                                   if isinstance(item, TradeBarConsolidator) or
                                   (hasattr(item, "data_consolidated") and not hasattr(item, "warm_up_period")))
            configs.append(SubscriptionDataConfig(
                security.custom_type or TradeBar, symbol, security.resolution,
                market=getattr(security, "market", None),
                extended_market_hours=security.extended_market_hours, is_custom_data=security.custom_type is not None,
                data_normalization_mode=security.data_normalization_mode, consolidators=consolidators))
        return configs

    Subscriptions = subscriptions
    count = property(lambda self: len(self.subscriptions))

    @property
    def subscription_data_config_service(self) -> Any:
        """LEAN's SubscriptionDataConfigService, for reading: ``get_subscription_data_configs(symbol)``."""
        manager = self

        class _Service(PascalAliases):
            def get_subscription_data_configs(self, symbol: Any = None, *_: Any) -> list[SubscriptionDataConfig]:
                engine = manager._algorithm.engine
                wanted = None if symbol is None else engine.symbol_for(symbol)
                return [c for c in manager.subscriptions if wanted is None or c.symbol == wanted]

        return _Service()

    def remove_consolidator(self, symbol: Any, consolidator: Any) -> None:
        engine = self._algorithm.engine
        sym = engine.symbol_for(symbol)
        engine.indicator_registry[sym] = [(feed, item) for feed, item in engine.indicator_registry.get(sym, [])
                                          if item is not consolidator]
        for sub in engine.subscriptions.values():
            for fed in sub.indicators.values():
                if consolidator in fed:
                    fed.remove(consolidator)


class RenkoBar(TradeBar):
    """LEAN's RenkoBar. Classic (``RenkoBar(symbol, time, brick_size, open, volume)``): opens at the previous
    brick's close; closes once the value moves a brick size from the open (the close clamped to open ± brick
    size). Wicked (``RenkoBar(symbol, start, end_time, brick_size, open, high, low, close)``, what
    RenkoConsolidator emits): complete as made, its high and low the wicks."""

    def __init__(self, symbol: Any = None, time: datetime | None = None, brick_size: Any = 0.0,
                 open: float = 0.0, volume: float = 0.0, *wicked: float) -> None:
        if isinstance(brick_size, datetime):  # the wicked constructor
            end_time, brick_size, open, high = brick_size, open, volume, wicked[0]
            self.symbol, self.time, self.end_time = symbol, time, end_time
            self.brick_size, self.open, self.high, self.low, self.close = brick_size, open, high, wicked[1], wicked[2]
            self.volume, self.is_closed, self.type = 0.0, False, 1  # RenkoType.WICKED
            return
        self.symbol, self.time, self.end_time = symbol, time, time
        self.brick_size, self.open, self.close, self.high, self.low = brick_size, open, open, open, open
        self.volume, self.is_closed = volume, False
        self.type = 0  # RenkoType.CLASSIC

    start = property(lambda self: self.time)
    value = property(lambda self: self.close)
    price = value

    @property
    def direction(self) -> int:
        """LEAN's BarDirection: RISING (0), NO_DELTA (1) or FALLING (2)."""
        return 0 if self.open < self.close else 2 if self.open > self.close else 1

    spread = property(lambda self: abs(self.close - self.open))

    def update(self, time: datetime, value: float, volume: float) -> bool:
        if self.type == 1:
            raise RuntimeError('A "Wicked" RenkoBar cannot be updated!')
        if self.is_closed:
            return True
        self.end_time = time
        low_close, high_close = self.open - self.brick_size, self.open + self.brick_size
        self.close = min(high_close, max(low_close, value))
        self.volume += volume
        if value <= low_close or value >= high_close:
            self.is_closed = True
        self.high, self.low = max(self.high, self.close), min(self.low, self.close)
        return self.is_closed

    def __repr__(self) -> str:
        return f"RenkoBar({self.symbol} {self.time} O:{self.open} C:{self.close})"


class ClassicRenkoConsolidator(PascalAliases):
    """LEAN's ClassicRenkoConsolidator(bar_size, [selector, volume_selector,] even_bars=True): a brick per
    ``bar_size`` move of the selected value (the close by default); the first brick opens at the value rounded up
    to a multiple of the size (``even_bars``), each next one at the previous close; a bar that closes a brick only
    opens the next one (it does not move it)."""

    uses_bars = True

    def __init__(self, bar_size: float, selector: Any = None, volume_selector: Any = None,
                 even_bars: bool = True) -> None:
        if isinstance(selector, bool):
            selector, even_bars = None, selector
        if not isinstance(bar_size, int | float) or isinstance(bar_size, bool) or bar_size <= 1e-28:
            refuse(f"ClassicRenkoConsolidator({bar_size!r}) (a positive brick size)")
        self.bar_size, self.even_bars = float(bar_size), bool(even_bars)
        self._selector = selector or (lambda bar: bar.close)
        self._volume = volume_selector or (lambda bar: getattr(bar, "volume", 0.0))
        self._last_close: float | None = None
        self.working_data: RenkoBar | None = None
        self.consolidated: RenkoBar | None = None
        self.data_consolidated = EventHandlers()
        self.input_type, self.output_type = TradeBar, RenkoBar

    def update(self, time: Any, bar: Any = None) -> None:
        bar = bar if bar is not None else time
        value, volume = float(self._selector(bar)), float(self._volume(bar))
        if self.working_data is not None:
            self.working_data.update(bar.time, value, volume)
            if self.working_data.is_closed:
                done, self.working_data = self.working_data, None
                self._last_close = done.close
                self.consolidated = done
                self.data_consolidated(self, done)
        if self.working_data is None:
            opening = self._last_close if self._last_close is not None else value
            if self.even_bars and self._last_close is None:
                opening = math.ceil(opening / self.bar_size) * self.bar_size
            self.working_data = RenkoBar(bar.symbol, bar.time, self.bar_size, opening, volume)

    def _new_bar(self, bar: Any, start: datetime, end: datetime) -> Any:
        return TradeBar(bar.symbol, start, end, bar.open, bar.high, bar.low, bar.close, bar.volume)

    def _aggregate(self, working: Any, bar: Any) -> None:
        working.high, working.low = max(working.high, bar.high), min(working.low, bar.low)
        working.close, working.volume = bar.close, working.volume + bar.volume

    def feed_bar(self, bar: Any) -> None:
        self.update(bar.end_time, bar)

    def scan(self, moment: datetime) -> None:
        pass

    def reset(self) -> None:
        self.working_data, self.consolidated, self._last_close = None, None, None

    is_ready = property(lambda self: self.consolidated is not None)
