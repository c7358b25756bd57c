"""LEAN's portfolio optimizers (Algorithm.Framework/Portfolio): weights from a matrix of historical returns
(rows are dates, columns securities; a DataFrame or an array), optional expected returns and covariance.

Minimum variance and maximum Sharpe ratio are solved by SLSQP with LEAN's bounds and constraints (its
Python ports use scipy the same way); unconstrained mean-variance is ``mu . inv(S)``; risk parity is LEAN's
Newton iteration on ``1/2 x'Sx - b'log(x)``. Each returns a numpy array of weights, one per column.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd


def _frame(historical_returns: Any) -> pd.DataFrame:
    if isinstance(historical_returns, pd.DataFrame):
        return historical_returns
    return pd.DataFrame(np.asarray(historical_returns, dtype=float))


def _vector(values: Any) -> np.ndarray:
    return np.asarray(values.values if isinstance(values, pd.Series | pd.DataFrame) else values, dtype=float).ravel()


def _matrix(values: Any) -> np.ndarray:
    return np.asarray(values.values if isinstance(values, pd.DataFrame) else values, dtype=float)


class _BoundedOptimizer:
    """The shared part of LEAN's SLSQP optimizers: equal weights to start, per-weight bounds, budget sum 1."""

    name = "PortfolioOptimizer"

    def __init__(self, minimum_weight: float = -1, maximum_weight: float = 1) -> None:
        self.minimum_weight, self.maximum_weight = float(minimum_weight), float(maximum_weight)

    def portfolio_variance(self, weights: Any, covariance: Any) -> float:
        weights = np.asarray(weights, dtype=float)
        variance = float(weights @ _matrix(covariance) @ weights)
        if variance == 0 and np.any(weights):
            raise ValueError(f"{self.name}.portfolio_variance: Volatility cannot be zero. Weights: {weights}")
        return variance

    def get_boundary_conditions(self, size: int) -> tuple[tuple[float, float], ...]:
        return tuple((self.minimum_weight, self.maximum_weight) for _ in range(size))

    @staticmethod
    def get_budget_constraint(weights: Any) -> float:
        return float(np.sum(weights) - 1)

    def _solve(self, objective: Any, size: int, constraints: list[dict[str, Any]]) -> tuple[np.ndarray, bool]:
        from scipy.optimize import minimize

        start = np.full(size, 1.0 / size)
        result = minimize(objective, start, bounds=self.get_boundary_conditions(size), constraints=constraints,
                          method="SLSQP")
        return (np.asarray(result.x, dtype=float), True) if result.success else (start, False)


class MinimumVariancePortfolioOptimizer(_BoundedOptimizer):
    """LEAN's: the least-variance weights within [-1, 1] that sum to 1 and reach ``target_return`` (2 %),
    scaled so their absolute values sum to 1; equal weights when SLSQP fails."""

    name = "MinimumVariancePortfolioOptimizer"

    def __init__(self, minimum_weight: float = -1, maximum_weight: float = 1, target_return: float = 0.02) -> None:
        super().__init__(minimum_weight, maximum_weight)
        self.target_return = float(target_return)

    def optimize(self, historical_returns: Any, expected_returns: Any = None, covariance: Any = None) -> np.ndarray:
        frame = _frame(historical_returns)
        covariance = _matrix(frame.cov() if covariance is None else covariance)
        expected = _vector(frame.mean() if expected_returns is None else expected_returns)
        constraints = [{"type": "eq", "fun": self.get_budget_constraint},
                       {"type": "eq", "fun": lambda weights: float(expected @ weights) - self.target_return}]
        weights, solved = self._solve(lambda weights: self.portfolio_variance(weights, covariance),
                                      frame.shape[1], constraints)
        return weights / np.sum(np.abs(weights)) if solved else weights

    Optimize = optimize


class MaximumSharpeRatioPortfolioOptimizer(_BoundedOptimizer):
    """LEAN's: the weights within [-1, 1] summing to 1 that maximize (mu - rf)'w / sqrt(w'Sw), solved
    directly by SLSQP as LEAN's Python optimizer does; equal weights when SLSQP fails."""

    name = "MaximumSharpeRatioPortfolioOptimizer"

    def __init__(self, minimum_weight: float = -1, maximum_weight: float = 1, risk_free_rate: float = 0) -> None:
        super().__init__(minimum_weight, maximum_weight)
        self.risk_free_rate = float(risk_free_rate)

    def optimize(self, historical_returns: Any, expected_returns: Any = None, covariance: Any = None) -> np.ndarray:
        frame = _frame(historical_returns)
        covariance = _matrix(frame.cov() if covariance is None else covariance)
        excess = _vector(frame.mean() if expected_returns is None else expected_returns) - self.risk_free_rate

        def negative_sharpe(weights: np.ndarray) -> float:
            return -float(excess @ weights) / np.sqrt(self.portfolio_variance(weights, covariance))

        weights, _ = self._solve(negative_sharpe, covariance.shape[0],
                                 [{"type": "eq", "fun": self.get_budget_constraint}])
        return weights

    Optimize = optimize


class UnconstrainedMeanVariancePortfolioOptimizer:
    """LEAN's: the unconstrained mean-variance weights ``mu . inv(S)`` (not normalized)."""

    def optimize(self, historical_returns: Any, expected_returns: Any = None, covariance: Any = None) -> np.ndarray:
        frame = _frame(historical_returns)
        expected = _vector(frame.mean() if expected_returns is None else expected_returns)
        covariance = _matrix(frame.cov() if covariance is None else covariance)
        return expected @ np.linalg.inv(covariance)

    Optimize = optimize


class RiskParityPortfolioOptimizer:
    """LEAN's: equal risk budgets by Newton's method on ``1/2 x'Sx - b'log(x)`` from equal weights (tolerance
    1e-11 on the objective, at most 15000 steps), normalized to sum 1 and clipped to [1e-5, max]."""

    def __init__(self, minimum_weight: float = 1e-05, maximum_weight: float = sys.float_info.max) -> None:
        self.minimum_weight = max(float(minimum_weight), 1e-05)
        self.maximum_weight = max(float(maximum_weight), self.minimum_weight)

    def optimize(self, historical_returns: Any, budget: Any = None, covariance: Any = None) -> np.ndarray:
        frame = _frame(historical_returns)
        covariance = _matrix(np.cov(frame.values.T) if covariance is None else covariance).reshape(
            frame.shape[1], frame.shape[1])
        size = covariance.shape[0]
        budget = np.full(size, 1.0 / size) if budget is None else _vector(budget)
        solution = self._newton(covariance, budget)
        return np.clip(solution / solution.sum(), self.minimum_weight, self.maximum_weight)

    Optimize = optimize

    @staticmethod
    def _newton(covariance: np.ndarray, budget: np.ndarray, tolerance: float = 1e-11,
                maximum_iteration: int = 15000) -> np.ndarray:
        size = covariance.shape[0]
        if size == 1:
            return np.ones(1)
        weights = np.full(size, 1.0 / size)
        new, old, steps = -sys.float_info.max, sys.float_info.max, 0
        while abs(new - old) > tolerance and steps < maximum_iteration:
            old = new
            hessian = covariance + np.diag(budget / weights ** 2)
            gradient = covariance @ weights - budget / weights
            weights = weights - np.linalg.inv(hessian) @ gradient
            with np.errstate(invalid="ignore", divide="ignore"):
                new = float(0.5 * weights @ covariance @ weights - budget @ np.log(weights))
            steps += 1
        return weights
