"""Complaint cases: the customer's number and an approximate time, the follow-up, the outcome.

A case is a state machine, a ``StrEnum`` plus one transition table (a missing entry is a
``ComplaintError``)::

    open --investigate--> investigating --ask_customer--> awaiting_customer
     |                      ^    |                            |
     |                      |    `--close--> closed <--close--'
     |                      `--customer_replied--------------'
     `--close--> closed --reopen--> investigating

Closing needs an :class:`Outcome`; only "groundless" may lead to a blacklist proposal
(``qa.blacklist``). Candidate calls are matched by number (inbound: the caller; outbound: the
callee) and ranked by their distance in time from the approximate time, within a tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from dialer.numbers import NumberError, normalise

__all__ = [
    "MAX_TOLERANCE",
    "TRANSITIONS",
    "CallCandidate",
    "CaseAction",
    "CaseState",
    "Channel",
    "Complaint",
    "ComplaintError",
    "ComplaintSettings",
    "FollowUpStep",
    "Match",
    "Outcome",
    "apply",
    "check_step",
    "match_calls",
    "may_propose_blacklist",
    "new_complaint",
    "normalise_number",
    "step_status",
    "transition",
]

MAX_TOLERANCE = 7 * 86400.0  # a wider window is not "an approximate time" any more
MAX_TEXT = 4000


class ComplaintError(ValueError):
    """A case, step or action that is not valid; the message names the field."""


class CaseState(StrEnum):
    """Where a case stands."""

    OPEN = "open"
    INVESTIGATING = "investigating"
    AWAITING_CUSTOMER = "awaiting_customer"
    CLOSED = "closed"


class CaseAction(StrEnum):
    """What a handler does to a case."""

    INVESTIGATE = "investigate"
    ASK_CUSTOMER = "ask_customer"
    CUSTOMER_REPLIED = "customer_replied"
    CLOSE = "close"
    REOPEN = "reopen"


class Channel(StrEnum):
    """How the complaint reached us."""

    PHONE = "phone"
    EMAIL = "email"
    WEB = "web"
    LETTER = "letter"
    IN_PERSON = "in_person"
    REGULATOR = "regulator"
    OTHER = "other"


class Outcome(StrEnum):
    """How a case was closed."""

    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    GROUNDLESS = "groundless"
    WITHDRAWN = "withdrawn"


TRANSITIONS: dict[tuple[CaseState, CaseAction], CaseState] = {
    (CaseState.OPEN, CaseAction.INVESTIGATE): CaseState.INVESTIGATING,
    (CaseState.OPEN, CaseAction.CLOSE): CaseState.CLOSED,
    (CaseState.INVESTIGATING, CaseAction.ASK_CUSTOMER): CaseState.AWAITING_CUSTOMER,
    (CaseState.INVESTIGATING, CaseAction.CLOSE): CaseState.CLOSED,
    (CaseState.AWAITING_CUSTOMER, CaseAction.CUSTOMER_REPLIED): CaseState.INVESTIGATING,
    (CaseState.AWAITING_CUSTOMER, CaseAction.CLOSE): CaseState.CLOSED,
    (CaseState.CLOSED, CaseAction.REOPEN): CaseState.INVESTIGATING,
}


class ComplaintSettings(BaseModel):
    """Complaint handling: number region, default matching window, who approves blacklisting."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_region: str = Field(default="US", pattern=r"^[A-Z]{2}$", description="Region of numbers written without + (a complaint's number, the CDR's numbers).")
    tolerance_s: float = Field(default=1800.0, gt=0, le=MAX_TOLERANCE, description="Default tolerance around a complaint's approximate time when searching its calls.")
    allow_self_approval: bool = Field(default=False, description="Let the proposer of a blacklist record approve it too (small floors with one handler).")
    approver_roles: tuple[str, ...] = Field(default=("lead", "admin"), min_length=1, description="Roles that may approve a blacklist proposal (admin always may).")
    default_expiry_days: float | None = Field(default=365.0, gt=0, description="Expiry of a blacklist record when the proposal names none; null: no expiry.")


def may_propose_blacklist(outcome: Outcome | None) -> bool:
    """Only a groundless complaint may put its number on the blacklist."""
    return outcome is Outcome.GROUNDLESS


def transition(state: CaseState, action: CaseAction) -> CaseState:
    """The next state, or ``ComplaintError`` when the table has no such entry."""
    try:
        return TRANSITIONS[state, action]
    except KeyError:
        raise ComplaintError(f"cannot {action.value} a case that is {state.value}") from None


def normalise_number(text: str, region: str | None) -> str:
    """``text`` as E.164 (``dialer.numbers.normalise``), or ``ComplaintError`` naming the field."""
    try:
        return normalise(text, region).e164
    except NumberError as exc:
        raise ComplaintError(f"number {text!r}: {exc}") from None


