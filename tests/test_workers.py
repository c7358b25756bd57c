"""Several HTTP workers on one port (QCMCP_HTTP_WORKERS): the calls spread over them, one scrape sums them, a limit
and the expensive-call slots are counted across them on a real redis-server, a deployment whose workers would
disagree does not start, and stopping the parent stops them all."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from qcmcp.ops.redis_limits import RedisConcurrencyLimiter, connect
from tests.processes import MOCK_API, free_port, wait_for_port
from tests.test_metrics_http import stop
from tests.test_redis_limits import REDIS, redis_url  # noqa: F401 - the fixture
from tests.test_security import raw_tool_call

QCMCP = str(Path(sys.executable).with_name("qcmcp"))
pytestmark = pytest.mark.skipif(REDIS is None and not os.environ.get("CI"), reason="redis-server is absent")


@pytest.fixture(scope="module")
def mock_api():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", MOCK_API, str(port)])
    try:
        wait_for_port(process, port)
        yield f"http://127.0.0.1:{port}/api/v2"
    finally:
        stop(process)


def environment(tmp_path: Path, api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_", "PROMETHEUS_"))}
    env.update(QUANTCONNECT_USER_ID="1", QUANTCONNECT_API_TOKEN="workers-test-token", QUANTCONNECT_API_URL=api_url,
               QCMCP_AUDIT_DB=str(tmp_path / "audit.sqlite3"), QCMCP_SANDBOX_DB=str(tmp_path / "sandbox.sqlite3"),
               QCMCP_CACHE="off", **extra)
    return env


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def workers_of(server: subprocess.Popen, count: int, *, besides: int | None = None) -> list[int]:
    """The worker processes (spawned children running qcmcp), once ``count`` of them are up (none ``besides``)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = [pid for pid in children(server.pid) if pid != besides
                and "spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
        if len(pids) == count:
            return pids
        time.sleep(0.2)
    raise AssertionError("the workers did not start")


def calls_per_worker(worker: int) -> Counter[int]:
    """Tool calls each worker counted, read from the multiprocess metric files their parent set up (a worker's
    environment names the folder)."""
    from prometheus_client.mmap_dict import MmapedDict

    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    folder = next(item.split(b"=", 1)[1].decode() for item in environ if item.startswith(b"PROMETHEUS_MULTIPROC_DIR="))
    counts: Counter[int] = Counter()
    for path in Path(folder).glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            if key.startswith('["qcmcp_tool_calls"'):
                counts[pid] += int(value)
    return counts


def call(port: int) -> str:
    return raw_tool_call(f"http://127.0.0.1:{port}", "unused", "read_account", {}).text


def until_each_serves(port: int, pids: list[int]) -> int:
    """Calls, each on a new connection, until every one of ``pids`` has answered one (bounded); how many it took
    (the kernel hands connections to whichever worker accepts first, so this varies).
    A worker still starting takes none of them: this waits for all to be serving."""
    made, deadline = 0, time.monotonic() + 60
    while time.monotonic() < deadline:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: call(port), range(4)))
        made += 4
        counts = calls_per_worker(pids[0])
        if all(counts.get(pid, 0) > 0 for pid in pids):
            return made
    raise AssertionError(f"not every worker served within a minute: {calls_per_worker(pids[0])}")


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM, and time for the workers' orderly stop (uvicorn's 2 s drain each) before anything is killed."""
    server.terminate()
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def scrape(port: int) -> str:
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text


def sample(text: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


def test_two_workers_share_the_calls_one_scrape_sums_them_and_a_limit_counts_across_both(tmp_path, redis_url,
                                                                                          mock_api):
    port, metrics_port = free_port(), free_port()
    env = environment(tmp_path, mock_api, QCMCP_REDIS_URL=redis_url, QCMCP_RATE_LIMIT="100/3600")
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([QCMCP, "serve", "--transport", "http", "--port", str(port), "--insecure-no-auth",
                               "--workers", "2", "--metrics-port", str(metrics_port)], env=env, stdout=log, stderr=log)
    try:
        wait_for_port(server, port)
        pids = workers_of(server, 2)
        warm = until_each_serves(port, pids)  # both workers are serving: each has answered a call
        assert warm <= 60
        with ThreadPoolExecutor(8) as pool:  # each call on its own connection: the kernel picks a worker for each
            texts = list(pool.map(lambda _: call(port), range(100 - warm + 10)))
        ok = [text for text in texts if '"isError":false' in text]
        refused = [text for text in texts if "Rate limit (429)" in text]
        # One window of 100 calls, whichever worker answered them: the warm-up's and these together.
        assert len(ok) == 100 - warm and len(refused) == 10, texts[:3]
        assert "QCMCP_RATE_LIMIT=100/3600" in refused[0]
        per_worker = calls_per_worker(pids[0])
        assert set(per_worker) == set(pids) and sum(per_worker.values()) == 110
        # The parent only binds and supervises: the server and its event loop (uvloop) live in the workers.
        assert "uvloop" not in Path(f"/proc/{server.pid}/maps").read_text()
        assert all("uvloop" in Path(f"/proc/{pid}/maps").read_text() for pid in pids)
        merged = scrape(metrics_port)  # the parent's listener: the sum over both workers
        assert sample(merged, 'qcmcp_tool_calls_total{outcome="ok",tool="read_account"}') == 100
        assert sample(merged, 'qcmcp_rate_limit_refusals_total{limit="subject"}') == 10
        assert 'pid="' not in merged  # summed, not one series per worker
    finally:
        stop_server(server)
    assert server.returncode == 0
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()], "a worker outlived its parent"


def test_a_worker_that_dies_is_replaced(tmp_path, redis_url, mock_api):
    port = free_port()
    env = environment(tmp_path, mock_api, QCMCP_REDIS_URL=redis_url, QCMCP_RATE_LIMIT="off")
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([QCMCP, "serve", "--transport", "http", "--port", str(port), "--insecure-no-auth",
                               "--workers", "2"], env=env, stdout=log, stderr=log)
    try:
        wait_for_port(server, port)
        first, second = workers_of(server, 2)
        os.kill(first, 9)
        replaced = workers_of(server, 2, besides=first)
        assert second in replaced and first not in replaced
        until_each_serves(port, replaced)  # the new worker answers calls too
    finally:
        stop_server(server)
    assert "an HTTP worker exited" in (tmp_path / "server.log").read_text()


def test_workers_stop_when_their_parent_is_killed_outright(tmp_path, redis_url, mock_api):
    """No orphans holding the port: a parent killed with SIGKILL (an OOM kill, say) takes its workers with it."""
    port = free_port()
    env = environment(tmp_path, mock_api, QCMCP_REDIS_URL=redis_url, QCMCP_RATE_LIMIT="off")
    server = subprocess.Popen([QCMCP, "serve", "--transport", "http", "--port", str(port), "--insecure-no-auth",
                               "--workers", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids = []
    try:
        wait_for_port(server, port)
        pids = workers_of(server, 2)
        until_each_serves(port, pids)
        server.kill()
        server.wait()
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() and b"zombie" not in _state(pid) for pid in pids):
            assert time.monotonic() < deadline, "a worker outlived its killed parent"
            time.sleep(0.2)
    finally:
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, 9)


def _state(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/status").read_bytes().split(b"State:", 1)[1][:20]
    except (OSError, IndexError):
        return b"zombie"


@pytest.mark.parametrize(("extra", "args", "message"), [
    ({}, (), "QCMCP_HTTP_WORKERS=2 needs QCMCP_REDIS_URL"),
    ({"QCMCP_REDIS_URL": "redis://127.0.0.1:1/0", "QCMCP_HTTP_STATELESS": "off"}, (),
     "needs stateless streamable HTTP"),
    ({"QCMCP_REDIS_URL": "redis://127.0.0.1:1/0", "QCMCP_BACKEND": "sandbox"}, (), "the sandbox runs"),
    ({}, ("--transport", "stdio"), "--workers is for --transport http"),
    ({"QCMCP_REDIS_URL": "redis://127.0.0.1:1/0"}, ("--host", "0.0.0.0"), "Refusing --insecure-no-auth"),
    # found by the workers themselves, as they build the server: the parent stops them all, exit code 2
    ({"QCMCP_REDIS_URL": "redis://127.0.0.1:1/0", "QCMCP_TOOLSETS": "nonsense"}, (), "nonsense"),
])
def test_workers_that_would_disagree_do_not_start(tmp_path, mock_api, extra, args, message):
    env = environment(tmp_path, mock_api, **extra)
    done = subprocess.run([QCMCP, "serve", "--transport", "http", "--port", str(free_port()), "--insecure-no-auth",
                           "--workers", "2", *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-500:]
    assert message in done.stderr
    assert "Traceback" not in done.stderr


async def test_expensive_slots_are_counted_across_processes_and_come_back_when_a_holder_dies(redis_url):
    key = f"expensive:test-{uuid.uuid4().hex}"
    first, second = connect(redis_url), connect(redis_url)
    one, other = RedisConcurrencyLimiter(first, lease_seconds=3), RedisConcurrencyLimiter(second, lease_seconds=3)
    try:
        held = [await one.acquire(key, 2), await other.acquire(key, 2)]
        assert all(held)
        assert await one.acquire(key, 2) is None and await other.acquire(key, 2) is None  # two of two, both sides
        await asyncio.sleep(4.0)  # longer than a lease: renewals keep both held
        assert await other.acquire(key, 2) is None
        await one.release(key, held[0])
        again = await other.acquire(key, 2)
        assert again is not None
        await other.aclose()  # ``other`` "dies": its two leases are no longer renewed
        await asyncio.sleep(3.5)
        taken = [await one.acquire(key, 2), await one.acquire(key, 2)]
        assert all(taken)  # both came back by themselves
        for slot in taken:
            await one.release(key, slot)
    finally:
        await one.aclose()
        await first.aclose()
        await second.aclose()


async def test_expensive_slots_stay_capped_in_this_process_while_redis_is_unreachable():
    client = connect(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    limiter = RedisConcurrencyLimiter(client)
    try:
        slot = await limiter.acquire("expensive:t", 1)
        assert slot is not None
        assert await limiter.acquire("expensive:t", 1) is None
        await limiter.release("expensive:t", slot)
        assert await limiter.acquire("expensive:t", 1) is not None
    finally:
        await limiter.aclose()
        await client.aclose()
