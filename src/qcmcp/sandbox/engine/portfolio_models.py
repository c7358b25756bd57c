"""LEAN's portfolio construction models that weigh by prices rather than by the insights alone: the online
mean-reversion (PAMR) model and, with ``optimizers``, risk parity, mean-variance and Black-Litterman.

Each keeps per-symbol state (indicators or a rolling window of returns) fed from the universe changes, and
computes weights in ``determine_target_percent`` as LEAN's model does; the targets, expiry flattening and
rebalancing schedule are the base ``PortfolioConstructionModel``'s.
"""

from __future__ import annotations

import inspect
import math
from collections import deque
from typing import Any

import numpy as np

from qcmcp.sandbox.engine.framework import Insight, InsightDirection, PortfolioBias, PortfolioConstructionModel
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
        symbols = [insight.symbol for insight in active_insights if insight.symbol in self.symbol_data]
        weights = list(_optimize(self.optimizer, returns_matrix(self.symbol_data, symbols), symbols=symbols))
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


def _optimize(optimizer: Any, returns: Any, expected_returns: Any = None, covariance: Any = None,
              symbols: list[Any] | None = None) -> Any:
    """The optimizer's weights (``optimize`` or LEAN's PascalCase ``Optimize``), called as LEAN's Python models
    call it: the returns as a DataFrame (a column per symbol), expected returns and covariance (None if not given)."""
    import pandas as pd

    if isinstance(returns, np.ndarray):
        returns = pd.DataFrame(returns, columns=[str(symbol) for symbol in symbols] if symbols else None)
    method = getattr(optimizer, "optimize", None) or getattr(optimizer, "Optimize")
    arguments = [returns, expected_returns, covariance]
    try:  # LEAN's Python models pass only the returns, its C# wrapper all three: as many as the method takes
        parameters = inspect.signature(method).parameters.values()
        if not any(p.kind == p.VAR_POSITIONAL for p in parameters):
            arguments = arguments[:max(1, sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                                                for p in parameters))]
    except (TypeError, ValueError):
        pass
    return method(*arguments)


def _bounds(portfolio_bias: int) -> tuple[float, float]:
    """LEAN's weight bounds for a bias: [0, 1] long only, [-1, 0] short only, else [-1, 1]."""
    bias = int(portfolio_bias)
    return (0.0 if bias == PortfolioBias.LONG else -1.0), (0.0 if bias == PortfolioBias.SHORT else 1.0)


def _sign(value: float) -> int:
    value = float(value)
    return (value > 0) - (value < 0)


def valid_magnitude(algorithm: Any, insight: Insight) -> bool:
    """LEAN's FilterInvalidInsightMagnitude for one insight: no magnitude (or 0) passes; one outside the
    settings' absolute target percentage range is logged as an error and skipped."""
    magnitude = insight.magnitude
    if magnitude is None or magnitude == 0:
        return True
    settings = algorithm.settings
    largest = float(getattr(settings, "max_absolute_portfolio_target_percentage", 1e9))
    smallest = float(getattr(settings, "min_absolute_portfolio_target_percentage", 1e-10))
    if smallest <= abs(float(magnitude)) <= largest:
        return True
    algorithm.error(f"PortfolioConstructionModel.FilterInvalidInsightMagnitude():The insight target Magnitude: "
                    f"{magnitude}, will not comply with the current 'Algorithm.Settings' "
                    f"'MaxAbsolutePortfolioTargetPercentage': {largest} or 'MinAbsolutePortfolioTargetPercentage': "
                    f"{smallest}. Skipping insight.")
    return False


