"""Rate limits on a real redis-server (started here on 127.0.0.1): one window counted across two `qcmcp serve`
replicas, the same sliding semantics as in memory, and limits still in force when Redis goes away."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from qcmcp.ops.rates import Rate
from tests.processes import free_port, wait_for_port
from tests.test_metrics_http import stop
from tests.test_security import raw_tool_call, start

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None and not os.environ.get("CI"), reason="redis-server is absent "
                                "(apt-get install redis-server; .ci/run installs it, and in CI its absence fails)")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    assert REDIS is not None, "CI must install redis-server (.ci/run)"
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(process, port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(process)


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


async def test_windows_slide_on_redis_as_in_memory(redis_url):
    import uuid

    from qcmcp.ops.redis_limits import RedisRateLimiter

    clock, key = Clock(), f"test:{uuid.uuid4().hex}"
    limiter = RedisRateLimiter.from_url(redis_url, clock=clock)
    try:
        limits = [(f"{key}:subject", Rate(2, 60)), (f"{key}:tenant", Rate(3, 60))]
        assert await limiter.hit(limits) is None
        clock.now += 10
        assert await limiter.hit(limits) is None
        assert await limiter.hit(limits) == (0, 50.0)  # the subject's window is full for another 50 s
        assert await limiter.hit([(f"{key}:other", Rate(2, 60)), limits[1]]) is None  # the tenant's third
        assert await limiter.hit([(f"{key}:other", Rate(2, 60)), limits[1]]) == (1, 50.0)
        clock.now += 50
        assert await limiter.hit(limits) is None  # the first call left both windows
    finally:
        await limiter.aclose()


async def test_limits_stay_in_force_in_this_process_while_redis_is_unreachable():
    from qcmcp.ops.redis_limits import RedisRateLimiter

    limiter = RedisRateLimiter.from_url(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        limits = [("subject:x", Rate(1, 3600))]
        assert await limiter.hit(limits) is None
        refused = await limiter.hit(limits)
        assert refused is not None and refused[0] == 0
    finally:
        await limiter.aclose()


def test_one_limit_is_counted_across_two_replicas(redis_url, tmp_path):
    env = {"QCMCP_REDIS_URL": redis_url, "QCMCP_RATE_LIMIT": "3/3600"}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    first, url_a, _ = start(tmp_path / "a", env, "--insecure-no-auth")
    second, url_b, _ = start(tmp_path / "b", env, "--insecure-no-auth")
    try:
        answers = [raw_tool_call(url, "unused", "read_account", {}) for url in (url_a, url_b, url_a, url_b)]
        texts = [answer.text for answer in answers]
        assert all('"isError":false' in text for text in texts[:3]), texts
        assert "Rate limit (429)" in texts[3] and "QCMCP_RATE_LIMIT=3/3600" in texts[3], texts[3]
    finally:
        stop(first)
        stop(second)


def test_ci_installs_redis_so_these_tests_run_there():
    from pathlib import Path

    assert "packages+=(redis-server)" in (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()


def test_a_bad_redis_url_stops_start_up_with_one_line():
    from qcmcp.config import ConfigurationError, load_settings

    with pytest.raises(ConfigurationError, match="QCMCP_REDIS_URL must be a redis://"):
        load_settings(QCMCP_REDIS_URL="http://cache:6379")


async def test_a_write_through_one_replica_drops_the_cached_answer_on_the_other(redis_url, settings):
    """Two servers sharing one Redis, each with its own cache: updating a finished backtest through replica A makes
    replica B read it afresh (the invalidation travels over Redis pub/sub)."""
    import asyncio

    from fastmcp import Client

    from qcmcp.server import build_server
    from tests.conftest import Recorder
    from tests.test_ops import backtest_api, sample

    recorder = Recorder(backtest_api("Completed."))
    shared = settings.model_copy(update={"redis_url": redis_url})
    replica_a, replica_b = (build_server(shared, transport=recorder.transport) for _ in range(2))
    arguments = {"projectId": 1, "backtestId": "b-1"}
    async with Client(replica_a) as a, Client(replica_b) as b:
        for _ in range(500):  # until B's subscription is live and it answers from its cache (bounded)
            await b.call_tool("read_backtest", arguments)
            if sample(replica_b, "qcmcp_cache_hits_total", endpoint="/backtests/read") >= 1:
                break
            await asyncio.sleep(0.02)
        assert sample(replica_b, "qcmcp_cache_hits_total", endpoint="/backtests/read") >= 1
        await a.call_tool("update_backtest", {**arguments, "name": "renamed"})
        for _ in range(500):  # until the invalidation has reached B (bounded)
            name = (await b.call_tool("read_backtest", arguments)).structured_content["backtest"]["name"]
            if name == "renamed":
                break
            await asyncio.sleep(0.02)
    assert name == "renamed"


async def test_without_redis_a_replica_serves_nothing_from_its_cache(settings):
    """While the invalidation channel is down, answers are not cached (they could miss another replica's write)."""
    from fastmcp import Client

    from qcmcp.server import build_server
    from tests.conftest import Recorder
    from tests.test_ops import backtest_api, sample

    recorder = Recorder(backtest_api("Completed."))
    server = build_server(settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"}),
                          transport=recorder.transport)
    async with Client(server) as client:
        for _ in range(3):
            await client.call_tool("read_backtest", {"projectId": 1, "backtestId": "b-1"})
    assert len(recorder.requests) == 3 and sample(server, "qcmcp_cache_hits_total", endpoint="/backtests/read") == 0


async def test_a_429_on_one_replica_holds_back_the_others(redis_url, settings):
    """QuantConnect's Retry-After, told to replica A, reaches replica B over Redis: B refuses without calling."""
    import asyncio

    import httpx
    from fastmcp import Client

    from qcmcp.server import build_server
    from tests.conftest import Recorder
    from tests.test_ops import ok, sample

    throttled = Recorder(lambda request: httpx.Response(429, headers={"Retry-After": "120"}, text="slow down"))
    healthy = Recorder(ok)
    shared = settings.model_copy(update={"redis_url": redis_url})
    replica_a = build_server(shared, transport=throttled.transport)
    replica_b = build_server(shared, transport=healthy.transport)
    async with Client(replica_a) as a, Client(replica_b) as b:
        await b.call_tool("read_account", {})  # B's first call: its subscription starts
        answered = 1
        for _ in range(500):  # until B listens (bounded)
            if replica_b.qcmcp_operations.channel.live:
                break
            await asyncio.sleep(0.02)
        assert "HTTP 429" in (await a.call_tool("read_account", {}, raise_on_error=False)).content[0].text
        for _ in range(500):  # until the Retry-After has reached B (bounded)
            answer = await b.call_tool("read_account", {}, raise_on_error=False)
            if answer.is_error:
                break
            answered += 1
            await asyncio.sleep(0.02)
    assert "slow down (HTTP 429 with Retry-After)" in answer.content[0].text
    assert len(healthy.requests) == answered  # the refused call never reached B's API
    assert sample(replica_b, "qcmcp_upstream_refusals_total", reason="retry-after") == 1


async def test_a_breaker_opening_on_one_replica_opens_the_others(redis_url, settings):
    """A's breaker opens after QuantConnect failed it; B, whose own calls went well, hears it over Redis and fails
    fast too, without calling, naming A's last failure."""
    import asyncio

    import httpx
    from fastmcp import Client

    from qcmcp.server import build_server
    from tests.conftest import Recorder
    from tests.test_ops import ok, sample

    failing = Recorder(lambda request: httpx.Response(503, text="down"))
    healthy = Recorder(ok)
    shared = settings.model_copy(update={"redis_url": redis_url, "breaker": "2/120"})
    replica_a = build_server(shared, transport=failing.transport)
    replica_b = build_server(shared, transport=healthy.transport)
    async with Client(replica_a) as a, Client(replica_b) as b:
        await b.call_tool("read_account", {})
        answered = 1
        for _ in range(500):  # until B listens (bounded)
            if replica_b.qcmcp_operations.channel.live:
                break
            await asyncio.sleep(0.02)
        for _ in range(3):  # enough failed attempts for A's breaker (2 in a row) to open
            await a.call_tool("read_account", {}, raise_on_error=False)
        assert replica_a.qcmcp_operations.upstream.breaker.state == "open"
        for _ in range(500):  # until the news has reached B (bounded)
            answer = await b.call_tool("read_account", {}, raise_on_error=False)
            if answer.is_error:
                break
            answered += 1
            await asyncio.sleep(0.02)
    assert "the QuantConnect API is failing" in answer.content[0].text and "HTTP 503" in answer.content[0].text
    assert len(healthy.requests) == answered  # the refused call never reached B's API
    assert sample(replica_b, "qcmcp_upstream_refusals_total", reason="breaker-open") == 1
    assert sample(replica_b, "qcmcp_circuit_breaker_open") == 1  # B's gauge says so too
