"""Build the inbound floor from settings: flows, the ACD's queues and seats, the switchboard.

Kept apart from ``app.py`` so the conversion from TOML-shaped settings to the pure cores' models
is in one place and testable without starting anything.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from callfloor.settings import Settings
from callfloor.switchboard import Switchboard
from dialer.campaign import Campaign
from floor.acd import Acd
from floor.features import FeatureCodes
from floor.model import OverflowKind, OverflowTarget, QueueConfig, SeatConfig, Strategy, Tier
from ivr.context import digits_only
from ivr.loader import FlowSet, load_flows
from ivr.prompts import PromptLibrary
from telephony.calls.engine import CallEngine

log = logging.getLogger("callfloor.floor")

__all__ = ["CsvCustomers", "assigned_seats", "build_switchboard", "campaign_queue", "campaign_queues",
           "campaign_teams", "local_day", "local_day_start", "queue_configs", "seat_configs"]


def campaign_queue(campaign_id: str) -> str:
    """The ACD queue that hands a campaign's answered calls to its seats."""
    return f"campaign-{campaign_id}"


def local_day(now: float) -> int:
    """Today's number in the machine's local time zone, so "today" in the reports is local."""
    t = time.localtime(now)
    return int((now + t.tm_gmtoff) // 86400)


def local_day_start(now: float) -> float:
    """Unix time of the start of today (local midnight), where the monitor's "today" begins."""
    t = time.localtime(now)
    return local_day(now) * 86400.0 - t.tm_gmtoff


class CsvCustomers:
    """The customer table for ``route_by_caller``: a CSV of ``number,tier,name`` (header optional)."""

    def __init__(self, path: Path) -> None:
        self.tiers: dict[str, str] = {}
        with path.open(newline="") as handle:
            for row in csv.reader(handle):
                if len(row) < 2 or row[0].strip().lower() == "number":
                    continue
                number, tier = digits_only(row[0]), row[1].strip()
                if number and tier:
                    self.tiers[number] = tier

    def tier(self, number: str) -> str | None:
        """The caller's tier ("vip", "gold"...) or None."""
        return self.tiers.get(digits_only(number))


def queue_configs(settings: Settings) -> list[QueueConfig]:
    """The ACD's queues."""
    return [
        QueueConfig(
            name=q.name, strategy=Strategy(q.strategy), ring_timeout=q.ring_timeout, wrap_up=q.wrap_up,
            max_wait=q.max_wait, overflow=OverflowTarget.parse(q.overflow) if q.overflow else None,
            overflow_when_no_seats=q.overflow_when_no_seats, service_level_threshold=q.service_level,
            announce_every=q.announce_every, retry_after=q.retry_after, rna_pause=q.rna_pause,
            skills=dict(q.skills), tiers=frozenset(Tier(t) for t in q.tiers), moh=q.moh,
            default_handle_time=q.default_handle_time,
        )
        for q in settings.queues
    ]


def campaign_queues(campaigns: Sequence[Campaign]) -> list[QueueConfig]:
    """One ACD queue per campaign: an answered call waits at most the grace time for a seat,
    then overflows (the dialer plays the abandon message); a seat that lets it ring that long
    is paused, as it would keep the next customer waiting too."""
    return [
        QueueConfig(
            name=campaign_queue(c.id), strategy=Strategy.LONGEST_IDLE, ring_timeout=c.grace,
            wrap_up=c.wrap_up, max_wait=c.grace,
            overflow=OverflowTarget(OverflowKind.FLOW, "abandon"), overflow_when_no_seats=True,
            service_level_threshold=c.grace, announce_every=None, retry_after=c.grace,
        )
        for c in campaigns
    ]


def assigned_seats(settings: Settings, campaign: Campaign) -> set[str]:
    """The configured seats a campaign names, by seat id or by team."""
    return {s.id for s in settings.seats
            if s.id in campaign.seats or (s.team is not None and s.team in campaign.teams)}


def campaign_teams(settings: Settings, campaign: Campaign) -> set[str]:
    """The teams whose seats a campaign assigns: its ``teams``, and the teams of the seats it
    names by id (a team lead acts on the campaigns of its team)."""
    named = {s.team for s in settings.seats if s.id in campaign.seats and s.team is not None}
    return set(campaign.teams) | named


def seat_configs(settings: Settings, campaigns: Sequence[Campaign] = ()) -> list[SeatConfig]:
    """The ACD's seats, each a member of its queues and of the campaigns it is assigned to."""
    members = {c.id: assigned_seats(settings, c) for c in campaigns}
    out = []
    for s in settings.seats:
        joined = tuple(campaign_queue(c.id) for c in campaigns if s.id in members[c.id])
        out.append(SeatConfig(id=s.id, name=s.name or "", team=s.team, tier=Tier(s.tier),
                              skills=dict(s.skills), queues=(*s.queues, *joined),
                              penalties=dict(s.penalties)))
    return out


def build_switchboard(settings: Settings, engine: CallEngine, now: float,
                      campaigns: Sequence[Campaign] = (), *,
                      dialer: bool = False) -> tuple[Switchboard, PromptLibrary] | None:
    """The switchboard for these settings (None without flows, campaigns or ``dialer``: calls
    follow [routes] only). ``dialer``: the dialer runs, with no campaign yet perhaps (the HTTP
    API adds them). The prompts are the flows' and the dialer's (``[dialer] prompts``).

    Raises ``ivr.loader.FlowError`` naming the file and key of a bad flow.
    """
    dialer = dialer or bool(campaigns)
    if settings.ivr.flows is None and not dialer:
        return None
    flows: FlowSet | None = None
    prompts = PromptLibrary()
    if settings.ivr.flows is not None:
        flows = load_flows(settings.ivr.flows, queues=[q.name for q in settings.queues],
                           seats=[s.id for s in settings.seats])
        prompts = flows.prompts
    if dialer and settings.dialer.prompts is not None:
        # A name the flows already have keeps the flows' file (reported, not fatal).
        for problem in prompts.add_directory(settings.dialer.prompts):
            log.warning("dialer prompts: %s", problem)
    queues = [*queue_configs(settings), *campaign_queues(campaigns)]
    acd = Acd(queues, seat_configs(settings, campaigns), now=now, day_of=local_day)
    features = settings.features
    customers = CsvCustomers(settings.ivr.customers) if settings.ivr.customers else None
    board = Switchboard(
        flows, acd, timers=engine.ctx, emit=engine.ctx.emit,
        features=FeatureCodes(ready=features.ready, pause=features.pause, logout=features.logout),
        queue_moh={q.name: q.moh for q in settings.queues if q.moh}, default_moh=settings.ivr.moh,
        customers=customers,
    )
    return board, prompts
