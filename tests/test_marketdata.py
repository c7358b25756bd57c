"""The market-data layer against LEAN's sample data, with expectations computed by hand from the files.

The built-in sample (daily US equities, factor and map files) is always there; the intraday and crypto
tests use the full LEAN sample at ../shared/lean-data and are skipped without it.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from qcmcp.marketdata import SAMPLE_FOLDER, MarketDataError, MissingData, clear_cache, flat_files, history, lean_files

SHARED = Path(__file__).resolve().parents[2] / "shared" / "lean-data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"LEAN's full sample data is not at {SHARED}")
DAILY = SAMPLE_FOLDER / "equity" / "usa" / "daily"
FACTORS = SAMPLE_FOLDER / "equity" / "usa" / "factor_files"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No QCMCP_DATA_DIR, no lean.json above the working directory, nothing cached from another test."""
    monkeypatch.delenv("QCMCP_DATA_DIR", raising=False)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    clear_cache()


def zip_rows(path: Path) -> list[list[str]]:
    with zipfile.ZipFile(path) as archive:
        return [line.split(",") for line in archive.read(archive.namelist()[0]).decode().splitlines()]


def daily_row(ticker: str, day: str) -> list[str]:
    """The raw CSV row of a day ('YYYYMMDD') in the sample's daily file."""
    return next(row for row in zip_rows(DAILY / f"{ticker}.zip") if row[0].startswith(day))


def factor_on(ticker: str, day: str, column: int) -> float:
    """By hand: the factor file's first row dated on or after the day (1 = price factor, 2 = split factor)."""
    for line in (FACTORS / f"{ticker}.csv").read_text().splitlines():
        cells = line.split(",")
        if cells[0] >= day:
            return float(cells[column])
    return 1.0


def closes(data, symbol: str) -> pd.Series:
    series = data.bars(symbol)["close"]
    series.index = series.index.strftime("%Y-%m-%d")
    return series


# --- the built-in sample ------------------------------------------------------------------------------------


def test_the_default_source_is_the_shipped_sample_in_lean_shape():
    data = history("SPY", "2013-10-01", "2013-10-31")
    assert (data.source, Path(data.location)) == ("sample", SAMPLE_FOLDER)
    assert list(data.frame.index.names) == ["symbol", "time"]
    assert list(data.frame.columns) == ["open", "high", "low", "close", "volume"]
    spy = data.bars("spy")
    assert len(spy) == 23 and (spy.index.strftime("%H:%M") == "16:00").all()  # daily bars end at the close
    assert data.start == pd.Timestamp("2013-10-01 16:00") and data.end == pd.Timestamp("2013-10-31 16:00")
    assert data.synthetic == () and data.time_label == "end"
    assert json.dumps(data.describe())  # the metadata is JSON-ready


def test_spy_october_2013_adjusted_is_raw_times_the_factor_file():
    raw = history("SPY", "2013-10-01", "2013-10-31", normalization="raw").bars("SPY")
    adjusted = history("SPY", "2013-10-01", "2013-10-31").bars("SPY")
    factor = factor_on("spy", "20131007", 1) * factor_on("spy", "20131007", 2)  # row 20131219: 0.8646266, 1
    assert factor == pytest.approx(0.8646266)
    assert raw.loc["2013-10-07 16:00", "close"] == int(daily_row("spy", "20131007")[4]) / 10_000 == 167.42
    assert (adjusted["close"] / raw["close"]).to_numpy() == pytest.approx(factor)
    assert adjusted.loc["2013-10-07 16:00", "close"] == pytest.approx(144.7558, abs=1e-4)
    # volume is divided by the same factor and rounded, as LEAN's Scale does
    assert adjusted["volume"].tolist() == [round(v / factor) for v in raw["volume"]]


def test_aapl_2014_seven_for_one_split_is_continuous_when_adjusted():
    window = ("2014-06-02", "2014-06-13")
    raw = closes(history("AAPL", *window, normalization="raw"), "AAPL")
    assert raw["2014-06-09"] / raw["2014-06-06"] == pytest.approx(93.70 / 645.57)  # an ~86% overnight drop
    for mode in ("adjusted", "split_adjusted"):
        data = history("AAPL", *window, normalization=mode)
        adjusted = closes(data, "AAPL")
        assert 0.97 < adjusted["2014-06-09"] / adjusted["2014-06-06"] < 1.03
        assert any("7-for-1 split after 2014-06-06" in note for note in data.symbols["AAPL"].notes)
    split = history("AAPL", *window, normalization="split_adjusted").bars("AAPL")
    assert split.loc["2014-06-06 16:00", "close"] == pytest.approx(645.57 * factor_on("aapl", "20140606", 2))
    assert split.loc["2014-06-09 16:00", "volume"] == round(72875948 / 0.25)  # raw volume ÷ split factor


