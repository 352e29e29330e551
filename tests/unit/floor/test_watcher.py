"""The queue-watcher: lending on trouble, returning after recovery, no flapping, explanations."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from floor.watcher import QueueWatcher
from floor.watcher_policy import WatcherPolicy, parse_policy
from floor.watcher_snapshot import MoveKind, QueueInfo, SeatActivity, SeatInfo, WatcherSnapshot

A = SeatActivity
T0 = 1_700_000_000.0


def policy(**over: object) -> WatcherPolicy:
    rule: dict[str, object] = {"queue": "support", "lend_from": ["renewals", "winback"],
                               "lend_step": 2, "step_every_s": 60, "healthy_for_s": 600}
    top: dict[str, object] = {"mode": "rules", "min_dwell_s": 300, "max_moves_per_minute": 6}
    for key, value in over.items():
        (top if key in ("mode", "min_dwell_s", "max_moves_per_minute") else rule)[key] = value
    return parse_policy({**top, "queue": [rule]}, "test.toml")


def seat(id: str, assignment: str, state: SeatActivity = A.READY, *, home: str | None = None,
         skills: dict[str, int] | None = None, moved_at: float | None = None) -> SeatInfo:
    return SeatInfo(id, home or assignment, assignment, {"support": 1} if skills is None else skills,
                    state, moved_at)


def snap(now: float, seats: Iterable[SeatInfo], *, sl: float | None = 0.95, wait: float = 0.0,
         waiting: int = 0, rate: float | None = None, aht: float | None = None) -> WatcherSnapshot:
    q = QueueInfo("support", sl, wait, waiting, rate, aht)
    return WatcherSnapshot(now, {"support": q}, {s.id: s for s in seats})


def floor_seats(lent: Iterable[str] = (), states: dict[str, SeatActivity] | None = None) -> list[SeatInfo]:
    states = states or {}
    out = [seat("in-1", "queue:support")]
    for c, ids in (("renewals", ("r1", "r2", "r3")), ("winback", ("w1", "w2"))):
        for i in ids:
            where = "queue:support" if i in lent else f"campaign:{c}"
            out.append(seat(i, where, states.get(i, A.READY), home=f"campaign:{c}"))
    out.append(seat("r9", "campaign:renewals", skills={}))  # no support skill: never lent
    return out


def test_low_service_level_lends_seats_in_campaign_priority_order_with_an_explanation() -> None:
    w = QueueWatcher(policy())
    moves = w.decide(snap(T0, floor_seats(), sl=0.72, waiting=4), T0)
    assert [(m.seat, m.source, m.target, m.kind) for m in moves] == [
        ("r1", "campaign:renewals", "queue:support", MoveKind.LEND),
        ("r2", "campaign:renewals", "queue:support", MoveKind.LEND)]
    e = moves[0].explanation
    assert e.rule == "support" and e.key == "watcher.lend.service_level"
    assert e.numbers["sl_15m"] == 0.72 and e.numbers["trigger_sl"] == 0.8
    assert e.params["seat"] == "r1" and e.params["target"] == "queue:support"
    assert e.text == ("Seat r1 moves from campaign:renewals to queue:support: the service level "
                      "of queue support over 15 min is 72%, under 80%.")
    assert moves[0].to_dict()["key"] == "watcher.lend.service_level"


def test_longest_wait_triggers_and_steps_are_spaced() -> None:
    w = QueueWatcher(policy())
    first = w.decide(snap(T0, floor_seats(), wait=75.0), T0)
    assert [m.seat for m in first] == ["r1", "r2"]
    assert first[0].explanation.key == "watcher.lend.longest_wait"
    lent = floor_seats(lent={"r1", "r2"})
    assert w.decide(snap(T0 + 30, lent, wait=70.0), T0 + 30) == []      # within step_every_s
    assert [m.seat for m in w.decide(snap(T0 + 60, lent, wait=70.0), T0 + 60)] == ["r3", "w1"]


def test_recovery_returns_seats_only_after_healthy_for_and_hysteresis_holds() -> None:
    w = QueueWatcher(policy())
    w.decide(snap(T0, floor_seats(), sl=0.7), T0)
    lent = floor_seats(lent={"r1", "r2"})
    # between trigger (80 %) and recovery (90 %): nothing moves, however long
    assert w.decide(snap(T0 + 400, lent, sl=0.85), T0 + 400) == []
    assert w.decide(snap(T0 + 1200, lent, sl=0.85), T0 + 1200) == []
    assert w.decide(snap(T0 + 1300, lent, sl=0.93), T0 + 1300) == []     # healthy from now
    assert w.decide(snap(T0 + 1800, lent, sl=0.93), T0 + 1800) == []     # 500 s < 600 s
    moves = w.decide(snap(T0 + 1900, lent, sl=0.93), T0 + 1900)
    assert [(m.seat, m.target, m.kind) for m in moves] == [
        ("r1", "campaign:renewals", MoveKind.RETURN), ("r2", "campaign:renewals", MoveKind.RETURN)]
    assert moves[0].explanation.key == "watcher.return.healthy"
    assert moves[0].explanation.numbers["healthy_s"] == 600


def test_no_seat_is_pulled_mid_call_it_moves_after_wrap_up() -> None:
    w = QueueWatcher(policy(lend_step=1))
    busy = {"r1": A.TALKING, "r2": A.WRAP_UP, "r3": A.RINGING, "w1": A.TALKING, "w2": A.TALKING}
    assert w.decide(snap(T0, floor_seats(states=busy), sl=0.5), T0) == []
    assert set(w.pending) == {"r1"}
    busy["r1"] = A.WRAP_UP
    assert w.decide(snap(T0 + 15, floor_seats(states=busy), sl=0.5), T0 + 15) == []
    busy["r1"] = A.READY
    (move,) = w.decide(snap(T0 + 30, floor_seats(states=busy), sl=0.5), T0 + 30)
    assert (move.seat, move.decided_at, move.at) == ("r1", T0, T0 + 30)
    assert w.pending == {}


def test_a_free_seat_is_preferred_over_a_busy_one() -> None:
    w = QueueWatcher(policy(lend_step=1))
    moves = w.decide(snap(T0, floor_seats(states={"r1": A.TALKING, "r2": A.TALKING}), sl=0.5), T0)
    assert [m.seat for m in moves] == ["r3"]


def test_rate_limit_and_dwell() -> None:
    w = QueueWatcher(policy(lend_step=10, max_moves_per_minute=3, min_dwell_s=300))
    seats = floor_seats()
    seats[1] = seat("r1", "campaign:renewals", home="campaign:renewals", moved_at=T0 - 100)
    moves = w.decide(snap(T0, seats, sl=0.5), T0)
    assert [m.seat for m in moves] == ["r2", "r3", "w1"]                 # r1 moved 100 s ago
    lent = floor_seats(lent={"r2", "r3", "w1"})
    assert w.decide(snap(T0 + 30, lent, sl=0.5), T0 + 30) == []           # 3 moves this minute
    assert [m.seat for m in w.decide(snap(T0 + 61, lent, sl=0.5), T0 + 61)] == ["r1", "w2"]
    # a seat the watcher moved stays put for min_dwell_s even when the queue recovers at once
    back = floor_seats(lent={"r1", "r2"})
    w2 = QueueWatcher(policy(healthy_for_s=0, step_every_s=0, min_dwell_s=300))
    w2.decide(snap(T0, floor_seats(), sl=0.5), T0)
    assert w2.decide(snap(T0 + 100, back, sl=0.99), T0 + 100) == []
    assert {m.seat for m in w2.decide(snap(T0 + 301, back, sl=0.99), T0 + 301)} == {"r1", "r2"}


def test_erlang_mode_lends_the_difference_and_gives_spare_seats_away() -> None:
    p = policy(mode="erlang", lend_out_to=["renewals"], spare_margin=1, min_dwell_s=0)
    w = QueueWatcher(p)
    inbound = [seat(f"in-{i}", "queue:support") for i in range(1, 4)]
    outbound = [seat(f"r{i}", "campaign:renewals") for i in range(1, 15)]
    # 100 calls / 30 min of 180 s with patience 120 s: Erlang A needs 12 seats for 80 % in 20 s
    moves = w.decide(snap(T0, inbound + outbound, rate=100 / 1800, aht=180.0), T0)
    assert len(moves) == 6                                                # the rate limit
    e = moves[0].explanation
    assert e.key == "watcher.lend.forecast"
    assert (e.numbers["needed"], e.numbers["staffed"], e.numbers["arrivals_per_hour"]) == (12, 3, 200.0)
    assert "Erlang A needs 12 seats in queue support" in e.text
    # a quiet spell: 12 seats staffed, 1 needed (min_seats) plus 1 spare; the lent seats go home first
    staffed = inbound + [seat(f"r{i}", "queue:support", home="campaign:renewals") for i in range(1, 10)]
    moves = w.decide(snap(T0 + 3600, staffed, rate=0.0, aht=180.0), T0 + 3600)
    assert [(m.seat, m.kind) for m in moves] == [(f"r{i}", MoveKind.RETURN) for i in range(1, 7)]
    home_only = inbound
    moves = w.decide(snap(T0 + 7200, home_only, rate=0.0, aht=180.0), T0 + 7200)
    assert [(m.seat, m.target, m.kind) for m in moves] == [("in-1", "campaign:renewals", MoveKind.LEND_OUT)]
    assert moves[0].explanation.key == "watcher.lend_out.forecast"


def test_erlang_mode_holds_without_a_forecast_and_while_triggered() -> None:
    w = QueueWatcher(policy(mode="erlang", lend_out_to=["renewals"], min_dwell_s=0))
    inbound = [seat(f"in-{i}", "queue:support") for i in range(1, 6)]
    assert w.decide(snap(T0, inbound, rate=None, aht=None), T0) == []
    assert w.decide(snap(T0, inbound, rate=0.0, aht=180.0, sl=0.5), T0) == []   # failing: keep seats


def test_off_mode_never_moves() -> None:
    w = QueueWatcher(policy(mode="off"))
    assert w.decide(snap(T0, floor_seats(), sl=0.1, wait=500), T0) == []


@pytest.mark.parametrize(("data", "message"), [
    ({"mode": "fast"}, "test.toml: mode: must be one of 'off', 'rules', 'erlang', not 'fast'"),
    ({"max_moves_per_minute": 0}, "test.toml: max_moves_per_minute: must be a whole number from 1"),
    ({"speed": 1}, "test.toml: speed: unknown key"),
    ({"queue": [{"lend_from": []}]}, "test.toml: queue[0].queue: missing"),
    ({"queue": [{"queue": "q", "trigger_sl": 1.5}]}, "test.toml: queue[0].trigger_sl: must be in (0, 1], not 1.5"),
    ({"queue": [{"queue": "q", "trigger_sl": 0.8, "recover_sl": 0.7}]},
     "test.toml: queue[0].recover_sl: must be >= trigger_sl (0.8): hysteresis"),
    ({"queue": [{"queue": "q", "lend_from": "renewals"}]}, "test.toml: queue[0].lend_from: must be a list"),
    ({"queue": [{"queue": "q", "model": "erlang-x"}]}, "test.toml: queue[0].model: must be one of"),
    ({"queue": [{"queue": "q"}, {"queue": "q", "id": "b"}]}, "test.toml: queue[1].queue: q has two rules"),
    ({"queue": [{"queue": "q", "healthy_for_s": -1}]}, "test.toml: queue[0].healthy_for_s: must be in [0"),
    ({"queue": {"queue": "q"}}, "test.toml: queue: must be an array of tables"),
])
def test_invalid_policies_name_the_key(data: dict[str, object], message: str) -> None:
    from floor.watcher_policy import PolicyError
    with pytest.raises(PolicyError) as info:
        parse_policy(data, "test.toml")
    assert str(info.value).startswith(message)


def test_defaults_and_trigger_off() -> None:
    p = parse_policy({"queue": [{"queue": "support", "trigger_longest_wait_s": False}]})
    (rule,) = p.rules
    assert (p.mode.value, p.min_dwell_s, p.max_moves_per_minute) == ("rules", 300.0, 6)
    assert (rule.id, rule.skill, rule.trigger_sl, rule.trigger_longest_wait_s) == ("support", "support", 0.8, None)
    assert (rule.recover_sl, rule.healthy_for_s, rule.model.value, rule.patience_s) == (0.9, 600.0, "erlang-a", 120.0)
