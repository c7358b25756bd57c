"""quantconnect-mcp's research calls keep working: its parameter names, its spellings and its method names are
accepted through an MCP session, and give the same numbers as ours (or as the reference library)."""

from __future__ import annotations

import numpy as np
import pytest
from fastmcp import Client
from statsmodels.tsa.stattools import coint

from qcmcp import research
from qcmcp.config import load_settings
from qcmcp.marketdata import history
from qcmcp.server import build_server
from qcmcp.tools.catalog import BY_NAME
from qcmcp.tools.schema import build_parameters_schema

SPAN = {"start_date": "2016-01-01", "end_date": "2019-12-31"}
UNIVERSE = ["SPY", "AAPL", "IBM", "BAC", "AIG", "WM"]

# Every parameter of quantconnect-mcp's research tools (0.2, before QuantBook was removed), but instance_name
# (its QuantBook session).
QUANTCONNECT_MCP = {
    "get_history": {"symbols", "start_date", "end_date", "resolution", "fields"},
    "calculate_correlation_matrix": {"symbols", "start_date", "end_date"},
    "perform_pca_analysis": {"symbols", "start_date", "end_date", "n_components"},
    "test_cointegration": {"symbol1", "symbol2", "start_date", "end_date", "trend", "lags"},
    "analyze_mean_reversion": {"symbols", "start_date", "end_date", "lookback_period"},
    "calculate_portfolio_performance": {"symbols", "weights", "start_date", "end_date", "benchmark_symbol"},
    "optimize_equal_weight_portfolio": {"symbols", "start_date", "end_date", "rebalance_frequency"},
    "sparse_optimization": {"portfolio_symbols", "benchmark_symbol", "start_date", "end_date", "max_iterations",
                            "tolerance", "max_weight", "penalty_param", "huber_param", "lambda_param"},
    "select_uncorrelated_assets": {"symbols", "start_date", "end_date", "num_assets", "method"},
    "screen_assets_by_criteria": {"symbols", "start_date", "end_date", "min_return", "max_volatility", "min_sharpe",
                                  "max_correlation", "benchmark_symbol"},
}


def test_every_quantconnect_mcp_parameter_is_in_the_schema():
    for tool, names in QUANTCONNECT_MCP.items():
        properties = set(build_parameters_schema(BY_NAME[tool])["properties"])
        assert names <= properties, (tool, names - properties)


@pytest.fixture
async def session(tmp_path, monkeypatch):
    monkeypatch.delenv("QCMCP_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"))
    async with Client(build_server(settings)) as client:
        yield client


async def ok(client: Client, tool: str, **arguments) -> dict:
    result = await client.call_tool(tool, arguments, raise_on_error=False)
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def refused(client: Client, tool: str, fragment: str, **arguments) -> None:
    result = await client.call_tool(tool, arguments, raise_on_error=False)
    assert result.is_error and fragment in result.content[0].text, result.content[0].text


async def test_its_spellings_and_names_give_our_numbers(session):
    one = await ok(session, "get_history", symbols="SPY", resolution="Daily", **SPAN)
    assert list(one["table"]) == ["SPY"] and one["data"]["resolution"] == "daily"
    month = await ok(session, "get_history", symbols=["SPY"], start_date="2019-06-01", end_date="2019-06-30",
                     fields=["close"])
    assert len(month["bars"]["SPY"]["close"]) == 20 and set(month["bars"]["SPY"]) == {"time", "close"}
    assert list((await ok(session, "get_history", symbols="SPY, IBM", **SPAN))["table"]) == ["SPY", "IBM"]
    ours = await ok(session, "calculate_portfolio_performance", symbols=["AAPL", "IBM"], weights=[0.6, 0.4],
                    benchmark="IWM", **SPAN)
    theirs = await ok(session, "calculate_portfolio_performance", symbols=["AAPL", "IBM"], weights=[0.6, 0.4],
                      benchmark_symbol="IWM", **SPAN)
    assert theirs["metrics"] == ours["metrics"] and theirs["metrics"]["beta"] is not None
    screened = await ok(session, "screen_assets_by_criteria", symbols=UNIVERSE[1:], max_correlation=0.6,
                        benchmark_symbol="SPY", **SPAN)
    ours = await ok(session, "screen_assets_by_criteria", symbols=UNIVERSE[1:], max_correlation=0.6, benchmark="SPY",
                    **SPAN)
    assert screened == ours and "correlation" in str(screened["method"]).lower()
    await refused(session, "calculate_portfolio_performance", "benchmark_symbol and benchmark are one parameter",
                  symbols=["AAPL"], weights=[1.0], benchmark="SPY", benchmark_symbol="QQQ", **SPAN)


