"""Portfolio weights from the return history: equal weight, minimum variance, maximum Sharpe, risk parity,
hierarchical risk parity (HRP) and minimum CVaR.

The convex ones (minimum variance, maximum Sharpe, minimum CVaR) are solved with cvxpy, whose constraints
(long only, a weight cap) are declared rather than hand-coded; risk parity is the smooth convex problem of
Spinu (2013) solved by scipy's L-BFGS-B; HRP (López de Prado, 2016) needs no inversion at all: scipy's
hierarchical clustering orders the assets, then recursive bisection splits the weight by cluster variance.
All are in-sample: the metrics reported are those of the weights on the same history they came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.optimize import minimize
from scipy.spatial.distance import squareform

from qcmcp.research.data import symbol_list
from qcmcp.research.errors import ResearchError
from qcmcp.research.performance import (
    Metrics,
    check_rate,
    describe_metrics,
    load_with_benchmark,
    metrics_method,
    metrics_of,
    rebalanced_returns,
)
from qcmcp.research.results import Result
from qcmcp.research.threads import one_blas_thread

METHODS = ("min_variance", "max_sharpe", "risk_parity", "hrp", "min_cvar")
NEEDS_INVERTIBLE = ("min_variance", "max_sharpe", "risk_parity")
SINGULAR_RATIO = 1e-10  # smallest / largest covariance eigenvalue below this: singular for our purposes
SOLVER = "CLARABEL"


def check_covariance(covariance: np.ndarray, symbols: Sequence[str], observations: int) -> None:
    """A clear error for a covariance that cannot be inverted, with the likely cause."""
    eigenvalues = np.linalg.eigvalsh(covariance)
    if eigenvalues[0] > SINGULAR_RATIO * eigenvalues[-1]:
        return
    correlation = covariance / np.sqrt(np.outer(np.diag(covariance), np.diag(covariance)))
    np.fill_diagonal(correlation, 0)
    i, j = np.unravel_index(np.argmax(np.abs(correlation)), correlation.shape)
    cause = (f"only {observations} returns for {len(symbols)} assets" if observations <= len(symbols) else
             f"{symbols[i]} and {symbols[j]} have return correlation {correlation[i, j]:.6f}")
    raise ResearchError("symbols", f"the return covariance is singular (smallest/largest eigenvalue "
                                   f"{max(eigenvalues[0], 0) / eigenvalues[-1]:.1e}): {cause}; drop a redundant "
                                   "symbol or widen the range")


def check_max_weight(max_weight: float | None, count: int) -> float | None:
    if max_weight is None:
        return None
    if not isinstance(max_weight, (int, float)) or isinstance(max_weight, bool) or not 0 < max_weight <= 1:
        raise ResearchError("max_weight", f"{max_weight!r} must be a fraction in (0, 1], or None for no cap")
    if max_weight * count < 1 - 1e-9:
        raise ResearchError("max_weight", f"{max_weight:g} × {count} assets < 1: the weights cannot sum to 1; "
                                          f"allow at least {1 / count:.4g} or add assets")
    return float(max_weight)


def _bounds(weights: cp.Variable, long_only: bool, max_weight: float | None, scale: cp.Expression | float = 1.0):
    constraints = [weights >= 0] if long_only else []
    if max_weight is not None:
        constraints.append(weights <= max_weight * scale)
        if not long_only:
            constraints.append(weights >= -max_weight * scale)
    return constraints


def _solved(problem: cp.Problem, method: str) -> None:
    problem.solve(solver=SOLVER)
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise ResearchError("method", f"{method}: the solver ended {problem.status}; loosen the constraints "
                                      "(max_weight, long_only) or choose another method")


def min_variance_weights(covariance: np.ndarray, long_only: bool = True, max_weight: float | None = None) -> np.ndarray:
    """argmin w'Σw subject to Σw = 1 and the bounds."""
    weights = cp.Variable(len(covariance))
    problem = cp.Problem(cp.Minimize(cp.quad_form(weights, cp.psd_wrap(covariance))),
                         [cp.sum(weights) == 1, *_bounds(weights, long_only, max_weight)])
    _solved(problem, "min_variance")
    return np.asarray(weights.value).reshape(-1)


