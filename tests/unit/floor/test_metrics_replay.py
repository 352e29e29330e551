"""The board is event-sourced: the real ACD driven through a day, each of its records fed through
``acd_record`` to a live FloorMetrics and written to a log; replaying the log into a fresh one
gives the same board, and the seats agree with the ACD's own snapshot at every instant, so no
seat can be stuck in a state the ACD has left. Hypothesis drives the same property at random.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callfloor.switchboard import Switchboard
from floor.acd import Acd
from floor.core import utc_day
from floor.eventlog import LogRecord, acd_record
from floor.events import AcdCommand
from floor.metrics import FloorMetrics, QueueSpec, SeatSpec, replay
from floor.model import OverflowTarget, QueueConfig, SeatConfig, Strategy
from floor.states import PresenceAction, SeatCallState
from telephony.calls.commands import Command, Publish


@dataclass(frozen=True)
class Campaign:
    id: str
    target_abandon: float = 0.03
    abandon_formula: str = "answers"
    amd_allowance: float = 0.1


DEMO = Campaign("demo")
MIDNIGHT = 19_701 * 86400.0
START = MIDNIGHT - 1200.0  # the scripted day runs over midnight

QUEUES = [
    QueueConfig("sales", ring_timeout=15, wrap_up=10, service_level_threshold=20,
                announce_every=None, retry_after=5),
    QueueConfig("support", strategy=Strategy.RING_ALL, ring_timeout=10, wrap_up=5, max_wait=120,
                overflow=OverflowTarget.parse("queue:sales"), announce_every=None),
    QueueConfig("campaign-demo", ring_timeout=8, wrap_up=5, max_wait=8,
                overflow=OverflowTarget.parse("flow:abandon"), overflow_when_no_seats=True,
                service_level_threshold=8, announce_every=None, retry_after=8),
]
SEATS = [
    SeatConfig("1001", name="Ann", team="red", queues=("sales", "support")),
    SeatConfig("1002", name="Bo", team="red", queues=("sales",)),
    SeatConfig("1003", name="Cy", team="blue", queues=("support", "campaign-demo")),
    SeatConfig("1004", name="Di", team="blue", queues=("campaign-demo",)),
]


class Floor:
    """The ACD, a live board fed with its records, and the log of those records."""

    def __init__(self, queues: Sequence[QueueConfig], seats: Sequence[SeatConfig], now: float) -> None:
        self.queues, self.seats = queues, seats
        self.acd = Acd(queues, seats, now=now)
        self.live = self.fresh()
        self.log: list[LogRecord] = []
        self.now = now

    def feed(self, commands: Sequence[AcdCommand]) -> None:
        for command in commands:
            record = acd_record(command)
            if record is not None:
                self.log.append(record)
                self.live.apply(*record)

    def at(self, now: float) -> Acd:
        """Run the ACD's timers up to ``now``; then the caller feeds its input at ``now``."""
        while (deadline := self.acd.get_timer()) is not None and deadline <= now:
            self.feed(self.acd.handle_timer(deadline))
        self.now = now
        return self.acd

    def do(self, now: float, method: str, *args: Any, **kwargs: Any) -> None:
        acd = self.at(now)
        self.feed(getattr(acd, method)(*args, now, **kwargs))

    def check(self) -> None:
        """Live equals replayed, and every seat agrees with the ACD's snapshot."""
        now = self.now
        replayed = self.fresh().replay(self.log)
        assert self.live.board(now) == replayed.board(now)
        snapshot = self.acd.snapshot(now)
        for seat_id, view in snapshot.seats.items():
            seat = self.live.seat(seat_id, now)
            assert (seat["presence"], seat["call_state"], seat["reason"], seat["call"]) == (
                view.presence.value, view.call_state.value, view.reason, view.offer or view.call), seat_id
            assert (seat["reachable"], seat["busy_elsewhere"], seat["lent_to"]) == (
                view.reachable, view.busy_elsewhere, view.lent_to), seat_id
            assert tuple(seat["queues"]) == view.queues, seat_id
            if seat["since"] is not None:  # known once the seat's state changed
                assert seat["since"] == view.since, seat_id
            today = view.stats.day == utc_day(now)
            assert seat["calls"] == (view.stats.calls if today else 0), seat_id
            assert abs(seat["talk_s"] - (view.stats.talk_time if today else 0.0)) < 0.01, seat_id
        for name, qv in snapshot.queues.items():
            queue = self.live.queue(name, now)
            # joins in time order here, service order (priority, first join) in the ACD
            assert sorted((c["call"], c["since"]) for c in queue["callers"]) == sorted(
                (c.call, c.joined_at) for c in qv.callers), name
            assert queue["waiting"] == len(qv.callers), name
            assert queue["longest_wait_s"] == round(qv.longest_wait_s, 3), name

    def fresh(self) -> FloorMetrics:
        return FloorMetrics.for_floor(self.queues, self.seats, [DEMO])


def offered_to(floor: Floor, call: str, seats: Sequence[str]) -> str:
    views = floor.acd.snapshot(floor.now).seats
    return next(s for s in seats if views[s].offer == call)


