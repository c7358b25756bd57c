"""Custom data from Python (add_data with a PythonData subclass), read as LEAN's SubscriptionDataReader reads it:
the object store or a local file, day by day, a point going back in time skipped, ``sort`` honoured, history as a
frame of the reader's properties; a custom security trades at its value without fees; a remote source refuses."""

from __future__ import annotations

from tests.engine_helpers import run

POINTS = ["2020-01-02 00:00:00,10", "2020-01-03 00:00:00,11", "2020-01-02 12:00:00,99",  # goes back: skipped
          "2020-01-06 00:00:00,12", "2020-01-07 00:00:00,15"]

SOURCE = '''from AlgorithmImports import *

class Points(PythonData):
    def get_source(self, config, date, is_live):
        return SubscriptionDataSource("points", SubscriptionTransportMedium.OBJECT_STORE, FileFormat.CSV)

    def reader(self, config, line, date, is_live):
        fields = line.split(",")
        point = Points()
        point.symbol = config.symbol
        point.time = datetime.strptime(fields[0], "%Y-%m-%d %H:%M:%S")
        point.value = float(fields[1])
        point["Close"] = float(fields[1])
        point["Double"] = 2 * float(fields[1])
        return point

class Custom(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2020, 1, 1)
        self.set_end_date(2020, 1, 7)
        self.set_cash(100000)
        self.set_benchmark(lambda time: 0)
        self.object_store.save("points", "\\n".join(LINES))
        self.custom = self.add_data(Points, "PTS", Resolution.DAILY).symbol

    def on_data(self, data):
        point = data.get(Points, self.custom)
        self.debug(f"POINT {self.time:%Y-%m-%d %H:%M} {point.value:g} {point.close:g} {point.Double:g} "
                   f"{data[self.custom].price:g} {len(data.get(Points))}")
        if not self.portfolio.invested:
            self.market_order(self.custom, 1000)

    def on_end_of_algorithm(self):
        frame = self.history(Points, self.custom, datetime(2020, 1, 1), datetime(2020, 1, 8), Resolution.DAILY)
        self.debug(f"HISTORY {frame.shape[0]} {list(frame.columns)} {frame['double'].iloc[-1]:g}")
        self.debug(f"LAST {self.history(Points, self.custom, 2).shape[0]}")
'''


ADD_POINTS = '''        self.custom = self.add_data(Points, "PTS", Resolution.DAILY).symbol'''


def logs(outcome: dict) -> list[str]:
    assert "result" in outcome, outcome
    return outcome["result"]["logs"]


def test_custom_points_from_the_object_store_arrive_in_leans_order_and_trade_at_their_value():
    outcome = run(SOURCE.replace("LINES", repr(POINTS)))
    lines = [line.split("POINT ")[1] for line in logs(outcome) if "POINT " in line]
    # The 12:00 point on 2 January comes after the 3rd's in the file: time went back, LEAN skips it.
    assert lines == ["2020-01-02 00:00 10 10 20 10 1", "2020-01-03 00:00 11 11 22 11 1",
                     "2020-01-06 00:00 12 12 24 12 1", "2020-01-07 00:00 15 15 30 15 1"]
    history = next(line for line in logs(outcome) if "HISTORY" in line)
    assert history.endswith("HISTORY 4 ['close', 'double', 'value'] 30")
    assert any(line.endswith("LAST 2") for line in logs(outcome))
    statistics = outcome["result"]["statistics"]
    # 1,000 units bought at 10 (a Base security: immediate fill at the value, no fee), worth 15 at the end.
    assert statistics["Total Orders"] == "1" and statistics["Total Fees"] == "$0.00"
    assert float(statistics["End Equity"]) == 105000 and statistics["Net Profit"] == "5.000%"


