"""Campaigns created and changed over the HTTP API, applied to the running floor.

The one place a campaign change goes live. A new campaign gets its ACD queue, its seats join it
(each keeps its other queues), the board shows it, and the dialer runs it (its abandonment
tracker and pacer rebuilt from the ledger, as at start-up). A changed API campaign keeps what
its run has learnt: the queue is retuned, seats join or leave, and the new settings apply to
the next pacing decision. Every change is stored first (source 'api'), then applied, then
written to the audit log.

Campaign files stay the files' (``config/campaigns/*.toml``): the API may start or stop one
(``set_active``), which lasts until the next start, where the file's ``active`` wins again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Mapping
from typing import Any

from callfloor.dialer_runtime import DialerRuntime, ledger_tracker
from callfloor.floorlive import LiveFloor
from callfloor.floorwiring import assigned_seats, campaign_queues, campaign_teams
from callfloor.settings import Settings
from callfloor.store.audit import AuditLog
from callfloor.store.dialer import DialerStore
from callfloor.store.dialer.core import CampaignSourceError
from dialer.campaign import Campaign, parse_campaign
from dialer.leads import ImportReport, parse_leads
from dialer.leads_export import results_csv
from dialer.records import ImportResult, history_rows
from floor.acd import QueueNotFound
from floor.errors import QueueInUse

__all__ = ["BODY", "CampaignAdmin", "CampaignConflict", "CampaignForbidden"]

log = logging.getLogger("callfloor.dialer")

BODY = "body"  # the source named in a request's validation errors ("body: caller_id: ...")


class CampaignConflict(Exception):
    """A change the floor cannot take now: the campaign is defined in a file, the dialer is not
    running, or there is no trunk to dial through (HTTP 409)."""


class CampaignForbidden(PermissionError):
    """A team lead acting on a campaign outside its team (HTTP 403): one that assigns no seat of
    its team, or a definition that would assign another team's seats."""


