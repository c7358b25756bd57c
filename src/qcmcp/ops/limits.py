"""This server's own limits: calls per subject and per tenant in a sliding window, and how many expensive calls
(compiles, backtests, optimizations, …) a tenant may have running at once.

A refusal is a tool error that says which limit, and when to retry; it runs after the audit middleware, so every
refusal is audited, and it is counted in ``qcmcp_rate_limit_refusals_total{limit}``. The counters live behind
small interfaces (:class:`RateLimiter`, :class:`ConcurrencyLimiter`) with in-process implementations here; on
Redis (``QCMCP_REDIS_URL``, qcmcp.ops.redis_limits) both count across replicas and workers with the same semantics.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import anyio
from fastmcp.exceptions import ToolError
from fastmcp.server.middleware import Middleware, MiddlewareContext

from qcmcp.caller import LOCAL, current_caller
from qcmcp.ops.metrics import Metrics, report_outcome
from qcmcp.ops.rates import Rate

log = logging.getLogger("qcmcp.ops")
SWEEP_EVERY = 4096  # hits between sweeps of idle keys


class RateLimiter(Protocol):
    async def hit(self, limits: Sequence[tuple[str, Rate]]) -> tuple[int, float] | None:
        """Count one call against every key, or against none: None when every limit allows it, else the index of
        the first limit that refuses and the seconds until it would allow the call."""


class MemoryRateLimiter:
    """Exact sliding windows (the times of the calls in the window, per key), in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._calls: dict[str, tuple[float, deque[float]]] = {}
        self._lock = threading.Lock()
        self._hits = 0

    async def hit(self, limits: Sequence[tuple[str, Rate]]) -> tuple[int, float] | None:
        with self._lock:
            now = self._clock()
            windows = []
            for index, (key, rate) in enumerate(limits):
                _, calls = self._calls.get(key) or (rate.seconds, deque())
                while calls and calls[0] <= now - rate.seconds:
                    calls.popleft()
                if len(calls) >= rate.calls:
                    return index, max(calls[len(calls) - rate.calls] + rate.seconds - now, 0.0)
                windows.append((key, rate, calls))
            for key, rate, calls in windows:
                calls.append(now)
                self._calls[key] = (rate.seconds, calls)
            self._hits += 1
            if self._hits % SWEEP_EVERY == 0:
                self._sweep(now)
            return None

    def _sweep(self, now: float) -> None:
        idle = [key for key, (window, calls) in self._calls.items() if not calls or calls[-1] <= now - window]
        for key in idle:
            del self._calls[key]


class ConcurrencyLimiter(Protocol):
    async def acquire(self, key: str, limit: int) -> object | None:
        """A slot under ``key`` if fewer than ``limit`` are held (what :meth:`release` takes back), else None."""

    async def release(self, key: str, slot: object) -> None: ...


class MemoryConcurrencyLimiter:
    """Slots counted in this process."""

    def __init__(self) -> None:
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    async def acquire(self, key: str, limit: int) -> object | None:
        return self.take(key, limit)

    async def release(self, key: str, slot: object) -> None:
        self.give_back(key)

    def take(self, key: str, limit: int) -> object | None:
        with self._lock:
            if self._running.get(key, 0) >= limit:
                return None
            self._running[key] = self._running.get(key, 0) + 1
            return key

    def give_back(self, key: str) -> None:
        with self._lock:
            left = self._running.get(key, 0) - 1
            if left > 0:
                self._running[key] = left
            else:
                self._running.pop(key, None)

    def running(self) -> int:
        with self._lock:
            return sum(self._running.values())


def _refused(message: str) -> ToolError:
    return ToolError(message, log_level=logging.INFO)


class LimitsMiddleware(Middleware):
    """Per-subject and per-tenant call rates, then the cap on a tenant's expensive calls in flight."""

    def __init__(self, *, limiter: RateLimiter, subject_rate: Rate | None, tenant_rate: Rate | None,
                 expensive: frozenset[str] = frozenset(), max_expensive: int = 0,
                 concurrency: ConcurrencyLimiter | None = None, metrics: Metrics | None = None) -> None:
        self.limiter, self.subject_rate, self.tenant_rate = limiter, subject_rate, tenant_rate
        self.expensive, self.max_expensive = expensive, max_expensive
        self.concurrency = concurrency or MemoryConcurrencyLimiter()
        self.metrics = metrics

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: Any) -> Any:
        caller = current_caller() or LOCAL
        tenant = caller.tenant_label
        name = str(context.message.name)
        limits: list[tuple[str, Rate]] = []
        kinds: list[str] = []
        if self.subject_rate is not None:
            limits.append((f"subject:{tenant}:{caller.subject}", self.subject_rate))
            kinds.append("subject")
        if self.tenant_rate is not None:
            limits.append((f"tenant:{tenant}", self.tenant_rate))
            kinds.append("tenant")
        async with self.expensive_slot(tenant, caller.subject, name):
            refusal = await self.limiter.hit(limits) if limits else None
            if refusal is not None:
                index, retry_after = refusal
                kind, rate = kinds[index], limits[index][1]
                self._count(kind, caller.subject, name)
                report_outcome("rate_limited")
                who = "this agent has" if kind == "subject" else "your tenant's agents together have"
                setting = "QCMCP_RATE_LIMIT" if kind == "subject" else "QCMCP_TENANT_RATE_LIMIT"
                raise _refused(f"Rate limit (429): {who} made {rate.calls} calls in the last {rate.seconds:g} s "
                               f"({setting}={rate}). Nothing was done; retry after "
                               f"{max(1, math.ceil(retry_after))} s.")
            return await call_next(context)

    @asynccontextmanager
    async def expensive_slot(self, tenant: str, subject: str, name: str) -> AsyncIterator[None]:
        """Hold one of the tenant's slots for an expensive call while it runs (refused when none is free); also
        taken by a background task's body, which runs after the call that submitted it has returned."""
        if name not in self.expensive:
            yield
            return
        capped, key = self.max_expensive > 0, f"expensive:{tenant}"
        slot = None
        if capped:
            with anyio.CancelScope(shield=True):  # a cancelled call must not leave a slot taken but unknown
                slot = await self.concurrency.acquire(key, self.max_expensive)
        if capped and slot is None:
            self._count("concurrency", subject, name)
            report_outcome("too_busy")
            raise _refused(f"Too busy (429): {self.max_expensive} expensive calls (compiles, backtests, optimizations, "
                           f"live deployments, reports) are already running for your tenant "
                           f"(QCMCP_MAX_CONCURRENT_EXPENSIVE). Nothing was done; retry after one finishes — try "
                           f"again in 10 s.")
        if self.metrics is not None:
            self.metrics.expensive_in_flight.inc()
        try:
            yield
        finally:
            if self.metrics is not None:
                self.metrics.expensive_in_flight.dec()
            if capped:
                with anyio.CancelScope(shield=True):  # given back even when the call was cancelled
                    await self.concurrency.release(key, slot)

    def _count(self, kind: str, subject: str, tool: str) -> None:
        log.info("limit refused a call", extra={"limit": kind, "subject": subject, "tool": tool})
        if self.metrics is not None:
            self.metrics.refusals.labels(kind).inc()
