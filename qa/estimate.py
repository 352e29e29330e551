"""Weighted score estimates from sampled evaluations, with a confidence interval.

Each observation is a scored call from a design stratum h (one seat's risk or random calls on
one day) of ``N_h`` calls of which ``m_h`` were scored. Its weight is ``w = N_h / m_h`` (the
inverse inclusion probability; a pick never scored leaves its stratum's other picks to stand
for it). The estimate is the Hájek mean

    ȳ = Σ w_i y_i / Σ w_i

and its variance the stratified Taylor linearisation of that ratio, with the finite-population
correction (as R's ``survey::svymean`` computes it)::

    z_i = w_i (y_i - ȳ) / Σ w
    v   = Σ_h (1 - f_h) m_h / (m_h - 1) Σ_{i in h} (z_i - z̄_h)²,   f_h = m_h / N_h

A stratum with one scored call has no spread of its own: its term is ``(1 - f_h) z_i²``
(centred on the overall mean of z, which is 0; ``survey``'s "adjust" rule, conservative).
The interval is ȳ ± t · √v with Student's t on (m - H) degrees of freedom (m scored calls in H
strata), normal when that leaves none, clipped to 0..100.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["Estimate", "Observation", "estimate", "estimate_by", "t_quantile"]


@dataclass(frozen=True, slots=True)
class Observation:
    """One scored, sampled call."""

    seat: str
    team: str | None
    stratum: str  # the design stratum's key, e.g. "2025-03-14/1001/risk"
    stratum_size: int  # N_h
    score: float


@dataclass(frozen=True, slots=True)
class Estimate:
    """A weighted mean score with its standard error and confidence interval."""

    n: int  # scored calls
    mean: float  # the Hájek (inverse-probability weighted) mean
    std_error: float
    low: float
    high: float
    level: float
    unweighted: float  # the plain mean of the scored calls, for comparison
    calls: float  # Σ w: the calls the estimate stands for


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile (Hill 1970, ACM Algorithm 396); normal for df > 1000."""
    if df <= 0 or df > 1000:
        return NormalDist().inv_cdf(p)
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    two_sided = 2 * min(p, 1 - p)
    sign = 1.0 if p >= 0.5 else -1.0
    if df == 2:
        return sign * math.sqrt(2 / (two_sided * (2 - two_sided)) - 2)
    a = 1 / (df - 0.5)
    b = 48 / (a * a)
    c = ((20700 * a / b - 98) * a - 16) * a + 96.36
    d = ((94.5 / (b + c) - 3) / b + 1) * math.sqrt(a * math.pi / 2) * df
    x = d * two_sided
    y = x ** (2 / df)
    if y > 0.05 + a:
        x = NormalDist().inv_cdf(two_sided * 0.5)
        y = x * x
        if df < 5:
            c += 0.3 * (df - 4.5) * (x + 0.6)
        c = (((0.05 * d * x - 5) * x - 7) * x - 2) * x + b + c
        y = (((((0.4 * y + 6.3) * y + 36) * y + 94.5) / c - y - 3) / b + 1) * x
        y = a * y * y
        y = math.expm1(y)
    else:
        y = ((1 / (((df + 6) / (df * y) - 0.089 * d - 0.822) * (df + 2) * 3) + 0.5 / (df + 4)) * y - 1) \
            * (df + 1) / (df + 2) + 1 / y
    return sign * math.sqrt(df * y)


def estimate(observations: Iterable[Observation], *, level: float = 0.95) -> Estimate | None:
    """The weighted mean of the observations and its interval; None without observations."""
    strata: dict[str, list[Observation]] = defaultdict(list)
    for obs in observations:
        if obs.stratum_size < 1:
            raise ValueError(f"stratum {obs.stratum!r}: size must be at least 1, got {obs.stratum_size}")
        strata[obs.stratum].append(obs)
    if not strata:
        return None
    for key, members in strata.items():
        if len(members) > members[0].stratum_size:
            raise ValueError(f"stratum {key!r}: {len(members)} scored calls but only {members[0].stratum_size} in it")
    weighted = [(obs.stratum_size / len(members), obs.score, key) for key, members in strata.items() for obs in members]
    total_w = sum(w for w, _, _ in weighted)
    mean = sum(w * y for w, y, _ in weighted) / total_w
    variance = _variance(strata, mean, total_w)
    n = len(weighted)
    std_error = math.sqrt(variance)
    half = t_quantile(0.5 + level / 2, n - len(strata)) * std_error
    return Estimate(n, mean, std_error, max(0.0, mean - half), min(100.0, mean + half), level,
                    sum(y for _, y, _ in weighted) / n, total_w)


def _variance(strata: dict[str, list[Observation]], mean: float, total_w: float) -> float:
    variance = 0.0
    for members in strata.values():
        m, size = len(members), members[0].stratum_size
        z = [size / m * (obs.score - mean) / total_w for obs in members]
        fpc = 1 - m / size
        if m == 1:
            variance += fpc * z[0] ** 2
            continue
        centre = sum(z) / m
        variance += fpc * m / (m - 1) * sum((zi - centre) ** 2 for zi in z)
    return variance


def estimate_by(observations: Iterable[Observation], key: Callable[[Observation], str | None], *,
                level: float = 0.95) -> dict[str, Estimate]:
    """One estimate per group (e.g. ``lambda o: o.seat``); observations keyed None are left out."""
    groups: dict[str, list[Observation]] = defaultdict(list)
    for obs in observations:
        group = key(obs)
        if group is not None:
            groups[group].append(obs)
    out: dict[str, Estimate] = {}
    for group in sorted(groups):
        found = estimate(groups[group], level=level)
        if found is not None:
            out[group] = found
    return out
