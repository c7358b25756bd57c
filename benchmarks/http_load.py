"""Streamable HTTP under load: 100 concurrent sessions against a mock QuantConnect API, next to one stdio session.

Three processes besides the benchmark itself: a mock API (a few lines of asyncio answering every POST with the same
``/account/read`` JSON at once, so what is measured is qcmcp itself), ``qcmcp serve --transport http``, and the load
generator: 100 real MCP sessions (initialize, notifications/initialized, ``read_account`` calls for a bounded time,
then DELETE to close the session), each on its own keep-alive connection, written on raw asyncio streams so the
client's own CPU stays small (it shares the machine's cores with the server; its CPU a call is printed too). Printed:
calls/s, p50/p99 latency, errors, the server's CPU per call and its resident memory before, under load and after the
sessions closed; and the same tool over one stdio session of ``qcmcp serve`` in the same run, for the ratio (half its
calls before the HTTP run and half after, as the machine's speed drifts while other work runs on it).

The server runs two HTTP workers by default (``--workers 2``, QCMCP_HTTP_WORKERS: one core each; they share a
redis-server the benchmark starts, and serve stateless HTTP, as QCMCP_HTTP_WORKERS requires); ``--workers 1`` is one
process keeping sessions. Server CPU and memory are the parent's and its workers' together.

Usage: uv run --locked python benchmarks/http_load.py [--sessions 100] [--seconds 20] [--stdio-calls 2000] [--json]
       [--stateless] [--workers 2]
(--json serves with QCMCP_HTTP_JSON_RESPONSE=true: one JSON body per request, no event stream ever;
--stateless with QCMCP_HTTP_STATELESS=on: no session kept between requests)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.processes import MOCK_API, free_port, wait_for_port  # noqa: E402

QCMCP = str(Path(sys.executable).with_name("qcmcp"))
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "load", "version": "1"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
CALL = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "read_account", "arguments": {}}}


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and of its live children (uvicorn workers, if any)."""
    total = 0.0
    for stat in [Path(f"/proc/{pid}/stat"), *_children(pid)]:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[Path]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(stat)
        except (OSError, ValueError, IndexError):
            continue
    return found


