"""``survey``: armed on the way in, run when the seat hangs up."""

from __future__ import annotations

from pathlib import Path

from ivr.commands import (
    ArmSurvey,
    Enqueue,
    FlowFinished,
    Hangup,
    Play,
    StopPlayback,
    StoreSurvey,
    StoreVariables,
)
from ivr.events import CallerHungUp, DigitReceived, PlaybackFinished, QueueOutcome, SeatHungUp
from ivr.flow import Flow
from ivr.session import SessionState
from tests.unit.ivr.ladder import Ladder, flow_from


def survey_flow(tmp_path: Path, extra: str = "", done: bool = True) -> Flow:
    tail = 'done = "thanks"\n[steps.thanks]\nverb = "hangup"\nreason = "rated"' if done else ""
    return flow_from(f"""
start = "rate"
[steps.rate]
verb = "survey"
prompt = "survey"
scale = 3
retries = 1
{extra}
next = "queue"
{tail}
[steps.queue]
verb = "enqueue"
queue = "support"
next = "bye"
[steps.bye]
verb = "hangup"
""", tmp_path)


def bridged(flow: Flow) -> Ladder:
    ladder = Ladder(flow)
    assert ladder.start() == [
        ArmSurvey("rate"), StoreVariables({"survey": "armed"}), Enqueue("support", 0, {}, {"survey": "armed"}),
    ]
    ladder.send(DigitReceived("1"), 1.0)  # a key before the bridge is not an answer to the survey
    ladder.send(QueueOutcome("answered", "1001"), 20.0)
    assert ladder.session.state is SessionState.BRIDGED
    return ladder


def test_score_without_thanks_prompt(tmp_path: Path) -> None:
    ladder = bridged(survey_flow(tmp_path))
    assert ladder.send(SeatHungUp(), 90.0) == [Play("1:rate", ("survey",), True)]
    assert ladder.session.state is SessionState.RUNNING
    assert ladder.send(DigitReceived("3"), 2.0) == [
        StopPlayback("1:rate"), StoreSurvey(3, 3), StoreVariables({"survey_score": "3"}),
        Hangup("rated"), FlowFinished("completed", "thanks"),
    ]


def test_a_key_outside_the_scale_is_asked_again(tmp_path: Path) -> None:
    ladder = bridged(survey_flow(tmp_path, 'invalid_prompt = "invalid"\nthanks_prompt = "survey_thanks"'))
    ladder.send(SeatHungUp(), 90.0)
    ladder.send(PlaybackFinished("1:rate"), 4.7)
    assert ladder.send(DigitReceived("4"), 2.0) == [Play("2:rate", ("invalid", "survey"), True)]
    assert ladder.send(DigitReceived("0"), 1.0) == [StopPlayback("2:rate"), Hangup("rated"),
                                                    FlowFinished("completed", "thanks")]


def test_thanks_prompt_then_done_and_no_done_exit_hangs_up(tmp_path: Path) -> None:
    ladder = bridged(survey_flow(tmp_path, 'thanks_prompt = "survey_thanks"', done=False))
    ladder.send(SeatHungUp(), 90.0)
    assert ladder.send(DigitReceived("2"), 2.0) == [
        StopPlayback("1:rate"), StoreSurvey(2, 3), StoreVariables({"survey_score": "2"}),
        Play("2:rate", ("survey_thanks",), False),
    ]
    assert ladder.send(DigitReceived("3"), 0.5) == []  # thanks is not interruptible, score is in
    assert ladder.send(PlaybackFinished("2:rate"), 1.6) == [
        Hangup("end of flow"), FlowFinished("completed", "rate"),
    ]


def test_caller_hangs_up_instead_of_rating(tmp_path: Path) -> None:
    ladder = bridged(survey_flow(tmp_path))
    ladder.send(SeatHungUp(), 90.0)
    assert ladder.send(CallerHungUp(), 1.0) == [FlowFinished("completed", "rate")]
    assert "survey_score" not in ladder.session.variables
