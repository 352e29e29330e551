"""The pacing estimators against known distributions: exact values on small cases."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from dialer.estimate import (
    AnswerRate,
    DecayingHistogram,
    DialModel,
    LogNormalEstimate,
    SeatModel,
    normal_cdf,
    normal_cdf_array,
)


def test_normal_cdf_array_matches_erfc() -> None:
    xs = np.linspace(-8.0, 8.0, 2001)
    expected = np.array([normal_cdf(x) for x in xs.tolist()])
    assert np.abs(normal_cdf_array(xs) - expected).max() < 1e-7
    assert normal_cdf(0.0) == 0.5


def test_answer_rate_starts_at_its_prior_and_forgets() -> None:
    rate = AnswerRate(prior=0.25, prior_weight=4.0, memory=2.0)  # keep = 1/2 per observation
    assert rate.value == 0.25
    rate.observe(True)  # hits 1*0.5 + 1 = 1.5, total 4*0.5 + 1 = 3
    assert rate.value == pytest.approx(0.5)
    rate.observe(False)  # hits 0.75, total 2.5
    assert rate.value == pytest.approx(0.3)
    assert rate.weight == pytest.approx(2.5)
    assert rate.observations == 2


def test_answer_rate_converges_on_the_share_of_live_answers() -> None:
    rate = AnswerRate(prior=0.5, memory=1000.0)
    rng = random.Random(7)
    for _ in range(20000):
        rate.observe(rng.random() < 0.2)
    assert rate.value == pytest.approx(0.2, abs=0.03)


def test_answer_rate_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        AnswerRate(prior=1.5)
    with pytest.raises(ValueError):
        AnswerRate(memory=1.0)


def test_histogram_distribution_is_linear_within_bins() -> None:
    hist = DecayingHistogram(width=1.0, limit=10.0, memory=1e9)
    hist.observe(1.5)
    hist.observe(2.5)
    assert hist.cdf(1.0) == 0.0
    assert hist.cdf(1.5) == pytest.approx(0.25)
    assert hist.cdf(2.0) == pytest.approx(0.5)
    assert hist.cdf(3.0) == pytest.approx(1.0)
    assert hist.cdf(99.0) == 1.0
    assert hist.mean() == pytest.approx(2.0)
    assert hist.quantile(0.5) == pytest.approx(2.0)
    assert hist.quantile(0.75) == pytest.approx(2.5)
    many = hist.cdf_many(np.array([0.0, 1.5, 2.0, 2.75, 12.0]))
    assert many.tolist() == pytest.approx([0.0, 0.25, 0.5, 0.875, 1.0])


def test_histogram_forgets_old_observations() -> None:
    hist = DecayingHistogram(width=1.0, limit=10.0, memory=2.0)  # each new one weighs 2x the last
    hist.observe(0.5)
    hist.observe(5.5)  # weights 1 and 2
    assert hist.cdf(1.0) == pytest.approx(1 / 3)
    hist.observe(5.5)  # weights 1, 2, 4
    assert hist.cdf(1.0) == pytest.approx(1 / 7)
    for _ in range(400):  # far past the rescaling point: still exact proportions
        hist.observe(8.5)
    assert hist.cdf(8.0) == pytest.approx(0.0, abs=1e-12)
    assert hist.cdf(9.0) == pytest.approx(1.0)


def test_histogram_uniform_prior_and_overflow() -> None:
    hist = DecayingHistogram(width=0.5, limit=4.0)
    hist.add_uniform(1.0, 3.0, 10.0)
    assert hist.cdf(2.0) == pytest.approx(0.5)
    assert hist.cdf(1.25) == pytest.approx(0.125)
    hist2 = DecayingHistogram(width=1.0, limit=3.0)
    hist2.observe(100.0)  # past the limit: the last bin
    assert hist2.cdf(2.0) == 0.0 and hist2.cdf(3.0) == 1.0
    assert DecayingHistogram(1.0, 3.0).cdf(2.0) == 0.0  # no data, no prior: nothing yet


def test_lognormal_prior_has_the_given_mean_and_cv() -> None:
    est = LogNormalEstimate(prior_mean=120.0, prior_cv=1.0)
    assert est.mean == pytest.approx(120.0)
    assert est.sigma == pytest.approx(math.sqrt(math.log(2.0)))
    # The median of a lognormal is exp(mu): mean / sqrt(1 + cv^2).
    assert est.cdf(120.0 / math.sqrt(2.0)) == pytest.approx(0.5)
    assert est.quantile(0.5) == pytest.approx(120.0 / math.sqrt(2.0), rel=1e-6)


def test_lognormal_fits_samples() -> None:
    rng = random.Random(3)
    est = LogNormalEstimate(prior_mean=30.0, prior_cv=0.5, memory=5000.0)
    sigma = math.sqrt(math.log(1 + 0.8 ** 2))
    mu = math.log(200.0) - sigma ** 2 / 2
    for _ in range(20000):
        est.observe(rng.lognormvariate(mu, sigma))
    assert est.mean == pytest.approx(200.0, rel=0.05)
    assert est.sigma == pytest.approx(sigma, rel=0.05)


def test_lognormal_remaining_time_given_elapsed() -> None:
    est = LogNormalEstimate(prior_mean=60.0, prior_cv=1.0)
    f = est.cdf
    # P(T <= e + x | T > e) = (F(e + x) - F(e)) / (1 - F(e))
    assert est.remaining_cdf(30.0, 10.0) == pytest.approx((f(40.0) - f(30.0)) / (1 - f(30.0)))
    assert est.remaining_cdf(0.0, 50.0) == pytest.approx(f(50.0))
    # Heavy tail: a call 5 minutes old is less likely to end in the next 10 s than a fresh one.
    assert est.remaining_cdf(300.0, 10.0) < est.remaining_cdf(20.0, 10.0)
    assert 0.0 < est.remaining_cdf(1e6, 10.0) < 0.01


def test_lognormal_censored_fit_lengthens_talk() -> None:
    est = LogNormalEstimate(prior_mean=60.0, prior_cv=1.0, prior_weight=1.0)
    for value in (10.0, 12.0, 15.0, 20.0):  # the short calls ended first
        est.observe(value)
    fitted = est.with_censored([90.0, 120.0, 150.0, 200.0], weight=1.0)
    assert fitted.mean > est.mean * 2
    assert est.with_censored([], 1.0).mean == est.mean
    assert est.with_censored([90.0], 0.0).mean == est.mean


def test_dial_model_conditional_answer() -> None:
    # Live answers uniform on [4, 20], failures uniform on [4, 25], p = 0.25, no prior left.
    model = DialModel(answer_prior=0.25, memory=1e9)
    model.to_answer = DecayingHistogram(0.25, 90.0, memory=1e9)
    model.to_failure = DecayingHistogram(0.25, 90.0, memory=1e9)
    model.to_answer.add_uniform(4.0, 20.0, 1.0)
    model.to_failure.add_uniform(4.0, 25.0, 1.0)
    p = 0.25
    assert model.answer_within(0.0, 12.0) == pytest.approx(p * 0.5)
    assert model.answer_within(0.0, 30.0) == pytest.approx(p)
    # At 12 s: live ones left 8/16, failures 13/21.
    alive = p * 0.5 + (1 - p) * 13 / 21
    assert model.live_probability(12.0) == pytest.approx(p * 0.5 / alive)
    assert model.answer_within(12.0, 4.0) == pytest.approx(p * 0.25 / alive)
    assert model.live_probability(21.0) == 0.0
    table = model.answer_table(np.array([0.0, 12.0]), np.array([0.0, 4.0, 12.0]))
    expected = [0.0, 0.0, p * 0.5, 0.0, p * 0.25 / alive, p * 0.5 / alive]
    assert table.ravel().tolist() == pytest.approx(expected)


def test_dial_model_learns_the_answer_rate() -> None:
    model = DialModel(answer_prior=0.5)
    for i in range(4000):
        model.observe(10.0, live=(i % 5 == 0))
    assert model.answer.value == pytest.approx(0.2, abs=0.01)


def test_seat_model_fixed_wrap_up_is_known_exactly() -> None:
    seats = SeatModel(talk_prior=60.0, wrap_prior=15.0, memory=1e9)
    seats.wrap = DecayingHistogram(0.25, 600.0, memory=1e9)
    for _ in range(10):
        seats.observe_wrap(15.0)  # all mass in [15, 15.25)
    assert seats.wrap_free_within(5.0, 10.0) == 0.0
    assert seats.wrap_free_within(5.0, 10.125) == pytest.approx(0.5)
    assert seats.wrap_free_within(5.0, 10.25) == pytest.approx(1.0)
    # In a call: free when the rest of the talk and then 15.125 s (the bin's middle) are over.
    talk = seats.talk
    expected = talk.remaining_cdf(30.0, 20.0 - 15.125)
    assert seats.talk_free_within(30.0, 20.0) == pytest.approx(expected)
    assert seats.talk_free_within(30.0, 15.0) == 0.0


def test_seat_tables_match_the_scalar_questions() -> None:
    seats = SeatModel(talk_prior=90.0, wrap_prior=10.0, memory=1e9)
    seats.wrap = DecayingHistogram(0.25, 600.0, memory=1e9)
    seats.observe_wrap(10.0)
    horizons = np.arange(0.0, 25.0, 0.5)
    wrap = seats.wrap_table(np.array([0.0, 3.0, 9.0]), horizons)
    for row, elapsed in enumerate((0.0, 3.0, 9.0)):
        for col, h in enumerate(horizons.tolist()):
            assert wrap[row, col] == pytest.approx(seats.wrap_free_within(elapsed, h))
    talk = seats.talk_table(np.array([0.0, 40.0, 400.0]), horizons)
    for row, elapsed in enumerate((0.0, 40.0, 400.0)):
        # The table rounds the wrap-up to the half-second grid: 10.125 s becomes 10 s.
        for col, h in enumerate(horizons.tolist()):
            exact = seats.talk.remaining_cdf(elapsed, h - 10.0) if h > 10.0 else 0.0
            assert talk[row, col] == pytest.approx(exact, abs=1e-6)


def test_histogram_observation_known_only_to_exceed_a_value() -> None:
    h = DecayingHistogram(1.0, 30.0, memory=100.0)
    h.add_uniform(0.0, 20.0, 10.0)
    h.observe_beyond(15.0, 1.0)
    # The mass went past 15 s in proportion to what was there: 15-20 s gained, below lost share.
    assert h.cdf(15.0) == pytest.approx(0.75 * 10.0 / (10.0 + 1.0 / (1.0 - 1.0 / 100.0)), rel=1e-6)
    assert h.cdf(20.0) == pytest.approx(1.0)
    empty = DecayingHistogram(1.0, 30.0)
    empty.observe_beyond(12.5, 0.5)
    assert empty.cdf(12.0) == 0.0 and empty.cdf(13.0) == pytest.approx(1.0)


def test_dial_model_censored_dial() -> None:
    model = DialModel(0.3)
    q = model.live_probability(17.0)
    before = model.answer.value
    model.observe_censored(17.0)
    assert 0 < q < before
    assert model.answer.value < before  # a long ring is weak evidence of a live answer
    assert model.answer.observations == 1
