"""The look-ahead model of predictive pacing: seats that will be free against live answers that
will arrive, over the next seconds.

On a grid of horizons ``h`` (``step`` seconds apart), for the campaign as it is now:

* ``S(h)``: how many busy seats will be free by ``now + h``. A seat in wrap-up is free when its
  wrap-up ends (the wrap-up distribution given the time already spent in it: a fixed wrap-up is
  known to the quarter second); a seat in a call when the rest of its talk (lognormal, given the
  talk so far: heavy tails make the elapsed time matter) and then its wrap-up are over.
* ``A(h)``: how many live answers the dials in flight will bring by ``now + h``, each from the
  answer probability and the time-to-answer given that it is still ringing at its age.
* ``X(h) = W + A(h) - I - S(h + grace)``: with ``I`` seats ready and ``W`` answered calls waiting,
  the answers by ``h`` minus the seats that can take them (an answer waits ``grace`` seconds).

A live answer that lands at ``h`` is abandoned when no seat is left for it: ``X(h) >= 0`` before
it. Each seat and dial is an independent Bernoulli variable at each horizon, so ``X(h)`` is taken
as normal with the summed Bernoulli variances (plus the uncertainty of the answer rate itself,
which moves all pending answers together). A new dial's risk is
``sum_h P(it lands at h) P(X(h) >= 0) / P(live)``; the k-th new dial of one decision counts the
k - 1 before it. The pacer launches dials while that risk is at most ``theta``, which the
feedback controller sets (``dialer.pacing_control``).

Tables (rows: age or time spent; columns: horizons, with their variances beside them) are built
from the estimators every few seconds of ``now``; a decision gathers one row per seat and dial
and sums them, so it costs a few dozen array operations whatever the size of the campaign.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dialer.estimate import DialModel, LogNormalEstimate, SeatModel, normal_cdf

__all__ = ["Lookahead", "ModelConfig", "Shortfall", "Tables"]

FloatArray = npt.NDArray[np.float64]

# The normal distribution function on a fine grid: np.interp on it costs far less than the
# polynomial for the few dozen values a decision needs (error < 2e-6).
_Z = np.linspace(-9.0, 9.0, 3601)
_PHI = np.array([normal_cdf(z) for z in _Z.tolist()])


def _phi(z: FloatArray) -> FloatArray:
    result: FloatArray = np.interp(z, _Z, _PHI)
    return result


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Grid and refresh settings of the look-ahead model."""

    grace: float = 2.0  # seconds from answer to seat before a call is abandoned
    step: float = 0.5  # horizon grid, seconds
    age_step: float = 0.25  # rows of the dial and wrap-up tables, seconds
    talk_step: float = 1.0  # rows of the talk table, seconds
    max_horizon: float = 60.0
    max_talk_rows: int = 14400
    dial_refresh: float = 10.0  # rebuild the dial table at most this often (seconds of now)
    seat_refresh: float = 60.0  # rebuild the seat tables at most this often, if they moved
    max_new: int = 200  # at most this many new dials in one decision
    censor_calls: float = 10.0  # the start-up talk correction fades over this many calls a seat


@dataclass(slots=True)
class Tables:
    """The probability tables, stacked: rows for seats in a call (by talk so far), seats in
    wrap-up (by wrap-up so far) and dials (by age). Each row holds, for every horizon ``h`` where
    a new dial's answer can land (``lands``, columns 1 .. L of the grid), its contribution to the
    mean of ``X(h)``, to its variance, and to the expected answers: ``[-P | P(1-P) | 0]`` for a
    seat, P being the chance it is free by ``h + grace`` (an answer waits that long), and
    ``[P | P(1-P) | P]`` for a dial, P being the chance of its live answer by ``h``."""

    horizons: FloatArray
    talk: FloatArray
    wrap: FloatArray
    dial: FloatArray
    stacked: npt.NDArray[np.float32]  # talk, wrap and dial rows: one gather per decision
    blocks: FloatArray  # per block: rows per second, rows after the first, first row
    lands: FloatArray  # P(a new dial's live answer lands in each step)
    g: FloatArray  # P(a new dial answered live by each step)
    g_var: FloatArray  # g (1 - g)
    answer_p: float  # P(a new dial answered live within the grid)
    built_dial: float
    built_seats: float

    def stack(self, talk_step: float, age_step: float) -> None:
        """Stack the three blocks after any of them changed."""
        blocks = (self.talk, self.wrap, self.dial)
        # float32 halves the bytes a decision gathers; sums of a few hundred rows keep ~1e-5.
        self.stacked = np.ascontiguousarray(np.vstack(blocks), dtype=np.float32)
        sizes = [len(b) for b in blocks]
        firsts = [0, sizes[0], sizes[0] + sizes[1]]
        scales = [1.0 / talk_step, 1.0 / age_step, 1.0 / age_step]
        self.blocks = np.array([[scales[i], sizes[i] - 1, firsts[i]] for i in range(3)], dtype=np.float64)


