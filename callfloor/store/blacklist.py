"""Blacklist records on the service's connection (migration 008), feeding the dialer's own
``dnc`` table: an approved record inserts its number there, in the transaction that writes the
record and its audit row; expiry or revocation takes it off again, unless another active
record, a seat's do-not-call disposition or another source still holds it.

Entries this module writes carry ``source = 'blacklist'``; it never deletes an entry another
source wrote ('cli', 'api', 'disposition', 'import', ...).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from callfloor.store.audit import audit_insert
from callfloor.store.dialer.core import ON_DNC, DialerBase
from callfloor.store.schema import StoreError
from qa.blacklist import (
    BlacklistRecord,
    RecordAction,
    RecordState,
    Suppression,
    approve,
    due_to_expire,
    propose,
    revoke,
)
from qa.complaints import CaseState, Channel, Complaint, ComplaintSettings, Outcome

__all__ = [
    "BLACKLIST_COLUMNS",
    "COMPLAINT_COLUMNS",
    "SOURCE",
    "BlacklistMixin",
    "UnknownRecordError",
    "complaint_row",
    "record_row",
    "suppression",
]

SOURCE = "blacklist"  # dnc.source of the entries a record writes
EXPIRY_ACTOR = "system:blacklist-expiry"
PENDING = ("new", "retry", "callback")  # lead statuses still to be dialled
BLACKLIST_COLUMNS = ("id, number, campaign_id, reason, complaint_id, call_uuid, state, expires_at, proposed_by,"
                     " proposed_at, approved_by, approved_at, ended_by, ended_at, end_reason")
COMPLAINT_COLUMNS = ("id, number, approx_at, tolerance_s, channel, description, state, outcome, outcome_note,"
                     " opened_by, opened_at, updated_at, closed_at")


class UnknownRecordError(StoreError, LookupError):
    """No blacklist record (or complaint) has this id."""


def record_row(row: Sequence[Any]) -> BlacklistRecord:
    """A ``BlacklistRecord`` from the ``BLACKLIST_COLUMNS`` of a row."""
    values = list(row)
    values[6] = RecordState(values[6])
    return BlacklistRecord(*values)


def complaint_row(row: Sequence[Any]) -> Complaint:
    """A ``Complaint`` from the ``COMPLAINT_COLUMNS`` of a row."""
    (cid, number, at, tol, channel, text, state, outcome, note, by, opened, updated, closed) = row
    return Complaint(cid, number, at, tol, Channel(channel), text, CaseState(state),
                     Outcome(outcome) if outcome else None, note, by, opened, updated, closed)


def _record(conn: sqlite3.Connection, record_id: int) -> BlacklistRecord:
    row = conn.execute(f"SELECT {BLACKLIST_COLUMNS} FROM blacklist WHERE id = ?", (record_id,)).fetchone()
    if row is None:
        raise UnknownRecordError(f"no blacklist record {record_id}")
    return record_row(row)


def suppression(conn: sqlite3.Connection, number: str, campaign_id: str) -> Suppression:
    """Pending leads with ``number`` that a record in this scope would stop (those no other
    do-not-call entry stops already), per campaign."""
    rows = conn.execute(
        f"SELECT l.campaign_id, count(*) FROM leads l WHERE l.number = ? AND l.status IN {PENDING!r}"
        f" AND (? = '' OR l.campaign_id = ?) AND NOT EXISTS ({ON_DNC.format('l.number', 'l.campaign_id')})"
        " GROUP BY l.campaign_id ORDER BY l.campaign_id", (number, campaign_id, campaign_id),
    ).fetchall()
    listed = conn.execute("SELECT 1 FROM dnc WHERE number = ? AND campaign_id = ?", (number, campaign_id)).fetchone()
    return Suppression(number, campaign_id, {c: int(n) for c, n in rows}, listed is not None)


def _hold(conn: sqlite3.Connection, call: str | None, reason: str, now: float, *,
          case_id: int | None = None, blacklist_id: int | None = None) -> None:
    if call:
        conn.execute("INSERT INTO recording_holds (call_uuid, reason, case_id, blacklist_id, held_at)"
                     " VALUES (?, ?, ?, ?, ?)", (call, reason, case_id, blacklist_id, now))


def _list(conn: sqlite3.Connection, record: BlacklistRecord, by: str, now: float) -> str:
    """Put an activated record's number on the dnc table; what happened, for the audit row."""
    added = conn.execute(
        "INSERT INTO dnc (number, campaign_id, reason, source, added_by, added_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (record.number, record.campaign_id, f"blacklist {record.id}: {record.reason}", SOURCE, by, now),
    ).rowcount
    if added:
        return "added"
    (source,) = conn.execute("SELECT source FROM dnc WHERE number = ? AND campaign_id = ?",
                             (record.number, record.campaign_id)).fetchone()
    return f"listed already ({source})"


