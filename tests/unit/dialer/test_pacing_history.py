"""A campaign's pacer resumed from its ledger: a replay leaves the estimators exactly as the same
observations fed live would, skips what the runtime never learnt, and stays in its window."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from dialer.campaign import Campaign
from dialer.pacing import Mode, Pacer, PacerPriors, PacingSnapshot
from dialer.pacing_history import (
    HistoryError,
    ReplayContext,
    WarmSummary,
    estimates,
    recent,
    replay,
)
from dialer.records import AttemptRow

NOW = 1_772_000_000.0
DAY = 86400.0
CTX = ReplayContext(seats=3, target_abandon=0.03, wrap_up=5.0, grace=2.0)


def row(id: int, created: float, outcome: str | None, *, closed: float | None = None,
        status: int | None = None, answered: float | None = None, connected: float | None = None,
        amd: str | None = None, state: str = "closed") -> AttemptRow:
    """An attempt whose times are given in seconds relative to NOW."""
    def at(t: float | None) -> float | None:
        return None if t is None else NOW + t
    return AttemptRow(id, id, "c", f"+4420794600{id:02d}", f"call-{id}", "predictive", state,  # type: ignore[arg-type]
                      outcome, status, NOW + created, at(answered), at(connected), None, amd,  # type: ignore[arg-type]
                      at(closed if state == "closed" else None))


# A shift's ledger, in no particular order. Times are seconds relative to NOW.
LEDGER = [
    row(7, -600.0, "answered", answered=-588.5, connected=-588.0, closed=-470.25),   # talk 117.75 s
    row(1, -1000.0, "busy", status=486, closed=-996.0),
    row(2, -990.0, "no_answer", status=408, closed=-965.0),                         # ring timeout
    row(3, -980.0, "no_answer", status=487, closed=-958.0),                         # paced out
    row(4, -970.0, "abandoned", answered=-961.0, closed=-950.0),                    # no seat in 2 s
    row(5, -960.0, "network_error", status=503, closed=-959.5),
    row(6, -955.0, "rejected", closed=-955.0),                                      # never sent
    row(8, -590.0, "answered", answered=-583.0, connected=-582.5, closed=-200.0),
    row(9, -585.0, "cancelled", answered=-575.0, closed=-574.0),                    # left the queue
    row(10, -580.0, "cancelled", status=487, closed=-570.0),                        # a drain
    row(11, -575.0, "lost", closed=-100.0),                                         # cut by a crash
    row(12, -20.0, None, state="dialing"),                                          # still ringing
    row(13, -8 * DAY, "answered", answered=-8 * DAY + 9, connected=-8 * DAY + 10, closed=-8 * DAY + 90),
]


def live_pacer(seats: int = 3, wrap_up: float = 5.0) -> Pacer:
    """A pacer that has seen a snapshot with ``seats`` seats, as the runtime's has."""
    pacer = Pacer(Mode.PROGRESSIVE, priors=PacerPriors(wrap_up=wrap_up))
    pacer.decide(PacingSnapshot(NOW - 2000.0, ready=seats))
    return pacer


def state(p: Pacer) -> dict[str, Any]:
    """Every number the estimators keep, for a bit-for-bit comparison."""
    d, s, c = p.dials, p.seats, p.controller
    return {
        "answer": (d.answer.value, d.answer.weight, d.answer.observations),
        "to_answer": (d.to_answer.pmf().tolist(), d.to_answer.observations, d.to_answer.mean()),
        "to_failure": (d.to_failure.pmf().tolist(), d.to_failure.observations, d.to_failure.mean()),
        "talk": (s.talk.mu, s.talk.sigma, s.talk.mean, s.talk.observations),
        "wrap": (s.wrap.pmf().tolist(), s.wrap.observations),
        "theta": (c.theta, c.connected, c.abandoned),
    }


