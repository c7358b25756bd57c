"""The research tools through an MCP session: real data by default, numbers in the text, a chart where it
helps, the data source stated, clear errors without server paths, and the research scope."""

from __future__ import annotations

import base64

import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.marketdata import SAMPLE_FOLDER
from qcmcp.security.scopes import ROLES
from qcmcp.server import build_server
from qcmcp.tools.catalog import CATALOG

RESEARCH_TOOLS = {"get_history", "calculate_correlation_matrix", "perform_pca_analysis", "test_cointegration",
                  "analyze_mean_reversion", "calculate_portfolio_performance", "optimize_equal_weight_portfolio",
                  "optimize_portfolio", "sparse_optimization", "select_uncorrelated_assets",
                  "screen_assets_by_criteria", "screen_cointegrated_pairs"}


@pytest.fixture
async def client(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"))
    async with Client(build_server(settings)) as session:
        yield session


def test_the_research_toolset_has_the_tools_quants_know_under_the_research_scope():
    research = {spec.name for spec in CATALOG if spec.toolset == "research"}
    assert research == RESEARCH_TOOLS
    assert {spec.scope for spec in CATALOG if spec.toolset == "research"} == {"qc:research:read"}
    assert "qc:research:read" in ROLES["researcher"]


async def test_are_goog_and_googl_cointegrated_and_how_fast_does_the_spread_revert(client):
    result = await client.call_tool("test_cointegration", {"symbol1": "GOOG", "symbol2": "GOOGL",
                                                           "start_date": "2015-01-01", "end_date": "2020-12-31"})
    body = result.structured_content
    assert body["cointegrated"] is True and body["eg_pvalue"] < 0.05 and body["johansen_rank"] >= 1
    assert 1 < body["half_life"] < 30 and "__png__" not in body
    text, image = result.content
    assert "cointegrated" in text.text and '"half_life"' in text.text
    first_line = text.text.splitlines()[0]  # the reading in full, with the data it was computed on
    assert first_line.startswith("cointegrated at 0.05") and "halves in" in first_line and "trading days" in first_line
    assert "Data: sample (<built-in LEAN sample>), adjusted daily bars, 2015-01-02" in first_line
    assert body["data"]["location"] == "<built-in LEAN sample>"  # no server paths in answers, as in errors
    assert base64.b64decode(image.data).startswith(b"\x89PNG")
    assert "sample" in str(body["data"]).lower() and "adjusted" in str(body["data"])


async def test_every_research_tool_answers_on_the_sample(client):
    span = {"start_date": "2016-01-01", "end_date": "2019-12-31"}
    universe = ["SPY", "AAPL", "IBM", "BAC", "AIG"]
    calls = {
        "get_history": {"symbols": ["SPY", "AAPL"], **span},
        "calculate_correlation_matrix": {"symbols": universe, **span},
        "perform_pca_analysis": {"symbols": universe, "n_components": 2, **span},
        "analyze_mean_reversion": {"symbol": "SPY", "lookback_period": 20, **span},
        "calculate_portfolio_performance": {"symbols": ["AAPL", "IBM"], "weights": [0.5, 0.5], **span},
        "optimize_equal_weight_portfolio": {"symbols": universe, **span},
        "optimize_portfolio": {"symbols": universe, "method": "max_sharpe", "max_weight": 0.5, **span},
        "sparse_optimization": {"symbols": ["AAPL", "IBM", "BAC", "AIG"], "benchmark": "SPY", **span},
        "select_uncorrelated_assets": {"symbols": universe, "num_assets": 3, **span},
        "screen_assets_by_criteria": {"symbols": universe, "max_volatility": 0.3, **span},
        "screen_cointegrated_pairs": {"symbols": universe, **span},
    }
    for tool, arguments in calls.items():
        result = await client.call_tool(tool, arguments, raise_on_error=False)
        assert not result.is_error, (tool, result.content[0].text[:400])
        body = result.structured_content
        assert body.get("interpretation") and body.get("method") and body.get("data"), tool


async def test_bad_input_is_a_clear_error_without_server_paths(client):
    cases = [("get_history", {"symbols": ["NOPE"], "start_date": "2015-01-01", "end_date": "2016-01-01"}, "NOPE"),
             ("calculate_portfolio_performance", {"symbols": ["SPY", "IBM"], "weights": [0.7, 0.7]}, "weights"),
             ("screen_assets_by_criteria", {"symbols": ["SPY"], "min_market_cap": 1e9}, "fundamental"),
             ("test_cointegration", {"symbol1": "SPY", "symbol2": "IBM", "start_date": "2019-01-01",
                                     "end_date": "2019-01-10"}, "observations")]
    for tool, arguments, fragment in cases:
        result = await client.call_tool(tool, arguments, raise_on_error=False)
        text = result.content[0].text
        assert result.is_error and fragment.lower() in text.lower(), (tool, text)
        assert str(SAMPLE_FOLDER) not in text and "/work/" not in text and "/root/" not in text, text


async def test_research_calls_are_audited_and_held_to_the_policy_and_the_rate_limit(tmp_path, monkeypatch):
    """The same audit, policy and limits as every other tool (issue 13, item 4)."""
    from qcmcp.security.audit import AuditLog

    monkeypatch.delenv("QCMCP_DATA_DIR", raising=False)
    policy = tmp_path / "policy.yaml"
    policy.write_text("defaults:\n  deny_tools: [sparse_optimization]\n", encoding="utf-8")
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"),
                             QCMCP_POLICY_FILE=str(policy), QCMCP_RATE_LIMIT="3/60")
    span = {"start_date": "2019-01-01", "end_date": "2019-12-31"}
    async with Client(build_server(settings)) as session:
        assert not (await session.call_tool("get_history", {"symbols": ["SPY"], **span})).is_error
        denied = await session.call_tool("sparse_optimization", {"symbols": ["IBM", "AAPL"], "benchmark": "SPY",
                                                                 **span}, raise_on_error=False)
        assert denied.is_error and "sparse_optimization" in denied.content[0].text
        assert "polic" in denied.content[0].text.lower()
        await session.call_tool("get_history", {"symbols": ["NOPE"], **span}, raise_on_error=False)
        limited = await session.call_tool("get_history", {"symbols": ["SPY"], **span}, raise_on_error=False)
        assert limited.is_error and "429" in limited.content[0].text, limited.content[0].text
    rows = AuditLog(str(tmp_path / "a.sqlite3")).rows()
    assert [row["tool"] for row in rows][:3] == ["get_history", "sparse_optimization", "get_history"]
    assert rows[0]["outcome"] == "ok" and rows[1]["outcome"] != "ok" and "NOPE" in rows[2]["error"]
