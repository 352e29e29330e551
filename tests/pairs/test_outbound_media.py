"""The media side of a dialled call, over real UDP on 127.0.0.1: the customer's audio is fed to an
audio classifier (the answering-machine tap) while hosted, the verdict comes back as an event
once (by the classifier, at ``max_seconds`` of audio, or by the clock), and a call recorded while
hosted keeps the customer on the left channel and the prompt it heard on the right."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from recordings.wav import read_stereo
from telephony.calls.commands import AudioClassified, MediaEvent, SetMediaPeer, Side
from telephony.net.analysis import Analysis, AudioClassifier, ClassifierFactory
from telephony.net.relay import MediaRelay
from telephony.rtp.tone import tone, tone_power_db
from tests.integration.harness import free_port
from tests.pairs.test_hosting import Caller

RATE = 8000
PROMPTS = {"abandon": tone(1000.0, 0.6, RATE)}


class EnergyClassifier:
    """A tiny real classifier: "machine" after more than 2 s of loud audio (a recorded
    greeting); at the end, "human" if anybody spoke at all, else "silence"."""

    def __init__(self, token: str = "amd") -> None:
        self.token = token  # what the analysis listens for; this one knows one thing only
        self.voiced = 0
        self.detail: dict[str, float] = {"voiced_s": 0.0}

    def feed(self, pcm: npt.NDArray[np.int16]) -> str | None:
        if np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 300:
            self.voiced += len(pcm)
        self.detail["voiced_s"] = self.voiced / RATE
        return "machine" if self.voiced > 2 * RATE else None

    def finish(self) -> str:
        return "human" if self.voiced else "silence"


async def hosted_call(tmp_path: Path, events: list[MediaEvent],
                      factory: ClassifierFactory | None = EnergyClassifier,
                      ) -> tuple[MediaRelay, Caller, tuple[str, int]]:
    """A relay hosting the customer side of call "d1" (as after the customer's 200 OK)."""
    relay = MediaRelay("127.0.0.1", media_timeout=30, recordings_dir=tmp_path, on_event=events.append,
                       prompts=PROMPTS.__getitem__, classifier_factory=factory)
    await relay.start()
    caller = Caller()
    port = free_port(pair=True)
    relay.open("d1", {Side.CUSTOMER: port, Side.SEAT: free_port(pair=True)}, hosted=Side.CUSTOMER)
    relay.set_peer(SetMediaPeer("d1", Side.CUSTOMER, "127.0.0.1", caller.port, "PCMU", 0, 101))
    await asyncio.sleep(0.05)
    return relay, caller, ("127.0.0.1", port)


def verdicts(events: list[MediaEvent]) -> list[AudioClassified]:
    return [e for e in events if isinstance(e, AudioClassified)]


async def test_a_long_greeting_is_classified_as_a_machine_once(tmp_path: Path) -> None:
    events: list[MediaEvent] = []
    relay, caller, target = await hosted_call(tmp_path, events)
    try:
        relay.analyze("d1", Side.CUSTOMER, "amd", 4.0)
        caller.send_audio(tone(440.0, 3.0, RATE, -12.0), target)   # a 3 s greeting
        await asyncio.sleep(0.3)
        assert verdicts(events) == [AudioClassified(
            "d1", "amd", "machine", {"voiced_s": 2.02, "analysed_seconds": 2.02})]
        await asyncio.sleep(0.1)
    finally:
        await relay.close_all()
    assert len(verdicts(events)) == 1                               # the rest is not fed


async def test_a_short_hello_then_silence_is_decided_at_max_seconds(tmp_path: Path) -> None:
    events: list[MediaEvent] = []
    relay, caller, target = await hosted_call(tmp_path, events)
    try:
        relay.analyze("d1", Side.CUSTOMER, "amd", 1.5)
        hello = np.concatenate([tone(440.0, 0.4, RATE, -12.0), np.zeros(2 * RATE, np.int16)])
        caller.send_audio(hello, target)
        await asyncio.sleep(0.3)
    finally:
        await relay.close_all()
    [verdict] = verdicts(events)
    assert (verdict.verdict, verdict.detail) == ("human", {"voiced_s": 0.4, "analysed_seconds": 1.5})


async def test_the_clock_ends_an_analysis_that_hears_nothing(tmp_path: Path) -> None:
    events: list[MediaEvent] = []
    relay, _, _ = await hosted_call(tmp_path, events)
    try:
        relay.analyze("d1", Side.CUSTOMER, "amd", 0.3)              # silence suppression: no RTP
        await asyncio.sleep(0.2)
        assert verdicts(events) == []
        await asyncio.sleep(0.25)
    finally:
        await relay.close_all()
    assert verdicts(events) == [AudioClassified("d1", "amd", "silence",
                                                {"voiced_s": 0.0, "analysed_seconds": 0.0})]


async def test_nothing_to_listen_with_or_to_is_unknown_at_once(tmp_path: Path) -> None:
    events: list[MediaEvent] = []
    relay, _, _ = await hosted_call(tmp_path, events, factory=None)   # no classifier configured
    try:
        relay.analyze("d1", Side.CUSTOMER, "a", 3.0)
        relay.analyze("d1", Side.SEAT, "b", 3.0)                     # not a hosted side
        relay.analyze("nope", Side.CUSTOMER, "c", 3.0)               # no such call
        relay.classifier_factory = EnergyClassifier
        relay.connect("d1", True)                                     # bridged already
        relay.analyze("d1", Side.CUSTOMER, "d", 3.0)
    finally:
        await relay.close_all()
    assert [(v.call, v.token, v.verdict, v.detail) for v in verdicts(events)] == [
        ("d1", "a", "unknown", {}), ("d1", "b", "unknown", {}), ("nope", "c", "unknown", {}),
        ("d1", "d", "unknown", {})]


async def test_a_broken_classifier_costs_its_verdict_not_the_relay(tmp_path: Path) -> None:
    class Broken(EnergyClassifier):
        def feed(self, pcm: npt.NDArray[np.int16]) -> str | None:
            raise ValueError("bug")

    events: list[MediaEvent] = []
    relay, caller, target = await hosted_call(tmp_path, events, factory=Broken)
    try:
        relay.analyze("d1", Side.CUSTOMER, "amd", 2.0)
        caller.send_audio(tone(440.0, 0.2, RATE), target)
        await asyncio.sleep(0.2)
        assert [v.verdict for v in verdicts(events)] == ["unknown"]
        relay.play("d1", Side.CUSTOMER, "t", ("abandon",), False)   # the call goes on
        assert len(await caller.receive(0.3)) > 10
    finally:
        await relay.close_all()


async def test_a_call_recorded_while_hosted_keeps_the_customer_and_the_prompt(tmp_path: Path) -> None:
    events: list[MediaEvent] = []
    relay, caller, target = await hosted_call(tmp_path, events)

    async def speak(pcm: npt.NDArray[np.int16]) -> None:
        """The customer talks in real time, one 20 ms packet at a time."""
        for i in range(0, len(pcm), 160):
            caller.send_audio(pcm[i : i + 160], target)
            await asyncio.sleep(0.02)

    try:
        path = relay.start_recording("d1", "rec/d1.wav")              # at the customer's answer
        assert path is not None
        relay.play("d1", Side.CUSTOMER, "abandon", ("abandon",), False)
        _, heard = await asyncio.gather(speak(tone(440.0, 1.0, RATE, -12.0)), caller.receive(1.2))
    finally:
        await relay.close_all()                                         # the call ends
    assert len(heard) >= 50
    audio, rate = read_stereo(path)
    left, right = audio[:, 0], audio[:, 1]
    assert rate == RATE and len(audio) / RATE == pytest.approx(1.0, abs=0.1)  # to the last word
    assert tone_power_db(left, 440.0, RATE) - tone_power_db(left, 1000.0, RATE) > 30
    assert tone_power_db(right, 1000.0, RATE) - tone_power_db(right, 440.0, RATE) > 30
    # The whole prompt (0.6 s) is on the right; the comfort silence after it is not recorded.
    frames = [tone_power_db(right[i : i + 160], 1000.0, RATE) > -30
              for i in range(0, len(right) - 159, 160)]
    assert sum(frames) * 0.02 == pytest.approx(0.6, abs=0.04)
    spoken = [tone_power_db(left[i : i + 160], 440.0, RATE) > -30
              for i in range(0, len(left) - 159, 160)]
    assert sum(spoken) * 0.02 == pytest.approx(1.0, abs=0.06)


def test_an_analysis_reports_once_and_never_past_its_limit() -> None:
    classifier: AudioClassifier = EnergyClassifier()
    analysis = Analysis("t", classifier, 0.05)
    loud = tone(440.0, 0.03, RATE, -12.0)
    assert analysis.feed(loud) is None                                 # 240 of 400 samples
    assert analysis.feed(loud) == "human"                              # the limit: finish()
    assert analysis.samples == 400 and analysis.feed(loud) is None
    assert analysis.finish() == "human"
