"""Complaint cases on the service's connection (migration 008): cases, follow-up steps, linked
calls and the legal holds on their recordings, plus the blacklist records (``BlacklistMixin``).

Every change is one transaction on aiosqlite's worker thread (as ``callfloor.store.dialer``
does; its docstring says why) that reads the row, applies the pure rules of ``qa.complaints``
and writes the change together with its audit row (``audit_insert``).

The recordings archive reads ``recording_holds``: a call with an unreleased hold is never
deleted by retention (:meth:`ComplaintStore.held_calls`). Linking a call to a case holds it;
closing the case (or unlinking the call) releases it; reopening holds the linked calls again.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields

from callfloor.store.audit import audit_insert
from callfloor.store.blacklist import (
    COMPLAINT_COLUMNS,
    BlacklistMixin,
    UnknownRecordError,
    complaint_row,
)
from callfloor.store.db import CallRow, UnknownCallError
from qa.complaints import (
    CallCandidate,
    CaseAction,
    CaseState,
    Complaint,
    ComplaintError,
    FollowUpStep,
    Match,
    apply,
    check_step,
    match_calls,
    new_complaint,
)

__all__ = ["ComplaintStore", "Hold", "UnknownRecordError"]

MAX_CALL_S = 4 * 3600.0  # a call that started this long before the window cannot reach into it
STEP_COLUMNS = "id, complaint_id, text, due_at, done_at, done_by, created_by, created_at"
CALL_COLUMNS = ("uuid, direction, caller, callee, started_at, ended_at, seat_id, recording_path")


@dataclass(frozen=True, slots=True)
class Hold:
    """A legal hold on a call's recordings (a row of ``recording_holds``)."""

    id: int
    call_uuid: str
    reason: str
    case_id: int | None
    blacklist_id: int | None
    held_at: float
    released_at: float | None


