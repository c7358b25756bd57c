"""Run a backtest in one call, and read its status cheaply: the agent loop without six calls and guessed polls.

``run_backtest`` compiles the project (a build error comes back as the result, with file and line), creates
the backtest, waits for it while reporting progress, and returns a compact summary: the key statistics under
QuantConnect's names, the runtime statistics, the order count with the first orders, and the equity curve
(the caller renders it as a PNG). Cancelling the call deletes the backtest upstream, so nothing keeps running.
Everything here speaks the REST API through :class:`Api`, so it works the same on the cloud and the sandbox.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

# The statistics an agent decides on first, under the names QuantConnect's backtest results use.
KEY_STATISTICS = ("Net Profit", "Compounding Annual Return", "Drawdown", "Sharpe Ratio", "Sortino Ratio",
                  "Probabilistic Sharpe Ratio", "Total Orders", "Win Rate", "Loss Rate", "Profit-Loss Ratio",
                  "Alpha", "Beta", "Annual Standard Deviation", "Total Fees", "Start Equity", "End Equity",
                  "Portfolio Turnover")
FIRST_ORDERS = 3  # a glimpse to check the algorithm traded as meant; orderCount and read_backtest_orders give the rest
EQUITY_POINTS = 400
DONE_STATUSES = ("Completed.", "Runtime Error", "Completed", "Error")


class Api(Protocol):
    async def post(self, endpoint: str, payload: dict[str, Any] | None = None, *, idempotent: bool) -> dict[str, Any]: ...


Progress = Callable[[float, str], Awaitable[None]]
CLOUD_DATA = ("QuantConnect's market data; prices normalised as the algorithm set (LEAN's default: adjusted for "
              "splits and dividends)")


async def no_progress(fraction: float, message: str) -> None:
    return None


@dataclass(frozen=True)
class Pacing:
    """How often to poll: quickly at first, then at most every ``slowest`` seconds."""

    first: float = 0.25
    slowest: float = 3.0

    def delays(self) -> Any:
        delay = self.first
        while True:
            yield delay
            delay = min(delay * 1.5, self.slowest)


async def run_backtest(api: Api, project_id: int, *, name: str | None = None, parameters: dict[str, Any] | None = None,
                       timeout_seconds: float = 600.0, progress: Progress = no_progress,
                       pacing: Pacing = Pacing()) -> dict[str, Any]:
    """Compile, backtest and summarise; see the module docstring."""
    deadline = time.monotonic() + timeout_seconds
    await progress(0.0, "compiling")
    build = await _compile(api, project_id, deadline, pacing)
    if build.get("state") != "BuildSuccess":
        return {"status": "BuildError" if build.get("state") == "BuildError" else str(build.get("state")),
                "projectId": project_id, "compileId": build.get("compileId"), "errors": _build_errors(build),
                "next": "Fix the errors (file and line are in each message), then call run_backtest again."}
    body: dict[str, Any] = {"projectId": project_id, "compileId": build["compileId"],
                            "backtestName": name or f"run_backtest {time.strftime('%Y-%m-%d %H:%M:%S')}"}
    if parameters:
        body["parameters"] = parameters
    created = await api.post("/backtests/create", body, idempotent=False)
    backtest_id = created["backtest"]["backtestId"]
    try:
        backtest = await _wait(api, project_id, backtest_id, deadline, progress, pacing)
    except asyncio.CancelledError:
        await asyncio.shield(_delete_quietly(api, project_id, backtest_id))
        raise
    if backtest is None:
        return {"status": "Running", "projectId": project_id, "backtestId": backtest_id, "completed": False,
                "next": f"Still running after {timeout_seconds:g} s: poll read_backtest_status with this backtestId."}
    return await summarise(api, project_id, backtest, include_equity=True)


async def read_backtest_status(api: Api, project_id: int, backtest_id: str | None = None) -> dict[str, Any]:
    """One small answer: status, progress, completed, and when done the key statistics (latest when no id)."""
    if backtest_id is None:
        listed = await api.post("/backtests/list", {"projectId": project_id}, idempotent=True)
        backtests = listed.get("backtests") or []
        if not backtests:
            return {"projectId": project_id, "status": "none", "completed": False,
                    "next": "This project has no backtests yet: call run_backtest."}
        backtest_id = max(backtests, key=lambda b: str(b.get("created", "")))["backtestId"]
    backtest = (await api.post("/backtests/read", {"projectId": project_id, "backtestId": backtest_id},
                               idempotent=True))["backtest"]
    answer = _status(project_id, backtest)
    if answer["completed"]:
        answer["statistics"] = key_statistics(backtest.get("statistics"))
    return answer


async def summarise(api: Api, project_id: int, backtest: dict[str, Any], *, include_equity: bool) -> dict[str, Any]:
    """The compact result of a finished backtest."""
    answer = _status(project_id, backtest)
    if backtest.get("error") or str(backtest.get("status", "")).startswith("Runtime Error"):
        answer.update(error=backtest.get("error"), stacktrace=_clip(backtest.get("stacktrace"), 2000),
                      next="Fix the runtime error (the stack trace names the file and line), then run_backtest again.")
        return answer
    answer["statistics"] = key_statistics(backtest.get("statistics"))
    answer["runtimeStatistics"] = backtest.get("runtimeStatistics") or {}
    # Which prices the numbers come from: the sandbox says per security; the cloud uses its own data with the
    # normalisation the algorithm chose (LEAN's default is adjusted).
    answer["dataSource"] = backtest.get("dataSource") or CLOUD_DATA
    orders = await api.post("/backtests/orders/read", {"projectId": project_id, "backtestId": answer["backtestId"],
                                                       "start": 0, "end": FIRST_ORDERS}, idempotent=True)
    answer["orderCount"] = orders.get("length", len(orders.get("orders") or []))
    answer["firstOrders"] = [_order_line(order) for order in (orders.get("orders") or [])[:FIRST_ORDERS]]
    if include_equity:
        answer["equity"] = await equity_curve(api, project_id, answer["backtestId"])
    return answer


async def equity_curve(api: Api, project_id: int, backtest_id: str) -> list[tuple[int, float]]:
    """(unix time, equity) points of the Strategy Equity chart, at most EQUITY_POINTS of them."""
    chart = await api.post("/backtests/chart/read", {"projectId": project_id, "backtestId": backtest_id,
                                                     "name": "Strategy Equity", "count": EQUITY_POINTS,
                                                     "start": 0, "end": 4_102_444_800}, idempotent=True)
    series = ((chart.get("chart") or {}).get("series") or {}).get("Equity") or {}
    points = []
    for value in series.get("values") or []:
        if isinstance(value, list) and len(value) >= 2:
            points.append((int(value[0]), float(value[-1])))  # [t, o, h, l, c] candles or [t, y]
        elif isinstance(value, dict) and "x" in value and "y" in value:
            points.append((int(value["x"]), float(value["y"])))
    return points


def key_statistics(statistics: dict[str, Any] | None) -> dict[str, Any]:
    statistics = statistics or {}
    return {name: statistics[name] for name in KEY_STATISTICS if name in statistics}


async def _compile(api: Api, project_id: int, deadline: float, pacing: Pacing) -> dict[str, Any]:
    build = await api.post("/compile/create", {"projectId": project_id}, idempotent=False)
    delays = pacing.delays()
    while build.get("state") == "InQueue" and time.monotonic() < deadline:
        await asyncio.sleep(next(delays))
        build = await api.post("/compile/read", {"projectId": project_id, "compileId": build["compileId"]},
                               idempotent=True)
    if build.get("state") == "BuildError" and not build.get("logs"):  # the create answer carries no build log
        build = await api.post("/compile/read", {"projectId": project_id, "compileId": build["compileId"]},
                               idempotent=True)
    return build


async def _wait(api: Api, project_id: int, backtest_id: str, deadline: float, progress: Progress,
                pacing: Pacing) -> dict[str, Any] | None:
    delays = pacing.delays()
    while True:
        backtest = (await api.post("/backtests/read", {"projectId": project_id, "backtestId": backtest_id},
                                   idempotent=True))["backtest"]
        done = bool(backtest.get("completed")) or str(backtest.get("status", "")).startswith(DONE_STATUSES)
        fraction = 1.0 if done else float(backtest.get("progress") or 0.0)
        await progress(fraction, f"backtest {backtest.get('status', 'running')} ({fraction:.0%})")
        if done:
            return backtest
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(min(next(delays), max(0.0, deadline - time.monotonic())))


async def _delete_quietly(api: Api, project_id: int, backtest_id: str) -> None:
    """Stop a cancelled backtest (best effort: the cancellation itself must not fail)."""
    try:
        await api.post("/backtests/delete", {"projectId": project_id, "backtestId": backtest_id}, idempotent=True)
    except Exception:  # noqa: BLE001 - reported by the client's own logging; nothing more to do here
        pass


def _status(project_id: int, backtest: dict[str, Any]) -> dict[str, Any]:
    status = str(backtest.get("status", ""))
    completed = bool(backtest.get("completed")) or status.startswith(DONE_STATUSES)
    return {"projectId": project_id, "backtestId": backtest.get("backtestId"), "name": backtest.get("name"),
            "status": status, "progress": 1.0 if completed else float(backtest.get("progress") or 0.0),
            "completed": completed}


def _build_errors(build: dict[str, Any]) -> list[str]:
    logs = build.get("logs") or []
    errors = [line for line in logs if "error" in str(line).lower()] or logs
    return [str(line) for line in errors[:20]]


def _order_line(order: dict[str, Any]) -> dict[str, Any]:
    symbol = order.get("symbol")
    return {"id": order.get("id"), "time": order.get("time"), "symbol": symbol.get("value") if isinstance(symbol, dict)
            else symbol, "quantity": order.get("quantity"), "price": order.get("price"), "status": order.get("status"),
            "type": order.get("type")}


def _clip(text: Any, limit: int) -> str:
    value = str(text or "")
    return value if len(value) <= limit else value[: limit - 1] + "…"
