"""The archive index (migration 006): one row per archived recording, the recordings that could
not be archived, and the searches behind complaints and QA (by call, seat, team, campaign,
queue, number, time, disposition, duration).

Each write is one statement (autocommit) on the service's connection: the archiver's ordering
(row after the FLAC is verified, WAV deleted after the row) needs no longer transaction. The
one exception is ``record``: the archive row, the problem it clears and the call's analytics
row (migration 009) are one transaction, so an archived call always has its figures.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar, cast

from callfloor.store.analytics import AnalyticsRow, write_row
from callfloor.store.schema import StoreError
from callfloor.store.shared import SharedConnection

__all__ = [
    "ArchiveEntry",
    "ArchiveIndex",
    "ArchiveQuery",
    "Candidate",
    "FoundRecording",
    "Problem",
    "UnknownRecordingError",
]

T = TypeVar("T")

# A recording behind an open complaint case or blacklist record (migration 008's
# recording_holds, written by the complaint store) is kept whatever its class says.
_NOT_HELD = ("NOT EXISTS (SELECT 1 FROM recording_holds h"
             " WHERE h.call_uuid = a.call_uuid AND h.released_at IS NULL)")


class UnknownRecordingError(StoreError, LookupError):
    """No archived recording matches (for hold, release and set_class)."""


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """One archive row."""

    id: int
    call_uuid: str
    source_path: str
    storage_key: str
    backend: str
    sha256: str
    bytes: int
    frames: int
    duration: float
    sample_rate: int
    queue: str | None
    campaign_id: str | None
    archived_at: float
    retention_class: str
    delete_after: float | None
    hold: bool
    hold_reason: str | None
    deleted_at: float | None
    source_removed: bool


@dataclass(frozen=True, slots=True)
class FoundRecording:
    """A search hit: the archive row with the call it belongs to."""

    entry: ArchiveEntry
    direction: str
    caller: str
    callee: str
    seat_id: str | None
    started_at: float
    disposition: str | None  # the dialer disposition code, for dialer calls that have one


@dataclass(frozen=True, slots=True)
class Candidate:
    """A finished call whose recording is not archived yet."""

    call_uuid: str
    recording_path: str
    started_at: float
    ended_at: float | None


@dataclass(frozen=True, slots=True)
class Problem:
    """A recording that could not be archived: left in place, with the reason."""

    source_path: str
    call_uuid: str
    reason: str
    at: float
    attempts: int


@dataclass(frozen=True, slots=True)
class ArchiveQuery:
    """Search terms; every given one must match. Times are the call's start (unix seconds)."""

    call: str | None = None
    seats: tuple[str, ...] | None = None  # a seat, or a team's seats
    campaign: str | None = None
    queue: str | None = None
    number: str | None = None  # caller or callee, with or without '+'
    since: float | None = None
    until: float | None = None
    disposition: str | None = None  # a code, or a kind (conversion, refusal, dnc, ...)
    min_duration: float | None = None
    max_duration: float | None = None
    include_deleted: bool = False


_ENTRY_FIELDS = [f.name for f in fields(ArchiveEntry)]
_COLUMNS = ", ".join(f"a.{name}" for name in _ENTRY_FIELDS)
_FOUND = f"""
SELECT {_COLUMNS}, c.direction, c.caller, c.callee, c.seat_id, c.started_at, d.code
FROM archive a
JOIN calls c ON c.uuid = a.call_uuid
LEFT JOIN attempts t ON t.call_uuid = a.call_uuid
LEFT JOIN dispositions d ON d.attempt_id = t.id
"""


def _entry(row: Sequence[Any]) -> ArchiveEntry:
    values = list(row[: len(_ENTRY_FIELDS)])
    values[15] = bool(values[15])
    values[18] = bool(values[18])
    return ArchiveEntry(*values)


def _where(q: ArchiveQuery) -> tuple[str, list[Any]]:
    terms: list[str] = []
    params: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        terms.append(sql)
        params.extend(values)

    if not q.include_deleted:
        add("a.deleted_at IS NULL")
    if q.call is not None:
        add("a.call_uuid = ?", q.call)
    if q.seats is not None:
        add(f"c.seat_id IN ({', '.join('?' * len(q.seats))})", *q.seats)
    if q.campaign is not None:
        add("a.campaign_id = ?", q.campaign)
    if q.queue is not None:
        add("a.queue = ?", q.queue)
    if q.number is not None:
        bare = q.number.lstrip("+")
        forms = (bare, "+" + bare)
        add("(c.caller IN (?, ?) OR c.callee IN (?, ?))", *forms, *forms)
    if q.since is not None:
        add("c.started_at >= ?", q.since)
    if q.until is not None:
        add("c.started_at < ?", q.until)
    if q.disposition is not None:
        add("(d.code = ? OR d.kind = ?)", q.disposition, q.disposition)
    if q.min_duration is not None:
        add("a.duration >= ?", q.min_duration)
    if q.max_duration is not None:
        add("a.duration <= ?", q.max_duration)
    return ("WHERE " + " AND ".join(terms)) if terms else "", params