def test_aapl_2020_four_for_one_split():
    raw = closes(history("AAPL", "2020-08-25", "2020-09-04", normalization="raw"), "AAPL")
    adjusted = closes(history("AAPL", "2020-08-25", "2020-09-04"), "AAPL")
    assert raw["2020-08-31"] / raw["2020-08-28"] < 0.3
    assert 0.9 < adjusted["2020-08-31"] / adjusted["2020-08-28"] < 1.1


def test_total_return_adds_the_dividends_paid_since_the_start():
    window = ("2013-12-16", "2013-12-24")
    total = closes(history("SPY", *window, normalization="total_return"), "SPY")
    split = closes(history("SPY", *window, normalization="split_adjusted"), "SPY")
    dividend = round(181.5 * (1 - 0.8646266 / 0.8693686), 2)  # factor rows 20131219 and 20140320
    assert dividend == 0.99
    difference = (total - split).round(6)
    assert difference[:"2013-12-19"].eq(0).all() and difference["2013-12-20":].eq(dividend).all()
    later_start = closes(history("SPY", "2013-12-20", "2013-12-24", normalization="total_return"), "SPY")
    assert later_start.equals(split["2013-12-20":])  # LEAN's running sum starts at zero with the request


def test_map_file_follows_googl_across_its_ticker_change():
    window = ("2014-03-31", "2014-04-07")
    raw = history("GOOGL", *window, normalization="raw")
    closes_raw = closes(raw, "GOOGL")
    assert closes_raw["2014-04-02"] == int(daily_row("goog", "20140402")[4]) / 10_000  # from goog.zip
    assert closes_raw["2014-04-03"] == int(daily_row("googl", "20140403")[4]) / 10_000  # from googl.zip
    adjusted = closes(history("GOOGL", *window), "GOOGL")
    assert 0.97 < adjusted["2014-04-03"] / adjusted["2014-04-02"] < 1.03
    assert any("GOOG → GOOGL on 2014-04-03" in note for note in raw.symbols["GOOGL"].notes)


def test_a_ticker_names_the_company_that_used_it_on_the_first_day():
    in_2010 = history("GOOG", "2010-01-04", "2010-01-08", normalization="raw")
    assert in_2010.symbols["GOOG"].company == "GOOGL"  # the class A shares, which traded as GOOG then
    assert closes(in_2010, "GOOG")["2010-01-04"] == int(daily_row("goog", "20100104")[4]) / 10_000
    in_2015 = history("GOOG", "2015-01-05", "2015-01-09")
    assert in_2015.symbols["GOOG"].company is None  # goog.csv: the class C shares


def test_map_file_stitches_wm_from_three_files():
    data = history("WM", "1998-07-14", "1998-07-21", normalization="raw")
    closes_raw = closes(data, "WM")
    assert closes_raw["1998-07-16"] == int(daily_row("uw", "19980716")[4]) / 10_000
    assert closes_raw["1998-07-17"] == int(daily_row("wmi", "19980717")[4]) / 10_000
    assert any("UW → WMI on 1998-07-17" in note for note in data.symbols["WM"].notes)


def test_daily_bars_end_at_an_early_close():
    times = history("SPY", "2013-11-27", "2013-12-02").bars("SPY").index.strftime("%Y-%m-%d %H:%M").tolist()
    assert times == ["2013-11-27 16:00", "2013-11-29 13:00", "2013-12-02 16:00"]  # Thanksgiving closed, then 13:00


def test_several_symbols_share_one_frame():
    data = history(["spy", "AAPL", "SPY"], "2013-10-01", "2013-10-04")
    assert list(data.symbols) == ["SPY", "AAPL"]
    assert data.frame.index.get_level_values("symbol").unique().tolist() == ["SPY", "AAPL"]
    assert len(data.bars("AAPL")) == 4


