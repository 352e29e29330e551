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
