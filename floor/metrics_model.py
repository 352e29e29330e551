"""What the floor metrics are configured with, and how they read event payloads.

Payloads come from the live publisher or from the stored event log (JSON), so every field is
checked: a bad one raises :class:`BadEvent` naming the event kind and the field, never a
``KeyError`` deep inside the metrics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from floor.errors import ConfigError, FloorError
from floor.metrics_windows import DropFormula

__all__ = [
    "AlertThresholds",
    "BadEvent",
    "CampaignSpec",
    "Payload",
    "QueueSpec",
    "SeatSpec",
    "campaign_queue_name",
    "opt_str",
    "req_bool",
    "req_num",
    "req_str",
    "utc_day_start",
]

Payload = Mapping[str, Any]


def campaign_queue_name(campaign: str) -> str:
    """The ACD queue of a campaign's answered calls (as ``callfloor.floorwiring`` names it)."""
    return f"campaign-{campaign}"


def utc_day_start(now: float) -> float:
    """The default start of "today": midnight UTC (inject local midnight for a local floor)."""
    return now - now % 86400.0


class BadEvent(FloorError, ValueError):
    """An event payload is missing a field or has one of the wrong type; the message names both."""


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A queue on the board: its name and service-level threshold (seconds, ``wait <= it``)."""

    name: str
    service_level_threshold: float = 20.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("metrics: a queue needs a name")
        if not self.service_level_threshold > 0:
            raise ConfigError(f"metrics: queue {self.name}: service_level_threshold must be > 0, "
                              f"not {self.service_level_threshold}")


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """A campaign on the board: its drop-rate target and formula (``dialer/abandon.py``)."""

    id: str
    target_abandon: float = 0.03
    formula: DropFormula = DropFormula.ANSWERS
    amd_allowance: float = 0.0

    def __post_init__(self) -> None:
        if not self.id:
            raise ConfigError("metrics: a campaign needs an id")
        if not 0.0 < self.target_abandon < 1.0:
            raise ConfigError(f"metrics: campaign {self.id}: target_abandon must be between 0 "
                              f"and 1, not {self.target_abandon}")
        if not 0.0 <= self.amd_allowance <= 1.0:
            raise ConfigError(f"metrics: campaign {self.id}: amd_allowance must be between 0 "
                              f"and 1, not {self.amd_allowance}")
        try:
            object.__setattr__(self, "formula", DropFormula(self.formula))
        except ValueError:
            raise ConfigError(f"metrics: campaign {self.id}: formula must be answers or "
                              f"connections, not {self.formula!r}") from None

    @property
    def queue(self) -> str:
        """The campaign's ACD queue."""
        return campaign_queue_name(self.id)


@dataclass(frozen=True, slots=True)
class SeatSpec:
    """A seat on the board: name and team for the grid, and the queues it is configured in."""

    id: str
    name: str = ""
    team: str | None = None
    queues: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise ConfigError("metrics: a seat needs an id")


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    """When the board raises an alert: a wait over ``longest_wait_s``, a 15-minute service level
    under ``service_level``, a 24-hour drop rate at or over ``drop_rate``."""

    longest_wait_s: float = 60.0
    service_level: float = 0.8
    drop_rate: float = 0.025


def _field(kind: str, payload: Payload, key: str) -> Any:
    if key not in payload:
        raise BadEvent(f"{kind} event: field {key!r} is missing")
    return payload[key]


def req_str(kind: str, payload: Payload, key: str) -> str:
    """A required non-empty string field."""
    value = _field(kind, payload, key)
    if not isinstance(value, str) or not value:
        raise BadEvent(f"{kind} event: field {key!r} must be a non-empty string, not {value!r}")
    return value


def opt_str(kind: str, payload: Payload, key: str) -> str | None:
    """An optional string field (absent or null: ``None``)."""
    value = payload.get(key)
    if value is None or isinstance(value, str):
        return value
    raise BadEvent(f"{kind} event: field {key!r} must be a string or null, not {value!r}")


def req_num(kind: str, payload: Payload, key: str) -> float:
    """A required finite number field (a numeric string, as ACD event data carries, is accepted)."""
    value = _field(kind, payload, key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadEvent(f"{kind} event: field {key!r} must be a number, not {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise BadEvent(f"{kind} event: field {key!r} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise BadEvent(f"{kind} event: field {key!r} must be finite, not {value!r}")
    return number


def req_bool(kind: str, payload: Payload, key: str) -> bool:
    """A required boolean field."""
    value = _field(kind, payload, key)
    if not isinstance(value, bool):
        raise BadEvent(f"{kind} event: field {key!r} must be true or false, not {value!r}")
    return value
