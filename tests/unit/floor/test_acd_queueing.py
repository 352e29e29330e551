"""Callers in queues: service order, seats in several queues, abandons, overflow, announcements."""

from __future__ import annotations

from floor.acd import Acd
from floor.events import CancelOffer, OfferCall, QueueEvent, QueueEventKind
from floor.model import OverflowTarget, QueueConfig
from floor.states import CallerState, PresenceAction
from tests.unit.floor.kit import announces, cancels, events, make_acd, of, offers, overflows, seat

READY, PAUSE, LOGOUT = PresenceAction.READY, PresenceAction.PAUSE, PresenceAction.LOGOUT


def serve(acd: Acd, seat_id: str, now: float) -> str:
    """Answer the call ringing at ``seat_id`` and end it at once; returns the call."""
    call = acd.snapshot().seats[seat_id].offer
    assert call is not None
    acd.offer_accepted(call, seat_id, now)
    acd.call_ended(call, seat_id, now)
    return call


def test_priority_first_then_fifo_within_a_queue() -> None:
    acd = make_acd([QueueConfig("q", wrap_up=0)], [seat("s1", "q")], ready=[])
    acd.caller_joined("c1", "q", 1.0)
    acd.caller_joined("c2", "q", 2.0)
    acd.caller_joined("c3", "q", 3.0, priority=5)
    acd.caller_joined("c4", "q", 4.0, priority=5)
    acd.caller_joined("c5", "q", 5.0, priority=-1)
    view = acd.snapshot(10.0).queues["q"]
    assert [(c.call, c.position, c.wait_s) for c in view.callers] == [
        ("c3", 1, 7.0), ("c4", 2, 6.0), ("c1", 3, 9.0), ("c2", 4, 8.0), ("c5", 5, 5.0)]
    assert view.longest_wait_s == 9.0
    acd.seat_reachable("s1", True, 10.0)
    assert offers(acd.set_presence("s1", READY, 10.0)) == [("c3", "s1")]
    assert [serve(acd, "s1", 11.0 + i) for i in range(5)] == ["c3", "c4", "c1", "c2", "c5"]


def test_a_seat_in_several_queues_gets_the_first_caller_of_its_queues_priority_first() -> None:
    queues = [QueueConfig("a", wrap_up=0), QueueConfig("b", wrap_up=0), QueueConfig("c", wrap_up=0)]
    acd = make_acd(queues, [seat("s1", "a", "b"), seat("s2", "c")], ready=["s2"])
    acd.caller_joined("b1", "b", 1.0)
    acd.caller_joined("a1", "a", 2.0)
    acd.caller_joined("c1", "c", 0.5)                    # offered to s2 at once: not for s1
    acd.caller_joined("a2", "a", 3.0, priority=1)
    acd.caller_joined("b2", "b", 4.0)
    acd.seat_reachable("s1", True, 5.0)
    assert offers(acd.set_presence("s1", READY, 5.0)) == [("a2", "s1")]
    assert [serve(acd, "s1", 6.0 + i) for i in range(4)] == ["a2", "b1", "a1", "b2"]


def test_caller_who_hangs_up_while_waiting_is_abandoned_with_its_wait() -> None:
    acd = make_acd([QueueConfig("q", service_level_threshold=20)], [seat("s1", "q")], ready=[])
    acd.caller_joined("c1", "q", 10.0)
    acd.caller_joined("c2", "q", 10.0)
    out = acd.caller_left("c1", 42.5)
    assert out == [QueueEvent(QueueEventKind.ABANDONED, "c1", "q", None, 32.5, 42.5,
                              {"within_threshold": "false", "attempts": "0"})]
    assert of(acd.caller_left("c2", 15.0), QueueEvent)[0].data["within_threshold"] == "true"
    stats = acd.snapshot().queues["q"].stats
    assert (stats.offered, stats.abandoned, stats.abandoned_within, stats.abandon_wait_total) == (2, 2, 1, 37.5)
    assert acd.caller_left("c1", 50.0) == []             # already gone: a value, not an error
    assert acd.get_timer() is None                        # its announcement timer went with it