def test_sort_orders_a_descending_source_and_a_local_file_is_read(tmp_path):
    (tmp_path / "points.csv").write_text("\n".join(reversed(POINTS)) + "\n")
    local = f"found = SubscriptionDataSource({str(tmp_path / 'points.csv')!r})\n        found.sort = True\n" \
            "        return found"
    source = SOURCE.replace(
        'return SubscriptionDataSource("points", SubscriptionTransportMedium.OBJECT_STORE, FileFormat.CSV)', local)
    outcome = run(source.replace("LINES", "[]"))
    times = [line.split("POINT ")[1][:16] for line in logs(outcome) if "POINT " in line]
    # Sorted, the 2 January 12:00 point has its place: nothing goes back in time any more.
    assert times == ["2020-01-02 00:00", "2020-01-02 12:00", "2020-01-03 00:00", "2020-01-06 00:00",
                     "2020-01-07 00:00"]


def test_a_remote_source_refuses_clearly():
    source = SOURCE.replace('SubscriptionDataSource("points", SubscriptionTransportMedium.OBJECT_STORE, FileFormat.CSV)',
                            'SubscriptionDataSource("https://example.test/points.csv?key=1", '
                            'SubscriptionTransportMedium.REMOTE_FILE)')
    outcome = run(source.replace("LINES", "[]"))
    message = outcome["error"]["message"]
    assert "not supported in the sandbox: custom data from a remote file (https://example.test/points.csv:" in message
    assert "key=1" not in message


def test_lean_types_that_are_not_python_data_refuse():
    source = '''from AlgorithmImports import *

class Custom(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2020, 1, 1)
        self.add_data(TradeBar, "SPY")
'''
    assert "not supported in the sandbox: add_data(TradeBar" in run(source)["error"]["message"]


def test_a_custom_reader_of_leans_own_files_finds_them_through_globals_and_lean_data():
    """LEAN's pattern for custom data over its own files: Globals.data_folder + LeanData.generate_zip_file_name
    (equities at daily resolution: '<ticker>.zip'); the points are the raw closes of SPY's daily file, read here
    independently; a TradeBar's value and period are settable, as LEAN's are."""
    import zipfile
    from pathlib import Path

    data = Path(__file__).resolve().parent.parent.parent / "shared" / "lean-data"
    with zipfile.ZipFile(data / "equity" / "usa" / "daily" / "spy.zip") as archive:
        rows = archive.read(archive.namelist()[0]).decode().splitlines()
    closes = {row[:8]: int(row.split(",")[4]) / 10000 for row in rows if row[:8] in ("20131007", "20131008")}
    source = '''from AlgorithmImports import *

class LeanFile(PythonData):
    def get_source(self, config, date, is_live):
        name = LeanData.generate_zip_file_name(config.Symbol, date, config.Resolution, config.TickType)
        return SubscriptionDataSource(Globals.data_folder + "/equity/usa/daily/" + name)

    def reader(self, config, line, date, is_live):
        fields = line.split(",")
        point = LeanFile()
        point.symbol = config.symbol
        point.time = datetime.strptime(fields[0], "%Y%m%d %H:%M")
        point.end_time = point.time + timedelta(days=1)
        point.value = float(fields[4]) / 10000.0
        return point

class Custom(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.custom = self.add_data(LeanFile, "SPY", Resolution.DAILY).symbol
        bar = TradeBar()
        bar.value, bar.time = 5.0, datetime(2013, 10, 7)
        bar.period = timedelta(days=1)
        self.debug(f"BAR {bar.close:g} {bar.end_time:%Y-%m-%d} {self.portfolio.hold_stock}")

    def on_data(self, data):
        self.debug(f"POINT {data[self.custom].end_time:%Y%m%d} {data[self.custom].value:g}")
'''
    outcome = run(source, data)
    lines = logs(outcome)
    assert any(line.endswith("BAR 5 2013-10-08 False") for line in lines)
    points = [line.split("POINT ")[1] for line in lines if "POINT " in line]
    # Each daily point ends the next midnight: the 7th's arrives on the 8th, and the 8th's on the 9th — after the
    # end date, yet LEAN's SubscriptionDataReader stops only at a point that *starts* after the end.
    assert points == [f"20131008 {closes['20131007']:g}", f"20131009 {closes['20131008']:g}"], points


