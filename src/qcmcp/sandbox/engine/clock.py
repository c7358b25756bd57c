"""The algorithm's time zone (LEAN's ``set_time_zone``): the engine's clock is a naive time in that zone.

New York unless the algorithm sets another. Data dated in another zone (crypto files are in UTC) is converted
into it when read, so ``self.time``, the scheduled events, the start and end dates and the midnight sampling of
equity all run on this one clock; UTC times (order events, fee schedules, results) convert back from it. One run
per process at a time, as LEAN's ``Globals``: the engine resets it when it is made.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NEW_YORK = "America/New_York"
_NEW_YORK_NAMES = {"America/New_York", "New_York", "NewYork", "US/Eastern"}
_current = [NEW_YORK]


def zone() -> str:
    return _current[0]


def zone_name(time_zone: object) -> str:
    """An IANA name for LEAN's time-zone values (``TimeZones.UTC``, a ``DateTimeZone`` with ``id``, a name)."""
    name = str(getattr(time_zone, "id", time_zone))
    if name in _NEW_YORK_NAMES:
        return NEW_YORK
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error
    return name


def set_zone(time_zone: object) -> str:
    _current[0] = zone_name(time_zone)
    return _current[0]


def to_utc(moment: datetime) -> datetime:
    """A naive algorithm time as a naive UTC time."""
    return moment.replace(tzinfo=ZoneInfo(_current[0])).astimezone(timezone.utc).replace(tzinfo=None)


def from_utc(moment: datetime) -> datetime:
    """A naive UTC time as a naive algorithm time."""
    return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(_current[0])).replace(tzinfo=None)


def unix(moment: datetime) -> int:
    """Unix seconds of a naive algorithm time."""
    return int(moment.replace(tzinfo=ZoneInfo(_current[0])).timestamp())
