"""Run an optimization in one call: compile, estimate, check the cost, create, wait, rank — and say how much the
best result may owe to luck.

The estimate comes first: nothing is created when the balance is below the ``estimatedCost`` the caller allows,
or when the estimate states a higher cost (QuantConnect's gives time and balance; the sandbox states its cost).
The agent policy's daily QCC cap applies to ``estimatedCost`` as it does for ``create_optimization``.
While it runs, progress is the share of its backtests done. The answer ranks the finished backtests by the
optimization's own target (statistics by name) and adds two overfitting diagnostics computed from the trials'
daily equity: the Deflated Sharpe Ratio of the best trial given how many were tried, and, when every trial's
daily returns can be read (at most ``MAX_PBO_TRIALS`` of them, long enough for the blocks), the Probability of
Backtest Overfitting by combinatorially symmetric cross-validation. Cancelling the call aborts the optimization.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import numpy as np

from qcmcp.qc.errors import APIError, QCError
from qcmcp.workflows.backtest import Api, Pacing, Progress, _build_errors, _compile, no_progress
from qcmcp.workflows.optimization_results import ranked

TRADING_DAYS = 252  # LEAN annualises daily Sharpe ratios with 252
MAX_PBO_TRIALS = 50  # equity reads for PBO, a few at a time
CHART_READS_AT_ONCE = 4
SHOWN = 10  # ranked trials in the answer (the best first; read_optimization has them all)
FAR_FUTURE = 4_102_444_800
GRID = "QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy"


async def run_optimization(api: Api, body: dict[str, Any], *, timeout_seconds: float = 1800.0,
                           progress: Progress = no_progress, pacing: Pacing = Pacing(first=1.0, slowest=5.0)
                           ) -> dict[str, Any]:
    project_id = body["projectId"]
    deadline = time.monotonic() + timeout_seconds
    await progress(0.0, "compiling")
    build = await _compile(api, project_id, deadline, pacing)
    if build.get("state") != "BuildSuccess":
        return {"status": "BuildError", "projectId": project_id, "errors": _build_errors(build),
                "next": "Fix the errors (file and line are in each message), then call run_optimization again."}
    request = {"projectId": project_id, "name": body.get("name") or f"run_optimization {time.strftime('%H:%M:%S')}",
               "target": body["target"], "targetTo": body["targetTo"], "strategy": body.get("strategy") or GRID,
               "parameters": body["parameters"]}
    if body.get("constraints"):
        request["constraints"] = body["constraints"]
    estimate = (await api.post("/optimizations/estimate", request, idempotent=True)).get("estimate") or {}
    cost, balance, allowed = estimate.get("estimatedCost"), estimate.get("balance"), body["estimatedCost"]
    # QuantConnect's estimate gives the time and the balance; a backend that also states the cost (the sandbox)
    # is held to estimatedCost, and nobody starts what the balance cannot cover.
    if isinstance(cost, int | float) and cost > allowed:
        raise APIError("/optimizations/estimate", [
            f"The estimate is {cost:g} QCC, more than the {allowed:g} QCC allowed by estimatedCost; nothing was "
            "started. Raise estimatedCost if that is acceptable, or narrow the parameter ranges."])
    if isinstance(balance, int | float) and balance < allowed:
        raise APIError("/optimizations/estimate", [
            f"The organization's balance is {balance:g} QCC, below the {allowed:g} QCC of estimatedCost; nothing "
            "was started. Add credit, or lower estimatedCost and narrow the parameter ranges."])
    await progress(0.02, f"estimated {estimate.get('time')} s; starting")
    created = await api.post("/optimizations/create", {
        **request, "compileId": build["compileId"], "estimatedCost": body["estimatedCost"],
        "nodeType": body.get("nodeType") or "O2-8", "parallelNodes": body.get("parallelNodes") or 2}, idempotent=False)
    optimization_id = (created.get("optimizations") or [{}])[0].get("optimizationId")
    if not optimization_id:
        raise QCError("QuantConnect accepted the optimization but its answer had no optimizationId; find it with "
                      "list_optimizations before starting another.")
    try:
        optimization = await _wait(api, optimization_id, deadline, progress, pacing)
    except asyncio.CancelledError:
        await asyncio.shield(_abort_quietly(api, optimization_id))
        raise
    answer: dict[str, Any] = {"optimizationId": optimization_id, "projectId": project_id,
                              "status": optimization.get("status"), "estimate": estimate}
    if optimization.get("status") == "aborted":
        answer["next"] = "The optimization was aborted; read_optimization shows the backtests that finished."
        return answer
    if optimization.get("status") != "completed":
        answer["next"] = (f"Still {optimization.get('status')} after {timeout_seconds:g} s: read_optimization "
                          "follows it.")
        return answer
    order = ranked(optimization)
    answer.update(trials=len(order), ranked=order[:SHOWN])
    backtests = optimization.get("backtests") or {}
    unranked = [key for key, backtest in backtests.items()
                if isinstance(backtest, dict) and not backtest.get("statistics")]
    if unranked:  # failed, or finished without statistics in this answer: said, not silently left out
        answer["unranked"] = unranked
        answer["unrankedNote"] = (f"{len(unranked)} of {len(backtests)} backtests carry no statistics and are not "
                                  "ranked; read_backtest shows each one's status and error.")
    if len(order) > SHOWN:
        answer["note"] = f"The best {SHOWN} of {len(order)} finished backtests; read_optimization has them all."
    try:  # an extra on a finished, paid-for run: its failure must not cost the ranking
        answer["overfitting"] = await _diagnostics(api, project_id, optimization, order)
    except Exception as error:  # noqa: BLE001 - reported in the answer instead
        answer["overfitting"] = {"note": f"Not computed: {type(error).__name__} while reading the trials' equity."}
    return answer


async def _wait(api: Api, optimization_id: str, deadline: float, progress: Progress,
                pacing: Pacing) -> dict[str, Any]:
    delays = pacing.delays()
    while True:
        optimization = (await api.post("/optimizations/read", {"optimizationId": optimization_id},
                                       idempotent=True)).get("optimization") or {}
        counts = optimization.get("runtimeStatistics") or {}
        done, total = _number(counts.get("Completed")) + _number(counts.get("Failed")), _number(counts.get("Total"))
        fraction = done / total if total else 0.0
        await progress(0.05 + 0.9 * fraction, f"optimization {optimization.get('status')}: {done:g} of {total:g}")
        if optimization.get("status") in ("completed", "aborted") or time.monotonic() >= deadline:
            return optimization
        await asyncio.sleep(min(next(delays), max(0.0, deadline - time.monotonic())))


def _number(value: Any) -> float:
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return 0.0


async def _abort_quietly(api: Api, optimization_id: str) -> None:
    try:
        await api.post("/optimizations/abort", {"optimizationId": optimization_id}, idempotent=True)
    except Exception:  # noqa: BLE001 - best effort: the cancellation itself must not fail
        pass


async def _daily_returns(api: Api, project_id: int, backtest_id: str) -> dict[int, float]:
    """Daily returns of a backtest's equity (closes of the Strategy Equity chart), keyed by day."""
    chart = (await api.post("/backtests/chart/read", {"projectId": project_id, "backtestId": backtest_id,
                                                      "name": "Strategy Equity", "count": 100_000, "start": 0,
                                                      "end": FAR_FUTURE}, idempotent=True)).get("chart") or {}
    series = (chart.get("series") or {}).get("Equity") or {}
    closes: dict[int, float] = {}
    for point in series.get("values") or []:
        if isinstance(point, list) and len(point) >= 2:
            closes[int(point[0]) // 86400] = float(point[-1])  # [time, value] or a candle [time, o, h, l, c]
    days = sorted(closes)
    return {day: closes[day] / closes[previous] - 1 for previous, day in zip(days, days[1:], strict=False)
            if closes[previous]}


async def _diagnostics(api: Api, project_id: int, optimization: dict[str, Any],
                       order: list[dict[str, Any]]) -> dict[str, Any]:
    from qcmcp.research.overfitting import deflated_sharpe, probability_of_overfitting

    sharpes = [row["statistics"].get("sharpe ratio") for row in order]
    sharpes = [float(s) / math.sqrt(TRADING_DAYS) for s in sharpes if isinstance(s, int | float)]
    found: dict[str, Any] = {}
    if len(order) < 2 or len(sharpes) < 2:
        return {"note": "Overfitting diagnostics need at least two finished backtests."}
    picked = order if len(order) <= MAX_PBO_TRIALS else order[:1]
    gate = asyncio.Semaphore(CHART_READS_AT_ONCE)

    async def returns_of(row: dict[str, Any]) -> dict[int, float]:
        async with gate:
            try:
                return await _daily_returns(api, project_id, row["backtestId"])
            except QCError:
                return {}

    series = await asyncio.gather(*(returns_of(row) for row in picked))
    best = np.array(list(series[0].values()))
    if len(series) == len(order) and all(len(s) >= 3 for s in series):
        # Every trial's returns are here: one definition of the Sharpe ratio for all (per day, from equity), and
        # the best of them, so the deflation compares like with like.
        daily = [np.array(list(s.values())) for s in series]
        sharpes = [float(r.mean() / r.std(ddof=1)) if r.std(ddof=1) > 0 else 0.0 for r in daily]
        best = daily[int(np.argmax(sharpes))]
    try:
        dsr = deflated_sharpe(sharpes, best)
        found["deflatedSharpeRatio"] = {"value": round(dsr.probability, 4), "trials": dsr.trials,
                                        "expectedMaxSharpeDaily": round(dsr.expected_max_sharpe, 5),
                                        "bestSharpeDaily": round(dsr.best_sharpe, 5), "days": dsr.observations,
                                        "interpretation": dsr.interpretation}
    except ValueError as error:
        found["deflatedSharpeRatio"] = {"note": f"Not computed: {error}."}
    common = sorted(set.intersection(*(set(s) for s in series))) if all(series) else []
    blocks = 16 if len(common) >= 160 else 8 if len(common) >= 64 else 0
    if len(picked) < len(order):
        found["probabilityOfBacktestOverfitting"] = {
            "note": f"Not computed: {len(order)} trials, more than the {MAX_PBO_TRIALS} whose daily returns are read."}
    elif not blocks:
        found["probabilityOfBacktestOverfitting"] = {
            "note": f"Not computed: the trials share {len(common)} days of returns; at least 64 are needed."}
    else:
        matrix = np.array([[s[day] for s in series] for day in common])
        pbo = probability_of_overfitting(matrix, blocks)
        found["probabilityOfBacktestOverfitting"] = {"value": round(pbo.probability, 4), "splits": pbo.splits,
                                                     "blocks": pbo.blocks, "days": len(common),
                                                     "interpretation": pbo.interpretation}
    return found
