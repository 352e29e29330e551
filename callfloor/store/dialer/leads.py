"""Leads: CSV imports in one transaction, counts, zones, and the due leads in dialling order."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable
from typing import Any

from callfloor.store.dialer.core import (
    DUE_LEADS,
    L_LEAD_COLUMNS,
    LEAD_COLUMNS,
    N_LEAD_COLUMNS,
    ON_DNC,
    DialerBase,
    lead_row,
)
from dialer.leads import ImportReport
from dialer.records import ImportResult, LeadResult, LeadRow

__all__ = ["RECYCLABLE", "LeadsMixin"]

# Outcomes whose leads may get a new pass: nobody took the call, or it was lost on our side.
RECYCLABLE = ("busy", "no_answer", "machine", "rejected", "network_error", "abandoned", "cancelled", "lost")


class LeadsMixin(DialerBase):
    """Lead rows of ``DialerStore``."""

    async def import_leads(
        self, campaign_id: str, report: ImportReport, now: float, *, strict: bool = False
    ) -> ImportResult:
        """Write a parsed CSV in one transaction; with ``strict``, any bad row refuses it all.

        A number already in the campaign is left as it is (its attempts and state count).
        """
        if strict and report.errors:
            return ImportResult(0, refused=True)
        await self.campaign(campaign_id)

        def work(conn: sqlite3.Connection) -> ImportResult:
            known = _known(conn, campaign_id, report)
            new = [lead for lead in report.leads if lead.number not in known]
            conn.executemany(
                "INSERT INTO leads (campaign_id, number, name, data, time_zone, country, status,"
                " imported_at, import_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(campaign_id, lead.number, lead.name, json.dumps(lead.data, ensure_ascii=False), lead.time_zone,
                  lead.country, "new" if lead.time_zone else "held", now, lead.line) for lead in new],
            )
            return _result(conn, campaign_id, report, known)

        return await self._atomic(work)

    async def preview_import(self, campaign_id: str, report: ImportReport) -> ImportResult:
        """What ``import_leads`` would write, without writing (the CLI's --dry-run)."""
        await self.campaign(campaign_id)

        def work(conn: sqlite3.Connection) -> ImportResult:
            return _result(conn, campaign_id, report, _known(conn, campaign_id, report))

        return await self._read(work)

    async def lead(self, lead_id: int) -> LeadRow | None:
        """The lead with this id, if any."""
        rows = await self._rows(f"SELECT {LEAD_COLUMNS} FROM leads WHERE id = ?", (lead_id,))
        return lead_row(rows[0]) if rows else None

    async def lead_by_number(self, campaign_id: str, number: str) -> LeadRow | None:
        """The campaign's lead with this E.164 number, if any."""
        rows = await self._rows(
            f"SELECT {LEAD_COLUMNS} FROM leads WHERE campaign_id = ? AND number = ?", (campaign_id, number)
        )
        return lead_row(rows[0]) if rows else None

    async def lead_counts(self, campaign_id: str) -> dict[str, int]:
        """Leads of the campaign by status."""
        rows = await self._rows(
            "SELECT status, count(*) FROM leads WHERE campaign_id = ? GROUP BY status", (campaign_id,)
        )
        return {status: int(n) for status, n in rows}

    async def lead_results(self, campaign_id: str) -> list[LeadResult]:
        """Every lead of the campaign in import order, with its last attempt and the last
        disposition a seat set (the results file a client of the campaign gets back)."""
        await self.campaign(campaign_id)
        rows = await self._rows(f"""
            SELECT {L_LEAD_COLUMNS}, a.created_at, d.code, d.kind, d.note, d.seat_id, d.at, cb.due_at
            FROM leads l
            LEFT JOIN attempts a ON a.id = (SELECT max(id) FROM attempts WHERE lead_id = l.id)
            LEFT JOIN dispositions d ON d.id = (SELECT max(id) FROM dispositions WHERE lead_id = l.id)
            LEFT JOIN callbacks cb ON cb.id = (SELECT max(id) FROM callbacks
                                               WHERE lead_id = l.id AND state = 'pending')
            WHERE l.campaign_id = ? ORDER BY l.id""", (campaign_id,))
        return [LeadResult(lead_row(r), *r[N_LEAD_COLUMNS:]) for r in rows]

    async def recycle_leads(self, campaign_id: str, outcomes: Collection[str], now: float, *,
                            not_before: float | None = None, dry_run: bool = False) -> int:
        """Give the campaign's finished leads whose last call ended in one of ``outcomes`` a new
        pass: status ``retry`` from ``not_before`` (default ``now``), attempts counted from 0. A
        lead a seat set a disposition for is never recycled, nor one on a do-not-call list (the
        ledger keeps every earlier attempt); returns how many (with ``dry_run``: would be)."""
        bad = sorted(set(outcomes) - set(RECYCLABLE))
        if bad or not outcomes:
            raise ValueError(f"outcomes: expected some of {', '.join(RECYCLABLE)}, got {sorted(outcomes) or 'none'}"
                             + (" ('answered': a person took the call; its disposition decides)"
                                if "answered" in bad else ""))
        await self.campaign(campaign_id)
        where = (f"""FROM leads l WHERE l.campaign_id = :campaign AND l.status = 'done'
                     AND l.last_outcome IN (SELECT value FROM json_each(:outcomes))
                     AND NOT EXISTS (SELECT 1 FROM dispositions d WHERE d.lead_id = l.id)
                     AND NOT EXISTS ({ON_DNC.format('l.number', 'l.campaign_id')})""")
        params = {"campaign": campaign_id, "outcomes": json.dumps(sorted(set(outcomes))),
                  "at": now if not_before is None else not_before}

        def work(conn: sqlite3.Connection) -> int:
            if dry_run:
                return int(conn.execute(f"SELECT count(*) {where}", params).fetchone()[0])
            return conn.execute(
                f"UPDATE leads SET status = 'retry', attempts = 0, next_at = :at, callback_seat = NULL"
                f" WHERE id IN (SELECT l.id {where})", params).rowcount

        return await (self._read(work) if dry_run else self._atomic(work))

    async def lead_zones(self, campaign_id: str) -> list[tuple[str, str]]:
        """The distinct (time zone, country) of the campaign's leads still to dial."""
        rows = await self._rows(
            "SELECT DISTINCT time_zone, coalesce(country, '') FROM leads WHERE campaign_id = ?"
            " AND time_zone IS NOT NULL AND status IN ('new', 'retry', 'callback') ORDER BY 1, 2",
            (campaign_id,),
        )
        return [(z, c) for z, c in rows]

    async def next_leads(
        self,
        campaign_id: str,
        n: int,
        now: float,
        open_zones: Iterable[tuple[str, str]],
        *,
        ready_seats: Collection[str] = (),
        reserved: bool = True,
    ) -> list[LeadRow]:
        """Up to ``n`` leads to dial now: callbacks due, then retries due, then new leads.

        Only leads in ``open_zones`` (see ``dialer.windows.open_zones``), not on a DNC list,
        with no attempt open, under max attempts (callbacks exempt), whose callback seat (if
        any) is in ``ready_seats``. ``LeadRow.reserved_seat`` marks the 72 h rule; with
        ``reserved=False`` such leads are left out (so they take no place in the ``n``).
        """
        max_attempts, _ = await self._policy(campaign_id)
        params: dict[str, Any] = {
            "campaign": campaign_id, "now": now, "since": now - self._hold,
            "zones": json.dumps(sorted(set(open_zones))), "seats": json.dumps(sorted(ready_seats)),
            "max_attempts": max_attempts, "reserved": int(reserved),
        }
        out: list[LeadRow] = []
        for status in ("callback", "retry", "new"):
            if len(out) >= n:
                break
            rows = await self._rows(DUE_LEADS, {**params, "status": status, "limit": n - len(out)})
            out += [lead_row(r, bool(r[N_LEAD_COLUMNS])) for r in rows]
        return out


def _known(conn: sqlite3.Connection, campaign_id: str, report: ImportReport) -> set[str]:
    """The report's numbers that are leads of the campaign already."""
    numbers = json.dumps([lead.number for lead in report.leads])
    rows = conn.execute(
        "SELECT number FROM leads WHERE campaign_id = ? AND number IN (SELECT value FROM json_each(?))",
        (campaign_id, numbers),
    )
    return {number for (number,) in rows}


def _result(conn: sqlite3.Connection, campaign_id: str, report: ImportReport, known: set[str]) -> ImportResult:
    """What an import of ``report`` writes, the numbers in ``known`` being there already."""
    new = [lead for lead in report.leads if lead.number not in known]
    listed = conn.execute(
        "SELECT count(DISTINCT number) FROM dnc WHERE campaign_id IN ('', ?) AND number IN"
        " (SELECT value FROM json_each(?))", (campaign_id, json.dumps([lead.number for lead in new])),
    ).fetchone()[0]
    existing = tuple((lead.line, lead.number) for lead in report.leads if lead.number in known)
    held = sum(1 for lead in new if lead.time_zone is None)
    return ImportResult(len(new), existing, int(listed), False, held)
