"""The sandbox engine against hand-computed expectations, on data the tests write."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from tests.engine_helpers import at, run, sessions, write_daily, write_minute

DAYS = sessions(date(2024, 1, 2), 6)
# (day, open, high, low, close)
ROWS = [(DAYS[0], 100, 101, 99, 100), (DAYS[1], 101, 103, 99, 102), (DAYS[2], 103, 105, 95, 104),
        (DAYS[3], 105, 107, 104, 106), (DAYS[4], 107, 111, 106, 110), (DAYS[5], 109, 112, 90, 108)]
HEADER = '''from AlgorithmImports import *

class Test(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 9)
        self.set_cash(100000)
        self.set_benchmark("ABC")
        self.abc = self.add_equity("ABC", Resolution.DAILY).symbol
'''


@pytest.fixture
def data(tmp_path):
    write_daily(tmp_path, "ABC", ROWS)
    return tmp_path


def result_of(outcome):
    assert "result" in outcome, outcome.get("error")
    return outcome["result"]


def test_buy_and_hold_profit_is_the_price_change_less_fees(data):
    source = HEADER + '''
    def on_data(self, data):
        if not self.portfolio.invested:
            self.market_order(self.abc, 100)
'''
    result = result_of(run(source, data))
    [order] = result["orders"]
    # Submitted at the first daily close (16:00, the market is closed), so LEAN turns it into a market-on-open
    # order: it fills at the next session's open (101), reported at that day's step (16:00 New York, 21:00 UTC);
    # IB fee: max($1, 100 x $0.005).
    assert order["type"] == 4 and order["price"] == 101 and order["status"] == 3
    assert at(order["lastFillTime"]).hour == 21
    stats = result["statistics"]
    assert stats["Total Fees"] == "$1.00"
    expected_end = 100_000 - 100 * 101 - 1 + 100 * 108
    assert stats["End Equity"] == f"{expected_end:.2f}"
    assert stats["Net Profit"] == f"{(expected_end / 100_000 - 1) * 100:.3f}%"
    assert stats["Total Orders"] == "1" and result["tradeableDates"] == 6
    assert result["synthetic"] == []  # ABC came from the data folder


def test_indicators_match_direct_computation(data):
    source = HEADER + '''        self.s = self.sma(self.abc, 3)
        self.e = self.ema(self.abc, 3)
        self.r = self.rsi(self.abc, 3)
        self.m = self.max(self.abc, 3)
        self.b = self.bb(self.abc, 3, 2)

    def on_data(self, data):
        if self.s.is_ready:
            self.debug(f"V {self.s.current.value} {self.e.current.value} {self.m.current.value} {self.b.upper_band.current.value if hasattr(self.b.upper_band, 'current') else self.b.upper_band.value} {self.r.current.value}")
'''
    logs = result_of(run(source, data))["logs"]
    values = [list(map(float, line.split(" V ")[1].split())) for line in logs if " V " in line]
    closes = np.array([row[4] for row in ROWS], dtype=float)
    assert len(values) == 4  # ready from the third bar on
    last = values[-1]
    assert last[0] == pytest.approx(closes[-3:].mean())
    ema = closes[:3].mean()
    for price in closes[3:]:
        ema = price * 0.5 + ema * 0.5
    assert last[1] == pytest.approx(ema)
    assert last[2] == closes[-3:].max()
    assert last[3] == pytest.approx(closes[-3:].mean() + 2 * closes[-3:].std())
    assert 0 <= last[4] <= 100


def test_limit_orders_fill_only_when_the_range_crosses(data):
    source = HEADER + '''        self.placed = False

    def on_data(self, data):
        if not self.placed:
            self.limit_order(self.abc, 10, 96)      # crossed on day 3 (low 95)
            self.limit_order(self.abc, 10, 80)      # never crossed
            self.stop_market_order(self.abc, -5, 92)  # sell stop: hit on day 6 (low 90)
            self.placed = True
'''
    orders = {o["id"]: o for o in result_of(run(source, data))["orders"]}
    assert orders[1]["status"] == 3 and orders[1]["price"] == 96 and at(orders[1]["lastFillTime"]).day == DAYS[2].day
    assert orders[2]["status"] == 1 and orders[2]["price"] == 0  # still open, unfilled
    assert orders[3]["status"] == 3 and orders[3]["price"] == 92 and at(orders[3]["lastFillTime"]).day == DAYS[5].day


def test_market_on_close_fills_at_the_next_close(data):
    source = HEADER + '''
    def on_data(self, data):
        if self.transactions.orders_count == 0:
            self.market_on_close_order(self.abc, 10)
'''
    [order] = result_of(run(source, data))["orders"]
    assert order["price"] == ROWS[1][4]


def test_parameters_change_results(data):
    source = HEADER + '''
    def on_data(self, data):
        if not self.portfolio.invested:
            self.market_order(self.abc, self.get_parameter("quantity", 10))
'''
    small = result_of(run(source, data, {"quantity": "10"}))["statistics"]["End Equity"]
    large = result_of(run(source, data, {"quantity": "200"}))["statistics"]["End Equity"]
    assert float(small) == pytest.approx(100_000 + 10 * (108 - 101) - 1)
    assert float(large) == pytest.approx(100_000 + 200 * (108 - 101) - 1)


def test_runtime_errors_carry_the_algorithms_message_and_line(data):
    source = HEADER + '''
    def on_data(self, data):
        raise ValueError("boom on " + str(self.time.date()))
'''
    error = run(source, data)["error"]
    assert error["message"] == "ValueError: boom on 2024-01-02" and not error["initializeError"]
    assert "main.py: line 12" in error["stacktrace"] and "raise ValueError" in error["stacktrace"]
    assert "qcmcp" not in error["stacktrace"]  # only the user's frames


def test_errors_in_initialize_are_flagged(data):
    error = run(HEADER + "        self.set_start_date(2024, 13, 1)\n", data)["error"]
    assert error["initializeError"] and "(in initialize)" in error["message"] and "month must be in 1..12" in error["message"]


def test_pascal_case_api(data):
    source = '''from AlgorithmImports import *

class Test(QCAlgorithm):
    def Initialize(self):
        self.SetStartDate(2024, 1, 2)
        self.SetEndDate(2024, 1, 9)
        self.SetCash(50000)
        self.abc = self.AddEquity("ABC", Resolution.Daily).Symbol

    def OnData(self, data):
        if not self.Portfolio.Invested:
            self.SetHoldings(self.abc, 0.5)
'''
    result = result_of(run(source, data))
    [order] = result["orders"]
    assert order["quantity"] == int(0.5 * 50_000 * 0.9975 / 100)


def test_insufficient_buying_power_is_rejected(data):
    source = HEADER + '''
    def on_data(self, data):
        if self.transactions.orders_count == 0:
            self.market_order(self.abc, 10_000)
'''
    result = result_of(run(source, data))
    assert result["orders"][0]["status"] == 7
    assert any("Insufficient buying power" in line for line in result["logs"])


def test_history_is_shaped_like_leans(data):
    source = HEADER + '''
    def on_data(self, data):
        if self.time.day == 5:
            frame = self.history(self.abc, 2, Resolution.DAILY)
            self.debug(f"H {list(frame.index.names)} {list(frame.columns)} {list(frame.loc['ABC']['close'])}")
'''
    [line] = [line for line in result_of(run(source, data))["logs"] if " H " in line]
    assert "['symbol', 'time'] ['open', 'high', 'low', 'close', 'volume'] [104.0, 106.0]" in line


def test_warm_up_readies_indicators_and_blocks_orders(data, tmp_path):
    early = sessions(date(2023, 12, 26), 4)
    write_daily(tmp_path, "ABC", [(d, 90, 91, 89, 90) for d in early] + ROWS)
    source = HEADER + '''        self.set_warm_up(3)
        self.s = self.sma(self.abc, 3)

    def on_data(self, data):
        if self.is_warming_up:
            self.market_order(self.abc, 1)
        elif not self.portfolio.invested:
            self.debug(f"READY {self.s.is_ready}")
            self.market_order(self.abc, 1)
'''
    result = result_of(run(source, tmp_path))
    assert any("READY True" in line for line in result["logs"])
    # As LEAN's PreOrderChecks: orders during warm-up are refused before they become orders (no id, not counted)
    assert [o["status"] for o in result["orders"]] == [3] and result["statistics"]["Total Orders"] == "1"
    assert sum("not allowed during warm up" in line for line in result["logs"]) == 3


def test_minute_data_daily_indicator_and_scheduled_events(tmp_path):
    first, second = sessions(date(2024, 1, 2), 2)
    write_minute(tmp_path, "ABC", first, [100 + i * 0.01 for i in range(390)])
    write_minute(tmp_path, "ABC", second, [110 - i * 0.01 for i in range(390)])
    source = '''from AlgorithmImports import *

class Test(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 3)
        self.set_benchmark("ABC")
        self.abc = self.add_equity("ABC", Resolution.MINUTE).symbol
        self.daily = self.sma(self.abc, 2, Resolution.DAILY)
        self.fired = []
        self.schedule.on(self.date_rules.every_day(self.abc), self.time_rules.after_market_open(self.abc, 30),
                         lambda: self.fired.append(str(self.time)))

    def on_end_of_algorithm(self):
        self.debug(f"SMA {self.daily.current.value} {self.daily.is_ready} FIRED {self.fired}")
'''
    [line] = [line for line in result_of(run(source, tmp_path))["logs"] if "SMA" in line]
    closes = (100 + 389 * 0.01, 110 - 389 * 0.01)
    assert float(re.search(r"SMA ([\d.]+)", line).group(1)) == pytest.approx(sum(closes) / 2)
    assert "True" in line and "['2024-01-02 10:00:00', '2024-01-03 10:00:00']" in line


def test_crypto_and_forex_trade_on_their_own_calendars():
    source = """from AlgorithmImports import *

