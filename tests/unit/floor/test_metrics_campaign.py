"""Seat and campaign figures from hand-made events: time in state, calls and talk today, dials,
connects, drops, the 24-hour and 30-day drop rates, seats busy/idle, pacing ratio, alerts."""

from __future__ import annotations

from typing import Any

import pytest

from floor.errors import ConfigError
from floor.metrics import AlertThresholds, BadEvent, CampaignSpec, FloorMetrics, QueueSpec, SeatSpec

DAY0 = 19_700 * 86400.0
T = DAY0 + 36_000.0


def dialer(m: FloorMetrics, what: str, at: float, call: str, campaign: str = "demo",
           **data: Any) -> frozenset[tuple[str, str]]:
    return m.apply(f"dialer.{what}", at, {"campaign": campaign, "call": call, **data, "ts": at})


def state(m: FloorMetrics, seat: str, at: float, presence: str, call_state: str = "idle",
          reason: str | None = None, call: str | None = None) -> frozenset[tuple[str, str]]:
    return m.apply("seat.state", at, {"seat": seat, "presence": presence, "call_state": call_state,
                                      "reason": reason, "call": call, "ts": at})


def available(m: FloorMetrics, seat: str, at: float, *, reachable: bool = True, busy: bool = False,
              lent: str | None = None) -> frozenset[tuple[str, str]]:
    return m.apply("seat.availability", at, {"seat": seat, "reachable": reachable,
                                             "busy_elsewhere": busy, "lent_to": lent, "ts": at})


def test_seat_state_time_in_state_and_today() -> None:
    m = FloorMetrics(seats=[SeatSpec("1001", "Ann", "red", ("sales",))])
    assert m.seat("1001", T) == {
        "id": "1001", "name": "Ann", "team": "red", "presence": "logged-out", "call_state": "idle",
        "reason": None, "since": None, "time_in_state_s": None, "calls": 0, "talk_s": 0.0,
        "call": None, "queues": ["sales"], "lent_to": None, "reachable": False,
        "busy_elsewhere": False, "at": T}
    assert state(m, "1001", T, "paused", reason="lunch") == {("seat", "1001"), ("queue", "sales")}
    seat = m.seat("1001", T + 42.5)
    assert (seat["presence"], seat["reason"], seat["since"], seat["time_in_state_s"]) == (
        "paused", "lunch", T, 42.5)
    state(m, "1001", T + 100, "ready", "on-call", call="c1")
    m.apply("queue.answered", T + 100, {"call": "c1", "queue": "sales", "seat": "1001",
                                        "wait_s": 3.0, "within_threshold": "true"})
    m.apply("queue.ended", T + 190, {"call": "c1", "queue": "sales", "seat": "1001", "wait_s": 3.0,
                                     "talk_s": "90.000", "wrap_up_s": "10"})
    seat = m.seat("1001", T + 195)
    assert (seat["call_state"], seat["call"], seat["calls"], seat["talk_s"]) == ("on-call", "c1", 1, 90.0)


def test_bad_seat_events_name_the_field() -> None:
    m = FloorMetrics()
    with pytest.raises(BadEvent, match="field 'presence' must be one of logged-out, ready, paused, wrap-up"):
        state(m, "1001", T, "away")
    with pytest.raises(BadEvent, match="field 'reachable' must be true or false, not 'yes'"):
        m.apply("seat.availability", T, {"seat": "1001", "reachable": "yes", "busy_elsewhere": False})
    with pytest.raises(BadEvent, match="field 'queues' must be a list of names"):
        m.apply("seat.membership", T, {"seat": "1001", "queues": "sales"})
    with pytest.raises(BadEvent, match="dialer.dial event: field 'campaign' is missing"):
        m.apply("dialer.dial", T, {"call": "x"})


def demo_floor() -> FloorMetrics:
    seats = [SeatSpec(s, queues=("campaign-demo",)) for s in ("s1", "s2", "s3", "s4", "s5")]
    m = FloorMetrics(campaigns=[CampaignSpec("demo", target_abandon=0.03)],
                     seats=[*seats, SeatSpec("s6", queues=("sales",))])
    for seat in ("s1", "s2", "s3", "s4", "s6"):
        available(m, seat, T)
    state(m, "s1", T, "ready")
    state(m, "s2", T, "ready", "on-call", call="x0")
    state(m, "s3", T, "paused", reason="break")
    state(m, "s4", T, "ready")
    state(m, "s5", T, "ready")  # never registered: not counted
    state(m, "s6", T, "ready")
    available(m, "s4", T, lent="demo")  # held for one dial
    available(m, "s6", T, lent="demo")  # a sales seat lent to the campaign
    return m


