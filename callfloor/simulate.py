"""``callfloor simulate dialer|floor``: campaigns, or a blended floor, in simulated time.

    callfloor simulate dialer --scenario config/scenarios/example.toml [--seed N] [--json]
    callfloor simulate floor --scenario config/scenarios/floor/example.toml [--seed N]
                             [--watcher none|rules|erlang] [--json]

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

from dialer.abandon import AbandonBudget, AbandonTracker, CallKind
from dialer.campaign import MIN_RING
from dialer.pacing import Mode, Pacer, PacerPriors, PacingSnapshot
from dialer.pacing_model import ModelConfig
from dialer.sim import Scenario, ScenarioError, SimResult, load_scenario, simulate
from floor.sim import CampaignSpec, FloorResult, FloorScenario, load_floor_scenario, simulate_floor
from floor.sim import ScenarioError as FloorScenarioError

__all__ = ["WATCHERS", "DialerPacing", "add_parser", "floor_table", "report", "run", "run_floor"]

WATCHERS = {"none": "off", "rules": "rules", "erlang": "erlang"}  # --watcher -> policy mode

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
    floor = commands.add_parser(
        "floor", help="a blended floor (inbound queues, campaigns) with the real queue-watcher",
        description="Simulate a day of inbound queues and outbound campaigns with the real "
        "queue-watcher and pacer; print service level, abandonment and ASA per queue, outbound "
        "occupancy, abandonment and seat-hours, and seat moves. See docs/watcher.md.")
    floor.add_argument("--scenario", type=Path, required=True, help="floor scenario TOML")
    floor.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    floor.add_argument("--watcher", choices=sorted(WATCHERS), default=None,
                       help="override the policy's mode: none (static split), rules, erlang")
    floor.add_argument("--json", action="store_true", help="print one JSON object (with the decision log)")


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
    header = (f"{'mode':<24}{'occupancy':>10}{'talk':>8}{'abandon':>9}{'max 24h':>9}{'dials/agent-h':>15}"
              f"{'cancelled':>11}")
    print(header, file=out)
    for name, r in rows:
        print(f"{name:<24}{r.occupancy:>10.1%}{r.talk_share:>8.1%}{r.abandon_rate:>9.2%}"
              f"{r.max_abandon_24h:>9.2%}{r.dials_per_agent_hour:>15.1f}{r.cancelled:>11}", file=out)


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run ``simulate dialer`` or ``simulate floor`` for parsed ``args``; returns the exit status."""
    if getattr(args, "simulate_command", "dialer") == "floor":
        return run_floor(args, out, err)
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


