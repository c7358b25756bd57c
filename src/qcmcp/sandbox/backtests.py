"""Sandbox endpoints for backtests: they really run the project's compiled Python code."""

from __future__ import annotations

import json
import uuid
from typing import Any

from qcmcp.sandbox.api import Context, check_page, paged, route, successful_build, visible_project
from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.limits import MAX_ORDERS_PAGE, check_name_length, shorten
from qcmcp.sandbox.runner import COMPLETED, FAILED, QUEUED, cloud_status
from qcmcp.sandbox.store import now

SYNTHETIC_NOTE = "qcmcp sandbox backtest (local engine, not QuantConnect LEAN)"


def parameter_text(parameters: dict[str, Any]) -> dict[str, str]:
    """Parameter values as the algorithm sees them: text, with whole floats as LEAN writes them (``1.0`` -> ``1``)."""
    def text(value: Any) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return {key: text(value) for key, value in parameters.items()}


def _runner(ctx: Context) -> Any:
    runner = ctx.runner
    if runner is None:
        raise SandboxError("This sandbox was started without a backtest runner.")
    return runner


def _backtest(ctx: Context, project_id: int, backtest_id: str) -> Any:
    row = ctx.store.one("SELECT * FROM backtests WHERE backtest_id = ? AND project_id = ?", backtest_id, project_id)
    if row is None:
        raise SandboxError(f"Backtest {shorten(backtest_id)} not found in project {project_id}. Use list_backtests "
                           "to see them.")
    return row


def _result(row: Any) -> dict[str, Any]:
    return json.loads(row["result"]) if row["result"] else {}


def backtest_json(ctx: Context, row: Any, project: Any) -> dict[str, Any]:
    result = _result(row)
    completed = row["status"] == COMPLETED
    body: dict[str, Any] = {
        "name": row["name"], "note": row["note"], "organizationId": project["org_id"], "projectId": row["project_id"],
        # Like the cloud, a runtime error is a finished backtest: clients polling for `completed` stop.
        "backtestId": row["backtest_id"], "completed": row["status"] in (COMPLETED, FAILED),
        "status": cloud_status(row["status"]), "progress": row["progress"],
        "created": row["created"], "parameterSet": json.loads(row["parameters"]) or [], "nodeName": "Sandbox",
        "hasInitializeError": bool(row["initialize_error"]), "error": row["error"], "stacktrace": row["stacktrace"],
        "snapshotId": 0, "sandboxNote": SYNTHETIC_NOTE,
    }
    if completed:
        body.update(
            statistics=result["statistics"], runtimeStatistics=result["runtimeStatistics"],
            totalPerformance=result["totalPerformance"], tradeableDates=result["tradeableDates"],
            backtestStart=result["backtestStart"], backtestEnd=result["backtestEnd"],
            charts={name: {"name": name} for name in result["charts"]},
            syntheticData=result["synthetic"], notes=result["notes"], dataSource=result.get("dataSource"),
        )
    return body


