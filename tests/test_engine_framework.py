"""The Algorithm Framework as LEAN runs it: which insights make the targets, and when the models hear of changes."""

from __future__ import annotations

from datetime import date

from tests.engine_helpers import run, sessions, write_daily, write_minute

DAYS = sessions(date(2024, 1, 2), 6)


def result_of(outcome):
    assert "result" in outcome, outcome.get("error")
    return outcome["result"]


def test_targets_come_from_the_latest_insight_per_symbol_whatever_model_made_it(tmp_path):
    """LEAN's PortfolioConstructionModel.GetTargetInsights groups the active insights by symbol only and keeps the
    last generated (ties: the last emitted, so the second model's). Two models disagreeing on ABC count once."""
    write_daily(tmp_path, "ABC", [(d, 100, 101, 99, 100) for d in DAYS])
    write_daily(tmp_path, "XYZ", [(d, 50, 51, 49, 50) for d in DAYS])
    source = """from AlgorithmImports import *

class Once(AlphaModel):
    def __init__(self, tickers, direction):
        self.tickers, self.direction, self.done = tickers, direction, False

    def update(self, algorithm, data):
        if self.done:
            return []
        self.done = True
        return [Insight.price(t, timedelta(days=5), self.direction) for t in self.tickers]

class Bulls(Once):
    pass

class Bears(Once):
    pass

class Framework(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 9)
        self.set_cash(100000)
        self.universe_settings.resolution = Resolution.DAILY
        self.set_universe_selection(ManualUniverseSelectionModel([Symbol.create("ABC", SecurityType.EQUITY, Market.USA),
                                                                  Symbol.create("XYZ", SecurityType.EQUITY, Market.USA)]))
        self.add_alpha(Bulls(["ABC", "XYZ"], InsightDirection.UP))
        self.add_alpha(Bears(["ABC"], InsightDirection.DOWN))
        self.set_portfolio_construction(EqualWeightingPortfolioConstructionModel())
        self.set_execution(ImmediateExecutionModel())
"""
    orders = result_of(run(source, tmp_path))["orders"]
    first = {o["symbol"]["value"]: o["quantity"] for o in orders[:2]}
    # Two symbols, one share each: half the portfolio (less LEAN's 0.25 % free value), ABC short as the later DOWN says.
    assert first == {"ABC": -int(0.5 * 100000 * 0.9975 / 100), "XYZ": int(0.5 * 100000 * 0.9975 / 50)}


def test_models_hear_of_added_securities_before_the_first_bar_reaches_the_consolidators(tmp_path):
    """LEAN's AlgorithmManager calls OnSecuritiesChanged (and the framework models') before it updates the
    consolidators, so an indicator registered there gets the very bar the security arrives with."""
    write_minute(tmp_path, "ABC", date(2024, 1, 2), [100 + i for i in range(5)])
    source = """from AlgorithmImports import *

class Test(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 2)
        self.add_equity("ABC", Resolution.MINUTE)
        self.sma = None
        self.seen = []

    def on_securities_changed(self, changes):
        for security in changes.added_securities:
            self.sma = SimpleMovingAverage(2)
            self.register_indicator(security.symbol, self.sma)

    def on_data(self, data):
        self.seen.append((self.sma.samples, self.sma.current.value))

    def on_end_of_algorithm(self):
        self.log(str(self.seen[:3]))
"""
    logs = result_of(run(source, tmp_path))["logs"]
    assert any("[(1, 100.0), (2, 100.5), (3, 101.5)]" in line for line in logs)


