"""The queue-watcher on a blended floor, in simulated time: static split vs rules vs Erlang vs optimum.

Each scenario (a morning peak, a flat day with two queues, a surprise spike) runs with the
simulator of ``callfloor simulate floor`` (the real QueueWatcher and the real dialer Pacer) in
three modes: ``off`` (the static split of the seats' homes), ``rules`` and ``erlang``. The fourth
column, ``optimal``, is analytic: for every half-hour, the fewest inbound seats whose Erlang A
service level meets the target at the *true* arrival rate, the rest outbound (its SL and abandon
are Erlang A's predictions weighted by arrivals; it moves seats for free and knows the future).

Per scenario and mode: SL attained per queue (the floor's formula), inbound abandonment,
outbound seat-hours, outbound abandonment, seat moves. One JSON object on stdout, a table on
stderr.

    .venv/bin/python bench/watcher.py                  # 3 scenarios x 3 modes, 1 seed (about a minute)
    .venv/bin/python bench/watcher.py --seeds 3
    .venv/bin/python bench/watcher.py --quick          # a short day (the smoke test)
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from callfloor.simulate import DialerPacing  # noqa: E402
from floor.erlang import erlang_a  # noqa: E402
from floor.sim import FloorResult, FloorScenario, parse_floor_scenario, simulate_floor  # noqa: E402
from floor.watcher import seats_needed  # noqa: E402

sys.path.insert(0, str(BENCH))

from common import emit, log, machine  # noqa: E402

MODES = ("off", "rules", "erlang")


def _rule(queue: str, **extra: Any) -> dict[str, Any]:
    return {"queue": queue, "lend_from": ["renewals"], "lend_out_to": ["renewals"], "lend_step": 2,
            "step_every_s": 60, "trigger_sl": 0.8, "trigger_longest_wait_s": 60, "recover_sl": 0.9,
            "recover_longest_wait_s": 20, "healthy_for_s": 600, "target_sl": 0.8,
            "sl_threshold_s": 20, "model": "erlang-a", "patience_s": 120, **extra}


def _queue(id: str, rates: list[list[float]]) -> dict[str, Any]:
    return {"id": id, "rates": rates, "talk_time": {"mean": 180, "cv": 0.8}, "wrap_up_s": 10,
            "patience_s": 120, "sl_threshold_s": 20}


CAMPAIGN = {"id": "renewals", "mode": "predictive", "target_abandon": 0.03, "answer_rate": 0.25,
            "talk_time": {"mean": 120, "cv": 1.0}, "wrap_up_s": 15, "grace_s": 2}
WATCHER = {"mode": "rules", "min_dwell_s": 300, "max_moves_per_minute": 6}

SCENARIOS: dict[str, dict[str, Any]] = {
    "morning-peak": {
        "hours": 8, "queue": [_queue("support", [[0, 90], [1, 200], [2, 320], [3.5, 180], [5, 120], [7, 80]])],
        "campaign": [CAMPAIGN],
        "seats": [{"count": 12, "home": "queue:support", "skills": {"support": 1}, "prefix": "in"},
                  {"count": 18, "home": "campaign:renewals", "skills": {"support": 1}, "prefix": "out"}],
        "watcher": {**WATCHER, "queue": [_rule("support")]},
    },
    "flat-day": {
        "hours": 8, "queue": [_queue("support", [[0, 120]]), _queue("billing", [[0, 60]])],
        "campaign": [CAMPAIGN],
        "seats": [{"count": 12, "home": "queue:support", "skills": {"support": 1}, "prefix": "sup"},
                  {"count": 8, "home": "queue:billing", "skills": {"billing": 1}, "prefix": "bil"},
                  {"count": 16, "home": "campaign:renewals", "skills": {"support": 1, "billing": 1},
                   "prefix": "out"}],
        "watcher": {**WATCHER, "queue": [_rule("support"), _rule("billing")]},
    },
    "surprise-spike": {
        "hours": 8, "queue": [_queue("support", [[0, 120], [3, 450], [3.75, 120]])],
        "campaign": [CAMPAIGN],
        "seats": [{"count": 10, "home": "queue:support", "skills": {"support": 1}, "prefix": "in"},
                  {"count": 20, "home": "campaign:renewals", "skills": {"support": 1}, "prefix": "out"}],
        "watcher": {**WATCHER, "queue": [_rule("support")]},
    },
}


def optimal(s: FloorScenario) -> dict[str, Any]:
    """The Erlang A split per half-hour at the true arrival rates (analytic, see the docstring)."""
    rules = {r.queue: r for r in s.policy.rules}
    out_seconds, totals = 0.0, {q.id: [0.0, 0.0, 0.0] for q in s.queues}  # arrivals, within, abandons
    slots = int(s.hours * 2)
    for k in range(slots):
        inbound = 0
        for q in s.queues:
            rate = q.mean_rate(k / 2, (k + 1) / 2)
            aht = q.talk_mean + q.wrap_up
            n = seats_needed(rules[q.id], rate, aht)
            inbound += n
            if rate > 0:
                a = erlang_a(max(n, 1), rate, aht, q.patience, q.sl_threshold)
                arrivals = rate * 1800
                totals[q.id][0] += arrivals
                totals[q.id][1] += arrivals * a.service_level
                totals[q.id][2] += arrivals * a.p_abandon
        out_seconds += max(0, s.seat_count - inbound) * 1800
    queues = {}
    for q, (arrivals, within, abandons) in totals.items():
        # the floor's SL leaves short abandons out; Erlang A's counts every arrival: a lower bound
        queues[q] = {"service_level": round(within / arrivals, 4) if arrivals else None,
                     "abandon_rate": round(abandons / arrivals, 4) if arrivals else None}
    return {"queues": queues, "outbound_seat_hours": round(out_seconds / 3600, 2),
            "outbound_abandon_rate": None, "seat_moves": None}


def _summary(runs: list[FloorResult]) -> dict[str, Any]:
    def mean(values: list[float | None]) -> float | None:
        got = [v for v in values if v is not None]
        return round(statistics.fmean(got), 4) if got else None

    first = runs[0]
    queues = {q: {"service_level": mean([r.queues[q].service_level for r in runs]),
                  "abandon_rate": mean([r.queues[q].abandoned / max(1, r.queues[q].offered) for r in runs]),
                  "asa_s": mean([r.queues[q].to_dict()["asa_s"] for r in runs])}
              for q in first.queues}
    return {"queues": queues,
            "outbound_seat_hours": mean([r.outbound_seat_hours for r in runs]),
            "outbound_abandon_rate": mean([r.outbound_abandon_rate for r in runs]),
            "outbound_abandon_rate_max": round(max(r.outbound_abandon_rate for r in runs), 4),
            "seat_moves": mean([float(len(r.moves)) for r in runs]),
            "runs": [r.to_dict() for r in runs]}


def _line(name: str, mode: str, row: dict[str, Any]) -> str:
    sl = " ".join(f"{q}={'-' if v['service_level'] is None else format(v['service_level'], '.1%')}"
                  for q, v in row["queues"].items())
    ab = " ".join(f"{'-' if v['abandon_rate'] is None else format(v['abandon_rate'], '.1%')}"
                  for v in row["queues"].values())
    out_ab = row["outbound_abandon_rate"]
    moves = row["seat_moves"]
    return (f"{name:<15} {mode:<8} SL {sl:<28} abandon {ab:<12} outbound {row['outbound_seat_hours']:>6.1f} seat-h "
            f"abandon {'-' if out_ab is None else format(out_ab, '.2%'):>6} moves {'-' if moves is None else f'{moves:.0f}':>4}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=1, help="seeds per scenario and mode (default 1)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="which scenarios (comma-separated)")
    p.add_argument("--quick", action="store_true", help="one scenario, a 1-hour day, one seed")
    args = p.parse_args(argv)
    names = [n for n in args.scenarios.split(",") if n]
    hours = None
    if args.quick:
        names, args.seeds, hours = names[:1], 1, 1.0
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for name in names:
        data = copy.deepcopy(SCENARIOS[name])
        data["name"] = name
        if hours is not None:
            data["hours"] = hours
            for q in data["queue"]:
                q["rates"] = [r for r in q["rates"] if r[0] < hours]
        scenario = parse_floor_scenario(data, f"bench/watcher.py:{name}")
        modes: dict[str, Any] = {}
        for mode in MODES:
            runs = [simulate_floor(scenario, seed, watcher=mode, pacing=DialerPacing)
                    for seed in range(1, args.seeds + 1)]
            modes[mode] = _summary(runs)
            log(_line(name, mode, modes[mode]))
        modes["optimal"] = optimal(scenario)
        log(_line(name, "optimal", modes["optimal"]))
        results[name] = {"seats": scenario.seat_count, "hours": scenario.hours, "modes": modes}
    emit({"benchmark": "watcher",
          "question": "service level and outbound seat-hours per watcher mode against the Erlang A optimum",
          "machine": machine(), "settings": {"seeds": args.seeds, "scenarios": names},
          "scenarios": results, "elapsed_s": round(time.perf_counter() - started, 1)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
