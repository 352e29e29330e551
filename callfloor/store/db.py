"""The SQLite store: call-detail records and an append-only event log on one aiosqlite connection.

WAL with synchronous=NORMAL and autocommit: each call event is one statement and one commit,
cheap enough for hundreds of calls per second, and a kill -9 loses no committed row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, get_args

import aiosqlite

from callfloor.store.schema import MIGRATIONS_DIR, StoreError, load, migrate

__all__ = [
    "CallRow",
    "CallStart",
    "CallStatus",
    "Direction",
    "DuplicateCallError",
    "EventRow",
    "Store",
    "UnknownCallError",
]

Direction = Literal["inbound", "outbound", "internal"]
CallStatus = Literal["active", "ended", "lost"]


class UnknownCallError(StoreError, LookupError):
    """No CDR has this uuid."""


class DuplicateCallError(StoreError):
    """A CDR with this uuid already exists."""


@dataclass(frozen=True, slots=True)
class CallStart:
    """What is known when a call starts; becomes an 'active' CDR row."""

    uuid: str
    sip_call_id: str
    direction: Direction
    caller: str
    callee: str
    did: str | None
    seat_id: str | None
    started_at: float
    recording_path: str | None = None

    def __post_init__(self) -> None:
        if self.direction not in get_args(Direction):
            raise ValueError(f"direction must be inbound, outbound or internal: {self.direction!r}")


@dataclass(frozen=True, slots=True)
class CallRow:
    """One CDR as stored."""

    id: int
    uuid: str
    sip_call_id: str
    direction: Direction
    caller: str
    callee: str
    did: str | None
    seat_id: str | None
    started_at: float
    answered_at: float | None
    ended_at: float | None
    duration: float | None
    status: CallStatus
    end_reason: str | None
    hangup_by: str | None
    sip_status: int | None
    recording_path: str | None
    variables: str | None  # JSON object of the IVR's call variables
    survey_score: int | None


@dataclass(frozen=True, slots=True)
class EventRow:
    """One entry of the event log."""

    id: int
    kind: str
    subject: str
    at: float
    data: dict[str, Any]


_CALL_COLUMNS = ", ".join(f.name for f in fields(CallRow))
_DURATION = "CASE WHEN answered_at IS NULL THEN 0.0 ELSE max(0.0, ? - answered_at) END"


def _call_row(row: sqlite3.Row | tuple[Any, ...]) -> CallRow:
    return CallRow(*row)


def _filter(limit: int, **equal: str | None) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause (column = ? per non-None value) and its parameters, the limit last."""
    if limit <= 0:
        raise ValueError(f"limit must be positive, not {limit}")
    used = {column: value for column, value in equal.items() if value is not None}
    clause = " AND ".join(f"{column} = ?" for column in used)
    return (f"WHERE {clause}" if clause else ""), (*used.values(), limit)


