"""Order events and order updates as LEAN reports them."""

from __future__ import annotations

from datetime import date

from tests.engine_helpers import run, write_minute

DAY = date(2024, 1, 2)


def result_of(outcome):
    assert "result" in outcome, outcome.get("error")
    return outcome["result"]


def test_order_events_print_as_lean_prints_them(tmp_path):
    """Messages.OrderEvent.ToString: UTC time, the order's event count as EventID, prices smart-rounded (seven
    significant digits) after the currency symbol, the fee with its currency."""
    write_minute(tmp_path, "ABC", DAY, [100.123456789, 100.2, 100.3, 100.4])
    source = """from AlgorithmImports import *

class Test(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 2)
        self.abc = self.add_equity("ABC", Resolution.MINUTE).symbol

    def on_data(self, data):
        if not self.transactions.get_orders():
            self.limit_order(self.abc, 10, 99.5)
            self.market_order(self.abc, 10)

    def on_order_event(self, order_event):
        self.log(str(order_event))
"""
    logs = [line.split(" ", 2)[2] for line in result_of(run(source, tmp_path))["logs"] if "OrderID" in line]
    assert logs == [
        "Time: 01/02/2024 14:31:00 OrderID: 1 EventID: 1 Symbol: ABC Status: Submitted Quantity: 10 LimitPrice: $99.5",
        "Time: 01/02/2024 14:31:00 OrderID: 2 EventID: 1 Symbol: ABC Status: Submitted Quantity: 10",
        "Time: 01/02/2024 14:31:00 OrderID: 2 EventID: 2 Symbol: ABC Status: Filled Quantity: 10 FillQuantity: 10 "
        "FillPrice: $100.1235 OrderFee: 1 USD",
    ]


def test_an_update_to_zero_quantity_is_refused_and_a_limit_if_touched_order_fills_once_touched(tmp_path):
    """BrokerageTransactionHandler refuses an update to quantity zero (the order keeps its quantity);
    EquityFillModel.LimitIfTouchedFill: a buy waits for a bar whose low reaches the trigger, then fills when the
    price (the ask; the trade price without quotes) is at or below the limit, at the lower of the two."""
    write_minute(tmp_path, "ABC", DAY, [100, 100, 99, 100.5, 100.2, 100.1])
    source = """from AlgorithmImports import *

class Test(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 2)
        self.abc = self.add_equity("ABC", Resolution.MINUTE).symbol
        self.ticket = None

    def on_data(self, data):
        if self.ticket is None:
            self.ticket = self.limit_if_touched_order(self.abc, 5, 99.2, 100.3)
            response = self.ticket.update_quantity(0)
            self.log(f"{response.is_success} {response.error_message} {self.ticket.quantity}")

    def on_order_event(self, order_event):
        if order_event.status == OrderStatus.FILLED:
            self.log(f"filled {order_event.fill_price} at {self.time:%H:%M}")
"""
    logs = result_of(run(source, tmp_path))["logs"]
    assert any(line.endswith("False Unable to update order with id 1 that has zero quantity. 5.0") for line in logs)
    # The 09:32 bar (low 99) touches the 99.2 trigger but closes at 99 -> below the 100.3 limit: filled at 99.
    assert any(line.endswith("filled 99.0 at 09:33") for line in logs), logs
