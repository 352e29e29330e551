"""The ACD's one timer heap: keyed deadlines, replace, cancel, and pop one due key at a time.

Popping one key at a time matters: handling a timer may cancel another that is due at the same
``now`` (an overflow cancels the ring-no-answer timer of the seat it was ringing). Lazy deletion
keeps schedule and cancel O(log n); a key has at most one live deadline.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from itertools import count
from typing import Generic, TypeVar

__all__ = ["TimerHeap"]

K = TypeVar("K", bound=Hashable)


class TimerHeap(Generic[K]):
    """Deadlines keyed by any hashable; re-scheduling a key replaces its deadline."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, K]] = []
        self._live: dict[K, tuple[float, int]] = {}
        self._seq = count()

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: K) -> bool:
        return key in self._live

    def schedule(self, key: K, deadline: float) -> None:
        """Set (or replace) the deadline of ``key``."""
        entry = (deadline, next(self._seq))
        self._live[key] = entry
        heapq.heappush(self._heap, (*entry, key))

    def cancel(self, key: K) -> None:
        """Forget ``key``; a no-op when it has no deadline."""
        self._live.pop(key, None)

    def deadline(self, key: K) -> float | None:
        """The live deadline of ``key``, if any."""
        entry = self._live.get(key)
        return entry[0] if entry else None

    def next_deadline(self) -> float | None:
        """The earliest live deadline."""
        heap = self._heap
        while heap and self._live.get(heap[0][2]) != heap[0][:2]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_next(self, now: float) -> K | None:
        """Remove and return the earliest key due at ``now`` (deadline <= now), or ``None``."""
        deadline = self.next_deadline()
        if deadline is None or deadline > now:
            return None
        _, _, key = heapq.heappop(self._heap)
        del self._live[key]
        return key
