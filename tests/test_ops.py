"""Operations: metrics with bounded labels, this server's own limits, the circuit breaker, QuantConnect's 429s
and the read cache — through real MCP sessions where the behaviour is the server's, with injected clocks where
it depends on time (no test sleeps or measures time)."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import httpx
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from qcmcp.caller import Caller, reset_current_caller, set_current_caller
from qcmcp.config import ConfigurationError, load_settings
from qcmcp.ops.breaker import CircuitBreaker, Cooldown
from qcmcp.ops.cache import MemoryReadCache
from qcmcp.ops.limits import LimitsMiddleware, MemoryRateLimiter
from qcmcp.ops.metrics import Metrics
from qcmcp.ops.rates import Rate
from qcmcp.ops.upstream import Upstream
from qcmcp.qc.client import Credentials, QuantConnectClient
from qcmcp.qc.errors import NotSentError, TransportError
from qcmcp.security.audit import open_audit_log
from qcmcp.server import build_server
from qcmcp.tools.catalog import CATALOG
from tests.conftest import Recorder
from tests.test_policy import OPTIMIZATION


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sample(server, name: str, **labels: str) -> float:
    return server.qcmcp_metrics.registry.get_sample_value(name, labels) or 0.0


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "organizationId": "org-1", "creditBalance": 5.0,
                                     "card": None, "versions": [], "projects": []})


def sandbox_settings(tmp_path, **extra):
    return load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"),
                         **extra)


# --- metrics -----------------------------------------------------------------------------------------------------


async def test_tool_calls_and_upstream_requests_are_counted_per_tool_endpoint_and_outcome(settings):
    recorder = Recorder(ok)
    server = build_server(settings, transport=recorder.transport)
    async with Client(server) as client:
        await client.call_tool("read_account", {})
        await client.call_tool("read_account", {})
        bad = await client.call_tool("read_project", {"projectId": "not a number"}, raise_on_error=False)
    assert bad.is_error
    assert sample(server, "qcmcp_tool_calls_total", tool="read_account", outcome="ok") == 2
    assert sample(server, "qcmcp_tool_calls_total", tool="read_project", outcome="invalid_arguments") == 1
    assert sample(server, "qcmcp_tool_call_duration_seconds_count", tool="read_account") == 2
    assert sample(server, "qcmcp_upstream_requests_total", endpoint="/account/read", status="200") == 2
    assert sample(server, "qcmcp_upstream_request_duration_seconds_count", endpoint="/account/read") == 2


async def test_labels_come_from_closed_sets_never_from_callers(settings):
    """A tool the server does not serve, and an endpoint outside the spec, become 'other'; no label carries
    a subject, tenant or argument."""
    metrics = Metrics(tools=["read_account"], endpoints=["/account/read"])
    metrics.observe_tool("made_up_tool_name_from_a_client", "refused", 0.01)
    metrics.observe_upstream("/projects/read?id=12345", 200, 0.01)
    text = metrics.render()[0].decode()
    assert "made_up_tool_name" not in text and "12345" not in text
    assert 'qcmcp_tool_calls_total{outcome="refused",tool="other"} 1.0' in text
    assert 'qcmcp_upstream_requests_total{endpoint="other",status="200"} 1.0' in text


async def test_qcc_committed_and_upstream_errors(settings):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/optimizations/create"):
            return httpx.Response(200, json={"success": True, "optimizations": [{"optimizationId": "O-1"}]})
        return httpx.Response(503, text="down")

    server = build_server(settings, transport=Recorder(answer).transport)
    arguments = {**OPTIMIZATION, "estimatedCost": 2.5}
    async with Client(server) as client:
        result = await client.call_tool("create_optimization", arguments, raise_on_error=False)
        assert not result.is_error, result.content[0].text
        assert (await client.call_tool("read_account", {}, raise_on_error=False)).is_error
    assert sample(server, "qcmcp_qcc_committed_total") == 2.5
    assert sample(server, "qcmcp_tool_calls_total", tool="read_account", outcome="TransportError") == 1
    assert sample(server, "qcmcp_upstream_requests_total", endpoint="/account/read", status="503") == 1


async def test_retries_are_counted_by_endpoint_and_reason(settings):
    answers = iter([httpx.Response(502, text="bad gateway"), httpx.Response(200, json={"success": True})])
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    metrics = Metrics(endpoints=["/account/read"])
    client = QuantConnectClient(Credentials("1", "t"), base_url="https://qc.test/api/v2", max_retries=2,
                                transport=httpx.MockTransport(lambda r: next(answers)), sleep=no_sleep,
                                hooks=Upstream(metrics=metrics))
    await client.post("/account/read", idempotent=True)
    await client.aclose()
    assert metrics.registry.get_sample_value("qcmcp_upstream_retries_total",
                                             {"endpoint": "/account/read", "reason": "HTTP 502"}) == 1
    assert len(sleeps) == 1


# --- this server's limits ----------------------------------------------------------------------------------------


async def test_the_rate_limit_refuses_with_when_to_retry_and_is_audited(tmp_path):
    settings = sandbox_settings(tmp_path, QCMCP_RATE_LIMIT="3/3600")
    server = build_server(settings)
    async with Client(server) as client:
        for _ in range(3):
            await client.call_tool("read_account", {})
        with pytest.raises(ToolError) as refused:
            await client.call_tool("list_projects", {})
    message = str(refused.value)
    assert "Rate limit (429)" in message and "QCMCP_RATE_LIMIT=3/3600" in message and "retry after 3600 s" in message
    assert sample(server, "qcmcp_rate_limit_refusals_total", limit="subject") == 1
    assert sample(server, "qcmcp_tool_calls_total", tool="list_projects", outcome="rate_limited") == 1
    rows = open_audit_log(str(tmp_path / "a.sqlite3")).rows(tool="list_projects")
    assert [row["outcome"] for row in rows] == ["error"] and "Rate limit" in rows[0]["error"]


def context(name: str) -> SimpleNamespace:
    return SimpleNamespace(message=SimpleNamespace(name=name, arguments={}), method="tools/call")


async def call_as(middleware: LimitsMiddleware, caller: Caller, name: str = "read_account", call_next=None):
    async def done(_):
        return "done"

    token = set_current_caller(caller)
    try:
        return await middleware.on_call_tool(context(name), call_next or done)
    finally:
        reset_current_caller(token)


async def test_subject_and_tenant_windows_slide_and_say_when_to_retry():
    clock = Clock()
    limits = LimitsMiddleware(limiter=MemoryRateLimiter(clock), subject_rate=Rate(2, 60), tenant_rate=Rate(3, 60))
    alice, bob = Caller("alice", "acme", token=True), Caller("bob", "acme", token=True)
    other = Caller("carol", "globex", token=True)
    assert await call_as(limits, alice) == "done"
    clock.now += 10
    assert await call_as(limits, alice) == "done"
    with pytest.raises(ToolError, match=r"this agent has made 2 calls in the last 60 s .*retry after 50 s"):
        await call_as(limits, alice)
    assert await call_as(limits, bob) == "done"  # the tenant's third call
    with pytest.raises(ToolError, match=r"your tenant's agents together have made 3 calls .*retry after 50 s"):
        await call_as(limits, bob)
    assert await call_as(limits, other) == "done"  # another tenant is not affected
    clock.now += 50  # alice's first call leaves the window: one call free for the subject and the tenant
    assert await call_as(limits, alice) == "done"
    with pytest.raises(ToolError, match="retry after 10 s"):
        await call_as(limits, alice)


async def test_refused_calls_do_not_use_up_the_window():
    clock = Clock()
    limits = LimitsMiddleware(limiter=MemoryRateLimiter(clock), subject_rate=Rate(1, 60), tenant_rate=None)
    caller = Caller("alice", "acme", token=True)
    await call_as(limits, caller)
    for _ in range(5):
        with pytest.raises(ToolError):
            await call_as(limits, caller)
    clock.now += 60
    assert await call_as(limits, caller) == "done"


async def test_expensive_calls_are_capped_per_tenant_while_they_run():
    limits = LimitsMiddleware(limiter=MemoryRateLimiter(), subject_rate=None, tenant_rate=None,
                              expensive=frozenset({"create_backtest"}), max_expensive=1, metrics=Metrics())
    release = asyncio.Event()

    async def slow(_):
        await release.wait()
        return "finished"

    acme, globex = Caller("alice", "acme", token=True), Caller("carol", "globex", token=True)
    running = asyncio.create_task(call_as(limits, acme, "create_backtest", slow))
    await asyncio.sleep(0)
    assert limits.metrics.expensive_in_flight._value.get() == 1
    with pytest.raises(ToolError, match=r"Too busy \(429\).*retry after one finishes"):
        await call_as(limits, acme, "create_backtest")
    assert await call_as(limits, acme, "read_account") == "done"  # cheap calls are not capped
    assert await call_as(limits, globex, "create_backtest") == "done"  # nor other tenants
    release.set()
    assert await running == "finished"
    assert await call_as(limits, acme, "create_backtest") == "done"
    assert limits.metrics.refusals.labels("concurrency")._value.get() == 1


def test_bad_limit_settings_stop_start_up_with_one_line():
    for name, value in [("QCMCP_RATE_LIMIT", "lots"), ("QCMCP_TENANT_RATE_LIMIT", "5/0"), ("QCMCP_BREAKER", "x/1"),
                        ("QCMCP_CACHE", "sometimes"), ("QCMCP_MAX_CONCURRENT_EXPENSIVE", "-1"),
                        ("QCMCP_METRICS_PORT", "70000"), ("QCMCP_METRICS_TOKEN", "short")]:
        with pytest.raises(ConfigurationError) as error:
            load_settings(**{name: value})
        assert name in str(error.value) and "\n" not in str(error.value)
    assert Rate.parse("off", "X") is None and Rate.parse("120/60", "X") == Rate(120, 60.0)


# --- circuit breaker and QuantConnect's own 429s -----------------------------------------------------------------


async def test_the_breaker_fails_fast_while_the_api_is_down(settings):
    recorder = Recorder(lambda request: httpx.Response(503, text="down"))
    server = build_server(settings.model_copy(update={"breaker": "2/30"}), transport=recorder.transport)
    async with Client(server) as client:
        for _ in range(2):
            first = await client.call_tool("read_account", {}, raise_on_error=False)
            assert "HTTP 503" in first.content[0].text
        fast = await client.call_tool("list_projects", {}, raise_on_error=False)
    assert len(recorder.requests) == 2  # the third call never reached the API
    text = fast.content[0].text
    assert "the QuantConnect API is failing (2 failed attempts in a row, last: HTTP 503)" in text
    assert "Nothing was sent; retry after 30 s" in text
    assert sample(server, "qcmcp_upstream_refusals_total", reason="breaker-open") == 1
    assert sample(server, "qcmcp_circuit_breaker_open") == 1
    assert sample(server, "qcmcp_tool_calls_total", tool="list_projects", outcome="NotSentError") == 1


def test_the_breaker_lets_one_trial_through_after_the_reset_time():
    clock = Clock()
    breaker = CircuitBreaker(failures=2, reset_seconds=30, clock=clock)
    breaker.record(False, "HTTP 503")
    assert breaker.refusal() is None  # one failure is not enough
    breaker.record(False, "HTTP 503")
    assert breaker.state == "open" and breaker.refusal() == 30
    clock.now += 30
    assert breaker.refusal() is None  # the trial call
    assert breaker.refusal() == 1.0  # others wait for its outcome
    breaker.record(False, "no answer")
    assert breaker.state == "open" and breaker.refusal() == 30  # failed trial: open again
    clock.now += 30
    assert breaker.refusal() is None
    breaker.record(True)
    assert breaker.state == "closed" and breaker.refusal() is None


async def test_a_429_holds_back_every_caller_of_the_api(settings):
    """QuantConnect's Retry-After applies to the whole upstream: another tool (another tenant's client even)
    is not sent until it has passed."""
    recorder = Recorder(lambda request: httpx.Response(429, headers={"Retry-After": "120"}, text="slow down"))
    server = build_server(settings, transport=recorder.transport)
    async with Client(server) as client:
        first = await client.call_tool("read_account", {}, raise_on_error=False)
        second = await client.call_tool("list_projects", {}, raise_on_error=False)
    assert "HTTP 429" in first.content[0].text
    assert len(recorder.requests) == 1
    assert "slow down (HTTP 429 with Retry-After)" in second.content[0].text and "retry after 120 s" in \
        second.content[0].text
    assert sample(server, "qcmcp_upstream_refusals_total", reason="retry-after") == 1


async def test_a_retry_after_longer_than_a_call_may_wait_is_said_not_slept_through():
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    answers = iter([httpx.Response(429, headers={"Retry-After": "600"}), httpx.Response(429, headers={"Retry-After": "2"}),
                    httpx.Response(200, json={"success": True})])
    client = QuantConnectClient(Credentials("1", "t"), base_url="https://qc.test", max_retries=3, sleep=sleep,
                                transport=httpx.MockTransport(lambda request: next(answers)))
    with pytest.raises(TransportError, match=r"HTTP 429 \(rate limited; retry after 600 s\)"):
        await client.post("/account/read", idempotent=True)
    assert sleeps == []
    assert (await client.post("/account/read", idempotent=True))["success"] is True  # a short one is waited out
    assert sleeps == [2.0]
    await client.aclose()


async def test_a_short_retry_after_is_waited_out_not_refused():
    clock, waited = Clock(), []
    cooldown = Cooldown(clock)

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        clock.now += seconds

    upstream = Upstream(cooldown=cooldown, sleep=sleep)
    cooldown.hold(2.0)
    await upstream.before_attempt("/account/read")
    assert waited == [2.0]
    cooldown.hold(60.0)
    with pytest.raises(NotSentError, match="retry after 60 s"):
        await upstream.before_attempt("/account/read")


# --- read cache --------------------------------------------------------------------------------------------------


def backtest_api(status: str):
    state = {"status": status, "name": "first"}

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/backtests/update"):
            state["name"] = json.loads(request.content)["name"]
            return httpx.Response(200, json={"success": True})
        completed = state["status"] == "Completed."
        return httpx.Response(200, json={"success": True, "backtest": {
            "backtestId": "b-1", "projectId": 1, "name": state["name"], "status": state["status"],
            "completed": completed, "progress": 1.0 if completed else 0.5}})

    return answer


async def test_a_finished_backtest_is_read_once_until_it_is_updated(settings):
    recorder = Recorder(backtest_api("Completed."))
    server = build_server(settings, transport=recorder.transport)
    arguments = {"projectId": 1, "backtestId": "b-1"}
    async with Client(server) as client:
        first = await client.call_tool("read_backtest", arguments)
        second = await client.call_tool("read_backtest", arguments)
        assert first.structured_content == second.structured_content
        await client.call_tool("update_backtest", {**arguments, "name": "renamed"})
        third = await client.call_tool("read_backtest", arguments)
    reads = [r for r in recorder.requests if r.url.path.endswith("/backtests/read")]
    assert len(reads) == 2  # the second read came from the cache, the third after the update went upstream
    assert third.structured_content["backtest"]["name"] == "renamed"
    assert sample(server, "qcmcp_cache_hits_total", endpoint="/backtests/read") == 1
    assert sample(server, "qcmcp_cache_misses_total", endpoint="/backtests/read") == 2


async def test_a_running_backtest_is_never_cached(settings):
    recorder = Recorder(backtest_api("Running: 50%"))
    async with Client(build_server(settings, transport=recorder.transport)) as client:
        for _ in range(3):
            await client.call_tool("read_backtest", {"projectId": 1, "backtestId": "b-1"})
    assert len(recorder.requests) == 3


async def test_cached_answers_never_cross_credential_sets_and_are_copies():
    cache = MemoryReadCache()
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["Authorization"])
        return httpx.Response(200, json={"success": True, "versions": [{"id": 1}]})

    transport = httpx.MockTransport(answer)
    upstream = Upstream(cache=cache)
    one = QuantConnectClient(Credentials("1", "a"), base_url="https://qc.test", transport=transport, hooks=upstream)
    two = QuantConnectClient(Credentials("2", "b"), base_url="https://qc.test", transport=transport, hooks=upstream)
    mine = await one.post("/lean/versions/read", idempotent=True)
    mine["versions"].clear()  # a caller changing its answer changes nothing in the cache
    assert (await one.post("/lean/versions/read", idempotent=True))["versions"] == [{"id": 1}]
    await two.post("/lean/versions/read", idempotent=True)
    assert len(calls) == 2 and calls[0] != calls[1]
    for client in (one, two):
        await client.aclose()


def test_cache_entries_expire_and_the_cache_stays_bounded():
    clock = Clock()
    cache = MemoryReadCache(max_entries=2, clock=clock)
    cache.put("a", {"v": 1}, ttl=10, tags=["t"])
    clock.now += 10
    assert cache.get("a") is None
    for key in "bcd":
        cache.put(key, {"v": key}, ttl=10, tags=["t"])
    assert len(cache) == 2 and cache.get("b") is None
    cache.invalidate(["t"])
    assert len(cache) == 0


async def test_lean_versions_come_from_the_cache_on_the_sandbox(tmp_path):
    server = build_server(sandbox_settings(tmp_path))
    async with Client(server) as client:
        first = await client.call_tool("read_lean_versions", {})
        second = await client.call_tool("read_lean_versions", {})
    assert first.structured_content == second.structured_content
    assert sample(server, "qcmcp_upstream_requests_total", endpoint="/lean/versions/read", status="200") == 1
    assert sample(server, "qcmcp_cache_hits_total", endpoint="/lean/versions/read") == 1


async def test_the_cache_can_be_switched_off(tmp_path):
    server = build_server(sandbox_settings(tmp_path, QCMCP_CACHE="off"))
    async with Client(server) as client:
        for _ in range(2):
            await client.call_tool("read_lean_versions", {})
    assert sample(server, "qcmcp_upstream_requests_total", endpoint="/lean/versions/read", status="200") == 2


def test_every_cached_and_invalidating_endpoint_is_in_the_catalog():
    from qcmcp.ops.cache import READS, WRITES

    endpoints = {spec.endpoint for spec in CATALOG}
    assert set(READS) <= endpoints and set(WRITES) <= endpoints


def test_every_setting_is_documented_in_the_readme():
    """Every environment variable the settings read has a row in the README's configuration table."""
    import re
    from pathlib import Path

    from qcmcp.config import Settings

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    documented = set(re.findall(r"`((?:QCMCP|QUANTCONNECT)_[A-Z_]+)`", readme))
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None) or [alias]
        names.update(str(choice) for choice in choices if str(choice).startswith(("QCMCP_", "QUANTCONNECT_")))
    assert names - documented == set()


