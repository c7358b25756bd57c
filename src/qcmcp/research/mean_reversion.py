"""Does a price (or a spread) pull back to a mean, how fast, and how stretched is it now?

Three views that fail differently: the ADF test (a unit root or not), the half-life of an AR(1) fit (how
many bars a deviation takes to halve) and the Hurst exponent (below 0.5 mean-reverting, 0.5 a random walk,
above 0.5 trending). The z-score says where the last close stands against its recent window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.tsa.stattools import adfuller

from qcmcp.research.data import load_prices, one_symbol
from qcmcp.research.errors import ResearchError
from qcmcp.research.results import BULK, Result
from qcmcp.research.threads import one_blas_thread

MIN_OBSERVATIONS = 50  # ADF with AIC lag search (up to 12·(n/100)^¼ lags) is unreliable on fewer
MAX_HURST_LAG = 100


def half_life(series: np.ndarray) -> tuple[float, float]:
    """(half-life in bars, b) from the OLS fit Δx_t = a + b·x_{t-1} + ε.

    A deviation is multiplied by φ = 1 + b each bar, so its size halves after -ln 2 / ln|φ| bars; |φ| ≥ 1
    (no pull back, or overshooting that grows) gives an infinite half-life. φ < 0 (a spread of noise that
    flips sign bar to bar) is fast decay, not an error.
    """
    level, change = series[:-1], np.diff(series)
    design = np.column_stack([np.ones_like(level), level])
    (_, slope), *_ = np.linalg.lstsq(design, change, rcond=None)
    life = -np.log(2) / np.log(abs(1 + slope)) if -2 < slope < 0 else np.inf
    return float(life), float(slope)


def hurst_lags(length: int, max_lag: int | None = None) -> np.ndarray:
    return np.arange(2, max(3, min(max_lag or MAX_HURST_LAG, length // 4)))


def hurst_exponent(series: np.ndarray, max_lag: int | None = None) -> float:
    """Slope of log std(x_{t+τ} - x_t) against log τ, τ = 2 … min(100, n/4).

    For a random walk the spread of τ-bar changes grows like √τ (H = 0.5); a mean-reverting series' grows
    slower (H < 0.5), a trending one's faster.
    """
    lags = hurst_lags(len(series), max_lag)
    spreads = np.array([np.std(series[lag:] - series[:-lag]) for lag in lags])
    return float(np.polyfit(np.log(lags), np.log(spreads), 1)[0])


def rolling_zscore(series: pd.Series, lookback: int) -> pd.Series:
    """(value - mean of the last ``lookback`` values) / their standard deviation (ddof 1, pandas' default)."""
    window = series.rolling(lookback)
    return (series - window.mean()) / window.std()


@dataclass(frozen=True, kw_only=True)
class MeanReversionResult(Result):
    symbol: str
    mean_reverting: bool  # the ADF test rejects a unit root at 5%
    adf_statistic: float
    adf_pvalue: float
    adf_lags: int
    adf_critical_values: dict[str, float]
    half_life: float  # bars (trading days at daily resolution); inf when there is no pull back
    ar1_coefficient: float  # b in Δx_t = a + b·x_{t-1}
    hurst_exponent: float
    zscore: float  # of the last close over lookback_period bars
    lookback_period: int
    series: pd.DataFrame = field(metadata=BULK)  # close, rolling mean, zscore: for the chart


def describe_hurst(value: float) -> str:
    if value < 0.45:
        return "mean-reverting"
    if value > 0.55:
        return "trending"
    return "close to a random walk"


@one_blas_thread
def analyze_mean_reversion(symbol: str, start_date: object = None, end_date: object = None,
                           resolution: str = "daily", normalization: str = "adjusted", *,
                           lookback_period: int = 20, source: object = None,
                           prices: object = None) -> MeanReversionResult:
    """ADF, AR(1) half-life and Hurst exponent of the log price, and the close's current z-score.

    Log prices, so the tests do not depend on the price level and a 20-year exponential trend does not
    masquerade as heteroskedasticity; the z-score is on the close itself, as a trader reads it.
    """
    ticker = one_symbol(symbol, "symbol")
    if not isinstance(lookback_period, int) or isinstance(lookback_period, bool) or lookback_period < 2:
        raise ResearchError("lookback_period", f"{lookback_period!r} must be an integer of at least 2 bars")
    needed = max(MIN_OBSERVATIONS, lookback_period + 1)
    data = load_prices([ticker], start_date, end_date, resolution, normalization, source=source, prices=prices,
                       min_observations=needed, what="mean-reversion analysis", parameters={ticker: "symbol"})
    close = data.closes[ticker]
    logs = np.log(close.to_numpy())
    adf = adfuller(logs, regression="c", autolag="AIC", result_object=True)
    life, slope = half_life(logs)
    hurst = hurst_exponent(logs)
    zscores = rolling_zscore(close, lookback_period)
    current = float(zscores.iloc[-1])
    reverting = bool(adf.pvalue < 0.05)
    unit = "trading days" if data.description.resolution == "daily" else f"{data.description.resolution} bars"
    reading = ((f"mean-reverting: ADF rejects a unit root (p = {adf.pvalue:.3f}), half-life {life:.1f} {unit}"
                if reverting else f"no evidence of mean reversion: ADF p = {adf.pvalue:.2f} (a unit root is not "
                                  f"rejected)")
               + f"; Hurst {hurst:.2f} ({describe_hurst(hurst)}); the last close is {current:+.2f} standard "
                 f"deviations from its {lookback_period}-bar mean"
               + (" (stretched)" if abs(current) >= 2 else ""))
    series = pd.DataFrame({"close": close, "mean": close.rolling(lookback_period).mean(), "zscore": zscores})
    return MeanReversionResult(
        symbol=ticker, mean_reverting=reverting, adf_statistic=float(adf.statistic), adf_pvalue=float(adf.pvalue),
        adf_lags=int(adf.lags), adf_critical_values={key: float(value) for key, value in adf.critical_values.items()},
        half_life=life, ar1_coefficient=slope, hurst_exponent=hurst, zscore=current, lookback_period=lookback_period,
        series=series, interpretation=reading, data=data.description,
        method=(f"on the log close ({len(close)} bars): statsmodels adfuller (constant, AIC lag choice); half-life "
                "-ln2/ln(1+b) from OLS Δx = a + b·x₋₁; Hurst from the growth of the std of τ-bar changes, τ = 2…"
                f"{hurst_lags(len(close))[-1]}; z-score of the close over {lookback_period} bars (ddof 1)"))