async def test_sparse_optimization_with_its_parameters(session):
    arguments = {"max_iterations": 50, "tolerance": 0.001, "max_weight": 0.5, "penalty_param": 0.5,
                 "huber_param": 0.0001, "lambda_param": 0.01, **SPAN}
    theirs = await ok(session, "sparse_optimization", portfolio_symbols=UNIVERSE[1:], benchmark_symbol="SPY",
                      **arguments)
    direct = research.sparse_optimization(UNIVERSE[1:], "SPY", **arguments)
    assert theirs["weights"] == pytest.approx(direct.to_dict()["weights"], abs=1e-12)
    await refused(session, "sparse_optimization", "symbols (portfolio_symbols) and benchmark (benchmark_symbol) are "
                  "required", portfolio_symbols=UNIVERSE[1:], **SPAN)


async def test_cointegration_with_its_trend_and_lags_equals_statsmodels(session):
    body = await ok(session, "test_cointegration", symbol1="GOOG", symbol2="GOOGL", trend="ct", lags=0,
                    start_date="2015-01-01", end_date="2020-12-31")
    closes = history(["GOOG", "GOOGL"], "2015-01-01", "2020-12-31").frame["close"].unstack(0).dropna()
    reference = coint(closes["GOOG"], closes["GOOGL"], trend="ct", maxlag=0, autolag=None)
    assert body["eg_statistic"] == pytest.approx(reference[0], abs=1e-12)
    assert body["eg_pvalue"] == pytest.approx(reference[1], abs=1e-12)
    assert "trend 'ct', 0 ADF lags" in body["method"]


async def test_mean_reversion_of_several_symbols_is_each_ones_own(session):
    body = await ok(session, "analyze_mean_reversion", symbols=["SPY", "IBM"], lookback_period=30, **SPAN)
    assert list(body["results"]) == ["SPY", "IBM"] and body["interpretation"].startswith("SPY: ")
    for symbol in ("SPY", "IBM"):
        alone = research.analyze_mean_reversion(symbol, lookback_period=30, **SPAN)
        assert body["results"][symbol]["adf_pvalue"] == pytest.approx(alone.adf_pvalue, abs=1e-15)
        assert body["results"][symbol]["zscore"] == pytest.approx(alone.zscore, abs=1e-15)
    assert body["data"]["location"] == "<built-in LEAN sample>" and body["data"]["symbols"] == ["SPY", "IBM"]
    await refused(session, "analyze_mean_reversion", "give symbol (one ticker) or symbols (several)", **SPAN)
    await refused(session, "analyze_mean_reversion", "NOPE", symbols=["SPY", "NOPE"], **SPAN)


async def test_its_selection_methods_rank_by_summed_correlation(session):
    returns = history(UNIVERSE, *SPAN.values()).frame["close"].unstack(0)[UNIVERSE].dropna().pct_change().iloc[1:]
    summed = returns.corr().abs().sum() - 1
    for method, ascending in (("lowest_correlation", True), ("highest_correlation", False)):
        body = await ok(session, "select_uncorrelated_assets", symbols=UNIVERSE, num_assets=3, method=method, **SPAN)
        assert body["selected"] == list(summed.sort_values(ascending=ascending).index[:3]), method


def test_rebalancing_quarterly_and_never():
    symbols, weights = ["AAPL", "IBM", "WM"], [0.5, 0.3, 0.2]
    returns = history(symbols, *SPAN.values()).frame["close"].unstack(0)[symbols].dropna().pct_change().iloc[1:]
    held = research.calculate_portfolio_performance(symbols, weights, benchmark=None, rebalance_frequency="never",
                                                    **SPAN)
    bought = float(np.prod(1 + returns.to_numpy(), axis=0) @ np.array(weights)) - 1
    assert held.metrics.total_return == pytest.approx(bought, rel=1e-12)  # bought once and left to drift
    quarterly = research.calculate_portfolio_performance(symbols, weights, benchmark=None,
                                                         rebalance_frequency="quarterly", **SPAN)
    value = 1.0
    for _, quarter in returns.groupby(returns.index.to_period("Q")):
        value *= float(np.prod(1 + quarter.to_numpy(), axis=0) @ np.array(weights))
    assert quarterly.metrics.total_return == pytest.approx(value - 1, rel=1e-12)


async def test_equal_weight_rebalances_quarterly_through_mcp(session):
    body = await ok(session, "optimize_equal_weight_portfolio", symbols=["AAPL", "IBM"],
                    rebalance_frequency="quarterly", **SPAN)
    assert "quarterly" in body["method"]