def test_sandbox_workers_busy_counts_the_runners_workers(tmp_path):
    from qcmcp.sandbox.live_runner import LiveRunner
    from qcmcp.sandbox.runner import BacktestRunner
    from qcmcp.sandbox.store import SandboxStore
    from qcmcp.server import _watch_workers

    store = SandboxStore(tmp_path / "s.sqlite3")
    backtests, live = BacktestRunner(store), LiveRunner(store)
    metrics = Metrics()
    _watch_workers(metrics, SimpleNamespace(backend=SimpleNamespace(runners=(backtests, live))))
    assert metrics.registry.get_sample_value("qcmcp_sandbox_workers_busy") == 0
    backtests._processes.update({"b-1": object(), "b-2": object()})  # as start() records a worker
    live._processes["d-1"] = object()
    assert backtests.busy == 2 and live.busy == 1
    assert metrics.registry.get_sample_value("qcmcp_sandbox_workers_busy") == 3
    store.close()


def test_doctor_shows_the_operations_settings_without_secrets():
    from qcmcp.doctor import describe_settings

    settings = load_settings(QCMCP_REDIS_URL="redis://:hunter2-redis-password@cache:6379/0",
                             QCMCP_METRICS_TOKEN="a-scrape-token-long-enough")
    rows = dict(describe_settings(settings))
    assert rows["QCMCP_REDIS_URL"] == "redis://:***@cache:6379/0" and rows["QCMCP_METRICS_TOKEN"] == "set (hidden)"
    assert rows["QCMCP_BREAKER"] == "5/30" and rows["QCMCP_RATE_LIMIT"].startswith("auto")
    assert "hunter2" not in repr(rows) and "a-scrape-token" not in repr(rows)
    assert "hunter2-redis-password" in settings.secrets()  # redacted from every log line too
    # A password in the query, and credentials in an OTLP endpoint, are secrets too.
    query = load_settings(QCMCP_REDIS_URL="redis://cache:6379/0?password=query-secret-123",
                          OTEL_EXPORTER_OTLP_ENDPOINT="https://user:otlp-secret-456@collector:4318")
    assert {"query-secret-123", "otlp-secret-456"} <= set(query.secrets())
    shown = dict(describe_settings(query))["QCMCP_REDIS_URL"]
    assert "query-secret-123" not in shown and shown == "redis://cache:6379/0?password=***"
