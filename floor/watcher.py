"""The queue-watcher: a floor snapshot and a policy in, explained seat moves out.

Pure: :meth:`QueueWatcher.decide` is called every few seconds with a :class:`WatcherSnapshot`
and ``now``; it returns the moves to carry out now. Each inbound queue's rule yields a *delta*
(seats the queue should gain or give up):

* ``rules`` mode: a queue whose service level over 15 minutes falls under ``trigger_sl`` or whose
  longest wait passes ``trigger_longest_wait_s`` raises its number of borrowed seats by
  ``lend_step`` (at most every ``step_every_s``, up to ``max_lent``); once it has met the recovery
  thresholds for ``healthy_for_s`` it gives them back, ``lend_step`` at a time. The gap between
  trigger and recovery thresholds is the hysteresis.
* ``erlang`` mode: Erlang C or Erlang A (with the queue's patience) gives the seats the recent
  arrival rate and handle time need for the target; the queue gains the difference, or gives up
  what it has beyond ``spare_margin`` (never while its trigger fires).

Seats come first from the queue's own home seats lent out, then from the ``lend_from`` campaigns
in order (with the skill); spare seats go home first, then to ``lend_out_to``. It does not flap:
a seat stays at least ``min_dwell_s`` where it was moved, at most ``max_moves_per_minute`` moves
leave the watcher per minute, and a seat ringing, talking or in wrap-up is never pulled: it is
kept *pending* and moves as soon as it is free (if the move is still wanted then).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace

from floor import erlang
from floor.watcher_policy import Model, QueueRule, WatcherMode, WatcherPolicy
from floor.watcher_snapshot import (
    BUSY,
    Explanation,
    MoveKind,
    QueueInfo,
    SeatActivity,
    SeatInfo,
    SeatMove,
    WatcherSnapshot,
    campaign_target,
    queue_target,
)

__all__ = ["MESSAGES", "QueueWatcher", "seats_needed"]

MESSAGES: Mapping[str, str] = {
    "watcher.lend.service_level": "Seat {seat} moves from {source} to {target}: the service level "
    "of queue {queue} over 15 min is {sl_15m}, under {trigger_sl}.",
    "watcher.lend.longest_wait": "Seat {seat} moves from {source} to {target}: the longest wait "
    "in queue {queue} is {longest_wait_s} s, over {trigger_longest_wait_s} s.",
    "watcher.return.healthy": "Seat {seat} goes back from {source} to {target}: queue {queue} has "
    "been healthy for {healthy_s} s (service level {sl_15m}, longest wait {longest_wait_s} s).",
    "watcher.lend.forecast": "Seat {seat} moves from {source} to {target}: {model} needs {needed} "
    "seats in queue {queue} for {target_sl} within {sl_threshold_s} s at {arrivals_per_hour} "
    "calls/h and {handle_time_s} s handle time; it has {staffed}.",
    "watcher.return.forecast": "Seat {seat} goes back from {source} to {target}: {model} needs "
    "only {needed} seats in queue {queue} at {arrivals_per_hour} calls/h; it has {staffed}.",
    "watcher.lend_out.forecast": "Seat {seat} moves from {source} to {target}: {model} needs only "
    "{needed} seats in queue {queue} at {arrivals_per_hour} calls/h; it has {staffed}.",
}
_PERCENT = {"sl_15m", "trigger_sl", "target_sl", "recover_sl"}
FREE = frozenset({SeatActivity.READY, SeatActivity.PAUSED})  # may move now (not mid-call)
WORKING = frozenset({SeatActivity.READY, *BUSY})  # counts as capacity


def _show(name: str, value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if name in _PERCENT:
            return f"{value:.0%}"
        # Whole numbers from 100 up; below, one decimal, so "30.4 s over 30 s" reads as it is.
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}".removesuffix(".0")
    return str(value)


def seats_needed(rule: QueueRule, rate: float, handle_time: float) -> int:
    """The fewest seats that meet the rule's target for ``rate`` calls/s of ``handle_time`` s."""
    try:
        if rule.model is Model.ERLANG_C:
            n = erlang.agents_for_service_level(rate, handle_time, rule.sl_threshold_s, rule.target_sl)
        else:
            n = erlang.agents_for_service_level_a(rate, handle_time, rule.patience_s,
                                                  rule.sl_threshold_s, rule.target_sl)
    except ValueError:
        n = erlang.MAX_SEATS
    return max(rule.min_seats, n if rate > 0 else 0)


