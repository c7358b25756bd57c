"""Sandbox endpoints for paper trading deployments (the sandbox paper brokerage only)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from qcmcp.sandbox.api import Context, check_organization, check_page, paged, route, successful_build, visible_project
from qcmcp.sandbox.backtests import chart_window
from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.limits import MAX_LIVE_INSIGHTS, MAX_LIVE_ORDERS, MAX_LOG_LINES, MAX_STARTING_ENTRIES, shorten
from qcmcp.sandbox.live_runner import FINAL
from qcmcp.sandbox.projects import NODES
from qcmcp.sandbox.store import now

PAPER_BROKERAGE = "QuantConnectBrokerage"
STANDARD_CHARTS = ("Strategy Equity", "Drawdown", "Benchmark", "Exposure", "Assets Sales Volume", "Portfolio Turnover",
                   "Portfolio Margin", "Capacity")
NOTE = ("Sandbox paper trading: the algorithm replays the market (synthetic or recorded bars) from its start date "
        "on an accelerated clock. No real brokerage, no real money.")


def _latest(ctx: Context, project_id: int) -> Any:
    row = ctx.store.one("SELECT * FROM live_deployments WHERE project_id = ? ORDER BY launched DESC, rowid DESC LIMIT 1",
                        project_id)
    if row is None:
        raise SandboxError(f"Project {project_id} has no live deployment. Deploy it with create_live_algorithm.")
    return row


def _snapshot(row: Any) -> dict[str, Any]:
    return json.loads(row["snapshot"]) if row["snapshot"] else {}


def _clock(ctx: Context, row: Any) -> dict[str, Any]:
    """Where the replay stands, in every live answer: its simulated time and how fast its clock runs."""
    return {"simulatedTime": _snapshot(row).get("time"), "speed": ctx.live.clock_speed,
            "unit": "simulated seconds per real second", "warmUp": "fast-forwarded"}


def _running(row: Any) -> bool:
    return row["status"] not in FINAL


def _number(entry: dict[str, Any], key: str, what: str) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) > 1e15:
        raise SandboxError(f"{what} needs a number for '{key}' (got {shorten(repr(value))}).")
    return float(value)


def starting_portfolio(brokerage: dict[str, Any]) -> dict[str, Any]:
    """The brokerage settings' starting ``holdings`` and ``cash``, checked before anything starts."""
    holdings, cash = brokerage.get("holdings") or [], brokerage.get("cash") or []
    if not isinstance(holdings, list) or not isinstance(cash, list) or len(holdings) > MAX_STARTING_ENTRIES \
            or len(cash) > MAX_STARTING_ENTRIES:
        raise SandboxError(f"brokerage.holdings and brokerage.cash must be lists of at most {MAX_STARTING_ENTRIES} "
                           "entries.")
    checked: dict[str, list[dict[str, Any]]] = {"holdings": [], "cash": []}
    for entry in holdings:
        symbol = entry.get("symbol") if isinstance(entry, dict) else None
        if not isinstance(symbol, str) or not symbol.strip().isalnum() or len(symbol) > 20:
            raise SandboxError("Each starting holding needs a 'symbol' (a ticker such as 'SPY' or 'BTCUSD'), "
                               "a 'quantity' and an 'averagePrice'.")
        checked["holdings"].append({"symbol": symbol.strip().upper(),
                                    "quantity": _number(entry, "quantity", f"Holding {symbol}"),
                                    "averagePrice": _number(entry, "averagePrice", f"Holding {symbol}")})
    for entry in cash:
        currency = entry.get("currency") if isinstance(entry, dict) else None
        if not isinstance(currency, str) or currency.upper() != "USD":
            raise SandboxError("The sandbox account is in USD: each starting cash entry needs currency 'USD' and an "
                               "'amount'.")
        checked["cash"].append({"currency": "USD", "amount": _number(entry, "amount", "Starting cash")})
    return checked


