"""The base of ``DialerStore``: errors, the shared SQL, one-transaction writes, campaigns."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from typing import Any, TypeVar

import aiosqlite

from callfloor.store.db import Store
from callfloor.store.schema import StoreError
from callfloor.store.shared import SharedConnection
from dialer.campaign import Campaign, RetryConfig
from dialer.eligibility import ABANDON_HOLD
from dialer.records import CampaignRow, CampaignVersion, LeadRow

__all__ = [
    "ABANDONED",
    "ATTEMPT_COLUMNS",
    "CALLBACK_COLUMNS",
    "DNC_COLUMNS",
    "DUE_LEADS",
    "LEAD_COLUMNS",
    "L_LEAD_COLUMNS",
    "N_LEAD_COLUMNS",
    "ON_DNC",
    "AttemptClosedError",
    "CampaignSourceError",
    "DialerBase",
    "DispositionError",
    "DuplicateAttemptError",
    "NotDialableError",
    "UnknownAttemptError",
    "UnknownCampaignError",
    "UnknownLeadError",
    "lead_row",
    "marks",
]

T = TypeVar("T")
LEAD_COLUMNS = ("id, campaign_id, number, name, data, time_zone, country, status, attempts, next_at,"
         " last_outcome, callback_seat, imported_at, import_line")
L_LEAD_COLUMNS = ", ".join("l." + c.strip() for c in LEAD_COLUMNS.split(","))  # of ``leads l``
N_LEAD_COLUMNS = LEAD_COLUMNS.count(",") + 1  # a joined row's own columns start after these
ATTEMPT_COLUMNS = ("id, lead_id, campaign_id, number, call_uuid, mode, state, outcome, sip_status, created_at,"
            " answered_at, connected_at, seat_id, amd, closed_at")
CALLBACK_COLUMNS = "id, lead_id, campaign_id, seat_id, due_at, created_by, created_at, state"
DNC_COLUMNS = "number, campaign_id, reason, source, added_by, added_at"
ON_DNC = "SELECT 1 FROM dnc d WHERE d.number = {0} AND d.campaign_id IN ('', {1})"
ABANDONED = ("SELECT 1 FROM attempts x WHERE x.number = {0} AND x.outcome = 'abandoned'"
              " AND coalesce(x.closed_at, x.created_at) > {1}")
# Due leads of one status, in dialling order. DNC is checked here and again by open_attempt.
DUE_LEADS = f"""
SELECT {L_LEAD_COLUMNS},
       EXISTS ({ABANDONED.format('l.number', ':since')})
FROM leads l
WHERE l.campaign_id = :campaign AND l.status = :status
  AND (l.next_at IS NULL OR l.next_at <= :now)
  AND (l.time_zone, coalesce(l.country, '')) IN (SELECT value ->> 0, value ->> 1 FROM json_each(:zones))
  AND NOT EXISTS ({ON_DNC.format('l.number', 'l.campaign_id')})
  AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.lead_id = l.id AND a.state = 'dialing')
  AND (l.status = 'callback' OR l.attempts < :max_attempts)
  AND (l.status != 'callback' OR l.callback_seat IS NULL
       OR l.callback_seat IN (SELECT value FROM json_each(:seats)))
  AND (:reserved OR NOT EXISTS ({ABANDONED.format('l.number', ':since')}))
