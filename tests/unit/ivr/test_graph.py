"""Graph checks beyond the single-error fixtures: several loops, self-loops, what counts as an end."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flow import Step
from ivr.graph import check_graph
from ivr.loader import FlowError
from ivr.verbs.hangup import HangupParams
from ivr.verbs.play import PlayParams
from ivr.verbs.set import SetParams
from tests.unit.ivr.ladder import flow_from


def play(name: str, nxt: str) -> Step:
    return Step(name, "play", PlayParams(("welcome",)), {"next": nxt})


def test_every_problem_is_reported() -> None:
    steps = {
        "a": play("a", "b"),
        "b": play("b", "a"),
        "c": Step("c", "set", SetParams((("x", "1"),)), {"next": "c"}),
        "d": Step("d", "hangup", HangupParams()),
    }
    assert check_graph(steps, "a") == [
        ("steps.c", "is not reachable from the start step 'a'"),
        ("steps.d", "is not reachable from the start step 'a'"),
        ("steps.a", "loop with no exit (a -> b -> a): no path from it hangs up, reaches a queue or "
                    "a transfer, or ends the flow"),
        ("steps.c", "loop that never waits for the caller (c -> c)"),
    ]


def test_unknown_targets_stop_the_other_checks() -> None:
    steps = {"a": play("a", "nowhere"), "b": play("b", "b")}
    assert check_graph(steps, "start") == [
        ("start", "unknown step 'start'"),
        ("steps.a.next", "goes to unknown step 'nowhere'"),
    ]


def test_a_loop_is_fine_when_one_step_can_leave(tmp_path: Path) -> None:
    flow_from("""
        start = "menu"
        [steps.menu]
        verb = "menu"
        prompt = "menu"
        failure = "menu"
        [steps.menu.options]
        1 = "again"
        2 = "pin"
        [steps.again]
        verb = "play"
        prompt = "invalid"
        next = "menu"
        [steps.pin]
        verb = "collect"
        variable = "pin"
        next = "menu"
    """, tmp_path)  # collect without a failure exit can end the call


def test_a_survey_counts_its_done_exit(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as caught:
        flow_from("""
            start = "rate"
            [steps.rate]
            verb = "survey"
            prompt = "survey"
            next = "hello"
            done = "hello"
            [steps.hello]
            verb = "play"
            prompt = "welcome"
            next = "rate"
        """, tmp_path)
    assert caught.value.problems[0].endswith("steps.rate: loop with no exit (rate -> hello -> rate): "
                                             "no path from it hangs up, reaches a queue or a transfer, "
                                             "or ends the flow")