def reference() -> Pacer:
    """LEDGER's facts by the time they happened: the runtime's order."""
    p = live_pacer()
    p.observe_dial(4.0, False)                 # 1 busy, at -996
    p.observe_dial(25.0, False)                # 2 ring timeout, at -965
    p.observe_dial(9.0, True)                  # 4 live answer, at -961
    p.observe_dial(0.5, False)                 # 5 503, at -959.5
    p.observe_abandoned(0.03)                  # 4 no seat within the grace, at -959
    p.observe_cancelled(22.0)                  # 3 paced out, at -958
    p.observe_dial(11.5, True)                 # 7 live answer, at -588.5
    p.observe_connected(0.03)                  # 7 at a seat, at -588
    p.observe_dial(7.0, True)                  # 8 live answer, at -583
    p.observe_connected(0.03)                  # 8 at a seat, at -582.5
    p.observe_dial(10.0, True)                 # 9 live answer, at -575 (the customer left)
    p.observe_dial(10.0, False)                # 10 cancelled by a drain, at -570
    p.observe_talk(117.75)                     # 7 over, at -470.25
    p.observe_wrap(5.0)
    p.observe_talk(382.5)                      # 8 over, at -200
    p.observe_wrap(5.0)
    return p


def test_a_replay_leaves_the_estimators_exactly_as_live_feeding() -> None:
    warmed = Pacer(Mode.PREDICTIVE, priors=PacerPriors(wrap_up=5.0))
    summary = replay(warmed, LEDGER, CTX, now=NOW)
    live = reference()
    assert state(warmed) == state(live)
    assert summary == WarmSummary(attempts=9, live_answers=4, answer_rate=live.dials.answer.value,
                                  talk_mean=live.seats.talk.mean, theta=live.controller.theta)
    assert (live.controller.connected, live.controller.abandoned) == (2, 1)
    assert live.dials.answer.observations == 9 and live.seats.talk.observations == 2


def test_the_order_is_that_of_the_facts_not_of_the_rows() -> None:
    shuffled = [LEDGER[i] for i in (12, 3, 9, 0, 5, 11, 1, 7, 2, 10, 4, 8, 6)]
    a, b = Pacer(priors=PacerPriors(wrap_up=5.0)), Pacer(priors=PacerPriors(wrap_up=5.0))
    replay(a, LEDGER, CTX, now=NOW)
    replay(b, shuffled, CTX, now=NOW)
    assert state(a) == state(b)
    # Forgetting weighs the later facts more: the same facts in another order give another estimate.
    other = live_pacer()
    other.observe_dial(9.0, True)
    other.observe_dial(4.0, False)
    first = live_pacer()
    first.observe_dial(4.0, False)
    first.observe_dial(9.0, True)
    assert other.dials.answer.value != first.dials.answer.value


def test_the_answer_rate_by_hand() -> None:
    p = Pacer()
    replay(p, [row(1, -50.0, "busy", status=486, closed=-40.0),
               row(2, -30.0, "answered", answered=-20.0, connected=-19.0, closed=-10.0)],
           CTX, now=NOW)
    keep = 1.0 - 1.0 / 2000.0
    hits, total = 0.25 * 20.0, 20.0
    hits, total = hits * keep, total * keep + 1.0          # the busy dial
    hits, total = hits * keep + 1.0, total * keep + 1.0    # the live answer
    assert p.dials.answer.value == hits / total
    assert p.controller.theta == math.exp(math.log(0.02) + 0.25 * (0.85 * 0.03))  # 3 seats: max gain


def test_a_paced_out_dial_is_censored_not_a_failure() -> None:
    censored, failed = Pacer(), Pacer()
    ledger = [row(1, -60.0, "no_answer", status=487, closed=-48.0)]
    replay(censored, ledger, CTX, now=NOW)
    replay(failed, [row(1, -60.0, "no_answer", status=408, closed=-48.0)], CTX, now=NOW)
    expected = Pacer()
    expected.observe_cancelled(12.0)
    assert state(censored) == state(expected)
    assert censored.dials.to_failure.observations == 0 and failed.dials.to_failure.observations == 1
    assert censored.dials.answer.value > failed.dials.answer.value


def test_open_lost_unsent_and_old_attempts_teach_nothing() -> None:
    p = Pacer()
    summary = replay(p, [LEDGER[6], LEDGER[10], LEDGER[11], LEDGER[12]], CTX, now=NOW)
    assert state(p) == state(Pacer())
    assert (summary.attempts, summary.live_answers) == (0, 0)