def test_lean_enum_spellings_are_accepted():
    a = history("SPY", "2013-10-01", "2013-10-04", "Resolution.Daily", "DataNormalizationMode.SPLIT_ADJUSTED")
    b = history("SPY", "2013-10-01", "2013-10-04", "daily", "SplitAdjusted")
    assert a.normalization == b.normalization == "split_adjusted"
    pd.testing.assert_frame_equal(a.frame, b.frame)


def test_time_zone_aware_bounds_are_read_in_exchange_time():
    start = datetime(2013, 10, 7, 20, 0, tzinfo=timezone.utc)  # 16:00 New York: after that day's bar
    data = history("SPY", start, date(2013, 10, 8))
    assert data.bars("SPY").index.tolist() == [pd.Timestamp("2013-10-08 16:00")]


def test_the_sample_is_lean_layout_with_its_license():
    assert "Apache License" in (SAMPLE_FOLDER / "LICENSE-LEAN").read_text()
    assert (SAMPLE_FOLDER / "equity" / "usa" / "map_files" / "googl.csv").is_file()
    database = json.loads((SAMPLE_FOLDER / "market-hours" / "market-hours-database.json").read_text())
    assert "Equity-usa-[*]" in database["entries"] and "Crypto-coinbase-[*]" in database["entries"]
    assert not any(key.startswith(("Future-", "Option-", "Index-")) for key in database["entries"])
    size = sum(path.stat().st_size for path in SAMPLE_FOLDER.rglob("*") if path.is_file())
    assert size < 1_600_000


# --- caching ------------------------------------------------------------------------------------------------


def counting_reader(monkeypatch) -> list[Path]:
    calls: list[Path] = []
    real = lean_files.read_zip_csv

    def counted(path: Path) -> pd.DataFrame:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(lean_files, "read_zip_csv", counted)
    return calls


def test_a_second_read_of_the_same_range_reads_no_file(monkeypatch):
    calls = counting_reader(monkeypatch)
    first = history(["SPY", "AAPL"], "2013-10-01", "2013-10-31")
    assert sorted(path.name for path in calls) == ["aapl.zip", "spy.zip"]
    second = history(["SPY", "AAPL"], "2013-10-01", "2013-10-31")
    assert len(calls) == 2
    pd.testing.assert_frame_equal(first.frame, second.frame)
    other_range = history("SPY", "2014-01-01", "2014-01-31", normalization="raw")  # same file, parsed once
    assert len(calls) == 2 and len(other_range.frame) == 21


def test_a_changed_file_is_read_again(monkeypatch, tmp_path):
    folder = tmp_path / "data" / "equity" / "usa" / "daily"
    folder.mkdir(parents=True)
    shutil.copy(DAILY / "spy.zip", folder / "spy.zip")
    calls = counting_reader(monkeypatch)
    history("SPY", "2013-10-01", "2013-10-04", source=tmp_path / "data")
    history("SPY", "2013-10-01", "2013-10-04", source=tmp_path / "data")
    assert len(calls) == 1
    later = (folder / "spy.zip").stat().st_mtime + 10
    os.utime(folder / "spy.zip", (later, later))
    history("SPY", "2013-10-01", "2013-10-04", source=tmp_path / "data")
    assert len(calls) == 2


# --- sources ------------------------------------------------------------------------------------------------


def lean_folder_with_spy(folder: Path) -> Path:
    (folder / "equity" / "usa" / "daily").mkdir(parents=True)
    shutil.copy(DAILY / "spy.zip", folder / "equity" / "usa" / "daily" / "spy.zip")
    return folder


def test_a_lean_cli_workspace_is_found_from_a_project_folder(tmp_path, monkeypatch):
    workspace = tmp_path / "workspace"
    lean_folder_with_spy(workspace / "data")
    (workspace / "lean.json").write_text('{\n  // lean init writes comments like this\n  "data-folder": "data",\n'
                                         '  /* and these */ "results-destination-folder": "http://x//y"\n}\n')
    project = workspace / "My Project"
    project.mkdir()
    monkeypatch.chdir(project)
    data = history("SPY", "2013-10-07", "2013-10-07")
    assert data.source == "lean-workspace" and Path(data.location) == workspace / "data"
    assert str(workspace / "lean.json") in data.chosen_by
    assert any("no factor file" in note for note in data.symbols["SPY"].notes)  # this folder has only the zip
    assert data.bars("SPY")["close"].iloc[0] == 167.42


