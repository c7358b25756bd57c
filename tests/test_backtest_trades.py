"""read_backtest keeps its answer small: statistics, a trade count and the first closed trades; read_backtest_trades
pages through all of them."""

from __future__ import annotations

import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server
from tests.test_sandbox import Session, wait_for

FLIPPER = '''from AlgorithmImports import *


class Flipper(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2020, 1, 1)
        self.set_end_date(2020, 6, 30)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol

    def on_data(self, data):
        if self.portfolio.invested:
            self.liquidate(self.spy)
        else:
            self.set_holdings(self.spy, 0.5)
'''


@pytest.fixture
async def sandbox(tmp_path):
    async with Client(build_server(load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3")))) as client:
        yield Session(client)


async def test_closed_trades_are_counted_and_paged(sandbox):
    project = (await sandbox.ok("create_project", name="Flip", language="Py"))["projects"][0]["projectId"]
    await sandbox.ok("update_file_contents", projectId=project, name="main.py", content=FLIPPER)
    compile_id = (await sandbox.ok("create_compile", projectId=project))["compileId"]
    created = await sandbox.ok("create_backtest", projectId=project, compileId=compile_id, backtestName="flip")
    backtest_id = created["backtest"]["backtestId"]
    await wait_for(sandbox, project, backtest_id)
    backtest = (await sandbox.ok("read_backtest", projectId=project, backtestId=backtest_id))["backtest"]
    total = backtest["closedTradeCount"]
    assert total > 40 and len(backtest["totalPerformance"]["closedTrades"]) == 20
    assert total == backtest["totalPerformance"]["tradeStatistics"]["totalNumberOfTrades"]
    assert "read_backtest_trades" in backtest["closedTradesNote"]

    async def page(start: int, end: int) -> dict:
        result = await sandbox.client.call_tool("read_backtest_trades", {
            "projectId": project, "backtestId": backtest_id, "start": start, "end": end})
        return result.structured_content

    default = (await sandbox.client.call_tool("read_backtest_trades", {"projectId": project, "backtestId": backtest_id})
               ).structured_content  # without start/end: the first 100
    assert default["start"] == 0 and len(default["closedTrades"]) == min(total, 100)
    first = await page(0, 20)
    assert first["closedTrades"] == backtest["totalPerformance"]["closedTrades"] and first["length"] == total
    everything = []
    start = 0
    while start < total:
        chunk = await page(start, start + 15)
        everything += chunk["closedTrades"]
        start = chunk["end"]
    assert len(everything) == total and "next" not in chunk
    assert [t["entryTime"] for t in everything] == sorted(t["entryTime"] for t in everything)
    refused = await sandbox.client.call_tool("read_backtest_trades", {
        "projectId": project, "backtestId": backtest_id, "start": 0, "end": 101}, raise_on_error=False)
    assert refused.is_error and "at most 100 more" in refused.content[0].text