def max_sharpe_weights(expected: np.ndarray, covariance: np.ndarray, risk_free_rate: float = 0.0,
                       long_only: bool = True, max_weight: float | None = None) -> np.ndarray:
    """The tangency portfolio, as a convex problem: minimise y'Σy with (μ - rf)'y = 1, then w = y / Σy
    (Cornuejols & Tütüncü); the bounds scale with Σy so they hold for w."""
    excess = expected - risk_free_rate
    if long_only and excess.max() <= 0:
        raise ResearchError("method", "max_sharpe: no asset's mean return beats the risk-free rate, so every "
                                      "long-only Sharpe ratio is negative; use min_variance")
    scaled = cp.Variable(len(covariance))
    total = cp.sum(scaled)
    problem = cp.Problem(cp.Minimize(cp.quad_form(scaled, cp.psd_wrap(covariance))),
                         [excess @ scaled == 1, total >= 0, *_bounds(scaled, long_only, max_weight, total)])
    _solved(problem, "max_sharpe")
    values = np.asarray(scaled.value).reshape(-1)
    return values / values.sum()


def risk_parity_weights(covariance: np.ndarray) -> np.ndarray:
    """Equal risk contributions w_i·(Σw)_i: minimise ½y'Σy - Σ ln(y_i)/n over y > 0, then w = y / Σy.

    The problem is strictly convex and its stationarity condition is exactly y_i(Σy)_i = 1/n.
    """
    count = len(covariance)
    budget = np.full(count, 1 / count)
    scale = np.sqrt(np.diag(covariance))
    normalised = covariance / np.outer(scale, scale)  # correlation: well scaled for the optimiser

    def objective(y: np.ndarray) -> tuple[float, np.ndarray]:
        product = normalised @ y
        return 0.5 * y @ product - budget @ np.log(y), product - budget / y

    start = np.full(count, 1 / np.sqrt(count))
    found = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=[(1e-12, None)] * count,
                     options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000})
    if not found.success:
        raise ResearchError("method", f"risk_parity: the optimiser did not converge ({found.message})")
    weights = found.x / scale
    return weights / weights.sum()


