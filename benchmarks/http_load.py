"""Streamable HTTP under load: 100 concurrent sessions against a mock QuantConnect API, next to one stdio session.

A mock API (a small Starlette app under uvicorn, in its own process) answers ``/account/read`` at once, so what is
measured is qcmcp itself. ``qcmcp serve --transport http`` runs in its own process; 100 sessions (raw JSON-RPC
over httpx, so the client costs little) call ``read_account`` for a bounded time. Printed: calls/s, p50/p99
latency, errors, the server's CPU per call and its resident memory before, during and after the sessions; then the
same tool over one stdio session of ``qcmcp serve`` in the same run, for the CPU-per-call ratio.

Usage: uv run --locked python benchmarks/http_load.py [--sessions 100] [--seconds 20] [--stdio-calls 2000] [--json]
(--json serves with QCMCP_HTTP_JSON_RESPONSE=true: one JSON body per request instead of an event stream)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.processes import free_port, wait_for_port  # noqa: E402

QCMCP = str(Path(sys.executable).with_name("qcmcp"))
MOCK_API = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def account(request):
    return JSONResponse({"organizationId": "mock-org", "creditBalance": 10.0, "success": True})

uvicorn.run(Starlette(routes=[Route("/api/v2/account/read", account, methods=["POST"])]),
            host="127.0.0.1", port=int(sys.argv[1]), log_level="error", access_log=False)
"""
HEADERS = {"Accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "load", "version": "1"}}}
CALL = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "read_account", "arguments": {}}}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def environment(tmp: Path, api_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
    env.update(QUANTCONNECT_USER_ID="1", QUANTCONNECT_API_TOKEN="load-test-token",
               QUANTCONNECT_API_URL=f"http://127.0.0.1:{api_port}/api/v2", QCMCP_AUDIT_DB=str(tmp / "audit.sqlite3"),
               QCMCP_RATE_LIMIT="off", QCMCP_CACHE="off", QCMCP_LOG_LEVEL="WARNING")
    return env


async def session(http: httpx.AsyncClient, url: str, until: float, latencies: list[float], errors: list[str]) -> None:
    started = await http.post(url, json=INITIALIZE, headers=HEADERS)
    headers = dict(HEADERS)
    if started.headers.get("mcp-session-id"):
        headers["mcp-session-id"] = started.headers["mcp-session-id"]
    await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    while time.monotonic() < until:
        began = time.perf_counter()
        try:
            answer = await http.post(url, json=CALL, headers=headers)
            if answer.status_code != 200 or '"isError":false' not in answer.text:
                errors.append(f"{answer.status_code} {answer.text[:100]}")
        except httpx.HTTPError as error:
            errors.append(type(error).__name__)
        latencies.append(time.perf_counter() - began)


async def http_load(env: dict[str, str], sessions: int, seconds: float) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen([QCMCP, "serve", "--transport", "http", "--port", str(port), "--insecure-no-auth"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(server, port)
        url = f"http://127.0.0.1:{port}/mcp"
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=sessions)) as http:
            warm: list[float] = []
            await session(http, url, time.monotonic() + 1.0, warm, [])  # imports and first-call costs out of the way
            rss_before, cpu_before = rss_mib(server.pid), cpu_seconds(server.pid)
            latencies: list[float] = []
            errors: list[str] = []
            started = time.monotonic()
            await asyncio.gather(*(session(http, url, started + seconds, latencies, errors) for _ in range(sessions)))
            elapsed = time.monotonic() - started
            cpu, rss_peak = cpu_seconds(server.pid) - cpu_before, rss_mib(server.pid)
        await asyncio.sleep(3.0)  # sessions closed: does the memory come back?
        rss_after = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    ordered = sorted(latencies) or [0.0]
    return {"calls": len(latencies), "rate": len(latencies) / elapsed, "p50": statistics.median(ordered) * 1000,
            "p99": ordered[int(len(ordered) * 0.99) - 1] * 1000, "errors": len(errors),
            "cpu_ms": cpu / max(len(latencies), 1) * 1000, "rss_before": rss_before, "rss_peak": rss_peak,
            "rss_after": rss_after, "error_kinds": sorted(set(errors))[:3]}


def stdio_cpu_per_call(env: dict[str, str], calls: int) -> float:
    server = subprocess.Popen([QCMCP, "serve"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, bufsize=1)
    assert server.stdin and server.stdout

    def send(message: dict) -> None:
        server.stdin.write(json.dumps(message) + "\n")
        server.stdin.flush()

    try:
        send(INITIALIZE)
        server.stdout.readline()
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        for index in range(50):  # warm-up
            send({**CALL, "id": 1000 + index})
            server.stdout.readline()
        before = cpu_seconds(server.pid)
        for index in range(calls):
            send({**CALL, "id": 10 + index})
            line = server.stdout.readline()
            assert '"isError":false' in line, line[:200]
        return (cpu_seconds(server.pid) - before) / calls * 1000
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--stdio-calls", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    api_port = free_port()
    api = subprocess.Popen([sys.executable, "-c", MOCK_API, str(api_port)])
    try:
        wait_for_port(api, api_port)
        with tempfile.TemporaryDirectory() as tmp:
            env = environment(Path(tmp), api_port)
            if args.json:
                env["QCMCP_HTTP_JSON_RESPONSE"] = "true"
            http = asyncio.run(http_load(env, args.sessions, args.seconds))
            stdio = stdio_cpu_per_call(env, args.stdio_calls)
    finally:
        api.terminate()
        api.wait(timeout=10)
    print(f"HTTP, {args.sessions} sessions for {args.seconds:g} s: {http['calls']} calls, {http['rate']:.0f} calls/s, "
          f"p50 {http['p50']:.0f} ms, p99 {http['p99']:.0f} ms, {http['errors']} errors"
          + (f" ({'; '.join(http['error_kinds'])})" if http["errors"] else ""))
    print(f"server CPU per call: HTTP {http['cpu_ms']:.2f} ms, stdio {stdio:.2f} ms "
          f"(ratio {http['cpu_ms'] / stdio:.2f}; goal at most 1.2)")
    print(f"server RSS: {http['rss_before']:.0f} MiB before, {http['rss_peak']:.0f} MiB under load, "
          f"{http['rss_after']:.0f} MiB after the sessions closed "
          f"({(http['rss_after'] / http['rss_before'] - 1) * 100:+.0f} %; goal within 10 %)")


if __name__ == "__main__":
    main()
