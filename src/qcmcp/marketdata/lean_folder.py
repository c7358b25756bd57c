"""A LEAN data folder as a source: map files pick the files, factor files adjust, market hours filter.

For one symbol: the map file resolves the ticker to a company as of the range's first day and splits its
life into ticker spans; each span's files are read (cached); bars get LEAN's start/end times; intraday
bars outside the exchange hours are dropped (unless extended hours are asked for); the factor file
normalises prices and volume. The prepared frame is cached under the signatures of every file that went
into it, so the same request again is a few ``stat`` calls and a slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from qcmcp.marketdata import lean_files
from qcmcp.marketdata.cache import Signature, cached, file_signature
from qcmcp.marketdata.errors import MissingData, no_data
from qcmcp.marketdata.factors import NO_FACTORS, FactorFile, normalize, read_factor_file, with_dividends
from qcmcp.marketdata.map_files import MapFile, TickerSpan, identity_map, resolver_for
from qcmcp.marketdata.market_hours import DAY, ExchangeHours, database_in
from qcmcp.marketdata.request import COLUMNS, BarRequest, SymbolBars, empty_bars, select

Piece = tuple[Signature, date | None, date, date]  # file, its day (intraday), first and last day to keep


def _overlaps(span: TickerSpan, first: date, last: date) -> bool:
    return span.first <= last and span.last >= first


def _session_times(starts: pd.Series, hours: ExchangeHours) -> tuple[np.ndarray, np.ndarray]:
    """Daily bars: LEAN's strict times, session open to close (midnight to midnight if always open)."""
    days = starts.dt.normalize().to_numpy(dtype="datetime64[ns]")
    if hours.always_open:
        return days, days + np.timedelta64(1, "D")
    unique, inverse = np.unique(days, return_inverse=True)
    opens, closes = [], []
    for day in unique:
        session = hours.regular_session(day.astype("datetime64[D]").item())
        opens.append(np.timedelta64(session[0]) if session else np.timedelta64(0, "s"))
        closes.append(np.timedelta64(session[1]) if session else np.timedelta64(1, "D"))
    opens_ns = np.array(opens, dtype="timedelta64[ns]")[inverse]
    closes_ns = np.array(closes, dtype="timedelta64[ns]")[inverse]
    return days + opens_ns, days + closes_ns


def _read_pieces(pieces: tuple[Piece, ...], resolution: str, security_type: str) -> pd.DataFrame:
    frames = []
    for signature, day, first, last in pieces:
        bars = lean_files.bars_of(signature, resolution, security_type, day)
        if day is None:
            kept_days = bars["start"].dt.date
            bars = bars[(kept_days >= first) & (kept_days <= last)]
        frames.append(bars)
    bars = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["start", *COLUMNS])
    bars = bars.sort_values("start", kind="stable").drop_duplicates("start", keep="last")
    return bars.reset_index(drop=True)


@cached(maxsize=256)
def _prepared(pieces: tuple[Piece, ...], factors: Signature | None, mode: str, hours: ExchangeHours,
              extended: bool, resolution: str, security_type: str) -> pd.DataFrame:
    """Timed, filtered and normalised bars of these files (the per-symbol cache)."""
    bars = _read_pieces(pieces, resolution, security_type)
    if bars.empty:
        return empty_bars()
    if resolution == "daily":
        starts, ends = _session_times(bars["start"], hours)
        bars["start"] = starts
    else:
        starts = bars["start"].to_numpy(dtype="datetime64[ns]")
        ends = starts + lean_files.BAR_PERIOD[resolution].to_timedelta64()
        keep = hours.inside(starts, ends, extended)
        bars, ends = bars[keep], ends[keep]
    bars = normalize(bars, read_factor_file(Path(factors[0])) if factors else NO_FACTORS, mode)
    frame = bars[COLUMNS].set_axis(pd.DatetimeIndex(ends, name="time"), axis=0)
    return frame


