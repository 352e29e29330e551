"""The SQL behind the outbound report: the attempt ledger, CDRs, dispositions and seat states.

A report reads on its own connection (``PRAGMA query_only``), so a month's scan runs on its own
aiosqlite thread and never delays the service's CDR writer. Aggregation is in
:mod:`dialer.reports`; here the ledger is only grouped by (campaign, seat).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

import aiosqlite

from callfloor.store.schema import StoreError
from dialer.reports import (
    AttemptCell,
    OutboundReport,
    Period,
    PresenceMark,
    ReportBy,
    build_report,
)

__all__ = ["ReportReader", "outbound_report"]

# One row per (campaign, seat) over the attempts dialled in [start, end). An attempt belongs to
# the seat it was connected (or reserved) to, else to the seat that set its disposition.
# Live answers are counted as dialer.abandon.classify does (a machine passed to a seat is not
# one), plus connected calls still going. Talk is the CDR's duration (answer to hang-up) of connected calls; a call still going counts
# up to now. Dispositions are UNIQUE per attempt and calls.uuid is unique: the joins add no rows.
# Every attempt's campaign is in `campaigns` (attempts -> leads -> campaigns); naming them lets
# SQLite range-scan attempts_campaign (campaign_id, created_at) per campaign instead of reading
# the whole ledger, which has no index on created_at alone.
_CELLS = """
SELECT a.campaign_id,
       coalesce(a.seat_id, d.seat_id) AS seat,
       count(*),
       count(a.connected_at),
       total(CASE WHEN a.connected_at IS NULL THEN 0.0
                  WHEN c.duration IS NOT NULL THEN c.duration
                  WHEN c.status = 'active' AND c.answered_at IS NOT NULL
                       THEN max(0.0, :now - c.answered_at)
                  ELSE 0.0 END),
       count(CASE WHEN d.kind = 'conversion' THEN 1 END),
       count(CASE WHEN d.kind = 'refusal' THEN 1 END),
       count(CASE WHEN a.outcome = 'abandoned' THEN 1 END),
       count(CASE WHEN a.outcome = 'abandoned'
                    OR ((a.outcome = 'answered' OR (a.outcome IS NULL AND a.connected_at IS NOT NULL))
                        AND a.amd IS NOT 'machine') THEN 1 END)
FROM attempts a
LEFT JOIN calls c ON c.uuid = a.call_uuid
LEFT JOIN dispositions d ON d.attempt_id = a.id
WHERE a.created_at >= :start AND a.created_at < :end
  AND a.campaign_id IN (SELECT id FROM campaigns WHERE :campaign IS NULL OR id = :campaign)
GROUP BY a.campaign_id, seat
ORDER BY a.campaign_id, seat
"""

_LOGGED_IN = "(coalesce(json_extract({}data, '$.presence'), 'logged-out') != 'logged-out')"

# Inside the period only the changes between logged out and logged in matter: a day has many
# seat.state rows (every call, wrap-up and pause) but few logins.
_MARKS = f"""
SELECT subject, at, logged_in FROM (
    SELECT subject, at, id, {_LOGGED_IN.format('')} AS logged_in,
           lag({_LOGGED_IN.format('')}) OVER (PARTITION BY subject ORDER BY at, id) AS before
    FROM events WHERE kind = 'seat.state' AND at >= :start AND at < :end
) WHERE before IS NULL OR before != logged_in
ORDER BY subject, at, id
"""

# Each seat's state when the period starts: its last seat.state before it (events_subject_at).
_BEFORE = f"""
SELECT s.value, e.at, {_LOGGED_IN.format('e.')}
FROM json_each(:seats) s
JOIN events e ON e.id = (
    SELECT id FROM events
    WHERE subject = s.value AND kind = 'seat.state' AND at < :start
    ORDER BY at DESC, id DESC LIMIT 1
)
"""

_NEEDED = ("attempts", "dispositions", "calls", "events")


class ReportReader:
    """Reads a period's report inputs; open with ``await ReportReader.open(path)``."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path) -> ReportReader:
        """Open an existing database read-only (query_only); a missing file or schema is a StoreError."""
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"no database at {path} (check --config and [storage] data_dir)")
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            await db.execute("PRAGMA query_only = ON")
            await db.execute("PRAGMA busy_timeout = 5000")
            rows = await db.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table'")
            missing = sorted(set(_NEEDED) - {str(r[0]) for r in rows})
            if missing:
                raise StoreError(f"{path}: no {', '.join(missing)} table (the service migrates"
                                 " the database when it starts)")
        except sqlite3.DatabaseError as exc:
            await db.close()
            raise StoreError(f"{path}: cannot read: {exc}") from exc
        except BaseException:
            await db.close()
            raise
        return cls(db)

    async def close(self) -> None:
        """Close the connection."""
        await self._db.close()

    async def __aenter__(self) -> ReportReader:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def attempt_cells(self, start: float, end: float, *, now: float,
                            campaign: str | None = None) -> list[AttemptCell]:
        """The attempts dialled in [start, end), grouped by campaign and seat."""
        rows = await self._fetch(_CELLS, {"start": start, "end": end, "now": now,
                                          "campaign": campaign})
        return [AttemptCell(str(c), None if s is None else str(s), int(n), int(k), float(t),
                            int(v), int(r), int(a), int(live))
                for c, s, n, k, t, v, r, a, live in rows]

    async def presence_marks(self, start: float, end: float, *,
                             seats: Iterable[str] = ()) -> list[PresenceMark]:
        """Login/logout changes in [start, end) plus each seat's last state before ``start``.

        The state before the period is looked up for ``seats`` and for every seat with a
        change inside it.
        """
        inside = await self._fetch(_MARKS, {"start": start, "end": end})
        known = sorted({*seats, *(str(r[0]) for r in inside)})
        before = await self._fetch(_BEFORE, {"start": start, "seats": json.dumps(known)})
        return [PresenceMark(str(s), float(at), bool(on)) for s, at, on in [*before, *inside]]

    async def _fetch(self, sql: str, params: Mapping[str, object]) -> list[sqlite3.Row]:
        try:
            return list(await self._db.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise StoreError(f"report query failed: {exc}") from exc


async def outbound_report(reader: ReportReader, period: Period, *, by: ReportBy,
                          teams: Mapping[str, str | None], now: float,
                          campaign: str | None = None) -> OutboundReport:
    """Read the period's inputs and build the report (``teams``: seat id -> team id)."""
    cells = await reader.attempt_cells(period.start, period.end, now=now, campaign=campaign)
    seats = {*teams, *(c.seat for c in cells if c.seat is not None)}
    marks = await reader.presence_marks(period.start, period.end, seats=seats)
    return build_report(cells, marks, period=period, by=by, teams=teams, now=now,
                        campaign=campaign)
