"""Prometheus metrics: what the server did, per tool and per upstream endpoint, with bounded labels.

Label values come only from closed sets handed in by ``server.py``: tool names from the served catalog, endpoints
from the API spec's paths (anything else is counted as ``other``), outcomes from the wrapper's own names. Tenants,
subjects, arguments and ids never become label values, so a scrape can neither grow without bound nor show who
called what. Each server gets its own registry (several servers can live in one process, as the tests do).
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from typing import Any

from fastmcp.server.middleware import Middleware
from fastmcp.tools.base import InputRequiredToolResult
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from qcmcp.ops.workers import MULTIPROCESS_FOLDER, merged_registry

OTHER = "other"
# Seconds: from a cached read (well under a millisecond) to a long backtest run (minutes).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
UPSTREAM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# What the tool wrapper says about the call in progress (a holder the middleware creates per call, so the value
# reaches it even when the tool runs in a copied context).
_outcome: ContextVar[list[str] | None] = ContextVar("qcmcp_call_outcome", default=None)


def report_outcome(outcome: str) -> None:
    """Called by the tool wrapper: the outcome of the call being measured (``ok``, an error class name, …)."""
    holder = _outcome.get()
    if holder is not None:
        holder.append(outcome)


class Metrics:
    """Every metric the server exports, in one registry."""

    def __init__(self, tools: Iterable[str] = (), endpoints: Iterable[str] = ()) -> None:
        disable_created_metrics()  # no *_created series: half the samples, nothing a dashboard here reads
        self.registry = CollectorRegistry(auto_describe=True)
        self.tools = frozenset(tools)
        # Label children by label values (closed sets, so this stays small).
        self._children: dict[tuple[str, str, object], tuple[Any, Any]] = {}
        self.endpoints = frozenset(_path(e) for e in endpoints)
        r = self.registry
        self.tool_calls = Counter("qcmcp_tool_calls", "Tool calls by tool and outcome (ok, rate_limited, too_busy, "
                                  "refused, an error class).",
                                  ["tool", "outcome"], registry=r)
        self.tool_duration = Histogram("qcmcp_tool_call_duration_seconds", "Tool call duration, refusals included.",
                                       ["tool"], buckets=DURATION_BUCKETS, registry=r)
        self.upstream_requests = Counter("qcmcp_upstream_requests", "HTTP requests to the QuantConnect API by endpoint "
                                         "and status (an HTTP status, or 'error' when no answer came).",
                                         ["endpoint", "status"], registry=r)
        self.upstream_duration = Histogram("qcmcp_upstream_request_duration_seconds", "QuantConnect API request "
                                           "duration, one observation per attempt.", ["endpoint"],
                                           buckets=UPSTREAM_BUCKETS, registry=r)
        self.retries = Counter("qcmcp_upstream_retries", "Requests to the QuantConnect API repeated after a failure.",
                               ["endpoint", "reason"], registry=r)
        self.refusals = Counter("qcmcp_rate_limit_refusals", "Tool calls refused by this server's own limits "
                                "(subject or tenant rate, expensive-call concurrency).", ["limit"], registry=r)
        self.upstream_refusals = Counter("qcmcp_upstream_refusals", "API requests not sent: the circuit breaker was "
                                         "open or QuantConnect's Retry-After had not passed.", ["reason"], registry=r)
        self.breaker_state = Gauge("qcmcp_circuit_breaker_open", "1 while the circuit breaker to the QuantConnect "
                                   "API is open (failing fast), else 0.", registry=r, multiprocess_mode="livemax")
        self.cache_hits = Counter("qcmcp_cache_hits", "Reads answered from the read cache.", ["endpoint"], registry=r)
        self.cache_misses = Counter("qcmcp_cache_misses", "Cacheable reads that went to the API.", ["endpoint"],
                                    registry=r)
        self.qcc_committed = Counter("qcmcp_qcc_committed", "QuantConnect credit (QCC) committed by successful calls "
                                     "(create_optimization's estimatedCost).", registry=r)
        self.workers_busy = Gauge("qcmcp_sandbox_workers_busy", "Sandbox algorithm workers running (backtests and "
                                  "paper deployments).", registry=r, multiprocess_mode="livesum")
        self.sessions = Gauge("qcmcp_active_sessions", "MCP sessions open on this process.", registry=r,
                              multiprocess_mode="livesum")
        self.expensive_in_flight = Gauge("qcmcp_expensive_calls_in_flight", "Expensive (slow or QCC) tool calls "
                                         "running.", registry=r, multiprocess_mode="livesum")

    def tool_label(self, name: str) -> str:
        return name if name in self.tools else OTHER

    def endpoint_label(self, endpoint: str) -> str:
        path = _path(endpoint)
        return path if path in self.endpoints else OTHER

    def observe_tool(self, tool: str, outcome: str, seconds: float) -> None:
        label = tool if tool in self.tools else OTHER
        key = ("tool", label, outcome)
        children = self._children.get(key)
        if children is None:  # labels() looks the child up under a lock: done once per label set
            children = self._children[key] = (self.tool_calls.labels(label, outcome),
                                              self.tool_duration.labels(label))
        children[0].inc()
        children[1].observe(seconds)

    def observe_upstream(self, endpoint: str, status: int | None, seconds: float) -> None:
        label = self.endpoint_label(endpoint)
        key = ("endpoint", label, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.upstream_requests.labels(label, str(status) if status is not None else "error"),
                self.upstream_duration.labels(label))
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The exposition (Prometheus text format) and its content type: the sum over all HTTP workers when
        this process is one of several (qcmcp.ops.workers)."""
        folder = os.environ.get(MULTIPROCESS_FOLDER)
        return generate_latest(merged_registry(folder) if folder else self.registry), CONTENT_TYPE_LATEST


