"""Online estimators for pacing: answer probability, time to answer, time to a failed outcome,
talk time and wrap-up time.

Each estimator starts from a prior (pseudo-observations) and forgets: every new observation
weighs ``1 / (1 - 1 / memory)`` times the one before it, so the last ``memory`` or so
observations carry most of the weight and the prior fades as data arrive. Pure code: no clock,
no I/O; the same observations give the same estimates.

Besides scalar questions ("is a seat 40 s into a call free within 10 s?") the models fill
tables over a grid of ages and horizons, which the pacer reads with one gather per decision.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

__all__ = [
    "AnswerRate",
    "DecayingHistogram",
    "DialModel",
    "LogNormalEstimate",
    "SeatModel",
    "normal_cdf",
    "normal_cdf_array",
]

FloatArray = npt.NDArray[np.float64]
# Weights grow by 1/keep per observation; renormalise long before a float overflows.
_RESCALE_AT = 1e100


def normal_cdf(x: float) -> float:
    """The standard normal distribution function."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_cdf_array(x: FloatArray) -> FloatArray:
    """The standard normal distribution function, elementwise (absolute error < 1e-7).

    Numerical Recipes' Chebyshev fit of erfc; numpy has no erf of its own.
    """
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    tail = 0.5 * t * np.exp(-z * z + poly)
    result: FloatArray = np.where(x >= 0, 1.0 - tail, tail)
    return result


class AnswerRate:
    """Share of dials answered by a live person: a forgetting Bernoulli mean with a prior."""

    def __init__(self, prior: float = 0.25, prior_weight: float = 20.0, memory: float = 2000.0) -> None:
        if not 0.0 <= prior <= 1.0 or prior_weight <= 0 or memory <= 1:
            raise ValueError("prior must be in [0, 1], prior_weight > 0 and memory > 1")
        self._keep = 1.0 - 1.0 / memory
        self._hits = prior * prior_weight
        self._total = prior_weight
        self.observations = 0

    def observe(self, live: bool) -> None:
        """One dial ended: answered by a live person or not."""
        self._hits = self._hits * self._keep + (1.0 if live else 0.0)
        self._total = self._total * self._keep + 1.0
        self.observations += 1

    def observe_fraction(self, live: float) -> None:
        """One dial whose outcome is known only as a chance ``live`` of a live answer."""
        self._hits = self._hits * self._keep + live
        self._total = self._total * self._keep + 1.0
        self.observations += 1

    @property
    def value(self) -> float:
        """The current estimate of P(live answer)."""
        return self._hits / self._total

    @property
    def weight(self) -> float:
        """The effective number of observations behind the estimate (prior included)."""
        return self._total


