"""A read cache for the answers that are safe to reuse, dropped by writes to the same object.

Only three reads qualify: LEAN versions (they change with LEAN releases), a project's nodes (short-lived: which
node is busy changes as backtests run) and a *finished* backtest (it no longer changes, except through our own
update or delete). Keys and invalidation tags start with the credential fingerprint, so one account's answers are
never served to another. Entries are copied in and out, so a caller changing its answer changes nothing here.

:class:`ReadCache` is the interface; :class:`MemoryReadCache` keeps entries in this process (a Redis-backed one
can take its place when replicas should share them).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

DONE_STATUSES = ("Completed", "Runtime Error", "Error")
MAX_ENTRY_BYTES = 1_000_000  # larger answers are not kept (a long backtest's full result)


class ReadCache(Protocol):
    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any, ttl: float, tags: Sequence[str]) -> None: ...

    def invalidate(self, tags: Sequence[str]) -> None: ...


class MemoryReadCache:
    """LRU with a time to live per entry and tag-based invalidation."""

    def __init__(self, max_entries: int = 512, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries, self._clock = max_entries, clock
        self._entries: OrderedDict[str, tuple[float, Any, tuple[str, ...]]] = OrderedDict()
        self._tagged: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return copy.deepcopy(entry[1])

    def put(self, key: str, value: Any, ttl: float, tags: Sequence[str]) -> None:
        with self._lock:
            self._drop(key)
            self._entries[key] = (self._clock() + ttl, copy.deepcopy(value), tuple(tags))
            for tag in tags:
                self._tagged.setdefault(tag, set()).add(key)
            while len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))

    def invalidate(self, tags: Sequence[str]) -> None:
        with self._lock:
            for tag in tags:
                for key in list(self._tagged.get(tag, ())):
                    self._drop(key)

    def invalidate_all(self) -> None:
        with self._lock:
            self._entries.clear()
            self._tagged.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry[2]:
            keys = self._tagged.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tagged[tag]


def _finished_backtest(body: dict[str, Any]) -> bool:
    backtest = body.get("backtest")
    if not isinstance(backtest, dict):
        return False
    return backtest.get("completed") is True or str(backtest.get("status") or "").startswith(DONE_STATUSES)


def _project(payload: dict[str, Any]) -> str:
    return f"project:{payload.get('projectId')}"


def _backtest(payload: dict[str, Any]) -> str:
    return f"backtest:{payload.get('projectId')}:{payload.get('backtestId')}"


@dataclass(frozen=True)
class Rule:
    """A cacheable read: how long its answer lives, which objects it belongs to, and whether to keep it."""

    ttl: float
    tags: Callable[[dict[str, Any]], list[str]]
    keep: Callable[[dict[str, Any]], bool] = field(default=lambda body: True)


READS: dict[str, Rule] = {
    "/lean/versions/read": Rule(3600.0, lambda p: ["lean-versions"]),
    "/projects/nodes/read": Rule(15.0, lambda p: [_project(p), _project(p) + ":nodes"]),
    "/backtests/read": Rule(600.0, lambda p: [_project(p), _backtest(p)], keep=_finished_backtest),
}
# Writes and the cached objects they change. Starting work on a project changes which of its nodes are busy.
_NODES = lambda p: [_project(p) + ":nodes"]  # noqa: E731
WRITES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "/projects/nodes/update": _NODES,
    "/backtests/create": _NODES,
    "/optimizations/create": _NODES,
    "/live/create": _NODES,
    "/live/update/stop": _NODES,
    "/live/update/liquidate": _NODES,
    "/backtests/update": lambda p: [_backtest(p)],
    "/backtests/delete": lambda p: [_backtest(p)],
    "/projects/delete": lambda p: [_project(p)],
}


class CachePolicy:
    """Which answers are kept, under which key, and what each write drops."""

    def __init__(self, reads: dict[str, Rule] | None = None,
                 writes: dict[str, Callable[[dict[str, Any]], list[str]]] | None = None) -> None:
        self.reads = READS if reads is None else reads
        self.writes = WRITES if writes is None else writes

    def rule(self, endpoint: str) -> Rule | None:
        return self.reads.get("/" + endpoint.strip("/"))

    @staticmethod
    def key(account: str, endpoint: str, payload: dict[str, Any]) -> str:
        return f"{account}|/{endpoint.strip('/')}|{json.dumps(payload, sort_keys=True, default=str)}"

    def tags(self, account: str, endpoint: str, payload: dict[str, Any]) -> list[str]:
        rule = self.rule(endpoint)
        return [f"{account}|{tag}" for tag in rule.tags(payload)] if rule else []

    def invalidations(self, account: str, endpoint: str, payload: dict[str, Any]) -> list[str]:
        touched = self.writes.get("/" + endpoint.strip("/"))
        return [f"{account}|{tag}" for tag in touched(payload)] if touched else []
