"""The read cache for replicas (``QCMCP_REDIS_URL``): each replica keeps its entries in memory, and every
invalidation is published on Redis so the others drop the same objects.

Without it, updating a backtest through one replica would leave the old answer in another's cache until it expired.
Reads stay local (no Redis round trip per call); a replica serves cached answers only while its subscription is
live, and empties its cache whenever it (re)subscribes, so an invalidation it could have missed never leaves a
stale answer behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from qcmcp.ops.cache import MemoryReadCache

log = logging.getLogger("qcmcp.ops")
CHANNEL = "qcmcp:cache:invalidate"
RECONNECT_SECONDS = 1.0


class SharedInvalidationCache:
    """A :class:`~qcmcp.ops.cache.ReadCache`: a local LRU plus invalidations shared over Redis pub/sub."""

    def __init__(self, redis: Any, local: MemoryReadCache | None = None) -> None:
        self._redis = redis
        self.local = local or MemoryReadCache()
        self._origin = uuid.uuid4().hex
        self._listener: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self.live = False

    def get(self, key: str) -> Any | None:
        self._ensure_listening()
        return self.local.get(key) if self.live else None

    def put(self, key: str, value: Any, ttl: float, tags: Sequence[str]) -> None:
        self._ensure_listening()
        if self.live:
            self.local.put(key, value, ttl, tags)

    def invalidate(self, tags: Sequence[str]) -> None:
        self.local.invalidate(tags)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._publish(list(tags)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, tags: list[str]) -> None:
        try:
            await self._redis.publish(CHANNEL, json.dumps({"origin": self._origin, "tags": tags}))
        except Exception as error:  # noqa: BLE001 - the others' entries expire; say so
            log.warning("could not publish a cache invalidation to the other replicas",
                        extra={"reason": type(error).__name__})

    def _ensure_listening(self) -> None:
        if self._listener is not None and not self._listener.done():
            return
        try:
            self._listener = asyncio.get_running_loop().create_task(self._listen())
        except RuntimeError:
            pass  # no event loop yet: nothing is served from the cache until there is one

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                self.local.invalidate_all()  # anything kept before may have missed an invalidation
                self.live = True
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    with contextlib.suppress(ValueError, TypeError, KeyError):
                        event = json.loads(message["data"])
                        if event.get("origin") != self._origin:
                            self.local.invalidate([str(tag) for tag in event["tags"]])
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis went away: stop serving from the cache, retry
                if self.live:
                    log.warning("cache invalidations from other replicas unavailable; not caching until Redis "
                                "answers", extra={"reason": type(error).__name__})
            finally:
                self.live = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        for task in list(self._pending):
            with contextlib.suppress(Exception):
                await task