class DecayingHistogram:
    """A forgetting histogram of durations on ``[0, limit)`` in bins of ``width`` seconds.

    Values at or past ``limit`` land in the last bin. Within a bin the mass is spread uniformly,
    so the distribution function is piecewise linear between bin edges.
    """

    def __init__(self, width: float, limit: float, memory: float = 500.0) -> None:
        if width <= 0 or limit <= width or memory <= 1:
            raise ValueError("need width > 0, limit > width and memory > 1")
        self.width = width
        self.bins = int(math.ceil(limit / width - 1e-9))
        self.limit = self.bins * width
        self._keep = 1.0 - 1.0 / memory
        self._weights = [0.0] * self.bins
        self._step = 1.0  # the weight of the next observation (grows as older ones fade)
        self._total = 0.0
        self.observations = 0

    def _bin(self, value: float) -> int:
        return min(self.bins - 1, max(0, int(value / self.width)))

    def add(self, value: float, weight: float = 1.0) -> None:
        """Add ``weight`` pseudo-observations at ``value`` without fading the others (a prior)."""
        w = weight * self._step
        self._weights[self._bin(value)] += w
        self._total += w

    def add_uniform(self, low: float, high: float, weight: float) -> None:
        """Add ``weight`` pseudo-observations spread uniformly over ``[low, high]`` (a prior)."""
        if high <= low:
            self.add(low, weight)
            return
        for index in range(self._bin(low), self._bin(high - 1e-9) + 1):
            left = max(low, index * self.width)
            right = min(high, (index + 1) * self.width) if index < self.bins - 1 else high
            self._weights[index] += weight * max(0.0, right - left) / (high - low) * self._step
        self._total += weight * self._step

    def observe(self, value: float) -> None:
        """One observed duration; every earlier one now weighs ``keep`` times less."""
        self._step /= self._keep
        self._weights[self._bin(value)] += self._step
        self._total += self._step
        self.observations += 1
        if self._step > _RESCALE_AT:
            scale = 1.0 / self._step
            self._weights = [w * scale for w in self._weights]
            self._total *= scale
            self._step = 1.0

    def observe_beyond(self, value: float, weight: float) -> None:
        """``weight`` of one observation known only to exceed ``value``: spread over the bins
        past it in proportion to what they hold (fades the others like :meth:`observe`)."""
        self._step /= self._keep
        start = self._bin(value)
        tail = math.fsum(self._weights[start:])
        if weight > 0:
            w = weight * self._step
            if tail > 0:
                for index in range(start, self.bins):
                    self._weights[index] += w * self._weights[index] / tail
            else:
                self._weights[start] += w
            self._total += w
        if self._step > _RESCALE_AT:
            scale = 1.0 / self._step
            self._weights = [x * scale for x in self._weights]
            self._total *= scale
            self._step = 1.0

    def pmf(self) -> FloatArray:
        """The probability of each bin (all zero when empty)."""
        weights = np.asarray(self._weights, dtype=np.float64)
        return weights / self._total if self._total > 0 else weights

    def cdf(self, value: float) -> float:
        """P(X <= value), linear within a bin."""
        if self._total <= 0 or value <= 0:
            return 0.0
        if value >= self.limit:
            return 1.0
        index = int(value / self.width)
        inside = self._weights[index] * (value - index * self.width) / self.width
        return (math.fsum(self._weights[:index]) + inside) / self._total

    def cdf_many(self, values: FloatArray) -> FloatArray:
        """P(X <= v) for each of ``values`` (vectorised :meth:`cdf`)."""
        edges = np.arange(self.bins + 1, dtype=np.float64) * self.width
        cumulative = np.concatenate(([0.0], np.cumsum(self.pmf())))
        result: FloatArray = np.interp(values, edges, cumulative)
        return result

    def mean(self) -> float:
        """The mean, with the mass of each bin at its midpoint."""
        if self._total <= 0:
            return 0.0
        return math.fsum(w * (i + 0.5) for i, w in enumerate(self._weights)) * self.width / self._total

    def quantile(self, q: float) -> float:
        """The smallest value at which the distribution function reaches ``q``."""
        if self._total <= 0:
            return 0.0
        target = q * self._total
        running = 0.0
        for index, weight in enumerate(self._weights):
            if weight > 0 and running + weight >= target:
                return (index + (target - running) / weight) * self.width
            running += weight
        return self.limit


class LogNormalEstimate:
    """A duration as a lognormal distribution fitted online by forgetting moments of ``ln x``."""

    MIN_SIGMA = 0.05

    def __init__(self, prior_mean: float = 120.0, prior_cv: float = 1.0, prior_weight: float = 10.0,
                 memory: float = 500.0) -> None:
        if prior_mean <= 0 or prior_cv <= 0 or prior_weight <= 0 or memory <= 1:
            raise ValueError("prior_mean, prior_cv and prior_weight must be > 0 and memory > 1")
        var = math.log1p(prior_cv * prior_cv)
        mu = math.log(prior_mean) - var / 2
        self._keep = 1.0 - 1.0 / memory
        self._w = prior_weight
        self._s1 = prior_weight * mu
        self._s2 = prior_weight * (var + mu * mu)
        self.observations = 0

    def observe(self, value: float) -> None:
        """One finished duration in seconds (under 0.1 s counts as 0.1 s)."""
        x = math.log(max(value, 0.1))
        self._w = self._w * self._keep + 1.0
        self._s1 = self._s1 * self._keep + x
        self._s2 = self._s2 * self._keep + x * x
        self.observations += 1

    @property
    def mu(self) -> float:
        """Location: the mean of ``ln x``."""
        return self._s1 / self._w

    @property
    def sigma(self) -> float:
        """Scale: the standard deviation of ``ln x`` (at least ``MIN_SIGMA``)."""
        return max(self.MIN_SIGMA, math.sqrt(max(self._s2 / self._w - self.mu ** 2, 0.0)))

    @property
    def mean(self) -> float:
        """The mean duration implied by the fit."""
        return math.exp(self.mu + self.sigma ** 2 / 2)

    def cdf(self, value: float) -> float:
        """P(X <= value)."""
        if value <= 0:
            return 0.0
        return normal_cdf((math.log(value) - self.mu) / self.sigma)

    def cdf_many(self, values: FloatArray) -> FloatArray:
        """P(X <= v) for each of ``values`` (vectorised :meth:`cdf`, error < 1e-7)."""
        logs = np.log(np.maximum(values, 1e-300))
        result: FloatArray = np.where(values > 0, normal_cdf_array((logs - self.mu) / self.sigma), 0.0)
        return result

    def remaining_cdf(self, elapsed: float, within: float) -> float:
        """P(X <= elapsed + within | X > elapsed)."""
        survive = 1.0 - self.cdf(elapsed)
        if survive <= 1e-12:
            # Deep in the tail the hazard of a lognormal is about (ln t - mu) / (sigma^2 t).
            hazard = (math.log(elapsed) - self.mu) / (self.sigma ** 2 * elapsed)
            return min(1.0, max(0.0, within * hazard))
        return (self.cdf(elapsed + within) - self.cdf(elapsed)) / survive

    def with_censored(self, elapsed: Iterable[float], weight: float, rounds: int = 5) -> LogNormalEstimate:
        """A copy fitted also to calls still running ``elapsed`` s (right-censored, ``weight``
        each), by a few EM rounds. Early in a campaign the calls that have ended are the short
        ones; the long ones still running must count, or talk looks shorter than it is."""
        logs = [math.log(max(e, 0.1)) for e in elapsed]
        fitted = copy.copy(self)
        if weight <= 0 or not logs:
            return fitted
        mu, sigma = self.mu, self.sigma
        total = self._w + weight * len(logs)
        for _ in range(rounds):
            s1, s2 = self._s1, self._s2
            for c in logs:
                alpha = (c - mu) / sigma
                tail = 1.0 - normal_cdf(alpha)
                # Inverse Mills ratio; deep in the tail it tends to alpha.
                mills = math.exp(-0.5 * alpha * alpha) / (math.sqrt(2 * math.pi) * tail) if tail > 1e-12 else alpha
                mean = mu + sigma * mills
                var = sigma * sigma * max(1e-6, 1.0 + alpha * mills - mills * mills)
                s1 += weight * mean
                s2 += weight * (var + mean * mean)
            mu = s1 / total
            sigma = max(self.MIN_SIGMA, math.sqrt(max(s2 / total - mu * mu, 0.0)))
        fitted._w, fitted._s1, fitted._s2 = total, s1, s2
        return fitted

    def quantile(self, q: float) -> float:
        """The ``q`` quantile, 0 < q < 1."""
        low, high = -12.0, 12.0  # bisection on the standard normal
        for _ in range(80):
            mid = (low + high) / 2
            low, high = (mid, high) if normal_cdf(mid) < q else (low, mid)
        return math.exp(self.mu + self.sigma * high)