@route("/backtests/create", "CreateBacktestRequest")
def create_backtest(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    build = successful_build(ctx, project, body["compileId"])
    _runner(ctx).jail.check()  # refused before anything is recorded when algorithms may not run here
    check_name_length("The backtest name", body["backtestName"])
    backtest_id = uuid.uuid4().hex
    # Stored as sent (the cloud echoes 0 as 0, not "0"); the algorithm reads them as text, as get_parameter does in LEAN.
    parameters = dict(body.get("parameters") or {})
    with ctx.store.transaction() as db:
        db.execute("INSERT INTO backtests (backtest_id, project_id, compile_id, name, status, created, parameters) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", (backtest_id, project["project_id"], build["compile_id"],
                                                    body["backtestName"], QUEUED, now(), json.dumps(parameters)))
    _runner(ctx).start(backtest_id, ctx.store.loads(build["snapshot"]), parameter_text(parameters))
    row = _backtest(ctx, project["project_id"], backtest_id)
    return {"backtest": backtest_json(ctx, row, project), "debugging": False}


@route("/backtests/read", "ReadBacktestRequest")
def read_backtest(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    return {"backtest": backtest_json(ctx, _backtest(ctx, project["project_id"], body["backtestId"]), project),
            "debugging": False}


@route("/backtests/list", "ListBacktestRequest")
def list_backtests(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    rows = ctx.store.query("SELECT * FROM backtests WHERE project_id = ? ORDER BY created, rowid", project["project_id"])
    summaries = []
    for row in rows:
        summary = {"backtestId": row["backtest_id"], "status": cloud_status(row["status"]), "name": row["name"], "created": row["created"],
                   "progress": row["progress"], "parameterSet": json.loads(row["parameters"]) or [], "tags": []}
        if body.get("includeStatistics") and row["status"] == COMPLETED:
            stats = _result(row)["totalPerformance"]["portfolioStatistics"]
            trades = _result(row)["totalPerformance"]["tradeStatistics"]
            summary.update(sharpeRatio=stats["sharpeRatio"], alpha=stats["alpha"], beta=stats["beta"],
                           compoundingAnnualReturn=stats["compoundingAnnualReturn"], drawdown=stats["drawdown"],
                           lossRate=stats["lossRate"], netProfit=stats["totalNetProfit"], psr=stats["probabilisticSharpeRatio"],
                           sortinoRatio=stats["sortinoRatio"], trades=trades["totalNumberOfTrades"],
                           treynorRatio=stats["treynorRatio"], winRate=stats["winRate"],
                           parameters=len(json.loads(row["parameters"])), securityTypes=1,
                           tradeableDates=_result(row)["tradeableDates"])
        summaries.append(summary)
    return {"backtests": summaries, "count": len(summaries)}


@route("/backtests/update", "UpdateBacktestRequest")
def update_backtest(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    row = _backtest(ctx, project["project_id"], body["backtestId"])
    if body.get("name") is None and body.get("note") is None:
        raise SandboxError("Nothing to update: pass a new name, a note, or both.")
    if body.get("name") is not None:
        check_name_length("The backtest name", body["name"])
    with ctx.store.transaction() as db:
        db.execute("UPDATE backtests SET name = COALESCE(?, name), note = COALESCE(?, note) WHERE backtest_id = ?",
                   (body.get("name"), body.get("note"), row["backtest_id"]))
    return {}


@route("/backtests/delete", "DeleteBacktestRequest")
def delete_backtest(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    row = _backtest(ctx, project["project_id"], body["backtestId"])
    with ctx.store.transaction() as db:
        db.execute("DELETE FROM backtests WHERE backtest_id = ?", (row["backtest_id"],))
    _runner(ctx).abort(row["backtest_id"])
    return {}


def _completed(ctx: Context, body: dict[str, Any]) -> tuple[Any, dict[str, Any]] | dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    row = _backtest(ctx, project["project_id"], body["backtestId"])
    if row["status"] != COMPLETED:
        if row["error"]:
            raise SandboxError(f"Backtest {row['backtest_id']} ended with a runtime error; read_backtest shows it.")
        return {"progress": row["progress"], "status": "loading"}
    return row, _result(row)


def downsample(points: list[list[float]], start: int, end: int, count: int) -> list[list[float]]:
    inside = [p for p in points if start <= p[0] <= end]
    if count <= 0 or len(inside) <= count:
        return inside
    step = len(inside) / count
    return [inside[min(len(inside) - 1, int(i * step))] for i in range(count - 1)] + [inside[-1]]


def chart_window(charts: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The requested chart, limited to [start, end] (unix seconds) and about ``count`` points per series."""
    if body["start"] >= body["end"]:
        raise SandboxError(f"start ({body['start']}) must be less than end ({body['end']}) (unix seconds).")
    chart = charts.get(body["name"])
    if chart is None:
        raise SandboxError(f"Chart '{shorten(body['name'])}' not found. Charts: {', '.join(charts)}.")
    series = {name: {**s, "values": downsample(s["values"], body["start"], body["end"], body["count"])}
              for name, s in chart["series"].items()}
    return {"chart": {**chart, "series": series}}


@route("/backtests/chart/read", "ReadBacktestChartRequest")
def read_chart(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    found = _completed(ctx, body)
    if isinstance(found, dict):
        return found
    _, result = found
    return chart_window(result["charts"], body)


@route("/backtests/orders/read", "ReadBacktestOrdersRequest")
def read_orders(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    check_page(body["start"], body["end"], MAX_ORDERS_PAGE, "orders")
    found = _completed(ctx, body)
    if isinstance(found, dict):
        return {"orders": [], "length": 0, **found}
    _, result = found
    orders = result["orders"]
    return {"orders": paged(orders, body["start"], body["end"], MAX_ORDERS_PAGE, "orders"), "length": len(orders)}


@route("/backtests/read/insights", "ReadBacktestInsightsRequest")
def read_insights(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    check_page(body["start"], body["end"], MAX_ORDERS_PAGE, "insights")
    found = _completed(ctx, body)
    if isinstance(found, dict):
        return {"insights": [], "length": 0}
    _, result = found
    insights = result.get("insights", [])
    return {"insights": paged(insights, body["start"], body["end"], MAX_ORDERS_PAGE, "insights"), "length": len(insights)}


@route("/backtests/read/report", "BacktestReportRequest")
def read_report(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    from qcmcp.sandbox.report import render

    found = _completed(ctx, body)
    if isinstance(found, dict):
        return {"generating": True}
    row, result = found
    return {"report": render(row["name"], result)}
