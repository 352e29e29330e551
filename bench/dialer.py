"""Pacing across a grid of campaigns, in simulated time: occupancy within 3 % abandonment.

For every cell of the grid (agents x answer rate x mean talk; ring 4-20 s, unanswered dials
4-25 s, lognormal talk with cv 1, 15 s wrap-up, 2 s grace, target 3 %) each mode runs over
--seeds seeds with the simulator of ``callfloor simulate dialer`` (the real pacer and
abandonment tracker). A cell reports per mode the mean occupancy, talk share, abandonment and
dials per agent-hour over its seeds, the worst run's abandonment and rolling 24-hour maximum,
and ``occupancy_at_target``: the mean occupancy when every run kept abandonment at or under the
target, else null.

Targets (the issue's): abandonment <= 3 % in every run; predictive occupancy >= 90 % at 25
agents, >= 93 % at 50, >= 96 % at 100; at 10 agents >= 10 points above progressive. A cell's
occupancy is the mean over its seeds. One JSON object on stdout, a line per cell on stderr.

    .venv/bin/python bench/dialer.py                        # the grid, 2 seeds (a few minutes)
    .venv/bin/python bench/dialer.py --agents 25 --seeds 5 --hours 8
    .venv/bin/python bench/dialer.py --quick                # a trivial size (the smoke test)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

# This script is bench/dialer.py: its directory must not hide the ``dialer`` package, so the
# package is imported first, with the directory off the path; then ``common``, which lives there.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from dialer.pacing import Mode  # noqa: E402
from dialer.sim import Scenario, SimResult, parse_scenario, simulate  # noqa: E402

sys.path.insert(0, str(BENCH))

from common import emit, log, machine  # noqa: E402

TARGET = 0.03
OCCUPANCY_TARGETS = {25: 0.90, 50: 0.93, 100: 0.96}  # predictive occupancy at these team sizes
GAIN_TARGET = (10, 0.10)  # at 10 agents: this many points over progressive
DEFAULT_HOURS = {10: 8.0, 25: 8.0, 50: 4.0, 100: 2.0}  # shorter shifts for larger floors: same answers


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agents", type=_ints, default=[10, 25, 50, 100], help="team sizes (default 10,25,50,100)")
    p.add_argument("--answer-rates", type=_floats, default=[0.15, 0.25, 0.35], help="default 0.15,0.25,0.35")
    p.add_argument("--talk", type=_floats, default=[60.0, 120.0, 240.0], help="mean talk seconds (default 60,120,240)")
    p.add_argument("--modes", default="predictive,progressive,preview", help="modes to run")
    p.add_argument("--seeds", type=int, default=2, help="seeds per cell and mode (default 2)")
    p.add_argument("--hours", type=float, default=None,
                   help="shift length for every cell (default: 8 h at 10 and 25 agents, 4 h at 50, 2 h at 100)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1: one core)")
    p.add_argument("--no-cancel", action="store_true",
                   help="predictive pacing never cancels a ringing dial (cancel_surplus = false)")
    p.add_argument("--quick", action="store_true", help="a trivial grid: 5 agents, 0.2 h, one seed")
    return p


def scenario(agents: int, answer_rate: float, talk: float, hours: float, mode: Mode,
             cancel_surplus: bool = True) -> Scenario:
    """One cell of the grid as a scenario."""
    return parse_scenario({
        "name": f"{agents}a-{answer_rate:g}-{talk:g}s", "agents": agents, "mode": mode.value,
        "target_abandon": TARGET, "shift_hours": hours, "answer_rate": answer_rate,
        "ring_time": {"min": 4, "max": 20}, "no_answer_time": {"min": 4, "max": 25},
        "talk_time": {"mean": talk, "cv": 1.0}, "wrap_up": 15, "grace": 2,
        "cancel_surplus": cancel_surplus,
    }, "bench/dialer.py")


def _run(job: tuple[Scenario, int]) -> tuple[SimResult, float]:
    started = time.process_time()
    result = simulate(*job)
    return result, time.process_time() - started


def _mode_summary(runs: list[SimResult]) -> dict[str, Any]:
    ok = all(r.abandon_rate <= TARGET for r in runs)
    occupancy = statistics.fmean(r.occupancy for r in runs)
    return {
        "occupancy": round(occupancy, 4),
        "occupancy_min": round(min(r.occupancy for r in runs), 4),
        "occupancy_at_target": round(occupancy, 4) if ok else None,
        "talk_share": round(statistics.fmean(r.talk_share for r in runs), 4),
        "abandon_rate": round(statistics.fmean(r.abandon_rate for r in runs), 5),
        "abandon_rate_max": round(max(r.abandon_rate for r in runs), 5),
        "max_abandon_24h": round(max(r.max_abandon_24h for r in runs), 5),
        "dials_per_agent_hour": round(statistics.fmean(r.dials_per_agent_hour for r in runs), 2),
        "cancelled_share": round(statistics.fmean(r.cancelled / max(1, r.dials) for r in runs), 4),
        "runs": [{"seed": r.seed, **r.measures()} for r in runs],
    }


def _checks(agents: int, modes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The cell against the targets (null where a target does not apply or a mode did not run)."""
    checks: dict[str, Any] = {"abandon_ok": all(m["abandon_rate_max"] <= TARGET for m in modes.values())}
    pred, prog = modes.get("predictive"), modes.get("progressive")
    target = OCCUPANCY_TARGETS.get(agents)
    checks["occupancy_target"] = target
    checks["occupancy_ok"] = None if target is None or pred is None else pred["occupancy"] >= target
    gain = None if pred is None or prog is None else round(pred["occupancy"] - prog["occupancy"], 4)
    checks["gain_over_progressive"] = gain
    checks["gain_ok"] = None if agents != GAIN_TARGET[0] or gain is None else gain >= GAIN_TARGET[1]
    checks["ok"] = checks["abandon_ok"] and checks["occupancy_ok"] is not False and checks["gain_ok"] is not False
    return checks


