"""Pacing: how many new dials a campaign launches now.

A :class:`PacingSnapshot` in, a number of dials out. The service builds a snapshot about once a
second per campaign and on every seat or dial event; the simulator does the same in simulated
time, with the same :class:`Pacer`.

* ``PREVIEW``: no automatic dial; a seat asks for a lead (:meth:`Pacer.may_preview`) and its
  own dial is launched when it chooses.
* ``PROGRESSIVE``: one dial per ready seat not yet covered by a dial in flight or an answered
  call waiting. No answered call ever waits for a seat, so nothing is abandoned.
* ``PREDICTIVE``: as many dials as keep the seats busy while each extra dial's expected
  abandonment stays under a price set by a feedback controller on the measured abandonment
  (``dialer.pacing_model``, ``dialer.pacing_control``). Never fewer than progressive would
  launch. When the campaign's abandonment budget is spent (``predictive_allowed`` False) it
  paces as progressive until the rate is back under the target.

Pure: no clock, no I/O; deterministic for the same observations and snapshots.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from dialer.estimate import DialModel, SeatModel
from dialer.pacing_control import AbandonController, ControllerConfig
from dialer.pacing_model import Lookahead, ModelConfig, Shortfall

__all__ = [
    "Mode",
    "Pacer",
    "PacerPriors",
    "PacingSnapshot",
    "SeatState",
    "SeatView",
]


class Mode(StrEnum):
    """A campaign's pacing mode."""

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class SeatState(StrEnum):
    """What a campaign seat is doing, as far as pacing cares."""

    READY = "ready"  # idle and ready for a call
    TALKING = "talking"  # on a call
    WRAP_UP = "wrap_up"  # after a call, setting its disposition


@dataclass(frozen=True, slots=True)
class SeatView:
    """One seat for :meth:`PacingSnapshot.from_seats`: its state and seconds in that state."""

    id: str
    state: SeatState
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class PacingSnapshot:
    """A campaign at one moment, as pacing sees it.

    ``talking`` and ``wrapping`` hold, for each seat in that state, the seconds it has spent in
    it; ``dialing`` the ages of the dials in flight (launched, not yet answered or failed);
    ``waiting`` the seconds since the answer of each live answered call not yet at a seat.
    ``abandon_slack`` is how many abandoned calls the 24-hour window can still take before it
    reaches the target (see ``AbandonBudget.slack_24h``); ``math.inf`` when unknown.
    ``uncontrolled_abandon`` is the part of the rate that pacing cannot lower (the AMD
    false-positive allowance of the UK formula, ``AbandonBudget.false_positive_24h``).
    ``rung`` holds, in the order of ``dialing``, the seconds each dial has been ringing (since
    its first 180/183); empty means it rang from its launch (the simulator).
    """

    now: float
    ready: int = 0
    talking: tuple[float, ...] = ()
    wrapping: tuple[float, ...] = ()
    dialing: tuple[float, ...] = ()
    waiting: tuple[float, ...] = ()
    target_abandon: float = 0.03
    predictive_allowed: bool = True
    abandon_slack: float = math.inf
    ready_ids: frozenset[str] = field(default_factory=frozenset)
    dialing_for: frozenset[str] = field(default_factory=frozenset)
    uncontrolled_abandon: float = 0.0
    rung: tuple[float, ...] = ()

    @property
    def seats(self) -> int:
        """Seats logged into the campaign (ready, talking or in wrap-up)."""
        return self.ready + len(self.talking) + len(self.wrapping)

    @classmethod
    def from_seats(cls, now: float, seats: Iterable[SeatView], dialing: Iterable[float] = (),
                   waiting: Iterable[float] = (), *, dialing_for: Iterable[str] = (),
                   target_abandon: float = 0.03, predictive_allowed: bool = True,
                   abandon_slack: float = math.inf, uncontrolled_abandon: float = 0.0,
                   rung: Iterable[float] = ()) -> PacingSnapshot:
        """Build a snapshot from per-seat views; ``dialing_for`` names seats with their own dial
        in flight (preview or progressive reservations)."""
        ready_ids: list[str] = []
        talking: list[float] = []
        wrapping: list[float] = []
        for seat in seats:
            if seat.state is SeatState.READY:
                ready_ids.append(seat.id)
            elif seat.state is SeatState.TALKING:
                talking.append(seat.seconds)
            else:
                wrapping.append(seat.seconds)
        return cls(now, len(ready_ids), tuple(talking), tuple(wrapping), tuple(dialing),
                   tuple(waiting), target_abandon, predictive_allowed, abandon_slack,
                   frozenset(ready_ids), frozenset(dialing_for), uncontrolled_abandon, tuple(rung))


