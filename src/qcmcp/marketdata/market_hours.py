"""Exchange hours from LEAN's ``market-hours/market-hours-database.json``.

Entries are keyed ``<SecurityType>-<market>-<symbol>`` with ``[*]`` for the whole market
(``Equity-usa-[*]``: pre-market 04:00–09:30, market 09:30–16:00, post-market 16:00–20:00 New York, with
the exchange holidays and 13:00 early closes). Rules follow LEAN's ``SecurityExchangeHours``:

- a holiday closes the whole day; an early close drops every segment after it and cuts the one it falls
  in (extended hours end too); a late open does the same at the start of the day;
- a bar is inside the hours when its span [start, end) overlaps an open segment
  (``MarketHoursSegment.Overlaps``: ``segment.start < bar.end and segment.end > bar.start``), only
  ``market`` segments counting unless extended hours are asked for. So the minute bar 09:30–09:31 is the
  first regular one, and the hour bar 09:00–10:00 (which holds 09:30–10:00 trades) is kept;
- daily bars span the regular session (LEAN's default ``DailyPreciseEndTime``): 09:30 to 16:00, or to
  13:00 on an early close; markets that never close (crypto) keep midnight to midnight.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np

from qcmcp.marketdata.cache import Signature, cached, file_signature
from qcmcp.marketdata.errors import MarketDataError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SECURITY_TYPE_KEYS = {"equity": "Equity", "crypto": "Crypto"}
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Segment:
    start: timedelta  # since local midnight
    end: timedelta
    state: str  # "premarket", "market", "postmarket"


def _span(text: str) -> timedelta:
    """LEAN's TimeSpan text: ``HH:MM:SS`` or ``D.HH:MM:SS``."""
    days, clock = text.split(".", 1) if "." in text.split(":")[0] else ("0", text)
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return timedelta(days=int(days), hours=hours, minutes=minutes, seconds=seconds)


def _day(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def _merge(segments: list[Segment]) -> list[tuple[timedelta, timedelta]]:
    merged: list[tuple[timedelta, timedelta]] = []
    for segment in sorted(segments, key=lambda s: s.start):
        if merged and segment.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], segment.end))
        else:
            merged.append((segment.start, segment.end))
    return merged


def _before(segments: tuple[Segment, ...], close: timedelta) -> list[Segment]:
    return [Segment(s.start, min(s.end, close), s.state) for s in segments if s.start < close]


def _after(segments: tuple[Segment, ...], open_: timedelta) -> list[Segment]:
    return [Segment(max(s.start, open_), s.end, s.state) for s in segments if s.end > open_]


@dataclass(frozen=True)
class ExchangeHours:
    key: str
    time_zone: str
    week: tuple[tuple[Segment, ...], ...]  # Monday first
    holidays: frozenset[date]
    early_closes: tuple[tuple[date, timedelta], ...]
    late_opens: tuple[tuple[date, timedelta], ...]

    @cached_property
    def always_open(self) -> bool:
        return not self.holidays and not self.early_closes and not self.late_opens and all(
            _merge([s for s in day if s.state == "market"]) == [(timedelta(0), DAY)] for day in self.week)

    @cached_property
    def _early_closes(self) -> dict[date, timedelta]:
        return dict(self.early_closes)

    @cached_property
    def _late_opens(self) -> dict[date, timedelta]:
        return dict(self.late_opens)

    def segments_on(self, day: date) -> list[Segment]:
        if day in self.holidays:
            return []
        base = self.week[day.weekday()]
        close, open_ = self._early_closes.get(day), self._late_opens.get(day)
        if close is not None and open_ is not None:
            if close <= open_:  # closes early, then reopens later the same day
                return _before(base, close) + _after(base, open_)
            return _after(tuple(_before(base, close)), open_)
        if close is not None:
            return _before(base, close)
        return _after(base, open_) if open_ is not None else list(base)

    def open_intervals(self, day: date, extended: bool) -> list[tuple[timedelta, timedelta]]:
        return _merge([s for s in self.segments_on(day) if extended or s.state == "market"])

    def regular_session(self, day: date) -> tuple[timedelta, timedelta] | None:
        market = [s for s in self.segments_on(day) if s.state == "market"]
        return (min(s.start for s in market), max(s.end for s in market)) if market else None

    def any_session(self, first: date, last: date) -> bool:
        """Whether the market opens at all from ``first`` to ``last`` (stops at the first session)."""
        day = first
        while day <= last:
            if self.regular_session(day):
                return True
            day += DAY
        return False

    def trading_days(self, first: date, last: date) -> list[date]:
        days, day = [], first
        while day <= last:
            if self.regular_session(day):
                days.append(day)
            day += DAY
        return days

    def inside(self, starts: np.ndarray, ends: np.ndarray, extended: bool) -> np.ndarray:
        """Which bars (sorted datetime64[ns] ``starts``, ``ends``) overlap the open hours."""
        if self.always_open or not len(starts):
            return np.ones(len(starts), dtype=bool)
        keep = np.zeros(len(starts), dtype=bool)
        days = starts.astype("datetime64[D]")
        unique_days, first_rows = np.unique(days, return_index=True)
        bounds = list(first_rows) + [len(starts)]
        for i, day in enumerate(unique_days):
            rows = slice(bounds[i], bounds[i + 1])
            midnight = day.astype("datetime64[ns]")
            for open_, close in self.open_intervals(day.item(), extended):
                keep[rows] |= (midnight + np.timedelta64(open_) < ends[rows]) & \
                              (midnight + np.timedelta64(close) > starts[rows])
        return keep


