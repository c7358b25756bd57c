"""Models set on a security from Python (LEAN's SecurityDataFilter, BuyingPowerModel), over data the test writes."""

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


def test_a_custom_buying_power_model_sizes_and_accepts_orders(tmp_path: Path) -> None:
    # $100,000 at $100 a share: LEAN's sizing for 100 % is 997 shares (the 0.25 % free buffer and the fee),
    # rounded down to 900 by the model; 10 × 900 = 9,000 shares ($900,000) passes only because the model says so.
    # The default model reserves |quantity × price| / leverage: 9,000 × $101 / 1 once the model is set (LEAN's
    # BuyingPowerModel() has leverage 1), and the same security without a model would be refused the order.
    write_minute(tmp_path, "SPY", date(2013, 10, 7), [100.0, 101.0, 101.0])
    source = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.spy = self.add_equity("SPY", Resolution.MINUTE)
        if self.get_parameter("custom") == "yes":
            self.spy.set_buying_power_model(Hundreds())

    def on_data(self, data):
        if not self.portfolio.invested and not self.transactions.get_orders():
            quantity = self.calculate_order_quantity("SPY", 1)
            ticket = self.market_order("SPY", quantity * 10)
            self.debug(f"ORDER {quantity} {ticket.status}")
        elif self.time.minute == 32:
            model = self.spy.buying_power_model
            reserved = model.get_reserved_buying_power_for_position(ReservedBuyingPowerForPositionParameters(self.spy))
            self.debug(f"RESERVED {reserved.absolute_used_buying_power} {model.get_leverage(self.spy)}")

class Hundreds(BuyingPowerModel):
    def get_maximum_order_quantity_for_target_buying_power(self, parameters):
        quantity = super().get_maximum_order_quantity_for_target_buying_power(parameters).quantity
        return GetMaximumOrderQuantityResult(np.floor(quantity / 100) * 100)

    def has_sufficient_buying_power_for_order(self, parameters):
        return HasSufficientBuyingPowerForOrderResult(True)
'''
    custom = run(source, tmp_path, {"custom": "yes"})["result"]
    logs = " ".join(custom["logs"])
    assert "ORDER 900.0 3" in logs and "RESERVED 909000.0 1.0" in logs  # 3: OrderStatus.FILLED
    assert [(o["status"], o["quantity"]) for o in custom["orders"]] == [(3, 9000.0)]
    plain = run(source, tmp_path, {"custom": "no"})["result"]
    assert "ORDER 997.0 7" in " ".join(plain["logs"])  # 7: OrderStatus.INVALID, insufficient buying power


def test_a_margin_interest_rate_model_is_applied_once_an_hour(tmp_path: Path) -> None:
    # 120 minute bars from 9:31 to 11:30: LEAN scans the security models at the first step and then at the first
    # step of each new hour (9:31, 10:00, 11:00); each call here adds 1 % of the cash while the position is long.
    write_minute(tmp_path, "SPY", date(2013, 10, 7), [100.0] * 120)
    source = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.model = Interest()
        self.add_equity("SPY", Resolution.MINUTE).set_margin_interest_rate_model(self.model)

    def on_data(self, data):
        if not self.portfolio.invested:
            self.market_order("SPY", 500)  # $50,000 of stock, $49,997.50 of cash left after the $2.50 fee

    def on_end_of_algorithm(self):
        self.debug(f"CALLS {self.model.times} {self.portfolio.cash:.4f}")

class Interest:
    def __init__(self):
        self.times = []

    def apply_margin_interest_rate(self, parameters):
        value = parameters.security.holdings.get_quantity_value(parameters.security.holdings.quantity)
        if value.amount > 0:
            value.cash.add_amount(0.01 * value.cash.amount)
            self.times.append(f"{parameters.time:%H:%M}")
'''
    logs = " ".join(run(source, tmp_path)["result"]["logs"])
    assert f"CALLS ['10:00', '11:00'] {49997.5 * 1.01 ** 2:.4f}" in logs  # 9:31: not invested yet


def test_a_shortable_provider_limits_short_orders_as_lean(tmp_path: Path) -> None:
    # At most 100 shares shortable: -150 is refused (invalid, counted), -60 fills, a further -50 would take the
    # short to 110 (refused), -40 reaches exactly 100; then nothing more (held + open <= -100).
    write_minute(tmp_path, "SPY", date(2013, 10, 7), [100.0] * 6)
    source = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.add_equity("SPY", Resolution.MINUTE).set_shortable_provider(Hundred())

    def on_data(self, data):
        if self.time.minute == 31:
            for quantity in (-150, -60, -50, -40, -1):
                ticket = self.market_order("SPY", quantity)
                self.debug(f"SELL {quantity} {ticket.status} {self.shortable('SPY', 1)}")

class Hundred(NullShortableProvider):
    def shortable_quantity(self, symbol, local_time):
        return 100
'''
    outcome = run(source, tmp_path)["result"]
    logs = [line.split("SELL ")[1] for line in outcome["logs"] if "SELL " in line]
    assert logs == ["-150 7 True", "-60 3 True", "-50 7 True", "-40 3 False", "-1 7 False"]  # 3 filled, 7 invalid
    assert outcome["statistics"]["Total Orders"] == "5"
    refused = next(o for o in outcome["orders"] if o["quantity"] == -150)
    assert "Order exceeds shortable quantity 100 for Symbol SPY requested -150)" in str(refused)
