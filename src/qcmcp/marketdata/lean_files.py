"""LEAN's data files: where they live and how their trade bars read.

Layout (LEAN ``Data/readme.md`` and ``Data/equity/readme.md``, ``Data/crypto/readme.md``)::

    equity/usa/daily/spy.zip                       spy.csv: "YYYYMMDD 00:00,open,high,low,close,volume"
    equity/usa/hour/spy.zip                        spy.csv: "YYYYMMDD HH:00,..." (bar start)
    equity/usa/minute/spy/YYYYMMDD_trade.zip       "ms since midnight,open,high,low,close,volume" (bar start)
    equity/usa/second/spy/YYYYMMDD_trade.zip       same as minute
    crypto/coinbase/daily/btcusd_trade.zip         btcusd.csv: "YYYYMMDD 00:00,..." (hour: same, HH:00)
    crypto/coinbase/minute/btcusd/YYYYMMDD_trade.zip

Times are in the data time zone of the market-hours database (New York for US equities, UTC for crypto).
Equity prices are integers in units of 1/10,000 dollar ("deci-cents"); crypto prices are plain decimals.
Only trade bars are read (quote files, ``*_quote.zip``, are not).
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd

from qcmcp.marketdata.cache import Signature, cached, file_signature

PRICE_SCALE = {"equity": 10_000, "crypto": 1}
INTRADAY = ("minute", "second")
BAR_PERIOD = {"daily": pd.Timedelta(days=1), "hour": pd.Timedelta(hours=1), "minute": pd.Timedelta(minutes=1),
              "second": pd.Timedelta(seconds=1)}
RAW_COLUMNS = ["time", "open", "high", "low", "close", "volume"]
_DAY_FILE = re.compile(r"^(\d{8})_trade\.zip$")


def resolution_folder(root: Path, security_type: str, market: str, resolution: str) -> Path:
    return root / security_type / market / resolution


def history_file(root: Path, security_type: str, market: str, resolution: str, ticker: str) -> Path:
    """The one file holding a ticker's whole daily or hour history."""
    name = f"{ticker.lower()}.zip" if security_type == "equity" else f"{ticker.lower()}_trade.zip"
    return resolution_folder(root, security_type, market, resolution) / name


def day_folder(root: Path, security_type: str, market: str, resolution: str, ticker: str) -> Path:
    """The folder of a ticker's minute or second files, one zip per day."""
    return resolution_folder(root, security_type, market, resolution) / ticker.lower()


def day_files(folder: Path, first: date, last: date) -> list[tuple[date, Path]]:
    """The ``YYYYMMDD_trade.zip`` files in ``folder`` dated ``first`` to ``last`` (a listing, no reads)."""
    if not folder.is_dir():
        return []
    found = []
    low, high = f"{first:%Y%m%d}", f"{last:%Y%m%d}"
    for name in sorted(entry.name for entry in folder.iterdir()):
        match = _DAY_FILE.match(name)
        if match and low <= match.group(1) <= high:
            found.append((date(int(name[:4]), int(name[4:6]), int(name[6:8])), folder / name))
    return found


def tickers_in(folder: Path) -> list[str]:
    """Tickers a resolution folder has files for (for error messages)."""
    if not folder.is_dir():
        return []
    names = {entry.name.split("_")[0].removesuffix(".zip") for entry in folder.iterdir()
             if entry.is_dir() or entry.name.endswith(".zip")}
    return sorted(name.upper() for name in names)


def read_zip_csv(path: Path) -> pd.DataFrame:
    """The raw rows of the CSV inside a LEAN zip: the one place a data file is opened (tests count calls)."""
    with zipfile.ZipFile(path) as archive:
        members = [name for name in archive.namelist() if name.lower().endswith(".csv")] or archive.namelist()
        if not members:
            return pd.DataFrame(columns=RAW_COLUMNS)
        with archive.open(members[0]) as stream:
            try:
                return pd.read_csv(stream, header=None, names=RAW_COLUMNS, usecols=range(6), dtype={0: str})
            except pd.errors.EmptyDataError:
                return pd.DataFrame(columns=RAW_COLUMNS)


def _start_times(raw: pd.DataFrame, resolution: str, day: date | None) -> pd.Series:
    if resolution in INTRADAY:
        milliseconds = pd.to_numeric(raw["time"]).astype("float64")
        return pd.Timestamp(day) + pd.to_timedelta(milliseconds, unit="ms")
    return pd.to_datetime(raw["time"], format="%Y%m%d %H:%M")


@cached(maxsize=512)
def _parsed(signature: Signature, resolution: str, scale: int, day: date | None) -> pd.DataFrame:
    raw = read_zip_csv(Path(signature[0]))
    bars = pd.DataFrame({"start": _start_times(raw, resolution, day).astype("datetime64[ns]")})
    for column in ("open", "high", "low", "close"):
        bars[column] = raw[column].astype("float64").to_numpy() / scale
    bars["volume"] = raw["volume"].astype("float64").to_numpy()
    return bars.sort_values("start", kind="stable").reset_index(drop=True)


def bars_of(signature: Signature, resolution: str, security_type: str, day: date | None = None) -> pd.DataFrame:
    """Bars of one file: ``start`` (bar start, data time zone) and prices in currency units (cached)."""
    return _parsed(signature, resolution, PRICE_SCALE[security_type], day)


def trade_bars(path: Path, resolution: str, security_type: str, day: date | None = None) -> pd.DataFrame:
    return bars_of(file_signature(path), resolution, security_type, day)
