#!/usr/bin/env python3
"""Six everyday agent tasks through a real MCP session on the sandbox, counting calls, failures and bytes.

The tasks are the ones the agent-answers issue measured: an SMA backtest on SPY 2010-2020; fixing a planted bug
with a patch; optimising two windows; deploying to paper, reading holdings and stopping; storing parameters in the
Object Store and reading them back; comparing two backtests. Each is done the way the tool descriptions and
instructions say, reading only the text content (what a text-only client hands the model), and every call's text
is counted toward "bytes into the context". Polls count as calls.

Usage: uv run --locked python scripts/agent_tasks.py   (about a minute; prints one row per task)
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server

SMA = '''from AlgorithmImports import *


class SmaCross(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2010, 1, 1)
        self.set_end_date(2020, 12, 31)
        self.set_cash(100000)
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
BUGGY = SMA.replace('self.spy = self.add_equity("SPY", Resolution.DAILY)', 'self.spy = self.add_equity("SPY", Resoluton.DAILY)')


@dataclass
class Tally:
    calls: int = 0
    failed: int = 0
    text_bytes: int = 0
    notes: list[str] = field(default_factory=list)


class Agent:
    """Calls tools and reads only their text, as a text-only client would."""

    def __init__(self, client: Client) -> None:
        self.client, self.tally = client, Tally()

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.client.call_tool(tool, arguments, raise_on_error=False)
        text = "".join(getattr(block, "text", "") for block in result.content)
        self.tally.calls += 1
        self.tally.text_bytes += len(text.encode("utf-8"))
        if result.is_error:
            self.tally.failed += 1
            raise RuntimeError(f"{tool}: {text[:300]}")
        return data_from_text(text)


def data_from_text(text: str) -> dict[str, Any]:
    """The JSON a tool's text carries on the line after its summary (all a text-only client sees)."""
    lines = text.split("\n")
    body = next((line for line in lines[1:] if line.startswith("{")), None)
    if body is None:
        return {}
    return json.loads(body)


async def project_with(agent: Agent, name: str, code: str) -> int:
    created = await agent.call("create_project", name=name, language="Py")
    project = created["projects"][0]["projectId"]
    await agent.call("update_file_contents", projectId=project, name="main.py", content=code)
    return project


async def task_backtest(agent: Agent) -> None:
    project = await project_with(agent, "SMA SPY", SMA)
    result = await agent.call("run_backtest", projectId=project)
    agent.tally.notes.append(f"net profit {result.get('statistics', {}).get('Net Profit')}")


async def task_fix_bug(agent: Agent) -> None:
    project = await project_with(agent, "Buggy", BUGGY)
    first = await agent.call("run_backtest", projectId=project)  # the build error, with file and line
    assert first.get("status") == "BuildError", first
    error = first["errors"][0]  # names the file and line: the patch fixes that line
    assert "Resoluton" in str(error), error
    patch = ("--- a/main.py\n+++ b/main.py\n@@ -9,1 +9,1 @@\n"
             '-        self.spy = self.add_equity("SPY", Resoluton.DAILY).symbol\n'
             '+        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol\n')
    await agent.call("patch_file", projectId=project, patch=patch)
    fixed = await agent.call("run_backtest", projectId=project)
    agent.tally.notes.append(f"after the patch: {fixed.get('status')}")


async def task_optimize(agent: Agent) -> None:
    project = await project_with(agent, "Optimize", SMA.replace("2010, 1, 1", "2019, 1, 1"))
    compiled = await agent.call("create_compile", projectId=project)
    parameters = [{"name": "fast", "min": 5, "max": 15, "step": 5}, {"name": "slow", "min": 40, "max": 60, "step": 10}]
    common = dict(projectId=project, name="windows", target="TotalPerformance.PortfolioStatistics.SharpeRatio",
                  targetTo="max", strategy="QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy",
                  parameters=parameters)
    estimate = await agent.call("estimate_optimization_time", **common)
    created = await agent.call("create_optimization", **common, compileId=compiled["compileId"],
                               estimatedCost=estimate["estimate"].get("estimatedCost") or 1, nodeType="O2-8",
                               parallelNodes=2)
    optimization_id = created["optimizations"][0]["optimizationId"]
    wait = max(1.0, float(estimate["estimate"]["time"]))  # wait as long as the estimate says, poll the small list
    while True:
        await asyncio.sleep(wait)
        listed = (await agent.call("list_optimizations", projectId=project))["optimizations"]
        if listed[0]["status"] == "completed":
            break
        wait = 1.0
    read = (await agent.call("read_optimization", optimizationId=optimization_id))["optimization"]
    agent.tally.notes.append(f"best {read['ranked'][0]['parameterSet']}")


