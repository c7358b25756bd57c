"""Research analytics over price history: pure functions, vectorised, one concern per module.

    from qcmcp import research
    result = research.test_cointegration("GOOG", "GOOGL", "2015-01-01", "2020-12-31")
    result.cointegrated, result.eg_pvalue, result.half_life
    result.interpretation       # one line: what the numbers mean
    result.to_dict()            # JSON-ready: numbers, interpretation, method, data description

Every function loads closes through ``qcmcp.marketdata.history`` (or takes ``prices=``: a ``MarketData``
or a frame of closes), keeps the bars all its symbols share, and answers with a frozen dataclass: the
numbers that decide, a one-line interpretation, the method, and the data actually used (source,
normalisation, first and last bar, rows). Bad input raises ``ResearchError`` (a ValueError) naming the
parameter; data that offline sources cannot have (ETF constituents, fundamentals) raises ``DataUnavailable``.

Modules: ``data`` (loading, ``get_history``), ``correlation``, ``pca``, ``cointegration`` (one pair),
``pairs`` (every pair, vectorised Engle–Granger with FDR control), ``mean_reversion``, ``performance``,
``optimization``, ``tracking`` (sparse index tracking), ``selection`` (uncorrelated subsets, screens),
``charts`` (PNG bytes).

Names load on first use (statsmodels, cvxpy and scikit-learn take seconds to import), so importing the
package, e.g. to register tools, costs nothing until an analysis runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "charts": ("correlation_heatmap_png", "pca_loadings_png", "spread_png", "weights_png"),
    "cointegration": ("CointegrationResult", "test_cointegration"),
    "correlation": ("CorrelationResult", "calculate_correlation_matrix"),
    "data": ("HistoryResult", "PriceData", "get_history", "load_prices"),
    "errors": ("DataUnavailable", "ResearchError"),
    "mean_reversion": ("MeanReversionResult", "analyze_mean_reversion"),
    "optimization": ("PortfolioResult", "optimize_equal_weight_portfolio", "optimize_portfolio"),
    "pairs": ("PairsScreenResult", "screen_cointegrated_pairs"),
    "pca": ("PCAResult", "perform_pca_analysis"),
    "performance": ("PerformanceResult", "calculate_portfolio_performance"),
    "results": ("DataDescription", "Result"),
    "selection": ("ScreenResult", "SelectionResult", "get_etf_constituents", "screen_assets_by_criteria",
                  "select_uncorrelated_assets"),
    "tracking": ("TrackingResult", "sparse_optimization"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = [
    "CointegrationResult", "CorrelationResult", "DataDescription", "DataUnavailable", "HistoryResult",
    "MeanReversionResult", "PCAResult", "PairsScreenResult", "PerformanceResult", "PortfolioResult", "PriceData",
    "ResearchError", "Result", "ScreenResult", "SelectionResult", "TrackingResult", "analyze_mean_reversion",
    "calculate_correlation_matrix", "calculate_portfolio_performance", "correlation_heatmap_png",
    "get_etf_constituents", "get_history", "load_prices", "optimize_equal_weight_portfolio", "optimize_portfolio",
    "pca_loadings_png", "perform_pca_analysis", "screen_assets_by_criteria", "screen_cointegrated_pairs",
    "select_uncorrelated_assets", "sparse_optimization", "spread_png", "test_cointegration", "weights_png",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static readers see the real names
    from qcmcp.research.charts import correlation_heatmap_png, pca_loadings_png, spread_png, weights_png
    from qcmcp.research.cointegration import CointegrationResult, test_cointegration
    from qcmcp.research.correlation import CorrelationResult, calculate_correlation_matrix
    from qcmcp.research.data import HistoryResult, PriceData, get_history, load_prices
    from qcmcp.research.errors import DataUnavailable, ResearchError
    from qcmcp.research.mean_reversion import MeanReversionResult, analyze_mean_reversion
    from qcmcp.research.optimization import PortfolioResult, optimize_equal_weight_portfolio, optimize_portfolio
    from qcmcp.research.pairs import PairsScreenResult, screen_cointegrated_pairs
    from qcmcp.research.pca import PCAResult, perform_pca_analysis
    from qcmcp.research.performance import PerformanceResult, calculate_portfolio_performance
    from qcmcp.research.results import DataDescription, Result
    from qcmcp.research.selection import (
        ScreenResult,
        SelectionResult,
        get_etf_constituents,
        screen_assets_by_criteria,
        select_uncorrelated_assets,
    )
    from qcmcp.research.tracking import TrackingResult, sparse_optimization