def _case(conn: sqlite3.Connection, case_id: int) -> Complaint:
    row = conn.execute(f"SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        raise UnknownRecordError(f"no complaint {case_id}")
    return complaint_row(row)


def _hold_links(conn: sqlite3.Connection, case_id: int, now: float) -> None:
    conn.execute("INSERT INTO recording_holds (call_uuid, reason, case_id, held_at) SELECT call_uuid, ?, ?, ?"
                 " FROM complaint_calls WHERE complaint_id = ?", (f"complaint {case_id}", case_id, now, case_id))


def _release(conn: sqlite3.Connection, case_id: int, now: float, call: str | None = None) -> None:
    extra, params = (" AND call_uuid = ?", (now, case_id, call)) if call else ("", (now, case_id))
    conn.execute(f"UPDATE recording_holds SET released_at = ? WHERE case_id = ? AND released_at IS NULL{extra}", params)


class ComplaintStore(BlacklistMixin):
    """Complaint cases and blacklist records: ``ComplaintStore(store)``."""

    async def open_case(self, number: str, approx_at: float, tolerance_s: float, channel: str,
                        description: str, *, by: str, now: float, region: str | None) -> Complaint:
        """Open a case (number normalised to E.164); audited as ``complaint.open``."""
        draft = new_complaint(number, approx_at, tolerance_s, channel, description, opened_by=by, now=now,
                              region=region)

        def work(conn: sqlite3.Connection) -> Complaint:
            cursor = conn.execute(
                "INSERT INTO complaints (number, approx_at, tolerance_s, channel, description, state, opened_by,"
                " opened_at, updated_at) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                (draft.number, draft.approx_at, draft.tolerance_s, draft.channel.value, draft.description,
                 by, now, now),
            )
            case = _case(conn, int(cursor.lastrowid or 0))
            audit_insert(conn, by, "complaint.open", f"complaint:{case.id}",
                         {"number": case.number, "approx_at": case.approx_at, "channel": case.channel.value}, now)
            return case

        return await self._atomic(work)

    async def case(self, case_id: int) -> Complaint:
        """The case with this id (``UnknownRecordError`` if none)."""
        return await self._read(lambda conn: _case(conn, case_id))

    async def cases(self, *, state: str | None = None, number: str | None = None,
                    limit: int = 100) -> list[Complaint]:
        """Cases newest first, optionally in one state or about one number."""
        where, params = [], []
        for column, value in (("state", state), ("number", number)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self._rows(f"SELECT {COMPLAINT_COLUMNS} FROM complaints {clause} ORDER BY id DESC LIMIT ?",
                                (*params, limit))
        return [complaint_row(r) for r in rows]

    async def act(self, case_id: int, action: CaseAction, *, by: str, now: float,
                  outcome: str | None = None, note: str | None = None) -> Complaint:
        """Move a case through its states; closing releases its holds, reopening renews them."""

        def work(conn: sqlite3.Connection) -> Complaint:
            case = apply(_case(conn, case_id), action, now, outcome=outcome, note=note)
            conn.execute("UPDATE complaints SET state = ?, outcome = ?, outcome_note = ?, updated_at = ?,"
                         " closed_at = ? WHERE id = ?",
                         (case.state.value, case.outcome.value if case.outcome else None, case.outcome_note,
                          now, case.closed_at, case_id))
            if action is CaseAction.CLOSE:
                _release(conn, case_id, now)
            elif action is CaseAction.REOPEN:
                _hold_links(conn, case_id, now)
            detail = {"state": case.state.value, "outcome": case.outcome.value if case.outcome else None,
                      "note": case.outcome_note}
            audit_insert(conn, by, f"complaint.{action.value}", f"complaint:{case_id}", detail, now)
            return case

        return await self._atomic(work)

    async def add_step(self, case_id: int, text: str, due_at: float | None, *, by: str,
                       now: float) -> FollowUpStep:
        """Note a follow-up step (what, by when); audited as ``complaint.step``."""
        text, due_at = check_step(text, due_at, now=now)

        def work(conn: sqlite3.Connection) -> FollowUpStep:
            if _case(conn, case_id).state is CaseState.CLOSED:
                raise ComplaintError(f"complaint {case_id} is closed: reopen it to add steps")
            cursor = conn.execute("INSERT INTO complaint_steps (complaint_id, text, due_at, created_by, created_at)"
                                  " VALUES (?, ?, ?, ?, ?)", (case_id, text, due_at, by, now))
            conn.execute("UPDATE complaints SET updated_at = ? WHERE id = ?", (now, case_id))
            step_id = int(cursor.lastrowid or 0)
            audit_insert(conn, by, "complaint.step", f"complaint:{case_id}",
                         {"step": step_id, "text": text, "due_at": due_at}, now)
            return FollowUpStep(step_id, case_id, text, due_at, None, None, by, now)

        return await self._atomic(work)

    async def step_done(self, case_id: int, step_id: int, *, by: str, now: float) -> FollowUpStep:
        """Mark a step done (once); audited as ``complaint.step_done``."""

        def work(conn: sqlite3.Connection) -> FollowUpStep:
            changed = conn.execute("UPDATE complaint_steps SET done_at = ?, done_by = ? WHERE id = ?"
                                   " AND complaint_id = ? AND done_at IS NULL", (now, by, step_id, case_id)).rowcount
            if not changed:
                found = conn.execute("SELECT done_at FROM complaint_steps WHERE id = ? AND complaint_id = ?",
                                     (step_id, case_id)).fetchone()
                if found is None:
                    raise UnknownRecordError(f"complaint {case_id} has no step {step_id}")
                raise ComplaintError(f"step {step_id} is done already")
            audit_insert(conn, by, "complaint.step_done", f"complaint:{case_id}", {"step": step_id}, now)
            row = conn.execute(f"SELECT {STEP_COLUMNS} FROM complaint_steps WHERE id = ?", (step_id,)).fetchone()
            return FollowUpStep(*row)

        return await self._atomic(work)

    async def steps(self, case_id: int) -> list[FollowUpStep]:
        """The case's steps in the order they were written."""
        rows = await self._rows(f"SELECT {STEP_COLUMNS} FROM complaint_steps WHERE complaint_id = ? ORDER BY id",
                                (case_id,))
        return [FollowUpStep(*r) for r in rows]

    async def candidates(self, number: str, approx_at: float, tolerance_s: float, *,
                         region: str | None = None) -> list[Match]:
        """Calls with ``number`` (inbound caller, outbound callee) near ``approx_at``, nearest first."""
        rows = await self._rows(
            f"SELECT {CALL_COLUMNS} FROM calls WHERE started_at BETWEEN ? AND ? AND direction != 'internal'",
            (approx_at - tolerance_s - MAX_CALL_S, approx_at + tolerance_s),
        )
        calls = [CallCandidate(u, d, a, b, s, e, seat, bool(path)) for u, d, a, b, s, e, seat, path in rows]
        return match_calls(calls, number, approx_at, tolerance_s, region=region)

    async def link_call(self, case_id: int, call_uuid: str, *, by: str, now: float) -> bool:
        """Link a call to an open case and hold its recording; False if linked already."""

        def work(conn: sqlite3.Connection) -> bool:
            case = _case(conn, case_id)
            if case.state is CaseState.CLOSED:
                raise ComplaintError(f"complaint {case_id} is closed: reopen it to link calls")
            if conn.execute("SELECT 1 FROM calls WHERE uuid = ?", (call_uuid,)).fetchone() is None:
                raise UnknownCallError(f"no call {call_uuid}")
            added = conn.execute("INSERT INTO complaint_calls (complaint_id, call_uuid, linked_by, linked_at)"
                                 " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", (case_id, call_uuid, by, now)).rowcount
            if not added:
                return False
            conn.execute("INSERT INTO recording_holds (call_uuid, reason, case_id, held_at) VALUES (?, ?, ?, ?)",
                         (call_uuid, f"complaint {case_id}", case_id, now))
            audit_insert(conn, by, "complaint.link", f"complaint:{case_id}", {"call": call_uuid}, now)
            return True

        return await self._atomic(work)

    async def unlink_call(self, case_id: int, call_uuid: str, *, by: str, now: float) -> bool:
        """Unlink a call (a wrong match) and release the case's hold on it; False if not linked."""

        def work(conn: sqlite3.Connection) -> bool:
            _case(conn, case_id)
            removed = conn.execute("DELETE FROM complaint_calls WHERE complaint_id = ? AND call_uuid = ?",
                                   (case_id, call_uuid)).rowcount
            if removed:
                _release(conn, case_id, now, call_uuid)
                audit_insert(conn, by, "complaint.unlink", f"complaint:{case_id}", {"call": call_uuid}, now)
            return bool(removed)

        return await self._atomic(work)

    async def linked_calls(self, case_id: int) -> list[CallRow]:
        """The CDRs of the calls linked to the case, oldest first."""
        columns = ", ".join(f"c.{f.name}" for f in fields(CallRow))
        rows = await self._rows(f"SELECT {columns} FROM complaint_calls l JOIN calls c ON c.uuid = l.call_uuid"
                                " WHERE l.complaint_id = ? ORDER BY c.started_at, c.id", (case_id,))
        return [CallRow(*r) for r in rows]

    async def call(self, call_uuid: str) -> CallRow | None:
        """The CDR of a call, if any."""
        columns = ", ".join(f.name for f in fields(CallRow))
        rows = await self._rows(f"SELECT {columns} FROM calls WHERE uuid = ?", (call_uuid,))
        return CallRow(*rows[0]) if rows else None

    async def cases_of_call(self, call_uuid: str) -> list[int]:
        """The ids of the cases a call is linked to."""
        rows = await self._rows("SELECT complaint_id FROM complaint_calls WHERE call_uuid = ? ORDER BY 1",
                                (call_uuid,))
        return [int(r[0]) for r in rows]

    async def held_calls(self) -> set[str]:
        """Calls whose recordings must be kept now (an unreleased hold): for archive retention."""
        rows = await self._rows("SELECT DISTINCT call_uuid FROM recording_holds WHERE released_at IS NULL")
        return {str(r[0]) for r in rows}

    async def holds(self, call_uuid: str) -> list[Hold]:
        """Every hold on a call, released or not, oldest first."""
        rows = await self._rows("SELECT id, call_uuid, reason, case_id, blacklist_id, held_at, released_at"
                                " FROM recording_holds WHERE call_uuid = ? ORDER BY id", (call_uuid,))
        return [Hold(*r) for r in rows]