def _segments(raw: list[dict]) -> tuple[Segment, ...]:
    return tuple(Segment(_span(item["start"]), _span(item["end"]), item["state"]) for item in raw
                 if item.get("state") != "closed")


def _exchange_hours(key: str, entry: dict) -> ExchangeHours:
    return ExchangeHours(
        key=key,
        time_zone=entry.get("exchangeTimeZone", "UTC"),
        week=tuple(_segments(entry.get(name, [])) for name in WEEKDAYS),
        holidays=frozenset(_day(text) for text in entry.get("holidays", [])),
        early_closes=tuple(sorted((_day(k), _span(v)) for k, v in entry.get("earlyCloses", {}).items())),
        late_opens=tuple(sorted((_day(k), _span(v)) for k, v in entry.get("lateOpens", {}).items())),
    )


class MarketHoursDatabase:
    def __init__(self, entries: dict[str, dict], path: str) -> None:
        self.entries = entries
        self.path = path

    def hours(self, security_type: str, market: str, ticker: str | None = None) -> ExchangeHours:
        """The symbol's own entry if there is one, else its market's ``[*]`` entry."""
        prefix = f"{SECURITY_TYPE_KEYS[security_type]}-{market}-"
        for key in ([prefix + ticker.upper()] if ticker else []) + [prefix + "[*]"]:
            if key in self.entries:
                return _cached_hours(self, key)
        type_key = SECURITY_TYPE_KEYS[security_type] + "-"
        markets = sorted({key.split("-")[1] for key in self.entries if key.startswith(type_key)})
        raise MarketDataError(f"market={market!r}: {self.path} has no '{prefix}[*]' entry; use one of "
                              f"{', '.join(markets) or '(none for ' + security_type + ')'}")


@cached(maxsize=64)
def _cached_hours(database: MarketHoursDatabase, key: str) -> ExchangeHours:
    return _exchange_hours(key, database.entries[key])


@cached(maxsize=8)
def _parsed(signature: Signature) -> MarketHoursDatabase:
    entries = json.loads(Path(signature[0]).read_text(encoding="utf-8"))["entries"]
    return MarketHoursDatabase(entries, signature[0])


def load_database(path: Path) -> MarketHoursDatabase:
    return _parsed(file_signature(path))


SHIPPED_DATABASE = Path(__file__).with_name("lean_sample") / "market-hours" / "market-hours-database.json"


def database_in(root: Path | None) -> MarketHoursDatabase:
    """A data folder's own database if it has one, else the trimmed copy shipped with the sample."""
    own = root / "market-hours" / "market-hours-database.json" if root is not None else None
    return load_database(own if own is not None and own.is_file() else SHIPPED_DATABASE)
