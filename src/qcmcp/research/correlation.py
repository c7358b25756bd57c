"""How much a universe moves together: the correlation matrix of bar-to-bar returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from qcmcp.research.data import load_prices, symbol_list
from qcmcp.research.errors import ResearchError
from qcmcp.research.results import Result
from qcmcp.research.threads import one_blas_thread

CORRELATION_METHODS = ("pearson", "spearman")
MIN_RETURNS = 20  # fewer and a correlation's standard error (≈ 1/√n) passes 0.2


@dataclass(frozen=True, kw_only=True)
class CorrelationResult(Result):
    matrix: pd.DataFrame
    average_correlation: float  # mean of the off-diagonal entries
    highest_pair: tuple[str, str, float]
    lowest_pair: tuple[str, str, float]
    observations: int  # returns used


def correlation_of(returns: np.ndarray, method: str = "pearson") -> np.ndarray:
    """Columns' correlation matrix; Spearman is Pearson on ranks."""
    if method == "spearman":
        returns = rankdata(returns, axis=0)
    return np.corrcoef(returns, rowvar=False)


def extreme_pairs(matrix: np.ndarray, names: Sequence[str]) -> tuple[tuple[str, str, float], tuple[str, str, float]]:
    upper_rows, upper_columns = np.triu_indices(len(names), 1)
    values = matrix[upper_rows, upper_columns]
    high, low = int(np.argmax(values)), int(np.argmin(values))
    return ((names[upper_rows[high]], names[upper_columns[high]], float(values[high])),
            (names[upper_rows[low]], names[upper_columns[low]], float(values[low])))


@one_blas_thread
def calculate_correlation_matrix(symbols: Sequence[str], start_date: object = None, end_date: object = None,
                                 resolution: str = "daily", normalization: str = "adjusted", *,
                                 method: str = "pearson", source: object = None,
                                 prices: object = None) -> CorrelationResult:
    """Correlation of simple returns on the symbols' common bars (why: diversification and pair candidates)."""
    tickers = symbol_list(symbols, minimum=2)
    if method not in CORRELATION_METHODS:
        raise ResearchError("method", f"{method!r} is not one of {', '.join(CORRELATION_METHODS)}")
    data = load_prices(tickers, start_date, end_date, resolution, normalization, source=source, prices=prices,
                       min_observations=MIN_RETURNS + 1, what="a correlation matrix")
    returns = data.returns()
    matrix = correlation_of(returns.to_numpy(), method)
    count = len(tickers)
    average = float((matrix.sum() - count) / (count * (count - 1)))
    high, low = extreme_pairs(matrix, tickers)
    reading = (f"average pairwise correlation {average:.2f}; most alike {high[0]}/{high[1]} ({high[2]:.2f}), "
               f"least {low[0]}/{low[1]} ({low[2]:.2f}): "
               + ("the universe moves largely as one, little diversification" if average > 0.7 else
                  "substantial common movement, some diversification" if average > 0.3 else
                  "returns are mostly independent, good diversification"))
    return CorrelationResult(matrix=pd.DataFrame(matrix, index=tickers, columns=tickers), average_correlation=average,
                             highest_pair=high, lowest_pair=low, observations=len(returns), interpretation=reading,
                             method=f"{method.title()} correlation of simple {data.description.resolution} returns "
                                    f"on {len(returns)} common bars", data=data.description)
