"""When to leave a message on a machine: after its beep, or after the silence that ends its
greeting; synthetic greetings with exact cue times, and the committed clips."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from dialer.amd import AmdDetector
from dialer.amd_cue import BEEP, SILENCE, TIMEOUT, MessageCue
from tests.unit.dialer.test_amd import CLIPS, noise, pcm, silence, sine, syllables

Pcm = npt.NDArray[np.int16]


def cue_of(audio: Pcm, chunk: int = 160, max_time: float = 30.0) -> MessageCue:
    cue = MessageCue(max_time=max_time)
    for start in range(0, len(audio), chunk):
        if cue.feed(audio[start : start + chunk]) is not None:
            break
    return cue


@pytest.mark.parametrize("chunk", [160, 8000])
def test_the_end_of_the_beep_is_the_cue(chunk: int) -> None:
    cue = cue_of(pcm(syllables(2.0), silence(0.4), sine(1000.0, 0.5), silence(3.0)), chunk)
    assert cue.cue == BEEP
    assert cue.detail["beep_at"] == pytest.approx(2.4)
    assert cue.detail["cue_at"] == pytest.approx(2.9)
    assert cue.detail["beep_hz"] == pytest.approx(1000.0, abs=2.0)


def test_a_greeting_without_a_beep_ends_in_silence() -> None:
    cue = cue_of(pcm(syllables(2.5), noise(3.0, -66.0)))
    assert cue.cue == SILENCE and cue.detail["cue_at"] == pytest.approx(3.5)
    assert cue.detail["beep_at"] == -1.0


def test_pauses_inside_a_greeting_are_not_its_end() -> None:
    greeting = pcm(syllables(1.0), silence(0.6), syllables(1.0, dbfs=-22.0), silence(2.0))
    cue = cue_of(greeting)
    # 1 s of silence after the second phrase (whose last, faintest frame is not speech).
    assert cue.cue == SILENCE and cue.detail["cue_at"] == pytest.approx(3.6, abs=0.021)


def test_a_greeting_that_never_ends_times_out() -> None:
    cue = cue_of(pcm(syllables(3.0)), max_time=2.0)
    assert cue.cue is None and cue.done and cue.finish() == TIMEOUT
    assert cue.detail == {"audio": 2.0, "cue_at": 2.0, "beep_at": -1.0, "beep_hz": 0.0}


def test_after_the_detector_a_clip_s_beep_is_found() -> None:
    data, _ = soundfile.read(str(CLIPS / "m_greeting_en.flac"), dtype="int16")
    audio = np.asarray(data, dtype=np.int16)
    detector = AmdDetector()
    at = 0
    while detector.feed(audio[at : at + 160]) is None:
        at += 160
    assert detector.verdict == "machine"
    cue = cue_of(audio[at + 160 :])
    assert cue.cue == BEEP
    # The beep is the last sound of the clip: 0.3 s long, then 1 s of line noise.
    assert (at + 160) / 8000 + cue.detail["cue_at"] == pytest.approx(len(audio) / 8000 - 1.0, abs=0.05)
