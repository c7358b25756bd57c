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
    assert live["dataSource"]["securities"]["SPY"]["resolution"] == "daily"  # every live answer says its data
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
    assert portfolio["holdingsKey"]["q"] == "quantity" and set(position) <= set(portfolio["holdingsKey"])
    assert "q quantity" in sandbox.client.instructions or '"q"' in sandbox.client.instructions
    chart = await sandbox.ok("read_live_chart", projectId=project, name="Strategy Equity", count=10, start=0, end=2_000_000_000)
    assert chart["chart"]["series"]["Equity"]["values"]
    # The cloud's standard live charts are there beside Strategy Equity; an unknown chart is an error.
    for name in ("Drawdown", "Benchmark", "Exposure", "Assets Sales Volume", "Portfolio Turnover", "Portfolio Margin"):
        assert (await sandbox.ok("read_live_chart", projectId=project, name=name, count=10, start=0,
                                 end=2_000_000_000))["chart"]["name"] == name
    await sandbox.fails("read_live_chart", "not found", projectId=project, name=" ", count=10, start=0, end=2_000_000_000)
    await sandbox.fails("read_live_chart", "must be less than end", projectId=project, name="Strategy Equity", count=10,
                        start=2_000_000_000, end=0)
    candles = [point[0] for point in chart["chart"]["series"]["Equity"]["values"]]
    assert len(candles) == len(set(candles))  # one candle per day however often the deployment reports

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


COMMANDS_ALGORITHM = '''from AlgorithmImports import *


class Commands(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2025, 7, 10)  # after the backtest default end date: a deployment has no end date
        self.add_command(MyCommand)
        self.add_command(Broken)
        for i in range(3):
            self.log(f"Log test {i}")

    def on_command(self, data):
        self.log(f"Generic command. data.text: {data.text}")
        return True


class MyCommand(Command):
    text = None
    number = None
    parameters = {}

    def run(self, algorithm):
        parameters = {kvp.key: kvp.value for kvp in self.parameters}
        algorithm.log(f"Encapsulated command. text: {self.text}; number: {self.number}; parameters: {parameters}")
        return True


class Broken(Command):
    def run(self, algorithm):
        raise ValueError("this command always fails")
'''


