"""The outer loop of predictive pacing: a feedback controller on the measured abandonment.

The model (``dialer.pacing_model``) prices each extra dial by its expected abandonment. The
controller sets the price the pacer accepts: ``theta``, the largest chance that the next dial's
live answer finds no seat within the grace time. Every live answer moves ``log theta``: up by
``gain * setpoint`` when it reached a seat, down by ``gain * (1 - setpoint)`` when it was
abandoned, so in the long run the abandoned share settles on the setpoint whatever the model's
errors (a Robbins-Monro iteration). The budget left in the 24-hour window scales theta down when
only a few abandoned calls would take the campaign to its target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["AbandonController", "ControllerConfig"]


@dataclass(frozen=True, slots=True)
class ControllerConfig:
    """Tuning of :class:`AbandonController`."""

    setpoint_ratio: float = 0.85  # aim at this share of the campaign's target abandonment
    gain: float = 0.08  # step of log(theta) per live answer, times the error
    small_campaign: int = 25  # below this many seats the gain grows as seats shrink (fewer answers)
    max_gain: float = 0.25
    theta_initial: float = 0.02
    theta_min: float = 0.0001
    theta_max: float = 0.5
    slack_scale: float = 6.0  # below this many abandoned calls of headroom, theta shrinks,
    slack_per_seat: float = 0.2  # ... or below this many per seat, whichever is more


class AbandonController:
    """Integral control of ``theta`` from connected and abandoned live answers."""

    def __init__(self, config: ControllerConfig | None = None) -> None:
        self.config = config or ControllerConfig()
        self._log_theta = math.log(self.config.theta_initial)
        self.connected = 0
        self.abandoned = 0

    @property
    def theta(self) -> float:
        """The accepted abandonment chance of one more dial's answer, before the budget scale."""
        return math.exp(self._log_theta)

    def gain(self, seats: int) -> float:
        """The step per live answer. A small campaign gets few answers an hour: its steps are
        larger so that theta still finds its level within a shift."""
        c = self.config
        if 0 < seats < c.small_campaign:
            return min(c.max_gain, c.gain * c.small_campaign / seats)
        return c.gain

    def observe(self, abandoned: bool, target: float, uncontrolled: float = 0.0, seats: int = 0) -> None:
        """A live answer reached a seat (``abandoned`` False) or was abandoned. ``uncontrolled``
        is the part of the measured rate pacing cannot lower (the AMD false-positive allowance
        of the UK formula): the setpoint leaves room for it. ``seats``: the campaign's size."""
        setpoint = max(0.1 * target, self.config.setpoint_ratio * target - uncontrolled)
        gain = self.gain(seats)
        if abandoned:
            self.abandoned += 1
            self._log_theta -= gain * (1.0 - setpoint)
        else:
            self.connected += 1
            self._log_theta += gain * setpoint
        low, high = math.log(self.config.theta_min), math.log(self.config.theta_max)
        self._log_theta = min(high, max(low, self._log_theta))

    def accepted(self, slack: float, seats: int) -> float:
        """Theta scaled by the budget: ``slack`` is how many abandoned calls the window can
        still take before reaching the target (``math.inf`` when unknown). Abandoned calls come
        in bursts about as large as the campaign, so the headroom is judged against its seats."""
        scale = max(self.config.slack_scale, self.config.slack_per_seat * seats)
        if slack >= scale:
            return self.theta
        return self.theta * max(0.0, slack) / scale
