"""A discrete-event simulation of an outbound campaign in simulated time, around the real
:class:`~dialer.pacing.Pacer` and :class:`~dialer.abandon.AbandonTracker`.

Events sit in a heap ordered by time; nothing sleeps. All agents log in at 0 and the shift ends
at ``shift_hours``. A dial rings until it is answered live (``answer_rate``; after
``ring_time``, uniform), answered by a machine (``machine_rate``; after ``ring_time``, then hung
up by the detector ``amd_time`` later) or ends unanswered (after ``no_answer_time``, uniform). A
live answer takes the longest-ready seat at once, or waits up to ``grace`` seconds for one and is
abandoned. Talk is lognormal, wrap-up fixed. The pacer is asked every second and after every
event; in predictive mode it may first cancel dials that have rung ``min_ring`` seconds
(``cancel_surplus``): such a dial ends unanswered, whatever it would have become. Dialling stops at the end of the shift; the calls already launched are played out (their
answers count for abandonment) but the time measures stop at the shift's end.

In preview mode each ready seat that :meth:`Pacer.may_preview` allows reads a lead for
``preview_time`` seconds and dials it; only that seat takes the answer.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import OrderedDict, deque
from dataclasses import dataclass, replace

from dialer.abandon import AbandonBudget, AbandonCounts, AbandonTracker, CallKind
from dialer.pacing import Mode, Pacer, PacerPriors, PacingSnapshot
from dialer.pacing_model import ModelConfig
from dialer.sim.scenario import Scenario

__all__ = ["SimResult", "simulate"]

_TICK, _DIAL_END, _GRACE, _TALK_END, _WRAP_END, _PREVIEW = range(6)
_LIVE, _MACHINE, _NO_ANSWER = range(3)
_READY, _TALKING, _WRAPPING = range(3)


@dataclass(frozen=True, slots=True)
class SimResult:
    """The measures of one run (rates as fractions, times in seat-seconds)."""

    mode: Mode
    seed: int
    occupancy: float  # (talk + wrap-up) / logged-in time
    talk_share: float  # talk / logged-in time
    abandon_rate: float  # over the whole run, by the scenario's formula
    dials_per_agent_hour: float
    max_abandon_24h: float  # the highest rolling 24-hour rate once the warm-up answers are in
    logged_in: float
    talk: float
    wrap: float
    idle: float
    dials: int
    live_answers: int
    connected: int
    abandoned: int
    machines: int
    cancelled: int = 0  # dials cancelled unanswered after min_ring, their answer likely abandoned

    def measures(self) -> dict[str, float | int]:
        """The figures for JSON."""
        return {
            "occupancy": round(self.occupancy, 6),
            "talk_share": round(self.talk_share, 6),
            "abandon_rate": round(self.abandon_rate, 6),
            "dials_per_agent_hour": round(self.dials_per_agent_hour, 3),
            "max_abandon_24h": round(self.max_abandon_24h, 6),
            "dials": self.dials,
            "live_answers": self.live_answers,
            "abandoned": self.abandoned,
            "machines": self.machines,
            "cancelled": self.cancelled,
        }


class _Run:
    """The state of one simulation run."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        s = self.s = scenario
        self.end = s.shift_hours * 3600.0
        # Separate streams: the calls a dial meets do not depend on how talk times were drawn.
        self.dial_rng = random.Random(f"{seed}:dials")
        self.talk_rng = random.Random(f"{seed}:talk")
        sigma2 = math.log1p(s.talk_cv ** 2)
        self.talk_mu, self.talk_sigma = math.log(s.talk_mean) - sigma2 / 2, math.sqrt(sigma2)
        self.pacer = Pacer(s.mode, priors=PacerPriors(wrap_up=max(s.wrap_up, 1.0)),
                           model=ModelConfig(grace=s.grace),
                           min_ring=s.min_ring if s.cancel_surplus else None)
        self.tracker = AbandonTracker(s.target_abandon, s.abandon_formula, s.amd_allowance)
        self.heap: list[tuple[float, int, int, int]] = []
        self.seq = 0
        self.state = [_READY] * s.agents
        self.since = [0.0] * s.agents
        self.ready: deque[int] = deque(range(s.agents))  # longest ready first
        self.talking: dict[int, float] = {}  # seat -> since
        self.wrapping: dict[int, float] = {}
        self.dials: dict[int, tuple[float, int]] = {}  # dial -> (launched, its seat or -1)
        self.waiting: OrderedDict[int, float] = OrderedDict()  # answered dial -> answered at
        self.totals = [0.0, 0.0, 0.0]  # ready, talking, wrap-up seat-seconds within the shift
        self.launched = 0
        self.cancelled = 0
        self.counts = [0, 0, 0]  # connected, abandoned, machines
        self.max_rate = 0.0
        self.budget: AbandonBudget | None = None
        self.budget_key = (-1, 0.0)

    def push(self, at: float, kind: int, ref: int) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, kind, ref))

    # -- seats ----------------------------------------------------------------------------
    def set_state(self, seat: int, state: int, now: float) -> None:
        old = self.state[seat]
        self.totals[old] += min(now, self.end) - min(self.since[seat], self.end)
        self.state[seat], self.since[seat] = state, now
        if old == _TALKING:
            del self.talking[seat]
        elif old == _WRAPPING:
            del self.wrapping[seat]
        if state == _TALKING:
            self.talking[seat] = now
        elif state == _WRAPPING:
            self.wrapping[seat] = now

    def connect(self, seat: int, now: float) -> None:
        self.set_state(seat, _TALKING, now)
        self.counts[0] += 1
        self.tracker.add(now, CallKind.CONNECTED)
        self.pacer.observe_connected(self.s.target_abandon)
        self.note_rate(now)
        self.push(now + self.talk_rng.lognormvariate(self.talk_mu, self.talk_sigma), _TALK_END, seat)

    def talk_end(self, seat: int, now: float) -> None:
        self.pacer.observe_talk(now - self.since[seat])
        self.set_state(seat, _WRAPPING, now)
        self.push(now + self.s.wrap_up, _WRAP_END, seat)

    def wrap_end(self, seat: int, now: float) -> None:
        self.pacer.observe_wrap(now - self.since[seat])
        self.set_state(seat, _READY, now)
        if self.waiting:
            self.waiting.popitem(last=False)
            self.connect(seat, now)
            return
        self.ready.append(seat)
        self.maybe_preview(seat, now)

    # -- preview --------------------------------------------------------------------------
    def maybe_preview(self, seat: int, now: float) -> None:
        if self.s.mode is not Mode.PREVIEW or now >= self.end:
            return
        own = frozenset(str(s) for _, s in self.dials.values() if s >= 0)
        snapshot = PacingSnapshot(now, len(self.ready), ready_ids=frozenset(str(s) for s in self.ready),
                                  dialing_for=own, target_abandon=self.s.target_abandon)
        if self.pacer.may_preview(snapshot, str(seat)):
            self.push(now + self.s.preview_time, _PREVIEW, seat)

    def preview_dial(self, seat: int, now: float) -> None:
        if now < self.end and self.state[seat] == _READY:
            self.launch(now, seat)

    # -- dials ----------------------------------------------------------------------------
    def launch(self, now: float, seat: int = -1) -> None:
        s, rng = self.s, self.dial_rng
        u = rng.random()
        if u < s.answer_rate:
            outcome, after = _LIVE, rng.uniform(s.ring_time.min, s.ring_time.max)
        elif u < s.answer_rate + s.machine_rate:
            outcome, after = _MACHINE, rng.uniform(s.ring_time.min, s.ring_time.max) + s.amd_time
        else:
            outcome, after = _NO_ANSWER, rng.uniform(s.no_answer_time.min, s.no_answer_time.max)
        self.launched += 1
        self.dials[self.launched] = (now, seat)
        self.push(now + after, _DIAL_END, self.launched * 3 + outcome)

    def dial_end(self, ref: int, now: float) -> None:
        dial, outcome = divmod(ref, 3)
        entry = self.dials.pop(dial, None)
        if entry is None:
            return  # cancelled while it rang
        launched, seat = entry
        self.pacer.observe_dial(now - launched, outcome == _LIVE)
        if outcome == _LIVE:
            self.answered(dial, seat, now)
            return
        if outcome == _MACHINE:  # answered by a machine; the detector has just hung up on it
            self.counts[2] += 1
            self.tracker.add(now, CallKind.MACHINE)
        if seat >= 0:
            self.maybe_preview(seat, now)

    def answered(self, dial: int, seat: int, now: float) -> None:
        if seat >= 0:  # a preview call: its seat is waiting for it
            self.ready.remove(seat)
            self.connect(seat, now)
        elif self.ready:
            self.connect(self.ready.popleft(), now)
        else:
            self.waiting[dial] = now
            self.push(now + self.s.grace, _GRACE, dial)

    def grace_over(self, dial: int, now: float) -> None:
        if self.waiting.pop(dial, None) is None:
            return  # it reached a seat in time
        self.counts[1] += 1
        self.tracker.add(now, CallKind.ABANDONED)
        self.pacer.observe_abandoned(self.s.target_abandon)
        self.note_rate(now)

    def note_rate(self, now: float) -> None:
        if self.counts[0] + self.counts[1] >= self.s.warmup_answers:
            self.max_rate = max(self.max_rate, self.tracker.rate_24h(now))

    # -- pacing ---------------------------------------------------------------------------
    def pace(self, now: float) -> None:
        if now >= self.end or self.s.mode is Mode.PREVIEW:
            return
        # The budget moves with each counted call and, as the window slides, with time.
        key = (sum(self.counts), math.floor(now))
        if key != self.budget_key or self.budget is None:
            self.budget, self.budget_key = self.tracker.budget(now), key
        budget = self.budget
        snapshot = PacingSnapshot(
            now, len(self.ready),
            tuple([now - t for t in self.talking.values()]),
            tuple([now - t for t in self.wrapping.values()]),
            tuple([now - d[0] for d in self.dials.values()]),
            tuple([now - t for t in self.waiting.values()]),
            self.s.target_abandon, budget.predictive_allowed, budget.slack_24h,
            uncontrolled_abandon=budget.false_positive_24h,
        )
        cancel = self.pacer.cancellations(snapshot)
        if cancel:
            ids = list(self.dials)
            for index in cancel:  # its pending end event finds it gone
                launched, _ = self.dials.pop(ids[index])
                self.pacer.observe_cancelled(now - launched)
            self.cancelled += len(cancel)
            snapshot = replace(snapshot, dialing=tuple([now - d[0] for d in self.dials.values()]))
        for _ in range(self.pacer.decide(snapshot)):
            self.launch(now)

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> None:
        self.push(0.0, _TICK, 0)
        for seat in range(self.s.agents):
            self.maybe_preview(seat, 0.0)
        handlers = {_DIAL_END: self.dial_end, _GRACE: self.grace_over, _PREVIEW: self.preview_dial,
                    _TALK_END: self.talk_end, _WRAP_END: self.wrap_end}
        heap = self.heap
        while heap:
            now, _, kind, ref = heapq.heappop(heap)
            if kind == _TICK:
                if now + 1.0 < self.end:
                    self.push(now + 1.0, _TICK, 0)
            else:
                handlers[kind](ref, now)
            self.pace(now)
        for seat in range(self.s.agents):  # close every seat's last state at the shift's end
            self.set_state(seat, self.state[seat], self.end)

    def result(self, seed: int) -> SimResult:
        s = self.s
        logged_in = s.agents * self.end
        ready, talk, wrap = self.totals
        connected, abandoned, machines = self.counts
        rate = AbandonCounts(connected, abandoned, machines).rate(s.abandon_formula, s.amd_allowance)
        return SimResult(
            mode=s.mode, seed=seed, occupancy=(talk + wrap) / logged_in, talk_share=talk / logged_in,
            abandon_rate=rate, dials_per_agent_hour=self.launched / (s.agents * s.shift_hours),
            max_abandon_24h=self.max_rate, logged_in=logged_in, talk=talk, wrap=wrap, idle=ready,
            dials=self.launched, live_answers=connected + abandoned, connected=connected,
            abandoned=abandoned, machines=machines, cancelled=self.cancelled,
        )


def simulate(scenario: Scenario, seed: int = 1) -> SimResult:
    """Run ``scenario`` once with ``seed``; the same seed gives the same result."""
    run = _Run(scenario, seed)
    run.run()
    return run.result(seed)
