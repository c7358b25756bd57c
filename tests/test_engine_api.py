"""LEAN API the engine implements, each checked against a hand computation or LEAN's documented behaviour."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from qcmcp.sandbox.engine import indicators as ind
from qcmcp.sandbox.engine.unsupported import UnsupportedFeature


def feed(indicator: ind.Indicator, prices: list[float]) -> list[float]:
    start = datetime(2024, 1, 1)
    values = []
    for i, price in enumerate(prices):
        indicator.update(start + timedelta(days=i), price)
        values.append(indicator.current.value)
    return values


def test_ema_is_zero_until_ready_then_seeded_by_the_sma_as_in_lean():
    values = feed(ind.ExponentialMovingAverage(3), [1.0, 2.0, 3.0, 4.0])
    assert values[:2] == [0.0, 0.0]
    assert values[2] == pytest.approx(2.0)  # SMA of 1, 2, 3
    assert values[3] == pytest.approx(4 * 0.5 + 2.0 * 0.5)  # k = 2 / (3 + 1)


def test_macd_moving_average_types():
    prices = [float(p) for p in (10, 11, 13, 12, 15, 16, 14, 18, 19, 21, 20, 22)]
    simple = ind.MovingAverageConvergenceDivergence(2, 4, 3, ind.MovingAverageType.SIMPLE)
    values = feed(simple, prices)
    fast = sum(prices[-2:]) / 2
    slow = sum(prices[-4:]) / 4
    assert values[-1] == pytest.approx(fast - slow)
    macds = [sum(prices[i - 1:i + 1]) / 2 - sum(prices[i - 3:i + 1]) / 4 for i in range(3, len(prices))]
    assert simple.signal.current.value == pytest.approx(sum(macds[-3:]) / 3)
    assert simple.is_ready
    exponential = ind.MovingAverageConvergenceDivergence(2, 4, 3, ind.MovingAverageType.Exponential)
    feed(exponential, prices[:5])
    assert not exponential.is_ready  # ready when the signal is: slow + signal - 1 samples
    feed(exponential, prices[5:6])
    assert exponential.is_ready
    assert type(ind.MovingAverageConvergenceDivergence(2, 4, 3, ind.MovingAverageType.HULL).fast).__name__ == (
        "HullMovingAverage")
    with pytest.raises(UnsupportedFeature, match="not supported in the sandbox: MovingAverageType.Alma"):
        ind.MovingAverageConvergenceDivergence(2, 4, 3, ind.MovingAverageType.ALMA)


def minute_bars(count: int, start: datetime = datetime(2024, 1, 2, 9, 30)) -> list:
    from qcmcp.sandbox.engine.types import Symbol, TradeBar

    bars = []
    for i in range(count):
        moment = start + timedelta(minutes=i)
        bars.append(TradeBar(Symbol("SPY"), moment, moment + timedelta(minutes=1), 100 + i, 100.5 + i, 99.5 + i,
                             100.25 + i, 10))
    return bars


def test_trade_bar_consolidator_by_period_and_by_count():
    from qcmcp.sandbox.engine.consolidators import TradeBarConsolidator

    consolidator, seen = TradeBarConsolidator(timedelta(minutes=10)), []
    consolidator.data_consolidated += lambda sender, bar: seen.append(bar)
    for bar in minute_bars(25):
        consolidator.update(bar.end_time, bar)
    # 09:30-09:40 and 09:40-09:50, each emitted when its last minute (ending at :40, :50) arrives
    assert [(b.time.strftime("%H:%M"), b.end_time.strftime("%H:%M")) for b in seen] == [("09:30", "09:40"),
                                                                                       ("09:40", "09:50")]
    first = seen[0]
    assert (first.open, first.high, first.low, first.close, first.volume) == (100, 109.5, 99.5, 109.25, 100)
    assert consolidator[0] is seen[1] and consolidator.previous is seen[0] and consolidator.window.count == 2
    assert consolidator.working_data.open == 120  # 09:50 onwards, still open
    counted, out = TradeBarConsolidator(3), []
    counted.data_consolidated += lambda sender, bar: out.append(bar)
    for bar in minute_bars(7):
        counted.update(bar.end_time, bar)
    assert [(b.open, b.close) for b in out] == [(100, 102.25), (103, 105.25)]


def test_interactive_brokers_fee_as_lean_computes_it():
    from qcmcp.sandbox.engine.broker import order_fee

    assert order_fee(688, 144.78) == pytest.approx(3.44)  # $0.005 a share
    assert order_fee(1, 136.15) == 1.0  # the $1 minimum wins over 0.5 % of $136
    assert order_fee(-100, 1.0) == 1.0
    assert order_fee(1000, 0.5) == pytest.approx(2.5)  # 0.5 % of $500 caps $5 of per-share fees


def test_unrealized_profit_is_leans_close_profit_and_drives_the_drawdown_risk_model():
    from qcmcp.sandbox.engine.algorithm import QCAlgorithm
    from qcmcp.sandbox.engine.engine import Engine
    from qcmcp.sandbox.engine.framework import MaximumDrawdownPercentPerSecurity
    from qcmcp.sandbox.engine.types import Symbol, TradeBar

    algorithm = QCAlgorithm()
    engine = Engine(algorithm)
    security = engine.add_security("SPY", "minute", 1.0, "Adjusted")
    security.holdings.quantity, security.holdings.average_price = 100.0, 100.0
    moment = datetime(2024, 1, 2, 10)
    security.bar = TradeBar(Symbol("SPY"), moment, moment, 99.2, 99.2, 99.2, 99.2, 1)
    security.bid_price = 99.1
    # Selling 100 at the bid, less the $1 closing fee: (99.1 - 100) x 100 - 1 = -91, i.e. -0.91 % of the cost
    assert security.holdings.unrealized_profit == pytest.approx(-91.0)
    assert security.holdings.unrealized_profit_percent == pytest.approx(-0.0091)
    engine.time = moment
    risk = MaximumDrawdownPercentPerSecurity(0.009)
    [target] = risk.manage_risk(algorithm, [])
    assert target.quantity == 0 and target.symbol == "SPY"
    assert MaximumDrawdownPercentPerSecurity(0.01).manage_risk(algorithm, []) == []


def daily_rows(closes: list[tuple[float, float, float, float]]) -> list:
    from tests.engine_helpers import sessions

    return [(day, *ohlc) for day, ohlc in zip(sessions(__import__("datetime").date(2024, 1, 2), len(closes)), closes,
                                              strict=True)]


ORDERS_HEADER = '''from AlgorithmImports import *

class Orders(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 12)
        self.set_cash(100000)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
        self.ticket = None
'''


def test_order_tickets_update_and_cancel_as_lean(tmp_path):
    from tests.engine_helpers import run, write_daily

    bars = [(100, 101, 99, 100), (100, 102, 98, 99), (99, 100, 97, 98), (98, 99, 95, 96), (96, 97, 94, 95),
            (95, 96, 93, 94), (94, 95, 92, 93)]
    write_daily(tmp_path, "SPY", daily_rows(bars))
    source = ORDERS_HEADER + '''
    def on_data(self, data):
        if self.ticket is None:
            self.ticket = self.limit_order(self.spy, 10, 90.0, tag="low")
        elif len(self.ticket.update_requests) == 0:
            fields = UpdateOrderFields()
            fields.quantity = 20
            fields.limit_price = 96.5
            fields.tag = "raised"
            response = self.ticket.update(fields)
            self.debug(f"UPDATED {response.is_success} {self.ticket.quantity} {self.ticket.get(OrderField.LIMIT_PRICE)}")
        elif self.ticket.status == OrderStatus.FILLED and len(self.ticket.update_requests) == 1:
            response = self.ticket.update_quantity(30)
            self.debug(f"LATE {response.is_success} {self.ticket.cancel().is_success}")
'''
    outcome = run(source, tmp_path)["result"]
    logs = " ".join(outcome["logs"])
    assert "UPDATED True 20.0 96.5" in logs
    assert "LATE False False" in logs  # a filled order can neither change nor be canceled
    [order] = outcome["orders"]
    # Placed day 1 at 90, raised on day 2 to 96.5; day 3's low 97 does not reach it, day 4 (low 95) fills at the
    # limit since it opened above it (EquityFillModel.LimitFill).
    assert order["quantity"] == 20 and order["limitPrice"] == 96.5 and order["price"] == 96.5 and order["tag"] == "raised"
    assert [e["status"] for e in order["events"]] == ["submitted", "updatesubmitted", "filled"]
    assert order["lastFillTime"].startswith("2024-01-05")


def test_trailing_stop_follows_the_high_and_fills_at_the_stop(tmp_path):
    from tests.engine_helpers import run, write_daily

    bars = [(100, 101, 99, 100), (100, 104, 99, 103), (103, 108, 102, 107), (107, 107, 101, 102), (102, 103, 101, 102)]
    write_daily(tmp_path, "SPY", daily_rows(bars))
    source = ORDERS_HEADER + '''
    def on_data(self, data):
        if self.ticket is None:
            self.ticket = self.transactions.add_order(SubmitOrderRequest(
                OrderType.TRAILING_STOP, SecurityType.EQUITY, "SPY", -10, 95.0, 0, 0, 0.05, True, self.utc_time, "trail"))
'''
    outcome = run(source, tmp_path)["result"]
    [order] = outcome["orders"]
    # Stop 95 on day 1; day 2's high 104 moves it to 104 x 0.95 = 98.8, day 3's 108 to 102.6; day 4's low 101 is
    # below it: sold at min(stop, close) = 102 (TrailingStopFill).
    assert order["type"] == 11 and order["stopPrice"] == pytest.approx(102.6)
    assert order["price"] == pytest.approx(102.0) and order["lastFillTime"].startswith("2024-01-05")


def test_schedule_uses_exchange_hours_half_days_and_lean_date_rules():
    from datetime import date

    from qcmcp.sandbox.engine.schedule import DateRules, TimeRules

    rules, times = DateRules(), TimeRules()
    # 2013-11-29, the day after Thanksgiving, closes at 13:00 (market-hours database): 10 minutes before close
    assert times.before_market_close("SPY", 10)(date(2013, 11, 29)) == [datetime(2013, 11, 29, 12, 50)]
    assert times.before_market_close("SPY", 10)(date(2013, 11, 27)) == [datetime(2013, 11, 27, 15, 50)]
    assert times.after_market_open("SPY", 30)(date(2013, 11, 28)) == []  # Thanksgiving: closed
    month_end = rules.month_end("SPY")
    assert month_end(date(2013, 11, 29)) and not month_end(date(2013, 11, 30))  # the 30th is a Saturday
    assert rules.week_start("SPY")(date(2013, 9, 3))  # Labor Day Monday: the week starts on Tuesday
    assert rules.on(2013, 10, 7)(date(2013, 10, 7))


def test_iterating_lean_dictionaries_yields_key_value_pairs():
    from qcmcp.sandbox.engine.types import DataDictionary, Slice, Symbol

    spy = Symbol("SPY")
    data = Slice(datetime(2024, 1, 2, 10), {spy: "bar"})
    [kvp] = list(data)
    assert kvp.key == spy and kvp.value == "bar" and kvp.Key == spy
    symbol, bar = kvp
    assert (symbol, bar) == (spy, "bar") and data.keys() == [spy] and list(data.keys) == [spy]
    assert data.bars.count == 1 and data.bars.contains_key("SPY") and data.quote_bars.count == 0
    assert DataDictionary({spy: 1}).try_get_value("SPY") == (True, 1)


def test_insight_price_overloads():
    from qcmcp.sandbox.engine.framework import Insight, InsightDirection

    by_bars = Insight.price("SPY", "minute", 20, InsightDirection.UP)
    assert by_bars.period == timedelta(minutes=20) and by_bars.direction == InsightDirection.UP
    by_span = Insight.price("SPY", timedelta(days=2), InsightDirection.DOWN, 0.1, 0.5)
    assert by_span.period == timedelta(days=2) and by_span.magnitude == 0.1 and by_span.confidence == 0.5
    until = Insight.price("SPY", datetime(2024, 1, 5), InsightDirection.FLAT)
    assert until.requested_close_time == datetime(2024, 1, 5)


def test_liquidate_counts_open_market_orders_and_cancels_the_rest(tmp_path):
    from tests.engine_helpers import run, write_daily

    write_daily(tmp_path, "SPY", daily_rows([(100, 101, 99, 100)] * 4))
    source = ORDERS_HEADER + '''
    def on_data(self, data):
        if self.ticket is None:
            self.market_order(self.spy, 10)          # at the close: a market-on-open order, still open
            self.ticket = self.limit_order(self.spy, 5, 50.0)
            self.market_order(self.spy, -3)
            self.liquidate(self.spy)
'''
    outcome = run(source, tmp_path)["result"]
    orders = outcome["orders"]
    # LEAN's Liquidate keeps only pending *market* orders (their quantity is netted); every other open order,
    # market-on-open ones included, is canceled; with nothing held it orders nothing.
    assert [(o["type"], o["quantity"], o["status"]) for o in orders] == [(4, 10, 5), (1, 5, 5), (4, -3, 5)]


def test_brokerage_models_set_fees_and_cash_accounts(tmp_path):
    from tests.engine_helpers import run

    source = '''from AlgorithmImports import *

class Crypto(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 1)
        self.set_end_date(2024, 1, 5)
        self.set_brokerage_model(BrokerageName.COINBASE, AccountType.CASH)
        self.btc = self.add_crypto("BTCUSD", Resolution.DAILY).symbol
        self.debug(f"LEVERAGE {self.securities[self.btc].leverage}")

    def on_data(self, data):
        if not self.portfolio.invested and not self.transactions.get_open_orders():
            self.market_order(self.btc, 0.5)
'''
    outcome = run(source)["result"]
    order = outcome["orders"][0]
    # LEAN's CoinbaseFeeModel: 0.8 % taker since October 2019 (Advanced 1), in the quote currency
    assert order["events"][-1]["orderFeeAmount"] == pytest.approx(0.5 * order["price"] * 0.008)
    assert any("LEVERAGE 1.0" in line for line in outcome["logs"])
    refused = run(source.replace("BrokerageName.COINBASE", "BrokerageName.KRAKEN"))["error"]["message"]
    assert "not supported in the sandbox: brokerage model BrokerageName.KRAKEN" in refused


def test_portfolio_construction_weights_and_insight_expiry_as_lean():
    from qcmcp.sandbox.engine.framework import (
        ConfidenceWeightedPortfolioConstructionModel,
        EqualWeightingPortfolioConstructionModel,
        Insight,
        InsightDirection,
        InsightWeightingPortfolioConstructionModel,
        PortfolioBias,
    )

    def insight(symbol, direction, weight=None, confidence=None):
        made = Insight.price(symbol, timedelta(days=1), direction, None, confidence, None, weight)
        made.generated_time_utc = datetime(2024, 1, 2)
        return made

    up, down, flat = insight("A", InsightDirection.UP, 0.5, 0.9), insight("B", InsightDirection.DOWN, 0.75, 0.3), \
        insight("C", InsightDirection.FLAT, 0.25)
    equal = EqualWeightingPortfolioConstructionModel().determine_target_percent([up, down, flat])
    assert [equal[i] for i in (up, down, flat)] == [0.5, -0.5, 0.0]  # two non-flat insights: half each
    long_only = EqualWeightingPortfolioConstructionModel(portfolio_bias=PortfolioBias.LONG)
    assert [long_only.determine_target_percent([up, down])[i] for i in (up, down)] == [1.0, 0.0]
    weights = InsightWeightingPortfolioConstructionModel().determine_target_percent([up, down, flat])
    # weights add up to 1.5 > 1: each is scaled by 1/1.5
    assert [round(weights[i], 6) for i in (up, down, flat)] == [round(0.5 / 1.5, 6), round(-0.75 / 1.5, 6), 0.0]
    confidence = ConfidenceWeightedPortfolioConstructionModel().determine_target_percent([up, down])
    assert [round(confidence[i], 6) for i in (up, down)] == [round(0.9 / 1.2, 6), round(-0.3 / 1.2, 6)]
    up.close_time_utc = datetime(2024, 1, 3, 16)
    assert up.is_active(datetime(2024, 1, 3, 16)) and not up.is_active(datetime(2024, 1, 3, 16, 1))


def test_pre_order_checks_refuse_before_an_order_exists_and_async_market_orders_fill_before_a_cancel(tmp_path):
    """LEAN's OrderTicketDemoAlgorithm (9 fills of 12 orders): cancelling an asynchronous market order in the step
    that placed it fails, and it fills at the brokerage scan after on_data."""
    from tests.engine_helpers import run, write_minute

    day = __import__("datetime").date(2024, 1, 2)
    write_minute(tmp_path, "SPY", day, [100.0 + i * 0.01 for i in range(390)])
    source = '''from AlgorithmImports import *

class Checks(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 2)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol

    def on_data(self, data):
        if self.time.hour == 9 and self.time.minute == 31:
            ticket = self.market_order(self.spy, 10, asynchronous=True)
            self.debug(f"CANCEL {ticket.cancel().is_success} {ticket.status}")
            self.debug(f"MOO {self.market_on_open_order(self.spy, 5).status}")  # the market is open: refused
        if self.time.hour == 15 and self.time.minute == 50:
            self.debug(f"MOC {self.market_on_close_order(self.spy, 5).status}")  # inside the 15.5-minute buffer
'''
    outcome = run(source, tmp_path)["result"]
    logs = " ".join(outcome["logs"])
    assert "CANCEL False 1" in logs and "MOO 7" in logs and "MOC 7" in logs
    # Only the asynchronous market order became an order; the refused requests used no id and do not count
    assert [o["status"] for o in outcome["orders"]] == [3] and outcome["statistics"]["Total Orders"] == "1"


def test_securities_added_and_removed_while_running(tmp_path):
    from tests.engine_helpers import run, write_daily

    write_daily(tmp_path, "SPY", daily_rows([(100, 101, 99, 100)] * 6))
    write_daily(tmp_path, "AIG", daily_rows([(50, 51, 49, 50 + i) for i in range(6)]))
    source = ORDERS_HEADER + '''        self.changes = []

    def on_securities_changed(self, changes):
        self.changes.append(([str(s.symbol) for s in changes.added_securities],
                             [str(s.symbol) for s in changes.removed_securities]))

    def on_data(self, data):
        day = self.time.day
        if day == 3 and "AIG" not in self.securities:
            self.add_equity("AIG", Resolution.DAILY)
        if data.contains_key("AIG"):
            self.debug(f"AIG {day} {data['AIG'].close}")
            if not self.portfolio["AIG"].invested and day == 4:
                self.market_order("AIG", 10)
        if day == 8 and self.securities["AIG"].is_tradable:
            self.remove_security("AIG")

    def on_end_of_algorithm(self):
        self.debug(f"CHANGES {self.changes}")
'''
    outcome = run(source, tmp_path)["result"]
    logs = " ".join(outcome["logs"])
    # Added on the 3rd at 16:00: its bars from the next step (4th: close 52); removed on the 8th: no bar after
    assert "AIG 3 " not in logs and "AIG 4 52.0" in logs and "AIG 9 " not in logs
    assert "CHANGES [(['SPY'], []), (['AIG'], []), ([], ['AIG'])]" in logs
    orders = outcome["orders"]
    assert [(o["quantity"], o["tag"]) for o in orders] == [(10, ""), (-10, "Removed from Universe")]


def test_daily_consolidation_of_minute_bars_emits_at_the_close(tmp_path):
    from tests.engine_helpers import run, write_minute

    days = [__import__("datetime").date(2024, 1, 2), __import__("datetime").date(2024, 1, 3)]
    for offset, day in enumerate(days):
        write_minute(tmp_path, "SPY", day, [100.0 + offset + i * 0.01 for i in range(390)])
    source = '''from AlgorithmImports import *

class Daily(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 3)
        self.add_equity("SPY", Resolution.MINUTE)
        self.consolidate("SPY", Resolution.DAILY, self.on_day)

    def on_day(self, bar):
        self.debug(f"DAY {bar.end_time:%Y-%m-%d %H:%M} {bar.open:.2f} {bar.close:.2f} {bar.volume:.0f}")
'''
    outcome = run(source, tmp_path)["result"]
    days_seen = [line.split(" DAY ")[1] for line in outcome["logs"] if " DAY " in line]
    # each session: the first minute's open, the last minute's close (100 + 389 x 0.01), 390 bars x 100 shares
    assert days_seen == ["2024-01-02 16:00 100.00 103.89 39000", "2024-01-03 16:00 101.00 104.89 39000"]


def test_rsi_and_ema_cross_alpha_models_emit_on_leans_thresholds():
    from qcmcp.sandbox.engine.framework import EmaCrossAlphaModel, InsightDirection, RsiAlphaModel
    from qcmcp.sandbox.engine.indicators import ExponentialMovingAverage, RelativeStrengthIndex

    class Rsi:  # an RSI whose value the test sets
        def __init__(self, value: float) -> None:
            self.current, self.is_ready = type("Point", (), {"value": value})(), True

    model = RsiAlphaModel(14)
    model.by_symbol["SPY"] = {"rsi": Rsi(25.0), "state": "middle"}
    [up] = model.update(None, None)  # below 30: oversold, up, for 14 days
    assert up.direction == InsightDirection.UP and up.period == timedelta(days=14)
    model.by_symbol["SPY"]["rsi"] = Rsi(33.0)
    assert model.update(None, None) == [] and model.by_symbol["SPY"]["state"] == "low"  # not yet past 35
    model.by_symbol["SPY"]["rsi"] = Rsi(75.0)
    [down] = model.update(None, None)
    assert down.direction == InsightDirection.DOWN
    assert isinstance(RsiAlphaModel()._indicators()["rsi"], RelativeStrengthIndex)

    cross = EmaCrossAlphaModel(2, 4)
    fast, slow = ExponentialMovingAverage(2), ExponentialMovingAverage(4)
    cross.by_symbol["SPY"] = {"fast": fast, "slow": slow, "fast_over_slow": False}
    for i, price in enumerate([10.0, 9.0, 8.0, 7.0, 12.0]):
        fast.update(datetime(2024, 1, 1) + timedelta(days=i), price)
        slow.update(datetime(2024, 1, 1) + timedelta(days=i), price)
    [crossed] = cross.update(None, None)  # the fast EMA rose above the slow one on the jump to 12
    assert crossed.direction == InsightDirection.UP and crossed.period == timedelta(days=2)


def test_fee_and_slippage_models_set_on_a_security(tmp_path):
    from tests.engine_helpers import run, write_daily

    write_daily(tmp_path, "SPY", daily_rows([(100, 101, 99, 100), (102, 103, 101, 102), (104, 105, 103, 104)]))
    source = ORDERS_HEADER + '''        self.securities[self.spy].set_fee_model(ConstantFeeModel(2.5))
        self.securities[self.spy].set_slippage_model(ConstantSlippageModel(0.01))
        found, symbol = SymbolCache.try_get_symbol("SPY")
        self.debug(f"CACHE {found} {symbol}")

    def on_data(self, data):
        if self.ticket is None:
            self.ticket = self.market_order(self.spy, 10)   # a market-on-open order: day 2's open, 102
'''
    outcome = run(source, tmp_path)["result"]
    [order] = outcome["orders"]
    # the open plus 1 % of the price at the fill (day 2's close, 102, is the security's price then)
    assert order["price"] == pytest.approx(102 + 0.01 * 102)
    assert order["events"][-1]["orderFeeAmount"] == 2.5
    assert any("CACHE True SPY" in line for line in outcome["logs"])

    custom = source.replace("ConstantFeeModel(2.5)", "Tenth()").replace(
        "class Orders(QCAlgorithm):", '''class Tenth(FeeModel):
    def get_order_fee(self, parameters):
        return OrderFee(CashAmount(0.1 * parameters.order.absolute_quantity, "USD"))


class Orders(QCAlgorithm):''')
    [order] = run(custom, tmp_path)["result"]["orders"]
    assert order["events"][-1]["orderFeeAmount"] == pytest.approx(1.0)