def test_campaign_counts_rates_seats_and_pacing() -> None:
    m = demo_floor()
    for n in range(1, 5):
        assert dialer(m, "dial", T + n, f"d{n}", lead=n, mode="predictive") == {("campaign", "demo")}
    c = m.campaign("demo", T + 5)
    assert (c["dials"], c["in_flight"], c["seats"], c["pacing_ratio"]) == (4, 4, {"busy": 3, "idle": 1}, 4.0)
    dialer(m, "connected", T + 20, "d1", seat="s1", after_s=0.4)
    dialer(m, "abandoned", T + 25, "d2", waited_s=2.0)
    dialer(m, "attempt", T + 40, "d3", outcome="machine", amd="machine")
    dialer(m, "attempt", T + 41, "d4", outcome="no_answer", amd=None)
    dialer(m, "attempt", T + 90, "d2", outcome="abandoned", amd="human")  # counted at the drop
    c = m.campaign("demo", T + 100)
    assert c == {"id": "demo", "dials": 4, "connects": 1, "connect_rate": 0.25, "drops": 1,
                 "drop_rate_24h": 0.5, "drop_rate_30d": 0.5, "target_abandon": 0.03,
                 "seats": {"busy": 3, "idle": 1}, "in_flight": 0, "pacing_ratio": 0.0, "at": T + 100}


def test_connections_formula_counts_the_machine_allowance() -> None:
    m = FloorMetrics(campaigns=[CampaignSpec("uk", formula="connections", amd_allowance=0.5)])  # type: ignore[arg-type]
    dialer(m, "connected", T, "a", "uk")
    dialer(m, "abandoned", T + 1, "b", "uk")
    dialer(m, "attempt", T + 2, "c", "uk", outcome="machine", amd="machine")
    dialer(m, "connected", T + 3, "d", "uk", amd="machine")  # AMD said machine, passed: not counted
    # (1 abandoned + 0.5 x 1 machine) / (1 connected + 1.5)
    assert m.campaign("uk", T + 10)["drop_rate_24h"] == 0.6


def test_drop_rate_windows_slide() -> None:
    m = FloorMetrics(campaigns=[CampaignSpec("demo")])
    dialer(m, "abandoned", T, "a")
    for n in range(3):
        dialer(m, "connected", T + 3600 + n, f"c{n}")
    c = m.campaign("demo", T + 3700)
    assert (c["drop_rate_24h"], c["drop_rate_30d"]) == (0.25, 0.25)
    c = m.campaign("demo", T + 86400)  # the drop is 24 h old: out of the day, in the month
    assert (c["drop_rate_24h"], c["drop_rate_30d"]) == (0.0, 0.25)
    assert (c["dials"], c["connects"], c["drops"]) == (0, 0, 0)  # a new day
    # the month counts whole hours: the drop's hour leaves 720 hours after it began
    hour = T - T % 3600
    assert m.campaign("demo", hour + 720 * 3600 - 1)["drop_rate_30d"] == 0.25
    assert m.campaign("demo", hour + 720 * 3600)["drop_rate_30d"] == 0.0
    assert m.campaign("demo", hour + 721 * 3600)["drop_rate_30d"] is None


def test_campaign_seen_first_in_an_event_is_added() -> None:
    m = FloorMetrics()
    dialer(m, "dial", T, "d1", campaign="spring")
    assert m.campaign("spring", T)["target_abandon"] == 0.03
    assert ("campaign", "spring") in m.subjects()
    with pytest.raises(LookupError):
        m.campaign("autumn", T)


def test_config_errors_name_the_item() -> None:
    with pytest.raises(ConfigError, match="campaign demo: target_abandon must be between 0 and 1"):
        CampaignSpec("demo", target_abandon=3.0)
    with pytest.raises(ConfigError, match="formula must be answers or connections"):
        CampaignSpec("demo", formula="ofcom")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="queue sales: service_level_threshold must be > 0"):
        QueueSpec("sales", 0.0)
    with pytest.raises(ConfigError, match="seat 1 is configured twice"):
        FloorMetrics(seats=[SeatSpec("1"), SeatSpec("1")])


def test_alerts_name_the_rule_the_value_and_since() -> None:
    m = FloorMetrics(queues=[QueueSpec("sales", 20.0)], campaigns=[CampaignSpec("demo")])
    m.apply("queue.joined", T, {"call": "c1", "queue": "sales", "seat": None, "wait_s": 0.0})
    m.apply("queue.joined", T + 1, {"call": "c2", "queue": "sales", "seat": None, "wait_s": 0.0})
    m.apply("queue.abandoned", T + 50, {"call": "c2", "queue": "sales", "seat": None,
                                        "wait_s": 49.0, "within_threshold": "false"})
    dialer(m, "abandoned", T + 10, "d1")
    dialer(m, "connected", T + 11, "d2")
    assert m.alerts(T + 60) == [
        {"id": "service_level:queue:sales", "kind": "service_level", "subject": "queue:sales",
         "value": 0.0, "threshold": 0.8, "since": T + 60, "at": T + 60},
        {"id": "drop_rate:campaign:demo", "kind": "drop_rate", "subject": "campaign:demo",
         "value": 0.5, "threshold": 0.025, "since": T + 60, "at": T + 60}]
    alerts = m.alerts(T + 70.5, AlertThresholds(longest_wait_s=60, drop_rate=0.6))
    assert alerts[0] == {"id": "longest_wait:queue:sales", "kind": "longest_wait",
                         "subject": "queue:sales", "value": 70.5, "threshold": 60,
                         "since": T + 60, "at": T + 70.5}
    assert [(a["kind"], a["since"]) for a in alerts] == [("longest_wait", T + 60),
                                                        ("service_level", T + 60)]
