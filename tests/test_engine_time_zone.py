"""The algorithm time zone (LEAN's ``set_time_zone``): crypto data, dated in UTC, is converted into the
algorithm's zone; the clock, the schedules, the orders and LEAN's midnight samples run on it. Checked against
hand computations from the Coinbase files and LEAN's own expected statistics."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from tests.engine_helpers import run
from tests.test_engine_lean import DATA

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="LEAN's sample data is not next to the repository")

MINUTE = DATA / "crypto" / "coinbase" / "minute" / "btcusd"

SOURCE = '''from AlgorithmImports import *

class Zoned(QCAlgorithm):
    def initialize(self):
        self.set_time_zone({zone})
        self.set_start_date({y}, {m}, {d})
        self.set_end_date({y}, {m}, {d})
        self.set_cash(100000)
        self.btc = self.add_crypto("BTCUSD", Resolution.MINUTE).symbol
        self.set_benchmark(self.btc)
        self.schedule.on(self.date_rules.every_day(), self.time_rules.at(12, 0), self.noon)
        self.schedule.on(self.date_rules.every_day(), self.time_rules.at(1, 30, TimeZones.UTC), self.in_utc)
        self.first = None

    def in_utc(self):
        self.log(f"INUTC {{self.time:%H:%M}} {{self.utc_time:%H:%M}}")

    def noon(self):
        self.log(f"NOON {{self.time:%H:%M}} {{self.utc_time:%H:%M}} {{self.securities[self.btc].close}}")

    def on_data(self, data):
        if self.first is None:
            self.first = self.time
            self.log(f"FIRST {{self.time:%Y%m%d %H:%M}} {{self.utc_time:%Y%m%d %H:%M}} {{data[self.btc].close}} "
                     f"{{self.time_zone}}")
            self.market_order(self.btc, 0.1)
'''


def rows(day: str) -> list[list[str]]:
    with zipfile.ZipFile(MINUTE / f"{day}_trade.zip") as archive:
        return list(csv.reader(io.TextIOWrapper(archive.open(archive.namelist()[0]))))


def row_at(day: str, hour: int, minute: int) -> list[str]:
    """The bar of ``day``'s UTC file that starts at hour:minute UTC (milliseconds since the UTC midnight)."""
    return next(r for r in rows(day) if int(r[0]) == (hour * 60 + minute) * 60_000)


def logged(outcome: dict, kind: str) -> list[str]:
    return next(line for line in outcome["logs"] if line.split()[2:3] == [kind]).split()[3:]


def test_utc_clock_reads_the_files_as_they_are_and_orders_and_schedules_run_on_it():
    days = sorted(p.name[:8] for p in MINUTE.glob("*_trade.zip"))
    day = days[0]
    outcome = run(SOURCE.format(zone="TimeZones.UTC", y=int(day[:4]), m=int(day[4:6]), d=int(day[6:])),
                  DATA)["result"]
    first = logged(outcome, "FIRST")
    # the first bar is the one ending at the UTC midnight's first minute: the file's 00:00 row
    assert first[:4] == [day, "00:01", day, "00:01"] and float(first[4]) == float(row_at(day, 0, 0)[4])
    assert first[5] == "UTC"
    noon = logged(outcome, "NOON")
    assert noon[:2] == ["12:00", "12:00"] and float(noon[2]) == float(row_at(day, 11, 59)[4])
    assert logged(outcome, "INUTC") == ["01:30", "01:30"]
    [order] = outcome["orders"]
    assert order["time"] == f"{day[:4]}-{day[4:6]}-{day[6:]}T00:01:00Z"


