"""The brute-force guard: every threshold with an explicit clock."""

from __future__ import annotations

import pytest

from telephony.sip.guard import AuthGuard, GuardAction, GuardVerdict

IP = "198.51.100.23"
T = 1000.0
ALLOW = GuardVerdict(GuardAction.ALLOW)


def delay(seconds: float) -> GuardVerdict:
    return GuardVerdict(GuardAction.DELAY, delay=seconds)


def test_unknown_source_is_allowed() -> None:
    guard = AuthGuard()
    assert guard.check(IP, T) == ALLOW
    assert len(guard) == 0  # checking remembers nothing


def test_delay_starts_at_slow_after_and_doubles_up_to_max_delay() -> None:
    guard = AuthGuard(slow_after=3, ban_after=10, max_delay=4.0)
    verdicts = [guard.failure(IP, T + i) for i in range(9)]
    assert verdicts == [
        ALLOW, ALLOW, delay(0.5), delay(1.0), delay(2.0), delay(4.0), delay(4.0), delay(4.0),
        delay(4.0),
    ]
    assert guard.check(IP, T + 9) == delay(4.0)


def test_check_reports_the_delay_that_failures_earned() -> None:
    guard = AuthGuard(slow_after=2)
    guard.failure(IP, T)
    assert guard.check(IP, T) == ALLOW
    guard.failure(IP, T)
    assert guard.check(IP, T) == delay(0.5)


def test_ban_after_ban_after_failures_reported_once() -> None:
    guard = AuthGuard(slow_after=3, ban_after=10, ban_seconds=900.0)
    for i in range(9):
        guard.failure(IP, T + i)
    banned = guard.failure(IP, T + 9)
    assert banned == GuardVerdict(GuardAction.BANNED, until=T + 909, just_banned=True)
    still = GuardVerdict(GuardAction.BANNED, until=T + 909)
    assert guard.check(IP, T + 10) == still
    assert guard.failure(IP, T + 11) == still  # no second "just banned", no extension
    assert guard.check(IP, T + 908.9) == still


def test_ban_ends_with_a_clean_slate() -> None:
    guard = AuthGuard(slow_after=1, ban_after=2, ban_seconds=60.0)
    guard.failure(IP, T)
    assert guard.failure(IP, T).just_banned
    assert guard.check(IP, T + 60) == ALLOW
    assert len(guard) == 0
    assert guard.failure(IP, T + 61) == delay(0.5)  # counting starts again from one


def test_failures_older_than_the_window_are_forgotten() -> None:
    guard = AuthGuard(slow_after=3, window=300.0)
    guard.failure(IP, T)
    guard.failure(IP, T + 100)
    assert guard.failure(IP, T + 299) == delay(0.5)  # three inside the window
    assert guard.check(IP, T + 300) == ALLOW  # the first is exactly a window old
    assert guard.failure(IP, T + 300) == delay(0.5)
    assert guard.check(IP, T + 1000) == ALLOW
    assert len(guard) == 0


def test_window_also_bounds_the_ban_count() -> None:
    guard = AuthGuard(slow_after=2, ban_after=3, window=10.0)
    guard.failure(IP, T)
    guard.failure(IP, T + 5)
    assert guard.failure(IP, T + 11).action is GuardAction.DELAY  # the first one expired
    assert guard.failure(IP, T + 12).just_banned


def test_success_clears_the_count_but_not_a_ban() -> None:
    guard = AuthGuard(slow_after=2, ban_after=3)
    guard.failure(IP, T)
    guard.failure(IP, T)
    guard.success(IP, T)
    assert guard.check(IP, T) == ALLOW
    assert guard.failure(IP, T) == ALLOW
    guard.failure(IP, T)
    guard.failure(IP, T)
    guard.success(IP, T + 1)
    assert guard.check(IP, T + 1).action is GuardAction.BANNED
    guard.success("203.0.113.1", T)  # unknown source: nothing to do


def test_sources_are_counted_separately() -> None:
    guard = AuthGuard(slow_after=1)
    assert guard.failure(IP, T) == delay(0.5)
    assert guard.check("198.51.100.24", T) == ALLOW


def test_memory_is_bounded_by_evicting_the_least_recent() -> None:
    guard = AuthGuard(slow_after=1, max_sources=2)
    guard.failure("a", T)
    guard.failure("b", T)
    guard.check("a", T + 1)  # "a" is seen again, so "b" is now the oldest
    guard.failure("c", T + 2)
    assert len(guard) == 2
    assert guard.check("b", T + 3) == ALLOW
    assert guard.check("a", T + 3) == delay(0.5)
    assert guard.check("c", T + 3) == delay(0.5)


@pytest.mark.parametrize(("slow_after", "ban_after"), [(0, 10), (5, 4)])
def test_thresholds_must_make_sense(slow_after: int, ban_after: int) -> None:
    with pytest.raises(ValueError):
        AuthGuard(slow_after=slow_after, ban_after=ban_after)
