"""The recording contract end to end: a tone from each side, jittered RTP, the recorder's
once-a-second take/write/flush, then numpy checks that each tone is on its own channel at the
right time with no gaps."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from recordings.timeline import StereoTimeline
from recordings.wav import StereoWavWriter, read_stereo
from telephony.rtp.g711 import ulaw_decode, ulaw_encode
from telephony.rtp.tone import frames, tone, tone_power_db

RATE = 8000
CUSTOMER_HZ, SEAT_HZ = 440, 1000
Packet = tuple[float, int, int, int, bytes]  # arrival, channel, timestamp, ssrc, PCMU payload


def talk(channel: int, freq: int, start: float, seconds: float, ts0: int, rng: random.Random,
         ts_skip: int = 0) -> tuple[list[Packet], np.ndarray]:  # fmt: skip
    """20 ms PCMU packets of a tone sent from ``start``, with up to 60 ms of network jitter."""
    packets, decoded = [], []
    for k, frame in enumerate(frames(tone(freq, seconds))):
        payload = ulaw_encode(frame)
        decoded.append(ulaw_decode(payload))
        jitter = 0.0 if k == 0 and ts_skip == 0 else rng.uniform(0.0, 0.06)
        ts = (ts0 + ts_skip + k * 160) & 0xFFFFFFFF
        packets.append((start + k * 0.02 + jitter, channel, ts, 0x1000 + channel, payload))
    return packets, np.concatenate(decoded)


def record(packets: list[Packet], path: Path) -> None:
    """What the relay's recorder tap does: add per packet, take/write/flush once a second."""
    timeline = StereoTimeline(RATE, latency=0.3)
    writer = StereoWavWriter(path)
    next_flush = 0.43  # staggered per call
    for arrival, channel, ts, ssrc, payload in sorted(packets):
        while next_flush <= arrival:
            writer.write(timeline.take(next_flush))
            writer.flush()
            next_flush += 1.0
        timeline.add(channel, arrival, ts, ssrc, ulaw_decode(payload))
    writer.write(timeline.finish())
    writer.close()
    assert [s.dropped_late for s in timeline.stats] == [0, 0]
    assert [s.reanchors for s in timeline.stats] == [0, 0]


def longest_zero_run(x: np.ndarray) -> int:
    padded = np.concatenate([[0], (x == 0).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded) != 0)
    return int(np.max(edges[1::2] - edges[::2])) if len(edges) > 1 else 0


def test_each_tone_lands_on_its_own_channel_at_the_right_time(tmp_path: Path) -> None:
    rng = random.Random(1234)
    # Customer speaks from 0.1 s for 3 s; the seat from 0.7 s for 1 s, pauses 0.5 s (silence
    # suppression: no packets, timestamps run on), then 1 s more; its timestamps wrap past 2^32.
    customer, cust_pcm = talk(0, CUSTOMER_HZ, 0.1, 3.0, 123_456, rng)
    seat1, seat_pcm1 = talk(1, SEAT_HZ, 0.7, 1.0, 0xFFFF_F000, rng)
    seat2, seat_pcm2 = talk(1, SEAT_HZ, 2.2, 1.0, 0xFFFF_F000, rng, ts_skip=int(1.5 * RATE))
    path = tmp_path / "calls" / "c1.wav"
    record(customer + seat1 + seat2, path)

    stereo, rate = read_stereo(path)
    left, right = stereo[:, 0], stereo[:, 1]
    assert rate == RATE and len(stereo) == round(3.2 * RATE)

    # Bit-exact placement: the first packet of each sender sets its start sample.
    assert not left[:800].any() and np.array_equal(left[800:24800], cust_pcm)
    assert not left[24800:].any()
    assert not right[:5600].any() and np.array_equal(right[5600:13600], seat_pcm1)
    assert not right[13600:17600].any() and np.array_equal(right[17600:25600], seat_pcm2)

    # No gaps inside speech: a sine only touches zero for a sample at a time.
    assert longest_zero_run(left[800:24800]) <= 2
    assert longest_zero_run(right[5600:13600]) <= 2 and longest_zero_run(right[17600:]) <= 2

    # The spectral view, 100 ms at a time: each tone on its own channel and nowhere else.
    for start in range(0, len(stereo), 800):
        window = slice(start, start + 800)
        customer_on = 800 <= start < 24800  # the windows line up with the talk boundaries
        seat_on = 5600 <= start < 13600 or 17600 <= start < 25600
        assert (tone_power_db(left[window], CUSTOMER_HZ) > -13) == customer_on, start
        assert (tone_power_db(right[window], SEAT_HZ) > -13) == seat_on, start
        assert tone_power_db(left[window], SEAT_HZ) < -45, start
        assert tone_power_db(right[window], CUSTOMER_HZ) < -45, start
