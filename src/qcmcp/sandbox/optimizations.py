"""Sandbox optimizations: grid or random search, every point a real backtest.

Each parameter set becomes a backtest (visible with its ``parameterSet``) run by the same
runner, so at most one worker process per core runs at a time. Random search samples a
quarter of the grid (1 to 100 points) uniformly, seeded by the optimization id. The best
backtest maximises or minimises the target statistic among those meeting the constraints.
"""

from __future__ import annotations

import itertools
import json
import operator
import random
import uuid
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any

from qcmcp.sandbox.api import Context, route, successful_build, visible_project
from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.projects import CREDIT_NOTE, SANDBOX_CREDIT
from qcmcp.sandbox.limits import MAX_GRID_POINTS, MAX_RANDOM_POINTS, check_name_length, shorten
from qcmcp.sandbox.runner import COMPLETED, FAILED, QUEUED, RUNNING
from qcmcp.sandbox.store import now

GRID_SEARCH = "QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy"
RANDOM_SEARCH = "QuantConnect.Optimizer.Strategies.RandomSearchOptimizationStrategy"
DEFAULT_SECONDS_PER_BACKTEST = 3.0
MAX_EXPONENT = 10_000  # far beyond any float, so exact grid counting never overflows
# OptimizationBacktest.statistics is a list in this documented order.
STATISTICS_ORDER = ("alpha", "annualStandardDeviation", "annualVariance", "averageLossRate", "averageWinRate", "beta",
                    "compoundingAnnualReturn", "drawdown", None, "expectancy", "informationRatio", "lossRate",
                    "totalNetProfit", "probabilisticSharpeRatio", "profitLossRatio", "sharpeRatio", None, None,
                    "trackingError", "treynorRatio", "winRate")
COMPARE = {"LessOrEqual": operator.le, "Less": operator.lt, "GreaterOrEqual": operator.ge, "Greater": operator.gt,
           "NotEqual": operator.ne, "Equals": operator.eq}


def _bound(parameter: dict[str, Any], key: str) -> Decimal:
    value = parameter[key]
    number = Decimal(str(value)) if isinstance(value, int | float) and not isinstance(value, bool) else Decimal("NaN")
    if not number.is_finite():
        raise SandboxError(f"Parameter '{shorten(parameter['name'])}' needs a finite number for {key} (got {value!r}).")
    return number


def _axis_lengths(parameters: list[dict[str, Any]]) -> list[tuple[str, Decimal, Decimal, Decimal, int]]:
    """Each parameter's (name, min, max, step, number of values), counted, not listed."""
    if not parameters:
        raise SandboxError("Pass at least one parameter to optimize: each needs a name, min, max and a positive step.")
    axes = []
    for parameter in parameters:
        low, high, step = (_bound(parameter, k) for k in ("min", "max", "step"))
        if step <= 0:
            raise SandboxError(f"Parameter '{shorten(parameter['name'])}' needs a positive step (got {step}).")
        if high < low:
            raise SandboxError(f"Parameter '{shorten(parameter['name'])}' has max {high} below min {low}.")
        with localcontext() as exact:
            exact.prec, exact.Emax = 1000, MAX_EXPONENT  # no rounding up to the next value, whatever the magnitudes
            count = int(((high - low) / step).to_integral_value(rounding=ROUND_FLOOR)) + 1
        axes.append((parameter["name"], low, high, step, count))
    return axes


def _count(count: int) -> str:
    return f"{count:,}" if count < 10**12 else f"{Decimal(count):.3E}"


