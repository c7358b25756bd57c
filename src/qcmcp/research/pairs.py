"""Every pair of a universe tested for cointegration at once: Engle–Granger as matrix operations.

A loop of statsmodels' ``coint`` costs about a millisecond a pair, which for 500 symbols (124,750 pairs,
both directions) is minutes. Here, per block of pairs: the hedge ratios come from one covariance matrix
of the demeaned prices, the residuals of all pairs in the block are built in one broadcast, and the ADF
regression of each residual (Δe_t on e_{t-1} and ``lags`` lagged Δe, no constant: what ``coint`` runs)
is solved from its normal equations, all pairs together. The arithmetic is the same as statsmodels' (same
residuals, same degrees of freedom, same MacKinnon p-values), so the t-statistics agree to rounding.

A pair counts as cointegrated when the test rejects in both directions (its p-value is the larger of
the two: a valid test, unlike the smaller), and Benjamini–Hochberg controls the share of false
discoveries among the pairs kept — with thousands of pairs, 5% of them pass a 5% test by chance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, norm
from statsmodels.tsa import adfvalues

from qcmcp.research.cointegration import check_alpha
from qcmcp.research.data import load_prices, symbol_list
from qcmcp.research.errors import ResearchError
from qcmcp.research.results import BULK, Result
from qcmcp.research.threads import one_blas_thread

MIN_OBSERVATIONS = 50
BLOCK_PAIRS = 2048  # ~12 MB per residual block at 756 bars: memory stays flat whatever the universe
COLLINEAR_R2 = 1 - 100 * np.sqrt(np.finfo(float).eps)  # statsmodels' coint: above it, t = -inf


def mackinnon_pvalues(statistics: np.ndarray, variables: int = 2) -> np.ndarray:
    """statsmodels' ``mackinnonp(t, regression="c", N=variables)`` for an array of t-statistics.

    The same MacKinnon (1994) response-surface coefficients, read from ``statsmodels.tsa.adfvalues``.
    """
    index = variables - 1
    t = np.asarray(statistics, dtype=float)
    small, large = adfvalues.tau_c_smallp[index][::-1], adfvalues.tau_c_largep[index][::-1]
    finite = np.where(np.isfinite(t), t, 0.0)
    surface = np.where(finite <= adfvalues.tau_star_c[index], np.polyval(small, finite), np.polyval(large, finite))
    pvalues = norm.cdf(surface)
    return np.where(t > adfvalues.tau_max_c[index], 1.0, np.where(t < adfvalues.tau_min_c[index], 0.0, pvalues))


def _rowdot(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", left, right)


def residual_adf_statistics(residuals: np.ndarray, lags: int) -> np.ndarray:
    """ADF t-statistic (no constant, ``lags`` lagged differences) of each row of ``residuals``.

    Row by row this is ``adfuller(e, maxlag=lags, autolag=None, regression="n")``: regress Δe_t on
    e_{t-1}, Δe_{t-1} … Δe_{t-lags} over the same rows statsmodels keeps, t = γ̂ / se(γ̂).
    """
    diffs = np.diff(residuals, axis=1)
    count = diffs.shape[1]
    used = count - lags
    target = diffs[:, lags:]
    regressors = [residuals[:, lags:-1]] + [diffs[:, lags - lag:count - lag] for lag in range(1, lags + 1)]
    size = len(regressors)
    gram = np.empty((len(residuals), size, size))
    for row in range(size):
        for column in range(row, size):
            gram[:, row, column] = gram[:, column, row] = _rowdot(regressors[row], regressors[column])
    moments = np.stack([_rowdot(regressor, target) for regressor in regressors], axis=1)
    inverse = np.linalg.inv(gram)
    coefficients = np.einsum("bij,bj->bi", inverse, moments)
    squared_residuals = _rowdot(target, target) - np.einsum("bi,bi->b", moments, coefficients)
    variance = np.maximum(squared_residuals, 0.0) / (used - size)
    with np.errstate(divide="ignore", invalid="ignore"):
        return coefficients[:, 0] / np.sqrt(variance * inverse[:, 0, 0])


@dataclass(frozen=True)
class PairStatistics:
    """Engle–Granger both ways for pairs (first[k], second[k]) of a price matrix's columns."""

    first: np.ndarray
    second: np.ndarray
    hedge_ratio: np.ndarray  # OLS slope of first on second
    statistic: np.ndarray  # t of first regressed on second
    reverse_statistic: np.ndarray  # t of second regressed on first

    @property
    def pvalue(self) -> np.ndarray:
        return mackinnon_pvalues(self.statistic)

    @property
    def reverse_pvalue(self) -> np.ndarray:
        return mackinnon_pvalues(self.reverse_statistic)