class CampaignAdmin:
    """Create, change, start and stop campaigns while the floor runs."""

    def __init__(self, settings: Settings, ledger: DialerStore, audit: AuditLog, *,
                 runtime: DialerRuntime | None = None, live: LiveFloor | None = None) -> None:
        self.settings = settings
        self.ledger = ledger
        self.audit = audit
        self.runtime = runtime
        self.live = live
        self._lock = asyncio.Lock()  # one change at a time: each reads what the last one left

    async def put(self, data: Mapping[str, Any], now: float, *, by: str,
                  team: str | None = None) -> tuple[Campaign, bool]:
        """Create or replace an API campaign from its keys; ``(campaign, created)``.
        ``CampaignError`` for bad keys, ``CampaignConflict`` when it cannot be applied,
        ``CampaignForbidden`` when the lead of ``team`` may not (see :meth:`check_team`)."""
        runtime = self._running()
        campaign = parse_campaign(data, BODY, seats=[s.id for s in self.settings.seats],
                                  teams=[t.id for t in self.settings.teams])
        if team is not None:
            self._check_definition(campaign, team)
            await self.check_team(campaign.id, team)  # and a replaced one must be its team's
        async with self._lock:
            try:
                created = await self.ledger.save_api_campaign(campaign, now, by=by)
            except CampaignSourceError as exc:
                raise CampaignConflict(str(exc)) from None
            run = runtime.runs.get(campaign.id)
            if run is None:
                await self._start(runtime, campaign, now, by)
            else:
                self._replace(runtime, run.campaign, campaign, now, by)
        warnings = campaign.warnings()
        for warning in warnings:
            log.warning("campaign %s: %s", campaign.id, warning)
        await self.audit.write(by, "campaign.created" if created else "campaign.updated",
                               f"campaign:{campaign.id}",
                               {"mode": campaign.mode, "active": campaign.active, "warnings": warnings}, now)
        return campaign, created

    async def set_active(self, campaign_id: str, active: bool, now: float, *, by: str,
                         team: str | None = None) -> Campaign:
        """Start or stop dialling a campaign (file or API); ``LookupError`` if unknown. Dials in
        progress carry on. A file campaign's file sets ``active`` again at the next start."""
        await self.check_team(campaign_id, team)
        async with self._lock:
            source = await self.ledger.campaign_source(campaign_id)
            if source is None:
                raise LookupError(f"no campaign {campaign_id!r}")
            campaign = await self.ledger.set_campaign_active(campaign_id, active, now, by=by)
            if self.runtime is not None and campaign_id in self.runtime.runs:
                campaign = self.runtime.set_active(campaign_id, active).campaign
                if self.live is not None:
                    self.live.campaign_switched(campaign_id)  # every open monitor's tile, live
        await self.audit.write(by, "campaign.active", f"campaign:{campaign_id}",
                               {"active": active, "source": source}, now)
        return campaign

    async def delete(self, campaign_id: str, now: float, *, by: str, team: str | None = None) -> None:
        """Delete a stopped API campaign whose calls have all ended: its queue leaves the ACD
        (its seats keep their other queues), its tile the board and MQTT, its run the dialer; its
        leads, attempts and history stay. ``LookupError`` if unknown, ``CampaignConflict`` for a
        file campaign, a campaign still dialling, or a call still in progress."""
        await self.check_team(campaign_id, team)
        async with self._lock:
            source = await self.ledger.campaign_source(campaign_id)
            if source is None:
                raise LookupError(f"no campaign {campaign_id!r}")
            if source != "api":
                raise CampaignConflict(f"campaign {campaign_id!r} is defined in a campaign file: remove"
                                       " the file to end it (PATCH active=false stops it now)")
            runtime = self.runtime
            run = runtime.runs.get(campaign_id) if runtime is not None else None
            if run is not None and runtime is not None:
                self._retire(runtime, run.campaign, by)
            await self.ledger.delete_api_campaign(campaign_id, now, by=by)
        await self.audit.write(by, "campaign.deleted", f"campaign:{campaign_id}", {"source": source}, now)
        log.info("campaign %s deleted over the API", campaign_id)

    def _retire(self, runtime: DialerRuntime, campaign: Campaign, by: str) -> None:
        """Take a running campaign off the floor, or raise ``CampaignConflict`` and change nothing."""
        if campaign.active:
            raise CampaignConflict(f"campaign {campaign.id!r} is dialling: stop it first"
                                   " (PATCH active=false) and delete it once its calls have ended")
        try:
            run = runtime.remove_campaign(campaign.id)
        except ValueError as exc:  # a dial in progress, or a launch under way
            raise CampaignConflict(f"{exc}: delete it once its calls have ended") from None
        queue = run.queue
        board = runtime.board

        def remove(t: float) -> None:
            with contextlib.suppress(QueueNotFound):  # a campaign whose queue never was (no trunk)
                board.run(board.acd.remove_queue(queue, t, by=by), t)

        try:
            runtime.server.apply(remove)
        except QueueInUse as exc:  # a call left in its queue: the campaign runs on, stopped
            runtime.runs[campaign.id] = run
            raise CampaignConflict(f"campaign {campaign.id!r}: {exc}") from None
        if self.live is not None:
            self.live.campaign_removed(campaign.id)

    def _check_definition(self, campaign: Campaign, team: str) -> None:
        """``CampaignForbidden`` when the definition assigns a team or a seat outside ``team``."""
        teams = {s.id: s.team for s in self.settings.seats}
        others = [*sorted(set(campaign.teams) - {team}),
                  *sorted(s for s in assigned_seats(self.settings, campaign) if teams[s] != team)]
        if others:
            raise CampaignForbidden(f"campaign {campaign.id!r} would assign {', '.join(others)}, outside"
                                    f" your team {team!r}: a team's lead assigns its own seats only")

    async def import_leads(self, campaign_id: str, data: bytes, now: float, *, by: str, dry_run: bool = False,
                           strict: bool = False, team: str | None = None) -> tuple[ImportReport, ImportResult]:
        """Check a lead CSV and import it into a running campaign (with ``dry_run``, only say what
        would be written); audited as ``campaign.leads``. ``LookupError`` if the campaign does
        not run, ``LeadFileError`` for a file that is not a lead CSV, ``CampaignForbidden``."""
        runtime = self.runtime
        run = runtime.runs.get(campaign_id) if runtime is not None else None
        if runtime is None or run is None:
            raise LookupError(f"unknown campaign {campaign_id!r}")
        await self.check_team(campaign_id, team)
        report = parse_leads(data, region=runtime.region(run.campaign), now=now, countries=run.campaign.countries)
        if dry_run:
            return report, await self.ledger.preview_import(campaign_id, report)
        result = await self.ledger.import_leads(campaign_id, report, now, strict=strict)
        run.zones_at = -1e18  # new time zones may have come in
        await self.audit.write(by, "campaign.leads", f"campaign:{campaign_id}",
                               {"rows": report.rows, "inserted": result.inserted, "bad": len(report.errors),
                                "refused": result.refused}, now)
        return report, result

    async def export_results(self, campaign_id: str, now: float, *, by: str, team: str | None = None) -> str:
        """The campaign's results file (``dialer.leads_export``), audited as ``campaign.exported``
        (it carries customers' data); ``LookupError`` if unknown, ``CampaignForbidden``."""
        await self._existing_of_team(campaign_id, team)
        results = await self.ledger.lead_results(campaign_id)
        await self.audit.write(by, "campaign.exported", f"campaign:{campaign_id}", {"leads": len(results)}, now)
        return results_csv(results)

    async def recycle(self, campaign_id: str, outcomes: Collection[str], now: float, *, by: str,
                      team: str | None = None, not_before: float | None = None, dry_run: bool = False) -> int:
        """A new pass for the campaign's finished leads that ended in ``outcomes``
        (``DialerStore.recycle_leads``), audited as ``campaign.recycled``; ``LookupError`` if
        unknown, ``ValueError`` for outcomes that may not be recycled, ``CampaignForbidden``."""
        await self._existing_of_team(campaign_id, team)
        count = await self.ledger.recycle_leads(campaign_id, outcomes, now, not_before=not_before, dry_run=dry_run)
        if not dry_run:
            run = self.runtime.runs.get(campaign_id) if self.runtime is not None else None
            if run is not None:
                run.zones_at = -1e18  # the recycled leads' time zones are due again
            await self.audit.write(by, "campaign.recycled", f"campaign:{campaign_id}",
                                   {"outcomes": sorted(set(outcomes)), "leads": count, "not_before": not_before}, now)
        return count

    async def _existing_of_team(self, campaign_id: str, team: str | None) -> None:
        """``LookupError`` unless the campaign is known (running or not), then ``check_team``."""
        if await self.ledger.campaign_source(campaign_id) is None:
            raise LookupError(f"no campaign {campaign_id!r}")
        await self.check_team(campaign_id, team)

    async def check_team(self, campaign_id: str, team: str | None) -> None:
        """``CampaignForbidden`` unless the campaign assigns a seat of ``team`` (None: no team,
        every campaign); an unknown campaign passes (the change itself answers that)."""
        if team is None or await self.ledger.campaign_source(campaign_id) is None:
            return
        run = self.runtime.runs.get(campaign_id) if self.runtime is not None else None
        campaign = run.campaign if run is not None else await self.ledger.campaign(campaign_id)
        if team not in campaign_teams(self.settings, campaign):
            raise CampaignForbidden(f"campaign {campaign_id} assigns no seat of your team {team!r}")

    async def definition(self, campaign_id: str) -> dict[str, Any]:
        """The campaign's keys as a file or a POST writes them, where it comes from, the teams
        whose seats it assigns, and what a regulator would question; ``LookupError`` if unknown."""
        source = await self.ledger.campaign_source(campaign_id)
        if source is None:
            raise LookupError(f"no campaign {campaign_id!r}")
        run = self.runtime.runs.get(campaign_id) if self.runtime is not None else None
        campaign = run.campaign if run is not None else await self.ledger.campaign(campaign_id)
        return {"source": source, "running": run is not None,
                "campaign": campaign.model_dump(mode="json", exclude_none=True),
                "teams": sorted(campaign_teams(self.settings, campaign)),
                "warnings": campaign.warnings()}

    async def history(self, campaign_id: str) -> list[dict[str, Any]]:
        """Every definition the campaign has had, newest first, each with the settings it
        changed; ``LookupError`` if unknown."""
        return history_rows(await self.ledger.versions(campaign_id))

    # -- applying --------------------------------------------------------------------------------
    def _running(self) -> DialerRuntime:
        if self.runtime is None:
            raise CampaignConflict("the dialer is not running: set [dialer] campaigns (an empty"
                                   " directory will do) and restart")
        if self.settings.trunk is None:
            raise CampaignConflict("no [trunk] to dial through")
        return self.runtime

    def assigned(self, campaign: Campaign) -> set[str]:
        """The configured seats the campaign names, itself or by team."""
        return assigned_seats(self.settings, campaign)

    async def _start(self, runtime: DialerRuntime, campaign: Campaign, now: float, by: str) -> None:
        queue = campaign_queues([campaign])[0]
        if self.live is not None:
            self.live.campaign_changed(campaign, created=True)
        board = runtime.board

        def install(t: float) -> None:
            try:  # a queue left from before (a campaign stopped by no trunk) is retuned
                commands = board.acd.update_queue(queue, t)
            except QueueNotFound:
                commands = board.acd.add_queue(queue, t)
            board.run(commands, t)
            self._join(runtime, self.assigned(campaign), set(), queue.name, t, by)

        runtime.server.apply(install)
        tracker = await ledger_tracker(self.ledger, campaign, now)
        await runtime.add_campaign(campaign, tracker, now)
        log.info("campaign %s added over the API (%s, %d seats)", campaign.id, campaign.mode,
                 len(self.assigned(campaign)))

    def _replace(self, runtime: DialerRuntime, old: Campaign, new: Campaign, now: float, by: str) -> None:
        queue = campaign_queues([new])[0]
        if self.live is not None:
            self.live.campaign_changed(new, created=False)
        board = runtime.board

        def retune(t: float) -> None:
            board.run(board.acd.update_queue(queue, t), t)
            self._join(runtime, self.assigned(new), self.assigned(old), queue.name, t, by)

        runtime.server.apply(retune)
        runtime.replace_campaign(new, now)

    def _join(self, runtime: DialerRuntime, seats: Collection[str], before: Collection[str], queue: str,
              now: float, by: str) -> None:
        """Seats newly assigned join ``queue``, seats no longer assigned leave it (runs inside
        the engine, as a lead's move does). The queue-watcher's idea of each seat's home follows:
        an assignment is not a loan for it to take back."""
        board = runtime.board
        views = board.acd.snapshot(now).seats
        watcher = self.live.watcher if self.live is not None else None
        for seat in sorted(set(seats) | set(before)):
            view = views.get(seat)
            if view is None:
                continue
            queues = _with(view.queues, queue, seat in seats)
            board.run(board.acd.set_membership(seat, sorted(queues), now, by=by), now)
            if watcher is not None and seat in watcher.home_queues:
                watcher.home_queues[seat] = tuple(sorted(_with(watcher.home_queues[seat], queue, seat in seats)))


def _with(queues: Collection[str], queue: str, member: bool) -> set[str]:
    """``queues`` with ``queue`` in it or not."""
    return (set(queues) - {queue}) | ({queue} if member else set())
