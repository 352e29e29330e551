"""``collect``: digits into a variable, ended by the terminator, the maximum length or a pause."""

from __future__ import annotations

from pathlib import Path

from ivr.commands import FlowFinished, Hangup, Play, StopPlayback, StoreVariables
from ivr.events import DigitReceived, PlaybackFinished
from ivr.flow import Flow
from tests.unit.ivr.ladder import Ladder, flow_from


def collect_flow(tmp_path: Path, extra: str = "") -> Flow:
    return flow_from(f"""
        start = "pin"
        [steps.pin]
        verb = "collect"
        variable = "pin"
        min_length = 3
        max_length = 5
        {extra}
        next = "done"
        failure = "failed"
        [steps.done]
        verb = "hangup"
        reason = "done"
        [steps.failed]
        verb = "hangup"
        reason = "failed"
    """, tmp_path)


DONE = [Hangup("done"), FlowFinished("hangup", "done")]
FAILED = [Hangup("failed"), FlowFinished("hangup", "failed")]


def keys(ladder: Ladder, digits: str, gap: float = 0.5) -> list[object]:
    out: list[object] = []
    for digit in digits:
        out += ladder.send(DigitReceived(digit), gap)
    return out


def test_terminator_ends_the_input(tmp_path: Path) -> None:
    ladder = Ladder(collect_flow(tmp_path, 'prompt = "enter_account"'))
    assert ladder.start() == [Play("1:pin", ("enter_account",), True)]
    assert keys(ladder, "12") == [StopPlayback("1:pin")]
    assert ladder.session.get_timer() == ladder.now + 3.0  # inter-digit timeout
    assert keys(ladder, "*3#") == [StoreVariables({"pin": "123"}), *DONE]  # * is ignored


def test_maximum_length_ends_the_input(tmp_path: Path) -> None:
    ladder = Ladder(collect_flow(tmp_path))
    assert ladder.start() == []  # no prompt: the first-key timeout runs at once
    assert ladder.session.get_timer() == ladder.now + 5.0
    assert keys(ladder, "98765") == [StoreVariables({"pin": "98765"}), *DONE]


def test_a_pause_ends_the_input(tmp_path: Path) -> None:
    ladder = Ladder(collect_flow(tmp_path, "inter_digit_timeout = 2"))
    ladder.start()
    keys(ladder, "4711")
    assert ladder.advance(1.9) == []
    assert ladder.advance(0.1) == [StoreVariables({"pin": "4711"}), *DONE]


def test_too_short_and_silence_are_retried_then_fail(tmp_path: Path) -> None:
    extra = 'prompt = "enter_account"\nretries = 1\ninvalid_prompt = "invalid"\nno_input_prompt = "no_input"'
    ladder = Ladder(collect_flow(tmp_path, extra))
    ladder.start()
    assert keys(ladder, "1#") == [StopPlayback("1:pin"), Play("2:pin", ("invalid", "enter_account"), True)]
    ladder.send(PlaybackFinished("2:pin"), 3.0)
    assert ladder.advance(5.0) == FAILED


def test_no_terminator_means_hash_is_ignored(tmp_path: Path) -> None:
    ladder = Ladder(collect_flow(tmp_path, 'terminator = ""'))
    ladder.start()
    assert keys(ladder, "12#3") == []
    assert ladder.advance(3.0) == [StoreVariables({"pin": "123"}), *DONE]


def test_keys_typed_ahead_are_used(tmp_path: Path) -> None:
    flow = flow_from("""
        start = "hello"
        [steps.hello]
        verb = "play"
        prompt = "welcome"
        interruptible = true
        next = "pin"
        [steps.pin]
        verb = "collect"
        prompt = "enter_account"
        variable = "pin"
        max_length = 4
        next = "done"
        [steps.done]
        verb = "hangup"
    """, tmp_path)
    ladder = Ladder(flow)
    ladder.start()
    assert ladder.send(DigitReceived("7"), 0.3) == [StopPlayback("1:hello")]  # no prompt replayed
    assert ladder.session.get_timer() == ladder.now + 3.0  # a key is in: the inter-digit timeout
    assert keys(ladder, "123") == [StoreVariables({"pin": "7123"}), Hangup("normal"),
                                   FlowFinished("hangup", "done")]