def ringing(floor: Floor, seat: str) -> str:
    view = floor.acd.snapshot(floor.now).seats[seat]
    assert view.call_state is SeatCallState.RINGING and view.offer is not None, view
    return view.offer


def test_a_scripted_day_replays_to_the_same_board_and_the_acds_seats() -> None:
    t = START
    f = Floor(QUEUES, SEATS, t)
    for seat in ("1001", "1002", "1003", "1004"):
        f.do(t, "seat_reachable", seat, True)
    for seat in ("1001", "1002", "1003"):
        f.do(t + 1, "set_presence", seat, PresenceAction.READY)
    f.do(t + 2, "set_presence", "1004", PresenceAction.PAUSE, reason="break")
    f.check()
    # c1 joins sales, rings the longest-idle seat, is answered, talks 86 s, wrap-up follows
    f.do(t + 10, "caller_joined", "c1", "sales")
    first = next(s for s in ("1001", "1002") if f.acd.snapshot(t + 10).seats[s].offer == "c1")
    f.do(t + 14, "offer_accepted", "c1", first)
    f.check()
    # c2 joins support (ring-all): nobody answers, both seats ring out and are paused ("rna")
    f.do(t + 20, "caller_joined", "c2", "support")
    f.check()
    f.at(t + 31)
    f.check()
    assert f.live.seat("1003", t + 31)["reason"] == "rna"
    f.do(t + 40, "set_presence", "1003", PresenceAction.READY)
    f.do(t + 41, "offer_accepted", ringing(f, "1003"), "1003")
    f.do(t + 100, "call_ended", "c1", first)
    f.check()
    assert f.live.seat(first, t + 100)["presence"] == "wrap-up"
    f.at(t + 111)  # wrap-up over
    f.check()
    # c3 waits in sales and hangs up; a seat pauses for lunch, then logs out
    other = "1002" if first == "1001" else "1001"
    f.do(t + 112, "set_presence", other, PresenceAction.PAUSE, reason="lunch")
    f.do(t + 113, "set_presence", first, PresenceAction.PAUSE, reason="meeting")
    f.do(t + 200, "caller_joined", "c3", "sales")
    f.do(t + 245, "caller_left", "c3")
    f.check()
    f.do(t + 300, "set_presence", other, PresenceAction.LOGOUT)
    f.do(t + 310, "call_ended", "c2", "1003")
    # the watcher lends 1001 to the campaign and moves 1002 to support
    f.do(t + 400, "lend", "1001", "demo")
    f.do(t + 401, "set_membership", "1002", ["support"], by="lead")
    f.do(t + 402, "set_presence", "1004", PresenceAction.READY)
    f.check()
    # an outbound call through the campaign queue, answered; one more that rings out of its grace
    f.do(t + 450, "caller_joined", "d1", "campaign-demo", info={"caller": "+15550111"})
    agent = offered_to(f, "d1", ("1003", "1004"))
    rest = "1004" if agent == "1003" else "1003"
    f.do(t + 451, "offer_accepted", "d1", agent)
    f.do(t + 452, "caller_joined", "d2", "campaign-demo")
    f.check()
    f.do(t + 455, "offer_failed", ringing(f, rest), rest, reason="busy")
    f.at(t + 470)
    f.check()
    # midnight passes: today's counts start again, the states carry on
    f.do(MIDNIGHT + 5, "seat_busy_elsewhere", rest, True)
    f.check()
    f.do(MIDNIGHT + 60, "call_ended", "d1", agent)
    f.do(MIDNIGHT + 61, "lend", "1001", None)
    f.do(MIDNIGHT + 62, "seat_reachable", rest, False)
    f.at(MIDNIGHT + 100)
    f.check()
    board = f.live.board(MIDNIGHT + 100)
    # answered yesterday, ended today: its talk counts today (as the ACD's own seat stats)
    assert (board["seats"][agent]["calls"], board["seats"][agent]["talk_s"]) == (0, 809.0)
    assert board["seats"][agent]["presence"] == "ready"
    assert board["seats"][rest]["reachable"] is False
    assert board["seats"]["1001"]["lent_to"] is None
    assert board["seats"]["1002"] | {"at": 0} == {
        "id": "1002", "name": "Bo", "team": "red", "presence": "logged-out", "call_state": "idle",
        "reason": None, "since": t + 300, "time_in_state_s": MIDNIGHT + 100 - (t + 300),
        "calls": 0, "talk_s": 0.0, "call": None, "queues": ["support"], "lent_to": None,
        "reachable": True, "busy_elsewhere": False, "at": 0}
    assert board["queues"]["campaign-demo"]["offered"] == 0  # yesterday's calls
    assert board["queues"]["campaign-demo"]["sl"]["15m"] == 0.5  # d1 in time, d2 overflowed
    assert board["queues"]["campaign-demo"]["aht_s"] == 814.0  # ended today: 809 s talk + 5 s wrap-up


