"""LEAN's file providers for the map and factor files an algorithm reads itself (``QuantConnect.Data.Auxiliary``):
``LocalDiskFactorFileProvider().get(symbol).get_price_factor(day, mode)`` over the run's data folder, read by the
market-data layer the engine's own prices come from.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from qcmcp.sandbox.engine.types import PascalAliases

MODES = {"raw": "raw", "adjusted": "adjusted", "splitadjusted": "split_adjusted", "totalreturn": "adjusted"}


def _folder() -> Path | None:
    from qcmcp.sandbox.engine.custom_data import Globals

    return Path(Globals.data_folder) if Globals.data_folder else None


class DefaultDataProvider(PascalAliases):
    """LEAN's DefaultDataProvider: files come from the data folder (the providers below read it)."""


class LocalDiskMapFileProvider(PascalAliases):
    """LEAN's LocalDiskMapFileProvider: ``get(symbol)`` is the company's map file."""

    def initialize(self, data_provider: Any = None) -> None:
        self.data_provider = data_provider

    def get(self, symbol: Any) -> Any:
        from qcmcp.sandbox.engine.data import _company_of

        folder = _folder()
        ticker = str(getattr(symbol, "value", symbol))
        return _company_of(folder, ticker, date.today(), date.today()) if folder is not None else None


class FactorFileView(PascalAliases):
    """A company's factor file as LEAN's CorporateFactorProvider answers: the price factor in force on a day."""

    def __init__(self, factors: Any) -> None:
        self._factors = factors

    def get_price_factor(self, moment: Any, mode: Any, *_: Any) -> float:
        day = moment.date() if isinstance(moment, datetime) else moment
        key = str(mode).split(".")[-1].replace("_", "").lower()
        scale = self._factors.scale(np.array([np.datetime64(day, "ns")]), MODES.get(key, "adjusted"))
        return float(scale[0])


class LocalDiskFactorFileProvider(PascalAliases):
    """LEAN's LocalDiskFactorFileProvider: ``get(symbol)`` is the factor file of the company the ticker names."""

    def initialize(self, map_file_provider: Any = None, data_provider: Any = None) -> None:
        self.map_file_provider = map_file_provider

    def get(self, symbol: Any) -> FactorFileView:
        from qcmcp.marketdata.factors import FactorFile, read_factor_file

        company = LocalDiskMapFileProvider().get(symbol)
        folder = _folder()
        if company is None or folder is None:
            return FactorFileView(FactorFile([]))
        return FactorFileView(read_factor_file(folder / "equity" / "usa" / "factor_files" /
                                               f"{company.permtick.lower()}.csv"))