class MeanVarianceOptimizationPortfolioConstructionModel(PortfolioConstructionModel):
    """LEAN's MeanVarianceOptimizationPortfolioConstructionModel: each active insight's magnitude joins its
    symbol's window of ``period`` returns (warmed up from history), and the optimizer (by default minimum variance
    for ``target_return`` within the bias's bounds) weighs them; a weight against the bias is 0."""

    def __init__(self, rebalance: Any = "daily", portfolio_bias: int = PortfolioBias.LONG_SHORT, lookback: int = 1,
                 period: int = 63, resolution: Any = "daily", target_return: float = 0.02,
                 optimizer: Any = None) -> None:
        from qcmcp.sandbox.engine.optimizers import MinimumVariancePortfolioOptimizer

        super().__init__(rebalance)
        self.portfolio_bias, self.lookback, self.period = int(portfolio_bias), int(lookback), int(period)
        self.resolution = resolution
        self.optimizer = optimizer if optimizer is not None else MinimumVariancePortfolioOptimizer(
            *_bounds(portfolio_bias), target_return)
        self.symbol_data: dict[Any, ReturnsSymbolData] = {}

    def should_create_target_for_insight(self, insight: Insight) -> bool:
        algorithm = self.algorithm
        if not valid_magnitude(algorithm, insight):
            return False
        data = self.symbol_data.get(insight.symbol)
        if data is not None:
            if insight.magnitude is None:
                raise ValueError(f"MeanVarianceOptimizationPortfolioConstructionModel does not accept 'null' as "
                                 f"Insight.Magnitude. Please checkout the selected Alpha Model specifications: "
                                 f"{insight.source_model}")
            data.add(algorithm.time, float(insight.magnitude))
        return True

    def determine_target_percent(self, active_insights: list[Insight]) -> dict[Insight, float]:
        if not active_insights:
            return {}
        symbols = [insight.symbol for insight in active_insights if insight.symbol in self.symbol_data]
        weights = list(_optimize(self.optimizer, returns_matrix(self.symbol_data, symbols), symbols=symbols))
        targets: dict[Insight, float] = {}
        for symbol, weight in zip(symbols, weights):
            if self.portfolio_bias != PortfolioBias.LONG_SHORT and _sign(weight) != self.portfolio_bias:
                weight = 0.0
            targets[next(i for i in active_insights if i.symbol == symbol)] = float(weight)
        return targets

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        super().on_securities_changed(algorithm, changes)
        for security in changes.removed_securities:
            self.symbol_data.pop(security.symbol, None)
        added = [security.symbol for security in changes.added_securities]
        for symbol in added:
            self.symbol_data.setdefault(symbol, ReturnsSymbolData(symbol, self.lookback, self.period))
        for symbol in added:
            for bar in algorithm.history[_TradeBar](symbol, self.lookback * self.period, self.resolution):
                self.symbol_data[symbol].update(bar.end_time, bar.close)


