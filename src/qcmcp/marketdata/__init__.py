"""Market data for research tools and the sandbox engine: one layer, LEAN's formats and conventions.

    from qcmcp.marketdata import history
    data = history(["SPY", "AAPL"], "2013-10-01", "2013-10-31")          # daily, adjusted
    data.frame                    # (symbol, time) MultiIndex; open, high, low, close, volume
    data.bars("SPY")              # one symbol, indexed by time
    data.describe()               # source, normalisation, range covered, per-symbol notes

Why pandas: the engine already builds on it, LEAN's own ``history()`` answers with a pandas DataFrame of
this shape (so research code written for QuantConnect reads these frames unchanged), and reading a zipped
CSV, multiplying by factors and slicing by time are single vectorised calls in it.

Modules, one concern each:

- ``lean_files``: LEAN's zip/CSV layout and parsing (equity prices in 1/10,000 dollar, crypto plain);
- ``factors``: factor files and the normalisation modes (raw, adjusted, split_adjusted, total_return);
- ``map_files``: ticker changes over a company's life;
- ``market_hours``: the market-hours database: sessions, holidays, early closes, bar filtering;
- ``lean_folder`` / ``flat_files`` / ``objects`` / ``synthetic``: the kinds of source (``objects``: an Object
  Store object's CSV/Parquet bytes, fetched by the layer that has the backend and handed in);
- ``workspace``: lean-cli's ``lean.json`` and its data folder;
- ``sources``: which source answers (argument, ``QCMCP_DATA_DIR``, lean.json, built-in sample);
- ``inputs``, ``request``, ``frames``, ``history``: arguments, the per-symbol request, the result, the entry.

Conventions (checked against LEAN's source, see each module): ``time`` is the bar end in exchange time;
regular hours only unless ``extended_hours=True``; ``adjusted`` is the default normalisation; a ticker
names the company that traded under it on the range's first day.

Built in: LEAN's daily US equity sample (1998–2021, ``lean_sample/``, Apache-2.0, see its README).
Synthetic bars appear only when asked for, and are labelled. Reads are cached by file signature.

Future, not here: quote bars and ticks; options,
futures and forex; LEAN's zipped ``map_files_YYYYMMDD.zip`` / ``factor_files_YYYYMMDD.zip`` bundles.
"""

from qcmcp.marketdata.cache import clear_cache
from qcmcp.marketdata.errors import MarketDataError, MissingData
from qcmcp.marketdata.frames import MarketData, SymbolInfo
from qcmcp.marketdata.history import history
from qcmcp.marketdata.inputs import NORMALIZATIONS, RESOLUTIONS, SECURITY_TYPES
from qcmcp.marketdata.objects import MAX_OBJECT_BYTES, ObjectStoreObject
from qcmcp.marketdata.sources import ENVIRONMENT_VARIABLE, SAMPLE_FOLDER, choose_source

__all__ = ["ENVIRONMENT_VARIABLE", "MAX_OBJECT_BYTES", "NORMALIZATIONS", "RESOLUTIONS", "SAMPLE_FOLDER",
           "SECURITY_TYPES", "MarketData", "MarketDataError", "MissingData", "ObjectStoreObject", "SymbolInfo", "choose_source",
           "clear_cache", "history"]
