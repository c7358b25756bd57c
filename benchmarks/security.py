"""What the multi-tenant security layers cost per call.

1. Per call through an MCP session against an in-process mock API: the server with an agent
   policy file (re-checked on every call) next to the same server without one (baseline).
2. Credential lookup: a vault read (SQLite query + Fernet decrypt + tenant check) next to the
   tenant directory's cached answer, which is what a call normally pays.

Usage: python benchmarks/security.py [--calls 400]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.gateway import Gateway
from qcmcp.qc.client import Credentials
from qcmcp.security.vault import CredentialVault, new_key, parse_keys
from qcmcp.server import build_server

ANSWER = {"projects": [{"projectId": 1, "organizationId": "o", "name": "P", "modified": "2024-01-01 00:00:00",
                        "created": "2024-01-01 00:00:00", "ownerId": 1, "language": "Py"}],
          "versions": [], "success": True}
POLICY = """
defaults:
  deny_tools: [delete_*]
subjects:
  local:
    allow_tools: [read_*, list_*]
    projects: [1, 2, 3]
    organizations: [o]
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def per_call(calls: int, policy_file: str | None) -> list[float]:
    scratch = tempfile.mkdtemp(prefix="qcmcp-bench-")
    settings = load_settings(QUANTCONNECT_USER_ID="1", QUANTCONNECT_API_TOKEN="bench-token", QCMCP_MAX_RETRIES=0,
                             QCMCP_AUDIT_DB=os.path.join(scratch, "audit.sqlite3"), QCMCP_POLICY_FILE=policy_file)
    server = build_server(settings, transport=httpx.MockTransport(lambda r: httpx.Response(200, json=ANSWER)))
    timings: list[float] = []
    async with Client(server) as client:
        for _ in range(50):
            await client.call_tool("read_project", {"projectId": 1})
        for _ in range(calls):
            started = time.perf_counter()
            await client.call_tool("read_project", {"projectId": 1})
            timings.append(time.perf_counter() - started)
    return timings


def lookups(count: int) -> tuple[list[float], list[float]]:
    scratch = Path(tempfile.mkdtemp(prefix="qcmcp-bench-"))
    vault = CredentialVault(f"sqlite:///{scratch / 'vault.sqlite3'}", parse_keys(new_key()))
    for index in range(100):
        vault.add(f"tenant-{index}", Credentials(str(1000 + index), f"token-{index}"))
    gateway = Gateway(load_settings(QCMCP_BACKEND="cloud"), vault=vault)
    raw, cached = [], []
    for index in range(count):
        started = time.perf_counter()
        vault.get(f"tenant-{index % 100}")
        raw.append(time.perf_counter() - started)
    gateway.tenant_account("tenant-7")
    for _ in range(count):
        started = time.perf_counter()
        gateway.tenant_account("tenant-7")
        cached.append(time.perf_counter() - started)
    return raw, cached


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    policy = Path(tempfile.mkdtemp(prefix="qcmcp-bench-")) / "policy.yaml"
    policy.write_text(POLICY)
    bare, guarded = [], []
    for _ in range(2):  # interleaved so machine noise hits both
        bare += await per_call(args.calls // 2, None)
        guarded += await per_call(args.calls // 2, str(policy))
    print(f"per call, read_project through an MCP session ({args.calls} calls each):")
    print(f"  with agent policy      p50 {pct(guarded, .5) * 1000:7.3f} ms   p95 {pct(guarded, .95) * 1000:7.3f} ms")
    print(f"  baseline: no policy    p50 {pct(bare, .5) * 1000:7.3f} ms   p95 {pct(bare, .95) * 1000:7.3f} ms")
    print(f"  policy adds            p50 {(pct(guarded, .5) - pct(bare, .5)) * 1000:7.3f} ms   "
          f"ratio {pct(guarded, .5) / pct(bare, .5):.2f}x")
    raw, cached = lookups(2000)
    print("tenant credential lookup (100 tenants in a SQLite vault, 2000 lookups):")
    print(f"  vault read + decrypt   p50 {pct(raw, .5) * 1e6:7.1f} us   p95 {pct(raw, .95) * 1e6:7.1f} us")
    print(f"  cached (per call)      p50 {pct(cached, .5) * 1e6:7.1f} us   ratio {pct(raw, .5) / pct(cached, .5):.0f}x")


if __name__ == "__main__":
    asyncio.run(main())
