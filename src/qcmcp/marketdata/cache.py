"""In-process caches keyed by file signatures, so a repeated read costs a few ``stat`` calls.

A signature is (path, modification time in ns, size): a file replaced or edited on disk gets a new key,
so nothing stale is served. Cached frames are shared; callers treat them as read-only (pandas operations
used downstream return new frames).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

Signature = tuple[str, int, int]
F = TypeVar("F", bound=Callable)
_CACHES: list = []


def file_signature(path: Path) -> Signature:
    status = path.stat()
    return str(path), status.st_mtime_ns, status.st_size


def cached(maxsize: int) -> Callable[[F], F]:
    """``functools.lru_cache`` that ``clear_cache()`` can empty."""

    def wrap(function: F) -> F:
        memo = functools.lru_cache(maxsize=maxsize)(function)
        _CACHES.append(memo)
        return memo  # type: ignore[return-value]

    return wrap


def clear_cache() -> None:
    """Forget every parsed file and prepared frame (tests; or to free memory)."""
    for memo in _CACHES:
        memo.cache_clear()
