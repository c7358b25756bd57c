"""Start-up and per-call overhead of the qcmcp gateway.

1. Cold start: spawn `qcmcp serve` over stdio and time until the first `tools/list`
   answer, several runs, median. Baseline in the same run: a minimal FastMCP server with
   one tool (the floor the MCP libraries themselves impose).
2. Per-call overhead: call `read_project` through an MCP client session against an
   in-process mock API, next to the raw httpx call to the same mock; p50/p95 and the
   added cost per call.

Usage: python benchmarks/overhead.py [--runs 7] [--calls 400]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from qcmcp.config import load_settings
from qcmcp.server import build_server

QCMCP = str(Path(sys.executable).with_name("qcmcp"))
MINIMAL_SERVER = """
from fastmcp import FastMCP
server = FastMCP("minimal")
@server.tool
def echo(x: int) -> int:
    return x
server.run(transport="stdio", show_banner=False)
"""
ANSWER = {
    "projects": [{"projectId": 1, "organizationId": "o", "name": "P", "modified": "2024-01-01 00:00:00",
                  "created": "2024-01-01 00:00:00", "ownerId": 1, "language": "Py"}],
    "versions": [],
    "success": True,
}


async def cold_start(command: str, args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    async with Client(StdioTransport(command, args, env=env), timeout=60) as client:
        await client.list_tools()
    return time.perf_counter() - started


async def measure_cold_start(runs: int) -> tuple[list[float], list[float]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
    env["QCMCP_LOG_LEVEL"] = "WARNING"
    # Without credentials `qcmcp serve` starts on the sandbox: give it a throw-away database.
    scratch = tempfile.mkdtemp(prefix="qcmcp-bench-")
    env["QCMCP_SANDBOX_DB"] = os.path.join(scratch, "sandbox.sqlite3")
    env["QCMCP_AUDIT_DB"] = os.path.join(scratch, "audit.sqlite3")
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(MINIMAL_SERVER)
    ours, floor = [], []
    for _ in range(runs):  # interleaved so machine noise hits both equally
        ours.append(await cold_start(QCMCP, ["serve"], env))
        floor.append(await cold_start(sys.executable, [script.name], env))
    os.unlink(script.name)
    return ours, floor


def mock_transport() -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, json=ANSWER))


async def measure_calls(calls: int) -> tuple[list[float], list[float]]:
    settings = load_settings(QUANTCONNECT_USER_ID="1", QUANTCONNECT_API_TOKEN="bench-token", QCMCP_MAX_RETRIES=0,
                             QCMCP_AUDIT_DB=os.path.join(tempfile.mkdtemp(prefix="qcmcp-bench-"), "audit.sqlite3"))
    server = build_server(settings, transport=mock_transport())
    through_mcp: list[float] = []
    async with Client(server) as client:
        for _ in range(50):  # warm up validators, pools and caches
            await client.call_tool("read_project", {"projectId": 1})
        for _ in range(calls):
            started = time.perf_counter()
            await client.call_tool("read_project", {"projectId": 1})
            through_mcp.append(time.perf_counter() - started)
    raw: list[float] = []
    async with httpx.AsyncClient(base_url="https://qc.test/api/v2/", transport=mock_transport()) as http:
        for _ in range(50):
            (await http.post("projects/read", json={"projectId": 1})).json()
        for _ in range(calls):
            started = time.perf_counter()
            (await http.post("projects/read", json={"projectId": 1})).json()
            raw.append(time.perf_counter() - started)
    return through_mcp, raw


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()

    ours, floor = await measure_cold_start(args.runs)
    ours_med, floor_med = statistics.median(ours), statistics.median(floor)
    print(f"cold start to first tools/list over stdio ({args.runs} runs, median):")
    print(f"  qcmcp serve (66 tools, sandbox)  {ours_med * 1000:7.0f} ms   (runs: {', '.join(f'{x * 1000:.0f}' for x in ours)})")
    print(f"  baseline: minimal FastMCP server {floor_med * 1000:7.0f} ms")
    print(f"  ratio qcmcp / baseline           {ours_med / floor_med:8.2f}x   added {1000 * (ours_med - floor_med):.0f} ms")

    mcp, raw = await measure_calls(args.calls)
    print(f"per call, read_project against an in-process mock API ({args.calls} calls):")
    print(f"  through MCP session  p50 {pct(mcp, .5) * 1000:7.3f} ms   p95 {pct(mcp, .95) * 1000:7.3f} ms")
    print(f"  raw httpx baseline   p50 {pct(raw, .5) * 1000:7.3f} ms   p95 {pct(raw, .95) * 1000:7.3f} ms")
    print(f"  added overhead       p50 {(pct(mcp, .5) - pct(raw, .5)) * 1000:7.3f} ms   ratio {pct(mcp, .5) / pct(raw, .5):.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
