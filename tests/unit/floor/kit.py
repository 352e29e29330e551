"""Helpers for the ACD tests: build a floor with seats logged in, and read the commands back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from floor.acd import Acd
from floor.events import (
    AcdCommand,
    Announce,
    CancelOffer,
    OfferCall,
    Overflow,
    QueueEvent,
    SeatStateChanged,
)
from floor.model import QueueConfig, SeatConfig
from floor.states import PresenceAction

T = TypeVar("T")

__all__ = ["announces", "cancels", "events", "make_acd", "of", "offers", "overflows", "seat", "states"]


def seat(seat_id: str, *queues: str, **kwargs: Any) -> SeatConfig:
    """A seat in ``queues``."""
    return SeatConfig(seat_id, queues=queues, **kwargs)


def make_acd(queues: Sequence[QueueConfig], seats: Sequence[SeatConfig], *, now: float = 0.0,
             ready: Iterable[str] | None = None) -> Acd:
    """An ACD whose seats (all, or ``ready``) are registered and READY at ``now``, in order."""
    acd = Acd(queues, seats, now=now)
    for seat_id in [s.id for s in seats] if ready is None else ready:
        acd.seat_reachable(seat_id, True, now)
        acd.set_presence(seat_id, PresenceAction.READY, now)
    return acd


def of(commands: Iterable[AcdCommand], kind: type[T]) -> list[T]:
    """The commands of one type, in order."""
    return [c for c in commands if isinstance(c, kind)]


def offers(commands: Iterable[AcdCommand]) -> list[tuple[str, str]]:
    """(call, seat) of every OfferCall."""
    return [(c.call, c.seat) for c in of(commands, OfferCall)]


def cancels(commands: Iterable[AcdCommand]) -> list[tuple[str, str, str]]:
    """(call, seat, reason) of every CancelOffer."""
    return [(c.call, c.seat, c.reason) for c in of(commands, CancelOffer)]


def events(commands: Iterable[AcdCommand]) -> list[tuple[str, str, str, str | None]]:
    """(kind, call, queue, seat) of every QueueEvent."""
    return [(e.kind.value, e.call, e.queue, e.seat) for e in of(commands, QueueEvent)]


def states(commands: Iterable[AcdCommand]) -> list[tuple[str, str, str, str | None]]:
    """(seat, presence, call state, reason) of every SeatStateChanged."""
    return [(c.seat, c.presence.value, c.call_state.value, c.reason) for c in of(commands, SeatStateChanged)]


def announces(commands: Iterable[AcdCommand]) -> list[tuple[str, int, int | None]]:
    """(call, position, expected wait) of every Announce."""
    return [(a.call, a.position, a.expected_wait_s) for a in of(commands, Announce)]


def overflows(commands: Iterable[AcdCommand]) -> list[tuple[str, str, str, str]]:
    """(call, from queue, target, reason) of every Overflow."""
    return [(o.call, o.queue, str(o.target), o.reason) for o in of(commands, Overflow)]
