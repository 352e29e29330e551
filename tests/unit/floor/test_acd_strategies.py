"""Each strategy end to end through the ACD: who gets the next call."""

from __future__ import annotations

from floor.acd import Acd
from floor.model import QueueConfig, SeatConfig, Strategy, Tier
from floor.states import PresenceAction
from tests.unit.floor.kit import make_acd, offers, seat

READY, PAUSE = PresenceAction.READY, PresenceAction.PAUSE


def queue(strategy: Strategy, **kwargs: object) -> QueueConfig:
    return QueueConfig("q", strategy=strategy, wrap_up=0, announce_every=None, **kwargs)  # type: ignore[arg-type]


def login(acd: Acd, seat_id: str, now: float) -> None:
    acd.seat_reachable(seat_id, True, now)
    acd.set_presence(seat_id, READY, now)


def take(acd: Acd, call: str, now: float, talk: float = 0.0) -> str:
    """``call`` joins, its offered seat answers, and the call lasts ``talk`` seconds (0: still on)."""
    (offered,) = offers(acd.caller_joined(call, "q", now))
    acd.offer_accepted(call, offered[1], now)
    if talk:
        acd.call_ended(call, offered[1], now + talk)
    return offered[1]


def test_longest_idle_counts_from_when_the_seat_became_available() -> None:
    acd = make_acd([queue(Strategy.LONGEST_IDLE)], [seat(f"s{i}", "q") for i in (1, 2, 3)], ready=[])
    login(acd, "s1", 0.0)
    login(acd, "s3", 1.0)
    login(acd, "s2", 5.0)
    acd.set_presence("s3", PAUSE, 6.0)                # a pause is not idle time
    acd.set_presence("s3", READY, 8.0)
    assert take(acd, "c1", 10.0, talk=10.0) == "s1"   # s1 idle again from 20
    assert [take(acd, c, 21.0) for c in ("c2", "c3", "c4")] == ["s2", "s3", "s1"]


def test_round_robin_continues_after_the_last_seat_that_got_a_call() -> None:
    acd = make_acd([queue(Strategy.ROUND_ROBIN)], [seat(f"s{i}", "q") for i in (1, 2, 3, 4)])
    assert [take(acd, c, 1.0, talk=1.0) for c in ("c1", "c2")] == ["s1", "s2"]
    acd.set_presence("s3", PAUSE, 3.0)
    assert [take(acd, c, 4.0, talk=1.0) for c in ("c3", "c4", "c5")] == ["s4", "s1", "s2"]
    assert take(acd, "c6", 6.0) == "s4"               # s2 got the last one; s3 is paused
    acd.set_presence("s3", READY, 7.0)
    assert take(acd, "c7", 8.0) == "s1"               # after s4 (still on c6), wrapping round


