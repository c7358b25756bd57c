"""Quote bars of minute equities (``slice.quote_bars``) and their consolidation (LEAN's QuoteBarConsolidator,
``consolidate(QuoteBar | BaseData, symbol, count, ...)``), against hand computations from SPY's quote zip."""

from __future__ import annotations

import pytest

from tests.engine_helpers import run
from tests.test_engine_lean import DATA, minute_of, raw_rows

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="LEAN's sample data is not next to the repository")

ALGORITHM = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.add_equity("SPY", Resolution.MINUTE, data_normalization_mode=DataNormalizationMode.RAW)
        self.made = [self.consolidate(QuoteBar, "SPY", 3, None, lambda bar: self.show("COUNT", bar)),
                     self.consolidate(BaseData, "SPY", 3, None, lambda bar: self.show("BASE", bar))]
        five = QuoteBarConsolidator(timedelta(minutes=5))
        five.data_consolidated += lambda _, bar: self.show("FIVE", bar)
        self.subscription_manager.add_consolidator("SPY", five)
        self.shown = {}

    def show(self, kind, bar):
        self.shown[kind] = self.shown.get(kind, 0) + 1
        if self.shown[kind] > 2:
            return
        if kind == "BASE":
            self.log(f"{kind} {type(bar).__name__} {bar.time:%H:%M} {bar.end_time:%H:%M} {bar.open} {bar.high} "
                     f"{bar.low} {bar.close}")
            return
        self.log(f"{kind} {type(bar).__name__} {bar.time:%H:%M} {bar.end_time:%H:%M} {bar.bid.open} {bar.bid.high} "
                 f"{bar.bid.low} {bar.bid.close} {bar.ask.open} {bar.ask.high} {bar.ask.low} {bar.ask.close} "
                 f"{bar.last_bid_size} {bar.last_ask_size}")

    def on_data(self, data):
        if "FIRSTQUOTE" not in self.shown:
            self.shown["FIRSTQUOTE"] = 1
            quote = data.quote_bars["SPY"]
            self.log(f"SLICE {type(quote).__name__} {quote.time:%H:%M} {quote.bid.close} {quote.ask.close} "
                     f"{type(self.made[0]).__name__} {type(self.made[1]).__name__}")
'''


def logged(outcome: dict, kind: str) -> list[list[str]]:
    return [line.split()[2:] for line in outcome["logs"] if line.split()[2:3] == [kind]]


def prices(row: list[str]) -> list[float]:
    """bid O H L C, ask O H L C of a quote-file row (ms, bid OHLC, bid size, ask OHLC, ask size)."""
    return [int(row[i]) / 10_000 for i in (1, 2, 3, 4, 6, 7, 8, 9)]


def test_quote_bars_consolidate_by_count_and_period_as_lean():
    outcome = run(ALGORITHM, DATA)["result"]
    quotes, trades = raw_rows("20131007_quote.zip"), raw_rows("20131007_trade.zip")
    rows = [minute_of(quotes, 9, 30 + k) for k in range(10)]
    # slice.quote_bars: the 09:30 quote bar; the typed overloads give LEAN's consolidator types
    [slice_line] = logged(outcome, "SLICE")
    assert slice_line[1:3] == ["QuoteBar", "09:30"]
    assert float(slice_line[3]) == prices(rows[0])[3] and float(slice_line[4]) == prices(rows[0])[7]
    assert slice_line[5:] == ["QuoteBarConsolidator", "BaseDataConsolidator"]

    def expected(first: list[str], group: list[list[str]], opens: list[float] | None) -> list[float]:
        values = [prices(r) for r in group]
        bid = [opens[0] if opens else values[0][0], max(v[1] for v in values), min(v[2] for v in values),
               values[-1][3]]
        ask = [opens[1] if opens else values[0][4], max(v[5] for v in values), min(v[6] for v in values),
               values[-1][7]]
        if opens:  # LEAN opens the next bar at the previous consolidated closes: they bound its range too
            bid[1], bid[2] = max(bid[1], opens[0]), min(bid[2], opens[0])
            ask[1], ask[2] = max(ask[1], opens[1]), min(ask[2], opens[1])
        return [*bid, *ask, float(group[-1][5]), float(group[-1][10])]

    first, second = logged(outcome, "COUNT")
    assert first[1:4] == ["QuoteBar", "09:30", "09:33"] and second[1:4] == ["QuoteBar", "09:33", "09:36"]
    one = expected(first, rows[0:3], None)
    assert [float(x) for x in first[4:]] == pytest.approx(one)
    assert [float(x) for x in second[4:]] == pytest.approx(expected(second, rows[3:6], [one[3], one[7]]))
    five, _ = logged(outcome, "FIVE")
    assert five[1:4] == ["QuoteBar", "09:30", "09:35"]
    assert [float(x) for x in five[4:]] == pytest.approx(expected(five, rows[0:5], None))
    # consolidate(BaseData, ...): a TradeBar of the trade bars' values (closes)
    base, _ = logged(outcome, "BASE")
    closes = [int(minute_of(trades, 9, 30 + k)[4]) / 10_000 for k in range(3)]
    assert base[1:4] == ["TradeBar", "09:30", "09:33"]
    assert [float(x) for x in base[4:]] == pytest.approx([closes[0], max(closes), min(closes), closes[-1]])
