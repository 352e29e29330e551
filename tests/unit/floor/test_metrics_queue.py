"""Queue figures from hand-made event sequences: service level windows sliding, short abandons,
ASA and AHT, callers waiting, seats by state, and the day roll-over."""

from __future__ import annotations

from typing import Any

import pytest

from floor.errors import UnknownQueue
from floor.metrics import BadEvent, FloorMetrics, QueueSpec, SeatSpec

DAY0 = 19_700 * 86400.0  # a UTC midnight
T = DAY0 + 36_000.0  # 10:00 that day


def q(metrics: FloorMetrics, kind: str, at: float, call: str, queue: str = "sales", *,
      seat: str | None = None, wait: float = 0.0, **data: Any) -> frozenset[tuple[str, str]]:
    """Feed one queue event shaped as floor/eventlog.py writes it."""
    payload = {"call": call, "queue": queue, "seat": seat, "wait_s": wait, **data, "ts": at}
    return metrics.apply(f"queue.{kind}", at, payload)


def answered(m: FloorMetrics, call: str, joined: float, at: float, seat: str = "1001",
             threshold: float = 20.0) -> None:
    q(m, "joined", joined, call, priority="0")
    q(m, "answered", at, call, seat=seat, wait=at - joined,
      within_threshold="true" if at - joined <= threshold else "false", attempt="1")


def abandoned(m: FloorMetrics, call: str, joined: float, at: float, threshold: float = 20.0) -> None:
    q(m, "joined", joined, call, priority="0")
    q(m, "abandoned", at, call, wait=at - joined,
      within_threshold="true" if at - joined <= threshold else "false", attempts="0")


def overflowed(m: FloorMetrics, call: str, joined: float, at: float) -> None:
    q(m, "joined", joined, call, priority="0")
    q(m, "overflowed", at, call, wait=at - joined, target="queue:support", reason="max-wait")


def sl(m: FloorMetrics, now: float, queue: str = "sales") -> dict[str, float | None]:
    figures: dict[str, float | None] = m.queue(queue, now)["sl"]
    return figures


def five_outcomes() -> FloorMetrics:
    """Answered in 10 s, answered in 30 s, a short abandon (5 s), a late one (40 s), an overflow."""
    m = FloorMetrics(queues=[QueueSpec("sales", 20.0)])
    answered(m, "c1", T, T + 10)
    answered(m, "c2", T + 100, T + 130)
    abandoned(m, "c3", T + 200, T + 205)
    abandoned(m, "c4", T + 300, T + 340)
    overflowed(m, "c5", T + 400, T + 460)
    return m


def test_service_level_leaves_out_short_abandons_and_counts_overflows() -> None:
    m = five_outcomes()
    # 1 answered within / (2 answered + 1 late abandon + 1 overflow); the 5 s abandon is left out
    assert sl(m, T + 500) == {"15m": 0.25, "30m": 0.25, "60m": 0.25, "today": 0.25}
    view = m.queue("sales", T + 500)
    assert (view["offered"], view["answered"], view["abandoned"], view["overflowed"]) == (5, 2, 2, 1)
    assert view["abandon_rate"] == 0.4
    assert view["asa_s"] == 20.0
    assert view["sl_threshold_s"] == 20.0


def test_service_level_windows_slide_by_event_time() -> None:
    m = five_outcomes()
    # an outcome at a is inside the window at now while now - span < a
    assert sl(m, T + 10 + 900) == {"15m": 0.0, "30m": 0.25, "60m": 0.25, "today": 0.25}
    assert sl(m, T + 130 + 900)["15m"] == 0.0  # the late abandon and the overflow are left
    assert sl(m, T + 460 + 900)["15m"] is None  # nothing left in the last 15 minutes
    assert sl(m, T + 10 + 1800) == {"15m": None, "30m": 0.0, "60m": 0.25, "today": 0.25}
    assert sl(m, T + 460 + 3600) == {"15m": None, "30m": None, "60m": None, "today": 0.25}
    answered(m, "c6", T + 1995, T + 2000)
    assert sl(m, T + 2000) == {"15m": 1.0, "30m": round(1 / 3, 4), "60m": 0.4, "today": 0.4}


