"""Events into the ACD (past tense) and commands out of it (imperative), all frozen dataclasses.

Each input event matches one :class:`~floor.acd.Acd` method (``Acd.handle`` dispatches them, so a
simulator or a replay can feed a list). The outputs are what the executor carries out (ring a
seat, stop ringing, play an announcement, move the caller on) and the records to store and
publish (:class:`QueueEvent`, :class:`SeatStateChanged`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeAlias

from floor.model import OverflowTarget
from floor.states import Presence, PresenceAction, SeatCallState

__all__ = [
    "AcdCommand",
    "AcdInput",
    "Announce",
    "CallEnded",
    "CallerJoined",
    "CallerLeft",
    "CancelOffer",
    "MembershipSet",
    "OfferAccepted",
    "OfferCall",
    "OfferFailed",
    "Overflow",
    "PresenceRequested",
    "QueueEvent",
    "QueueEventKind",
    "SeatAvailabilityChanged",
    "SeatBusyElsewhere",
    "SeatLent",
    "SeatMembershipChanged",
    "SeatReachable",
    "SeatStateChanged",
]

# ---- events in -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallerJoined:
    """A caller entered ``queue``; a higher ``priority`` is served first; ``skills`` are required."""

    call: str
    queue: str
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    info: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallerLeft:
    """The caller hung up (or was taken away) while waiting or ringing."""

    call: str


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    """The seat answered the offered call."""

    call: str
    seat: str


@dataclass(frozen=True, slots=True)
class OfferFailed:
    """The seat's phone refused the offer (``busy``, ``declined``, ``error``)."""

    call: str
    seat: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The bridged call between caller and seat is over."""

    call: str
    seat: str


@dataclass(frozen=True, slots=True)
class PresenceRequested:
    """A seat (feature code) or the HTTP API (``by``) asked for a presence change."""

    seat: str
    action: PresenceAction
    reason: str | None = None
    by: str = "seat"


@dataclass(frozen=True, slots=True)
class SeatReachable:
    """The seat's softphones registered (``True``) or the last registration went away."""

    seat: str
    reachable: bool


@dataclass(frozen=True, slots=True)
class SeatBusyElsewhere:
    """The seat is on a call the ACD did not place (outbound, direct) or that call ended."""

    seat: str
    busy: bool


@dataclass(frozen=True, slots=True)
class MembershipSet:
    """The watcher (or the API) set the queues a seat serves."""

    seat: str
    queues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SeatLent:
    """The seat was lent to an outbound ``campaign`` (``None``: given back to the queues)."""

    seat: str
    campaign: str | None


AcdInput: TypeAlias = (
    CallerJoined | CallerLeft | OfferAccepted | OfferFailed | CallEnded | PresenceRequested
    | SeatReachable | SeatBusyElsewhere | MembershipSet | SeatLent
)


# ---- commands out ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferCall:
    """Ring ``seat``'s phones with ``call`` (screen-pop ``info``); the ACD runs the no-answer timer."""

    call: str
    seat: str
    queue: str
    attempt: int
    ring_timeout: float
    info: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CancelOffer:
    """Stop ringing ``seat`` with ``call`` (or hang up a leg that answered too late: ``stale``)."""

    call: str
    seat: str
    reason: str  # answered-elsewhere | caller-left | rna | overflow | withdrawn | stale


@dataclass(frozen=True, slots=True)
class Announce:
    """Tell the waiting caller its position (1 = next) and expected wait (``None``: unknown)."""

    call: str
    queue: str
    position: int
    expected_wait_s: int | None


@dataclass(frozen=True, slots=True)
class Overflow:
    """Take the caller out of ``queue`` to ``target``; a queue target is joined by the ACD itself."""

    call: str
    queue: str
    target: OverflowTarget
    reason: str  # max-wait | no-seats
    wait_s: float


class QueueEventKind(Enum):
    """The queue events that are stored and published."""

    JOINED = "joined"
    OFFERED = "offered"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"
    RNA = "rna"  # ring-no-answer at one seat
    FAILED = "failed"  # an offer refused by the phone or withdrawn (seat paused, logged out, ...)
    ENDED = "ended"  # the answered call is over: talk time for AHT


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """One queue event; ``wait_s`` is the time in this queue so far, ``at`` the ACD's ``now``."""

    kind: QueueEventKind
    call: str
    queue: str
    seat: str | None
    wait_s: float
    at: float
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SeatStateChanged:
    """A seat's presence / call state / reason / call changed at ``at``; the previous began at ``since``.

    Summing ``at - since`` per previous state gives the work-hours reports (logged-in, ready,
    paused per reason, wrap-up, talk).
    """

    seat: str
    presence: Presence
    call_state: SeatCallState
    reason: str | None
    call: str | None  # the call ringing or bridged at the seat
    at: float
    previous_presence: Presence
    previous_call_state: SeatCallState
    previous_reason: str | None
    previous_call: str | None
    since: float
    by: str


@dataclass(frozen=True, slots=True)
class SeatAvailabilityChanged:
    """Registration, an outside call or lending changed whether the seat can be offered calls."""

    seat: str
    reachable: bool
    busy_elsewhere: bool
    lent_to: str | None
    at: float


@dataclass(frozen=True, slots=True)
class SeatMembershipChanged:
    """The queues a seat serves changed."""

    seat: str
    queues: tuple[str, ...]
    at: float
    by: str


AcdCommand: TypeAlias = (
    OfferCall | CancelOffer | Announce | Overflow | QueueEvent | SeatStateChanged
    | SeatAvailabilityChanged | SeatMembershipChanged
)
