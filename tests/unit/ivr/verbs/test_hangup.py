"""``hangup``."""

from __future__ import annotations

from pathlib import Path

from ivr.commands import FlowFinished, Hangup
from ivr.events import DigitReceived
from tests.unit.ivr.ladder import Ladder, flow_from


def test_hangup_with_a_reason_ends_the_flow(tmp_path: Path) -> None:
    flow = flow_from("""
        start = "bye"
        [steps.bye]
        verb = "hangup"
        reason = "after hours"
    """, tmp_path)
    ladder = Ladder(flow)
    assert ladder.start() == [Hangup("after hours"), FlowFinished("hangup", "bye")]
    assert ladder.session.finished and ladder.session.outcome == "hangup"
    assert ladder.session.get_timer() is None
    assert ladder.send(DigitReceived("1")) == []
