"""LEAN's security seeding (engine/seeding.py) from LEAN's sample SPY minute files, read here by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine_helpers import run

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "lean-data"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="LEAN's sample data is not next to the repository")


def test_a_seeded_security_has_the_last_regular_hours_trade_and_quote_bars() -> None:
    # Added on Oct 8 in raw mode: the last regular-hours minute of Oct 7 is 15:59. Its trade row
    # (57540000,1676300,1676300,1674100,1674200,2918992) closes at 167.42 on 2,918,992 shares; its quote row
    # (57540000,1676200,1676300,1674100,1674400,5800,1676300,1676400,1674200,1674500,12900) has bid close 167.44
    # (last size 5,800) and ask close 167.45 (12,900) — not the 19:59 extended-hours quote.
    source = '''from AlgorithmImports import *

class Probe(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 8)
        self.set_end_date(2013, 10, 8)
        self.set_security_initializer(BrokerageModelSecurityInitializer(
            self.brokerage_model, FuncSecuritySeeder(self.get_last_known_prices)))
        spy = self.add_equity("SPY", Resolution.MINUTE, data_normalization_mode=DataNormalizationMode.RAW)
        kinds = [type(d).__name__ for d in self.get_last_known_prices(spy)]
        self.debug(f"SEED {kinds} {spy.price} {spy.volume} {spy.bid_price} {spy.bid_size} {spy.ask_price} "
                   f"{spy.ask_size} {type(self.get_last_known_price(spy)).__name__}")
        self.quit()
'''
    outcome = run(source, DATA)["result"]
    assert "SEED ['TradeBar', 'QuoteBar'] 167.42 2918992.0 167.44 5800.0 167.45 12900.0 TradeBar" in " ".join(outcome["logs"])