@dataclass
class _QueueState:
    lent_target: int = 0  # rules mode: seats the queue should have borrowed
    last_step: float = -math.inf
    healthy_since: float | None = None
    triggered: bool = False
    reason: tuple[str, dict[str, float | int | None]] | None = None


@dataclass(frozen=True, slots=True)
class _Why:
    rule: QueueRule
    key: str
    numbers: dict[str, float | int | None]


class QueueWatcher:
    """Decides seat moves between inbound queues and outbound campaigns (module docstring)."""

    def __init__(self, policy: WatcherPolicy) -> None:
        self.policy = policy
        self._queues = {rule.queue: _QueueState() for rule in policy.rules}
        self._recent: deque[float] = deque()  # when each of the last minute's moves left
        self._moved_at: dict[str, float] = {}
        self._pending: dict[str, SeatMove] = {}

    @property
    def pending(self) -> Mapping[str, SeatMove]:
        """Moves decided for seats that were busy; they leave once the seat is free."""
        return dict(self._pending)

    def decide(self, snapshot: WatcherSnapshot, now: float) -> list[SeatMove]:
        """The moves to carry out now (possibly none), each with its explanation."""
        if self.policy.mode is WatcherMode.OFF:
            return []
        seats = snapshot.seats
        self._drop_stale_pending(seats)
        planned: list[SeatMove] = []
        deltas = []
        for rule in self.policy.rules:
            q = snapshot.queues.get(rule.queue)
            if q is not None:
                self._health(rule, q, now)
                deltas.append((rule, q, *self._delta(rule, q, seats, now)))
        deltas.sort(key=lambda d: -d[2])  # queues that need seats choose first
        taken = set(self._pending)
        for rule, q, delta, why in deltas:
            if delta and why is not None:
                planned += self._balance(rule, delta, why, q, seats, taken, now)
        return self._release(planned, seats, now)

    # ---- health and deltas -------------------------------------------------------------------

    def _health(self, rule: QueueRule, q: QueueInfo, now: float) -> None:
        st = self._queues[rule.queue]
        low_sl = rule.trigger_sl is not None and q.sl_15m is not None and q.sl_15m < rule.trigger_sl
        long_wait = (rule.trigger_longest_wait_s is not None
                     and q.longest_wait_s > rule.trigger_longest_wait_s)
        st.triggered = low_sl or long_wait
        recovered = ((q.sl_15m is None or q.sl_15m >= rule.recover_sl)
                     and q.longest_wait_s <= rule.recover_longest_wait_s)
        if st.triggered or not recovered:
            st.healthy_since = None
        elif st.healthy_since is None:
            st.healthy_since = now
        if st.triggered:
            key = "watcher.lend.service_level" if low_sl else "watcher.lend.longest_wait"
            st.reason = (key, {"sl_15m": q.sl_15m, "trigger_sl": rule.trigger_sl,
                               "longest_wait_s": round(q.longest_wait_s, 1),
                               "trigger_longest_wait_s": rule.trigger_longest_wait_s,
                               "waiting": q.waiting})

    def _delta(self, rule: QueueRule, q: QueueInfo, seats: Mapping[str, SeatInfo],
               now: float) -> tuple[int, _Why | None]:
        if self.policy.mode is WatcherMode.ERLANG:
            return self._erlang_delta(rule, q, seats)
        st = self._queues[rule.queue]
        home = queue_target(rule.queue)
        lent = sum(1 for s in seats.values() if s.assignment == home and s.home != home
                   and s.state is not SeatActivity.LOGGED_OUT)
        current = lent + self._pending_balance(home)
        st.lent_target = min(st.lent_target, rule.max_lent)
        due = now - st.last_step >= rule.step_every_s
        healthy = st.healthy_since is not None and now - st.healthy_since >= rule.healthy_for_s
        if st.triggered and due and current < rule.max_lent:
            st.lent_target = min(rule.max_lent, max(st.lent_target, current) + rule.lend_step)
            st.last_step = now
        elif healthy and due and st.lent_target > 0:
            st.lent_target = max(0, min(st.lent_target, current) - rule.lend_step)
            st.last_step = now
        delta = st.lent_target - current
        if delta > 0 and st.reason is not None:
            return delta, _Why(rule, st.reason[0], st.reason[1])
        if delta < 0 and healthy:
            assert st.healthy_since is not None
            return delta, _Why(rule, "watcher.return.healthy", {
                "healthy_s": round(now - st.healthy_since), "sl_15m": q.sl_15m,
                "recover_sl": rule.recover_sl, "longest_wait_s": round(q.longest_wait_s, 1)})
        return 0, None

    def _erlang_delta(self, rule: QueueRule, q: QueueInfo,
                      seats: Mapping[str, SeatInfo]) -> tuple[int, _Why | None]:
        if q.arrival_rate is None or q.handle_time_s is None or q.handle_time_s <= 0:
            return 0, None
        home = queue_target(rule.queue)
        staffed = sum(1 for s in seats.values() if s.assignment == home and s.state in WORKING)
        needed = seats_needed(rule, q.arrival_rate, q.handle_time_s)
        effective = staffed + self._pending_balance(home)
        numbers: dict[str, float | int | None] = {
            "needed": needed, "staffed": staffed, "arrivals_per_hour": round(q.arrival_rate * 3600, 1),
            "handle_time_s": round(q.handle_time_s, 1), "target_sl": rule.target_sl,
            "sl_threshold_s": rule.sl_threshold_s}
        if rule.model is Model.ERLANG_A:
            numbers["patience_s"] = rule.patience_s
        if effective < needed:
            return needed - effective, _Why(rule, "watcher.lend.forecast", numbers)
        if effective > needed + rule.spare_margin and not self._queues[rule.queue].triggered:
            return needed + rule.spare_margin - effective, _Why(rule, "watcher.return.forecast", numbers)
        return 0, None

    def _pending_balance(self, assignment: str) -> int:
        """Pending moves into ``assignment`` minus those out of it."""
        return sum((m.target == assignment) - (m.source == assignment) for m in self._pending.values())

    # ---- choosing seats ----------------------------------------------------------------------

    def _balance(self, rule: QueueRule, delta: int, why: _Why, q: QueueInfo,
                 seats: Mapping[str, SeatInfo], taken: set[str], now: float) -> list[SeatMove]:
        home = queue_target(rule.queue)
        # Pending moves the other way are cancelled first: no seat goes out and back.
        for seat_id, move in list(self._pending.items()):
            if delta and (move.source if delta > 0 else move.target) == home:
                del self._pending[seat_id]
                taken.discard(seat_id)
                delta += -1 if delta > 0 else 1
        picks = self._candidates_in(rule, seats, taken, now) if delta > 0 else \
            self._candidates_out(rule, seats, taken, now)
        out: list[SeatMove] = []
        for seat, target, kind in picks[:abs(delta)]:
            taken.add(seat.id)
            out.append(self._move(seat, target, kind, why, q, now))
        return out

    def _movable(self, seat: SeatInfo, taken: set[str], now: float) -> bool:
        last = max(seat.moved_at or -math.inf, self._moved_at.get(seat.id, -math.inf))
        return (seat.id not in taken and now - last >= self.policy.min_dwell_s
                and seat.state in WORKING)

    def _candidates_in(self, rule: QueueRule, seats: Mapping[str, SeatInfo], taken: set[str],
                       now: float) -> list[tuple[SeatInfo, str, MoveKind]]:
        home = queue_target(rule.queue)
        groups: list[list[SeatInfo]] = [[s for s in seats.values() if s.home == home
                                         and s.assignment != home]]
        for campaign in rule.lend_from:
            groups.append([s for s in seats.values() if s.assignment == campaign_target(campaign)
                           and s.home != home and s.level(rule.skill) >= rule.min_level])
        picks: list[tuple[SeatInfo, str, MoveKind]] = []
        for i, group in enumerate(groups):
            kind = MoveKind.RETURN if i == 0 else MoveKind.LEND
            ready = sorted((s for s in group if self._movable(s, taken, now)),
                           key=lambda s: (s.state is not SeatActivity.READY, s.id))
            picks += [(s, home, kind) for s in ready]
        return sorted(picks, key=lambda p: p[0].state is not SeatActivity.READY)

    def _candidates_out(self, rule: QueueRule, seats: Mapping[str, SeatInfo], taken: set[str],
                        now: float) -> list[tuple[SeatInfo, str, MoveKind]]:
        home = queue_target(rule.queue)
        here = sorted((s for s in seats.values() if s.assignment == home
                       and self._movable(s, taken, now)),
                      key=lambda s: (s.state is not SeatActivity.READY, s.id))
        picks = [(s, s.home, MoveKind.RETURN) for s in here if s.home != home]
        if self.policy.mode is WatcherMode.ERLANG and rule.lend_out_to:
            target = campaign_target(rule.lend_out_to[0])
            picks += [(s, target, MoveKind.LEND_OUT) for s in here if s.home == home]
        return picks

    def _move(self, seat: SeatInfo, target: str, kind: MoveKind, why: _Why, q: QueueInfo,
              now: float) -> SeatMove:
        params: dict[str, str | float | int | None] = {
            "seat": seat.id, "source": seat.assignment, "target": target, "queue": q.id,
            **why.numbers}
        key = why.key if kind is not MoveKind.LEND_OUT else "watcher.lend_out.forecast"
        if why.key.endswith(".forecast"):
            params["model"] = "Erlang A" if why.rule.model is Model.ERLANG_A else "Erlang C"
        text = MESSAGES[key].format(**{k: _show(k, v) for k, v in params.items()})
        explanation = Explanation(why.rule.id, key, dict(why.numbers), params, text)
        return SeatMove(seat.id, seat.assignment, target, kind, explanation, now, now)

    # ---- carrying out ------------------------------------------------------------------------

    def _drop_stale_pending(self, seats: Mapping[str, SeatInfo]) -> None:
        for seat_id, move in list(self._pending.items()):
            seat = seats.get(seat_id)
            if seat is None or seat.assignment != move.source or seat.state is SeatActivity.LOGGED_OUT:
                del self._pending[seat_id]

    def _release(self, planned: list[SeatMove], seats: Mapping[str, SeatInfo],
                 now: float) -> list[SeatMove]:
        while self._recent and self._recent[0] <= now - 60.0:
            self._recent.popleft()
        budget = self.policy.max_moves_per_minute - len(self._recent)
        out: list[SeatMove] = []
        # Moves that waited for a call to end leave first: they were decided earlier.
        waiting = [m for s, m in self._pending.items() if seats[s].state in FREE]
        for move in [*waiting, *planned]:
            if seats[move.seat].state in BUSY:
                self._pending[move.seat] = move
                continue
            if budget <= 0:
                continue  # over the rate limit: decided again next time if still wanted
            budget -= 1
            self._pending.pop(move.seat, None)
            self._recent.append(now)
            self._moved_at[move.seat] = now
            out.append(replace(move, at=now))
        return out
