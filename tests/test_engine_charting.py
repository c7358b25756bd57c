"""LEAN's charting objects: a Chart of declared series (add_chart) keeps each series' type and unit in the
backtest's charts, and points come from plot or from series.add_point, as the cloud shows them."""

from __future__ import annotations

from pathlib import Path

from tests.engine_helpers import run

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "lean-data"

SOURCE = '''from AlgorithmImports import *
from System.Drawing import Color

class Charting(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
        chart = Chart("Trade Plot")
        chart.add_series(Series("Buy", SeriesType.SCATTER, 0))
        chart.add_series(Series("Price", SeriesType.LINE, "$", Color.RED))
        self.percent = Series("Share", SeriesType.BAR, "%")
        chart.add_series(self.percent)
        self.add_chart(chart)
        self.sma = self.sma(self.spy, 2)

    def on_data(self, data):
        self.plot("Trade Plot", "Price", data[self.spy].close)
        self.percent.add_point(self.time, 50)
        if self.sma.is_ready:
            self.plot("Trade Plot", "Buy", self.sma)
'''


def test_declared_series_keep_their_type_and_unit_and_get_their_points():
    outcome = run(SOURCE, DATA)
    assert "result" in outcome, outcome
    chart = outcome["result"]["charts"]["Trade Plot"]["series"]
    assert [chart[name]["seriesType"] for name in ("Buy", "Price", "Share")] == [1, 0, 3]
    assert chart["Share"]["unit"] == "%" and chart["Price"]["unit"] == "$"
    assert [point[1] for point in chart["Share"]["values"]] == [50.0] * 5  # one a day, Monday to Friday
    closes = [point[1] for point in chart["Price"]["values"]]
    assert len(closes) == 5 and len(chart["Buy"]["values"]) == 4  # the 2-day SMA is ready from the second day
    assert abs(chart["Buy"]["values"][0][1] - (closes[0] + closes[1]) / 2) < 1e-9


def test_plot_indicator_plots_before_ready_unless_told_to_wait():
    """LEAN's PlotIndicator(chart, indicators) is PlotIndicator(chart, false, indicators): it plots from the first
    update; with wait_for_ready True only once ready (the flag was ignored: it always waited)."""
    source = '''from AlgorithmImports import *

class Plots(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        spy = self.add_equity("SPY", Resolution.DAILY).symbol
        self.plot_indicator("Early", self.sma(spy, 3))
        self.plot_indicator("Ready", True, self.sma(spy, 3))
'''
    charts = run(source, DATA)["result"]["charts"]
    [early], [ready] = ([series["values"] for series in charts[name]["series"].values()] for name in ("Early", "Ready"))
    assert len(early) == 5 and len(ready) == 3 and early[2:] == ready
