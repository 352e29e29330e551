"""Seat and queue counters: day roll-over, service level, ASA, AHT estimate."""

from __future__ import annotations

import pytest

from floor.stats import QueueStats, SeatStats


def test_seat_counters_are_per_day() -> None:
    stats = SeatStats(day=7)
    stats.offered(7)
    stats.answered(7)
    stats.ended(1000.0, 120.0, 7)
    stats.missed(7)
    assert (stats.offers, stats.calls, stats.talk_time, stats.no_answers) == (1, 1, 120.0, 1)
    stats.answered(8)                                        # first call of the next day
    assert (stats.day, stats.offers, stats.calls, stats.talk_time, stats.no_answers) == (8, 0, 1, 0.0, 0)
    assert stats.last_call_end == 1000.0                     # not a daily counter


def test_service_level_leaves_out_short_abandons_and_counts_overflows() -> None:
    q = QueueStats(threshold=20.0, handle_time_estimate=180.0)
    assert q.service_level() is None
    for _ in range(5):
        q.joined()
    assert q.answer(5.0) is True
    assert q.answer(20.0) is True                            # "within" includes the threshold
    assert q.answer(45.0) is False
    assert q.abandon(10.0) is True                           # short abandon: not in the denominator
    q.overflow()
    # 2 answered within / (3 answered + 0 late abandons + 1 overflowed)
    assert q.service_level() == pytest.approx(0.5)
    assert q.abandon(30.0) is False
    assert q.service_level() == pytest.approx(2 / 5)
    assert q.average_speed_of_answer() == pytest.approx(70.0 / 3)
    assert (q.offered, q.answered, q.abandoned, q.abandoned_within, q.overflowed) == (5, 3, 2, 1, 1)


def test_handle_time_estimate_is_a_moving_average_seeded_by_the_first_call() -> None:
    q = QueueStats(threshold=20.0, handle_time_estimate=180.0)
    assert q.average_handle_time() is None
    q.handled(100.0)
    assert q.handle_time_estimate == 100.0
    q.handled(200.0)
    assert q.handle_time_estimate == pytest.approx(0.75 * 100 + 0.25 * 200)
    assert q.average_handle_time() == pytest.approx(150.0)
