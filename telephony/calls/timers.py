"""A keyed timer heap for pure cores: schedule, cancel, and pop what is due at ``now``.

Lazy deletion keeps schedule/cancel O(log n); a key has at most one live deadline.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from itertools import count

__all__ = ["TimerHeap"]


class TimerHeap:
    """Deadlines keyed by any hashable; re-scheduling a key replaces its deadline."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Hashable]] = []
        self._live: dict[Hashable, tuple[float, int]] = {}
        self._seq = count()

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._live

    def schedule(self, key: Hashable, deadline: float) -> None:
        """Set (or replace) the deadline of ``key``."""
        entry = (deadline, next(self._seq))
        self._live[key] = entry
        heapq.heappush(self._heap, (*entry, key))

    def cancel(self, key: Hashable) -> None:
        """Forget ``key``; a no-op when it has no deadline."""
        self._live.pop(key, None)

    def deadline(self, key: Hashable) -> float | None:
        """The live deadline of ``key``, if any."""
        entry = self._live.get(key)
        return entry[0] if entry else None

    def next_deadline(self) -> float | None:
        """The earliest live deadline."""
        heap = self._heap
        while heap and self._live.get(heap[0][2]) != heap[0][:2]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> list[Hashable]:
        """Remove and return every key whose deadline is <= ``now``, earliest first."""
        due: list[Hashable] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            deadline, seq, key = heapq.heappop(heap)
            if self._live.get(key) == (deadline, seq):
                del self._live[key]
                due.append(key)
        return due
