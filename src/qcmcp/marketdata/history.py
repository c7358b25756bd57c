"""``history()``: check the arguments, pick the source, load each symbol, say what came back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from qcmcp.marketdata.errors import MarketDataError, MissingData
from qcmcp.marketdata.frames import MarketData, combine, symbol_info
from qcmcp.marketdata.inputs import (
    parse_market,
    parse_normalization,
    parse_range,
    parse_resolution,
    parse_security_type,
    parse_symbols,
)
from qcmcp.marketdata.market_hours import database_in
from qcmcp.marketdata.request import BarRequest, Source, SymbolBars
from qcmcp.marketdata.sources import choose_source
from qcmcp.marketdata.synthetic import SyntheticSource


def history(symbols: str | Sequence[str], start: object, end: object, resolution: str = "daily",
            normalization: str = "adjusted", extended_hours: bool = False, source: object = None, *,
            security_type: str = "equity", market: str | None = None, synthetic: bool = False) -> MarketData:
    """Trade bars for ``symbols`` whose end time lies in (start, end], as one frame plus metadata.

    ``start``/``end``: dates or datetimes in exchange time (a date-only ``end`` includes that day).
    ``resolution``: daily, hour, minute or second. ``normalization``: adjusted (LEAN's default), raw,
    split_adjusted or total_return. ``extended_hours``: keep pre- and post-market intraday bars.
    ``source``: see ``sources.choose_source``. ``synthetic=True``: a symbol without data gets labelled
    synthetic bars instead of an error. Raises MarketDataError for bad input or missing data.
    """
    tickers = parse_symbols(symbols)
    kind = parse_security_type(security_type)
    exchange = parse_market(market, kind)
    resolution, normalization = parse_resolution(resolution), parse_normalization(normalization)
    chosen = choose_source(source)
    time_zone = database_in(getattr(chosen, "root", None)).hours(kind, exchange).time_zone
    template = BarRequest(symbol="", security_type=kind, market=exchange, resolution=resolution,
                          normalization=normalization, extended_hours=bool(extended_hours),
                          window=parse_range(start, end, time_zone))
    loaded: dict[str, SymbolBars] = {}
    missing: list[MissingData] = []
    for ticker in tickers:
        try:
            loaded[ticker] = _load(chosen, replace(template, symbol=ticker), synthetic)
        except MissingData as error:
            missing.append(error)
    if missing:
        raise missing[0] if len(missing) == 1 else MarketDataError(" | ".join(map(str, missing)))
    return _result(chosen, template, loaded)


def _result(source: Source, template: BarRequest, loaded: dict[str, SymbolBars]) -> MarketData:
    return MarketData(frame=combine({name: bars.frame for name, bars in loaded.items()}), source=source.kind,
                      location=source.location, chosen_by=source.chosen_by, resolution=template.resolution,
                      # An Object Store object has no factor files: its prices are what was stored, whatever was asked.
                      normalization="raw (as stored)" if source.kind == "object-store" else template.normalization,
                      extended_hours=template.extended_hours, requested=template.window,
                      symbols={name: symbol_info(name, bars) for name, bars in loaded.items()})


def _load(source: Source, request: BarRequest, synthetic: bool) -> SymbolBars:
    """The source's bars, or labelled synthetic ones when it has none and the caller allowed that."""
    try:
        return source.load(request)
    except MissingData as error:
        if not synthetic or source.kind == "synthetic":
            raise
        stand_in = SyntheticSource().load(request)
        reason = str(error).split(". ")[0]
        stand_in.notes.insert(0, f"synthetic stand-in, the {source.kind} source has none: {reason}")
        return stand_in