def _seat_columns(table: FloatArray, first: int, count: int) -> FloatArray:
    part = table[:, first:first + count]
    return np.ascontiguousarray(np.hstack((-part, part * (1.0 - part), np.zeros_like(part))))


def _dial_columns(table: FloatArray, first: int, count: int) -> FloatArray:
    part = table[:, first:first + count]
    return np.ascontiguousarray(np.hstack((part, part * (1.0 - part), part)))


class Lookahead:
    """Builds the tables from the estimators and prices new dials."""

    def __init__(self, dials: DialModel, seats: SeatModel, config: ModelConfig | None = None) -> None:
        self.dials = dials
        self.seats = seats
        self.config = config or ModelConfig()
        self._tables: Tables | None = None
        self._signature: tuple[float, ...] = ()

    # -- tables ---------------------------------------------------------------------------
    @property
    def _grace_steps(self) -> int:
        return int(round(self.config.grace / self.config.step))

    def _horizons(self) -> FloatArray:
        c = self.config
        reach = min(c.max_horizon, self.dials.to_answer.quantile(0.999) + c.grace + 2 * c.step)
        return np.arange(int(math.ceil(reach / c.step)) + 1, dtype=np.float64) * c.step

    def _lands(self, horizons: FloatArray) -> int:
        """How many horizon columns (from column 1) a new dial's answer is priced at."""
        return max(1, len(horizons) - 1 - self._grace_steps)

    def _dial_table(self, horizons: FloatArray) -> FloatArray:
        c = self.config
        # Rows until no dial is left ringing: the last ones answer live with chance ~0.
        oldest = max(self.dials.to_answer.quantile(0.9999), self.dials.to_failure.quantile(0.9999), 1.0)
        ages = np.arange(int(oldest / c.age_step) + 2, dtype=np.float64) * c.age_step
        return _dial_columns(self.dials.answer_table(ages, horizons), 1, self._lands(horizons))

    def _talk(self, talking: tuple[float, ...]) -> LogNormalEstimate:
        """The talk estimate, corrected at start-up for the long calls still running: their
        weight fades as the campaign's seats each finish ``censor_calls`` calls."""
        talk = self.seats.talk
        seats = max(1, len(talking))
        weight = max(0.0, 1.0 - talk.observations / (self.config.censor_calls * seats))
        return talk.with_censored(talking, weight) if weight > 0 else talk

    def _seat_tables(self, horizons: FloatArray, talk: LogNormalEstimate) -> tuple[FloatArray, FloatArray]:
        c = self.config
        wrap_top = self.seats.wrap.quantile(0.99999) + c.age_step
        wrap_rows = np.arange(int(wrap_top / c.age_step) + 2, dtype=np.float64) * c.age_step
        talk_top = min(talk.quantile(0.9999), c.max_talk_rows * c.talk_step)
        talk_rows = np.arange(int(talk_top / c.talk_step) + 2, dtype=np.float64) * c.talk_step
        first, count = 1 + self._grace_steps, self._lands(horizons)
        wrap = _seat_columns(self.seats.wrap_table(wrap_rows, horizons), first, count)
        talk_free = _seat_columns(self.seats.talk_table(talk_rows, horizons, talk), first, count)
        return talk_free, wrap

    def _install_dial(self, t: Tables, now: float) -> None:
        t.dial = self._dial_table(t.horizons)
        count = self._lands(t.horizons)
        t.g = t.dial[0, :count]
        t.g_var = t.dial[0, count:2 * count]
        t.lands = np.diff(np.concatenate(([0.0], t.g)))
        t.answer_p = float(t.g[-1])
        t.built_dial = now
        t.stack(self.config.talk_step, self.config.age_step)

    def _seat_signature(self, talk: LogNormalEstimate) -> tuple[float, ...]:
        wrap = self.seats.wrap
        return (talk.mu, talk.sigma, wrap.quantile(0.05), wrap.quantile(0.5), wrap.quantile(0.95))

    def _seats_moved(self, signature: tuple[float, ...]) -> bool:
        tolerance = (0.01, 0.01, 0.25, 0.25, 0.25)
        pairs = zip(signature, self._signature, tolerance, strict=True)
        return any(abs(new - old) > tol for new, old, tol in pairs)

    def tables(self, now: float, talking: tuple[float, ...] = ()) -> Tables:
        """The current tables. The dial table is rebuilt every ``dial_refresh`` seconds; the seat
        tables every ``seat_refresh`` seconds if the seat model has moved. ``talking`` are the
        calls in progress, for the start-up correction of the talk estimate."""
        c = self.config
        t = self._tables
        talk: LogNormalEstimate | None = None
        if t is not None and now < t.built_dial:
            t = None  # the clock went back (a new run): start over
        if t is not None and now - t.built_seats >= c.seat_refresh:
            talk = self._talk(talking)
            if self._seats_moved(self._seat_signature(talk)) or len(self._horizons()) != len(t.horizons):
                t = None
            else:
                t.built_seats = now
        if t is None:
            talk = talk or self._talk(talking)
            horizons = self._horizons()
            self._signature = self._seat_signature(talk)
            talk_free, wrap = self._seat_tables(horizons, talk)
            empty = np.zeros(0)
            t = Tables(horizons, talk_free, wrap, empty, np.zeros((0, 0), dtype=np.float32), empty,
                       empty, empty, empty, 0.0, now, now)
            self._install_dial(t, now)
        elif now - t.built_dial >= c.dial_refresh:
            self._install_dial(t, now)
        self._tables = t
        return t

    def invalidate(self) -> None:
        """Rebuild every table at the next decision."""
        self._tables = None

    # -- pricing --------------------------------------------------------------------------
    def shortfall(self, now: float, ready: int, talking: tuple[float, ...],
                  wrapping: tuple[float, ...], dialing: tuple[float, ...], waiting: int) -> Shortfall:
        """``X(h)`` at the steps where a new dial's answer can land, before any new dial."""
        t = self.tables(now, talking)
        count = len(t.g)
        ages = talking + wrapping + dialing
        if ages:
            # Per block: rows per second, last row, first row; the nearest row of each age.
            spec = np.repeat(t.blocks, (len(talking), len(wrapping), len(dialing)), axis=0)
            rows = np.fromiter(ages, np.float64, len(ages)) * spec[:, 0] + 0.5
            np.minimum(rows, spec[:, 1], out=rows)
            rows += spec[:, 2]
            total = t.stacked.take(rows.astype(np.intp), axis=0).sum(axis=0).astype(np.float64)
            mean = total[:count] + float(waiting - ready)
            var = total[count:2 * count]
            answers = total[2 * count:]
        else:
            mean = np.full(count, float(waiting - ready))
            var = answers = np.zeros(count)
        # While few dials have ended the answer rate itself is uncertain, and its error moves
        # every pending answer together: add (relative variance of p) x answers^2.
        rate = self.dials.answer
        p = rate.value
        rel = (1.0 - p) / (p * rate.weight) if p > 0 else 0.0
        return Shortfall(t, mean, var, answers, rel)

    def new_dials(self, now: float, ready: int, talking: tuple[float, ...], wrapping: tuple[float, ...],
                  dialing: tuple[float, ...], waiting: int, theta: float,
                  min_ring: float | None = None) -> int:
        """How many new dials keep each one's chance that its live answer finds no seat within
        the grace time at or under ``theta``. With ``min_ring`` (surplus dials are cancelled
        after that much ringing) an answer landing later is priced at most ``theta``: it is
        kept only if it is then that safe."""
        return self.count_new(self.shortfall(now, ready, talking, wrapping, dialing, waiting),
                              theta, min_ring)

    def count_new(self, x: Shortfall, theta: float, min_ring: float | None = None) -> int:
        """:meth:`new_dials` for a shortfall already computed."""
        if min_ring is not None:
            x = x.capped(min_ring, theta)
        if x.tables.answer_p <= 0 or x.first_risk() > theta:
            return 0
        # Most decisions launch a few dials at most: price the next ones in growing chunks.
        cap = self.config.max_new
        low, high = 1, 4
        while low < cap:
            high = min(high, cap)
            over = np.flatnonzero(x.risk(np.arange(low, high, dtype=np.float64)[:, None]) > theta)
            if len(over):
                return low + int(over[0])
            low, high = high, high * 4
        return cap

    def cancellations(self, x: Shortfall, dialing: tuple[float, ...], theta: float,
                      eligible: list[int]) -> list[int]:
        """Which of the ``eligible`` dials in flight (indices into ``dialing``, whose shortfall
        is ``x``) to cancel: those whose live answer would find no seat with a chance over
        ``theta``. The riskiest goes first and the others are priced again without it."""
        old = [i for i in eligible if 0 <= i < len(dialing)]
        if not old:
            return []
        t = x.tables
        count = len(t.g)
        scale, last, first = t.blocks[2]
        rows = np.minimum(np.array([dialing[i] for i in old]) * scale + 0.5, last).astype(np.intp) + int(first)
        own = t.stacked.take(rows, axis=0).astype(np.float64)[:, :count]  # P(answered by h)
        live = own[:, -1]
        lands = np.diff(np.concatenate((np.zeros((len(old), 1)), own), axis=1), axis=1)
        mean, var = x.mean.copy(), x.var.copy()
        answers = x.answers.copy()
        chosen: list[int] = []
        alive = np.ones(len(old), dtype=bool)
        while alive.any():
            others_mean = mean[None, :] - own
            others_answers = answers[None, :] - own
            others_var = var[None, :] - own * (1.0 - own) + x.rate_rel_var * others_answers ** 2 + 1e-9
            z = (others_mean + 0.5) / np.sqrt(np.maximum(others_var, 1e-9))
            with np.errstate(divide="ignore", invalid="ignore"):
                risk = np.where(live > 1e-9, (_phi(z) * lands).sum(axis=1) / live, 0.0)
            risk[~alive] = -1.0
            best = int(np.argmax(risk))
            if risk[best] <= theta:
                break
            chosen.append(old[best])
            alive[best] = False
            mean -= own[best]
            var -= own[best] * (1.0 - own[best])
            answers -= own[best]
        return chosen


