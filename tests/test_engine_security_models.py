"""Models set on a security from Python: LEAN's SecurityDataFilter, over a data folder the test writes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.engine_helpers import run, write_minute


def test_a_data_filter_drops_bars_before_the_security_and_on_data_see_them(tmp_path: Path) -> None:
    # Ten minute bars closing 100..109; the filter rejects the bars that start at or after 9:33 and those
    # closing at 101: on_data sees the 9:30 and 9:32 bars only, and the price stays the last one let through.
    write_minute(tmp_path, "SPY", date(2013, 10, 7), [100.0 + i for i in range(10)])
    source = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.add_equity("SPY", Resolution.MINUTE).set_data_filter(Cutoff())
        self.seen = []

    def on_data(self, data):
        self.seen.append(f"{data['SPY'].time:%H:%M}")

    def on_end_of_algorithm(self):
        self.debug(f"SEEN {self.seen} {self.securities['SPY'].price}")

class Cutoff(SecurityDataFilter):
    def filter(self, vehicle, data):
        return data.time < datetime(2013, 10, 7, 9, 33) and data.close != 101
'''
    logs = " ".join(run(source, tmp_path)["result"]["logs"])
    assert "SEEN ['09:30', '09:32'] 102.0" in logs
