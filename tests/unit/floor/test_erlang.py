"""Erlang B, C and A against published table values, brute force and their limits."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from floor import erlang


def _erlang_b_exact(n: int, a: int) -> float:
    terms = [Fraction(a) ** k / math.factorial(k) for k in range(n + 1)]
    return float(terms[-1] / sum(terms))


def test_erlang_b_matches_the_table_and_the_factorial_form() -> None:
    assert erlang.erlang_b(10, 10.0) == pytest.approx(0.21458, abs=1e-5)   # Erlang B table
    assert erlang.erlang_b(5, 2.0) == pytest.approx(0.03670, abs=1e-5)
    for n, a in ((1, 1), (7, 3), (30, 25), (60, 70)):
        assert erlang.erlang_b(n, float(a)) == pytest.approx(_erlang_b_exact(n, a), rel=1e-12)


def test_erlang_c_table_values() -> None:
    assert erlang.erlang_c(11, 10.0) == pytest.approx(0.6821, abs=1e-4)
    assert erlang.erlang_c(12, 10.0) == pytest.approx(0.4493, abs=1e-4)
    assert erlang.erlang_c(10, 10.0) == 1.0                                 # overloaded
    # 100 calls in 30 min of 180 s: 10 Erlangs; 14 seats answer 88.8 % within 20 s
    rate = 100 / 1800
    assert erlang.service_level(14, rate, 180, 20) == pytest.approx(0.8884, abs=1e-4)
    assert erlang.erlang_c(14, 10.0) == pytest.approx(0.1741, abs=1e-4)
    assert erlang.average_speed_of_answer(14, rate, 180) == pytest.approx(0.1741 * 180 / 4, abs=0.01)
    assert erlang.agents_for_service_level(rate, 180, 20, 0.8) == 14
    assert erlang.service_level(13, rate, 180, 20) < 0.8


def test_erlang_c_is_stable_for_thousands_of_seats() -> None:
    c = erlang.erlang_c(2000, 1950.0)
    assert 0 < c < 1
    n = erlang.agents_for_service_level(1950 / 180, 180, 20, 0.8)
    assert 1951 <= n <= 2000
    assert erlang.service_level(n, 1950 / 180, 180, 20) >= 0.8 > erlang.service_level(n - 1, 1950 / 180, 180, 20)


def _erlang_a_chain(n: int, lam: float, mu: float, theta: float, t: float) -> tuple[float, float, float]:
    """Brute force: the birth-death chain truncated far out, and SL by summing over the state met."""
    weights = [1.0]
    for j in range(1, n + 400):
        death = min(j, n) * mu + max(j - n, 0) * theta
        weights.append(weights[-1] * lam / death)
    total = sum(weights)
    pi = [w / total for w in weights]
    p_wait = sum(pi[n:])
    p_abandon = theta * sum((j - n) * p for j, p in enumerate(pi) if j > n) / lam
    # the arrival meeting m ahead is answered within t: product of "progress" chances times the
    # chance the sum of the stage times is under t (numerically, by a fine Riemann sum).
    sl = 1 - p_wait
    steps = 4000
    for m in range(0, 120):
        rates = [n * mu + k * theta for k in range(m + 1)]
        # density of the sum of exponentials with rates r_k: closed form checked by integration
        prod = math.prod(rates) / (theta ** m * math.factorial(m))
        h = t / steps
        integral = sum(math.exp(-(n * mu + theta) * s) * (1 - math.exp(-theta * s)) ** m
                       for s in ((i + 0.5) * h for i in range(steps))) * h
        sl += pi[n + m] * prod * integral
    return p_wait, p_abandon, sl


def test_erlang_a_agrees_with_the_birth_death_chain() -> None:
    lam, aht, patience, t = 100 / 1800, 180.0, 120.0, 20.0
    for n in (8, 10, 12):
        got = erlang.erlang_a(n, lam, aht, patience, t)
        p_wait, p_abandon, sl = _erlang_a_chain(n, lam, 1 / aht, 1 / patience, t)
        assert got.p_wait == pytest.approx(p_wait, rel=1e-9)
        assert got.p_abandon == pytest.approx(p_abandon, rel=1e-9)
        assert got.service_level == pytest.approx(sl, abs=2e-4)


def test_erlang_a_tends_to_erlang_c_when_nobody_gives_up() -> None:
    lam = 100 / 1800
    a = erlang.erlang_a(12, lam, 180, 1e7, 20)
    assert a.p_wait == pytest.approx(erlang.erlang_c(12, 10.0), rel=1e-4)
    assert a.service_level == pytest.approx(erlang.service_level(12, lam, 180, 20), rel=1e-4)
    assert a.mean_wait == pytest.approx(erlang.average_speed_of_answer(12, lam, 180), rel=1e-3)


def test_erlang_a_staffing_and_large_floors() -> None:
    lam = 100 / 1800
    n = erlang.agents_for_service_level_a(lam, 180, 120, 20, 0.8)
    assert n == 12  # impatient callers leave: two seats fewer than Erlang C's 14
    assert erlang.erlang_a(11, lam, 180, 120, 20).service_level < 0.8
    big = erlang.erlang_a(1000, 5.4, 180, 120, 20)
    assert 0 < big.p_abandon < big.p_wait < 1 and 0.99 < big.service_level <= 1
    assert erlang.agents_for_service_level_a(5.4, 180, 120, 20, 0.8) == 867
    # overloaded: Erlang A still answers (callers leave), Erlang C would need more than the load
    over = erlang.erlang_a(50, 1.0, 60, 30, 20)
    assert over.p_abandon == pytest.approx(1 - 50 / 60, abs=0.02)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="handle time"):
        erlang.service_level(3, 0.1, 0, 20)
    with pytest.raises(ValueError, match="patience"):
        erlang.erlang_a(3, 0.1, 60, 0, 20)
    with pytest.raises(ValueError, match="target"):
        erlang.agents_for_service_level(0.1, 60, 20, 1.5)
    assert erlang.agents_for_service_level(0.0, 60, 20, 0.8) == 1
