"""LEAN's pairs-trading alpha models: BasePairsTradingAlphaModel (every pair of the universe's securities that
passes ``has_passed_test``) and PearsonCorrelationPairsTradingAlphaModel (only the pair whose daily log returns
correlate best, at least ``minimum_correlation``).

A pair follows the ratio of its two prices (identity indicators at the securities' own resolution) against a
500-sample EMA of that ratio; crossing ``threshold`` percent above the mean emits a group (short the first, long
the second), crossing below the opposite group, never the same direction twice in a row.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qcmcp.sandbox.engine.framework import AlphaModel, Insight, InsightDirection, _span, number_text
from qcmcp.sandbox.engine.indicators import ExponentialMovingAverage, Identity, IndicatorExtensions


class _Pair:
    """One traded pair: its ratio, the ratio's mean and the bands, and the side last emitted."""

    SHORT_RATIO, FLAT_RATIO, LONG_RATIO = -1, 0, 1

    def __init__(self, algorithm: Any, asset1: Any, asset2: Any, prediction_interval: Any, threshold: float) -> None:
        self.algorithm, self.asset1, self.asset2 = algorithm, asset1, asset2
        self.prediction_interval, self.state = prediction_interval, self.FLAT_RATIO
        self.asset1_price, self.consolidator1 = self._identity(asset1)
        self.asset2_price, self.consolidator2 = self._identity(asset2)
        self.ratio = IndicatorExtensions.over(self.asset1_price, self.asset2_price)
        self.mean = IndicatorExtensions.of(ExponentialMovingAverage(500), self.ratio)
        self.upper_threshold = IndicatorExtensions.times(self.mean, 1 + threshold / 100, "UpperThreshold")
        self.lower_threshold = IndicatorExtensions.times(self.mean, 1 - threshold / 100, "LowerThreshold")

    def _identity(self, symbol: Any) -> tuple[Any, Any]:
        """The price at the finest resolution the symbol is subscribed at, through its own consolidator (which
        ``dispose`` removes)."""
        algorithm = self.algorithm
        resolution = algorithm.engine.securities[algorithm.engine.symbol_for(symbol)].resolution
        identity = Identity(f"{symbol}_close_{resolution}")
        consolidator = algorithm.resolve_consolidator(symbol, resolution)
        algorithm.register_indicator(symbol, identity, consolidator)
        return identity, consolidator

    def dispose(self) -> None:
        manager = self.algorithm.subscription_manager
        manager.remove_consolidator(self.asset1, self.consolidator1)
        manager.remove_consolidator(self.asset2, self.consolidator2)

    def get_insight_group(self) -> list[Insight]:
        if not self.mean.is_ready:
            return []
        if self.state != self.LONG_RATIO and self.ratio > self.upper_threshold:
            self.state = self.LONG_RATIO
            return Insight.group(Insight.price(self.asset1, self.prediction_interval, InsightDirection.DOWN),
                                 Insight.price(self.asset2, self.prediction_interval, InsightDirection.UP))
        if self.state != self.SHORT_RATIO and self.ratio < self.lower_threshold:
            self.state = self.SHORT_RATIO
            return Insight.group(Insight.price(self.asset1, self.prediction_interval, InsightDirection.UP),
                                 Insight.price(self.asset2, self.prediction_interval, InsightDirection.DOWN))
        return []


class BasePairsTradingAlphaModel(AlphaModel):
    """LEAN's: a pair for every two securities (in symbol order) that pass ``has_passed_test``; insights last
    ``lookback`` bars of ``resolution``; a pair goes when either of its securities leaves."""

    def __init__(self, lookback: int = 1, resolution: Any = "daily", threshold: float = 1) -> None:
        self.lookback, self.resolution, self.threshold = int(lookback), resolution, float(threshold)
        self.prediction_interval = _span(resolution) * self.lookback
        self.pairs: dict[tuple[Any, Any], _Pair] = {}
        self.securities: list[Any] = []  # LEAN's set of securities, kept in arrival order
        self.name = (f"{type(self).__name__}({self.lookback},{str(resolution).capitalize()},"
                     f"{number_text(self.threshold)})")

    def update(self, algorithm: Any, data: Any) -> list[Insight]:
        insights: list[Insight] = []
        for pair in self.pairs.values():
            insights.extend(pair.get_insight_group())
        return insights

    def _track(self, changes: Any) -> None:
        for security in changes.added_securities:
            if security not in self.securities:
                self.securities.append(security)
        for security in changes.removed_securities:
            if security in self.securities:
                self.securities.remove(security)

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        self._track(changes)
        self.update_pairs(algorithm)
        for security in changes.removed_securities:
            for key in [key for key in self.pairs if security.symbol in key]:
                self.pairs.pop(key).dispose()

    def update_pairs(self, algorithm: Any) -> None:
        symbols = sorted(security.symbol for security in self.securities)
        for i, first in enumerate(symbols):
            for second in symbols[i + 1:]:
                if (first, second) in self.pairs or (second, first) in self.pairs:
                    continue
                if not self.has_passed_test(algorithm, first, second):
                    continue
                self.pairs[(first, second)] = _Pair(algorithm, first, second, self.prediction_interval,
                                                    self.threshold)

    def has_passed_test(self, algorithm: Any, asset1: Any, asset2: Any) -> bool:
        return True


class PearsonCorrelationPairsTradingAlphaModel(BasePairsTradingAlphaModel):
    """LEAN's: at each universe change, the Pearson correlation of every two securities' log returns over the
    last ``lookback`` bars of history (dates all have in common); only the best pair, if it correlates at least
    ``minimum_correlation``, passes the test."""

    def __init__(self, lookback: int = 15, resolution: Any = "minute", threshold: float = 1,
                 minimum_correlation: float = 0.5) -> None:
        super().__init__(lookback, resolution, threshold)
        self.minimum_correlation = float(minimum_correlation)
        self.best_pair: tuple[Any, Any] | tuple[()] = ()

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        self._track(changes)
        symbols = sorted(security.symbol for security in self.securities)
        history = algorithm.history(symbols, self.lookback, self.resolution)
        if not history.empty:
            closes = history["close"].unstack(level=0)
            returns = self.get_price_dataframe(closes)
            best: tuple[float, tuple[int, int]] | None = None
            for i in range(len(returns.columns)):
                for j in range(i + 1, len(returns.columns)):
                    value = _pearson(returns.iloc[:, i].to_numpy(), returns.iloc[:, j].to_numpy())
                    if best is None or value >= best[0]:  # a stable sort's last: the later pair on a tie
                        best = (value, (i, j))
            if best is not None and best[0] >= self.minimum_correlation:
                self.best_pair = (symbols[best[1][0]], symbols[best[1][1]])
        super().on_securities_changed(algorithm, changes)

    def has_passed_test(self, algorithm: Any, asset1: Any, asset2: Any) -> bool:
        return len(self.best_pair) == 2 and self.best_pair[0] == asset1 and self.best_pair[1] == asset2

    def get_price_dataframe(self, closes: Any) -> Any:
        """Log returns of the closes, dates with a missing price dropped."""
        logs = np.log(closes)
        return (logs - logs.shift(1)).dropna()


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """scipy.stats.pearsonr's coefficient (NaN for fewer than two points or a constant series)."""
    from scipy.stats import pearsonr

    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(pearsonr(x, y)[0])
