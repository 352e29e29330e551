"""Ladder tests of config/ivr/demo.toml: a caller's way through the demo line, command by command.

Times are wall-clock times in New York (the demo's time zone); Wednesday 2025-11-26 10:00 is
open, 20:00 is closed.
"""

from __future__ import annotations

import pytest

from ivr.commands import (
    Answer,
    ArmSurvey,
    CallbackRequested,
    Enqueue,
    FlowFinished,
    Hangup,
    Play,
    Record,
    StopPlayback,
    StopRecording,
    StoreSurvey,
    StoreVariables,
    Transfer,
)
from ivr.events import (
    CallerHungUp,
    DigitReceived,
    PlaybackFinished,
    QueueOutcome,
    RecordingFinished,
    SeatHungUp,
    TransferOutcome,
)
from ivr.flow import Flow
from ivr.loader import FlowSet, load_flows
from ivr.session import SessionState
from tests.unit.ivr.conftest import QUEUES, SEATS
from tests.unit.ivr.ladder import ROOT, Customers, Ladder, local_time

OPEN = local_time("2025-11-26 10:00")
CLOSED = local_time("2025-11-26 20:00")
ARMED = [Answer(), ArmSurvey("survey"), StoreVariables({"survey": "armed"})]


def at_menu(flow: Flow, **kwargs: object) -> Ladder:
    """A caller who heard the welcome and now hears the menu (token 2:main_menu)."""
    ladder = Ladder(flow, now=OPEN, **kwargs)  # type: ignore[arg-type]
    assert ladder.start() == [*ARMED, Play("1:welcome", ("welcome",), True)]
    assert ladder.send(PlaybackFinished("1:welcome"), 1.9) == [Play("2:main_menu", ("menu",), True)]
    return ladder


def test_the_demo_number_maps_to_the_demo_flow(demo_set: FlowSet) -> None:
    assert demo_set.for_number("+15550100") is demo_set.flows["demo"]
    assert demo_set.for_number("15550100") is demo_set.flows["demo"]
    assert demo_set.for_number("+15550101") is None
    assert len(demo_set.flows["demo"].steps) == 29


def test_caller_presses_2_goes_to_support_and_rates_the_call(demo: Flow) -> None:
    ladder = at_menu(demo)
    assert ladder.send(DigitReceived("2"), 3.0) == [
        StopPlayback("2:main_menu"),
        StoreVariables({"menu_choice": "2"}),
        StoreVariables({"department": "support"}),
        Enqueue("support", 0, {}, {"survey": "armed", "menu_choice": "2", "department": "support"}),
    ]
    assert ladder.session.get_timer() is None
    assert ladder.send(QueueOutcome("answered", "1002"), 40.0) == [
        StoreVariables({"queue_status": "answered", "seat": "1002"})
    ]
    assert ladder.session.state is SessionState.BRIDGED
    assert ladder.send(DigitReceived("5"), 60.0) == []  # keys during the conversation are not ours
    assert ladder.send(SeatHungUp(), 120.0) == [Play("3:survey", ("survey",), True)]
    assert ladder.send(DigitReceived("4"), 2.0) == [
        StopPlayback("3:survey"),
        StoreSurvey(4, 5),
        StoreVariables({"survey_score": "4"}),
        Play("4:survey", ("survey_thanks",), False),
    ]
    assert ladder.send(PlaybackFinished("4:survey"), 1.6) == [
        Hangup("normal"), FlowFinished("completed", "hangup"),
    ]
    assert ladder.session.finished
    assert ladder.session.variables["survey_score"] == "4"
    assert ladder.session.path == [
        "answer", "survey", "hours", "vip_check", "welcome", "main_menu", "support",
        "enqueue_support", "survey", "hangup",
    ]


def test_a_key_during_the_welcome_chooses_at_once(demo: Flow) -> None:
    ladder = Ladder(demo, now=OPEN)
    ladder.start()
    assert ladder.send(DigitReceived("1"), 0.5) == [
        StopPlayback("1:welcome"),
        StoreVariables({"menu_choice": "1"}),
        StoreVariables({"department": "sales"}),
        Enqueue("sales", 0, {}, {"survey": "armed", "menu_choice": "1", "department": "sales"}),
    ]


