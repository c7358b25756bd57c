"""The HTML report of a completed sandbox backtest: statistics and embedded charts."""

from __future__ import annotations

import base64
import html
import io
from datetime import datetime, timezone
from typing import Any


def _png(points: list[list[float]], title: str, color: str, unit: str) -> str:
    """A line chart as a base64 PNG (matplotlib's object API: no global state, thread-safe)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3), dpi=100)
    axes = figure.subplots()
    times = [datetime.fromtimestamp(p[0], tz=timezone.utc) for p in points]
    values = [p[-1] for p in points]  # the close of a candle, or the value of a line point
    axes.plot(times, values, color=color, linewidth=1.2)
    if unit == "%":
        axes.fill_between(times, values, 0, color=color, alpha=0.2)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _table(rows: dict[str, Any]) -> str:
    cells = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows.items())
    return f"<table>{cells}</table>"


def render(name: str, result: dict[str, Any]) -> str:
    charts = result["charts"]
    equity = charts["Strategy Equity"]["series"]["Equity"]["values"]
    drawdown = charts["Drawdown"]["series"]["Equity Drawdown"]["values"]
    notes = "".join(f'<p class="note">{html.escape(note)}</p>' for note in result.get("notes", []))
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(name)} — qcmcp sandbox backtest report</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}} table{{border-collapse:collapse}}
th,td{{padding:4px 12px;border-bottom:1px solid #ddd;text-align:left}} .note{{background:#fff3cd;padding:8px}}
.columns{{display:flex;gap:2em}}</style></head>
<body><h1>{html.escape(name)}</h1>
<p>Backtest report from the <b>qcmcp sandbox</b> (a local engine, not QuantConnect LEAN),
{html.escape(str(result["backtestStart"]))} to {html.escape(str(result["backtestEnd"]))}, {result["tradeableDates"]} trading days.</p>
{notes}
<h2>Equity</h2><img alt="Equity curve" src="data:image/png;base64,{_png(equity, "Strategy equity ($)", "#1f77b4", "$")}">
<h2>Drawdown</h2><img alt="Drawdown" src="data:image/png;base64,{_png(drawdown, "Drawdown (%)", "#d62728", "%")}">
<div class="columns"><div><h2>Statistics</h2>{_table(result["statistics"])}</div>
<div><h2>Runtime statistics</h2>{_table(result["runtimeStatistics"])}</div></div>
</body></html>"""
