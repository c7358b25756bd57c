"""sync_project on a 500-file project with 5 files changed, next to a naive sync that sends every file.

Both run in the same process against the in-process sandbox API (the real HTTP API surface, signed requests);
the figures are the API calls each makes and the wall time, and their ratio. The naive sync is what an agent
does without the tool: write every file of the folder with update_file_contents.

Usage: python benchmarks/sync.py [--files 500] [--changed 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from qcmcp.backend import sandbox_credentials
from qcmcp.config import load_settings
from qcmcp.qc.client import QuantConnectClient
from qcmcp.sandbox.app import create_app
from qcmcp.sandbox.store import SandboxStore
from qcmcp.workflows.sync import local_files, sync_project


class CountingApi:
    """The API client, counting calls."""

    def __init__(self, client: QuantConnectClient) -> None:
        self.client, self.calls = client, 0

    async def post(self, endpoint: str, payload: dict[str, Any] | None = None, *, idempotent: bool) -> dict[str, Any]:
        self.calls += 1
        return await self.client.post(endpoint, payload, idempotent=idempotent)


def make_project(folder: Path, files: int) -> None:
    (folder / "modules").mkdir(parents=True)
    (folder / "main.py").write_text("from AlgorithmImports import *\n\nclass A(QCAlgorithm):\n    pass\n")
    for index in range(files - 1):
        (folder / "modules" / f"module_{index:03d}.py").write_text(f"VALUE_{index} = {index}\n" * 20)


async def naive_sync(api: CountingApi, project_id: int, folder: Path) -> None:
    for name, content in local_files(folder).items():
        await api.post("/files/update", {"projectId": project_id, "name": name, "content": content}, idempotent=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--changed", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="qcmcp-sync-bench-"))
    store = SandboxStore(scratch / "sandbox.sqlite3")
    credentials = sandbox_credentials(store, load_settings())
    app = create_app(store, "http://sandbox.bench")
    client = QuantConnectClient(credentials, base_url="http://sandbox.bench/api/v2",
                                transport=httpx.ASGITransport(app=app))
    folder = scratch / "Big Project"
    make_project(folder, args.files)
    setup = CountingApi(client)
    project_id = (await sync_project(setup, folder))["projectId"]  # create, link and push everything once
    ours, naive, our_calls, naive_calls = [], [], 0, 0
    for round_ in range(args.repeat):
        for index in range(args.changed):
            path = folder / "modules" / f"module_{index * 7:03d}.py"
            path.write_text(path.read_text() + f"# change {round_}\n")
        counted = CountingApi(client)
        started = time.perf_counter()
        result = await sync_project(counted, folder)
        ours.append(time.perf_counter() - started)
        assert len(result["pushed"]) == args.changed, result
        our_calls = counted.calls
        counted = CountingApi(client)
        started = time.perf_counter()
        await naive_sync(counted, project_id, folder)
        naive.append(time.perf_counter() - started)
        naive_calls = counted.calls
    await client.aclose()
    app.state.runner.close()
    store.close()
    ours_s, naive_s = statistics.median(ours), statistics.median(naive)
    print(f"project: {args.files} files, {args.changed} changed (median of {args.repeat} rounds)")
    print(f"  sync_project          {our_calls:4d} API calls   {ours_s * 1000:8.1f} ms")
    print(f"  baseline: naive sync  {naive_calls:4d} API calls   {naive_s * 1000:8.1f} ms")
    print(f"sync: {naive_calls / our_calls:.0f}x fewer API calls, {naive_s / ours_s:.1f}x faster than sending every file")


if __name__ == "__main__":
    asyncio.run(main())
