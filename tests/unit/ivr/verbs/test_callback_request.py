"""``callback_request``: a usable number becomes a callback task."""

from __future__ import annotations

from pathlib import Path

from ivr.commands import CallbackRequested, FlowFinished, Hangup, Play, StoreVariables
from ivr.events import PlaybackFinished
from tests.unit.ivr.ladder import Ladder, flow_from

FLOW = """
    start = "cb"
    [steps.cb]
    verb = "callback_request"
    {extra}
"""


def test_the_callers_number_with_a_confirmation(tmp_path: Path) -> None:
    flow = flow_from(FLOW.format(extra='prompt = "callback_confirm"\nnext = "bye"\n[steps.bye]\nverb = "hangup"'),
                     tmp_path)
    ladder = Ladder(flow, caller="+1 (555) 010-7777")
    assert ladder.start() == [
        StoreVariables({"callback_number": "+15550107777"}),
        CallbackRequested("+15550107777", {"callback_number": "+15550107777"}),
        Play("1:cb", ("callback_confirm",), False),
    ]
    assert ladder.send(PlaybackFinished("1:cb"), 3.5) == [Hangup("normal"), FlowFinished("hangup", "bye")]


def test_another_number_without_prompt_or_next(tmp_path: Path) -> None:
    flow = flow_from(FLOW.format(extra='number = "00{entered}"'), tmp_path)
    ladder = Ladder(flow, variables={"entered": "4930123"})
    assert ladder.start() == [
        StoreVariables({"callback_number": "004930123"}),
        CallbackRequested("004930123", {"entered": "4930123", "callback_number": "004930123"}),
        Hangup("end of flow"),
        FlowFinished("hangup", "cb"),
    ]


def test_an_unusable_number_takes_the_failed_exit(tmp_path: Path) -> None:
    flow = flow_from(FLOW.format(extra='failed = "sorry"\n[steps.sorry]\nverb = "hangup"\nreason = "no number"'),
                     tmp_path)
    for caller in ("anonymous", "12", "+1234567890123456"):
        ladder = Ladder(flow, caller=caller)
        assert ladder.start() == [Hangup("no number"), FlowFinished("hangup", "sorry")], caller
