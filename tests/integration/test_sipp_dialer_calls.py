"""The dialer's calls through the real SIP server, with SIPp as the carrier on the trunk port: a
customer who answers is bridged at once to a seat's auto-answering phone (SIPp, echoing), with
media both ways and the call recorded; a greeting is classified a machine by the audio tap and
hung up; 486, 480 and 503 end the call with their outcome; a call that only ever rings with
early media is never taken for an answer and is cancelled at the ring timeout."""

from __future__ import annotations

import asyncio
import re
import uuid as uuids
from dataclasses import dataclass, field

import numpy as np
import pytest

from recordings.wav import read_stereo
from telephony.calls.commands import AnalyzeAudio, Command, Side
from telephony.calls.director import CallControl, DialControl
from telephony.calls.outbound import OriginatedCall
from telephony.net.relay import MediaRelay
from telephony.net.server import Executor
from tests.integration.conftest import FloorOpener, SippFloor
from tests.integration.harness import free_port
from tests.pairs.test_outbound_media import EnergyClassifier

pytestmark = pytest.mark.integration

NUMBER = "+15551230002"  # dialer_answer.xml checks for exactly this Request-URI user
CALLER_ID = "+15550100"


class AmdExecutor:
    """The floor's executor, plus AnalyzeAudio carried to the relay (callfloor/executor.py is
    the lead's to wire; this is the one line it needs)."""

    def __init__(self, inner: Executor, relay: MediaRelay) -> None:
        self.inner = inner
        self.relay = relay

    def execute(self, command: Command) -> None:
        if isinstance(command, AnalyzeAudio):
            self.relay.analyze(command.call, command.side, command.token, command.max_seconds)
        else:
            self.inner.execute(command)


@dataclass
class LiveDialer:
    """The dialer's part as the test plays it: ring ``seat`` on answer, or listen for ``amd``
    seconds and hang up on a machine. Times are the engine's."""

    seat: str | None = None
    amd: float | None = None
    heard: list[tuple[object, ...]] = field(default_factory=list)
    ended: list[tuple[str, str | None]] = field(default_factory=list)  # (reason, by) of call_ended
    times: dict[str, float] = field(default_factory=dict)

    def dial_progress(self, call: DialControl, status: int, now: float) -> None:
        self.heard.append(("progress", status))

    def dial_answered(self, call: DialControl, now: float) -> None:
        self.heard.append(("answered",))
        self.times["answered"] = now
        if self.amd is not None:
            call.analyze("amd", self.amd, now)
        if self.seat is not None:
            assert call.ring_seat(self.seat, now, auto_answer=True,
                                  headers=[("X-Callfloor-Lead", "42")])

    def call_ended(self, call: DialControl, reason: str, by: str | None, now: float) -> None:
        self.ended.append((reason, by))

    def dial_failed(self, call: DialControl, status: int, reason: str, now: float) -> None:
        self.heard.append(("failed", status, reason))

    def audio_classified(self, call: DialControl, token: str, verdict: str,
                         detail: dict[str, float], now: float) -> None:
        self.heard.append(("classified", verdict))
        self.times["classified"] = now
        self.times["voiced"] = detail["voiced_s"]
        if verdict == "machine":
            call.hangup(now, "machine")

    def seat_answered(self, call: CallControl, seat: str, now: float) -> None:
        self.heard.append(("seat answered", seat))
        self.times["bridged"] = now

    def seat_failed(self, call: CallControl, seat: str, status: int, now: float) -> None:
        self.heard.append(("seat failed", seat, status))

    def seat_hung_up(self, call: CallControl, seat: str, now: float) -> bool:
        self.heard.append(("seat left", seat))
        return False

    def caller_gone(self, call: CallControl, reason: str, now: float) -> None:
        self.heard.append(("gone", reason))

    def digit(self, call: CallControl, digit: str, source: str, now: float) -> None:
        pass

    def playback_done(self, call: CallControl, token: str, now: float) -> None:
        pass

    def recording_done(self, call: CallControl, token: str, path: str, seconds: float,
                       now: float) -> None:
        pass

    def over(self) -> bool:
        return any(h[0] in ("failed", "gone") for h in self.heard)


def originate(f: SippFloor, dialer: LiveDialer, *, ring_timeout: float = 8.0) -> OriginatedCall:
    """Ask the running engine for the call, as the dialer runtime does."""
    placed: list[OriginatedCall | None] = []
    f.service.sip.apply(lambda now: placed.append(f.service.engine.originate(
        NUMBER, caller_id=CALLER_ID, uuid=uuids.uuid4().hex, observer=dialer,
        ring_timeout=ring_timeout, now=now)))
    call = placed[0]
    assert call is not None
    return call


def active(channel: np.ndarray) -> float:
    """The share of samples that carry sound."""
    return float((np.abs(channel.astype(np.int32)) > 100).mean())