@dataclass(frozen=True, slots=True)
class PacerPriors:
    """What the estimators assume before calls teach them (a campaign's history, if any)."""

    answer_rate: float = 0.25
    talk_mean: float = 120.0
    wrap_up: float = 15.0


class Pacer:
    """Decides how many new dials to launch; learns from the campaign's dials and calls."""

    def __init__(self, mode: Mode | str = Mode.PREDICTIVE, *, priors: PacerPriors | None = None,
                 model: ModelConfig | None = None, controller: ControllerConfig | None = None,
                 min_ring: float | None = None) -> None:
        """``min_ring``: predictive pacing may cancel a dial that has rung this many seconds
        unanswered when its answer would likely find no seat (None: never cancel)."""
        self.mode = Mode(mode)
        self.min_ring = min_ring
        priors = priors or PacerPriors()
        self.dials = DialModel(priors.answer_rate)
        self.seats = SeatModel(priors.talk_mean, priors.wrap_up)
        self.lookahead = Lookahead(self.dials, self.seats, model)
        self.controller = AbandonController(controller)
        self._uncontrolled = 0.0  # from the last snapshot
        self._seats = 0  # from the last snapshot
        # The shortfall cancellations() computed, for decide() on the same snapshot; any
        # observation that moves the estimators drops it.
        self._priced: tuple[PacingSnapshot, Shortfall] | None = None

    # -- observations -------------------------------------------------------------------------
    def observe_dial(self, duration: float, live: bool) -> None:
        """A dial ended ``duration`` s after launch: a live answer, or a failure (no answer,
        busy, rejected, machine, network error)."""
        self._priced = None
        self.dials.observe(duration, live)

    def observe_connected(self, target_abandon: float = 0.03, *, seats: int | None = None,
                          uncontrolled: float | None = None) -> None:
        """A live answer reached a seat within the grace time. ``seats`` and ``uncontrolled``
        default to the last snapshot's (a replay of the ledger has none)."""
        self._answer_counted(False, target_abandon, seats, uncontrolled)

    def observe_abandoned(self, target_abandon: float = 0.03, *, seats: int | None = None,
                          uncontrolled: float | None = None) -> None:
        """A live answer found no seat within the grace time and was abandoned (``seats`` and
        ``uncontrolled`` as for :meth:`observe_connected`)."""
        self._answer_counted(True, target_abandon, seats, uncontrolled)

    def _answer_counted(self, abandoned: bool, target: float, seats: int | None,
                        uncontrolled: float | None) -> None:
        self.controller.observe(abandoned, target, self._uncontrolled if uncontrolled is None else uncontrolled,
                                self._seats if seats is None else seats)

    def observe_talk(self, duration: float) -> None:
        """A connected call ended after ``duration`` s of talk."""
        self._priced = None
        self.seats.observe_talk(duration)

    def observe_wrap(self, duration: float) -> None:
        """A seat finished wrap-up after ``duration`` s."""
        self._priced = None
        self.seats.observe_wrap(duration)

    def set_wrap_up(self, duration: float) -> None:
        """The campaign's fixed wrap-up changed: seats are expected free after the new one at the
        next decision (not after many calls have taught it)."""
        self._priced = None
        self.seats.set_wrap(duration)
        self.lookahead.invalidate()

    # -- decisions ----------------------------------------------------------------------------
    def effective_mode(self, snapshot: PacingSnapshot) -> Mode:
        """The mode this snapshot is paced in: predictive falls back to progressive when the
        abandonment budget is spent."""
        return self.mode_when(snapshot.predictive_allowed)

    def mode_when(self, predictive_allowed: bool) -> Mode:
        """The mode paced in while the budget does (or does not) allow predictive pacing."""
        if self.mode is Mode.PREDICTIVE and not predictive_allowed:
            return Mode.PROGRESSIVE
        return self.mode

    @staticmethod
    def progressive_dials(snapshot: PacingSnapshot) -> int:
        """One dial per ready seat not covered by a dial in flight or an answered call waiting."""
        return max(0, snapshot.ready - len(snapshot.dialing) - len(snapshot.waiting))

    def decide(self, snapshot: PacingSnapshot) -> int:
        """How many NEW dials to launch now."""
        self._uncontrolled = snapshot.uncontrolled_abandon
        self._seats = snapshot.seats
        if snapshot.seats == 0:
            return 0
        mode = self.effective_mode(snapshot)
        if mode is Mode.PREVIEW:
            return 0
        floor = self.progressive_dials(snapshot)
        if mode is Mode.PROGRESSIVE:
            return floor
        theta = self.controller.accepted(snapshot.abandon_slack, snapshot.seats)
        # Near the budget's edge a new dial is priced as if it could not be cancelled: early in
        # a campaign the seat model is still wrong, and its surplus lands before the minimum ring.
        roomy = theta >= self.controller.theta
        more = self.lookahead.count_new(self._shortfall(snapshot), theta,
                                        self.min_ring if roomy else None)
        return max(floor, more)

    def cancellations(self, snapshot: PacingSnapshot) -> list[int]:
        """Dials in flight to cancel now (indices into ``snapshot.dialing``): in predictive
        pacing, those that have rung ``min_ring`` s unanswered and whose live answer would find
        no seat with a chance over the accepted price. Call before :meth:`decide`, and give it
        a snapshot without them. With no seat logged in (all paused) every answer would be
        abandoned: each dial past its minimum ring goes."""
        if self.min_ring is None or self.effective_mode(snapshot) is not Mode.PREDICTIVE:
            return []
        rung = snapshot.rung if len(snapshot.rung) == len(snapshot.dialing) else snapshot.dialing
        eligible = [i for i, seconds in enumerate(rung) if seconds >= self.min_ring]
        if not eligible:
            return []
        theta = self.controller.accepted(snapshot.abandon_slack, snapshot.seats)
        x = self._shortfall(snapshot)
        # When nothing is cancelled, the decide() that follows prices this same snapshot: it reuses x.
        self._priced = (snapshot, x)
        return self.lookahead.cancellations(x, snapshot.dialing, theta, eligible)

    def _shortfall(self, snapshot: PacingSnapshot) -> Shortfall:
        priced, self._priced = self._priced, None
        if priced is not None and priced[0] is snapshot:
            return priced[1]
        return self.lookahead.shortfall(snapshot.now, snapshot.ready, snapshot.talking, snapshot.wrapping,
                                        snapshot.dialing, len(snapshot.waiting))

    def observe_cancelled(self, age: float) -> None:
        """A dial was cancelled after ringing ``age`` s: its outcome is unknown."""
        self._priced = None
        self.dials.observe_censored(age)

    def may_preview(self, snapshot: PacingSnapshot, seat_id: str) -> bool:
        """Whether a seat in a preview campaign may take a lead now: it is ready, has no dial of
        its own in flight and no answered call is waiting for a seat."""
        return (self.mode is Mode.PREVIEW and seat_id in snapshot.ready_ids
                and seat_id not in snapshot.dialing_for and not snapshot.waiting)
