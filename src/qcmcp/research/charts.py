"""Small PNG charts of research results, for a tool reply or a report.

matplotlib's object API with the Agg backend (no display, no global pyplot state: safe in threads);
each function takes a result and returns PNG bytes.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from qcmcp.research.cointegration import CointegrationResult
from qcmcp.research.correlation import CorrelationResult
from qcmcp.research.mean_reversion import MeanReversionResult
from qcmcp.research.optimization import PortfolioResult
from qcmcp.research.pca import PCAResult
from qcmcp.research.tracking import TrackingResult

DPI = 90


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI)


def _png(figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def correlation_heatmap_png(result: CorrelationResult) -> bytes:
    """The matrix as a red–blue heatmap (-1 … 1), values printed when there are few symbols."""
    matrix = result.matrix
    size = min(2 + 0.45 * len(matrix), 9)
    figure = _figure(size + 1, size)
    axes = figure.subplots()
    image = axes.imshow(matrix.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    axes.set_xticks(range(len(matrix)), matrix.columns, rotation=90, fontsize=8)
    axes.set_yticks(range(len(matrix)), matrix.index, fontsize=8)
    if len(matrix) <= 12:
        for (row, column), value in np.ndenumerate(matrix.to_numpy()):
            axes.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                      color="white" if abs(value) > 0.6 else "black")
    figure.colorbar(image, ax=axes, shrink=0.8)
    axes.set_title("Return correlation", fontsize=10)
    return _png(figure)


def pca_loadings_png(result: PCAResult, components: int = 3) -> bytes:
    """Grouped bars: each symbol's loading on the first ``components`` principal components."""
    loadings = result.loadings.iloc[:components]
    figure = _figure(min(3 + 0.5 * loadings.shape[1], 10), 3.2)
    axes = figure.subplots()
    width = 0.8 / len(loadings)
    positions = np.arange(loadings.shape[1])
    for number, (name, row) in enumerate(loadings.iterrows()):
        share = result.explained_variance_ratio[number]
        axes.bar(positions + number * width, row.to_numpy(), width, label=f"{name} ({share:.0%})")
    axes.set_xticks(positions + width * (len(loadings) - 1) / 2, loadings.columns, rotation=45, fontsize=8)
    axes.axhline(0, color="black", linewidth=0.6)
    axes.legend(fontsize=7)
    axes.set_title("PCA loadings (share of variance)", fontsize=10)
    return _png(figure)


def spread_png(result: CointegrationResult | MeanReversionResult) -> bytes:
    """Two panels: the spread (or the close and its moving mean), and its z-score with ±2 bands."""
    series = result.series
    figure = _figure(7, 4.2)
    top, bottom = figure.subplots(2, 1, sharex=True)
    if isinstance(result, CointegrationResult):
        top.plot(series.index, series["spread"], linewidth=1)
        top.axhline(float(series["spread"].mean()), color="grey", linewidth=0.8)
        title = f"Spread {result.symbol1} - {result.hedge_ratio:.3f}·{result.symbol2}"
    else:
        top.plot(series.index, series["close"], linewidth=1, label="close")
        top.plot(series.index, series["mean"], linewidth=1, label=f"{result.lookback_period}-bar mean")
        top.legend(fontsize=7)
        title = f"{result.symbol} close"
    top.set_title(title, fontsize=10)
    bottom.plot(series.index, series["zscore"], linewidth=0.9, color="tab:purple")
    for level in (-2, 0, 2):
        bottom.axhline(level, color="grey", linewidth=0.7, linestyle="--" if level else "-")
    bottom.set_ylabel("z-score", fontsize=8)
    for axes in (top, bottom):
        axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    return _png(figure)


def weights_png(result: PortfolioResult | TrackingResult) -> bytes:
    """Horizontal bars of the portfolio weights, largest on top."""
    weights = pd.Series(result.weights).sort_values()
    figure = _figure(5, min(1.2 + 0.3 * len(weights), 9))
    axes = figure.subplots()
    axes.barh(weights.index, weights.to_numpy(), color=np.where(weights.to_numpy() < 0, "tab:red", "tab:blue"))
    axes.axvline(0, color="black", linewidth=0.6)
    axes.set_xlabel("weight", fontsize=8)
    label = result.method_name if isinstance(result, PortfolioResult) else f"tracking {result.benchmark}"
    axes.set_title(f"Weights: {label}", fontsize=10)
    axes.grid(alpha=0.3, axis="x")
    return _png(figure)