ORDER BY l.next_at, l.id
LIMIT :limit
"""


class UnknownCampaignError(StoreError, LookupError):
    """No campaign has this id (sync the campaign files first)."""


class CampaignSourceError(StoreError):
    """An API change to a campaign defined in a file (the file is its only definition)."""


class UnknownLeadError(StoreError, LookupError):
    """No lead has this id."""


class UnknownAttemptError(StoreError, LookupError):
    """No attempt has this id."""


class DuplicateAttemptError(StoreError):
    """An attempt with this call uuid exists already."""


class AttemptClosedError(StoreError):
    """The attempt was closed already (by its call, or as lost by recover)."""


class DispositionError(StoreError):
    """A disposition the campaign does not have, a second one for an attempt, or one missing data."""


class NotDialableError(StoreError):
    """The ledger refuses to open an attempt; ``reason`` is an ``eligibility.Reason`` value."""

    def __init__(self, lead_id: int, reason: str) -> None:
        super().__init__(f"lead {lead_id} may not be dialled: {reason}")
        self.lead_id = lead_id
        self.reason = reason


def lead_row(row: Sequence[Any], reserved: bool = False) -> LeadRow:
    """A ``LeadRow`` from the ``LEAD_COLUMNS`` of a row (its JSON data decoded)."""
    lid, campaign, number, name, data, zone, country, status, attempts, next_at, last, seat, at, line = \
        row[:N_LEAD_COLUMNS]
    return LeadRow(lid, campaign, number, name, json.loads(data), zone, country, status, attempts, next_at,
                   last, seat, at, line, reserved)


def marks(items: Collection[Any]) -> str:
    """One "?" placeholder per item, comma-separated."""
    return ", ".join("?" * len(items))


def _file_change(row: Sequence[Any] | None, name: str, config: str) -> str | None:
    """What loading a campaign file does to the stored row ``(source, name, config)``: None when
    nothing changes."""
    if row is None:
        return "created"
    source, old_name, old_config = row
    if source != "file":
        return "file-took-over"
    before, after = json.loads(old_config), json.loads(config)
    if (old_name, before) == (name, after):
        return None
    if {**before, "active": after.get("active")} == after and old_name == name:
        return "started" if after.get("active") else "stopped"
    return "updated"


def _version(conn: sqlite3.Connection, campaign_id: str, source: str, change: str, config: str,
             by: str | None, now: float) -> None:
    """One row of the campaign's history (inside the change's transaction)."""
    conn.execute("INSERT INTO campaign_versions (campaign_id, source, change, config, changed_by, at)"
                 " VALUES (?, ?, ?, ?, ?, ?)", (campaign_id, source, change, config, by, now))


class DialerBase(SharedConnection):
    """The connection, one-transaction writes, and the campaigns' settings."""

    def __init__(self, db: Store | aiosqlite.Connection, *, hold: float = ABANDON_HOLD) -> None:
        super().__init__(db)
        self._hold = hold
        self._campaigns: dict[str, Campaign] = {}



    async def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, params))

    # -- campaigns ---------------------------------------------------------------------------

    async def sync_campaigns(self, campaigns: Sequence[Campaign], now: float) -> None:
        """Write the loaded campaign files; a file campaign no longer loaded becomes inactive.
        A file takes over an API campaign of the same id (the file wins; the API's definition
        stays in the campaign's history); other API campaigns are left as they are."""

        def work(conn: sqlite3.Connection) -> None:
            for c in campaigns:
                config = c.model_dump_json()
                row = conn.execute("SELECT source, name, config FROM campaigns WHERE id = ?",
                                   (c.id,)).fetchone()
                change = _file_change(row, c.name, config)
                if change is None:
                    continue
                conn.execute(
                    "INSERT INTO campaigns (id, name, config, source, active, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'file', ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                    " name = excluded.name, config = excluded.config, active = excluded.active,"
                    " source = 'file', updated_at = excluded.updated_at, deleted_at = NULL",
                    (c.id, c.name, config, int(c.active), now, now),
                )
                _version(conn, c.id, "file", change, config, None, now)
            ids = [c.id for c in campaigns]
            gone = conn.execute(
                f"SELECT id FROM campaigns WHERE source = 'file' AND active = 1 AND id NOT IN ({marks(ids)})",
                ids).fetchall()
            for (ident,) in gone:
                config = conn.execute(
                    "UPDATE campaigns SET active = 0, config = json_set(config, '$.active', json('false')),"
                    " updated_at = ? WHERE id = ? RETURNING config", (now, ident)).fetchone()[0]
                _version(conn, ident, "file", "file-removed", config, None, now)

        await self._atomic(work)
        self._campaigns.update((c.id, c) for c in campaigns)

    async def save_api_campaign(self, campaign: Campaign, now: float, *, by: str | None = None) -> bool:
        """Store a campaign defined over the HTTP API (source 'api'); True when it is new.
        ``CampaignSourceError`` when the id is a file campaign's."""
        created = False

        def work(conn: sqlite3.Connection) -> None:
            nonlocal created
            row = conn.execute("SELECT source, name, config, deleted_at FROM campaigns WHERE id = ?",
                               (campaign.id,)).fetchone()
            if row is not None and row[0] != "api":
                raise CampaignSourceError(f"campaign {campaign.id!r} is defined in a campaign file;"
                                          " change the file (or use another id)")
            created = row is None or row[3] is not None  # a deleted campaign's id comes back
            config = campaign.model_dump_json()
            conn.execute(
                "INSERT INTO campaigns (id, name, config, source, active, created_at, updated_at)"
                " VALUES (?, ?, ?, 'api', ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                " config = excluded.config, active = excluded.active, updated_at = excluded.updated_at,"
                " deleted_at = NULL",
                (campaign.id, campaign.name, config, int(campaign.active), now, now),
            )
            if created or (row[1], json.loads(row[2])) != (campaign.name, json.loads(config)):
                _version(conn, campaign.id, "api", "created" if created else "updated", config, by, now)

        await self._atomic(work)
        self._campaigns[campaign.id] = campaign
        return created

    async def api_campaigns(self) -> list[Campaign]:
        """The campaigns stored by the HTTP API, by id."""
        rows = await self._rows("SELECT config FROM campaigns WHERE source = 'api' AND deleted_at IS NULL"
                                " ORDER BY id")
        return [Campaign.model_validate_json(r[0]) for r in rows]

    async def campaign_source(self, campaign_id: str) -> str | None:
        """'file' or 'api' (None: no such campaign, or deleted)."""
        rows = await self._rows("SELECT source FROM campaigns WHERE id = ? AND deleted_at IS NULL",
                                (campaign_id,))
        return str(rows[0][0]) if rows else None

    async def delete_api_campaign(self, campaign_id: str, now: float, *, by: str | None = None) -> None:
        """Delete a campaign made over the API: it stops and no longer runs, lists or takes leads;
        its row, leads and attempts stay for the reports (``UnknownCampaignError``; a file
        campaign's id: ``CampaignSourceError``)."""

        def work(conn: sqlite3.Connection) -> None:
            row = conn.execute("UPDATE campaigns SET active = 0, deleted_at = ?, updated_at = ?,"
                               " config = json_set(config, '$.active', json('false'))"
                               " WHERE id = ? AND source = 'api' AND deleted_at IS NULL RETURNING config",
                               (now, now, campaign_id)).fetchone()
            if row is None:
                found = conn.execute("SELECT source FROM campaigns WHERE id = ? AND deleted_at IS NULL",
                                     (campaign_id,)).fetchone()
                if found is None:
                    raise UnknownCampaignError(f"no campaign {campaign_id!r}")
                raise CampaignSourceError(f"campaign {campaign_id!r} is defined in a campaign file;"
                                          " remove the file to end it")
            _version(conn, campaign_id, "api", "deleted", row[0], by, now)

        await self._atomic(work)
        self._campaigns.pop(campaign_id, None)

    async def set_campaign_active(self, campaign_id: str, active: bool, now: float, *,
                                  by: str | None = None) -> Campaign:
        """Start or stop dialling a campaign (its stored settings say so too); a file campaign's
        file sets it again at the next start."""
        before = await self.campaign(campaign_id)
        campaign = before.model_copy(update={"active": active})
        config = campaign.model_dump_json()

        def work(conn: sqlite3.Connection) -> None:
            source = conn.execute("UPDATE campaigns SET active = ?, config = ?, updated_at = ? WHERE id = ?"
                                  " RETURNING source", (int(active), config, now, campaign_id)).fetchone()
            if source is not None and before.active != active:
                _version(conn, campaign_id, source[0], "started" if active else "stopped", config, by, now)

        await self._atomic(work)
        self._campaigns[campaign_id] = campaign
        return campaign

    async def versions(self, campaign_id: str) -> list[CampaignVersion]:
        """Every definition the campaign has had, oldest first (``UnknownCampaignError`` if it
        never existed)."""
        rows = await self._rows(
            "SELECT id, campaign_id, source, change, config, changed_by, at FROM campaign_versions"
            " WHERE campaign_id = ? ORDER BY id", (campaign_id,))
        if not rows and await self.campaign_source(campaign_id) is None:
            raise UnknownCampaignError(f"no campaign {campaign_id!r}")
        return [CampaignVersion(i, c, s, ch, json.loads(cfg), by, at) for i, c, s, ch, cfg, by, at in rows]

    async def campaigns(self) -> list[CampaignRow]:
        """Every stored campaign, by id."""
        rows = await self._rows(
            "SELECT id, name, source, active, created_at, updated_at FROM campaigns ORDER BY id"
        )
        return [CampaignRow(i, n, s, bool(a), c, u) for i, n, s, a, c, u in rows]

    async def campaign(self, campaign_id: str) -> Campaign:
        """The campaign's settings as last synced."""
        if campaign_id not in self._campaigns:
            rows = await self._rows("SELECT config FROM campaigns WHERE id = ?", (campaign_id,))
            if not rows:
                raise UnknownCampaignError(f"no campaign {campaign_id!r}")
            self._campaigns[campaign_id] = Campaign.model_validate_json(rows[0][0])
        return self._campaigns[campaign_id]

    async def _policy(self, campaign_id: str) -> tuple[int, dict[str, float]]:
        """(max_attempts, retry delays); a campaign gone from the table gets the defaults."""
        try:
            c = await self.campaign(campaign_id)
        except UnknownCampaignError:
            return 3, RetryConfig().delays()
        return c.max_attempts, c.retry.delays()