def test_a_zone_east_of_utc_starts_on_the_previous_utc_day():
    days = sorted(p.name[:8] for p in MINUTE.glob("*_trade.zip"))
    previous, day = days[0], days[1]
    outcome = run(SOURCE.format(zone='"Asia/Hong_Kong"', y=int(day[:4]), m=int(day[4:6]), d=int(day[6:])),
                  DATA)["result"]
    first = logged(outcome, "FIRST")
    # Hong Kong is UTC+8: the first bar is the one ending at its midnight (LEAN skips only bars ending before
    # the start), 16:00 UTC the day before: the previous UTC file's 15:59 row
    assert first[:4] == [day, "00:00", previous, "16:00"] and float(first[4]) == float(row_at(previous, 15, 59)[4])
    noon = logged(outcome, "NOON")
    assert noon[:2] == ["12:00", "04:00"] and float(noon[2]) == float(row_at(day, 3, 59)[4])
    assert logged(outcome, "INUTC") == ["09:30", "01:30"]  # at(1, 30, TimeZones.UTC): 09:30 in Hong Kong
    # the next run is on New York time again: the clock is the run's own
    source = SOURCE.replace("        self.set_time_zone({zone})\n", "")
    again = logged(run(source.format(y=int(day[:4]), m=int(day[4:6]), d=int(day[6:])), DATA)["result"], "FIRST")
    assert again[1] == "00:00" and again[3] in ("04:00", "05:00")


def test_another_zone_with_equities_refuses_clearly():
    source = '''from AlgorithmImports import *

class Zoned(QCAlgorithm):
    def initialize(self):
        self.set_time_zone(TimeZones.UTC)
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.add_equity("SPY", Resolution.MINUTE)
'''
    error = run(source, DATA)["error"]["message"]
    assert "not supported in the sandbox: algorithm time zone UTC with SPY" in error


# LEAN's Algorithm.Python/FractionalQuantityRegressionAlgorithm.py (its comments left out)
FRACTIONAL = '''from AlgorithmImports import *

class FractionalQuantityRegressionAlgorithm(QCAlgorithm):

    def initialize(self):

        self.set_start_date(2015, 11, 12)
        self.set_end_date(2016, 4, 1)
        self.set_cash(100000)
        self.set_brokerage_model(BrokerageName.GDAX, AccountType.CASH)

        self.set_time_zone(TimeZones.UTC)

        security = self.add_security(SecurityType.CRYPTO, "BTCUSD", Resolution.DAILY, Market.GDAX, False, 1, True)

        security.set_buying_power_model(SecurityMarginModel(3.3))

        con = TradeBarConsolidator(1)
        self.subscription_manager.add_consolidator("BTCUSD", con)
        con.data_consolidated += self.data_consolidated
        self.set_benchmark(security.symbol)

    def data_consolidated(self, sender, bar):
        quantity = math.floor((self.portfolio.cash + self.portfolio.total_fees) / abs(bar.value + 1))
        btc_qnty = float(self.portfolio["BTCUSD"].quantity)

        if not self.portfolio.invested:
            self.order("BTCUSD", quantity)
        elif btc_qnty == quantity:
            self.order("BTCUSD", 0.1)
        elif btc_qnty == quantity + 0.1:
            self.order("BTCUSD", 0.01)
        elif btc_qnty == quantity + 0.11:
            self.order("BTCUSD", -0.02)
        elif btc_qnty == quantity + 0.09:
            # should fail (below minimum order quantity)
            self.order("BTCUSD", 0.00001)
            self.set_holdings("BTCUSD", -2.0)
            self.set_holdings("BTCUSD", 2.0)
            self.quit()
'''


def test_fractional_quantities_in_utc_end_on_the_midnight_sample_as_lean():
    """LEAN's FractionalQuantityRegressionAlgorithm (GDAX cash account, UTC, daily bars): decimal quantities
    (318 + 0.1 + 0.01 - 0.02 is 318.09), a margin model of 3.3x on a cash account's pair, and the run quits in a
    midnight step whose orders come after LEAN's midnight sample, so the end equity is the value before them."""
    outcome = run(FRACTIONAL, DATA)["result"]
    got = outcome["statistics"]
    expected = {"Total Orders": "7", "End Equity": "113775.23", "Net Profit": "13.775%", "Drawdown": "5.500%",
                "Compounding Annual Return": "1497.266%", "Average Win": "6.02%", "Win Rate": "67%"}
    assert {key: got[key] for key in expected} == expected
    assert float(got["Total Fees"][1:]) == pytest.approx(2650.41, abs=5)
    assert json.dumps(outcome["orders"][1]["quantity"]) == "0.1"
