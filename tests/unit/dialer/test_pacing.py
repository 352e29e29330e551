"""Pacing decisions on hand-made snapshots."""

from __future__ import annotations

import math
from typing import Any

import pytest

from dialer.pacing import Mode, Pacer, PacerPriors, PacingSnapshot, SeatState, SeatView
from dialer.pacing_control import AbandonController, ControllerConfig


def snapshot(now: float = 100.0, **kw: object) -> PacingSnapshot:
    return PacingSnapshot(now, **kw)  # type: ignore[arg-type]


def test_snapshot_from_seat_views() -> None:
    seats = [SeatView("a", SeatState.READY), SeatView("b", SeatState.TALKING, 30.0),
             SeatView("c", SeatState.WRAP_UP, 4.0), SeatView("d", SeatState.READY)]
    snap = PacingSnapshot.from_seats(50.0, seats, dialing=[1.0, 2.5], waiting=[0.5],
                                     dialing_for=["a"], predictive_allowed=False, abandon_slack=2.0)
    assert snap.ready == 2 and snap.ready_ids == frozenset({"a", "d"})
    assert snap.talking == (30.0,) and snap.wrapping == (4.0,)
    assert snap.dialing == (1.0, 2.5) and snap.waiting == (0.5,)
    assert snap.seats == 4
    assert snap.dialing_for == frozenset({"a"})
    assert not snap.predictive_allowed and snap.abandon_slack == 2.0


@pytest.mark.parametrize(("ready", "dialing", "waiting", "expected"), [
    (3, 0, 0, 3), (3, 1, 0, 2), (3, 2, 1, 0), (2, 5, 0, 0), (0, 0, 0, 0),
])
def test_progressive_one_dial_per_uncovered_ready_seat(ready: int, dialing: int, waiting: int,
                                                       expected: int) -> None:
    pacer = Pacer(Mode.PROGRESSIVE)
    snap = snapshot(ready=ready, talking=(10.0,), dialing=(3.0,) * dialing, waiting=(0.2,) * waiting)
    assert pacer.decide(snap) == expected


def test_preview_never_dials_by_itself() -> None:
    pacer = Pacer(Mode.PREVIEW)
    snap = snapshot(ready=2, ready_ids=frozenset({"a", "b"}), dialing_for=frozenset({"b"}))
    assert pacer.decide(snap) == 0
    assert pacer.may_preview(snap, "a")
    assert not pacer.may_preview(snap, "b")  # its own dial is ringing
    assert not pacer.may_preview(snap, "c")  # not ready
    assert not Pacer(Mode.PROGRESSIVE).may_preview(snap, "a")
    waiting = snapshot(ready=1, ready_ids=frozenset({"a"}), waiting=(0.5,))
    assert not pacer.may_preview(waiting, "a")  # an answered call needs that seat


def test_no_seat_logged_in_means_no_dial() -> None:
    for mode in Mode:
        pacer = Pacer(mode)
        assert pacer.decide(snapshot()) == 0
        assert pacer.decide(snapshot(dialing=(1.0, 2.0))) == 0


def test_predictive_dials_more_than_one_per_ready_seat() -> None:
    pacer = Pacer(Mode.PREDICTIVE, priors=PacerPriors(answer_rate=0.25))
    n = pacer.decide(snapshot(ready=10, abandon_slack=math.inf))
    # Ten seats waiting, a quarter of the dials answered live: several dials per seat.
    assert 20 <= n <= 60
    assert Pacer(Mode.PROGRESSIVE).decide(snapshot(ready=10)) == 10


def test_predictive_falls_back_to_progressive_when_the_budget_is_spent() -> None:
    pacer = Pacer(Mode.PREDICTIVE)
    snap = snapshot(ready=4, talking=(10.0,) * 6, dialing=(2.0,), predictive_allowed=False)
    assert pacer.effective_mode(snap) is Mode.PROGRESSIVE
    assert pacer.decide(snap) == 3
    assert pacer.effective_mode(snapshot(ready=1)) is Mode.PREDICTIVE
    assert (pacer.mode_when(False), pacer.mode_when(True)) == (Mode.PROGRESSIVE, Mode.PREDICTIVE)
    assert Pacer(Mode.PREVIEW).mode_when(False) is Mode.PREVIEW