def engle_granger_pairs(prices: np.ndarray, lags: int = 1, pairs: tuple[np.ndarray, np.ndarray] | None = None,
                        block: int = BLOCK_PAIRS) -> PairStatistics:
    """Engle–Granger t-statistics (trend "c", fixed ``lags``) of every pair of columns of ``prices`` (T × N).

    ``pairs``: index arrays (first, second) to test only those; default all i < j.
    """
    levels = np.asarray(prices, dtype=float)
    centred = np.ascontiguousarray((levels - levels.mean(axis=0)).T)  # N × T: a row per symbol
    products = centred @ centred.T  # T·covariances: every hedge ratio and R² from one matrix
    first, second = pairs if pairs is not None else np.triu_indices(levels.shape[1], 1)
    first, second = np.asarray(first, dtype=np.intp), np.asarray(second, dtype=np.intp)
    cross, first_squares, second_squares = products[first, second], products[first, first], products[second, second]
    hedge, reverse_hedge = cross / second_squares, cross / first_squares
    collinear = cross ** 2 / (first_squares * second_squares) >= COLLINEAR_R2
    statistic, reverse = np.full(len(first), -np.inf), np.full(len(first), -np.inf)
    testable = np.flatnonzero(~collinear)  # a zero residual would make the ADF normal equations singular
    for start in range(0, len(testable), block):
        rows = testable[start:start + block]
        ys, xs = centred[first[rows]], centred[second[rows]]
        statistic[rows] = residual_adf_statistics(ys - hedge[rows, None] * xs, lags)
        reverse[rows] = residual_adf_statistics(xs - reverse_hedge[rows, None] * ys, lags)
    return PairStatistics(first, second, hedge, statistic, reverse)


def spread_half_lives(prices: np.ndarray, first: np.ndarray, second: np.ndarray, hedge: np.ndarray) -> np.ndarray:
    """AR(1) half-life (bars) of each spread first - hedge·second, as ``mean_reversion.half_life``:
    b = cov(e₋₁, Δe) / var(e₋₁), half-life -ln 2 / ln|1 + b|."""
    spreads = prices[:, first].T - hedge[:, None] * prices[:, second].T
    lagged, change = spreads[:, :-1], np.diff(spreads, axis=1)
    lagged = lagged - lagged.mean(axis=1, keepdims=True)
    slope = _rowdot(lagged, change - change.mean(axis=1, keepdims=True)) / _rowdot(lagged, lagged)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((slope < 0) & (slope > -2), -np.log(2) / np.log(np.abs(1 + slope)), np.inf)


@dataclass(frozen=True, kw_only=True)
class PairsScreenResult(Result):
    pairs_tested: int
    significant_count: int  # after Benjamini–Hochberg at alpha
    raw_significant_count: int  # p < alpha before the correction
    alpha: float
    lags: int
    pairs: pd.DataFrame  # the significant pairs, best first (at most max_results rows)
    tested: pd.DataFrame = field(metadata=BULK)  # every pair: statistics, p- and q-values