def _text(field: str, value: str, *, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise ComplaintError(f"{field}: must not be empty")
    if len(text) > MAX_TEXT:
        raise ComplaintError(f"{field}: at most {MAX_TEXT} characters, not {len(text)}")
    return text


@dataclass(frozen=True, slots=True)
class Complaint:
    """One complaint case; ``id`` is 0 until stored."""

    id: int
    number: str  # E.164
    approx_at: float  # when the customer says the call was (unix seconds)
    tolerance_s: float
    channel: Channel
    description: str
    state: CaseState
    outcome: Outcome | None
    outcome_note: str | None
    opened_by: str
    opened_at: float
    updated_at: float
    closed_at: float | None = None


def new_complaint(number: str, approx_at: float, tolerance_s: float, channel: str, description: str,
                  *, opened_by: str, now: float, region: str | None) -> Complaint:
    """A new open case, its fields checked (number normalised to E.164)."""
    e164 = normalise_number(number, region)
    if not 0 < tolerance_s <= MAX_TOLERANCE:
        raise ComplaintError(f"tolerance_s: between 0 and {MAX_TOLERANCE:.0f} s, not {tolerance_s}")
    if approx_at > now + tolerance_s:
        raise ComplaintError("approx_at: the call cannot be in the future")
    try:
        kind = Channel(channel)
    except ValueError:
        raise ComplaintError(f"channel: one of {', '.join(Channel)}, not {channel!r}") from None
    return Complaint(0, e164, float(approx_at), float(tolerance_s), kind, _text("description", description),
                     CaseState.OPEN, None, None, _text("opened_by", opened_by), now, now)


def apply(case: Complaint, action: CaseAction, now: float, *, outcome: str | None = None,
          note: str | None = None) -> Complaint:
    """The case after ``action``; closing needs an outcome, nothing else takes one."""
    state = transition(case.state, action)
    if action is CaseAction.CLOSE:
        if outcome is None:
            raise ComplaintError(f"outcome: closing needs one of {', '.join(Outcome)}")
        try:
            result = Outcome(outcome)
        except ValueError:
            raise ComplaintError(f"outcome: one of {', '.join(Outcome)}, not {outcome!r}") from None
        return replace(case, state=state, outcome=result, outcome_note=_text("note", note or "", required=False) or None,
                       updated_at=now, closed_at=now)
    if outcome is not None:
        raise ComplaintError(f"outcome: only closing sets one, not {action.value}")
    if action is CaseAction.REOPEN:
        return replace(case, state=state, outcome=None, outcome_note=None, updated_at=now, closed_at=None)
    return replace(case, state=state, updated_at=now)


@dataclass(frozen=True, slots=True)
class FollowUpStep:
    """A follow-up step of a case: what to do, by when, and when it was done."""

    id: int
    case_id: int
    text: str
    due_at: float | None
    done_at: float | None
    done_by: str | None
    created_by: str
    created_at: float


def check_step(text: str, due_at: float | None, *, now: float) -> tuple[str, float | None]:
    """A step's text and due time, checked: a due time is not before the step is written."""
    if due_at is not None and due_at < now - 86400.0:
        raise ComplaintError("due_at: a step cannot be due more than a day before it is written")
    return _text("text", text), due_at


def step_status(step: FollowUpStep, now: float) -> str:
    """"done", "overdue" (due and not done) or "pending"."""
    if step.done_at is not None:
        return "done"
    return "overdue" if step.due_at is not None and step.due_at < now else "pending"


@dataclass(frozen=True, slots=True)
class CallCandidate:
    """What matching needs of a call record (a CDR)."""

    call: str
    direction: str  # inbound, outbound, internal
    caller: str
    callee: str
    started_at: float
    ended_at: float | None
    seat: str | None
    recording: bool


@dataclass(frozen=True, slots=True)
class Match:
    """A candidate call and its distance in seconds from the approximate time (0: during it)."""

    call: CallCandidate
    distance_s: float


def _same(raw: str, e164: str, region: str | None) -> bool:
    """A CDR's number (as the trunk wrote it) is the complaint's E.164 number."""
    if raw == e164:
        return True
    text = raw.split("@", 1)[0].removeprefix("sip:").removeprefix("tel:")
    try:
        return normalise(text, region).e164 == e164
    except NumberError:
        digits = "".join(c for c in text if c.isdigit())
        return bool(digits) and digits == e164.lstrip("+")


def match_calls(calls: Iterable[CallCandidate], number: str, approx_at: float, tolerance_s: float,
                *, region: str | None = None) -> list[Match]:
    """The calls with ``number`` (inbound: caller; outbound: callee) within ``tolerance_s`` of
    ``approx_at``, nearest first; the distance is to the call's span, 0 when the time falls in it."""
    out: list[Match] = []
    for call in calls:
        side = call.caller if call.direction == "inbound" else call.callee if call.direction == "outbound" else None
        if side is None or not _same(side, number, region):
            continue
        end = call.ended_at if call.ended_at is not None else call.started_at
        distance = max(call.started_at - approx_at, approx_at - end, 0.0)
        if distance <= tolerance_s:
            out.append(Match(call, distance))
    return sorted(out, key=lambda m: (m.distance_s, m.call.started_at, m.call.call))
