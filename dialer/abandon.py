"""Abandonment per campaign over a rolling 24 hours and 30 days, and the budget it leaves.

Two formulas, chosen per campaign:

``answers`` (US: FTC Telemarketing Sales Rule 16 CFR 310.4(b)(4)(i), FCC 47 CFR 64.1200(a)(7)):
    abandoned / calls answered by a live person, where those answers are the calls connected to
    a seat plus the abandoned ones. A call is abandoned when it is not connected to a seat within
    two seconds of the answer. The rules measure over 30 days per campaign.

``connections`` (UK: Ofcom, persistent misuse statement, annex "Calculating the abandoned call
rate"):
    (abandoned + AMD false positives) / (live calls), where live calls are the calls connected to
    a seat, the abandoned calls and the AMD false positives, and the false positives are "a
    reasoned estimate" of the calls the answering-machine detector classified as machines that
    were in fact live people (hung up on: silent calls). Here that estimate is
    ``amd_allowance`` x the machine-classified calls. Answering machines themselves are not live
    calls. Ofcom measures per campaign over 24 hours.

Whichever the formula, both windows are tracked; the budget is spent when either rate is at or
over the target, and pacing then falls back to progressive until both are under again. The
24-hour window is exact; the 30-day window counts in hourly buckets (the last 720 hours,
the current one included).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "DAY",
    "MONTH",
    "AbandonBudget",
    "AbandonCounts",
    "AbandonFormula",
    "AbandonTracker",
    "CallKind",
    "classify",
]

DAY = 24 * 3600.0
MONTH = 30 * DAY
_BUCKET = 3600.0


class AbandonFormula(StrEnum):
    """How the abandonment rate is computed (see the module docstring)."""

    ANSWERS = "answers"
    CONNECTIONS = "connections"


class CallKind(StrEnum):
    """What an attempt counts as for abandonment."""

    CONNECTED = "connected"  # a live answer bridged to a seat in time
    ABANDONED = "abandoned"  # a live answer not connected within the grace time
    MACHINE = "machine"  # classified as a machine by AMD and not passed to a seat


def classify(outcome: str | None, amd: str | None) -> CallKind | None:
    """Map an attempt's ledger ``outcome`` and ``amd`` columns to what it counts as, or None.

    An abandoned call counts as abandoned whatever AMD said (the safe side). A call passed to a
    seat after AMD said "machine" is neither live nor a hang-up on a possible person: not counted.
    """
    if outcome == "abandoned":
        return CallKind.ABANDONED
    if outcome == "answered":
        return None if amd == "machine" else CallKind.CONNECTED
    if outcome == "machine":
        return CallKind.MACHINE
    return None


@dataclass(frozen=True, slots=True)
class AbandonCounts:
    """The calls that count, in one window."""

    connected: int = 0
    abandoned: int = 0
    machine: int = 0

    def rate(self, formula: AbandonFormula, amd_allowance: float = 0.0) -> float:
        """The abandonment rate by ``formula`` (0 when nothing counts yet)."""
        abandoned = float(self.abandoned)
        if formula is AbandonFormula.CONNECTIONS:
            abandoned += amd_allowance * self.machine
        live = self.connected + abandoned
        return abandoned / live if live > 0 else 0.0

    def live(self, formula: AbandonFormula, amd_allowance: float = 0.0) -> float:
        """The denominator of :meth:`rate`: live answers (with the false-positive estimate)."""
        extra = amd_allowance * self.machine if formula is AbandonFormula.CONNECTIONS else 0.0
        return self.connected + self.abandoned + extra


@dataclass(frozen=True, slots=True)
class AbandonBudget:
    """The abandonment state of a campaign at one moment."""

    target: float
    rate_24h: float
    rate_30d: float
    live_24h: float  # the denominator over 24 h (live answers, by the formula)
    abandoned_24h: float  # the numerator over 24 h
    predictive_allowed: bool  # both rates under the target
    false_positive_24h: float = 0.0  # the part of rate_24h that is the AMD allowance (UK)

    @property
    def slack_24h(self) -> float:
        """How many more abandoned calls the 24-hour rate could take now and stay at the target."""
        return (self.target * self.live_24h - self.abandoned_24h) / (1.0 - self.target)


class AbandonTracker:
    """One campaign's abandonment over a rolling 24 h (exact) and 30 days (hourly buckets)."""

    def __init__(self, target: float = 0.03, formula: AbandonFormula | str = AbandonFormula.ANSWERS,
                 amd_allowance: float = 0.0) -> None:
        if not 0.0 < target < 1.0:
            raise ValueError("target must be between 0 and 1")
        if not 0.0 <= amd_allowance <= 1.0:
            raise ValueError("amd_allowance must be between 0 and 1")
        self.target = target
        self.formula = AbandonFormula(formula)
        self.amd_allowance = amd_allowance
        self._day: deque[tuple[float, CallKind]] = deque()
        self._day_counts = {kind: 0 for kind in CallKind}
        self._month: deque[list[int]] = deque()  # [hour index, connected, abandoned, machine]
        self._month_counts = [0, 0, 0]

    @classmethod
    def from_ledger(cls, rows: Iterable[tuple[float, str | None, str | None]], *, now: float,
                    target: float = 0.03, formula: AbandonFormula | str = AbandonFormula.ANSWERS,
                    amd_allowance: float = 0.0) -> AbandonTracker:
        """Rebuild from attempts ``(answered_at or created_at, outcome, amd)``, any order."""
        tracker = cls(target, formula, amd_allowance)
        counted = [(at, kind) for at, outcome, amd in rows
                   if (kind := classify(outcome, amd)) is not None and now - MONTH < at <= now]
        for at, kind in sorted(counted, key=lambda item: item[0]):
            tracker.add(at, kind)
        return tracker

    def record(self, at: float, outcome: str | None, amd: str | None = None) -> None:
        """Count an attempt closed with a ledger ``outcome`` (ignored when it does not count)."""
        kind = classify(outcome, amd)
        if kind is not None:
            self.add(at, kind)

    def add(self, at: float, kind: CallKind) -> None:
        """Count one call at time ``at`` (calls must come in time order)."""
        self._day.append((at, kind))
        self._day_counts[kind] += 1
        hour = int(at // _BUCKET)
        if not self._month or self._month[-1][0] != hour:
            self._month.append([hour, 0, 0, 0])
        slot = _SLOTS[kind]
        self._month[-1][slot] += 1
        self._month_counts[slot - 1] += 1

    def _expire(self, now: float) -> None:
        day = self._day
        while day and day[0][0] <= now - DAY:
            self._day_counts[day.popleft()[1]] -= 1
        first_hour = int(now // _BUCKET) - int(MONTH // _BUCKET) + 1
        month = self._month
        while month and month[0][0] < first_hour:
            _, connected, abandoned, machine = month.popleft()
            self._month_counts[0] -= connected
            self._month_counts[1] -= abandoned
            self._month_counts[2] -= machine

    def counts_24h(self, now: float) -> AbandonCounts:
        """The counts over the 24 hours up to ``now``."""
        self._expire(now)
        c = self._day_counts
        return AbandonCounts(c[CallKind.CONNECTED], c[CallKind.ABANDONED], c[CallKind.MACHINE])

    def counts_30d(self, now: float) -> AbandonCounts:
        """The counts over the last 720 hourly buckets up to ``now``."""
        self._expire(now)
        return AbandonCounts(*self._month_counts)

    def rate_24h(self, now: float) -> float:
        """The abandonment rate over 24 hours."""
        return self.counts_24h(now).rate(self.formula, self.amd_allowance)

    def rate_30d(self, now: float) -> float:
        """The abandonment rate over 30 days."""
        return self.counts_30d(now).rate(self.formula, self.amd_allowance)

    def budget(self, now: float) -> AbandonBudget:
        """The rates and whether predictive pacing is allowed (both under the target)."""
        day = self.counts_24h(now)
        rate_24h = day.rate(self.formula, self.amd_allowance)
        rate_30d = self.counts_30d(now).rate(self.formula, self.amd_allowance)
        live = day.live(self.formula, self.amd_allowance)
        abandoned = live - day.connected
        allowed = rate_24h < self.target and rate_30d < self.target
        extra = (abandoned - day.abandoned) / live if live > 0 else 0.0
        return AbandonBudget(self.target, rate_24h, rate_30d, live, abandoned, allowed, extra)


_SLOTS = {CallKind.CONNECTED: 1, CallKind.ABANDONED: 2, CallKind.MACHINE: 3}