def _unlist(conn: sqlite3.Connection, record: BlacklistRecord) -> str:
    """Take an ended record's number off the dnc table unless something else holds it."""
    number, scope = record.number, record.campaign_id
    if conn.execute("SELECT 1 FROM blacklist WHERE number = ? AND campaign_id = ? AND state = 'active' AND id != ?",
                    (number, scope, record.id)).fetchone():
        return "kept: another active record"
    row = conn.execute("SELECT source FROM dnc WHERE number = ? AND campaign_id = ?", (number, scope)).fetchone()
    if row is None:
        return "not listed"
    if row[0] != SOURCE:
        return f"kept: listed by {row[0]}"
    held = None if scope else conn.execute(
        "SELECT d.code, d.seat_id, d.at FROM dispositions d JOIN attempts a ON a.id = d.attempt_id"
        " WHERE d.kind = 'dnc' AND a.number = ? ORDER BY d.at, d.id LIMIT 1", (number,),
    ).fetchone()
    if held is not None:
        # the seat's disposition was refused by the blacklist's entry (ON CONFLICT): it owns it now
        conn.execute("UPDATE dnc SET source = 'disposition', reason = ?, added_by = ?, added_at = ?"
                     " WHERE number = ? AND campaign_id = ''", (f"disposition {held[0]}", held[1], held[2], number))
        return "kept: a do-not-call disposition"
    conn.execute("DELETE FROM dnc WHERE number = ? AND campaign_id = ?", (number, scope))
    return "removed"


def _write(conn: sqlite3.Connection, r: BlacklistRecord) -> None:
    conn.execute("UPDATE blacklist SET state = ?, approved_by = ?, approved_at = ?, ended_by = ?, ended_at = ?,"
                 " end_reason = ? WHERE id = ?",
                 (r.state.value, r.approved_by, r.approved_at, r.ended_by, r.ended_at, r.end_reason, r.id))


def _end(conn: sqlite3.Connection, was: BlacklistRecord, now_record: BlacklistRecord, now: float) -> str:
    """Write an ended record, release its recording hold and (if it was active) its listing."""
    _write(conn, now_record)
    conn.execute("UPDATE recording_holds SET released_at = ? WHERE blacklist_id = ? AND released_at IS NULL",
                 (now, was.id))
    return _unlist(conn, now_record) if was.state is RecordState.ACTIVE else "was not listed"


