"""``say_digits``: a value read digit by digit from the digit prompts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from ivr.commands import FlowFinished, Hangup, Play, StopPlayback
from ivr.events import DigitReceived, PlaybackFinished
from ivr.flow import Flow
from ivr.loader import FlowError, load_flow
from tests.unit.ivr.ladder import Ladder, flow_from


def say_flow(tmp_path: Path, value: str) -> Flow:
    return flow_from(f"""
        start = "say"
        [steps.say]
        verb = "say_digits"
        value = "{value}"
        before = "you_entered"
        after = ["goodbye"]
        interruptible = true
        next = "bye"
        [steps.bye]
        verb = "hangup"
    """, tmp_path)


def test_reads_a_variable_digit_by_digit(tmp_path: Path) -> None:
    ladder = Ladder(say_flow(tmp_path, "{account}"), variables={"account": "40-7"})
    assert ladder.start() == [
        Play("1:say", ("you_entered", "digits/4", "digits/0", "digits/7", "goodbye"), True)
    ]
    assert ladder.send(PlaybackFinished("1:say"), 3.0) == [Hangup("normal"), FlowFinished("hangup", "bye")]


def test_reads_the_callers_number_and_can_be_interrupted(tmp_path: Path) -> None:
    ladder = Ladder(say_flow(tmp_path, "{caller}"), caller="+44 20")
    assert ladder.start() == [
        Play("1:say", ("you_entered", "digits/4", "digits/4", "digits/2", "digits/0", "goodbye"), True)
    ]
    assert ladder.send(DigitReceived("#"))[0] == StopPlayback("1:say")


def test_nothing_to_say_goes_straight_on(tmp_path: Path) -> None:
    ladder = Ladder(say_flow(tmp_path, "{missing}"))
    assert ladder.start() == [Hangup("normal"), FlowFinished("hangup", "bye")]


def test_the_digit_prompts_must_exist(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    soundfile.write(prompts / "hello.wav", np.zeros(80), 8000)
    (tmp_path / "flow.toml").write_text(
        'start = "say"\n[steps.say]\nverb = "say_digits"\nvalue = "{caller}"\nnext = "bye"\n'
        '[steps.bye]\nverb = "hangup"\n'
    )
    with pytest.raises(FlowError) as caught:
        load_flow(tmp_path / "flow.toml")
    names = ", ".join(f"'digits/{d}'" for d in range(10))
    assert caught.value.problems == (
        f"{tmp_path}/flow.toml: steps.say.verb: prompts {names} not found in {prompts}",
    )
