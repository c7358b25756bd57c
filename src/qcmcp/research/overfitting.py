"""How much an optimization's best result owes to luck: the Deflated Sharpe Ratio and the Probability of
Backtest Overfitting.

- Deflated Sharpe Ratio (Bailey & López de Prado, 2014): the probability that the best trial's true Sharpe ratio
  is above zero, after raising the bar to the Sharpe ratio the best of N trials would reach by chance
  (from the variance of the trials' Sharpe ratios), and allowing for the best returns' length, skew and kurtosis.
- Probability of Backtest Overfitting by combinatorially symmetric cross-validation (Bailey, Borwein,
  López de Prado & Zhu, 2014): split the per-period returns of every trial into S blocks; for every way of
  taking half the blocks as in-sample, pick the trial with the best in-sample Sharpe ratio and see where it
  ranks out of sample. PBO is the share of splits where it ranks in the bottom half.

Sharpe ratios here are per period (not annualised), as the formulas take them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

EULER_GAMMA = 0.5772156649015329
MAX_SPLITS = 20_000  # C(16, 8) = 12,870: the usual 16 blocks stay within it


@dataclass(frozen=True)
class DeflatedSharpe:
    probability: float  # the DSR: P(true Sharpe > 0) after deflation
    best_sharpe: float  # per period
    expected_max_sharpe: float  # per period: what the best of `trials` reaches by chance
    trials: int
    observations: int
    skew: float
    kurtosis: float

    @property
    def interpretation(self) -> str:
        verdict = ("likely real" if self.probability >= 0.95 else "doubtful" if self.probability >= 0.5
                   else "likely luck")
        return (f"Deflated Sharpe Ratio {self.probability:.1%}: after {self.trials} trials the best result is "
                f"{verdict} (95 % or more means its Sharpe ratio beats what the best of {self.trials} random trials "
                "would show).")


@dataclass(frozen=True)
class BacktestOverfitting:
    probability: float  # PBO
    splits: int
    blocks: int
    trials: int

    @property
    def interpretation(self) -> str:
        return (f"Probability of Backtest Overfitting {self.probability:.1%}: in {self.splits} in-/out-of-sample "
                f"splits, the in-sample best of {self.trials} trials ranked in the bottom half out of sample that "
                "often (near 0 % is good; 50 % or more means the choice is no better than chance).")


def _sharpe(returns: np.ndarray, axis: int = 0) -> np.ndarray:
    deviation = returns.std(axis=axis, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(deviation > 0, returns.mean(axis=axis) / deviation, 0.0)


def deflated_sharpe(trial_sharpes: np.ndarray | list[float], best_returns: np.ndarray | list[float]) -> DeflatedSharpe:
    """DSR of the best trial, from every trial's per-period Sharpe ratio and the best trial's per-period returns."""
    sharpes = np.asarray(trial_sharpes, dtype=float)
    returns = np.asarray(best_returns, dtype=float)
    sharpes, returns = sharpes[np.isfinite(sharpes)], returns[np.isfinite(returns)]
    if len(sharpes) < 2 or len(returns) < 3:
        raise ValueError("the Deflated Sharpe Ratio needs at least 2 trials and 3 returns of the best one")
    skew = float(stats.skew(returns)) if returns.std() > 0 else 0.0
    kurtosis = float(stats.kurtosis(returns, fisher=False)) if returns.std() > 0 else 3.0
    return deflate(float(_sharpe(returns)), float(sharpes.var(ddof=1)), len(sharpes), len(returns), skew, kurtosis)


def deflate(best_sharpe: float, sharpe_variance: float, trials: int, observations: int, skew: float = 0.0,
            kurtosis: float = 3.0) -> DeflatedSharpe:
    """The DSR from its inputs: per-period Sharpe ratios, their variance over the trials, and the best returns'
    length, skew and (non-excess) kurtosis."""
    expected_max = math.sqrt(sharpe_variance) * ((1 - EULER_GAMMA) * stats.norm.ppf(1 - 1 / trials)
                                                 + EULER_GAMMA * stats.norm.ppf(1 - 1 / (trials * math.e)))
    spread = 1 - skew * best_sharpe + (kurtosis - 1) / 4 * best_sharpe**2
    z = (best_sharpe - expected_max) * math.sqrt(observations - 1) / math.sqrt(max(spread, 1e-12))
    return DeflatedSharpe(float(stats.norm.cdf(z)), best_sharpe, expected_max, trials, observations, skew, kurtosis)


def probability_of_overfitting(returns: np.ndarray, blocks: int = 16) -> BacktestOverfitting:
    """PBO by CSCV over a (periods x trials) matrix of per-period returns, in ``blocks`` equal blocks."""
    matrix = np.asarray(returns, dtype=float)
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        raise ValueError("PBO needs a matrix of per-period returns with one column per trial (at least 2)")
    if blocks < 2 or blocks % 2:
        raise ValueError("blocks must be an even number of at least 2")
    periods, trials = matrix.shape
    if periods < 2 * blocks:
        raise ValueError(f"PBO with {blocks} blocks needs at least {2 * blocks} periods (got {periods})")
    if math.comb(blocks, blocks // 2) > MAX_SPLITS:
        raise ValueError(f"{blocks} blocks make more than {MAX_SPLITS} splits; use fewer")
    size = periods // blocks
    parts = matrix[: size * blocks].reshape(blocks, size, trials)
    sums, squares = parts.sum(axis=1), (parts**2).sum(axis=1)  # per block and trial
    total_sum, total_squares = sums.sum(axis=0), squares.sum(axis=0)
    chosen = np.array(list(itertools.combinations(range(blocks), blocks // 2)))
    n = size * blocks // 2

    def sharpe_of(s: np.ndarray, q: np.ndarray) -> np.ndarray:
        mean = s / n
        variance = (q - n * mean**2) / (n - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(variance > 0, mean / np.sqrt(np.maximum(variance, 0)), 0.0)

    in_sums, in_squares = sums[chosen].sum(axis=1), squares[chosen].sum(axis=1)  # splits x trials
    in_sharpe = sharpe_of(in_sums, in_squares)
    out_sharpe = sharpe_of(total_sum - in_sums, total_squares - in_squares)
    best = in_sharpe.argmax(axis=1)
    best_out = out_sharpe[np.arange(len(chosen)), best]
    rank = (out_sharpe < best_out[:, None]).sum(axis=1) + 1  # 1 = worst out of sample
    relative = rank / (trials + 1)
    logits = np.log(relative / (1 - relative))
    return BacktestOverfitting(float((logits <= 0).mean()), len(chosen), blocks, trials)
