"""Queue strategies: given the candidate seats and their stats, the order to offer them in.

One small function per strategy, looked up by :class:`~floor.model.Strategy` (strategies are data,
as in app_queue's strategy table). Candidates are already filtered by the ACD (available, member
of the queue, tier and required skills met, not cooling down after refusing this call). Every
order ends with the seat's configured position, so it is deterministic. Penalties (app_queue)
come first for every strategy: a higher-penalty seat is offered only when no lower one is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from floor.model import Strategy

__all__ = [
    "ORDERS",
    "Candidate",
    "choose",
    "fewest_calls",
    "least_talk_time",
    "longest_idle",
    "meets",
    "order_seats",
    "ring_all",
    "round_robin",
    "skill_level",
    "skills_based",
]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One available seat as a strategy sees it."""

    seat: str
    position: int  # place in the configured seat list: the round-robin ring and the last tie-break
    idle_since: float  # when the seat last became available
    calls: int = 0  # queue calls answered today
    talk_time: float = 0.0  # seconds of queue talk today
    level: int = 0  # the seat's summed level in the caller's required skills
    penalty: int = 0


def meets(skills: Mapping[str, int], required: Mapping[str, int]) -> bool:
    """Whether a seat with ``skills`` has every required skill at its minimum level or above."""
    return all(skills.get(name, 0) >= minimum for name, minimum in required.items())


def skill_level(skills: Mapping[str, int], required: Mapping[str, int]) -> int:
    """The seat's summed level in the required skills (its level, when one skill is required)."""
    return sum(skills.get(name, 0) for name in required)


def longest_idle(candidates: Sequence[Candidate], last: int | None = None) -> list[Candidate]:
    """The seat available for the longest time first."""
    return sorted(candidates, key=lambda c: (c.idle_since, c.position))


def round_robin(candidates: Sequence[Candidate], last: int | None = None) -> list[Candidate]:
    """The seats after position ``last`` (the seat offered the previous call), wrapping around."""
    if last is None:
        return sorted(candidates, key=lambda c: c.position)
    return sorted(candidates, key=lambda c: (c.position <= last, c.position))


def fewest_calls(candidates: Sequence[Candidate], last: int | None = None) -> list[Candidate]:
    """Fewest calls answered today first; ties by longest idle."""
    return sorted(candidates, key=lambda c: (c.calls, c.idle_since, c.position))


def least_talk_time(candidates: Sequence[Candidate], last: int | None = None) -> list[Candidate]:
    """Least talk time today first; ties by longest idle."""
    return sorted(candidates, key=lambda c: (c.talk_time, c.idle_since, c.position))


def ring_all(candidates: Sequence[Candidate], last: int | None = None) -> list[Candidate]:
    """Every candidate (all are offered at once); listed longest idle first."""
    return longest_idle(candidates)


def skills_based(candidates: Sequence[Candidate], last: int | None = None) -> list[Candidate]:
    """The highest level in the required skills first; ties by longest idle."""
    return sorted(candidates, key=lambda c: (-c.level, c.idle_since, c.position))


ORDERS: dict[Strategy, Callable[[Sequence[Candidate], int | None], list[Candidate]]] = {
    Strategy.LONGEST_IDLE: longest_idle,
    Strategy.ROUND_ROBIN: round_robin,
    Strategy.FEWEST_CALLS: fewest_calls,
    Strategy.LEAST_TALK_TIME: least_talk_time,
    Strategy.RING_ALL: ring_all,
    Strategy.SKILLS_BASED: skills_based,
}


def order_seats(
    strategy: Strategy, candidates: Sequence[Candidate], *, last: int | None = None
) -> list[Candidate]:
    """The candidates in offer order: by penalty, then by the strategy (a stable sort keeps it)."""
    return sorted(ORDERS[strategy](candidates, last), key=lambda c: c.penalty)


def choose(
    strategy: Strategy, candidates: Sequence[Candidate], *, last: int | None = None
) -> list[Candidate]:
    """The seats to offer the call to now: the first in order, or for ring-all every seat of the
    lowest penalty present."""
    ordered = order_seats(strategy, candidates, last=last)
    if not ordered or strategy is not Strategy.RING_ALL:
        return ordered[:1]
    return [c for c in ordered if c.penalty == ordered[0].penalty]
