"""The ACD's state and the steps every input is made of (offer, withdraw, overflow, dispatch).

:class:`AcdCore` holds the seats, callers, queue counters and the one timer heap; the public
inputs live in :class:`floor.acd.Acd`. Every input runs as ``_begin`` -> its own steps ->
``_finish``, and ``_finish`` is the only place that matches callers to seats: overflow callers of
unstaffed queues, mark seats that became available, dispatch, then report seat state changes.
Nothing polls; work happens when an input or a timer arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import count

from floor.errors import ConfigError, UnknownQueue, UnknownSeat
from floor.events import AcdCommand, CancelOffer, OfferCall, Overflow, QueueEvent, SeatStateChanged
from floor.events import QueueEventKind as K
from floor.model import OverflowKind, QueueConfig, Strategy
from floor.runtime import CallerRuntime, SeatRuntime, SeatStateKey
from floor.states import (
    CallerInput,
    CallerState,
    CallInput,
    PresenceInput,
    next_call_state,
    next_caller_state,
    next_presence,
)
from floor.states import Presence as P
from floor.stats import QueueStats
from floor.strategies import Candidate, choose, meets, skill_level
from floor.timers import TimerHeap

__all__ = ["AcdCore", "QueueNotFound", "TimerKey", "flag", "utc_day"]

TimerKey = tuple[str, str]  # (kind, seat id or call id): rna/wrap per seat, max_wait/announce/retry per call


def utc_day(now: float) -> int:
    """The default day key: days since the epoch, UTC (inject local days for local reports)."""
    return int(now // 86400)


class QueueNotFound(UnknownQueue, KeyError):
    """No queue by this name, where a ``KeyError`` is expected (:meth:`floor.acd.Acd.update_queue`)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""  # not KeyError's quoted repr


def flag(value: bool) -> str:
    """A boolean as event data."""
    return "true" if value else "false"