def test_an_insight_score_function_scores_each_step_and_finalizes_expired_insights(tmp_path):
    """LEAN's InsightManager.Step runs the algorithm's score function at each framework step; InsightScore keeps
    each score within [0, 1] and ignores changes once finalized. The results carry the function's scores."""
    write_daily(tmp_path, "ABC", [(d, 100 + i, 101 + i, 99 + i, 100 + i) for i, d in enumerate(DAYS)])
    source = """from AlgorithmImports import *

class Scores:
    def score(self, insight_manager, utc_time):
        for insight in insight_manager.get_active_insights(utc_time):
            insight.score.set_score(InsightScoreType.DIRECTION, 5.0, utc_time)
            insight.score.set_score(InsightScoreType.MAGNITUDE, 0.25, utc_time)
            insight.estimated_value = 42.0
        for insight in insight_manager.get_insights(lambda i: i.is_expired(utc_time)):
            insight.score.finalize(utc_time)
            insight.score.set_score(InsightScoreType.MAGNITUDE, 0.75, utc_time)

class Framework(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 9)
        self.universe_settings.resolution = Resolution.DAILY
        self.set_universe_selection(ManualUniverseSelectionModel([Symbol.create("ABC", SecurityType.EQUITY, Market.USA)]))
        self.set_alpha(ConstantAlphaModel(InsightType.PRICE, InsightDirection.UP, timedelta(days=2)))
        self.set_portfolio_construction(EqualWeightingPortfolioConstructionModel())
        self.insights.set_insight_score_function(Scores())
"""
    insights = result_of(run(source, tmp_path))["insights"]
    assert insights and all(i["scoreDirection"] == 1.0 and i["scoreMagnitude"] == 0.25 for i in insights)
    assert all(i["estimatedValue"] == 42.0 for i in insights)
    assert [i["scoreFinal"] for i in insights] == [True, True, False]  # the last one is still open at the end


def test_buying_power_model_reads_margins_over_the_leverage_as_leans_security_margin_model(tmp_path):
    """SecurityMarginModel: initial margin price x quantity / leverage, a position reserves its value over the
    leverage; the minimum order margin check refuses an order below 0.1 % of the portfolio while margin remains."""
    write_daily(tmp_path, "ABC", [(d, 100, 101, 99, 100) for d in DAYS])
    source = """from AlgorithmImports import *

class Test(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 9)
        self.set_cash(100000)
        self.abc = self.add_equity("ABC", Resolution.DAILY).symbol

    def on_data(self, data):
        if not self.portfolio.invested:
            self.market_order(self.abc, 100)
            return
        security = self.securities[self.abc]
        model = security.buying_power_model
        reserved = model.get_reserved_buying_power_for_position(ReservedBuyingPowerForPositionParameters(security))
        initial = model.get_initial_margin_requirement(InitialMarginParameters(security, 10)).value
        small = BuyingPowerModelExtensions.above_minimum_order_margin_portfolio_percentage(
            model, security, 1, self.portfolio, 0.001)
        big = BuyingPowerModelExtensions.above_minimum_order_margin_portfolio_percentage(
            model, security, 3, self.portfolio, 0.001)
        self.log(f"{model.get_leverage(security)} {reserved.absolute_used_buying_power} {initial} {small} {big}")
        self.quit()
"""
    logs = result_of(run(source, tmp_path))["logs"]
    # 100 shares at $100 on 2x leverage: $5,000 reserved; 10 shares need $500; one share's $50 margin is below the
    # $100 minimum (0.1 % of ~$100,000), three shares' $150 is not.
    assert any(line.endswith("2.0 5000.0 500.0 False True") for line in logs), logs


