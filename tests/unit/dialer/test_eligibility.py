"""The dialling rules as pure code: each rule, their order, the 72 h rule, retry scheduling."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialer.eligibility import (
    ABANDON_HOLD,
    Decision,
    History,
    LeadState,
    Reason,
    decide,
    schedule_after,
)
from dialer.records import LeadRow, Outcome

NOW = 1_772_000_000.0
OPEN = (True, None)
FRESH = LeadState("new", 0, None, "America/New_York")
NONE = History()
DELAYS = {"busy": 600.0, "no_answer": 3600.0, "machine": 14400.0, "network_error": 300.0, "rejected": 3600.0,
          "abandoned": 259200.0, "cancelled": 300.0, "lost": 3600.0, "answered": 0.0}


def check(lead: LeadState = FRESH, history: History = NONE, **kw: object) -> Decision:
    args: dict[str, object] = {"dnc": False, "window": OPEN, "now": NOW, "max_attempts": 3, **kw}
    return decide(lead, history, **args)  # type: ignore[arg-type]


def test_a_fresh_lead_in_an_open_window_is_dialled() -> None:
    assert check() == Decision(True, Reason.DIAL)


@pytest.mark.parametrize(
    ("lead", "history", "kw", "expected"),
    [
        (replace(FRESH, status="done"), History(), {}, Decision(False, Reason.DONE)),
        (replace(FRESH, status="dnc"), History(), {}, Decision(False, Reason.DNC)),
        (FRESH, History(), {"dnc": True}, Decision(False, Reason.DNC)),
        (replace(FRESH, status="held", time_zone=None), History(), {}, Decision(False, Reason.HELD)),
        (replace(FRESH, time_zone=None), History(), {}, Decision(False, Reason.HELD)),
        (FRESH, History(dialing=True), {}, Decision(False, Reason.DIALING)),
        (replace(FRESH, status="retry", attempts=3), History(), {}, Decision(False, Reason.MAX_ATTEMPTS)),
        (replace(FRESH, status="retry", attempts=1, next_at=NOW + 60), History(), {}, Decision(False, Reason.NOT_DUE, NOW + 60)),
        (FRESH, History(), {"window": (False, NOW + 3600)}, Decision(False, Reason.WINDOW_CLOSED, NOW + 3600)),
    ],
)
def test_each_rule(lead: LeadState, history: History, kw: dict[str, object], expected: Decision) -> None:
    assert check(lead, history, **kw) == expected


def test_rules_are_checked_in_order() -> None:
    # done beats DNC beats held beats an open attempt beats max attempts beats the window
    lead = LeadState("done", 9, NOW + 60, None)
    assert check(lead, History(dialing=True), dnc=True, window=(False, None)).reason == Reason.DONE
    assert check(replace(lead, status="retry"), History(dialing=True), dnc=True).reason == Reason.DNC
    assert check(replace(lead, status="retry"), History(dialing=True)).reason == Reason.HELD
    lead = replace(lead, status="retry", time_zone="Europe/London")
    assert check(lead, History(dialing=True)).reason == Reason.DIALING
    assert check(lead, window=(False, None)).reason == Reason.MAX_ATTEMPTS
    assert check(replace(lead, attempts=1), window=(False, None)).reason == Reason.NOT_DUE


def test_72_hour_rule_needs_a_reserved_seat() -> None:
    abandoned = NOW - 3600
    got = check(replace(FRESH, status="retry", attempts=1), History(last_abandoned_at=abandoned))
    assert got == Decision(True, Reason.RESERVED_SEAT, abandoned + ABANDON_HOLD, reserved_seat=True)
    later = check(replace(FRESH, status="retry", attempts=1), History(last_abandoned_at=NOW - ABANDON_HOLD))
    assert later == Decision(True, Reason.DIAL)


def test_callbacks_are_exempt_from_max_attempts_and_wait_for_their_seat() -> None:
    callback = LeadState("callback", 5, NOW - 1, "Asia/Shanghai", callback_seat="1001")
    assert check(callback) == Decision(False, Reason.SEAT_NOT_READY)
    assert check(callback, ready_seats={"1002"}) == Decision(False, Reason.SEAT_NOT_READY)
    assert check(callback, ready_seats={"1001"}) == Decision(True, Reason.DIAL, seat="1001")
    assert check(replace(callback, next_at=NOW + 600), ready_seats={"1001"}) == Decision(False, Reason.NOT_DUE, NOW + 600)
    any_seat = replace(callback, callback_seat=None)
    assert check(any_seat) == Decision(True, Reason.DIAL)


def test_a_callback_after_an_abandoned_call_keeps_its_seat() -> None:
    callback = LeadState("callback", 1, NOW - 1, "Asia/Shanghai", callback_seat="1001")
    got = check(callback, History(last_abandoned_at=NOW - 60), ready_seats={"1001"})
    assert (got.dial, got.reserved_seat, got.seat) == (True, True, "1001")


def test_lead_state_of_a_row() -> None:
    row = LeadRow(7, "c", "+12125550101", None, {}, "America/New_York", "US", "retry", 2, NOW, "busy", None, 0.0, 3)
    assert LeadState.of(row) == LeadState("retry", 2, NOW, "America/New_York", None)


@pytest.mark.parametrize(
    ("outcome", "attempts", "sip_status", "expected"),
    [
        ("answered", 1, 200, ("done", None)),
        ("busy", 1, 486, ("retry", NOW + 600)),
        ("no_answer", 2, 480, ("retry", NOW + 3600)),
        ("machine", 1, 200, ("retry", NOW + 14400)),
        ("network_error", 1, 503, ("retry", NOW + 300)),
        ("abandoned", 1, 200, ("retry", NOW + 259200)),
        ("lost", 1, None, ("retry", NOW + 3600)),
        ("rejected", 1, 603, ("retry", NOW + 3600)),
        ("rejected", 1, 404, ("done", None)),
        ("rejected", 1, 484, ("done", None)),
        ("busy", 3, 486, ("done", None)),
        ("lost", 3, None, ("done", None)),
    ],
)
def test_schedule_after(outcome: Outcome, attempts: int, sip_status: int | None, expected: tuple[str, float | None]) -> None:
    got = schedule_after(outcome, attempts=attempts, max_attempts=3, delays=DELAYS, now=NOW, sip_status=sip_status)
    assert got == expected
