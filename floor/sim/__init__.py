"""The blended-floor simulator: inbound queues, outbound campaigns and the queue-watcher in simulated time."""

from __future__ import annotations

from floor.sim.engine import simulate_floor
from floor.sim.pacing import CampaignPacing, PacingFactory, ProgressivePacing
from floor.sim.results import CampaignResult, FloorResult, QueueResult
from floor.sim.scenario import (
    CampaignSpec,
    FloorScenario,
    InboundSpec,
    ScenarioError,
    SeatGroup,
    load_floor_scenario,
    parse_floor_scenario,
)

__all__ = [
    "CampaignPacing",
    "CampaignResult",
    "CampaignSpec",
    "FloorResult",
    "FloorScenario",
    "InboundSpec",
    "PacingFactory",
    "ProgressivePacing",
    "QueueResult",
    "ScenarioError",
    "SeatGroup",
    "load_floor_scenario",
    "parse_floor_scenario",
    "simulate_floor",
]
