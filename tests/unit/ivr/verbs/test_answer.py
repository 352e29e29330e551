"""``answer``."""

from __future__ import annotations

from pathlib import Path

from ivr.commands import Answer, FlowFinished, Hangup
from tests.unit.ivr.ladder import Ladder, flow_from


def test_answer_then_go_on(tmp_path: Path) -> None:
    flow = flow_from("""
        start = "answer"
        [steps.answer]
        verb = "answer"
        next = "bye"
        [steps.bye]
        verb = "hangup"
    """, tmp_path)
    ladder = Ladder(flow)
    assert ladder.start() == [Answer(), Hangup("normal"), FlowFinished("hangup", "bye")]
    assert ladder.session.path == ["answer", "bye"]
