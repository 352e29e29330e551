"""What the ACD reports: seat state intervals for work hours, queue events, snapshots, inputs as
events, and configuration / API errors."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pytest

from floor.acd import Acd
from floor.errors import ConfigError, DuplicateCall, UnknownQueue, UnknownSeat
from floor.events import (
    AcdCommand,
    AcdInput,
    CallEnded,
    CallerJoined,
    CallerLeft,
    MembershipSet,
    OfferAccepted,
    OfferFailed,
    PresenceRequested,
    QueueEvent,
    SeatBusyElsewhere,
    SeatLent,
    SeatMembershipChanged,
    SeatReachable,
    SeatStateChanged,
)
from floor.model import OverflowTarget, QueueConfig, SeatConfig, Tier
from floor.states import CallerState, Presence, PresenceAction, SeatCallState
from tests.unit.floor.kit import events, make_acd, of, offers, seat

READY, PAUSE, LOGOUT = PresenceAction.READY, PresenceAction.PAUSE, PresenceAction.LOGOUT


def test_seat_state_changes_chain_into_work_hour_intervals() -> None:
    acd = Acd([QueueConfig("q", wrap_up=10, announce_every=None)], [seat("s1", "q")], now=0.0)
    log: list[SeatStateChanged] = []
    log += of(acd.seat_reachable("s1", True, 0.0), SeatStateChanged)       # nothing: still logged out
    log += of(acd.set_presence("s1", READY, 100.0), SeatStateChanged)
    log += of(acd.caller_joined("c1", "q", 110.0), SeatStateChanged)
    log += of(acd.offer_accepted("c1", "s1", 112.0), SeatStateChanged)
    log += of(acd.call_ended("c1", "s1", 200.0), SeatStateChanged)
    log += of(acd.handle_timer(210.0), SeatStateChanged)
    log += of(acd.set_presence("s1", PAUSE, 300.0, reason="lunch", by="api"), SeatStateChanged)
    log += of(acd.set_presence("s1", LOGOUT, 360.0), SeatStateChanged)
    assert [(c.previous_presence.value, c.previous_call_state.value, c.since, c.at, c.by) for c in log] == [
        ("logged-out", "idle", 0.0, 100.0, "seat"),
        ("ready", "idle", 100.0, 110.0, "acd"),
        ("ready", "ringing", 110.0, 112.0, "seat"),
        ("ready", "on-call", 112.0, 200.0, "acd"),
        ("wrap-up", "idle", 200.0, 210.0, "acd"),
        ("ready", "idle", 210.0, 300.0, "api"),
        ("paused", "idle", 300.0, 360.0, "seat"),
    ]
    assert log[5].reason == "lunch" and log[6].previous_reason == "lunch"
    hours: dict[str, float] = defaultdict(float)
    for change in log:                                 # each change closes [since, at) of the previous state
        hours[change.previous_presence.value] += change.at - change.since
        if change.previous_call_state is SeatCallState.ON_CALL:
            hours["talk"] += change.at - change.since
    assert dict(hours) == {"logged-out": 100.0, "ready": 190.0, "wrap-up": 10.0, "paused": 60.0,
                           "talk": 88.0}
    view = acd.snapshot(400.0).seats["s1"]
    assert (view.presence, view.since, view.time_in_state_s) == (Presence.LOGGED_OUT, 360.0, 40.0)


def test_a_seat_offered_another_call_at_once_reports_the_change_of_call() -> None:
    acd = make_acd([QueueConfig("q", retry_after=30)], [seat("s1", "q")])
    acd.caller_joined("c1", "q", 1.0)
    acd.caller_joined("c2", "q", 2.0)
    out = acd.offer_failed("c1", "s1", 3.0, reason="declined")   # c2 rings s1 at once
    assert offers(out) == [("c2", "s1")]
    (change,) = of(out, SeatStateChanged)
    assert (change.call_state, change.call, change.previous_call_state, change.previous_call, change.since) == (
        SeatCallState.RINGING, "c2", SeatCallState.RINGING, "c1", 1.0)


def test_one_call_leaves_a_full_trail_of_queue_events() -> None:
    acd = make_acd([QueueConfig("q", ring_timeout=10, announce_every=None)], [seat("s1", "q"), seat("s2", "q")])
    trail = acd.caller_joined("c1", "q", 1.0, priority=3)
    trail += acd.handle_timer(11.0)
    trail += acd.offer_accepted("c1", "s2", 14.0)
    trail += acd.call_ended("c1", "s2", 74.0)
    got = [(e.kind.value, e.seat, e.wait_s, e.at, dict(e.data)) for e in of(trail, QueueEvent)]
    assert got == [
        ("joined", None, 0.0, 1.0, {"priority": "3"}),
        ("offered", "s1", 0.0, 1.0, {"attempt": "1"}),
        ("rna", "s1", 10.0, 11.0, {"attempt": "1", "ring_s": "10"}),
        ("offered", "s2", 10.0, 11.0, {"attempt": "2"}),
        ("answered", "s2", 13.0, 14.0, {"within_threshold": "true", "attempt": "2"}),
        ("ended", "s2", 13.0, 74.0, {"talk_s": "60.000", "wrap_up_s": "10"}),
    ]


def test_snapshot_of_queues_and_seats() -> None:
    seats = [SeatConfig("s1", team="north", tier=Tier.VIP, queues=("q",)), seat("s2", "q"), seat("s3", "q")]
    acd = make_acd([QueueConfig("q")], seats, ready=["s1", "s2"])
    acd.caller_joined("c1", "q", 1.0)
    acd.caller_joined("c2", "q", 2.0)
    acd.offer_accepted("c1", "s1", 3.0)
    acd.caller_joined("c3", "q", 4.0)
    snap = acd.snapshot(10.0)
    assert snap.at == 10.0
    q = snap.queues["q"]
    assert [(c.call, c.state, c.position, c.wait_s, c.seats) for c in q.callers] == [
        ("c2", CallerState.OFFERED, 1, 8.0, ("s2",)), ("c3", CallerState.WAITING, 2, 6.0, ())]
    assert (q.staffed, q.available, q.stats.offered, q.stats.answered) == (2, 0, 3, 1)
    s1, s3 = snap.seats["s1"], snap.seats["s3"]
    assert (s1.team, s1.tier, s1.call_state, s1.call, s1.stats.calls) == ("north", Tier.VIP, SeatCallState.ON_CALL, "c1", 1)
    assert (snap.seats["s2"].offer, s3.presence, s3.reachable) == ("c2", Presence.LOGGED_OUT, False)
    acd.call_ended("c1", "s1", 20.0)
    assert snap.seats["s1"].stats.calls == 1 and snap.queues["q"].stats.ended == 0  # copies


STEPS: list[tuple[AcdInput, float, Callable[[Acd, float], list[AcdCommand]]]] = [
    (SeatReachable("s1", True), 0.0, lambda a, t: a.seat_reachable("s1", True, t)),
    (PresenceRequested("s1", READY), 0.0, lambda a, t: a.set_presence("s1", READY, t)),
    (SeatReachable("s2", True), 0.0, lambda a, t: a.seat_reachable("s2", True, t)),
    (PresenceRequested("s2", PAUSE, "break", "api"), 0.0,
     lambda a, t: a.set_presence("s2", PAUSE, t, reason="break", by="api")),
    (CallerJoined("c1", "q", 1, {"vip": 0}, {"cli": "1"}), 1.0,
     lambda a, t: a.caller_joined("c1", "q", t, priority=1, skills={"vip": 0}, info={"cli": "1"})),
    (OfferFailed("c1", "s1", "busy"), 2.0, lambda a, t: a.offer_failed("c1", "s1", t, reason="busy")),
    (PresenceRequested("s2", READY), 3.0, lambda a, t: a.set_presence("s2", READY, t)),
    (OfferAccepted("c1", "s2"), 4.0, lambda a, t: a.offer_accepted("c1", "s2", t)),
    (CallerJoined("c2", "q"), 5.0, lambda a, t: a.caller_joined("c2", "q", t)),
    (CallerLeft("c2"), 6.0, lambda a, t: a.caller_left("c2", t)),
    (CallEnded("c1", "s2"), 7.0, lambda a, t: a.call_ended("c1", "s2", t)),
    (SeatBusyElsewhere("s1", True), 8.0, lambda a, t: a.seat_busy_elsewhere("s1", True, t)),
    (SeatLent("s2", "camp"), 9.0, lambda a, t: a.lend("s2", "camp", t)),
    (MembershipSet("s1", ()), 10.0, lambda a, t: a.set_membership("s1", (), t)),
]


def test_inputs_as_events_match_the_methods() -> None:
    def build() -> Acd:
        return Acd([QueueConfig("q", wrap_up=0)], [seat("s1", "q"), seat("s2", "q")], now=0.0)

    by_event, by_method = build(), build()
    out_events = [c for event, now, _ in STEPS for c in by_event.handle(event, now)]
    out_methods = [c for _, now, call in STEPS for c in call(by_method, now)]
    assert out_events == out_methods
    assert events(out_events)[:3] == [("joined", "c1", "q", None), ("offered", "c1", "q", "s1"),
                                      ("failed", "c1", "q", "s1")]
    assert of(out_events, SeatMembershipChanged) == [SeatMembershipChanged("s1", (), 10.0, "watcher")]


def test_membership_change_offers_a_waiting_call_at_once() -> None:
    acd = make_acd([QueueConfig("a"), QueueConfig("b")], [seat("s1", "a")])
    acd.caller_joined("c1", "b", 1.0)
    out = acd.set_membership("s1", ["a", "b"], 2.0, by="api")
    assert out[0] == SeatMembershipChanged("s1", ("a", "b"), 2.0, "api")
    assert offers(out) == [("c1", "s1")]
    assert acd.set_membership("s1", {"b", "a"}, 3.0) == []


def test_configuration_and_api_errors() -> None:
    with pytest.raises(ConfigError, match="queue q is configured twice"):
        Acd([QueueConfig("q"), QueueConfig("q")], [], now=0.0)
    with pytest.raises(ConfigError, match="seat s1 is configured twice"):
        Acd([QueueConfig("q")], [seat("s1"), seat("s1")], now=0.0)
    with pytest.raises(ConfigError, match=r"seat s1: unknown queues \['x'\]"):
        Acd([QueueConfig("q")], [seat("s1", "q", "x")], now=0.0)
    with pytest.raises(ConfigError, match="overflow queue nowhere does not exist"):
        Acd([QueueConfig("q", max_wait=5, overflow=OverflowTarget.parse("queue:nowhere"))], [], now=0.0)
    acd = make_acd([QueueConfig("q")], [seat("s1", "q")])
    with pytest.raises(UnknownSeat):
        acd.set_presence("s9", READY, 1.0)
    with pytest.raises(UnknownQueue):
        acd.caller_joined("c1", "nope", 1.0)
    with pytest.raises(UnknownQueue):
        acd.set_membership("s1", ["nope"], 1.0)
    acd.caller_joined("c1", "q", 1.0)
    with pytest.raises(DuplicateCall):
        acd.caller_joined("c1", "q", 2.0)
