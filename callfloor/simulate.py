"""``callfloor simulate dialer``: run a campaign scenario in simulated time with the real pacer.

    callfloor simulate dialer --scenario config/scenarios/example.toml [--seed N] [--json]

The scenario's mode and ``progressive`` (the baseline) run with the same seed; the text output is
a small table of both, ``--json`` one object (rates as fractions). Exit status: 0 done; 2 the
scenario file is missing or invalid (the message names the file and the key).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from dialer.pacing import Mode
from dialer.sim import Scenario, ScenarioError, SimResult, load_scenario, simulate

__all__ = ["add_parser", "report", "run"]

BAD_SCENARIO = 2


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``simulate`` and its ``dialer`` command to the ``callfloor`` subparsers ``sub``."""
    parser = sub.add_parser("simulate", help="simulations in simulated time",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="simulate_command", required=True, metavar="COMMAND")
    dialer = commands.add_parser(
        "dialer", help="an outbound campaign with the real pacing code",
        description="Simulate an outbound campaign (agents, answer rate, ring, talk and wrap-up "
        "times, grace) in its mode and in progressive mode as the baseline; print occupancy, "
        "talk share, abandonment and dials per agent-hour. See docs/pacing.md.")
    dialer.add_argument("--scenario", type=Path, required=True, help="scenario TOML (see config/scenarios/)")
    dialer.add_argument("--seed", type=int, default=1, help="random seed (default 1): the same seed, the same figures")
    dialer.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def report(scenario: Scenario, seed: int, chosen: SimResult, baseline: SimResult,
           elapsed: float) -> dict[str, Any]:
    """The JSON object of a run: the chosen mode's figures, the baseline under ``progressive``."""
    result: dict[str, Any] = {"scenario": scenario.to_dict(), "seed": seed, "mode": scenario.mode.value}
    result.update(chosen.measures())
    result["progressive"] = baseline.measures()
    result["elapsed_s"] = round(elapsed, 3)
    return result


def _table(scenario: Scenario, seed: int, chosen: SimResult, baseline: SimResult, out: TextIO) -> None:
    s = scenario
    print(f"{s.name}: {s.agents} agents, {s.shift_hours:g} h, answer rate {s.answer_rate:.0%}, "
          f"talk {s.talk_mean:g} s (cv {s.talk_cv:g}), wrap-up {s.wrap_up:g} s, grace {s.grace:g} s, "
          f"target abandonment {s.target_abandon:.1%} ({s.abandon_formula.value}), seed {seed}", file=out)
    rows = [(s.mode.value, chosen)]
    if s.mode is not Mode.PROGRESSIVE:
        rows.append(("progressive (baseline)", baseline))
    header = f"{'mode':<24}{'occupancy':>10}{'talk':>8}{'abandon':>9}{'max 24h':>9}{'dials/agent-h':>15}"
    print(header, file=out)
    for name, r in rows:
        print(f"{name:<24}{r.occupancy:>10.1%}{r.talk_share:>8.1%}{r.abandon_rate:>9.2%}"
              f"{r.max_abandon_24h:>9.2%}{r.dials_per_agent_hour:>15.1f}", file=out)


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run ``simulate dialer`` for parsed ``args``; returns the exit status."""
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"callfloor simulate: {exc}", file=err)
        return BAD_SCENARIO
    started = time.perf_counter()
    chosen = simulate(scenario, args.seed)
    if scenario.mode is Mode.PROGRESSIVE:
        baseline = chosen
    else:
        baseline = simulate(scenario.with_mode(Mode.PROGRESSIVE), args.seed)
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps(report(scenario, args.seed, chosen, baseline, elapsed)), file=out)
    else:
        _table(scenario, args.seed, chosen, baseline, out)
    return 0