class Store:
    """CDRs and events in one SQLite file; open with ``await Store.open(path)``."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    async def open(cls, path: Path, *, migrations: Path = MIGRATIONS_DIR) -> Store:
        """Create the file and folders if needed, set WAL and foreign keys, run new migrations."""
        found = load(migrations)  # a bad file fails before the database is touched
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            for pragma in (
                "journal_mode = WAL",
                "synchronous = NORMAL",  # in WAL: a commit survives a process crash
                "foreign_keys = ON",
                "busy_timeout = 5000",
            ):
                await db.execute(f"PRAGMA {pragma}")
            await migrate(db, found)
        except BaseException:
            await db.close()
            raise
        return cls(db, path)

    async def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite)."""
        await self._db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def call_started(self, rec: CallStart) -> None:
        """Insert the CDR of a new call with status 'active'."""
        try:
            await self._exec(
                "INSERT INTO calls (uuid, sip_call_id, direction, caller, callee, did, seat_id,"
                " started_at, recording_path, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active')",
                (
                    rec.uuid,
                    rec.sip_call_id,
                    rec.direction,
                    rec.caller,
                    rec.callee,
                    rec.did,
                    rec.seat_id,
                    rec.started_at,
                    rec.recording_path,
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateCallError(f"call {rec.uuid} is already recorded") from exc

    async def call_answered(self, uuid: str, answered_at: float, seat_id: str | None) -> None:
        """Record the answer time (the first one counts) and the seat that took the call."""
        await self._update(
            uuid,
            "UPDATE calls SET answered_at = ?, seat_id = coalesce(?, seat_id)"
            " WHERE uuid = ? AND status = 'active' AND answered_at IS NULL",
            (answered_at, seat_id, uuid),
        )

    async def call_ended(
        self,
        uuid: str,
        ended_at: float,
        reason: str,
        *,
        sip_status: int | None = None,
        hangup_by: str | None = None,
    ) -> None:
        """Close an active CDR; duration is talk time (ended - answered, 0 if never answered)."""
        await self._update(
            uuid,
            f"UPDATE calls SET status = 'ended', ended_at = ?, duration = {_DURATION},"
            " end_reason = ?, sip_status = ?, hangup_by = ? WHERE uuid = ? AND status = 'active'",
            (ended_at, ended_at, reason, sip_status, hangup_by, uuid),
        )

    async def set_recording(self, uuid: str, path: str) -> None:
        """Attach (or move) the recording file of a call."""
        await self._update(uuid, "UPDATE calls SET recording_path = ? WHERE uuid = ?", (path, uuid))

    async def set_variables(self, uuid: str, variables: Mapping[str, str]) -> None:
        """Store the call's variables (the whole set, as the IVR has them now)."""
        text = json.dumps(dict(variables), sort_keys=True)
        await self._update(uuid, "UPDATE calls SET variables = ? WHERE uuid = ?", (text, uuid))

    async def set_survey(self, uuid: str, score: int) -> None:
        """Store the caller's post-call survey score."""
        await self._update(uuid, "UPDATE calls SET survey_score = ? WHERE uuid = ?", (score, uuid))

    async def _update(self, uuid: str, sql: str, params: tuple[Any, ...]) -> None:
        """Run a one-row UPDATE; a call that exists but is past this step is left as it is."""
        if await self._exec(sql, params) == 0 and await self.call(uuid) is None:
            raise UnknownCallError(f"no call {uuid}")

    async def _exec(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run one statement (autocommit: its own transaction); return the rows it changed."""
        async with self._db.execute(sql, params) as cursor:
            return cursor.rowcount

    async def mark_lost(self, ended_at: float) -> list[CallRow]:
        """Turn every 'active' CDR (left by a crash) into 'lost'; return them, oldest first."""
        rows = await self._db.execute_fetchall(
            f"UPDATE calls SET status = 'lost', end_reason = 'lost', ended_at = ?,"
            f" duration = {_DURATION} WHERE status = 'active' RETURNING {_CALL_COLUMNS}",
            (ended_at, ended_at),
        )
        return sorted((_call_row(r) for r in rows), key=lambda c: (c.started_at, c.id))

    async def calls(
        self, *, limit: int = 100, seat_id: str | None = None, caller: str | None = None
    ) -> list[CallRow]:
        """The latest CDRs, newest first, optionally for one seat or one caller number."""
        clause, params = _filter(limit, seat_id=seat_id, caller=caller)
        rows = await self._db.execute_fetchall(
            f"SELECT {_CALL_COLUMNS} FROM calls {clause} ORDER BY started_at DESC, id DESC LIMIT ?",
            params,
        )
        return [_call_row(r) for r in rows]

    async def call(self, uuid: str) -> CallRow | None:
        """The CDR with this uuid, if any."""
        rows = list(
            await self._db.execute_fetchall(
                f"SELECT {_CALL_COLUMNS} FROM calls WHERE uuid = ?", (uuid,)
            )
        )
        return _call_row(rows[0]) if rows else None

    async def record_event(
        self, kind: str, subject: str, at: float, data: Mapping[str, Any]
    ) -> None:
        """Append to the event log (seat registered/unregistered, and so on) for later reports."""
        try:
            text = json.dumps(dict(data), sort_keys=True, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"event {kind} for {subject}: data is not JSON: {exc}") from exc
        await self._exec(
            "INSERT INTO events (kind, subject, at, data) VALUES (?, ?, ?, ?)",
            (kind, subject, at, text),
        )

    async def events(
        self, *, kind: str | None = None, subject: str | None = None, limit: int = 100
    ) -> list[EventRow]:
        """The latest events, newest first, optionally of one kind and/or about one subject."""
        clause, params = _filter(limit, kind=kind, subject=subject)
        rows = await self._db.execute_fetchall(
            f"SELECT id, kind, subject, at, data FROM events {clause}"
            " ORDER BY at DESC, id DESC LIMIT ?",
            params,
        )
        return [EventRow(i, k, s, a, json.loads(d)) for i, k, s, a, d in rows]

    async def events_since(self, at: float, prefixes: Sequence[str]) -> list[EventRow]:
        """Every event at or after ``at`` whose kind starts with one of ``prefixes``, oldest first
        (the live board's history at start-up)."""
        if not prefixes:
            return []
        like = " OR ".join("kind LIKE ? ESCAPE '\\'" for _ in prefixes)
        patterns = tuple(p.replace("_", "\\_").replace("%", "\\%") + "%" for p in prefixes)
        rows = await self._db.execute_fetchall(
            f"SELECT id, kind, subject, at, data FROM events WHERE at >= ? AND ({like})"
            " ORDER BY at, id", (at, *patterns))
        return [EventRow(i, k, s, a, json.loads(d)) for i, k, s, a, d in rows]

    async def last_event(self, kind: str, subject: str) -> EventRow | None:
        """The latest event of ``kind`` about ``subject`` (index events_subject_at)."""
        rows = await self.events(kind=kind, subject=subject, limit=1)
        return rows[0] if rows else None

