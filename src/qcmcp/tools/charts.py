"""PNG pictures for tool results, where a picture says it better than numbers (the equity curve)."""

from __future__ import annotations

import io
from datetime import UTC, datetime


def equity_png(points: list[tuple[int, float]], title: str) -> bytes | None:
    """The equity curve as a small PNG, or None when there is nothing to draw."""
    if len(points) < 2:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3), dpi=90)
    axes = figure.subplots()
    axes.plot([datetime.fromtimestamp(t, UTC) for t, _ in points], [v for _, v in points], linewidth=1.2)
    axes.set_title(title, fontsize=10)
    axes.set_ylabel("Equity ($)")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
