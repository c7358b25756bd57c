"""LEAN's PythonIndicator (engine/python_indicator.py) over minute bars the test writes, against the engine's SMA
and hand computations."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.engine_helpers import run, write_minute

SOURCE = '''from AlgorithmImports import *
from collections import deque

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 8)
        self.set_end_date(2013, 10, 8)
        self.add_equity("SPY", Resolution.MINUTE)
        self.plain, self.warm, self.duck = Mean("plain", 3), WarmMean("warm", 3), Duck(3)
        self.sma = self.sma("SPY", 3)
        for indicator in (self.plain, self.warm, self.duck):
            self.register_indicator("SPY", indicator, Resolution.MINUTE)
            self.warm_up_indicator("SPY", indicator, Resolution.MINUTE)
        self.debug(f"WARM {self.plain.samples} {self.plain.is_ready} {self.plain.warm_up_period} "
                   f"{self.warm.samples} {self.warm.is_ready} {self.duck.samples} {self.duck.value}")
        self.range_sma = IndicatorExtensions.sma(self.warm, 2)

    def on_data(self, data):
        self.debug(f"AT {self.time:%H:%M} {self.plain.current.value:.4f} {self.warm.current.value:.4f} "
                   f"{self.duck.value:.4f} {self.sma.current.value:.4f} {self.range_sma.current.value:.4f}")

class Mean(PythonIndicator):
    def __init__(self, name, period):
        self.name, self.value, self._queue = name, 0, deque(maxlen=period)  # no super().__init__(), as in LEAN

    def update(self, input):
        self._queue.append(input.value)
        self.value = sum(self._queue) / len(self._queue)
        return len(self._queue) == self._queue.maxlen

class WarmMean(Mean):
    def __init__(self, name, period):
        super().__init__(name, period)
        self.warm_up_period = period

class Duck:
    def __init__(self, period):
        self.name, self.value, self.is_ready, self.samples = "duck", 0, False, 0
        self.warm_up_period, self._queue = period, deque(maxlen=period)

    def update(self, input):
        self.samples += 1
        self._queue.append(input.value)
        self.value = sum(self._queue) / len(self._queue)
        self.is_ready = len(self._queue) == self._queue.maxlen
        return self.is_ready
'''


def test_python_indicators_warm_up_register_and_compose_as_in_lean(tmp_path: Path) -> None:
    # Oct 7 closes 10, 11, 12 (the warm-up history), Oct 8 closes 20, 21, 22. A PythonIndicator without a
    # warm-up period is not warmed up (LEAN skips it); the others take the last 3 closes of Oct 7 (mean 11).
    write_minute(tmp_path, "SPY", date(2013, 10, 7), [10.0, 11.0, 12.0])
    write_minute(tmp_path, "SPY", date(2013, 10, 8), [20.0, 21.0, 22.0])
    logs = " ".join(run(SOURCE, tmp_path)["result"]["logs"])
    assert "WARM 0 False 0 3 True 3 11.0" in logs
    # 9:31: plain has 20 only (20); warm and duck 11, 12, 20 -> 14.3333; the engine's SMA (not warmed up) 20;
    # the SMA of warm's values from its creation on: 14.3333, then at 9:33 (17.6667 + 21) / 2 = 19.3333.
    assert "AT 09:31 20.0000 14.3333 14.3333 20.0000 14.3333" in logs
    assert "AT 09:33 21.0000 21.0000 21.0000 21.0000 19.3333" in logs