async def deploy(sandbox: Session, code: str, brokerage: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    project = (await sandbox.ok("create_project", name="Live", language="Py"))["projects"][0]["projectId"]
    await sandbox.ok("update_file_contents", projectId=project, name="main.py", content=code)
    compile_id = (await sandbox.ok("create_compile", projectId=project))["compileId"]
    created = await sandbox.ok("create_live_algorithm", versionId="-1", projectId=project, confirm=str(project),
                               compileId=compile_id, nodeId="SB-L1", brokerage=brokerage or PAPER)
    return project, created


async def log_lines(sandbox: Session, project: int, deploy_id: str) -> list[str]:
    logs = await sandbox.ok("read_live_logs", projectId=project, algorithmId=deploy_id, startLine=0, endLine=250)
    return logs["logs"]


async def test_commands_reach_registered_command_classes_and_on_command(sandbox):
    """LEAN's live commands: a JSON with $type runs that Command class (its dicts iterate as key/value pairs), one
    without runs on_command; a deployment with no securities keeps running, and its logs name the deployment."""
    project, created = await deploy(sandbox, COMMANDS_ALGORITHM)
    deploy_id = created["deployId"]
    assert created["source"] == "api-v2" and created["live"]["brokerage"] == "PaperBrokerage"

    async def launched():
        lines = await log_lines(sandbox, project, deploy_id)
        return lines if any(deploy_id in line for line in lines) and len(lines) >= 4 else None

    lines = await until(launched)
    assert deploy_id in lines[0] and any("Log test 2" in line for line in lines)
    # The start-up lines the cloud writes too: the account, what the algorithm trades, and the clock.
    assert any("Paper brokerage account base currency: USD" in line for line in lines)
    assert any("initialized with 0 securities" in line for line in lines)
    assert (await sandbox.ok("read_live_algorithm", projectId=project))["status"] == "Running"
    await sandbox.ok("create_live_command", projectId=project, confirm=str(project), command={"text": "foo"})
    await sandbox.ok("create_live_command", projectId=project, confirm=str(project), command={
        "$type": "MyCommand", "text": "boo", "number": 1, "parameters": {"hello": "world"}})
    await sandbox.ok("create_live_command", projectId=project, confirm=str(project), command={"$type": "Broken"})
    await sandbox.ok("create_live_command", projectId=project, confirm=str(project), command={"$type": "Nobody"})

    async def ran():
        lines = await log_lines(sandbox, project, deploy_id)
        return lines if any("is not registered" in line for line in lines) else None

    text = "\n".join(await until(ran))
    assert "Generic command. data.text: foo" in text
    assert "Encapsulated command. text: boo; number: 1; parameters: {'hello': 'world'}" in text
    assert "Command failed: ValueError: this command always fails" in text
    assert "Command 'Nobody' is not registered: call self.add_command(Nobody)" in text
    assert (await sandbox.ok("read_live_algorithm", projectId=project))["status"] == "Running"  # failures did not end it
    await sandbox.ok("stop_live_algorithm", projectId=project, confirm=str(project))
    assert (await sandbox.ok("read_live_algorithm", projectId=project))["status"] == "Stopped"


async def test_starting_holdings_from_the_brokerage_settings(sandbox):
    """Holdings given with the brokerage are in the portfolio under LEAN's security id, and liquidation sells them."""
    code = LIVE_ALGORITHM.replace('self.spy = self.add_equity("SPY", Resolution.DAILY).symbol',
                                  'self.add_crypto("BTCUSD", Resolution.DAILY)')  # daily: quick to replay
    holding = {"symbol": "BTCUSD", "symbolId": "BTCUSD 2XR", "quantity": 1, "averagePrice": 100_000}
    await sandbox.fails("create_live_algorithm", "holdings[0].quantity", versionId="-1", projectId=1,
                        confirm="1", compileId="x", nodeId="SB-L1",
                        brokerage={**PAPER, "holdings": [{**holding, "quantity": "lots"}]})
    project, _ = await deploy(sandbox, code, {**PAPER, "holdings": [holding], "cash": [{"currency": "USD", "amount": 2500}]})

    async def invested():
        portfolio = (await sandbox.ok("read_live_portfolio", projectId=project))["portfolio"]
        return portfolio if "BTCUSD 2XR" in portfolio["holdings"] else None

    portfolio = await until(invested)
    assert portfolio["holdings"]["BTCUSD 2XR"]["a"] == 100_000 and portfolio["holdings"]["BTCUSD 2XR"]["q"] == 1
    assert portfolio["cash"]["USD"]["amount"] == 2500
    await sandbox.ok("liquidate_live_algorithm", projectId=project, confirm=str(project))
    final = await sandbox.ok("read_live_algorithm", projectId=project)
    assert final["stopped"] and (await sandbox.ok("read_live_portfolio", projectId=project))["portfolio"]["holdings"] == {}


def test_starting_portfolio_is_checked_before_a_deployment_starts():
    from qcmcp.sandbox.errors import SandboxError
    from qcmcp.sandbox.live import starting_portfolio

    assert starting_portfolio({"holdings": [{"symbol": " spy", "quantity": 3, "averagePrice": 400}]}) == {
        "holdings": [{"symbol": "SPY", "quantity": 3.0, "averagePrice": 400.0}], "cash": []}
    for bad, message in (({"holdings": [{"symbol": "SPY", "quantity": float("nan"), "averagePrice": 1}]}, "'quantity'"),
                         ({"holdings": [{"quantity": 1, "averagePrice": 1}]}, "needs a 'symbol'"),
                         ({"holdings": [{"symbol": "../x", "quantity": 1, "averagePrice": 1}]}, "needs a 'symbol'"),
                         ({"cash": [{"currency": "EUR", "amount": 5}]}, "in USD"),
                         ({"holdings": [{"symbol": "A", "quantity": 1, "averagePrice": 1}] * 101}, "at most 100")):
        with pytest.raises(SandboxError, match=message):
            starting_portfolio(bad)


async def test_live_insights_are_read_by_their_end_as_the_cloud_reads_them(sandbox):
    code = LIVE_ALGORITHM.replace("    def on_command(self, data):", '''    def on_data(self, data):
        if len(self.insights_sent) < 5:
            self.insights_sent.append(self.emit_insights(Insight.price(self.spy, timedelta(1), InsightDirection.UP)))

    def on_command(self, data):''').replace("self.set_cash(50000)", "self.set_cash(50000)\n        self.insights_sent = []")
    project, _ = await deploy(sandbox, code)

    async def emitted():
        read = await sandbox.ok("read_live_insights", projectId=project, end=1000)  # no start: from the first, at most 100
        return read if read["length"] >= 5 else None

    read = await until(emitted)
    assert len(read["insights"]) == 5 and read["insights"][0]["direction"] == "up"
    await sandbox.fails("read_live_insights", "At most 100 insights", projectId=project, start=0, end=1000)
    await sandbox.ok("stop_live_algorithm", projectId=project, confirm=str(project))


async def test_warm_up_is_fast_forwarded_and_every_read_says_where_the_clock_is(tmp_path):
    """At one simulated day per second, a 300-day warm-up paced like the rest would take five minutes."""
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "state.sqlite3"), QCMCP_LIVE_CLOCK_SPEED=86400)
    code = LIVE_ALGORITHM.replace("self.set_cash(50000)", "self.set_cash(50000)\n        self.set_warm_up(timedelta(300))")
    code = code.replace("    def on_command(self, data):", '''    def on_warmup_finished(self):
        self.log(f"WARM-UP DONE at {self.time:%Y-%m-%d}")

    def on_command(self, data):''')
    async with Client(build_server(settings)) as client:
        sandbox = Session(client)
        project, created = await deploy(sandbox, code)

        async def warmed_up():
            lines = await log_lines(sandbox, project, created["deployId"])
            return next((line for line in lines if "WARM-UP DONE" in line), None)

        assert "WARM-UP DONE at 2001-01-0" in await until(warmed_up, attempts=300)  # at the start date, in seconds
        reads = {"read_live_algorithm": {}, "read_live_portfolio": {}, "read_live_orders": {"start": 0, "end": 10},
                 "read_live_insights": {"end": 10},
                 "read_live_logs": {"algorithmId": created["deployId"], "startLine": 0, "endLine": 10}}
        for tool, arguments in reads.items():
            clock = (await sandbox.ok(tool, projectId=project, **arguments))["clock"]
            assert clock["speed"] == 86400 and clock["unit"] == "simulated seconds per real second", tool
            assert clock["simulatedTime"] and clock["warmUp"] == "fast-forwarded", tool
        await sandbox.ok("stop_live_algorithm", projectId=project, confirm=str(project))


async def test_a_warm_up_the_data_never_reaches_ends_when_the_data_does(sandbox):
    """Starting after today leaves the warm-up without bars: it ends with the data (no busy loop waiting for it)."""
    code = LIVE_ALGORITHM.replace("self.set_start_date(2001, 1, 1)", "self.set_start_date(2099, 1, 1)").replace(
        "self.set_cash(50000)", "self.set_cash(50000)\n        self.set_warm_up(timedelta(10))").replace(
        "    def on_command(self, data):", '''    def on_warmup_finished(self):
        self.log("WARM-UP OVER")

    def on_command(self, data):''')
    project, created = await deploy(sandbox, code)

    async def over():
        return any("WARM-UP OVER" in line for line in await log_lines(sandbox, project, created["deployId"]))

    await until(over)
    assert (await sandbox.ok("read_live_algorithm", projectId=project))["status"] == "Running"
    await sandbox.ok("stop_live_algorithm", projectId=project, confirm=str(project))
