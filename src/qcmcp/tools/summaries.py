"""A short text summary next to each structured result.

The structured content carries the full API answer; the text is what a model reads
first, so it leads with the state that decides the next step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_ITEMS = 5
MAX_TEXT = 160

Summary = Callable[[dict[str, Any]], str]


def _clip(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _generic(body: dict[str, Any]) -> str:
    parts = []
    for key, value in body.items():
        if key in ("success", "errors", "sandbox") or value is None:
            continue
        if isinstance(value, list):
            parts.append(f"{key}: {len(value)} item(s)")
        elif isinstance(value, dict):
            parts.append(f"{key}: {len(value)} field(s)")
        else:
            parts.append(f"{key}: {_clip(value)}")
    return "OK." + (" " + "; ".join(parts) + "." if parts else "")


def _loading(body: dict[str, Any]) -> str | None:
    if body.get("status") == "loading":
        progress = body.get("progress")
        done = f" ({float(progress):.0%} ready)" if isinstance(progress, int | float) else ""
        return f"Still being prepared{done}. Call the same tool again in a few seconds."
    return None


def _projects(body: dict[str, Any]) -> str:
    projects = body.get("projects") or []
    shown = ", ".join(f"{p.get('name')!r} (projectId {p.get('projectId')}, {p.get('language')})" for p in projects[:MAX_ITEMS])
    more = f" and {len(projects) - MAX_ITEMS} more" if len(projects) > MAX_ITEMS else ""
    return f"{len(projects)} project(s)" + (f": {shown}{more}." if projects else ".")


def _created_project(body: dict[str, Any]) -> str:
    files = body.get("files")
    with_files = f" Its files: {', '.join(str(f.get('name')) for f in files)} (code below)." if files else ""
    return _projects(body) + with_files


def _files(body: dict[str, Any]) -> str:
    files = body.get("files")
    if files is None:
        return "OK."
    names = ", ".join(str(f.get("name")) for f in files[:10])
    more = f" and {len(files) - 10} more" if len(files) > 10 else ""
    return f"{len(files)} file(s)" + (f": {names}{more}." if files else ".")


def _compile(body: dict[str, Any]) -> str:
    state = body.get("state")
    text = f"Compile {body.get('compileId')}: {state}."
    if state == "InQueue":
        text += " Call read_compile again in a few seconds."
    elif state == "BuildSuccess":
        text += " Next: create_backtest with this compileId."
    logs = [str(line) for line in body.get("logs") or []]
    errors = [line for line in logs if "error" in line.lower()] or logs
    if state == "BuildError" and errors:
        text += " Errors:\n" + "\n".join(_clip(line) for line in errors[:MAX_ITEMS])
    elif state == "BuildError":
        text += " Call read_compile with this compileId to see the build errors."
    return text


KEY_STATISTICS = ("Net Profit", "Compounding Annual Return", "Sharpe Ratio", "Drawdown", "Total Orders")


def _backtest(body: dict[str, Any]) -> str:
    backtest = body.get("backtest") or {}
    status = str(backtest.get("status"))
    text = f"Backtest {backtest.get('name')!r} ({backtest.get('backtestId')}): {status.rstrip('.')}."
    if backtest.get("error"):
        text += f" Error: {_clip(backtest['error'])}"
    elif backtest.get("completed") or status == "Completed.":
        stats = backtest.get("statistics") or {}
        shown = "; ".join(f"{k} {stats[k]}" for k in KEY_STATISTICS if k in stats)
        if shown:
            text += f" {shown}."
        for note in backtest.get("notes") or []:
            text += f" {note}"
    else:
        text += " Call read_backtest again until it completes."
    return text


def _run(body: dict[str, Any]) -> str:
    """run_backtest / read_backtest_status: the outcome and the key numbers in one line."""
    status = str(body.get("status"))
    text = f"Backtest {body.get('backtestId') or ''} of project {body.get('projectId')}: {status.rstrip('.')}."
    if body.get("errors"):
        return text + f" {_clip(body['errors'][0])}"
    if body.get("error"):
        return text + f" Error: {_clip(body['error'])}"
    stats = body.get("statistics") or {}
    shown = "; ".join(f"{k} {stats[k]}" for k in KEY_STATISTICS if k in stats)
    if shown:
        text += f" {shown}."
    if body.get("next"):
        text += f" {_clip(body['next'])}"
    return text


def _backtests(body: dict[str, Any]) -> str:
    rows = body.get("backtests") or []
    shown = ", ".join(f"{b.get('name')!r} ({b.get('backtestId')}, {b.get('status')})" for b in rows[:MAX_ITEMS])
    return f"{len(rows)} backtest(s)" + (f": {shown}." if rows else ".")


def _paged(key: str) -> Summary:
    def summary(body: dict[str, Any]) -> str:
        return _loading(body) or f"{len(body.get(key) or [])} {key} returned (total {body.get('length', '?')})."

    return summary


def _chart(body: dict[str, Any]) -> str:
    loading = _loading(body)
    if loading:
        return loading
    chart = body.get("chart") or {}
    series = chart.get("series") or {}
    counts = ", ".join(f"{name} ({len((s or {}).get('values') or [])} points)" for name, s in list(series.items())[:MAX_ITEMS])
    return f"Chart {chart.get('name')!r}: {counts or 'no series'}."


def _estimate(body: dict[str, Any]) -> str:
    estimate = body.get("estimate") or {}
    cost = estimate.get("estimatedCost")
    said = (f"estimated cost {cost} QCC" if cost is not None else
            "no cost in the answer (QuantConnect gives time and balance; pass your own bound as estimatedCost)")
    return (f"Optimization estimate: about {estimate.get('time')} seconds to run; {said}; "
            f"balance {estimate.get('balance')} QCC.")


def _optimization(body: dict[str, Any]) -> str:
    optimization = body.get("optimization") or {}
    ranked = optimization.get("ranked") or []
    best = f" Best: {ranked[0]['parameterSet']} with {ranked[0]['target']}." if ranked else ""
    return (f"Optimization {optimization.get('optimizationId')} ({optimization.get('status')}): "
            f"{len(optimization.get('backtests') or {})} backtest(s), {len(ranked)} finished.{best}")


def _run_optimization(body: dict[str, Any]) -> str:
    text = f"Optimization {body.get('optimizationId')}: {body.get('status')}"
    if body.get("errors"):
        return f"{text}. {_clip(body['errors'][0])}"
    ranked = body.get("ranked") or []
    if ranked:
        text += f", {body.get('trials')} trials. Best: {ranked[0]['parameterSet']} with {ranked[0]['target']}"
    diagnostics = body.get("overfitting") or {}
    for key, label in (("deflatedSharpeRatio", "Deflated Sharpe Ratio"),
                       ("probabilityOfBacktestOverfitting", "PBO")):
        value = (diagnostics.get(key) or {}).get("value")
        if value is not None:
            text += f"; {label} {value:.0%}"
    return text + "."


def _live(body: dict[str, Any]) -> str:
    return f"Live deployment {body.get('deployId')}: {body.get('status')} on {body.get('brokerage')}."


def _research(body: dict[str, Any]) -> str:
    """The reading in full (it names the numbers that decide), then the data it was computed on."""
    data = body.get("data") or {}
    where = (f" Data: {data.get('source')} ({data.get('location')}), {data.get('normalization')} "
             f"{data.get('resolution')} bars, {data.get('start')} to {data.get('end')}, {data.get('observations')} "
             "observations." if data else "")
    return f"{body['interpretation']}.{where}"


RESEARCH_TOOLS = ("get_history", "calculate_correlation_matrix", "perform_pca_analysis", "test_cointegration",
                  "analyze_mean_reversion", "calculate_portfolio_performance", "optimize_equal_weight_portfolio",
                  "optimize_portfolio", "sparse_optimization", "select_uncorrelated_assets",
                  "screen_assets_by_criteria", "screen_cointegrated_pairs")

SUMMARIES: dict[str, Summary] = {
    **dict.fromkeys(RESEARCH_TOOLS, _research),
    "create_project": _created_project,
    "read_project": _projects,
    "list_projects": _projects,
    "read_file": _files,
    "create_compile": _compile,
    "read_compile": _compile,
    "create_backtest": _backtest,
    "read_backtest": _backtest,
    "run_backtest": _run,
    "read_backtest_status": _run,
    "list_backtests": _backtests,
    "read_backtest_chart": _chart,
    "read_live_chart": _chart,
    "read_backtest_orders": _paged("orders"),
    "read_live_orders": _paged("orders"),
    "read_backtest_insights": _paged("insights"),
    "read_live_insights": _paged("insights"),
    "read_live_algorithm": _live,
    "estimate_optimization_time": _estimate,
    "read_optimization": _optimization,
    "run_optimization": _run_optimization,
}


def summarize(tool: str, body: dict[str, Any]) -> str:
    """One or a few lines describing ``body``; never fails on unexpected shapes."""
    try:
        return SUMMARIES.get(tool, _generic)(body)
    except (AttributeError, KeyError, TypeError, ValueError):
        return _generic(body)
