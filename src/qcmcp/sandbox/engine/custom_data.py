"""LEAN's custom data from Python: ``add_data(MyData, "TICKER", resolution)`` with a ``PythonData`` subclass.

The points come from the type's own ``get_source(config, date, is_live)`` and ``reader(config, line, date,
is_live)``, read as LEAN's SubscriptionDataReader reads them: day by day over the run, a source read once for as
long as ``get_source`` keeps naming it (a new source for a new day replaces the old one from that day on), sorted
when the source says ``sort``, a point whose end time goes back before the previous one skipped, the points before
the start dropped and the stream ended at the first one after the end. Sources are the object store or a local
file (a zip's first entry, or ``archive.zip#entry``); a remote file, a REST or streaming source refuses clearly —
the sandbox has no network. A custom security trades like LEAN's Base securities: no fees, immediate fills at the
point's value, leverage 1, always open.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from qcmcp.sandbox.engine.data_config import SubscriptionDataConfig
from qcmcp.sandbox.engine.types import PascalAliases, Resolution, _Names, snake_case
from qcmcp.sandbox.engine.unsupported import refuse

MAX_SOURCE_BYTES = 256 * 1024 * 1024  # one source's text, read whole: a bound on what a reader can make us hold


class SubscriptionTransportMedium(_Names):
    LOCAL_FILE, REMOTE_FILE, REST, STREAMING, OBJECT_STORE = 0, 1, 2, 3, 4


class FileFormat(_Names):
    CSV, BINARY, ZIP_ENTRY_NAME, UNFOLDING_COLLECTION, INDEX, FOLDING_COLLECTION = 0, 1, 2, 3, 4, 5


class SubscriptionDataSource(PascalAliases):
    """Where a day's custom data is: ``source`` (a path, a URL or an object-store key), its transport and format."""

    def __init__(self, source: str, transport_medium: int | None = None, format: int = FileFormat.CSV,  # noqa: A002
                 headers: Any = None) -> None:
        self.source = str(source)
        if transport_medium is None:
            remote = self.source.lower().startswith(("http://", "https://", "ftp://"))
            transport_medium = SubscriptionTransportMedium.REMOTE_FILE if remote else SubscriptionTransportMedium.LOCAL_FILE
        self.transport_medium = int(transport_medium)
        self.format = int(format)
        self.sort = False
        self.headers = headers

    def key(self) -> tuple[str, int]:
        return self.source, self.transport_medium

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SubscriptionDataSource) and other.key() == self.key()

    def __hash__(self) -> int:
        return hash(self.key())


class DynamicData(PascalAliases):
    """LEAN's DynamicData: ``data["Open"] = 1.0`` and ``data.open`` are one property (names ignore case); ``value``
    (also ``price``), ``time``, ``end_time`` (the time itself unless set) and ``symbol``."""

    def __init__(self) -> None:
        vars(self)["_storage"] = {}
        vars(self)["_fixed"] = {"symbol": None, "time": datetime.min, "value": 0.0, "end_time": None}

    def _store(self) -> dict[str, Any]:
        if "_storage" not in vars(self):  # a subclass whose __init__ skipped ours
            DynamicData.__init__(self)
        return vars(self)["_storage"]

    def __setattr__(self, name: str, value: Any) -> None:
        self._store()
        lowered = _key(name)
        if lowered in vars(self)["_fixed"]:
            vars(self)["_fixed"][lowered] = value
        elif lowered in ("price",):
            vars(self)["_fixed"]["value"] = value
        elif name.startswith("_") or isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
        else:
            self._store()[lowered] = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        store = self._store()
        lowered = _key(name)
        fixed = vars(self)["_fixed"]
        if lowered == "end_time":
            return fixed["end_time"] if fixed["end_time"] is not None else fixed["time"]
        if lowered in fixed:
            return fixed[lowered]
        if lowered == "price":
            return fixed["value"]
        if lowered in store:
            return store[lowered]
        raise AttributeError(f"'{type(self).__name__}' has no property '{name}'; set it in reader "
                             f"(data['{name}'] = …) before reading it.")

    def __setitem__(self, name: str, value: Any) -> None:
        setattr(self, name, value)

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def get_property(self, name: str) -> Any:
        return getattr(self, name)

    def set_property(self, name: str, value: Any) -> None:
        setattr(self, name, value)

    def has_property(self, name: str) -> bool:
        return _key(name) in self._store() or _key(name) in vars(self)["_fixed"]

    def get_storage_dictionary(self) -> dict[str, Any]:
        return dict(self._store())

    def clone(self) -> Any:
        copy = type(self).__new__(type(self))
        DynamicData.__init__(copy)
        vars(copy)["_storage"].update(self._store())
        vars(copy)["_fixed"].update(vars(self)["_fixed"])
        return copy

    def __repr__(self) -> str:
        return f"{self.symbol}: {self.value}"