async def task_paper(agent: Agent) -> None:
    code = SMA.replace("        self.set_end_date(2020, 12, 31)\n", "").replace(
        "    def on_data(self, data):\n", "    def on_data(self, data):\n        self.set_holdings(self.spy, 0.5)\n        return\n")
    project = await project_with(agent, "Paper", code)
    compiled = await agent.call("create_compile", projectId=project)
    await agent.call("create_live_algorithm", projectId=project, compileId=compiled["compileId"], nodeId="SB-L1",
                     versionId="-1", brokerage={"id": "QuantConnectBrokerage"}, confirm=str(project))
    while True:
        await asyncio.sleep(2.0)
        portfolio = (await agent.call("read_live_portfolio", projectId=project))["portfolio"]
        if portfolio.get("holdings"):
            break
    await agent.call("stop_live_algorithm", projectId=project, confirm=str(project))
    agent.tally.notes.append(f"{len(portfolio['holdings'])} holding(s)")


async def task_object_store(agent: Agent) -> None:
    stored = json.dumps({"fast": 10, "slow": 50})
    await agent.call("upload_object", key="params/sma.json", objectData=stored)
    read = await agent.call("read_object", key="params/sma.json")
    assert read["content"] == stored, read
    agent.tally.notes.append("read back intact")


async def task_compare(agent: Agent) -> None:
    project = await project_with(agent, "Compare", SMA)
    await agent.call("run_backtest", projectId=project, backtestName="fast 10", parameters={"fast": 10})
    await agent.call("run_backtest", projectId=project, backtestName="fast 20", parameters={"fast": 20})
    listed = await agent.call("list_backtests", projectId=project, includeStatistics=True)
    agent.tally.notes.append(", ".join(f"{b['name']}: Sharpe {b.get('sharpeRatio')}" for b in listed["backtests"]))


TASKS = (("SMA backtest on SPY 2010-2020", task_backtest, 7), ("fix a planted bug with a patch", task_fix_bug, 12),
         ("optimise the two windows", task_optimize, 5), ("paper: deploy, read holdings, stop", task_paper, 12),
         ("Object Store: store and read back", task_object_store, 4), ("compare two backtests", task_compare, 4))


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(QCMCP_SANDBOX_DB=str(Path(tmp) / "sandbox.sqlite3"), QCMCP_LIVE_CLOCK_SPEED=864000)
        print(f"{'task':40} {'calls':>5} {'before':>6} {'failed':>6} {'KB':>7} {'s':>5}  result")
        total_bytes, ok = 0, True
        async with Client(build_server(settings)) as client:
            for name, task, before in TASKS:
                agent, started = Agent(client), time.monotonic()
                try:
                    await task(agent)
                except Exception as error:  # noqa: BLE001 - a failed task is reported, and the others still run
                    ok = False
                    agent.tally.notes.append(f"FAILED: {error}")
                tally = agent.tally
                total_bytes += tally.text_bytes
                print(f"{name:40} {tally.calls:>5} {before:>6} {tally.failed:>6} {tally.text_bytes / 1024:>7.1f} "
                      f"{time.monotonic() - started:>5.1f}  {'; '.join(tally.notes)[:90]}")
        print(f"{'all six':40} {'':>5} {'':>6} {'':>6} {total_bytes / 1024:>7.1f}  (62 KB before)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
