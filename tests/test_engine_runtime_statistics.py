"""LEAN's runtime statistics (engine/runtime_statistics.py): ``statistics.summary`` during the run and
``set_summary_statistic``, over minute bars the test writes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.engine_helpers import run, write_minute


def test_the_summary_counts_orders_so_far_and_keeps_custom_statistics(tmp_path: Path) -> None:
    # Two 100-share market orders at $100 (9:31) and $102 (9:33): after the first fill the summary says 1 order
    # and $1 of fees (IB's minimum); the custom statistic set then is in the summary and the final statistics.
    write_minute(tmp_path, "SPY", date(2013, 10, 7), [100.0, 101.0, 102.0, 103.0])
    source = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.add_equity("SPY", Resolution.MINUTE)

    def on_data(self, data):
        if self.time.minute in (31, 33):
            self.market_order("SPY", 100)

    def on_order_event(self, event):
        if event.status == OrderStatus.FILLED:
            summary = self.statistics.summary
            self.debug(f"NOW {summary[PerformanceMetrics.TOTAL_ORDERS]} {summary['Total Fees']} "
                       f"{'Fills' in summary} {len([kvp.key for kvp in summary])}")
            self.set_summary_statistic("Fills", self.transactions.orders_count)
'''
    outcome = run(source, tmp_path)["result"]
    logs = " ".join(outcome["logs"])
    assert "NOW 1 $1.00 False 25" in logs and "NOW 2 $2.00 True 26" in logs
    assert outcome["statistics"]["Fills"] == "2" and outcome["statistics"]["Total Orders"] == "2"
