"""The blended-floor simulator with the real watcher and the real pacer, in simulated time."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from callfloor.simulate import DialerPacing
from floor.sim import ScenarioError, load_floor_scenario, parse_floor_scenario, simulate_floor
from floor.watcher_snapshot import MoveKind

ROOT = Path(__file__).resolve().parents[3]

SURGE: dict[str, Any] = {
    "name": "surge", "hours": 2.5, "watch_every_s": 15,
    "queue": [{"id": "support", "rates": [[0, 40], [0.5, 260], [1.25, 30]],
               "talk_time": {"mean": 150, "cv": 0.8}, "wrap_up_s": 10, "patience_s": 120}],
    "campaign": [{"id": "renewals", "mode": "predictive", "answer_rate": 0.3}],
    "seats": [{"count": 4, "home": "queue:support", "skills": {"support": 1}, "prefix": "in"},
              {"count": 12, "home": "campaign:renewals", "skills": {"support": 1}, "prefix": "out"}],
    "watcher": {"mode": "rules", "min_dwell_s": 300, "max_moves_per_minute": 3,
                "queue": [{"queue": "support", "lend_from": ["renewals"], "lend_out_to": ["renewals"],
                           "lend_step": 2, "step_every_s": 60, "healthy_for_s": 600}]},
}


def run(mode: str, seed: int = 3, data: dict[str, Any] | None = None) -> Any:
    return simulate_floor(parse_floor_scenario(data or SURGE, "surge.toml"), seed, watcher=mode,
                          pacing=DialerPacing)


def test_the_same_seed_gives_the_same_day() -> None:
    a, b = run("rules").to_dict(moves=True), run("rules").to_dict(moves=True)
    assert a == b
    assert run("rules", seed=4).to_dict() != a
    # the callers are the same whatever the watcher does (separate random streams)
    assert run("off").queues["support"].offered == run("rules").queues["support"].offered


def test_a_surge_borrows_seats_and_recovery_sends_them_back() -> None:
    static, rules = run("off"), run("rules")
    lends = [m for m in rules.moves if m.kind is MoveKind.LEND]
    returns = [m for m in rules.moves if m.kind is MoveKind.RETURN]
    assert lends and returns
    first_lend, last_return = lends[0], returns[-1]
    assert 0.5 * 3600 < first_lend.at < 1.25 * 3600                    # during the surge
    assert last_return.at > 1.25 * 3600 + 600                           # healthy for 10 min after it
    assert {m.explanation.key for m in lends} <= {"watcher.lend.service_level", "watcher.lend.longest_wait"}
    assert {m.explanation.key for m in returns} == {"watcher.return.healthy"}
    # after the surge every seat borrowed then went back home
    after = {m.seat: m.target for m in rules.moves if m.at < 1.25 * 3600 + 2400}
    assert set(after.values()) == {"campaign:renewals"}
    s_static, s_rules = static.queues["support"], rules.queues["support"]
    assert s_rules.service_level is not None and s_static.service_level is not None
    assert s_rules.service_level > s_static.service_level + 0.1
    assert s_rules.abandoned < s_static.abandoned
    assert rules.outbound_seat_hours < static.outbound_seat_hours
    assert rules.outbound_abandon_rate <= 0.03 and static.outbound_abandon_rate <= 0.03


def test_rate_limit_and_dwell_hold_in_the_simulation() -> None:
    result = run("rules")
    times = sorted(m.at for m in result.moves)
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 60) <= 3             # max_moves_per_minute
    by_seat: dict[str, list[float]] = {}
    for m in result.moves:
        by_seat.setdefault(m.seat, []).append(m.at)
    for seat_times in by_seat.values():
        assert all(b - a >= 300 for a, b in zip(seat_times, seat_times[1:], strict=False))
    # moves leave only free seats (the engine asserts it); the ones that waited moved later
    assert all(m.at >= m.decided_at for m in result.moves)


def test_erlang_watcher_lends_out_spare_inbound_seats_in_the_quiet_hours() -> None:
    result = run("erlang")
    kinds = Counter(m.kind for m in result.moves)
    assert kinds[MoveKind.LEND_OUT] > 0 and kinds[MoveKind.LEND] > 0
    assert {m.explanation.key for m in result.moves} <= {
        "watcher.lend.forecast", "watcher.return.forecast", "watcher.lend_out.forecast"}
    assert result.outbound_abandon_rate <= 0.03


def test_without_campaign_pacer_the_progressive_stand_in_never_abandons() -> None:
    result = simulate_floor(parse_floor_scenario(SURGE, "surge.toml"), 1, watcher="off")
    assert result.campaigns["renewals"].abandoned == 0 and result.campaigns["renewals"].dials > 0


@pytest.mark.parametrize(("path", "value", "message"), [
    (("hours",), 0, "surge.toml: hours: must be in (0, 48], not 0"),
    (("queue", 0, "rates"), [[1, 20]], "surge.toml: queue[0].rates[0][0]: the profile must start at hour 0"),
    (("queue", 0, "rates"), [[0, 20], [0, 30]], "surge.toml: queue[0].rates[1][0]: hours must increase"),
    (("queue", 0, "talk_dist"), "gamma", "surge.toml: queue[0].talk_dist: must be 'lognormal' or 'exponential'"),
    (("campaign", 0, "target_abandon"), 0.05, "surge.toml: campaign[0].target_abandon: must be in (0, 0.03]"),
    (("seats", 1, "home"), "campaign:nope", "surge.toml: seats[1].home: 'campaign:nope' is not one of"),
    (("seats", 0, "count"), 0, "surge.toml: seats[0].count: must be a whole number from 1 to 10000"),
    (("watcher", "queue", 0, "lend_from"), ["nope"], "surge.toml: watcher: queue[0]: no campaign 'nope'"),
    (("watcher", "max_moves_per_minute"), -1, "surge.toml: watcher: max_moves_per_minute: must be"),
])
def test_invalid_scenarios_name_the_key(path: tuple[Any, ...], value: Any, message: str) -> None:
    data = copy.deepcopy(SURGE)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ScenarioError) as info:
        parse_floor_scenario(data, "surge.toml")
    assert str(info.value).startswith(message)


def test_the_example_scenario_loads_and_the_cli_reports_it(tmp_path: Path) -> None:
    example = ROOT / "config/scenarios/floor/example.toml"
    scenario = load_floor_scenario(example)
    assert (scenario.seat_count, scenario.policy.mode.value) == (30, "rules")
    bad = tmp_path / "bad.toml"
    bad.write_text("hours = 2\n[[queue]]\nid = 3\n")
    proc = subprocess.run([sys.executable, "-m", "callfloor.cli", "simulate", "floor", "--scenario", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    assert "bad.toml: seats: needs at least one [[seats]] table" in proc.stderr


def test_campaigns_cancel_surplus_dials_as_the_dialer_does() -> None:
    result = run("off")
    renewals = result.campaigns["renewals"]
    # The real pacer cancels dials no seat will be free for, after 15 s of ringing; the
    # progressive stand-in never does.
    assert 0 < renewals.cancelled < renewals.dials
    assert renewals.to_dict()["cancelled"] == renewals.cancelled
    plain = simulate_floor(parse_floor_scenario(SURGE, "surge.toml"), 3, watcher="off")
    assert plain.campaigns["renewals"].cancelled == 0
