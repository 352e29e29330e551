"""One queue on the board, from its ``queue.*`` events: callers waiting, today's counts, service
level over sliding windows, ASA and AHT.

Service level uses the formula of :mod:`floor.stats` (the ACD's own counters)::

    SL = answered within threshold / (answered + abandoned after threshold + overflowed)

"Within" is the ACD's own ``within_threshold`` flag of the event (``wait <= threshold``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from floor.metrics_model import BadEvent, Payload, QueueSpec, req_num
from floor.metrics_seat import BUCKETS, SeatFigures
from floor.metrics_windows import RatioWindow
from floor.model import QueueConfig

__all__ = ["QUEUE_KINDS", "SL_WINDOWS", "QueueDay", "QueueFigures", "queue_spec", "ratio"]

SL_WINDOWS = {"15m": 900.0, "30m": 1800.0, "60m": 3600.0}
ARRIVALS_SPAN = 900.0  # the recent arrival rate: joins over the last 15 minutes
HANDLE_SPAN = 3600.0  # the recent handle time: calls ended in the last hour
QUEUE_KINDS = ("joined", "offered", "answered", "abandoned", "overflowed", "rna", "failed", "ended")


def ratio(num: float, den: float, digits: int = 4) -> float | None:
    """``num / den`` rounded, ``None`` when there is nothing to divide by."""
    return round(num / den, digits) if den else None


def queue_spec(queue: QueueSpec | QueueConfig) -> QueueSpec:
    """The board's spec of an ACD queue (a spec is returned as it is)."""
    if isinstance(queue, QueueSpec):
        return queue
    return QueueSpec(queue.name, queue.service_level_threshold)


@dataclass
class QueueDay:
    """One queue's counts for the day that began at ``day``."""

    day: float | None = None
    offered: int = 0  # callers that entered the queue (an overflow in counts here too)
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_within: int = 0
    overflowed: int = 0
    answer_wait: float = 0.0
    ended: int = 0
    handle: float = 0.0  # talk + the queue's wrap-up of the calls that ended

    def service_level(self) -> float | None:
        """Today's service level (module docstring)."""
        return ratio(self.answered_within,
                     self.answered + self.abandoned - self.abandoned_within + self.overflowed)


class QueueFigures:
    """A queue's live figures; its member seats are kept up to date by the board."""

    def __init__(self, spec: QueueSpec) -> None:
        self.spec = spec
        self.callers: dict[str, tuple[float, str | None]] = {}  # call -> (joined at, caller)
        self.windows = {name: RatioWindow(span) for name, span in SL_WINDOWS.items()}
        self.arrivals = RatioWindow(ARRIVALS_SPAN)  # (at, 1, 0) per join
        self.handling = RatioWindow(HANDLE_SPAN)  # (at, talk + wrap-up, 1) per ended call
        self.today = QueueDay()
        self.members: set[str] = set()

    @property
    def name(self) -> str:
        """The queue name."""
        return self.spec.name

    def apply(self, kind: str, what: str, at: float, day: float, call: str, payload: Payload,
              caller: str | None) -> None:
        """One ``queue.<what>`` event at ``at`` (``day``: the start of its day)."""
        wait = req_num(kind, payload, "wait_s") if what != "joined" else 0.0
        handle = (req_num(kind, payload, "talk_s") + req_num(kind, payload, "wrap_up_s")
                  if what == "ended" else 0.0)
        within = self._within(kind, payload, wait) if what in ("answered", "abandoned") else False
        today = self._today(day)
        if what == "joined":
            self.callers[call] = (at, caller)
            today.offered += 1
            self.arrivals.add(at, 1, 0)
        elif what == "answered":
            self.callers.pop(call, None)
            today.answered += 1
            today.answered_within += within
            today.answer_wait += wait
            self._outcome(at, int(within))
        elif what == "abandoned":
            self.callers.pop(call, None)
            today.abandoned += 1
            today.abandoned_within += within
            if not within:  # short abandons are left out of the service level
                self._outcome(at, 0)
        elif what == "overflowed":
            self.callers.pop(call, None)
            today.overflowed += 1
            self._outcome(at, 0)
        elif what == "ended":
            today.ended += 1
            today.handle += handle
            self.handling.add(at, handle, 1)

    def _today(self, day: float) -> QueueDay:
        if self.today.day != day:
            self.today = QueueDay(day)
        return self.today

    def _outcome(self, at: float, within: int) -> None:
        for window in self.windows.values():
            window.add(at, within, 1)

    def _within(self, kind: str, payload: Payload, wait: float) -> bool:
        flag = payload.get("within_threshold")
        if flag is None:
            return wait <= self.spec.service_level_threshold
        if flag in ("true", True):
            return True
        if flag in ("false", False):
            return False
        raise BadEvent(f"{kind} event: field 'within_threshold' must be true or false, not {flag!r}")

    def to_json(self, now: float, today: float, seat: Callable[[str], SeatFigures]) -> dict[str, Any]:
        """The queue's board entry at ``now`` (``today``: the start of the current day)."""
        t = self.today if self.today.day == today else QueueDay(today)
        first = next(iter(self.callers.values()), None)  # joins come in time order
        sl: dict[str, float | None] = {name: ratio(*w.totals(now)) for name, w in self.windows.items()}
        sl["today"] = t.service_level()
        return {
            "id": self.name, "waiting": len(self.callers),
            "longest_wait_s": round(max(0.0, now - first[0]), 3) if first else 0.0,
            "offered": t.offered, "answered": t.answered, "abandoned": t.abandoned,
            "overflowed": t.overflowed, "abandon_rate": ratio(t.abandoned, t.offered),
            "sl": sl, "sl_threshold_s": self.spec.service_level_threshold,
            "asa_s": ratio(t.answer_wait, t.answered, 3), "aht_s": ratio(t.handle, t.ended, 3),
            "arrival_rate_15m": round(self.arrivals.totals(now)[0] / ARRIVALS_SPAN, 6),
            "aht_60m_s": ratio(*self.handling.totals(now), 3),
            "seats": self.seat_counts(seat),
            "callers": [{"call": call, "caller": who, "since": since}
                        for call, (since, who) in self.callers.items()],
            "at": now,
        }

    def seat_counts(self, seat: Callable[[str], SeatFigures]) -> dict[str, int]:
        """Member seats by state; a seat lent to a campaign does not serve the queue meanwhile."""
        counts = dict.fromkeys(BUCKETS, 0)
        for seat_id in self.members:
            figures = seat(seat_id)
            if figures.lent_to is None:
                counts[figures.bucket()] += 1
        return counts

