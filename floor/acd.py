"""The automatic call distributor: callers wait in queues and are offered to seats, event-driven.

Pure (sans-IO): every input carries ``now`` and returns the commands to carry out; time-outs
(ring-no-answer, wrap-up, max wait, announcements, retries) sit in one timer heap that the
executor drives with :meth:`Acd.get_timer` / :meth:`Acd.handle_timer`. Nothing polls.

Rules, each pinned by a test in ``tests/unit/floor/``:

- callers are served by priority (higher first), then by how long they have waited (FIFO);
- a seat is offered at most one call at a time and never while on a call, paused, in wrap-up,
  logged out, unregistered, busy elsewhere or lent to a campaign;
- ring-no-answer cancels the offer, pauses the seat with reason ``rna`` (``rna_pause``) and
  offers the call to the next seat; a seat that refused a call is not offered it again for
  ``retry_after`` seconds;
- after each call the seat wraps up for the queue's ``wrap_up`` seconds, then is READY again;
- overflow to another queue: the caller keeps its place by first join time there, but that
  queue's wait, max wait and service level count from the overflow. It never overflows back
  into a queue it already left (it stays where it is instead).

Inputs that arrive too late (an answer after the ACD cancelled the offer, a failure for a
finished offer, a hang-up after the call ended) are values, not errors: a late answer gets
``CancelOffer(reason="stale")`` so the executor hangs that leg up; the others return nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from floor.core import AcdCore, QueueNotFound, flag, utc_day
from floor.errors import ConfigError, DuplicateCall, QueueInUse
from floor.events import (
    AcdCommand,
    AcdInput,
    Announce,
    CallEnded,
    CallerJoined,
    CallerLeft,
    CancelOffer,
    MembershipSet,
    OfferAccepted,
    OfferFailed,
    PresenceRequested,
    QueueEvent,
    SeatAvailabilityChanged,
    SeatBusyElsewhere,
    SeatLent,
    SeatMembershipChanged,
    SeatReachable,
)
from floor.events import QueueEventKind as K
from floor.model import EMPTY, NO_INFO, OverflowKind, QueueConfig, SeatConfig
from floor.runtime import SeatRuntime
from floor.snapshot import FloorSnapshot, queue_view, seat_view
from floor.states import (
    RNA_REASON,
    CallerInput,
    CallerState,
    CallInput,
    Presence,
    PresenceAction,
    PresenceInput,
    next_call_state,
    next_caller_state,
)
from floor.stats import SeatStats

__all__ = ["Acd", "QueueNotFound"]


class Acd(AcdCore):
    """The ACD for one floor: queues and seats from configuration, state from the inputs."""

    def __init__(self, queues: Sequence[QueueConfig], seats: Sequence[SeatConfig], *, now: float,
                 day_of: Callable[[float], int] = utc_day) -> None:
        by_name: dict[str, QueueConfig] = {}
        for q in queues:
            if q.name in by_name:
                raise ConfigError(f"queue {q.name} is configured twice")
            by_name[q.name] = q
        for q in queues:
            if q.overflow and q.overflow.kind is OverflowKind.QUEUE and q.overflow.name not in by_name:
                raise ConfigError(f"queue {q.name}: overflow queue {q.overflow.name} does not exist")
        runtimes: dict[str, SeatRuntime] = {}
        for position, seat in enumerate(seats):
            if seat.id in runtimes:
                raise ConfigError(f"seat {seat.id} is configured twice")
            unknown = set(seat.queues) - by_name.keys()
            if unknown:
                raise ConfigError(f"seat {seat.id}: unknown queues {sorted(unknown)}")
            runtimes[seat.id] = SeatRuntime(seat, position, set(seat.queues), now,
                                            SeatStats(day=day_of(now), idle_since=now))
        super().__init__(by_name, runtimes, now=now, day_of=day_of)

    # ---- callers -----------------------------------------------------------------------------

    def caller_joined(self, call: str, queue: str, now: float, *, priority: int = 0,
                      skills: Mapping[str, int] = EMPTY, info: Mapping[str, str] = NO_INFO
                      ) -> list[AcdCommand]:
        """A caller enters ``queue`` (higher ``priority`` first; ``skills``: required levels)."""
        q = self._queue(queue)
        if call in self._callers:
            raise DuplicateCall(f"call {call} is already in queue {self._callers[call].queue}")
        out = self._begin(now)
        self._enqueue(call, q, now, out, priority=priority, skills=skills, info=info,
                      first_joined=now, visited=(), data={})
        return self._finish(now, out)

    def caller_left(self, call: str, now: float) -> list[AcdCommand]:
        """The caller hung up while waiting or ringing: abandoned, with its wait."""
        caller = self._callers.get(call)
        if caller is None or caller.state is CallerState.ANSWERED:
            return []  # gone already; an answered call ends through call_ended
        out = self._begin(now)
        self._cancel_offers(caller, out, "caller-left")
        caller.state = next_caller_state(caller.state, CallerInput.LEAVE)
        wait = now - caller.joined
        within = self._qstats[caller.queue].abandon(wait)
        out.append(QueueEvent(K.ABANDONED, call, caller.queue, None, wait, now,
                              {"within_threshold": flag(within), "attempts": str(caller.attempt)}))
        self._drop(caller)
        return self._finish(now, out)

    # ---- offers ------------------------------------------------------------------------------

    def offer_accepted(self, call: str, seat: str, now: float) -> list[AcdCommand]:
        """The seat answered: it is ON_CALL; the call's other (ring-all) offers are cancelled."""
        s = self._seat(seat)
        caller = self._callers.get(call)
        if caller is not None and caller.state is CallerState.ANSWERED and caller.seat == seat:
            return []  # the same answer reported twice
        if caller is None or seat not in caller.offers:
            return [CancelOffer(call, seat, "stale")]
        out = self._begin(now, seat, "seat")
        for other in sorted(caller.offers - {seat}):
            self._end_offer(caller, self._seats[other], out, cancel="answered-elsewhere")
        caller.offers.clear()
        caller.state = next_caller_state(caller.state, CallerInput.ACCEPT)
        caller.seat, caller.answered_at = seat, now
        self._touch(s)
        s.call_state = next_call_state(s.call_state, CallInput.ANSWER)
        s.offer, s.call = None, call
        s.stats.answered(self._day_of(now))
        self._timers.cancel(("rna", seat))
        for kind in ("max_wait", "announce", "retry"):
            self._timers.cancel((kind, call))
        wait = now - caller.joined
        within = self._qstats[caller.queue].answer(wait)
        out.append(QueueEvent(K.ANSWERED, call, caller.queue, seat, wait, now,
                              {"within_threshold": flag(within), "attempt": str(caller.attempt)}))
        return self._finish(now, out)

    def offer_failed(self, call: str, seat: str, now: float, *, reason: str) -> list[AcdCommand]:
        """The seat's phone refused (busy, declined, error): the call goes to the next seat."""
        s = self._seat(seat)
        caller = self._callers.get(call)
        if caller is None or seat not in caller.offers:
            return []
        out = self._begin(now)
        q = self._queues[caller.queue]
        self._end_offer(caller, s, out, cancel=None)
        caller.refused[seat] = now + q.retry_after
        out.append(QueueEvent(K.FAILED, call, q.name, seat, now - caller.joined, now, {"reason": reason}))
        return self._finish(now, out)

    def call_ended(self, call: str, seat: str, now: float) -> list[AcdCommand]:
        """The bridged call is over: the seat wraps up (queue ``wrap_up``), then is READY."""
        s = self._seat(seat)
        caller = self._callers.get(call)
        if caller is None or caller.state is not CallerState.ANSWERED or caller.seat != seat:
            return []
        out = self._begin(now)
        q = self._queues[caller.queue]
        talk = now - caller.answered_at
        self._touch(s)
        s.call_state = next_call_state(s.call_state, CallInput.HANGUP)
        s.call = None
        s.stats.ended(now, talk, self._day_of(now))
        self._apply_presence(s, PresenceInput.CALL_ENDED)
        if s.presence is Presence.WRAP_UP:
            if q.wrap_up > 0:
                self._timers.schedule(("wrap", seat), now + q.wrap_up)
            else:
                self._apply_presence(s, PresenceInput.WRAP_UP_DONE)
        self._qstats[q.name].handled(talk + q.wrap_up)
        out.append(QueueEvent(K.ENDED, call, q.name, seat, caller.answered_at - caller.joined, now,
                              {"talk_s": f"{talk:.3f}", "wrap_up_s": f"{q.wrap_up:g}"}))
        del self._callers[call]
        return self._finish(now, out)

    # ---- seats -------------------------------------------------------------------------------

    def set_presence(self, seat: str, action: PresenceAction, now: float, *,
                     reason: str | None = None, by: str = "seat") -> list[AcdCommand]:
        """Ready / pause (with a reason) / logout, from a feature code or the HTTP API (``by``)."""
        s = self._seat(seat)
        out = self._begin(now, seat, by)
        self._apply_presence(s, PresenceInput.of(action), reason)
        self._withdraw(s, now, out, action.value)
        return self._finish(now, out)

    def seat_reachable(self, seat: str, reachable: bool, now: float) -> list[AcdCommand]:
        """The seat's phones registered, or the last registration went away."""
        s = self._seat(seat)
        if s.reachable == reachable:
            return []
        out = self._begin(now)
        self._touch(s)
        s.reachable = reachable
        return self._availability_changed(s, now, out, "unreachable")

    def seat_busy_elsewhere(self, seat: str, busy: bool, now: float) -> list[AcdCommand]:
        """The seat is on (or finished) a call the ACD did not place; not offered meanwhile."""
        s = self._seat(seat)
        if s.busy_elsewhere == busy:
            return []
        out = self._begin(now)
        self._touch(s)
        s.busy_elsewhere = busy
        return self._availability_changed(s, now, out, "busy-elsewhere")

    def lend(self, seat: str, campaign: str | None, now: float) -> list[AcdCommand]:
        """Lend the seat to an outbound ``campaign`` (presence stays; no queue calls) or take it back."""
        s = self._seat(seat)
        if s.lent_to == campaign:
            return []
        out = self._begin(now)
        self._touch(s)
        s.lent_to = campaign
        return self._availability_changed(s, now, out, "lent")

    def _availability_changed(self, s: SeatRuntime, now: float, out: list[AcdCommand],
                              why: str) -> list[AcdCommand]:
        out.append(SeatAvailabilityChanged(s.id, s.reachable, s.busy_elsewhere, s.lent_to, now))
        self._withdraw(s, now, out, why)
        return self._finish(now, out)

    def set_membership(self, seat: str, queues: Collection[str], now: float, *,
                       by: str = "watcher") -> list[AcdCommand]:
        """The queues the seat serves from now on (the queue-watcher moves seats at run time)."""
        s = self._seat(seat)
        wanted = {self._queue(name).name for name in queues}
        if wanted == s.queues:
            return []
        out = self._begin(now, seat, by)
        self._touch(s)
        s.queues = wanted
        out.append(SeatMembershipChanged(seat, tuple(sorted(wanted)), now, by))
        self._withdraw(s, now, out, "moved")
        return self._finish(now, out)

    # ---- queues at run time -----------------------------------------------------------------

    def add_queue(self, config: QueueConfig, now: float) -> list[AcdCommand]:
        """A new queue from ``now`` on: empty, with fresh counters; snapshots and queue events
        include it from then on and seats join it through :meth:`set_membership`.

        Raises :class:`ConfigError` (a ``ValueError``) naming the queue if the name exists or its
        overflow queue does not.
        """
        if config.name in self._queues:
            raise ConfigError(f"queue {config.name} already exists")
        self._check_overflow(config)
        out = self._begin(now)
        self._install_queue(config)
        return self._finish(now, out)

    def update_queue(self, config: QueueConfig, now: float) -> list[AcdCommand]:
        """New parameters for the existing queue ``config.name``; every field may change.

        Callers in the queue keep their place and their wait (join time, priority, FIFO order);
        the counters go on. Each decision from ``now`` on reads the new parameters (strategy,
        tiers, skills, overflow and its ``overflow_when_no_seats``, ``rna_pause``, the next
        offer's ``ring_timeout``, the next refusal's ``retry_after``, the next call end's
        ``wrap_up``, the service level of the next outcome). Deadlines already running:

        - a changed ``max_wait`` or ``overflow`` re-arms each caller's max wait at its join
          time here + the new ``max_wait`` or, if that has passed, at ``now`` (so it overflows at
          the next :meth:`handle_timer`); no ``max_wait`` any more cancels it;
        - a changed ``announce_every``: the next announcement comes at the earlier of the one
          pending and ``now`` + the new interval; ``None`` stops them;
        - rings keep their ``ring_timeout`` (the offer told the executor), seats in wrap-up and
          refused seats keep their end time.

        The skill requirements of waiting callers follow the queue's new ``skills``. Raises
        :class:`QueueNotFound` (a ``KeyError``) for an unknown queue and :class:`ConfigError` for
        an overflow queue that does not exist; nothing changes then.
        """
        old = self._queues.get(config.name)
        if old is None:
            raise QueueNotFound(f"no queue {config.name!r}")
        self._check_overflow(config)
        out = self._begin(now)
        self._retune(old, config, now)
        return self._finish(now, out)

    def remove_queue(self, name: str, now: float, *, by: str = "acd") -> list[AcdCommand]:
        """Take an empty queue off the floor (a campaign deleted at run time): its member seats
        leave it (``SeatMembershipChanged``, their other queues kept), its counters go.

        Raises :class:`QueueNotFound` for an unknown queue, and :class:`QueueInUse` while a call
        is in it (waiting, ringing or bridged) or another queue overflows into it.
        """
        if name not in self._queues:
            raise QueueNotFound(f"no queue {name!r}")
        calls = sum(1 for c in self._callers.values() if c.queue == name)
        if calls:
            raise QueueInUse(f"queue {name} has {calls} call(s) in it")
        feeding = sorted(q.name for q in self._queues.values() if q.name != name and q.overflow is not None
                         and q.overflow.kind is OverflowKind.QUEUE and q.overflow.name == name)
        if feeding:
            raise QueueInUse(f"queue {name} is the overflow of {', '.join(feeding)}")
        out = self._begin(now, None, by)
        for s in self._seats.values():
            if name in s.queues:
                self._touch(s)
                s.queues = s.queues - {name}
                out.append(SeatMembershipChanged(s.id, tuple(sorted(s.queues)), now, by))
        del self._queues[name], self._qstats[name]
        self._rr.pop(name, None)
        return self._finish(now, out)

    # ---- time --------------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """The earliest deadline (``None``: nothing pending); call :meth:`handle_timer` then."""
        return self._timers.next_deadline()

    def handle_timer(self, now: float) -> list[AcdCommand]:
        """Run every timer due at ``now``, earliest first."""
        out = self._begin(now)
        while (key := self._timers.pop_next(now)) is not None:
            kind, name = key
            if kind == "rna":
                self._ring_no_answer(self._seats[name], now, out)
            elif kind == "wrap":
                self._apply_presence(self._seats[name], PresenceInput.WRAP_UP_DONE)
            elif kind == "max_wait":
                self._overflow(self._callers[name], now, out, "max-wait")
            elif kind == "announce":
                self._announce(name, now, out)
            # "retry": a refusal's cool-down is over; the dispatch in _finish offers the call again
        return self._finish(now, out)

    def _ring_no_answer(self, seat: SeatRuntime, now: float, out: list[AcdCommand]) -> None:
        assert seat.offer is not None  # the timer is cancelled whenever the offer ends
        caller = self._callers[seat.offer]
        q = self._queues[caller.queue]
        ring = self._ring_timeout[seat.id]  # this ring's, even if the queue's changed since
        self._end_offer(caller, seat, out, cancel="rna")
        caller.refused[seat.id] = now + q.retry_after
        seat.stats.missed(self._day_of(now))
        out.append(QueueEvent(K.RNA, caller.call, q.name, seat.id, now - caller.joined, now,
                              {"attempt": str(caller.attempt), "ring_s": f"{ring:g}"}))
        if q.rna_pause:
            self._apply_presence(seat, PresenceInput.NO_ANSWER, RNA_REASON)

    def _announce(self, call: str, now: float, out: list[AcdCommand]) -> None:
        caller = self._callers[call]
        q = self._queues[caller.queue]
        assert q.announce_every is not None
        self._timers.schedule(("announce", call), now + q.announce_every)
        if caller.state is CallerState.WAITING:  # not while a seat's phone is ringing
            position = self._in_queue(q.name).index(caller) + 1
            out.append(Announce(call, q.name, position, self._expected_wait(q, position)))

    # ---- events in, views out ----------------------------------------------------------------

    def handle(self, event: AcdInput, now: float) -> list[AcdCommand]:
        """Feed one input event (a simulator or a replay drives the ACD with these)."""
        match event:
            case CallerJoined(call, queue, priority, skills, info):
                return self.caller_joined(call, queue, now, priority=priority, skills=skills, info=info)
            case CallerLeft(call):
                return self.caller_left(call, now)
            case OfferAccepted(call, seat):
                return self.offer_accepted(call, seat, now)
            case OfferFailed(call, seat, reason):
                return self.offer_failed(call, seat, now, reason=reason)
            case CallEnded(call, seat):
                return self.call_ended(call, seat, now)
            case PresenceRequested(seat, action, reason, by):
                return self.set_presence(seat, action, now, reason=reason, by=by)
            case SeatReachable(seat, reachable):
                return self.seat_reachable(seat, reachable, now)
            case SeatBusyElsewhere(seat, busy):
                return self.seat_busy_elsewhere(seat, busy, now)
            case MembershipSet(seat, queues):
                return self.set_membership(seat, queues, now)
            case SeatLent(seat, campaign):
                return self.lend(seat, campaign, now)

    def snapshot(self, now: float | None = None) -> FloorSnapshot:
        """Queues (callers with position and wait, counters) and seats (states, since, stats)."""
        at = self._now if now is None else now
        queues = {name: queue_view(q, self._qstats[name], self._in_queue(name),
                                   [s for s in self._seats.values() if name in s.queues], at)
                  for name, q in self._queues.items()}
        return FloorSnapshot(at, queues, {s.id: seat_view(s, at) for s in self._seats.values()})
