"""Where the pacer's limit lies on a small campaign: what extra knowledge or budget would buy.

For each cell (default: the two cells of ``bench/dialer.py`` that miss their target, 10 agents on
240 s calls at 25 % and 35 % answers) the simulator of ``callfloor simulate dialer`` runs:

* ``progressive``: the baseline;
* ``predictive``: the shipped pacer at the 3 % target;
* ``budget``: the shipped pacer at larger abandonment targets (``--targets``), the trade-off of
  occupancy against abandonment. A target over 3 % is not allowed in a campaign; this only asks
  what the extra points would cost;
* ``seat_oracle``: the pacer told every seat's exact free time (end of talk plus wrap-up) as soon
  as its call connects, instead of forecasting it from the talk-time distribution;
* ``exact_pricing``: the pacer pricing each new dial with the exact distribution of answers minus
  free seats (a Poisson-binomial convolution) instead of the normal approximation.

The two last variants are experiments kept here, not pacing modes: if neither moves occupancy,
the limit is the dials' own randomness (who answers, and when within the ring window) against a
2 s grace, not the seat forecast nor the approximation. One JSON object on stdout, a line per
run on stderr.

    .venv/bin/python bench/dialer_limits.py --jobs 2          # the two cells, 3 seeds (about 8 min)
    .venv/bin/python bench/dialer_limits.py --quick           # a trivial size (the smoke test)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

# As in bench/dialer.py: this directory must not hide the ``dialer`` package.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from dialer.pacing import Mode, Pacer, PacingSnapshot  # noqa: E402
from dialer.pacing_model import Shortfall  # noqa: E402
from dialer.sim import Scenario, SimResult, engine, parse_scenario  # noqa: E402

sys.path.insert(0, str(BENCH))

from common import emit, log, machine  # noqa: E402

VARIANTS = ("progressive", "predictive", "seat_oracle", "exact_pricing")


class OraclePacer(Pacer):
    """The pacer with every seat's free time known exactly (``free_at``, set before each pace)."""

    free_at: list[float]

    def _shortfall(self, snapshot: PacingSnapshot) -> Shortfall:
        self._priced = None
        x = self.lookahead.shortfall(snapshot.now, snapshot.ready, (), (), snapshot.dialing,
                                     len(snapshot.waiting))
        t = x.tables
        count = len(t.g)
        # Column j prices an answer landing at horizons[1 + j]: a seat counts if free by then + grace.
        reach = t.horizons[1:1 + count] + self.lookahead.config.grace
        left = np.array([f - snapshot.now for f in self.free_at if f > snapshot.now])
        free = (left[None, :] <= reach[:, None]).sum(axis=1) if len(left) else np.zeros(count)
        return Shortfall(t, x.mean - free, x.var, x.answers, x.rate_rel_var)


class ExactPacer(Pacer):
    """The pacer pricing new dials with the exact distribution of answers minus free seats."""

    def decide(self, snapshot: PacingSnapshot) -> int:
        self._uncontrolled, self._seats = snapshot.uncontrolled_abandon, snapshot.seats
        floor = self.progressive_dials(snapshot)
        if snapshot.seats == 0 or self.effective_mode(snapshot) is not Mode.PREDICTIVE:
            return super().decide(snapshot)
        self._priced = None
        theta = self.controller.accepted(snapshot.abandon_slack, snapshot.seats)
        roomy = theta >= self.controller.theta
        return max(floor, self._exact_new(snapshot, theta, self.min_ring if roomy else None))

    def distribution(self, s: PacingSnapshot, extra: int = 40) -> tuple[np.ndarray, int]:
        """P(X(h) = low + j) for each landing step h (rows) and j (columns), with room for
        ``extra`` more answers; and ``low``, the smallest value X can take."""
        t = self.lookahead.tables(s.now, s.talking)
        count = len(t.g)
        seats = len(s.talking) + len(s.wrapping)
        ages = s.talking + s.wrapping + s.dialing
        spec = np.repeat(t.blocks, (len(s.talking), len(s.wrapping), len(s.dialing)), axis=0)
        rows = np.minimum(np.array(ages, dtype=np.float64) * spec[:, 0] + 0.5, spec[:, 1]) + spec[:, 2]
        p = np.abs(t.stacked.take(rows.astype(np.intp), axis=0)[:, :count].astype(np.float64))
        pmf = np.zeros((count, seats + len(s.dialing) + extra + 1))
        pmf[:, seats] = 1.0
        for i in range(len(ages)):  # a seat free takes one off X, an answer adds one
            shifted = np.zeros_like(pmf)
            if i < seats:
                shifted[:, :-1] = pmf[:, 1:]
            else:
                shifted[:, 1:] = pmf[:, :-1]
            pmf = pmf * (1.0 - p[i])[:, None] + shifted * p[i][:, None]
        return pmf, len(s.waiting) - s.ready - seats

    def _exact_new(self, s: PacingSnapshot, theta: float, min_ring: float | None, most: int = 40) -> int:
        t = self.lookahead.tables(s.now, s.talking)
        count = len(t.g)
        pmf, low = self.distribution(s, most)
        late = t.horizons[:count] >= min_ring - 1e-9 if min_ring is not None else None
        zero = -low
        for k in range(most):
            at_least = pmf[:, max(zero, 0):].sum(axis=1) if zero < pmf.shape[1] else np.zeros(count)
            if late is not None:
                at_least = np.where(late, np.minimum(at_least, theta), at_least)
            if t.answer_p <= 0 or float(np.dot(at_least, t.lands)) / t.answer_p > theta:
                return k
            shifted = np.zeros_like(pmf)
            shifted[:, 1:] = pmf[:, :-1]
            pmf = pmf * (1.0 - t.g)[:, None] + shifted * t.g[:, None]
        return most