async def test_an_answered_call_is_bridged_at_once_and_recorded(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        seat_port = free_port()
        seat = await f.start_seat("dialer_seat_autoanswer.xml", seat_port)
        assert (await f.register("1001", "secret1001", seat_port)).returncode == 0
        carrier = await f.start_carrier("dialer_answer.xml", echo=False)
        dialer = LiveDialer(seat="1001")
        call = originate(f, dialer)
        await f.wait_for(lambda: "bridged" in dialer.times or dialer.over(), "the seat bridged")
        await asyncio.sleep(3.0)                                  # they talk
        f.service.sip.apply(lambda now: call.hangup(now, "done"))
        seat_result, carrier_result = await seat, await carrier
        rows = await f.calls_when_idle()
        recordings = f.service.settings.storage.recordings_dir
    assert seat_result.returncode == 0, seat_result.explain()    # auto-answer and lead headers
    assert carrier_result.returncode == 0, carrier_result.explain()
    assert dialer.heard == [("progress", 180), ("answered",), ("seat answered", "1001")]
    # The 2-second rule is measured from the answer to the bridge: one round trip to the seat.
    assert dialer.times["bridged"] - dialer.times["answered"] < 1.0
    invite = re.search(r"^INVITE (\S+) SIP/2.0\r?\n((?:[^\r\n]+\r?\n)+)", carrier_result.messages, re.M)
    assert invite is not None and invite[1].startswith(f"sip:{NUMBER}@127.0.0.2:")
    assert re.search(rf"^From: <sip:\{CALLER_ID}@127\.0\.0\.1>;tag=", invite[2], re.M)
    [row] = rows
    assert (row.direction, row.caller, row.callee, row.did, row.seat_id) == (
        "outbound", CALLER_ID, NUMBER, None, "1001")
    assert (row.status, row.end_reason, row.hangup_by, row.sip_status) == (
        "ended", "done", "callfloor", 200)
    assert row.answered_at == pytest.approx(dialer.times["bridged"])
    audio, rate = read_stereo(recordings / (row.recording_path or ""))
    # From the answer: the customer speaks (left), the seat echoes what it is sent (right).
    assert len(audio) / rate == pytest.approx(3.0, abs=0.6)
    assert active(audio[:, 0]) > 0.4 and active(audio[:, 1]) > 0.4


async def test_a_greeting_is_classified_a_machine_and_hung_up(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        f.service.relay.classifier_factory = EnergyClassifier
        f.service.sip.executor = AmdExecutor(f.service.sip.executor, f.service.relay)
        carrier = await f.start_carrier("dialer_answer.xml", echo=False)
        dialer = LiveDialer(amd=4.0)
        originate(f, dialer)
        await f.wait_for(lambda: "classified" in dialer.times, "the verdict")
        carrier_result = await carrier
        rows = await f.calls_when_idle()
        recordings = f.service.settings.storage.recordings_dir
    assert carrier_result.returncode == 0, carrier_result.explain()
    assert dialer.heard == [("progress", 180), ("answered",), ("classified", "machine")]
    assert dialer.times["voiced"] > 2.0
    assert 2.0 < dialer.times["classified"] - dialer.times["answered"] < 4.0
    [row] = rows
    assert (row.end_reason, row.hangup_by, row.sip_status, row.seat_id, row.answered_at) == (
        "machine", "callfloor", 200, None, None)
    # Recorded from the answer although no seat ever took it: the greeting is the evidence.
    audio, rate = read_stereo(recordings / (row.recording_path or ""))
    assert len(audio) / rate > 2.0 and active(audio[:, 0]) > 0.4 and active(audio[:, 1]) == 0.0


@pytest.mark.parametrize(("status", "reason"), [
    (486, "busy"), (480, "no_answer"), (503, "network_error")])
async def test_a_refused_dial_ends_with_its_outcome(open_floor: FloorOpener, status: int,
                                                    reason: str) -> None:
    async with open_floor() as f:
        carrier = await f.start_carrier(f"dialer_refuse_{status}.xml", echo=False)
        dialer = LiveDialer()
        originate(f, dialer)
        await f.wait_for(dialer.over, "the refusal")
        carrier_result = await carrier
        rows = await f.calls_when_idle()
    assert carrier_result.returncode == 0, carrier_result.explain()
    assert dialer.heard == [("progress", 180), ("failed", status, reason)]
    assert [(r.direction, r.end_reason, r.sip_status, r.answered_at, r.recording_path)
            for r in rows] == [("outbound", reason, status, None, None)]


async def test_early_media_is_no_answer_and_the_dial_is_cancelled(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        carrier = await f.start_carrier("dialer_ring_forever.xml", echo=False)
        dialer = LiveDialer()
        call = originate(f, dialer, ring_timeout=3.0)
        bridge = f.service.relay.bridges[call.uuid]
        await f.wait_for(lambda: bridge.rtp[Side.CUSTOMER].rx >= 20 or dialer.over(),
                         "the carrier's early media")
        # Its audio reaches our port and goes nowhere: not hosted, not relayed, not an answer.
        assert not dialer.over() and bridge.hosting == {} and bridge.rtp[Side.SEAT].tx == 0
        assert call.customer_answered_at is None
        await f.wait_for(dialer.over, "the ring timeout")
        carrier_result = await carrier
        rows = await f.calls_when_idle()
    assert carrier_result.returncode == 0, carrier_result.explain()
    assert dialer.heard == [("progress", 183), ("failed", 408, "no_answer")]
    assert f"CANCEL sip:{NUMBER}@127.0.0.2:{f.trunk_port}" in carrier_result.messages
    assert [(r.end_reason, r.sip_status, r.answered_at, r.recording_path) for r in rows] == [
        ("no_answer", 408, None, None)]
