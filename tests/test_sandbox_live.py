"""Paper deployments in the sandbox, through a real MCP client session."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server
from tests.test_sandbox import Session

LIVE_ALGORITHM = '''from AlgorithmImports import *


class Paper(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2001, 1, 1)
        self.set_end_date(2030, 12, 31)
        self.set_cash(50000)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol

    def on_command(self, data):
        self.debug(f"COMMAND {data.action} {data['quantity']}")
        self.market_order(self.spy, int(data.quantity))
        return True
'''
PAPER = {"id": "QuantConnectBrokerage"}


@pytest.fixture
async def sandbox(tmp_path):
    # Fast-forward: 10 simulated days per real second keeps the deployment running for the whole test.
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "state.sqlite3"), QCMCP_LIVE_CLOCK_SPEED=864000)
    async with Client(build_server(settings)) as client:
        yield Session(client)


async def until(check, attempts: int = 200) -> Any:
    for _ in range(attempts):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached")


async def deployable(sandbox: Session) -> tuple[int, str]:
    project = (await sandbox.ok("create_project", name="Paper", language="Py"))["projects"][0]["projectId"]
    await sandbox.ok("update_file_contents", projectId=project, name="main.py", content=LIVE_ALGORITHM)
    return project, (await sandbox.ok("create_compile", projectId=project))["compileId"]


async def test_paper_deployment_lifecycle(sandbox):
    project, compile_id = await deployable(sandbox)
    await sandbox.fails("create_live_algorithm", "trades on paper only", versionId="-1", projectId=project, confirm=str(project),
                        compileId=compile_id, nodeId="SB-L1", brokerage={"id": "TradierBrokerage", "tradier-account-id": "a",
                                                                        "tradier-access-token": "b", "tradier-environment": "paper"})
    created = await sandbox.ok("create_live_algorithm", versionId="-1", projectId=project, confirm=str(project), compileId=compile_id,
                               nodeId="SB-L1", brokerage=PAPER)
    deploy_id = created["deployId"]
    await sandbox.fails("create_live_algorithm", "already live", versionId="-1", projectId=project, confirm=str(project), compileId=compile_id,
                        nodeId="SB-L1", brokerage=PAPER)

    async def has_statistics():
        live = await sandbox.ok("read_live_algorithm", projectId=project)
        return live if live["runtimeStatistics"] else None

    live = await until(has_statistics)
    assert live["status"] == "Running" and live["deployId"] == deploy_id and "paper" in live["note"].lower()
    listed = await sandbox.ok("list_live_algorithms", status="Running")
    assert [item["deployId"] for item in listed["live"]] == [deploy_id]

    await sandbox.ok("create_live_command", projectId=project, confirm=str(project), command={"action": "buy", "quantity": 10})

    async def filled():
        orders = await sandbox.ok("read_live_orders", projectId=project, start=0, end=10)
        return orders if orders["orders"] and orders["orders"][0]["status"] == 3 else None

    orders = await until(filled)
    assert orders["orders"][0]["quantity"] == 10
    logs = await sandbox.ok("read_live_logs", projectId=project, algorithmId=deploy_id, startLine=0, endLine=100)
    assert any("COMMAND buy 10" in line for line in logs["logs"])

    async def holding():
        portfolio = (await sandbox.ok("read_live_portfolio", projectId=project))["portfolio"]
        return portfolio if portfolio["holdings"] else None

    portfolio = await until(holding)
    [position] = portfolio["holdings"].values()
    assert position["q"] == 10 and portfolio["cash"]["USD"]["amount"] < 50000
    chart = await sandbox.ok("read_live_chart", projectId=project, name="Strategy Equity", count=10, start=0, end=2_000_000_000)
    assert chart["chart"]["series"]["Equity"]["values"]

    await sandbox.ok("liquidate_live_algorithm", projectId=project, confirm=str(project))
    final = await sandbox.ok("read_live_algorithm", projectId=project)
    assert final["status"] == "Liquidated" and final["stopped"]
    assert (await sandbox.ok("read_live_portfolio", projectId=project))["portfolio"]["holdings"] == {}
    await sandbox.fails("create_live_command", "is not running", projectId=project, confirm=str(project), command={"action": "buy", "quantity": 1})


async def test_stop_and_broadcast(sandbox):
    project, compile_id = await deployable(sandbox)
    await sandbox.ok("create_live_algorithm", versionId="-1", projectId=project, confirm=str(project), compileId=compile_id, nodeId="SB-L1",
                     brokerage=PAPER)
    org = (await sandbox.ok("read_account"))["organizationId"]
    await sandbox.ok("broadcast_live_command", organizationId=org, confirm=org, command={"action": "buy", "quantity": 3})

    async def received():
        logs = await sandbox.ok("read_live_logs", projectId=project,
                                algorithmId=(await sandbox.ok("read_live_algorithm", projectId=project))["deployId"],
                                startLine=0, endLine=100)
        return any("COMMAND buy 3" in line for line in logs["logs"])

    await until(received)
    await sandbox.fails("broadcast_live_command", "No running deployment", organizationId=org, confirm=org, excludeProjectId=project,
                        command={"action": "buy", "quantity": 1})
    await sandbox.ok("stop_live_algorithm", projectId=project, confirm=str(project))
    assert (await sandbox.ok("read_live_algorithm", projectId=project))["status"] == "Stopped"
    await sandbox.fails("stop_live_algorithm", "is not running", projectId=project, confirm=str(project))
    await sandbox.fails("authorize_connection", "paper brokerage needs none", brokerage="alpaca",
                        confirm="alpaca")
