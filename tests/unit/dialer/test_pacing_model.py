"""The look-ahead model: exact risks on small cases and the table refresh."""

from __future__ import annotations

import numpy as np
import pytest

from dialer.estimate import DecayingHistogram, DialModel, SeatModel
from dialer.pacing_model import Lookahead, ModelConfig


def model(answer_rate: float = 0.25) -> Lookahead:
    """Live answers uniform on [4, 20] s, a wrap-up of exactly 15 s, talk lognormal 120 s."""
    dials = DialModel(answer_prior=answer_rate)
    seats = SeatModel(talk_prior=120.0, wrap_prior=15.0)
    seats.wrap = DecayingHistogram(0.25, 600.0, memory=1e9)
    seats.observe_wrap(15.0)
    return Lookahead(dials, seats, ModelConfig(grace=2.0))


def test_a_new_dial_against_one_seat_leaving_wrap_up() -> None:
    look = model()
    # The seat is 5 s into a 15 s wrap-up: free 10 s from now. A live answer waits 2 s, so it is
    # abandoned when it lands before 8 s: P(ring < 8 | uniform 4..20) = 1/4.
    x = look.shortfall(0.0, ready=0, talking=(), wrapping=(5.0,), dialing=(), waiting=0)
    assert x.first_risk() == pytest.approx(0.25, abs=1e-6)
    assert x.tables.answer_p == pytest.approx(0.25)
    # A ready seat as well: the first answer always has a seat.
    x = look.shortfall(0.0, ready=1, talking=(), wrapping=(5.0,), dialing=(), waiting=0)
    assert x.first_risk() == pytest.approx(0.0, abs=1e-6)
    # ...unless an answered call is already waiting for it.
    x = look.shortfall(0.0, ready=1, talking=(), wrapping=(5.0,), dialing=(), waiting=1)
    assert x.first_risk() == pytest.approx(0.25, abs=1e-6)


def test_risk_grows_with_every_other_new_dial() -> None:
    look = model()
    x = look.shortfall(0.0, ready=2, talking=(), wrapping=(14.0,) * 3, dialing=(), waiting=0)
    risks = x.risk(np.arange(0, 40, dtype=np.float64)[:, None])
    assert risks[0] == pytest.approx(x.first_risk())
    assert all(b >= a for a, b in zip(risks, risks[1:], strict=False))
    assert risks[0] < 0.01 < risks[-1]
    # new_dials stops before the first dial whose risk is over theta.
    theta = 0.05
    n = look.new_dials(0.0, 2, (), (14.0,) * 3, (), 0, theta)
    assert risks[n - 1] <= theta < risks[n]


def test_dials_in_flight_count_by_their_age() -> None:
    look = model()
    fresh = look.shortfall(0.0, 0, (), (10.0,) * 4, (0.0,) * 8, 0)
    old = look.shortfall(0.0, 0, (), (10.0,) * 4, (19.0,) * 8, 0)
    # Eight dials just launched: 2 live answers expected over 4-20 s. At 19 s old a dial most
    # likely fails: live ones have 1/16 of their ringing left, failures (the prior: 4-30 s) 11/26.
    assert fresh.answers[-1] == pytest.approx(2.0, abs=0.01)
    live = 0.25 / 16 / (0.25 / 16 + 0.75 * 11 / 26)
    assert old.answers[-1] == pytest.approx(8 * live, rel=1e-3)
    assert fresh.first_risk() > old.first_risk()


def test_tables_refresh_on_their_own_clock() -> None:
    look = model(answer_rate=0.25)
    args = (0, (), (5.0,) * 6, (), 0)
    before = look.shortfall(0.0, *args).tables.answer_p
    for _ in range(5000):
        look.dials.observe(10.0, live=True)
    assert look.shortfall(5.0, *args).tables.answer_p == before  # within dial_refresh (10 s)
    assert look.shortfall(10.0, *args).tables.answer_p > 0.9
    look.invalidate()
    assert look.shortfall(10.5, *args).tables.answer_p > 0.9


def test_answers_after_the_minimum_ring_are_priced_at_most_theta() -> None:
    look = model()
    # No seat for a long time (every seat just started a call): any answer would be abandoned.
    x = look.shortfall(0.0, ready=0, talking=(1.0,) * 3, wrapping=(), dialing=(), waiting=0)
    assert x.first_risk() == pytest.approx(1.0, abs=1e-3)
    # With surplus dials cancelled after 15 s, the 5 s of 16 where an answer lands later cost
    # theta each at most: 11/16 + 5/16 * theta.
    theta = 0.1
    capped = x.capped(15.0, theta)
    assert capped.first_risk() == pytest.approx(11 / 16 + 5 / 16 * theta, abs=5e-3)
    k = np.arange(0, 3, dtype=np.float64)[:, None]
    assert np.all(capped.risk(k) <= x.risk(k) + 1e-12)
    # A minimum ring past every answer changes nothing.
    assert x.capped(60.0, theta).first_risk() == pytest.approx(x.first_risk())
