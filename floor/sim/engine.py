"""A blended floor in simulated time: inbound queues, outbound campaigns and the real watcher.

Events sit in a heap ordered by time (the style of ``dialer.sim.engine``); nothing sleeps.
Inbound callers arrive as a non-homogeneous Poisson process (piecewise-constant rates per
queue), wait first-in first-out for the longest-idle ready seat assigned to their queue and hang
up after an exponential patience. Talk is lognormal (or exponential), wrap-up fixed. Each
campaign dials like the dialer simulator, paced by the injected :class:`CampaignPacing` every
second and after every event; a live answer takes the longest-ready campaign seat or waits up to
``grace_s`` and is abandoned. Every ``watch_every_s`` the :class:`QueueWatcher` gets a snapshot
and its moves are carried out at once (it only moves free seats). Arrivals, dials and the
watcher stop at the end of the day; calls in progress play out; seat time counts within the day.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import OrderedDict, deque
from dataclasses import dataclass

from floor.sim.pacing import CampaignPacing, PacingFactory, ProgressivePacing
from floor.sim.results import CampaignResult, FloorResult, QueueResult
from floor.sim.scenario import CampaignSpec, FloorScenario, InboundSpec
from floor.watcher import QueueWatcher
from floor.watcher_policy import WatcherMode
from floor.watcher_snapshot import QueueInfo, SeatActivity, SeatInfo, WatcherSnapshot

__all__ = ["simulate_floor"]

_ARRIVE, _ABANDON, _TALK_END, _WRAP_END, _DIAL_END, _GRACE, _TICK, _WATCH = range(8)
SL_WINDOW = 900.0  # the watcher's "service level over 15 minutes"
RATE_WINDOW = 900.0  # recent arrival rate
AHT_WINDOW = 1800.0  # recent handle time
A = SeatActivity


@dataclass(slots=True)
class _Seat:
    id: str
    home: str
    skills: dict[str, int]
    assignment: str
    state: SeatActivity = A.READY
    since: float = 0.0
    moved_at: float | None = None
    queue: int = -1  # the queue of its inbound call, else -1


class _Inbound:
    def __init__(self, spec: InboundSpec, seed: int) -> None:
        self.spec = spec
        # Separate streams: the same callers arrive with the same patience whatever the watcher does.
        self.rng = random.Random(f"{seed}:arrivals:{spec.id}")
        self.patience_rng = random.Random(f"{seed}:patience:{spec.id}")
        self.talk_rng = random.Random(f"{seed}:talk:{spec.id}")
        sigma2 = math.log1p(spec.talk_cv ** 2)
        self.mu, self.sigma = math.log(spec.talk_mean) - sigma2 / 2, math.sqrt(sigma2)
        self.waiting: OrderedDict[int, float] = OrderedDict()  # caller -> joined
        self.ready: dict[int, None] = {}  # seats, longest idle first
        self.arrivals: deque[float] = deque()
        self.outcomes: deque[tuple[float, bool, bool]] = deque()  # at, counted, within
        self.handles: deque[tuple[float, float]] = deque()
        self.result = QueueResult(spec.id)

    def talk(self) -> float:
        if self.spec.exponential:
            return self.talk_rng.expovariate(1.0 / self.spec.talk_mean)
        return self.talk_rng.lognormvariate(self.mu, self.sigma)


class _Outbound:
    def __init__(self, spec: CampaignSpec, pacing: CampaignPacing, seed: int) -> None:
        self.spec, self.pacing = spec, pacing
        self.rng = random.Random(f"{seed}:dials:{spec.id}")
        self.talk_rng = random.Random(f"{seed}:talk:{spec.id}")
        sigma2 = math.log1p(spec.talk_cv ** 2)
        self.mu, self.sigma = math.log(spec.talk_mean) - sigma2 / 2, math.sqrt(sigma2)
        self.ready: dict[int, None] = {}
        self.talking: dict[int, float] = {}
        self.wrapping: dict[int, float] = {}
        self.dials: dict[int, float] = {}
        self.waiting: OrderedDict[int, float] = OrderedDict()
        self.result = CampaignResult(spec.id)


class _Run:
    def __init__(self, s: FloorScenario, seed: int, mode: WatcherMode, pacing: PacingFactory) -> None:
        self.s, self.seed, self.end = s, seed, s.hours * 3600.0
        self.watcher = QueueWatcher(s.policy.with_mode(mode))
        self.mode = mode
        self.inbound = [_Inbound(q, seed) for q in s.queues]
        self.outbound = [_Outbound(c, pacing(c), seed) for c in s.campaigns]
        self.where: dict[str, _Inbound | _Outbound] = {f"queue:{q.spec.id}": q for q in self.inbound}
        self.where.update({f"campaign:{c.spec.id}": c for c in self.outbound})
        self.seats = [_Seat(f"{g.prefix}-{i:02d}", g.home, dict(g.skills), g.home)
                      for g in s.seats for i in range(1, g.count + 1)]
        self.by_id = {seat.id: i for i, seat in enumerate(self.seats)}
        self.heap: list[tuple[float, int, int, int]] = []
        self.seq = self.callers = self.launched = 0
        self.result = FloorResult(s.name, mode.value, seed, {q.spec.id: q.result for q in self.inbound},
                                  {c.spec.id: c.result for c in self.outbound})

    def push(self, at: float, kind: int, ref: int) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, kind, ref))

    # -- seats ------------------------------------------------------------------------------
    def set_state(self, i: int, state: SeatActivity, now: float) -> None:
        seat = self.seats[i]
        spent = min(now, self.end) - min(seat.since, self.end)
        place = self.where[seat.assignment]
        if isinstance(place, _Inbound):
            place.result.seat_seconds += spent
        elif seat.state is A.READY:
            place.result.ready_s += spent
        elif seat.state is A.TALKING:
            place.result.talk_s += spent
        else:
            place.result.wrap_s += spent
        seat.state, seat.since = state, now

    def free(self, i: int, now: float) -> None:
        """The seat is ready in its assignment: it takes the next call waiting there, if any."""
        self.set_state(i, A.READY, now)
        place = self.where[self.seats[i].assignment]
        if isinstance(place, _Inbound):
            if place.waiting:
                caller, joined = place.waiting.popitem(last=False)
                self.answer(place, i, joined, now)
            else:
                place.ready[i] = None
        elif place.waiting:
            place.waiting.popitem(last=False)
            self.connect(place, i, now)
        else:
            place.ready[i] = None

    def move(self, seat_id: str, target: str, now: float) -> None:
        i = self.by_id[seat_id]
        seat = self.seats[i]
        assert seat.state is A.READY, f"the watcher moved {seat_id} while {seat.state}"
        self.where[seat.assignment].ready.pop(i, None)
        self.set_state(i, A.READY, now)
        seat.assignment, seat.moved_at = target, now
        self.free(i, now)

    # -- inbound ----------------------------------------------------------------------------
    def next_arrival(self, q: _Inbound, now: float) -> None:
        changes = [h * 3600.0 for h, _ in q.spec.rates] + [self.end]
        t = now
        while t < self.end:
            rate = q.spec.rate_at(t / 3600.0)
            boundary = min(c for c in changes if c > t)
            if rate > 0:
                at = t + q.rng.expovariate(rate)
                if at < boundary:
                    self.push(at, _ARRIVE, self.inbound.index(q))
                    return
            t = boundary

    def arrive(self, qi: int, now: float) -> None:
        q = self.inbound[qi]
        self.next_arrival(q, now)
        q.result.offered += 1
        q.arrivals.append(now)
        patience = q.patience_rng.expovariate(1.0 / q.spec.patience)
        if q.ready:
            i = next(iter(q.ready))
            del q.ready[i]
            self.answer(q, i, now, now)
            return
        self.callers += 1
        q.waiting[self.callers] = now
        self.push(now + patience, _ABANDON,
                  self.callers * len(self.inbound) + qi)

    def abandon(self, ref: int, now: float) -> None:
        caller, qi = divmod(ref, len(self.inbound))
        q = self.inbound[qi]
        joined = q.waiting.pop(caller, None)
        if joined is None:
            return  # answered already
        within = now - joined <= q.spec.sl_threshold
        q.result.abandoned += 1
        q.result.abandoned_within += within
        q.outcomes.append((now, not within, False))

    def answer(self, q: _Inbound, i: int, joined: float, now: float) -> None:
        wait = now - joined
        within = wait <= q.spec.sl_threshold
        q.result.answered += 1
        q.result.answered_within += within
        q.result.wait_answered += wait
        q.outcomes.append((now, True, within))
        self.seats[i].queue = self.inbound.index(q)
        self.set_state(i, A.TALKING, now)
        self.push(now + q.talk(), _TALK_END, i)

    # -- outbound ---------------------------------------------------------------------------
    def connect(self, c: _Outbound, i: int, now: float) -> None:
        c.result.connected += 1
        c.pacing.connected(now)
        self.seats[i].queue = -1
        self.set_state(i, A.TALKING, now)
        c.talking[i] = now
        self.push(now + c.talk_rng.lognormvariate(c.mu, c.sigma), _TALK_END, i)

    def launch(self, ci: int, now: float) -> None:
        c = self.outbound[ci]
        spec, rng = c.spec, c.rng
        live = rng.random() < spec.answer_rate
        span = spec.ring_time if live else spec.no_answer_time
        self.launched += 1
        c.dials[self.launched] = now
        c.result.dials += 1
        ref = (self.launched * 2 + live) * len(self.outbound) + ci
        self.push(now + rng.uniform(*span), _DIAL_END, ref)

    def dial_end(self, ref: int, now: float) -> None:
        rest, ci = divmod(ref, len(self.outbound))
        dial, live = divmod(rest, 2)
        c = self.outbound[ci]
        launched = c.dials.pop(dial, None)
        if launched is None:
            return  # cancelled while it rang
        c.pacing.dial_ended(now, now - launched, bool(live))
        if not live:
            return
        if c.ready:
            i = next(iter(c.ready))
            del c.ready[i]
            self.connect(c, i, now)
        else:
            c.waiting[dial] = now
            self.push(now + c.spec.grace, _GRACE, dial * len(self.outbound) + ci)

    def grace_over(self, ref: int, now: float) -> None:
        dial, ci = divmod(ref, len(self.outbound))
        c = self.outbound[ci]
        if c.waiting.pop(dial, None) is not None:
            c.result.abandoned += 1
            c.pacing.abandoned(now)

    def pace(self, now: float) -> None:
        if now >= self.end:
            return
        for ci, c in enumerate(self.outbound):
            if not (c.ready or c.talking or c.wrapping):
                continue
            talking = tuple(now - t for t in c.talking.values())
            wrapping = tuple(now - t for t in c.wrapping.values())
            waiting = tuple(now - t for t in c.waiting.values())
            cancel = c.pacing.cancellations(now, len(c.ready), talking, wrapping,
                                            tuple(now - t for t in c.dials.values()), waiting)
            if cancel:
                ids = list(c.dials)
                for index in cancel:
                    c.pacing.dial_cancelled(now, now - c.dials.pop(ids[index]))
                c.result.cancelled += len(cancel)
            n = c.pacing.decide(now, len(c.ready), talking, wrapping,
                                tuple(now - t for t in c.dials.values()), waiting)
            for _ in range(n):
                self.launch(ci, now)

    # -- calls end --------------------------------------------------------------------------
    def talk_end(self, i: int, now: float) -> None:
        seat = self.seats[i]
        talk = now - seat.since
        if seat.queue >= 0:
            q = self.inbound[seat.queue]
            q.handles.append((now, talk + q.spec.wrap_up))
            wrap = q.spec.wrap_up
        else:
            c = self.where[seat.assignment]
            assert isinstance(c, _Outbound)
            c.pacing.talk_ended(talk)
            del c.talking[i]
            c.wrapping[i] = now
            wrap = c.spec.wrap_up
        self.set_state(i, A.WRAP_UP, now)
        self.push(now + wrap, _WRAP_END, i)

    def wrap_end(self, i: int, now: float) -> None:
        seat = self.seats[i]
        if seat.queue < 0:
            c = self.where[seat.assignment]
            assert isinstance(c, _Outbound)
            c.pacing.wrap_ended(now - c.wrapping.pop(i))
        self.free(i, now)

    # -- the watcher ------------------------------------------------------------------------
    def snapshot(self, now: float) -> WatcherSnapshot:
        queues = {}
        for q in self.inbound:
            for window, series in ((SL_WINDOW, q.outcomes), (RATE_WINDOW, q.arrivals),
                                   (AHT_WINDOW, q.handles)):
                while series and (series[0] if isinstance(series[0], float) else series[0][0]) < now - window:
                    series.popleft()
            counted = [within for _, c, within in q.outcomes if c]
            longest = now - next(iter(q.waiting.values())) if q.waiting else 0.0
            rate = len(q.arrivals) / min(RATE_WINDOW, max(now, 60.0))
            aht = sum(h for _, h in q.handles) / len(q.handles) if q.handles else None
            queues[q.spec.id] = QueueInfo(q.spec.id, sum(counted) / len(counted) if counted else None,
                                          longest, len(q.waiting), rate, aht)
        seats = {s.id: SeatInfo(s.id, s.home, s.assignment, s.skills, s.state, s.moved_at)
                 for s in self.seats}
        return WatcherSnapshot(now, queues, seats)

    def watch_event(self, _ref: int, now: float) -> None:
        self.watch(now)

    def watch(self, now: float) -> None:
        if now + self.s.watch_every_s < self.end:
            self.push(now + self.s.watch_every_s, _WATCH, 0)
        for m in self.watcher.decide(self.snapshot(now), now):
            self.move(m.seat, m.target, now)
            self.result.moves.append(m)

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> FloorResult:
        for q in self.inbound:
            self.next_arrival(q, 0.0)
        for i in range(len(self.seats)):
            self.free(i, 0.0)
        self.push(0.0, _TICK, 0)
        if self.mode is not WatcherMode.OFF:
            self.push(self.s.watch_every_s, _WATCH, 0)
        handlers = {_ARRIVE: self.arrive, _ABANDON: self.abandon, _TALK_END: self.talk_end,
                    _WRAP_END: self.wrap_end, _DIAL_END: self.dial_end, _GRACE: self.grace_over,
                    _WATCH: self.watch_event}
        while self.heap:
            now, _, kind, ref = heapq.heappop(self.heap)
            if kind == _TICK:
                if now + 1.0 < self.end:
                    self.push(now + 1.0, _TICK, 0)
            else:
                handlers[kind](ref, now)
            self.pace(now)
        for i, seat in enumerate(self.seats):  # close every seat's last state at the day's end
            self.set_state(i, seat.state, self.end)
        return self.result


def simulate_floor(scenario: FloorScenario, seed: int = 1, *, watcher: WatcherMode | str | None = None,
                   pacing: PacingFactory | None = None) -> FloorResult:
    """Run ``scenario`` once; the same seed (and pacing) gives the same result.

    ``watcher`` overrides the policy's mode (``off`` keeps the static split); ``pacing`` makes
    each campaign's pacer (default: progressive).
    """
    mode = WatcherMode(watcher) if watcher is not None else scenario.policy.mode
    return _Run(scenario, seed, mode, pacing or (lambda _spec: ProgressivePacing())).run()