class Test(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 1)   # a Monday (and a US holiday: crypto and forex still trade)
        self.set_end_date(2024, 1, 14)    # two weeks: 14 crypto sessions, 10 forex sessions
        self.set_cash(100000)
        self.btc = self.add_crypto("BTCUSD", Resolution.DAILY).symbol
        self.eur = self.add_forex("EURUSD", Resolution.DAILY).symbol
        self.seen = {"btc": 0, "eur": 0}

    def on_data(self, data):
        self.seen["btc"] += data.contains_key(self.btc)
        self.seen["eur"] += data.contains_key(self.eur)
        if not self.portfolio.invested:
            self.set_holdings(self.btc, 0.5)
            self.market_order(self.eur, 10000)

    def on_end_of_algorithm(self):
        self.debug(f"SEEN {self.seen['btc']} {self.seen['eur']}")
"""
    result = result_of(run(source))
    assert any("SEEN 14 10" in line for line in result["logs"])
    btc, eur = result["orders"][0], result["orders"][1]
    assert btc["securityType"] == 7 and eur["securityType"] == 4
    assert btc["quantity"] != int(btc["quantity"])  # fractional crypto quantity
    fill = btc["events"][-1]
    assert fill["orderFeeAmount"] == 0.0  # LEAN's default brokerage: ConstantFeeModel(0) for crypto and forex
    assert eur["events"][-1]["orderFeeAmount"] == 0.0
    assert at(btc["lastFillTime"]).hour == 5  # 00:00 New York: crypto fills at midnight, not 9:30
    assert set(result["synthetic"]) >= {"BTCUSD", "EURUSD"}


def test_set_holdings_skips_adjustments_below_the_minimum_order_margin(tmp_path):
    # Filled at 100 for 498 shares; a dip to 99.8 makes the target 499 shares: one share,
    # $99.80, is below 0.1% of the ~$99,899 portfolio, so LEAN (and the sandbox) skip it.
    write_daily(tmp_path, "ABC", [(DAYS[0], 100, 100, 100, 100), (DAYS[1], 100, 100, 99.8, 99.8),
                                  (DAYS[2], 99.8, 99.8, 99.8, 99.8)])
    source = HEADER + """
    def on_data(self, data):
        self.set_holdings(self.abc, 0.5)
