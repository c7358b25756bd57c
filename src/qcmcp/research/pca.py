"""Common factors of a universe: principal components of standardised returns (scikit-learn's PCA)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from qcmcp.research.data import load_prices, symbol_list
from qcmcp.research.errors import ResearchError
from qcmcp.research.results import Result
from qcmcp.research.threads import one_blas_thread

MIN_RETURNS = 20


@dataclass(frozen=True, kw_only=True)
class PCAResult(Result):
    explained_variance_ratio: list[float]
    cumulative_variance_ratio: list[float]
    loadings: pd.DataFrame  # rows PC1.., columns symbols: unit-length component weights
    components_for_90_percent: int
    observations: int


def standardised(returns: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per column (population std, as sklearn's StandardScaler): so a volatile
    asset does not own the first component just by being volatile."""
    return (returns - returns.mean(axis=0)) / returns.std(axis=0)


@one_blas_thread
def perform_pca_analysis(symbols: Sequence[str], start_date: object = None, end_date: object = None,
                         resolution: str = "daily", normalization: str = "adjusted", *,
                         n_components: int | None = None, source: object = None,
                         prices: object = None) -> PCAResult:
    """Explained variance and loadings of the principal components of standardised simple returns.

    Signs are fixed so each component's loadings sum to a positive number (PC1 then reads as "the market
    up"); sklearn's own sign choice is arbitrary.
    """
    tickers = symbol_list(symbols, minimum=2)
    if n_components is not None and not (isinstance(n_components, int) and 1 <= n_components <= len(tickers)):
        raise ResearchError("n_components", f"{n_components!r} must be an integer from 1 to the number of "
                                            f"symbols ({len(tickers)}), or None for all")
    data = load_prices(tickers, start_date, end_date, resolution, normalization, source=source, prices=prices,
                       min_observations=MIN_RETURNS + 1, what="PCA")
    returns = data.returns().to_numpy()
    model = PCA(svd_solver="full").fit(standardised(returns))  # all components: the 90% count needs them
    kept = n_components or len(tickers)
    components = model.components_[:kept]
    components = components * np.where(components.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)
    ratios = model.explained_variance_ratio_[:kept].tolist()
    cumulative = np.cumsum(ratios).tolist()
    for_90 = int(np.searchsorted(np.cumsum(model.explained_variance_ratio_), 0.9 - 1e-12) + 1)
    names = [f"PC{number}" for number in range(1, len(ratios) + 1)]
    loadings = pd.DataFrame(components, index=names, columns=tickers)
    top = loadings.iloc[0].abs().idxmax()
    reading = (f"PC1 explains {ratios[0]:.0%} of the variance of standardised returns ("
               + ("one common factor dominates" if ratios[0] > 0.5 else "no single factor dominates")
               + f", heaviest loading {top}); {for_90} of {len(tickers)} components explain 90%")
    return PCAResult(explained_variance_ratio=ratios, cumulative_variance_ratio=cumulative, loadings=loadings,
                     components_for_90_percent=for_90, observations=len(returns), interpretation=reading,
                     method=f"scikit-learn PCA (full SVD) of standardised simple {data.description.resolution} "
                            f"returns, {len(returns)} common bars; loadings are unit-length eigenvectors",
                     data=data.description)
