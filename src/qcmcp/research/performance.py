"""How a weighted portfolio did: return, risk, risk-adjusted ratios, drawdown, and against a benchmark.

Conventions, stated in every result: simple returns; the portfolio is rebalanced to its weights at the
close of each period (``rebalance_frequency``; ``never``: bought at the weights and left to drift) and drifts
with prices in between; annual return is the
geometric (compound) rate; volatility and the Sharpe and Sortino ratios annualise the per-bar figures by
√(bars per year); the risk-free rate is ``risk_free_rate`` per year (0 unless given), spread evenly per bar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qcmcp.research.data import load_prices, one_symbol, symbol_list
from qcmcp.research.errors import ResearchError
from qcmcp.research.results import Result
from qcmcp.research.threads import one_blas_thread

MIN_RETURNS = 20
WEIGHT_TOLERANCE = 1e-6
REBALANCE_PERIODS = {"daily": None, "weekly": "W", "monthly": "M", "quarterly": "Q", "yearly": "Y", "never": ""}


def check_weights(weights: object, symbols: Sequence[str]) -> np.ndarray:
    """Weights as an array in ``symbols`` order: one per symbol, finite, summing to 1."""
    if isinstance(weights, Mapping):
        keys = {str(key).upper(): value for key, value in weights.items()}
        unknown = sorted(set(keys) - set(symbols))
        missing = [name for name in symbols if name not in keys]
        if unknown or missing:
            raise ResearchError("weights", f"keys must match symbols: missing {missing or 'none'}, "
                                           f"not in symbols {unknown or 'none'}")
        weights = [keys[name] for name in symbols]
    try:
        values = np.asarray(weights, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ResearchError("weights", f"{weights!r} is not a list of numbers") from None
    if len(values) != len(symbols):
        raise ResearchError("weights", f"{len(values)} weights for {len(symbols)} symbols ({', '.join(symbols)}); "
                                       "pass one weight per symbol, in the same order")
    if not np.all(np.isfinite(values)):
        raise ResearchError("weights", "contains NaN or infinity")
    total = float(values.sum())
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise ResearchError("weights", f"sum to {total:.6g}, not 1; divide each by their sum to rescale them")
    return values


def rebalanced_returns(returns: pd.DataFrame, weights: np.ndarray, rebalance_frequency: str = "daily") -> pd.Series:
    """Per-bar returns of a portfolio reset to ``weights`` at each period's last close, drifting in between.

    Within a period each holding grows by its cumulative return, so the portfolio's value relative to the
    period start is growth @ weights, and its bar return is the ratio of consecutive values.
    """
    if rebalance_frequency not in REBALANCE_PERIODS:
        raise ResearchError("rebalance_frequency", f"{rebalance_frequency!r} is not one of "
                                                   f"{', '.join(REBALANCE_PERIODS)}")
    period = REBALANCE_PERIODS[rebalance_frequency]
    if period is None:
        return pd.Series(returns.to_numpy() @ weights, index=returns.index, name="portfolio")
    labels = returns.index.to_period(period) if period else np.zeros(len(returns), dtype=int)  # never: buy and hold
    growth = (1 + returns).groupby(labels).cumprod()
    value = pd.Series(growth.to_numpy() @ weights, index=returns.index)
    previous = value.groupby(labels).shift(1).fillna(float(weights.sum()))
    return (value / previous - 1).rename("portfolio")


def max_drawdown(returns: np.ndarray) -> float:
    """Largest fall from a running peak of the wealth curve (starting at 1), as a negative fraction."""
    wealth = np.concatenate([[1.0], np.cumprod(1 + returns)])
    return float((wealth / np.maximum.accumulate(wealth) - 1).min())


@dataclass(frozen=True)
class Metrics:
    total_return: float
    annual_return: float  # compound annual growth rate
    annual_volatility: float
    sharpe_ratio: float
    sortino_ratio: float
    max_drawdown: float  # negative fraction
    calmar_ratio: float  # annual return / |max drawdown|
    beta: float | None = None
    alpha: float | None = None  # Jensen's alpha, annualised
    correlation: float | None = None
    tracking_error: float | None = None
    information_ratio: float | None = None
    benchmark_annual_return: float | None = None


def metrics_of(returns: np.ndarray, periods_per_year: int, risk_free_rate: float = 0.0,
               benchmark: np.ndarray | None = None) -> Metrics:
    """The metrics of one return series (and against a benchmark's, on the same bars)."""
    count = len(returns)
    free = risk_free_rate / periods_per_year
    total = float(np.prod(1 + returns) - 1)
    annual = float((1 + total) ** (periods_per_year / count) - 1)
    deviation = float(np.std(returns, ddof=1))
    excess = float(np.mean(returns) - free)
    downside = float(np.sqrt(np.mean(np.minimum(returns - free, 0) ** 2)))
    root = np.sqrt(periods_per_year)
    drawdown = max_drawdown(returns)
    values = {"total_return": total, "annual_return": annual, "annual_volatility": deviation * root,
              "sharpe_ratio": _ratio(excess * root, deviation), "sortino_ratio": _ratio(excess * root, downside),
              "max_drawdown": drawdown, "calmar_ratio": _ratio(annual, abs(drawdown))}
    if benchmark is not None:
        covariance = np.cov(returns, benchmark, ddof=1)
        beta = float(covariance[0, 1] / covariance[1, 1])
        active = returns - benchmark
        active_deviation = float(np.std(active, ddof=1))
        values.update(beta=beta, alpha=float((excess - beta * (np.mean(benchmark) - free)) * periods_per_year),
                      correlation=float(covariance[0, 1] / np.sqrt(covariance[0, 0] * covariance[1, 1])),
                      tracking_error=active_deviation * root,
                      information_ratio=_ratio(float(np.mean(active)) * root, active_deviation),
                      benchmark_annual_return=float(np.prod(1 + benchmark) ** (periods_per_year / count) - 1))
    return Metrics(**values)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def metrics_method(periods_per_year: int, risk_free_rate: float, rebalance_frequency: str, bars: int,
                   benchmark: str | None) -> str:
    return (f"{bars} simple returns, rebalanced {rebalance_frequency}; annual return compound, volatility std·√"
            f"{periods_per_year}; Sharpe (mean - rf)/std·√{periods_per_year} and Sortino over the downside "
            f"deviation below rf, risk-free rate {risk_free_rate:g} a year; max drawdown of the wealth curve; "
            "Calmar = annual return / |max drawdown|"
            + (f"; beta = cov/var vs {benchmark}, Jensen's alpha annualised" if benchmark else ""))


def describe_metrics(metrics: Metrics, benchmark: str | None) -> str:
    text = (f"{metrics.annual_return:+.1%} a year at {metrics.annual_volatility:.1%} volatility: Sharpe "
            f"{metrics.sharpe_ratio:.2f}, worst drawdown {metrics.max_drawdown:.1%}")
    if benchmark and metrics.beta is not None:
        text += (f"; beta {metrics.beta:.2f} and alpha {metrics.alpha:+.1%} a year against {benchmark} "
                 f"({metrics.benchmark_annual_return:+.1%} a year)")
    return text


@dataclass(frozen=True, kw_only=True)
class PerformanceResult(Result):
    weights: dict[str, float]
    metrics: Metrics
    benchmark: str | None
    risk_free_rate: float
    rebalance_frequency: str
    observations: int


def check_rate(risk_free_rate: float) -> float:
    if not isinstance(risk_free_rate, (int, float)) or isinstance(risk_free_rate, bool) \
            or not -0.5 < risk_free_rate < 1:
        raise ResearchError("risk_free_rate", f"{risk_free_rate!r} must be an annual rate as a fraction (0.04 = 4%)")
    return float(risk_free_rate)


def load_with_benchmark(tickers: tuple[str, ...], benchmark: str | None, start_date: object, end_date: object,
                        resolution: str, normalization: str, source: object, prices: object, what: str):
    """Closes of the symbols and the benchmark on their common bars (the benchmark loaded alongside)."""
    bench = one_symbol(benchmark, "benchmark") if benchmark is not None else None
    everything = tickers + ((bench,) if bench and bench not in tickers else ())
    data = load_prices(everything, start_date, end_date, resolution, normalization, source=source, prices=prices,
                       min_observations=MIN_RETURNS + 1, what=what,
                       parameters={bench: "benchmark"} if bench and bench not in tickers else {})
    return data, bench


@one_blas_thread
def calculate_portfolio_performance(symbols: Sequence[str], weights: Sequence[float] | Mapping[str, float],
                                    start_date: object = None, end_date: object = None, resolution: str = "daily",
                                    normalization: str = "adjusted", *, benchmark: str | None = "SPY",
                                    risk_free_rate: float = 0.0, rebalance_frequency: str = "daily",
                                    source: object = None, prices: object = None) -> PerformanceResult:
    """Return, volatility, Sharpe, Sortino, max drawdown, Calmar; beta and alpha against ``benchmark``."""
    tickers = symbol_list(symbols)
    values = check_weights(weights, tickers)
    rate = check_rate(risk_free_rate)
    data, bench = load_with_benchmark(tickers, benchmark, start_date, end_date, resolution, normalization, source,
                                      prices, "portfolio performance")
    returns = data.returns()
    portfolio = rebalanced_returns(returns[list(tickers)], values, rebalance_frequency).to_numpy()
    metrics = metrics_of(portfolio, data.periods_per_year, rate, returns[bench].to_numpy() if bench else None)
    return PerformanceResult(weights=dict(zip(tickers, values.tolist())), metrics=metrics, benchmark=bench,
                             risk_free_rate=rate, rebalance_frequency=rebalance_frequency,
                             observations=len(portfolio), interpretation=describe_metrics(metrics, bench),
                             method=metrics_method(data.periods_per_year, rate, rebalance_frequency, len(portfolio),
                                                   bench),
                             data=data.description)