def test_a_workspace_without_data_folder_key_says_which_key(tmp_path, monkeypatch):
    (tmp_path / "lean.json").write_text('{"organization-id": "x"}')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MarketDataError, match='has no "data-folder" key'):
        history("SPY", "2013-10-07", "2013-10-08")


def test_the_environment_variable_comes_before_a_workspace(tmp_path, monkeypatch):
    (tmp_path / "lean.json").write_text('{"data-folder": "nowhere"}')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QCMCP_DATA_DIR", str(lean_folder_with_spy(tmp_path / "env-data")))
    data = history("SPY", "2013-10-07", "2013-10-08")
    assert (data.source, data.chosen_by) == ("lean-folder", "QCMCP_DATA_DIR")
    assert Path(data.location) == tmp_path / "env-data"
    assert history("SPY", "2013-10-07", "2013-10-08", source="sample").source == "sample"  # the argument wins


def test_a_csv_folder_is_a_source(tmp_path):
    folder = tmp_path / "csv"
    (folder / "minute").mkdir(parents=True)
    (folder / "SPY.csv").write_text("Date,Open,High,Low,Close,Volume\n2013-10-07,1,2,0.5,1.5,100\n"
                                    "2013-10-08,1.5,2.5,1,2,200\n")
    (folder / "minute" / "spy.csv").write_text("time,open,high,low,close\n2013-10-07 09:00,1,1,1,1\n"
                                               "2013-10-07 09:31,2,2,2,2\n2013-10-07 09:32,3,3,3,3\n")
    daily = history("SPY", "2013-10-07", "2013-10-08", source=folder)
    assert daily.source == "files"
    assert daily.bars("SPY")["close"].tolist() == [1.5, 2.0]  # as stored: no factor file here
    assert daily.bars("SPY").index.strftime("%H:%M").tolist() == ["16:00", "16:00"]
    assert any("prices are as stored" in note for note in daily.symbols["SPY"].notes)
    minute = history("SPY", "2013-10-07", "2013-10-07", resolution="minute", source=folder)
    assert minute.bars("SPY")["close"].tolist() == [2.0, 3.0]  # the 09:00 pre-market bar is dropped
    assert minute.bars("SPY")["volume"].tolist() == [0.0, 0.0]
    extended = history("SPY", "2013-10-07", "2013-10-07", resolution="minute", source=folder, extended_hours=True)
    assert len(extended.frame) == 3
    with pytest.raises(MissingData, match="AAPL"):
        history("AAPL", "2013-10-07", "2013-10-08", source=folder)


def test_intraday_bars_follow_holidays_and_early_closes(tmp_path):
    """LEAN's rules: a holiday has no session at all, and an early close ends extended hours too."""
    (tmp_path / "minute").mkdir()
    (tmp_path / "minute" / "SPY.csv").write_text(
        "time,open,high,low,close,volume\n"
        "2013-11-28 10:00,1,1,1,1,1\n"  # Thanksgiving
        "2013-11-29 12:59,2,2,2,2,1\n2013-11-29 13:00,3,3,3,3,1\n"  # bars ending by the 13:00 early close
        "2013-11-29 13:01,4,4,4,4,1\n2013-11-29 16:30,5,5,5,5,1\n")  # after it
    for extended in (False, True):
        data = history("SPY", "2013-11-28", "2013-11-29", "minute", source=tmp_path, extended_hours=extended)
        assert data.bars("SPY")["close"].tolist() == [2.0, 3.0]


def test_a_csv_without_the_columns_says_which(tmp_path):
    (tmp_path / "SPY.csv").write_text("when,price\n2013-10-07,1\n")
    with pytest.raises(MarketDataError, match=r"lacks the column\(s\) time, open, high, low, close"):
        history("SPY", "2013-10-07", "2013-10-08", source=tmp_path)


