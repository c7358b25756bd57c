"""LEAN's volatility models (engine/volatility.py): each data point updates the security's model, and a Raw
equity's warm-up after a split reads ScaledRaw history — checked against LEAN's sample AAPL files by hand."""

from __future__ import annotations

import math
import statistics
import zipfile
from datetime import date
from pathlib import Path

import pytest

from tests.engine_helpers import run, sessions, write_daily

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "lean-data"


def test_standard_deviation_of_returns_and_relative_standard_deviation_models(tmp_path: Path) -> None:
    # Daily closes 100, 102, 101, 105, 104, 108: StandardDeviationOfReturnsVolatilityModel(3) keeps the last 3
    # daily returns and gives their sample standard deviation × √252; RelativeStandardDeviationVolatilityModel
    # (1 day, 3) the sample standard deviation of the last 3 closes over their mean. A security without a model
    # has VolatilityModel.NULL (volatility 0).
    closes = [100.0, 102.0, 101.0, 105.0, 104.0, 108.0]
    days = sessions(date(2013, 10, 7), len(closes))
    write_daily(tmp_path, "SPY", [(d, c, c, c, c) for d, c in zip(days, closes, strict=True)])
    write_daily(tmp_path, "IBM", [(d, c, c, c, c) for d, c in zip(days, closes, strict=True)])
    write_daily(tmp_path, "AAPL", [(d, c, c, c, c) for d, c in zip(days, closes, strict=True)])
    source = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 14)
        self.add_equity("SPY", Resolution.DAILY).set_volatility_model(StandardDeviationOfReturnsVolatilityModel(3))
        self.add_equity("IBM", Resolution.DAILY).volatility_model = \\
            RelativeStandardDeviationVolatilityModel(timedelta(days=1), 3)
        self.add_equity("AAPL", Resolution.DAILY)

    def on_end_of_algorithm(self):
        self.debug(f"VOL {self.securities['SPY'].volatility_model.volatility!r} "
                   f"{self.securities['IBM'].volatility_model.volatility!r} "
                   f"{self.securities['AAPL'].volatility_model.volatility!r}")
'''
    logs = " ".join(run(source, tmp_path)["result"]["logs"])
    returns = [closes[i] / closes[i - 1] - 1 for i in range(len(closes) - 3, len(closes))]
    relative = statistics.stdev(closes[-3:]) / statistics.mean(closes[-3:])
    values = logs.split("VOL ")[1].split()[:3]
    assert float(values[0]) == pytest.approx(statistics.stdev(returns) * math.sqrt(252), rel=1e-12)
    assert float(values[1]) == pytest.approx(relative, rel=1e-12)
    assert float(values[2]) == 0.0


@pytest.mark.skipif(not DATA.is_dir(), reason="LEAN's sample data is not next to the repository")
def test_a_raw_equitys_warm_up_after_the_split_reads_scaled_raw_history() -> None:
    # AAPL split 7:1 on 9 June 2014. At the split the algorithm warms its IndicatorVolatilityModel up with the
    # last 5 daily bars in Raw mode: LEAN asks for ScaledRaw, each raw close × its adjustment factor over the factor
    # in force on the request's date (9 June: the split row's 1/7 split factor ends), i.e. the 2–6 June closes / 7
    # (the price factor is the same on both sides); the bars that follow are raw (93.70 …), with no jump.
    with zipfile.ZipFile(DATA / "equity" / "usa" / "daily" / "aapl.zip") as archive:
        rows = archive.read(archive.namelist()[0]).decode().splitlines()
    raw = {line[:8]: int(line.split(",")[4]) / 10_000 for line in rows}
    factors = {line.split(",")[0]: line.split(",") for line in (DATA / "equity" / "usa" / "factor_files" /
                                                                 "aapl.csv").read_text().splitlines()}
    before, after = factors["20140606"], factors["20140806"]
    scale = float(before[1]) * float(before[2]) / (float(after[1]) * float(after[2]))
    expected = [raw[day] * scale for day in ("20140602", "20140603", "20140604", "20140605", "20140606")]
    source = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2014, 6, 2)
        self.set_end_date(2014, 6, 11)
        self.aapl = self.add_equity("AAPL", Resolution.DAILY, data_normalization_mode=DataNormalizationMode.RAW)
        self.seen = []
        self.sma = SimpleMovingAverage(3)
        self.model = IndicatorVolatilityModel(self.sma, lambda security, data, indicator: self.record(data))
        self.aapl.set_volatility_model(self.model)

    def record(self, data):
        self.seen.append(round(data.price, 6))
        self.sma.update(data.end_time, data.price)

    def on_data(self, slice):
        split = slice.splits.get(self.aapl.symbol)
        if split is not None and split.type == SplitType.SPLIT_OCCURRED:
            self.seen.append("split")
            VolatilityModelExtensions.warm_up(self.model, self, self.aapl, Resolution.DAILY, 5,
                                              DataNormalizationMode.RAW)

    def on_end_of_algorithm(self):
        self.debug(f"SEEN {self.seen} VOL {self.aapl.volatility_model.volatility:.6f}")
'''
    result = run(source, DATA)["result"]
    seen = " ".join(result["logs"]).split("SEEN ")[1].split(" VOL")[0]
    warm = seen.split("'split', ")[1].strip("]").split(", ")[:5]
    assert [float(value) for value in warm] == pytest.approx(expected, rel=1e-6)
    following = seen.split("'split', ")[1].strip("]").split(", ")[5:]
    assert [float(value) for value in following[:2]] == [raw["20140609"], raw["20140610"]]
