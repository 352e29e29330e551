"""How the floor simulator asks a campaign's pacer for dials, without importing the dialer.

``floor`` may not import ``dialer`` (imports point down, tests/unit/test_layering.py), so the
simulator takes a factory of :class:`CampaignPacing`; ``callfloor.simulate.DialerPacing`` wraps
the real :class:`dialer.pacing.Pacer` and abandonment tracker. :class:`ProgressivePacing`, one
dial per uncovered ready seat, is the stand-in when no factory is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from floor.sim.scenario import CampaignSpec

__all__ = ["CampaignPacing", "PacingFactory", "ProgressivePacing"]


class CampaignPacing(Protocol):
    """A campaign's pacer as the simulator drives it (ages in seconds, as in PacingSnapshot)."""

    def decide(self, now: float, ready: int, talking: tuple[float, ...], wrapping: tuple[float, ...],
               dialing: tuple[float, ...], waiting: tuple[float, ...]) -> int:
        """How many new dials to launch now."""

    def cancellations(self, now: float, ready: int, talking: tuple[float, ...],
                      wrapping: tuple[float, ...], dialing: tuple[float, ...],
                      waiting: tuple[float, ...]) -> list[int]:
        """Dials in flight to cancel now (indices into ``dialing``), asked before :meth:`decide`."""

    def dial_ended(self, now: float, duration: float, live: bool) -> None:
        """A dial ended ``duration`` s after launch, answered live or not."""

    def dial_cancelled(self, now: float, age: float) -> None:
        """A dial was cancelled ``age`` s after launch, still ringing."""

    def connected(self, now: float) -> None:
        """A live answer reached a seat."""

    def abandoned(self, now: float) -> None:
        """A live answer found no seat within the grace time."""

    def talk_ended(self, duration: float) -> None:
        """A connected call ended after ``duration`` s."""

    def wrap_ended(self, duration: float) -> None:
        """A seat finished its wrap-up after ``duration`` s."""


PacingFactory = Callable[[CampaignSpec], CampaignPacing]


class ProgressivePacing:
    """One dial per ready seat not covered by a dial in flight or an answer waiting."""

    def decide(self, now: float, ready: int, talking: tuple[float, ...], wrapping: tuple[float, ...],
               dialing: tuple[float, ...], waiting: tuple[float, ...]) -> int:
        """Progressive dials: never abandons."""
        return max(0, ready - len(dialing) - len(waiting))

    def cancellations(self, now: float, ready: int, talking: tuple[float, ...],
                      wrapping: tuple[float, ...], dialing: tuple[float, ...],
                      waiting: tuple[float, ...]) -> list[int]:
        """Progressive pacing cancels nothing."""
        return []

    def dial_ended(self, now: float, duration: float, live: bool) -> None:
        """Nothing to learn."""

    def dial_cancelled(self, now: float, age: float) -> None:
        """Nothing to learn."""

    def connected(self, now: float) -> None:
        """Nothing to learn."""

    def abandoned(self, now: float) -> None:
        """Nothing to learn."""

    def talk_ended(self, duration: float) -> None:
        """Nothing to learn."""

    def wrap_ended(self, duration: float) -> None:
        """Nothing to learn."""