def test_predictive_waits_while_every_seat_has_just_started_a_call() -> None:
    pacer = Pacer(Mode.PREDICTIVE, priors=PacerPriors(talk_mean=120.0, wrap_up=15.0))
    assert pacer.decide(snapshot(talking=(1.0,) * 10, abandon_slack=math.inf)) == 0


def test_predictive_dials_for_seats_about_to_leave_wrap_up() -> None:
    pacer = Pacer(Mode.PREDICTIVE, priors=PacerPriors(answer_rate=0.25, wrap_up=15.0))
    soon = pacer.decide(snapshot(wrapping=(12.0,) * 8, talking=(5.0,) * 2, abandon_slack=math.inf))
    later = pacer.decide(snapshot(wrapping=(1.0,) * 8, talking=(5.0,) * 2, abandon_slack=math.inf))
    # Eight seats free in 3 s: answers may land from 4 s on, so dial for them now; seats free in
    # 14 s: most answers would land before them.
    assert soon >= 8
    assert later < soon
    # Dials already ringing for them cover them.
    covered = pacer.decide(snapshot(wrapping=(12.0,) * 8, talking=(5.0,) * 2,
                                    dialing=(1.0,) * soon, abandon_slack=math.inf))
    assert covered < soon / 2


def test_answered_calls_waiting_hold_back_new_dials() -> None:
    pacer = Pacer(Mode.PREDICTIVE)
    base: dict[str, Any] = dict(ready=2, wrapping=(13.0,) * 4, abandon_slack=math.inf)
    assert pacer.decide(snapshot(waiting=(0.5,) * 2, **base)) < pacer.decide(snapshot(**base))


def test_the_budget_slack_scales_the_risk_accepted() -> None:
    pacer = Pacer(Mode.PREDICTIVE)
    wide = snapshot(ready=1, wrapping=(10.0,) * 10, talking=(40.0,) * 10, dialing=(3.0,) * 20,
                    abandon_slack=math.inf)
    tight = snapshot(ready=1, wrapping=(10.0,) * 10, talking=(40.0,) * 10, dialing=(3.0,) * 20,
                     abandon_slack=0.0)
    assert pacer.decide(tight) <= pacer.decide(wide)
    # With no slack at all only the risk-free dials remain: never fewer than progressive.
    assert pacer.decide(snapshot(ready=3, abandon_slack=0.0)) >= 3


def test_decisions_are_deterministic_and_learn_from_observations() -> None:
    def trained(rate: float) -> Pacer:
        pacer = Pacer(Mode.PREDICTIVE, priors=PacerPriors(answer_rate=0.25))
        for i in range(3000):
            pacer.observe_dial(10.0, live=(i % int(1 / rate) == 0))
        for _ in range(200):
            pacer.observe_talk(60.0)
            pacer.observe_wrap(15.0)
        return pacer

    snap = snapshot(ready=5, wrapping=(10.0,) * 5, talking=(30.0,) * 10, abandon_slack=math.inf)
    assert trained(0.1).decide(snap) == trained(0.1).decide(snap)
    # Fewer live answers per dial: more dials for the same seats.
    assert trained(0.1).decide(snap) > trained(0.5).decide(snap)


def test_controller_moves_theta_by_the_measured_abandonment() -> None:
    config = ControllerConfig(setpoint_ratio=1.0, gain=0.1, theta_initial=0.02)
    controller = AbandonController(config)
    controller.observe(True, 0.03)
    assert controller.theta == pytest.approx(0.02 * math.exp(-0.1 * 0.97))
    controller.observe(False, 0.03)
    assert controller.theta == pytest.approx(0.02 * math.exp(-0.1 * 0.97 + 0.1 * 0.03))
    # In the long run one abandoned call in 1/setpoint answers keeps theta where it is.
    start = controller.theta
    for i in range(1, 101):
        controller.observe(i % 50 == 0, 0.02)  # 2 % abandoned at a 2 % setpoint
    assert controller.theta == pytest.approx(start)
    for _ in range(2000):
        controller.observe(True, 0.03)
    assert controller.theta == pytest.approx(config.theta_min)
    assert controller.connected == 101 - 2 and controller.abandoned == 1 + 2 + 2000


