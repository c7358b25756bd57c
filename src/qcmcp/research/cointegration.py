"""Is a pair tied together in the long run? Engle–Granger both ways, Johansen, and the spread's behaviour.

Engle–Granger depends on which series is regressed on which, so both directions are run: the pair is
called cointegrated when both reject "no cointegration". Johansen's trace test is symmetric and gives the
rank (0: none, 1: one tie). The hedge ratio is the OLS slope of symbol1 on symbol2 (shares of symbol2 per
share of symbol1), and the spread's AR(1) half-life says how long a trade on it would wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.tsa.stattools import coint
from statsmodels.tsa.vector_ar.vecm import coint_johansen

from qcmcp.research.data import load_prices, one_symbol
from qcmcp.research.errors import ResearchError
from qcmcp.research.mean_reversion import half_life
from qcmcp.research.results import BULK, Result
from qcmcp.research.threads import one_blas_thread

MIN_OBSERVATIONS = 50
JOHANSEN_DETERMINISTIC = {"n": -1, "c": 0, "ct": 1}  # Engle–Granger trend → Johansen det_order


def check_alpha(alpha: float) -> float:
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise ResearchError("alpha", f"{alpha!r} must be a significance level between 0 and 1, e.g. 0.05")
    return float(alpha)


def check_lags(lags: int | None) -> int | None:
    if lags is not None and (not isinstance(lags, int) or isinstance(lags, bool) or not 0 <= lags <= 50):
        raise ResearchError("lags", f"{lags!r} must be None (choose by AIC) or an integer from 0 to 50")
    return lags


def engle_granger(y: np.ndarray, x: np.ndarray, trend: str, lags: int | None) -> tuple[float, float, np.ndarray]:
    """statsmodels' augmented Engle–Granger test of y on x: (t-statistic, MacKinnon p-value, 1/5/10% values)."""
    lag_choice = {"maxlag": None, "autolag": "aic"} if lags is None else {"maxlag": lags, "autolag": None}
    statistic, pvalue, critical = coint(y, x, trend=trend, **lag_choice)
    return float(statistic), float(pvalue), np.asarray(critical, dtype=float)


def hedge_regression(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """(hedge ratio β, intercept a) of the OLS fit y = a + β·x."""
    design = np.column_stack([x, np.ones_like(x)])
    (beta, intercept), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(beta), float(intercept)


@dataclass(frozen=True, kw_only=True)
class CointegrationResult(Result):
    symbol1: str
    symbol2: str
    cointegrated: bool  # Engle–Granger rejects at alpha in both directions
    alpha: float
    eg_statistic: float  # symbol1 regressed on symbol2
    eg_pvalue: float
    eg_reverse_statistic: float  # symbol2 on symbol1
    eg_reverse_pvalue: float
    eg_critical_values: dict[str, float]
    johansen_trace: list[float]  # H0: rank ≤ 0, rank ≤ 1
    johansen_critical_95: list[float]
    johansen_rank: int  # hypotheses rejected in turn at 95%
    hedge_ratio: float  # β in symbol1 = a + β·symbol2
    intercept: float
    half_life: float  # bars of the spread's AR(1) decay; inf without pull back
    spread_zscore: float  # last spread value against the whole sample
    series: pd.DataFrame = field(metadata=BULK)  # spread and zscore


@one_blas_thread
def test_cointegration(symbol1: str, symbol2: str, start_date: object = None, end_date: object = None,
                       resolution: str = "daily", normalization: str = "adjusted", *, trend: str = "c",
                       lags: int | None = None, alpha: float = 0.05, source: object = None,
                       prices: object = None) -> CointegrationResult:
    """Engle–Granger (both ways) and Johansen on the two closes, OLS hedge ratio, spread half-life.

    ``trend``: "c" (constant, the usual), "ct" (constant and time trend) or "n" (neither).
    ``lags``: augmentation lags of the ADF step, None to choose them by AIC (statsmodels' default); the
    Johansen VECM then uses 1 lagged difference, else ``lags``.
    """
    first = one_symbol(symbol1, "symbol1")
    second = one_symbol(symbol2, "symbol2")
    if first == second:
        raise ResearchError("symbol2", f"is the same as symbol1 ({first}); a series is trivially tied to itself")
    if trend not in JOHANSEN_DETERMINISTIC:
        raise ResearchError("trend", f"{trend!r} is not one of 'c' (constant), 'ct' (constant and trend), 'n'")
    alpha, lags = check_alpha(alpha), check_lags(lags)
    data = load_prices([first, second], start_date, end_date, resolution, normalization, source=source,
                       prices=prices, min_observations=MIN_OBSERVATIONS, what="a cointegration test",
                       parameters={first: "symbol1", second: "symbol2"})
    y, x = data.closes[first].to_numpy(), data.closes[second].to_numpy()
    forward, backward = engle_granger(y, x, trend, lags), engle_granger(x, y, trend, lags)
    johansen = coint_johansen(np.column_stack([y, x]), JOHANSEN_DETERMINISTIC[trend], 1 if lags is None else lags)
    trace, critical = johansen.trace_stat.tolist(), johansen.trace_stat_crit_vals[:, 1].tolist()
    rank = next((rank for rank, (stat, crit) in enumerate(zip(trace, critical)) if stat <= crit), len(trace))
    beta, intercept = hedge_regression(y, x)
    spread = pd.Series(y - beta * x, index=data.closes.index, name="spread")
    life, _ = half_life(spread.to_numpy())
    zscores = (spread - spread.mean()) / spread.std()
    cointegrated = forward[1] < alpha and backward[1] < alpha
    unit = "trading days" if data.description.resolution == "daily" else f"{data.description.resolution} bars"
    verdict = ("cointegrated" if cointegrated else "mixed evidence" if min(forward[1], backward[1]) < alpha
               else "not cointegrated")
    reading = (f"{verdict} at {alpha:g}: Engle–Granger p = {forward[1]:.3g} ({first} on {second}) and "
               f"{backward[1]:.3g} (reverse); Johansen rank {rank} (trace {trace[0]:.1f} vs {critical[0]:.1f} at "
               f"95%); spread {first} - {beta:.3f}·{second} halves in {life:.1f} {unit}, now "
               f"{float(zscores.iloc[-1]):+.2f}σ from its mean")
    lag_text = "AIC-chosen ADF lags" if lags is None else f"{lags} ADF lags"
    return CointegrationResult(
        symbol1=first, symbol2=second, cointegrated=cointegrated, alpha=alpha, eg_statistic=forward[0],
        eg_pvalue=forward[1], eg_reverse_statistic=backward[0], eg_reverse_pvalue=backward[1],
        eg_critical_values=dict(zip(("1%", "5%", "10%"), forward[2].tolist())), johansen_trace=trace,
        johansen_critical_95=critical, johansen_rank=rank, hedge_ratio=beta, intercept=intercept, half_life=life,
        spread_zscore=float(zscores.iloc[-1]), series=pd.DataFrame({"spread": spread, "zscore": zscores}),
        interpretation=reading, data=data.description,
        method=(f"closes, {len(y)} common bars: statsmodels coint (Engle–Granger, trend '{trend}', {lag_text}, "
                "MacKinnon p-values) both ways; coint_johansen trace test (det_order "
                f"{JOHANSEN_DETERMINISTIC[trend]}, {1 if lags is None else lags} lagged differences); OLS hedge "
                "ratio with intercept; half-life from AR(1) on the spread"))


test_cointegration.__test__ = False  # a statistics function whose name pytest would otherwise collect
