"""What replicas tell each other over Redis pub/sub (``QCMCP_REDIS_URL``): cache invalidations and QuantConnect's
``Retry-After``.

Each replica keeps its read cache in memory; every invalidation is published, so updating a backtest through one
replica makes the others drop their copy too. A 429's ``Retry-After`` is published the same way, so every replica
holds back, not just the one that was told. Reads stay local (no Redis round trip per call). A replica serves
cached answers only while its subscription is live, and empties its cache whenever it (re)subscribes, so an
invalidation it could have missed never leaves a stale answer behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from qcmcp.ops.cache import MemoryReadCache

log = logging.getLogger("qcmcp.ops")
CHANNEL = "qcmcp:replicas"
RECONNECT_SECONDS = 1.0


class ReplicaChannel:
    """One subscription per process; ``handlers`` by event kind; ``on_subscribed`` run on each (re)subscription."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._origin = uuid.uuid4().hex
        self.handlers: dict[str, Callable[[Any], None]] = {}
        self.on_subscribed: list[Callable[[], None]] = []
        self._listener: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self.live = False

    def publish(self, kind: str, value: Any) -> None:
        """Tell the other replicas (fire and forget; without a running event loop there is no one to tell yet)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._publish(kind, value))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, kind: str, value: Any) -> None:
        try:
            await self._redis.publish(CHANNEL, json.dumps({"origin": self._origin, "kind": kind, "value": value}))
        except Exception as error:  # noqa: BLE001 - the others learn it later (their entries expire)
            log.warning("could not tell the other replicas", extra={"event": kind, "reason": type(error).__name__})

    def ensure_listening(self) -> None:
        if self._listener is not None and not self._listener.done():
            return
        try:
            self._listener = asyncio.get_running_loop().create_task(self._listen())
        except RuntimeError:
            pass  # no event loop yet

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                for subscribed in self.on_subscribed:
                    subscribed()
                self.live = True
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._dispatch(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis went away: say so once, retry
                if self.live:
                    log.warning("messages from other replicas unavailable until Redis answers",
                                extra={"reason": type(error).__name__})
            finally:
                self.live = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(RECONNECT_SECONDS)

    def _dispatch(self, data: Any) -> None:
        with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
            event = json.loads(data)
            handler = self.handlers.get(event["kind"])
            if handler is not None and event.get("origin") != self._origin:
                handler(event["value"])

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        for task in list(self._pending):
            with contextlib.suppress(Exception):
                await task


class SharedInvalidationCache:
    """A :class:`~qcmcp.ops.cache.ReadCache`: a local LRU plus invalidations shared over the replica channel."""

    def __init__(self, channel: ReplicaChannel, local: MemoryReadCache | None = None) -> None:
        self.channel = channel
        self.local = local or MemoryReadCache()
        channel.handlers["invalidate"] = lambda tags: self.local.invalidate([str(tag) for tag in tags])
        channel.on_subscribed.append(self.local.invalidate_all)  # what was kept before may have missed one

    def get(self, key: str) -> Any | None:
        self.channel.ensure_listening()
        return self.local.get(key) if self.channel.live else None

    def put(self, key: str, value: Any, ttl: float, tags: Sequence[str]) -> None:
        self.channel.ensure_listening()
        if self.channel.live:
            self.local.put(key, value, ttl, tags)

    def invalidate(self, tags: Sequence[str]) -> None:
        self.local.invalidate(tags)
        self.channel.publish("invalidate", list(tags))