def test_the_window_and_the_limit() -> None:
    ids = [a.id for a in recent(LEDGER, NOW)]
    assert ids == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]  # 12 is open, 13 is 8 days old
    assert [a.id for a in recent(LEDGER, NOW, window=800.0)] == [7, 8, 9, 10, 11]
    assert [a.id for a in recent(LEDGER, NOW, limit=3)] == [9, 10, 11]
    assert recent(LEDGER, NOW, limit=0) == []
    # An attempt created after now (a clock stepped back) is not history yet.
    assert recent(LEDGER, NOW - 900.0) == [a for a in recent(LEDGER, NOW) if a.id <= 6]

    last_five = Pacer(priors=PacerPriors(wrap_up=5.0))
    summary = replay(last_five, LEDGER, CTX, now=NOW, limit=5)
    expected = live_pacer()
    expected.observe_dial(11.5, True)
    expected.observe_connected(0.03)
    expected.observe_dial(7.0, True)
    expected.observe_connected(0.03)
    expected.observe_dial(10.0, True)
    expected.observe_dial(10.0, False)
    expected.observe_talk(117.75)
    expected.observe_wrap(5.0)
    expected.observe_talk(382.5)
    expected.observe_wrap(5.0)
    assert state(last_five) == state(expected)
    assert (summary.attempts, summary.live_answers) == (4, 3)  # 11 was lost

    week_old = Pacer(priors=PacerPriors(wrap_up=5.0))
    assert replay(week_old, LEDGER, CTX, now=NOW, window=9 * DAY).attempts == 10


def test_amd_machines_fail_and_an_answer_without_a_verdict_is_skipped() -> None:
    ctx = ReplayContext(seats=30, amd=True)
    ledger = [
        row(1, -100.0, "machine", answered=-92.0, amd="machine", closed=-88.0),
        row(2, -90.0, "cancelled", answered=-80.0, closed=-79.0),               # gone during AMD
        row(3, -85.0, "answered", answered=-78.0, connected=-74.0, amd="machine", closed=-30.0),  # pass
        row(4, -84.0, "abandoned", answered=-76.0, amd="human", closed=-60.0),
    ]
    p = Pacer(priors=PacerPriors(wrap_up=15.0))
    summary = replay(p, ledger, ctx, now=NOW)
    expected = live_pacer(30, wrap_up=15.0)
    expected.observe_dial(8.0, False)
    expected.observe_dial(7.0, True)
    expected.observe_dial(8.0, True)
    expected.observe_connected(0.03)
    expected.observe_abandoned(0.03)   # at the answer + 2 s grace: -74
    expected.observe_talk(44.0)
    expected.observe_wrap(15.0)
    assert state(p) == state(expected)
    assert (summary.attempts, summary.live_answers) == (3, 2)


def test_the_context_of_a_campaign() -> None:
    c = Campaign(id="c", caller_id="+12125550100", target_abandon=0.02, wrap_up=7.0, grace=1.5,
                 amd={"action": "hangup"})  # type: ignore[arg-type]
    assert ReplayContext.of(c, 12, 0.004) == ReplayContext(12, 0.02, 7.0, 1.5, True, 0.004)
    assert not ReplayContext.of(Campaign(id="c", caller_id="+12125550100"), 1).amd


def test_a_bad_row_is_named_and_the_pacer_left_untouched() -> None:
    p = Pacer()
    broken = row(5, -10.0, "busy", status=486, closed=-5.0)
    broken = replace(broken, closed_at=None)
    with pytest.raises(HistoryError, match="attempt 5: closed_at missing"):
        replay(p, [LEDGER[1], broken], CTX, now=NOW)
    assert state(p) == state(Pacer())
    odd = row(6, -10.0, "cancelled", connected=-5.0, closed=-1.0)
    with pytest.raises(HistoryError, match="attempt 6: connected_at without answered_at"):
        replay(p, [odd], CTX, now=NOW)


def test_estimates_and_summary_line() -> None:
    p = Pacer(priors=PacerPriors(answer_rate=0.3, talk_mean=90.0))
    got = estimates(p)
    assert got["answer_rate"] == pytest.approx(0.3) and got["theta"] == pytest.approx(0.02)
    assert got["talk_mean"] == pytest.approx(90.0)
    line = str(WarmSummary(120, 30, 0.25, 117.6, 0.0312))
    assert line == "120 attempts replayed, 30 live answers: answer rate 0.250, talk 118 s, theta 0.0312"