class PythonData(DynamicData):
    """The base of a custom data type: override ``get_source`` and ``reader``."""

    def get_source(self, config: Any, date: datetime, is_live: bool) -> SubscriptionDataSource:
        raise NotImplementedError(f"{type(self).__name__}.get_source(config, date, is_live) must return a "
                                  "SubscriptionDataSource")

    def reader(self, config: Any, line: str, date: datetime, is_live: bool) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.reader(config, line, date, is_live) must return a point")

    def requires_mapping(self) -> bool:
        return False

    def is_sparse_data(self) -> bool:
        return True

    def default_resolution(self) -> str:
        return Resolution.MINUTE

    def supported_resolutions(self) -> list[str]:
        return [Resolution.TICK, Resolution.SECOND, Resolution.MINUTE, Resolution.HOUR, Resolution.DAILY]


def _key(name: str) -> str:
    return snake_case(name)


class Globals(PascalAliases):
    """LEAN's Globals as custom readers use them: ``data_folder``, the run's LEAN data folder."""

    data_folder = ""


class LeanData(PascalAliases):
    """LEAN's file naming, for custom readers that read LEAN's own files (``LeanData.generate_zip_file_name``)."""

    @staticmethod
    def generate_zip_file_name(symbol: Any, date: Any, resolution: Any, tick_type: Any = "trade") -> str:
        kind = int(getattr(symbol, "security_type", 1))
        ticker = str(getattr(symbol, "value", symbol)).lower()
        tick = {0: "trade", 1: "quote", 2: "openinterest"}.get(tick_type, str(tick_type).lower()) \
            if isinstance(tick_type, int) else str(tick_type or "trade").lower()
        if kind not in (0, 1, 4, 7):
            refuse("LeanData.generate_zip_file_name for options and futures")
        if str(resolution).lower() in ("hour", "daily"):
            return f"{ticker}_{tick}.zip" if kind == 7 else f"{ticker}.zip"
        return f"{date:%Y%m%d}_{tick}.zip"

    @staticmethod
    def generate_zip_file_path(data_folder: Any, symbol: Any, date: Any, resolution: Any,
                               tick_type: Any = "trade") -> str:
        """LEAN's GenerateZipFilePath: ``<folder>/<type>/<market>/<resolution>[/<ticker>]/<file name>``."""
        kind = int(getattr(symbol, "security_type", 1))
        folder = {0: "base", 1: "equity", 4: "forex", 7: "crypto"}.get(kind)
        if folder is None:
            refuse("LeanData.generate_zip_file_path for options and futures")
        market = str(getattr(symbol, "market", None) or ("usa" if kind in (0, 1) else "")).lower()
        res = str(resolution).lower()
        parts = [str(data_folder), folder, market, res]
        if res not in ("hour", "daily"):
            parts.append(str(getattr(symbol, "value", symbol)).lower())
        return "/".join([*parts, LeanData.generate_zip_file_name(symbol, date, resolution, tick_type)])


def is_custom_type(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, DynamicData)


