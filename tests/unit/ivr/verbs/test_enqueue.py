"""``enqueue``: the queue's outcome decides: answered → bridged, else the matching exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.commands import Enqueue, FlowFinished, Hangup, StoreVariables
from ivr.events import CallerHungUp, DigitReceived, PlaybackFinished, QueueOutcome, SeatHungUp
from ivr.flow import Flow
from ivr.loader import FlowError
from ivr.session import SessionState
from tests.unit.ivr.ladder import Ladder, flow_from

FLOW = """
    start = "queue"
    [steps.queue]
    verb = "enqueue"
    queue = "support"
    priority = 7
    next = "not_answered"
    timeout = "waited_too_long"
    [steps.queue.skills]
    spanish = 40
    [steps.not_answered]
    verb = "hangup"
    reason = "not answered"
    [steps.waited_too_long]
    verb = "hangup"
    reason = "timeout"
"""


def queue_flow(tmp_path: Path) -> Flow:
    return flow_from(FLOW, tmp_path, queues=("support",))


def test_enqueue_carries_priority_skills_and_variables(tmp_path: Path) -> None:
    ladder = Ladder(queue_flow(tmp_path), variables={"lang": "es"})
    assert ladder.start() == [Enqueue("support", 7, {"spanish": 40}, {"lang": "es"})]
    assert ladder.session.get_timer() is None
    assert ladder.send(DigitReceived("1"), 5.0) == []
    assert ladder.send(PlaybackFinished("x"), 5.0) == []


def test_answered_then_the_seat_hangs_up(tmp_path: Path) -> None:
    ladder = Ladder(queue_flow(tmp_path))
    ladder.start()
    assert ladder.send(QueueOutcome("answered", "1004"), 30.0) == [
        StoreVariables({"queue_status": "answered", "seat": "1004"})
    ]
    assert ladder.session.state is SessionState.BRIDGED
    assert ladder.send(SeatHungUp(), 200.0) == [Hangup("seat hung up"), FlowFinished("completed", "queue")]
    assert ladder.session.outcome == "completed"


@pytest.mark.parametrize(
    ("status", "reason", "step"),
    [
        ("timeout", "timeout", "waited_too_long"),
        ("overflow", "not answered", "not_answered"),  # no overflow exit: next
        ("closed", "not answered", "not_answered"),
    ],
)
def test_not_answered(tmp_path: Path, status: str, reason: str, step: str) -> None:
    ladder = Ladder(queue_flow(tmp_path))
    ladder.start()
    assert ladder.send(QueueOutcome(status), 60.0) == [
        StoreVariables({"queue_status": status}), Hangup(reason), FlowFinished("hangup", step),
    ]


def test_caller_gives_up_in_the_queue(tmp_path: Path) -> None:
    ladder = Ladder(queue_flow(tmp_path))
    ladder.start()
    assert ladder.send(CallerHungUp(), 45.0) == [FlowFinished("caller_hangup", "queue")]
    assert ladder.send(QueueOutcome("abandoned"), 0.1) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("spanish = 40", "spanish = 400"), "steps.queue.skills.spanish: must be a level 0..100"),
        (("spanish = 40", '"sp anish" = 4'), "steps.queue.skills.sp anish: is not a name (letters, digits, _)"),
        (("priority = 7", "priority = 101"), "steps.queue.priority: 101 is out of range 0..100"),
    ],
)
def test_bad_steps(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(FlowError) as caught:
        flow_from(FLOW.replace(*change), tmp_path)
    assert caught.value.problems[0].endswith(message)
