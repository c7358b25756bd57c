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


class DateRules(PascalAliases):
    def every_day(self, symbol: Any = None) -> DateRule:
        return _is_session if symbol is not None else (lambda day: True)

    def every(self, *days: int) -> DateRule:
        wanted = set(days[0] if len(days) == 1 and isinstance(days[0], list | tuple) else days)
        return lambda day: day.weekday() in wanted

    def week_start(self, symbol: Any = None, days_offset: int = 0) -> DateRule:
        def rule(day: date) -> bool:
            monday = day - timedelta(days=day.weekday())
            sessions = market_data.trading_days(monday, monday + timedelta(days=6))
            return len(sessions) > days_offset and sessions[days_offset] == day
        return rule

    def month_start(self, symbol: Any = None, days_offset: int = 0) -> DateRule:
        def rule(day: date) -> bool:
            first = day.replace(day=1)
            sessions = market_data.trading_days(first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))
            return len(sessions) > days_offset and sessions[days_offset] == day
        return rule

    def on(self, *dates: date | datetime) -> DateRule:
        wanted = {d.date() if isinstance(d, datetime) else d for d in dates}
        return lambda day: day in wanted


class TimeRules(PascalAliases):
    def at(self, hour: int, minute: int = 0, second: int = 0) -> TimeRule:
        return lambda day: [datetime.combine(day, time(hour, minute, second))]

    def after_market_open(self, symbol: Any = None, minutes_after_open: float = 0, extended_market_open: bool = False) -> TimeRule:
        opening = datetime.combine(date.min, market_data.MARKET_OPEN)
        return lambda day: [datetime.combine(day, (opening + timedelta(minutes=minutes_after_open)).time())]

    def before_market_close(self, symbol: Any = None, minutes_before_close: float = 0, extended_market_close: bool = False) -> TimeRule:
        closing = datetime.combine(date.min, market_data.MARKET_CLOSE)
        return lambda day: [datetime.combine(day, (closing - timedelta(minutes=minutes_before_close)).time())]

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


@dataclass
class ScheduledEvent:
    date_rule: DateRule
    time_rule: TimeRule
    callback: Callable[[], Any]
    next_day: date | None = None


class Scheduler(PascalAliases):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.date_rules = DateRules()
        self.time_rules = TimeRules()
        self.events: list[ScheduledEvent] = []
        self._fired: set[tuple[int, datetime]] = set()

    def on(self, date_rule: DateRule, time_rule: TimeRule, callback: Callable[[], Any]) -> ScheduledEvent:
        event = ScheduledEvent(date_rule, time_rule, callback)
        self.events.append(event)
        return event

    def fire_until(self, moment: datetime) -> None:
        """Run every event due at or before ``moment`` (each once), in time order."""
        if not self.events:
            return
        engine, now = self._engine, moment
        due: list[tuple[datetime, int, ScheduledEvent]] = []
        for number, event in enumerate(self.events):
            day = event.next_day or engine.start
            while day <= moment.date():
                if event.date_rule(day):
                    for when in event.time_rule(day):
                        if when <= moment and (number, when) not in self._fired and when >= datetime.combine(engine.start, time()):
                            due.append((when, number, event))
                if day < moment.date():
                    event.next_day = day + timedelta(days=1)
                day += timedelta(days=1)
        for when, number, event in sorted(due, key=lambda item: (item[0], item[1])):
            self._fired.add((number, when))
            engine.time = when
            event.callback()
        engine.time = now