def test_a_parquet_folder_reads_as_the_same_csv_does(tmp_path):
    import pandas as pd

    pytest.importorskip("pyarrow", reason="the parquet extra (in dev, so CI runs this)")
    csv, parquet = tmp_path / "csv", tmp_path / "parquet"
    csv.mkdir()
    parquet.mkdir()
    (csv / "SPY.csv").write_text("time,open,high,low,close,volume\n2013-10-07,1,2,0.5,1.5,100\n"
                                 "2013-10-08,1.5,2.5,1,2,200\n")
    pd.read_csv(csv / "SPY.csv").to_parquet(parquet / "SPY.parquet")
    from_csv, from_parquet = (history("SPY", "2013-10-07", "2013-10-08", source=folder) for folder in (csv, parquet))
    assert from_parquet.source == "files" and from_parquet.bars("SPY")["close"].tolist() == [1.5, 2.0]
    pd.testing.assert_frame_equal(from_parquet.frame, from_csv.frame)


def test_parquet_without_an_engine_says_to_install_pyarrow(tmp_path, monkeypatch):
    (tmp_path / "SPY.parquet").write_bytes(b"PAR1")
    monkeypatch.setattr(flat_files, "parquet_engine_available", lambda: False)
    with pytest.raises(MarketDataError, match="needs pyarrow: install it"):
        history("SPY", "2013-10-07", "2013-10-08", source=tmp_path)


def test_synthetic_bars_only_when_asked_and_labelled():
    with pytest.raises(MissingData, match="XYZ"):
        history("XYZ", "2013-10-01", "2013-10-10")
    stand_in = history(["SPY", "XYZ"], "2013-10-01", "2013-10-10", synthetic=True)
    assert stand_in.synthetic == ("XYZ",) and not stand_in.symbols["SPY"].synthetic
    assert stand_in.symbols["XYZ"].notes[0].startswith("synthetic stand-in")
    generated = history("XYZ", "2013-10-01", "2013-10-10", source="synthetic")
    assert generated.source == "synthetic" and generated.synthetic == ("XYZ",)
    wider = history("XYZ", "2013-09-01", "2013-10-31", source="synthetic")
    pd.testing.assert_frame_equal(generated.bars("XYZ"), wider.bars("XYZ").loc[generated.bars("XYZ").index])


# --- bad input ----------------------------------------------------------------------------------------------

BAD = [
    (dict(symbols="NOPE"), ["NOPE", "nope.zip", "synthetic=True"]),
    (dict(start="2013-10-10", end="2013-10-01"), ["start", "after end", "swap"]),
    (dict(start="2013-10-07 10:00", end="2013-10-07 10:00"), ["range is empty", "end after start"]),
    (dict(start="2013-10-05", end="2013-10-06"), ["no daily bars for SPY", "weekend or holiday", "Widen"]),
    (dict(start="2031-01-01", end="2031-02-01"), ["no daily bars for SPY", "2021-03-31"]),
    (dict(resolution="weekly"), ["resolution='weekly'", "daily, hour, minute, second"]),
    (dict(normalization="dividends"), ["normalization='dividends'", "adjusted, raw, split_adjusted, total_return"]),
    (dict(resolution="minute"), ["no minute equity data for SPY", "QCMCP_DATA_DIR"]),
    (dict(symbols="S P Y"), ["symbols", "'S P Y'", "like 'SPY'"]),
    (dict(symbols=[]), ["symbols is empty"]),
    (dict(start="soon"), ["start='soon'", "YYYY-MM-DD"]),
    (dict(source="/no/such/folder"), ["/no/such/folder", "not a folder", "'sample'"]),
    (dict(security_type="forex"), ["security_type='forex'", "equity, crypto"]),
    (dict(symbols="FB", start="2005-01-03", end="2005-12-30"), ["FB", "fb.csv", "has traded since 2012-05-18"]),
]


@pytest.mark.parametrize(("arguments", "fragments"), BAD, ids=[str(sorted(a.items())) for a, _ in BAD])
def test_bad_input_is_a_clear_error(arguments, fragments):
    call = dict(symbols="SPY", start="2013-10-01", end="2013-10-10") | arguments
    with pytest.raises(MarketDataError) as raised:
        history(**call)
    assert isinstance(raised.value, ValueError)
    for fragment in fragments:
        assert fragment in str(raised.value)


# --- the full LEAN sample: intraday and crypto ----------------------------------------------------------------


def raw_minute_rows(ticker: str, day: str) -> list[list[str]]:
    return zip_rows(SHARED / "equity" / "usa" / "minute" / ticker / f"{day}_trade.zip")


