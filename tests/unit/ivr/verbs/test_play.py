"""``play``: prompts back to back; an interruptible playback is cut by a key kept for later."""

from __future__ import annotations

from pathlib import Path

from ivr.commands import FlowFinished, Hangup, Play, StopPlayback, StoreVariables
from ivr.events import DigitReceived, PlaybackFinished
from ivr.flow import Flow
from tests.unit.ivr.ladder import Ladder, flow_from


def play_flow(tmp_path: Path, interruptible: bool) -> Flow:
    return flow_from(f"""
        start = "hello"
        [steps.hello]
        verb = "play"
        prompt = ["welcome", "connecting"]
        interruptible = {str(interruptible).lower()}
        next = "menu"
        [steps.menu]
        verb = "menu"
        prompt = "menu"
        variable = "choice"
        failure = "bye"
        [steps.menu.options]
        4 = "bye"
        [steps.bye]
        verb = "hangup"
    """, tmp_path)


def test_plays_then_goes_on(tmp_path: Path) -> None:
    ladder = Ladder(play_flow(tmp_path, interruptible=False))
    assert ladder.start() == [Play("1:hello", ("welcome", "connecting"), False)]
    assert ladder.send(DigitReceived("4"), 1.0) == []  # not interruptible: the key is dropped
    assert ladder.send(PlaybackFinished("0:elsewhere"), 1.0) == []  # not ours
    assert ladder.send(PlaybackFinished("1:hello"), 1.0) == [Play("2:menu", ("menu",), True)]


def test_a_key_interrupts_and_the_next_menu_uses_it(tmp_path: Path) -> None:
    ladder = Ladder(play_flow(tmp_path, interruptible=True))
    ladder.start()
    assert ladder.send(DigitReceived("4"), 0.5) == [
        StopPlayback("1:hello"),
        StoreVariables({"choice": "4"}),
        Hangup("normal"),
        FlowFinished("hangup", "bye"),
    ]
    assert ladder.session.path == ["hello", "menu", "bye"]
