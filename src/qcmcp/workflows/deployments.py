"""Every live deployment of the account in one call: project, deploy id, status, brokerage, equity, P&L, holdings.

``/live/list`` gives the deployments; the project names come from one ``/projects/read`` and each running
deployment's holdings from its ``/live/portfolio/read`` (a few at a time, so a large account stays bounded).
"""

from __future__ import annotations

import asyncio
from typing import Any

from qcmcp.qc.errors import QCError
from qcmcp.workflows.backtest import Api

PORTFOLIO_READS_AT_ONCE = 4
MAX_DEPLOYMENTS = 200
RUNNING = ("Running", "RuntimeError", "Liquidated")  # statuses whose portfolio is worth reading


async def list_deployments(api: Api, status: str | None = None) -> dict[str, Any]:
    body = {"status": status} if status else {}
    listed = (await api.post("/live/list", body, idempotent=True)).get("live") or []
    names = await _project_names(api)
    deployments = listed[:MAX_DEPLOYMENTS]
    gate = asyncio.Semaphore(PORTFOLIO_READS_AT_ONCE)

    async def describe(entry: dict[str, Any]) -> dict[str, Any]:
        row = {"projectId": entry.get("projectId"), "projectName": names.get(entry.get("projectId")),
               "deployId": entry.get("deployId"), "status": entry.get("status"), "brokerage": entry.get("brokerage"),
               "launched": entry.get("launched"), "stopped": entry.get("stopped"), "equity": entry.get("equity")}
        if entry.get("status") == "Running" and entry.get("projectId") is not None:
            async with gate:
                row.update(await _portfolio(api, int(entry["projectId"])))
        return row

    rows = await asyncio.gather(*(describe(entry) for entry in deployments))
    answer: dict[str, Any] = {"deployments": list(rows), "count": len(listed)}
    if len(listed) > len(deployments):
        answer["note"] = f"Showing the first {len(deployments)} of {len(listed)}; filter with status."
    return answer


async def _project_names(api: Api) -> dict[int, str]:
    try:
        projects = (await api.post("/projects/read", {}, idempotent=True)).get("projects") or []
    except QCError:
        return {}
    return {project["projectId"]: project.get("name") for project in projects if "projectId" in project}


async def _portfolio(api: Api, project_id: int) -> dict[str, Any]:
    """Holdings count and unrealised P&L from the deployment's portfolio (the API's compact keys: q, u)."""
    try:
        portfolio = (await api.post("/live/portfolio/read", {"projectId": project_id}, idempotent=True)).get(
            "portfolio") or {}
    except QCError as error:
        return {"portfolioError": error.message}
    holdings = portfolio.get("holdings") or {}
    held = [h for h in holdings.values() if isinstance(h, dict) and h.get("q")]
    cash = sum(float(c.get("valueInAccountCurrency") or c.get("amount") or 0)
               for c in (portfolio.get("cash") or {}).values() if isinstance(c, dict))
    return {"holdingsCount": len(held), "unrealizedProfit": round(sum(float(h.get("u") or 0) for h in held), 2),
            "holdingsValue": round(sum(float(h.get("v") or 0) for h in held), 2), "cash": round(cash, 2)}