"""
    orders = result_of(run(source, tmp_path))["orders"]
    assert [o["quantity"] for o in orders] == [498]
    lowered = source.replace("self.set_holdings(self.abc, 0.5)",
                             "self.settings.minimum_order_margin_portfolio_percentage = 0\n        self.set_holdings(self.abc, 0.5)")
    assert [o["quantity"] for o in result_of(run(lowered, tmp_path))["orders"]] == [498, 1]


def test_framework_alpha_construction_execution_and_insights(tmp_path):
    write_daily(tmp_path, "ABC", ROWS)
    write_daily(tmp_path, "XYZ", [(d, 50, 51, 49, 50 + i) for i, (d, *_rest) in enumerate(ROWS)])
    source = """from AlgorithmImports import *

class Framework(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 9)
        self.set_cash(100000)
        self.set_benchmark("ABC")
        self.universe_settings.resolution = Resolution.DAILY
        self.set_universe_selection(ManualUniverseSelectionModel([Symbol.create("ABC", SecurityType.EQUITY, Market.USA),
                                                                  Symbol.create("XYZ", SecurityType.EQUITY, Market.USA)]))
        self.add_alpha(ConstantAlphaModel(InsightType.PRICE, InsightDirection.UP, timedelta(days=2)))
        self.set_portfolio_construction(EqualWeightingPortfolioConstructionModel())
        self.set_execution(ImmediateExecutionModel())
