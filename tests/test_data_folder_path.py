"""A data folder reached through a symlink or ".." still feeds jailed backtests: the runner hands the worker the
resolved path, the one the jail binds (a fresh-clone CI run with ../shared as a symlink found the gap)."""

from __future__ import annotations

from datetime import date

from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server
from tests.engine_helpers import sessions, write_daily
from tests.test_sandbox import Session, wait_for

BUY = '''from AlgorithmImports import *


class Buy(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2021, 1, 4)
        self.set_end_date(2021, 1, 29)
        self.add_equity("ABC", Resolution.DAILY)

    def on_data(self, data):
        if not self.portfolio.invested:
            self.set_holdings("ABC", 1)
'''


async def test_a_symlinked_data_folder_reaches_the_jailed_worker(tmp_path):
    real = tmp_path / "real-data"
    write_daily(real, "ABC", [(day, 10.0 + i, 10.5 + i, 9.5 + i, 10.0 + i)
                              for i, day in enumerate(sessions(date(2021, 1, 4), 20))])
    (tmp_path / "link").symlink_to(real)
    folder = tmp_path / "elsewhere" / ".." / "link"  # through "..", then a symlink
    (tmp_path / "elsewhere").mkdir()
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_DATA_DIR=str(folder))
    async with Client(build_server(settings)) as client:
        sandbox = Session(client)
        project = (await sandbox.ok("create_project", name="Buy", language="Py"))["projects"][0]["projectId"]
        await sandbox.ok("update_file_contents", projectId=project, name="main.py", content=BUY)
        compile_id = (await sandbox.ok("create_compile", projectId=project))["compileId"]
        created = await sandbox.ok("create_backtest", projectId=project, compileId=compile_id, backtestName="b")
        backtest = await wait_for(sandbox, project, created["backtest"]["backtestId"])
    assert backtest["status"] == "Completed.", backtest.get("error")
    assert int(backtest["statistics"]["Total Orders"]) == 1 and backtest["syntheticData"] == []
