"""The dialer simulator: scenario validation, determinism, accounting, and the CLI command."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

from callfloor import simulate as simulate_cli
from dialer.abandon import AbandonFormula
from dialer.pacing import Mode
from dialer.sim import Scenario, ScenarioError, load_scenario, parse_scenario, simulate

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "scenarios" / "example.toml"

BASE: dict[str, Any] = {
    "agents": 6, "mode": "predictive", "target_abandon": 0.03, "shift_hours": 0.5,
    "answer_rate": 0.3, "ring_time": {"min": 4, "max": 20}, "no_answer_time": {"min": 4, "max": 25},
    "talk_time": {"mean": 60, "cv": 1.0}, "wrap_up": 10, "grace": 2,
}


def scenario(**changes: Any) -> Scenario:
    return parse_scenario({**BASE, **changes}, "test.toml")


def test_the_example_scenario_is_the_issues() -> None:
    s = load_scenario(EXAMPLE)
    assert (s.agents, s.mode, s.target_abandon, s.shift_hours, s.answer_rate) == (
        25, Mode.PREDICTIVE, 0.03, 8.0, 0.25)
    assert (s.ring_time.min, s.ring_time.max, s.no_answer_time.min, s.no_answer_time.max) == (4, 20, 4, 25)
    assert (s.talk_mean, s.talk_cv, s.wrap_up, s.grace) == (120, 1.0, 15, 2)
    assert s.name == "example" and s.abandon_formula is AbandonFormula.ANSWERS


def test_every_shipped_scenario_loads() -> None:
    files = sorted((ROOT / "config" / "scenarios").glob("*.toml"))
    assert len(files) >= 4
    for path in files:
        assert load_scenario(path).agents >= 1


@pytest.mark.parametrize(("changes", "message"), [
    ({"agents": None}, "test.toml: agents: must be a whole number from 1 to 10000, not None"),
    ({"agents": 2.5}, "test.toml: agents: must be a whole number"),
    ({"mode": "turbo"}, "test.toml: mode: must be one of 'preview', 'progressive', 'predictive', not 'turbo'"),
    ({"target_abandon": 0.05}, "test.toml: target_abandon: must be in (0, 0.03], not 0.05"),
    ({"answer_rate": 0}, "test.toml: answer_rate: must be in (0, 1], not 0"),
    ({"answer_rate": "x"}, "test.toml: answer_rate: must be a number, not 'x'"),
    ({"shift_hours": True}, "test.toml: shift_hours: must be a number, not True"),
    ({"ring_time": {"min": 9, "max": 3}}, "test.toml: ring_time: max (3) is below min (9)"),
    ({"ring_time": {"min": 4}}, "test.toml: ring_time.max: missing"),
    ({"ring_time": {"min": 4, "max": 20, "mode": 9}}, "test.toml: ring_time.mode: unknown key"),
    ({"ring_time": 12}, "test.toml: ring_time: must be a table"),
    ({"talk_time": {"mean": 0, "cv": 1}}, "test.toml: talk_time: mean and cv must be > 0"),
    ({"wrap_up": -1}, "test.toml: wrap_up: must be in [0, 3600], not -1"),
    ({"machine_rate": 0.8}, "test.toml: machine_rate: answer_rate + machine_rate must not exceed 1"),
    ({"abandon_formula": "ofcom"}, "test.toml: abandon_formula: must be one of 'answers', 'connections'"),
    ({"wrapup": 15}, "test.toml: wrapup: unknown key"),
    ({"min_ring": 10}, "test.toml: min_ring: must be in [15, 120], not 10"),
    ({"cancel_surplus": "yes"}, "test.toml: cancel_surplus: must be true or false, not 'yes'"),
])
def test_scenario_errors_name_the_file_and_key(changes: dict[str, Any], message: str) -> None:
    data = {**BASE, **changes}
    if changes.get("agents", 0) is None:
        del data["agents"]
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "test.toml")
    assert str(info.value).startswith(message)


def test_missing_key_and_bad_files(tmp_path: Path) -> None:
    data = dict(BASE)
    del data["grace"]
    with pytest.raises(ScenarioError, match=r"^test.toml: grace: missing$"):
        parse_scenario(data, "test.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("agents = [\n")
    with pytest.raises(ScenarioError, match=r"bad.toml: not valid TOML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match=r"nope.toml: cannot read"):
        load_scenario(tmp_path / "nope.toml")


def test_a_seed_gives_the_same_run_and_another_seed_another() -> None:
    s = scenario()
    first, again, other = simulate(s, 7), simulate(s, 7), simulate(s, 8)
    assert first == again
    assert other != first


@pytest.mark.parametrize("mode", list(Mode))
def test_time_accounting_adds_up(mode: Mode) -> None:
    r = simulate(scenario(mode=mode.value), 3)
    assert r.logged_in == 6 * 0.5 * 3600
    assert r.talk + r.wrap + r.idle == pytest.approx(r.logged_in)
    assert r.occupancy == pytest.approx((r.talk + r.wrap) / r.logged_in)
    assert r.talk_share == pytest.approx(r.talk / r.logged_in)
    assert r.live_answers == r.connected + r.abandoned
    assert r.dials_per_agent_hour == pytest.approx(r.dials / 3.0)
    assert 0 < r.connected < r.dials
    # Every connected call brought a fixed 10 s wrap-up (the last ones cut at the shift's end).
    assert r.wrap <= r.connected * 10 + 1e-6
    assert r.wrap >= (r.connected - 6) * 10 - 1e-6


def test_progressive_and_preview_never_abandon() -> None:
    for mode in (Mode.PROGRESSIVE, Mode.PREVIEW):
        r = simulate(scenario(mode=mode.value, shift_hours=1.0), 1)
        assert r.abandoned == 0 and r.abandon_rate == 0.0 and r.max_abandon_24h == 0.0


def test_predictive_keeps_seats_busier_within_the_target() -> None:
    s = scenario(agents=10, shift_hours=2.0, answer_rate=0.2)
    predictive, progressive = simulate(s, 1), simulate(s.with_mode(Mode.PROGRESSIVE), 1)
    preview = simulate(s.with_mode(Mode.PREVIEW), 1)
    assert predictive.occupancy > progressive.occupancy + 0.1
    assert progressive.occupancy > preview.occupancy
    assert predictive.abandon_rate <= 0.03
    assert predictive.dials_per_agent_hour > progressive.dials_per_agent_hour


def test_surplus_dials_are_cancelled_after_the_minimum_ring_and_lift_occupancy() -> None:
    s = scenario(agents=25, shift_hours=1.0, answer_rate=0.25)
    cancelling, keeping = simulate(s, 1), simulate(dataclasses.replace(s, cancel_surplus=False), 1)
    assert cancelling.cancelled > 0 and keeping.cancelled == 0
    assert cancelling.measures()["cancelled"] == cancelling.cancelled
    # Fewer answers find no seat for the same aggressiveness, so the controller dials more.
    assert cancelling.dials > keeping.dials
    assert cancelling.abandon_rate <= 0.03 and keeping.abandon_rate <= 0.03
    assert simulate(s.with_mode(Mode.PROGRESSIVE), 1).cancelled == 0
    # With a ring no dial lasts, nothing is ever cancelled.
    assert simulate(dataclasses.replace(s, min_ring=30.0), 1).cancelled == 0


def test_machines_count_by_the_uk_formula() -> None:
    s = scenario(machine_rate=0.3, abandon_formula="connections", amd_allowance=0.02, shift_hours=1.0)
    r = simulate(s, 2)
    assert r.machines > 0
    live = r.connected + r.abandoned + 0.02 * r.machines
    assert r.abandon_rate == pytest.approx((r.abandoned + 0.02 * r.machines) / live)
    us = simulate(dataclasses.replace(s, abandon_formula=AbandonFormula.ANSWERS), 2)
    assert us.machines > 0 and us.abandon_rate == pytest.approx(us.abandoned / us.live_answers)


def run_cli(*argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="callfloor")
    simulate_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", "dialer", *argv])
    out, err = io.StringIO(), io.StringIO()
    return simulate_cli.run(args, out, err), out.getvalue(), err.getvalue()


def small_file(tmp_path: Path, **changes: Any) -> Path:
    values = {**BASE, **changes}
    lines = []
    for key, value in values.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} = {v}" for k, v in value.items())
            lines.append(f"{key} = {{ {inner} }}")
        elif isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        else:
            lines.append(f"{key} = {value}")
    path = tmp_path / "small.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_json_has_the_figures_of_both_modes(tmp_path: Path) -> None:
    code, out, _ = run_cli("--scenario", str(small_file(tmp_path)), "--seed", "4", "--json")
    assert code == 0
    result = json.loads(out)
    keys = {"occupancy", "talk_share", "abandon_rate", "dials_per_agent_hour", "max_abandon_24h"}
    assert keys <= set(result) and keys <= set(result["progressive"])
    assert result["seed"] == 4 and result["mode"] == "predictive"
    assert result["scenario"]["agents"] == 6 and result["scenario"]["talk_time"] == {"mean": 60, "cv": 1.0}
    assert result["progressive"]["abandon_rate"] == 0.0
    direct = simulate(load_scenario(small_file(tmp_path)), 4)
    assert result["occupancy"] == round(direct.occupancy, 6)


def test_cli_table_and_bad_scenario(tmp_path: Path) -> None:
    code, out, _ = run_cli("--scenario", str(small_file(tmp_path, mode="progressive")))
    assert code == 0
    assert "occupancy" in out and out.count("progressive") == 1
    code, out, _ = run_cli("--scenario", str(small_file(tmp_path)))
    assert "progressive (baseline)" in out and "predictive" in out
    code, out, err = run_cli("--scenario", str(small_file(tmp_path, grace=-1)))
    assert code == 2 and out == ""
    assert "small.toml: grace: must be in [0, 60], not -1" in err
