"""The ACD's run-time records: one per seat and one per queued caller (mutable, internal).

The public view of them is :mod:`floor.snapshot`; only :mod:`floor.core` and :mod:`floor.acd`
change them, always through the transition tables of :mod:`floor.states`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from floor.model import SeatConfig
from floor.states import CallerState, Presence, SeatCallState
from floor.stats import SeatStats

__all__ = ["CallerRuntime", "SeatRuntime", "SeatStateKey"]

SeatStateKey = tuple[Presence, SeatCallState, str | None, str | None]


@dataclass(eq=False)
class SeatRuntime:
    """One seat now: presence, call state, what keeps it from calls, its offer or call, its stats."""

    config: SeatConfig
    position: int  # place in the configured seat list
    queues: set[str]
    since: float  # when the current (presence, call state, reason) began
    stats: SeatStats
    presence: Presence = Presence.LOGGED_OUT
    call_state: SeatCallState = SeatCallState.IDLE
    reason: str | None = None
    reachable: bool = False  # an unregistered seat is never offered a call
    busy_elsewhere: bool = False
    lent_to: str | None = None  # the campaign the seat is lent to
    offer: str | None = None  # the call ringing here (call state RINGING)
    call: str | None = None  # the queue call bridged here (call state ON_CALL)

    @property
    def id(self) -> str:
        """The seat id."""
        return self.config.id

    def state(self) -> SeatStateKey:
        """What a :class:`~floor.events.SeatStateChanged` reports: presence, call state, reason, call."""
        return self.presence, self.call_state, self.reason, self.offer or self.call

    @property
    def offerable(self) -> bool:
        """Ready, registered, not on another call, not lent: may ring (or keep ringing)."""
        return (self.presence is Presence.READY and self.reachable and not self.busy_elsewhere
                and self.lent_to is None)

    @property
    def available(self) -> bool:
        """Offerable and idle: a queue call may be offered now."""
        return self.offerable and self.call_state is SeatCallState.IDLE

    @property
    def idling(self) -> bool:
        """Offerable and not on a call: idle time runs (ringing does not stop it, only a call)."""
        return self.offerable and self.call_state is not SeatCallState.ON_CALL

    @property
    def staffed(self) -> bool:
        """Logged in, registered and not lent: counts as staff of its queues (even when paused)."""
        return self.presence is not Presence.LOGGED_OUT and self.reachable and self.lent_to is None

    @property
    def working(self) -> bool:
        """Staffed and not paused: the seats that will take the waiting calls (expected wait)."""
        return self.staffed and self.presence in (Presence.READY, Presence.WRAP_UP)

    def penalty(self, queue: str) -> int:
        """The seat's penalty in ``queue`` (0 unless configured)."""
        return self.config.penalties.get(queue, 0)


@dataclass(eq=False)
class CallerRuntime:
    """One caller in one queue. After an overflow into another queue a new record replaces it."""

    call: str
    queue: str
    priority: int
    skills: Mapping[str, int]  # what the caller asked for
    required: Mapping[str, int]  # the caller's and the queue's requirements, the higher level each
    info: Mapping[str, str]
    first_joined: float  # when the caller entered the first queue: the order among equal priorities
    joined: float  # when it entered this queue: wait times, max wait and stats of this queue
    seq: int
    visited: tuple[str, ...]  # queues entered, this one included (no overflow back into them)
    state: CallerState = CallerState.WAITING
    offers: set[str] = field(default_factory=set)  # seats ringing now
    attempt: int = 0  # offer rounds so far
    refused: dict[str, float] = field(default_factory=dict)  # seat -> not offered again before
    seat: str | None = None
    answered_at: float = 0.0

    def order_key(self) -> tuple[int, float, int]:
        """Higher priority first, then the longest waiting (FIFO)."""
        return -self.priority, self.first_joined, self.seq
