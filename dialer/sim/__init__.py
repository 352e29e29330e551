"""The dialer simulator: a campaign in simulated time around the real pacing code."""

from __future__ import annotations

from dialer.sim.engine import SimResult, simulate
from dialer.sim.scenario import Range, Scenario, ScenarioError, load_scenario, parse_scenario

__all__ = ["Range", "Scenario", "ScenarioError", "SimResult", "load_scenario", "parse_scenario", "simulate"]
