"""LEAN's momentum, trend and volume indicators (engine/momentum_indicators.py, trend_indicators.py,
volume_indicators.py) against hand computations of a few bars, with LEAN's warm-up and IsReady rules."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from qcmcp.sandbox.engine import momentum_indicators as mo
from qcmcp.sandbox.engine import trend_indicators as ti
from qcmcp.sandbox.engine import volume_indicators as vo
from qcmcp.sandbox.engine.indicators import (
    AverageTrueRange,
    BollingerBands,
    Delay,
    MovingAverageConvergenceDivergence,
    MovingAverageType,
    RelativeStrengthIndex,
    moving_average,
)
from qcmcp.sandbox.engine.types import Symbol, TradeBar
from qcmcp.sandbox.engine.unsupported import UnsupportedFeature
from tests.engine_helpers import run

DAY = datetime(2013, 10, 7)
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "lean-data"
# (open, high, low, close, volume); true ranges 2, 2, 1.3, 2.2; typical prices 61/6, 67/6, 11.1, ...
BARS = [(10, 11, 9, 10.5, 100), (10.5, 12, 10, 11.5, 200), (11.5, 11.8, 10.5, 11, 150), (11, 13, 10.8, 12.8, 300)]
CLOSES = [1, 2, 4, 7, 11]


def bars(rows: list[tuple[float, ...]] = BARS) -> list[TradeBar]:
    return [TradeBar(Symbol.create("SPY"), DAY + timedelta(days=i), DAY + timedelta(days=i + 1), *row)
            for i, row in enumerate(rows)]


def feed(indicator, values):  # type: ignore[no-untyped-def]
    """The value and readiness after each input."""
    out = []
    for i, value in enumerate(values):
        if isinstance(value, TradeBar):
            indicator.update(value)
        else:
            indicator.update(DAY + timedelta(days=i), value)
        out.append((indicator.current.value, indicator.is_ready))
    return out


def values(indicator, inputs):  # type: ignore[no-untyped-def]
    return [v for v, _ in feed(indicator, inputs)]


def ready(indicator, inputs):  # type: ignore[no-untyped-def]
    return [r for _, r in feed(indicator, inputs)]


def test_momentum_and_rates_of_change_compare_with_the_first_value_until_the_window_is_full():
    # MOM(2) of 1, 2, 4, 7: 1-1, 2-1 (the first value while filling), 4-1, 7-2; ready after period + 1
    assert feed(mo.Momentum(2), CLOSES[:4]) == [(0, False), (1, False), (3, True), (5, True)]
    assert mo.Momentum(2).warm_up_period == 3 and mo.Momentum(2).name == "MOM(2)"
    assert values(mo.MomentumPercent(2), CLOSES[:4]) == [0, 100, 300, 250]
    assert mo.MomentumPercent(2).name == "MOMP(2)" and isinstance(mo.MomentumPercent(2), mo.RateOfChangePercent)
    assert values(mo.RateOfChangeRatio(2), CLOSES[:4]) == [0, 2, 4, 3.5]  # ROC + 1, 0 when the ROC is 0
    log = mo.LogReturn(2)  # ready when its window (of 2) is full: ln(2/1) then ln(4/1), ln(7/2)
    assert feed(log, CLOSES[:4]) == [(0, False), (pytest.approx(math.log(2)), True), (pytest.approx(math.log(4)), True),
                                     (pytest.approx(math.log(3.5)), True)]


def test_cmo_smooths_gains_and_losses_as_lean():
    # 1, 2, 4, 3, 5 with period 2: gains 1, 2 -> 3/2 = 1.5 at the third (100); then (1.5·1 + 0)/2, (0·1 + 1)/2:
    # 100·(0.75 - 0.5)/1.25 = 20; then (0.75 + 2)/2 = 1.375 and 0.5/2 = 0.25: 100·1.125/1.625
    assert feed(mo.ChandeMomentumOscillator(2), [1, 2, 4, 3, 5]) == [
        (0, False), (0, False), (100, True), (pytest.approx(20), True), (pytest.approx(100 * 1.125 / 1.625), True)]


def test_weighted_double_triple_hull_triangular_and_zero_lag_averages():
    assert values(ti.LinearWeightedMovingAverage(3), CLOSES[:4]) == [0, 0, 17 / 6, 31 / 6]
    # EMA(2) (k 2/3) of 1, 2, 4, 7, 11: -, 1.5, 19/6, 103/18, 499/54; its EMA from 1.5: -, 7/3, 124/27, 623/81;
    # that one's EMA: -, 187/54, 3053/486
    assert feed(ti.DoubleExponentialMovingAverage(2), CLOSES[:4]) == [
        (0, False), (3, False), (pytest.approx(2 * 19 / 6 - 7 / 3), True), (pytest.approx(2 * 103 / 18 - 124 / 27), True)]
    tema = ti.TripleExponentialMovingAverage(2)
    assert tema.warm_up_period == 4
    assert feed(tema, CLOSES[:4])[-1] == (pytest.approx(3 * 103 / 18 - 3 * 124 / 27 + 187 / 54), True)
    assert ready(tema, [11]) == [True]
    # HMA(4): LWMA(2) and LWMA(4) ready at the 4th: 2·6 - 4.5 = 7.5; 5th: 2·29/3 - 7.5; LWMA(2) of the two
    hma = ti.HullMovingAverage(4)
    assert hma.warm_up_period == 5
    assert feed(hma, CLOSES)[-2:] == [(0, False), (pytest.approx((2 * (58 / 3 - 7.5) + 7.5) / 3), True)]
    # TRIMA(4): SMA(3) of SMA(2): 1, 1.25, (1 + 1.5 + 3)/3, (1.5 + 3 + 5.5)/3
    assert feed(ti.TriangularMovingAverage(4), CLOSES[:4]) == [
        (1, False), (1.25, False), (pytest.approx(5.5 / 3), False), (pytest.approx(10 / 3), True)]
    # ZLEMA(3): lag 1; EMA(3) of 2+1, 4+2, 7+3 = SMA 19/3, then 15·0.5 + 19/6
    zlema = ti.ZeroLagExponentialMovingAverage(3)
    assert zlema.warm_up_period == 4
    assert feed(zlema, CLOSES) == [(0, False), (0, False), (0, False), (pytest.approx(19 / 3), True),
                                   (pytest.approx(7.5 + 19 / 6), True)]
    # Wilder's: the SMA while filling, then x/n + previous·(1 - 1/n)
    assert values(ti.WilderMovingAverage(2), [1, 2, 4]) == [1, 1.5, 2.75]


def test_kama_from_the_efficiency_ratio_as_lean():
    # KAMA(2) of 1, 2, 4, 3: the price until the third; ER 1 there (|4-1| = 1 + 2): 2 + (4-2)·(2/3)² ;
    # then ER |3-2| / (|4-2| + |3-4|) = 1/3, sc = (1/3·(2/3 - 2/31) + 2/31)²
    first = 2 + 2 * (2 / 3) ** 2
    sc = (1 / 3 * (2 / 3 - 2 / 31) + 2 / 31) ** 2
    assert feed(ti.KaufmanAdaptiveMovingAverage(2), [1, 2, 4, 3]) == [
        (1, False), (2, False), (pytest.approx(first), True), (pytest.approx((3 - first) * sc + first), True)]
    assert ti.KaufmanAdaptiveMovingAverage(10).name == "KAMA(10,2,30)"
    assert values(ti.KaufmanEfficiencyRatio(2), [1, 2, 4, 3]) == [1, 2, 1, pytest.approx(1 / 3)]


def test_true_range_natr_keltner_donchian_and_mid_prices():
    assert feed(ti.TrueRange(), bars()) == [(2, False), (2, True), (pytest.approx(1.3), True), (pytest.approx(2.2), True)]
    # NATR(2): the simple ATR while filling (2, 2, (2 + 1.3)/2 at the 3rd), then (1.65·1 + 2.2)/2 Wilder
    assert feed(ti.NormalizedAverageTrueRange(2), bars()) == [
        (pytest.approx(200 / 10.5), False), (pytest.approx(200 / 11.5), False), (pytest.approx(15), True),
        (pytest.approx(1.925 / 12.8 * 100), True)]
    kch = ti.KeltnerChannels(2, 2)
    assert kch.name == "KC(2,2)"
    feed(kch, bars()[:1])
    assert not kch.is_ready and kch.upper_band.current.value == 0
    feed(kch, bars()[1:2])  # middle (61/6 + 67/6)/2, simple ATR (2 + 2)/2
    assert kch.is_ready and kch.current.value == pytest.approx(64 / 6)
    assert kch.upper_band.current.value == pytest.approx(64 / 6 + 4) and kch.LowerBand.current.value == pytest.approx(
        64 / 6 - 4)
    assert kch.average_true_range.current.value == 2
    dch = ti.DonchianChannel(2)
    assert dch.name == "DCH(2,2)" and feed(dch, bars()[:3]) == [(10, False), (10.5, True), (11, True)]
    assert dch.upper_band.current.value == 12 and dch.lower_band.current.value == 10
    assert feed(ti.MidPoint(2), [1, 2, 4])[-1] == (3, True)
    assert feed(ti.MidPrice(2), bars()[:3])[-1] == (11, True)


def test_variance_chop_and_heikin_ashi():
    assert values(ti.Variance(3), [1, 2, 4, 7]) == [0, 0.25, pytest.approx(14 / 9), pytest.approx(38 / 9)]
    # CHOP(2): true ranges 2 (the first bar's high - low), 2, 1.3 over highs and lows of the last two bars
    assert feed(ti.ChoppinessIndex(2), bars()[:3]) == [
        (0, False), (pytest.approx(100 * math.log10(4 / 3) / math.log10(2)), True),
        (pytest.approx(100 * math.log10(3.3 / 2) / math.log10(2)), True)]
    ha = ti.HeikinAshi()
    feed(ha, bars()[:1])
    assert (ha.open.current.value, ha.close.current.value, ha.high.current.value, ha.low.current.value) == (
        10.25, 10.125, 11, 9) and not ha.is_ready
    feed(ha, bars()[1:2])
    assert (ha.Open.current.value, ha.close.current.value, ha.high.current.value, ha.low.current.value) == (
        10.1875, 11, 12, 10) and ha.is_ready and ha.volume.current.value == 200 and ha.current.value == 11


def test_ichimoku_parts_are_delayed_as_lean():
    rows = [(10, 11, 9, 10.5, 1), (10.5, 12, 10, 11.5, 1), (11.5, 11.8, 10.5, 11, 1), (11, 13, 10.8, 12.8, 1),
            (12.8, 13.2, 12, 12.2, 1), (12, 12.4, 11, 11.5, 1)]
    ich = ti.IchimokuKinkoHyo(2, 3, 3, 4, 2, 2)
    assert ich.warm_up_period == 6
    highs, lows = [r[1] for r in rows], [r[2] for r in rows]

    def mid(n: int, end: int) -> float:  # the mid of the n bars ending at bar ``end`` (1-based)
        return (max(highs[end - n:end]) + min(lows[end - n:end])) / 2

    assert ready(ich, bars(rows)) == [False] * 5 + [True]
    assert ich.tenkan.current.value == mid(2, 6) and ich.kijun.current.value == mid(3, 6)
    # Senkou A: the tenkan and kijun of two bars before; Senkou B: the 4-bar mid two bars before; Chikou: the close
    assert ich.senkou_a.current.value == pytest.approx((mid(2, 4) + mid(3, 4)) / 2)
    assert ich.senkou_b.current.value == pytest.approx(mid(4, 4))
    assert ich.chikou.current.value == 12.8 and ich.current.value == 11.5  # the close of bar 4


def test_parabolic_sar_follows_the_trend_and_reverses_as_lean():
    rows = BARS + [(12, 12.5, 9.0, 9.5, 1)]
    # Long from the 2nd bar (no lower low): SAR 9 (the first low), then 9 + 0.02·(12 - 9) = 9.06, 9.1188;
    # the 4th bar's new high raises the factor to 0.04; the 5th's low 9 ≤ 9.27405 reverses to the extreme 13
    assert values(ti.ParabolicStopAndReverse(), bars(rows)) == [
        10.5, 9, pytest.approx(9.06), pytest.approx(9.1188), 13]
    assert ti.ParabolicStopAndReverse().name == "PSAR(0.02,0.02,0.2)"


def test_cci_williams_r_aroon_bop_ao_and_fisher():
    # CCI(2): typical 61/6 and 67/6, their mean 64/6, mean deviation 0.5: 0.5 / (0.015 · 0.5)
    assert feed(mo.CommodityChannelIndex(2), bars()[:2]) == [(0, False), (pytest.approx(0.5 / 0.0075), True)]
    assert feed(mo.WilliamsPercentR(2), bars()[:2]) == [(0, False), (pytest.approx(-100 * 0.5 / 3), True)]
    aroon = mo.AroonOscillator(2, 2)  # 3-bar windows: highs 11, 12, 11.8 -> the high 1 bar back: 50; lows: 0
    assert feed(aroon, bars()) == [(100 - 100, False), (100 - 50, False), (50, True), (100, True)]
    assert aroon.aroon_up.current.value == 100 and aroon.AroonDown.current.value == 0
    assert values(mo.BalanceOfPower(), bars()[:1]) == [0.25]
    ao = mo.AwesomeOscillator(1, 2)
    assert ao.name == "AO(1,2,Simple)" and values(ao, bars()[:2]) == [0, 0.5]
    # FISH(2) of medians 10, 11, 11.15: x = 0.66·0.5 = 0.33, then 0.66·0.5 + 0.67·0.33
    x2, x3 = 0.33, 0.33 + (1 - 0.33) * 0.33
    y2 = 0.5 * math.log((1 + x2) / (1 - x2))
    y3 = 0.5 * math.log((1 + x3) / (1 - x3)) + 0.5 * y2
    assert feed(mo.FisherTransform(2), bars()[:3]) == [(0, False), (pytest.approx(y2), True), (pytest.approx(y3), True)]


def test_apo_ppo_trix_and_dpo():
    apo = mo.AbsolutePriceOscillator(2, 3)  # simple averages; the signal is the slow period's
    assert ready(apo, CLOSES) == [False] * 4 + [True]
    assert apo.current.value == pytest.approx(9 - 22 / 3) and apo.name == "APO(2,3)"
    ppo = mo.PercentagePriceOscillator(2, 3)
    assert values(ppo, CLOSES)[-1] == pytest.approx(100 * (9 - 22 / 3) / (22 / 3))
    trix = mo.Trix(2)  # the 1-period percent ROC of the triple EMA 187/54 -> 3053/486
    assert trix.warm_up_period == 5
    assert feed(trix, CLOSES)[-2:] == [(0, False), (pytest.approx(100 * 1370 / 1683), True)]
    # DPO(3): the price 2 samples ago (the first while filling) - SMA(3)
    assert feed(mo.DetrendedPriceOscillator(3), [1, 2, 4, 7]) == [
        (0, False), (-0.5, False), (pytest.approx(1 - 7 / 3), True), (pytest.approx(2 - 13 / 3), True)]


def test_adx_adxr_and_ultimate_oscillator_by_hand():
    rows = BARS + [(12.8, 13.0, 10.0, 10.2, 100)]
    adx = mo.AverageDirectionalIndex(2)
    # +DM 1, 0, 1.2, 0; -DM 0, 0, 0, 0.8; TR 2, 1.3, 2.2, 3. Smoothed from the 3rd bar: TR 3.3, +DM 1 -> DX 100;
    # 4th: 3.3 + 2.2 - 1.65, 1 + 1.2 - 0.5 -> DX 100 (ready); 5th: TR 4.925, +DM 0.85, -DM 0.8 -> DX 100·0.05/1.65
    assert feed(adx, bars(rows)) == [(50, False), (50, False), (100, False), (100, True),
                                     (pytest.approx(50 + 0.5 * 100 * 0.05 / 1.65), True)]
    assert adx.positive_directional_index.current.value == pytest.approx(85 / 4.925)
    assert adx.NegativeDirectionalIndex.current.value == pytest.approx(80 / 4.925)
    adxr = mo.AverageDirectionalMovementIndexRating(2)
    assert adxr.warm_up_period == 5
    assert feed(adxr, bars(rows))[-2:] == [(50, False), (pytest.approx((50 + 50 * 0.05 / 1.65 + 100) / 2), True)]
    # ULTOSC(1, 1, 2): buying pressure 1.5, 0.5 over true ranges 2, 1.3
    ult = mo.UltimateOscillator(1, 1, 2)
    assert feed(ult, bars()[:3]) == [(50, False), (50, False),
                                     (pytest.approx(100 * (6 * 0.5 / 1.3 + 2 / 3.3) / 7), True)]


def test_volume_indicators_by_hand():
    assert feed(vo.OnBalanceVolume(), bars()) == [(100, True), (300, True), (150, True), (450, True)]
    assert values(vo.AccumulationDistribution(), bars()[:2]) == [50, 150]
    assert feed(vo.AccumulationDistributionOscillator(1, 2), bars()[:2]) == [(0, False), (50, True)]
    # MFI(2): flows 100·61/6 (up from 0), 200·67/6 (up), 150·11.1 (down)
    mfi = feed(vo.MoneyFlowIndex(2), bars()[:3])
    assert mfi[:2] == [(100, False), (100, True)]
    assert mfi[2] == (pytest.approx(100 * (200 * 67 / 6) / (200 * 67 / 6 + 150 * 11.1)), True)
    assert values(vo.VolumeWeightedMovingAverage(2), bars()[:2]) == [10.5, pytest.approx(3350 / 300)]
    vwap = vo.VolumeWeightedAveragePriceIndicator(2)  # (O + H + L + C)/4 weighted by volume
    assert feed(vwap, bars()[:2]) == [(10.125, False), (pytest.approx((1012.5 + 2200) / 300), True)]


def test_intraday_vwap_restarts_each_day_and_skips_fill_forward_bars():
    symbol = Symbol.create("SPY")
    minute = datetime(2013, 10, 7, 9, 31)
    first = TradeBar(symbol, minute - timedelta(minutes=1), minute, *BARS[0])
    second = TradeBar(symbol, minute, minute + timedelta(minutes=1), *BARS[1])
    filled = TradeBar(symbol, minute + timedelta(minutes=1), minute + timedelta(minutes=2), 1, 100, 1, 50, 10 ** 6)
    filled.__class__ = type("FilledBar", (TradeBar,), {"is_fill_forward": True})
    vwap = vo.IntradayVwap()
    for bar in (first, second, filled):
        vwap.update(bar)
    assert vwap.is_ready and vwap.current.value == pytest.approx((100 * 61 / 6 + 200 * 67 / 6) / 300)
    next_day = TradeBar(symbol, minute + timedelta(days=1), minute + timedelta(days=1, minutes=1), *BARS[2])
    vwap.update(next_day)
    assert vwap.current.value == pytest.approx(11.1)


def test_moving_average_types_and_lean_delay():
    assert isinstance(moving_average(MovingAverageType.HULL, 4), ti.HullMovingAverage)
    assert isinstance(moving_average(MovingAverageType.WILDERS, 4), ti.WilderMovingAverage)
    assert values(mo.CommodityChannelIndex(2, MovingAverageType.EXPONENTIAL), bars()[:1]) == [0]
    with pytest.raises(UnsupportedFeature, match="MovingAverageType.Alma"):
        moving_average(MovingAverageType.ALMA, 4)
    assert values(Delay(2), [1, 2, 4, 7]) == [1, 1, 1, 2]  # LEAN's Delay: the first value until it has one


def test_rsi_and_atr_average_with_any_moving_average_type_as_lean():
    # RSI(2) of 1, 2, 4, 3: 100 while the average loss is 0; Wilder gains 1, 1.5, 0.75 and losses 0, 0, 0.5
    assert feed(RelativeStrengthIndex(2), [1, 2, 4, 3]) == [(100, False), (100, False), (100, True),
                                                             (pytest.approx(100 - 100 / 2.5), True)]
    # simple averages of the last two: gains (2 + 0)/2, losses (0 + 1)/2
    assert values(RelativeStrengthIndex(2, MovingAverageType.SIMPLE), [1, 2, 4, 3])[-1] == pytest.approx(100 - 100 / 3)
    # ATR(2) of true ranges 2 (the first bar's high - low), 2, 1.3, 2.2: Wilders by default, ready at the 2nd bar
    assert feed(AverageTrueRange(2), bars()) == [(2, False), (2, True), (pytest.approx(1.65), True),
                                                 (pytest.approx(1.925), True)]
    assert values(AverageTrueRange(2, MovingAverageType.SIMPLE), bars())[2:] == [pytest.approx(1.65), pytest.approx(1.75)]
    assert AverageTrueRange(2).true_range.current.value == 0


def test_bollinger_parts_and_the_macd_histogram_are_indicators_as_lean():
    bb = BollingerBands(2, 1)  # 1, 3: middle 2, population deviation 1; the value is the price
    assert feed(bb, [1, 3]) == [(1, False), (3, True)]
    assert (bb.upper_band.current.value, bb.lower_band.current.value, bb.middle_band.current.value) == (3, 1, 2)
    assert bb.band_width.current.value == 100 and bb.PercentB.current.value == 1 and bb.price.current.value == 3
    assert values(bb, [3, 3])[-1] == 3  # a zero deviation once ready keeps the last value (LEAN's MathError)
    macd = MovingAverageConvergenceDivergence(2, 3, 2, MovingAverageType.SIMPLE)
    feed(macd, [1, 2, 4, 7])  # macd 3 - 7/3, 5.5 - 13/3 from the 3rd; signal their mean
    assert macd.is_ready and macd.histogram.is_ready
    assert macd.histogram.current.value == pytest.approx((5.5 - 13 / 3) - ((3 - 7 / 3) + (5.5 - 13 / 3)) / 2)


@pytest.mark.skipif(not DATA.is_dir(), reason="LEAN's sample data is not next to the repository")
def test_the_helpers_register_leans_indicators_on_the_symbols_data():
    source = '''from AlgorithmImports import *

class Helpers(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 31)
        spy = self.add_equity("SPY", Resolution.DAILY).symbol
        self.add_equity("AAPL", Resolution.DAILY)
        self.atr = self.atr(spy, 3)
        self.beta = self.b("AAPL", spy, 5)
        self.items = [self.mom(spy, 3), self.MOMP(spy, 3), self.adx(spy, 3), self.aroon(spy, 3, 4),
                      self.kch(spy, 5, 2, MovingAverageType.EXPONENTIAL), self.vwap(spy), self.vwap(spy, 3),
                      self.ichimoku(spy, 2, 3, 3, 4, 2, 2), self.heikin_ashi(spy), self.kama(spy, 3, Resolution.DAILY),
                      self.dch(spy, 3), self.psar(spy), self.obv(spy), self.cci(spy, 4)]
        self.lows = self.kama(spy, 2, Resolution.DAILY, Field.LOW)  # the shorter overload with a selector
        self.rsi_low = self.rsi(spy, 2, Resolution.DAILY, Field.LOW)
        self.mine = MomentumPercent(3)
        self.register_indicator(spy, self.mine, Resolution.DAILY)
        self.closes, self.bars = [], []

    def on_data(self, data):
        self.bars.append(data["SPY"])
        ranges = [b.high - b.low if i == 0 else max(b.high - b.low, abs(b.high - self.bars[i - 1].close),
                  abs(b.low - self.bars[i - 1].close)) for i, b in enumerate(self.bars)]
        if len(ranges) >= 3:  # LEAN's ATR helper: a simple average of the true ranges
            self.debug(f"ATR {abs(self.atr.current.value - sum(ranges[-3:]) / 3) < 1e-9}")
        self.closes.append(data["SPY"].close)
        if len(self.closes) > 3:
            expected = 100 * (self.closes[-1] - self.closes[-4]) / self.closes[-4]
            self.debug(f"CHECK {abs(self.mine.current.value - expected) < 1e-9} "
                       f"{abs(self.items[0].current.value - (self.closes[-1] - self.closes[-4])) < 1e-9}")

    def on_end_of_algorithm(self):
        self.debug("READY " + " ".join(str(i.is_ready) for i in self.items))
        self.debug(f"BETA {self.beta.is_ready} {self.beta.current.value != 0}")
        self.debug(f"SELECTED {self.lows.selector is Field.LOW} {self.rsi_low.selector is Field.LOW}")
        self.debug("PARTS %s %s %s" % (self.items[2].positive_directional_index.is_ready,
                                       self.items[3].aroon_up.is_ready, self.items[4].upper_band.current.value > 0))
'''
    logs = run(source, DATA)["result"]["logs"]
    checks = [line for line in logs if "CHECK" in line]
    assert len(checks) > 10 and all(line.endswith("CHECK True True") for line in checks)
    assert any(line.endswith("READY " + " ".join(["True"] * 14)) for line in logs)
    assert any(line.endswith("PARTS True True True") for line in logs)
    atr = [line for line in logs if " ATR " in line]
    assert len(atr) > 10 and all(line.endswith("ATR True") for line in atr)
    assert any(line.endswith("BETA True True") for line in logs)
    assert any(line.endswith("SELECTED True True") for line in logs)
