"""LEAN's own regression algorithms through the public MCP path, compared with the statistics LEAN expects.

Every ``<Name>.py`` in ``../shared/lean-regression`` (verbatim from LEAN's ``Algorithm.Python/``) goes through
create_project → update_file_contents → create_compile → create_backtest (LEAN's regression parameters) →
read_backtest on the sandbox, over LEAN's sample data in ``../shared/lean-data``. A run matches LEAN when it has
the same number of orders, net profit within 0.1 percentage points, drawdown within 0.5 points, total fees
within $1 or 10 %, and the same status; an algorithm using a feature the sandbox does not support must instead
end with the clear "not supported in the sandbox: <feature>" refusal. The table is printed (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server

ROOT = Path(__file__).resolve().parent.parent
REGRESSION = ROOT.parent / "shared" / "lean-regression"
DATA = ROOT.parent / "shared" / "lean-data"
PARAMETERS = {"ema-fast": 10, "ema-slow": 20}  # LEAN's Launcher/config.json
REFUSAL = "not supported in the sandbox"
# Algorithms that still differ from LEAN (issue 15 work in progress), and those refused for a LEAN feature the
# sandbox lacks. Both strict: an algorithm that starts matching must leave them, so they only shrink.
KNOWN_GAPS: set[str] = set()
KNOWN_REFUSALS: set[str] = set()

pytestmark = pytest.mark.skipif(not REGRESSION.is_dir() or not DATA.is_dir(),
                                reason="LEAN's regression algorithms and sample data are not next to the repository")


def _percent(text: str) -> float:
    return float(text.strip().rstrip("%"))


def _money(text: str) -> float:  # the account currency's symbol first: "$3.44", "€298.35"
    return float(re.sub(r"^[^\d-]+", "", text.strip()).replace(",", ""))


def compare(expected: dict[str, str], expected_status: str, outcome: dict[str, Any]) -> tuple[bool, str]:
    """(matches LEAN or refuses clearly, one table row)."""
    if outcome["status"] != "Completed.":
        error = outcome.get("error") or ""
        refused = REFUSAL in error
        return refused, f"{'REFUSED' if refused else 'ERROR'}: {error[:150]}"
    got = outcome["statistics"]
    checks = {
        "orders": (int(got["Total Orders"]), int(expected["Total Orders"]),
                   int(got["Total Orders"]) == int(expected["Total Orders"])),
        "net %": (_percent(got["Net Profit"]), _percent(expected["Net Profit"]),
                  abs(_percent(got["Net Profit"]) - _percent(expected["Net Profit"])) <= 0.1),
        "dd %": (_percent(got["Drawdown"]), _percent(expected["Drawdown"]),
                 abs(_percent(got["Drawdown"]) - _percent(expected["Drawdown"])) <= 0.5),
        "fees": (_money(got["Total Fees"]), _money(expected["Total Fees"]),
                 abs(_money(got["Total Fees"]) - _money(expected["Total Fees"]))
                 <= max(1.0, 0.1 * _money(expected["Total Fees"]))),
    }
    status_ok = expected_status == "Completed"
    ok = status_ok and all(passed for _, _, passed in checks.values())
    cells = "  ".join(f"{name} {mine:g}/{theirs:g}{'' if passed else ' ✗'}" for name, (mine, theirs, passed)
                      in checks.items())
    return ok, ("MATCH  " if ok else "DIFFER ") + cells


async def _run_all(client: Client, names: list[str]) -> dict[str, dict[str, Any]]:
    async def call(tool: str, **arguments: Any) -> dict[str, Any]:
        result = await client.call_tool(tool, arguments, raise_on_error=False)
        assert not result.is_error, f"{tool}: {result.content[0].text}"
        return result.structured_content

    started: dict[str, tuple[int, str]] = {}
    outcomes: dict[str, dict[str, Any]] = {}
    for name in names:
        project = (await call("create_project", name=name, language="Py"))["projects"][0]["projectId"]
        source = (REGRESSION / f"{name}.py").read_text(encoding="utf-8")
        await call("update_file_contents", projectId=project, name="main.py", content=source)
        compiled = await call("create_compile", projectId=project)
        if compiled["state"] != "BuildSuccess":
            outcomes[name] = {"status": "BuildError", "error": " ".join(compiled.get("logs") or [])}
            continue
        created = await call("create_backtest", projectId=project, compileId=compiled["compileId"],
                             backtestName=name, parameters=PARAMETERS)
        started[name] = (project, created["backtest"]["backtestId"])
    pending = dict(started)
    for _ in range(1200):
        for name, (project, backtest) in list(pending.items()):
            read = (await call("read_backtest", projectId=project, backtestId=backtest))["backtest"]
            if read["status"] in ("Completed.", "Runtime Error"):
                outcomes[name] = read
                del pending[name]
        if not pending:
            break
        await asyncio.sleep(0.1)
    assert not pending, f"still running after two minutes: {sorted(pending)}"
    return outcomes


async def test_lean_regression_algorithms_match_lean_or_refuse_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("QCMCP_DATA_DIR", str(DATA))
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "state.sqlite3"), QCMCP_DATA_DIR=str(DATA))
    names = sorted(path.stem for path in REGRESSION.glob("*.py"))
    async with Client(build_server(settings), timeout=60) as client:
        outcomes = await _run_all(client, names)
    rows, failures, refused = [], set(), set()
    for name in names:
        spec = json.loads((REGRESSION / f"{name}.json").read_text(encoding="utf-8"))
        ok, row = compare(spec["expected_statistics"], spec["algorithm_status"], outcomes[name])
        rows.append(f"{name:<48} {row}")
        if not ok:
            failures.add(name)
        elif row.startswith("REFUSED"):
            refused.add(name)
    table = "\n".join(rows)
    print(f"\nLEAN regression (ours/LEAN's):\n{table}\n{len(names) - len(failures) - len(refused)} match, "
          f"{len(refused)} refuse clearly, {len(failures)} differ, of {len(names)}")
    assert failures <= KNOWN_GAPS, table
    assert not KNOWN_GAPS - failures, f"now matching, drop from KNOWN_GAPS: {sorted(KNOWN_GAPS - failures)}"
    assert refused == KNOWN_REFUSALS, f"refusals changed: {sorted(refused ^ KNOWN_REFUSALS)}\n{table}"
