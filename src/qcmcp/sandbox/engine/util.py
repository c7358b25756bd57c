"""Small LEAN utilities algorithms use: ``CircularQueue``."""

from __future__ import annotations

from collections import deque
from datetime import timedelta
from typing import Any

from qcmcp.sandbox.engine.consolidators import EventHandlers
from qcmcp.sandbox.engine.types import PascalAliases


class CircularQueue(PascalAliases):
    """LEAN's CircularQueue[T](items): ``dequeue()`` cycles through the items forever; ``circle_completed``
    fires each time the first item comes round again (including the very first dequeue, as LEAN's does)."""

    def __class_getitem__(cls, item: Any) -> type[CircularQueue]:
        return cls

    def __init__(self, items: Any) -> None:
        self._items: deque[Any] = deque(items)
        if not self._items:
            raise ValueError("CircularQueue needs at least one item")
        self._head = self._items[0]
        self.circle_completed = EventHandlers()

    def dequeue(self) -> Any:
        item = self._items.popleft()
        if item == self._head:
            self.circle_completed(self, None)
        self._items.append(item)
        return item


class TimeSpan:
    """System.TimeSpan's factories, as Python timedeltas."""

    ZERO = Zero = timedelta(0)

    @staticmethod
    def from_days(days: float) -> timedelta:
        return timedelta(days=float(days))

    @staticmethod
    def from_hours(hours: float) -> timedelta:
        return timedelta(hours=float(hours))

    @staticmethod
    def from_minutes(minutes: float) -> timedelta:
        return timedelta(minutes=float(minutes))

    @staticmethod
    def from_seconds(seconds: float) -> timedelta:
        return timedelta(seconds=float(seconds))

    @staticmethod
    def from_milliseconds(milliseconds: float) -> timedelta:
        return timedelta(milliseconds=float(milliseconds))

    FromDays, FromHours, FromMinutes, FromSeconds, FromMilliseconds = (
        from_days, from_hours, from_minutes, from_seconds, from_milliseconds)


class ObjectStore(PascalAliases):
    """The algorithm's object store in a sandbox backtest: in memory, empty at the start (a local LEAN run's
    fresh store); ``save``/``read`` strings, ``save_bytes``/``read_bytes``, ``contains_key``, ``delete``."""

    def __init__(self) -> None:
        self._items: dict[str, bytes] = {}

    def contains_key(self, key: str) -> bool:
        return str(key) in self._items

    def save(self, key: str, value: Any = None) -> bool:
        data = value if isinstance(value, bytes | bytearray) else str("" if value is None else value).encode()
        self._items[str(key)] = bytes(data)
        return True

    save_string = save

    def save_bytes(self, key: str, value: Any) -> bool:
        self._items[str(key)] = bytes(value)
        return True

    def read(self, key: str) -> str:
        if str(key) not in self._items:
            raise KeyError(f"The object store has no key '{key}'.")
        return self._items[str(key)].decode()

    read_string = read

    def read_bytes(self, key: str) -> bytes:
        if str(key) not in self._items:
            raise KeyError(f"The object store has no key '{key}'.")
        return self._items[str(key)]

    def delete(self, key: str) -> bool:
        return self._items.pop(str(key), None) is not None

    keys = property(lambda self: list(self._items))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items.items())


class _RefuseOthers(type):
    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        from qcmcp.sandbox.engine.unsupported import refuse

        refuse(f"{cls.__name__}.{name}")


