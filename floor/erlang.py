"""Staffing formulas: Erlang B, Erlang C (M/M/n) and Erlang A (M/M/n+M, callers who give up).

Pure and numerically stable for thousands of seats: nothing computes a factorial or a power of
the load; Erlang B comes from its recursion and Erlang A's sums are kept in log space.

Notation: ``rate`` is arrivals per second (lambda), ``handle_time`` the mean talk plus wrap-up in
seconds (1/mu), ``load = rate * handle_time`` the offered load in Erlangs (A), ``seats`` the
number of servers (n), ``patience`` the callers' mean patience in seconds (1/theta).

References:

* Erlang B recursion: B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)) (e.g. Cooper, *Introduction to
  Queueing Theory*, 1981, sec. 3.3).
* Erlang C from B: C = n B / (n - A (1 - B)); P(W > t) = C exp(-(n mu - lambda) t);
  ASA = C / (n mu - lambda) (Cooper, sec. 3.4; Gans, Koole & Mandelbaum 2003, sec. 4.1).
* Erlang A (Palm's M/M/n+M): the birth-death chain with birth rate lambda and death rate
  min(j, n) mu + max(j - n, 0) theta (Garnett, Mandelbaum & Reiman 2002, "Designing a call
  center with impatient customers", MSOM 4(3), sec. 3; Mandelbaum & Zeltyn 2007, "Service
  engineering in action: the Palm/Erlang-A queue"). P(abandon) = theta E[Q] / lambda (rate
  balance of the abandonment flow). For the service level we derive, for an arrival that finds
  m callers ahead, the time to reach a seat as a sum of exponentials with rates n mu + k theta
  (k = 0..m), whose density is prod(rates) / (theta^m m!) e^(-n mu s) (1 - e^(-theta s))^m; with
  the arrival's own exponential patience and the stationary weights (PASTA) the sum over m
  collapses to one integral:

      P(answered within t, delayed) = pi_n (x) int_0^(1 - e^(-theta t)) e^(y u) (1 - u)^x du

  where x = n mu / theta, y = lambda / theta and pi_n is the probability of exactly n in the
  system. The integral is taken numerically (composite Simpson, log-scaled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ErlangA",
    "agents_for_service_level",
    "agents_for_service_level_a",
    "average_speed_of_answer",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "service_level",
]

MAX_SEATS = 100_000  # the staffing searches stop here (a floor this large needs another tool)


def _check(rate: float, handle_time: float) -> None:
    if rate < 0 or not math.isfinite(rate):
        raise ValueError(f"arrival rate must be >= 0, not {rate!r}")
    if handle_time <= 0 or not math.isfinite(handle_time):
        raise ValueError(f"handle time must be > 0, not {handle_time!r}")


def erlang_b(seats: int, load: float) -> float:
    """Blocking probability of M/M/n/n with ``load`` Erlangs on ``seats`` servers (recursive form)."""
    if seats < 0 or load < 0:
        raise ValueError(f"seats and load must be >= 0, not {seats!r}, {load!r}")
    b = 1.0
    for k in range(1, seats + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(seats: int, load: float) -> float:
    """Probability that an arrival waits in M/M/n (1.0 when the load reaches the seats)."""
    if seats <= load:
        return 1.0
    b = erlang_b(seats, load)
    return seats * b / (seats - load * (1.0 - b))


def service_level(seats: int, rate: float, handle_time: float, threshold: float) -> float:
    """Erlang C share of arrivals answered within ``threshold`` seconds."""
    _check(rate, handle_time)
    load = rate * handle_time
    if seats <= load:
        return 0.0
    c = erlang_c(seats, load)
    return 1.0 - c * math.exp(-(seats - load) * threshold / handle_time)


def average_speed_of_answer(seats: int, rate: float, handle_time: float) -> float:
    """Erlang C mean wait in seconds over all arrivals (``inf`` when overloaded)."""
    _check(rate, handle_time)
    load = rate * handle_time
    if seats <= load:
        return math.inf
    return erlang_c(seats, load) * handle_time / (seats - load)


def agents_for_service_level(rate: float, handle_time: float, threshold: float,
                             target: float) -> int:
    """The fewest seats whose Erlang C service level reaches ``target`` (at least one)."""
    _check(rate, handle_time)
    if not 0 < target < 1:
        raise ValueError(f"target service level must be in (0, 1), not {target!r}")
    if rate == 0:
        return 1
    seats = max(1, math.floor(rate * handle_time) + 1)
    while service_level(seats, rate, handle_time, threshold) < target:
        seats += 1
        if seats > MAX_SEATS:
            raise ValueError(f"more than {MAX_SEATS} seats needed")
    return seats


@dataclass(frozen=True, slots=True)
class ErlangA:
    """Erlang A measures for one staffing level; probabilities are over all arrivals."""

    seats: int
    p_wait: float  # finds every seat busy
    p_abandon: float  # gives up before a seat answers
    service_level: float  # answered within the threshold
    mean_wait: float  # mean wait of every arrival (answered or not), seconds: E[Q] / lambda (Little)
    mean_queue: float  # callers waiting, on average


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(math.fsum(math.exp(v - top) for v in values))


def _tail(seats: int, rate: float, mu: float, theta: float) -> tuple[float, float]:
    """log of sum_{m>=0} r_m and of sum_{m>=1} m r_m, r_m = prod_{k=1..m} rate / (n mu + k theta)."""
    logs, weighted = [0.0], []
    log_r, top, m = 0.0, 0.0, 0
    while True:
        m += 1
        log_r += math.log(rate / (seats * mu + m * theta))
        top = max(top, log_r)
        logs.append(log_r)
        weighted.append(log_r + math.log(m))
        # The terms fall once n mu + m theta passes the rate; stop when they are negligible.
        if seats * mu + m * theta > rate and log_r < top - 40.0:
            return _logsumexp(logs), _logsumexp(weighted)


def _log_below(seats: int, load: float) -> float:
    """log(1 / B(n, A) - 1) = log(sum_{j<n} pi_j / pi_n), from the recursion of 1 / B in log space."""
    log_inv = 0.0  # log(1 / B(0)) = 0
    for k in range(1, seats + 1):
        step = math.log(k / load) + log_inv
        log_inv = step + math.log1p(math.exp(-step)) if step > 0 else math.log1p(math.exp(step))
    return log_inv + math.log(-math.expm1(-log_inv))


def _log_integral(x: float, y: float, upper: float) -> float:
    """log int_0^upper e^(y u) (1 - u)^x du, by composite Simpson on a log-scaled integrand."""
    # The integrand peaks at u* = 1 - x / y (or at 0 when y <= x); its width sets the step.
    peak = min(max(1.0 - x / y, 0.0), upper) if y > 0 else 0.0
    slope = abs(y - x / (1.0 - peak)) if peak < 1 else y
    width = min(math.sqrt(x + 1.0) / max(y, 1e-12), 1.0 / max(slope, 1e-12))
    steps = int(min(20_000, max(200, 30 * upper / max(width, 1e-12))))
    steps += steps % 2
    h = upper / steps
    logs = [y * u + x * math.log1p(-u) if u < 1 else -math.inf
            for u in (i * h for i in range(steps + 1))]
    top = max(logs)
    total = math.fsum((1 if i in (0, steps) else 4 if i % 2 else 2) * math.exp(v - top)
                      for i, v in enumerate(logs))
    return top + math.log(total * h / 3.0) if total > 0 else -math.inf


def erlang_a(seats: int, rate: float, handle_time: float, patience: float,
             threshold: float) -> ErlangA:
    """Erlang A (M/M/n+M) for ``seats`` seats; ``patience`` is the callers' mean patience (s)."""
    _check(rate, handle_time)
    if patience <= 0 or not math.isfinite(patience):
        raise ValueError(f"patience must be > 0, not {patience!r}")
    if seats < 1:
        raise ValueError(f"seats must be >= 1, not {seats!r}")
    if rate == 0:
        return ErlangA(seats, 0.0, 0.0, 1.0, 0.0, 0.0)
    mu, theta = 1.0 / handle_time, 1.0 / patience
    load = rate * handle_time
    log_below = _log_below(seats, load)
    log_tail, log_weighted = _tail(seats, rate, mu, theta)
    log_pi_n = -_logsumexp([log_below, log_tail])
    p_wait = math.exp(log_pi_n + log_tail)
    mean_queue = math.exp(log_pi_n + log_weighted)
    p_abandon = min(1.0, theta * mean_queue / rate)
    x, y = seats * mu / theta, rate / theta
    upper = -math.expm1(-theta * threshold)
    within_delayed = math.exp(log_pi_n + math.log(x) + _log_integral(x, y, upper)) if upper > 0 else 0.0
    sl = min(1.0, max(0.0, (1.0 - p_wait) + within_delayed))
    return ErlangA(seats, p_wait, p_abandon, sl, mean_queue / rate, mean_queue)


def agents_for_service_level_a(rate: float, handle_time: float, patience: float,
                               threshold: float, target: float) -> int:
    """The fewest seats whose Erlang A service level (answered within ``threshold``) reaches ``target``."""
    _check(rate, handle_time)
    if not 0 < target < 1:
        raise ValueError(f"target service level must be in (0, 1), not {target!r}")
    if rate == 0:
        return 1

    def ok(n: int) -> bool:
        return erlang_a(n, rate, handle_time, patience, threshold).service_level >= target

    # The service level rises with the seats: gallop up from a point under the answer, then bisect.
    low, high = 0, max(1, math.floor(rate * handle_time * 0.5))
    while not ok(high):
        low, high = high, high * 2
        if high > MAX_SEATS:
            raise ValueError(f"more than {MAX_SEATS} seats needed")
    while high - low > 1:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid
    return high
