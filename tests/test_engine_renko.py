"""LEAN's timeless consolidators (engine/renko.py) against bricks and ranges worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from qcmcp.sandbox.engine.consolidators import RenkoBar
from qcmcp.sandbox.engine.renko import (
    DollarVolumeRenkoConsolidator,
    RangeConsolidator,
    RenkoConsolidator,
    VolumeRenkoConsolidator,
    typed_consolidator,
)
from qcmcp.sandbox.engine.types import Symbol, TradeBar

SPY = Symbol.create("SPY")
START = datetime(2013, 10, 7, 9, 30)


def bars(closes: list[float], volume: float = 100.0) -> list[TradeBar]:
    out = []
    for i, close in enumerate(closes):
        time = START + timedelta(minutes=i)
        out.append(TradeBar(SPY, time, time + timedelta(minutes=1), close, close, close, close, volume))
    return out


def collect(consolidator: object, data: list[TradeBar]) -> list:
    found: list = []
    consolidator.data_consolidated += lambda _, bar: found.append(bar)  # type: ignore[attr-defined]
    for bar in data:
        consolidator.update(bar)  # type: ignore[attr-defined]
    return found


def test_wicked_renko_bricks_follow_leans_rules() -> None:
    # First price 10.04 rounds to 10.0 (the nearest multiple of 1). Rising: a brick closes when the price is
    # beyond open + 1: 11.2 closes [10, 11] (low 9.6 kept as the wick), 12.5 closes [11, 12]. Falling back needs
    # the price below the last brick's open less a brick (11 - 1 = 10): 9.7 closes [11 -> 10] (its high the
    # 12.5 wick), then 8.9 closes [10 -> 9].
    bricks = collect(RenkoConsolidator(1), bars([10.04, 9.6, 11.2, 12.5, 11.5, 10.5, 9.7, 8.9]))
    assert [(b.open, b.high, b.low, b.close) for b in bricks] == [
        (10.0, 11.0, 9.6, 11.0), (11.0, 12.0, 11.0, 12.0), (11.0, 12.5, 10.0, 10.0), (10.0, 10.0, 9.0, 9.0)]
    assert all(type(b) is RenkoBar and b.type == 1 for b in bricks)
    assert bricks[0].time == START and bricks[0].end_time == START + timedelta(minutes=2)  # bar start times
    assert RenkoConsolidator.get_closest_multiple(10.5, 1) == 10.0  # C#'s Math.Round: half to even


def test_range_bars_are_range_ticks_high_and_chain_a_tick_apart() -> None:
    # Range 100 ticks of $0.01 = $1.00; the first open 100.3 rounds up to 101. 101.9 still fits [101, 101.9];
    # 102.2 exceeds 101 + 1: the bar closes at 102 and the next opens a tick above (102.01) and takes 102.2.
    ranges = collect(RangeConsolidator(100), bars([100.3, 101.9, 102.2, 103.5]))
    assert [(b.open, b.high, b.low, b.close) for b in ranges] == [(101.0, 102.0, 101.0, 102.0),
                                                                  (102.01, 103.01, 102.01, 103.01)]
    assert all(round(b.high - b.low, 2) == 1.0 for b in ranges)


def test_volume_renko_bars_hold_the_brick_of_volume() -> None:
    # 250 shares a bar, bricks of 600: bars 1-3 fill 600 (excess 150 rolls over), bars 4-5 bring 650 (excess 50).
    found = collect(VolumeRenkoConsolidator(600), bars([1, 2, 3, 4, 5], volume=250))
    assert [(b.volume, b.open, b.close) for b in found] == [(600, 1, 3), (600, 3, 5)]
    dollars = collect(DollarVolumeRenkoConsolidator(1000), bars([10, 10, 10, 10], volume=50))
    assert [b.volume for b in dollars] == [1000, 1000]  # $500 a bar


def test_typed_consolidate_picks_leans_consolidator() -> None:
    from qcmcp.sandbox.engine.renko import RangeBar, VolumeRenkoBar

    assert type(typed_consolidator(RenkoBar, 0.1)) is RenkoConsolidator
    assert type(typed_consolidator(VolumeRenkoBar, 1000)) is VolumeRenkoConsolidator
    assert typed_consolidator(RangeBar, 12).range == 12
    assert typed_consolidator(TradeBar, 10).count == 10
