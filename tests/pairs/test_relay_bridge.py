"""A bridged, recorded call through the relay over real UDP on 127.0.0.1: each side hears the
other in its own law and payload type, the WAV on disk grows while the call goes on (a crash loses
under a second), and the finished recording has each side on its own channel."""

from __future__ import annotations

import asyncio
import socket
import struct
from pathlib import Path

import numpy as np

from recordings.wav import read_stereo
from telephony.calls.commands import MediaEvent, SetMediaPeer, Side
from telephony.net.relay import MediaRelay
from telephony.rtp.g711 import decode, encode
from telephony.rtp.tone import tone, tone_power_db
from tests.integration.harness import free_port

RATE = 8000
CUSTOMER_HZ, SEAT_HZ = 440.0, 1000.0


class Phone:
    """One side's RTP socket, sending a tone in 20 ms packets of its own law and payload type."""

    def __init__(self, codec: str, pt: int, ssrc: int, freq: float) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.codec, self.pt, self.ssrc = codec, pt, ssrc
        self.audio = tone(freq, 3.0, RATE, -12.0)
        self.seq = self.ts = 0

    def send(self, target: tuple[str, int]) -> None:
        frame = self.audio[self.ts : self.ts + 160]
        header = struct.pack("!BBHII", 0x80, self.pt, self.seq, self.ts, self.ssrc)
        self.sock.sendto(header + encode(frame, self.codec), target)
        self.seq, self.ts = self.seq + 1, self.ts + 160

    def received(self) -> list[bytes]:
        out = []
        while True:
            try:
                out.append(self.sock.recv(2048))
            except BlockingIOError:
                return out


async def test_a_bridged_call_is_relayed_and_recorded_as_it_goes(tmp_path: Path) -> None:
    events: list[MediaEvent] = []
    relay = MediaRelay("127.0.0.1", media_timeout=30, recordings_dir=tmp_path, on_event=events.append)
    await relay.start()
    customer = Phone("PCMU", 0, 0xC0FFEE, CUSTOMER_HZ)
    seat = Phone("PCMA", 96, 0x5EA7, SEAT_HZ)  # A-law under a dynamic number: both rewritten
    ports = {Side.CUSTOMER: free_port(pair=True), Side.SEAT: free_port(pair=True)}
    relay.open("c1", ports)
    relay.set_peer(SetMediaPeer("c1", Side.CUSTOMER, "127.0.0.1", customer.port, "PCMU", 0, 101))
    relay.set_peer(SetMediaPeer("c1", Side.SEAT, "127.0.0.1", seat.port, "PCMA", 96, 101))
    path = relay.start_recording("c1", "calls/c1.wav")
    assert path == tmp_path / "calls" / "c1.wav"
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0.05)  # the endpoints are adopted
    try:
        started = loop.time()
        for _ in range(100):  # 2 s of both sides
            customer.send(("127.0.0.1", ports[Side.CUSTOMER]))
            seat.send(("127.0.0.1", ports[Side.SEAT]))
            await asyncio.sleep(0.02)
        elapsed = loop.time() - started
        on_disk, _ = read_stereo(path)  # while the call goes on: what a kill -9 would leave
        at_seat, at_customer = seat.received(), customer.received()
    finally:
        relay.close("c1")
        await relay.close_all()
    # Flushed every 0.5 s with 0.3 s of latency: at most 0.8 s (and a tick or two) is not on disk.
    assert (elapsed - 0.9) * RATE <= len(on_disk) <= elapsed * RATE, (len(on_disk), elapsed)

    assert len(at_seat) == len(at_customer) == 100
    assert {p[1] & 0x7F for p in at_seat} == {96} and {p[1] & 0x7F for p in at_customer} == {0}
    heard_by_seat = np.concatenate([decode(p[12:], "PCMA") for p in at_seat])
    heard_by_customer = np.concatenate([decode(p[12:], "PCMU") for p in at_customer])
    assert tone_power_db(heard_by_seat, CUSTOMER_HZ, RATE) > -20
    assert tone_power_db(heard_by_customer, SEAT_HZ, RATE) > -20

    stereo, rate = read_stereo(path)
    assert rate == RATE and abs(len(stereo) - 2 * RATE) <= 0.1 * RATE
    assert np.array_equal(stereo[: len(on_disk)], on_disk)  # the file only grew
    middle = slice(RATE // 4, 7 * RATE // 4)
    assert tone_power_db(stereo[middle, 0], CUSTOMER_HZ, RATE) > -20
    assert tone_power_db(stereo[middle, 1], SEAT_HZ, RATE) > -20
    assert tone_power_db(stereo[middle, 0], SEAT_HZ, RATE) < -45
    assert tone_power_db(stereo[middle, 1], CUSTOMER_HZ, RATE) < -45
    assert events == []


async def test_calls_are_spread_over_the_flush_ticks(tmp_path: Path) -> None:
    """Many calls: each tick flushes only its share, so their writes never bunch up."""
    relay = MediaRelay("127.0.0.1", media_timeout=30, recordings_dir=tmp_path, on_event=lambda e: None)
    calls = [f"c{i}" for i in range(120)]
    try:
        for call in calls:
            relay.open(call, {Side.CUSTOMER: free_port(pair=True), Side.SEAT: free_port(pair=True)})
        for call in calls[::3]:
            relay.close(call)
        for call in calls[:20]:
            relay.open(call + "b", {Side.CUSTOMER: free_port(pair=True), Side.SEAT: free_port(pair=True)})
        per_phase = [sum(b.phase == p for b in relay.bridges.values()) for p in range(50)]
        assert sum(per_phase) == 100 and max(per_phase) - min(per_phase) <= 1, per_phase
    finally:
        await relay.close_all()
