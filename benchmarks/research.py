"""Research analytics speed: the vectorised cointegration screen against a loop of statsmodels' ``coint``,
and ``get_history`` reads from cold and from cache.

Universe: 500 seeded symbols × 756 bars (three years of days): geometric random walks, with 50 planted
cointegrated pairs (the second of each pair = β · the first + a stationary AR(1) spread). All 124,750
pairs are screened by ``screen_cointegrated_pairs`` (Engle–Granger both ways, 1 ADF lag, Benjamini–
Hochberg at 5%). Baseline in the same run: ``coint(y, x, trend="c", maxlag=1, autolag=None)`` both ways
on a seeded random sample of pairs plus every planted pair, its time per pair extrapolated to all pairs.
The same lag choice on both sides (fixed at 1: an AIC search would differ per pair and cost statsmodels
far more), the same pair p-value (the larger of the two directions), and both under one BLAS thread
(``qcmcp.research.threads``), which is statsmodels' fastest setting too. A sampled pair's decision is the
same when the raw 5% test and the Benjamini–Hochberg cut-off of the full screen agree on it.

Usage: python benchmarks/research.py [--sample 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np
import pandas as pd
from statsmodels.tsa.stattools import coint
from threadpoolctl import threadpool_limits

from qcmcp.marketdata import clear_cache
from qcmcp.research import get_history, screen_cointegrated_pairs

SYMBOLS, BARS, PLANTED, LAGS, ALPHA = 500, 756, 50, 1, 0.05
HISTORY_SYMBOLS = ["AAPL", "AIG", "BAC", "IBM", "SPY", "WM", "IWM", "EEM", "QQQ", "GOOGL"]


def universe(seed: int = 20240601) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """Random-walk prices with ``PLANTED`` cointegrated pairs (columns 2k, 2k+1 for k < PLANTED)."""
    rng = np.random.default_rng(seed)
    volatility = rng.uniform(0.01, 0.03, SYMBOLS)
    levels = 100 * np.exp(np.cumsum(rng.normal(0, 1, (BARS, SYMBOLS)) * volatility, axis=0))
    pairs = []
    for k in range(PLANTED):
        base, tied = 2 * k, 2 * k + 1
        spread = np.zeros(BARS)
        shocks = rng.normal(0, 0.01 * levels[:, base].mean(), BARS)
        for t in range(1, BARS):
            spread[t] = 0.85 * spread[t - 1] + shocks[t]
        levels[:, tied] = rng.uniform(0.5, 2.0) * levels[:, base] + 20 + spread
        pairs.append((base, tied))
    index = pd.bdate_range("2018-01-02", periods=BARS) + pd.Timedelta(hours=16)
    return pd.DataFrame(levels, index=index, columns=[f"S{k:03d}" for k in range(SYMBOLS)]), pairs


def bh_cutoff(pvalues: np.ndarray, alpha: float) -> float:
    """The largest p-value Benjamini–Hochberg rejects (−1 when none): p_(k) ≤ k·alpha/m."""
    ordered = np.sort(pvalues)
    passing = np.flatnonzero(ordered <= alpha * np.arange(1, len(ordered) + 1) / len(ordered))
    return float(ordered[passing[-1]]) if len(passing) else -1.0


def statsmodels_pair_pvalue(levels: np.ndarray, i: int, j: int) -> tuple[float, float]:
    forward = coint(levels[:, i], levels[:, j], trend="c", maxlag=LAGS, autolag=None)
    backward = coint(levels[:, j], levels[:, i], trend="c", maxlag=LAGS, autolag=None)
    return float(forward[0]), max(float(forward[1]), float(backward[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=1000, help="random pairs in the statsmodels loop")
    parser.add_argument("--repeat", type=int, default=3, help="screen runs (the median is reported)")
    options = parser.parse_args()

    clear_cache()
    started = time.perf_counter()
    cold = get_history(HISTORY_SYMBOLS, "2001-01-01", "2020-12-31", source="sample")
    cold_seconds = time.perf_counter() - started
    started = time.perf_counter()
    get_history(HISTORY_SYMBOLS, "2001-01-01", "2020-12-31", source="sample")
    cached_seconds = time.perf_counter() - started
    bars = int(cold.table["bars"].sum())
    print(f"get_history: {len(HISTORY_SYMBOLS)} symbols × 20 years ({bars} bars): cold {cold_seconds * 1000:.0f} ms, "
          f"cached {cached_seconds * 1000:.1f} ms")

    frame, planted = universe()
    names = list(frame.columns)
    timings, result = [], None
    for _ in range(options.repeat):
        started = time.perf_counter()
        result = screen_cointegrated_pairs(names, prices=frame, alpha=ALPHA, lags=LAGS)
        timings.append(time.perf_counter() - started)
    screen_seconds = statistics.median(timings)
    tested = result.tested
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = set(zip(result.pairs.symbol1, result.pairs.symbol2))
    print(f"vectorised screen: {len(tested)} pairs × 2 directions in {screen_seconds:.2f} s (median of "
          f"{options.repeat}: {', '.join(f'{t:.2f}' for t in timings)}), {result.significant_count} significant "
          f"after Benjamini–Hochberg, {len(found & {(names[i], names[j]) for i, j in planted})}/{PLANTED} planted pairs found, peak RSS "
          f"{peak_mb:.0f} MB")

    rng = np.random.default_rng(7)
    column = {name: k for k, name in enumerate(names)}
    first, second = tested.symbol1.map(column).to_numpy(), tested.symbol2.map(column).to_numpy()
    row_of = {(i, j): row for row, (i, j) in enumerate(zip(first, second))}
    sampled_rows = [int(row) for row in rng.choice(len(tested), size=options.sample, replace=False)]
    sampled_rows += [row_of[pair] for pair in planted]
    levels = frame.to_numpy()
    cutoff = bh_cutoff(tested["pair_pvalue"].to_numpy(), ALPHA)
    agree, worst_t = 0, 0.0
    with threadpool_limits(limits=1, user_api="blas"):
        started = time.perf_counter()
        reference = [statsmodels_pair_pvalue(levels, first[row], second[row]) for row in sampled_rows]
        loop_seconds = time.perf_counter() - started
    for row, (statistic, pvalue) in zip(sampled_rows, reference):
        ours = float(tested.pair_pvalue.iat[row])
        worst_t = max(worst_t, abs(statistic - float(tested.t_statistic.iat[row])))
        agree += (ours < ALPHA) == (pvalue < ALPHA) and (ours <= cutoff) == (pvalue <= cutoff)
    per_pair = loop_seconds / len(sampled_rows)
    extrapolated = per_pair * len(tested)
    print(f"statsmodels coint loop: {len(sampled_rows)} pairs ({options.sample} random + {PLANTED} planted) × 2 "
          f"directions in {loop_seconds:.2f} s = {per_pair * 1000:.2f} ms a pair, {extrapolated:.0f} s extrapolated "
          f"to {len(tested)} pairs; largest |Δt| {worst_t:.1e}")
    print(f"pairs screen: {len(tested)} pairs in {screen_seconds:.2f} s, {extrapolated / screen_seconds:.0f}x faster "
          f"than the statsmodels loop, same decisions on {agree}/{len(sampled_rows)} sampled pairs")


if __name__ == "__main__":
    main()
