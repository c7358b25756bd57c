"""LEAN's PythonIndicator: indicators written in Python, registered and warmed up like LEAN's own.

As LEAN's Indicators/PythonIndicator.cs: your class (derived from ``PythonIndicator``, or any object with
``update``, ``value`` and ``is_ready``) gets each data point (the bar, as LEAN passes IBaseData) through its
``update(input)``; the engine counts the sample, makes ``current`` the indicator's ``value`` at the bar's end
time, and the indicator is ready once ``update`` returned True (or, when it returns None, when its
``is_ready`` says so). ``warm_up_period`` is 0 unless the indicator defines it, and ``warm_up_indicator`` skips
an indicator without one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from qcmcp.sandbox.engine.indicators import Indicator, IndicatorDataPoint


class PythonIndicator(Indicator):
    """Derive from it and implement ``update(input) -> bool`` setting ``self.value``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # your constructor keeps its own signature (LEAN's name-first convention is for its built-in indicators)
        object.__init_subclass__(**kwargs)

    def __init__(self, *args: Any, name: str | None = None) -> None:
        label = name or (str(args[0]) if args and isinstance(args[0], str) else type(self).__name__)
        Indicator.__init__(self, label, 0)
        self.value = 0.0
        self._ready = False
        self._args = args

    def __getattr__(self, name: str) -> Any:
        """State a subclass that never called ``super().__init__()`` lacks (Python.NET runs LEAN's base
        constructor for it): created on first use."""
        from qcmcp.sandbox.engine.indicators import RollingWindow

        fresh = {"samples": lambda: 0, "current": IndicatorDataPoint, "updated_handlers": list,
                 "window": lambda: RollingWindow(2), "_ready": lambda: False, "value": lambda: 0.0,
                 "warm_up_period": lambda: 0, "name": lambda: type(self).__name__, "_args": tuple}
        if name not in fresh:
            raise AttributeError(name)
        value = fresh[name]()
        object.__setattr__(self, name, value)
        return value

    @property
    def is_ready(self) -> bool:
        return self._ready

    @is_ready.setter
    def is_ready(self, value: bool) -> None:
        self._ready = bool(value)

    IsReady = is_ready

    def update(self, input: Any) -> bool:
        raise NotImplementedError(f"Indicator.update must be implemented. Please implement this missing method in "
                                  f"{self.name}")

    def feed_bar(self, bar: Any) -> bool:
        value = self.selector(bar) if self.selector is not None else bar
        return self.receive(bar.end_time, value)

    def receive(self, time: datetime, data: Any) -> bool:
        """LEAN's IndicatorBase.Update around your ``update``: count, call, take ``value`` as the current point."""
        self.samples += 1
        result = self.update(data)
        self._ready = bool(result) if result is not None else bool(getattr(self, "_ready", False))
        self.current = IndicatorDataPoint(time, float(self.value))
        self.window.add(self.current)
        for handler in self.updated_handlers:
            handler(self, self.current)
        return self._ready

    def on_updated(self, point: IndicatorDataPoint) -> None:
        """LEAN's OnUpdated: fire ``updated`` with ``point``."""
        for handler in self.updated_handlers:
            handler(self, point)

    def reset(self) -> None:
        self.samples, self._ready, self.current = 0, False, IndicatorDataPoint()


class _Wrapped:
    """An object that is not a LEAN indicator but has ``update``/``value``/``is_ready`` (LEAN wraps it in a
    PythonIndicator): the engine feeds it through here, the object keeps its own state."""

    def __init__(self, indicator: Any) -> None:
        self.indicator = indicator
        self.selector: Any = None
        self.name = getattr(indicator, "name", None) or getattr(indicator, "Name", None) or type(indicator).__name__

    warm_up_period = property(lambda self: int(getattr(self.indicator, "warm_up_period", 0) or 0))

    @property
    def is_ready(self) -> bool:
        return bool(getattr(self.indicator, "is_ready", False))

    def feed_bar(self, bar: Any) -> bool:
        return bool(self.indicator.update(self.selector(bar) if self.selector is not None else bar))


def as_indicator(indicator: Any) -> Any:
    """What the engine feeds: LEAN's own indicators and PythonIndicators as they are, other objects wrapped."""
    if hasattr(indicator, "feed_bar"):
        return indicator
    missing = [name for name in ("update", "value", "is_ready") if not hasattr(indicator, name)]
    if missing:
        name = getattr(indicator, "name", type(indicator).__name__)
        extra = f" or use PythonIndicator as base:\nclass {name}(PythonIndicator):" if missing[0] == "is_ready" else ""
        raise NotImplementedError(f"Indicator.{missing[0]} must be implemented. Please implement this missing method "
                                  f"in {name}{extra}")
    return _Wrapped(indicator)
