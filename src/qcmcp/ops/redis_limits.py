"""This server's limits on Redis (``QCMCP_REDIS_URL``), counted across every replica and worker that shares it: the
rate limiter (the same exact sliding windows as :class:`~qcmcp.ops.limits.MemoryRateLimiter`) and the
expensive-call slots (:class:`RedisConcurrencyLimiter`).

Each key is a sorted set of call times; one Lua script checks every limit of a call and records the call in all of
them, or in none, atomically, with Redis's own clock (replicas whose clocks differ still agree). When Redis cannot
be reached, the call is counted by this process's own limiter instead (limits stay in force, per replica) and the
log says so once per outage.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as redis

from qcmcp.ops.limits import MemoryConcurrencyLimiter, MemoryRateLimiter
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


SLOTS_PREFIX = "qcmcp:slots:"
LEASE_SECONDS = 60.0  # a worker that dies holding a slot gives it back within this long

# KEYS[1]: the slots (a sorted set of leases by expiry). ARGV: the limit, the lease, its length in ms.
# Returns 1 when the lease was taken, 0 when ``limit`` unexpired leases are already held.
TAKE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""
# KEYS: the slots of each lease; ARGV: the lease length in ms, then the leases. Pushes each still-held lease's expiry.
RENEW_SLOTS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local length = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if redis.call('ZADD', key, 'XX', 'CH', now + length, ARGV[i + 1]) == 1 then
    redis.call('PEXPIRE', key, length)
  end
end
return 0
"""
_LOCAL = "local"  # a slot counted in this process while Redis could not be reached


class RedisConcurrencyLimiter:
    """Expensive-call slots on Redis, held as leases that run out unless renewed: every replica and worker counts
    the same slots, a slot held by a process that died comes back by itself, and while Redis cannot be reached the
    slots are counted in this process instead (the cap stays in force, per process)."""

    def __init__(self, client: Any, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self._redis = client
        self._take = client.register_script(TAKE_SLOT)
        self._renew = client.register_script(RENEW_SLOTS)
        self._lease_ms = int(lease_seconds * 1000)
        self._held: dict[str, str] = {}  # lease -> key, renewed every third of a lease while held
        self._renewer: asyncio.Task[None] | None = None
        self._fallback = MemoryConcurrencyLimiter()
        self._down = False

    async def acquire(self, key: str, limit: int) -> object | None:
        lease = uuid.uuid4().hex
        try:
            taken = await self._take(keys=[SLOTS_PREFIX + key], args=[limit, lease, self._lease_ms])
        except Exception as error:  # noqa: BLE001 - any Redis failure: count in this process instead
            if not self._down:
                log.warning("Redis slots unreachable; counting expensive calls in this process until it answers",
                            extra={"reason": type(error).__name__})
            self._down = True
            return _LOCAL if self._fallback.take(key, limit) is not None else None
        self._down = False
        if not int(taken):
            return None
        self._held[lease] = key
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_held())
        return lease

    async def release(self, key: str, slot: object) -> None:
        if slot == _LOCAL:
            self._fallback.give_back(key)
            return
        self._held.pop(str(slot), None)
        try:
            await self._redis.zrem(SLOTS_PREFIX + key, str(slot))
        except Exception:  # noqa: BLE001, S110 - the lease runs out by itself
            pass

    async def _renew_held(self) -> None:
        while self._held:
            await asyncio.sleep(self._lease_ms / 3000)
            held = list(self._held.items())
            if not held:
                return
            try:
                await self._renew(keys=[SLOTS_PREFIX + key for _, key in held],
                                  args=[self._lease_ms, *(lease for lease, _ in held)])
            except Exception as error:  # noqa: BLE001 - try again at the next turn; the leases may lapse meanwhile
                log.warning("could not renew expensive-call slots on Redis", extra={"reason": type(error).__name__})

    async def aclose(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
