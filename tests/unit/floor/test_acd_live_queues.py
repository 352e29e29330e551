"""Queues added and changed while the floor runs: Acd.add_queue and Acd.update_queue."""

from __future__ import annotations

import pytest

from floor.acd import Acd, QueueNotFound
from floor.errors import ConfigError, QueueInUse, UnknownQueue
from floor.events import OfferCall, QueueEvent, SeatMembershipChanged
from floor.events import QueueEventKind as K
from floor.model import OverflowTarget, QueueConfig, Strategy
from floor.states import PresenceAction
from floor.stats import QueueStats
from tests.unit.floor.kit import announces, events, make_acd, of, offers, overflows, seat

AFTER_HOURS = OverflowTarget.parse("flow:after-hours")


def waits(acd: Acd, queue: str, now: float) -> list[tuple[str, int, float]]:
    """(call, position, wait) of the callers in ``queue`` at ``now``."""
    return [(c.call, c.position, c.wait_s) for c in acd.snapshot(now).queues[queue].callers]


def test_a_queue_added_at_run_time_takes_callers_for_a_seat_that_joins_it() -> None:
    acd = make_acd([QueueConfig("sales", wrap_up=0)], [seat("s1", "sales")])
    with pytest.raises(UnknownQueue, match="no queue 'support'"):
        acd.caller_joined("c0", "support", 5.0)
    support = QueueConfig("support", ring_timeout=15, wrap_up=3, announce_every=None)
    assert acd.add_queue(support, 10.0) == []
    snap = acd.snapshot(10.0)
    assert list(snap.queues) == ["sales", "support"]
    view = snap.queues["support"]
    assert (view.callers, view.staffed, view.available, view.stats) == ((), 0, 0, QueueStats(20.0, 180.0))
    out = acd.caller_joined("c1", "support", 11.0)
    assert (events(out), offers(out)) == ([("joined", "c1", "support", None)], [])
    out = acd.set_membership("s1", ["sales", "support"], 12.0)
    assert of(out, SeatMembershipChanged) == [SeatMembershipChanged("s1", ("sales", "support"), 12.0, "watcher")]
    assert of(out, OfferCall) == [OfferCall("c1", "s1", "support", 1, 15.0, {})]
    assert events(out) == [("offered", "c1", "support", "s1")]
    assert acd.get_timer() == 27.0
    assert of(acd.offer_accepted("c1", "s1", 14.0), QueueEvent) == [
        QueueEvent(K.ANSWERED, "c1", "support", "s1", 3.0, 14.0, {"within_threshold": "true", "attempt": "1"})]
    acd.call_ended("c1", "s1", 20.0)
    assert acd.get_timer() == 23.0  # the new queue's wrap-up
    stats = acd.snapshot(20.0).queues["support"].stats
    assert (stats.offered, stats.answered, stats.ended, stats.handle_time_total) == (1, 1, 1, 9.0)
    assert acd.snapshot(20.0).queues["sales"].stats == QueueStats(20.0, 180.0)


def test_a_queue_added_at_run_time_can_be_an_overflow_target() -> None:
    acd = make_acd([QueueConfig("sales", announce_every=None)], [seat("s1", "sales"), seat("s2")],
                   ready=["s2"])
    acd.caller_joined("c1", "sales", 0.0)
    acd.add_queue(QueueConfig("backup", announce_every=None), 5.0)
    acd.set_membership("s2", ["backup"], 6.0)
    out = acd.update_queue(QueueConfig("sales", max_wait=30, overflow=OverflowTarget.parse("queue:backup"),
                                       announce_every=None), 40.0)
    assert out == [] and acd.get_timer() == 40.0  # c1 has waited 40 s > 30: due at once
    out = acd.handle_timer(40.0)
    assert overflows(out) == [("c1", "sales", "queue:backup", "max-wait")]
    assert offers(out) == [("c1", "s2")]


