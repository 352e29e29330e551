"""The attempt ledger: an attempt is committed before its INVITE, closed with its outcome,
and closed as 'lost' by ``recover`` when a crash left it open."""

from __future__ import annotations

import sqlite3
from typing import cast

from callfloor.store.dialer.core import (
    ABANDONED,
    ATTEMPT_COLUMNS,
    ON_DNC,
    AttemptClosedError,
    DialerBase,
    DuplicateAttemptError,
    NotDialableError,
    UnknownAttemptError,
    UnknownLeadError,
)
from dialer.eligibility import schedule_after
from dialer.records import AttemptRow, Outcome

__all__ = ["HISTORY", "LedgerMixin", "set_lead"]

# A campaign's closed attempts since a time, the newest N: read backwards along attempts_campaign.
HISTORY = (f"SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE campaign_id = ? AND created_at > ?"
           " AND state = 'closed' ORDER BY created_at DESC, id DESC LIMIT ?")


class LedgerMixin(DialerBase):
    """Attempt rows of ``DialerStore``."""

    async def abandonment_ledger(self, campaign_id: str, since: float) -> list[tuple[float, str | None, str | None]]:
        """``(answered_at or created_at, outcome, amd)`` of the campaign's closed attempts since
        ``since``: what an abandonment tracker is rebuilt from at start-up."""
        rows = await self._rows(
            "SELECT coalesce(answered_at, created_at), outcome, amd FROM attempts"
            " WHERE campaign_id = ? AND created_at > ? AND state = 'closed' ORDER BY 1",
            (campaign_id, since),
        )
        return [(float(at), outcome, amd) for at, outcome, amd in rows]

    async def closed_attempts(self, campaign_id: str, since: float, limit: int) -> list[AttemptRow]:
        """The campaign's closed attempts created after ``since``, the newest ``limit`` of them
        (newest first): the history a campaign's pacer resumes from at start-up."""
        rows = await self._rows(HISTORY, (campaign_id, since, limit))
        return [AttemptRow(*r) for r in rows]

    async def open_attempt(
        self, lead_id: int, call_uuid: str, mode: str, now: float, *, seat_reserved: bool = False
    ) -> int:
        """Write a 'dialing' attempt and count it on the lead; committed when this returns.

        Refused (``NotDialableError``) when the lead is done, held or on a DNC list now, has
        an attempt open, or its number's call was abandoned within 72 h and no seat is reserved.
        """

        def work(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT campaign_id, number, status FROM leads WHERE id = ?", (lead_id,)).fetchone()
            if row is None:
                raise UnknownLeadError(f"no lead {lead_id}")
            campaign_id, number, status = row
            if status in ("done", "dnc", "held"):
                raise NotDialableError(lead_id, status)
            if conn.execute(ON_DNC.format("?", "?"), (number, campaign_id)).fetchone():
                raise NotDialableError(lead_id, "dnc")
            if conn.execute("SELECT 1 FROM attempts WHERE lead_id = ? AND state = 'dialing'", (lead_id,)).fetchone():
                raise NotDialableError(lead_id, "dialing")
            if not seat_reserved and conn.execute(ABANDONED.format("?", "?"), (number, now - self._hold)).fetchone():
                raise NotDialableError(lead_id, "reserved_seat")
            try:
                cursor = conn.execute(
                    "INSERT INTO attempts (lead_id, campaign_id, number, call_uuid, mode, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)", (lead_id, campaign_id, number, call_uuid, mode, now),
                )
            except sqlite3.IntegrityError:
                raise DuplicateAttemptError(f"an attempt for call {call_uuid} exists") from None
            conn.execute("UPDATE leads SET attempts = attempts + 1 WHERE id = ?", (lead_id,))
            conn.execute(
                "UPDATE callbacks SET state = 'done' WHERE lead_id = ? AND state = 'pending' AND due_at <= ?",
                (lead_id, now),
            )
            return cast(int, cursor.lastrowid)

        return await self._atomic(work)

    async def close_attempt(
        self,
        attempt_id: int,
        outcome: Outcome,
        *,
        now: float,
        sip_status: int | None = None,
        answered_at: float | None = None,
        connected_at: float | None = None,
        seat_id: str | None = None,
        amd: str | None = None,
    ) -> AttemptRow:
        """Close an attempt with its outcome and reschedule its lead by the retry rules."""
        rows = await self._rows("SELECT campaign_id FROM attempts WHERE id = ?", (attempt_id,))
        if not rows:
            raise UnknownAttemptError(f"no attempt {attempt_id}")
        policy = await self._policy(rows[0][0])

        def work(conn: sqlite3.Connection) -> AttemptRow:
            changed = conn.execute(
                "UPDATE attempts SET state = 'closed', outcome = ?, sip_status = ?, answered_at = ?,"
                " connected_at = ?, seat_id = coalesce(?, seat_id), amd = ?, closed_at = ?"
                " WHERE id = ? AND state = 'dialing'",
                (outcome, sip_status, answered_at, connected_at, seat_id, amd, now, attempt_id),
            ).rowcount
            if not changed:
                raise AttemptClosedError(f"attempt {attempt_id} is closed already")
            return _reschedule(conn, attempt_id, policy, now)

        return await self._atomic(work)

    async def recover(self, now: float) -> list[AttemptRow]:
        """At start-up: close every attempt still 'dialing' as 'lost' and reschedule its lead."""
        rows = await self._rows("SELECT DISTINCT campaign_id FROM attempts WHERE state = 'dialing'")
        policies = {cid: await self._policy(cid) for (cid,) in rows}

        def work(conn: sqlite3.Connection) -> list[AttemptRow]:
            found = conn.execute(
                "UPDATE attempts SET state = 'closed', outcome = 'lost', closed_at = ?"
                " WHERE state = 'dialing' RETURNING id, campaign_id", (now,),
            ).fetchall()
            return [_reschedule(conn, aid, policies[cid], now) for aid, cid in sorted(found)]

        return await self._atomic(work)

    async def attempt(self, attempt_id: int) -> AttemptRow | None:
        """The attempt with this id, if any."""
        rows = await self._rows(f"SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE id = ?", (attempt_id,))
        return AttemptRow(*rows[0]) if rows else None

    async def attempts(self, lead_id: int) -> list[AttemptRow]:
        """The lead's attempts, oldest first."""
        rows = await self._rows(f"SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE lead_id = ? ORDER BY id", (lead_id,))
        return [AttemptRow(*r) for r in rows]

    async def abandoned_within(self, number: str, hours: float, now: float) -> bool:
        """True when a call to ``number`` (any campaign) was abandoned in the last ``hours``."""
        rows = await self._rows(ABANDONED.format("?", "?"), (number, now - hours * 3600.0))
        return bool(rows)


def set_lead(conn: sqlite3.Connection, lead_id: int, status: str, next_at: float | None) -> None:
    """Set a lead's status and next time (a lead on do-not-call stays so)."""
    conn.execute(
        "UPDATE leads SET status = ?, next_at = ?, callback_seat = NULL WHERE id = ? AND status != 'dnc'",
        (status, next_at, lead_id),
    )


def _reschedule(
    conn: sqlite3.Connection, attempt_id: int, policy: tuple[int, dict[str, float]], now: float
) -> AttemptRow:
    """Apply a closed attempt's outcome to its lead, unless a disposition or DNC decided it."""
    attempt = AttemptRow(*conn.execute(f"SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE id = ?", (attempt_id,)).fetchone())
    status, attempts = conn.execute(
        "SELECT status, attempts FROM leads WHERE id = ?", (attempt.lead_id,)
    ).fetchone()
    conn.execute("UPDATE leads SET last_outcome = ? WHERE id = ?", (attempt.outcome, attempt.lead_id))
    decided = conn.execute("SELECT 1 FROM dispositions WHERE attempt_id = ?", (attempt_id,)).fetchone()
    booked = conn.execute(
        "SELECT 1 FROM callbacks WHERE lead_id = ? AND state = 'pending'", (attempt.lead_id,)
    ).fetchone()
    if decided or booked or status in ("dnc", "done") or attempt.outcome is None:
        return attempt
    max_attempts, delays = policy
    new_status, next_at = schedule_after(
        attempt.outcome, attempts=attempts, max_attempts=max_attempts, delays=delays, now=now,
        sip_status=attempt.sip_status,
    )
    set_lead(conn, attempt.lead_id, new_status, next_at)
    return attempt
