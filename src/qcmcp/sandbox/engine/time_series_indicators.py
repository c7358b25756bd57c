"""LEAN's time-series indicators (``Indicators/TimeSeriesIndicator.cs``, ``AutoRegressiveIntegratedMovingAverage.cs``).

ARIMA(p, d, q) over a rolling window of ``period`` values, refitted at each one as LEAN does: the window newest
first, differenced ``d`` times (each time the oldest value kept as a head); the AR step regresses each value on the
``p`` values after it in that order (LEAN's LaggedSeries over a newest-first series), by the normal equations
without intercept, and keeps the residuals (zero for the first ``p``); with ``q`` > 0 the MA step regresses the
values again on those lags and the ``q`` lagged residuals, with an intercept unless ``intercept`` is False. The
forecast is Σ φᵢ·xᵢ over the newest values + Σ θᵢ·residual[q + i + 1] + intercept, integrated back with the heads.
A fit that fails (a singular system) gives zero parameters, as LEAN's HandleExceptions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from qcmcp.sandbox.engine.indicators import Indicator, RollingWindow


class TimeSeriesIndicator(Indicator):
    """LEAN's TimeSeriesIndicator helpers (series newest first, as a RollingWindow gives them)."""

    @staticmethod
    def difference_series(d: int, series: list[float]) -> tuple[list[float], list[float]]:
        """The series differenced ``d`` times (x[i] − x[i+1]) and the heads (the oldest value at each step)."""
        heads, local = [], list(series)
        for _ in range(d):
            heads.append(local[-1])
            local = [local[i] - local[i + 1] for i in range(len(local) - 1)]
        return local, heads

    @staticmethod
    def inverse_differenced_series(series: list[float], heads: list[float]) -> list[float]:
        local = list(series)
        for head in heads:  # LEAN pops a stack built from the reversed heads: the first head first
            local.append(head)
            local = TimeSeriesIndicator.cumulative_sum(local, True)
        return local

    @staticmethod
    def lagged_series(p: int, series: list[float], include_t: bool = False) -> list[list[float]]:
        return [[series[t - j] for j in range(0 if include_t else 1, p + 1)] for t in range(p, len(series))]

    @staticmethod
    def cumulative_sum(series: list[float], reverse: bool = False) -> list[float]:
        local = list(reversed(series)) if reverse else list(series)
        sums, total = [], 0.0
        for value in local:
            total += value
            sums.append(total)
        return list(reversed(sums)) if reverse else sums


def _fit(rows: list[list[float]], target: list[float], intercept: bool) -> np.ndarray:
    """MathNet's Fit.MultiDim by the normal equations: (XᵀX)β = Xᵀy, X with a leading column of ones for an
    intercept; zeros when the system cannot be solved."""
    x = np.array(rows, dtype=float)
    if intercept:
        x = np.column_stack([np.ones(len(x)), x])
    try:
        gram = x.T @ x
        np.linalg.cholesky(gram)  # MathNet's Cholesky: a matrix that is not positive definite fails
        return np.linalg.solve(gram, x.T @ np.array(target, dtype=float))
    except np.linalg.LinAlgError:
        return np.zeros(x.shape[1])


class AutoRegressiveIntegratedMovingAverage(TimeSeriesIndicator):
    def __init__(self, ar_order: int, diff_order: int, ma_order: int, period: int, intercept: bool = True,
                 name: str | None = None) -> None:
        if ar_order < 0 or ma_order < 0:
            raise ValueError("AR/MA orders cannot be negative.")
        if ar_order == 0:
            raise ValueError("arOrder (p) must be greater than zero for all currently available fitting methods.")
        if period < max(ar_order, ma_order):
            raise ValueError("Period must exceed both arOrder and maOrder")
        super().__init__(name or f"ARIMA(({ar_order}, {diff_order}, {ma_order}), {period}, {intercept})", period)
        self._args = (ar_order, diff_order, ma_order, period, intercept, name)
        self._p, self._d, self._q, self._intercept = int(ar_order), int(diff_order), int(ma_order), bool(intercept)
        self._data = RollingWindow(period)
        self.ar_parameters: list[float] = []
        self.ma_parameters: list[float] = []
        self.intercept = 0.0
        self.ar_residual_error = self.ma_residual_error = 0.0
        self._residuals: list[float] = []

    @property
    def is_ready(self) -> bool:
        return len(self._data) >= self._data.size

    def _compute(self, time: datetime, value: Any) -> float:
        self._data.add(self._price(value))
        if not self.is_ready:
            return 0.0
        series = [float(self._data[i]) for i in range(len(self._data))]  # newest first
        heads: list[float] = []
        if self._d > 0:
            series, heads = self.difference_series(self._d, series)
        self._two_step_fit(series)
        total = sum(self.ar_parameters[i] * series[i] for i in range(self._p))
        total += sum(self.ma_parameters[i] * self._residuals[self._q + i + 1] for i in range(self._q))
        total += self.intercept
        if self._d > 0:
            total = self.inverse_differenced_series([total, *series], heads)[0]
        return total

    def _two_step_fit(self, series: list[float]) -> None:
        self._residuals = []
        lags = self.lagged_series(self._p, series)
        fits = _fit(lags, series[self._p:], False)
        error = 0.0
        for i in range(len(series)):
            if i < self._p:
                self._residuals.append(0.0)
                continue
            residual = series[i] - float(np.dot(lags[i - self._p], fits))
            error += residual ** 2
            self._residuals.append(residual)
        self.ar_residual_error = error / (len(series) - self._p - 1)
        if self._q == 0:
            self.ar_parameters = [float(v) for v in fits]
            return
        lagged_errors = self.lagged_series(self._q, self._residuals)
        rows = [lags[i] + lagged_errors[i] for i in range(len(lagged_errors))]
        fits = _fit(rows, series[self._q:], self._intercept)
        parameters = fits[1:] if self._intercept else fits
        error = sum((series[i] - float(np.dot(rows[i - self._q], parameters))) ** 2
                    for i in range(self._q, len(series)))
        self.ma_residual_error = error / (len(series) - max(self._p, self._q) - 1)
        self.ar_parameters = [float(v) for v in parameters[:self._p]]
        self.ma_parameters = [float(v) for v in parameters[self._p:]]
        self.intercept = float(fits[0]) if self._intercept else 0.0

    # LEAN's PascalCase members
    ArParameters = property(lambda self: self.ar_parameters)
    MaParameters = property(lambda self: self.ma_parameters)