def test_caller_who_hangs_up_while_ringing_is_abandoned_and_the_seat_freed() -> None:
    acd = make_acd([QueueConfig("q")], [seat("s1", "q")])
    acd.caller_joined("c1", "q", 1.0)
    out = acd.caller_left("c1", 4.0)
    assert cancels(out) == [("c1", "s1", "caller-left")]
    assert events(out) == [("abandoned", "c1", "q", None)]
    assert of(out, QueueEvent)[0].data == {"within_threshold": "true", "attempts": "1"}
    assert acd.snapshot().seats["s1"].available


def test_max_wait_overflows_to_voicemail() -> None:
    q = QueueConfig("q", max_wait=60, overflow=OverflowTarget.parse("voicemail:support"),
                    announce_every=None)
    acd = make_acd([q], [seat("s1", "q")], ready=[])
    acd.caller_joined("c1", "q", 5.0)
    assert acd.get_timer() == 65.0
    out = acd.handle_timer(65.0)
    assert overflows(out) == [("c1", "q", "voicemail:support", "max-wait")]
    assert of(out, QueueEvent)[0].data == {"target": "voicemail:support", "reason": "max-wait"}
    assert of(out, QueueEvent)[0].wait_s == 60.0
    view = acd.snapshot().queues["q"]
    assert view.callers == () and view.stats.overflowed == 1
    assert acd.caller_left("c1", 70.0) == []             # the flow/voicemail owns the call now


def test_max_wait_while_ringing_cancels_the_offer() -> None:
    q = QueueConfig("q", max_wait=10, ring_timeout=30, overflow=OverflowTarget.parse("flow:sorry"))
    acd = make_acd([q], [seat("s1", "q")])
    acd.caller_joined("c1", "q", 0.0)
    out = acd.handle_timer(10.0)
    assert cancels(out) == [("c1", "s1", "overflow")]
    assert overflows(out) == [("c1", "q", "flow:sorry", "max-wait")]
    assert acd.get_timer() is None                        # the ring timer went too
    assert acd.offer_accepted("c1", "s1", 11.0) == [CancelOffer("c1", "s1", "stale")]


def test_overflow_into_a_queue_keeps_first_join_order_but_counts_wait_from_the_overflow() -> None:
    first = QueueConfig("first", max_wait=30, overflow=OverflowTarget.parse("queue:second"),
                        announce_every=None)
    second = QueueConfig("second", announce_every=None)
    acd = make_acd([first, second], [seat("s1", "second", skills={"vip": 1})], ready=[])
    acd.caller_joined("x", "first", 0.0, priority=2, skills={"vip": 1}, info={"cli": "+4930"})
    acd.caller_joined("y", "second", 10.0, priority=2)
    out = acd.handle_timer(30.0)
    assert overflows(out) == [("x", "first", "queue:second", "max-wait")]
    assert events(out) == [("overflowed", "x", "first", None), ("joined", "x", "second", None)]
    assert of(out, QueueEvent)[1].data == {"priority": "2", "from": "first"}
    view = acd.snapshot(35.0).queues["second"]
    assert [(c.call, c.position, c.wait_s) for c in view.callers] == [("x", 1, 5.0), ("y", 2, 25.0)]
    acd.seat_reachable("s1", True, 40.0)
    out = acd.set_presence("s1", READY, 40.0)
    assert offers(out) == [("x", "s1")]                  # ahead of y, who joined second earlier
    assert of(out, OfferCall)[0].info == {"cli": "+4930"}
    answered = of(acd.offer_accepted("x", "s1", 41.0), QueueEvent)[0]
    assert (answered.queue, answered.wait_s, answered.data["within_threshold"]) == ("second", 11.0, "true")
    stats = acd.snapshot().queues
    assert (stats["first"].stats.offered, stats["first"].stats.overflowed) == (1, 1)
    assert (stats["second"].stats.offered, stats["second"].stats.answered_within) == (2, 1)


def test_an_overflowed_caller_keeps_its_required_skills() -> None:
    first = QueueConfig("first", max_wait=30, overflow=OverflowTarget.parse("queue:second"))
    acd = make_acd([first, QueueConfig("second")], [seat("s1", "second")], ready=[])
    acd.caller_joined("x", "first", 0.0, skills={"vip": 1})
    acd.caller_joined("y", "second", 10.0)
    acd.handle_timer(30.0)
    acd.seat_reachable("s1", True, 40.0)
    assert offers(acd.set_presence("s1", READY, 40.0)) == [("y", "s1")]   # s1 lacks vip