class DialModel:
    """What a dial still ringing will do: the answer probability, the time to a live answer and
    the time to a failed outcome (no answer, busy, machine, error)."""

    def __init__(self, answer_prior: float = 0.25, memory: float = 2000.0, limit: float = 90.0,
                 width: float = 0.25) -> None:
        self.answer = AnswerRate(answer_prior, memory=memory)
        self.to_answer = DecayingHistogram(width, limit, memory=memory / 4)
        self.to_failure = DecayingHistogram(width, limit, memory=memory / 4)
        # Priors, until calls teach otherwise: a live answer after 4-20 s, a failure after 4-30 s.
        self.to_answer.add_uniform(4.0, 20.0, 10.0)
        self.to_failure.add_uniform(4.0, 30.0, 10.0)

    def observe(self, duration: float, live: bool) -> None:
        """A dial ended after ``duration`` s: answered by a live person, or not."""
        self.answer.observe(live)
        (self.to_answer if live else self.to_failure).observe(duration)

    def observe_censored(self, age: float) -> None:
        """A dial cancelled while still ringing at ``age`` s: counted as live with the chance a
        dial ringing that long still had, its times spread over what was left of each."""
        q = self.live_probability(age)
        self.answer.observe_fraction(q)
        self.to_answer.observe_beyond(age, q)
        self.to_failure.observe_beyond(age, 1.0 - q)

    def _alive(self, age: float) -> float:
        p = self.answer.value
        return p * (1.0 - self.to_answer.cdf(age)) + (1.0 - p) * (1.0 - self.to_failure.cdf(age))

    def live_probability(self, age: float) -> float:
        """P(the dial ends in a live answer | still ringing ``age`` s after it was launched)."""
        alive = self._alive(age)
        return self.answer.value * (1.0 - self.to_answer.cdf(age)) / alive if alive > 0 else 0.0

    def answer_within(self, age: float, within: float) -> float:
        """P(a live answer within the next ``within`` s | still ringing at ``age`` s)."""
        alive = self._alive(age)
        if alive <= 0:
            return 0.0
        gain = self.to_answer.cdf(age + within) - self.to_answer.cdf(age)
        return self.answer.value * gain / alive

    def answer_table(self, ages: FloatArray, horizons: FloatArray) -> FloatArray:
        """``answer_within(age, h)`` for every age (rows) and horizon (columns)."""
        p = self.answer.value
        fa_now = self.to_answer.cdf_many(ages)[:, None]
        ff_now = self.to_failure.cdf_many(ages)[:, None]
        later = (ages[:, None] + horizons[None, :]).ravel()
        fa_then = self.to_answer.cdf_many(later).reshape(len(ages), len(horizons))
        alive = p * (1.0 - fa_now) + (1.0 - p) * (1.0 - ff_now)
        with np.errstate(divide="ignore", invalid="ignore"):
            table = np.where(alive > 1e-12, p * (fa_then - fa_now) / alive, 0.0)
        result: FloatArray = np.clip(table, 0.0, 1.0)
        return result


