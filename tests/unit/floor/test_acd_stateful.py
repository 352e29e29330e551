"""The ACD driven at random (hypothesis.stateful): joins, hang-ups, answers, refusals, presence,
registration, outside calls, lending, membership changes and time passing.

The machine keeps its own mirror of the floor built only from the commands the ACD emits, checks
each command against it as it arrives, and after every step checks the invariants:

- no seat has two live offers, or an offer while on a call; a ringing seat can take the call
  (ready, registered, not busy elsewhere, not lent, member of the queue);
- every caller is in exactly one of waiting / offered / answered / abandoned / overflowed;
- each queue's counters add up and agree with the events;
- seat state changes chain (each one's previous state and ``since`` are the last one's);
- no timer is left in the past.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from floor.acd import Acd
from floor.events import (
    AcdCommand,
    Announce,
    CancelOffer,
    OfferCall,
    Overflow,
    QueueEvent,
    QueueEventKind,
    SeatAvailabilityChanged,
    SeatMembershipChanged,
    SeatStateChanged,
)
from floor.model import OverflowTarget, QueueConfig, SeatConfig, Strategy, Tier
from floor.states import CallerState, Presence, PresenceAction, SeatCallState

K = QueueEventKind


def _q(name: str, strategy: Strategy, **kwargs: object) -> QueueConfig:
    return QueueConfig(name, strategy=strategy, **kwargs)  # type: ignore[arg-type]


QUEUES = [
    _q("a", Strategy.LONGEST_IDLE, ring_timeout=10, wrap_up=5, max_wait=60,
       overflow=OverflowTarget.parse("queue:b"), announce_every=15, retry_after=3),
    _q("b", Strategy.RING_ALL, ring_timeout=8, wrap_up=0, max_wait=40, rna_pause=False,
       overflow=OverflowTarget.parse("voicemail:b"), overflow_when_no_seats=True, retry_after=2),
    _q("c", Strategy.SKILLS_BASED, skills={"vip": 1}, ring_timeout=12, wrap_up=3, retry_after=0,
       max_wait=90, overflow=OverflowTarget.parse("queue:d")),
    _q("d", Strategy.ROUND_ROBIN, ring_timeout=6, wrap_up=2, announce_every=20, max_wait=50,
       overflow=OverflowTarget.parse("queue:c")),
    _q("e", Strategy.FEWEST_CALLS, tiers=frozenset({Tier.VIP}), wrap_up=4, announce_every=None),
    _q("f", Strategy.LEAST_TALK_TIME, ring_timeout=9, wrap_up=1, max_wait=30,
       overflow=OverflowTarget.parse("flow:sorry"), overflow_when_no_seats=True),
]
NAMES = [q.name for q in QUEUES]
SEATS = [
    SeatConfig("s1", queues=("a", "b", "f"), skills={"vip": 2}),
    SeatConfig("s2", queues=("a",), penalties={"a": 1}),
    SeatConfig("s3", queues=("b", "c", "e"), skills={"vip": 1}, tier=Tier.VIP),
    SeatConfig("s4", queues=("c", "d", "f")),
    SeatConfig("s5", queues=("d", "e"), skills={"vip": 3}, tier=Tier.VIP),
]
SEAT_IDS = [s.id for s in SEATS]
FINAL = {K.ANSWERED: "answered", K.ABANDONED: "abandoned", K.OVERFLOWED: "overflowed"}


class AcdMachine(RuleBasedStateMachine):
    """Random inputs into one ACD; a mirror built from its commands; invariants after each step."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.acd = Acd(QUEUES, SEATS, now=0.0)
        self.next_call = 0
        self.offers: dict[str, str] = {}  # seat -> call ringing there
        self.on_call: dict[str, str] = {}  # seat -> call bridged there
        self.queue_of: dict[str, str] = {}  # call -> queue it is in (until abandoned/overflowed/ended)
        self.outcome: dict[tuple[str, str], str] = {}  # (call, queue) -> joined | answered | ...
        self.counts: Counter[tuple[str, QueueEventKind]] = Counter()
        self.seat_state: dict[str, tuple[object, ...]] = {
            s: (Presence.LOGGED_OUT, SeatCallState.IDLE, None, None, 0.0) for s in SEAT_IDS}

    # ---- feeding the mirror ------------------------------------------------------------------

    def feed(self, out: list[AcdCommand]) -> list[AcdCommand]:
        for command in out:
            match command:
                case OfferCall(call, seat, queue):
                    assert seat not in self.offers and seat not in self.on_call, command
                    assert self.queue_of[call] == queue and self.outcome[call, queue] == "joined"
                    self.offers[seat] = call
                case CancelOffer(call, seat, "stale"):
                    assert self.offers.get(seat) != call
                case CancelOffer(call, seat, _):
                    assert self.offers.pop(seat) == call, command
                case QueueEvent():
                    self.feed_event(command)
                case SeatStateChanged(seat):
                    *before, since = self.seat_state[seat]
                    assert [command.previous_presence, command.previous_call_state,
                            command.previous_reason, command.previous_call] == before
                    assert command.since == since
                    after = [command.presence, command.call_state, command.reason, command.call]
                    assert after != before
                    assert command.call == (self.offers.get(seat) or self.on_call.get(seat))
                    self.seat_state[seat] = (*after, command.at)
                case Announce(call, queue):
                    assert self.queue_of[call] == queue and call not in self.offers.values()
                case Overflow() | SeatAvailabilityChanged() | SeatMembershipChanged():
                    pass
        return out

    def feed_event(self, e: QueueEvent) -> None:
        self.counts[e.queue, e.kind] += 1
        assert e.at == self.now
        if e.kind is K.JOINED:
            assert (e.call, e.queue) not in self.outcome and e.call not in self.queue_of
            self.outcome[e.call, e.queue] = "joined"
            self.queue_of[e.call] = e.queue
        elif e.kind is K.OFFERED:
            assert e.seat is not None and self.offers[e.seat] == e.call
        elif e.kind in (K.FAILED, K.RNA):
            assert e.seat is not None and self.offers.get(e.seat) in (e.call, None)
            self.offers.pop(e.seat, None)
        elif e.kind in FINAL:
            assert self.outcome[e.call, e.queue] == "joined", e
            self.outcome[e.call, e.queue] = FINAL[e.kind]
            if e.kind is K.ANSWERED:
                assert e.seat is not None and self.offers.pop(e.seat) == e.call
                self.on_call[e.seat] = e.call
            else:
                del self.queue_of[e.call]
            assert e.call not in self.offers.values(), e
        elif e.kind is K.ENDED:
            assert e.seat is not None and self.on_call.pop(e.seat) == e.call
            del self.queue_of[e.call]

    # ---- rules -------------------------------------------------------------------------------

    @initialize(seats=st.lists(st.sampled_from(SEAT_IDS), unique=True))
    def log_in(self, seats: list[str]) -> None:
        """Start with some seats registered and ready (in this order: the longest idle first)."""
        for seat in seats:
            self.feed(self.acd.seat_reachable(seat, True, self.now))
            self.feed(self.acd.set_presence(seat, PresenceAction.READY, self.now))

    @rule(queue=st.sampled_from(NAMES), priority=st.integers(0, 2), vip=st.sampled_from([0, 0, 1, 3]))
    def join(self, queue: str, priority: int, vip: int) -> None:
        self.next_call += 1
        skills = {"vip": vip} if vip else {}
        self.feed(self.acd.caller_joined(f"c{self.next_call}", queue, self.now, priority=priority, skills=skills))

    @precondition(lambda self: self.queue_of)
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        call = data.draw(st.sampled_from(sorted(self.queue_of)))
        answered = call in self.on_call.values()
        out = self.feed(self.acd.caller_left(call, self.now))
        assert (out == []) == answered

    @precondition(lambda self: self.offers)
    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        seat, call = data.draw(st.sampled_from(sorted(self.offers.items())))
        self.feed(self.acd.offer_accepted(call, seat, self.now))
        assert self.on_call[seat] == call

    @precondition(lambda self: self.offers)
    @rule(data=st.data(), reason=st.sampled_from(["busy", "declined", "error"]))
    def fail(self, data: st.DataObject, reason: str) -> None:
        seat, call = data.draw(st.sampled_from(sorted(self.offers.items())))
        self.feed(self.acd.offer_failed(call, seat, self.now, reason=reason))

    @precondition(lambda self: self.on_call)
    @rule(data=st.data())
    def end(self, data: st.DataObject) -> None:
        seat, call = data.draw(st.sampled_from(sorted(self.on_call.items())))
        self.feed(self.acd.call_ended(call, seat, self.now))

    @rule(seat=st.sampled_from(SEAT_IDS), call=st.integers(0, 40))
    def stray(self, seat: str, call: int) -> None:
        """Late or wrong answers, failures and hang-ups: never break anything."""
        c = f"c{call}"
        for out in (self.acd.offer_failed(c, seat, self.now, reason="busy"),
                    self.acd.call_ended(c, seat, self.now)):
            if out:
                self.feed(out)
        if self.offers.get(seat) != c:
            assert self.feed(self.acd.offer_accepted(c, seat, self.now)) in (
                [], [CancelOffer(c, seat, "stale")])

    @rule(seat=st.sampled_from(SEAT_IDS), action=st.sampled_from(list(PresenceAction)),
          reason=st.sampled_from([None, "break", "lunch"]))
    def presence(self, seat: str, action: PresenceAction, reason: str | None) -> None:
        self.feed(self.acd.set_presence(seat, action, self.now, reason=reason))

    @rule(seat=st.sampled_from(SEAT_IDS), reachable=st.booleans())
    def reachable(self, seat: str, reachable: bool) -> None:
        self.feed(self.acd.seat_reachable(seat, reachable, self.now))

    @rule(seat=st.sampled_from(SEAT_IDS), busy=st.booleans())
    def busy(self, seat: str, busy: bool) -> None:
        self.feed(self.acd.seat_busy_elsewhere(seat, busy, self.now))

    @rule(seat=st.sampled_from(SEAT_IDS), campaign=st.sampled_from([None, None, "winback"]))
    def lend(self, seat: str, campaign: str | None) -> None:
        self.feed(self.acd.lend(seat, campaign, self.now))

    @rule(seat=st.sampled_from(SEAT_IDS), queues=st.sets(st.sampled_from(NAMES), max_size=3))
    def membership(self, seat: str, queues: set[str]) -> None:
        self.feed(self.acd.set_membership(seat, queues, self.now))

    @rule(dt=st.sampled_from([0.5, 1.0, 3.0, 7.0, 12.0, 30.0]))
    def tick(self, dt: float) -> None:
        """Time passes; each timer is handled at its own deadline, as the executor does."""
        until = self.now + dt
        while (deadline := self.acd.get_timer()) is not None and deadline <= until:
            assert deadline >= self.now
            self.now = deadline
            self.feed(self.acd.handle_timer(deadline))
        self.now = until

    # ---- invariants --------------------------------------------------------------------------

    @invariant()
    def seats_agree_with_the_mirror(self) -> None:
        snap = self.acd.snapshot(self.now)
        for seat_id, view in snap.seats.items():
            offer, call = self.offers.get(seat_id), self.on_call.get(seat_id)
            assert (view.offer, view.call) == (offer, call)
            expected = (SeatCallState.RINGING if offer else SeatCallState.ON_CALL if call
                        else SeatCallState.IDLE)
            assert view.call_state is expected
            assert self.seat_state[seat_id][:4] == (view.presence, view.call_state, view.reason, offer or call)
            if offer is not None:
                assert view.presence is Presence.READY and view.reachable
                assert not view.busy_elsewhere and view.lent_to is None
                assert self.queue_of[offer] in view.queues

    @invariant()
    def every_caller_is_in_exactly_one_state(self) -> None:
        snap = self.acd.snapshot(self.now)
        in_queues = {c.call: (c.queue, c.state) for q in snap.queues.values() for c in q.callers}
        ringing = set(self.offers.values())
        answered = set(self.on_call.values())
        for call, queue in self.queue_of.items():
            if call in answered:
                assert call not in in_queues and self.outcome[call, queue] == "answered"
            else:
                state = CallerState.OFFERED if call in ringing else CallerState.WAITING
                assert in_queues.pop(call) == (queue, state)
                assert self.outcome[call, queue] == "joined"
        assert in_queues == {}
        assert sum(1 for o in self.outcome.values() if o == "joined") == len(self.queue_of) - len(answered)

    @invariant()
    def counters_add_up(self) -> None:
        for name, view in self.acd.snapshot(self.now).queues.items():
            s = view.stats
            assert s.offered == self.counts[name, K.JOINED]
            assert (s.answered, s.abandoned, s.overflowed) == (
                self.counts[name, K.ANSWERED], self.counts[name, K.ABANDONED], self.counts[name, K.OVERFLOWED])
            assert s.offered == len(view.callers) + s.answered + s.abandoned + s.overflowed
            assert s.answered_within <= s.answered and s.abandoned_within <= s.abandoned
            assert s.ended == self.counts[name, K.ENDED]

    @invariant()
    def no_timer_in_the_past(self) -> None:
        deadline = self.acd.get_timer()
        assert deadline is None or deadline > self.now


AcdMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
TestAcdMachine = AcdMachine.TestCase
