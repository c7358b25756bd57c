"""Map files: which ticker a company traded under on each day.

``equity/usa/map_files/<permtick>.csv`` has rows ``date,ticker[,exchange]``, one file per company, named
after its latest ticker (``.1``, ``.2`` suffixes for companies whose ticker was later reused). A row's
ticker was in use up to and including its date, from the day after the previous row; the first row's date
is the first day of data and the last row's the delisting date (2050-12-31 while still listed). LEAN
``MapFile.GetMappedSymbol`` picks the first row dated on or after a day.

A ticker names a company only as of a date (``MapFileResolver.ResolveMapFile``): "GOOG" on 2010-01-04 is
the company trading as GOOGL today (``googl.csv``), "GOOG" in 2015 the class C shares (``goog.csv``).
Data files are stored under the ticker in use on each day, so one company's history can span several files
(WM: ``uw.zip``, then ``wmi.zip``, then ``wm.zip``), and one file can hold two companies (``goog.zip``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from qcmcp.marketdata.cache import Signature, cached, file_signature


@dataclass(frozen=True)
class MapRow:
    day: date
    ticker: str


@dataclass(frozen=True)
class TickerSpan:
    """Days ``first`` to ``last`` (inclusive) on which the company traded as ``ticker``."""

    ticker: str
    first: date
    last: date


@dataclass(frozen=True)
class MapFile:
    permtick: str
    rows: tuple[MapRow, ...]
    path: str | None = None

    @property
    def first_day(self) -> date:
        return self.rows[0].day if self.rows else date.min

    @property
    def delisting_day(self) -> date:
        return self.rows[-1].day if self.rows else date.max

    def ticker_on(self, day: date) -> str:
        for row in self.rows:
            if row.day >= day:
                return row.ticker
        return self.rows[-1].ticker if self.rows else self.permtick

    def spans(self) -> list[TickerSpan]:
        """The company's whole life as consecutive ticker spans (one span without rows: its own ticker)."""
        if not self.rows:
            return [TickerSpan(self.permtick, date.min, date.max)]
        spans = [TickerSpan(self.rows[0].ticker, self.rows[0].day, self.rows[0].day)]
        for row in self.rows[1:]:
            previous = spans[-1]
            if row.ticker == previous.ticker:
                spans[-1] = TickerSpan(row.ticker, previous.first, row.day)
            else:
                spans.append(TickerSpan(row.ticker, date.fromordinal(previous.last.toordinal() + 1), row.day))
        return spans

    def ticker_changes(self) -> list[tuple[date, str, str]]:
        """(first day under the new ticker, old ticker, new ticker)."""
        spans = self.spans()
        return [(after.first, before.ticker, after.ticker) for before, after in zip(spans, spans[1:])]


def identity_map(ticker: str) -> MapFile:
    """For data without map files: the ticker is the company, for all days."""
    return MapFile(ticker.upper(), ())


def _row(line: str) -> MapRow | None:
    cells = line.strip().split(",")
    if len(cells) < 2 or not cells[0].isdigit():
        return None
    return MapRow(datetime.strptime(cells[0], "%Y%m%d").date(), cells[1].strip().upper())


@cached(maxsize=4096)
def _parsed(signature: Signature) -> MapFile:
    path = Path(signature[0])
    rows = sorted({row for row in map(_row, path.read_text(encoding="utf-8").splitlines()) if row},
                  key=lambda row: row.day)
    return MapFile(path.stem.upper(), tuple(rows), str(path))


def read_map_file(path: Path) -> MapFile:
    return _parsed(file_signature(path))


class MapFileResolver:
    """Every map file of a folder, indexed by the tickers they mention."""

    def __init__(self, map_files: list[MapFile]) -> None:
        self.by_permtick = {map_file.permtick: map_file for map_file in map_files}
        entries: dict[str, dict[date, str]] = {}
        for map_file in map_files:
            for row in map_file.rows:
                entries.setdefault(row.ticker, {}).setdefault(row.day, map_file.permtick)
        self._by_ticker = {ticker: sorted(days.items()) for ticker, days in entries.items()}

    def resolve(self, ticker: str, day: date) -> MapFile | None:
        """The company that traded as ``ticker`` on ``day`` (LEAN's rule: the ticker's first entry on or
        after the day, else its last), or None when no map file mentions the ticker.

        Where LEAN returns an empty map file for a day before the company's first date, this returns the
        company: its bars simply start later, and the caller says so in the notes.
        """
        entries = self._by_ticker.get(ticker.upper())
        if not entries:
            return None
        index = bisect.bisect_left([entry_day for entry_day, _ in entries], day)
        permtick = entries[min(index, len(entries) - 1)][1]
        return self.by_permtick.get(permtick)


@cached(maxsize=32)
def _resolver(folder: str, _folder_mtime_ns: int) -> MapFileResolver:
    paths = sorted(Path(folder).glob("*.csv"))
    return MapFileResolver([read_map_file(path) for path in paths])


def resolver_for(folder: Path) -> MapFileResolver | None:
    """The resolver for a ``map_files`` folder (rebuilt when files are added or removed), or None."""
    if not folder.is_dir():
        return None
    return _resolver(str(folder), folder.stat().st_mtime_ns)
