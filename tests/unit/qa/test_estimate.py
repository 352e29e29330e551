"""The weighted estimate: exact small cases, and statistical checks over many seeded samples."""

from __future__ import annotations

import math
import random
import statistics
from datetime import date, timedelta

import pytest

from qa.estimate import Observation, estimate, estimate_by, t_quantile
from qa.sampling import CallFacts, SamplingPolicy, draw_daily


def obs(stratum: str, size: int, *scores: float, seat: str = "1001", team: str = "front") -> list[Observation]:
    return [Observation(seat, team, stratum, size, s) for s in scores]


def test_a_stratified_sample_by_hand() -> None:
    found = estimate(obs("d/1001/risk", 4, 40, 60) + obs("d/1001/random", 10, 80, 90, 100))
    assert found is not None
    # weights 2 and 10/3: (2*100 + 10/3*270) / 14; the stratified mean (4*50 + 10*90) / 14
    assert found.mean == pytest.approx(1100 / 14)
    # Σ W_h² (1 - f_h) s_h² / m_h = (4/14)² 0.5 200/2 + (10/14)² 0.7 100/3
    variance = (4 / 14) ** 2 * 0.5 * 100 + (10 / 14) ** 2 * 0.7 * 100 / 3
    assert found.std_error == pytest.approx(math.sqrt(variance))
    half = 3.182446 * math.sqrt(variance)  # t(0.975, 5 - 2 = 3)
    assert found.low == pytest.approx(1100 / 14 - half, abs=1e-4)
    assert found.high == pytest.approx(1100 / 14 + half, abs=1e-4)
    assert (found.n, found.unweighted, round(found.calls, 9), found.level) == (5, 74.0, 14.0, 0.95)


def test_a_fully_scored_stratum_has_no_variance() -> None:
    found = estimate(obs("d/1001/risk", 2, 50, 70) + obs("d/1001/random", 1, 90))
    assert found is not None
    assert (found.mean, found.std_error, found.low, found.high) == (70.0, 0.0, 70.0, 70.0)


def test_a_lonely_scored_call_counts_its_deviation() -> None:
    found = estimate(obs("a", 3, 60) + obs("b", 1, 90))
    assert found is not None  # weights 3 and 1; mean 67.5; z_a = 3 * (60 - 67.5) / 4
    assert found.mean == 67.5
    assert found.std_error == pytest.approx(math.sqrt((1 - 1 / 3) * (3 * -7.5 / 4) ** 2))


def test_unscored_picks_leave_their_stratum_to_the_others() -> None:
    found = estimate(obs("a", 10, 50) + obs("b", 10, 90, 70))  # "a" drew 2 but one was scored
    assert found is not None and found.mean == 65.0 and found.calls == 20.0


def test_bad_observations_and_none() -> None:
    assert estimate([]) is None
    with pytest.raises(ValueError, match="3 scored calls but only 2 in it"):
        estimate(obs("a", 2, 1, 2, 3))
    with pytest.raises(ValueError, match="size must be at least 1"):
        estimate(obs("a", 0, 1))


def test_by_group() -> None:
    data = obs("x/1001/random", 5, 80, 90, seat="1001") + obs("x/1002/random", 5, 60, seat="1002", team="back")
    seats = estimate_by(data, lambda o: o.seat)
    assert list(seats) == ["1001", "1002"] and seats["1001"].mean == 85.0 and seats["1002"].mean == 60.0
    assert list(estimate_by(data, lambda o: None)) == []


@pytest.mark.parametrize(("df", "value"), [(1, 12.7062), (2, 4.3027), (3, 3.1824), (5, 2.5706), (10, 2.2281),
                                           (30, 2.0423), (120, 1.9799), (0, 1.9600), (5000, 1.9600)])
def test_t_quantiles(df: int, value: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(value, abs=1e-4)
    assert t_quantile(0.025, df) == pytest.approx(-value, abs=1e-4)


# -- statistical checks ------------------------------------------------------------------------
# A month of calls for three seats in two teams; one call in five is risk-flagged, and flagged
# calls score lower (about 55 against 85). The sample over-draws risky calls, so the plain mean
# of the sampled scores is biased low; the weighted estimate must not be, and its 95 % interval
# must cover the true mean about 95 % of the time.

DAYS = [date(2025, 3, 3) + timedelta(days=d) for d in range(22)]
SEATS = {"1001": "front", "1002": "front", "1003": "back"}
DRAWS = 1000


def population() -> tuple[dict[date, list[CallFacts]], dict[str, float]]:
    rng = random.Random(2024)
    by_day: dict[date, list[CallFacts]] = {}
    scores: dict[str, float] = {}
    for day in DAYS:
        by_day[day] = []
        for seat, team in SEATS.items():
            for k in range(rng.randint(20, 45)):
                risky = rng.random() < 0.2
                call = f"{day}/{seat}/{k}"
                scores[call] = min(100.0, max(0.0, rng.gauss(55, 15) if risky else rng.gauss(85, 8)))
                flags = frozenset({"dead_air"}) if risky else frozenset()
                by_day[day].append(CallFacts(call, seat, team, float(k), 120.0, None, flags))
    return by_day, scores


def test_the_weighted_estimate_is_unbiased_and_its_interval_covers() -> None:
    by_day, scores = population()
    truth = {"1001": statistics.mean(y for c, y in scores.items() if "/1001/" in c),
             "front": statistics.mean(y for c, y in scores.items() if "/1003/" not in c)}
    policy = SamplingPolicy(quota=4, risk_share=0.5)
    weighted: dict[str, list[float]] = {"1001": [], "front": []}
    plain: list[float] = []
    covered = dict.fromkeys(weighted, 0)
    for seed in range(DRAWS):
        observations = []
        for day in DAYS:
            for pick in draw_daily(by_day[day], day=day, policy=policy, seed=seed).picks:
                observations.append(Observation(pick.seat, pick.team, f"{day}/{pick.seat}/{pick.stratum}",
                                                pick.stratum_size, scores[pick.call]))
        for key, found in (("1001", estimate_by(observations, lambda o: o.seat)["1001"]),
                           ("front", estimate_by(observations, lambda o: o.team)["front"])):
            weighted[key].append(found.mean)
            covered[key] += found.low <= truth[key] <= found.high
            if key == "1001":
                plain.append(found.unweighted)
    for key in weighted:
        spread = statistics.stdev(weighted[key]) / math.sqrt(DRAWS)
        assert abs(statistics.mean(weighted[key]) - truth[key]) < 4 * spread, key
        assert 0.93 <= covered[key] / DRAWS <= 0.97, (key, covered[key])
    assert truth["1001"] - statistics.mean(plain) > 5.0  # the unweighted mean is biased low