def test_times_out_twice_then_invalid_prompt_and_hangup(demo: Flow) -> None:
    ladder = at_menu(demo)
    assert ladder.send(PlaybackFinished("2:main_menu"), 12.2) == []
    assert ladder.session.get_timer() == pytest.approx(ladder.now + 5.0)
    assert ladder.advance(4.9) == []
    assert ladder.advance(0.1) == [Play("3:main_menu", ("no_input", "menu"), True)]
    assert ladder.send(PlaybackFinished("3:main_menu"), 14.5) == []
    assert ladder.advance(5.0) == [Play("4:give_up", ("invalid", "goodbye"), False)]
    assert ladder.send(PlaybackFinished("4:give_up"), 4.6) == [
        Hangup("normal"), FlowFinished("hangup", "hangup"),
    ]


def test_a_wrong_key_then_a_right_one(demo: Flow) -> None:
    ladder = at_menu(demo)
    assert ladder.send(DigitReceived("7"), 1.0) == [
        StopPlayback("2:main_menu"), Play("3:main_menu", ("invalid", "menu"), True),
    ]
    assert ladder.send(DigitReceived("1"), 1.0)[:2] == [
        StopPlayback("3:main_menu"), StoreVariables({"menu_choice": "1"}),
    ]


def test_closed_hours_voicemail_kept_when_the_caller_hangs_up(demo: Flow) -> None:
    ladder = Ladder(demo, now=CLOSED)
    assert ladder.start() == [*ARMED, Play("1:closed", ("closed",), True)]
    assert ladder.send(PlaybackFinished("1:closed"), 7.2) == [
        Play("2:message_menu", ("message_menu",), True)
    ]
    assert ladder.send(DigitReceived("1"), 3.0) == [
        StopPlayback("2:message_menu"), Play("3:voicemail", ("voicemail_greeting",), True),
    ]
    assert ladder.send(PlaybackFinished("3:voicemail"), 4.7) == [Record("4:voicemail", 120.0, True)]
    assert ladder.send(CallerHungUp(), 12.5) == [StopRecording("4:voicemail")]
    path = "/var/callfloor/voicemail/call-1.wav"
    commands = ladder.send(RecordingFinished("4:voicemail", path, 12.5), 0.1)
    assert commands[0] == StoreVariables({"voicemail": path})
    assert commands[1].mailbox == "general" and commands[1].seconds == 12.5  # type: ignore[union-attr]
    assert commands[2:] == [FlowFinished("caller_hangup", "voicemail")]


@pytest.mark.parametrize(
    ("when", "opened"),
    [
        ("2025-11-26 08:59", False),
        ("2025-11-26 09:00", True),
        ("2025-11-26 17:59", True),
        ("2025-11-26 18:00", False),
        ("2025-11-29 11:00", True),  # Saturday 10-14
        ("2025-11-29 15:00", False),
        ("2025-11-30 11:00", False),  # Sunday
        ("2025-12-25 11:00", False),  # holiday
        ("2025-12-24 12:00", True),  # short day 09-13
        ("2025-12-24 14:00", False),
        ("2026-03-09 09:30", True),  # the Monday after DST began
    ],
)
def test_hours_branch(demo: Flow, when: str, opened: bool) -> None:
    first = Ladder(demo, now=local_time(when)).start()[-1]
    assert first == (Play("1:welcome", ("welcome",), True) if opened
                     else Play("1:closed", ("closed",), True))


@pytest.mark.parametrize("caller", ["+15550199", "15550199", "+15557770042"])
def test_vip_caller_goes_to_the_vip_queue(demo: Flow, caller: str) -> None:
    ladder = Ladder(demo, now=OPEN, caller=caller)
    assert ladder.start() == [
        *ARMED, StoreVariables({"caller_tier": "vip"}), Play("1:vip_greeting", ("vip_welcome",), False),
    ]
    assert ladder.send(PlaybackFinished("1:vip_greeting"), 3.7) == [
        StoreVariables({"department": "vip"}),
        Enqueue("vip", 10, {}, {"survey": "armed", "caller_tier": "vip", "department": "vip"}),
    ]
    # Nobody free on the VIP line: the caller goes on to the support queue.
    assert ladder.send(QueueOutcome("timeout"), 90.0) == [
        StoreVariables({"queue_status": "timeout"}),
        Enqueue("support", 0, {}, {"survey": "armed", "caller_tier": "vip", "department": "vip",
                                   "queue_status": "timeout"}),
    ]