def read_points(data_type: type, config: SubscriptionDataConfig, first: date, last: date, start: datetime, end: datetime,
                object_store: Any, data_folder: Path | None, mapping: Any = None) -> list[Any]:
    """The points the type gives for the run (``first`` to ``last`` for warm-up; emitted from ``start`` to ``end``),
    in LEAN's order and with its filters; ``mapping`` (day → ticker) sets ``config.mapped_symbol`` for each day
    of a type that ``requires_mapping``."""
    instance = data_type()
    points: list[Any] = []
    current: tuple[str, int] | None = None
    day = first
    while day <= last:
        moment = datetime.combine(day, time())
        if points and points[-1].end_time.date() > day:  # LEAN: no day is read before the data reached it
            day += timedelta(days=1)
            continue
        if mapping is not None:
            config.mapped_symbol = mapping(day)
        source = instance.get_source(config, moment, False)
        if source is not None and not isinstance(source, SubscriptionDataSource):
            source = SubscriptionDataSource(str(source))
        if source is None or not source.source or source.key() == current:
            day += timedelta(days=1)
            continue
        if current is not None:  # a new source from this day on: what the old one had for it and later is dropped
            points = [point for point in points if point.end_time.date() < day]
        current = source.key()
        made = []
        for line in _lines(source, object_store, data_folder):
            if not line.strip():
                continue
            point = instance.reader(config, line, moment, False)
            for item in point if isinstance(point, list | tuple) else [point]:
                if item is not None:
                    if getattr(item, "symbol", None) is None:
                        item.symbol = config.symbol
                    made.append(item)
        if source.sort:
            made.sort(key=lambda item: item.end_time)
        points.extend(made)
        day += timedelta(days=1)
    kept: list[Any] = []
    previous: Any = None
    for point in points:
        if previous is not None and point.end_time < previous.end_time:
            continue  # LEAN skips custom data whose time went backwards
        previous = point
        if point.end_time < start:
            continue
        if point.time > end:
            break
        kept.append(point)
    return kept


def _lines(source: SubscriptionDataSource, object_store: Any, data_folder: Path | None) -> list[str]:
    medium = source.transport_medium
    if medium == SubscriptionTransportMedium.OBJECT_STORE:
        if object_store is None or not object_store.contains_key(source.source):
            return []  # LEAN logs the missing key and reads nothing
        text = object_store.read(source.source)
        return _split(text)
    if medium == SubscriptionTransportMedium.LOCAL_FILE:
        return _split(_read_local(source.source, data_folder))
    names = {SubscriptionTransportMedium.REMOTE_FILE: "a remote file", SubscriptionTransportMedium.REST: "a REST API",
             SubscriptionTransportMedium.STREAMING: "a stream"}
    refuse(f"custom data from {names.get(medium, 'the network')} ({_short(source.source)}: the sandbox has no "
           "network; save the data to the object store or the data folder)")
    return []


def _short(source: str) -> str:
    return source.split("?", 1)[0][:80]


def _read_local(source: str, data_folder: Path | None) -> str:
    path, _, entry = source.partition("#")
    file = Path(path)
    if not file.is_absolute() and data_folder is not None:
        file = data_folder / file
    if not file.is_file():
        return ""  # LEAN: a missing file is no data for that day
    if file.stat().st_size > MAX_SOURCE_BYTES:
        refuse(f"custom data files over {MAX_SOURCE_BYTES // (1024 * 1024)} MB")
    if file.suffix.lower() != ".zip":
        return file.read_text(encoding="utf-8", errors="replace")
    with zipfile.ZipFile(file) as archive:
        names = archive.namelist()
        if not names:
            return ""
        name = entry if entry in names else names[0]
        if archive.getinfo(name).file_size > MAX_SOURCE_BYTES:
            refuse(f"custom data files over {MAX_SOURCE_BYTES // (1024 * 1024)} MB")
        with archive.open(name) as handle:
            return io.TextIOWrapper(handle, encoding="utf-8", errors="replace").read()


def _split(text: Any) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return str(text or "").splitlines()
