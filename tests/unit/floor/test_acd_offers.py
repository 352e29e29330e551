"""Offers to seats: ring-no-answer, refusals, ring-all, wrap-up, withdrawn offers, stale inputs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from floor.acd import Acd
from floor.events import AcdCommand, CancelOffer, OfferCall, QueueEvent, SeatAvailabilityChanged
from floor.model import QueueConfig, Strategy
from floor.states import Presence, PresenceAction, SeatCallState
from tests.unit.floor.kit import cancels, events, make_acd, of, offers, seat, states

READY, PAUSE, LOGOUT = PresenceAction.READY, PresenceAction.PAUSE, PresenceAction.LOGOUT


def test_one_seat_is_never_offered_two_calls() -> None:
    acd = make_acd([QueueConfig("q", wrap_up=0)], [seat("s1", "q")])
    assert offers(acd.caller_joined("c1", "q", 1.0)) == [("c1", "s1")]
    assert offers(acd.caller_joined("c2", "q", 2.0)) == []
    assert offers(acd.offer_accepted("c1", "s1", 3.0)) == []       # on a call: still not offered
    assert offers(acd.call_ended("c1", "s1", 9.0)) == [("c2", "s1")]


def test_ring_no_answer_pauses_the_seat_and_offers_the_next() -> None:
    q = QueueConfig("q", ring_timeout=15)
    acd = make_acd([q], [seat("s1", "q"), seat("s2", "q")])
    out = acd.caller_joined("c1", "q", 0.0)
    assert out[1] == OfferCall("c1", "s1", "q", 1, 15.0)
    assert acd.get_timer() == 15.0
    out = acd.handle_timer(15.0)
    assert cancels(out) == [("c1", "s1", "rna")]
    assert events(out) == [("rna", "c1", "q", "s1"), ("offered", "c1", "q", "s2")]
    assert of(out, OfferCall) == [OfferCall("c1", "s2", "q", 2, 15.0)]
    assert states(out) == [("s1", "paused", "idle", "rna"), ("s2", "ready", "ringing", None)]
    s1 = acd.snapshot().seats["s1"]
    assert (s1.presence, s1.reason, s1.stats.offers, s1.stats.no_answers) == (Presence.PAUSED, "rna", 1, 1)


def test_ring_no_answer_without_pause_keeps_the_seat_ready_but_skips_it_for_that_call() -> None:
    q = QueueConfig("q", ring_timeout=15, rna_pause=False, retry_after=30, announce_every=None)
    acd = make_acd([q], [seat("s1", "q")])
    acd.caller_joined("c1", "q", 0.0)
    out = acd.handle_timer(15.0)
    assert cancels(out) == [("c1", "s1", "rna")] and offers(out) == [] and states(out) == [
        ("s1", "ready", "idle", None)]
    assert offers(acd.caller_joined("c2", "q", 16.0)) == [("c2", "s1")]   # another call: yes
    acd.caller_left("c2", 17.0)
    assert acd.get_timer() == 45.0                                       # c1 may ring s1 again then
    assert offers(acd.handle_timer(45.0)) == [("c1", "s1")]


def test_a_refused_offer_goes_to_the_next_seat_and_comes_back_after_retry_after() -> None:
    q = QueueConfig("q", retry_after=5)
    acd = make_acd([q], [seat("s1", "q"), seat("s2", "q")])
    acd.caller_joined("c1", "q", 0.0)
    out = acd.offer_failed("c1", "s1", 1.0, reason="busy")
    assert events(out) == [("failed", "c1", "q", "s1"), ("offered", "c1", "q", "s2")]
    assert of(out, QueueEvent)[0].data == {"reason": "busy"}
    assert cancels(out) == []                                 # the phone already said no
    out = acd.offer_failed("c1", "s2", 2.0, reason="declined")
    assert offers(out) == []
    assert acd.snapshot().queues["q"].callers[0].state.value == "waiting"
    assert acd.get_timer() == 6.0                            # s1's cool-down ends first
    assert of(acd.handle_timer(6.0), OfferCall) == [OfferCall("c1", "s1", "q", 3, 20.0)]


def test_ring_all_offers_every_eligible_seat_and_the_first_answer_wins() -> None:
    q = QueueConfig("q", strategy=Strategy.RING_ALL)
    acd = make_acd([q], [seat("s1", "q"), seat("s2", "q"), seat("s3", "q"), seat("s4", "q")])
    acd.set_presence("s3", PAUSE, 0.0)
    out = acd.caller_joined("c1", "q", 1.0)
    assert offers(out) == [("c1", "s1"), ("c1", "s2"), ("c1", "s4")]
    assert {o.attempt for o in of(out, OfferCall)} == {1}
    assert offers(acd.caller_joined("c2", "q", 1.5)) == []    # every free seat rings for c1
    out = acd.offer_failed("c1", "s4", 2.0, reason="busy")    # the others keep ringing
    assert events(out) == [("failed", "c1", "q", "s4"), ("offered", "c2", "q", "s4")]
    out = acd.offer_accepted("c1", "s2", 3.0)
    assert cancels(out) == [("c1", "s1", "answered-elsewhere")]
    assert events(out) == [("answered", "c1", "q", "s2")]
    assert offers(out) == []                                  # s1 is free, but c2 is ringing s4
    assert acd.offer_accepted("c1", "s1", 3.1) == [CancelOffer("c1", "s1", "stale")]  # too late
    assert acd.offer_accepted("c1", "s2", 3.2) == []          # the same answer reported twice


def test_wrap_up_per_queue_then_ready_automatically() -> None:
    queues = [QueueConfig("short", wrap_up=5, announce_every=None),
              QueueConfig("long", wrap_up=30, announce_every=None)]
    acd = make_acd(queues, [seat("s1", "short", "long")])
    acd.caller_joined("c1", "long", 0.0)
    acd.offer_accepted("c1", "s1", 1.0)
    acd.caller_joined("c2", "short", 2.0)
    out = acd.call_ended("c1", "s1", 60.0)
    assert states(out) == [("s1", "wrap-up", "idle", None)] and offers(out) == []
    assert events(out) == [("ended", "c1", "long", "s1")]
    assert of(out, QueueEvent)[0].data == {"talk_s": "59.000", "wrap_up_s": "30"}
    assert acd.get_timer() == 90.0
    out = acd.handle_timer(90.0)
    assert states(out) == [("s1", "ready", "ringing", None)] and offers(out) == [("c2", "s1")]
    acd.offer_accepted("c2", "s1", 91.0)
    acd.call_ended("c2", "s1", 100.0)
    assert acd.get_timer() == 105.0                            # the short queue's wrap-up


def test_ready_ends_wrap_up_early_and_pause_during_a_call_skips_it() -> None:
    acd = make_acd([QueueConfig("q", wrap_up=30, announce_every=None)], [seat("s1", "q")])
    acd.caller_joined("c1", "q", 0.0)
    acd.offer_accepted("c1", "s1", 1.0)
    acd.call_ended("c1", "s1", 10.0)
    assert states(acd.set_presence("s1", READY, 12.0)) == [("s1", "ready", "idle", None)]
    assert acd.get_timer() is None                             # the wrap-up timer is gone
    acd.caller_joined("c2", "q", 20.0)
    acd.offer_accepted("c2", "s1", 21.0)
    assert states(acd.set_presence("s1", PAUSE, 22.0, reason="lunch")) == [
        ("s1", "paused", "on-call", "lunch")]
    assert states(acd.call_ended("c2", "s1", 50.0)) == [("s1", "paused", "idle", "lunch")]
    assert acd.get_timer() is None


CONDITIONS: dict[str, Callable[[Acd], list[AcdCommand]]] = {
    "paused": lambda acd: acd.set_presence("s1", PAUSE, 1.0, reason="break"),
    "logged-out": lambda acd: acd.set_presence("s1", LOGOUT, 1.0),
    "unreachable": lambda acd: acd.seat_reachable("s1", False, 1.0),
    "busy-elsewhere": lambda acd: acd.seat_busy_elsewhere("s1", True, 1.0),
    "lent": lambda acd: acd.lend("s1", "winback", 1.0),
    "not-a-member": lambda acd: acd.set_membership("s1", [], 1.0),
}
UNDO: dict[str, Callable[[Acd], list[AcdCommand]]] = {
    "paused": lambda acd: acd.set_presence("s1", READY, 9.0),
    "logged-out": lambda acd: acd.set_presence("s1", READY, 9.0),
    "unreachable": lambda acd: acd.seat_reachable("s1", True, 9.0),
    "busy-elsewhere": lambda acd: acd.seat_busy_elsewhere("s1", False, 9.0),
    "lent": lambda acd: acd.lend("s1", None, 9.0),
    "not-a-member": lambda acd: acd.set_membership("s1", ["q"], 9.0),
}


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
def test_a_seat_that_cannot_take_calls_is_never_offered(condition: str) -> None:
    acd = make_acd([QueueConfig("q")], [seat("s1", "q")])
    CONDITIONS[condition](acd)
    assert offers(acd.caller_joined("c1", "q", 2.0)) == []
    assert offers(acd.handle_timer(60.0)) == []
    assert offers(UNDO[condition](acd)) == [("c1", "s1")]


def test_a_seat_in_wrap_up_is_never_offered() -> None:
    acd = make_acd([QueueConfig("q", wrap_up=20)], [seat("s1", "q")])
    acd.caller_joined("c1", "q", 0.0)
    acd.offer_accepted("c1", "s1", 1.0)
    acd.call_ended("c1", "s1", 5.0)
    assert offers(acd.caller_joined("c2", "q", 6.0)) == []
    assert offers(acd.handle_timer(25.0)) == [("c2", "s1")]


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
def test_a_ringing_seat_that_can_no_longer_take_the_call_loses_it_to_the_next(condition: str) -> None:
    acd = make_acd([QueueConfig("q")], [seat("s1", "q"), seat("s2", "q")])
    acd.caller_joined("c1", "q", 0.0)
    out = CONDITIONS[condition](acd)
    assert cancels(out) == [("c1", "s1", "withdrawn")]
    assert events(out) == [("failed", "c1", "q", "s1"), ("offered", "c1", "q", "s2")]
    reason = {"paused": "pause", "logged-out": "logout", "not-a-member": "moved"}.get(condition, condition)
    assert of(out, QueueEvent)[0].data == {"reason": reason}
    assert acd.snapshot().seats["s1"].call_state is SeatCallState.IDLE


def test_lent_seat_keeps_its_presence() -> None:
    acd = make_acd([QueueConfig("q")], [seat("s1", "q")])
    out = acd.lend("s1", "winback", 1.0)
    assert out == [SeatAvailabilityChanged("s1", True, False, "winback", 1.0)]
    view = acd.snapshot().seats["s1"]
    assert (view.presence, view.lent_to, view.available) == (Presence.READY, "winback", False)
    assert acd.lend("s1", "winback", 2.0) == []


def test_late_and_unknown_inputs_are_values_not_errors() -> None:
    acd = make_acd([QueueConfig("q", ring_timeout=10)], [seat("s1", "q"), seat("s2", "q")])
    acd.caller_joined("c1", "q", 0.0)
    acd.handle_timer(10.0)                                     # s1 rang out; now s2 rings
    assert acd.offer_accepted("c1", "s1", 10.1) == [CancelOffer("c1", "s1", "stale")]
    assert acd.offer_failed("c1", "s1", 10.2, reason="busy") == []
    assert acd.offer_accepted("nope", "s2", 11.0) == [CancelOffer("nope", "s2", "stale")]
    assert acd.call_ended("c1", "s2", 12.0) == []             # not answered
    acd.offer_accepted("c1", "s2", 13.0)
    assert acd.call_ended("c1", "s1", 14.0) == []             # wrong seat
    assert acd.caller_left("c1", 15.0) == []                  # answered calls end via call_ended
    assert acd.seat_reachable("s2", True, 16.0) == []         # no change
    assert acd.set_presence("s2", READY, 17.0) == []          # already ready: nothing to report