def test_fewest_calls_counts_today_only() -> None:
    acd = Acd([queue(Strategy.FEWEST_CALLS)], [seat("s1", "q"), seat("s2", "q")], now=0.0,
              day_of=lambda now: int(now // 100))     # 100-second "days" for the test
    login(acd, "s1", 0.0)
    assert [take(acd, c, t, talk=5.0) for c, t in (("c1", 0.0), ("c2", 5.0))] == ["s1", "s1"]
    login(acd, "s2", 20.0)
    assert take(acd, "c3", 30.0, talk=10.0) == "s2"   # 0 calls beats s1's 2, though s1 idled longer
    assert take(acd, "c4", 150.0) == "s1"             # a new day: 0 and 0, s1 idle since 10


def test_least_talk_time_today() -> None:
    acd = make_acd([queue(Strategy.LEAST_TALK_TIME)], [seat("s1", "q"), seat("s2", "q")])
    assert take(acd, "c1", 1.0, talk=100.0) == "s1"
    assert take(acd, "c2", 2.0, talk=10.0) == "s2"
    assert take(acd, "c3", 20.0, talk=10.0) == "s2"
    acd.set_presence("s2", PAUSE, 30.0)
    acd.set_presence("s2", READY, 105.0)              # s1 idle since 101, s2 since 105
    assert take(acd, "c4", 110.0) == "s2"             # 20 s of talk beats 100 s
    snap = acd.snapshot().seats
    assert (snap["s1"].stats.talk_time, snap["s2"].stats.talk_time) == (100.0, 20.0)


def test_skills_based_requires_the_level_then_offers_the_highest_first() -> None:
    seats = [SeatConfig("s1", skills={"vip": 1}, queues=("q",)), SeatConfig("s2", skills={"vip": 3}, queues=("q",)),
             SeatConfig("s3", skills={"vip": 3}, queues=("q",)), SeatConfig("s4", queues=("q",)),
             SeatConfig("s5", skills={"vip": 2, "billing": 1}, queues=("q",))]
    acd = make_acd([queue(Strategy.SKILLS_BASED, skills={"vip": 1})], seats, ready=[])
    for seat_id, at in (("s1", 0.0), ("s2", 5.0), ("s3", 2.0), ("s4", 0.0), ("s5", 1.0)):
        login(acd, seat_id, at)
    assert [take(acd, c, 10.0) for c in ("c1", "c2", "c3", "c4")] == ["s3", "s2", "s5", "s1"]
    assert offers(acd.caller_joined("c5", "q", 11.0)) == []   # s4 lacks the skill


def test_the_callers_own_skills_filter_every_strategy() -> None:
    seats = [SeatConfig("s1", skills={"vip": 1}, queues=("q",)), SeatConfig("s2", skills={"vip": 3}, queues=("q",))]
    acd = make_acd([queue(Strategy.LONGEST_IDLE)], seats)
    assert offers(acd.caller_joined("c1", "q", 1.0, skills={"vip": 3})) == [("c1", "s2")]
    assert offers(acd.caller_joined("c2", "q", 2.0, skills={"vip": 3})) == []
    assert offers(acd.caller_joined("c3", "q", 3.0)) == [("c3", "s1")]


def test_skills_based_sums_levels_when_the_caller_adds_a_skill() -> None:
    seats = [SeatConfig("s1", skills={"vip": 3, "billing": 1}, queues=("q",)),
             SeatConfig("s2", skills={"vip": 2, "billing": 3}, queues=("q",))]
    acd = make_acd([queue(Strategy.SKILLS_BASED, skills={"vip": 1})], seats)
    assert offers(acd.caller_joined("c1", "q", 1.0, skills={"billing": 1})) == [("c1", "s2")]


def test_queue_tiers_admit_only_those_seats() -> None:
    seats = [SeatConfig("s1", queues=("q",)), SeatConfig("s2", tier=Tier.VIP, queues=("q",))]
    acd = make_acd([queue(Strategy.LONGEST_IDLE, tiers=frozenset({Tier.VIP}))], seats)
    assert take(acd, "c1", 1.0) == "s2"
    assert offers(acd.caller_joined("c2", "q", 2.0)) == []


def test_a_higher_penalty_seat_gets_calls_only_when_no_lower_one_is_free() -> None:
    seats = [SeatConfig("s1", queues=("q",), penalties={"q": 1}), SeatConfig("s2", queues=("q",))]
    acd = make_acd([queue(Strategy.LONGEST_IDLE)], seats, ready=[])
    login(acd, "s1", 0.0)
    login(acd, "s2", 5.0)
    assert [take(acd, c, 10.0) for c in ("c1", "c2")] == ["s2", "s1"]


def test_ring_all_rings_the_lowest_penalty_present() -> None:
    seats = [SeatConfig("s1", queues=("q",), penalties={"q": 1}), SeatConfig("s2", queues=("q",)),
             SeatConfig("s3", queues=("q",))]
    acd = make_acd([queue(Strategy.RING_ALL)], seats)
    assert offers(acd.caller_joined("c1", "q", 1.0)) == [("c1", "s2"), ("c1", "s3")]
    assert offers(acd.caller_joined("c2", "q", 2.0)) == [("c2", "s1")]


def test_a_refused_offer_does_not_reset_the_idle_time() -> None:
    acd = make_acd([queue(Strategy.LONGEST_IDLE)], [seat(f"s{i}", "q") for i in (1, 2, 3)], ready=[])
    for seat_id, at in (("s1", 0.0), ("s2", 5.0), ("s3", 6.0)):
        login(acd, seat_id, at)
    assert offers(acd.caller_joined("c1", "q", 7.0)) == [("c1", "s1")]
    assert offers(acd.offer_failed("c1", "s1", 7.5, reason="declined")) == [("c1", "s2")]
    assert offers(acd.caller_joined("c2", "q", 8.0)) == [("c2", "s1")]   # still idle since 0, before s3
    assert acd.snapshot().seats["s1"].stats.idle_since == 0.0