class _Run(engine._Run):
    """A simulator run with one of the experimental pacers swapped in."""

    def __init__(self, scenario: Scenario, seed: int, variant: str) -> None:
        super().__init__(scenario, seed)
        self.free_at: dict[int, float] = {}
        if variant in ("seat_oracle", "exact_pricing"):
            shipped = self.pacer
            cls = OraclePacer if variant == "seat_oracle" else ExactPacer
            self.pacer = cls(scenario.mode, model=shipped.lookahead.config, min_ring=shipped.min_ring)
            self.pacer.seats = self.pacer.lookahead.seats = shipped.seats  # the scenario's wrap-up prior

    def push(self, at: float, kind: int, ref: int) -> None:
        if kind == engine._TALK_END:
            self.free_at[ref] = at + self.s.wrap_up
        super().push(at, kind, ref)

    def wrap_end(self, seat: int, now: float) -> None:
        self.free_at.pop(seat, None)
        super().wrap_end(seat, now)

    def pace(self, now: float) -> None:
        if isinstance(self.pacer, OraclePacer):
            self.pacer.free_at = list(self.free_at.values())
        super().pace(now)


def run_one(job: tuple[Scenario, int, str]) -> SimResult:
    """One seeded run of a variant."""
    scenario, seed, variant = job
    run = _Run(scenario, seed, variant)
    run.run()
    return run.result(seed)


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agents", type=int, default=10, help="team size (default 10)")
    p.add_argument("--answer-rates", type=_floats, default=[0.25, 0.35], help="default 0.25,0.35")
    p.add_argument("--talk", type=_floats, default=[240.0], help="mean talk seconds (default 240)")
    p.add_argument("--targets", type=_floats, default=[0.05, 0.08, 0.12],
                   help="abandonment targets over 3 %% for the trade-off (default 0.05,0.08,0.12)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per run (default 3)")
    p.add_argument("--hours", type=float, default=8.0, help="shift length (default 8)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--quick", action="store_true", help="a trivial size: 4 agents, 0.2 h, one seed")
    return p


def _summary(results: list[SimResult]) -> dict[str, Any]:
    return {
        "occupancy": round(statistics.mean(r.occupancy for r in results), 4),
        "abandon_rate": round(statistics.mean(r.abandon_rate for r in results), 4),
        "worst_abandon": round(max(r.abandon_rate for r in results), 4),
        "worst_max_abandon_24h": round(max(r.max_abandon_24h for r in results), 4),
        "cancelled_share": round(statistics.mean(r.cancelled / r.dials if r.dials else 0.0
                                                 for r in results), 4),
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quick:
        args.agents, args.answer_rates, args.talk, args.targets = 4, [0.3], [60.0], [0.05]
        args.seeds, args.hours = 1, 0.2
    started = time.perf_counter()
    jobs: list[tuple[str, tuple[Scenario, int, str]]] = []
    cells = [(a, t) for a in args.answer_rates for t in args.talk]
    for answer_rate, talk in cells:
        base = parse_scenario({
            "name": f"{args.agents}a-{answer_rate:g}-{talk:g}s", "agents": args.agents,
            "mode": "predictive", "target_abandon": 0.03, "shift_hours": args.hours,
            "answer_rate": answer_rate, "ring_time": {"min": 4, "max": 20},
            "no_answer_time": {"min": 4, "max": 25}, "talk_time": {"mean": talk, "cv": 1.0},
            "wrap_up": 15, "grace": 2})
        for seed in range(1, args.seeds + 1):
            for variant in VARIANTS:
                mode = Mode.PROGRESSIVE if variant == "progressive" else Mode.PREDICTIVE
                jobs.append((f"{base.name}/{variant}", (base.with_mode(mode), seed, variant)))
            for target in args.targets:  # past the 3 % ceiling campaigns have: set it directly
                jobs.append((f"{base.name}/budget {target:g}",
                             (replace(base, target_abandon=target), seed, "predictive")))
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run_one, [job for _, job in jobs]))
    grouped: dict[str, list[SimResult]] = {}
    for (key, _), result in zip(jobs, results, strict=True):
        grouped.setdefault(key, []).append(result)
    report = []
    for answer_rate, talk in cells:
        name = f"{args.agents}a-{answer_rate:g}-{talk:g}s"
        entry: dict[str, Any] = {"cell": name, "agents": args.agents, "answer_rate": answer_rate, "talk": talk}
        baseline = statistics.mean(r.occupancy for r in grouped[f"{name}/progressive"])
        for variant in VARIANTS:
            entry[variant] = _summary(grouped[f"{name}/{variant}"])
            entry[variant]["points_over_progressive"] = round((entry[variant]["occupancy"] - baseline) * 100, 2) + 0.0  # never -0.0
        entry["budget"] = []
        for target in args.targets:
            row = {"target_abandon": target, **_summary(grouped[f"{name}/budget {target:g}"])}
            row["points_over_progressive"] = round((row["occupancy"] - baseline) * 100, 2) + 0.0
            entry["budget"].append(row)
        log(f"{name}: progressive {baseline:.1%}; "
            + "; ".join(f"{v} {entry[v]['occupancy']:.1%} ({entry[v]['worst_abandon']:.2%} ab)"
                        for v in VARIANTS[1:])
            + "; " + "; ".join(f"at {b['target_abandon']:.0%}: {b['occupancy']:.1%}" for b in entry["budget"]))
        report.append(entry)
    emit({"benchmark": "dialer_limits", "machine": machine(), "seeds": args.seeds, "hours": args.hours,
          "cells": report, "elapsed_s": round(time.perf_counter() - started, 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
