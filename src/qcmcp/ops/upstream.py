"""What every QuantConnect API client reports to and asks of the operations layer: the ``ClientHooks`` of
:mod:`qcmcp.qc.client`, built from metrics, the circuit breaker, the shared ``Retry-After`` and the read cache.
One :class:`Upstream` per upstream (the backend's API), shared by every tenant's pooled client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from qcmcp.ops.breaker import Breaker, Cooldown
from qcmcp.ops.cache import MAX_ENTRY_BYTES, CachePolicy, ReadCache
from qcmcp.ops.metrics import Metrics
from qcmcp.qc.errors import NotSentError

# A Retry-After this short is waited out; a longer one fails the call at once, saying when to retry.
MAX_WAIT_SECONDS = 5.0


def _reason_label(reason: str) -> str:
    if reason.startswith("HTTP "):
        return reason.split(" (")[0]  # "HTTP 503": the retryable statuses are a closed set
    return "timeout" if reason.startswith("no answer") else "connection"


class Upstream:
    def __init__(self, *, metrics: Metrics | None = None, breaker: Breaker | None = None,
                 cooldown: Cooldown | None = None, cache: ReadCache | None = None,
                 policy: CachePolicy | None = None, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 max_wait: float = MAX_WAIT_SECONDS, tracer: Any = None, channel: Any = None) -> None:
        """``tracer``: an :class:`~qcmcp.ops.tracing.UpstreamTracer` when traces are exported; ``channel``: the
        :class:`~qcmcp.ops.redis_cache.ReplicaChannel` through which other replicas' news arrives."""
        self.metrics, self.breaker, self.cooldown, self.cache = metrics, breaker, cooldown, cache
        self.tracer, self.channel = tracer, channel
        self._breaker_was_open = False
        self.policy = policy or CachePolicy()
        self._sleep, self.max_wait = sleep, max_wait

    async def before_attempt(self, endpoint: str) -> None:
        if self.channel is not None:
            self.channel.ensure_listening()  # other replicas' Retry-After reaches this one from the first call on
        if self.cooldown is not None:
            wait = self.cooldown.remaining()
            if wait > self.max_wait:
                self._refused("retry-after")
                raise NotSentError(endpoint, "QuantConnect asked this server to slow down (HTTP 429 with "
                                   "Retry-After).", wait)
            if wait > 0:
                await self._sleep(wait)
        if self.breaker is not None:
            wait_breaker = self.breaker.refusal()
            if wait_breaker is not None:
                self._refused("breaker-open")
                last = getattr(self.breaker, "last_reason", "") or "failures"
                count = getattr(self.breaker, "failures", None)
                raise NotSentError(endpoint, f"the QuantConnect API is failing ({count or 'several'} failed attempts "
                                   f"in a row, last: {last}), so this server is not calling it for a short while.",
                                   wait_breaker)
        if self.tracer is not None:
            self.tracer.start(self.metrics.endpoint_label(endpoint) if self.metrics is not None else "other")

    def after_attempt(self, endpoint: str, status: int | None, seconds: float, retry_after: float | None) -> None:
        if self.tracer is not None:
            self.tracer.end(status)
        if self.metrics is not None:
            self.metrics.observe_upstream(endpoint, status, seconds)
        if status == 429 and self.cooldown is not None:
            self.cooldown.hold(retry_after if retry_after is not None else 1.0)
        if self.breaker is not None:
            failed = status is None or status >= 500
            self.breaker.record(not failed, "no answer" if status is None else f"HTTP {status}" if failed else "")
            if self.metrics is not None and (failed or self._breaker_was_open):
                self._breaker_was_open = self.breaker.state == "open"
                self.metrics.breaker_state.set(1 if self._breaker_was_open else 0)

    def breaker_tripped(self, reason: str) -> None:
        """Another replica's breaker to this upstream opened: open ours, and say so in the gauge."""
        if self.breaker is None:
            return
        self.breaker.trip(reason)
        self._breaker_was_open = True
        if self.metrics is not None:
            self.metrics.breaker_state.set(1)

    def retrying(self, endpoint: str, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.retries.labels(self.metrics.endpoint_label(endpoint), _reason_label(reason)).inc()

    def cached(self, account: str, endpoint: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if self.cache is None or self.policy.rule(endpoint) is None:
            return None
        hit = self.cache.get(self.policy.key(account, endpoint, payload))
        if self.metrics is not None:
            label = self.metrics.endpoint_label(endpoint)
            (self.metrics.cache_hits if hit is not None else self.metrics.cache_misses).labels(label).inc()
        return hit

    def answered(self, account: str, endpoint: str, payload: dict[str, Any], body: dict[str, Any], size: int) -> None:
        rule = self.policy.rule(endpoint) if self.cache is not None else None
        if rule is None or self.cache is None or size > MAX_ENTRY_BYTES or not rule.keep(body):
            return
        self.cache.put(self.policy.key(account, endpoint, payload), body, rule.ttl,
                       self.policy.tags(account, endpoint, payload))

    def written(self, account: str, endpoint: str, payload: dict[str, Any]) -> None:
        if self.cache is not None:
            tags = self.policy.invalidations(account, endpoint, payload)
            if tags:
                self.cache.invalidate(tags)

    def _refused(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.upstream_refusals.labels(reason).inc()
