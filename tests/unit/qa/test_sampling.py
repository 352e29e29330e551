"""The daily sample: strata, allocation, exact inclusion probabilities, reproducibility."""

from __future__ import annotations

from datetime import date

import pytest

from qa.sampling import CallFacts, SamplingPolicy, allocate, draw_daily, risk_flags, seat_quota

DAY = date(2025, 3, 14)
POLICY = SamplingPolicy(quota=4, new_seat_quota=6, new_seat_weeks=2, seat_started={"1002": date(2025, 3, 3)})


def calls(seat: str, n: int, risky: int, team: str = "front") -> list[CallFacts]:
    """``n`` calls of a seat; the first ``risky`` have a dead-air flag."""
    return [CallFacts(f"{seat}-{k:02d}", seat, team, 1000.0 + k, 120.0, None,
                      frozenset({"dead_air"}) if k < risky else frozenset()) for k in range(n)]


def test_risk_flags() -> None:
    call = CallFacts("c", "1001", None, 0.0, 12.0, 1, frozenset({"overtalk", "vip"}))
    assert risk_flags(call, POLICY) == {"overtalk", "short_call", "low_survey"}
    fine = CallFacts("c", "1001", None, 0.0, 30.0, 3)
    assert risk_flags(fine, POLICY) == frozenset()
    only = POLICY.model_copy(update={"risk_flags": ("complaint",)})
    assert risk_flags(call, only) == frozenset()


def test_new_seats_get_the_higher_quota() -> None:
    assert seat_quota("1002", date(2025, 3, 3), POLICY) == 6
    assert seat_quota("1002", date(2025, 3, 16), POLICY) == 6
    assert seat_quota("1002", date(2025, 3, 17), POLICY) == 4  # two weeks later
    assert seat_quota("1002", date(2025, 3, 2), POLICY) == 4  # before the first day
    assert seat_quota("1001", DAY, POLICY) == 4


@pytest.mark.parametrize(("quota", "risky", "rest", "share", "expected"), [
    (4, 10, 30, 0.5, (2, 2)),
    (4, 1, 30, 0.5, (1, 3)),  # risk short: random takes the rest
    (4, 10, 1, 0.5, (3, 1)),  # random short: risk takes the rest
    (4, 0, 30, 0.5, (0, 4)),
    (4, 2, 1, 0.5, (2, 1)),  # fewer calls than the quota: all of them
    (1, 5, 5, 0.5, (1, 1)),  # every non-empty stratum gets a pick
    (4, 5, 5, 0.0, (1, 3)),  # a share of 0 still gives risk one pick
    (4, 5, 5, 1.0, (3, 1)),
    (5, 10, 10, 0.5, (3, 2)),
])
def test_allocation(quota: int, risky: int, rest: int, share: float, expected: tuple[int, int]) -> None:
    assert allocate(quota, risky, rest, share) == expected


def test_picks_carry_their_exact_inclusion_probability() -> None:
    day_calls = calls("1001", 20, 5) + calls("1002", 9, 0, team="back")
    sample = draw_daily(day_calls, day=DAY, policy=POLICY, seed=7)
    assert sample.calls == {"1001": 20, "1002": 9}
    first = sample.for_seat("1001")
    assert [(p.stratum, p.drawn, p.stratum_size) for p in first] == [("risk", 2, 5)] * 2 + [("random", 2, 15)] * 2
    assert [p.probability for p in first] == [0.4, 0.4, 2 / 15, 2 / 15]
    assert [p.weight for p in first] == [2.5, 2.5, 7.5, 7.5]
    assert all(p.flags == {"dead_air"} for p in first[:2]) and all(not p.flags for p in first[2:])
    new = sample.for_seat("1002")  # a new seat: quota 6, no risky calls
    assert [(p.stratum, p.drawn, p.stratum_size, p.team) for p in new] == [("random", 6, 9, "back")] * 6
    assert len({p.call for p in sample.picks}) == len(sample.picks)


def test_the_sample_is_reproducible_from_its_seed() -> None:
    day_calls = calls("1001", 30, 6) + calls("1003", 12, 3)
    one = draw_daily(day_calls, day=DAY, policy=POLICY, seed=42)
    again = draw_daily(list(reversed(day_calls)), day=DAY, policy=POLICY, seed=42)
    assert one == again
    assert [p.call for p in one.picks] == [p.call for p in draw_daily(day_calls, day=DAY, policy=POLICY, seed=42).picks]
    other = draw_daily(day_calls, day=DAY, policy=POLICY, seed=43)
    assert [p.call for p in other.picks] != [p.call for p in one.picks]
    # a seat's picks do not depend on the other seats' calls
    alone = draw_daily(calls("1003", 12, 3), day=DAY, policy=POLICY, seed=42)
    assert alone.picks == one.for_seat("1003")


def test_every_call_is_drawn_as_often_as_its_probability_says() -> None:
    day_calls = calls("1001", 12, 3)
    counts = dict.fromkeys((c.call for c in day_calls), 0)
    runs = 3000
    for seed in range(runs):
        for pick in draw_daily(day_calls, day=DAY, policy=POLICY, seed=seed).picks:
            counts[pick.call] += 1
    # risk: 2 of 3 (p = 0.667), random: 2 of 9 (p = 0.222); 4 standard errors at most
    for call, count in counts.items():
        p = 2 / 3 if int(call[-2:]) < 3 else 2 / 9
        assert abs(count / runs - p) < 4 * (p * (1 - p) / runs) ** 0.5, call


def test_no_calls_no_picks() -> None:
    sample = draw_daily([], day=DAY, policy=POLICY, seed=1)
    assert (sample.picks, dict(sample.calls)) == ((), {})