def test_a_caller_never_overflows_back_into_a_queue_it_left() -> None:
    a = QueueConfig("a", max_wait=30, overflow=OverflowTarget.parse("queue:b"), announce_every=None)
    b = QueueConfig("b", max_wait=30, overflow=OverflowTarget.parse("queue:a"), announce_every=None)
    acd = make_acd([a, b], [], ready=[])
    acd.caller_joined("x", "a", 0.0)
    assert overflows(acd.handle_timer(30.0)) == [("x", "a", "queue:b", "max-wait")]
    assert acd.handle_timer(60.0) == []                   # a was visited: x stays waiting in b
    assert [c.state for c in acd.snapshot().queues["b"].callers] == [CallerState.WAITING]
    assert acd.get_timer() is None


def test_no_logged_in_seat_overflows_at_once_when_configured() -> None:
    q = QueueConfig("q", overflow_when_no_seats=True, overflow=OverflowTarget.parse("voicemail:q"))
    acd = make_acd([q], [seat("s1", "q"), seat("s2", "q")], ready=[])
    out = acd.caller_joined("c1", "q", 1.0)
    assert events(out) == [("joined", "c1", "q", None), ("overflowed", "c1", "q", None)]
    assert overflows(out) == [("c1", "q", "voicemail:q", "no-seats")]
    acd.seat_reachable("s1", True, 2.0)
    acd.set_presence("s1", PAUSE, 2.0, reason="lunch")   # logged in (paused) counts as staffed
    assert overflows(acd.caller_joined("c2", "q", 3.0)) == []
    assert overflows(acd.set_presence("s1", LOGOUT, 9.0)) == [("c2", "q", "voicemail:q", "no-seats")]


def test_overflow_chain_when_no_seats_stops_at_a_visited_queue() -> None:
    vm = OverflowTarget.parse("queue:b")
    a = QueueConfig("a", overflow_when_no_seats=True, overflow=vm)
    b = QueueConfig("b", overflow_when_no_seats=True, overflow=OverflowTarget.parse("queue:a"))
    acd = make_acd([a, b], [seat("s1", "a")], ready=[])
    out = acd.caller_joined("x", "a", 0.0)
    assert overflows(out) == [("x", "a", "queue:b", "no-seats")]
    assert [c.call for c in acd.snapshot().queues["b"].callers] == ["x"]


def test_announcements_give_position_and_expected_wait() -> None:
    q = QueueConfig("q", announce_every=30, wrap_up=0, default_handle_time=180)
    acd = make_acd([q], [seat("s1", "q"), seat("s2", "q")])
    for call in ("a", "b"):
        acd.caller_joined(call, "q", 1.0)
        acd.offer_accepted(call, acd.snapshot().queues["q"].callers[0].seats[0], 2.0)
    acd.caller_joined("c", "q", 5.0)
    acd.caller_joined("d", "q", 6.0)
    assert acd.get_timer() == 35.0                        # a's and b's announcements ended with the answer
    # two seats working the queue, none free, AHT 180 s (the default): position x 180 / 2
    assert announces(acd.handle_timer(35.0)) == [("c", 1, 90)]
    assert announces(acd.handle_timer(36.0)) == [("d", 2, 180)]
    acd.call_ended("a", "s1", 40.0)                       # 38 s of talk seeds the estimate
    acd.offer_accepted("c", "s1", 41.0)
    assert announces(acd.handle_timer(66.0)) == [("d", 1, 19)]


def test_no_announcement_while_ringing_and_no_estimate_without_working_seats() -> None:
    q = QueueConfig("q", announce_every=10, ring_timeout=15, rna_pause=True)
    acd = make_acd([q], [seat("s1", "q")])
    acd.caller_joined("c", "q", 0.0)                      # rings s1 until 15
    assert announces(acd.handle_timer(10.0)) == []        # ringing: no announcement
    out = acd.handle_timer(15.0)                          # no answer: s1 paused (rna)
    assert cancels(out) == [("c", "s1", "rna")]
    assert announces(acd.handle_timer(20.0)) == [("c", 1, None)]