class BlackLittermanOptimizationPortfolioConstructionModel(PortfolioConstructionModel):
    """LEAN's BlackLittermanOptimizationPortfolioConstructionModel (its Python port): the views (P, Q) of each
    alpha model's latest insights per symbol, the CAPM equilibrium returns of the symbols' return windows
    (each insight's magnitude added at its generation time), LEAN's master formula with ``tau`` and ``delta``,
    then the optimizer (by default maximum Sharpe within the bias's bounds) on the posterior."""

    def __init__(self, rebalance: Any = "daily", portfolio_bias: int = PortfolioBias.LONG_SHORT, lookback: int = 1,
                 period: int = 63, resolution: Any = "daily", risk_free_rate: float = 0, delta: float = 2.5,
                 tau: float = 0.05, optimizer: Any = None) -> None:
        from qcmcp.sandbox.engine.optimizers import MaximumSharpeRatioPortfolioOptimizer

        super().__init__(rebalance)
        self.portfolio_bias, self.lookback, self.period = int(portfolio_bias), int(lookback), int(period)
        self.resolution, self.risk_free_rate = resolution, float(risk_free_rate)
        self.delta, self.tau = float(delta), float(tau)
        self.optimizer = optimizer if optimizer is not None else MaximumSharpeRatioPortfolioOptimizer(
            *_bounds(portfolio_bias), risk_free_rate)
        self.symbol_data: dict[Any, ReturnsSymbolData] = {}

    def should_create_target_for_insight(self, insight: Insight) -> bool:
        return valid_magnitude(self.algorithm, insight)

    def get_target_insights(self, algorithm: Any) -> list[Insight]:
        """The latest active insight per alpha model and symbol (models, then symbols, in sorted order)."""
        latest: dict[tuple[str, Any], Insight] = {}
        for insight in algorithm.insights.get_active_insights(algorithm.time):
            if not self.should_create_target_for_insight(insight):
                continue
            key = (insight.source_model, insight.symbol)
            if key not in latest or insight.generated_time_utc >= latest[key].generated_time_utc:
                latest[key] = insight
        return [latest[key] for key in sorted(latest, key=lambda key: (key[0], str(key[1])))]

    def determine_target_percent(self, active_insights: list[Insight]) -> dict[Insight, float]:
        import pandas as pd

        views, view_returns = self.get_views(active_insights)
        if views is None:
            return {}
        columns: dict[Any, pd.Series] = {}
        for insight in active_insights:
            data = self.symbol_data.get(insight.symbol) or ReturnsSymbolData(insight.symbol, self.lookback,
                                                                             self.period)
            if insight.magnitude is None:
                raise ValueError("BlackLittermanOptimizationPortfolioConstructionModel does not accept 'None' as "
                                 "Insight.magnitude. Please make sure your Alpha Model is generating Insights with "
                                 "the Magnitude property set.")
            data.add(insight.generated_time_utc, float(insight.magnitude))
            returns = data.returns
            columns[insight.symbol] = pd.Series(list(returns.values()), index=list(returns.keys()), dtype=float)
        frame = pd.DataFrame(columns)
        prior, covariance = self.get_equilibrium_return(frame)
        posterior, covariance = self.apply_black_litterman_master_formula(prior, covariance, views, view_returns)
        weights = _optimize(self.optimizer, frame, posterior, covariance)
        targets: dict[Insight, float] = {}
        for symbol, weight in zip(covariance.columns, weights):
            insight = next((i for i in active_insights if str(i.symbol) == str(symbol)), None)
            if insight is None:
                continue
            if self.portfolio_bias != PortfolioBias.LONG_SHORT and _sign(weight) != self.portfolio_bias:
                weight = 0.0
            targets[insight] = float(weight)
        return targets

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        super().on_securities_changed(algorithm, changes)
        for security in changes.removed_securities:
            data = self.symbol_data.pop(security.symbol, None)
            if data is not None:
                data.reset()
        for security in changes.added_securities:
            bars = algorithm.history[_TradeBar](security.symbol, self.lookback * self.period, self.resolution)
            if not bars:
                continue
            data = self.symbol_data.get(security.symbol) or ReturnsSymbolData(security.symbol, self.lookback,
                                                                              self.period)
            for bar in bars:
                data.update(bar.end_time, bar.close)
            self.symbol_data[security.symbol] = data

    def get_equilibrium_return(self, returns: Any) -> tuple[np.ndarray, Any]:
        """CAPM prior of an equal-weight market: annualized covariance (x 252), risk aversion of its compounded
        annual return over its variance, and the implied returns ``aversion x S w``."""
        size = len(returns.columns)
        market = np.full(size, 1.0 / size)
        covariance = returns.cov() * 252
        annual_return = float(np.sum(((1 + returns.mean()) ** 252 - 1) * market))
        annual_variance = float(market @ covariance.values @ market)
        aversion = (annual_return - self.risk_free_rate) / annual_variance
        return aversion * (covariance.values @ market), covariance

    def apply_black_litterman_master_formula(self, prior: np.ndarray, covariance: Any, views: np.ndarray,
                                             view_returns: np.ndarray) -> tuple[np.ndarray, Any]:
        """The master formula with the views' uncertainty Omega = diag(P tau S P'); unchanged when Omega is
        singular. The posterior covariance is (S + M) x delta."""
        scaled = self.tau * covariance.values
        omega = (views @ scaled @ views.T) * np.eye(view_returns.shape[0])
        if np.linalg.det(omega) == 0:
            return prior, covariance
        gain = scaled @ views.T @ np.linalg.inv(views @ scaled @ views.T + omega)
        posterior = np.squeeze(np.asarray(prior[:, None] + gain @ (view_returns - (views @ prior)[:, None])))
        update = scaled - gain @ views @ scaled
        return posterior, (covariance + update) * self.delta

    @staticmethod
    def get_views(insights: list[Insight]) -> tuple[Any, Any]:
        """One view per alpha model: Q the larger of its up and down magnitude sums, P each symbol's signed
        magnitude over Q (0 for the other models' symbols); no views, (None, None)."""
        from itertools import groupby

        symbols = list(dict.fromkeys(insight.symbol for insight in insights))
        rows, returns = [], []
        for _, group in groupby(insights, lambda insight: insight.source_model):
            members = list(group)
            if any(insight.magnitude is None for insight in members):
                return None, None
            up = sum(abs(float(i.magnitude)) for i in members if i.direction == InsightDirection.UP)
            down = sum(abs(float(i.magnitude)) for i in members if i.direction == InsightDirection.DOWN)
            view = up if up > down else down
            if view == 0:
                continue
            row = {insight.symbol: int(insight.direction) * abs(float(insight.magnitude)) / view for insight in members}
            rows.append([row.get(symbol, 0.0) for symbol in symbols])  # columns as the returns'
            returns.append([view])
        if not returns:
            return None, None
        return np.array(rows, dtype=float), np.array(returns, dtype=float)