def grid(parameters: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every combination of min..max by step for each parameter (exact decimal steps).

    The grid's size is computed first, so a request for millions of points is refused before any is built.
    """
    axes, total = _axis_lengths(parameters), 1
    for *_, count in axes:
        total = min(total * count, MAX_GRID_POINTS + 1)
    if total > MAX_GRID_POINTS:
        largest = sorted(axes, key=lambda axis: -axis[4])[:3]
        sizes = ", ".join(f"'{shorten(name)}' has {_count(count)} values ({low} to {high} by {step})"
                          for name, low, high, step, count in largest)
        raise SandboxError(f"The optimization grid has more than {MAX_GRID_POINTS} points ({sizes}); the sandbox "
                           f"runs at most {MAX_GRID_POINTS}. Widen the steps or narrow the ranges.")
    values_per_axis = []
    for name, low, _, step, count in axes:
        values = [low + step * i for i in range(count)]
        values_per_axis.append([(name, str(v.normalize()) if v != v.to_integral() else str(int(v))) for v in values])
    return [dict(combo) for combo in itertools.product(*values_per_axis)]


def points(strategy: str, parameters: list[dict[str, Any]], seed: str) -> list[dict[str, str]]:
    """The parameter sets a strategy backtests."""
    combinations = grid(parameters)
    if strategy == GRID_SEARCH:
        return combinations
    if strategy == RANDOM_SEARCH:
        count = min(MAX_RANDOM_POINTS, max(1, len(combinations) // 4))
        return random.Random(seed).sample(combinations, count)
    raise SandboxError(f"The qcmcp sandbox runs grid and random search; {strategy.rsplit('.', 1)[-1]} needs the "
                       "QuantConnect cloud.")


def _statistic(result: dict[str, Any], target: str) -> float | None:
    name = target.rsplit(".", 1)[-1]
    key = name[:1].lower() + name[1:]
    value = result.get("totalPerformance", {}).get("portfolioStatistics", {}).get(key)
    return float(value) if value is not None else None


def _seconds_per_backtest(ctx: Context, project_id: int) -> float:
    rows = ctx.store.query("SELECT result FROM backtests WHERE project_id = ? AND status = ? ORDER BY created DESC LIMIT 5",
                           project_id, COMPLETED)
    durations = [json.loads(r["result"]).get("seconds") for r in rows if r["result"]]
    known = [d for d in durations if isinstance(d, int | float)]
    return sum(known) / len(known) if known else DEFAULT_SECONDS_PER_BACKTEST


@route("/optimizations/estimate", "EstimateOptimizationRequest")
def estimate(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    count = len(points(body["strategy"], body["parameters"], "estimate"))
    seconds = count * _seconds_per_backtest(ctx, project["project_id"]) / ctx.runner.parallelism
    # The sandbox runs optimizations on this machine: they cost nothing, and its balance is a sandbox credit, not QCC.
    return {"estimate": {"estimateId": uuid.uuid4().hex, "time": max(1, round(seconds)), "balance": SANDBOX_CREDIT,
                         "estimatedCost": 0, "note": CREDIT_NOTE}}


@route("/optimizations/create", "CreateOptimizationRequest")
def create(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    check_name_length("The optimization name", body["name"])
    project = visible_project(ctx, body["projectId"])
    build = successful_build(ctx, project, body["compileId"])
    ctx.runner.jail.check()  # refused before anything is recorded when algorithms may not run here
    optimization_id = f"O-{uuid.uuid4().hex}"
    combinations = points(body["strategy"], body["parameters"], optimization_id)
    files = ctx.store.loads(build["snapshot"])
    started = now()
    ids = [uuid.uuid4().hex for _ in combinations]
    with ctx.store.transaction() as db:
        db.execute("INSERT INTO optimizations VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (optimization_id, project["project_id"], build["compile_id"], body["name"], "running", started,
                    json.dumps(body)))
        for backtest_id, parameters in zip(ids, combinations, strict=True):
            label = ", ".join(f"{k}={v}" for k, v in parameters.items())
            db.execute("INSERT INTO backtests (backtest_id, project_id, compile_id, name, status, created, parameters, "
                       "optimization_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (backtest_id, project["project_id"], build["compile_id"], f"{body['name']} [{label}]", QUEUED,
                        started, json.dumps(parameters), optimization_id))
    for backtest_id, parameters in zip(ids, combinations, strict=True):
        ctx.runner.start(backtest_id, files, parameters)
    return {"optimizations": [summary(ctx, _optimization(ctx, optimization_id))]}


def _optimization(ctx: Context, optimization_id: str) -> Any:
    row = ctx.store.one("SELECT * FROM optimizations WHERE optimization_id = ?", optimization_id)
    if row is None:
        raise SandboxError(f"Optimization {shorten(optimization_id)} not found. Use list_optimizations to see a "
                           "project's.")
    visible_project(ctx, row["project_id"])
    return row


def _runs(ctx: Context, optimization_id: str) -> list[Any]:
    return ctx.store.query("SELECT * FROM backtests WHERE optimization_id = ? ORDER BY rowid", optimization_id)


def _status(row: Any, runs: list[Any]) -> str:
    if row["status"] == "aborted":
        return "aborted"
    return "completed" if all(r["status"] in (COMPLETED, FAILED) for r in runs) else "running"


def _best(request: dict[str, Any], runs: list[Any]) -> tuple[Any, float] | None:
    target, maximise = request["target"], request["targetTo"] == "max"
    scored = []
    for run in runs:
        if run["status"] != COMPLETED:
            continue
        result = json.loads(run["result"])
        value = _statistic(result, target)
        meets = all(
            (stat := _statistic(result, c["target"])) is not None and COMPARE[c["operator"]](stat, c["targetValue"])
            for c in request.get("constraints") or []
        )
        if value is not None and meets:
            scored.append((value, run))
    if not scored:
        return None
    value, run = (max if maximise else min)(scored, key=lambda item: item[0])
    return run, value


def summary(ctx: Context, row: Any) -> dict[str, Any]:
    request, runs = json.loads(row["request"]), _runs(ctx, row["optimization_id"])
    best = _best(request, runs)
    body = {"optimizationId": row["optimization_id"], "projectId": row["project_id"], "name": row["name"],
            "status": _status(row, runs), "nodeType": request.get("nodeType"), "created": row["created"],
            "criterion": {"target": request["target"], "extremum": request["targetTo"],
                          "targetValue": request.get("targetValue")},
            "parameters": request["parameters"], "parallelNodes": ctx.runner.parallelism}
    asked = request.get("parallelNodes")
    if asked is not None and asked != ctx.runner.parallelism:  # a value the sandbox changed is said, not hidden
        body["parallelNodesNote"] = (f"{asked} parallel nodes were requested; the sandbox runs {ctx.runner.parallelism} "
                                     "backtests at a time (one per CPU core of this machine).")
    if best is not None:
        result = json.loads(best[0]["result"])["totalPerformance"]
        body.update(sharpeRatio=result["portfolioStatistics"]["sharpeRatio"],
                    psr=result["portfolioStatistics"]["probabilisticSharpeRatio"],
                    trades=result["tradeStatistics"]["totalNumberOfTrades"])
    return body


@route("/optimizations/read", "ReadOptimizationRequest")
def read(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    row = _optimization(ctx, body["optimizationId"])
    request, runs = json.loads(row["request"]), _runs(ctx, row["optimization_id"])
    counts = {name: sum(1 for r in runs if test(r["status"])) for name, test in (
        ("Completed", lambda s: s == COMPLETED), ("Failed", lambda s: s == FAILED),
        ("Running", lambda s: s == RUNNING), ("In Queue", lambda s: s == QUEUED))}
    backtests = {}
    for run in runs:
        entry: dict[str, Any] = {"name": run["name"], "id": run["backtest_id"], "progress": run["progress"],
                                 "exitCode": 0 if run["status"] == COMPLETED else 1 if run["status"] == FAILED else None,
                                 "parameterSet": json.loads(run["parameters"])}
        if run["status"] == COMPLETED:
            result = json.loads(run["result"])
            stats = result["totalPerformance"]["portfolioStatistics"]
            entry["statistics"] = [stats.get(k, 0.0) if k else 0.0 for k in STATISTICS_ORDER]
            entry["statistics"][16] = result["totalFees"]
            entry["statistics"][17] = float(result["statistics"]["Total Orders"])
            entry["startDate"], entry["endDate"] = result["backtestStart"], result["backtestEnd"]
        backtests[run["backtest_id"]] = entry
    best = _best(request, runs)
    optimization = {
        **summary(ctx, row), "optimizationTarget": request["target"], "targetValue": request.get("targetValue"),
        "constraints": request.get("constraints") or [], "strategy": request["strategy"],
        "requested": row["created"], "backtests": backtests,
        "runtimeStatistics": {**{k: str(v) for k, v in counts.items()}, "Total": str(len(runs)), "Consumed": "0 QCC"},
    }
    if best is not None:
        optimization["bestBacktest"] = {"backtestId": best[0]["backtest_id"], "parameterSet": json.loads(best[0]["parameters"]),
                                        "target": best[1]}
    return {"optimization": optimization}


@route("/optimizations/list", "ListOptimizationRequest")
def list_optimizations(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    rows = ctx.store.query("SELECT * FROM optimizations WHERE project_id = ? ORDER BY created, rowid", project["project_id"])
    return {"optimizations": [summary(ctx, row) for row in rows]}


@route("/optimizations/update", "UpdateOptimizationRequest")
def update(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    row = _optimization(ctx, body["optimizationId"])
    check_name_length("The optimization name", body["name"])
    with ctx.store.transaction() as db:
        db.execute("UPDATE optimizations SET name = ? WHERE optimization_id = ?", (body["name"], row["optimization_id"]))
    return {}


@route("/optimizations/abort", "AbortOptimizationRequest")
def abort(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    row = _optimization(ctx, body["optimizationId"])
    status = _status(row, _runs(ctx, row["optimization_id"]))
    if status != "running":  # the cloud refuses to abort what has already ended
        raise SandboxError(f"Optimization {row['optimization_id']} is already {status}; only a running optimization "
                           "can be aborted. Use delete_optimization to remove it.")
    _stop(ctx, row)
    return {}


def _stop(ctx: Context, row: Any) -> None:
    """Mark the optimization aborted and drop (and kill) its backtests that have not finished."""
    with ctx.store.transaction() as db:
        db.execute("UPDATE optimizations SET status = 'aborted' WHERE optimization_id = ?", (row["optimization_id"],))
        unfinished = [r["backtest_id"] for r in db.execute(
            "SELECT backtest_id FROM backtests WHERE optimization_id = ? AND status NOT IN (?, ?)",
            (row["optimization_id"], COMPLETED, FAILED)).fetchall()]
        db.execute("DELETE FROM backtests WHERE optimization_id = ? AND status NOT IN (?, ?)",
                   (row["optimization_id"], COMPLETED, FAILED))
    for backtest_id in unfinished:
        ctx.runner.abort(backtest_id)


@route("/optimizations/delete", "DeleteOptimizationRequest")
def delete(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    row = _optimization(ctx, body["optimizationId"])
    _stop(ctx, row)
    with ctx.store.transaction() as db:
        db.execute("DELETE FROM backtests WHERE optimization_id = ?", (row["optimization_id"],))
        db.execute("DELETE FROM optimizations WHERE optimization_id = ?", (row["optimization_id"],))
    return {}
