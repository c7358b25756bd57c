#!/usr/bin/env python3
"""Run every LEAN Python regression algorithm that has expected statistics on the sandbox engine.

    python scripts/lean_regression_sweep.py --lean PATH_TO_LEAN_CHECKOUT --data ../shared/lean-data [NAME ...]

For each ``Algorithm.Python/<Name>.py`` whose C# twin ``Algorithm.CSharp/<Name>.cs`` declares
``ExpectedStatistics``, runs it in a worker process (``python -m qcmcp.sandbox.engine.worker``, no jail: this is a
measurement tool) with LEAN's regression parameters and the sibling files it imports, and prints one line per
algorithm — MATCH (same orders, net profit within 0.1 points, drawdown within 0.5, fees within $1 or 10 %, same
status), DIFFER, REFUSED (the clear "not supported in the sandbox" message) or ERROR — and the counts.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PARAMETERS = {"ema-fast": 10, "ema-slow": 20}
STATISTICS = re.compile(r'ExpectedStatistics\s*=>\s*new\s*(?:Dictionary<string,\s*string>)?\s*\(?\)?\s*\{(.*?)\};', re.S)
PAIR = re.compile(r'\{\s*"([^"]+)"\s*,\s*"([^"]*)"\s*\}')
STATUS = re.compile(r'AlgorithmStatus\s+AlgorithmStatus\s*=>\s*AlgorithmStatus\.(\w+)')
IMPORT = re.compile(r"^from (\w+) import", re.M)


def expected(lean: Path) -> dict[str, dict]:
    found = {}
    for source in sorted((lean / "Algorithm.Python").glob("*.py")):
        twin = lean / "Algorithm.CSharp" / f"{source.stem}.cs"
        if not twin.is_file():
            continue
        text = twin.read_text(errors="ignore")
        match = STATISTICS.search(text)
        stats = dict(PAIR.findall(match.group(1))) if match else {}
        if "Total Orders" in stats:
            status = STATUS.search(text)
            found[source.stem] = {"statistics": stats, "status": status.group(1) if status else "Completed"}
    return found


def files_for(lean: Path, name: str) -> dict[str, str]:
    folder = lean / "Algorithm.Python"
    files, queue = {"main.py": (folder / f"{name}.py").read_text()}, [(folder / f"{name}.py").read_text()]
    while queue:
        for dependency in IMPORT.findall(queue.pop()):
            path = folder / f"{dependency}.py"
            if path.is_file() and dependency != name and f"{dependency}.py" not in files:
                files[f"{dependency}.py"] = path.read_text()
                queue.append(files[f"{dependency}.py"])
    return files


def outcome(lean: Path, data: Path, name: str) -> dict:
    job = {"files": files_for(lean, name), "parameters": PARAMETERS, "dataFolder": str(data.resolve()),
           "limits": {"memoryMb": 3000}}
    try:
        done = subprocess.run([sys.executable, "-m", "qcmcp.sandbox.engine.worker"], input=json.dumps(job) + "\n",
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return {"error": {"message": "TIMEOUT"}}
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else {"error": {"message": "no output: " + done.stderr[-300:]}}


def judge(spec: dict, result: dict) -> tuple[str, str]:
    if "error" in result:
        message = result["error"]["message"]
        return ("REFUSED" if "not supported in the sandbox" in message else "ERROR"), message[:200]

    def percent(text: str) -> float:
        return float(text.strip().rstrip("%"))

    def money(text: str) -> float:  # "$3.44", "€298.35", "BUSD99.75": the account currency's symbol first
        return float(re.sub(r"^[^\d-]+", "", text.strip()).replace(",", ""))

    got, want = result["result"]["statistics"], spec["statistics"]
    checks = [int(got["Total Orders"]) == int(want["Total Orders"]),
              abs(percent(got["Net Profit"]) - percent(want["Net Profit"])) <= 0.1,
              abs(percent(got["Drawdown"]) - percent(want["Drawdown"])) <= 0.5,
              abs(money(got["Total Fees"]) - money(want["Total Fees"])) <= max(1.0, 0.1 * money(want["Total Fees"])),
              spec["status"] == "Completed", not result["result"].get("synthetic")]
    row = (f"orders {got['Total Orders']}/{want['Total Orders']} net {got['Net Profit']}/{want['Net Profit']} "
           f"dd {got['Drawdown']}/{want['Drawdown']} fees {got['Total Fees']}/{want['Total Fees']}")
    return ("MATCH" if all(checks) else "DIFFER"), row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lean", type=Path, required=True, help="a LEAN checkout (Algorithm.Python, Algorithm.CSharp)")
    parser.add_argument("--data", type=Path, required=True, help="LEAN's data folder")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    specs = expected(args.lean)
    names = args.names or sorted(specs)
    counts: Counter[str] = Counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        for name, result in zip(names, pool.map(lambda n: outcome(args.lean, args.data, n), names), strict=True):
            kind, row = judge(specs[name], result)
            counts[kind] += 1
            print(f"{kind:8} {name}: {row}", flush=True)
    print(dict(counts))


if __name__ == "__main__":
    main()