class BlacklistMixin(DialerBase):
    """Blacklist records of ``ComplaintStore``."""

    async def preview_blacklist(self, number: str, campaign_id: str | None = None) -> Suppression:
        """Pending leads a record for ``number`` in this scope would suppress, per campaign."""
        return await self._read(lambda conn: suppression(conn, number, campaign_id or ""))

    async def propose_blacklist(
        self, number: str, *, campaign_id: str | None, reason: str, complaint_id: int | None,
        call_uuid: str | None, expires_at: float | None, by: str, role: str, now: float,
        settings: ComplaintSettings,
    ) -> tuple[BlacklistRecord, Suppression]:
        """Write a proposed record (and hold its recording); nothing is listed until approved."""
        if campaign_id:
            await self.campaign(campaign_id)  # UnknownCampaignError for a campaign nobody has

        def work(conn: sqlite3.Connection) -> tuple[BlacklistRecord, Suppression]:
            complaint = None
            if complaint_id is not None:
                row = conn.execute(f"SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE id = ?", (complaint_id,)).fetchone()
                if row is None:
                    raise UnknownRecordError(f"no complaint {complaint_id}")
                complaint = complaint_row(row)
                if call_uuid and not conn.execute("SELECT 1 FROM complaint_calls WHERE complaint_id = ? AND call_uuid = ?",
                                                  (complaint_id, call_uuid)).fetchone():
                    raise UnknownRecordError(f"call {call_uuid} is not linked to complaint {complaint_id}")
            if call_uuid and not conn.execute("SELECT 1 FROM calls WHERE uuid = ?", (call_uuid,)).fetchone():
                raise UnknownRecordError(f"no call {call_uuid}")
            draft = propose(number, campaign_id=campaign_id, reason=reason, complaint=complaint, call_uuid=call_uuid,
                            expires_at=expires_at, by=by, role=role, now=now, settings=settings)
            cursor = conn.execute(
                "INSERT INTO blacklist (number, campaign_id, reason, complaint_id, call_uuid, state, expires_at,"
                " proposed_by, proposed_at) VALUES (?, ?, ?, ?, ?, 'proposed', ?, ?, ?)",
                (draft.number, draft.campaign_id, draft.reason, draft.complaint_id, draft.call_uuid, draft.expires_at,
                 by, now),
            )
            record = _record(conn, int(cursor.lastrowid or 0))
            _hold(conn, call_uuid, f"blacklist {record.id}", now, blacklist_id=record.id)
            preview = suppression(conn, record.number, record.campaign_id)
            audit_insert(conn, by, "blacklist.propose", f"blacklist:{record.id}",
                         {"number": record.number, "scope": record.scope, "reason": record.reason,
                          "complaint": complaint_id, "call": call_uuid, "expires_at": record.expires_at,
                          "suppresses": dict(preview.leads)}, now)
            return record, preview

        return await self._atomic(work)

    async def approve_blacklist(self, record_id: int, *, by: str, role: str, now: float,
                                settings: ComplaintSettings) -> BlacklistRecord:
        """Approve a proposal: the record is active and its number on the dnc table, together."""

        def work(conn: sqlite3.Connection) -> BlacklistRecord:
            record = approve(_record(conn, record_id), by=by, role=role, now=now, settings=settings)
            preview = suppression(conn, record.number, record.campaign_id)
            _write(conn, record)
            listed = _list(conn, record, by, now)
            audit_insert(conn, by, "blacklist.approve", f"blacklist:{record.id}",
                         {"number": record.number, "scope": record.scope, "dnc": listed,
                          "suppressed": dict(preview.leads), "proposed_by": record.proposed_by}, now)
            return record

        return await self._atomic(work)

    async def end_blacklist(self, record_id: int, action: RecordAction, *, by: str, role: str, now: float,
                            reason: str, settings: ComplaintSettings) -> BlacklistRecord:
        """Reject a proposal or revoke a record; a revoked active record leaves the dnc table."""

        def work(conn: sqlite3.Connection) -> BlacklistRecord:
            was = _record(conn, record_id)
            record = revoke(was, action, by=by, role=role, now=now, reason=reason, settings=settings)
            dnc = _end(conn, was, record, now)
            audit_insert(conn, by, f"blacklist.{action.value}", f"blacklist:{record.id}",
                         {"number": record.number, "scope": record.scope, "reason": record.end_reason,
                          "dnc": dnc}, now)
            return record

        return await self._atomic(work)

    async def expire_blacklist(self, now: float) -> list[BlacklistRecord]:
        """The scheduled job: expire every active record due by ``now`` (taking its number off
        the dnc table as ``end_blacklist`` does), and put back the listing of any active record
        whose dnc entry another tool removed. Returns the expired records."""

        def work(conn: sqlite3.Connection) -> list[BlacklistRecord]:
            rows = conn.execute(f"SELECT {BLACKLIST_COLUMNS} FROM blacklist WHERE state = 'active'"
                                " AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at, id", (now,))
            expired = []
            for was in [record_row(r) for r in rows]:
                if not due_to_expire(was, now):
                    continue
                record = replace(was, state=RecordState.EXPIRED, ended_by=EXPIRY_ACTOR, ended_at=now,
                                 end_reason="expired")
                dnc = _end(conn, was, record, now)
                audit_insert(conn, EXPIRY_ACTOR, "blacklist.expire", f"blacklist:{record.id}",
                             {"number": record.number, "scope": record.scope, "expires_at": was.expires_at,
                              "dnc": dnc}, now)
                expired.append(record)
            for active in [record_row(r) for r in conn.execute(
                    f"SELECT {BLACKLIST_COLUMNS} FROM blacklist WHERE state = 'active' ORDER BY id")]:
                if _list(conn, active, active.approved_by or EXPIRY_ACTOR, now) == "added":
                    audit_insert(conn, EXPIRY_ACTOR, "blacklist.relist", f"blacklist:{active.id}",
                                 {"number": active.number, "scope": active.scope}, now)
            return expired

        return await self._atomic(work)

    async def blacklist_record(self, record_id: int) -> BlacklistRecord:
        """The record with this id (``UnknownRecordError`` if none)."""
        return await self._read(lambda conn: _record(conn, record_id))

    async def blacklist_records(self, *, number: str | None = None, state: str | None = None,
                                complaint_id: int | None = None, limit: int = 200) -> list[BlacklistRecord]:
        """Records newest first, optionally for one number, state or complaint."""
        where, params = [], []
        for column, value in (("number", number), ("state", state), ("complaint_id", complaint_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self._rows(f"SELECT {BLACKLIST_COLUMNS} FROM blacklist {clause} ORDER BY id DESC LIMIT ?",
                                (*params, limit))
        return [record_row(r) for r in rows]
