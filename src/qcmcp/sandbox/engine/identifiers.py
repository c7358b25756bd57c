"""LEAN's security identifiers, so holdings, orders and insights carry the ids the cloud gives them.

LEAN writes a security as ``<symbol> <base36 properties>`` ("SPY R735QTJ8XC9X", "BTCUSD 2XR"). The properties
pack, in decimal fields, the security type (2 digits), the market code (3 digits) and, for equities, the first
date the company traded as an OLE Automation day number, from its map file (``DaysOffset`` = 10^14). A ticker
with no map file gets LEAN's default date, day 0 ("AAPL 2T"). The symbol part is the company's first ticker.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

SECURITY_TYPE_OFFSET, MARKET_OFFSET, DAYS_OFFSET = 1, 100, 10**14
OLE_EPOCH = date(1899, 12, 30)
# LEAN's market codes (Common/Market.cs) for the markets the sandbox trades, and each type's default market.
MARKET_CODES = {"usa": 1, "fxcm": 2, "oanda": 3, "coinbase": 38}
DEFAULT_MARKETS = {1: "usa", 4: "oanda", 7: "coinbase"}
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Without a data folder (synthetic prices) the benchmark still gets the id every QuantConnect user knows.
KNOWN_FIRST_DATES = {"SPY": date(1998, 1, 2)}
_map_folders: list[Path] = []


def use_data_folder(folder: Path | None) -> None:
    """Read equities' first dates from this LEAN data folder's map files (the worker sets it for its run)."""
    _map_folders.clear()
    if folder is not None:
        _map_folders.append(Path(folder) / "equity" / "usa" / "map_files")
    _first_listing.cache_clear()


def base36(value: int) -> str:
    text = ""
    while True:
        value, digit = divmod(value, 36)
        text = _DIGITS[digit] + text
        if value == 0:
            return text


@functools.lru_cache(maxsize=4096)
def _first_listing(ticker: str) -> tuple[str, date | None]:
    """The company's first ticker and first date from the map files, or (ticker, None) without one."""
    from qcmcp.marketdata.map_files import resolver_for

    for folder in _map_folders:
        resolver = resolver_for(folder)
        found = resolver.resolve(ticker, date.today()) if resolver else None
        if found is not None and found.rows:
            return found.rows[0].ticker.upper(), found.first_day
    return ticker, KNOWN_FIRST_DATES.get(ticker)


def security_id(ticker: str, security_type: int, market: str | None = None) -> str:
    """The identifier LEAN gives ``ticker`` of ``security_type`` (1 equity, 4 forex, 7 crypto) on ``market``."""
    market = market or DEFAULT_MARKETS.get(int(security_type), "usa")
    symbol, first = ticker.upper(), None
    if int(security_type) == 1:
        symbol, first = _first_listing(symbol)
    days = (first - OLE_EPOCH).days if first else 0
    properties = (int(security_type) * SECURITY_TYPE_OFFSET + MARKET_CODES.get(market, 0) * MARKET_OFFSET
                  + days * DAYS_OFFSET)
    return f"{symbol} {base36(properties)}"