def rss_mib(pid: int) -> float:
    """Resident memory of a process and of its live children (the HTTP workers, with --workers)."""
    total = 0.0
    for stat in [Path(f"/proc/{pid}/stat"), *_children(pid)]:
        try:
            status = (stat.parent / "status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0)
    return total


def environment(tmp: Path, api_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
    env.update(QUANTCONNECT_USER_ID="1", QUANTCONNECT_API_TOKEN="load-test-token",
               QUANTCONNECT_API_URL=f"http://127.0.0.1:{api_port}/api/v2", QCMCP_AUDIT_DB=str(tmp / "audit.sqlite3"),
               QCMCP_RATE_LIMIT="off", QCMCP_CACHE="off", QCMCP_LOG_LEVEL="WARNING")
    return env


class Connection:
    """One keep-alive HTTP/1.1 connection: a request out, its answer (Content-Length or chunked) back."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(self, method: str, message: dict | None, session: str | None) -> tuple[int, dict, bytes]:
        body = json.dumps(message).encode() if message is not None else b""
        head = (f"{method} /mcp HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\ncontent-type: application/json\r\n"
                f"accept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-06-18\r\n"
                + (f"mcp-session-id: {session}\r\n" if session else "") + f"content-length: {len(body)}\r\n\r\n")
        self.writer.write(head.encode() + body)
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])
                   if name}
        if "content-length" in headers:
            data = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append((await self.reader.readexactly(size + 2))[:-2])
            await self.reader.readuntil(b"\r\n")
            data = b"".join(parts)
        else:
            data = b""
        return int(lines[0].split(" ", 2)[1]), headers, data

    def close(self) -> None:
        self.writer.close()


async def session(port: int, until: float, latencies: list[float], errors: list[str]) -> None:
    """One MCP session on its own connection: initialize, initialized, calls until ``until``, then DELETE."""
    connection = Connection(port)
    await connection.open()
    try:
        _, headers, _ = await connection.request("POST", INITIALIZE, None)
        session_id = headers.get("mcp-session-id")
        await connection.request("POST", INITIALIZED, session_id)
        while time.monotonic() < until:
            began = time.perf_counter()
            try:
                status, _, data = await connection.request("POST", CALL, session_id)
                if status != 200 or b'"isError":false' not in data:
                    errors.append(f"{status} {data[:100].decode(errors='replace')}")
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                errors.append(type(error).__name__)
                connection.close()
                await connection.open()
            latencies.append(time.perf_counter() - began)
        if session_id:
            await connection.request("DELETE", None, session_id)
    finally:
        connection.close()


async def load(port: int, sessions: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    # Imports and first-call costs out of the way, in every worker: a few sessions at once, on their own connections.
    await asyncio.gather(*(session(port, time.monotonic() + 1.0, [], []) for _ in range(min(sessions, 8))))
    print("warm", flush=True)
    sys.stdin.readline()  # the benchmark has read the server's CPU and memory
    cpu = time.process_time()
    started = time.monotonic()
    await asyncio.gather(*(session(port, started + seconds, latencies, errors) for _ in range(sessions)))
    return {"latencies": latencies, "errors": errors, "elapsed": time.monotonic() - started,
            "client_cpu": time.process_time() - cpu}


def load_client(port: int, sessions: int, seconds: float, results: str) -> None:
    """The load generator's own process (``--load-client``): the results as JSON in the file ``results``."""
    try:
        import uvloop

        result = uvloop.run(load(port, sessions, seconds))
    except ImportError:
        result = asyncio.run(load(port, sessions, seconds))
    Path(results).write_text(json.dumps(result))


def http_load(env: dict[str, str], sessions: int, seconds: float, api_pid: int, tmp: Path,
              workers: int) -> dict[str, float]:
    port, results = free_port(), tmp / "load.json"
    server = subprocess.Popen([QCMCP, "serve", "--transport", "http", "--port", str(port), "--insecure-no-auth",
                               "--workers", str(workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(server, port)
        if workers > 1:
            time.sleep(5.0)  # the parent listens at once; let the workers finish starting
        client = subprocess.Popen([sys.executable, __file__, "--load-client", str(port), str(sessions), str(seconds),
                                   str(results)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert client.stdin and client.stdout
        assert client.stdout.readline().strip() == "warm"
        rss_before, cpu_before, api_before = rss_mib(server.pid), cpu_seconds(server.pid), cpu_seconds(api_pid)
        client.stdin.write("go\n")
        client.stdin.flush()
        peak = rss_before
        while client.poll() is None:
            peak = max(peak, rss_mib(server.pid))
            time.sleep(0.25)
        cpu, api_cpu = cpu_seconds(server.pid) - cpu_before, cpu_seconds(api_pid) - api_before
        assert client.returncode == 0, "the load generator failed"
        result = json.loads(results.read_text())
        time.sleep(3.0)  # sessions closed: does the memory come back?
        rss_after = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    latencies, errors = result["latencies"], result["errors"]
    calls = max(len(latencies), 1)
    ordered = sorted(latencies) or [0.0]
    return {"calls": len(latencies), "rate": len(latencies) / result["elapsed"],
            "p50": statistics.median(ordered) * 1000,
            "p99": ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000, "errors": len(errors),
            "cpu_ms": cpu / calls * 1000, "client_ms": result["client_cpu"] / calls * 1000,
            "api_ms": api_cpu / calls * 1000, "rss_before": rss_before, "rss_peak": peak, "rss_after": rss_after,
            "error_kinds": sorted(set(errors))[:3]}


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    """A private redis-server on 127.0.0.1 for the workers' shared state (QCMCP_HTTP_WORKERS needs one)."""
    executable = shutil.which("redis-server")
    if executable is None:
        sys.exit("--workers above 1 needs redis-server (apt-get install redis-server), or pass --workers 1")
    port = free_port()
    process = subprocess.Popen([executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no", "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(process, port)
    return process, f"redis://127.0.0.1:{port}/0"


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
    if sys.argv[1:2] == ["--load-client"]:
        load_client(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--stdio-calls", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--stateless", action="store_true")
    parser.add_argument("--workers", type=int, default=2, help="HTTP worker processes (more than one starts a "
                        "redis-server for them to share, as QCMCP_HTTP_WORKERS requires)")
    args = parser.parse_args()
    api_port = free_port()
    api = subprocess.Popen([sys.executable, "-c", MOCK_API, str(api_port)])
    redis = None
    try:
        wait_for_port(api, api_port)
        with tempfile.TemporaryDirectory() as tmp:
            env = environment(Path(tmp), api_port)
            if args.workers > 1:
                redis, env["QCMCP_REDIS_URL"] = start_redis(Path(tmp))
            if args.json:
                env["QCMCP_HTTP_JSON_RESPONSE"] = "true"
            if args.stateless:
                env["QCMCP_HTTP_STATELESS"] = "on"
            # stdio before and after HTTP, half the calls each: the machine's speed drifts when other work runs
            stdio_runs = [stdio_cpu_per_call(env, args.stdio_calls // 2)]
            http = http_load(env, args.sessions, args.seconds, api.pid, Path(tmp), args.workers)
            stdio_runs.append(stdio_cpu_per_call(env, args.stdio_calls // 2))
            stdio = statistics.mean(stdio_runs)
    finally:
        api.terminate()
        api.wait(timeout=10)
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
    load = os.getloadavg()[0]
    workers = f"{args.workers} workers" if args.workers > 1 else "one process"
    print(f"HTTP ({workers}), {args.sessions} sessions for {args.seconds:g} s: {http['calls']} calls, {http['rate']:.0f} calls/s "
          f"(goal 600), p50 {http['p50']:.0f} ms, p99 {http['p99']:.0f} ms (goal under 500), {http['errors']} errors"
          + (f" ({'; '.join(http['error_kinds'])})" if http["errors"] else ""))
    print(f"server CPU per call: HTTP {http['cpu_ms']:.2f} ms, stdio {stdio:.2f} ms "
          f"({stdio_runs[0]:.2f} before HTTP, {stdio_runs[1]:.2f} after) "
          f"(ratio {http['cpu_ms'] / stdio:.2f}; goal at most 1.2); load generator {http['client_ms']:.2f} ms, "
          f"mock API {http['api_ms']:.2f} ms a call")
    print(f"server RSS: {http['rss_before']:.0f} MiB before, {http['rss_peak']:.0f} MiB under load, "
          f"{http['rss_after']:.0f} MiB after the sessions closed "
          f"({(http['rss_after'] / http['rss_before'] - 1) * 100:+.0f} %; goal within 10 %)")
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f} at the end (other work on the machine "
          "shares the cores with all four processes)")


if __name__ == "__main__":
    main()
