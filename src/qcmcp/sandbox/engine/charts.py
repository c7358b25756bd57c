"""Chart series recorded during a run, in the API's shapes."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

MAX_POINTS_PER_SERIES = 10_000
LINE, CANDLE = 0, 2


def unix(moment: datetime) -> int:
    """Algorithm time is in the algorithm's time zone; the API speaks unix seconds (UTC)."""
    from qcmcp.sandbox.engine import clock

    return clock.unix(moment)


class ChartStore:
    def __init__(self) -> None:
        self.charts: dict[str, dict[str, dict[str, Any]]] = {}
        self.dropped: set[str] = set()

    def series(self, chart: str, name: str, kind: int = LINE, unit: str = "$") -> dict[str, Any]:
        series = self.charts.setdefault(chart, {})
        return series.setdefault(name, {"name": name, "unit": unit, "index": len(series), "seriesType": kind, "values": []})

    def plot(self, time: datetime, chart: str, name: str, value: float, kind: int = LINE, unit: str = "$") -> None:
        """A point; a series declared by add_chart keeps its own type and unit."""
        points = self.series(chart, name, kind, unit)["values"]
        stamp = unix(time)
        if points and points[-1][0] == stamp:
            points[-1] = [stamp, value]  # one point per series per moment: the last one wins
        elif len(points) < MAX_POINTS_PER_SERIES:
            points.append([stamp, value])
        else:
            self.dropped.add(f"{chart}/{name}")

    def candle(self, time: datetime, chart: str, name: str, ohlc: tuple[float, float, float, float]) -> None:
        points, point = self.series(chart, name, CANDLE)["values"], [unix(time), *(round(v, 2) for v in ohlc)]
        if points and points[-1][0] == point[0]:
            points[-1] = point  # one candle per moment, as for plot
        elif len(points) < MAX_POINTS_PER_SERIES:
            points.append(point)
        else:
            self.dropped.add(f"{chart}/{name}")

    def as_api(self) -> dict[str, dict[str, Any]]:
        return {name: {"name": name, "chartType": 0, "series": series} for name, series in self.charts.items()}


def add_default_charts(charts: ChartStore, days: list[Any], equity: list[float], positions: list[dict[Any, float]],
                       leverage: dict[Any, float], fills: list[tuple[Any, ...]], dollar_volume: Any) -> None:
    """The charts every cloud backtest carries beside Strategy Equity, Drawdown and Benchmark, sampled daily.

    ``positions`` holds each day's closing holdings value per symbol; ``fills`` the engine's (time, symbol,
    quantity, price, fee) fills; ``dollar_volume(symbol, time)`` the dollar volume of the bar a fill traded in.
    Exposure, Portfolio Margin, Assets Sales Volume and Portfolio Turnover are LEAN's definitions. Strategy
    Capacity is the sandbox's own simpler estimate (the README says how it differs from LEAN's): the portfolio
    value at which that day's largest order, relative to its bar's dollar volume, would have traded the whole bar.
    """
    sold: dict[Any, float] = {}
    by_day: dict[Any, list[tuple[Any, ...]]] = {}
    for fill in fills:
        by_day.setdefault(fill[0].date(), []).append(fill)
    for day, value, held in zip(days, equity, positions, strict=True):
        moment = datetime.combine(day, time(16))
        longs = sum(v for v in held.values() if v > 0)
        shorts = sum(v for v in held.values() if v < 0)
        ratio = (lambda amount: round(amount / value, 4) if value else 0.0)
        charts.plot(moment, "Exposure", "Equity - Long Ratio", ratio(longs), unit="")
        charts.plot(moment, "Exposure", "Equity - Short Ratio", ratio(shorts), unit="")
        for symbol, amount in held.items():
            charts.plot(moment, "Portfolio Margin", str(symbol), round(abs(amount) / leverage.get(symbol, 1.0) /
                                                                      value * 100, 4) if value else 0.0, unit="%")
        traded, capacity = 0.0, None
        for when, symbol, quantity, price, _ in by_day.get(day, []):
            size = abs(quantity * price)
            traded += size
            sold[symbol] = sold.get(symbol, 0.0) + size
            volume = dollar_volume(symbol, when)
            if size and volume and value > 0:
                estimate = volume / size * value
                capacity = estimate if capacity is None else min(capacity, estimate)
        for symbol, total in sold.items():
            charts.plot(moment, "Assets Sales Volume", str(symbol), round(total, 2))
        charts.plot(moment, "Portfolio Turnover", "Portfolio Turnover", round(traded / value * 100, 4) if value else 0.0,
                    unit="%")
        if capacity is not None:
            charts.plot(moment, "Capacity", "Strategy Capacity", round(capacity, 2))
    charts.charts.setdefault("Capacity", {}).setdefault(
        "Strategy Capacity", {"name": "Strategy Capacity", "unit": "$", "index": 0, "seriesType": LINE, "values": []})
    for name in ("Portfolio Margin", "Assets Sales Volume"):
        charts.charts.setdefault(name, {})
