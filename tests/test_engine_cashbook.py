"""LEAN's cash book, currency conversions, crypto fee models, cash-account buying power and named brokerages,
against hand computations and the statistics LEAN's own regression algorithms expect on its sample data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from qcmcp.sandbox.engine.broker import coinbase_fee_fraction, fee_cash
from qcmcp.sandbox.engine.cashbook import CashBook, SecurityCurrencyConversion
from qcmcp.sandbox.engine.currencies import Currencies
from qcmcp.sandbox.engine.data import CRYPTO
from qcmcp.sandbox.engine.types import Symbol
from tests.engine_helpers import run

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "lean-data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="LEAN's sample data is not next to the repository")


def pair(ticker: str, quote: str, price: float, market: str = "coinbase") -> SimpleNamespace:
    return SimpleNamespace(symbol=Symbol(ticker, 7), quote_currency=SimpleNamespace(symbol=quote), hours=CRYPTO,
                           market=market, price=price)


def test_cash_book_moves_the_cash_to_a_new_account_currency_and_values_every_currency_in_it():
    book = CashBook()
    book["USD"].set_amount(100_000)
    book.account_currency = "EUR"  # LEAN's CashBook.AccountCurrency: the amount moves, at rate 1
    assert [(code, cash.amount, cash.conversion_rate) for code, cash in book.items()] == [("EUR", 100_000, 1.0)]
    book.add("USD", 1_000, 0.8)
    assert book.total_value_in_account_currency == pytest.approx(100_800)
    assert book.convert(10, "USD", "EUR") == pytest.approx(8)
    assert book["usd"].currency_symbol == "$" and Currencies.get_currency_symbol("USDT") == "₮"
    with pytest.raises(KeyError, match="This cash symbol \\(BTC\\) was not found in your cash book"):
        book["BTC"]


def test_conversions_take_the_algorithms_pairs_first_two_legs_and_stable_coins_as_lean():
    eth_usd, ltc_usd = pair("ETHUSD", "USD", 400.0), pair("LTCUSD", "USD", 120.0)
    book = CashBook()
    book.account_currency = "ETH"
    book.add("LTC", 10, 0)
    book.add("USD", 800, 0)
    book.ensure_currency_data_feeds([eth_usd, ltc_usd], [], lambda *_: None, "coinbase")
    ltc = book["LTC"].currency_conversion
    assert isinstance(ltc, SecurityCurrencyConversion)
    assert ltc.conversion_rate_securities == [ltc_usd, eth_usd]  # LTC→USD, then USD→ETH (inverted)
    assert book["LTC"].conversion_rate == pytest.approx(120 / 400)
    assert book["USD"].conversion_rate == pytest.approx(1 / 400)
    assert book.total_value_in_account_currency == pytest.approx(10 * 0.3 + 2)
    # A USD account on Binance: USDT has no USD pair there, so it counts one for one; BTCUSDT values BTC
    stable = CashBook()
    stable.add("USDT", 1_000, 0)
    stable.add("BTC", 2, 0)
    btc_usdt = pair("BTCUSDT", "USDT", 30_000.0, "binance")
    stable.ensure_currency_data_feeds([btc_usdt], [("BTCUSD", "crypto", "binance", "USD")],
                                      lambda *_: pytest.fail("no pair to add"), "binance")
    assert stable["USDT"].conversion_rate == 1.0 and stable["BTC"].conversion_rate == 30_000.0


def test_a_pair_the_algorithm_lacks_is_added_as_an_internal_feed():
    added = []
    eur_usd = pair("EURUSD", "USD", 1.25)
    book = CashBook()
    book.add("EUR", 100, 0)
    book.ensure_currency_data_feeds([], [("EURUSD", "forex", "oanda", "USD")],
                                    lambda *entry: added.append(entry) or eur_usd, "coinbase")
    assert added == [("EURUSD", "forex", "oanda")] and book["EUR"].conversion_rate == 1.25


def test_crypto_fee_models_charge_leans_rates_in_leans_currencies():
    # CoinbaseFeeModel.GetFeePercentage: taker 0.3 % / maker 0 until 23 March 2019, then 0.25/0.15 %, 0.8/0.6 % now
    assert coinbase_fee_fraction(datetime(2018, 4, 4), False, False) == 0.003
    assert coinbase_fee_fraction(datetime(2018, 4, 4), True, False) == 0.0
    assert coinbase_fee_fraction(datetime(2019, 5, 1), True, False) == 0.0015
    assert coinbase_fee_fraction(datetime(2024, 1, 1), False, False) == 0.008
    assert coinbase_fee_fraction(datetime(2024, 1, 1), False, True) == 0.00001  # a stable pair
    security = SimpleNamespace(fee_model="binance", hours=CRYPTO, price=100.0, bid_price=99.0, ask_price=101.0,
                               symbol=Symbol("BTCUSDT", 7), quote_currency=SimpleNamespace(symbol="USDT"),
                               base_currency=SimpleNamespace(symbol="BTC"), bar=None)
    # BinanceFeeModel: a buy pays 0.1 % of the coins bought, a sell 0.1 % of its value at the bid, in USDT
    assert fee_cash(security, 2.0, 100.0) == (pytest.approx(0.002), "BTC")
    assert fee_cash(security, -2.0, 100.0) == (pytest.approx(2 * 99 * 0.001), "USDT")


def test_a_cash_account_buys_with_its_quote_currency_and_cannot_sell_what_it_does_not_hold():
    source = '''from AlgorithmImports import *

class Cash(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2024, 1, 2)
        self.set_end_date(2024, 1, 3)
        self.set_brokerage_model(BrokerageName.GDAX, AccountType.CASH)
        self.set_cash(1000)
        self.btc = self.add_crypto("BTCUSD", Resolution.DAILY).symbol

    def on_data(self, data):
        if self.transactions.orders_count == 0:
            price = self.securities[self.btc].price
            self.sell_ticket = self.market_order(self.btc, -0.01)
            quantity = self.calculate_order_quantity(self.btc, 0.5)
            self.debug(f"TARGET {quantity} {price}")
            self.market_order(self.btc, quantity)
            self.debug(f"BOOK {self.portfolio.cash_book['BTC'].amount} {self.portfolio.cash_book['USD'].amount}")
'''
    outcome = run(source)["result"]
    target = next(line for line in outcome["logs"] if "TARGET" in line).split()
    quantity, price = float(target[3]), float(target[4])
    # CashBuyingPowerModel: half of $1,000 less LEAN's 0.25 % free buffer, over the price, fees (0.8 %) included
    value = 0.5 * 1000 * (1 - 0.0025)
    assert quantity * price * 1.008 <= value + 1e-9 < (quantity + 1e-8) * price * 1.008 + 1e-6
    book = next(line for line in outcome["logs"] if "BOOK" in line).split()
    assert float(book[3]) == pytest.approx(quantity) and float(book[4]) == pytest.approx(1000 - quantity * price * 1.008)
    first = outcome["orders"][0]
    assert first["status"] == "invalid" or first["events"][-1]["status"] == "invalid"  # no BTC to sell: no shorting


# LEAN's regression algorithms (Algorithm.Python, trimmed of comments), with the statistics their C# twins expect
ACCOUNT_CURRENCY = '''from AlgorithmImports import *

class BasicSetAccountCurrencyAlgorithm(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2018, 4, 4)
        self.set_end_date(2018, 4, 4)
        self.set_brokerage_model(BrokerageName.GDAX, AccountType.CASH)
        self.set_account_currency("EUR"{amount})
        {cash}
        self._btc_eur = self.add_crypto("BTCEUR").symbol

    def on_data(self, data):
        if not self.portfolio.invested:
            self.set_holdings(self._btc_eur, 1)
'''
STABLE_COINS = '''from AlgorithmImports import *

class StableCoinsRegressionAlgorithm(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2018, 5, 1)
        self.set_end_date(2018, 5, 2)
        self.set_cash("USDT", 200000000)
        self.set_brokerage_model(BrokerageName.BINANCE, AccountType.CASH)
        self.add_crypto("BTCUSDT", Resolution.HOUR, Market.BINANCE)

    def on_data(self, data):
        if not self.portfolio.invested:
            self.set_holdings("BTCUSDT", 1)
'''
BYBIT = '''from AlgorithmImports import *

class BybitCryptoRegressionAlgorithm(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2022, 12, 13)
        self.set_end_date(2022, 12, 13)
        self.set_account_currency("USDT")
        self.set_cash(100000)
        self.set_cash("BTC", 1)
        self.set_brokerage_model(BrokerageName.BYBIT, AccountType.CASH)
        self.btc_usdt = self.add_crypto("BTCUSDT").symbol
        self.fast = self.ema(self.btc_usdt, 30, Resolution.MINUTE)
        self.slow = self.ema(self.btc_usdt, 60, Resolution.MINUTE)
        self.liquidated = False

    def on_data(self, data):
        if self.portfolio.cash_book["USDT"].conversion_rate == 0 or self.portfolio.cash_book["BTC"].conversion_rate == 0:
            raise AssertionError("Conversion rate is 0")
        if not self.slow.is_ready:
            return
        btc_amount = self.portfolio.cash_book["BTC"].amount
        if self.fast > self.slow:
            if btc_amount == 1 and not self.liquidated:
                self.buy(self.btc_usdt, 1)
        else:
            if btc_amount > 1:
                self.liquidate(self.btc_usdt)
                self.liquidated = True
            elif btc_amount > 0 and self.liquidated and len(self.transactions.get_open_orders()) == 0:
                limit_price = round(self.securities[self.btc_usdt].price * 1.01, 2)
                self.limit_order(self.btc_usdt, -btc_amount, limit_price)

    def on_end_of_algorithm(self):
        if self.portfolio.cash_book["BTC"].amount > 0:
            raise AssertionError("BTC holdings should be zero at the end of the algorithm")
'''
TWO_LEGS = '''from AlgorithmImports import *

class TwoLegCurrencyConversionRegressionAlgorithm(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2018, 4, 4)
        self.set_end_date(2018, 4, 4)
        self.set_brokerage_model(BrokerageName.GDAX, AccountType.CASH)
        self.set_account_currency("ETH")
        self.set_cash("ETH", 100000)
        self.set_cash("LTC", 100000)
        self.set_cash("USD", 100000)
        self._eth_usd_symbol = self.add_crypto("ETHUSD", Resolution.MINUTE).symbol
        self._ltc_usd_symbol = self.add_crypto("LTCUSD", Resolution.MINUTE).symbol

    def on_data(self, data):
        if not self.portfolio.invested:
            self.market_order(self._ltc_usd_symbol, 1)

    def on_end_of_algorithm(self):
        ltc_cash = self.portfolio.cash_book["LTC"]
        conversion_symbols = [x.symbol for x in ltc_cash.currency_conversion.conversion_rate_securities]
        if conversion_symbols != [self._ltc_usd_symbol, self._eth_usd_symbol]:
            raise ValueError(f"Unexpected conversion securities {conversion_symbols}")
        ltc_usd_value = self.securities[self._ltc_usd_symbol].get_last_data().value
        eth_usd_value = self.securities[self._eth_usd_symbol].get_last_data().value
        if ltc_cash.conversion_rate != ltc_usd_value / eth_usd_value:
            raise ValueError("Unexpected conversion rate from LTC to ETH")
'''


@needs_data
@pytest.mark.parametrize(("source", "orders", "fees", "start", "end"), [
    (ACCOUNT_CURRENCY.format(amount="", cash="self.set_cash(100000)"), "1", "€298.35", "100000", "92395.59"),
    (ACCOUNT_CURRENCY.format(amount=", 200000", cash="pass"), "1", "€596.71", "200000", "184791.19"),
    (STABLE_COINS, "1", "$199400.35", "200100000", "206873962.29"),
    (BYBIT, "3", "₮51.65", "117170.74", None),  # LEAN ends at 117244.52: its limit fills read the bid bar
    (TWO_LEGS, "1", "Ξ0.00", "132337.76", "131620.05"),
], ids=["account-currency", "account-currency-with-amount", "stable-coins", "bybit", "two-legs"])
def test_leans_account_currency_algorithms_give_its_orders_fees_and_equity(source, orders, fees, start, end):
    """The first bar is the one ending at the start's midnight, crypto prices are the quote mid, buys fill at the
    ask: LEAN's start and end equity to the cent."""
    outcome = run(source, DATA)
    statistics = outcome["result"]["statistics"]
    assert (statistics["Total Orders"], statistics["Total Fees"]) == (orders, fees)
    assert float(statistics["Start Equity"]) == pytest.approx(float(start), abs=0.005)
    if end is not None:
        assert statistics["End Equity"] == end


