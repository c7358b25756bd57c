"""Small LEAN utilities algorithms use: ``CircularQueue``."""

from __future__ import annotations

from collections import deque
from typing import Any

from qcmcp.sandbox.engine.consolidators import EventHandlers
from qcmcp.sandbox.engine.types import PascalAliases


class CircularQueue(PascalAliases):
    """LEAN's CircularQueue[T](items): ``dequeue()`` cycles through the items forever; ``circle_completed``
    fires each time the first item comes round again (including the very first dequeue, as LEAN's does)."""

    def __class_getitem__(cls, item: Any) -> type[CircularQueue]:
        return cls

    def __init__(self, items: Any) -> None:
        self._items: deque[Any] = deque(items)
        if not self._items:
            raise ValueError("CircularQueue needs at least one item")
        self._head = self._items[0]
        self.circle_completed = EventHandlers()

    def dequeue(self) -> Any:
        item = self._items.popleft()
        if item == self._head:
            self.circle_completed(self, None)
        self._items.append(item)
        return item
