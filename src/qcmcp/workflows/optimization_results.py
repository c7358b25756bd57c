"""Optimization results an agent can read: each backtest's statistics by name, the best first.

QuantConnect gives each optimization backtest its statistics as an unnamed array of 21 numbers, whose order is
stated only in the API spec's description of the field, and lists the backtests in no useful order with the best
one last. This adds, beside the API's own fields (which stay as they are), a ``ranked`` list: every finished
backtest with its parameter set and named statistics (to six significant digits; the API's arrays keep every
digit), ordered by the optimization's own target, best first.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

from qcmcp.qc import models


@cache
def statistic_names() -> tuple[str, ...]:
    """The array's names, read from the spec's description of ``OptimizationBacktest.statistics``."""
    description = models.OptimizationBacktest.model_fields["statistics"].description or ""
    inside = re.search(r"\[(.+)\]", description)
    return tuple(name.strip() for name in inside.group(1).split(",")) if inside else ()


def _target_name(target: str) -> str:
    """``TotalPerformance.PortfolioStatistics.SharpeRatio`` -> ``sharpe ratio`` (the array's name for it)."""
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", target.rsplit(".", 1)[-1]).lower()
    return next((name for name in statistic_names() if name.split(" (")[0] == words), words)


def _short(value: Any) -> Any:
    """Six significant digits: enough to compare runs, a third of the characters of a full double."""
    return float(f"{value:.6g}") if isinstance(value, float) and math.isfinite(value) else value


def named(values: list[Any]) -> dict[str, Any]:
    names = statistic_names()
    if len(values) != len(names):  # an array the spec does not describe: keep it, unnamed
        return {f"#{index}": _short(value) for index, value in enumerate(values)}
    return {name: _short(value) for name, value in zip(names, values, strict=True)}


def ranked(optimization: dict[str, Any]) -> list[dict[str, Any]]:
    """Finished backtests, best first by the optimization's target (``criterion``), with named statistics."""
    criterion = optimization.get("criterion") or {}
    target = _target_name(str(criterion.get("target") or optimization.get("optimizationTarget") or ""))
    maximise = str(criterion.get("extremum") or "max").lower() != "min"
    rows = []
    for backtest_id, backtest in (optimization.get("backtests") or {}).items():
        if not isinstance(backtest, dict) or not backtest.get("statistics"):
            continue
        statistics = named(list(backtest["statistics"]))
        value = statistics.get(target)
        score = float(value) if isinstance(value, int | float) and math.isfinite(value) else None
        rows.append({"backtestId": backtest.get("id") or backtest_id, "parameterSet": backtest.get("parameterSet"),
                     "target": {target: value}, "statistics": statistics, "_score": score})
    rows.sort(key=lambda row: (row["_score"] is None, -(row["_score"] or 0.0) if maximise else (row["_score"] or 0.0)))
    for row in rows:
        del row["_score"]
    return rows


def readable(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with ``ranked`` first inside ``optimization`` (so a shortened text keeps the best results)."""
    optimization = result.get("optimization")
    if not isinstance(optimization, dict):
        return result
    order = ranked(optimization)
    if not order:
        return result
    return {**result, "optimization": {"ranked": order, **optimization}}
