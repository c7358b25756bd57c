"""Chart series recorded during a run, in the API's shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
MAX_POINTS_PER_SERIES = 10_000
LINE, CANDLE = 0, 2


def unix(moment: datetime) -> int:
    """Algorithm time is New York market time; the API speaks unix seconds (UTC)."""
    return int(moment.replace(tzinfo=NEW_YORK).timestamp())


class ChartStore:
    def __init__(self) -> None:
        self.charts: dict[str, dict[str, dict[str, Any]]] = {}
        self.dropped: set[str] = set()

    def series(self, chart: str, name: str, kind: int = LINE, unit: str = "$") -> dict[str, Any]:
        series = self.charts.setdefault(chart, {})
        return series.setdefault(name, {"name": name, "unit": unit, "index": len(series), "seriesType": kind, "values": []})

    def plot(self, time: datetime, chart: str, name: str, value: float, kind: int = LINE, unit: str = "$") -> None:
        points = self.series(chart, name, kind, unit)["values"]
        stamp = unix(time)
        if points and points[-1][0] == stamp:
            points[-1] = [stamp, value]  # one point per series per moment: the last one wins
        elif len(points) < MAX_POINTS_PER_SERIES:
            points.append([stamp, value])
        else:
            self.dropped.add(f"{chart}/{name}")

    def candle(self, time: datetime, chart: str, name: str, ohlc: tuple[float, float, float, float]) -> None:
        self.series(chart, name, CANDLE)["values"].append([unix(time), *(round(v, 2) for v in ohlc)])

    def as_api(self) -> dict[str, dict[str, Any]]:
        return {name: {"name": name, "chartType": 0, "series": series} for name, series in self.charts.items()}
