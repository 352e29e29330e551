"""Rows of the dialer's tables as values: what the store returns and the runtime reads.

The tables are in ``callfloor/store/migrations/003_dialer.sql`` (and 004). All times are unix
seconds. These are plain frozen dataclasses so pure code (eligibility, reports) can take them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = [
    "AMD_RESULTS",
    "DISPOSITION_KINDS",
    "LEAD_STATUSES",
    "OUTCOMES",
    "AmdResult",
    "AttemptRow",
    "CallbackRow",
    "CampaignRow",
    "CampaignVersion",
    "DispositionKind",
    "DispositionRow",
    "DncEntry",
    "ImportResult",
    "LeadResult",
    "LeadRow",
    "LeadStatus",
    "Outcome",
    "changed_keys",
    "history_rows",
]

LeadStatus = Literal["new", "retry", "callback", "done", "dnc", "held"]
Outcome = Literal[
    "answered", "abandoned", "busy", "no_answer", "machine", "rejected", "network_error", "cancelled", "lost"
]
DispositionKind = Literal["conversion", "refusal", "callback", "dnc", "other"]
AmdResult = Literal["human", "machine", "unknown"]

LEAD_STATUSES: tuple[LeadStatus, ...] = get_args(LeadStatus)
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
DISPOSITION_KINDS: tuple[DispositionKind, ...] = get_args(DispositionKind)
AMD_RESULTS: tuple[AmdResult, ...] = get_args(AmdResult)


@dataclass(frozen=True, slots=True)
class CampaignRow:
    """A campaign as stored (its settings are the JSON ``config``)."""

    id: str
    name: str
    source: str
    active: bool
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class CampaignVersion:
    """One definition a campaign has had: its settings from ``at`` on, and what changed them."""

    id: int
    campaign_id: str
    source: str
    change: str  # created, updated, started, stopped, file-took-over, file-removed, existing
    config: dict[str, Any]
    changed_by: str | None
    at: float


def changed_keys(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """The top-level settings that differ between two versions (all of ``after``'s with no
    ``before``), sorted."""
    if before is None:
        return sorted(after)
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def history_rows(versions: Sequence[CampaignVersion]) -> list[dict[str, Any]]:
    """A campaign's versions (oldest first) as JSON-ready rows, newest first, each naming the
    settings it changed from the version before."""
    rows: list[dict[str, Any]] = []
    before: dict[str, Any] | None = None
    for v in versions:
        rows.append({"version": v.id, "at": v.at, "source": v.source, "change": v.change,
                     "by": v.changed_by, "changed": changed_keys(before, v.config), "campaign": v.config})
        before = v.config
    return rows[::-1]


@dataclass(frozen=True, slots=True)
class LeadRow:
    """One lead; ``reserved_seat`` is set by ``next_leads`` (the 72 h rule, see eligibility)."""

    id: int
    campaign_id: str
    number: str
    name: str | None
    data: dict[str, str]
    time_zone: str | None
    country: str | None
    status: LeadStatus
    attempts: int
    next_at: float | None
    last_outcome: str | None
    callback_seat: str | None
    imported_at: float
    import_line: int | None
    reserved_seat: bool = False


@dataclass(frozen=True, slots=True)
class LeadResult:
    """A lead with its last attempt's time, the last disposition set for it and its pending
    callback: one row of a campaign's results file."""

    lead: LeadRow
    last_attempt_at: float | None
    disposition: str | None
    disposition_kind: str | None
    note: str | None
    seat: str | None
    disposed_at: float | None
    callback_at: float | None


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """One entry of the attempt ledger."""

    id: int
    lead_id: int
    campaign_id: str
    number: str
    call_uuid: str
    mode: str
    state: Literal["dialing", "closed"]
    outcome: Outcome | None
    sip_status: int | None
    created_at: float
    answered_at: float | None
    connected_at: float | None
    seat_id: str | None
    amd: str | None
    closed_at: float | None


@dataclass(frozen=True, slots=True)
class DncEntry:
    """A number on the global list (``campaign_id`` "") or on one campaign's list."""

    number: str
    campaign_id: str
    reason: str
    source: str
    added_by: str | None
    added_at: float

    @property
    def is_global(self) -> bool:
        """True for the global list (complaints, a seat's do-not-call disposition)."""
        return self.campaign_id == ""


@dataclass(frozen=True, slots=True)
class DispositionRow:
    """A seat's disposition of one attempt."""

    id: int
    attempt_id: int
    lead_id: int
    campaign_id: str
    seat_id: str
    code: str
    kind: DispositionKind
    note: str | None
    at: float


@dataclass(frozen=True, slots=True)
class CallbackRow:
    """A scheduled callback; ``seat_id`` None means any seat of the campaign."""

    id: int
    lead_id: int
    campaign_id: str
    seat_id: str | None
    due_at: float
    created_by: str
    created_at: float
    state: Literal["pending", "done", "cancelled"]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import wrote: ``refused`` means nothing (strict mode and bad rows)."""

    inserted: int
    existing: tuple[tuple[int, str], ...] = ()  # (line, number) already in the campaign, left as is
    on_dnc: int = 0  # imported numbers that are on a do-not-call list now (never dialled while so)
    refused: bool = False
    held: int = 0  # imported with an unknown time zone