def test_a_mapped_custom_type_reads_leans_files_under_each_days_ticker_and_waits_for_fresh_data():
    """LEAN's CustomDataUsingMapFile pattern: a type that ``requires_mapping`` over FOXA (NWSA until 2013-06-28 in
    the map file) points TradeBar's own get_source at ``config.mapped_symbol`` for each day and parses with
    TradeBar.parse_equity. The rename arrives at Saturday's midnight (custom data is always open); an order
    placed then sees a price four hours stale, so it waits for the next point — the first FOXA bar — as LEAN's
    FillModel does, and the quantity comes from the stale NWSA close."""
    import zipfile
    from pathlib import Path

    data = Path(__file__).resolve().parent.parent.parent / "shared" / "lean-data"

    def rows(ticker: str, day: str) -> list[list[str]]:
        with zipfile.ZipFile(data / "equity" / "usa" / "minute" / ticker / f"{day}_trade.zip") as archive:
            return [row.split(",") for row in archive.read(archive.namelist()[0]).decode().split()]

    last_nwsa = int(rows("nwsa", "20130628")[-1][4]) / 10_000
    first_foxa = int(rows("foxa", "20130701")[0][4]) / 10_000
    source = '''from AlgorithmImports import *

class Mapped(PythonData):
    def get_source(self, config, date, is_live):
        self_config = SubscriptionDataConfig(config, Mapped,
                                             Symbol.create(config.mapped_symbol, SecurityType.EQUITY, config.market))
        return TradeBar().get_source(self_config, date, is_live)

    def reader(self, config, line, date, is_live):
        return TradeBar.parse_equity(config, line, date)

    def requires_mapping(self):
        return True

class Custom(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 6, 27)
        self.set_end_date(2013, 7, 2)
        self.custom = self.add_data(Mapped, Symbol.create("FOXA", SecurityType.EQUITY, Market.USA)).symbol
        [config] = self.subscription_manager.subscription_data_config_service.get_subscription_data_configs(self.custom)
        self.debug(f"CONFIG {config.resolution} {config.market} {config.is_custom_data}")

    def on_data(self, data):
        if data.symbol_changed_events.contains_key(self.custom):
            event = data.symbol_changed_events[self.custom]
            self.debug(f"RENAMED {self.time:%Y-%m-%d %H:%M} {event.old_symbol} {event.new_symbol}")
            self.set_holdings(self.custom, 1)
'''
    outcome = run(source, data)
    lines = logs(outcome)
    assert any(line.endswith("CONFIG minute usa True") for line in lines), lines
    assert [line.split("RENAMED ")[1] for line in lines if "RENAMED " in line] == ["2013-06-29 00:00 NWSA FOXA"]
    [order] = outcome["result"]["orders"]
    assert order["quantity"] == int(100_000 * 0.9975 / last_nwsa)  # set_holdings keeps LEAN's 0.25 % buffer
    assert order["price"] == first_foxa and order["lastFillTime"].startswith("2013-07-01")


