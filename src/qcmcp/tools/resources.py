"""Backtest and live results as MCP resources, so a client loads orders, charts, insights, logs or the report on
demand instead of pulling them into the context window with every call.

Each resource template reads through the tool that owns the data (``read_backtest_orders`` for orders, …) with
``server.call_tool``, so the same argument checks, scopes, agent policy, audit and size limits apply to a
resource read as to the tool call. The answer is the tool's JSON.
"""

from __future__ import annotations

import json
from typing import Any

from fastmcp import FastMCP
from fastmcp.resources import ResourceTemplate

FAR_FUTURE = 4_102_444_800  # 2100-01-01: chart reads span the whole run
CHART_POINTS = 500
PAGE = 100


def register_resources(server: FastMCP, served: set[str]) -> None:
    """Add a template for every result whose tool is served (a toolset choice leaves the others out)."""

    async def through(tool: str, arguments: dict[str, Any]) -> str:
        result = await server.call_tool(tool, arguments)
        return json.dumps(result.structured_content, separators=(",", ":"), default=str)

    async def backtest(projectId: int, backtestId: str) -> str:  # noqa: N803 - the API's names
        return await through("read_backtest", {"projectId": projectId, "backtestId": backtestId})

    async def backtest_orders(projectId: int, backtestId: str, start: int = 0, end: int = PAGE) -> str:  # noqa: N803
        return await through("read_backtest_orders", {"projectId": projectId, "backtestId": backtestId,
                                                      "start": start, "end": end})

    async def backtest_insights(projectId: int, backtestId: str, start: int = 0, end: int = PAGE) -> str:  # noqa: N803
        return await through("read_backtest_insights", {"projectId": projectId, "backtestId": backtestId,
                                                        "start": start, "end": end})

    async def backtest_chart(projectId: int, backtestId: str, name: str) -> str:  # noqa: N803
        return await through("read_backtest_chart", {"projectId": projectId, "backtestId": backtestId, "name": name,
                                                     "count": CHART_POINTS, "start": 0, "end": FAR_FUTURE})

    async def backtest_report(projectId: int, backtestId: str) -> str:  # noqa: N803
        return await through("read_backtest_report", {"projectId": projectId, "backtestId": backtestId})

    async def live_portfolio(projectId: int) -> str:  # noqa: N803
        return await through("read_live_portfolio", {"projectId": projectId})

    async def live_orders(projectId: int, start: int = 0, end: int = PAGE) -> str:  # noqa: N803
        return await through("read_live_orders", {"projectId": projectId, "start": start, "end": end})

    async def live_chart(projectId: int, name: str) -> str:  # noqa: N803
        return await through("read_live_chart", {"projectId": projectId, "name": name, "count": CHART_POINTS,
                                                 "start": 0, "end": FAR_FUTURE})

    async def live_logs(projectId: int, algorithmId: str, startLine: int = 0, endLine: int = 250) -> str:  # noqa: N803
        return await through("read_live_logs", {"projectId": projectId, "algorithmId": algorithmId,
                                                "startLine": startLine, "endLine": endLine})

    base = "qc://projects/{projectId}"
    templates = [
        (backtest, "read_backtest", f"{base}/backtests/{{backtestId}}", "A backtest: status, statistics, charts."),
        (backtest_orders, "read_backtest_orders", f"{base}/backtests/{{backtestId}}/orders{{?start,end}}",
         "A page of a backtest's orders (start inclusive, end exclusive, at most 100)."),
        (backtest_insights, "read_backtest_insights", f"{base}/backtests/{{backtestId}}/insights{{?start,end}}",
         "A page of a backtest's insights (at most 100)."),
        (backtest_chart, "read_backtest_chart", f"{base}/backtests/{{backtestId}}/charts/{{name}}",
         "One chart of a backtest (e.g. Strategy Equity), over the whole run."),
        (backtest_report, "read_backtest_report", f"{base}/backtests/{{backtestId}}/report", "A backtest's report."),
        (live_portfolio, "read_live_portfolio", f"{base}/live/portfolio", "A live deployment's holdings and cash."),
        (live_orders, "read_live_orders", f"{base}/live/orders{{?start,end}}", "A page of a live deployment's orders."),
        (live_chart, "read_live_chart", f"{base}/live/charts/{{name}}", "One chart of a live deployment."),
        (live_logs, "read_live_logs", f"{base}/live/logs/{{algorithmId}}{{?startLine,endLine}}",
         "Lines of a live deployment's log (at most 250)."),
    ]
    for function, tool, uri, description in templates:
        if tool in served:
            server.add_template(ResourceTemplate.from_function(function, uri_template=uri, name=function.__name__,
                                                               description=description, mime_type="application/json"))
