"""The interpreter: its state table, timers, late events, duplicate keys, the runaway guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.commands import FlowFinished, Hangup, Play, StopPlayback, StoreVariables
from ivr.context import CallInfo
from ivr.events import CallerHungUp, DigitReceived, PlaybackFinished, SeatHungUp
from ivr.flow import Flow, Step
from ivr.session import (
    MAX_HOPS,
    TRANSITIONS,
    IvrSession,
    SessionError,
    SessionInput,
    SessionState,
)
from ivr.verbs.set import SetParams
from tests.unit.ivr.ladder import Ladder, flow_from

MENU = """
    start = "menu"
    [steps.menu]
    verb = "menu"
    prompt = "menu"
    variable = "key"
    [steps.menu.options]
    1 = "again"
    2 = "again"
    [steps.again]
    verb = "menu"
    prompt = "menu"
    variable = "key2"
    [steps.again.options]
    1 = "bye"
    2 = "bye"
    [steps.bye]
    verb = "hangup"
"""


def test_state_table() -> None:
    S, In = SessionState, SessionInput
    assert TRANSITIONS == {
        (S.IDLE, In.START): S.RUNNING,
        (S.RUNNING, In.BRIDGE): S.BRIDGED,
        (S.BRIDGED, In.RESUME): S.RUNNING,
        (S.RUNNING, In.END): S.FINISHED,
        (S.BRIDGED, In.END): S.FINISHED,
    }


def test_misuse_is_refused(tmp_path: Path) -> None:
    ladder = Ladder(flow_from(MENU, tmp_path))
    with pytest.raises(SessionError, match=r"handle\(\) before start\(\)"):
        ladder.send(DigitReceived("1"))
    ladder.start()
    with pytest.raises(SessionError, match="START in state RUNNING"):
        ladder.start()


def test_variables_start_from_the_call(tmp_path: Path) -> None:
    call = CallInfo("c-9", "+15551234", "+15550100", 50.0, {"lang": "en"})
    session = IvrSession(flow_from(MENU, tmp_path), call, now=50.0)
    assert session.variables == {"lang": "en"} and session.created_at == 50.0
    session.variables["x"] = "1"
    assert call.variables == {"lang": "en"}  # the call's own mapping is not changed
    assert session.state is SessionState.IDLE and session.get_timer() is None


def test_late_and_early_events_do_nothing(tmp_path: Path) -> None:
    ladder = Ladder(flow_from(MENU, tmp_path))
    ladder.start()
    assert ladder.session.handle_timer(ladder.now) == []  # no timer yet
    ladder.send(PlaybackFinished("1:menu"), 3.0)
    assert ladder.session.handle_timer(ladder.now + 1.0) == []  # not due
    assert ladder.send(SeatHungUp(), 0.1) == []  # not bridged
    ladder.send(CallerHungUp(), 1.0)
    assert ladder.session.finished
    assert ladder.send(DigitReceived("1"), 0.1) == []
    assert ladder.session.handle_timer(ladder.now + 100) == []


def test_a_key_heard_in_band_and_as_rfc4733_counts_once(tmp_path: Path) -> None:
    ladder = Ladder(flow_from(MENU, tmp_path))
    ladder.start()
    assert ladder.send(DigitReceived("1", "inband"), 1.0) == [
        StopPlayback("1:menu"), StoreVariables({"key": "1"}), Play("2:again", ("menu",), True),
    ]
    assert ladder.send(DigitReceived("1", "rfc4733"), 0.04) == []  # the same press, by RTP event
    # From now on in-band tones are echoes of telephone-events.
    assert ladder.send(DigitReceived("2", "inband"), 1.0) == []
    assert ladder.send(DigitReceived("2", "info"), 0.05)[:2] == [
        StopPlayback("2:again"), StoreVariables({"key2": "2"}),
    ]


def test_the_same_key_twice_from_one_source_is_two_presses(tmp_path: Path) -> None:
    ladder = Ladder(flow_from(MENU, tmp_path))
    ladder.start()
    ladder.send(DigitReceived("1", "inband"), 1.0)
    assert ladder.send(DigitReceived("1", "inband"), 0.3)[:2] == [
        StopPlayback("2:again"), StoreVariables({"key2": "1"}),
    ]


def test_the_same_key_by_another_path_later_is_a_new_press(tmp_path: Path) -> None:
    ladder = Ladder(flow_from(MENU, tmp_path))
    ladder.start()
    ladder.send(DigitReceived("1", "info"), 1.0)
    assert ladder.send(DigitReceived("1", "rfc4733"), 0.6)[:2] == [
        StopPlayback("2:again"), StoreVariables({"key2": "1"}),
    ]


def test_a_runaway_flow_is_hung_up() -> None:
    # The loader refuses loops that never wait; a hand-built flow shows the guard still holds.
    steps = {
        "a": Step("a", "set", SetParams((("n", "a"),)), {"next": "b"}),
        "b": Step("b", "set", SetParams((("n", "b"),)), {"next": "a"}),
    }
    flow = Flow("runaway", Path("runaway.toml"), "a", steps)
    commands = IvrSession(flow, CallInfo("c", "1", "2", 0.0), now=0.0).start(0.0)
    assert len(commands) == MAX_HOPS + 1 + 2
    assert commands[-2:] == [Hangup("flow loop"), FlowFinished("error", "a")]  # 51 steps entered


def test_flash_and_garbage_are_not_keys_and_letters_are_upper_case(tmp_path: Path) -> None:
    ladder = Ladder(flow_from(MENU.replace('2 = "again"', 'D = "again"'), tmp_path))
    ladder.start()
    for junk in ("!", "12", "", "E"):
        assert ladder.send(DigitReceived(junk), 0.5) == []
    assert ladder.send(DigitReceived("d", "info"), 0.5)[:2] == [
        StopPlayback("1:menu"), StoreVariables({"key": "D"}),
    ]
