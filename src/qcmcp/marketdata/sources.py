"""Choosing where bars come from, in a fixed order that the result reports.

1. ``source=`` given: ``"sample"`` (the built-in LEAN sample), ``"synthetic"``, a folder path, or an object
   with ``kind``, ``location``, ``chosen_by`` and ``load(request)`` (``objects.ObjectStoreObject``: an Object
   Store object by key, its bytes fetched by the caller that has the backend; the research tools' ``object_key``);
2. the ``QCMCP_DATA_DIR`` environment variable, a folder;
3. a lean-cli workspace: ``lean.json`` in the working directory or a parent, its ``data-folder``;
4. the built-in sample: LEAN's daily US equity bars, factor and map files (``lean_sample/``).

A folder is read as LEAN's layout when it has ``equity/`` or ``crypto/`` in it, else as CSV/Parquet files
(``flat_files``). One source answers the whole request: a symbol it lacks is an error naming the places it
looked, never a silent fall-back to other data.
"""

from __future__ import annotations

import os
from pathlib import Path

from qcmcp.marketdata.errors import MarketDataError
from qcmcp.marketdata.flat_files import FlatFilesFolder, holds_flat_files
from qcmcp.marketdata.lean_folder import LeanFolder
from qcmcp.marketdata.request import Source
from qcmcp.marketdata.synthetic import SyntheticSource
from qcmcp.marketdata.workspace import data_folder, find_lean_json

SAMPLE_FOLDER = Path(__file__).with_name("lean_sample")
ENVIRONMENT_VARIABLE = "QCMCP_DATA_DIR"
LEAN_TOP_FOLDERS = ("equity", "crypto")


def sample_source(chosen_by: str = "default: no source argument, QCMCP_DATA_DIR or lean.json") -> LeanFolder:
    return LeanFolder(SAMPLE_FOLDER, kind="sample", chosen_by=chosen_by)


def folder_source(folder: Path, chosen_by: str, kind: str = "lean-folder") -> Source:
    """A folder as LEAN data or as CSV/Parquet files; a clear error when it is neither."""
    if not folder.is_dir():
        raise MarketDataError(f"{chosen_by}: {folder} is not a folder; pass a LEAN data folder, a folder of "
                              "CSV/Parquet files, 'sample' or 'synthetic'")
    if any((folder / name).is_dir() for name in LEAN_TOP_FOLDERS):
        return LeanFolder(folder, kind=kind, chosen_by=chosen_by)
    if holds_flat_files(folder):
        return FlatFilesFolder(folder, chosen_by=chosen_by)
    raise MarketDataError(f"{chosen_by}: {folder} holds neither LEAN's layout (equity/usa/daily/spy.zip, …) nor "
                          "CSV/Parquet files (SPY.csv, minute/SPY.csv, …); point it at one of those")


def _named(name: str) -> Source | None:
    lowered = name.strip().lower()
    if lowered in ("sample", "builtin", "built-in"):
        return sample_source("source argument")
    if lowered == "synthetic":
        return SyntheticSource()
    return None


def choose_source(source: object = None, cwd: Path | None = None) -> Source:
    """The source for a request (see the module docstring for the order)."""
    if source is not None:
        if hasattr(source, "load") and hasattr(source, "kind"):
            return source  # type: ignore[return-value]
        if isinstance(source, str) and (named := _named(source)) is not None:
            return named
        if isinstance(source, (str, os.PathLike)):
            return folder_source(Path(source).expanduser(), "source argument")
        raise MarketDataError(f"source={source!r} is not usable: pass 'sample', 'synthetic', a folder path or "
                              "a source object (kind, location, chosen_by, load)")
    from_environment = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if from_environment:
        return folder_source(Path(from_environment).expanduser(), ENVIRONMENT_VARIABLE)
    lean_json = find_lean_json((cwd or Path.cwd()).resolve())
    if lean_json is not None:
        return folder_source(data_folder(lean_json), f"lean.json at {lean_json}", kind="lean-workspace")
    return sample_source()
