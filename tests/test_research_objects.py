"""An Object Store object by key as a market-data source: parsed as the flat files are, bounded in size, clear
errors; through an MCP session on the sandbox (upload_object, then get_history and test_cointegration)."""

from __future__ import annotations

import logging
import sqlite3
from types import SimpleNamespace

import pandas as pd
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from qcmcp.caller import Caller, reset_current_caller, set_current_caller
from qcmcp.config import load_settings
from qcmcp.marketdata import MarketDataError, MissingData, ObjectStoreObject, clear_cache, history, objects
from qcmcp.marketdata.flat_files import FlatFilesFolder
from qcmcp.research import test_cointegration as cointegration
from qcmcp.security.guard import ScopeGuard
from qcmcp.security.scopes import ROLES
from qcmcp.server import build_server
from qcmcp.tools import handlers

SPAN = {"start_date": "2015-01-01", "end_date": "2020-12-31"}


def pair_csv(start: str = "2015-01-01", end: str = "2020-12-31") -> str:
    """GOOG and GOOGL adjusted daily bars from the shipped sample, as one CSV with a symbol column."""
    frame = history(["GOOG", "GOOGL"], start, end).frame.reset_index()
    frame["time"] = frame["time"].dt.strftime("%Y-%m-%d")
    return frame[["symbol", "time", "open", "high", "low", "close", "volume"]].to_csv(index=False)


def test_an_object_reads_as_the_same_bars_as_the_sample_and_as_a_file(tmp_path):
    text = pair_csv("2019-01-01", "2019-12-31")
    stored = ObjectStoreObject("prices/pair.csv", text.encode())
    read = history(["GOOG", "GOOGL"], "2019-01-01", "2019-12-31", source=stored)
    sample = history(["GOOG", "GOOGL"], "2019-01-01", "2019-12-31")
    pd.testing.assert_frame_equal(read.frame, sample.frame, check_exact=False, rtol=1e-12)
    assert read.source == "object-store" and read.location == "Object Store key 'prices/pair.csv'"
    assert any("objects carry no factor files" in note for note in read.symbols["GOOG"].notes)
    one = pd.read_csv(pd.io.common.StringIO(text))
    (tmp_path / "GOOG.csv").write_text(one[one.symbol == "GOOG"].drop(columns="symbol").to_csv(index=False))
    as_file = history("GOOG", "2019-01-01", "2019-12-31", source=FlatFilesFolder(tmp_path))
    pd.testing.assert_frame_equal(history("GOOG", "2019-01-01", "2019-12-31", source=stored).frame, as_file.frame)
    # Without a symbol column the object holds one ticker, named by the key's file name.
    single = ObjectStoreObject("bars/goog.csv", (tmp_path / "GOOG.csv").read_bytes())
    assert history("goog", "2019-06-01", "2019-06-30", source=single).bars("GOOG")["close"].notna().all()
    assert single.symbols() == ["GOOG"] and stored.symbols() == ["GOOG", "GOOGL"]


def test_parsed_once_per_content():
    clear_cache()
    data = pair_csv("2019-01-01", "2019-03-31").encode()
    history("GOOG", "2019-01-01", "2019-03-31", source=ObjectStoreObject("a.csv", data))
    before = objects._by_symbol.cache_info()
    history("GOOGL", "2019-01-01", "2019-03-31", source=ObjectStoreObject("a.csv", bytes(data)))  # another copy
    assert objects._by_symbol.cache_info().misses == before.misses  # the same bytes are not parsed again
    prepared = objects._prepared.cache_info()
    history("GOOGL", "2019-01-01", "2019-03-31", source=ObjectStoreObject("a.csv", data))
    assert objects._prepared.cache_info().hits == prepared.hits + 1