def test_controller_leaves_room_for_the_amd_allowance_and_scales_by_slack() -> None:
    controller = AbandonController(ControllerConfig(setpoint_ratio=1.0, gain=1.0, theta_initial=0.1,
                                                    slack_scale=3.0, slack_per_seat=0.1))
    controller.observe(False, 0.03, uncontrolled=0.01)
    assert controller.theta == pytest.approx(0.1 * math.exp(0.02))
    assert controller.accepted(math.inf, 10) == controller.theta
    assert controller.accepted(1.5, 10) == pytest.approx(controller.theta / 2)  # scale 3
    assert controller.accepted(5.0, 100) == pytest.approx(controller.theta / 2)  # 0.1 a seat
    assert controller.accepted(-1.0, 10) == 0.0


def _full_floor(**kw: Any) -> PacingSnapshot:
    """Ten seats that have just started their calls: no seat is free for a minute or more."""
    base: dict[str, Any] = dict(talking=(2.0,) * 10, abandon_slack=math.inf)
    base.update(kw)
    return snapshot(**base)


def test_surplus_dials_are_cancelled_only_after_their_minimum_ring() -> None:
    pacer = Pacer(Mode.PREDICTIVE, priors=PacerPriors(answer_rate=0.5, talk_mean=120.0), min_ring=15.0)
    # Four dials rang 16 s with no seat coming: each live answer would be abandoned.
    assert pacer.cancellations(_full_floor(dialing=(16.0,) * 4)) == [0, 1, 2, 3]
    # Younger than the minimum ring: never, however sure the abandonment.
    assert pacer.cancellations(_full_floor(dialing=(14.0, 3.0, 16.5))) == [2]
    # The ring counts from the first 180/183, not from the INVITE.
    assert pacer.cancellations(_full_floor(dialing=(16.0, 18.0), rung=(12.0, 15.5))) == [1]
    # Seats ready for them: keep them all.
    assert pacer.cancellations(_full_floor(ready=4, dialing=(16.0,) * 4)) == []


def test_cancellation_keeps_the_dials_the_seats_freeing_can_take() -> None:
    pacer = Pacer(Mode.PREDICTIVE, priors=PacerPriors(answer_rate=0.5, wrap_up=15.0), min_ring=15.0)
    for _ in range(300):
        pacer.observe_wrap(15.0)  # a fixed wrap-up: the seats' moment is known
    # Two seats leave wrap-up in 1 s and six dials rang 16 s: the pricing is greedy, so it
    # cancels the surplus and keeps the ones those seats can take.
    snap = snapshot(wrapping=(14.0, 14.0), talking=(2.0,) * 8, dialing=(16.0,) * 6,
                    abandon_slack=math.inf)
    cancelled = pacer.cancellations(snap)
    assert 2 <= len(cancelled) <= 5
    assert len(set(cancelled)) == len(cancelled)


def test_only_predictive_pacing_with_min_ring_cancels() -> None:
    snap = _full_floor(dialing=(16.0,) * 4)
    assert Pacer(Mode.PREDICTIVE).cancellations(snap) == []  # min_ring None: never
    assert Pacer(Mode.PROGRESSIVE, min_ring=15.0).cancellations(snap) == []
    assert Pacer(Mode.PREVIEW, min_ring=15.0).cancellations(snap) == []
    spent = _full_floor(dialing=(16.0,) * 4, predictive_allowed=False)
    assert Pacer(Mode.PREDICTIVE, min_ring=15.0).cancellations(spent) == []
    # Every seat paused or logged out: any answer would be abandoned.
    assert Pacer(Mode.PREDICTIVE, min_ring=15.0).cancellations(snapshot(dialing=(16.0, 9.0))) == [0]