def test_history_of_a_custom_type_over_leans_files_equals_the_files_bars():
    """TradeBar().get_source(SubscriptionDataConfig(config, Type, AAPL)) and TradeBar.parse_equity read AAPL's
    minute zip under any custom ticker: prices in ten-thousandths, times from the day's midnight."""
    import zipfile
    from pathlib import Path

    data = Path(__file__).resolve().parent.parent.parent / "shared" / "lean-data"
    with zipfile.ZipFile(data / "equity" / "usa" / "minute" / "aapl" / "20140605_trade.zip") as archive:
        first = archive.read(archive.namelist()[0]).decode().split()[0].split(",")
    source = '''from AlgorithmImports import *

class Apple(PythonData):
    def get_source(self, config, date, is_live):
        return TradeBar().get_source(
            SubscriptionDataConfig(config, Apple, Symbol.create("AAPL", SecurityType.EQUITY, config.market)), date,
            is_live)

    def reader(self, config, line, date, is_live):
        bar = TradeBar.parse_equity(config, line, date)
        point = Apple()
        point.symbol, point.time, point.value = config.symbol, bar.time, bar.close
        point.end_time = bar.end_time
        point["open"] = bar.open
        return point

class Custom(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2014, 6, 5)
        self.set_end_date(2014, 6, 6)
        self.custom = self.add_data(Apple, "ANYTHING", Resolution.MINUTE).symbol

    def on_end_of_algorithm(self):
        frame = self.history(Apple, self.custom, self.start_date, self.end_date, Resolution.MINUTE)
        row = frame.iloc[0]
        self.debug(f"FIRST {frame.index[0][1]:%Y-%m-%d %H:%M} {row['open']:g} {row['value']:g} {frame.shape[0]}")
'''
    outcome = run(source, data)
    [line] = [line for line in logs(outcome) if "FIRST " in line]
    millis = int(first[0])
    end = f"{(millis // 60_000 + 1) // 60:02d}:{(millis // 60_000 + 1) % 60:02d}"
    parts = line.split("FIRST ")[1].split()
    assert parts[:4] == ["2014-06-05", end, f"{int(first[1]) / 10_000:g}", f"{int(first[4]) / 10_000:g}"]
    assert int(parts[4]) > 390  # both days, extended hours included: custom data is always open


def test_custom_data_with_its_own_symbol_properties_and_exchange_hours_as_leans_set_database_entries():
    """add_data(Type, ticker, properties, exchange_hours): the security carries exactly those (LEAN files them in
    its two databases, where later reads find them); another ticker of the same type keeps the defaults."""
    source = SOURCE.replace(ADD_POINTS, '''        properties = SymbolProperties("Points", "USD", 1, 0.01, 0.25, "PTS")
        hours = SecurityExchangeHours.always_open(TimeZones.NEW_YORK)
        security = self.add_data(Points, "PTS", properties, hours, Resolution.DAILY)
        self.custom = security.symbol
        other = self.add_data(Points, "OTHER", Resolution.DAILY)
        found = self.symbol_properties_database.get_symbol_properties(Market.USA, "PTS", SecurityType.BASE, "USD")
        self.debug(f"PROPS {security.symbol_properties == properties} {security.exchange.hours is hours} "
                   f"{found == properties} {other.symbol_properties.lot_size:g} "
                   f"{self.market_hours_database.get_database_symbol_key(self.custom)}")''').replace(
        "self.market_order(self.custom, 1000)", "self.market_order(self.custom, 10.6)")
    outcome = run(source.replace("LINES", repr(POINTS)))
    assert any(line.endswith("PROPS True True True 1 PTS") for line in logs(outcome)), logs(outcome)
    [order] = outcome["result"]["orders"]
    assert order["quantity"] == 10.5  # rounded down to the 0.25 lot of its own properties


