"""``menu``: one key chooses; wrong keys and silence replay the prompt until attempts run out."""

from __future__ import annotations

from pathlib import Path

from ivr.commands import FlowFinished, Hangup, Play, StopPlayback, StoreVariables
from ivr.events import DigitReceived, PlaybackFinished
from ivr.flow import Flow
from tests.unit.ivr.ladder import Ladder, flow_from


def menu_flow(tmp_path: Path, extra: str = "", failure: bool = True) -> Flow:
    """A menu: 1, # and D lead to "one"; with ``failure`` its failure exit leads to "failed"."""
    failed = 'failure = "failed"' if failure else ""
    failed_step = '[steps.failed]\nverb = "hangup"\nreason = "failed"' if failure else ""
    return flow_from(f"""
start = "menu"
[steps.menu]
verb = "menu"
prompt = "menu"
timeout = 4
{extra}
{failed}
[steps.menu.options]
1 = "one"
"#" = "one"
D = "one"
[steps.one]
verb = "hangup"
reason = "one"
{failed_step}
""", tmp_path)


def test_the_timeout_starts_when_the_prompt_ends(tmp_path: Path) -> None:
    ladder = Ladder(menu_flow(tmp_path))
    assert ladder.start() == [Play("1:menu", ("menu",), True)]
    assert ladder.session.get_timer() is None
    assert ladder.send(PlaybackFinished("1:menu"), 12.0) == []
    assert ladder.session.get_timer() == ladder.now + 4.0
    assert ladder.session.handle_timer(ladder.now + 3.9) == []  # early: nothing happens
    assert ladder.send(DigitReceived("#"), 3.0) == [Hangup("one"), FlowFinished("hangup", "one")]


def test_keys_a_to_d_and_hash_are_options_too(tmp_path: Path) -> None:
    ladder = Ladder(menu_flow(tmp_path))
    ladder.start()
    assert ladder.send(DigitReceived("D"), 1.0) == [
        StopPlayback("1:menu"), Hangup("one"), FlowFinished("hangup", "one"),
    ]


def test_default_two_retries_then_failure(tmp_path: Path) -> None:
    ladder = Ladder(menu_flow(tmp_path))
    ladder.start()
    ladder.send(PlaybackFinished("1:menu"), 10.0)
    assert ladder.advance(4.0) == [Play("2:menu", ("menu",), True)]  # no no_input prompt
    assert ladder.send(DigitReceived("9"), 1.0) == [StopPlayback("2:menu"), Play("3:menu", ("menu",), True)]
    ladder.send(PlaybackFinished("3:menu"), 10.0)
    assert ladder.advance(4.0) == [Hangup("failed"), FlowFinished("hangup", "failed")]


def test_no_retries_and_prompts_for_errors(tmp_path: Path) -> None:
    extra = 'retries = 1\ninvalid_prompt = "invalid"\nno_input_prompt = "no_input"\nvariable = "pick"'
    ladder = Ladder(menu_flow(tmp_path, extra))
    ladder.start()
    assert ladder.send(DigitReceived("5"), 1.0) == [
        StopPlayback("1:menu"), Play("2:menu", ("invalid", "menu"), True),
    ]
    assert ladder.send(PlaybackFinished("1:menu"), 0.1) == []  # the stopped prompt's late end
    assert ladder.session.get_timer() is None
    assert ladder.send(DigitReceived("1"), 1.0) == [
        StopPlayback("2:menu"), StoreVariables({"pick": "1"}), Hangup("one"), FlowFinished("hangup", "one"),
    ]
    ladder = Ladder(menu_flow(tmp_path, 'retries = 0\nno_input_prompt = "no_input"'))
    ladder.start()
    ladder.send(PlaybackFinished("1:menu"), 10.0)
    assert ladder.advance(4.0) == [Hangup("failed"), FlowFinished("hangup", "failed")]


def test_without_a_failure_exit_the_call_ends(tmp_path: Path) -> None:
    ladder = Ladder(menu_flow(tmp_path, "retries = 0", failure=False))
    ladder.start()
    assert ladder.send(DigitReceived("7"), 1.0) == [
        StopPlayback("1:menu"), Hangup("end of flow"), FlowFinished("hangup", "menu"),
    ]
