"""``floor.started``: the service restarted, so the board starts over the way the ACD does (every
seat logged out, unreachable, in its configured queues; no caller waiting, no dial in flight)
while today's counts stay."""

from __future__ import annotations

from floor.metrics import FLOOR_STARTED, FloorMetrics, QueueSpec, SeatSpec
from tests.unit.floor.test_metrics_queue import T, q


def test_a_restart_resets_states_and_keeps_todays_counts() -> None:
    m = FloorMetrics(queues=[QueueSpec("sales", 20.0), QueueSpec("support", 20.0)],
                     seats=[SeatSpec("1001", queues=("sales",))])
    m.apply("seat.state", T, {"seat": "1001", "presence": "ready", "call_state": "on-call",
                              "reason": None, "call": "c1", "ts": T})
    m.apply("seat.availability", T, {"seat": "1001", "reachable": True, "busy_elsewhere": False,
                                     "lent_to": None, "ts": T})
    m.apply("seat.membership", T, {"seat": "1001", "queues": ["support"], "ts": T})
    q(m, "joined", T, "c1", "support")
    q(m, "answered", T + 5, "c1", "support", seat="1001", wait=5.0, within_threshold="true")
    q(m, "joined", T + 10, "c2", "support")  # still waiting when the service stops
    assert m.queue("support", T + 20)["waiting"] == 1

    changed = m.apply(FLOOR_STARTED, T + 60, {"ts": T + 60})

    assert {("seat", "1001"), ("queue", "sales"), ("queue", "support")} <= changed
    seat = m.seat("1001", T + 70)
    assert (seat["presence"], seat["call_state"], seat["call"], seat["since"]) == (
        "logged-out", "idle", None, T + 60)
    assert (seat["reachable"], seat["lent_to"], seat["queues"], seat["calls"]) == (False, None, ["sales"], 1)
    support = m.queue("support", T + 70)
    assert (support["waiting"], support["offered"], support["answered"]) == (0, 2, 1)
    assert m.queue("sales", T + 70)["seats"]["logged_out"] == 1
    assert m.queue("support", T + 70)["seats"]["logged_out"] == 0
