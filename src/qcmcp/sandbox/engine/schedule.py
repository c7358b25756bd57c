"""``schedule.on(date_rules..., time_rules..., callback)`` for the common rules.

Events fire at the first time step at or after their scheduled moment, before that
step's ``on_data``, with the algorithm's clock set to the scheduled moment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from qcmcp.sandbox.engine import data as market_data
from qcmcp.sandbox.engine.types import PascalAliases

if TYPE_CHECKING:
    from qcmcp.sandbox.engine.engine import Engine

DateRule = Callable[[date], bool]
TimeRule = Callable[[date], list[datetime]]


class DayOfWeek:
    MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
    Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday = range(7)


def _is_session(day: date) -> bool:
    return day in set(market_data.trading_days(day, day))


def _hours(engine: Any, symbol: Any) -> Any:
    """The market-hours database entry of ``symbol`` (a US equity when none is given)."""
    ticker = str(symbol.symbol if hasattr(symbol, "symbol") else symbol) if symbol is not None else "SPY"
    if engine is not None:
        security = engine.securities.get(engine.symbol_for(ticker)) if symbol is not None else None
        if security is not None and security.hours.kind != "equity":
            return None  # crypto and forex: around the clock
        return market_data.exchange_hours(engine.data_folder, ticker)
    return market_data.exchange_hours(None, ticker)


def _sessions(engine: Any, symbol: Any, first: date, last: date) -> list[date]:
    hours = _hours(engine, symbol)
    if hours is None:
        days, day = [], first
        while day <= last:
            days.append(day)
            day += timedelta(days=1)
        return days
    return hours.trading_days(first, last)


class DateRules(PascalAliases):
    """LEAN's date rules; with a symbol they follow its exchange's trading days (holidays, half days)."""

    def __init__(self, engine: Any = None) -> None:
        self._engine = engine

    def every_day(self, symbol: Any = None, extended_market_hours: bool = False) -> DateRule:
        if symbol is None:
            return lambda day: True
        return lambda day: bool(_sessions(self._engine, symbol, day, day))

    def every(self, *days: int) -> DateRule:
        wanted = set(days[0] if len(days) == 1 and isinstance(days[0], list | tuple) else days)
        return lambda day: day.weekday() in wanted

    def _nth(self, symbol: Any, offset: int, span: Any, from_end: bool) -> DateRule:
        def rule(day: date) -> bool:
            first, last = span(day)
            sessions = _sessions(self._engine, symbol if symbol is not None else "SPY", first, last)
            if len(sessions) <= offset:
                return False
            return (sessions[-1 - offset] if from_end else sessions[offset]) == day
        return rule

    @staticmethod
    def _week(day: date) -> tuple[date, date]:
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)

    @staticmethod
    def _month(day: date) -> tuple[date, date]:
        first = day.replace(day=1)
        return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)

    @staticmethod
    def _year(day: date) -> tuple[date, date]:
        return date(day.year, 1, 1), date(day.year, 12, 31)

    def week_start(self, symbol: Any = None, days_offset: int = 0) -> DateRule:
        return self._nth(symbol, days_offset, self._week, False)

    def week_end(self, symbol: Any = None, days_offset: int = 0) -> DateRule:
        return self._nth(symbol, days_offset, self._week, True)

    def month_start(self, symbol: Any = None, days_offset: int = 0) -> DateRule:
        return self._nth(symbol, days_offset, self._month, False)

    def month_end(self, symbol: Any = None, days_offset: int = 0) -> DateRule:
        return self._nth(symbol, days_offset, self._month, True)

    def year_start(self, symbol: Any = None, days_offset: int = 0) -> DateRule:
        return self._nth(symbol, days_offset, self._year, False)

    def year_end(self, symbol: Any = None, days_offset: int = 0) -> DateRule:
        return self._nth(symbol, days_offset, self._year, True)

    def on(self, *dates: Any) -> DateRule:
        if len(dates) == 3 and all(isinstance(d, int) for d in dates):  # on(year, month, day)
            dates = (date(*dates),)
        wanted = {d.date() if isinstance(d, datetime) else d for d in dates}
        return lambda day: day in wanted

    @property
    def today(self) -> DateRule:
        today = self._engine.time.date() if self._engine is not None else date.today()
        return lambda day: day == today

    @property
    def tomorrow(self) -> DateRule:
        tomorrow = (self._engine.time.date() if self._engine is not None else date.today()) + timedelta(days=1)
        return lambda day: day == tomorrow


class DateRuleFunction:
    """A date rule (``rule(day) -> bool``) that knows it is one, so a portfolio model can rebalance on it."""

    is_date_rule = True

    def __init__(self, rule: Callable[[date], bool]) -> None:
        self._rule = rule

    def __call__(self, day: date) -> bool:
        return bool(self._rule(day))


def _wrap_date_rules() -> None:
    import functools

    for name, member in list(vars(DateRules).items()):
        if name.startswith("_") or name in ("today", "tomorrow"):
            continue
        if callable(member):
            def wrapped(self: Any, *args: Any, _member: Any = member, **kwargs: Any) -> Any:
                return DateRuleFunction(_member(self, *args, **kwargs))

            setattr(DateRules, name, functools.wraps(member)(wrapped))
    for name in ("today", "tomorrow"):
        getter = vars(DateRules)[name].fget
        setattr(DateRules, name, property(lambda self, _get=getter: DateRuleFunction(_get(self))))


_wrap_date_rules()


class TimeRules(PascalAliases):
    """LEAN's time rules; market open and close come from the exchange hours (a 13:00 half-day close too)."""

    def __init__(self, engine: Any = None) -> None:
        self._engine = engine

    def at(self, hour: int, minute: int = 0, second: Any = 0, *zone: Any) -> TimeRule:
        """LEAN's At(hour, minute[, second][, time zone]): a time of day in the algorithm's zone, or in the zone
        given (converted to the algorithm's clock)."""
        from qcmcp.sandbox.engine import clock

        if not isinstance(second, int | float):
            second, zone = 0, (second, *zone)
        given = clock.zone_name(zone[0]) if zone and zone[0] is not None else None
        moment = time(hour, minute, int(second))

        def rule(day: date) -> list[datetime]:
            local = datetime.combine(day, moment)
            if given is None or given == clock.zone():
                return [local]
            from qcmcp.sandbox.engine.util import Extensions

            return [Extensions.convert_to(local, given, clock.zone())]
        return rule

    def _session(self, symbol: Any, day: date, extended: bool) -> tuple[datetime, datetime] | None:
        hours = _hours(self._engine, symbol)
        midnight = datetime.combine(day, time())
        if hours is None:
            return midnight, midnight + timedelta(days=1)
        intervals = hours.open_intervals(day, extended)
        if not intervals:
            return None
        return midnight + intervals[0][0], midnight + intervals[-1][1]

    def after_market_open(self, symbol: Any = None, minutes_after_open: float = 0,
                          extended_market_open: bool = False) -> TimeRule:
        def rule(day: date) -> list[datetime]:
            session = self._session(symbol, day, extended_market_open)
            return [session[0] + timedelta(minutes=minutes_after_open)] if session else []
        return rule

    def before_market_close(self, symbol: Any = None, minutes_before_close: float = 0,
                            extended_market_close: bool = False) -> TimeRule:
        def rule(day: date) -> list[datetime]:
            session = self._session(symbol, day, extended_market_close)
            return [session[1] - timedelta(minutes=minutes_before_close)] if session else []
        return rule

    def after_market_close(self, symbol: Any = None, minutes_after_close: float = 0,
                           extended_market_close: bool = False) -> TimeRule:
        def rule(day: date) -> list[datetime]:
            session = self._session(symbol, day, extended_market_close)
            return [session[1] + timedelta(minutes=minutes_after_close)] if session else []
        return rule

    def before_market_open(self, symbol: Any = None, minutes_before_open: float = 0,
                           extended_market_open: bool = False) -> TimeRule:
        def rule(day: date) -> list[datetime]:
            session = self._session(symbol, day, extended_market_open)
            return [session[0] - timedelta(minutes=minutes_before_open)] if session else []
        return rule

    def market_open(self, symbol: Any = None, minutes_after_open: float = 0, extended_market_open: bool = False) -> TimeRule:
        return self.after_market_open(symbol, minutes_after_open, extended_market_open)

    def market_close(self, symbol: Any = None, minutes_before_close: float = 0,
                     extended_market_close: bool = False) -> TimeRule:
        return self.before_market_close(symbol, minutes_before_close, extended_market_close)

    def every(self, interval: timedelta) -> TimeRule:
        def rule(day: date) -> list[datetime]:
            moments, moment = [], datetime.combine(day, time())
            while moment.date() == day:
                moments.append(moment)
                moment += interval
            return moments
        return rule

    midnight = property(lambda self: self.at(0, 0))
    noon = property(lambda self: self.at(12, 0))

    @property
    def now(self) -> TimeRule:
        moment = self._engine.time if self._engine is not None else datetime.now()
        return lambda day: [moment] if day == moment.date() else []


