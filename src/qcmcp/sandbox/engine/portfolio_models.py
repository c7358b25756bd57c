"""LEAN's portfolio construction models that weigh by prices rather than by the insights alone: the online
mean-reversion (PAMR) model, and (with ``optimizers``) risk parity and Black-Litterman.

Each keeps per-symbol state (indicators or a rolling window of returns) fed from the universe changes, and
computes weights in ``determine_target_percent`` as LEAN's model does; the targets, expiry flattening and
rebalancing schedule are the base ``PortfolioConstructionModel``'s.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from qcmcp.sandbox.engine.framework import Insight, PortfolioBias, PortfolioConstructionModel
from qcmcp.sandbox.engine.types import PascalAliases
from qcmcp.sandbox.engine.types import TradeBar as _TradeBar


def simplex_projection(vector: Any, total: float = 1.0) -> np.ndarray:
    """The Euclidean projection onto the simplex {w >= 0, sum w = total} (Duchi et al. 2008), as LEAN's
    MeanReversionPortfolioConstructionModel.SimplexProjection."""
    if total <= 0:
        raise ValueError("Total must be > 0 for Euclidean Projection onto the Simplex.")
    values = np.asarray(list(vector), dtype=float)
    ordered = np.sort(values)[::-1]
    cumulative = np.cumsum(ordered)
    rho = np.nonzero(ordered > (cumulative - total) / np.arange(1, len(values) + 1))[0][-1]
    theta = (cumulative[rho] - total) / (rho + 1)
    return np.maximum(values - theta, 0.0)


class MeanReversionPortfolioConstructionModel(PortfolioConstructionModel):
    """LEAN's MeanReversionPortfolioConstructionModel: passive-aggressive mean reversion (PAMR). Each asset's
    expected price relative is ``1 + magnitude x direction`` when its insight has a magnitude, else its price over
    its ``window_size``-bar SMA; the weights step against the relatives' deviation from their mean by
    ``max(0, (w . x - threshold) / ||x - mean||^2)`` and are projected back onto the simplex. The weights carry
    over between rebalances while the number of insights stays the same (else they restart equal)."""

    def __init__(self, rebalance: Any = "daily", portfolio_bias: int = PortfolioBias.LONG_SHORT,
                 reversion_threshold: float = 1, window_size: int = 20, resolution: Any = "daily") -> None:
        if int(portfolio_bias) == PortfolioBias.SHORT:
            raise ValueError("Long position must be allowed in MeanReversionPortfolioConstructionModel.")
        super().__init__(rebalance)
        self.reversion_threshold = float(reversion_threshold)
        self.window_size, self.resolution = int(window_size), resolution
        self.num_of_assets = 0
        self.weight_vector = np.zeros(0)
        self.symbol_data: dict[Any, dict[str, Any]] = {}

    def _ready(self, insight: Insight) -> bool:
        data = self.symbol_data.get(insight.symbol)
        return data is not None and data["identity"].is_ready and data["sma"].is_ready

    def determine_target_percent(self, active_insights: list[Insight]) -> dict[Insight, float]:
        if not active_insights or not all(self._ready(insight) for insight in active_insights):
            return {}
        if self.num_of_assets != len(active_insights):
            self.num_of_assets = len(active_insights)
            self.weight_vector = np.full(self.num_of_assets, 1.0 / self.num_of_assets)
        relatives = self.get_price_relatives(active_insights)
        deviation = relatives - relatives.mean()
        norm = float(np.dot(deviation, deviation))
        step = 0.0 if norm == 0.0 else max(0.0, (float(np.dot(self.weight_vector, relatives))
                                                - self.reversion_threshold) / norm)
        self.weight_vector = simplex_projection(self.weight_vector - step * deviation)
        return {insight: float(weight) for insight, weight in zip(active_insights, self.weight_vector)}

    def get_price_relatives(self, active_insights: list[Insight]) -> np.ndarray:
        relatives = []
        for insight in active_insights:
            if insight.magnitude is not None:
                relatives.append(1 + float(insight.magnitude) * int(insight.direction))
            else:
                data = self.symbol_data[insight.symbol]
                relatives.append(data["identity"].current.value / data["sma"].current.value)
        return np.array(relatives, dtype=float)

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        super().on_securities_changed(algorithm, changes)
        for security in changes.removed_securities:
            data = self.symbol_data.pop(security.symbol, None)
            if data is not None:
                data["identity"].reset()
                data["sma"].reset()
        for security in changes.added_securities:
            symbol = security.symbol
            if symbol in self.symbol_data:
                continue
            identity = algorithm.identity(symbol, self.resolution)
            sma = algorithm.sma(symbol, self.window_size, self.resolution)
            algorithm.warm_up_indicator(symbol, identity, self.resolution)
            algorithm.warm_up_indicator(symbol, sma, self.resolution)
            self.symbol_data[symbol] = {"identity": identity, "sma": sma}



class ReturnsSymbolData(PascalAliases):
    """LEAN's ReturnsSymbolData: a ``lookback``-bar rate of change whose values, once ready, fill a rolling
    window of ``period`` returns keyed by end time (a repeated end time, as a fill-forward bar gives, is skipped)."""

    def __init__(self, symbol: Any, lookback: int, period: int) -> None:
        from qcmcp.sandbox.engine.indicators import RateOfChange

        self.symbol, self.period = symbol, int(period)
        self.roc = RateOfChange(int(lookback), f"{symbol}.ROC({lookback})")
        self.window: deque[tuple[Any, float]] = deque(maxlen=self.period)  # newest last
        self.roc.updated_handlers.append(self._on_roc)

    def _on_roc(self, sender: Any, point: Any) -> None:
        if self.roc.is_ready:
            self.add(point.end_time, point.value)

    def add(self, time: Any, value: float) -> None:
        if self.window and self.window[-1][0] == time:
            return
        self.window.append((time, float(value)))

    def update(self, time: Any, value: float) -> bool:
        return self.roc.update(time, value)

    def reset(self) -> None:
        self.roc.updated_handlers.remove(self._on_roc)
        self.roc.reset()
        self.window.clear()

    @property
    def returns(self) -> dict[Any, float]:
        """Newest first, as LEAN's rolling window enumerates."""
        return {time: value for time, value in reversed(self.window)}

    @property
    def is_ready(self) -> bool:
        return len(self.window) == self.period