def test_a_cancelled_dial_teaches_what_its_ringing_age_says() -> None:
    pacer = Pacer(Mode.PREDICTIVE, priors=PacerPriors(answer_rate=0.25))
    before = pacer.dials.answer.value
    q = pacer.dials.live_probability(16.0)
    pacer.observe_cancelled(16.0)
    # One dial counted as live with the chance one ringing that long still had: below the
    # prior (a dial that rang 16 s is mostly a no-answer), not the 0 a failure would give.
    assert 0.0 < q < before
    weight = pacer.dials.answer.weight
    assert pacer.dials.answer.value == pytest.approx((before * (weight - 1.0) + q) / weight, rel=1e-3)
    # The times it adds lie beyond 16 s.
    tail_before = 1.0 - Pacer().dials.to_failure.cdf(16.0)
    assert 1.0 - pacer.dials.to_failure.cdf(16.0) > tail_before


def test_small_campaigns_step_theta_faster() -> None:
    controller = AbandonController(ControllerConfig(gain=0.08, small_campaign=25, max_gain=0.25))
    assert controller.gain(50) == controller.gain(25) == 0.08
    assert controller.gain(10) == pytest.approx(0.2)
    assert controller.gain(2) == 0.25
    assert controller.gain(0) == 0.08  # unknown size
    controller.observe(False, 0.03, seats=10)
    assert controller.theta == pytest.approx(0.02 * math.exp(0.2 * 0.85 * 0.03))


def test_new_dials_count_on_cancelling_only_while_the_budget_has_room() -> None:
    def decide(min_ring: float | None, slack: float) -> int:
        pacer = Pacer(Mode.PREDICTIVE, priors=PacerPriors(answer_rate=0.25, wrap_up=15.0), min_ring=min_ring)
        for _ in range(300):
            pacer.observe_wrap(15.0)
        # Seats leave wrap-up over the next 14 s: answers landing late can be cancelled if the
        # seats are gone by then, so a cancelling pacer dials more.
        return pacer.decide(snapshot(wrapping=tuple(float(w) for w in range(1, 15)),
                                     talking=(5.0,) * 10, abandon_slack=slack))

    assert decide(15.0, math.inf) > decide(None, math.inf)
    assert decide(15.0, 2.0) == decide(None, 2.0)


def test_decide_after_the_cancellation_check_prices_the_same_floor() -> None:
    def pacer() -> Pacer:
        return Pacer(Mode.PREDICTIVE, priors=PacerPriors(answer_rate=0.3, wrap_up=15.0), min_ring=15.0)

    snap = snapshot(ready=3, wrapping=(14.0, 3.0), talking=(40.0,) * 6, dialing=(16.0, 2.0, 1.0),
                    abandon_slack=math.inf)
    checked, fresh = pacer(), pacer()
    assert checked.cancellations(snap) == []
    assert checked.decide(snap) == fresh.decide(snap) > 0
    # An observation in between moves the estimators: the check's shortfall is not reused.
    checked.cancellations(snap)
    checked.observe_talk(5.0)
    fresh.observe_talk(5.0)
    assert checked.decide(snap) == fresh.decide(snap)


def test_a_new_wrap_up_is_known_at_the_next_decision() -> None:
    pacer = Pacer(Mode.PREDICTIVE, priors=PacerPriors(answer_rate=0.25, wrap_up=15.0))
    for _ in range(200):
        pacer.observe_wrap(15.0)
    floor = snapshot(wrapping=(12.0,) * 8, talking=(5.0,) * 2, abandon_slack=math.inf)
    before = pacer.decide(floor)
    assert before >= 8  # eight seats free in 3 s
    pacer.set_wrap_up(60.0)  # the campaign's wrap-up is now a minute: they are free in 48 s
    assert pacer.seats.wrap_free_within(12.0, 40.0) == 0.0
    assert pacer.seats.wrap_free_within(12.0, 48.25) == pytest.approx(1.0)
    assert pacer.decide(floor) == 0  # an answer 4-20 s out would find no seat
