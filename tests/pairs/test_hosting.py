"""callfloor's own end of a hosted call, over real UDP on 127.0.0.1: prompts go out at 50 packets
per second from the shared clock, digits come in as RFC 4733 events and as in-band tones, and a
voice message is recorded."""

from __future__ import annotations

import asyncio
import socket
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile

from telephony.calls.commands import (
    AudioRecorded,
    DigitDetected,
    MediaEvent,
    PlaybackFinished,
    SetMediaPeer,
    Side,
)
from telephony.net.relay import MediaRelay
from telephony.rtp.dtmf import events_for_digit
from telephony.rtp.g711 import decode, encode
from telephony.rtp.tone import dtmf_tone, tone, tone_power_db
from tests.integration.harness import free_port

RATE = 8000
PROMPTS = {"beep": tone(1000.0, 0.5, RATE), "hello": tone(440.0, 0.3, RATE)}


class Caller:
    """The caller's RTP socket."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.seq, self.ts = 1000, 5000

    async def receive(self, seconds: float) -> list[bytes]:
        loop = asyncio.get_running_loop()
        out: list[bytes] = []
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                out.append(await asyncio.wait_for(loop.sock_recv(self.sock, 2048), left))
            except TimeoutError:
                break
        return out

    def send_audio(self, pcm: np.ndarray, target: tuple[str, int], pt: int = 0) -> None:
        for i in range(0, len(pcm) - 159, 160):
            header = struct.pack("!BBHII", 0x80, pt, self.seq, self.ts, 0x1234)
            self.sock.sendto(header + encode(pcm[i : i + 160], "PCMU"), target)
            self.seq, self.ts = self.seq + 1, self.ts + 160


async def hosted(tmp_path: Path, events: list[MediaEvent]) -> tuple[MediaRelay, Caller, tuple[str, int]]:
    relay = MediaRelay("127.0.0.1", media_timeout=30, recordings_dir=tmp_path, on_event=events.append,
                       prompts=PROMPTS.__getitem__)
    await relay.start()
    caller = Caller()
    port = free_port(pair=True)
    relay.open("c1", {Side.CUSTOMER: port, Side.SEAT: free_port(pair=True)}, hosted=Side.CUSTOMER)
    relay.set_peer(SetMediaPeer("c1", Side.CUSTOMER, "127.0.0.1", caller.port, "PCMU", 0, 101))
    await asyncio.sleep(0.05)
    return relay, caller, ("127.0.0.1", port)


async def test_prompts_stream_at_50_packets_a_second_and_report_their_end(tmp_path: Path) -> None:
    events: list[MediaEvent] = []
    relay, caller, _ = await hosted(tmp_path, events)
    try:
        silence = await caller.receive(0.2)                    # hosted: silence until a prompt
        relay.play("c1", Side.CUSTOMER, "t1", ("hello", "beep"), False)
        packets = await caller.receive(1.2)
    finally:
        await relay.close_all()
    assert silence and all(p[12:] == b"\xff" * 160 for p in silence)
    assert 57 <= len(packets) <= 62, len(packets)            # 1.2 s at 50/s, silence after the prompt
    seqs = [struct.unpack_from("!H", p, 2)[0] for p in packets]
    assert all((b - a) % 65536 == 1 for a, b in zip(seqs, seqs[1:], strict=False))
    assert {p[1] & 0x7F for p in packets} == {0} and packets[0][1] & 0x80  # PCMU, marker first
    audio = np.concatenate([decode(p[12:], "PCMU") for p in packets])
    assert tone_power_db(audio[: int(0.3 * RATE)], 440.0, RATE) > -20   # "hello" then "beep"
    assert tone_power_db(audio[int(0.3 * RATE) : int(0.8 * RATE)], 1000.0, RATE) > -20
    assert tone_power_db(audio[int(0.85 * RATE) :], 1000.0, RATE) < -60  # silence follows
    assert events == [PlaybackFinished("c1", Side.CUSTOMER, "t1")]


async def test_digits_arrive_as_events_and_in_band(tmp_path: Path) -> None:
    events: list[MediaEvent] = []
    relay, caller, target = await hosted(tmp_path, events)
    try:
        gap = np.zeros(800, np.int16)
        for digit in "159#":                                  # in-band, as some carriers send them
            caller.send_audio(np.concatenate([dtmf_tone(digit, 0.08, RATE, -12.0), gap]), target)
        await asyncio.sleep(0.3)
        for _offset, packet in events_for_digit("7", 90000, 3000, 0x1234, 101):
            caller.sock.sendto(packet, target)
        await asyncio.sleep(0.3)
        caller.send_audio(np.concatenate([dtmf_tone("3", 0.1, RATE), gap]), target)  # now ignored
        await asyncio.sleep(0.3)
    finally:
        await relay.close_all()
    digits = [(e.digit, e.source) for e in events if isinstance(e, DigitDetected)]
    assert digits == [("1", "inband"), ("5", "inband"), ("9", "inband"), ("#", "inband"), ("7", "rfc4733")]


async def test_a_voice_message_is_recorded(tmp_path: Path) -> None:
    events: list[MediaEvent] = []
    relay, caller, target = await hosted(tmp_path, events)
    try:
        relay.record_audio("c1", Side.CUSTOMER, "vm", "voicemail/c1.wav", 1.0)
        caller.send_audio(tone(700.0, 1.5, RATE, -12.0), target)  # longer than the limit
        await asyncio.sleep(0.3)
    finally:
        await relay.close_all()
    [done] = [e for e in events if isinstance(e, AudioRecorded)]
    assert done.token == "vm" and done.seconds == pytest.approx(1.0, abs=0.02)
    audio, rate = soundfile.read(done.path, dtype="int16")
    assert rate == RATE and audio.ndim == 1
    assert tone_power_db(audio, 700.0, RATE) > -20