def test_reading_a_window_changes_nothing_and_events_trim_it() -> None:
    m = five_outcomes()
    assert sl(m, T + 99_999)["60m"] is None  # far ahead
    assert sl(m, T + 500)["60m"] == 0.25  # and back again: the read did not drop anything
    answered(m, "c6", T + 5000, T + 5005)
    queue = m._queues["sales"]
    assert {name: len(w) for name, w in queue.windows.items()} == {"15m": 1, "30m": 1, "60m": 1}


def test_within_threshold_comes_from_the_acd_flag_or_the_wait() -> None:
    m = FloorMetrics(queues=[QueueSpec("sales", 20.0)])
    q(m, "joined", T, "c1")
    q(m, "answered", T + 20, "c1", seat="1001", wait=20.0)  # no flag: wait <= threshold
    q(m, "joined", T, "c2")
    q(m, "answered", T + 25, "c2", seat="1001", wait=25.0, within_threshold="true")  # the ACD's word
    assert sl(m, T + 30)["today"] == 1.0
    with pytest.raises(BadEvent, match="within_threshold"):
        q(m, "answered", T + 30, "c3", seat="1001", wait=1.0, within_threshold="yes")


def test_average_handle_time_is_talk_plus_wrap_up_of_ended_calls() -> None:
    m = FloorMetrics(queues=[QueueSpec("sales")])
    answered(m, "c1", T, T + 4)
    answered(m, "c2", T + 10, T + 18, seat="1002")
    assert m.queue("sales", T + 20)["aht_s"] is None
    q(m, "ended", T + 64, "c1", seat="1001", wait=4.0, talk_s="60.000", wrap_up_s="10")
    q(m, "ended", T + 108, "c2", seat="1002", wait=8.0, talk_s="90.500", wrap_up_s="10")
    view = m.queue("sales", T + 120)
    assert (view["asa_s"], view["aht_s"]) == (6.0, 85.25)
    assert m.seat("1002", T + 120)["talk_s"] == 90.5


def test_callers_waiting_with_their_numbers_and_the_longest_wait() -> None:
    m = FloorMetrics(queues=[QueueSpec("sales")])
    m.apply("call.offered", T - 30, {"call": "c1", "direction": "inbound", "caller": "+15551230001",
                                     "callee": "+15550100", "seat": None, "ts": T - 30})
    changed = q(m, "joined", T, "c1", priority="0")
    assert changed == {("queue", "sales")}
    q(m, "joined", T + 5, "c2", priority="0")
    q(m, "offered", T + 6, "c1", seat="1001", wait=6.0, attempt="1")
    view = m.queue("sales", T + 12.5)
    assert view["waiting"] == 2 and view["longest_wait_s"] == 12.5
    assert view["callers"] == [{"call": "c1", "caller": "+15551230001", "since": T},
                               {"call": "c2", "caller": None, "since": T + 5}]
    q(m, "answered", T + 8, "c1", seat="1001", wait=8.0, within_threshold="true")
    assert m.queue("sales", T + 12.5)["longest_wait_s"] == 7.5
    m.apply("call.ended", T + 50, {"call": "c1", "ts": T + 50})
    assert m._numbers == {}