def _path(endpoint: str) -> str:
    return "/" + endpoint.strip("/")


class MetricsMiddleware(Middleware):
    """Counts and times every tool call, refusals by guards and limits included (so it runs before them).

    ``qcc_arguments`` names the tools that commit QCC and the argument saying how much.
    """

    def __init__(self, metrics: Metrics, qcc_arguments: dict[str, str] | None = None) -> None:
        self.metrics = metrics
        self.qcc_arguments = qcc_arguments or {}

    async def on_call_tool(self, context: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        name = str(context.message.name)
        holder: list[str] = []
        token = _outcome.set(holder)
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await call_next(context)
            outcome = holder[-1] if holder else ("error" if getattr(result, "is_error", False) else "ok")
            if isinstance(result, InputRequiredToolResult):
                outcome = "input_required"
            elif outcome == "ok":
                self._count_qcc(name, context.message.arguments)
            return result
        except Exception:
            # The wrapper said what went wrong; without a word from it, a guard or limit refused the call first.
            outcome = holder[-1] if holder else "refused"
            raise
        finally:
            _outcome.reset(token)
            self.metrics.observe_tool(name, outcome, time.perf_counter() - started)

    def _count_qcc(self, tool: str, arguments: dict[str, Any] | None) -> None:
        argument = self.qcc_arguments.get(tool)
        if argument is None:
            return
        try:
            amount = float((arguments or {}).get(argument) or 0)
        except (TypeError, ValueError):
            return
        if amount > 0:
            self.metrics.qcc_committed.inc(amount)


def metrics_route(metrics: Metrics, token: str | None) -> Callable[[Any], Awaitable[Any]]:
    """The ``/metrics`` handler. With ``token`` a scrape must send ``Authorization: Bearer <token>``
    (Prometheus: ``authorization: {credentials: …}``); the answer never holds tenants, subjects or secrets."""
    import hmac

    from starlette.requests import Request
    from starlette.responses import Response

    expected = f"Bearer {token}".encode() if token else None

    async def handler(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return Response("metrics need the scrape token (QCMCP_METRICS_TOKEN)\n", status_code=401,
                                headers={"WWW-Authenticate": 'Bearer realm="metrics"'}, media_type="text/plain")
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return handler


class SessionTracker:
    """ASGI middleware for the HTTP transport: remembers the app so ``qcmcp_active_sessions`` can count the
    streamable-HTTP sessions its session manager holds (read when scraped)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app, self.metrics, self._root = app, metrics, None
        metrics.sessions.set_function(self.count)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._root is None and scope.get("type") == "http":
            self._root = scope.get("app")
        await self.app(scope, receive, send)

    def count(self) -> float:
        for route in getattr(self._root, "routes", ()):
            target = getattr(route, "endpoint", None)
            for _ in range(3):  # the MCP endpoint, possibly behind fastmcp's RequireAuthMiddleware
                manager = getattr(target, "session_manager", None)
                if manager is not None:
                    return float(len(getattr(manager, "_server_instances", ())))
                target = getattr(target, "app", None)
        return 0.0


def serve_metrics_port(metrics: Metrics, host: str, port: int) -> Any:
    """A separate listener for ``/metrics`` (``serve --metrics-port``), in a daemon thread; returns the server."""
    from prometheus_client import start_http_server

    server, _ = start_http_server(port, addr=host, registry=metrics.registry)
    return server
