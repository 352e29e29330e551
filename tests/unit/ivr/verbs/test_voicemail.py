"""``voicemail``: greeting, beep, recording, message; hanging up still keeps the message."""

from __future__ import annotations

from pathlib import Path

from ivr.commands import (
    FlowFinished,
    Hangup,
    Play,
    Record,
    StopPlayback,
    StopRecording,
    StoreVariables,
    VoicemailLeft,
)
from ivr.events import CallerHungUp, DigitReceived, PlaybackFinished, RecordingFinished
from ivr.flow import Flow
from tests.unit.ivr.ladder import Ladder, flow_from

WAV = "/var/vm/call-1.wav"


def vm_flow(tmp_path: Path, extra: str = 'prompt = "voicemail_greeting"', tail: bool = True) -> Flow:
    nxt = 'next = "bye"\n[steps.bye]\nverb = "hangup"\nreason = "after message"' if tail else ""
    return flow_from(f"""
start = "vm"
[steps.vm]
verb = "voicemail"
mailbox = "sales"
max_seconds = 90
{extra}
{nxt}
""", tmp_path)


def test_greeting_record_and_hash_to_finish(tmp_path: Path) -> None:
    ladder = Ladder(vm_flow(tmp_path), variables={"department": "sales"})
    assert ladder.start() == [Play("1:vm", ("voicemail_greeting",), True)]
    assert ladder.send(PlaybackFinished("1:vm"), 4.7) == [Record("2:vm", 90.0, True)]
    assert ladder.send(DigitReceived("5"), 3.0) == []
    assert ladder.send(DigitReceived("#"), 10.0) == [StopRecording("2:vm")]
    assert ladder.send(RecordingFinished("1:vm", "/elsewhere.wav", 3.0), 0.1) == []  # not ours
    assert ladder.send(RecordingFinished("2:vm", WAV, 13.2), 0.1) == [
        StoreVariables({"voicemail": WAV}),
        VoicemailLeft("sales", WAV, 13.2, {"department": "sales", "voicemail": WAV}),
        Hangup("after message"),
        FlowFinished("hangup", "bye"),
    ]


def test_a_key_skips_the_greeting(tmp_path: Path) -> None:
    ladder = Ladder(vm_flow(tmp_path))
    ladder.start()
    assert ladder.send(DigitReceived("#"), 1.0) == [StopPlayback("1:vm"), Record("2:vm", 90.0, True)]


def test_no_greeting_no_beep_and_too_short(tmp_path: Path) -> None:
    ladder = Ladder(vm_flow(tmp_path, "beep = false\nmin_seconds = 2"))
    assert ladder.start() == [Record("1:vm", 90.0, False)]
    assert ladder.send(RecordingFinished("1:vm", WAV, 1.5), 1.5) == [
        StoreVariables({"voicemail": "too_short"}), Hangup("after message"), FlowFinished("hangup", "bye"),
    ]


def test_no_terminator_and_no_next(tmp_path: Path) -> None:
    ladder = Ladder(vm_flow(tmp_path, 'terminator = ""', tail=False))
    ladder.start()
    assert ladder.send(DigitReceived("#"), 1.0) == []
    assert ladder.send(RecordingFinished("1:vm", WAV, 90.0), 90.0)[-2:] == [
        Hangup("end of flow"), FlowFinished("hangup", "vm"),
    ]


def test_hanging_up_keeps_the_message(tmp_path: Path) -> None:
    ladder = Ladder(vm_flow(tmp_path))
    ladder.start()
    ladder.send(PlaybackFinished("1:vm"), 4.7)
    assert ladder.send(CallerHungUp(), 20.0) == [StopRecording("2:vm")]
    assert not ladder.session.finished
    assert ladder.send(RecordingFinished("2:vm", WAV, 20.0), 0.2) == [
        StoreVariables({"voicemail": WAV}),
        VoicemailLeft("sales", WAV, 20.0, {"voicemail": WAV}),
        FlowFinished("caller_hangup", "vm"),  # no Hangup: the caller is gone
    ]


def test_hanging_up_during_the_greeting_ends_at_once(tmp_path: Path) -> None:
    ladder = Ladder(vm_flow(tmp_path))
    ladder.start()
    assert ladder.send(CallerHungUp(), 2.0) == [FlowFinished("caller_hangup", "vm")]