def returns_matrix(symbol_data: dict[Any, ReturnsSymbolData], symbols: list[Any]) -> np.ndarray:
    """LEAN's FormReturnsMatrix: one row per date when every symbol's dates agree (else row i is each symbol's
    i-th newest return), a missing return NaN; rows whose absolute sum is NaN or zero are dropped."""
    by_date = [symbol_data[symbol].returns for symbol in symbols if symbol in symbol_data]
    dates = list(dict.fromkeys(date for returns in by_date for date in returns))
    longest = max((len(data.returns) for data in symbol_data.values()), default=0)
    if longest == len(dates):
        rows = [[returns.get(date, math.nan) for returns in by_date] for date in dates]
    else:
        columns = [list(returns.values()) for returns in by_date]
        rows = [[column[i] if i < len(column) else math.nan for column in columns] for i in range(longest)]
    kept = [row for row in rows if not (math.isnan(total := sum(abs(v) for v in row)) or total == 0)]
    return np.array(kept, dtype=float).reshape(len(kept), len(by_date))


class RiskParityPortfolioConstructionModel(PortfolioConstructionModel):
    """LEAN's RiskParityPortfolioConstructionModel: each active insight's symbol weighted by the risk-parity
    optimizer over its last ``period`` ``lookback``-bar returns (warmed up from history), rebalanced daily."""

    def __init__(self, rebalance: Any = "daily", portfolio_bias: int = PortfolioBias.LONG_SHORT, lookback: int = 1,
                 period: int = 252, resolution: Any = "daily", optimizer: Any = None) -> None:
        from qcmcp.sandbox.engine.optimizers import RiskParityPortfolioOptimizer

        if int(portfolio_bias) == PortfolioBias.SHORT:
            raise ValueError("Long position must be allowed in RiskParityPortfolioConstructionModel.")
        super().__init__(rebalance)
        self.lookback, self.period, self.resolution = int(lookback), int(period), resolution
        self.optimizer = optimizer if optimizer is not None else RiskParityPortfolioOptimizer()
        self.symbol_data: dict[Any, ReturnsSymbolData] = {}

    def determine_target_percent(self, active_insights: list[Insight]) -> dict[Insight, float]:
        if not active_insights:
            return {}
        symbols = [insight.symbol for insight in active_insights]
        weights = list(_optimize(self.optimizer, returns_matrix(self.symbol_data, symbols)))
        if not weights:
            return {}
        targets: dict[Insight, float] = {}
        for symbol, weight in zip(symbols, weights):
            targets[next(i for i in active_insights if i.symbol == symbol)] = float(weight)
        return targets

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        super().on_securities_changed(algorithm, changes)
        for security in changes.removed_securities:
            data = self.symbol_data.pop(security.symbol, None)
            if data is not None:
                algorithm.unregister_indicator(data.roc)
        added = [security.symbol for security in changes.added_securities]
        for symbol in added:
            if symbol not in self.symbol_data:
                self.symbol_data[symbol] = ReturnsSymbolData(symbol, self.lookback, self.period)
                algorithm.register_indicator(symbol, self.symbol_data[symbol].roc, self.resolution)
        for symbol in added:
            for bar in algorithm.history[_TradeBar](symbol, self.lookback * self.period, self.resolution):
                self.symbol_data[symbol].update(bar.end_time, bar.close)


def _optimize(optimizer: Any, returns: np.ndarray, *rest: Any) -> Any:
    """A user's optimizer (a Python class with ``optimize`` or LEAN's PascalCase ``Optimize``) on a returns matrix."""
    method = getattr(optimizer, "optimize", None) or getattr(optimizer, "Optimize")
    return method(returns, *rest)
