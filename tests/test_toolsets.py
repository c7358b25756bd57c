"""Toolsets choose what a deployment serves; tools/list and the catalog export carry toolset, scope, cost and
latency class; the export names the four primary workflows as agent platforms expect."""

from __future__ import annotations

import json

import pytest
from fastmcp import Client
from typer.testing import CliRunner

from qcmcp.cli import app
from qcmcp.config import ConfigurationError, load_settings
from qcmcp.server import build_server
from qcmcp.tools.catalog import BY_NAME, CATALOG
from qcmcp.tools.spec import METADATA_DEFAULTS, TOOLSETS


def test_every_tool_has_a_known_toolset_and_every_toolset_has_tools():
    assert {spec.toolset for spec in CATALOG} == set(TOOLSETS)
    assert BY_NAME["run_backtest"].toolset == "workflows" and BY_NAME["read_account"].toolset == "admin"


async def test_only_the_chosen_toolsets_are_served_and_tools_list_carries_the_catalog_metadata(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_TOOLSETS="backtests, workflows")
    async with Client(build_server(settings)) as client:
        tools = await client.list_tools()
    names = {tool.name for tool in tools}
    assert names == {spec.name for spec in CATALOG if spec.toolset in ("backtests", "workflows")}
    assert "run_backtest" in names and "create_project" not in names
    for tool in tools:
        meta = {**METADATA_DEFAULTS, **tool.meta["io.qcmcp/tool"]}  # a free or fast tool leaves that out
        assert meta == BY_NAME[tool.name].metadata() and meta["cost"] in ("free", "qcc", "live-money")
        assert {"toolset", "scope"} <= set(tool.meta["io.qcmcp/tool"])
    costs = {spec.name: spec.cost_class for spec in CATALOG}
    assert costs["create_optimization"] == "qcc" and costs["create_live_algorithm"] == "live-money"
    assert costs["read_project"] == "free" and BY_NAME["run_backtest"].latency_class == "slow"


def test_an_unknown_toolset_stops_start_up(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_TOOLSETS="backtests,trading")
    with pytest.raises(ConfigurationError, match="Unknown toolset.*trading"):
        build_server(settings)


def test_catalog_export_names_the_primary_workflows_under_a_namespace(tmp_path):
    runner = CliRunner()
    plain = json.loads(runner.invoke(app, ["catalog", "export"]).stdout)
    assert {tool["name"] for tool in plain["tools"]} == set(BY_NAME)
    out = tmp_path / "catalog.json"
    result = runner.invoke(app, ["catalog", "export", "--namespace", "quantconnect", "--output", str(out)])
    assert result.exit_code == 0, result.output
    tools = json.loads(out.read_text())["tools"]
    primary = {tool["name"]: tool["mcpName"] for tool in tools if tool["primary"]}
    assert primary == {"quantconnect.project.sync": "sync_project", "quantconnect.backtest.run": "run_backtest",
                       "quantconnect.backtest.status": "read_backtest_status",
                       "quantconnect.deployment.list": "list_deployments"}
    by_name = {tool["mcpName"]: tool for tool in tools}
    assert by_name["create_project"]["name"] == "quantconnect.projects.create_project"
    for tool in tools:
        assert {"description", "inputSchema", "scope", "cost", "latency", "annotations", "toolset"} <= set(tool)
        assert tool["inputSchema"]["type"] == "object" and tool["scope"].startswith("qc:")
