"""StereoTimeline: placement by RTP timestamp, wrap-around, re-anchors, SSRC takeover, lateness."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recordings.timeline import StereoTimeline

RATE = 8000
PT = 160  # 20 ms packets


def ramp(start: int, n: int = PT) -> np.ndarray:
    """Distinct, recognisable int16 samples (never zero) for packet payloads."""
    return (np.arange(start, start + n) % 30000 + 1).astype(np.int16)


def feed(tl: StereoTimeline, ch: int, packets: list[tuple[float, int, int, np.ndarray]]) -> None:
    for arrival, ts, ssrc, pcm in packets:
        tl.add(ch, arrival, ts, ssrc, pcm)


def test_first_packet_anchors_at_its_arrival() -> None:
    tl = StereoTimeline(RATE, latency=0.3)
    tl.add(0, 0.1, 1000, 0xABC, ramp(0))
    out = tl.take(1.0)
    assert out.shape == (5600, 2) and out.dtype == np.int16  # round((1.0 - 0.3) * 8000)
    assert np.array_equal(out[800:960, 0], ramp(0))
    assert not out[:800].any() and not out[960:].any() and not out[:, 1].any()


def test_take_before_latency_and_repeated_take_are_empty() -> None:
    tl = StereoTimeline(RATE, latency=0.3)
    assert tl.take(0.2).shape == (0, 2)
    assert tl.take(0.5).shape == (1600, 2)
    assert tl.take(0.5).shape == (0, 2)
    assert tl.take(0.4).shape == (0, 2)  # time going backwards emits nothing
    assert tl.position == 1600


def test_jitter_does_not_move_audio() -> None:
    rng = random.Random(7)
    tl = StereoTimeline(RATE, latency=0.3)
    for k in range(100):
        jitter = 0.0 if k == 0 else rng.uniform(0.0, 0.08)
        tl.add(1, k * 0.02 + jitter, 5000 + k * PT, 1, ramp(k * PT))
    out = tl.finish()
    assert np.array_equal(out[:, 1], ramp(0, 100 * PT))
    assert not out[:, 0].any()
    assert tl.stats[1].reanchors == 0 and tl.stats[1].dropped_late == 0


def test_reordered_packets_within_latency_land_in_place() -> None:
    tl = StereoTimeline(RATE, latency=0.3)
    order = [0, 2, 1, 4, 3, 5]
    for k in order:
        tl.add(0, 0.02 * max(order.index(k), k), k * PT, 9, ramp(k * PT))
    assert np.array_equal(tl.finish()[:, 0], ramp(0, 6 * PT))


def test_timestamp_wraps_around_32_bits() -> None:
    tl = StereoTimeline(RATE)
    start = (1 << 32) - 3 * PT
    for k in range(8):
        tl.add(0, k * 0.02, (start + k * PT) & 0xFFFFFFFF, 3, ramp(k * PT))
    out = tl.finish()
    assert len(out) == 8 * PT
    assert np.array_equal(out[:, 0], ramp(0, 8 * PT))
    assert tl.stats[0].reanchors == 0


def test_silence_suppression_gap_is_zeros_without_reanchor() -> None:
    tl = StereoTimeline(RATE)
    tl.add(0, 0.0, 100, 5, ramp(0))
    tl.add(0, 2.0, 100 + 2 * RATE, 5, ramp(500))  # next talk spurt two seconds later
    out = tl.finish()
    assert len(out) == 2 * RATE + PT
    assert np.array_equal(out[:PT, 0], ramp(0))
    assert not out[PT : 2 * RATE, 0].any()
    assert np.array_equal(out[2 * RATE :, 0], ramp(500))
    assert tl.stats[0].reanchors == 0


@pytest.mark.parametrize("jump", [10 * RATE, -10 * RATE, 1 << 31])
def test_timestamp_jump_reanchors_at_arrival(jump: int) -> None:
    tl = StereoTimeline(RATE)
    tl.add(0, 0.0, 70000, 5, ramp(0))
    tl.add(0, 0.02, 70000 + PT, 5, ramp(PT))
    after = (70000 + 2 * PT + jump) & 0xFFFFFFFF
    tl.add(0, 0.5, after, 5, ramp(1000))
    tl.add(0, 0.52, after + PT, 5, ramp(1000 + PT))
    out = tl.finish()
    assert tl.stats[0].reanchors == 1
    assert np.array_equal(out[: 2 * PT, 0], ramp(0, 2 * PT))
    assert np.array_equal(out[4000 : 4000 + 2 * PT, 0], ramp(1000, 2 * PT))
    assert len(out) == 4000 + 2 * PT


def test_drift_below_half_a_second_is_not_reanchored() -> None:
    tl = StereoTimeline(RATE)
    tl.add(0, 0.0, 0, 5, ramp(0))
    tl.add(0, 0.49, PT, 5, ramp(PT))  # arrives 0.47 s late: still placed by timestamp
    assert tl.stats[0].reanchors == 0
    assert np.array_equal(tl.finish()[:, 0], ramp(0, 2 * PT))


def test_second_ssrc_is_ignored_while_the_first_is_active() -> None:
    tl = StereoTimeline(RATE)
    for k in range(10):
        tl.add(1, k * 0.02, k * PT, 111, ramp(k * PT))
        tl.add(1, k * 0.02 + 0.001, 900000 + k * PT, 222, np.full(PT, -7, np.int16))
    out = tl.finish()
    assert np.array_equal(out[:, 1], ramp(0, 10 * PT))
    assert tl.stats[1].ignored_ssrc_packets == 10
    assert tl.stats[1].ssrc_changes == 0


def test_second_ssrc_takes_over_after_half_a_second_of_silence() -> None:
    tl = StereoTimeline(RATE)
    tl.add(1, 0.0, 0, 111, ramp(0))
    tl.add(1, 0.3, 555, 222, ramp(1))  # first sender silent only 0.3 s: ignored
    tl.add(1, 0.6, 777777, 222, ramp(2))  # silent 0.6 s: takes over, anchored at arrival
    tl.add(1, 0.62, 777777 + PT, 222, ramp(2 + PT))
    tl.add(1, 0.64, 2 * PT, 111, ramp(3))  # the old sender is now the ignored one
    out = tl.finish()
    assert tl.stats[1].ignored_ssrc_packets == 2
    assert tl.stats[1].ssrc_changes == 1
    assert np.array_equal(out[:PT, 1], ramp(0))
    assert not out[PT:4800, 1].any()
    assert np.array_equal(out[4800:, 1], ramp(2, 2 * PT))


def test_late_packets_are_dropped_or_trimmed_and_counted() -> None:
    tl = StereoTimeline(RATE, latency=0.1)
    tl.add(0, 0.0, 0, 1, ramp(0))
    assert len(tl.take(0.12)) == 160  # emitted up to sample 160
    tl.add(0, 0.2, 0, 1, ramp(0))  # wholly before the emitted position
    tl.add(0, 0.2, 80, 1, ramp(10_000))  # half late: the second half is kept
    out = tl.finish()
    assert tl.stats[0].dropped_late == 1
    assert tl.stats[0].late_samples == 80
    assert np.array_equal(out[:, 0], ramp(10_080, 80))


def test_channels_are_independent_and_gaps_are_zero() -> None:
    tl = StereoTimeline(RATE)
    tl.add(0, 0.0, 40, 1, ramp(0))
    tl.add(1, 0.25, 90000, 2, ramp(100))
    out = tl.finish()
    assert len(out) == 2000 + PT
    assert np.array_equal(out[:PT, 0], ramp(0)) and not out[PT:, 0].any()
    assert np.array_equal(out[2000:, 1], ramp(100)) and not out[:2000, 1].any()


def test_long_recording_without_take_grows_the_buffer() -> None:
    tl = StereoTimeline(RATE)
    n = 30 * 50  # 30 s of packets, well beyond the initial buffer
    for k in range(n):
        tl.add(k % 2, (k // 2) * 0.04, k * PT, 1 + k % 2, ramp(k * PT))
    out = tl.finish()
    expected = np.zeros(((n - 1) // 2 * 320 + PT, 2), np.int16)
    for k in range(n):
        pos = (k // 2) * 320  # 0.04 s apart on each channel
        expected[pos : pos + PT, k % 2] = ramp(k * PT)
    assert np.array_equal(out, expected)


@settings(max_examples=60, deadline=None)
@given(
    takes=st.lists(st.floats(min_value=0.0, max_value=0.5), min_size=0, max_size=30),
    latency=st.sampled_from([0.06, 0.3, 1.0]),
)
def test_output_does_not_depend_on_the_take_schedule(takes: list[float], latency: float) -> None:
    """Concatenated take() pieces plus finish() equal one finish(), for any take schedule."""
    rng = random.Random(42)
    packets = []
    for k in range(200):
        jitter = 0.0 if k < 2 else rng.uniform(0.0, 0.05)
        packets.append((k % 2, (k // 2) * 0.02 + jitter, 7 + (k // 2) * PT, ramp(k * 37)))
    packets.sort(key=lambda p: p[1])
    reference = StereoTimeline(RATE, latency=latency)
    for ch, arrival, ts, pcm in packets:
        reference.add(ch, arrival, ts, 10 + ch, pcm)
    expected = reference.finish()

    tl = StereoTimeline(RATE, latency=latency)
    pieces, clock, pending = [], 0.0, sorted(takes)
    for ch, arrival, ts, pcm in packets:
        # Only take what the latency window allows before this packet's arrival.
        while pending and clock + pending[0] <= arrival:
            clock += pending.pop(0)
            pieces.append(tl.take(min(clock, arrival - 0.051 + latency)))
        tl.add(ch, arrival, ts, 10 + ch, pcm)
    pieces.append(tl.finish())
    assert np.array_equal(np.concatenate(pieces), expected)
    assert tl.stats[0].dropped_late == tl.stats[1].dropped_late == 0


def test_bad_arguments_are_rejected() -> None:
    tl = StereoTimeline()
    with pytest.raises(ValueError, match="channel"):
        tl.add(2, 0.0, 0, 1, ramp(0))
    with pytest.raises(ValueError, match="int16"):
        tl.add(0, 0.0, 0, 1, np.zeros(PT, np.float32))
    with pytest.raises(ValueError):
        StereoTimeline(0)


def test_empty_payload_and_finish_with_nothing() -> None:
    tl = StereoTimeline()
    assert tl.finish().shape == (0, 2)
    tl.add(0, 0.0, 0, 1, np.zeros(0, np.int16))
    assert tl.finish().shape == (0, 2)


def test_a_minute_of_audio_taken_every_second_is_exact() -> None:
    """Steady state of a call: 50 packets/s per channel, take() once a second, staggered."""
    rng = random.Random(3)
    tl = StereoTimeline(RATE, latency=0.3)
    expected = np.zeros((60 * RATE, 2), np.int16)
    pieces, next_take = [], 0.37
    for k in range(60 * 50):
        for ch in (0, 1):
            arrival = k * 0.02 + (0.0 if k == 0 else rng.uniform(0.0, 0.1))
            while next_take <= arrival:
                pieces.append(tl.take(next_take))
                next_take += 1.0
            pcm = ramp(k * PT + ch * 999)
            tl.add(ch, arrival, (1 << 32) - 4000 * (1 + ch) + k * PT & 0xFFFFFFFF, ch, pcm)
            expected[k * PT : (k + 1) * PT, ch] = pcm
    pieces.append(tl.finish())
    out = np.concatenate(pieces)
    assert np.array_equal(out, expected)
    assert [s.dropped_late for s in tl.stats] == [0, 0]
