"""A one-item mailbox between the subscription callbacks and the inference thread.

Newest frame wins: putting an item replaces one that is still waiting (it is counted as dropped),
so a slow model never builds a backlog and always works on the most recent frame.
"""
from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    def __init__(self) -> None:
        self._item: T | None = None
        self._closed = False
        self._changed = threading.Condition()
        self.dropped = 0

    def put(self, item: T) -> None:
        with self._changed:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._changed.notify()

    def take(self, timeout_s: float | None = None) -> T | None:
        """The waiting item (emptying the slot); None on timeout or once closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._item is not None or self._closed, timeout_s)
            item, self._item = self._item, None
            return None if self._closed else item

    def close(self) -> None:
        """Wake the consumer for good (shutdown)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
