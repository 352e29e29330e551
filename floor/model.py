"""The floor as data: seats, teams, skills, tiers, queues, strategies and overflow targets.

Everything here is configuration (frozen, validated on construction); run-time state lives in
:mod:`floor.acd`. Strategies are data, as in FreeSWITCH mod_callcenter and Asterisk app_queue:
a queue names one and :mod:`floor.strategies` orders the candidate seats by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from floor.errors import ConfigError

__all__ = [
    "EMPTY",
    "NO_INFO",
    "OverflowKind",
    "OverflowTarget",
    "QueueConfig",
    "SeatConfig",
    "Skill",
    "Strategy",
    "Team",
    "Tier",
]

EMPTY: Mapping[str, int] = MappingProxyType({})  # read-only defaults for skills and penalties
NO_INFO: Mapping[str, str] = MappingProxyType({})  # read-only default for caller info


class Strategy(Enum):
    """How a queue picks the seat to offer a call to."""

    LONGEST_IDLE = "longest-idle"  # the seat available for the longest time
    ROUND_ROBIN = "round-robin"  # the seat after the one that got the last call (with memory)
    FEWEST_CALLS = "fewest-calls"  # fewest queue calls answered today
    LEAST_TALK_TIME = "least-talk-time"  # least queue talk time today
    RING_ALL = "ring-all"  # every eligible seat at once; the first to answer wins
    SKILLS_BASED = "skills-based"  # required skills >= minimum level, highest level first


class Tier(Enum):
    """A seat's support tier; a queue may accept only some tiers (e.g. a VIP line)."""

    ONE_LINE = "one-line"  # first-line support
    TWO_LINE = "two-line"  # second-line (escalation) support
    VIP = "vip"


class OverflowKind(Enum):
    """Where a caller goes when a queue gives up on it."""

    QUEUE = "queue"
    FLOW = "flow"  # an IVR flow
    VOICEMAIL = "voicemail"


@dataclass(frozen=True, slots=True)
class OverflowTarget:
    """An overflow destination, written ``queue:sales``, ``flow:after-hours``, ``voicemail:support``."""

    kind: OverflowKind
    name: str

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError(f"overflow {self.kind.value} target needs a name")

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"

    @classmethod
    def parse(cls, text: str) -> OverflowTarget:
        """Parse ``kind:name``; raises :class:`ConfigError` naming the bad text."""
        kind, sep, name = text.partition(":")
        try:
            return cls(OverflowKind(kind.strip()), name.strip())
        except ValueError:
            raise ConfigError(f"overflow target {text!r} is not queue:|flow:|voicemail:<name>") from None


@dataclass(frozen=True, slots=True)
class Skill:
    """A named skill with a level (higher is better), written ``vip=3``."""

    name: str
    level: int

    def __post_init__(self) -> None:
        if not self.name or self.level < 0:
            raise ConfigError(f"skill {self.name!r}={self.level} needs a name and a level >= 0")

    @classmethod
    def parse(cls, text: str) -> Skill:
        """Parse ``name=level`` (a bare name means level 1)."""
        name, sep, level = text.partition("=")
        try:
            return cls(name.strip(), int(level) if sep else 1)
        except ValueError:
            raise ConfigError(f"skill {text!r} is not name=level") from None


@dataclass(frozen=True, slots=True)
class Team:
    """A team of seats (reports and the watcher group seats by team)."""

    name: str
    label: str = ""


def _check_levels(owner: str, what: str, levels: Mapping[str, int]) -> None:
    for key, level in levels.items():
        if not key or level < 0:
            raise ConfigError(f"{owner}: {what} {key!r}={level} needs a name and a value >= 0")


@dataclass(frozen=True)
class SeatConfig:
    """A seat (agent position): its team, tier, skills, queue memberships and per-queue penalties.

    A lower penalty is offered first (Asterisk app_queue): a seat with penalty 1 in a queue gets
    its calls only while no eligible seat with penalty 0 is available.
    """

    id: str
    name: str = ""
    team: str | None = None
    tier: Tier = Tier.ONE_LINE
    skills: Mapping[str, int] = field(default_factory=dict)
    queues: tuple[str, ...] = ()
    penalties: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            raise ConfigError("a seat needs an id")
        _check_levels(f"seat {self.id}", "skill", self.skills)
        _check_levels(f"seat {self.id}", "penalty", self.penalties)

    def level(self, skill: str) -> int:
        """The seat's level in ``skill`` (0 when it does not have it)."""
        return self.skills.get(skill, 0)


@dataclass(frozen=True)
class QueueConfig:
    """A queue: its strategy, timers, overflow and service-level threshold (seconds throughout).

    ``skills`` (required skill -> minimum level) and ``tiers`` filter the seats for every strategy;
    ``skills-based`` also orders by level. ``max_wait`` sends the caller to ``overflow``;
    ``overflow_when_no_seats`` does so at once while no member seat is logged in. ``retry_after``
    keeps a seat that refused a call from being offered that same call again for a while.
    ``moh`` names the music the executor plays to waiting callers (the ACD only announces).
    """

    name: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    ring_timeout: float = 20.0
    wrap_up: float = 10.0
    max_wait: float | None = None
    overflow: OverflowTarget | None = None
    overflow_when_no_seats: bool = False
    service_level_threshold: float = 20.0
    announce_every: float | None = 30.0
    retry_after: float = 5.0
    rna_pause: bool = True
    skills: Mapping[str, int] = field(default_factory=dict)
    tiers: frozenset[Tier] = frozenset()
    moh: str | None = None
    default_handle_time: float = 180.0

    def __post_init__(self) -> None:
        where = f"queue {self.name}"
        if not self.name:
            raise ConfigError("a queue needs a name")
        positive = {"ring_timeout": self.ring_timeout, "default_handle_time": self.default_handle_time,
                    "service_level_threshold": self.service_level_threshold,
                    "max_wait": self.max_wait, "announce_every": self.announce_every}
        for key, value in positive.items():
            if value is not None and value <= 0:
                raise ConfigError(f"{where}: {key} must be > 0, not {value}")
        if self.wrap_up < 0 or self.retry_after < 0:
            raise ConfigError(f"{where}: wrap_up and retry_after must be >= 0")
        if (self.max_wait is not None or self.overflow_when_no_seats) and self.overflow is None:
            raise ConfigError(f"{where}: max_wait / overflow_when_no_seats need an overflow target")
        if self.overflow == OverflowTarget(OverflowKind.QUEUE, self.name):
            raise ConfigError(f"{where}: cannot overflow into itself")
        _check_levels(where, "skill", self.skills)