class AcdCore:
    """State and internal steps of the ACD (see :class:`floor.acd.Acd` for the inputs)."""

    def __init__(self, queues: dict[str, QueueConfig], seats: dict[str, SeatRuntime], *,
                 now: float, day_of: Callable[[float], int]) -> None:
        self._queues = queues
        self._seats = seats
        self._qstats = {q.name: QueueStats(q.service_level_threshold, q.default_handle_time)
                        for q in queues.values()}
        self._callers: dict[str, CallerRuntime] = {}  # waiting, offered, or answered and bridged
        self._rr: dict[str, int] = {}  # round-robin memory: position of the seat offered last
        self._ring_timeout: dict[str, float] = {}  # seat -> its ring's timeout (a queue may change)
        self._timers: TimerHeap[TimerKey] = TimerHeap()
        self._seq = count()
        self._day_of = day_of
        self._now = now
        self._actor: tuple[str | None, str] = (None, "acd")
        self._touched: dict[str, tuple[SeatStateKey, bool]] = {}

    # ---- lookups -----------------------------------------------------------------------------

    def _seat(self, seat: str) -> SeatRuntime:
        try:
            return self._seats[seat]
        except KeyError:
            raise UnknownSeat(f"no seat {seat!r}") from None

    def _queue(self, queue: str) -> QueueConfig:
        try:
            return self._queues[queue]
        except KeyError:
            raise UnknownQueue(f"no queue {queue!r}") from None

    def _in_queue(self, queue: str) -> list[CallerRuntime]:
        """The callers still in ``queue`` (waiting or ringing), in service order."""
        live = (CallerState.WAITING, CallerState.OFFERED)
        callers = [c for c in self._callers.values() if c.queue == queue and c.state in live]
        return sorted(callers, key=CallerRuntime.order_key)

    # ---- the frame of every input ------------------------------------------------------------

    def _begin(self, now: float, seat: str | None = None, by: str = "acd") -> list[AcdCommand]:
        self._now = now
        self._actor = (seat, by)
        self._touched = {}
        return []

    def _finish(self, now: float, out: list[AcdCommand]) -> list[AcdCommand]:
        self._overflow_unstaffed(now, out)
        for seat_id, (_, was_idling) in self._touched.items():
            seat = self._seats[seat_id]
            if seat.idling and not was_idling:  # a refused or cancelled offer keeps the idle time
                seat.stats.idle_since = now
        self._dispatch(now, out)
        self._report_seats(now, out)
        return out

    def _touch(self, seat: SeatRuntime) -> None:
        """Remember the seat's state before this input changes it (reported once, at the end)."""
        self._touched.setdefault(seat.id, (seat.state(), seat.idling))

    def _report_seats(self, now: float, out: list[AcdCommand]) -> None:
        actor, by = self._actor
        for seat_id, (before, _) in self._touched.items():
            seat = self._seats[seat_id]
            if seat.state() != before:
                out.append(SeatStateChanged(seat_id, *seat.state(), now, *before, since=seat.since,
                                            by=by if seat_id == actor else "acd"))
                seat.since = now
        self._touched = {}

    # ---- seat steps --------------------------------------------------------------------------

    def _apply_presence(self, seat: SeatRuntime, event: PresenceInput, reason: str | None = None) -> None:
        new = next_presence(seat.presence, event)
        self._touch(seat)
        if seat.presence is P.WRAP_UP and new is not P.WRAP_UP:
            self._timers.cancel(("wrap", seat.id))
        seat.presence = new
        if new is not P.PAUSED:
            seat.reason = None
        elif event in (PresenceInput.PAUSE, PresenceInput.NO_ANSWER):
            seat.reason = reason
        # else: a call ended while paused: the pause and its reason go on

    def _withdraw(self, seat: SeatRuntime, now: float, out: list[AcdCommand], why: str) -> None:
        """End the seat's offer if the seat can no longer take it (paused, unregistered, moved...)."""
        if seat.offer is None:
            return
        caller = self._callers[seat.offer]
        if seat.offerable and caller.queue in seat.queues:
            return
        self._end_offer(caller, seat, out, cancel="withdrawn")
        out.append(QueueEvent(K.FAILED, caller.call, caller.queue, seat.id, now - caller.joined, now,
                              {"reason": why}))

    # ---- offers ------------------------------------------------------------------------------

    def _offer(self, caller: CallerRuntime, seats: list[SeatRuntime], now: float,
               out: list[AcdCommand]) -> None:
        q = self._queues[caller.queue]
        day = self._day_of(now)
        caller.attempt += 1
        for seat in seats:
            caller.state = next_caller_state(caller.state, CallerInput.OFFER)
            caller.offers.add(seat.id)
            self._touch(seat)
            seat.call_state = next_call_state(seat.call_state, CallInput.OFFER)
            seat.offer = caller.call
            seat.stats.offered(day)
            self._timers.schedule(("rna", seat.id), now + q.ring_timeout)
            self._ring_timeout[seat.id] = q.ring_timeout
            out.append(OfferCall(caller.call, seat.id, q.name, caller.attempt, q.ring_timeout, caller.info))
            out.append(QueueEvent(K.OFFERED, caller.call, q.name, seat.id, now - caller.joined, now,
                                  {"attempt": str(caller.attempt)}))
        if q.strategy is Strategy.ROUND_ROBIN:
            self._rr[q.name] = seats[-1].position

    def _end_offer(self, caller: CallerRuntime, seat: SeatRuntime, out: list[AcdCommand], *,
                   cancel: str | None) -> None:
        """End one live offer; ``cancel`` (a reason) tells the executor to stop ringing."""
        caller.offers.discard(seat.id)
        self._touch(seat)
        seat.offer = None
        seat.call_state = next_call_state(seat.call_state, CallInput.OFFER_ENDED)
        self._timers.cancel(("rna", seat.id))
        self._ring_timeout.pop(seat.id, None)
        if cancel is not None:
            out.append(CancelOffer(caller.call, seat.id, cancel))
        if not caller.offers:
            caller.state = next_caller_state(caller.state, CallerInput.OFFERS_ENDED)

    def _cancel_offers(self, caller: CallerRuntime, out: list[AcdCommand], reason: str) -> None:
        for seat_id in sorted(caller.offers):
            self._end_offer(caller, self._seats[seat_id], out, cancel=reason)

    # ---- callers -----------------------------------------------------------------------------

    def _enqueue(self, call: str, q: QueueConfig, now: float, out: list[AcdCommand], *,
                 priority: int, skills: Mapping[str, int], info: Mapping[str, str],
                 first_joined: float, visited: tuple[str, ...], data: dict[str, str]) -> None:
        caller = CallerRuntime(call, q.name, priority, dict(skills), _required(q, skills), dict(info),
                               first_joined, now, next(self._seq), (*visited, q.name))
        self._callers[call] = caller
        self._qstats[q.name].joined()
        if q.max_wait is not None:
            self._timers.schedule(("max_wait", call), now + q.max_wait)
        if q.announce_every is not None:
            self._timers.schedule(("announce", call), now + q.announce_every)
        out.append(QueueEvent(K.JOINED, call, q.name, None, 0.0, now,
                              {"priority": str(priority), **data}))

    def _drop(self, caller: CallerRuntime) -> None:
        """Forget a caller that left the ACD (abandoned, overflowed or its call ended)."""
        del self._callers[caller.call]
        for kind in ("max_wait", "announce", "retry"):
            self._timers.cancel((kind, caller.call))

    def _can_overflow(self, caller: CallerRuntime) -> bool:
        target = self._queues[caller.queue].overflow
        return target is not None and not (target.kind is OverflowKind.QUEUE and target.name in caller.visited)

    def _overflow(self, caller: CallerRuntime, now: float, out: list[AcdCommand], reason: str) -> None:
        """Send the caller to the queue's overflow target; into a queue it already left, it stays."""
        q = self._queues[caller.queue]
        target = q.overflow
        if target is None or not self._can_overflow(caller):
            return
        self._cancel_offers(caller, out, "overflow")
        caller.state = next_caller_state(caller.state, CallerInput.OVERFLOW)
        wait = now - caller.joined
        self._qstats[q.name].overflow()
        out.append(Overflow(caller.call, q.name, target, reason, wait))
        out.append(QueueEvent(K.OVERFLOWED, caller.call, q.name, None, wait, now,
                              {"target": str(target), "reason": reason}))
        self._drop(caller)
        if target.kind is OverflowKind.QUEUE:
            # Order in the new queue by the first join (the caller has waited that long); the new
            # queue's wait, max wait and service level count from now (its own performance).
            self._enqueue(caller.call, self._queues[target.name], now, out, priority=caller.priority,
                          skills=caller.skills, info=caller.info, first_joined=caller.first_joined,
                          visited=caller.visited, data={"from": q.name})

    def _overflow_unstaffed(self, now: float, out: list[AcdCommand]) -> None:
        if not any(q.overflow_when_no_seats for q in self._queues.values()):
            return
        while True:  # ends: each pass moves callers only into queues they have not visited
            staffed = {name for seat in self._seats.values() if seat.staffed for name in seat.queues}
            stranded = [c for c in self._callers.values()
                        if c.state is CallerState.WAITING and c.queue not in staffed
                        and self._queues[c.queue].overflow_when_no_seats and self._can_overflow(c)]
            if not stranded:
                return
            for caller in sorted(stranded, key=CallerRuntime.order_key):
                self._overflow(caller, now, out, "no-seats")

    # ---- queues added or changed at run time (see Acd.add_queue / Acd.update_queue) -------------

    def _check_overflow(self, q: QueueConfig) -> None:
        target = q.overflow
        if target is not None and target.kind is OverflowKind.QUEUE and target.name not in self._queues:
            raise ConfigError(f"queue {q.name}: overflow queue {target.name} does not exist")

    def _install_queue(self, q: QueueConfig) -> None:
        self._queues[q.name] = q
        self._qstats[q.name] = QueueStats(q.service_level_threshold, q.default_handle_time)

    def _retune(self, old: QueueConfig, new: QueueConfig, now: float) -> None:
        """Give the queue its new parameters; re-arm the timers of the callers already in it."""
        self._queues[new.name] = new
        stats = self._qstats[new.name]
        stats.threshold = new.service_level_threshold
        if stats.ended == 0:  # still the configured guess: no call has measured it yet
            stats.handle_time_estimate = new.default_handle_time
        rearm_max_wait = (old.max_wait, old.overflow) != (new.max_wait, new.overflow)
        for caller in self._in_queue(new.name):
            caller.required = _required(new, caller.skills)
            if rearm_max_wait:
                self._rearm(("max_wait", caller.call),
                            None if new.max_wait is None else max(caller.joined + new.max_wait, now))
            if old.announce_every != new.announce_every:
                due = self._timers.deadline(("announce", caller.call))
                soon = None if new.announce_every is None else now + new.announce_every
                self._rearm(("announce", caller.call), soon if due is None or soon is None else min(due, soon))

    def _rearm(self, key: TimerKey, deadline: float | None) -> None:
        if deadline is None:
            self._timers.cancel(key)
        else:
            self._timers.schedule(key, deadline)

    # ---- matching callers and seats ----------------------------------------------------------

    def _dispatch(self, now: float, out: list[AcdCommand]) -> None:
        """Offer waiting callers to available seats: highest priority, longest waiting first.

        Callers are served in that order across all queues, so a seat in several queues gets the
        first caller (by priority, then wait) of its queues whose strategy picks it.
        """
        free = {seat.id: seat for seat in self._seats.values() if seat.available}
        if not free:
            return
        waiting = [c for c in self._callers.values() if c.state is CallerState.WAITING]
        day = self._day_of(now)
        for caller in sorted(waiting, key=CallerRuntime.order_key):
            chosen = self._choose(caller, free, now, day)
            if chosen:
                self._offer(caller, chosen, now, out)
                for seat in chosen:
                    del free[seat.id]
                if not free:
                    return

    def _choose(self, caller: CallerRuntime, free: dict[str, SeatRuntime], now: float,
                day: int) -> list[SeatRuntime]:
        q = self._queues[caller.queue]
        candidates: list[Candidate] = []
        retry_at: float | None = None
        for seat in free.values():
            if q.name not in seat.queues or (q.tiers and seat.config.tier not in q.tiers) \
                    or not meets(seat.config.skills, caller.required):
                continue
            until = caller.refused.get(seat.id)
            if until is not None and until > now:
                retry_at = until if retry_at is None else min(retry_at, until)
                continue
            seat.stats.roll(day)
            candidates.append(Candidate(seat.id, seat.position, seat.stats.idle_since,
                                        seat.stats.calls, seat.stats.talk_time,
                                        skill_level(seat.config.skills, caller.required),
                                        seat.penalty(q.name)))
        if not candidates and retry_at is not None:
            self._timers.schedule(("retry", caller.call), retry_at)
        return [free[c.seat] for c in choose(q.strategy, candidates, last=self._rr.get(q.name))]

    def _expected_wait(self, q: QueueConfig, position: int) -> int | None:
        """Seconds until the caller at ``position`` is served; ``None`` while nobody works the queue.

        With ``n`` seats working the queue and ``free`` of them available, the caller waits for
        ``position - free`` seats to finish a call; seats finish at ``n / AHT`` per second, so
        ``(position - free) * AHT / n`` (exact for exponential handle times; it ignores abandons).
        """
        working = [seat for seat in self._seats.values() if q.name in seat.queues and seat.working]
        if not working:
            return None
        free = sum(seat.available for seat in working)
        ahead = max(0, position - free)
        return round(ahead * self._qstats[q.name].handle_time_estimate / len(working))


def _required(q: QueueConfig, skills: Mapping[str, int]) -> dict[str, int]:
    """The caller's and the queue's skill requirements, the higher level of each."""
    required = dict(q.skills)
    for name, level in skills.items():
        required[name] = max(level, required.get(name, 0))
    return required
