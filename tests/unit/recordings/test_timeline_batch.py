"""StereoTimeline.add_many: the same frames and counters as add() called once per packet."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recordings.timeline import StereoTimeline

RATE = 8000
PT = 160

Packet = tuple[int, float, int, int, np.ndarray]  # channel, arrival, timestamp, ssrc, pcm


def ramp(start: int, n: int = PT) -> np.ndarray:
    return (np.arange(start, start + n) % 30000 + 1).astype(np.int16)


def add_batch(tl: StereoTimeline, channel: int, packets: list[Packet]) -> None:
    mine = [p for p in packets if p[0] == channel]
    tl.add_many(channel, [p[1] for p in mine], [p[2] for p in mine], [p[3] for p in mine],
                [len(p[4]) for p in mine],
                np.concatenate([p[4] for p in mine]) if mine else np.zeros(0, np.int16))


def replay(packets: list[Packet], cuts: list[int], takes: list[float], latency: float,
           batched: bool) -> tuple[np.ndarray, list[tuple[int, int, int, int, int, int]]]:
    """Feed ``packets`` in batches ending at ``cuts`` with a take() after each; all frames out."""
    tl = StereoTimeline(RATE, latency=latency)
    pieces, at = [], 0
    for cut, now in zip([*cuts, len(packets)], [*takes, 0.0], strict=True):
        batch = packets[at:cut]
        at = cut
        if batched:
            add_batch(tl, 0, batch)
            add_batch(tl, 1, batch)
        else:
            for ch, arrival, ts, ssrc, pcm in batch:
                tl.add(ch, arrival, ts, ssrc, pcm)
        if cut < len(packets):
            pieces.append(tl.take(now))
    pieces.append(tl.finish())
    stats = [(s.packets, s.dropped_late, s.late_samples, s.ignored_ssrc_packets, s.reanchors,
              s.ssrc_changes) for s in tl.stats]
    return np.concatenate(pieces), stats


def traffic(rng: random.Random, n: int) -> list[Packet]:
    """Two channels of 20 ms packets with jitter, reordering, duplicates, a second sender (now and
    then, or for good), silence gaps, timestamp jumps and wrap-around, short and empty payloads."""
    packets: list[Packet] = []
    state = {0: [0xFFFF_F000, 0x11], 1: [rng.getrandbits(32), 0x22]}
    t = 0.0
    for k in range(n):
        ch = rng.randrange(2)
        ts, ssrc = state[ch]
        roll = rng.random()
        size = rng.choice([PT, PT, PT, PT, 80, 0])
        t += rng.uniform(0.0, 0.02)
        arrival = t + rng.uniform(0.0, 0.15)
        if roll < 0.05:  # one packet of a second sender between two of the first (pyVoIP)
            packets.append((ch, arrival, rng.getrandbits(32), ssrc ^ 0xFF, ramp(k * 7, size)))
            continue
        if roll < 0.08:
            ssrc = state[ch][1] = ssrc ^ 0xFF  # the second sender goes on (ignored until silence)
        elif roll < 0.11:
            ts += 10 * RATE  # a jump: re-anchored
        elif roll < 0.14:
            t += 0.6  # silence: a second sender may take over
        elif roll < 0.17:
            ts -= 3 * PT  # a reordered or repeated packet
        packets.append((ch, arrival, ts & 0xFFFFFFFF, ssrc, ramp(k * 7, size)))
        state[ch][0] = ts + size
    return packets


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 120), latency=st.sampled_from([0.0, 0.06, 0.3]),
       batches=st.integers(1, 8))
def test_batches_equal_one_by_one(seed: int, n: int, latency: float, batches: int) -> None:
    rng = random.Random(seed)
    packets = traffic(rng, n)
    cuts = sorted(rng.randrange(n + 1) for _ in range(batches - 1))
    # Take up to a little past the last arrival of each batch: later packets may be late.
    takes = [max((p[1] for p in packets[:c]), default=0.0) + rng.uniform(-0.1, 0.5) for c in cuts]
    expected, expected_stats = replay(packets, cuts, takes, latency, batched=False)
    got, got_stats = replay(packets, cuts, takes, latency, batched=True)
    assert got_stats == expected_stats
    assert np.array_equal(got, expected)


def test_a_steady_call_is_placed_bit_exact() -> None:
    """Half a second per batch, both channels, 32-bit wrap on the seat side."""
    tl = StereoTimeline(RATE, latency=0.3)
    expected = np.zeros((10 * RATE, 2), np.int16)
    pieces = []
    for second in range(20):
        batch: list[Packet] = []
        for k in range(second * 25, second * 25 + 25):
            for ch in (0, 1):
                pcm = ramp(k * PT + ch * 999)
                ts = (0xFFFF_0000 * ch + 1234 + k * PT) & 0xFFFFFFFF
                batch.append((ch, k * 0.02 + 0.001 * (k % 3), ts, 7 + ch, pcm))
                expected[k * PT : (k + 1) * PT, ch] = pcm
        add_batch(tl, 0, batch)
        add_batch(tl, 1, batch)
        pieces.append(tl.take((second + 1) * 0.5))
    pieces.append(tl.finish())
    assert np.array_equal(np.concatenate(pieces), expected)
    assert [s.packets for s in tl.stats] == [500, 500]
    assert [s.dropped_late + s.reanchors + s.ssrc_changes for s in tl.stats] == [0, 0]


def test_late_packets_in_a_batch_are_dropped_or_trimmed() -> None:
    tl = StereoTimeline(RATE, latency=0.1)
    tl.add_many(0, [0.0], [0], [1], [PT], ramp(0))
    assert len(tl.take(0.12)) == PT
    tl.add_many(0, [0.2, 0.2, 0.2], [0, 80, 240], [1, 1, 1], [PT, PT, PT],
                np.concatenate([ramp(0), ramp(10_000), ramp(20_000)]))
    out = tl.finish()
    assert (tl.stats[0].dropped_late, tl.stats[0].late_samples) == (1, 80)
    assert np.array_equal(out[:80, 0], ramp(10_080, 80))
    assert np.array_equal(out[80:240, 0], ramp(20_000))


def test_second_ssrc_in_a_batch_waits_for_silence() -> None:
    tl = StereoTimeline(RATE)
    tl.add_many(1, [0.0, 0.3, 0.6, 0.62, 0.64], [0, 555, 777777, 777777 + PT, 2 * PT],
                [111, 222, 222, 222, 111], [PT] * 5,
                np.concatenate([ramp(0), ramp(1), ramp(2), ramp(2 + PT), ramp(3)]))
    out = tl.finish()
    assert (tl.stats[1].ignored_ssrc_packets, tl.stats[1].ssrc_changes) == (2, 1)
    assert np.array_equal(out[:PT, 1], ramp(0)) and not out[PT:4800, 1].any()
    assert np.array_equal(out[4800:, 1], ramp(2, 2 * PT))


def test_bad_batches_are_rejected() -> None:
    tl = StereoTimeline()
    with pytest.raises(ValueError, match="channel"):
        tl.add_many(2, [0.0], [0], [1], [PT], ramp(0))
    with pytest.raises(ValueError, match="int16"):
        tl.add_many(0, [0.0], [0], [1], [PT], np.zeros(PT, np.float32))
    with pytest.raises(ValueError, match="one length"):
        tl.add_many(0, [0.0, 0.02], [0], [1], [PT], ramp(0))
    with pytest.raises(ValueError, match="add up"):
        tl.add_many(0, [0.0], [0], [1], [PT + 1], ramp(0))
    tl.add_many(0, [], [], [], [], np.zeros(0, np.int16))
    assert tl.finish().shape == (0, 2) and tl.stats[0].packets == 0
