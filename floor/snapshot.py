"""Read-only views of the ACD at one moment: for the HTTP API, the monitor's first picture, tests.

Counters are copies, so a snapshot does not change when the ACD moves on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from floor.model import QueueConfig, Strategy, Tier
from floor.runtime import CallerRuntime, SeatRuntime
from floor.states import CallerState, Presence, SeatCallState
from floor.stats import QueueStats, SeatStats

__all__ = ["CallerView", "FloorSnapshot", "QueueView", "SeatView", "caller_view", "queue_view", "seat_view"]


@dataclass(frozen=True, slots=True)
class CallerView:
    """A caller still in a queue: waiting, or ringing at ``seats``."""

    call: str
    queue: str
    state: CallerState
    position: int  # 1 = next to be served
    priority: int
    joined_at: float
    wait_s: float
    attempts: int
    seats: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QueueView:
    """A queue: its callers in service order and its counters since the ACD started."""

    name: str
    strategy: Strategy
    callers: tuple[CallerView, ...]
    longest_wait_s: float
    staffed: int  # member seats logged in, registered, not lent
    available: int  # of those, ready and idle now
    stats: QueueStats


@dataclass(frozen=True, slots=True)
class SeatView:
    """A seat: presence, call state and how long it has been so, what keeps it from calls, stats."""

    seat: str
    team: str | None
    tier: Tier
    presence: Presence
    call_state: SeatCallState
    reason: str | None
    since: float
    time_in_state_s: float
    reachable: bool
    busy_elsewhere: bool
    lent_to: str | None
    available: bool
    queues: tuple[str, ...]
    offer: str | None
    call: str | None
    stats: SeatStats


@dataclass(frozen=True, slots=True)
class FloorSnapshot:
    """The whole floor at ``at``: queues and seats by name, in configuration order."""

    at: float
    queues: Mapping[str, QueueView]
    seats: Mapping[str, SeatView]


def caller_view(caller: CallerRuntime, position: int, now: float) -> CallerView:
    """One caller's view."""
    return CallerView(caller.call, caller.queue, caller.state, position, caller.priority,
                      caller.joined, now - caller.joined, caller.attempt, tuple(sorted(caller.offers)))


def queue_view(q: QueueConfig, stats: QueueStats, callers: Sequence[CallerRuntime],
               members: Sequence[SeatRuntime], now: float) -> QueueView:
    """One queue's view; ``callers`` in service order, ``members`` the seats serving it."""
    views = tuple(caller_view(c, i, now) for i, c in enumerate(callers, 1))
    return QueueView(q.name, q.strategy, views, max((v.wait_s for v in views), default=0.0),
                     sum(s.staffed for s in members), sum(s.available for s in members), replace(stats))


def seat_view(seat: SeatRuntime, now: float) -> SeatView:
    """One seat's view."""
    return SeatView(seat.id, seat.config.team, seat.config.tier, seat.presence, seat.call_state,
                    seat.reason, seat.since, now - seat.since, seat.reachable, seat.busy_elsewhere,
                    seat.lent_to, seat.available, tuple(sorted(seat.queues)), seat.offer, seat.call,
                    replace(seat.stats))