class ArchiveIndex(SharedConnection):
    """The archive's rows on a ``Store``'s connection (or any aiosqlite connection)."""


    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, params))

    async def _exec(self, sql: str, params: Sequence[Any]) -> int:
        async with self._db.execute(sql, params) as cursor:
            return cursor.rowcount

    # -- what to archive ---------------------------------------------------------------------

    async def candidates(self, ended_before: float, limit: int) -> list[Candidate]:
        """Finished calls (ended or lost before ``ended_before``) with a recording that is
        neither archived nor reported as a problem, oldest first."""
        rows = await self._rows(
            "SELECT c.uuid, c.recording_path, c.started_at, c.ended_at FROM calls c"
            " WHERE c.status IN ('ended', 'lost') AND c.recording_path IS NOT NULL"
            " AND c.ended_at <= ?"
            " AND NOT EXISTS (SELECT 1 FROM archive a WHERE a.source_path = c.recording_path)"
            " AND NOT EXISTS (SELECT 1 FROM archive_problems p WHERE p.source_path = c.recording_path AND p.retry = 0)"
            " ORDER BY c.started_at, c.id LIMIT ?",
            (ended_before, limit),
        )
        return [Candidate(*row) for row in rows]

    async def unfinished(self) -> list[ArchiveEntry]:
        """Indexed rows whose WAV may still be there (a run stopped between index and delete)."""
        rows = await self._rows(
            f"SELECT {_COLUMNS} FROM archive a WHERE a.source_removed = 0 ORDER BY a.id")
        return [_entry(r) for r in rows]

    async def context(self, call_uuid: str, started_at: float, ended_at: float | None) -> tuple[str | None, str | None, str | None]:
        """(queue, campaign, disposition kind) of a call, from the event log and the dialer."""
        queue = await self._rows(
            "SELECT data ->> 'queue' FROM events WHERE kind = 'queue.joined' AND at >= ? AND at <= ?"
            " AND data ->> 'call' = ? ORDER BY at LIMIT 1",
            (started_at - 1.0, (ended_at or started_at) + 1.0, call_uuid))
        dialer = await self._rows(
            "SELECT t.campaign_id, d.kind FROM attempts t LEFT JOIN dispositions d"
            " ON d.attempt_id = t.id WHERE t.call_uuid = ?", (call_uuid,))
        campaign, kind = (dialer[0][0], dialer[0][1]) if dialer else (None, None)
        return (queue[0][0] if queue else None), campaign, kind

    # -- writes ------------------------------------------------------------------------------

    async def record(self, entry: ArchiveEntry, analytics: AnalyticsRow | None = None) -> int:
        """Insert a row for a stored, verified FLAC (``entry.id`` is ignored) and, in the same
        transaction, the call's analytics row (migration 009) when given; return the row's id."""
        values = [getattr(entry, name) for name in _ENTRY_FIELDS[1:]]
        names = ", ".join(_ENTRY_FIELDS[1:])

        def work(conn: sqlite3.Connection) -> int:
            try:
                cursor = conn.execute(
                    f"INSERT INTO archive ({names}) VALUES ({', '.join('?' * len(values))})", values)
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"{entry.source_path} is archived already") from exc
            conn.execute("DELETE FROM archive_problems WHERE source_path = ?", (entry.source_path,))
            if analytics is not None:
                write_row(conn, analytics)
            return int(cast(int, cursor.lastrowid))

        return await self._atomic(work)


    async def source_removed(self, entry_id: int) -> None:
        """The WAV of this row is deleted (step 7 done)."""
        await self._exec("UPDATE archive SET source_removed = 1 WHERE id = ?", (entry_id,))

    async def report_problem(self, source_path: str, call_uuid: str, reason: str, now: float) -> None:
        """Remember a recording that could not be archived (so it is not retried every look)."""
        await self._exec(
            "INSERT INTO archive_problems (source_path, call_uuid, reason, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (source_path) DO UPDATE SET reason = excluded.reason, at = excluded.at,"
            " attempts = attempts + 1, retry = 0", (source_path, call_uuid, reason, now))

    async def problems(self) -> list[Problem]:
        """Every recording reported as not archivable, newest first."""
        rows = await self._rows(
            "SELECT source_path, call_uuid, reason, at, attempts FROM archive_problems"
            " ORDER BY at DESC, source_path")
        return [Problem(*r) for r in rows]

    async def retry_problems(self) -> int:
        """Have the next run try the reported recordings again."""
        return await self._exec("UPDATE archive_problems SET retry = 1 WHERE retry = 0", ())

    # -- reading -------------------------------------------------------------------------------

    async def entries(self, call_uuid: str, *, include_deleted: bool = False) -> list[ArchiveEntry]:
        """The archived recordings of a call, latest first."""
        gone = "" if include_deleted else " AND a.deleted_at IS NULL"
        rows = await self._rows(
            f"SELECT {_COLUMNS} FROM archive a WHERE a.call_uuid = ?{gone} ORDER BY a.id DESC",
            (call_uuid,))
        return [_entry(r) for r in rows]

    async def entry_for(self, source_path: str) -> ArchiveEntry | None:
        """The row of one WAV path, if archived."""
        rows = await self._rows(f"SELECT {_COLUMNS} FROM archive a WHERE a.source_path = ?",
                                (source_path,))
        return _entry(rows[0]) if rows else None

    async def find(self, query: ArchiveQuery, *, limit: int = 100) -> list[FoundRecording]:
        """Archived recordings matching ``query``, newest call first."""
        if limit <= 0:
            raise ValueError(f"limit must be positive, not {limit}")
        where, params = _where(query)
        rows = await self._rows(f"{_FOUND} {where} ORDER BY c.started_at DESC, a.id DESC LIMIT ?",
                                (*params, limit))
        width = len(_ENTRY_FIELDS)
        return [FoundRecording(_entry(r), *r[width:]) for r in rows]

    async def recorded_calls(self, call_uuid: str | None = None) -> list[tuple[str, str]]:
        """(call uuid, recording path) of every call with a recording (or of one call)."""
        one = " AND uuid = ?" if call_uuid is not None else ""
        rows = await self._rows(
            f"SELECT uuid, recording_path FROM calls WHERE recording_path IS NOT NULL{one}"
            " ORDER BY started_at, id", (call_uuid,) if call_uuid is not None else ())
        return [(str(u), str(p)) for u, p in rows]

    async def all_live(self) -> list[ArchiveEntry]:
        """Every archived recording not deleted by retention (for verify)."""
        rows = await self._rows(
            f"SELECT {_COLUMNS} FROM archive a WHERE a.deleted_at IS NULL ORDER BY a.id")
        return [_entry(r) for r in rows]

    # -- retention -----------------------------------------------------------------------------

    async def due(self, now: float, limit: int = 1000) -> list[ArchiveEntry]:
        """Rows whose time is up and that are not held, oldest deadline first."""
        rows = await self._rows(
            f"SELECT {_COLUMNS} FROM archive a WHERE a.deleted_at IS NULL AND a.hold = 0"
            f" AND {_NOT_HELD} AND a.delete_after IS NOT NULL AND a.delete_after <= ?"
            " ORDER BY a.delete_after, a.id LIMIT ?", (now, limit))
        return [_entry(r) for r in rows]

    async def mark_deleted(self, entry_id: int, now: float) -> bool:
        """Record that retention removed the FLAC; False when it was held or deleted meanwhile."""
        return await self._exec(
            "UPDATE archive SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL AND hold = 0"
            f" AND {_NOT_HELD.replace('a.call_uuid', 'archive.call_uuid')}",
            (now, entry_id)) == 1

    async def hold(self, call_uuid: str, reason: str) -> int:
        """Keep every recording of a call whatever its class (an open complaint)."""
        return await self._changed(call_uuid, "UPDATE archive SET hold = 1, hold_reason = ?"
                                   " WHERE call_uuid = ? AND deleted_at IS NULL", (reason, call_uuid))

    async def release(self, call_uuid: str) -> int:
        """Lift the hold (the case is closed): the class's deadline applies again."""
        return await self._changed(call_uuid, "UPDATE archive SET hold = 0, hold_reason = NULL"
                                   " WHERE call_uuid = ? AND deleted_at IS NULL", (call_uuid,))

    async def set_class(self, call_uuid: str, retention_class: str, keep: float | None) -> int:
        """Move a call's recordings to another class; ``keep`` seconds after archiving (None:
        for ever)."""
        return await self._changed(
            call_uuid, "UPDATE archive SET retention_class = ?, delete_after ="
            " CASE WHEN ? IS NULL THEN NULL ELSE archived_at + ? END"
            " WHERE call_uuid = ? AND deleted_at IS NULL", (retention_class, keep, keep, call_uuid))

    async def _changed(self, call_uuid: str, sql: str, params: Sequence[Any]) -> int:
        changed = await self._exec(sql, params)
        if changed == 0:
            raise UnknownRecordingError(f"no archived recording of call {call_uuid}")
        return changed
