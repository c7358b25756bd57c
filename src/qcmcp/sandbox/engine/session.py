"""LEAN's ``Security.session`` (Common/Data/Market/Session.cs, SessionConsolidator.cs, SessionBar.cs) and
``Security.exchange.hours``.

``security.session`` is a rolling window of daily session bars, off until ``session.size`` is set above 0
(LEAN's default size 0). ``session.open``/``high``/``low``/``close``/``volume`` are today's working bar, built from
the bars that overlap the regular session (extended-hours bars are left out, as LEAN's
``IsOpen(time, end, false)``); ``session[0]`` is that working bar and ``session[1]`` the previous trading day's.
The day rolls over when the local time reaches a new date (LEAN scans on every time update), before the
algorithm sees that day's first data.
"""

from __future__ import annotations

from collections import deque
from datetime import date, datetime, time, timedelta
from typing import Any

from qcmcp.sandbox.engine.types import PascalAliases

_MAX = datetime.max


class SessionBar(PascalAliases):
    """One trading day's OHLCV (zero until the first bar arrives)."""

    def __init__(self, symbol: Any, start: datetime = _MAX) -> None:
        self.symbol, self.time = symbol, start
        self.open = self.high = self.close = self.volume = self.open_interest = 0.0
        self.low = 0.0
        self._started = False
        self._last_volume_time = datetime.min

    @property
    def end_time(self) -> datetime:
        return self.time if self.time == _MAX else self.time + timedelta(days=1)

    period = timedelta(days=1)
    value = property(lambda self: self.close)

    def update(self, bar: Any) -> None:
        if self._last_volume_time <= bar.time:
            self._last_volume_time = bar.end_time
            self.volume += bar.volume
        if not self._started:
            self._started = True
            self.open, self.high, self.low = bar.open, bar.high, bar.low
        self.close = bar.close
        self.low = min(self.low, bar.low)
        self.high = max(self.high, bar.high)

    def __repr__(self) -> str:
        return f"O: {self.open:g} H: {self.high:g} L: {self.low:g} C: {self.close:g} V: {self.volume:g} " \
               f"OI: {self.open_interest:g}"


class Session(PascalAliases):
    """LEAN's Session: a RollingWindow[SessionBar] whose [0] is the day being built."""

    def __init__(self, symbol: Any, hours: Any) -> None:
        self.symbol, self._hours = symbol, hours  # hours: ExchangeHoursView
        self._size = 0
        self._items: deque[SessionBar] = deque(maxlen=1)
        self._working: SessionBar | None = None
        self._consolidated: SessionBar | None = None
        self._initialized = False
        self.samples = 0

    @property
    def size(self) -> int:
        return self._size

    @size.setter
    def size(self, value: int) -> None:
        self._size = int(value)
        self._items = deque(self._items, maxlen=max(self._size, 1))
        if self._size > 0 and self._working is None:
            self._new_working_bar()
            self._add(self._working)

    def _add(self, bar: SessionBar) -> None:
        self._items.appendleft(bar)
        self.samples += 1

    def _new_working_bar(self) -> None:
        start = _MAX
        if self._consolidated is not None:
            start = datetime.combine(self._hours.get_next_trading_day(self._consolidated.time.date()), time())
        self._working = SessionBar(self.symbol, start)
        self._initialized = False

    def _field(name: str) -> property:  # type: ignore[misc]
        return property(lambda self: getattr(self._working, name) if self._working is not None else 0.0)

    open, high, low, close = _field("open"), _field("high"), _field("low"), _field("close")
    volume, open_interest = _field("volume"), _field("open_interest")
    end_time = property(lambda self: self._working.end_time if self._working is not None else datetime.min)
    count = property(lambda self: len(self._items))
    is_ready = property(lambda self: self._size > 0 and len(self._items) >= self._size)

    def __getitem__(self, index: int) -> SessionBar:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._items))

    def update(self, bar: Any) -> None:
        """A new bar of the security (SecurityCache.AddData → Session.Update)."""
        working = self._working
        if working is None:
            return
        if working.time != _MAX and bar.time >= working.time + timedelta(days=1):
            self._consolidate()  # PeriodCountConsolidatorBase: a bar of a later period closes the working one
            working = self._working
        if not self._initialized:
            if working.time == _MAX or bar.time.date() > working.time.date():
                working.time = datetime.combine(bar.time.date(), time())
            self._initialized = True
        if not self._hours.is_open(bar.time, bar.end_time, False):
            return
        if bar.time < working.time:
            return
        working.update(bar)

    def scan(self, local_time: datetime) -> None:
        """LEAN's ValidateAndScan on every time update: a new date closes the working bar."""
        if self._initialized and self._working is not None and local_time.date() != self._working.time.date():
            self._consolidate()

    def _consolidate(self) -> None:
        self._consolidated = self._working
        self._new_working_bar()
        self._add(self._working)

    def reset(self) -> None:
        if self._working is not None:
            self._items.clear()
            self._consolidated = None
            self._new_working_bar()
            self._add(self._working)

    def __repr__(self) -> str:
        return repr(self._working) if self._working is not None else ""


