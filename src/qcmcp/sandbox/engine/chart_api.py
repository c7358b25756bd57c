"""LEAN's charting objects as algorithms build them: ``Chart``, ``Series`` (and ``CandlestickSeries``),
``SeriesType``, ``ScatterMarkerSymbol``, ``Color``, and ``add_chart``. A chart added to the algorithm declares its
series — type, unit, index — in the run's chart store, so the points ``plot`` (or ``series.add_point``) gives them
come out in the backtest's charts with those properties, as the cloud shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from qcmcp.sandbox.engine.types import PascalAliases, _Names


class SeriesType(_Names):
    LINE, SCATTER, CANDLE, BAR, FLAG, STACKED_AREA, PIE, TREEMAP, HEATMAP, SCATTER_3D = 0, 1, 2, 3, 4, 5, 6, 7, 9, 10


class ScatterMarkerSymbol(_Names):
    NONE, CIRCLE, SQUARE, DIAMOND, TRIANGLE, TRIANGLE_DOWN = ("none", "circle", "square", "diamond", "triangle",
                                                              "triangle-down")


class Color(_Names):
    """System.Drawing.Color's named colours a series takes (kept as names: the sandbox draws no charts)."""

    EMPTY, BLACK, WHITE, RED, GREEN, BLUE, YELLOW, ORANGE, PURPLE, GRAY, BROWN, PINK, CYAN, MAGENTA = (
        "", "black", "white", "red", "green", "blue", "yellow", "orange", "purple", "gray", "brown", "pink", "cyan",
        "magenta")

    @staticmethod
    def from_argb(*values: int) -> str:
        return "#" + "".join(f"{int(v):02x}" for v in values[-3:])


class Series(PascalAliases):
    """``Series(name[, series_type[, index | unit[, unit | color[, color | symbol]]]])`` as LEAN's overloads."""

    def __init__(self, name: str, series_type: int = SeriesType.LINE, *more: Any, unit: str = "$", index: int = 0,
                 color: Any = None, symbol: Any = None) -> None:
        self.name, self.series_type, self.unit, self.index = str(name), int(series_type), unit, index
        self.color, self.scatter_marker_symbol = color, symbol
        rest = list(more)
        if rest and isinstance(rest[0], int) and not isinstance(rest[0], bool):
            self.index = rest.pop(0)
        if rest and isinstance(rest[0], str):
            self.unit = rest.pop(0)
        if rest:
            self.color = rest.pop(0)
        if rest:
            self.scatter_marker_symbol = rest.pop(0)
        self.chart: Any = None  # set by Chart.add_series
        self._store: Any = None  # the run's chart store, once the chart is added to the algorithm
        self._time: Any = None  # the algorithm's clock

    def add_point(self, time: Any, value: Any = None) -> None:
        """``add_point(time, value)`` or ``add_point(value)`` (at the algorithm's time)."""
        if value is None:
            time, value = None, time
        if self._store is None or self.chart is None:
            return  # LEAN keeps points of a chart never added, which no result shows
        moment = time if isinstance(time, datetime) else self._time()
        self._store.plot(moment, self.chart.name, self.name, float(getattr(value, "value", value)), self.series_type,
                         self.unit)


class CandlestickSeries(Series):
    def __init__(self, name: str, *more: Any, **named: Any) -> None:
        super().__init__(name, SeriesType.CANDLE, *more, **named)


class Chart(PascalAliases):
    def __init__(self, name: str, chart_type: Any = None) -> None:
        self.name = str(name)
        self.series: dict[str, Series] = {}

    def add_series(self, series: Series) -> None:
        if series.name in self.series:
            raise ValueError(f"Chart.add_series: chart '{self.name}' already has a series named '{series.name}'.")
        series.chart = self
        self.series[series.name] = series

    def try_add_series(self, series: Series) -> bool:
        if series.name in self.series:
            return False
        self.add_series(series)
        return True


def add_chart(store: Any, chart: Chart, clock: Any) -> None:
    """Declare the chart's series in the run's store (their type and unit), in order."""
    for series in chart.series.values():
        store.series(chart.name, series.name, series.series_type, series.unit)
        series._store, series._time = store, clock
