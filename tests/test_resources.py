"""Backtest and live results as MCP resources: listed as templates, read on demand through the owning tool."""

from __future__ import annotations

import json

import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server
from tests.test_sandbox import SMA, Session, new_project


@pytest.fixture
async def client(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "state.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.db"))
    async with Client(build_server(settings)) as session:
        yield session


async def test_results_are_resource_templates_read_through_their_tools(client, tmp_path):
    templates = {t.uri_template for t in await client.list_resource_templates()}
    assert "qc://projects/{projectId}/backtests/{backtestId}/orders{?start,end}" in templates
    assert "qc://projects/{projectId}/backtests/{backtestId}/charts/{name}" in templates
    s = Session(client)
    project = await new_project(s, "Resources")
    await s.ok("update_file_contents", projectId=project, name="main.py", content=SMA)
    done = (await client.call_tool("run_backtest", {"projectId": project})).structured_content
    base = f"qc://projects/{project}/backtests/{done['backtestId']}"
    orders = json.loads((await client.read_resource(f"{base}/orders?start=0&end=10"))[0].text)
    assert orders["sandbox"] is True and len(orders["orders"]) == done["orderCount"] >= 1
    chart = json.loads((await client.read_resource(f"{base}/charts/Strategy%20Equity"))[0].text)
    assert chart["chart"]["name"] == "Strategy Equity"
    backtest = json.loads((await client.read_resource(base))[0].text)
    assert backtest["backtest"]["backtestId"] == done["backtestId"]
    with pytest.raises(Exception, match="at most|end|range|100"):
        await client.read_resource(f"{base}/orders?start=0&end=5000")
    from qcmcp.security.audit import AuditLog

    tools = [row["tool"] for row in AuditLog(str(tmp_path / "a.db")).rows()]
    assert "read_backtest_orders" in tools and "read_backtest_chart" in tools  # resource reads are audited


async def test_resources_follow_the_toolsets(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_TOOLSETS="projects")
    async with Client(build_server(settings)) as session:
        assert await session.list_resource_templates() == []
