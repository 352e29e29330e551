"""What the queue-watcher sees (a snapshot per queue and per seat) and what it decides (seat moves).

The live service fills a :class:`WatcherSnapshot` from the floor metrics; the simulator fills it
from its own state. Assignments and move targets are written like the monitor's move command:
``queue:<name>`` or ``campaign:<id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BUSY",
    "Explanation",
    "MoveKind",
    "QueueInfo",
    "SeatActivity",
    "SeatInfo",
    "SeatMove",
    "WatcherSnapshot",
    "campaign_target",
    "queue_target",
]


class SeatActivity(StrEnum):
    """A seat's state as the watcher cares: only a free seat is moved."""

    READY = "ready"
    RINGING = "ringing"
    TALKING = "talking"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    LOGGED_OUT = "logged_out"


BUSY = frozenset({SeatActivity.RINGING, SeatActivity.TALKING, SeatActivity.WRAP_UP})


def queue_target(name: str) -> str:
    """The assignment string of an inbound queue."""
    return f"queue:{name}"


def campaign_target(name: str) -> str:
    """The assignment string of an outbound campaign."""
    return f"campaign:{name}"


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """One inbound queue now.

    ``sl_15m`` is the service level over the last 15 minutes (``None``: nothing to measure),
    ``arrival_rate`` the recent arrivals per second and ``handle_time_s`` the recent mean talk
    plus wrap-up (``None`` until calls have ended); the forecasting mode needs both.
    """

    id: str
    sl_15m: float | None
    longest_wait_s: float
    waiting: int
    arrival_rate: float | None
    handle_time_s: float | None


@dataclass(frozen=True, slots=True)
class SeatInfo:
    """One seat now: where it belongs (``home``), where it is (``assignment``), what it can do."""

    id: str
    home: str
    assignment: str
    skills: Mapping[str, int]
    state: SeatActivity
    moved_at: float | None = None  # when it was last moved (by anyone), unix seconds

    def level(self, skill: str) -> int:
        """The seat's level in ``skill`` (0 without it)."""
        return self.skills.get(skill, 0)


@dataclass(frozen=True, slots=True)
class WatcherSnapshot:
    """The floor as the watcher sees it at ``at``: inbound queues and seats by id."""

    at: float
    queues: Mapping[str, QueueInfo]
    seats: Mapping[str, SeatInfo]


class MoveKind(StrEnum):
    """Why a seat moves: borrowed by a queue, sent back home, or a queue's spare seat lent out."""

    LEND = "lend"
    RETURN = "return"
    LEND_OUT = "lend_out"


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why: the rule, the numbers that fired it, a message key with its params, an English sentence."""

    rule: str
    key: str
    numbers: Mapping[str, float | int | None]
    params: Mapping[str, str | float | int | None]
    text: str


@dataclass(frozen=True, slots=True)
class SeatMove:
    """A decision: move ``seat`` from ``source`` to ``target`` (``queue:<q>`` / ``campaign:<c>``).

    ``decided_at`` is when the watcher chose the seat; when it was busy then, the move waited
    until its call and wrap-up were over and ``at`` is later.
    """

    seat: str
    source: str
    target: str
    kind: MoveKind
    explanation: Explanation
    at: float
    decided_at: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the decision log entry the monitor shows and the audit log stores."""
        e = self.explanation
        return {"seat": self.seat, "source": self.source, "target": self.target,
                "kind": self.kind.value, "rule": e.rule, "key": e.key, "numbers": dict(e.numbers),
                "params": dict(e.params), "text": e.text, "at": self.at,
                "decided_at": self.decided_at}