@route("/live/create", "CreateLiveAlgorithmRequest")
def create(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    if body["brokerage"].get("id") != PAPER_BROKERAGE:
        raise SandboxError(f"The sandbox trades on paper only: use brokerage {{'id': '{PAPER_BROKERAGE}'}}. Real "
                           "brokerages need the QuantConnect cloud.")
    live_nodes = {node["id"] for node in NODES["live"]}
    if body["nodeId"] not in live_nodes:
        raise SandboxError(f"Unknown live node {shorten(body['nodeId'])}; the sandbox's live node is "
                           f"{', '.join(sorted(live_nodes))}.")
    starting = starting_portfolio(body["brokerage"])
    build = successful_build(ctx, project, body["compileId"])
    ctx.live.jail.check()  # refused before anything is recorded when algorithms may not run here
    existing = ctx.store.one("SELECT * FROM live_deployments WHERE project_id = ? AND status NOT IN (?, ?, ?, ?)",
                             project["project_id"], *sorted(FINAL))
    if existing is not None:
        raise SandboxError(f"Project {project['project_id']} is already live ({existing['deploy_id']}); stop it first.")
    deploy_id = f"L-{uuid.uuid4().hex}"
    with ctx.store.transaction() as db:
        db.execute("INSERT INTO live_deployments (deploy_id, project_id, compile_id, org_id, status, launched) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (deploy_id, project["project_id"], build["compile_id"], project["org_id"],
                                                 "Running", now()))
    ctx.live.start(deploy_id, ctx.store.loads(build["snapshot"]), {}, starting)
    summary = {"deployId": deploy_id, "status": "Running", "launched": now(), "brokerage": "PaperBrokerage"}
    # "api-v2" as the cloud says; the answer still says it is the sandbox's (its note and the "sandbox" flag).
    return {"responseCode": "Running", "source": "api-v2", "deployId": deploy_id, "versionId": 1,
            "projectId": project["project_id"], "live": summary, "note": NOTE}