"""
    result = result_of(run(source, tmp_path))
    insights = result["insights"]
    # One insight per symbol every 2 days over 6 sessions: emitted on days 1, 3, 5 (and closed 2 days later).
    assert len(insights) == 6 and {i["ticker"] for i in insights} == {"ABC", "XYZ"}
    first = insights[0]
    assert first["direction"] == "up" and first["period"] == 2 * 86400
    assert first["sourceModel"] == "ConstantAlphaModel(Price,Up,2.00:00:00)"  # LEAN names the model with its arguments
    assert first["scoreFinal"] is True and first["referenceFinal"] is not None
    buys = [o for o in result["orders"] if o["quantity"] > 0]
    # Equal weighting: each symbol gets half the portfolio (less LEAN's 0.25% free value) at the first rebalance.
    assert {o["symbol"]["value"]: o["quantity"] for o in buys[:2]} == {"ABC": int(0.5 * 100000 * 0.9975 / 100),
                                                                       "XYZ": int(0.5 * 100000 * 0.9975 / 50)}


def test_runner_enforces_the_memory_limit_and_kills_on_close(tmp_path):
    import time

    from qcmcp.sandbox.runner import BacktestRunner
    from qcmcp.sandbox.store import SandboxStore

    store = SandboxStore(tmp_path / "s.sqlite3")
    store.register_user("1", "t")
    with store.transaction() as db:
        db.execute("INSERT INTO projects (org_id, owner_id, name, language, created, modified) VALUES ('o', '1', 'p', 'Py', '', '')")
        for backtest_id in ("hog", "loop", "queued"):
            db.execute("INSERT INTO backtests (backtest_id, project_id, compile_id, name, status, created, parameters) "
                       "VALUES (?, 1, 'c', ?, 'In Queue...', '', '{}')", (backtest_id, backtest_id))
    runner = BacktestRunner(store, memory_mb=1024, max_parallel=1)
    hog = HEADER + "\n    def on_data(self, data):\n        self.blob = bytearray(4 * 1024 ** 3)\n"
    runner.start("hog", {"main.py": hog}, {})
    runner.wait("hog", 60)
    row = store.one("SELECT status, error FROM backtests WHERE backtest_id = 'hog'")
    assert row["status"] == "Runtime Error" and "MemoryError" in row["error"]
    loop = HEADER + "\n    def on_data(self, data):\n        while True:\n            pass\n"
    runner.start("loop", {"main.py": loop}, {})
    runner.start("queued", {"main.py": loop}, {})  # waits for the one slot
    deadline = time.monotonic() + 30
    while store.one("SELECT status FROM backtests WHERE backtest_id = 'loop'")["status"].startswith("In Queue"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)  # let it reach the loop
    runner.close()  # returns once every backtest has recorded its final state, so the store can close after it
    store.close()
    store = SandboxStore(tmp_path / "s.sqlite3")
    killed, queued = (store.one("SELECT status, error FROM backtests WHERE backtest_id = ?", name) for name in ("loop", "queued"))
    assert killed["status"] == "Runtime Error" and "shut down while it ran" in killed["error"]
    assert queued["status"] == "Runtime Error" and "shut down before this backtest started" in queued["error"]


def test_lean_names_the_engine_lacks_fail_clearly_where_used(data):
    def error_of(body: str) -> str:
        outcome = run(HEADER.replace("    def initialize(self):", "    def initialize(self):\n" + body, 1), data)
        return outcome["error"]["message"]

    # A LEAN class, a LEAN class subscripted, a LEAN QCAlgorithm method: named, with the way out.
    assert error_of("        FuzzyLogicThing = 1\n        x = CoarseFundamental()\n") == \
        "UnsupportedFeature: not supported in the sandbox: CoarseFundamental; run it in the cloud (in initialize)"
    assert "not supported in the sandbox: FixedSizeHashQueue[...]" in error_of("        FixedSizeHashQueue[int](3)\n")
    assert "not supported in the sandbox: QCAlgorithm.add_future_contract" in \
        error_of("        self.add_future_contract('ES')\n")
    assert "not supported in the sandbox: QCAlgorithm.add_future_contract" in \
        error_of("        self.AddFutureContract('ES')\n")
    # Deriving from a LEAN class is fine until it is used.
    assert "not supported in the sandbox: BaseData" in \
        error_of("        class Mine(BaseData):\n            pass\n        Mine()\n")
    assert "not supported in the sandbox: tick resolution" in error_of("        self.add_equity('XYZ', Resolution.TICK)\n")
    assert "not supported in the sandbox: history[Dividend]" in error_of("        self.history(Dividend, 'ABC', 10)\n")
    assert "not supported in the sandbox: custom data (QuantConnect.Data.Custom.Tiingo)" in \
        error_of("        from QuantConnect.Data.Custom.Tiingo import TiingoPrice\n")
    # A name that is not LEAN's stays the error Python gives.
    assert error_of("        self.not_a_lean_member()\n").startswith("AttributeError")
    assert error_of("        not_a_lean_name()\n").startswith("NameError")


def test_compiler_accepts_settable_lean_properties_and_still_flags_shadowed_methods():
    from qcmcp.sandbox.compiler import check_python

    source = ("from AlgorithmImports import *\n\nclass A(QCAlgorithm):\n    def initialize(self):\n"
              "        self.project_id = 7\n        self.name = 'mine'\n        self.sma = 3\n")
    problems = check_python({"main.py": source}).problems
    assert [p.line for p in problems] == [7]  # self.sma hides the method; project_id and name are LEAN setters


def test_lean_import_paths_resolve_to_the_engine_or_refuse_clearly(data):
    def outcome_of(imports: str, body: str) -> dict:
        return run("from AlgorithmImports import *\n" + imports + HEADER.replace("from AlgorithmImports import *\n", "")
                   + body, data)

    ok = outcome_of("import clr\nclr.AddReference('System')\nfrom System import *\n"
                    "from Alphas.ConstantAlphaModel import ConstantAlphaModel\n"
                    "from Execution.ImmediateExecutionModel import ImmediateExecutionModel\n"
                    "from QuantConnect.Data.Market import TradeBar\n", "        self.debug(TradeBar.__name__)\n")
    assert "result" in ok, ok
    refused = outcome_of("from Portfolio.AlphaStreamsPortfolioConstructionModel import "
                         "AlphaStreamsPortfolioConstructionModel\n", "        AlphaStreamsPortfolioConstructionModel()\n")
    assert "not supported in the sandbox: AlphaStreamsPortfolioConstructionModel" in refused["error"]["message"]
    member = outcome_of("", "        self.securities['ABC'].set_local_time_keeper(None)\n")["error"]["message"]
    assert member.startswith("UnsupportedFeature: not supported in the sandbox: Security.set_local_time_keeper")
    probe = outcome_of("", "        self.debug(f'HAS {hasattr(self.securities[\"ABC\"], \"set_local_time_keeper\")}')\n")
    assert any("HAS False" in line for line in probe["result"]["logs"])  # a probe still answers


def test_quit_in_initialize_or_on_the_first_bar_completes(data):
    quit_early = HEADER.replace("        self.set_benchmark(\"ABC\")\n", "        self.set_benchmark(\"ABC\")\n        self.quit('done')\n")
    outcome = run(quit_early, data)
    assert outcome["result"]["statistics"]["Total Orders"] == "0"
    assert outcome["result"]["statistics"]["End Equity"] == "100000"
    on_first_bar = HEADER + "\n    def on_data(self, data):\n        self.market_order(self.abc, 1)\n        self.quit()\n"
    result = run(on_first_bar, data)["result"]
    assert result["statistics"]["Total Orders"] == "1" and any("Algorithm quit" in line for line in result["logs"])
    without_securities = ("from AlgorithmImports import *\n\nclass A(QCAlgorithm):\n    def initialize(self):\n"
                          "        self.set_start_date(2024, 1, 2)\n        self.quit()\n")
    assert run(without_securities, data)["result"]["statistics"]["Net Profit"] == "0%"


def test_issue_15_behaviour_bugs(data):
    source = HEADER + '''        self.fast = self.ema(self.abc, 3, Resolution.DAILY)   # LEAN's overload: the resolution, not a smoothing
        self.calls = 0
        self.debug(f"START {type(self.start_date).__name__} {self.start_date:%Y-%m-%d %H:%M}")

    def on_warmup_finished(self):
        self.calls += 1

    def on_end_of_algorithm(self):
        self.debug(f"K {self.fast.k} WARMUP {self.calls}")
'''
    logs = " ".join(result_of(run(source, data))["logs"])
    assert "START datetime 2024-01-02 00:00" in logs
    assert "K 0.5 WARMUP 1" in logs  # 2 / (3 + 1), and on_warmup_finished once without a warm-up


def test_classic_renko_bricks_as_lean_builds_them(tmp_path: Path) -> None:
    """LEAN's ClassicRenkoConsolidator(2.5) on closes 100.2, 101, 103.1, 102, 99, 97.4, 98: the first bar only
    opens a brick, at ceil(100.2 / 2.5) * 2.5 = 102.5; 99 <= 102.5 - 2.5 closes it at 100; the next brick opens at
    100 (99 does not move it) and 97.4 <= 97.5 closes it at 97.5; a selector (here high) builds its own bricks."""
    closes = [100.2, 101, 103.1, 102, 99, 97.4, 98]
    days = sessions(date(2020, 1, 6), len(closes))
    write_daily(tmp_path, "ABC", [(d, c, c + 3, c - 0.1, c) for d, c in zip(days, closes, strict=True)])
    source = '''from AlgorithmImports import *

class Bricks(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2020, 1, 6)
        self.set_end_date(2020, 1, 14)
        self.add_equity("ABC", Resolution.DAILY)
        renko = ClassicRenkoConsolidator(2.5)
        renko.data_consolidated += lambda _, bar: self.debug(f"BRICK {bar.open:g} {bar.close:g} {bar.is_closed}")
        self.subscription_manager.add_consolidator("ABC", renko)
        high = ClassicRenkoConsolidator(2.5, lambda bar: bar.high)
        high.data_consolidated += lambda _, bar: self.debug(f"HIGH {bar.open:g} {bar.close:g}")
        self.subscription_manager.add_consolidator("ABC", high)
'''
    logs = run(source, tmp_path)["result"]["logs"]
    assert [l.split(" ", 2)[2] for l in logs if "BRICK" in l] == ["BRICK 102.5 100 True", "BRICK 100 97.5 True"]
    # highs 103.2, 104, 106.1, 105, 102, 100.4, 101: a brick opens at 105 and closes at 102.5 on 102; the next
    # (open 102.5) would close at 100 or 105, which 100.4 and 101 do not reach
    assert [l.split(" ", 2)[2] for l in logs if "HIGH" in l] == ["HIGH 105 102.5"]


def test_trin_as_lean_computes_it_and_unregister_stops_it(tmp_path: Path) -> None:
    """LEAN's TRIN over A, B, C on daily bars: not ready on the first day; on the second A rises on 3M shares, B
    and C fall on 1M each: (1 advancing / 2 declining) / (3M / 2M) = 1/3. Unregistered, it gets no more bars."""
    import zipfile

    days = sessions(date(2020, 1, 6), 3)
    bars = {"A": [(100, 1), (101, 3), (102, 1)], "B": [(50, 1), (49, 1), (48, 1)], "C": [(20, 1), (19, 1), (18, 1)]}
    for ticker, rows in bars.items():
        lines = [f"{d:%Y%m%d} 00:00,{c * 10_000},{c * 10_000},{c * 10_000},{c * 10_000},{v * 1_000_000}"
                 for d, (c, v) in zip(days, rows, strict=True)]
        target = tmp_path / "equity" / "usa" / "daily"
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target / f"{ticker.lower()}.zip", "w") as archive:
            archive.writestr(f"{ticker.lower()}.csv", "\n".join(lines) + "\n")
    source = '''from AlgorithmImports import *

class Arms(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2020, 1, 6)
        self.set_end_date(2020, 1, 8)
        symbols = [self.add_equity(t, Resolution.DAILY).symbol for t in ("A", "B", "C")]
        self.arms = self.trin(symbols)

    def on_data(self, data):
        self.debug(f"TRIN {self.arms.is_ready} {self.arms.current.value:.6f} {self.arms.samples}")
        if self.arms.is_ready:
            self.unregister_indicator(self.arms)
'''
    logs = [l.split(" ", 2)[2] for l in run(source, tmp_path)["result"]["logs"] if "TRIN" in l]
    assert logs == ["TRIN False 0.000000 3", f"TRIN True {1 / 3:.6f} 6", f"TRIN True {1 / 3:.6f} 6"]


def test_indicator_history_feeds_the_warm_up_and_keeps_ready_points(tmp_path: Path) -> None:
    """LEAN's IndicatorHistory: SMA(3) over 4 points takes 4 + 3 - 1 = 6 bars (closes 30..80 of 10..80) and
    keeps the 4 ready values 40, 50, 60, 70; a BollingerBands point names its parts (middle 70, upper 70 + 2 x the
    population deviation of 60, 70, 80)."""
    days = sessions(date(2020, 1, 6), 8)
    write_daily(tmp_path, "ABC", [(d, *(10.0 * (i + 1),) * 4) for i, d in enumerate(days)])
    source = '''from AlgorithmImports import *

class Hist(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2020, 1, 6)
        self.set_end_date(2020, 1, 15)
        self.add_equity("ABC", Resolution.DAILY)

    def on_end_of_algorithm(self):
        sma = self.indicator_history(SimpleMovingAverage(3), "ABC", 4)
        self.debug(f"SMA {sma.count} {[round(p.value, 6) for p in sma.current]}")
        bands = self.indicator_history(BollingerBands(3, 2), "ABC", 1)
        last = list(bands)[-1]
        self.debug(f"BB {bands.count} {last['middle_band'].value:.6f} {last.upper_band.value:.6f} "
                   f"{len(bands.data_frame)}")
'''
    logs = run(source, tmp_path)["result"]["logs"]
    assert next(l for l in logs if "SMA" in l).endswith("SMA 4 [40.0, 50.0, 60.0, 70.0]")
    assert next(l for l in logs if "BB" in l).endswith(f"BB 1 {70:.6f} {70 + 2 * (200 / 3) ** 0.5:.6f} 1")
