"""The rate limiter on Redis (``QCMCP_REDIS_URL``): the same exact sliding windows as
:class:`~qcmcp.ops.limits.MemoryRateLimiter`, counted across every replica that shares the Redis.

Each key is a sorted set of call times; one Lua script checks every limit of a call and records the call in all of
them, or in none, atomically, with Redis's own clock (replicas whose clocks differ still agree). When Redis cannot
be reached, the call is counted by this process's own limiter instead (limits stay in force, per replica) and the
log says so once per outage.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as redis

from qcmcp.ops.limits import MemoryRateLimiter
from qcmcp.ops.rates import Rate

log = logging.getLogger("qcmcp.ops")
PREFIX = "qcmcp:rate:"

# KEYS: the windows. ARGV: now in ms ('' = Redis's clock), a unique member, then limit and window (ms) per key.
# Returns {0, 0} when the call was recorded, else {index of the refusing key (1-based), ms until it frees up}.
SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
for i, key in ipairs(KEYS) do
  local limit, window = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    return {i, tonumber(oldest[2]) + window - now}
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, now .. ':' .. ARGV[2])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
end
return {0, 0}
"""


class RedisRateLimiter:
    def __init__(self, client: Any, *, clock: Callable[[], float] | None = None, owned: bool = False) -> None:
        """``client``: a ``redis.asyncio`` client (closed by :meth:`aclose` when ``owned``); ``clock`` (seconds)
        replaces Redis's clock, for tests."""
        self._owned = owned
        self._redis = client
        self._script = self._redis.register_script(SLIDING_WINDOW)
        self._clock = clock
        self._fallback = MemoryRateLimiter()
        self._down = False

    @classmethod
    def from_url(cls, url: str, *, clock: Callable[[], float] | None = None) -> RedisRateLimiter:
        return cls(connect(url), clock=clock, owned=True)

    async def hit(self, limits: Sequence[tuple[str, Rate]]) -> tuple[int, float] | None:
        if not limits:
            return None
        arguments: list[Any] = ["" if self._clock is None else int(self._clock() * 1000), uuid.uuid4().hex]
        for _, rate in limits:
            arguments += [rate.calls, int(rate.seconds * 1000)]
        try:
            index, wait_ms = await self._script(keys=[PREFIX + key for key, _ in limits], args=arguments)
        except Exception as error:  # noqa: BLE001 - any Redis failure: count in this process instead
            if not self._down:
                log.warning("Redis rate limiter unreachable; counting in this process until it answers",
                            extra={"reason": type(error).__name__})
            self._down = True
            return await self._fallback.hit(limits)
        if self._down:
            log.info("Redis rate limiter reachable again")
            self._down = False
        return None if int(index) == 0 else (int(index) - 1, max(float(wait_ms), 0.0) / 1000)

    async def aclose(self) -> None:
        if self._owned:
            await self._redis.aclose()


def connect(url: str) -> Any:
    """A Redis client for QCMCP_REDIS_URL: short timeouts, so an unreachable Redis never holds a call for long."""
    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