def test_an_execution_model_keeps_targets_in_a_portfolio_target_collection_and_hears_order_events_first(tmp_path):
    """LEAN's PortfolioTargetCollection (one target per symbol, margin-impact order, cleared once held) and
    OrderSizing; BrokerageTransactionHandler gives each order event to the execution model before the algorithm."""
    write_daily(tmp_path, "ABC", [(d, 100, 101, 99, 100) for d in DAYS])
    write_daily(tmp_path, "XYZ", [(d, 50, 51, 49, 50) for d in DAYS])
    source = """from AlgorithmImports import *

class Chunked(ExecutionModel):
    def __init__(self):
        self.targets = PortfolioTargetCollection()
        self.heard = []

    def execute(self, algorithm, targets):
        self.targets.add_range(targets)
        order = [t.symbol.value for t in self.targets.order_by_margin_impact(algorithm)]
        if order:
            algorithm.log("order " + ",".join(order))
        for target in self.targets.order_by_margin_impact(algorithm):
            security = algorithm.securities[target.symbol]
            wanted = OrderSizing.get_unordered_quantity(algorithm, target, security, True)
            size = OrderSizing.get_order_size_for_maximum_value(security, 2000, wanted)
            if size:
                algorithm.market_order(target.symbol, size, True)
        self.targets.clear_fulfilled(algorithm)

    def on_order_event(self, algorithm, order_event):
        self.heard.append((order_event.order_id, order_event.id, int(order_event.status), order_event.status.is_fill()))

class Test(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 9)
        self.set_cash(100000)
        self.abc = self.add_equity("ABC", Resolution.DAILY).symbol
        self.xyz = self.add_equity("XYZ", Resolution.DAILY).symbol
        self.model = Chunked()
        self.set_execution(self.model)
        self.seen = []
        self.sent = False

    def on_data(self, data):
        if not self.sent:
            self.sent = True
            self.model.execute(self, [PortfolioTarget(self.abc, 30), PortfolioTarget(self.xyz, 30),
                                      PortfolioTarget(self.abc, 25)])

    def on_order_event(self, order_event):
        self.seen.append((order_event.order_id, order_event.id, int(order_event.status), order_event.status.is_fill()))

    def on_end_of_algorithm(self):
        self.log(f"same {self.model.heard == self.seen} {len(self.seen)} left {self.model.targets.count}")
"""
    result = result_of(run(source, tmp_path))
    quantities = [(o["symbol"]["value"], o["quantity"]) for o in result["orders"]]
    # The later ABC target replaces the first; ABC's $2,500 order comes first (larger than XYZ's $1,500) and is cut
    # to $2,000 (20 shares), the 5 left ordered on the next step; XYZ's 30 shares fit at once.
    assert quantities == [("ABC", 20), ("XYZ", 30), ("ABC", 5)]
    assert any(line.endswith("order ABC,XYZ") for line in result["logs"])
    assert any(line.endswith("same True 6 left 0") for line in result["logs"]), result["logs"]


def test_an_insight_of_minutes_closes_that_many_open_minutes_later_across_the_night(tmp_path):
    """Insight.ComputeCloseTime steps minute by minute through open market time (Time.GetEndTimeForTradeBars):
    20 minutes from a daily bar's 16:00 end are the next session's first 20, closing at 9:50 — and 20 minutes
    from Friday's close end on Monday."""
    write_daily(tmp_path, "ABC", [(d, 100, 101, 99, 100) for d in DAYS])
    source = """from AlgorithmImports import *

class Framework(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 9)
        self.universe_settings.resolution = Resolution.DAILY
        self.set_universe_selection(ManualUniverseSelectionModel([Symbol.create("ABC", SecurityType.EQUITY, Market.USA)]))
        self.set_alpha(ConstantAlphaModel(InsightType.PRICE, InsightDirection.UP, timedelta(minutes=20)))
        self.set_portfolio_construction(EqualWeightingPortfolioConstructionModel())
"""
    from datetime import datetime, timezone

    insights = result_of(run(source, tmp_path))["insights"]
    closes = [datetime.fromtimestamp(i["closeTime"], timezone.utc).strftime("%a %m-%d %H:%M") for i in insights]
    # New York is UTC-5 in January: 9:50 is 14:50 UTC. Friday Jan 5's insight closes on Monday Jan 8.
    assert closes[:4] == ["Wed 01-03 14:50", "Thu 01-04 14:50", "Fri 01-05 14:50", "Mon 01-08 14:50"]


def test_a_security_initializer_seeds_the_price_with_the_last_known_one(tmp_path):
    """LEAN's GetLastKnownPrice (the latest bar history has) and Security.SetMarketPrice: a security has the
    previous session's close before its first bar of the run."""
    write_daily(tmp_path, "ABC", [(d, 100 + i, 101 + i, 99 + i, 100 + i) for i, d in enumerate(DAYS)])
    source = """from AlgorithmImports import *

class Test(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 4)
        self.set_end_date(2024, 1, 9)
        self.set_security_initializer(lambda security: security.set_market_price(self.get_last_known_price(security)))
        self.abc = self.add_equity("ABC", Resolution.DAILY).symbol
        self.log(f"seeded {self.securities[self.abc].price} {self.securities[self.abc].has_data}")
"""
    logs = result_of(run(source, tmp_path))["logs"]
    assert any(line.endswith("seeded 101.0 True") for line in logs), logs  # Jan 3's close, the last before Jan 4
