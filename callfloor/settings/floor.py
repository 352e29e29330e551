"""Settings of the inbound floor: teams, queues, the IVR flows and the seats' feature codes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from callfloor.settings.sections import Section

__all__ = ["FeatureCodeSettings", "IvrSettings", "QueueSettings", "TeamSettings"]

_NAME = r"^[A-Za-z0-9_-]+$"
Strategy = Literal["longest-idle", "round-robin", "fewest-calls", "least-talk-time", "ring-all",
                   "skills-based"]
Tier = Literal["one-line", "two-line", "vip"]


class TeamSettings(Section):
    """A team of seats (`[[teams]]`); seats name it with `team = "..."`."""

    id: str = Field(pattern=_NAME, description="Team id, referred to by seats.team.")
    name: str = Field(default="", description="Display name of the team.")


class QueueSettings(Section):
    """An ACD queue (`[[queues]]`): how callers wait and which seat gets the next one."""

    name: str = Field(pattern=_NAME, description="Queue name; IVR flows enqueue to it and seats list it in seats.queues.")
    strategy: Strategy = Field(default="longest-idle", description="How the next seat is chosen: longest-idle, round-robin (with memory), fewest-calls, least-talk-time, ring-all, skills-based.")
    ring_timeout: float = Field(default=20.0, gt=0, description="Seconds a seat rings before the call goes to the next seat (ring-no-answer); the seat is paused with reason 'rna'.")
    rna_pause: bool = Field(default=True, description="Pause a seat that lets a call ring out (reason 'rna'); false leaves it ready.")
    wrap_up: float = Field(default=10.0, ge=0, description="Seconds of wrap-up after each call before the seat is ready again.")
    max_wait: float | None = Field(default=None, gt=0, description="Seconds a caller may wait before going to overflow; unset waits for ever.")
    overflow: str | None = Field(default=None, description="Where callers go after max_wait: 'queue:<name>', 'flow:<flow>' or 'voicemail:<box>'.")
    overflow_when_no_seats: bool = Field(default=False, description="Send callers to overflow at once while no member seat is logged in.")
    service_level: float = Field(default=20.0, gt=0, description="Service-level threshold, seconds: answered within it counts as in service.")
    announce_every: float | None = Field(default=30.0, gt=0, description="Seconds between position / expected-wait announcements; unset: none.")
    retry_after: float = Field(default=5.0, ge=0, description="Seconds before a seat that refused a call is offered that same call again.")
    skills: dict[str, int] = Field(default_factory=dict, description="Required skills and minimum levels, e.g. {vip = 2}; skills-based queues also prefer higher levels.")
    tiers: tuple[Tier, ...] = Field(default=(), description="Seat tiers this queue takes (one-line, two-line, vip); empty: all.")
    moh: str | None = Field(default=None, description="Prompt played as music on hold (default ivr.moh).")
    default_handle_time: float = Field(default=180.0, gt=0, description="Handle time assumed for expected-wait announcements until the queue has its own history, seconds.")

    @field_validator("overflow")
    @classmethod
    def _overflow(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"(queue|flow|voicemail):[A-Za-z0-9_-]+", value):
            raise ValueError(f"expected 'queue:<name>', 'flow:<name>' or 'voicemail:<name>', got {value!r}")
        return value


class IvrSettings(Section):
    """IVR flows and prompts (`[ivr]`)."""

    flows: Path | None = Field(default=None, description="Directory of flow TOML files (e.g. config/ivr); unset: no IVR, calls follow [routes].")
    customers: Path | None = Field(default=None, description="CSV of known customers (number,tier,name) that route_by_caller looks up; optional.")
    moh: str = Field(default="hold", description="Prompt played to callers waiting in a queue when the queue names none.")


class FeatureCodeSettings(Section):
    """Codes a seat dials from its softphone to change its state (`[features]`)."""

    ready: str = Field(default="*1", pattern=r"^[*#0-9]+$", description="Log in / become ready.")
    pause: str = Field(default="*2", pattern=r"^[*#0-9]+$", description="Pause; a reason code may follow, e.g. *23 for reason 3.")
    logout: str = Field(default="*3", pattern=r"^[*#0-9]+$", description="Log out.")
