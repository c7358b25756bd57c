"""What the operations layer costs per call, and what the read cache saves.

Two servers in the same process against the same in-process mock API: one as `build_server` assembles it
(metrics middleware, limits middleware with a subject rate limit, upstream hooks: metrics, circuit breaker,
Retry-After, read cache) and one with all of that taken out (the middleware removed, the clients' hooks
replaced by the no-op default). Calls alternate between them in blocks, so machine noise hits both alike.
Then a cacheable read (read_lean_versions) with the cache on, against the mock answering after a delay like the
real API's (default 50 ms), next to the same read with the cache off.

Usage: python benchmarks/ops.py [--calls 2000] [--block 100] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import tempfile
import time

import httpx
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.ops.limits import LimitsMiddleware
from qcmcp.ops.metrics import MetricsMiddleware
from qcmcp.qc.client import NoHooks
import qcmcp.server as wiring
from qcmcp.server import build_server

ANSWER = {"success": True, "organizationId": "o", "creditBalance": 1.0, "card": None,
          "versions": [{"id": 1, "created": "2024-01-01 00:00:00", "description": "LEAN", "leanHash": "h",
                        "leanCloudHash": "h", "name": "v1", "ref": "r", "public": True}]}


def settings(**extra: str):
    scratch = tempfile.mkdtemp(prefix="qcmcp-bench-")
    return load_settings(QUANTCONNECT_USER_ID="1", QUANTCONNECT_API_TOKEN="bench-token", QCMCP_MAX_RETRIES="0",
                         QCMCP_AUDIT_DB=os.path.join(scratch, "audit.sqlite3"), QCMCP_RATE_LIMIT="1000000/60", **extra)


def bare_server(transport: httpx.AsyncBaseTransport):
    """The same server without the operations layer: no metrics or limits middleware, no-op client hooks."""
    real = wiring._operations
    wiring._operations = lambda *args, **kwargs: dataclasses.replace(real(*args, **kwargs), upstream=NoHooks())
    try:
        server = build_server(settings(), transport=transport)
    finally:
        wiring._operations = real
    server.middleware[:] = [m for m in server.middleware if not isinstance(m, MetricsMiddleware | LimitsMiddleware)]
    return server


async def per_call_overhead(calls: int, block: int) -> tuple[list[float], list[float]]:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=ANSWER))
    full, bare = build_server(settings(), transport=transport), bare_server(transport)
    timings: dict[str, list[float]] = {"full": [], "bare": []}
    async with Client(full) as with_ops, Client(bare) as without:
        for client in (with_ops, without):
            for _ in range(50):  # warm up validators, pools and metric children
                await client.call_tool("read_account", {})
        for _ in range(calls // block):
            for name, client in (("full", with_ops), ("bare", without)):
                for _ in range(block):
                    started = time.perf_counter()
                    await client.call_tool("read_account", {})
                    timings[name].append(time.perf_counter() - started)
    return timings["full"], timings["bare"]


async def cache_saving(calls: int, latency: float) -> tuple[list[float], list[float]]:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(latency)
        return httpx.Response(200, json=ANSWER)

    transport = httpx.MockTransport(slow)
    results = []
    for cache in ("on", "off"):
        server = build_server(settings(QCMCP_CACHE=cache), transport=transport)
        timings = []
        async with Client(server) as client:
            await client.call_tool("read_lean_versions", {})
            for _ in range(calls):
                started = time.perf_counter()
                await client.call_tool("read_lean_versions", {})
                timings.append(time.perf_counter() - started)
        results.append(timings)
    return results[0], results[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()

    full, bare = await per_call_overhead(args.calls, args.block)
    print(f"per call, read_account through an MCP session against an in-process mock API ({len(full)} calls each):")
    print(f"  with operations (metrics, limits, breaker, cache hooks)  p50 {pct(full, .5) * 1e3:7.3f} ms   "
          f"p95 {pct(full, .95) * 1e3:7.3f} ms   mean {statistics.mean(full) * 1e3:7.3f} ms")
    print(f"  baseline without them (same process)                     p50 {pct(bare, .5) * 1e3:7.3f} ms   "
          f"p95 {pct(bare, .95) * 1e3:7.3f} ms   mean {statistics.mean(bare) * 1e3:7.3f} ms")
    print(f"  added per call                                           p50 {(pct(full, .5) - pct(bare, .5)) * 1e6:7.1f} µs"
          f"   ({(pct(full, .5) / pct(bare, .5) - 1) * 100:+.1f} %)")
    hit, miss = await cache_saving(min(args.calls, 200), args.latency_ms / 1000)
    print(f"read_lean_versions, API answering after {args.latency_ms:g} ms ({len(hit)} calls each):")
    print(f"  cache on (hits)   p50 {pct(hit, .5) * 1e3:7.3f} ms")
    print(f"  cache off         p50 {pct(miss, .5) * 1e3:7.3f} ms")


if __name__ == "__main__":
    asyncio.run(main())