@pytest.mark.parametrize(("key", "data", "symbol", "error", "fragment"), [
    ("p.csv", b"time,open,high,close\n2020-01-02,1,2,1.5\n", "P", MarketDataError, "lacks the column(s) low"),
    ("p.csv", b"symbol,time,open,high,low,close\nSPY,2020-01-02,1,2,0.5,1.5\n", "QQQ", MissingData,
     "has no rows for QQQ: it holds SPY"),
    ("bars.csv", b"time,open,high,low,close\n2020-01-02,1,2,0.5,1.5\n", "SPY", MissingData, "it holds BARS"),
    ("p.csv", b"\x00\xff\xfe\x01", "P", MarketDataError, "does not read as CSV"),
    ("p.csv", b"", "P", MarketDataError, "does not read as CSV"),
    ("p.csv", b"time,open,high,low,close\nnot a date,1,2,0.5,1.5\n", "P", MarketDataError, "time column"),
    ("p.csv", b"time,open,high,low,close\n2010-01-04,1,2,0.5,1.5\n", "P", MissingData, "Widen the range"),
])
def test_bad_objects_are_clear_errors_naming_the_key(key, data, symbol, error, fragment):
    with pytest.raises(error) as raised:
        history(symbol, "2020-01-01", "2020-01-31", source=ObjectStoreObject(key, data))
    assert fragment in str(raised.value) and f"object_key '{key}'" in str(raised.value)


def test_parquet_needs_an_engine_and_size_is_bounded(monkeypatch):
    monkeypatch.setattr(objects, "parquet_engine_available", lambda: False)
    with pytest.raises(MarketDataError, match="Parquet object and reading it needs pyarrow"):
        history("P", "2020-01-01", "2020-01-31", source=ObjectStoreObject("p.bin", b"PAR1\x00\x00PAR1"))
    monkeypatch.setattr(objects, "MAX_OBJECT_BYTES", 100)
    with pytest.raises(MarketDataError, match="holds 101 bytes and market data is read from objects of at most 100"):
        ObjectStoreObject("big.csv", b"x" * 101)


@pytest.mark.skipif(not objects.parquet_engine_available(), reason="pyarrow is not installed")
def test_parquet_reads_as_csv_does():
    frame = pd.read_csv(pd.io.common.StringIO(pair_csv("2019-01-01", "2019-03-31")))
    import io
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    parquet = history(["GOOG", "GOOGL"], "2019-01-01", "2019-03-31", source=ObjectStoreObject("p", buffer.getvalue()))
    csv = history(["GOOG", "GOOGL"], "2019-01-01", "2019-03-31",
                  source=ObjectStoreObject("c", frame.to_csv(index=False).encode()))
    pd.testing.assert_frame_equal(parquet.frame, csv.frame)