class ExchangeHoursView(PascalAliases):
    """LEAN's SecurityExchangeHours over the market-hours database entry (None: open around the clock,
    ``weekdays``: Monday to Friday)."""

    def __init__(self, hours: Any = None, weekdays: bool = False) -> None:
        self._hours, self._weekdays = hours, weekdays
        self.time_zone = getattr(hours, "time_zone", "America/New_York")

    def _intervals(self, day: date, extended: bool) -> list[tuple[timedelta, timedelta]]:
        if self._hours is not None:
            return self._hours.open_intervals(day, bool(extended))
        if self._weekdays and day.weekday() >= 5:
            return []
        return [(timedelta(0), timedelta(days=1))]

    @staticmethod
    def _moment(value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.combine(value, time())

    def is_open(self, start: Any, end: Any = None, extended: bool = False) -> bool:
        """Open at ``start`` (or at any time from ``start`` to ``end``)."""
        if isinstance(end, bool):
            end, extended = None, end
        start = self._moment(start)
        stop = self._moment(end) if end is not None else None
        day = start.date()
        while True:
            midnight = datetime.combine(day, time())
            if stop is not None and midnight >= stop:
                return False
            for open_, close in self._intervals(day, extended):
                if stop is None:
                    if midnight + open_ <= start < midnight + close:
                        return True
                elif midnight + open_ < stop and midnight + close > start:
                    return True
            if stop is None:
                return False
            day += timedelta(days=1)

    def is_date_open(self, day: Any, extended: bool = False) -> bool:
        return bool(self._intervals(self._moment(day).date(), extended))

    def get_next_trading_day(self, day: Any) -> date:
        current = self._moment(day).date() + timedelta(days=1)
        for _ in range(30):
            if self._intervals(current, False):
                return current
            current += timedelta(days=1)
        return current

    def get_next_market_open(self, moment: Any, extended: bool = False) -> datetime:
        """The first market open strictly after ``moment``."""
        moment = self._moment(moment)
        day = moment.date()
        for _ in range(15):
            midnight = datetime.combine(day, time())
            for open_, _close in self._intervals(day, extended):
                if open_ > timedelta(0) or not self._open_at_end(day - timedelta(days=1), extended):
                    if midnight + open_ > moment:
                        return midnight + open_
            day += timedelta(days=1)
        raise ValueError(f"no market open within two weeks of {moment}")

    def get_next_market_close(self, moment: Any, extended: bool = False) -> datetime:
        """The first market close strictly after ``moment``."""
        moment = self._moment(moment)
        day = moment.date()
        for _ in range(15):
            midnight = datetime.combine(day, time())
            for _open, close in self._intervals(day, extended):
                if close < timedelta(days=1) or not self._open_at_start(day + timedelta(days=1), extended):
                    if midnight + close > moment:
                        return midnight + close
            day += timedelta(days=1)
        raise ValueError(f"no market close within two weeks of {moment}")

    def _open_at_end(self, day: date, extended: bool) -> bool:
        return any(close >= timedelta(days=1) for _o, close in self._intervals(day, extended))

    def _open_at_start(self, day: date, extended: bool) -> bool:
        return any(open_ <= timedelta(0) for open_, _c in self._intervals(day, extended))


class SecurityExchangeHours(PascalAliases):
    """LEAN's SecurityExchangeHours factory for custom data: ``always_open(time_zone)``."""

    @staticmethod
    def always_open(time_zone: Any = "America/New_York") -> ExchangeHoursView:
        zone = str(getattr(time_zone, "id", time_zone) or "America/New_York")
        if zone != "America/New_York":
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse(f"exchange hours in the {zone} time zone (the sandbox runs on New York time)")
        return ExchangeHoursView(None)


class SecurityExchange(PascalAliases):
    """LEAN's SecurityExchange: ``hours``, ``time_zone``, ``exchange_open`` is not modelled here."""

    def __init__(self, hours: ExchangeHoursView) -> None:
        self.hours = hours
        self.time_zone = hours.time_zone


class EquityExchange(SecurityExchange):
    """LEAN's EquityExchange: US equity hours (the data folder's market-hours database), for a security — custom
    data, say — that should keep an equity's sessions."""

    def __init__(self, hours: Any = None) -> None:
        if hours is None:
            from qcmcp.marketdata.market_hours import database_in
            from qcmcp.sandbox.engine.custom_data import Globals

            from pathlib import Path

            folder = Path(Globals.data_folder) if Globals.data_folder else None
            hours = ExchangeHoursView(database_in(folder).hours("equity", "usa"))
        super().__init__(hours)