@route("/live/read", "ReadLiveAlgorithmRequest")
def read(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    row = _latest(ctx, project["project_id"])
    snapshot = _snapshot(row)
    return {"deployId": row["deploy_id"], "status": row["status"], "launched": row["launched"], "stopped": row["stopped"],
            "brokerage": "PaperBrokerage", "securityTypes": "Equity", "projectName": project["name"],
            "datacenter": "sandbox", "public": False, "isPublicStreaming": False,
            "runtimeStatistics": snapshot.get("runtimeStatistics", {}),
            "charts": {name: {"name": name} for name in snapshot.get("charts", {})},
            "message": row["error"], "simulatedTime": snapshot.get("time"), "syntheticData": snapshot.get("synthetic", []),
            "dataSource": snapshot.get("dataSource"),
            "clock": _clock(ctx, row), "note": NOTE}


@route("/live/list", "ListLiveAlgorithmsRequest")
def list_live(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    rows = ctx.store.query("SELECT * FROM live_deployments WHERE org_id = ? ORDER BY launched, rowid", ctx.org_id)
    if body.get("projectId") is not None:
        visible_project(ctx, body["projectId"])
        rows = [r for r in rows if r["project_id"] == body["projectId"]]
    if body.get("status"):
        rows = [r for r in rows if r["status"] == body["status"]]
    live = []
    for row in rows:
        equity = _snapshot(row).get("runtimeStatistics", {}).get("Equity", "$0").replace("$", "").replace(",", "")
        live.append({"projectId": row["project_id"], "deployId": row["deploy_id"], "status": row["status"],
                     "launched": row["launched"], "stopped": row["stopped"], "brokerage": "PaperBrokerage",
                     "equity": max(0.0, float(equity or 0)), "environment": "paper", "error": row["error"]})
    return {"live": live}


@route("/live/chart/read", "ReadLiveChartRequest")
def chart(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    if body["start"] >= body["end"]:  # checked first: a bad range is an error whether or not charts have loaded
        raise SandboxError(f"start ({body['start']}) must be less than end ({body['end']}) (unix seconds).")
    row = _latest(ctx, project["project_id"])
    charts = _snapshot(row).get("charts", {})
    if not charts:  # the deployment has not reported yet: its standard charts are on their way, nothing else is
        if body["name"] in STANDARD_CHARTS:
            return {"progress": 0.0, "status": "loading"}
        raise SandboxError(f"Chart '{shorten(body['name'])}' not found: the deployment has not reported any chart "
                           f"yet. Its standard charts are {', '.join(STANDARD_CHARTS)}.")
    return {**chart_window(charts, body), "clock": _clock(ctx, row)}


@route("/live/logs/read", "ReadLiveLogsRequest")
def logs(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    check_page(body["startLine"], body["endLine"], MAX_LOG_LINES, "log lines")
    project = visible_project(ctx, body["projectId"])
    row = ctx.store.one("SELECT * FROM live_deployments WHERE deploy_id = ? AND project_id = ?", body["algorithmId"],
                        project["project_id"])
    if row is None:
        raise SandboxError(f"Deployment {shorten(body['algorithmId'])} not found in project {project['project_id']}; "
                           "read_live_algorithm shows its deployId.")
    lines = _snapshot(row).get("logs", [])
    return {"logs": paged(lines, body["startLine"], body["endLine"], MAX_LOG_LINES, "log lines"), "length": len(lines),
            "deploymentOffset": 0, "clock": _clock(ctx, row)}


@route("/live/portfolio/read", "ReadLivePortfolioRequest")
def portfolio(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    row = _latest(ctx, project["project_id"])
    return {"portfolio": _snapshot(row).get("portfolio", {"holdings": {}, "cash": {}}), "clock": _clock(ctx, row)}


@route("/live/orders/read", "ReadLiveOrdersRequest")
def orders(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    check_page(body["start"], body["end"], MAX_LIVE_ORDERS, "orders")
    project = visible_project(ctx, body["projectId"])
    row = _latest(ctx, project["project_id"])
    found = _snapshot(row).get("orders", [])
    return {"orders": paged(found, body["start"], body["end"], MAX_LIVE_ORDERS, "orders"), "length": len(found),
            "clock": _clock(ctx, row)}


@route("/live/insights/read", "ReadLiveInsightsRequest")
def insights(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    # Without a start the cloud answers from the first insight, at most 100 of them, even when end is over 100.
    start, end = body.get("start"), body["end"]
    if start is None:
        start, end = 0, min(end, MAX_LIVE_INSIGHTS) if end > 0 else end
    check_page(start, end, MAX_LIVE_INSIGHTS, "insights")
    project = visible_project(ctx, body["projectId"])
    row = _latest(ctx, project["project_id"])
    found = _snapshot(row).get("insights", [])
    page = paged(found, start, end, MAX_LIVE_INSIGHTS, "insights")
    return {"insights": page, "length": len(found), "clock": _clock(ctx, row)}


def _running_row(ctx: Context, project_id: int) -> Any:
    row = _latest(ctx, project_id)
    if not _running(row):
        raise SandboxError(f"Project {project_id}'s deployment {row['deploy_id']} is not running (status {row['status']}).")
    return row


@route("/live/update/stop", "StopLiveAlgorithmRequest")
def stop(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    ctx.live.stop(_running_row(ctx, project["project_id"])["deploy_id"])
    return {}


@route("/live/update/liquidate", "LiquidateLiveAlgorithmRequest")
def liquidate(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    row = _running_row(ctx, project["project_id"])
    if not ctx.live.send(row["deploy_id"], {"liquidate": True}):
        raise SandboxError(f"Deployment {row['deploy_id']} is no longer running.")
    ctx.live.wait(row["deploy_id"], 30.0)  # liquidation fills on the next bar, then the deployment stops
    return {}


@route("/live/commands/create", "CreateLiveCommandRequest")
def command(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    row = _running_row(ctx, project["project_id"])
    if not ctx.live.send(row["deploy_id"], {"command": body["command"]}):
        raise SandboxError(f"Deployment {row['deploy_id']} is no longer running.")
    return {}


@route("/live/commands/broadcast", "BroadcastLiveCommandRequest")
def broadcast(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    check_organization(ctx, body["organizationId"])
    rows = ctx.store.query("SELECT * FROM live_deployments WHERE org_id = ?", ctx.org_id)
    targets = [r for r in rows if _running(r) and r["project_id"] != body.get("excludeProjectId")]
    if not targets:
        raise SandboxError("No running deployment in the organization received the command.")
    for row in targets:
        ctx.live.send(row["deploy_id"], {"command": body["command"]})
    return {}


@route("/live/auth0/authorize", "AuthorizeExternalConnectionRequest")
@route("/live/auth0/read", "AuthorizeExternalConnectionRequest")
def brokerage_authorization(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    raise SandboxError("Brokerage authorisation is for real brokerages; the sandbox's paper brokerage needs none.")
