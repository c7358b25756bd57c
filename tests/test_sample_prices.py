"""Without a data folder, the sandbox's backtests run on LEAN's daily sample shipped with qcmcp wherever it covers the
whole run (real prices out of the box), and on labelled synthetic prices otherwise."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.marketdata.history import history
from qcmcp.server import build_server
from tests.test_sandbox import Session, wait_for

HOLD = '''from AlgorithmImports import *


class Hold(QCAlgorithm):
    def initialize(self):
        self.set_start_date({start})
        self.set_end_date({end})
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol

    def on_data(self, data):
        if not self.portfolio.invested:
            self.set_holdings(self.spy, 1)
'''


@pytest.fixture
async def sandbox(tmp_path):
    async with Client(build_server(load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3")))) as client:
        yield Session(client)


async def backtest(sandbox: Session, start: str, end: str) -> tuple[int, dict]:
    project = (await sandbox.ok("create_project", name="Hold", language="Py"))["projects"][0]["projectId"]
    await sandbox.ok("update_file_contents", projectId=project, name="main.py", content=HOLD.format(start=start, end=end))
    compile_id = (await sandbox.ok("create_compile", projectId=project))["compileId"]
    created = await sandbox.ok("create_backtest", projectId=project, compileId=compile_id, backtestName="hold")
    return project, await wait_for(sandbox, project, created["backtest"]["backtestId"])


async def test_the_shipped_sample_gives_real_adjusted_prices_where_it_covers_the_run(sandbox):
    project, result = await backtest(sandbox, "2010, 1, 4", "2020, 12, 31")
    assert result["status"] == "Completed." and result["syntheticData"] == []
    assert result["dataSource"]["securities"]["SPY"]["normalization"] == "adjusted"
    assert result["dataSource"]["securities"]["SPY"]["prices"] == "LEAN's daily sample (shipped)"
    order = (await sandbox.ok("read_backtest_orders", projectId=project, backtestId=result["backtestId"], start=0,
                              end=1))["orders"][0]
    filled = datetime.fromisoformat(order["lastFillTime"].replace("Z", "+00:00")).date()
    day = history(["SPY"], filled, filled, "daily", "adjusted").frame.iloc[0]  # the research layer's same bar
    assert day["low"] - 0.01 <= order["price"] <= day["high"] + 0.01
    assert float(result["statistics"]["Net Profit"].rstrip("%")) > 200  # SPY roughly quadrupled, adjusted


async def test_a_run_the_sample_covers_only_in_part_is_synthetic_and_says_so(sandbox):
    _, result = await backtest(sandbox, "2020, 1, 1", "2023, 12, 31")  # the sample ends in March 2021
    assert result["syntheticData"] == ["SPY"] and "SYNTHETIC DATA" in result["notes"][0]
