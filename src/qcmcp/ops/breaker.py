"""A circuit breaker per upstream, and QuantConnect's own ``Retry-After`` honoured for every caller.

While the API keeps failing (no answer, or a 5xx), calling it again only makes agents wait for timeouts and adds
load while it recovers. After ``failures`` failed attempts in a row the breaker opens: calls fail at once with a
clear message for ``reset_seconds``; then one trial call is let through (half-open) and its outcome closes or
re-opens the breaker. A 429 is not a failure of the API but a request to slow down: its ``Retry-After`` holds
back every caller of that upstream (all tenants), not just the one that got it.

Both keep their state in this process behind small interfaces (:class:`Breaker`, :class:`Cooldown`); with
``QCMCP_REDIS_URL`` each tells the other replicas and workers (``announce``) when it opens or holds back, and they
follow (``trip``, ``hold(local=True)``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class Breaker(Protocol):
    def refusal(self) -> float | None:
        """None when a call may go out now, else the seconds until one may."""

    def record(self, ok: bool, reason: str = "") -> None: ...

    def trip(self, reason: str) -> None: ...

    @property
    def state(self) -> str: ...


class CircuitBreaker:
    """Consecutive-failure breaker with a half-open trial call."""

    def __init__(self, failures: int = 5, reset_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failures < 1 or reset_seconds <= 0:
            raise ValueError("a breaker needs at least one failure and a positive reset time")
        self.failures, self.reset_seconds, self._clock = failures, reset_seconds, clock
        self._state, self._count, self._opened_at, self._trial = CLOSED, 0, 0.0, False
        self._trial_at = 0.0
        self.last_reason = ""
        self._lock = threading.Lock()
        self.announce: Callable[[str], None] | None = None  # told when this breaker opens (other replicas follow)

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == OPEN and self._clock() - self._opened_at >= self.reset_seconds:
                return HALF_OPEN
            return self._state

    def refusal(self) -> float | None:
        if self._state == CLOSED:  # the common case, read without the lock (a stale read costs one call)
            return None
        with self._lock:
            if self._state == CLOSED:
                return None
            remaining = self.reset_seconds - (self._clock() - self._opened_at)
            if self._state == OPEN and remaining > 0:
                return remaining
            # Half-open: one trial call at a time; the others wait for its outcome (a trial that never reported
            # back, say a cancelled call, gives way to another after a reset period).
            now = self._clock()
            if self._trial and now - self._trial_at < self.reset_seconds:
                return 1.0
            self._state, self._trial, self._trial_at = HALF_OPEN, True, now
            return None

    def record(self, ok: bool, reason: str = "") -> None:
        if ok and self._state == CLOSED and self._count == 0:
            return  # nothing to change
        opening = False
        with self._lock:
            if ok:
                self._state, self._count, self._trial = CLOSED, 0, False
                return
            self._count += 1
            self.last_reason = reason or self.last_reason
            if self._state == HALF_OPEN or self._count >= self.failures:
                opening = self._state != OPEN
                self._state, self._opened_at, self._trial = OPEN, self._clock(), False
        if opening and self.announce is not None:
            self.announce(self.last_reason)

    def trip(self, reason: str) -> None:
        """Open now, for a full reset period: another replica's breaker to the same upstream has just opened (its
        failures are this one's too). Each replica then lets its own trial call through."""
        with self._lock:
            self.last_reason = reason or self.last_reason
            self._state, self._opened_at, self._trial, self._count = OPEN, self._clock(), False, self.failures


class Cooldown:
    """The latest ``Retry-After`` an upstream gave, for every caller of it (and, with ``announce``, for the other
    replicas too)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0
        self.announce: Callable[[float], None] | None = None

    def hold(self, seconds: float, *, local: bool = False) -> None:
        """Hold calls back for ``seconds``; ``local`` when the news came from another replica."""
        self._until = max(self._until, self._clock() + max(seconds, 0.0))
        if self.announce is not None and not local:
            self.announce(seconds)

    def remaining(self) -> float:
        return max(0.0, self._until - self._clock())
