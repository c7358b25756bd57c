"""The workflow tools end to end through an MCP client session on the sandbox: run_backtest (progress
notifications, statistics, first orders, the equity curve as a PNG, a compile error, a runtime error),
read_backtest_status and list_deployments; and run_backtest's cancellation against a scripted API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server
from qcmcp.workflows.backtest import Pacing, run_backtest
from tests.test_sandbox import SMA, Session, new_project

BROKEN = SMA.replace("def on_data(self, data: Slice):", "def on_data(self, data: Slice)")
CRASHES = SMA.replace("self.set_holdings(self.spy, 1)", "raise ValueError('boom in on_data')")


class PlainClient(Client):
    """A client that does not ask for background tasks: long tools block and send progress notifications."""

    _auto_internal_extensions = False


@pytest.fixture
async def session(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "state.sqlite3"))
    async with PlainClient(build_server(settings)) as client:
        yield client


async def project_with(client: Client, source: str, name: str) -> int:
    s = Session(client)
    project = await new_project(s, name)
    await s.ok("update_file_contents", projectId=project, name="main.py", content=source)
    return project


async def test_run_backtest_reports_progress_and_returns_statistics_orders_and_an_equity_png(session):
    project = await project_with(session, SMA, "Workflow")
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    result = await session.call_tool("run_backtest", {"projectId": project, "backtestName": "wf",
                                                      "parameters": {"fast": 5}}, progress_handler=on_progress)
    assert not result.is_error, result.content[0].text
    body = result.structured_content
    assert body["status"] == "Completed." and body["completed"] is True and body["name"] == "wf"
    assert {"Net Profit", "Sharpe Ratio", "Drawdown", "Total Orders"} <= set(body["statistics"])
    assert body["orderCount"] >= 1 and body["firstOrders"][0]["symbol"] == "SPY"
    assert body["runtimeStatistics"]["Equity"].startswith("$")
    assert body["dataSource"]["securities"]["SPY"]["prices"].startswith("synthetic")  # says which prices
    assert body["equityCurve"]["points"] >= 2 and "equity" not in body
    text, image = result.content
    assert text.text.startswith("[sandbox]")
    assert image.type == "image" and image.mime_type == "image/png"
    import base64

    assert base64.b64decode(image.data).startswith(b"\x89PNG")
    assert seen and seen[0][2] == "compiling" and seen[-1][0] == 100 and all(t == 100 for _, t, _ in seen)
    assert [p for p, _, _ in seen] == sorted(p for p, _, _ in seen)

    status = await session.call_tool("read_backtest_status", {"projectId": project})  # the latest
    assert status.structured_content["backtestId"] == body["backtestId"]
    assert status.structured_content["completed"] and "Net Profit" in status.structured_content["statistics"]
    assert len(status.content[0].text) < 1500  # cheap to poll


async def test_a_compile_error_is_the_result_with_file_and_line(session):
    project = await project_with(session, BROKEN, "Broken")
    result = await session.call_tool("run_backtest", {"projectId": project})
    body = result.structured_content
    assert body["status"] == "BuildError" and "backtestId" not in body
    assert any("main.py" in error and "line" in error.lower() for error in body["errors"]), body["errors"]
    listed = await session.call_tool("list_backtests", {"projectId": project})
    assert listed.structured_content["backtests"] == []  # nothing was started


async def test_a_runtime_error_says_what_failed(session):
    project = await project_with(session, CRASHES, "Crashes")
    body = (await session.call_tool("run_backtest", {"projectId": project})).structured_content
    assert body["status"].startswith("Runtime Error") and "boom in on_data" in body["error"]
    assert "run_backtest again" in body["next"]


async def test_status_of_a_project_without_backtests_and_bad_input(session):
    project = await project_with(session, SMA, "Empty")
    status = (await session.call_tool("read_backtest_status", {"projectId": project})).structured_content
    assert status["status"] == "none" and "run_backtest" in status["next"]
    refused = await session.call_tool("run_backtest", {"projectId": 0}, raise_on_error=False)
    assert refused.is_error and "projectId" in refused.content[0].text
    unknown = await session.call_tool("read_backtest_status", {"projectId": 999999}, raise_on_error=False)
    assert unknown.is_error and "999999" in unknown.content[0].text


async def test_list_deployments_shows_every_deployment_with_its_portfolio(session):
    s = Session(session)
    project = await project_with(session, SMA, "Paper")
    build = await s.ok("create_compile", projectId=project)
    nodes = await s.ok("read_project_nodes", projectId=project)
    node = nodes["nodes"]["live"][0]["id"]
    await s.ok("create_live_algorithm", versionId="-1", projectId=project, compileId=build["compileId"], nodeId=node,
               brokerage={"id": "QuantConnectBrokerage"}, confirm=str(project))
    listed = (await session.call_tool("list_deployments", {})).structured_content
    [row] = listed["deployments"]
    assert row["projectName"] == "Paper" and row["projectId"] == project and row["deployId"].startswith("L-")
    assert row["status"] == "Running" and "holdingsCount" in row and "unrealizedProfit" in row
    await s.ok("stop_live_algorithm", projectId=project, confirm=str(project))
    stopped = (await session.call_tool("list_deployments", {"status": "Running"})).structured_content
    assert stopped["deployments"] == []


class ScriptedApi:
    """A QuantConnect API whose backtest never finishes; records every call."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def post(self, endpoint: str, payload: dict[str, Any] | None = None, *, idempotent: bool) -> dict[str, Any]:
        self.calls.append(endpoint)
        if endpoint == "/compile/create":
            return {"compileId": "c1", "state": "BuildSuccess"}
        if endpoint == "/backtests/create":
            return {"backtest": {"backtestId": "b1"}}
        if endpoint == "/backtests/read":
            return {"backtest": {"backtestId": "b1", "status": "Running: 10%", "progress": 0.1, "completed": False}}
        return {}


async def test_cancelling_run_backtest_deletes_the_backtest_upstream():
    api = ScriptedApi()
    task = asyncio.create_task(run_backtest(api, 7, pacing=Pacing(first=0.01, slowest=0.01)))
    while api.calls.count("/backtests/read") < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert api.calls[-1] == "/backtests/delete"


async def test_a_backtest_still_running_at_the_timeout_is_handed_to_read_backtest_status():
    api = ScriptedApi()
    result = await run_backtest(api, 7, timeout_seconds=0.05, pacing=Pacing(first=0.01, slowest=0.01))
    assert result["status"] == "Running" and result["backtestId"] == "b1" and "read_backtest_status" in result["next"]
    assert "/backtests/delete" not in api.calls


async def test_a_cloud_backtest_summary_says_whose_data_it_used():
    from qcmcp.workflows.backtest import CLOUD_DATA, summarise

    class Cloud:
        async def post(self, endpoint, payload=None, *, idempotent):
            return {"orders": [], "length": 0}

    backtest = {"backtestId": "b1", "status": "Completed.", "completed": True, "statistics": {"Net Profit": "1%"}}
    answer = await summarise(Cloud(), 1, backtest, include_equity=False)
    assert answer["dataSource"] == CLOUD_DATA and "adjusted" in CLOUD_DATA
