"""Sandbox engine speed: a 15-year daily SMA crossover and a one-year minute run.

Each is timed in-process (engine only, data generation included) and as a full worker
process (what a backtest costs end to end). Baseline in the same run: a bare Python loop
computing the same crossover over the same bars with no engine at all — the floor a
Python event loop cannot beat. Prints wall time, bars per second and the ratio.

Usage: python benchmarks/backtest.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import deque
from datetime import date

from qcmcp.sandbox.engine import worker
from qcmcp.sandbox.engine.data import synthetic_daily, synthetic_minute

ALGORITHM = '''from AlgorithmImports import *

class SmaCross(QCAlgorithm):
    def initialize(self):
        self.set_start_date({start})
        self.set_end_date({end})
        self.set_cash(100000)
        self.spy = self.add_equity("SPY", Resolution.{resolution}).symbol
        self.fast = self.sma(self.spy, 10)
        self.slow = self.sma(self.spy, 30)

    def on_data(self, data):
        if not self.slow.is_ready:
            return
        if self.fast > self.slow and not self.portfolio.invested:
            self.set_holdings(self.spy, 1)
        elif self.fast < self.slow and self.portfolio.invested:
            self.liquidate(self.spy)
'''
CASES = {
    "daily, 15 years": ("2010, 1, 1", "2024, 12, 31", "DAILY", synthetic_daily, date(2010, 1, 1), date(2024, 12, 31)),
    "minute, 1 year": ("2023, 1, 1", "2023, 12, 31", "MINUTE", synthetic_minute, date(2023, 1, 1), date(2023, 12, 31)),
}


def baseline(closes: list[float]) -> int:
    """The same crossover with plain Python: two rolling means and a position flag."""
    fast, slow = deque(maxlen=10), deque(maxlen=30)
    invested, trades = False, 0
    for close in closes:
        fast.append(close)
        slow.append(close)
        if len(slow) == 30:
            above = sum(fast) / 10 > sum(slow) / 30
            if above != invested:
                invested, trades = above, trades + 1
    return trades


def timed(function, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for label, (start, end, resolution, loader, first, last) in CASES.items():
        job = {"files": {"main.py": ALGORITHM.format(start=start, end=end, resolution=resolution)}, "parameters": {}}
        outcome = worker.run(job, lambda message: None)  # warm caches; check it really ran
        assert "result" in outcome, outcome
        bars = len(loader("SPY", first, last))
        engine = timed(lambda: worker.run(job, lambda message: None), args.repeat)
        closes = [float(c) for c in loader("SPY", first, last).close]
        floor = timed(lambda: baseline(closes), args.repeat)
        process = timed(lambda: subprocess.run([sys.executable, "-m", "qcmcp.sandbox.engine.worker"], input=json.dumps(job),
                                               capture_output=True, text=True, check=True), 1)
        orders = outcome["result"]["statistics"]["Total Orders"]
        print(f"{label}: {bars:,} bars, {orders} orders")
        print(f"  engine in-process      {engine:7.3f} s   {bars / engine:12,.0f} bars/s")
        print(f"  worker process (cold)  {process:7.3f} s   (interpreter, imports and engine)")
        print(f"  baseline: bare loop    {floor:7.3f} s   {bars / floor:12,.0f} bars/s   engine/baseline {engine / floor:.1f}x")


if __name__ == "__main__":
    main()
