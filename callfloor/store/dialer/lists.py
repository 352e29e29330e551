"""Do-not-call lists, dispositions and callbacks."""

from __future__ import annotations

import sqlite3
from typing import Any, cast

from callfloor.store.dialer.core import (
    CALLBACK_COLUMNS,
    DNC_COLUMNS,
    DispositionError,
    NotDialableError,
    UnknownAttemptError,
    UnknownLeadError,
)
from callfloor.store.dialer.ledger import LedgerMixin, set_lead
from dialer.records import CallbackRow, DispositionRow, DncEntry

__all__ = ["ListsMixin"]


class ListsMixin(LedgerMixin):
    """DNC, disposition and callback rows of ``DialerStore``."""

    async def dnc_add(
        self, number: str, *, now: float, reason: str, source: str = "api",
        campaign_id: str | None = None, added_by: str | None = None,
    ) -> bool:
        """Put an E.164 number on the global list (or a campaign's); False if it was there."""
        async with self._db.execute(
            "INSERT INTO dnc (number, campaign_id, reason, source, added_by, added_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (number, campaign_id or "", reason, source, added_by, now),
        ) as cursor:
            return cursor.rowcount > 0

    async def dnc_remove(self, number: str, *, campaign_id: str | None = None) -> bool:
        """Take a number off the global list (or a campaign's); False if it was not there."""
        async with self._db.execute(
            "DELETE FROM dnc WHERE number = ? AND campaign_id = ?", (number, campaign_id or "")
        ) as cursor:
            return cursor.rowcount > 0

    async def dnc_check(self, number: str, *, campaign_id: str | None = None) -> list[DncEntry]:
        """Entries that block ``number``: global and ``campaign_id``'s; every entry when None."""
        where = "" if campaign_id is None else " AND campaign_id IN ('', ?)"
        params = (number,) if campaign_id is None else (number, campaign_id)
        rows = await self._rows(f"SELECT {DNC_COLUMNS} FROM dnc WHERE number = ?{where} ORDER BY campaign_id", params)
        return [DncEntry(*r) for r in rows]

    # -- dispositions and callbacks --------------------------------------------------------

    async def set_disposition(
        self, attempt_id: int, seat_id: str, code: str, now: float, *, note: str | None = None,
        callback_at: float | None = None, callback_seat: str | None = None,
    ) -> DispositionRow:
        """A seat's disposition of an attempt (one per attempt), with its effect on the lead.

        'dnc' puts the number on the global list; 'callback' needs ``callback_at`` and books a
        callback (to ``callback_seat``, or any seat of the campaign when None); any other kind
        leaves the lead done.
        """
        attempt = await self.attempt(attempt_id)
        if attempt is None:
            raise UnknownAttemptError(f"no attempt {attempt_id}")
        chosen = (await self.campaign(attempt.campaign_id)).disposition(code)
        if chosen is None:
            raise DispositionError(f"campaign {attempt.campaign_id!r} has no disposition {code!r}")
        if chosen.kind == "callback" and callback_at is None:
            raise DispositionError(f"disposition {code!r} books a callback: give its time")

        def work(conn: sqlite3.Connection) -> DispositionRow:
            try:
                cursor = conn.execute(
                    "INSERT INTO dispositions (attempt_id, lead_id, campaign_id, seat_id, code, kind,"
                    " note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (attempt_id, attempt.lead_id, attempt.campaign_id, seat_id, code, chosen.kind, note, now),
                )
            except sqlite3.IntegrityError:
                raise DispositionError(f"attempt {attempt_id} has a disposition already") from None
            row = DispositionRow(cast(int, cursor.lastrowid), attempt_id, attempt.lead_id, attempt.campaign_id,
                                 seat_id, code, chosen.kind, note, now)
            _apply(conn, row, attempt.number, callback_at, callback_seat)
            return row

        return await self._atomic(work)

    async def create_callback(
        self, lead_id: int, due_at: float, *, created_by: str, now: float, seat_id: str | None = None
    ) -> int:
        """Book a callback for a lead (to ``seat_id``, or any seat of its campaign)."""

        def work(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT campaign_id, status FROM leads WHERE id = ?", (lead_id,)).fetchone()
            if row is None:
                raise UnknownLeadError(f"no lead {lead_id}")
            if row[1] == "dnc":
                raise NotDialableError(lead_id, "dnc")
            return _book_callback(conn, lead_id, row[0], due_at, seat_id, created_by, now)

        return await self._atomic(work)

    async def due_callbacks(self, now: float, *, campaign_id: str | None = None) -> list[CallbackRow]:
        """Pending callbacks due by ``now``, earliest first."""
        where = "" if campaign_id is None else " AND campaign_id = ?"
        params: tuple[Any, ...] = (now,) if campaign_id is None else (now, campaign_id)
        rows = await self._rows(
            f"SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE state = 'pending' AND due_at <= ?{where}"
            " ORDER BY due_at, id", params,
        )
        return [CallbackRow(*r) for r in rows]

    async def callback_done(self, callback_id: int) -> bool:
        """Mark a pending callback done (``open_attempt`` does it when the lead is dialled)."""
        async with self._db.execute(
            "UPDATE callbacks SET state = 'done' WHERE id = ? AND state = 'pending'", (callback_id,)
        ) as cursor:
            return cursor.rowcount > 0


def _book_callback(
    conn: sqlite3.Connection, lead_id: int, campaign_id: str, due_at: float,
    seat_id: str | None, created_by: str, now: float,
) -> int:
    cursor = conn.execute(
        "INSERT INTO callbacks (lead_id, campaign_id, seat_id, due_at, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)", (lead_id, campaign_id, seat_id, due_at, created_by, now),
    )
    conn.execute(
        "UPDATE leads SET status = 'callback', next_at = ?, callback_seat = ? WHERE id = ? AND status != 'dnc'",
        (due_at, seat_id, lead_id),
    )
    return cast(int, cursor.lastrowid)


def _apply(
    conn: sqlite3.Connection, row: DispositionRow, number: str, callback_at: float | None, callback_seat: str | None
) -> None:
    """What a disposition does to its lead (and, for 'dnc', to the global list)."""
    if row.kind == "dnc":
        conn.execute(
            "INSERT INTO dnc (number, campaign_id, reason, source, added_by, added_at)"
            " VALUES (?, '', ?, 'disposition', ?, ?) ON CONFLICT DO NOTHING",
            (number, f"disposition {row.code}", row.seat_id, row.at),
        )
        set_lead(conn, row.lead_id, "dnc", None)
    elif row.kind == "callback" and callback_at is not None:
        _book_callback(conn, row.lead_id, row.campaign_id, callback_at, callback_seat, row.seat_id, row.at)
    else:
        set_lead(conn, row.lead_id, "done", None)
