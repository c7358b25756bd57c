"""LEAN's ARIMA indicator (engine/time_series_indicators.py) against closed-form least squares by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from qcmcp.sandbox.engine.time_series_indicators import AutoRegressiveIntegratedMovingAverage, TimeSeriesIndicator

VALUES = [10.0, 12.0, 11.0, 15.0, 14.0, 18.0]


def _feed(indicator: AutoRegressiveIntegratedMovingAverage, values: list[float]) -> list[float]:
    start = datetime(2013, 10, 7)
    return [indicator.update(start + timedelta(days=i), v) and indicator.current.value for i, v in enumerate(values)]


def test_ar1_is_the_least_squares_slope_over_the_newest_first_window() -> None:
    # LEAN fits the window newest first: x[t] on x[t−1] (the next newer value), no intercept, so φ = Σ x[t]·x[t−1]
    # / Σ x[t−1]² over t = 1..3, and the forecast is φ times the newest value. Not ready before 4 values.
    arima = AutoRegressiveIntegratedMovingAverage(1, 0, 0, 4)
    out = _feed(arima, VALUES[:5])
    assert out[:3] == [False, False, False] and arima.is_ready
    window = list(reversed(VALUES[1:5]))  # 14, 15, 11, 12
    phi = sum(window[t] * window[t - 1] for t in range(1, 4)) / sum(window[t - 1] ** 2 for t in range(1, 4))
    assert arima.current.value == pytest.approx(phi * window[0], rel=1e-12)
    assert arima.ar_parameters == pytest.approx([phi], rel=1e-12)


def test_arima_110_fits_the_differences_and_adds_the_forecast_change_to_the_newest_value() -> None:
    # d = 1: the newest-first differences 18−14, 14−15, 15−11, 11−12, 12−10; φ by least squares on them as above;
    # the forecast is the newest value plus φ times the newest difference (LEAN's InverseDifferencedSeries).
    arima = AutoRegressiveIntegratedMovingAverage(1, 1, 0, 6)
    _feed(arima, VALUES)
    window = list(reversed(VALUES))
    diffs = [window[i] - window[i + 1] for i in range(len(window) - 1)]
    phi = sum(diffs[t] * diffs[t - 1] for t in range(1, len(diffs))) / \
        sum(diffs[t - 1] ** 2 for t in range(1, len(diffs)))
    assert arima.current.value == pytest.approx(window[0] + phi * diffs[0], rel=1e-12)
    series, heads = TimeSeriesIndicator.difference_series(1, window)
    assert series == diffs and heads == [window[-1]]
    assert TimeSeriesIndicator.inverse_differenced_series(series, heads) == pytest.approx(window, rel=1e-12)


def test_arima_rejects_lean_s_invalid_orders() -> None:
    with pytest.raises(ValueError, match="arOrder"):
        AutoRegressiveIntegratedMovingAverage(0, 1, 1, 10)
    with pytest.raises(ValueError, match="Period must exceed"):
        AutoRegressiveIntegratedMovingAverage(3, 0, 1, 2)