@needs_data
def test_axos_and_alpha_streams_brokerages_as_lean():
    source = '''from AlgorithmImports import *

class Axos(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.set_brokerage_model(BrokerageName.AXOS)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol

    def on_data(self, data):
        if not self.portfolio.invested and self.transactions.orders_count == 0:
            self.set_holdings(self.spy, 0.25)
            self.stop_market_order(self.spy, -1, 100)
'''
    outcome = run(source, DATA)["result"]
    filled, refused = outcome["orders"]
    assert outcome["statistics"]["Total Fees"] == f"${0.0035 * filled['quantity']:.2f}"  # AxosFeeModel, per share
    assert "StopMarket order type is not supported" in refused["events"][-1]["message"]
    streams = run(source.replace("BrokerageName.AXOS", "BrokerageName.ALPHA_STREAMS").replace(
        "            self.stop_market_order(self.spy, -1, 100)\n", ""), DATA)["result"]
    order = streams["orders"][0]
    # AlphaStreamsBrokerageModel: leverage 1, IB fees, a market fill 0.01 % of the price worse
    assert order["quantity"] * order["price"] <= 0.25 * 100_000
    cash = run(source.replace("BrokerageName.AXOS", "BrokerageName.ALPHA_STREAMS, AccountType.CASH"), DATA)
    assert "does not currently support Cash trading" in cash["error"]["message"]