class DialerPacing:
    """The real :class:`dialer.pacing.Pacer` and :class:`dialer.abandon.AbandonTracker` behind
    the floor simulator's ``CampaignPacing`` (``floor`` may not import ``dialer`` itself)."""

    def __init__(self, spec: CampaignSpec) -> None:
        self.target = spec.target_abandon
        # As a campaign's defaults: surplus dials are cancelled after 15 s of ringing.
        self.pacer = Pacer(spec.mode, priors=PacerPriors(wrap_up=max(spec.wrap_up, 1.0)),
                           model=ModelConfig(grace=spec.grace), min_ring=MIN_RING)
        self.tracker = AbandonTracker(spec.target_abandon)
        self._budget: AbandonBudget | None = None
        self._key = (-1, -1)
        self._counted = 0

    def _snapshot(self, now: float, ready: int, talking: tuple[float, ...], wrapping: tuple[float, ...],
                  dialing: tuple[float, ...], waiting: tuple[float, ...]) -> PacingSnapshot:
        key = (self._counted, int(now))  # the budget moves with each counted call and each second
        if key != self._key or self._budget is None:
            self._budget, self._key = self.tracker.budget(now), key
        b = self._budget
        return PacingSnapshot(now, ready, talking, wrapping, dialing, waiting, self.target,
                              b.predictive_allowed, b.slack_24h, uncontrolled_abandon=b.false_positive_24h)

    def decide(self, now: float, ready: int, talking: tuple[float, ...], wrapping: tuple[float, ...],
               dialing: tuple[float, ...], waiting: tuple[float, ...]) -> int:
        """Builds the pacing snapshot with the 24-hour abandonment budget and asks the pacer."""
        return self.pacer.decide(self._snapshot(now, ready, talking, wrapping, dialing, waiting))

    def cancellations(self, now: float, ready: int, talking: tuple[float, ...],
                      wrapping: tuple[float, ...], dialing: tuple[float, ...],
                      waiting: tuple[float, ...]) -> list[int]:
        """The surplus dials the pacer cancels after their minimum ring."""
        return self.pacer.cancellations(self._snapshot(now, ready, talking, wrapping, dialing, waiting))

    def dial_ended(self, now: float, duration: float, live: bool) -> None:
        """Teaches the dial model."""
        self.pacer.observe_dial(duration, live)

    def dial_cancelled(self, now: float, age: float) -> None:
        """Teaches the dial model what a cancelled dial's age says."""
        self.pacer.observe_cancelled(age)

    def connected(self, now: float) -> None:
        """Counts a connected live answer."""
        self._counted += 1
        self.tracker.add(now, CallKind.CONNECTED)
        self.pacer.observe_connected(self.target)

    def abandoned(self, now: float) -> None:
        """Counts an abandoned live answer."""
        self._counted += 1
        self.tracker.add(now, CallKind.ABANDONED)
        self.pacer.observe_abandoned(self.target)

    def talk_ended(self, duration: float) -> None:
        """Teaches the seat model."""
        self.pacer.observe_talk(duration)

    def wrap_ended(self, duration: float) -> None:
        """Teaches the seat model."""
        self.pacer.observe_wrap(duration)


def floor_table(scenario: FloorScenario, result: FloorResult, out: TextIO) -> None:
    """The text report of one floor run."""
    print(f"{scenario.name}: {scenario.seat_count} seats, {scenario.hours:g} h, watcher "
          f"{result.watcher}, seed {result.seed}", file=out)
    print(f"{'queue':<16}{'offered':>8}{'SL':>8}{'abandon':>9}{'ASA s':>8}{'seat-h':>8}", file=out)
    for name, q in result.queues.items():
        d = q.to_dict()
        sl = "-" if d["service_level"] is None else f"{d['service_level']:.1%}"
        ab = "-" if d["abandon_rate"] is None else f"{d['abandon_rate']:.1%}"
        asa = "-" if d["asa_s"] is None else f"{d['asa_s']:.1f}"
        print(f"{name:<16}{d['offered']:>8}{sl:>8}{ab:>9}{asa:>8}{d['seat_hours']:>8.1f}", file=out)
    print(f"{'campaign':<16}{'dials':>8}{'occup.':>8}{'abandon':>9}{'':>8}{'seat-h':>8}", file=out)
    for name, c in result.campaigns.items():
        d = c.to_dict()
        occ = "-" if d["occupancy"] is None else f"{d['occupancy']:.1%}"
        print(f"{name:<16}{d['dials']:>8}{occ:>8}{d['abandon_rate']:>9.2%}{'':>8}{d['seat_hours']:>8.1f}",
              file=out)
    print(f"seat moves: {len(result.moves)}; outbound seat-hours {result.outbound_seat_hours:.1f}", file=out)


def run_floor(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run ``simulate floor``; returns the exit status (2: the scenario is missing or invalid)."""
    try:
        scenario = load_floor_scenario(args.scenario)
    except FloorScenarioError as exc:
        print(f"callfloor simulate: {exc}", file=err)
        return BAD_SCENARIO
    started = time.perf_counter()
    watcher = WATCHERS[args.watcher] if args.watcher else None
    result = simulate_floor(scenario, args.seed, watcher=watcher, pacing=DialerPacing)
    if args.json:
        data = result.to_dict(moves=True)
        data["elapsed_s"] = round(time.perf_counter() - started, 3)
        print(json.dumps(data), file=out)
    else:
        floor_table(scenario, result, out)
    return 0
