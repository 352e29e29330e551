"""One outbound campaign on the board, from the dialer's events.

- ``dialer.dial``: a dial launched (counted today; in flight until connected, abandoned or closed);
- ``dialer.connected``: a seat took the customer (a connect; counts as connected for the drop
  rate unless its ``amd`` said machine);
- ``dialer.abandoned``: no seat within the grace time (a drop);
- ``dialer.attempt``: the attempt closed; an answering machine counts for the ``connections``
  formula (Ofcom's false-positive allowance).

Drop rates are over the last 24 hours and 30 days of event time, computed as
``dialer/abandon.py`` does for the campaign's formula.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from floor.errors import FloorError
from floor.metrics_model import CampaignSpec, Payload, opt_str
from floor.metrics_queue import ratio
from floor.metrics_seat import SeatFigures
from floor.metrics_windows import DropFormula, DropKind, DropWindows, drop_kind

__all__ = ["DIALER_KINDS", "CampaignFigures", "CampaignLike", "CampaignNotFound", "campaign_spec"]

DIALER_KINDS = ("dial", "connected", "abandoned", "attempt")


class CampaignNotFound(FloorError, KeyError):
    """No campaign by this id on the board (a ``KeyError``, so a ``LookupError`` too)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""  # not KeyError's quoted repr


class CampaignLike(Protocol):
    """What the board reads of a campaign (``dialer.campaign.Campaign`` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def target_abandon(self) -> float: ...
    @property
    def abandon_formula(self) -> str: ...
    @property
    def amd_allowance(self) -> float: ...


def campaign_spec(campaign: CampaignSpec | CampaignLike) -> CampaignSpec:
    """The board's spec of a campaign (a spec is returned as it is)."""
    if isinstance(campaign, CampaignSpec):
        return campaign
    return CampaignSpec(campaign.id, campaign.target_abandon, DropFormula(campaign.abandon_formula),
                        campaign.amd_allowance)


class CampaignFigures:
    """A campaign's dials, connects, drops and drop-rate windows."""

    def __init__(self, spec: CampaignSpec) -> None:
        self.spec = spec
        self.in_flight: dict[str, float] = {}  # call -> launched at
        self.day: float | None = None
        self.dials = 0
        self.connects = 0
        self.drops = 0
        self.windows = DropWindows()

    @property
    def id(self) -> str:
        """The campaign id."""
        return self.spec.id

    def apply(self, kind: str, what: str, at: float, day: float, call: str, payload: Payload) -> None:
        """One ``dialer.<what>`` event at ``at`` (``day``: the start of its day)."""
        amd = opt_str(kind, payload, "amd")
        outcome = opt_str(kind, payload, "outcome") if what == "attempt" else None
        if day != self.day:
            self.day, self.dials, self.connects, self.drops = day, 0, 0, 0
        if what == "dial":
            self.in_flight[call] = at
            self.dials += 1
            return
        self.in_flight.pop(call, None)
        if what == "connected":
            self.connects += 1
            if amd != "machine":
                self.windows.add(at, DropKind.CONNECTED)
        elif what == "abandoned":
            self.drops += 1
            self.windows.add(at, DropKind.ABANDONED)
        elif drop_kind(outcome, amd) is DropKind.MACHINE:
            # connected and abandoned calls were counted when they happened
            self.windows.add(at, DropKind.MACHINE)

    def to_json(self, now: float, today: float, seats: Iterable[SeatFigures]) -> dict[str, Any]:
        """The campaign's board entry at ``now``; ``seats``: those serving or lent to it."""
        current = self.day == today
        dials, connects, drops = (self.dials, self.connects, self.drops) if current else (0, 0, 0)
        busy = idle = 0
        for seat in seats:
            if not seat.logged_in:
                continue
            if seat.busy or seat.lent_to == self.id:  # a seat held for one dial is taken
                busy += 1
            elif seat.ready_idle:
                idle += 1
        spec = self.spec
        day_rate = self.windows.day(now).rate(spec.formula, spec.amd_allowance)
        month_rate = self.windows.month(now).rate(spec.formula, spec.amd_allowance)
        return {
            "id": self.id, "dials": dials, "connects": connects, "connect_rate": ratio(connects, dials),
            "drops": drops,
            "drop_rate_24h": None if day_rate is None else round(day_rate, 5),
            "drop_rate_30d": None if month_rate is None else round(month_rate, 5),
            "target_abandon": spec.target_abandon, "seats": {"busy": busy, "idle": idle},
            "in_flight": len(self.in_flight), "pacing_ratio": ratio(len(self.in_flight), idle, 3),
            "at": now,
        }
