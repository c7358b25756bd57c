"""LEAN's settlement models (engine/settlement.py) over data the test writes: a custom model sees each fill's cash,
and a cash account's equity sales settle T+1 at 06:00 on the next trading day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.engine_helpers import run, write_minute


def test_a_custom_settlement_model_receives_each_fills_cash_and_is_scanned_hourly(tmp_path: Path) -> None:
    # Bars close 100, 101, … (each opens at the previous close): 10 shares bought at 9:31 fill at $100 and sold
    # at 9:36 fill at $105. The model gets −10 × 100 then +10 × 105 in USD (LEAN's ProcessFill: −quantity × price
    # in the quote currency) and books half of each: 10,000 − 500 + 525 less the two $1 fees (booked in full,
    # outside the model) = 10,023. The scan runs at the first step (9:31, past the 01:00 first scan time) and then
    # at each new hour (10:00, 11:00, 12:00), with UTC times (EDT + 4 hours).
    write_minute(tmp_path, "SPY", date(2013, 10, 7), [100.0 + i for i in range(150)])
    source = '''from AlgorithmImports import *

class Halves:
    def __init__(self):
        self.applied, self.scans = [], []

    def apply_funds(self, parameters):
        amount = parameters.cash_amount
        self.applied.append((amount.currency, amount.amount))
        parameters.portfolio.cash_book[amount.currency].add_amount(amount.amount / 2)

    def scan(self, parameters):
        self.scans.append(parameters.utc_time)

    def get_unsettled_cash(self):
        return None

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.set_cash(10000)
        self.model = Halves()
        self.add_equity("SPY", Resolution.MINUTE).set_settlement_model(self.model)
        self.prices = []

    def on_data(self, data):
        if self.time.minute == 31 and self.time.hour == 9:
            self.market_order("SPY", 10)
        if self.time.minute == 36 and self.time.hour == 9:
            self.market_order("SPY", -10)

    def on_order_event(self, event):
        if event.status == OrderStatus.FILLED:
            self.prices.append(event.fill_price)

    def on_end_of_algorithm(self):
        self.debug(f"APPLIED {self.model.applied} PRICES {self.prices} CASH {self.portfolio.cash:.2f}")
        self.debug(f"SCANS {[f'{t:%H:%M}' for t in self.model.scans]}")
'''
    logs = " ".join(run(source, tmp_path)["result"]["logs"])
    assert "APPLIED [('USD', -1000.0), ('USD', 1050.0)] PRICES [100.0, 105.0] CASH 10023.00" in logs
    assert "SCANS ['13:31', '14:00', '15:00', '16:00']" in logs

def test_a_cash_accounts_equity_sale_settles_on_the_next_trading_day_at_six(tmp_path: Path) -> None:
    # LEAN's DelayedSettlementModel(1 day, 06:00) for equities on a cash account: a Thursday sale's proceeds are
    # unsettled (in the portfolio value, not in the cash nor the buying power) until Friday 06:00; a Friday sale's
    # until Monday 06:00 (the weekend is no trading day). A purchase pays at once.
    for day in (date(2013, 10, 10), date(2013, 10, 11), date(2013, 10, 14)):
        write_minute(tmp_path, "SPY", day, [100.0] * 20)
    source = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 10)
        self.set_end_date(2013, 10, 14)
        self.set_cash(10000)
        self.set_brokerage_model(BrokerageName.DEFAULT, AccountType.CASH)
        self.spy = self.add_equity("SPY", Resolution.MINUTE)

    def on_data(self, data):
        if self.time.hour == 9 and self.time.minute == 31 and self.time.weekday() in (3, 4):
            self.market_order("SPY", 10)
        if self.time.hour == 9 and self.time.minute == 35 and self.time.weekday() in (3, 4):
            self.market_order("SPY", -10)
        if self.time.minute in (31, 40):
            portfolio = self.portfolio
            self.debug(f"AT {self.time:%a %H:%M} cash {portfolio.cash:.2f} unsettled {portfolio.unsettled_cash:.2f} "
                       f"value {portfolio.total_portfolio_value:.2f} remaining {portfolio.margin_remaining:.2f} "
                       f"model {type(self.spy.settlement_model).__name__}")
'''
    logs = run(source, tmp_path)["result"]["logs"]
    lines = {line.split("AT ")[1].split(" cash")[0]: line for line in logs if "AT " in line}
    # Thursday: bought 10 at $100 ($1 fee) and sold at $100 ($1 fee): $1,000 unsettled, $8,998 settled
    assert "cash 8998.00 unsettled 1000.00 value 9998.00 remaining 8998.00" in lines["Thu 09:40"]
    assert "model DelayedSettlementModel" in lines["Thu 09:40"]
    # settled at Friday 06:00, before Friday's purchase (filled at once): 8,998 + 1,000 − 1,000 − $1
    assert "cash 8997.00 unsettled 0.00" in lines["Fri 09:31"]
    assert "cash 8996.00 unsettled 1000.00 value 9996.00" in lines["Fri 09:40"]
    assert "cash 9996.00 unsettled 0.00" in lines["Mon 09:31"]  # Friday's sale settles Monday 06:00


def test_a_delayed_settlement_on_an_exchange_that_never_opens_fails_clearly_instead_of_looping() -> None:
    """LEAN's DelayedSettlementModel counts only open days; an algorithm can give a security an exchange whose
    hours never open (``security.exchange = ...``), and the search for the settlement day then never ended."""
    from datetime import datetime, timedelta
    from types import SimpleNamespace

    import pytest

    from qcmcp.sandbox.engine.models import CashAmount
    from qcmcp.sandbox.engine.settlement import ApplyFundsSettlementModelParameters, DelayedSettlementModel

    entries: dict[str, float] = {}
    book = SimpleNamespace(add_amount=lambda amount: entries.update(USD=entries.get("USD", 0.0) + amount))
    portfolio = SimpleNamespace(unsettled_cash_book_entry=lambda currency: book)
    never = SimpleNamespace(symbol="SPY", exchange=SimpleNamespace(
        hours=SimpleNamespace(is_date_open=lambda day: False)))
    sale = ApplyFundsSettlementModelParameters(portfolio, never, datetime(2013, 10, 7, 14), CashAmount(1000.0, "USD"))
    with pytest.raises(ValueError, match="never settle"):
        DelayedSettlementModel(1, timedelta(hours=6)).apply_funds(sale)
    weekdays = SimpleNamespace(symbol="SPY", exchange=SimpleNamespace(
        hours=SimpleNamespace(is_date_open=lambda day: day.weekday() < 5)))
    model = DelayedSettlementModel(1, timedelta(hours=6))
    model.apply_funds(ApplyFundsSettlementModelParameters(portfolio, weekdays, datetime(2013, 10, 11, 18),
                                                          CashAmount(1000.0, "USD")))
    assert model._unsettled[0].settlement_time_utc == datetime(2013, 10, 14, 10)  # Friday's sale: Monday 06:00 EDT