@dataclass
class LeanFolder:
    """A folder in LEAN's layout: ``QCMCP_DATA_DIR``, a lean-cli workspace's data folder, or the sample."""

    root: Path
    kind: str = "lean-folder"
    chosen_by: str = "source argument"

    @property
    def location(self) -> str:
        return str(self.root)

    def load(self, request: BarRequest) -> SymbolBars:
        hours = database_in(self.root).hours(request.security_type, request.market, request.symbol)
        company = self._company(request)
        factors = self._factor_file(request, company)
        pieces, looked, absent = self._pieces(request, company)
        if not pieces and company.rows and not looked:
            raise self._outside_life(request, company)
        if not pieces:
            raise no_data(request.symbol, f"{request.resolution} {request.security_type}", looked, self._hint(request))
        prepared = _prepared(tuple(pieces), file_signature(Path(factors.path)) if factors else None,
                             request.normalization, hours, request.extended_hours, request.resolution,
                             request.security_type)
        frame = select(prepared, request.window)
        if frame.empty:
            raise self._nothing_in_window(request, prepared)
        if request.normalization == "total_return" and factors:
            frame = with_dividends(frame, factors, request.window.first_day)
        notes = self._notes(request, company, factors, frame, hours) + absent
        permtick = company.permtick if company.permtick != request.symbol else None
        return SymbolBars(frame, hours.time_zone, notes, company=permtick)

    def _company(self, request: BarRequest) -> MapFile:
        if request.security_type != "equity":
            return identity_map(request.symbol)
        resolver = resolver_for(self.root / "equity" / request.market / "map_files")
        found = resolver.resolve(request.symbol, request.window.first_day) if resolver else None
        if found is None and resolver is not None:  # a map file's own name ("VXX.1": a delisted company's permtick)
            found = resolver.by_permtick.get(request.symbol.upper())
        return found or identity_map(request.symbol)

    def _factor_file(self, request: BarRequest, company: MapFile) -> FactorFile:
        if request.security_type != "equity":
            return NO_FACTORS
        folder = self.root / "equity" / request.market / "factor_files"
        return read_factor_file(folder / f"{company.permtick.lower()}.csv")

    def _pieces(self, request: BarRequest, company: MapFile) -> tuple[list[Piece], list[str], list[str]]:
        """The files for the company's ticker spans in the range, the places looked, notes on absent files."""
        first, last = request.window.first_day, request.window.last_day
        pieces: list[Piece] = []
        looked: list[str] = []
        absent: list[str] = []
        for span in company.spans():
            if not _overlaps(span, first, last):
                continue
            args = (self.root, request.security_type, request.market, request.resolution, span.ticker)
            if request.resolution in lean_files.INTRADAY:
                folder = lean_files.day_folder(*args)
                looked.append(f"{folder}/YYYYMMDD_trade.zip")
                for day, path in lean_files.day_files(folder, max(span.first, first), min(span.last, last)):
                    pieces.append((file_signature(path), day, day, day))
            else:
                path = lean_files.history_file(*args)
                looked.append(str(path))
                if path.is_file():
                    pieces.append((file_signature(path), None, span.first, span.last))
                elif len(company.spans()) > 1:
                    absent.append(f"no {path.name} for the days it traded as {span.ticker} "
                                  f"({span.first} to {span.last}): no bars for them")
        return pieces, looked, absent

    def _hint(self, request: BarRequest) -> str:
        folder = lean_files.resolution_folder(self.root, request.security_type, request.market, request.resolution)
        tickers = lean_files.tickers_in(folder)
        listed = f"{folder} has {', '.join(tickers[:30])}{' …' if len(tickers) > 30 else ''}" if tickers else \
            f"{folder} does not exist"
        sample = (" The built-in sample holds US equity daily bars only: set QCMCP_DATA_DIR (or pass source=) to a "
                  "LEAN data folder for other resolutions or asset classes.") if self.kind == "sample" else ""
        return f"{listed}.{sample} Or pass synthetic=True for labelled synthetic bars."

    def _outside_life(self, request: BarRequest, company: MapFile) -> MissingData:
        """The range misses the company's whole life as its map file tells it."""
        life = (f"has traded since {company.first_day}" if company.delisting_day.year >= 2050 else
                f"traded from {company.first_day} until it was delisted on {company.delisting_day}")
        return MissingData(request.symbol, f"no {request.resolution} bars for {request.symbol} in {request.window}: "
                           f"on {request.window.first_day} the ticker names {company.permtick} (map file "
                           f"{Path(company.path or '').name}), which {life}. Ask for a range inside that, "
                           "or pass synthetic=True for labelled synthetic bars")

    def _nothing_in_window(self, request: BarRequest, prepared: pd.DataFrame) -> MissingData:
        if prepared.empty:
            detail = "its files hold no bars inside the exchange hours" + (
                "" if request.extended_hours else " (pass extended_hours=True to keep pre- and post-market bars)")
        else:
            detail = (f"its {request.resolution} bars here run from {prepared.index[0]} to {prepared.index[-1]} "
                      "(a weekend or holiday range has no bars)")
        return MissingData(request.symbol, f"no {request.resolution} bars for {request.symbol} in {request.window} "
                           f"in {self.location}: {detail}. Widen the range, or pass synthetic=True for labelled "
                           "synthetic bars")

    def _notes(self, request: BarRequest, company: MapFile, factors: FactorFile, frame: pd.DataFrame,
               hours: ExchangeHours) -> list[str]:
        first, last = frame.index[0].date(), frame.index[-1].date()
        notes = _company_notes(request, company, hours, first, last) + _adjustment_notes(request, company, factors,
                                                                                          first, last)
        if request.extended_hours and request.resolution in ("daily", "hour"):
            notes.append(f"LEAN's {request.resolution} files hold regular-hours bars only: extended_hours applies to "
                         "minute and second data")
        return notes


