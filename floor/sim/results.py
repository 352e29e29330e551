"""What a blended-floor run measures, per inbound queue, per campaign and for the whole floor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from floor.watcher_snapshot import SeatMove

__all__ = ["CampaignResult", "FloorResult", "QueueResult"]


@dataclass
class QueueResult:
    """An inbound queue's outcomes over the run (callers who joined before the end)."""

    id: str
    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_within: int = 0
    wait_answered: float = 0.0
    seat_seconds: float = 0.0  # seats assigned to the queue, within the day

    @property
    def service_level(self) -> float | None:
        """The floor's formula (floor/stats.py): short abandons are left out."""
        denominator = self.answered + self.abandoned - self.abandoned_within
        return self.answered_within / denominator if denominator else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (rates as fractions)."""
        sl = self.service_level
        return {
            "offered": self.offered, "answered": self.answered, "abandoned": self.abandoned,
            "service_level": None if sl is None else round(sl, 4),
            "answered_within_share": round(self.answered_within / self.offered, 4) if self.offered else None,
            "abandon_rate": round(self.abandoned / self.offered, 4) if self.offered else None,
            "asa_s": round(self.wait_answered / self.answered, 2) if self.answered else None,
            "seat_hours": round(self.seat_seconds / 3600, 2),
        }


@dataclass
class CampaignResult:
    """An outbound campaign's dials, answers, abandonment and seat time."""

    id: str
    dials: int = 0
    connected: int = 0
    abandoned: int = 0
    cancelled: int = 0  # dials cancelled while ringing (no seat was coming for their answer)
    ready_s: float = 0.0
    talk_s: float = 0.0
    wrap_s: float = 0.0

    @property
    def abandon_rate(self) -> float:
        """Abandoned live answers over all live answers (the "answers" formula)."""
        live = self.connected + self.abandoned
        return self.abandoned / live if live else 0.0

    @property
    def seat_seconds(self) -> float:
        """Seat time spent in the campaign within the day."""
        return self.ready_s + self.talk_s + self.wrap_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        total = self.seat_seconds
        return {
            "dials": self.dials, "connected": self.connected, "abandoned": self.abandoned,
            "cancelled": self.cancelled,
            "abandon_rate": round(self.abandon_rate, 4),
            "occupancy": round((self.talk_s + self.wrap_s) / total, 4) if total else None,
            "seat_hours": round(total / 3600, 2),
        }


@dataclass
class FloorResult:
    """One run: the queues, the campaigns and the watcher's moves."""

    scenario: str
    watcher: str
    seed: int
    queues: dict[str, QueueResult]
    campaigns: dict[str, CampaignResult]
    moves: list[SeatMove] = field(default_factory=list)

    @property
    def outbound_seat_hours(self) -> float:
        """Seat-hours spent in campaigns."""
        return sum(c.seat_seconds for c in self.campaigns.values()) / 3600

    @property
    def outbound_abandon_rate(self) -> float:
        """Abandonment over every campaign's live answers."""
        live = sum(c.connected + c.abandoned for c in self.campaigns.values())
        return sum(c.abandoned for c in self.campaigns.values()) / live if live else 0.0

    def to_dict(self, *, moves: bool = False) -> dict[str, Any]:
        """JSON-ready; ``moves`` adds the decision log."""
        out: dict[str, Any] = {
            "scenario": self.scenario, "watcher": self.watcher, "seed": self.seed,
            "queues": {k: v.to_dict() for k, v in self.queues.items()},
            "campaigns": {k: v.to_dict() for k, v in self.campaigns.items()},
            "outbound_seat_hours": round(self.outbound_seat_hours, 2),
            "outbound_abandon_rate": round(self.outbound_abandon_rate, 4),
            "seat_moves": len(self.moves),
        }
        if moves:
            out["decisions"] = [m.to_dict() for m in self.moves]
        return out
