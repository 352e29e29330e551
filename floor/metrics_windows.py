"""Sliding windows over event time for the floor metrics: service level and campaign drops.

Each window keeps only the entries still inside it (a bounded deque, trimmed as events arrive),
with running totals, so adding is O(1) amortised. Reading at ``now`` never changes the window:
entries that have aged out since the last event are subtracted from a copy of the totals.
An entry at ``a`` is inside the window of ``span`` seconds at ``now`` when ``now - span < a``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DAY", "HOUR", "MONTH", "DropCounts", "DropFormula", "DropKind", "DropWindows",
           "RatioWindow", "drop_kind"]

HOUR = 3600.0
DAY = 24 * HOUR
MONTH = 30 * DAY


class RatioWindow:
    """Sums of (numerator, denominator) pairs over the last ``span`` seconds."""

    def __init__(self, span: float) -> None:
        self.span = span
        self._items: deque[tuple[float, float, float]] = deque()
        self._num = 0.0
        self._den = 0.0

    def add(self, at: float, num: float, den: float) -> None:
        """Count one outcome at ``at`` (outcomes come in time order)."""
        items = self._items
        while items and items[0][0] <= at - self.span:
            _, n, d = items.popleft()
            self._num -= n
            self._den -= d
        items.append((at, num, den))
        self._num += num
        self._den += den

    def totals(self, now: float) -> tuple[float, float]:
        """(numerator, denominator) of the outcomes inside the window at ``now``."""
        num, den = self._num, self._den
        for at, n, d in self._items:
            if at > now - self.span:
                break
            num, den = num - n, den - d
        return num, den

    def __len__(self) -> int:
        return len(self._items)


class DropFormula(StrEnum):
    """The campaign's abandonment formula, as ``dialer/abandon.py`` defines them."""

    ANSWERS = "answers"  # abandoned / (connected + abandoned)
    CONNECTIONS = "connections"  # (abandoned + allowance x machine) / (connected + that)


class DropKind(StrEnum):
    """What a closed dial counts as for the drop rate."""

    CONNECTED = "connected"
    ABANDONED = "abandoned"
    MACHINE = "machine"


def drop_kind(outcome: str | None, amd: str | None) -> DropKind | None:
    """The ledger outcome's kind, as ``dialer.abandon.classify`` counts it (floor may not import
    the dialer): abandoned always counts; a call passed to a seat after AMD said machine does not."""
    if outcome == "abandoned":
        return DropKind.ABANDONED
    if outcome == "answered":
        return None if amd == "machine" else DropKind.CONNECTED
    if outcome == "machine":
        return DropKind.MACHINE
    return None


@dataclass(frozen=True, slots=True)
class DropCounts:
    """The calls that count in one window."""

    connected: int = 0
    abandoned: int = 0
    machine: int = 0

    def rate(self, formula: DropFormula, amd_allowance: float = 0.0) -> float | None:
        """The drop rate by ``formula``; ``None`` while no live call counts."""
        abandoned = float(self.abandoned)
        if formula is DropFormula.CONNECTIONS:
            abandoned += amd_allowance * self.machine
        live = self.connected + abandoned
        return abandoned / live if live > 0 else None


_SLOT = {DropKind.CONNECTED: 0, DropKind.ABANDONED: 1, DropKind.MACHINE: 2}


class DropWindows:
    """A campaign's counted calls over 24 hours (exact) and 30 days (hourly buckets, as the
    dialer's ``AbandonTracker``: the last 720 hours, the current one included)."""

    def __init__(self) -> None:
        self._day: deque[tuple[float, DropKind]] = deque()
        self._day_counts = [0, 0, 0]
        self._month: deque[list[int]] = deque()  # [hour, connected, abandoned, machine]
        self._month_counts = [0, 0, 0]

    def add(self, at: float, kind: DropKind) -> None:
        """Count one call at ``at`` (calls come in time order)."""
        self._trim(at)
        slot = _SLOT[kind]
        self._day.append((at, kind))
        self._day_counts[slot] += 1
        hour = int(at // HOUR)
        if not self._month or self._month[-1][0] != hour:
            self._month.append([hour, 0, 0, 0])
        self._month[-1][slot + 1] += 1
        self._month_counts[slot] += 1

    def _trim(self, now: float) -> None:
        while self._day and self._day[0][0] <= now - DAY:
            self._day_counts[_SLOT[self._day.popleft()[1]]] -= 1
        first = _first_hour(now)
        while self._month and self._month[0][0] < first:
            bucket = self._month.popleft()
            for slot in range(3):
                self._month_counts[slot] -= bucket[slot + 1]

    def day(self, now: float) -> DropCounts:
        """The counts over the 24 hours up to ``now``."""
        counts = list(self._day_counts)
        for at, kind in self._day:
            if at > now - DAY:
                break
            counts[_SLOT[kind]] -= 1
        return DropCounts(*counts)

    def month(self, now: float) -> DropCounts:
        """The counts over the last 720 hourly buckets up to ``now``."""
        counts = list(self._month_counts)
        first = _first_hour(now)
        for bucket in self._month:
            if bucket[0] >= first:
                break
            for slot in range(3):
                counts[slot] -= bucket[slot + 1]
        return DropCounts(*counts)


def _first_hour(now: float) -> int:
    return int(now // HOUR) - int(MONTH // HOUR) + 1
