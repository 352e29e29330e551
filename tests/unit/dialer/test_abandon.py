"""Abandonment formulas, rolling windows and the budget, on small ledgers."""

from __future__ import annotations

import pytest

from dialer.abandon import (
    DAY,
    MONTH,
    AbandonCounts,
    AbandonFormula,
    AbandonTracker,
    CallKind,
    classify,
)


def test_classify_maps_the_ledger_vocabulary() -> None:
    assert classify("answered", "human") is CallKind.CONNECTED
    assert classify("answered", None) is CallKind.CONNECTED
    assert classify("answered", "machine") is None  # a machine passed to a seat: not live
    assert classify("abandoned", None) is CallKind.ABANDONED
    assert classify("abandoned", "machine") is CallKind.ABANDONED  # the safe side
    assert classify("machine", "machine") is CallKind.MACHINE
    for outcome in ("busy", "no_answer", "rejected", "network_error", "cancelled", "lost", None):
        assert classify(outcome, None) is None


def test_us_formula_counts_abandoned_over_live_answers() -> None:
    counts = AbandonCounts(connected=97, abandoned=3, machine=50)
    assert counts.rate(AbandonFormula.ANSWERS) == pytest.approx(0.03)
    assert counts.rate(AbandonFormula.ANSWERS, amd_allowance=0.5) == pytest.approx(0.03)  # no AMD term
    assert counts.live(AbandonFormula.ANSWERS) == 100


def test_uk_formula_adds_the_amd_false_positive_estimate() -> None:
    # 95 connected, 3 abandoned, 100 machines with a 2% allowance: 2 assumed live people hung up on.
    counts = AbandonCounts(connected=95, abandoned=3, machine=100)
    assert counts.rate(AbandonFormula.CONNECTIONS, amd_allowance=0.02) == pytest.approx(5 / 100)
    assert counts.live(AbandonFormula.CONNECTIONS, amd_allowance=0.02) == pytest.approx(100)
    assert counts.rate(AbandonFormula.CONNECTIONS) == pytest.approx(3 / 98)
    assert AbandonCounts().rate(AbandonFormula.CONNECTIONS, 0.1) == 0.0


def test_tracker_rolls_the_24_hour_window_exactly() -> None:
    tracker = AbandonTracker(target=0.03)
    tracker.add(100.0, CallKind.ABANDONED)
    for i in range(9):
        tracker.add(200.0 + i, CallKind.CONNECTED)
    assert tracker.rate_24h(1000.0) == pytest.approx(0.1)
    # At 100 + 24 h the abandoned call leaves the window; the connected ones stay until 200 + 24 h.
    assert tracker.rate_24h(100.0 + DAY) == 0.0
    assert tracker.counts_24h(100.0 + DAY).connected == 9
    assert tracker.counts_24h(300.0 + DAY).connected == 0
    # The 30-day window still holds them all.
    assert tracker.counts_30d(300.0 + DAY) == AbandonCounts(9, 1, 0)
    assert tracker.rate_30d(300.0 + DAY) == pytest.approx(0.1)


def test_tracker_30_day_window_counts_hourly_buckets() -> None:
    tracker = AbandonTracker()
    tracker.add(3600.0 * 10 + 5, CallKind.ABANDONED)  # hour 10
    tracker.add(3600.0 * 11 + 5, CallKind.CONNECTED)  # hour 11
    # The window is the last 720 hours, the current one included: at hour 729 hour 10 is in...
    assert tracker.counts_30d(3600.0 * 729 + 1).abandoned == 1
    # ... and at hour 730 it is out, hour 11 still in.
    assert tracker.counts_30d(3600.0 * 730 + 1) == AbandonCounts(1, 0, 0)
    assert tracker.counts_30d(10 * 3600.0 + MONTH + 3600.0 * 2) == AbandonCounts()


def test_budget_is_spent_at_the_target_and_back_under_it() -> None:
    tracker = AbandonTracker(target=0.03)
    for i in range(97):
        tracker.add(float(i), CallKind.CONNECTED)
    for i in range(2):
        tracker.add(100.0 + i, CallKind.ABANDONED)
    budget = tracker.budget(200.0)
    assert budget.predictive_allowed
    assert budget.rate_24h == pytest.approx(2 / 99)
    # One more abandoned call would make 3/100: exactly at the target, which spends it.
    assert budget.slack_24h == pytest.approx((0.03 * 99 - 2) / 0.97)
    tracker.add(300.0, CallKind.ABANDONED)
    spent = tracker.budget(301.0)
    assert spent.rate_24h == pytest.approx(0.03)
    assert not spent.predictive_allowed
    assert spent.slack_24h == pytest.approx(0.0, abs=1e-9)
    tracker.add(400.0, CallKind.CONNECTED)  # 3 / 101: under again
    assert tracker.budget(401.0).predictive_allowed


def test_budget_uses_the_30_day_window_too() -> None:
    tracker = AbandonTracker(target=0.03)
    tracker.add(0.0, CallKind.ABANDONED)
    tracker.add(1.0, CallKind.CONNECTED)
    later = 2 * DAY  # the 24-hour window is empty, the 30-day one at 50 %
    tracker.add(later, CallKind.CONNECTED)
    budget = tracker.budget(later + 1)
    assert budget.rate_24h == 0.0
    assert budget.rate_30d == pytest.approx(1 / 3)
    assert not budget.predictive_allowed


def test_budget_reports_the_amd_share_of_the_uk_rate() -> None:
    tracker = AbandonTracker(target=0.03, formula="connections", amd_allowance=0.01)
    for i in range(97):
        tracker.record(float(i), "answered", "human")
    tracker.record(100.0, "abandoned", "human")
    for i in range(200):
        tracker.record(200.0 + i, "machine", "machine")
    budget = tracker.budget(500.0)
    # (1 + 2) / (97 + 1 + 2)
    assert budget.rate_24h == pytest.approx(0.03)
    assert budget.false_positive_24h == pytest.approx(0.02)
    assert not budget.predictive_allowed


def test_tracker_rebuilds_from_the_attempts_ledger() -> None:
    now = 40 * DAY
    rows = [
        (now - 10.0, "abandoned", None),
        (now - 20.0, "answered", "human"),
        (now - 30.0, "busy", None),
        (now - 2 * DAY, "answered", None),  # in the 30 days only
        (now - 31 * DAY, "abandoned", None),  # too old for either window
        (now - 40.0, "machine", "machine"),
        (now + 10.0, "abandoned", None),  # after now: ignored
    ]
    tracker = AbandonTracker.from_ledger(rows, now=now, target=0.03, formula="connections",
                                         amd_allowance=0.5)
    assert tracker.counts_24h(now) == AbandonCounts(1, 1, 1)
    assert tracker.counts_30d(now) == AbandonCounts(2, 1, 1)
    assert tracker.rate_24h(now) == pytest.approx(1.5 / 2.5)


def test_tracker_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        AbandonTracker(target=0.0)
    with pytest.raises(ValueError):
        AbandonTracker(amd_allowance=1.5)
    with pytest.raises(ValueError):
        AbandonTracker(formula="percent")
