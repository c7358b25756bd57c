"""LEAN's MarketImpactSlippageModel (engine/market_impact.py) against a hand computation of its formula, with
.NET's Random(50) (engine/csharp_random.py, checked against .NET elsewhere) for its noise and fraction."""

from __future__ import annotations

import math
import statistics
from datetime import date
from pathlib import Path

import pytest

from qcmcp.sandbox.engine.csharp_random import Random
from tests.engine_helpers import run, sessions, write_daily


def test_the_slippage_of_a_market_order_is_lean_market_impact(tmp_path: Path) -> None:
    # 45 weekdays to 11 Oct 2013, closes 100 + 3·sin(i) (stored to 4 decimals), volume 1,000,000 a day. The order
    # for 1,000 shares placed on 7 Oct fills on 8 Oct, when the model's first call reads the daily history to then
    # through a one-day consolidator, which holds back the last bar (LEAN emits a day when the next one comes):
    # sigma is the sample standard deviation of the returns of the closes to 7 Oct, the average volume that of
    # the last 10 volumes. Execution time 0.075 s and impact time 0.075 s + 30 min, in 6.5-hour trading days.
    days = sessions(date(2013, 8, 12), 45)
    closes = [100 + 3 * math.sin(i) for i in range(len(days))]
    write_daily(tmp_path, "SPY", [(d, c, c + 1, c - 1, c) for d, c in zip(days, closes, strict=True)])
    source = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.spy = self.add_equity("SPY", Resolution.DAILY)
        self.spy.set_slippage_model(MarketImpactSlippageModel(self))

    def on_data(self, data):
        if not self.transactions.get_orders():
            self.market_order("SPY", 1000)

    def on_order_event(self, event):
        if event.status == OrderStatus.FILLED:
            self.debug(f"FILL {self.time:%m-%d} {self.spy.price!r} {event.fill_price!r}")
'''
    logs = " ".join(run(source, tmp_path)["result"]["logs"])
    when, price, fill = logs.split("FILL ")[1].split()[:3]
    known = [round(c, 4) for d, c in zip(days, closes, strict=True)
             if d <= date(2013, 10, 7) and d != date(2013, 9, 2)]  # Labor Day is no session
    returns = [known[i] / known[i - 1] - 1 for i in range(1, len(known))][-251:]
    sigma = statistics.stdev(returns)
    execution = 0.075 / 86400 / (6.5 / 24)
    impact = execution + 1800 / 86400 / (6.5 / 24)
    nu = 1000 / execution / 1_000_000
    random = Random(50)

    def gaussian() -> float:
        first, second = 1 - random.next_double(), 1 - random.next_double()
        return math.sqrt(-2 * math.log(first)) * math.cos(2 * math.pi * second)

    noise = sigma * math.sqrt(impact)
    permanent = sigma * execution * 0.314 * nu ** 0.891 + gaussian() * noise
    temporary = sigma * 0.142 * nu ** 0.6 + gaussian() * noise
    slippage = max(0.0, min((temporary + permanent / 2) * random.next_double(), 1.0)) * float(price)
    assert when == "10-08"
    assert float(fill) == pytest.approx(float(price) + slippage, rel=1e-12)
    assert slippage > 0