def test_seats_by_state_count_members_not_lent() -> None:
    m = FloorMetrics(queues=[QueueSpec("sales")],
                     seats=[SeatSpec(s, queues=("sales",)) for s in ("1", "2", "3", "4", "5", "6")])

    def state(seat: str, presence: str, call_state: str = "idle", reason: str | None = None) -> None:
        m.apply("seat.state", T, {"seat": seat, "presence": presence, "call_state": call_state,
                                  "reason": reason, "call": None, "ts": T})

    state("1", "ready")
    state("2", "ready", "ringing")
    state("3", "paused", "on-call", "break")  # paused during the call: still talking
    state("4", "wrap-up")
    state("5", "paused", reason="lunch")
    changed = m.apply("seat.availability", T, {"seat": "1", "reachable": True,
                                               "busy_elsewhere": False, "lent_to": "demo"})
    assert changed == {("seat", "1"), ("queue", "sales"), ("campaign", "demo")}
    assert m.queue("sales", T)["seats"] == {"ready": 0, "ringing": 1, "talking": 1, "wrap_up": 1,
                                            "paused": 1, "logged_out": 1}
    m.apply("seat.availability", T, {"seat": "1", "reachable": True, "busy_elsewhere": True,
                                     "lent_to": None})
    assert m.queue("sales", T)["seats"]["talking"] == 2
    changed = m.apply("seat.membership", T, {"seat": "1", "queues": ["support"], "by": "lead"})
    assert changed == {("seat", "1"), ("queue", "sales"), ("queue", "support")}
    assert m.queue("sales", T)["seats"]["talking"] == 1
    assert m.queue("support", T)["seats"]["talking"] == 1


def test_today_rolls_over_at_day_start_but_windows_span_midnight() -> None:
    midnight = DAY0 + 86400
    m = FloorMetrics(queues=[QueueSpec("sales")])
    answered(m, "c1", midnight - 100, midnight - 95)
    q(m, "ended", midnight - 35, "c1", seat="1001", wait=5.0, talk_s="60", wrap_up_s="0")
    assert m.seat("1001", midnight - 1)["calls"] == 1
    view = m.queue("sales", midnight + 10)  # read after midnight, before any new event
    assert (view["offered"], view["answered"], view["asa_s"], view["sl"]["today"]) == (0, 0, None, None)
    assert view["sl"]["15m"] == 1.0
    assert (m.seat("1001", midnight + 10)["calls"], m.seat("1001", midnight + 10)["talk_s"]) == (0, 0.0)
    abandoned(m, "c2", midnight + 20, midnight + 60)
    view = m.queue("sales", midnight + 60)
    assert (view["offered"], view["abandoned"], view["sl"]["today"], view["sl"]["15m"]) == (1, 1, 0.0, 0.5)


def test_local_day_start_is_injected() -> None:
    # a floor 8 hours east of UTC: its day starts at 16:00 UTC
    m = FloorMetrics(queues=[QueueSpec("sales")],
                     day_start=lambda now: now - (now + 8 * 3600) % 86400)
    answered(m, "c1", DAY0 + 57_000, DAY0 + 57_005)  # 15:50 UTC
    assert m.queue("sales", DAY0 + 57_500)["answered"] == 1
    assert m.queue("sales", DAY0 + 57_700)["answered"] == 0  # 16:01 UTC: a new local day


def test_bad_queue_events_name_the_field() -> None:
    m = FloorMetrics()
    with pytest.raises(BadEvent, match="queue.joined event: field 'queue' is missing"):
        m.apply("queue.joined", T, {"call": "c1", "wait_s": 0.0})
    with pytest.raises(BadEvent, match="field 'wait_s' must be a number"):
        m.apply("queue.answered", T, {"call": "c1", "queue": "q", "seat": "1", "wait_s": "soon"})
    with pytest.raises(BadEvent, match="field 'talk_s' is missing"):
        m.apply("queue.ended", T, {"call": "c1", "queue": "q", "seat": "1", "wait_s": 1.0})
    with pytest.raises(BadEvent, match="unknown queue event"):
        m.apply("queue.teleported", T, {"call": "c1", "queue": "q"})
    with pytest.raises(BadEvent, match="time 'x' is not a finite number"):
        m.apply("queue.joined", "x", {})  # type: ignore[arg-type]
    with pytest.raises(UnknownQueue):
        m.queue("nowhere", T)
    assert m.apply("seat.registered", T, {"seat": "1001"}) == frozenset()  # not a board event