@one_blas_thread
def screen_cointegrated_pairs(symbols: Sequence[str], start_date: object = None, end_date: object = None,
                              resolution: str = "daily", normalization: str = "adjusted", *, alpha: float = 0.05,
                              lags: int = 1, max_results: int = 100, source: object = None,
                              prices: object = None) -> PairsScreenResult:
    """All pairs of ``symbols`` by vectorised Engle–Granger (both ways), Benjamini–Hochberg FDR at ``alpha``.

    ``lags``: a fixed number of ADF augmentation lags for every pair (one: daily prices' residuals are
    mildly autocorrelated; a per-pair AIC search would cost a regression per candidate lag). Ranked by
    q-value, then by the weaker direction's t-statistic.
    """
    tickers = symbol_list(symbols, minimum=2)
    alpha = check_alpha(alpha)
    if not isinstance(lags, int) or isinstance(lags, bool) or not 0 <= lags <= 20:
        raise ResearchError("lags", f"{lags!r} must be an integer from 0 to 20 (ADF augmentation lags)")
    if not isinstance(max_results, int) or max_results < 1:
        raise ResearchError("max_results", f"{max_results!r} must be a positive integer")
    needed = max(MIN_OBSERVATIONS, 4 * (lags + 2))
    data = load_prices(tickers, start_date, end_date, resolution, normalization, source=source, prices=prices,
                       min_observations=needed, what="a cointegration screen")
    levels = data.closes.to_numpy()
    stats = engle_granger_pairs(levels, lags)
    forward, backward = stats.pvalue, stats.reverse_pvalue
    pvalues = np.maximum(forward, backward)
    qvalues = false_discovery_control(pvalues, method="bh")
    names = np.asarray(tickers, dtype=object)
    tested = pd.DataFrame({"symbol1": names[stats.first], "symbol2": names[stats.second],
                           "hedge_ratio": stats.hedge_ratio, "t_statistic": stats.statistic,
                           "reverse_t_statistic": stats.reverse_statistic, "pvalue": forward,
                           "reverse_pvalue": backward, "pair_pvalue": pvalues, "qvalue": qvalues})
    tested["significant"] = tested["qvalue"] <= alpha
    weaker = np.maximum(stats.statistic, stats.reverse_statistic)
    order = np.lexsort((weaker, qvalues))
    kept = order[tested["significant"].to_numpy()[order]]
    best = tested.iloc[kept[:max_results]].copy()
    best["half_life"] = spread_half_lives(levels, stats.first[best.index], stats.second[best.index],
                                          stats.hedge_ratio[best.index])
    best = best.drop(columns="significant").reset_index(drop=True)
    best.index += 1
    raw = int((pvalues < alpha).sum())
    count = len(kept)
    if count:
        top = best.iloc[0]
        reading = (f"{count} of {len(tested)} pairs cointegrated in both directions at FDR {alpha:g} "
                   f"(Benjamini–Hochberg; {raw} before correction); strongest {top.symbol1}/{top.symbol2}, "
                   f"q = {top.qvalue:.2g}, spread half-life {top.half_life:.1f} bars")
    else:
        reading = (f"no pair of {len(tested)} is cointegrated at FDR {alpha:g} after Benjamini–Hochberg ({raw} "
                   f"passed uncorrected, about {alpha * len(tested):.0f} would by chance alone)")
    return PairsScreenResult(
        pairs_tested=len(tested), significant_count=count, raw_significant_count=raw, alpha=alpha, lags=lags,
        pairs=best, tested=tested, interpretation=reading, data=data.description,
        method=(f"closes, {len(levels)} common bars: Engle–Granger (constant, {lags} ADF lags, MacKinnon p-values) "
                "both ways for every pair, vectorised (batch OLS hedge ratios from one covariance matrix, residual "
                f"ADF regressions by normal equations, blocks of {BLOCK_PAIRS} pairs); pair p = the larger of the "
                "two; Benjamini–Hochberg q-values (FDR control, valid under positive dependence)"))
