"""LEAN's risk-free interest rate models (engine/interest_rates.py): the algorithm's model gives the statistics'
risk-free rate, and the default provider reads the primary credit rate file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.engine_helpers import run, sessions, write_daily

SOURCE = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 1)
        self.set_end_date(2013, 10, 31)
        self.add_equity("SPY", Resolution.DAILY)
        provider = self.risk_free_interest_rate_model
        self.debug(f"PROVIDER {provider.get_interest_rate(datetime(2008, 10, 31)):.4f} "
                   f"{provider.get_interest_rate(datetime(2020, 3, 15)):.4f} "
                   f"{provider.get_risk_free_rate(datetime(2020, 3, 15), datetime(2020, 3, 16)):.4f}")
        rate = self.get_parameter("rate")
        if rate == "func":
            self.set_risk_free_interest_rate_model(FuncRiskFreeRateInterestRateModel(lambda moment: 0.05))
        elif rate:
            self.set_risk_free_interest_rate_model(ConstantRiskFreeRateInterestRateModel(float(rate)))

    def on_data(self, data):
        if not self.portfolio.invested:
            self.set_holdings("SPY", 1)
'''


def test_the_statistics_take_the_risk_free_rate_from_the_algorithms_model(tmp_path: Path) -> None:
    # Closes alternate up and down so the daily returns vary. Sharpe = (annual performance − rf) / annual
    # standard deviation: between rf 0 and rf 5 % it falls by exactly 0.05 / annual standard deviation, and a
    # Python function returning 0.05 on every date is the same model as the constant one.
    days = sessions(date(2013, 9, 20), 35)
    closes = [100.0 + (i % 3) * 1.5 + i * 0.1 for i in range(len(days))]
    write_daily(tmp_path, "SPY", [(d, c, c + 1, c - 1, c) for d, c in zip(days, closes, strict=True)])
    results = {rate: run(SOURCE, tmp_path, {"rate": rate})["result"] for rate in ("0", "0.05", "func")}
    stats = {rate: result["totalPerformance"]["portfolioStatistics"] for rate, result in results.items()}
    deviation = stats["0"]["annualStandardDeviation"]
    assert deviation > 0
    assert stats["0"]["sharpeRatio"] - stats["0.05"]["sharpeRatio"] == pytest.approx(0.05 / deviation, rel=1e-9)
    assert stats["func"]["sharpeRatio"] == pytest.approx(stats["0.05"]["sharpeRatio"], rel=1e-12)
    # the default provider: 1.25 % from 30 Oct 2008, 1.75 % from 4 Mar 2020 and 0.25 % from 16 Mar 2020
    assert "PROVIDER 0.0125 0.0175 0.0100" in " ".join(results["0"]["logs"])
