"""Each strategy's order for a fixed set of candidates, penalties first, and ring-all's offer set."""

from __future__ import annotations

import pytest

from floor.model import Strategy
from floor.strategies import (
    Candidate,
    choose,
    fewest_calls,
    least_talk_time,
    longest_idle,
    meets,
    order_seats,
    ring_all,
    round_robin,
    skill_level,
    skills_based,
)

# seat, position, idle since, calls today, talk today, level
A = Candidate("a", 0, idle_since=50.0, calls=3, talk_time=600.0, level=1)
B = Candidate("b", 1, idle_since=10.0, calls=5, talk_time=300.0, level=3)
C = Candidate("c", 2, idle_since=30.0, calls=3, talk_time=300.0, level=3)
D = Candidate("d", 3, idle_since=10.0, calls=1, talk_time=900.0, level=2)
ALL = [A, B, C, D]


def names(candidates: list[Candidate]) -> str:
    return "".join(c.seat for c in candidates)


def test_longest_idle_ties_by_position() -> None:
    assert names(longest_idle(ALL)) == "bdca"


def test_round_robin_continues_after_the_last_seat() -> None:
    assert names(round_robin(ALL, None)) == "abcd"
    assert names(round_robin(ALL, 1)) == "cdab"
    assert names(round_robin(ALL, 3)) == "abcd"
    assert names(round_robin([A, D], 2)) == "da"          # the remembered seat (position 2) is not a candidate


def test_fewest_calls_ties_by_longest_idle() -> None:
    assert names(fewest_calls(ALL)) == "dcab"


def test_least_talk_time_ties_by_longest_idle() -> None:
    assert names(least_talk_time(ALL)) == "bcad"


def test_skills_based_highest_level_first_ties_by_longest_idle() -> None:
    assert names(skills_based(ALL)) == "bcda"


def test_ring_all_lists_everyone() -> None:
    assert names(ring_all(ALL)) == "bdca"


def test_penalty_comes_before_every_strategy() -> None:
    penalised_b = Candidate("b", 1, idle_since=10.0, calls=5, talk_time=300.0, level=3, penalty=1)
    cands = [A, penalised_b, C, D]
    assert names(order_seats(Strategy.LONGEST_IDLE, cands)) == "dcab"
    assert names(order_seats(Strategy.SKILLS_BASED, cands)) == "cdab"


@pytest.mark.parametrize("strategy", [s for s in Strategy if s is not Strategy.RING_ALL])
def test_choose_offers_one_seat(strategy: Strategy) -> None:
    assert len(choose(strategy, ALL, last=0)) == 1
    assert choose(strategy, []) == []


def test_choose_ring_all_offers_every_seat_of_the_lowest_penalty() -> None:
    far = Candidate("e", 4, idle_since=0.0, penalty=2)
    assert names(choose(Strategy.RING_ALL, [*ALL, far])) == "bdca"
    assert names(choose(Strategy.RING_ALL, [far])) == "e"


def test_skill_requirements() -> None:
    seat = {"vip": 3, "billing": 1}
    assert meets(seat, {"vip": 3}) and meets(seat, {}) and meets(seat, {"vip": 2, "billing": 1})
    assert not meets(seat, {"vip": 4}) and not meets(seat, {"spanish": 1})
    assert skill_level(seat, {"vip": 1}) == 3
    assert skill_level(seat, {"vip": 1, "billing": 1}) == 4
    assert skill_level(seat, {}) == 0
