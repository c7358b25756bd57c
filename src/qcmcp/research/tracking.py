"""Track a benchmark with few assets: sparse index tracking with a Huber downside-risk loss (cvxpy).

The loss penalises only the bars where the portfolio falls short of the benchmark (beating it is no
error), quadratically for ordinary shortfalls and linearly beyond ``huber_param`` so a crash day does not
dictate the weights. Sparsity: with long-only weights summing to 1 an L1 penalty is a constant, so the
cardinality is approximated by the concave log penalty Σ log(1 + w_i/p) / log(1 + 1/p) (each asset held
at full weight counts 1, one held at 0 counts 0), minimised by majorisation–minimisation: each round is
a convex problem with a reweighted L1 term, λ·Σ w_i / ((p + w_i^prev)·log(1 + 1/p)) (Benidis, Feng and
Palomar, 2018). The chosen support is then refitted without the penalty, undoing its shrinkage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from qcmcp.research.data import one_symbol, symbol_list
from qcmcp.research.errors import ResearchError
from qcmcp.research.optimization import SOLVER, check_max_weight
from qcmcp.research.performance import Metrics, describe_metrics, load_with_benchmark, metrics_of
from qcmcp.research.results import Result
from qcmcp.research.threads import one_blas_thread

HELD = 1e-4  # a weight below 0.01% is not a position


def downside_huber_loss(weights: np.ndarray | cp.Variable, returns: np.ndarray, benchmark: np.ndarray,
                        threshold: float):
    """Mean Huber loss of the shortfall (benchmark - portfolio)⁺; cvxpy's huber is x² inside ±M, 2M|x| - M²
    outside (twice scipy.special.huber)."""
    shortfall = cp.pos(benchmark - returns @ weights)
    return cp.sum(cp.huber(shortfall, threshold)) / len(benchmark)


def _fit(returns: np.ndarray, benchmark: np.ndarray, threshold: float, scale: float, penalty: np.ndarray | None,
         max_weight: float | None) -> np.ndarray:
    weights = cp.Variable(returns.shape[1])
    objective = downside_huber_loss(weights, returns, benchmark, threshold) / scale
    if penalty is not None:
        objective = objective + penalty @ weights
    constraints = [cp.sum(weights) == 1, weights >= 0]
    if max_weight is not None:
        constraints.append(weights <= max_weight)
    problem = cp.Problem(cp.Minimize(objective), constraints)
    problem.solve(solver=SOLVER)
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise ResearchError("max_weight", f"the tracking problem ended {problem.status}; loosen max_weight or "
                                          "max_assets")
    return np.clip(np.asarray(weights.value).reshape(-1), 0, None)


@dataclass(frozen=True, kw_only=True)
class TrackingResult(Result):
    benchmark: str
    weights: dict[str, float]  # held assets only, largest first
    assets_held: int
    candidates: int
    tracking_error: float  # annualised std of portfolio - benchmark returns
    correlation: float
    downside_loss: float  # mean Huber shortfall loss of the final weights (per-bar returns, in %²)
    metrics: Metrics
    iterations: int
    converged: bool
    observations: int


@one_blas_thread
def sparse_optimization(symbols: Sequence[str], benchmark: str, start_date: object = None, end_date: object = None,
                        resolution: str = "daily", normalization: str = "adjusted", *, max_assets: int | None = None,
                        max_weight: float | None = None, lambda_param: float = 0.01, penalty_param: float = 1e-3,
                        huber_param: float | None = None, max_iterations: int = 20, tolerance: float = 1e-4,
                        source: object = None, prices: object = None) -> TrackingResult:
    """Long-only weights on few of ``symbols`` whose returns track ``benchmark`` from below.

    ``lambda_param``: sparsity strength, in units of the loss of the plain (unpenalised) fit scale; larger
    keeps fewer assets. ``penalty_param`` (p): smaller makes the log penalty closer to a count of assets.
    ``max_assets``: after the reweighting, keep at most this many (the largest) and refit: a hard cap.
    ``huber_param`` (M): the shortfall per bar beyond which the loss turns linear; default the benchmark's
    per-bar standard deviation.
    """
    bench = one_symbol(benchmark, "benchmark")
    tickers = tuple(name for name in symbol_list(symbols, minimum=2) if name != bench)
    if len(tickers) < 2:
        raise ResearchError("symbols", f"needs at least 2 symbols other than the benchmark {bench}")
    cap = check_max_weight(max_weight, len(tickers))
    if max_assets is not None and (not isinstance(max_assets, int) or not 1 <= max_assets <= len(tickers)):
        raise ResearchError("max_assets", f"{max_assets!r} must be an integer from 1 to {len(tickers)}, or None")
    if cap is not None and max_assets is not None and cap * max_assets < 1 - 1e-9:
        raise ResearchError("max_assets", f"{max_assets} assets capped at {cap:g} cannot sum to 1")
    for name, value in (("lambda_param", lambda_param), ("penalty_param", penalty_param)):
        if not isinstance(value, (int, float)) or not value > 0:
            raise ResearchError(name, f"{value!r} must be a positive number")
    if not isinstance(max_iterations, int) or max_iterations < 1:
        raise ResearchError("max_iterations", f"{max_iterations!r} must be a positive integer")
    data, _ = load_with_benchmark(tickers, bench, start_date, end_date, resolution, normalization, source, prices,
                                  "sparse index tracking")
    returns = data.returns()
    # In percent: per-bar returns of ~1e-2 square to ~1e-4, which solvers' default tolerances blur.
    assets, target = returns[list(tickers)].to_numpy() * 100, returns[bench].to_numpy() * 100
    if huber_param is not None and (not isinstance(huber_param, (int, float)) or not huber_param > 0):
        raise ResearchError("huber_param", f"{huber_param!r} must be a positive per-bar return, e.g. 0.01")
    threshold = float(huber_param * 100) if huber_param is not None else float(np.std(target))
    scale = max(float(downside_huber_loss(np.full(len(tickers), 1 / len(tickers)), assets, target,
                                          threshold).value), 1e-12)
    normaliser = np.log1p(1 / penalty_param)
    weights = np.full(len(tickers), 1 / len(tickers))
    converged, iteration = False, 0
    for iteration in range(1, max_iterations + 1):
        penalty = lambda_param / ((penalty_param + weights) * normaliser)
        updated = _fit(assets, target, threshold, scale, penalty, cap)
        change = float(np.abs(updated - weights).max())
        weights = updated
        if change < tolerance:
            converged = True
            break
    support = np.flatnonzero(weights > HELD)
    if max_assets is not None and len(support) > max_assets:
        support = np.sort(np.argsort(weights)[::-1][:max_assets])
    refit = np.zeros(len(tickers))
    refit[support] = _fit(assets[:, support], target, threshold, scale, None, cap)
    refit = np.where(refit > HELD, refit, 0.0)
    refit /= refit.sum()
    portfolio, reference = assets @ refit / 100, target / 100
    metrics = metrics_of(portfolio, data.periods_per_year, 0.0, reference)
    held = {tickers[index]: float(refit[index]) for index in np.argsort(refit)[::-1] if refit[index] > 0}
    loss = float(downside_huber_loss(refit, assets, target, threshold).value)
    names = ", ".join(f"{name} {weight:.0%}" for name, weight in list(held.items())[:5])
    reading = (f"{len(held)} of {len(tickers)} assets ({names}{', …' if len(held) > 5 else ''}) track {bench} with "
               f"{metrics.tracking_error:.1%} annual tracking error and correlation {metrics.correlation:.3f}; "
               + describe_metrics(metrics, bench))
    return TrackingResult(
        benchmark=bench, weights=held, assets_held=len(held), candidates=len(tickers),
        tracking_error=float(metrics.tracking_error), correlation=float(metrics.correlation), downside_loss=loss,
        metrics=metrics, iterations=iteration, converged=converged, observations=len(portfolio),
        interpretation=reading, data=data.description,
        method=(f"cvxpy (Clarabel): mean Huber(M = {threshold / 100:.4g}) loss of the shortfall below {bench}, "
                f"log-penalty sparsity (λ = {lambda_param:g}, p = {penalty_param:g}) by majorisation–minimisation "
                f"({iteration} rounds), long-only, Σw = 1" + (f", w ≤ {cap:g}" if cap else "")
                + (f", at most {max_assets} assets" if max_assets else "") + "; the support refitted unpenalised"))
