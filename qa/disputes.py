"""Disputes: a seat may dispute its evaluation once; a second reviewer upholds or revises it.

The evaluation's status is a state machine, a ``StrEnum`` plus one transition table (a missing
entry is a ``DisputeError``)::

    submitted --dispute--> disputed --assign--> in_review --uphold--> upheld
        |                                            `-----revise--> revised
        `--accept--> accepted            (the seat accepts, or the dispute window closes)

Who may do what is checked by :func:`apply`: only the evaluated seat disputes, within the
window; the second reviewer is not the first one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

__all__ = [
    "DISPUTE_WINDOW",
    "TRANSITIONS",
    "Action",
    "DisputeError",
    "EvaluationCase",
    "Status",
    "apply",
    "transition",
]

DISPUTE_WINDOW = 7 * 86400.0  # seconds after submission a seat may dispute


class Status(StrEnum):
    """Where an evaluation stands."""

    SUBMITTED = "submitted"
    DISPUTED = "disputed"
    IN_REVIEW = "in_review"
    UPHELD = "upheld"
    REVISED = "revised"
    ACCEPTED = "accepted"


class Action(StrEnum):
    """What can happen to it."""

    DISPUTE = "dispute"
    ASSIGN = "assign"
    UPHOLD = "uphold"
    REVISE = "revise"
    ACCEPT = "accept"


TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.SUBMITTED, Action.DISPUTE): Status.DISPUTED,
    (Status.SUBMITTED, Action.ACCEPT): Status.ACCEPTED,
    (Status.DISPUTED, Action.ASSIGN): Status.IN_REVIEW,
    (Status.IN_REVIEW, Action.UPHOLD): Status.UPHELD,
    (Status.IN_REVIEW, Action.REVISE): Status.REVISED,
}
FINAL = frozenset({Status.UPHELD, Status.REVISED, Status.ACCEPTED})


class DisputeError(ValueError):
    """An action the evaluation's state or the actor does not allow."""


def transition(status: Status, action: Action) -> Status:
    """The next status, or ``DisputeError`` when the table has no such entry."""
    try:
        return TRANSITIONS[status, action]
    except KeyError:
        if action is Action.DISPUTE and status is not Status.SUBMITTED:
            raise DisputeError(f"an evaluation can be disputed once; this one is {status.value}") from None
        raise DisputeError(f"cannot {action.value} an evaluation that is {status.value}") from None


@dataclass(frozen=True, slots=True)
class EvaluationCase:
    """An evaluation's dispute record: who was scored, by whom, and the dispute so far."""

    evaluation: int
    seat: str
    reviewer: str
    submitted_at: float
    status: Status = Status.SUBMITTED
    reason: str | None = None  # the seat's reason for disputing
    disputed_at: float | None = None
    second_reviewer: str | None = None
    decided_at: float | None = None
    decision_note: str | None = None

    @property
    def final(self) -> bool:
        """True once upheld, revised or accepted."""
        return self.status in FINAL


def apply(case: EvaluationCase, action: Action, *, by: str, now: float, note: str | None = None,
          window: float = DISPUTE_WINDOW) -> EvaluationCase:
    """The case after ``by`` takes ``action`` at ``now``; ``DisputeError`` when not allowed."""
    status = transition(case.status, action)
    if action is Action.DISPUTE:
        if by != case.seat:
            raise DisputeError(f"only seat {case.seat} may dispute its evaluation, not {by}")
        if now > case.submitted_at + window:
            raise DisputeError(f"the dispute window closed {window / 86400:g} days after submission")
        if not (note or "").strip():
            raise DisputeError("a dispute needs a reason")
        return replace(case, status=status, reason=note, disputed_at=now)
    if action is Action.ASSIGN:
        if by in (case.reviewer, case.seat):
            raise DisputeError(f"the second reviewer must be someone else than {by}")
        return replace(case, status=status, second_reviewer=by)
    if action in (Action.UPHOLD, Action.REVISE):
        if by != case.second_reviewer:
            raise DisputeError(f"only the second reviewer {case.second_reviewer} decides this dispute")
        return replace(case, status=status, decided_at=now, decision_note=note)
    if by != case.seat and now <= case.submitted_at + window:
        raise DisputeError(f"only seat {case.seat} accepts before the dispute window closes")
    return replace(case, status=status, decided_at=now)
