"""Run algorithms on the sandbox engine in-process, over data folders the tests write."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from qcmcp.sandbox.engine import worker


def write_daily(folder: Path, ticker: str, rows: list[tuple[date, float, float, float, float]]) -> None:
    """A LEAN daily zip: prices scaled by 10,000, volume 1,000,000."""
    lines = [f"{d:%Y%m%d} 00:00,{round(o * 1e4)},{round(h * 1e4)},{round(lo * 1e4)},{round(c * 1e4)},1000000"
             for d, o, h, lo, c in rows]
    target = folder / "equity" / "usa" / "daily"
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target / f"{ticker.lower()}.zip", "w") as archive:
        archive.writestr(f"{ticker.lower()}.csv", "\n".join(lines) + "\n")


def write_minute(folder: Path, ticker: str, day: date, closes: list[float]) -> None:
    """A LEAN minute zip for one session: bar i opens at 9:30 + i minutes."""
    lines = []
    for i, close in enumerate(closes):
        millis = int(timedelta(hours=9, minutes=30 + i).total_seconds() * 1000)
        opening = closes[i - 1] if i else close
        lines.append(f"{millis},{round(opening * 1e4)},{round(max(opening, close) * 1e4)},"
                     f"{round(min(opening, close) * 1e4)},{round(close * 1e4)},100")
    target = folder / "equity" / "usa" / "minute" / ticker.lower()
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target / f"{day:%Y%m%d}_trade.zip", "w") as archive:
        archive.writestr(f"{day:%Y%m%d}_{ticker.lower()}_minute_trade.csv", "\n".join(lines) + "\n")


def sessions(first: date, count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def run(source: str, folder: Path | None = None, parameters: dict[str, Any] | None = None,
        files: dict[str, str] | None = None) -> dict[str, Any]:
    """Run main.py on the engine; returns the worker's {"result": ...} or {"error": ...}."""
    job = {"files": {"main.py": source, **(files or {})}, "parameters": parameters or {},
           "dataFolder": str(folder) if folder else None}
    return worker.run(job, lambda message: None)


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))
