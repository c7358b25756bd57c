"""How a tool call becomes an API call, for the tools that are not a plain JSON POST."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx
from packaging.version import InvalidVersion, Version

from qcmcp import __version__
from qcmcp.qc.errors import QCError

if TYPE_CHECKING:
    from qcmcp.gateway import Gateway
    from qcmcp.tools.spec import ToolSpec

PACKAGE = "qcmcp"


async def json_post(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """The default: POST the validated body as JSON."""
    assert spec.endpoint
    return await gateway.client().post(spec.endpoint, body, idempotent=spec.safe_to_retry)


async def create_project(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """Create the project, then add its template files to the answer, as the description promises.

    The create is never repeated or failed because of the read: if the files cannot be read, the project
    is returned without them and a note says how to read them.
    """
    created = await json_post(gateway, spec, body)
    projects = created.get("projects") or []
    if not created.get("success", True) or not projects or projects[0].get("projectId") is None:
        return created
    try:
        files = await gateway.client().post("/files/read", {"projectId": projects[0]["projectId"]}, idempotent=True)
    except QCError:
        return {**created, "note": "The project was created; read its files with read_file."}
    # The code files with their contents; notebooks by name only (read_file shows them), to keep the answer small.
    return {**created, "files": [{"name": f.get("name"), "content": f.get("content")}
                                 if not str(f.get("name", "")).endswith(".ipynb") else {"name": f.get("name")}
                                 for f in files.get("files") or []]}


async def read_optimization(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """The optimization as the API gives it, plus its backtests' statistics by name, best first."""
    from qcmcp.workflows.optimization_results import readable

    return readable(await json_post(gateway, spec, body))


HOLDING_KEYS = {"a": "average price", "q": "quantity", "p": "price", "v": "holdings value", "u": "unrealized profit",
                "up": "unrealized profit as a fraction of cost"}