def hrp_weights(covariance: np.ndarray) -> np.ndarray:
    """Hierarchical risk parity: single-linkage clusters on the distance √(½(1 - ρ)), assets in dendrogram
    order, then each split gives its halves weight in inverse proportion to their inverse-variance variance."""
    deviation = np.sqrt(np.diag(covariance))
    correlation = np.clip(covariance / np.outer(deviation, deviation), -1, 1)
    distance = np.sqrt(np.clip(0.5 * (1 - correlation), 0, None))
    np.fill_diagonal(distance, 0)
    order = leaves_list(linkage(squareform(distance, checks=False), method="single"))
    weights = np.ones(len(covariance))
    clusters = [order]
    while clusters:
        clusters = [half for cluster in clusters if len(cluster) > 1
                    for half in (cluster[:len(cluster) // 2], cluster[len(cluster) // 2:])]
        for left, right in zip(clusters[::2], clusters[1::2]):
            left_variance, right_variance = _cluster_variance(covariance, left), _cluster_variance(covariance, right)
            share = 1 - left_variance / (left_variance + right_variance)
            weights[left] *= share
            weights[right] *= 1 - share
    return weights


def _cluster_variance(covariance: np.ndarray, members: np.ndarray) -> float:
    block = covariance[np.ix_(members, members)]
    inverse_variance = 1 / np.diag(block)
    weights = inverse_variance / inverse_variance.sum()
    return float(weights @ block @ weights)


def min_cvar_weights(returns: np.ndarray, confidence: float = 0.95, long_only: bool = True,
                     max_weight: float | None = None) -> tuple[np.ndarray, float]:
    """Rockafellar–Uryasev: minimise VaR + mean((loss - VaR)⁺)/(1 - confidence) over historical bars, a linear
    programme whose optimum is the portfolio's CVaR (mean loss in the worst 1 - confidence of bars)."""
    count, assets = returns.shape
    weights, threshold = cp.Variable(assets), cp.Variable()
    excess_loss = cp.pos(-returns @ weights - threshold)
    objective = threshold + cp.sum(excess_loss) / ((1 - confidence) * count)
    problem = cp.Problem(cp.Minimize(objective), [cp.sum(weights) == 1, *_bounds(weights, long_only, max_weight)])
    _solved(problem, "min_cvar")
    return np.asarray(weights.value).reshape(-1), float(problem.value)


def risk_contributions(weights: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """Each asset's share of portfolio variance, w_i·(Σw)_i / w'Σw (they sum to 1)."""
    marginal = covariance @ weights
    return weights * marginal / float(weights @ marginal)


@dataclass(frozen=True, kw_only=True)
class PortfolioResult(Result):
    method_name: str
    weights: dict[str, float]
    risk_contributions: dict[str, float]
    metrics: Metrics  # in-sample, of the weights on the same history
    diversification_ratio: float  # weighted average volatility / portfolio volatility (1 = none)
    cvar: float | None  # daily CVaR at the confidence level (min_cvar only)
    confidence: float | None
    long_only: bool
    max_weight: float | None
    benchmark: str | None
    observations: int


def _portfolio(method: str, weights: np.ndarray, tickers: tuple[str, ...], data, bench: str | None,
               rate: float, rebalance_frequency: str, *, long_only: bool, max_weight: float | None,
               how: str, cvar: float | None = None, confidence: float | None = None) -> PortfolioResult:
    returns = data.returns()
    asset_returns = returns[list(tickers)]
    covariance = np.cov(asset_returns.to_numpy(), rowvar=False, ddof=1).reshape(len(tickers), len(tickers))
    portfolio = rebalanced_returns(asset_returns, weights, rebalance_frequency).to_numpy()
    metrics = metrics_of(portfolio, data.periods_per_year, rate, returns[bench].to_numpy() if bench else None)
    volatility = np.sqrt(weights @ covariance @ weights)
    diversification = float(np.abs(weights) @ np.sqrt(np.diag(covariance)) / volatility)
    contributions = risk_contributions(weights, covariance)
    largest = int(np.argmax(np.abs(weights)))
    held = int((np.abs(weights) > 1e-4).sum())
    reading = (f"{method}: {held} of {len(tickers)} assets held, largest {tickers[largest]} "
               f"{weights[largest]:.1%}; in sample " + describe_metrics(metrics, bench)
               + (f"; daily CVaR({confidence:.0%}) {cvar:.2%}" if cvar is not None else ""))
    return PortfolioResult(
        method_name=method, weights=dict(zip(tickers, weights.tolist())),
        risk_contributions=dict(zip(tickers, contributions.tolist())), metrics=metrics,
        diversification_ratio=diversification, cvar=cvar, confidence=confidence, long_only=long_only,
        max_weight=max_weight, benchmark=bench, observations=len(portfolio), interpretation=reading,
        method=how + "; metrics: " + metrics_method(data.periods_per_year, rate, rebalance_frequency,
                                                    len(portfolio), bench),
        data=data.description)


@one_blas_thread
def optimize_equal_weight_portfolio(symbols: Sequence[str], start_date: object = None, end_date: object = None,
                                    resolution: str = "daily", normalization: str = "adjusted", *,
                                    rebalance_frequency: str = "monthly", benchmark: str | None = "SPY",
                                    risk_free_rate: float = 0.0, source: object = None,
                                    prices: object = None) -> PortfolioResult:
    """1/N in every asset, rebalanced each period: the baseline any optimiser has to beat out of sample."""
    tickers = symbol_list(symbols)
    rate = check_rate(risk_free_rate)
    data, bench = load_with_benchmark(tickers, benchmark, start_date, end_date, resolution, normalization, source,
                                      prices, "an equal-weight portfolio")
    weights = np.full(len(tickers), 1 / len(tickers))
    return _portfolio("equal_weight", weights, tickers, data, bench, rate, rebalance_frequency, long_only=True,
                      max_weight=None, how=f"1/{len(tickers)} each, reset {rebalance_frequency}")


@one_blas_thread
def optimize_portfolio(symbols: Sequence[str], start_date: object = None, end_date: object = None,
                       resolution: str = "daily", normalization: str = "adjusted", *, method: str = "min_variance",
                       long_only: bool = True, max_weight: float | None = None, risk_free_rate: float = 0.0,
                       confidence: float = 0.95, benchmark: str | None = None, rebalance_frequency: str = "daily",
                       source: object = None, prices: object = None) -> PortfolioResult:
    """Weights by ``method``: min_variance, max_sharpe, risk_parity, hrp or min_cvar (see the module).

    ``long_only`` and ``max_weight`` (a cap on each |weight|) constrain min_variance, max_sharpe and
    min_cvar; risk_parity and hrp are long-only by construction and reject a cap they would break.
    ``confidence``: the CVaR level of min_cvar.
    """
    tickers = symbol_list(symbols, minimum=2)
    if method not in METHODS:
        raise ResearchError("method", f"{method!r} is not one of {', '.join(METHODS)}")
    cap = check_max_weight(max_weight, len(tickers))
    rate = check_rate(risk_free_rate)
    if not isinstance(confidence, float) or not 0.5 <= confidence < 1:
        raise ResearchError("confidence", f"{confidence!r} must be a level in [0.5, 1), e.g. 0.95")
    data, bench = load_with_benchmark(tickers, benchmark, start_date, end_date, resolution, normalization, source,
                                      prices, f"{method} optimisation")
    returns = data.returns()[list(tickers)].to_numpy()
    if method == "min_cvar" and len(returns) * (1 - confidence) < 5:
        needed = int(np.ceil(5 / (1 - confidence))) + 1
        raise ResearchError("start_date/end_date", f"min_cvar at {confidence:g} needs at least {needed} bars "
                                                   f"(5 in the tail), got {len(returns) + 1}; widen the range")
    covariance = np.cov(returns, rowvar=False, ddof=1) * data.periods_per_year
    if method in NEEDS_INVERTIBLE:
        check_covariance(covariance, tickers, len(returns))
    cvar = None
    if method == "min_variance":
        weights, how = min_variance_weights(covariance, long_only, cap), "cvxpy (Clarabel): min w'Σw, Σw = 1"
    elif method == "max_sharpe":
        expected = returns.mean(axis=0) * data.periods_per_year
        weights = max_sharpe_weights(expected, covariance, rate, long_only, cap)
        how = f"cvxpy (Clarabel): max (μ - rf)'w / √(w'Σw), μ = mean return × {data.periods_per_year}, rf {rate:g}"
    elif method == "min_cvar":
        weights, cvar = min_cvar_weights(returns, confidence, long_only, cap)
        how = f"cvxpy (Clarabel): Rockafellar–Uryasev LP, CVaR at {confidence:g} over {len(returns)} historical bars"
    else:
        weights = risk_parity_weights(covariance) if method == "risk_parity" else hrp_weights(covariance)
        how = ("scipy L-BFGS-B: equal risk contributions (Spinu's convex form)" if method == "risk_parity" else
               "scipy single-linkage clustering on √(½(1-ρ)), quasi-diagonal order, recursive bisection")
        if cap is not None and weights.max() > cap + 1e-9:
            raise ResearchError("max_weight", f"{method} gives {tickers[int(np.argmax(weights))]} "
                                              f"{weights.max():.1%}, over the cap {cap:g}; its weights follow from "
                                              "risk alone: drop max_weight or use min_variance with it")
    if long_only:
        weights = np.clip(weights, 0, None)  # solver dust just below zero
        weights = weights / weights.sum()
    how += f"; Σ = sample covariance of simple returns × {data.periods_per_year}"
    return _portfolio(method, weights, tickers, data, bench, rate, rebalance_frequency,
                      long_only=long_only or method in ("risk_parity", "hrp"), max_weight=cap, how=how,
                      cvar=cvar, confidence=confidence if method == "min_cvar" else None)