def test_replay_function_builds_a_fresh_board() -> None:
    f = Floor(QUEUES, SEATS, START)
    f.do(START, "seat_reachable", "1001", True)
    f.do(START + 1, "set_presence", "1001", PresenceAction.PAUSE, reason="break")
    board = replay(f.log, queues=[QueueSpec("sales")], seats=[SeatSpec("1001", queues=("sales",))])
    seat = board.seat("1001", START + 5)
    assert (seat["presence"], seat["reason"], seat["since"], seat["time_in_state_s"]) == (
        "paused", "break", START + 1, 4.0)
    assert board.subjects() == [("queue", "sales"), ("seat", "1001")]


# ---- the same property, at random ------------------------------------------------------------

ACTIONS = ("join", "leave", "answer", "fail", "end", "presence", "reachable", "busy", "lend",
           "move", "wait")


def random_step(f: Floor, data: st.DataObject, n: int) -> None:
    snap = f.acd.snapshot(f.now)
    seats = sorted(snap.seats)
    action = data.draw(st.sampled_from(ACTIONS))
    now = f.now + data.draw(st.sampled_from([0.0, 0.5, 3.0, 9.0, 30.0]))
    seat = data.draw(st.sampled_from(seats))
    callers = sorted(c.call for q in snap.queues.values() for c in q.callers)
    ringing_seats = sorted(s for s, v in snap.seats.items() if v.offer is not None)
    talking = sorted(s for s, v in snap.seats.items() if v.call is not None)
    if action == "join":
        f.do(now, "caller_joined", f"c{n}", data.draw(st.sampled_from([q.name for q in QUEUES])))
    elif action == "leave" and callers:
        f.do(now, "caller_left", data.draw(st.sampled_from(callers)))
    elif action in ("answer", "fail") and ringing_seats:
        s = data.draw(st.sampled_from(ringing_seats))
        offer = f.acd.snapshot(f.now).seats[s].offer
        if action == "answer":
            f.do(now, "offer_accepted", offer, s)
        else:
            f.do(now, "offer_failed", offer, s, reason="busy")
    elif action == "end" and talking:
        s = data.draw(st.sampled_from(talking))
        f.do(now, "call_ended", f.acd.snapshot(f.now).seats[s].call, s)
    elif action == "presence":
        act = data.draw(st.sampled_from(list(PresenceAction)))
        reason = data.draw(st.sampled_from([None, "break", "lunch"]))
        f.do(now, "set_presence", seat, act, reason=reason)
    elif action == "reachable":
        f.do(now, "seat_reachable", seat, data.draw(st.booleans()))
    elif action == "busy":
        f.do(now, "seat_busy_elsewhere", seat, data.draw(st.booleans()))
    elif action == "lend":
        f.do(now, "lend", seat, data.draw(st.sampled_from([None, "demo"])))
    elif action == "move":
        queues = data.draw(st.sets(st.sampled_from([q.name for q in QUEUES])))
        f.do(now, "set_membership", seat, sorted(queues))
    else:
        f.at(now)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), start=st.sampled_from([START, MIDNIGHT + 600.0]))
def test_random_acd_input_replays_to_the_acds_seats(data: st.DataObject, start: float) -> None:
    f = Floor(QUEUES, SEATS, start)
    for seat in ("1001", "1002", "1003", "1004"):
        f.do(start, "seat_reachable", seat, True)
        f.do(start, "set_presence", seat, PresenceAction.READY)
    for n in range(data.draw(st.integers(10, 60))):
        random_step(f, data, n)
        f.check()


# ---- the encoding is the switchboard's -------------------------------------------------------

class NoTimers:
    def set_timer(self, key: object, deadline: float, fn: object) -> None:
        pass

    def cancel_timer(self, key: object) -> None:
        pass


def test_acd_record_is_what_the_switchboard_publishes() -> None:
    f = Floor(QUEUES, SEATS, START)
    commands: list[AcdCommand] = []
    acd = f.acd
    for seat in ("1001", "1003"):
        commands += acd.seat_reachable(seat, True, START)
        commands += acd.set_presence(seat, PresenceAction.READY, START)
    commands += acd.caller_joined("c1", "support", START + 1)
    commands += acd.offer_accepted("c1", "1001", START + 2)
    commands += acd.call_ended("c1", "1001", START + 30)
    commands += acd.set_membership("1003", ["sales"], START + 31, by="lead")
    commands += acd.lend("1003", "demo", START + 32)
    commands += acd.handle_timer(START + 60)
    published: list[Command] = []
    board = Switchboard(None, Acd(QUEUES, SEATS, now=START), timers=NoTimers(),
                        emit=published.append)
    records = [r for r in map(acd_record, commands) if r is not None]
    kept = [c for c in commands if acd_record(c) is not None]
    board.run(kept, START + 60)
    assert len(records) == len(published) >= 12
    for record, publish in zip(records, published, strict=True):
        assert isinstance(publish, Publish) and publish.store is True
        assert (publish.kind, publish.payload) == (record[0], record[2])
        assert record[1] == publish.payload["ts"]