def _summary(cells: list[dict[str, Any]]) -> dict[str, Any]:
    by_agents: dict[str, Any] = {}
    for agents in sorted({c["agents"] for c in cells}):
        mine = [c for c in cells if c["agents"] == agents]
        pred = [c["modes"]["predictive"]["occupancy"] for c in mine if "predictive" in c["modes"]]
        gains = [c["checks"]["gain_over_progressive"] for c in mine if c["checks"]["gain_over_progressive"] is not None]
        by_agents[str(agents)] = {
            "cells": len(mine), "cells_ok": sum(1 for c in mine if c["checks"]["ok"]),
            "predictive_occupancy_min": min(pred) if pred else None,
            "predictive_occupancy_max": max(pred) if pred else None,
            "gain_over_progressive_min": min(gains) if gains else None,
            "occupancy_target": OCCUPANCY_TARGETS.get(agents),
            "gain_target": GAIN_TARGET[1] if agents == GAIN_TARGET[0] else None,
        }
    return {
        "abandon_ok_in_every_run": all(c["checks"]["abandon_ok"] for c in cells),
        "worst_abandon_rate": max(m["abandon_rate_max"] for c in cells for m in c["modes"].values()),
        "worst_max_abandon_24h": max(m["max_abandon_24h"] for c in cells for m in c["modes"].values()),
        "cells_24h_over_target": sum(1 for c in cells if any(m["max_abandon_24h"] > TARGET for m in c["modes"].values())),
        "cells": len(cells), "cells_ok": sum(1 for c in cells if c["checks"]["ok"]),
        "failed": [c["name"] for c in cells if not c["checks"]["ok"]],
        "by_agents": by_agents,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quick:
        args.agents, args.answer_rates, args.talk, args.seeds, args.hours = [5], [0.3], [60.0], 1, 0.2
    modes = [Mode(m) for m in args.modes.split(",") if m]
    seeds = list(range(1, args.seeds + 1))
    started = time.perf_counter()
    grid = [(a, r, t) for a in args.agents for r in args.answer_rates for t in args.talk]
    jobs = [(scenario(a, r, t, args.hours or DEFAULT_HOURS.get(a, 8.0), m, not args.no_cancel), s)
            for a, r, t in grid for m in modes for s in seeds]
    log(f"{len(grid)} cells x {len(modes)} modes x {len(seeds)} seeds = {len(jobs)} runs, {args.jobs} process(es)")
    with ProcessPoolExecutor(args.jobs) if args.jobs > 1 else _Serial() as pool:
        outputs = list(pool.map(_run, jobs))
    cells: list[dict[str, Any]] = []
    per_cell = len(modes) * len(seeds)
    for i, (a, r, t) in enumerate(grid):
        chunk = outputs[i * per_cell:(i + 1) * per_cell]
        by_mode = {m.value: _mode_summary([res for res, _ in chunk[j * len(seeds):(j + 1) * len(seeds)]])
                   for j, m in enumerate(modes)}
        cell = {"name": f"{a} agents, {r:.0%} answer, {t:g} s talk", "agents": a, "answer_rate": r,
                "talk_mean": t, "shift_hours": jobs[i * per_cell][0].shift_hours, "seeds": seeds,
                "modes": by_mode, "checks": _checks(a, by_mode),
                "cpu_s": round(sum(cpu for _, cpu in chunk), 2)}
        cells.append(cell)
        occ = "  ".join(f"{m} {v['occupancy']:.1%} ab {v['abandon_rate_max']:.2%}" for m, v in by_mode.items())
        log(f"{cell['name']:<34} {occ}  {'ok' if cell['checks']['ok'] else 'MISSED'} ({cell['cpu_s']:.0f} s)")
    result = {
        "benchmark": "dialer",
        "question": "occupancy within 3 % abandonment, predictive vs progressive vs preview, simulated",
        "machine": machine(),
        "settings": {"agents": args.agents, "answer_rates": args.answer_rates, "talk_means": args.talk,
                     "modes": [m.value for m in modes], "seeds": len(seeds), "target_abandon": TARGET,
                     "hours": args.hours or {str(k): v for k, v in DEFAULT_HOURS.items()},
                     "ring_time": [4, 20], "no_answer_time": [4, 25], "talk_cv": 1.0, "wrap_up": 15,
                     "grace": 2, "cancel_surplus": not args.no_cancel, "min_ring": 15, "jobs": args.jobs},
        "cells": cells,
        "summary": _summary(cells),
        "cpu_s": round(sum(cpu for _, cpu in outputs), 1),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    emit(result)
    return 0


class _Serial:
    """A stand-in for the process pool: runs the jobs here, one after the other."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: Any, jobs: Sequence[Any]) -> Any:
        return map(fn, jobs)


if __name__ == "__main__":
    sys.exit(main())
