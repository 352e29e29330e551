"""Real FloorMetrics output, command replies and commands against the JSON Schemas in
docs/schemas (the MQTT payloads and the monitor's board are these dicts)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from callfloor.bus.floorcommands import CommandError, parse_command, reply_payload
from floor.metrics import CampaignSpec, FloorMetrics, QueueSpec, SeatSpec
from tests.unit.floor.schemacheck import SCHEMAS, errors, load

T = 19_700 * 86400.0 + 36_000.0


def busy_floor() -> FloorMetrics:
    """Every kind of figure filled in: callers, outcomes, seats in each state, a campaign."""
    m = FloorMetrics(queues=[QueueSpec("sales", 20.0)], campaigns=[CampaignSpec("demo")],
                     seats=[SeatSpec("1001", "Ann", "red", ("sales",)),
                            SeatSpec("1002", "Bo", None, ("sales", "campaign-demo"))])
    events: list[tuple[str, float, dict[str, Any]]] = [
        ("call.offered", T, {"call": "c1", "caller": "+15551230001"}),
        ("queue.joined", T, {"call": "c1", "queue": "sales", "seat": None, "wait_s": 0.0}),
        ("queue.answered", T + 4, {"call": "c1", "queue": "sales", "seat": "1001", "wait_s": 4.0,
                                   "within_threshold": "true"}),
        ("queue.ended", T + 64, {"call": "c1", "queue": "sales", "seat": "1001", "wait_s": 4.0,
                                 "talk_s": "60.000", "wrap_up_s": "10"}),
        ("queue.joined", T + 70, {"call": "c2", "queue": "sales", "seat": None, "wait_s": 0.0}),
        ("queue.abandoned", T + 100, {"call": "c2", "queue": "sales", "seat": None,
                                      "wait_s": 30.0, "within_threshold": "false"}),
        ("queue.joined", T + 110, {"call": "c3", "queue": "sales", "seat": None, "wait_s": 0.0}),
        ("seat.availability", T, {"seat": "1001", "reachable": True, "busy_elsewhere": False,
                                  "lent_to": None}),
        ("seat.availability", T, {"seat": "1002", "reachable": True, "busy_elsewhere": False,
                                  "lent_to": None}),
        ("seat.state", T + 80, {"seat": "1001", "presence": "paused", "call_state": "idle",
                                "reason": "lunch", "call": None}),
        ("seat.state", T + 80, {"seat": "1002", "presence": "ready", "call_state": "idle",
                                "reason": None, "call": None}),
        ("dialer.dial", T + 90, {"campaign": "demo", "call": "d1", "lead": 1, "mode": "predictive"}),
        ("dialer.dial", T + 91, {"campaign": "demo", "call": "d2", "lead": 2, "mode": "predictive"}),
        ("dialer.connected", T + 95, {"campaign": "demo", "call": "d1", "seat": "1002"}),
        ("dialer.abandoned", T + 96, {"campaign": "demo", "call": "d2"}),
    ]
    for kind, at, payload in events:
        m.apply(kind, at, payload)
    return m


def test_the_board_and_each_view_match_their_schemas() -> None:
    m = busy_floor()
    now = T + 200
    board = m.board(now)
    assert errors(board, load("board.json")) == []
    assert errors(m.queue("sales", now), load("queue-stats.json")) == []
    assert errors(m.seat("1001", now), load("seat-state.json")) == []
    assert errors(m.campaign("demo", now), load("campaign-stats.json")) == []
    # the figures are filled in, not just null
    sales = board["queues"]["sales"]
    assert (sales["waiting"], sales["asa_s"], sales["abandon_rate"]) == (1, 4.0, round(1 / 3, 4))
    assert board["campaigns"]["demo"]["drop_rate_24h"] == 0.5
    alerts = m.alerts(now)
    assert {a["kind"] for a in alerts} == {"longest_wait", "service_level", "drop_rate"}
    for alert in alerts:
        assert errors(alert, load("alert.json")) == []


def test_the_checker_finds_what_breaks_a_schema() -> None:
    seat = busy_floor().seat("1001", T + 200)
    schema = load("seat-state.json")
    assert errors({**seat, "presence": "away"}, schema) == [
        "$.presence: 'away' is not one of ['logged-out', 'ready', 'paused', 'wrap-up']"]
    assert errors({**seat, "calls": -1, "extra": 1}, schema) == [
        "$.calls: -1 < 0", "$: 'extra' is not allowed"]
    broken = {k: v for k, v in seat.items() if k != "since"}
    assert errors(broken, schema) == ["$: 'since' is required"]
    board = busy_floor().board(T)
    board["queues"]["sales"]["sl"]["15m"] = 1.5
    assert errors(board, load("board.json")) == ["$.queues.sales.sl.15m: 1.5 > 1"]


def test_every_schema_is_draft_2020_12_with_a_description() -> None:
    names = sorted(p.name for p in SCHEMAS.glob("*.json"))
    assert names == ["alert.json", "board.json", "campaign-stats.json", "command-move.json",
                     "command-presence.json", "command-reply.json", "queue-stats.json",
                     "seat-state.json"]
    for name in names:
        schema = load(name)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"].endswith(f"/schemas/{name}") and schema["description"]


@pytest.mark.parametrize(("verb", "payload"), [
    ("move", {"target": "queue:sales"}),
    ("move", {"target": "queues:sales,support", "by": "lead:amy", "correlation_id": "r-1"}),
    ("move", {"target": "campaign:spring"}),
    ("presence", {"action": "pause", "reason": "lunch"}),
    ("presence", {"action": "logout", "correlation_id": "x"}),
])
def test_commands_the_parser_takes_match_the_schema(verb: str, payload: dict[str, Any]) -> None:
    parse_command("1001", verb, payload)
    assert errors(payload, load(f"command-{verb}.json")) == []


@pytest.mark.parametrize(("verb", "payload"), [
    ("move", {}),
    ("move", {"target": "sales"}),
    ("move", {"target": "queues:a,"}),
    ("move", {"target": "queue:a", "force": True}),
    ("move", {"target": "queue:a", "correlation_id": "a/b"}),
    ("presence", {"action": "sleep"}),
    ("presence", {"action": "ready", "by": ""}),
])
def test_commands_the_parser_refuses_break_the_schema(verb: str, payload: dict[str, Any]) -> None:
    with pytest.raises(CommandError):
        parse_command("1001", verb, payload)
    assert errors(payload, load(f"command-{verb}.json")) != []


def test_replies_match_the_schema() -> None:
    schema = load("command-reply.json")
    ok = reply_payload("1001", "move", {"correlation_id": "r-1"}, T, result={"queues": ["sales"]})
    bad = reply_payload("1001", "presence", {}, T, error=CommandError("field 'action' is required",
                                                                       "action"))
    failed = reply_payload("1001", "presence", "junk", T, error=LookupError("no seat"))
    for reply in (ok, bad, failed):
        assert errors(reply, schema) == []


def test_the_examples_in_docs_monitor_match_their_schemas() -> None:
    text = (SCHEMAS.parent / "monitor.md").read_text()
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, re.S)]
    kinds = {"waiting": "queue-stats.json", "presence": "seat-state.json", "dials": "campaign-stats.json"}
    checked = []
    for block in blocks:
        [name] = [schema for key, schema in kinds.items() if key in block]
        assert errors(block, load(name)) == [], name
        checked.append(name)
    assert sorted(checked) == sorted(kinds.values())