class Extensions(metaclass=_RefuseOthers):
    """The few of LEAN's Extensions algorithms call directly; any other refuses clearly."""

    @staticmethod
    def round_to_significant_digits(value: float, digits: int) -> float:
        import math

        if value == 0:
            return 0.0
        scale = 10 ** (digits - 1 - math.floor(math.log10(abs(value))))
        return round(value * scale) / scale

    RoundToSignificantDigits = round_to_significant_digits

    @staticmethod
    def convert_from_utc(moment: Any, time_zone: Any) -> Any:
        """A UTC time in ``time_zone`` (naive, as LEAN's local times)."""
        from datetime import timezone
        from zoneinfo import ZoneInfo

        return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(str(time_zone))).replace(tzinfo=None)

    @staticmethod
    def convert_to_utc(moment: Any, time_zone: Any) -> Any:
        """A local time in ``time_zone`` as UTC (naive)."""
        from datetime import timezone
        from zoneinfo import ZoneInfo

        return moment.replace(tzinfo=ZoneInfo(str(time_zone))).astimezone(timezone.utc).replace(tzinfo=None)

    @staticmethod
    def convert_to(moment: Any, from_zone: Any, to_zone: Any) -> Any:
        """A local time in ``from_zone`` as the same instant's local time in ``to_zone`` (naive)."""
        from zoneinfo import ZoneInfo

        source, target = str(getattr(from_zone, "id", from_zone)), str(getattr(to_zone, "id", to_zone))
        if source == target:
            return moment
        return moment.replace(tzinfo=ZoneInfo(source)).astimezone(ZoneInfo(target)).replace(tzinfo=None)

    @staticmethod
    def tick_type_to_lower(tick_type: Any) -> str:
        """LEAN's TickTypeToLower: "trade", "quote" or "openinterest"."""
        if isinstance(tick_type, int) and not isinstance(tick_type, bool):
            return {0: "trade", 1: "quote", 2: "openinterest"}.get(int(tick_type), "trade")
        return str(tick_type or "trade").split(".")[-1].replace("_", "").lower()

    @staticmethod
    def security_type_to_lower(security_type: Any) -> str:
        return {0: "base", 1: "equity", 2: "option", 3: "commodity", 4: "forex", 5: "future", 6: "cfd",
                7: "crypto"}.get(int(security_type), "base")

    @staticmethod
    def resolution_to_lower(resolution: Any) -> str:
        return str(resolution).split(".")[-1].lower()

    ConvertFromUtc, ConvertToUtc, ConvertTo = convert_from_utc, convert_to_utc, convert_to
    TickTypeToLower, SecurityTypeToLower, ResolutionToLower = tick_type_to_lower, security_type_to_lower, \
        resolution_to_lower


_ZONES = ("Utc UTC;NewYork America/New_York;EasternStandard UTC-05;London Europe/London;HongKong Asia/Hong_Kong;"
          "Tokyo Asia/Tokyo;Rome Europe/Rome;Sydney Australia/Sydney;Vancouver America/Vancouver;"
          "Toronto America/Toronto;Chicago America/Chicago;LosAngeles America/Los_Angeles;Phoenix America/Phoenix;"
          "Auckland Pacific/Auckland;Moscow Europe/Moscow;Madrid Europe/Madrid;"
          "BuenosAires America/Argentina/Buenos_Aires;Brisbane Australia/Brisbane;SaoPaulo America/Sao_Paulo;"
          "Cairo Africa/Cairo;Johannesburg Africa/Johannesburg;Anchorage America/Anchorage;Denver America/Denver;"
          "Detroit America/Detroit;MexicoCity America/Mexico_City;Jerusalem Asia/Jerusalem;Shanghai Asia/Shanghai;"
          "Melbourne Australia/Melbourne;Amsterdam Europe/Amsterdam;Athens Europe/Athens;Berlin Europe/Berlin;"
          "Bucharest Europe/Bucharest;Dublin Europe/Dublin;Helsinki Europe/Helsinki;Istanbul Europe/Istanbul;"
          "Minsk Europe/Minsk;Paris Europe/Paris;Zurich Europe/Zurich;Honolulu Pacific/Honolulu;Kolkata Asia/Kolkata")


class TimeZones:
    """LEAN's TimeZones: the time-zone names (``TimeZones.NEW_YORK`` is "America/New_York", ``UTC`` "UTC")."""


for _entry in _ZONES.split(";"):
    _name, _zone = _entry.split(" ")
    setattr(TimeZones, _name, _zone)
    setattr(TimeZones, "_".join(part for part in __import__("re").findall(r"[A-Z][a-z]*", _name)).upper(), _zone)
