"""The floor's pure ACD core: seats, teams, queues, strategies, presence and the distributor.

No sockets, no clock, no database: inputs carry ``now`` and return commands (see
:mod:`floor.acd`). The names most callers need are re-exported here.
"""

from __future__ import annotations

from floor.acd import Acd
from floor.errors import (
    ConfigError,
    DuplicateCall,
    FeatureCodeError,
    FloorError,
    InvalidTransition,
    UnknownQueue,
    UnknownSeat,
)
from floor.events import (
    AcdCommand,
    AcdInput,
    Announce,
    CancelOffer,
    OfferCall,
    Overflow,
    QueueEvent,
    QueueEventKind,
    SeatAvailabilityChanged,
    SeatMembershipChanged,
    SeatStateChanged,
)
from floor.features import FeatureCodes, FeatureRequest
from floor.model import (
    OverflowKind,
    OverflowTarget,
    QueueConfig,
    SeatConfig,
    Skill,
    Strategy,
    Team,
    Tier,
)
from floor.snapshot import CallerView, FloorSnapshot, QueueView, SeatView
from floor.states import CallerState, PauseReason, Presence, PresenceAction, SeatCallState
from floor.stats import QueueStats, SeatStats

__all__ = [
    "Acd",
    "AcdCommand",
    "AcdInput",
    "Announce",
    "CallerState",
    "CallerView",
    "CancelOffer",
    "ConfigError",
    "DuplicateCall",
    "FeatureCodeError",
    "FeatureCodes",
    "FeatureRequest",
    "FloorError",
    "FloorSnapshot",
    "InvalidTransition",
    "OfferCall",
    "Overflow",
    "OverflowKind",
    "OverflowTarget",
    "PauseReason",
    "Presence",
    "PresenceAction",
    "QueueConfig",
    "QueueEvent",
    "QueueEventKind",
    "QueueStats",
    "QueueView",
    "SeatAvailabilityChanged",
    "SeatCallState",
    "SeatConfig",
    "SeatMembershipChanged",
    "SeatStateChanged",
    "SeatStats",
    "SeatView",
    "Skill",
    "Strategy",
    "Team",
    "Tier",
    "UnknownQueue",
    "UnknownSeat",
]