@pytest.fixture
async def sandbox(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"))
    async with Client(build_server(settings)) as session:
        yield session, tmp_path / "s.sqlite3"


async def call(session: Client, tool: str, **arguments) -> dict:
    result = await session.call_tool(tool, arguments, raise_on_error=False)
    assert not result.is_error, result.content[0].text
    return result


async def refused(session: Client, tool: str, fragment: str, **arguments) -> str:
    result = await session.call_tool(tool, arguments, raise_on_error=False)
    text = result.content[0].text
    assert result.is_error and fragment in text, text
    assert "Traceback" not in text and "/tmp/" not in text
    return text


async def test_research_tools_read_an_uploaded_object_through_mcp(sandbox):
    session, db = sandbox
    await call(session, "upload_object", key="research/goog_pair.csv", objectData=pair_csv())
    history_result = (await call(session, "get_history", symbols=["GOOG", "GOOGL"], object_key="research/goog_pair.csv",
                                 **SPAN)).structured_content
    assert history_result["data"]["source"] == "object-store"
    assert history_result["data"]["location"] == "sandbox Object Store key 'research/goog_pair.csv'"
    sample = (await call(session, "get_history", symbols=["GOOG", "GOOGL"], **SPAN)).structured_content
    assert history_result["table"] == sample["table"]  # the same bars as the sample they were exported from
    tested = await call(session, "test_cointegration", symbol1="GOOG", symbol2="GOOGL",
                        object_key="research/goog_pair.csv", **SPAN)
    body = tested.structured_content
    reference = cointegration("GOOG", "GOOGL", **SPAN)  # the shipped sample, computed directly
    assert body["cointegrated"] is True and body["eg_pvalue"] == pytest.approx(reference.eg_pvalue, rel=1e-9)
    assert body["half_life"] == pytest.approx(reference.half_life, rel=1e-9)
    assert body["data"]["source"] == "object-store" and tested.content[1].type == "image"
    # A damaged Parquet object stored by an algorithm (upload_object sends text): a clear error, engine or not.
    org = (await call(session, "read_account")).structured_content["organizationId"]
    with sqlite3.connect(db) as raw:
        raw.execute("INSERT INTO objects VALUES (?, 'research/bars.parquet', ?, 'application/octet-stream', 'c', 'm')",
                    (org, b"PAR1\x00\x00PAR1"))
    problem = "does not read as Parquet" if objects.parquet_engine_available() else "needs pyarrow"
    await refused(session, "get_history", problem, symbols=["BARS"], object_key="research/bars.parquet", **SPAN)


async def test_object_errors_through_mcp(sandbox, monkeypatch):
    session, _ = sandbox
    text = await refused(session, "get_history", "object_key 'prices/none.csv'", symbols=["SPY"],
                         object_key="prices/none.csv", **SPAN)
    assert "No Object Store file has the key" in text
    await call(session, "upload_object", key="prices/odd.csv", objectData="day,price\n2020-01-02,1\n")
    await refused(session, "get_history", "lacks the column(s) time, open, high, low, close", symbols=["ODD"],
                  object_key="prices/odd.csv", **SPAN)
    await call(session, "upload_object", key="prices/pair.csv", objectData=pair_csv("2019-01-01", "2019-12-31"))
    await refused(session, "test_cointegration", "has no rows for SPY: it holds GOOG, GOOGL", symbol1="GOOG",
                  symbol2="SPY", object_key="prices/pair.csv", **SPAN)
    await refused(session, "get_history", "no daily bars for GOOG", symbols=["GOOG"], object_key="prices/pair.csv",
                  start_date="2010-01-01", end_date="2010-12-31")
    await call(session, "upload_object", key="prices/folder/a.csv", objectData="x")
    await refused(session, "get_history", "is a folder", symbols=["GOOG"], object_key="prices/folder", **SPAN)
    await call(session, "upload_object", key="prices/big.csv", objectData=pair_csv("2019-01-01", "2019-12-31"))
    monkeypatch.setattr(objects, "MAX_OBJECT_BYTES", 1000)  # bounded before the download
    await refused(session, "get_history", "holds 28,984 bytes and market data is read from objects of at most 1,000",
                  symbols=["GOOG"], object_key="prices/big.csv", **SPAN)
    assert not any(key == "prices/big.csv" for _, key, _ in handlers._FETCHED)


async def test_object_key_needs_the_object_read_scope():
    guard = ScopeGuard()
    message = SimpleNamespace(name="get_history", arguments={"symbols": ["SPY"], "object_key": "prices/spy.csv"})
    context = SimpleNamespace(message=message)

    async def passed(_context):
        return "called"

    research_only = Caller("agent", scopes=frozenset({"qc:research:read"}), token=True)
    token = set_current_caller(research_only)
    try:
        with pytest.raises(ToolError, match="with object_key needs the scope 'qc:objects:read'"):
            await guard.on_call_tool(context, passed)
        message.arguments = {"symbols": ["SPY"]}
        assert await guard.on_call_tool(context, passed) == "called"
    finally:
        reset_current_caller(token)
    token = set_current_caller(Caller("agent", scopes=frozenset(ROLES["researcher"]), token=True))
    try:
        message.arguments = {"symbols": ["SPY"], "object_key": "prices/spy.csv"}
        assert await guard.on_call_tool(context, passed) == "called"
    finally:
        reset_current_caller(token)
    logging.getLogger("qcmcp.security").info("scope checked")


class CloudObjects:
    """QuantConnect's object-store endpoints as the client sees them: properties, a download job, a link, a zip."""

    def __init__(self, key: str, data: bytes) -> None:
        self.key, self.data, self.calls = key, data, []

    async def post(self, endpoint: str, payload: dict | None = None, *, idempotent: bool) -> dict:
        from qcmcp.qc.errors import APIError

        self.calls.append(endpoint)
        payload = payload or {}
        if endpoint == "/object/properties":
            if payload["key"] != self.key:
                raise APIError(endpoint, [f"Object '{payload['key']}' not found"])
            return {"success": True, "metadata": {"key": self.key, "size": len(self.data), "modified": "m"}}
        return {"success": True, "jobId": "job-1"} if "keys" in payload else {"success": True, "url": "https://x/1"}

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        import io
        import zipfile

        self.calls.append("download")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(self.key, self.data)
        return buffer.getvalue()


async def test_against_the_cloud_the_object_comes_through_the_download_job_and_is_reused():
    api = CloudObjects("prices/pair.csv", pair_csv("2019-01-01", "2019-12-31").encode())
    gateway = SimpleNamespace(default_organization=lambda: "org-1", client=lambda: api, is_sandbox=False)
    handlers._FETCHED.clear()
    source = await handlers.object_source(gateway, "get_history", "prices/pair.csv")
    assert api.calls == ["/object/properties", "/object/get", "/object/get", "download"]  # properties read once
    assert source.location == "Object Store key 'prices/pair.csv'" and source.symbols() == ["GOOG", "GOOGL"]
    result = cointegration("GOOG", "GOOGL", "2019-01-01", "2019-12-31", source=source)
    assert result.eg_pvalue == pytest.approx(cointegration("GOOG", "GOOGL", "2019-01-01", "2019-12-31").eg_pvalue)
    api.calls.clear()
    await handlers.object_source(gateway, "get_history", "prices/pair.csv")
    assert api.calls == ["/object/properties"]  # unchanged properties: the download is reused
    from qcmcp.tools.arguments import ArgumentError
    with pytest.raises(ArgumentError, match="object_key 'prices/gone.csv': Object 'prices/gone.csv' not found"):
        await handlers.object_source(gateway, "get_history", "prices/gone.csv")
    no_org = SimpleNamespace(default_organization=lambda: None, client=lambda: api, is_sandbox=False)
    with pytest.raises(ArgumentError, match="QUANTCONNECT_ORGANIZATION_ID"):
        await handlers.object_source(no_org, "get_history", "prices/pair.csv")


@pytest.mark.parametrize(("rows", "fragment"), [
    ("9999-12-31,1,1,1,1,1", "does not read as dates"),  # past pandas' datetime range
    ("2020-01-02,1,1,1,-5,1", "not positive finite numbers"),
    ("2020-01-02,1,1,1,1e400,1", "not positive finite numbers"),
    ("2020-01-02,1,1,2,1.5,1", "a high below the low"),
    ("2020-01-02,1,2,1,1.5,-3", "a negative volume"),
])
def test_rows_a_statistic_cannot_use_are_clear_errors(rows, fragment):
    data = f"time,open,high,low,close,volume\n2020-01-01,1,1,1,1,1\n{rows}\n".encode()
    with pytest.raises(MarketDataError) as raised:
        history("SPY", "2020-01-01", "2020-01-31", source=ObjectStoreObject("prices/SPY.csv", data))
    assert fragment in str(raised.value) and "object_key 'prices/SPY.csv'" in str(raised.value)