@needs_shared
def test_spy_minute_bars_keep_regular_hours_labelled_by_bar_end():
    data = history("SPY", "2013-10-07", "2013-10-07", "minute", "raw", source=SHARED)
    spy = data.bars("SPY")
    assert len(spy) == 390
    assert (spy.index[0], spy.index[-1]) == (pd.Timestamp("2013-10-07 09:31"), pd.Timestamp("2013-10-07 16:00"))
    first_regular = next(row for row in raw_minute_rows("spy", "20131007") if row[0] == str(34_200_000))  # 09:30
    assert spy.iloc[0]["open"] == int(first_regular[1]) / 10_000 and spy.iloc[0]["volume"] == int(first_regular[5])


@needs_shared
def test_extended_hours_keep_every_minute_of_the_file():
    data = history("SPY", "2013-10-07", "2013-10-07", "minute", extended_hours=True, source=SHARED)
    spy = data.bars("SPY")
    assert len(spy) == len(raw_minute_rows("spy", "20131007"))
    assert spy.index[0] == pd.Timestamp("2013-10-07 04:01") and spy.index[-1] == pd.Timestamp("2013-10-07 20:00")
    regular = history("SPY", "2013-10-07", "2013-10-07", "minute", source=SHARED).bars("SPY")
    pd.testing.assert_frame_equal(spy.loc[regular.index], regular)


@needs_shared
def test_minute_bars_are_adjusted_with_the_days_factor():
    raw = history("SPY", "2013-10-07", "2013-10-08", "minute", "raw", source=SHARED).bars("SPY")
    adjusted = history("SPY", "2013-10-07", "2013-10-08", "minute", source=SHARED).bars("SPY")
    assert (adjusted["close"] / raw["close"]).to_numpy() == pytest.approx(0.8646266)
    aapl = history("AAPL", "2014-06-06", "2014-06-09", "minute", source=SHARED).bars("AAPL")
    across = aapl.loc["2014-06-09 09:31", "open"] / aapl.loc["2014-06-06 16:00", "close"]
    assert 0.97 < across < 1.03


@needs_shared
def test_hour_bars_end_on_the_hour_from_ten_to_four():
    spy = history("SPY", "2013-10-07", "2013-10-07", "hour", source=SHARED).bars("SPY")
    assert spy.index.strftime("%H:%M").tolist() == ["10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]


@needs_shared
def test_crypto_minute_bars_are_unscaled_utc_and_all_day():
    data = history("BTCUSD", "2018-04-04", "2018-04-04", "minute", source=SHARED, security_type="crypto")
    btc = data.bars("BTCUSD")
    rows = zip_rows(SHARED / "crypto" / "coinbase" / "minute" / "btcusd" / "20180404_trade.zip")
    assert data.symbols["BTCUSD"].time_zone == "UTC" and len(btc) == len(rows)  # no hours filter: always open
    assert btc.index[0] == pd.Timestamp("2018-04-04 00:01") and btc.iloc[0]["open"] == float(rows[0][1])
    daily = history("BTCUSD", "2018-04-04", "2018-04-04", source=SHARED, security_type="crypto").bars("BTCUSD")
    assert daily.index.tolist() == [pd.Timestamp("2018-04-05 00:00")]  # a whole-day bar ends at midnight


@needs_shared
def test_the_shipped_market_hours_are_the_trimmed_lean_database():
    import importlib.util

    spec = importlib.util.spec_from_file_location("trim", Path(__file__).resolve().parents[1] / "scripts" /
                                                  "trim_market_hours.py")
    trim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trim)
    full = json.loads((SHARED / "market-hours" / "market-hours-database.json").read_text())
    shipped = json.loads((SAMPLE_FOLDER / "market-hours" / "market-hours-database.json").read_text())
    assert trim.trimmed(full) == shipped


@needs_shared
def test_minute_reads_are_cached_too(monkeypatch):
    calls = counting_reader(monkeypatch)
    first = history("SPY", "2013-10-07", "2013-10-11", "minute", source=SHARED)
    assert len(calls) == 5
    second = history("SPY", "2013-10-07", "2013-10-11", "minute", source=SHARED)
    assert len(calls) == 5
    pd.testing.assert_frame_equal(first.frame, second.frame)
