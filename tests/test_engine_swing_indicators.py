"""LEAN's Sum, MassIndex, Wilder swing indexes and Beta (engine/swing_indicators.py) against hand computations."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from qcmcp.sandbox.engine.swing_indicators import (
    Beta,
    MassIndex,
    Sum,
    WilderAccumulativeSwingIndex,
    WilderSwingIndex,
)
from qcmcp.sandbox.engine.types import Symbol, TradeBar

DAY = datetime(2013, 10, 7)


def bar(ticker: str, i: int, o: float, h: float, lo: float, c: float) -> TradeBar:
    return TradeBar(Symbol.create(ticker), DAY + timedelta(days=i), DAY + timedelta(days=i + 1), o, h, lo, c, 1000)


def test_swing_index_by_hand() -> None:
    # Previous O 10 C 11; current O 11.5 H 13 L 11 C 12.5, limit move 3:
    # N = (12.5-11) + 0.5(12.5-11.5) + 0.25(11-10) = 2.25; |H-Cp| = 2 is the largest of (2, 0, 2) (first wins):
    # R = 2 - |0.5(11-11)| + |0.25(11-10)| = 2.25; K = max(|2|, |0|) = 2; SI = 50 · (2.25/2.25) · (2/3) = 33.33.
    swing, accumulative = WilderSwingIndex(3), WilderAccumulativeSwingIndex(3)
    for indicator in (swing, accumulative):
        indicator.update(bar("SPY", 0, 10, 11, 9.5, 11))
        assert not indicator.is_ready and indicator.current.value == 0
        indicator.update(bar("SPY", 1, 11.5, 13, 11, 12.5))
        assert indicator.is_ready
    assert swing.current.value == pytest.approx(100 / 3)
    assert accumulative.current.value == pytest.approx(100 / 3)
    accumulative.update(bar("SPY", 2, 12.5, 12.5, 12.5, 12.5))  # N = R = 0.25, K = 0: SI 0
    assert accumulative.current.value == pytest.approx(100 / 3)


def test_sum_and_mass_index_warm_up() -> None:
    total = Sum(3)
    for value in (1, 2, 3, 4):
        total.update(DAY, value)
    assert total.is_ready and total.current.value == 9
    # EMA(2) of a constant range is the range, so every ratio is 1: the sum of 3 ratios is 3 once ready, after
    # 2·(2-1) + 3 = 5 bars; until then LEAN reports the sum period.
    mass = MassIndex(2, 3)
    values = []
    for i in range(6):
        mass.update(bar("SPY", i, 10, 11, 9, 10))
        values.append((mass.is_ready, mass.current.value))
    assert mass.warm_up_period == 5
    assert values[:4] == [(False, 3.0)] * 4 and values[4:] == [(True, 3.0), (True, 3.0)]


def test_beta_is_the_covariance_over_the_reference_variance() -> None:
    # The target moves twice the reference's daily return: beta 2, once 3 returns of both are in.
    beta = Beta("B", 3, "AIG", "SPY")
    reference, target = [100.0, 101.0, 99.0, 102.0, 103.0], [50.0]
    for before, after in pairwise(reference):
        target.append(target[-1] * (1 + 2 * (after / before - 1)))
    beta.update(bar("SPY", 0, 1, 1, 1, 1))  # LEAN's first sample only sets the resolution
    for i, (r, t) in enumerate(zip(reference, target, strict=True)):
        beta.update(bar("SPY", i, r, r, r, r))
        beta.update(bar("AIG", i, t, t, t, t))
    assert beta.is_ready
    assert beta.current.value == pytest.approx(2.0)
