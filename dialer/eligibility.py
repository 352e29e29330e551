"""May a lead be dialled now, and if not, why and when next: the dialer's rules as pure code.

The store's ``next_leads`` selects with the same rules in SQL (a test holds the two together);
the runtime asks ``decide`` again for the lead in hand, with the DNC state read at the moment
of dialling. ``schedule_after`` is what a closed attempt does to its lead.

The rules, in the order they are checked:

1. a lead that is done, or on a do-not-call list (global or the campaign's), is never dialled;
2. a lead whose time zone is unknown is held;
3. a lead with an attempt still open is not dialled again (one attempt at a time);
4. ``max_attempts`` (callbacks are exempt: the customer asked for the call);
5. not before ``next_at`` (a retry delay, or a callback's time);
6. a callback reserved for a seat waits until that seat is ready;
7. the calling window, in the lead's local time;
8. the 72 h rule: a number whose call was abandoned within 72 h may be dialled only with a seat
   reserved for it first (Ofcom's persistent-misuse policy); ``Decision.reserved_seat`` says so.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from dialer.records import LeadRow, LeadStatus, Outcome

__all__ = [
    "ABANDON_HOLD",
    "NUMBER_GONE",
    "Decision",
    "History",
    "LeadState",
    "Reason",
    "decide",
    "schedule_after",
]

ABANDON_HOLD = 72 * 3600.0
# Final answers that the number does not exist: retrying cannot help (RFC 3261 §21.4.5, §21.4.11,
# §21.4.19, §21.6.4). 603 Decline is not here: a busy person may decline and answer later.
NUMBER_GONE = frozenset({404, 410, 484, 604})


class Reason(StrEnum):
    """Why a lead may or may not be dialled now."""

    DIAL = "dial"
    RESERVED_SEAT = "reserved_seat"  # dial only with a seat reserved first (the 72 h rule)
    DONE = "done"
    DNC = "dnc"
    HELD = "held"
    DIALING = "dialing"
    MAX_ATTEMPTS = "max_attempts"
    NOT_DUE = "not_due"
    SEAT_NOT_READY = "seat_not_ready"
    WINDOW_CLOSED = "window_closed"


@dataclass(frozen=True, slots=True)
class LeadState:
    """What the rules read of a lead row."""

    status: LeadStatus
    attempts: int
    next_at: float | None
    time_zone: str | None
    callback_seat: str | None = None

    @classmethod
    def of(cls, row: LeadRow) -> LeadState:
        """The state of a stored lead."""
        return cls(row.status, row.attempts, row.next_at, row.time_zone, row.callback_seat)


@dataclass(frozen=True, slots=True)
class History:
    """The lead's attempts, summarised: the last abandoned call to its number, an open attempt."""

    last_abandoned_at: float | None = None
    dialing: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """``dial`` with ``reserved_seat``: only once a seat is reserved; ``seat``: the callback's seat."""

    dial: bool
    reason: Reason
    next_at: float | None = None  # when to ask again (None: not by time)
    reserved_seat: bool = False
    seat: str | None = None

    @staticmethod
    def no(reason: Reason, next_at: float | None = None) -> Decision:
        """A refusal."""
        return Decision(False, reason, next_at)


def decide(
    lead: LeadState,
    history: History,
    *,
    dnc: bool,
    window: tuple[bool, float | None],
    now: float,
    max_attempts: int,
    ready_seats: Collection[str] = (),
    hold: float = ABANDON_HOLD,
) -> Decision:
    """Apply the rules of the module docstring to one lead at ``now``."""
    if lead.status == "done":
        return Decision.no(Reason.DONE)
    if lead.status == "dnc" or dnc:
        return Decision.no(Reason.DNC)
    if lead.status == "held" or lead.time_zone is None:
        return Decision.no(Reason.HELD)
    if history.dialing:
        return Decision.no(Reason.DIALING)
    if lead.status != "callback" and lead.attempts >= max_attempts:
        return Decision.no(Reason.MAX_ATTEMPTS)
    if lead.next_at is not None and lead.next_at > now:
        return Decision.no(Reason.NOT_DUE, lead.next_at)
    seat = lead.callback_seat if lead.status == "callback" else None
    if seat is not None and seat not in ready_seats:
        return Decision.no(Reason.SEAT_NOT_READY)
    is_open, next_open = window
    if not is_open:
        return Decision.no(Reason.WINDOW_CLOSED, next_open)
    abandoned = history.last_abandoned_at
    if abandoned is not None and now < abandoned + hold:
        return Decision(True, Reason.RESERVED_SEAT, abandoned + hold, reserved_seat=True, seat=seat)
    return Decision(True, Reason.DIAL, seat=seat)


def schedule_after(
    outcome: Outcome,
    *,
    attempts: int,
    max_attempts: int,
    delays: Mapping[str, float],
    now: float,
    sip_status: int | None = None,
) -> tuple[LeadStatus, float | None]:
    """The lead's (status, next_at) after an attempt closed with ``outcome``.

    ``attempts`` counts the closed one. An answered call is done (a seat's disposition may
    then make it a callback or do-not-call); a number that does not exist is done; otherwise
    the lead is retried after the outcome's delay until it has had ``max_attempts``.
    """
    if outcome == "answered":
        return "done", None
    if outcome == "rejected" and sip_status in NUMBER_GONE:
        return "done", None
    if attempts >= max_attempts:
        return "done", None
    return "retry", now + delays[outcome]