@dataclass(frozen=True, slots=True)
class Shortfall:
    """Answers minus seats, ``X(h)``, at the steps where a new dial's live answer can land."""

    tables: Tables
    mean: FloatArray
    var: FloatArray
    answers: FloatArray  # expected live answers by then from the dials in flight
    rate_rel_var: float  # relative variance of the answer-rate estimate
    late: npt.NDArray[np.bool_] | None = None  # steps where a new dial could still be cancelled
    cap: float = 1.0  # the most a landing at those steps is priced

    def capped(self, min_ring: float, theta: float) -> Shortfall:
        """The same shortfall, with a new dial's landings after ``min_ring`` s priced at most
        ``theta`` (a dial is cancelled there unless its answer is that safe)."""
        t = self.tables
        # Column h holds the landings in (h - step, h]: late when all of it is past min_ring.
        late = t.horizons[:len(t.g)] >= min_ring - 1e-9
        return Shortfall(t, self.mean, self.var, self.answers, self.rate_rel_var, late, theta)

    def _priced(self, p: FloatArray) -> FloatArray:
        if self.late is None:
            return p
        result: FloatArray = np.where(self.late, np.minimum(p, self.cap), p)
        return result

    def first_risk(self) -> float:
        """:meth:`risk` for the first new dial (no other new one), the common case made cheap."""
        t = self.tables
        var = self.var + self.rate_rel_var * self.answers * self.answers + 1e-9
        return float(np.dot(self._priced(_phi((self.mean + 0.5) / np.sqrt(var))), t.lands)) / t.answer_p

    def risk(self, k: FloatArray) -> FloatArray:
        """For each count ``k`` (a column) of other new dials: the chance that one more new
        dial's live answer finds no seat, ``sum_h P(lands at h) P(X(h) + k g(h) >= 0)``."""
        t = self.tables
        answers = self.answers + k * t.g
        var = self.var + k * t.g_var + self.rate_rel_var * answers * answers + 1e-9
        # X is a whole number: P(X >= 0) is taken as P(normal > -0.5).
        z = (self.mean + k * t.g + 0.5) / np.sqrt(var)
        risk: FloatArray = (self._priced(_phi(z)) * t.lands).sum(axis=1) / t.answer_p
        return risk