def test_gold_customer_from_the_customer_table_is_a_vip(demo: Flow) -> None:
    customers = Customers({"+15551234": "gold"})
    ladder = Ladder(demo, now=OPEN, customers=customers)
    assert ladder.start()[-2:] == [
        StoreVariables({"caller_tier": "gold"}), Play("1:vip_greeting", ("vip_welcome",), False),
    ]
    assert customers.asked == ["+15551234"]


def test_vip_line_refuses_a_caller_who_is_not_vip(demo: Flow) -> None:
    ladder = Ladder(demo, now=OPEN, customers=Customers({"+15551234": "bronze"}))
    assert ladder.start() == [
        *ARMED, StoreVariables({"caller_tier": "bronze"}), Play("1:welcome", ("welcome",), True),
    ]
    ladder.send(PlaybackFinished("1:welcome"), 1.9)
    assert ladder.send(DigitReceived("9"), 2.0) == [
        StopPlayback("2:main_menu"),
        StoreVariables({"menu_choice": "9"}),
        StoreVariables({"caller_tier": "bronze"}),
        Play("3:vip_only", ("vip_only",), False),
    ]
    assert ladder.send(PlaybackFinished("3:vip_only"), 3.3) == [Play("4:main_menu", ("menu",), True)]


def test_account_number_is_read_back_then_support(demo: Flow) -> None:
    ladder = at_menu(demo)
    assert ladder.send(DigitReceived("3"), 1.0) == [
        StopPlayback("2:main_menu"), StoreVariables({"menu_choice": "3"}),
        Play("3:account", ("enter_account",), True),
    ]
    assert ladder.send(DigitReceived("9"), 1.0) == [StopPlayback("3:account")]
    for key in "071":
        assert ladder.send(DigitReceived(key), 0.4) == []
    assert ladder.send(DigitReceived("#"), 0.4) == [
        StoreVariables({"account": "9071"}),
        Play("4:readback", ("you_entered", "digits/9", "digits/0", "digits/7", "digits/1"), False),
    ]
    commands = ladder.send(PlaybackFinished("4:readback"), 3.0)
    assert commands[-1] == Enqueue("support", 0, {}, {
        "survey": "armed", "menu_choice": "3", "account": "9071", "department": "support",
    })


def test_account_number_too_short_is_asked_again_then_back_to_the_menu(demo: Flow) -> None:
    ladder = at_menu(demo)
    ladder.send(DigitReceived("3"), 1.0)
    ladder.send(PlaybackFinished("3:account"), 3.7)
    ladder.send(DigitReceived("1"), 1.0)
    assert ladder.advance(3.0) == [Play("4:account", ("invalid", "enter_account"), True)]
    ladder.send(PlaybackFinished("4:account"), 5.0)
    assert ladder.advance(6.0) == [Play("5:main_menu", ("menu",), True)]


def test_operator_busy_plays_unavailable_then_the_menu(demo: Flow) -> None:
    ladder = at_menu(demo)
    commands = ladder.send(DigitReceived("0"), 1.0)
    assert commands[-1] == Transfer("seat", "1001", {"survey": "armed", "menu_choice": "0"})
    assert ladder.send(TransferOutcome("busy"), 20.0) == [
        StoreVariables({"transfer_status": "busy"}), Play("3:operator_away", ("unavailable",), False),
    ]