def _company_notes(request: BarRequest, company: MapFile, hours: ExchangeHours, first: date, last: date) -> list[str]:
    """What the map file says about the bars: another company's ticker, ticker changes, listing, delisting."""
    if not company.rows:
        return []
    notes = []
    if company.permtick != request.symbol:
        notes.append(f"{request.symbol} on {request.window.first_day} is the company now listed as "
                     f"{company.permtick} (map file {Path(company.path or '').name})")
    for day, old, new in company.ticker_changes():
        if first <= day <= last:
            notes.append(f"ticker changed {old} → {new} on {day} (map file); the bars follow the company")
    if hours.any_session(company.delisting_day + DAY, min(request.window.last_day, date.today())):
        notes.append(f"delisted on {company.delisting_day} (map file): no bars after it")
    if hours.any_session(request.window.first_day, company.first_day - DAY):
        notes.append(f"first traded on {company.first_day} (map file): no bars before it")
    return notes


def _adjustment_notes(request: BarRequest, company: MapFile, factors: FactorFile, first: date,
                      last: date) -> list[str]:
    """Missing factors, and the splits inside the bars and what the normalisation made of them."""
    notes = []
    if request.security_type == "equity" and request.normalization != "raw" and not factors:
        notes.append(f"no factor file for {company.permtick} in this folder: prices are raw, not "
                     f"{request.normalization}")
    for split in factors.splits():
        if first <= split.last_day_before < last:
            effect = "show it" if request.normalization == "raw" else "are continuous across it"
            notes.append(f"{_ratio(split.ratio)} split after {split.last_day_before}; "
                         f"{request.normalization} prices {effect}")
    if request.security_type == "crypto" and request.normalization != "raw":
        notes.append("crypto has no corporate actions: every normalization gives the traded prices")
    return notes

def _ratio(ratio: float) -> str:
    return f"{ratio:.4g}-for-1" if ratio >= 1 else f"1-for-{1 / ratio:.4g} (reverse)"

