"""``say_number``: a value spoken as one number."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.commands import FlowFinished, Hangup, Play
from tests.unit.ivr.ladder import Ladder, flow_from


@pytest.mark.parametrize(
    ("value", "spoken"),
    [
        ("215", ("digits/2", "digits/hundred", "digits/15")),
        (" 42 ", ("digits/40", "digits/2")),
        ("0", ("digits/0",)),
    ],
)
def test_says_the_number(tmp_path: Path, value: str, spoken: tuple[str, ...]) -> None:
    flow = flow_from("""
        start = "say"
        [steps.say]
        verb = "say_number"
        value = "{position}"
        before = "queue_position"
        next = "bye"
        [steps.bye]
        verb = "hangup"
    """, tmp_path)
    ladder = Ladder(flow, variables={"position": value})
    assert ladder.start() == [Play("1:say", ("queue_position", *spoken), False)]


@pytest.mark.parametrize("value", ["", "abc", "-3", "1234567890", "4.5"])
def test_not_a_number_says_nothing(tmp_path: Path, value: str) -> None:
    flow = flow_from("""
        start = "say"
        [steps.say]
        verb = "say_number"
        value = "{position}"
        next = "bye"
        [steps.bye]
        verb = "hangup"
    """, tmp_path)
    ladder = Ladder(flow, variables={"position": value})
    assert ladder.start() == [Hangup("normal"), FlowFinished("hangup", "bye")]