@dataclass
class ScheduledEvent:
    date_rule: DateRule
    time_rule: TimeRule
    callback: Callable[[], Any]
    next_day: date | None = None


class Scheduler(PascalAliases):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.date_rules = DateRules(engine)
        self.time_rules = TimeRules(engine)
        self.events: list[ScheduledEvent] = []
        self._fired: set[tuple[int, datetime]] = set()

    def on(self, *arguments: Any) -> ScheduledEvent:
        """on(date_rule, time_rule, callback) or on(name, date_rule, time_rule, callback)."""
        if arguments and isinstance(arguments[0], str):
            arguments = arguments[1:]
        date_rule, time_rule, callback = arguments[:3]
        event = ScheduledEvent(date_rule, time_rule, callback)
        self.events.append(event)
        return event

    def training_now(self, training_code: Callable[[], Any]) -> ScheduledEvent:
        """LEAN's TrainingNow: the code runs today at the current time (at once, for the next time step)."""
        return self.on(self.date_rules.today, self.time_rules.now, training_code)

    def training(self, date_rule: DateRule, time_rule: TimeRule, training_code: Callable[..., Any]) -> ScheduledEvent:
        """LEAN's Training: the code runs at the rules' times, like ``on``."""
        return self.on(date_rule, time_rule, training_code)

    def due_times(self, moment: datetime) -> list[datetime]:
        """The distinct times of the events due at or before ``moment`` not fired yet, in order."""
        if not self.events:
            return []
        engine, times = self._engine, set()
        for number, event in enumerate(self.events):
            day = event.next_day or engine.start
            while day <= moment.date():
                if event.date_rule(day):
                    for when in event.time_rule(day):
                        if when <= moment and (number, when) not in self._fired and \
                                when >= datetime.combine(engine.start, time()):
                            times.add(when)
                day += timedelta(days=1)
        return sorted(times)

    def fire_until(self, moment: datetime, before: bool = False) -> None:
        """Run every event due at or before ``moment`` (each once; ``before``: only those due strictly before it,
        LEAN's ScanPastEvents ahead of a slice's price updates), in time order."""
        if not self.events:
            return
        engine, now = self._engine, moment
        due: list[tuple[datetime, int, ScheduledEvent]] = []
        for number, event in enumerate(self.events):
            day = event.next_day or engine.start
            while day <= moment.date():
                if event.date_rule(day):
                    for when in event.time_rule(day):
                        if (when < moment if before else when <= moment) and (number, when) not in self._fired \
                                and when >= datetime.combine(engine.start, time()):
                            due.append((when, number, event))
                if day < moment.date():
                    event.next_day = day + timedelta(days=1)
                day += timedelta(days=1)
        for when, number, event in sorted(due, key=lambda item: (item[0], item[1])):
            self._fired.add((number, when))
            engine.time = when
            event.callback()
        engine.time = now