def test_duplicate_and_unknown_names_are_refused_and_nothing_changes() -> None:
    acd = make_acd([QueueConfig("sales")], [seat("s1", "sales")], ready=[])
    before = acd.snapshot(1.0)
    with pytest.raises(ValueError, match="queue sales already exists"):
        acd.add_queue(QueueConfig("sales", ring_timeout=5), 1.0)
    gold = OverflowTarget.parse("queue:gold")
    with pytest.raises(ConfigError, match="queue vip: overflow queue gold does not exist"):
        acd.add_queue(QueueConfig("vip", max_wait=30, overflow=gold), 1.0)
    with pytest.raises(KeyError, match="no queue 'support'") as info:
        acd.update_queue(QueueConfig("support"), 1.0)
    assert isinstance(info.value, UnknownQueue) and isinstance(info.value, QueueNotFound)
    assert str(info.value) == "no queue 'support'"
    with pytest.raises(ConfigError, match="queue sales: overflow queue gold does not exist"):
        acd.update_queue(QueueConfig("sales", max_wait=30, overflow=gold), 1.0)
    assert acd.snapshot(1.0) == before
    assert "vip" not in acd.snapshot(1.0).queues
    acd.seat_reachable("s1", True, 2.0)
    acd.set_presence("s1", PresenceAction.READY, 2.0)
    assert of(acd.caller_joined("c1", "sales", 3.0), OfferCall)[0].ring_timeout == 20.0


def test_a_new_ring_timeout_applies_to_the_next_ring_not_the_one_in_progress() -> None:
    q = QueueConfig("q", ring_timeout=20, wrap_up=0, announce_every=None)
    acd = make_acd([q], [seat("s1", "q"), seat("s2", "q")])
    assert offers(acd.caller_joined("c1", "q", 1.0)) == [("c1", "s1")]
    assert acd.update_queue(QueueConfig("q", ring_timeout=5, wrap_up=0, announce_every=None), 2.0) == []
    assert acd.get_timer() == 21.0
    out = acd.handle_timer(21.0)
    assert of(out, QueueEvent)[0] == QueueEvent(K.RNA, "c1", "q", "s1", 20.0, 21.0,
                                                {"attempt": "1", "ring_s": "20"})
    assert of(out, OfferCall) == [OfferCall("c1", "s2", "q", 2, 5.0, {})]
    assert acd.get_timer() == 26.0
    assert of(acd.handle_timer(26.0), QueueEvent)[0] == QueueEvent(
        K.RNA, "c1", "q", "s2", 25.0, 26.0, {"attempt": "2", "ring_s": "5"})
    assert waits(acd, "q", 26.0) == [("c1", 1, 25.0)]


def test_a_new_max_wait_rearms_waiting_callers_from_their_join_time() -> None:
    q = QueueConfig("q", max_wait=60, overflow=AFTER_HOURS, announce_every=None)
    acd = make_acd([q], [seat("s1", "q")], ready=[])
    acd.caller_joined("c1", "q", 0.0)
    acd.caller_joined("c2", "q", 50.0)
    assert acd.get_timer() == 60.0
    shorter = QueueConfig("q", max_wait=30, overflow=AFTER_HOURS, announce_every=None)
    assert acd.update_queue(shorter, 59.0) == []
    assert waits(acd, "q", 59.0) == [("c1", 1, 59.0), ("c2", 2, 9.0)]  # place and wait kept
    assert acd.get_timer() == 59.0  # c1's 30 s have passed: due now, not in the past
    out = acd.handle_timer(59.0)
    assert overflows(out) == [("c1", "q", "flow:after-hours", "max-wait")]
    assert acd.get_timer() == 80.0  # c2: joined at 50 + 30
    acd.caller_joined("c3", "q", 75.0)
    assert overflows(acd.handle_timer(80.0)) == [("c2", "q", "flow:after-hours", "max-wait")]
    assert acd.get_timer() == 105.0  # a new caller: its own 30 s
    acd.update_queue(QueueConfig("q", overflow=AFTER_HOURS, announce_every=None), 90.0)
    assert acd.get_timer() is None  # no max wait any more: no deadline left behind
    assert acd.handle_timer(200.0) == []
    acd.update_queue(QueueConfig("q", max_wait=150, overflow=AFTER_HOURS, announce_every=None), 200.0)
    assert acd.get_timer() == 225.0
    assert overflows(acd.handle_timer(225.0)) == [("c3", "q", "flow:after-hours", "max-wait")]
    stats = acd.snapshot(225.0).queues["q"].stats
    assert (stats.offered, stats.overflowed) == (3, 3)


def test_a_new_announcement_interval_takes_the_earlier_deadline_and_none_stops_them() -> None:
    acd = make_acd([QueueConfig("q", announce_every=30)], [seat("s1", "q")], ready=[])
    acd.caller_joined("c1", "q", 0.0)
    acd.update_queue(QueueConfig("q", announce_every=300), 1.0)
    assert acd.get_timer() == 30.0  # the pending one comes first
    assert announces(acd.handle_timer(30.0)) == [("c1", 1, None)]
    assert acd.get_timer() == 330.0
    acd.update_queue(QueueConfig("q", announce_every=5), 40.0)
    assert acd.get_timer() == 45.0
    acd.update_queue(QueueConfig("q", announce_every=None), 41.0)
    assert acd.get_timer() is None
    assert acd.handle_timer(400.0) == []