async def read_live_portfolio(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """The portfolio as the API gives it, with a key to its holdings' compact field names."""
    result = await json_post(gateway, spec, body)
    portfolio = result.get("portfolio")
    if isinstance(portfolio, dict) and portfolio.get("holdings"):
        result = {**result, "portfolio": {"holdingsKey": HOLDING_KEYS, **portfolio}}
    return result


async def read_object_properties(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """The properties as the API gives them, saying when the preview is only the file's start."""
    result = await json_post(gateway, spec, body)
    meta = result.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("preview"), str) and isinstance(meta.get("size"), int):
        shown = len(meta["preview"].encode("utf-8"))
        if meta["size"] > shown:
            meta = {**meta, "previewNote": f"The preview is the first {shown} of {meta['size']} bytes; read_object "
                                           "returns the whole content."}
            result = {**result, "metadata": meta}
    return result


TRADES_SHOWN = 20  # closed trades read_backtest keeps; read_backtest_trades pages through all of them
TRADES_PAGE = 100


def _closed_trades(result: dict[str, Any]) -> list[Any] | None:
    backtest = result.get("backtest")
    performance = backtest.get("totalPerformance") if isinstance(backtest, dict) else None
    trades = performance.get("closedTrades") if isinstance(performance, dict) else None
    return trades if isinstance(trades, list) else None


async def read_backtest(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """The backtest with its statistics and trade count; beyond the first closed trades, a pointer to the pages."""
    result = await json_post(gateway, spec, body)
    trades = _closed_trades(result)
    if trades is None or len(trades) <= TRADES_SHOWN:
        return result
    backtest = result["backtest"]
    performance = {**backtest["totalPerformance"], "closedTrades": trades[:TRADES_SHOWN]}
    note = (f"closedTrades shows the first {TRADES_SHOWN} of {len(trades)} closed trades; read them all, "
            f"{TRADES_PAGE} at a time, with read_backtest_trades.")
    return {**result, "backtest": {**backtest, "totalPerformance": performance, "closedTradeCount": len(trades),
                                   "closedTradesNote": note}}


async def read_backtest_trades(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """A page of a finished backtest's closed trades (round trips), with the total."""
    start = body.get("start", 0)  # the schema's defaults are not filled in: arguments keep what the caller sent
    end = body.get("end", start + TRADES_PAGE)
    if end <= start or end - start > TRADES_PAGE:
        raise QCError(f"end must be greater than start and at most {TRADES_PAGE} more (got start {start}, end {end}).")
    result = await gateway.client().post("/backtests/read", {"projectId": body["projectId"],
                                                             "backtestId": body["backtestId"]}, idempotent=True)
    trades = _closed_trades(result)
    if trades is None:
        status = (result.get("backtest") or {}).get("status")
        raise QCError(f"Backtest {body['backtestId']} has no closed trades to read yet (status {status}); "
                      "read_backtest_status says when it has completed.")
    page = trades[start:end]
    answer: dict[str, Any] = {"projectId": body["projectId"], "backtestId": body["backtestId"], "start": start,
                              "end": start + len(page), "length": len(trades), "closedTrades": page}
    if start + len(page) < len(trades):
        answer["next"] = f"read_backtest_trades with start={start + len(page)} for the next page."
    return answer


async def multipart_upload(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """Object store upload: the spec defines it as multipart/form-data with a file part."""
    assert spec.endpoint
    data = body.pop("objectData")
    content = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    filename = str(body["key"]).rsplit("/", 1)[-1] or "object"
    fields = {name: str(value) for name, value in body.items()}
    files = {"objectData": (filename, content, "application/octet-stream")}
    return await gateway.client().post(spec.endpoint, fields, files=files, idempotent=spec.safe_to_retry)


async def authorization_redirect(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """Step 1 of brokerage OAuth: the API answers with a redirect to the consent page."""
    assert spec.endpoint
    url = await gateway.client().redirect_location(spec.endpoint, body)
    return {
        "success": True,
        "brokerage": body["brokerage"],
        "authorizationUrl": url,
        "nextStep": "Ask the user to open authorizationUrl in a browser and approve the connection, "
        "then call read_connection_authorization with the same brokerage.",
    }


async def server_version(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    return {"name": PACKAGE, "version": __version__}


async def latest_server_version(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """Ask PyPI for the newest release; offline or unpublished gives a clear error."""
    url = f"{gateway.settings.pypi_url.rstrip('/')}/{PACKAGE}/json"
    try:
        async with httpx.AsyncClient(timeout=10.0, transport=gateway.pypi_transport) as http:
            response = await http.get(url)
    except httpx.HTTPError:
        raise QCError(
            "Could not reach PyPI to look up the latest qcmcp version (no network access?). "
            f"This server is qcmcp {__version__}."
        ) from None
    if response.status_code == 404:
        raise QCError(f"qcmcp is not published on PyPI yet, so there is no newer release. This server is {__version__}.")
    if response.status_code != 200:
        raise QCError(f"PyPI answered HTTP {response.status_code} when asked for the latest qcmcp version.")
    try:
        latest = str(response.json()["info"]["version"])
        up_to_date = Version(__version__) >= Version(latest)
    except (ValueError, KeyError, TypeError, InvalidVersion):
        raise QCError("PyPI answered with an unexpected document for qcmcp.") from None
    return {"name": PACKAGE, "latestVersion": latest, "installedVersion": __version__, "upToDate": up_to_date}


async def _progress_reporter() -> Callable[[float, str], Awaitable[None]]:
    """MCP progress notifications for the current call (silently nothing when the client asked for none)."""
    try:
        from fastmcp.server.dependencies import get_context

        context = get_context()
    except RuntimeError:
        context = None

    async def report(fraction: float, message: str) -> None:
        if context is not None:
            await context.report_progress(progress=round(fraction * 100, 1), total=100, message=message)

    return report


async def run_backtest(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    from qcmcp.workflows.backtest import run_backtest as run

    return await run(gateway.client(), body["projectId"], name=body.get("backtestName"),
                     parameters=body.get("parameters"), timeout_seconds=body.get("timeoutSeconds", 600.0),
                     progress=await _progress_reporter())


async def run_optimization(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    from qcmcp.workflows.optimization import run_optimization as run

    return await run(gateway.client(), body, timeout_seconds=body.get("timeoutSeconds", 1800.0),
                     progress=await _progress_reporter())


async def read_backtest_status(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    from qcmcp.workflows.backtest import read_backtest_status as read

    return await read(gateway.client(), body["projectId"], body.get("backtestId"))


async def list_deployments(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    from qcmcp.workflows.deployments import list_deployments as listed

    return await listed(gateway.client(), body.get("status"))


async def read_object(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    from qcmcp.workflows.objects import read_object as read

    organization = body.get("organizationId") or gateway.default_organization()
    if not organization:
        raise QCError("read_object needs organizationId: pass it (read_account shows yours).")
    return await read(gateway.client(), organization, body["key"])


def object_image(result: dict[str, Any]) -> bytes | None:
    """A PNG object is shown as an image; its base64 leaves the structured result (the picture has it)."""
    import base64

    if result.get("mime") != "image/png" or result.get("encoding") != "base64":
        return None
    picture = base64.b64decode(result.pop("content"))
    result["encoding"], result["note"] = "image", f"{len(picture)} bytes of PNG, shown as image content."
    return picture


def equity_image(result: dict[str, Any]) -> bytes | None:
    """run_backtest's equity curve as a PNG; the points leave the structured result (the picture has them)."""
    from qcmcp.tools.charts import equity_png

    points = result.pop("equity", None) or []
    if points:
        result["equityCurve"] = {"points": len(points), "first": points[0], "last": points[-1],
                                 "note": "drawn in the image content of this result"}
    return equity_png(points, f"Equity — backtest {result.get('name') or result.get('backtestId')}")


async def sync_project(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    from qcmcp.tools.arguments import ArgumentError
    from qcmcp.workflows.sync import SyncError, resolve_folder
    from qcmcp.workflows.sync import sync_project as sync

    try:
        folder = resolve_folder(body["path"], gateway.settings.workspace_root)
        return await sync(gateway.client(), folder, project_id=body.get("projectId"), name=body.get("name"),
                          direction=body.get("direction", "both"), dry_run=body.get("dryRun", False))
    except SyncError as error:  # a problem with the folder or the arguments, said plainly
        raise ArgumentError(f"sync_project: {error}") from None


async def health_check(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """The server, its backend, how callers authenticate, the tools served, and the readiness checks."""
    ready = await gateway.readiness() if gateway.readiness is not None else {"ok": True, "checks": {}}
    return {"server": {"name": PACKAGE, "version": __version__}, "backend": gateway.backend.kind,
            "auth": "bearer tokens (shared)" if gateway.settings.auth_issuer else "local user",
            "ready": ready["ok"], "checks": ready["checks"], "tools": gateway.tool_count}


# Research tools: the function computing each, and the picture drawn from its result (if one helps).
RESEARCH_CHARTS = {"calculate_correlation_matrix": "correlation_heatmap_png", "perform_pca_analysis": "pca_loadings_png",
                   "test_cointegration": "spread_png", "analyze_mean_reversion": "spread_png",
                   "optimize_portfolio": "weights_png", "optimize_equal_weight_portfolio": "weights_png",
                   "sparse_optimization": "weights_png"}
IMAGE_KEY = "__png__"


async def research(gateway: Gateway, spec: ToolSpec, body: dict[str, Any]) -> dict[str, Any]:
    """Run the research function named like the tool (CPU work, off the event loop); errors say what to fix."""
    import asyncio

    import qcmcp.research as analytics
    from qcmcp.tools.arguments import ArgumentError

    function = getattr(analytics, spec.name)
    key = body.pop("object_key", None)
    if key is not None:
        body["source"] = await object_source(gateway, spec.name, key)
    symbols = body.pop("symbols", None) if spec.name == "analyze_mean_reversion" else None
    try:
        if symbols is None:
            result = await asyncio.to_thread(function, **body)
            answer: dict[str, Any] = result.to_dict()
        else:  # quantconnect-mcp's form: several symbols, each analysed on its own
            results = [await asyncio.to_thread(function, symbol, **body) for symbol in symbols]
            result, answer = results[0], each_symbol(results)
    except analytics.ResearchError as error:
        raise ArgumentError(f"{spec.name}: {without_paths(str(error))}") from None
    for data in [answer.get("data"), *(part.get("data") for part in (answer.get("results") or {}).values())]:
        if isinstance(data, dict) and isinstance(data.get("location"), str):
            data["location"] = without_paths(data["location"])  # no server paths, as in errors
    chart = RESEARCH_CHARTS.get(spec.name)
    if chart is not None:
        answer[IMAGE_KEY] = await asyncio.to_thread(getattr(analytics, chart), result)
    return answer


def each_symbol(results: list[Any]) -> dict[str, Any]:
    """One answer for several single-symbol results: each reading, each result by symbol, the first one charted."""
    first = results[0].to_dict()
    names = [result.symbol for result in results]
    return {"analysis": first["analysis"], "interpretation": " | ".join(f"{result.symbol}: {result.interpretation}"
                                                                         for result in results),
            "method": first["method"] + f"; each symbol on its own bars; the chart shows {names[0]}",
            "data": {**first["data"], "symbols": names},
            "results": {result.symbol: result.to_dict() for result in results}}


_FETCHED: dict[tuple[str, str, str], bytes] = {}  # the last few objects read as market data, by their properties
FETCHED_KEPT = 4


async def object_source(gateway: Gateway, tool: str, key: str) -> Any:
    """An Object Store object as a market-data source: fetched here (the layer with the backend), bounded in size
    before the download, parsed by qcmcp.marketdata; a download is reused while the object's properties stand."""
    import json

    from qcmcp.marketdata import MarketDataError, ObjectStoreObject, objects
    from qcmcp.qc.errors import APIError
    from qcmcp.tools.arguments import ArgumentError
    from qcmcp.workflows.objects import object_bytes

    organization = gateway.default_organization()
    if not organization:
        raise ArgumentError(f"{tool}: object_key needs your organization and this server has none: set "
                            "QUANTCONNECT_ORGANIZATION_ID (read_account shows yours).")
    limit = objects.MAX_OBJECT_BYTES
    advice = f"market data is read from objects of at most {limit} bytes: split it (one object per symbol, e.g. " \
             "prices/SPY.csv)."
    client = gateway.client()
    try:
        properties = await client.post("/object/properties", {"organizationId": organization, "key": key},
                                       idempotent=True)
        meta = properties.get("metadata") or {}
        try:
            size = int(meta.get("size") or 0)
        except (TypeError, ValueError):
            size = 0  # object_bytes says the size is not a number
        objects.check_size(key, size)
        cache_key = (organization, key, json.dumps(meta, sort_keys=True, default=str))
        data = _FETCHED.get(cache_key)
        if data is None:
            data, _ = await object_bytes(client, organization, key, max_bytes=limit, too_large=advice, metadata=meta)
            _FETCHED[cache_key] = data
            while len(_FETCHED) > FETCHED_KEPT:
                del _FETCHED[next(iter(_FETCHED))]
        store = "sandbox Object Store" if gateway.is_sandbox else "Object Store"
        return ObjectStoreObject(key, data, store=store)
    except APIError as error:  # no such key, a folder, too large: the caller's argument
        raise ArgumentError(f"{tool}: object_key '{key}': {'; '.join(error.errors) or error.message}") from None
    except MarketDataError as error:
        raise ArgumentError(f"{tool}: {error}") from None


def research_image(result: dict[str, Any]) -> bytes | None:
    image: bytes | None = result.pop(IMAGE_KEY, None)
    return image


def without_paths(text: str) -> str:
    """A message without the server's file-system paths: the built-in sample by name, other folders by their
    last component (the caller needs to know what was looked for, not where the server keeps it)."""
    import re

    from qcmcp.marketdata import SAMPLE_FOLDER

    text = text.replace(str(SAMPLE_FOLDER), "<built-in LEAN sample>")
    return re.sub(r"(?<![\w<>])/(?:[\w.+-]+/)+([\w.+-]*)", r"…/\1", text)