def test_custom_data_over_a_crypto_symbol_is_its_own_security_and_leans_path_helpers_work():
    """add_data(Type, crypto_symbol): LEAN keeps the custom "BTCUSDT" apart from the crypto "BTCUSDT" (orders on it
    trade the custom security, at its value); os, Extensions.tick_type_to_lower and Extensions.convert_to behave as
    in LEAN's AlgorithmImports."""
    source = '''import os
from AlgorithmImports import *

class Custom(PythonData):
    def get_source(self, config, date, is_live):
        name = f"{Extensions.tick_type_to_lower(config.tick_type)}_points"
        return SubscriptionDataSource(os.path.join("store", name), SubscriptionTransportMedium.OBJECT_STORE)

    def reader(self, config, line, date, is_live):
        fields = line.split(",")
        point = Custom()
        point.symbol = config.symbol
        point.time = Extensions.convert_to(datetime.strptime(fields[0], "%Y-%m-%d %H:%M"), "UTC", "America/New_York")
        point.value = float(fields[1])
        return point

class Algo(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2020, 1, 1)
        self.set_end_date(2020, 1, 3)
        self.set_cash(100000)
        self.object_store.save("store/trade_points", "2020-01-02 05:00,50\\n2020-01-03 05:00,60")
        crypto = self.add_crypto("BTCUSD", Resolution.DAILY).symbol
        self.custom = self.add_data(Custom, crypto, Resolution.DAILY).symbol
        self.debug(f"APART {self.custom == crypto} {len(self.securities)}")

    def on_data(self, data):
        if self.custom in data and not self.portfolio[self.custom].invested:
            self.debug(f"AT {self.time:%Y-%m-%d %H:%M}")
            self.market_order(self.custom, 10)
'''
    outcome = run(source)
    lines = logs(outcome)
    assert any(line.endswith("APART False 2") for line in lines), lines
    assert [line.split("AT ")[1] for line in lines if "AT " in line] == ["2020-01-02 00:00"]  # 05:00 UTC
    [order] = outcome["result"]["orders"]
    assert order["price"] == 50 and order["quantity"] == 10


def test_a_custom_security_given_an_equity_exchange_keeps_equity_sessions():
    """LEAN's EquityExchange: ``security.exchange = EquityExchange()`` gives custom data the US equity hours."""
    source = SOURCE.replace(ADD_POINTS, '''        security = self.add_data(Points, "PTS", Resolution.DAILY)
        self.custom = security.symbol
        before = security.exchange.hours.is_open(datetime(2020, 1, 4, 12, 0))
        security.exchange = EquityExchange()
        hours = security.exchange.hours
        self.debug(f"HOURS {before} {hours.is_open(datetime(2020, 1, 6, 10, 0))} "
                   f"{hours.is_open(datetime(2020, 1, 4, 12, 0))} {hours.is_open(datetime(2020, 1, 6, 16, 30))}")''')
    outcome = run(source.replace("LINES", repr(POINTS)))
    assert any(line.endswith("HOURS True True False False") for line in logs(outcome)), logs(outcome)


def test_parse_equity_prices_are_the_floats_nearest_leans_decimal_prices():
    """LEAN scales a file's 1000011 by the decimal 1/10000 to exactly 100.0011; times the float 1e-4 gave
    100.00110000000001 (a third of all prices one unit in the last place off, which flips equal-price compares)."""
    from datetime import datetime

    from qcmcp.sandbox.engine.data_config import SubscriptionDataConfig
    from qcmcp.sandbox.engine.types import Symbol, TradeBar

    config = SubscriptionDataConfig(TradeBar, Symbol.create("SPY", 1, "usa"), "minute")
    bar = TradeBar.parse_equity(config, "34200000,1000011,1000030,1000003,1000007,100", datetime(2013, 10, 7))
    assert (bar.open, bar.high, bar.low, bar.close) == (100.0011, 100.003, 100.0003, 100.0007)
    assert bar.time == datetime(2013, 10, 7, 9, 30) and bar.end_time == datetime(2013, 10, 7, 9, 31)


def test_database_entries_and_settings_of_the_wrong_type_fail_with_a_clear_message():
    """A market-hours entry that is not exchange hours, and a stale-price span that is not a timedelta, say what
    LEAN expects instead of failing deep inside the engine."""
    hours = run(SOURCE.replace(ADD_POINTS, ADD_POINTS + '''
        self.market_hours_database.set_entry(Market.USA, "PTS", SecurityType.BASE, "always")''')
                .replace("LINES", repr(POINTS)))
    assert "SecurityExchangeHours.always_open" in hours["error"]["message"]
    span = run(SOURCE.replace(ADD_POINTS, ADD_POINTS + '''
        self.settings.stale_price_time_span = 60''').replace("LINES", repr(POINTS)))
    assert "must be a timedelta" in span["error"]["message"]