def test_crypto_limit_and_stop_orders_fill_as_leans_fill_model_on_the_quote_side():
    """Crypto uses LEAN's ImmediateFillModel (not EquityFillModel): a buy limit fills at min(ask high, limit) even
    when the bar opened below it; a sell stop at min(stop, bid close); the trade bar without quotes."""
    from qcmcp.sandbox.engine.broker import Order
    from qcmcp.sandbox.engine.engine import Engine
    from qcmcp.sandbox.engine.types import OrderType, TradeBar

    symbol = Symbol("BTCUSD", 7)
    bar = TradeBar(symbol, datetime(2024, 1, 2, 10), datetime(2024, 1, 2, 10, 1), 95.0, 101.0, 94.0, 99.0, 1.0)
    quoted = SimpleNamespace(quote_range=(100.5, 93.0, 100.8, 93.5), bid_price=98.9, ask_price=99.1)
    unquoted = SimpleNamespace(quote_range=None, bid_price=float("nan"), ask_price=float("nan"))
    buy = Order(1, symbol, 1.0, OrderType.LIMIT, datetime(2024, 1, 2, 9), limit_price=97.0)
    assert Engine._pair_fill_price(buy, quoted, bar) == 97.0  # ask low 93.5 < 97: min(ask high 100.8, 97)
    assert buy.fill_on(bar) == 95.0  # EquityFillModel would take the open below the limit
    sell_stop = Order(2, symbol, -1.0, OrderType.STOP_MARKET, datetime(2024, 1, 2, 9), stop_price=96.0)
    assert Engine._pair_fill_price(sell_stop, quoted, bar) == 96.0  # bid low 93 < 96: min(96, bid close 98.9)
    high_limit = Order(3, symbol, -1.0, OrderType.LIMIT, datetime(2024, 1, 2, 9), limit_price=100.7)
    assert Engine._pair_fill_price(high_limit, quoted, bar) is None  # the bid high 100.5 never reached it
    assert Engine._pair_fill_price(high_limit, unquoted, bar) == 100.7  # the trade bar's high 101 did


@needs_data
def test_a_currency_whose_conversion_pair_has_no_data_refuses_clearly():
    """A EUR account trading SPY needs USD in EUR: LEAN would subscribe EURUSD, which the sample lacks."""
    source = '''from AlgorithmImports import *

class Eur(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.set_account_currency("EUR")
        self.add_equity("SPY", Resolution.DAILY)
'''
    message = run(source, DATA)["error"]["message"]
    assert "not supported in the sandbox: valuing USD cash (the data folder has no EURUSD forex data" in message


@needs_data
def test_order_events_carry_the_quote_and_fee_currencies():
    outcome = run(ACCOUNT_CURRENCY.format(amount="", cash="self.set_cash(100000)"), DATA)["result"]
    filled = outcome["orders"][0]["events"][-1]
    assert (filled["fillPriceCurrency"], filled["orderFeeCurrency"]) == ("EUR", "EUR")  # BTCEUR on Coinbase
    bybit = run(BYBIT, DATA)["result"]
    bought = bybit["orders"][0]["events"][-1]
    assert (bought["fillPriceCurrency"], bought["orderFeeCurrency"]) == ("USDT", "BTC")  # Bybit: a buy pays in BTC