def test_new_skills_threshold_wrap_up_and_strategy_apply_to_the_next_decisions() -> None:
    q = QueueConfig("q", skills={"fr": 2}, wrap_up=10, announce_every=None, service_level_threshold=20,
                    default_handle_time=100)
    acd = make_acd([q], [seat("s1", "q", skills={"fr": 1}), seat("s2", "q")])
    assert offers(acd.caller_joined("c1", "q", 0.0)) == []  # nobody has fr=2
    new = QueueConfig("q", strategy=Strategy.RING_ALL, wrap_up=2, announce_every=None,
                      service_level_threshold=5, default_handle_time=60)
    out = acd.update_queue(new, 8.0)
    assert offers(out) == [("c1", "s1"), ("c1", "s2")]  # ring-all, no skill asked any more
    stats = acd.snapshot(8.0).queues["q"].stats
    assert (stats.threshold, stats.handle_time_estimate) == (5, 60)
    out = acd.offer_accepted("c1", "s2", 10.0)
    assert of(out, QueueEvent)[-1].data == {"within_threshold": "false", "attempt": "1"}
    acd.call_ended("c1", "s2", 30.0)
    assert acd.get_timer() == 32.0


def test_overflow_when_no_seats_switched_on_sends_stranded_callers_at_once() -> None:
    acd = make_acd([QueueConfig("q", announce_every=None)], [seat("s1", "q")], ready=[])
    acd.caller_joined("c1", "q", 0.0)
    out = acd.update_queue(QueueConfig("q", overflow=AFTER_HOURS, overflow_when_no_seats=True,
                                       announce_every=None), 3.0)
    assert overflows(out) == [("c1", "q", "flow:after-hours", "no-seats")]
    assert waits(acd, "q", 3.0) == []


def test_an_empty_queue_is_removed_and_its_seats_keep_their_other_queues() -> None:
    acd = make_acd([QueueConfig("sales", wrap_up=5, announce_every=None),
                    QueueConfig("campaign-spring", wrap_up=5, announce_every=None)],
                   [seat("s1", "sales", "campaign-spring"), seat("s2", "campaign-spring"), seat("s3", "sales")],
                   ready=["s1", "s2", "s3"])
    assert offers(acd.caller_joined("d1", "campaign-spring", 1.0)) == [("d1", "s1")]
    acd.offer_accepted("d1", "s1", 2.0)
    with pytest.raises(QueueInUse, match="queue campaign-spring has 1 call"):
        acd.remove_queue("campaign-spring", 3.0)
    acd.call_ended("d1", "s1", 10.0)  # s1 wraps up until 15.0; the call has left the queue
    out = acd.remove_queue("campaign-spring", 11.0, by="lead1")
    assert of(out, SeatMembershipChanged) == [SeatMembershipChanged("s1", ("sales",), 11.0, "lead1"),
                                              SeatMembershipChanged("s2", (), 11.0, "lead1")]
    snap = acd.snapshot(11.0)
    assert list(snap.queues) == ["sales"]
    assert (snap.seats["s1"].queues, snap.seats["s2"].queues) == (("sales",), ())
    with pytest.raises(UnknownQueue, match="no queue 'campaign-spring'"):
        acd.caller_joined("d2", "campaign-spring", 12.0)
    with pytest.raises(QueueNotFound, match="no queue 'campaign-spring'"):
        acd.remove_queue("campaign-spring", 12.0)
    acd.handle_timer(15.0)  # s1's wrap-up ends as usual
    assert acd.snapshot(15.0).seats["s1"].presence.value == "ready"
    acd.set_presence("s3", PresenceAction.PAUSE, 16.0, reason="lunch")
    out = acd.caller_joined("c1", "sales", 17.0)
    assert offers(out) == [("c1", "s1")]  # s1 still serves sales; s2 serves nothing now


def test_a_queue_another_overflows_into_is_not_removed() -> None:
    acd = make_acd([QueueConfig("backup", announce_every=None),
                    QueueConfig("sales", max_wait=30, overflow=OverflowTarget.parse("queue:backup"),
                                announce_every=None)], [seat("s1", "backup")])
    with pytest.raises(QueueInUse, match="queue backup is the overflow of sales"):
        acd.remove_queue("backup", 1.0)
    assert list(acd.snapshot(1.0).queues) == ["backup", "sales"]
    assert acd.snapshot(1.0).seats["s1"].queues == ("backup",)
