"""The floor topic tree's pure parts: coalescing publishes, checking seat commands, replies."""

from __future__ import annotations

from typing import Any

import pytest

from callfloor.bus.floorcommands import (
    CommandError,
    SeatCommand,
    parse_command,
    reply_address,
    reply_payload,
)
from callfloor.bus.floortopics import Coalescer

Q, S = ("queue", "sales"), ("seat", "1001")


def test_a_subject_goes_out_at_once_then_at_most_every_interval() -> None:
    c = Coalescer(0.25)
    c.mark([Q, S])
    assert c.due(100.0) == [Q, S]  # first change: no waiting
    c.mark([Q])
    c.mark([Q])  # changed twice more: one publish, with the latest figures
    assert c.due(100.1) == [] and c.next_deadline() == 100.25
    c.mark([S])
    assert c.due(100.25) == [Q, S]
    assert c.next_deadline() is None and c.pending == 0
    c.mark([Q])
    assert c.due(100.3) == [] and c.due(100.5) == [Q]


def test_flush_sends_everything_pending() -> None:
    c = Coalescer(0.25)
    c.mark([Q])
    c.due(5.0)
    c.mark([Q, S])
    assert c.due(5.1) == [S]
    assert c.flush(5.1) == [Q] and c.pending == 0


@pytest.mark.parametrize(("verb", "payload", "expected"), [
    ("move", {"target": "queue:sales"}, SeatCommand("1001", "move", target="queue:sales")),
    ("move", {"target": "queues:sales,support", "by": "lead:amy", "correlation_id": "r-1"},
     SeatCommand("1001", "move", target="queues:sales,support", by="lead:amy", correlation_id="r-1")),
    ("move", {"target": "campaign:spring"}, SeatCommand("1001", "move", target="campaign:spring")),
    ("presence", {"action": "pause", "reason": "lunch"},
     SeatCommand("1001", "presence", action="pause", reason="lunch")),
    ("presence", {"action": "logout"}, SeatCommand("1001", "presence", action="logout")),
])
def test_good_commands(verb: str, payload: dict[str, Any], expected: SeatCommand) -> None:
    assert parse_command("1001", verb, payload) == expected


@pytest.mark.parametrize(("seat", "verb", "payload", "field", "message"), [
    ("1001", "move", {}, "target", "field 'target' is required"),
    ("1001", "move", {"target": "sales"}, "target", "must be queue:<name>, queues:<a>,<b> or campaign:<id>"),
    ("1001", "move", {"target": "queues:a,"}, "target", "not 'queues:a,'"),
    ("1001", "move", {"target": 7}, "target", "must be a non-empty string"),
    ("1001", "move", {"target": "queue:a", "force": True}, "force", "unknown field 'force' for move"),
    ("1001", "presence", {"action": "sleep"}, "action", "must be one of ready, pause, logout"),
    ("1001", "presence", {"action": "ready", "reason": "x"}, "reason", "only with action pause"),
    ("1001", "presence", {"action": "pause", "correlation_id": "a/b"}, "correlation_id", "must not contain"),
    ("1001", "dance", {}, "command", "unknown command 'dance' (one of move, presence)"),
    ("", "move", {"target": "queue:a"}, "seat", "is not a seat id"),
    ("1001", "move", ["queue:a"], None, "the payload must be a JSON object"),
    ("1001", "move", None, None, "the payload must be a JSON object"),
])
def test_bad_commands_name_the_field(seat: str, verb: str, payload: Any, field: str | None,
                                     message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        parse_command(seat, verb, payload)
    assert err.value.field == field


def test_replies_go_to_the_correlation_id_or_the_seat() -> None:
    assert reply_address("1001", {"correlation_id": "r-9"}) == "r-9"
    assert reply_address("1001", {"correlation_id": "a/b"}) == "1001"
    assert reply_address("1001", "not json") == "1001"
    assert reply_address("", None) is None
    error = CommandError("field 'action' is required", "action")
    assert reply_payload("1001", "presence", {"correlation_id": "r-9"}, 5.0, error=error) == {
        "ok": False, "seat": "1001", "command": "presence", "correlation_id": "r-9", "at": 5.0,
        "error": "field 'action' is required", "field": "action"}
    assert reply_payload("1001", "move", {}, 6.0, result={"queues": ["sales"]}) == {
        "ok": True, "seat": "1001", "command": "move", "correlation_id": None, "at": 6.0,
        "result": {"queues": ["sales"]}}
