"""An Object Store object (CSV or Parquet bytes) as a source: bars a backtest or a notebook saved, read by key.

This layer does not talk to QuantConnect or the sandbox: the layer that has the backend fetches the object
(bounded by ``MAX_OBJECT_BYTES`` before it downloads) and hands the bytes in as an ``ObjectStoreObject``.

Columns are those of ``flat_files`` (time, open, high, low, close[, volume]; prices as stored, i.e. raw),
plus, for more than one symbol in one object, a ``symbol`` column (``ticker`` is accepted too). Without it
the object holds one symbol, named by the key's file name: ``prices/GOOG.csv`` holds GOOG. Parquet is
recognised by its magic bytes or a ``.parquet`` key and needs pyarrow, as for files. Objects carry no factor
files, so every normalisation returns the prices as stored (a note says so). Parsed objects are cached by
their content's SHA-256, so the same bytes are parsed once.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pandas as pd

from qcmcp.marketdata.cache import cached
from qcmcp.marketdata.errors import MarketDataError, MissingData
from qcmcp.marketdata.factors import NO_FACTORS
from qcmcp.marketdata.flat_files import REQUIRED, bar_rows, lower_columns, parquet_engine_available, prepare
from qcmcp.marketdata.market_hours import ExchangeHours, database_in
from qcmcp.marketdata.request import BarRequest, SymbolBars, select

MAX_OBJECT_BYTES = 64 * 1024 * 1024  # about 20 years of daily bars for 1,000 symbols as CSV
PARQUET_MAGIC = b"PAR1"
SYMBOL_COLUMNS = ("symbol", "ticker")
PARAMETER = "object_key"


@dataclass(frozen=True, eq=False)
class _Blob:
    """Bytes hashed and compared by their digest, so the parse cache keys on content, not identity."""

    key: str
    data: bytes = field(repr=False)
    digest: str = ""

    def __hash__(self) -> int:
        return hash((self.key, self.digest))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Blob) and (self.key, self.digest) == (other.key, other.digest)


def check_size(key: str, size: int, limit: int | None = None) -> None:
    """A clear error for an object too large to read as market data (call it before downloading, too)."""
    limit = MAX_OBJECT_BYTES if limit is None else limit
    if size > limit:
        raise MarketDataError(f"{PARAMETER} '{key}': the object holds {size:,} bytes and market data is read from "
                              f"objects of at most {limit:,} bytes; split it (one object per symbol, e.g. "
                              "prices/SPY.csv) or save it as Parquet")


def _where(key: str) -> str:
    return f"{PARAMETER} '{key}'"


def _read(blob: _Blob) -> pd.DataFrame:
    parquet = blob.data.startswith(PARQUET_MAGIC) or blob.key.lower().endswith(".parquet")
    try:
        if not parquet:
            return pd.read_csv(io.BytesIO(blob.data))
        if not parquet_engine_available():
            raise MarketDataError(f"{_where(blob.key)} is a Parquet object and reading it needs pyarrow: install it "
                                  "(pip install pyarrow, or uv add pyarrow), or store the bars as CSV")
        return pd.read_parquet(io.BytesIO(blob.data))
    except MarketDataError:
        raise
    except (ValueError, TypeError, OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        kind = "Parquet" if parquet else "CSV"
        raise MarketDataError(f"{_where(blob.key)} does not read as {kind} ({str(error)[:200]}): store CSV with the "
                              "header time,open,high,low,close[,volume][,symbol], or Parquet with those columns") \
            from None


class _Rows:
    """A symbol's rows handed to the prepare cache beside its key, but not part of it (the key says whose)."""

    def __init__(self, rows: pd.DataFrame) -> None:
        self.rows = rows

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Rows)


# A cached parse keeps its object's bytes (up to MAX_OBJECT_BYTES each) alive as its key: only a few are kept.
@cached(maxsize=4)
def _by_symbol(blob: _Blob) -> dict[str, pd.DataFrame]:
    """The object's rows per upper-case ticker (raw columns; cached by content)."""
    table = lower_columns(_read(blob))
    missing = [name for name in REQUIRED if name not in table.columns]
    if missing:
        raise MarketDataError(f"{_where(blob.key)} lacks the column(s) {', '.join(missing)} (it has "
                              f"{', '.join(map(str, table.columns[:12]))}): the header must be "
                              "time,open,high,low,close[,volume][,symbol] (time = bar end, exchange time)")
    column = next((name for name in SYMBOL_COLUMNS if name in table.columns), None)
    if column is None:
        return {PurePosixPath(blob.key).stem.upper(): table}
    tickers = table[column].astype("string").str.strip().str.upper()
    return {str(name): rows.drop(columns=[column]) for name, rows in table.groupby(tickers, sort=True)}


@cached(maxsize=256)
def _prepared(ref: _Blob, symbol: str, mode: str, hours: ExchangeHours, extended: bool, resolution: str,
              held: _Rows) -> pd.DataFrame:
    """One symbol's bars, ready to select from; keyed by the object's key and digest (``ref`` holds no bytes)."""
    rows = bar_rows(held.rows, hours.time_zone, f"{_where(ref.key)} ({symbol})")
    return prepare(rows, NO_FACTORS, mode, hours, extended, resolution)


@dataclass(frozen=True)
class ObjectStoreObject:
    """An Object Store object's bytes as a source (``history(..., source=ObjectStoreObject(key, data))``).

    ``store`` names where the bytes came from (the sandbox's object store, or QuantConnect's with the
    organization), for the result's description.
    """

    key: str
    data: bytes = field(repr=False)
    store: str = "Object Store"
    chosen_by: str = f"{PARAMETER} argument"
    kind: str = "object-store"
    _blob: _Blob = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_size(self.key, len(self.data))
        digest = hashlib.sha256(self.data).hexdigest()
        object.__setattr__(self, "_blob", _Blob(self.key, self.data, digest))

    @property
    def location(self) -> str:
        return f"{self.store} key '{self.key}'"

    def symbols(self) -> list[str]:
        return list(_by_symbol(self._blob))

    def load(self, request: BarRequest) -> SymbolBars:
        if request.resolution not in ("daily", "hour", "minute", "second"):
            raise MarketDataError(f"resolution {request.resolution!r} cannot be read from an object")
        held = _by_symbol(self._blob)
        if request.symbol not in held:
            names = ", ".join(list(held)[:20]) + (", …" if len(held) > 20 else "")
            raise MissingData(request.symbol, f"{_where(self.key)} has no rows for {request.symbol}: it holds "
                              f"{names or 'no rows'}. Add a symbol column naming each row's ticker, or name the "
                              f"object after its one ticker (prices/{request.symbol}.csv)", (self.location,))
        hours = database_in(None).hours(request.security_type, request.market, request.symbol)
        ref = _Blob(self.key, b"", self._blob.digest)
        prepared = _prepared(ref, request.symbol, request.normalization, hours, request.extended_hours,
                             request.resolution, _Rows(held[request.symbol]))
        frame = select(prepared, request.window)
        if frame.empty:
            span = f"from {prepared.index[0]} to {prepared.index[-1]}" if len(prepared) else "no usable rows"
            raise MissingData(request.symbol, f"no {request.resolution} bars for {request.symbol} in {request.window} "
                              f"in {_where(self.key)}: it has {span}. Widen the range, or store the bars you need",
                              (self.location,))
        notes = [f"read from {self.location}"]
        if request.normalization != "raw":
            notes.append(f"prices are as stored in the object (objects carry no factor files), not re-normalised "
                         f"to {request.normalization}")
        return SymbolBars(frame, hours.time_zone, notes)
