"""Blacklist records: why a number is on the do-not-call list, who asked, who approved, until when.

A record is a state machine, a ``StrEnum`` plus one transition table (a missing entry is a
``BlacklistError``)::

    proposed --approve--> active --expire--> expired
        |                    `----revoke--> revoked
        |--reject--> rejected
        `--revoke--> revoked          (the proposer withdraws it)

The second-person rule: a handler (QA or team lead) proposes, someone in
``ComplaintSettings.approver_roles`` other than the proposer approves; ``allow_self_approval``
lifts the "other" for floors with one handler. Only an active record puts the number on the
dialer's do-not-call list (``callfloor.store.blacklist`` does that in the same transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from qa.complaints import (
    Complaint,
    ComplaintError,
    ComplaintSettings,
    Outcome,
    may_propose_blacklist,
)

__all__ = [
    "TRANSITIONS",
    "BlacklistError",
    "BlacklistRecord",
    "RecordAction",
    "RecordState",
    "Suppression",
    "act",
    "approve",
    "due_to_expire",
    "propose",
    "revoke",
]

ADMIN = "admin"
HANDLER_ROLES = frozenset({"qa", "lead", ADMIN})


class BlacklistError(ComplaintError):
    """A proposal, approval or revocation that is not allowed; the message says why."""


class RecordState(StrEnum):
    """Where a record stands; only ACTIVE holds the number on the do-not-call list."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REVOKED = "revoked"


class RecordAction(StrEnum):
    """What can happen to a record."""

    APPROVE = "approve"
    REJECT = "reject"
    EXPIRE = "expire"
    REVOKE = "revoke"


TRANSITIONS: dict[tuple[RecordState, RecordAction], RecordState] = {
    (RecordState.PROPOSED, RecordAction.APPROVE): RecordState.ACTIVE,
    (RecordState.PROPOSED, RecordAction.REJECT): RecordState.REJECTED,
    (RecordState.PROPOSED, RecordAction.REVOKE): RecordState.REVOKED,
    (RecordState.ACTIVE, RecordAction.EXPIRE): RecordState.EXPIRED,
    (RecordState.ACTIVE, RecordAction.REVOKE): RecordState.REVOKED,
}


@dataclass(frozen=True, slots=True)
class BlacklistRecord:
    """One record; ``campaign_id`` "" is the global list (as the dialer's ``dnc`` table)."""

    id: int
    number: str
    campaign_id: str
    reason: str
    complaint_id: int | None
    call_uuid: str | None
    state: RecordState
    expires_at: float | None
    proposed_by: str
    proposed_at: float
    approved_by: str | None = None
    approved_at: float | None = None
    ended_by: str | None = None
    ended_at: float | None = None
    end_reason: str | None = None

    @property
    def scope(self) -> str:
        """"global" or "campaign:<id>"."""
        return f"campaign:{self.campaign_id}" if self.campaign_id else "global"


@dataclass(frozen=True, slots=True)
class Suppression:
    """What a record would do: pending leads it would stop, per campaign, and whether the
    number is already on the do-not-call list that scope writes."""

    number: str
    campaign_id: str
    leads: Mapping[str, int] = field(default_factory=dict)
    listed: bool = False

    @property
    def total(self) -> int:
        """Pending leads suppressed in all campaigns."""
        return sum(self.leads.values())


def act(record: BlacklistRecord, action: RecordAction) -> RecordState:
    """The next state, or ``BlacklistError`` when the table has no such entry."""
    try:
        return TRANSITIONS[record.state, action]
    except KeyError:
        raise BlacklistError(f"cannot {action.value} blacklist record {record.id}: it is {record.state.value}") from None


def propose(number: str, *, campaign_id: str | None, reason: str, complaint: Complaint | None,
            call_uuid: str | None, expires_at: float | None, by: str, role: str, now: float,
            settings: ComplaintSettings) -> BlacklistRecord:
    """A proposed record, checked: a handler proposes; a complaint behind it must be closed as
    groundless and about this number; expiry is in the future (default from the settings)."""
    if role not in HANDLER_ROLES:
        raise BlacklistError(f"a {role} may not propose a blacklist record (qa, lead or admin)")
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise BlacklistError("reason: must not be empty")
    if complaint is not None:
        if not may_propose_blacklist(complaint.outcome):
            found = complaint.outcome.value if complaint.outcome else complaint.state.value
            raise BlacklistError(f"complaint {complaint.id} is {found}: only a groundless complaint"
                                 f" ({Outcome.GROUNDLESS.value}) may blacklist its number")
        if complaint.number != number:
            raise BlacklistError(f"complaint {complaint.id} is about {complaint.number}, not {number}")
    if expires_at is None and settings.default_expiry_days is not None:
        expires_at = now + settings.default_expiry_days * 86400.0
    if expires_at is not None and expires_at <= now:
        raise BlacklistError("expires_at: must be in the future")
    return BlacklistRecord(0, number, campaign_id or "", text, complaint.id if complaint else None,
                           call_uuid, RecordState.PROPOSED, expires_at, by, now)


def approve(record: BlacklistRecord, *, by: str, role: str, now: float,
            settings: ComplaintSettings) -> BlacklistRecord:
    """The record approved (active): by an approver role, a second person unless allowed."""
    state = act(record, RecordAction.APPROVE)
    if role != ADMIN and role not in settings.approver_roles:
        raise BlacklistError(f"a {role} may not approve a blacklist record ({', '.join(settings.approver_roles)})")
    if by == record.proposed_by and not settings.allow_self_approval:
        raise BlacklistError(f"{by} proposed record {record.id}: a second person approves it")
    if record.expires_at is not None and record.expires_at <= now:
        raise BlacklistError(f"record {record.id} expired before it was approved; propose it again")
    return replace(record, state=state, approved_by=by, approved_at=now)


def revoke(record: BlacklistRecord, action: RecordAction, *, by: str, role: str, now: float,
           reason: str, settings: ComplaintSettings) -> BlacklistRecord:
    """The record rejected or revoked: approvers may; the proposer may withdraw its proposal."""
    if action not in (RecordAction.REJECT, RecordAction.REVOKE):
        raise BlacklistError(f"{action.value} is not a rejection or revocation")
    state = act(record, action)
    own_proposal = record.state is RecordState.PROPOSED and by == record.proposed_by
    if role != ADMIN and role not in settings.approver_roles and not own_proposal:
        raise BlacklistError(f"a {role} may not {action.value} blacklist record {record.id}")
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise BlacklistError("reason: say why")
    return replace(record, state=state, ended_by=by, ended_at=now, end_reason=text)


def due_to_expire(record: BlacklistRecord, now: float) -> bool:
    """An active record whose expiry has come."""
    return record.state is RecordState.ACTIVE and record.expires_at is not None and record.expires_at <= now
