"""Choosing from a universe: the least correlated subset, and a screen on return and risk criteria.

Both take the universe as an explicit list of symbols. What offline data cannot supply (an ETF's
constituents, fundamentals such as market cap or P/E) is refused with the reason and the way round it,
never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from qcmcp.research.correlation import correlation_of
from qcmcp.research.data import symbol_list
from qcmcp.research.errors import DataUnavailable, ResearchError
from qcmcp.research.performance import check_rate, load_with_benchmark
from qcmcp.research.performance import max_drawdown as drawdown_of
from qcmcp.research.results import Result
from qcmcp.research.threads import one_blas_thread

# quantconnect-mcp's two: rank by the summed |ρ| to the rest of the universe, lowest or highest first.
SELECTION_METHODS = ("greedy", "cluster", "lowest_correlation", "highest_correlation")


def get_etf_constituents(etf_ticker: str, date: object = None) -> list[str]:
    """An ETF's holdings: not in any offline source here, so this says so and how to proceed.

    LEAN's sample and the market-data layer hold prices, factor and map files only; the holdings live in
    QuantConnect's "US ETF Constituents" dataset (cloud research, or a licensed download).
    """
    raise DataUnavailable("etf_ticker", f"the constituents of {etf_ticker} (on {date or 'any date'}) are not "
                                        "available offline: the data here holds prices, not ETF holdings. Pass "
                                        "the universe explicitly as symbols=[...] (e.g. from the issuer's holdings "
                                        "file), or use QuantConnect's US ETF Constituents dataset in cloud research")


def greedy_uncorrelated(correlation: np.ndarray, count: int) -> list[int]:
    """Start from the asset least correlated with the rest on average (in |ρ|); then repeatedly add the one
    whose strongest |ρ| with those chosen is smallest (ties: smaller average |ρ| to them)."""
    strength = np.abs(correlation)
    np.fill_diagonal(strength, 0)
    chosen = [int(np.argmin(strength.sum(axis=1)))]
    while len(chosen) < count:
        to_chosen = strength[:, chosen]
        score = to_chosen.max(axis=1) + 1e-9 * to_chosen.mean(axis=1)
        score[chosen] = np.inf
        chosen.append(int(np.argmin(score)))
    return chosen


def cluster_uncorrelated(correlation: np.ndarray, count: int) -> list[int]:
    """Average-linkage clusters on the distance 1 - |ρ|, cut into ``count`` groups; from each the member
    least correlated (mean |ρ|) with assets outside its group. Groups short of ``count`` (ties) are topped
    up greedily."""
    strength = np.abs(correlation)
    distance = np.clip(1 - strength, 0, None)
    np.fill_diagonal(distance, 0)
    labels = fcluster(linkage(squareform(distance, checks=False), method="average"), t=count, criterion="maxclust")
    chosen = []
    for label in np.unique(labels):
        members, outsiders = np.flatnonzero(labels == label), np.flatnonzero(labels != label)
        if len(outsiders) == 0:
            outsiders = members
        chosen.append(int(members[np.argmin(strength[np.ix_(members, outsiders)].mean(axis=1))]))
    while len(chosen) < count:
        to_chosen = strength[:, chosen].max(axis=1)
        to_chosen[chosen] = np.inf
        chosen.append(int(np.argmin(to_chosen)))
    return chosen


def ranked_by_correlation(correlation: np.ndarray, count: int, highest: bool = False) -> list[int]:
    """The ``count`` assets with the lowest (or highest) summed |ρ| to all the others (quantconnect-mcp's rank)."""
    strength = np.abs(correlation)
    np.fill_diagonal(strength, 0)
    total = strength.sum(axis=1)
    order = np.argsort(-total if highest else total, kind="stable")
    return [int(index) for index in order[:count]]


PICKERS = {"greedy": greedy_uncorrelated, "cluster": cluster_uncorrelated,
           "lowest_correlation": ranked_by_correlation,
           "highest_correlation": lambda correlation, count: ranked_by_correlation(correlation, count, highest=True)}
METHOD_TEXT = {
    "greedy": "greedy: least mean |ρ| first, then the smallest max |ρ| to those chosen",
    "cluster": "scipy average-linkage clustering on 1 - |ρ| into num_assets groups, one representative each (least "
               "|ρ| to the other groups)",
    "lowest_correlation": "ranked by summed |ρ| to the other assets, lowest first (quantconnect-mcp's method)",
    "highest_correlation": "ranked by summed |ρ| to the other assets, highest first (quantconnect-mcp's method)"}


def mean_absolute_correlation(correlation: np.ndarray) -> float:
    count = len(correlation)
    if count < 2:
        return float("nan")
    return float((np.abs(correlation).sum() - count) / (count * (count - 1)))


@dataclass(frozen=True, kw_only=True)
class SelectionResult(Result):
    selected: list[str]
    selection_method: str
    mean_abs_correlation: float  # among the selected
    max_abs_correlation: float
    universe_mean_abs_correlation: float
    correlation_matrix: pd.DataFrame  # of the selected


@one_blas_thread
def select_uncorrelated_assets(symbols: Sequence[str], start_date: object = None, end_date: object = None,
                               resolution: str = "daily", normalization: str = "adjusted", *, num_assets: int = 5,
                               method: str = "greedy", source: object = None,
                               prices: object = None) -> SelectionResult:
    """``num_assets`` of ``symbols`` whose returns are least correlated with one another (in |ρ|).

    ``method``: "greedy" (add the asset least tied to those chosen), "cluster" (one representative per
    correlation cluster, so each independent driver of the universe is present), or quantconnect-mcp's
    "lowest_correlation" / "highest_correlation" (the assets with the lowest / highest summed |ρ| to the rest).
    """
    tickers = symbol_list(symbols, minimum=2)
    if method not in SELECTION_METHODS:
        raise ResearchError("method", f"{method!r} is not one of {', '.join(SELECTION_METHODS)}")
    if not isinstance(num_assets, int) or isinstance(num_assets, bool) or not 1 <= num_assets <= len(tickers):
        raise ResearchError("num_assets", f"{num_assets!r} must be an integer from 1 to {len(tickers)} "
                                          "(the number of symbols)")
    data, _ = load_with_benchmark(tickers, None, start_date, end_date, resolution, normalization, source, prices,
                                  "asset selection")
    correlation = correlation_of(data.returns().to_numpy())
    picked = PICKERS[method](correlation, num_assets)
    chosen = correlation[np.ix_(picked, picked)]
    names = [tickers[index] for index in picked]
    within, universe = mean_absolute_correlation(chosen), mean_absolute_correlation(correlation)
    strongest = float(np.abs(chosen - np.eye(len(picked))).max()) if len(picked) > 1 else float("nan")
    most = method == "highest_correlation"
    reading = (f"{', '.join(names)}: mean |ρ| {within:.2f} among them (max {strongest:.2f}) against {universe:.2f} "
               "across the universe" if len(picked) > 1
               else f"{names[0]}: the asset {'most' if most else 'least'} correlated with the rest")
    return SelectionResult(
        selected=names, selection_method=method, mean_abs_correlation=within, max_abs_correlation=strongest,
        universe_mean_abs_correlation=universe, correlation_matrix=pd.DataFrame(chosen, index=names, columns=names),
        interpretation=reading, data=data.description,
        method=(f"Pearson correlation of simple returns on {data.description.observations - 1} common bars; "
                + METHOD_TEXT[method]))


@dataclass(frozen=True, kw_only=True)
class ScreenResult(Result):
    passed: list[str]
    table: pd.DataFrame  # per symbol: the metrics, passes, and why not
    criteria: dict[str, float]


@one_blas_thread
def screen_assets_by_criteria(symbols: Sequence[str], start_date: object = None, end_date: object = None,
                              resolution: str = "daily", normalization: str = "adjusted", *,
                              min_return: float | None = None, max_volatility: float | None = None,
                              min_sharpe: float | None = None, max_drawdown: float | None = None,
                              max_correlation: float | None = None, benchmark: str | None = None,
                              risk_free_rate: float = 0.0, min_market_cap: float | None = None,
                              max_pe_ratio: float | None = None, source: object = None,
                              prices: object = None) -> ScreenResult:
    """Symbols whose annual return, volatility, Sharpe, drawdown and correlation with ``benchmark`` meet the
    limits given (None: no limit). All on the symbols' common bars, computed for all symbols at once.

    ``max_drawdown``: the deepest acceptable fall, as a positive fraction (0.3 = no worse than -30%).
    ``min_market_cap`` / ``max_pe_ratio`` need fundamentals, which offline data does not have: refused.
    """
    for name, value in (("min_market_cap", min_market_cap), ("max_pe_ratio", max_pe_ratio)):
        if value is not None:
            raise DataUnavailable(name, "fundamentals (market cap, P/E) are not available offline: the data here "
                                        "holds prices only. Screen on price-based criteria here, or pre-filter "
                                        "the symbols with QuantConnect's fundamental data and pass them explicitly")
    tickers = symbol_list(symbols)
    rate = check_rate(risk_free_rate)
    if max_correlation is not None and benchmark is None:
        raise ResearchError("benchmark", "max_correlation needs a benchmark to correlate with, e.g. 'SPY'")
    criteria = {name: float(value) for name, value in (
        ("min_return", min_return), ("max_volatility", max_volatility), ("min_sharpe", min_sharpe),
        ("max_drawdown", max_drawdown), ("max_correlation", max_correlation)) if value is not None}
    for name, value in criteria.items():
        if not np.isfinite(value):
            raise ResearchError(name, f"{value!r} must be a finite number")
    data, bench = load_with_benchmark(tickers, benchmark, start_date, end_date, resolution, normalization, source,
                                      prices, "an asset screen")
    returns = data.returns()
    values = returns[list(tickers)].to_numpy()
    periods = data.periods_per_year
    count = len(values)
    annual = np.prod(1 + values, axis=0) ** (periods / count) - 1
    volatility = values.std(axis=0, ddof=1) * np.sqrt(periods)
    sharpe = (values.mean(axis=0) - rate / periods) * periods / volatility
    drawdowns = np.array([drawdown_of(values[:, column]) for column in range(len(tickers))])
    table = pd.DataFrame({"annual_return": annual, "annual_volatility": volatility, "sharpe_ratio": sharpe,
                          "max_drawdown": drawdowns}, index=list(tickers))
    if bench is not None:
        table["correlation"] = correlation_of(np.column_stack([values, returns[bench].to_numpy()]))[-1, :-1]
    checks = {"min_return": ("annual_return", np.greater_equal), "max_volatility": ("annual_volatility", np.less_equal),
              "min_sharpe": ("sharpe_ratio", np.greater_equal), "max_correlation": ("correlation", np.less_equal)}
    reasons = pd.Series([[] for _ in tickers], index=list(tickers), dtype=object)
    for name, limit in criteria.items():
        column, meets = ("max_drawdown", np.greater_equal) if name == "max_drawdown" else checks[name]
        bound = -abs(limit) if name == "max_drawdown" else limit
        for ticker in table.index[~meets(table[column].to_numpy(), bound)]:
            reasons[ticker].append(f"{column} {table.loc[ticker, column]:.3g} vs {name} {limit:g}")
    table["passes"] = [not failed for failed in reasons]
    table["failed"] = ["; ".join(failed) for failed in reasons]
    passed = [ticker for ticker in tickers if table.loc[ticker, "passes"]]
    reading = (f"{len(passed)} of {len(tickers)} pass" + (f" ({', '.join(passed[:10])}"
                                                         f"{', …' if len(passed) > 10 else ''})" if passed else "")
               + (f"; criteria: {', '.join(f'{key} {value:g}' for key, value in criteria.items())}" if criteria
                  else "; no criteria given, every symbol passes"))
    return ScreenResult(passed=passed, table=table, criteria=criteria, interpretation=reading, data=data.description,
                        method=(f"{count} simple returns on common bars: compound annual return, std·√{periods}, "
                                f"Sharpe with risk-free rate {rate:g}, max drawdown of the wealth curve"
                                + (f", Pearson correlation with {bench}" if bench else "")))
