"""run_optimization: one call from compile to ranked results with overfitting diagnostics, through a real MCP session
on the sandbox, plus its refusals and cancellation against a fake API."""

from __future__ import annotations

import asyncio

import pytest

from qcmcp.config import load_settings
from qcmcp.qc.errors import APIError
from qcmcp.server import build_server
from qcmcp.workflows.optimization import run_optimization
from tests.test_sandbox import Session
from tests.test_workflows import PlainClient

SMA = '''from AlgorithmImports import *


class Windows(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2019, 1, 1)
        self.set_end_date(2020, 12, 31)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
        self.fast = self.sma(self.spy, int(self.get_parameter("fast", 10)))
        self.slow = self.sma(self.spy, int(self.get_parameter("slow", 50)))

    def on_data(self, data):
        if not self.slow.is_ready:
            return
        if self.fast.current.value > self.slow.current.value and not self.portfolio.invested:
            self.set_holdings(self.spy, 1)
        elif self.fast.current.value < self.slow.current.value and self.portfolio.invested:
            self.liquidate(self.spy)
'''
SHARPE = "TotalPerformance.PortfolioStatistics.SharpeRatio"
PARAMETERS = [{"name": "fast", "min": 5, "max": 15, "step": 5}, {"name": "slow", "min": 40, "max": 60, "step": 10}]


async def test_one_call_ranks_the_grid_and_says_how_much_is_luck(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"))
    async with PlainClient(build_server(settings)) as client:  # blocking, with progress notifications
        session = Session(client)
        project = (await session.ok("create_project", name="Windows", language="Py"))["projects"][0]["projectId"]
        await session.ok("update_file_contents", projectId=project, name="main.py", content=SMA)
        seen: list[float] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append(progress)

        result = await client.call_tool("run_optimization", {
            "projectId": project, "target": SHARPE, "targetTo": "max", "parameters": PARAMETERS,
            "estimatedCost": 0}, progress_handler=on_progress, raise_on_error=False)
        assert not result.is_error, result.content[0].text
        answer = result.structured_content
        assert result.content[0].text.startswith("[sandbox] Optimization O-") and "Deflated Sharpe Ratio" in \
            result.content[0].text.split("\n")[0]
        assert answer["status"] == "completed" and answer["trials"] + len(answer.get("unranked", [])) == 9
        for backtest_id in answer.get("unranked", []):  # seen twice under load, cause not found: shown, not hidden
            unranked = (await session.ok("read_backtest", projectId=project, backtestId=backtest_id))["backtest"]
            print("unranked backtest:", unranked.get("status"), unranked.get("error"))
        assert answer["trials"] >= 8 and len(answer["ranked"]) == answer["trials"]
        sharpes = [row["statistics"]["sharpe ratio"] for row in answer["ranked"]]
        assert sharpes == sorted(sharpes, reverse=True)  # best first by the target
        read = (await session.ok("read_optimization", optimizationId=answer["optimizationId"]))["optimization"]
        assert answer["ranked"][0]["parameterSet"] == read["bestBacktest"]["parameterSet"]
        dsr = answer["overfitting"]["deflatedSharpeRatio"]
        assert 0 <= dsr["value"] <= 1 and dsr["trials"] == answer["trials"] and dsr["days"] > 400 and "trials" in dsr["interpretation"]
        pbo = answer["overfitting"]["probabilityOfBacktestOverfitting"]
        assert 0 <= pbo["value"] <= 1 and pbo["splits"] == 12870 and pbo["days"] > 400
        assert seen and seen == sorted(seen) and seen[-1] >= 0.95


class FakeApi:
    """Answers the optimization endpoints; the optimization never finishes unless told to."""

    def __init__(self, cost: float | None = None, balance: float = 10.0) -> None:
        self.cost, self.balance, self.calls = cost, balance, []

    async def post(self, endpoint, payload=None, *, idempotent):
        self.calls.append(endpoint)
        if endpoint == "/compile/create":
            return {"compileId": "c1", "state": "BuildSuccess"}
        if endpoint == "/optimizations/estimate":
            estimate = {"estimateId": "e", "time": 60, "balance": self.balance}  # QuantConnect's estimate: no cost
            return {"estimate": estimate | ({"estimatedCost": self.cost} if self.cost is not None else {})}
        if endpoint == "/optimizations/create":
            return {"optimizations": [{"optimizationId": "O-1"}]}
        if endpoint == "/optimizations/read":
            return {"optimization": {"status": "running", "runtimeStatistics": {"Completed": "1", "Total": "4"}}}
        return {}


BODY = {"projectId": 1, "target": SHARPE, "targetTo": "max", "parameters": PARAMETERS, "estimatedCost": 5,
        "strategy": "QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy", "nodeType": "O2-8",
        "parallelNodes": 2}


async def test_an_estimate_over_the_allowed_cost_or_the_balance_starts_nothing():
    api = FakeApi(cost=12)  # a backend that states the cost (the sandbox does)
    with pytest.raises(APIError, match="12 QCC, more than the 5 QCC allowed"):
        await run_optimization(api, BODY)
    assert "/optimizations/create" not in api.calls
    poor = FakeApi(balance=3)  # QuantConnect's estimate: time and balance only
    with pytest.raises(APIError, match="balance is 3 QCC, below the 5 QCC of estimatedCost"):
        await run_optimization(poor, BODY)
    assert "/optimizations/create" not in poor.calls


async def test_cancelling_aborts_the_optimization_and_a_timeout_hands_over():
    api = FakeApi()
    task = asyncio.create_task(run_optimization(api, BODY, timeout_seconds=60))
    for _ in range(500):
        if "/optimizations/read" in api.calls or task.done():
            break
        await asyncio.sleep(0.01)
    assert "/optimizations/read" in api.calls, task
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert api.calls[-1] == "/optimizations/abort"
    handed = await run_optimization(FakeApi(), BODY, timeout_seconds=0.05)
    assert handed["status"] == "running" and "read_optimization" in handed["next"]