def test_queue_timeout_then_a_callback_on_another_number(demo: Flow) -> None:
    ladder = at_menu(demo)
    ladder.send(DigitReceived("1"), 1.0)
    assert ladder.send(QueueOutcome("overflow"), 30.0) == [
        StoreVariables({"queue_status": "overflow"}), Play("3:all_busy", ("all_busy",), False),
    ]
    assert ladder.send(PlaybackFinished("3:all_busy"), 2.4) == [
        Play("4:message_menu", ("message_menu",), True)
    ]
    assert ladder.send(DigitReceived("3"), 4.0) == [
        StopPlayback("4:message_menu"), Play("5:callback_number", ("enter_number",), True),
    ]
    ladder.send(PlaybackFinished("5:callback_number"), 4.0)
    for key in "5557654321":
        assert ladder.send(DigitReceived(key), 0.3) == []
    commands = ladder.send(DigitReceived("#"), 0.3)
    assert commands[:2] == [
        StoreVariables({"callback_entered": "5557654321"}),
        StoreVariables({"callback_number": "5557654321"}),
    ]
    assert isinstance(commands[2], CallbackRequested) and commands[2].number == "5557654321"
    assert commands[3] == Play("6:callback_other", ("callback_confirm",), False)
    assert ladder.send(PlaybackFinished("6:callback_other"), 3.5) == [Play("7:goodbye", ("goodbye",), False)]
    assert ladder.send(PlaybackFinished("7:goodbye"), 2.4) == [
        Hangup("normal"), FlowFinished("hangup", "hangup"),
    ]


def test_callback_on_the_callers_number_after_hours(demo: Flow) -> None:
    ladder = Ladder(demo, now=CLOSED, caller="+1 555 010 7777")
    ladder.start()
    ladder.send(PlaybackFinished("1:closed"), 7.2)
    commands = ladder.send(DigitReceived("2"), 1.0)
    assert commands[:3] == [
        StopPlayback("2:message_menu"),
        StoreVariables({"callback_number": "+15550107777"}),
        CallbackRequested("+15550107777", {"survey": "armed", "callback_number": "+15550107777"}),
    ]


def test_anonymous_caller_is_asked_for_a_callback_number(demo: Flow) -> None:
    ladder = Ladder(demo, now=CLOSED, caller="anonymous")
    ladder.start()
    ladder.send(PlaybackFinished("1:closed"), 7.2)
    assert ladder.send(DigitReceived("2"), 1.0) == [
        StopPlayback("2:message_menu"), Play("3:callback_number", ("enter_number",), True),
    ]


def test_survey_without_an_answer_stores_no_score(demo: Flow) -> None:
    ladder = at_menu(demo)
    ladder.send(DigitReceived("2"), 1.0)
    ladder.send(QueueOutcome("answered", "1003"), 10.0)
    assert ladder.send(SeatHungUp(), 100.0) == [Play("3:survey", ("survey",), True)]
    ladder.send(PlaybackFinished("3:survey"), 4.8)
    assert ladder.advance(8.0) == [Play("4:survey", ("survey",), True)]
    ladder.send(PlaybackFinished("4:survey"), 4.8)
    assert ladder.advance(8.0) == [Hangup("normal"), FlowFinished("completed", "hangup")]
    assert "survey_score" not in ladder.session.variables


def test_caller_hangs_up_during_the_conversation(demo: Flow) -> None:
    ladder = at_menu(demo)
    ladder.send(DigitReceived("2"), 1.0)
    ladder.send(QueueOutcome("answered", "1003"), 10.0)
    assert ladder.send(CallerHungUp(), 100.0) == [FlowFinished("completed", "enqueue_support")]
    assert ladder.send(SeatHungUp(), 0.1) == []


def test_caller_hangs_up_in_the_menu(demo: Flow) -> None:
    ladder = at_menu(demo)
    assert ladder.send(CallerHungUp(), 3.0) == [FlowFinished("caller_hangup", "main_menu")]
    assert ladder.session.get_timer() is None
    assert ladder.send(PlaybackFinished("2:main_menu"), 0.1) == []


def test_shipped_demo_is_open_around_the_clock() -> None:
    flows = load_flows(ROOT / "config" / "ivr", queues=QUEUES, seats=SEATS)
    assert 'weekly = ["mon-sun 00:00-24:00"]' in (ROOT / "config" / "ivr" / "demo.toml").read_text()
    assert list(flows.flows) == ["demo"]