class SeatModel:
    """When a busy seat becomes free: the rest of its talk (lognormal), then its wrap-up
    (a forgetting histogram: a fixed wrap-up is learnt as a point and known exactly)."""

    def __init__(self, talk_prior: float = 120.0, wrap_prior: float = 15.0, memory: float = 500.0,
                 wrap_limit: float = 600.0, width: float = 0.25) -> None:
        self.talk = LogNormalEstimate(talk_prior, 1.0, prior_weight=30.0, memory=memory)
        self._memory = memory
        self.wrap = DecayingHistogram(width, wrap_limit, memory=memory)
        self.wrap.add_uniform(wrap_prior * 0.5, wrap_prior * 1.5, 3.0)

    def set_wrap(self, duration: float) -> None:
        """Every wrap-up lasts ``duration`` s from now on (a campaign's ``wrap_up`` changed): known
        exactly at once, what was learnt of the old one dropped."""
        self.wrap = DecayingHistogram(self.wrap.width, self.wrap.limit, memory=self._memory)
        self.wrap.observe(duration)

    def observe_talk(self, duration: float) -> None:
        """A call ended after ``duration`` s of talk."""
        self.talk.observe(duration)

    def observe_wrap(self, duration: float) -> None:
        """A seat finished wrap-up after ``duration`` s."""
        self.wrap.observe(duration)

    def wrap_free_within(self, elapsed: float, within: float) -> float:
        """P(a seat ``elapsed`` s into wrap-up is free within the next ``within`` s)."""
        survive = 1.0 - self.wrap.cdf(elapsed)
        if survive <= 1e-12:
            return 1.0
        return (self.wrap.cdf(elapsed + within) - self.wrap.cdf(elapsed)) / survive

    def talk_free_within(self, elapsed: float, within: float) -> float:
        """P(a seat ``elapsed`` s into a call is free (talk and wrap-up over) within ``within`` s).

        The wrap-up mass of each histogram bin is taken at the bin's midpoint.
        """
        pmf = self.wrap.pmf()
        total = 0.0
        for index in np.flatnonzero(pmf > 1e-12).tolist():
            wrap = (index + 0.5) * self.wrap.width
            if wrap < within:
                total += float(pmf[index]) * self.talk.remaining_cdf(elapsed, within - wrap)
        return min(1.0, total)

    def wrap_table(self, elapsed: FloatArray, horizons: FloatArray) -> FloatArray:
        """``wrap_free_within(e, h)`` for every elapsed wrap-up time (rows) and horizon (columns)."""
        now = self.wrap.cdf_many(elapsed)[:, None]
        then = self.wrap.cdf_many((elapsed[:, None] + horizons[None, :]).ravel())
        then = then.reshape(len(elapsed), len(horizons))
        survive = 1.0 - now
        with np.errstate(divide="ignore", invalid="ignore"):
            table = np.where(survive > 1e-12, (then - now) / survive, 1.0)
        result: FloatArray = np.clip(table, 0.0, 1.0)
        return result

    def talk_table(self, elapsed: FloatArray, horizons: FloatArray,
                   talk: LogNormalEstimate | None = None) -> FloatArray:
        """``talk_free_within(e, h)`` for every elapsed talk time (rows) and horizon (columns),
        with ``talk`` instead of the estimate if given.

        ``horizons`` must be a regular grid from 0. The wrap-up is rounded to that grid and
        convolved with the remaining talk, which is exact for a fixed wrap-up on the grid.
        """
        talk = talk or self.talk
        step = float(horizons[1] - horizons[0]) if len(horizons) > 1 else 1.0
        cols = len(horizons)
        now = talk.cdf_many(elapsed)[:, None]
        then = talk.cdf_many((elapsed[:, None] + horizons[None, :]).ravel())
        then = then.reshape(len(elapsed), cols)
        survive = 1.0 - now
        with np.errstate(divide="ignore", invalid="ignore"):
            remaining = np.where(survive > 1e-12, (then - now) / survive, 0.0)
        # P(W rounds to k steps): mass between the half-steps around k * step.
        half = (np.arange(cols + 1, dtype=np.float64) - 0.5) * step
        mass = np.diff(self.wrap.cdf_many(np.maximum(half, 0.0)))
        table = np.zeros((len(elapsed), cols))
        for k in np.flatnonzero(mass > 1e-12).tolist():
            table[:, k:] += mass[k] * remaining[:, : cols - k]
        result: FloatArray = np.clip(table, 0.0, 1.0)
        return result
