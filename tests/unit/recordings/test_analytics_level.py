"""Loudness (RMS dBFS, BS.1770-style gated LUFS) and clipping of each side of a call."""

from __future__ import annotations

import numpy as np
import pytest

from recordings.analytics import AnalyticsConfig, analyze_call, flags
from recordings.analytics_level import k_weighting
from tests.unit.recordings.analytics_kit import RATE, Call


def sine(seconds: float, amplitude: float, hz: float = 997.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return amplitude * np.sin(2 * np.pi * hz * t)


def biquad(b: tuple[float, ...], a: tuple[float, ...], x: list[float]) -> list[float]:
    """Direct form I, sample by sample: the filter as BS.1770 writes it."""
    y: list[float] = []
    x1 = x2 = y1 = y2 = 0.0
    for v in x:
        out = b[0] * v + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
        x1, x2, y1, y2 = v, x1, out, y1
        y.append(out)
    return y


def test_k_weighting_is_unity_loudness_at_997_hz() -> None:
    # BS.1770's -0.691 offset cancels the filters' +0.691 dB at 997 Hz.
    assert 10 * np.log10(k_weighting(np.array([997.0])))[0] == pytest.approx(0.691, abs=0.005)


@pytest.mark.parametrize("hz", [40.0, 300.0, 2000.0, 3500.0])
def test_k_weighting_matches_the_48k_filters_run_in_time(hz: float) -> None:
    t = np.arange(24000) / 48000
    y = biquad((1.53512485958697, -2.69169618940638, 1.19839281085285),
               (1.0, -1.69065929318241, 0.73248077421585), np.sin(2 * np.pi * hz * t).tolist())
    y = biquad((1.0, -2.0, 1.0), (1.0, -1.99004745483398, 0.99007225036621), y)
    settled = np.asarray(y[12000:])  # a whole number of periods of each frequency
    assert np.mean(settled**2) / 0.5 == pytest.approx(k_weighting(np.array([hz]))[0], rel=2e-3)


def test_a_sine_reads_its_rms_level_in_dbfs_and_lufs() -> None:
    x = np.zeros((10 * RATE, 2))
    x[:, 0] = sine(10, 0.1)
    a = analyze_call(x, RATE)
    expected = 20 * np.log10(0.1 / np.sqrt(2))  # -23.01 dBFS
    assert a.customer.rms_dbfs == pytest.approx(expected, abs=0.001)
    assert a.customer.loudness_lufs == pytest.approx(expected, abs=0.02)
    assert (a.agent.rms_dbfs, a.agent.loudness_lufs) == (-96.0, None)


def test_a_full_scale_square_wave_reads_zero_dbfs() -> None:
    x = np.zeros((RATE, 2))
    x[:, 1] = np.where(np.arange(RATE) % 20 < 10, 1.0, -1.0)
    assert analyze_call(x, RATE).agent.rms_dbfs == 0.0


def test_gating_leaves_out_the_quiet_half() -> None:
    # 5 s of tone then 5 s at -80 dBFS: the RMS drops 3 dB, the gated loudness does not.
    x = np.zeros((10 * RATE, 2))
    x[: 5 * RATE, 0] = sine(5, 0.1)
    x[5 * RATE :, 0] = sine(5, 10 ** (-80 / 20) * np.sqrt(2), 440.0)
    a = analyze_call(x, RATE)
    tone = 20 * np.log10(0.1 / np.sqrt(2))
    assert a.customer.rms_dbfs == pytest.approx(tone - 3.0103, abs=0.01)
    # Blocks straddling the step (75, 50 and 25 % tone) pass the relative gate: -0.13 dB.
    assert a.customer.loudness_lufs == pytest.approx(tone - 0.13, abs=0.03)


def test_loudness_needs_one_gating_block() -> None:
    x = np.zeros((round(0.39 * RATE), 2))
    x[:, 0] = sine(0.39, 0.5)
    assert analyze_call(x, RATE).customer.loudness_lufs is None


def test_clipping_counts_samples_and_runs_at_the_rails() -> None:
    call = Call(10.0)
    samples = call.int16()
    # Customer: a square wave on the rails, 2.0-2.5 s: 4000 samples in 400 runs of 10.
    square = np.where(np.arange(4000) % 20 < 10, 32767, -32768)
    samples[2 * RATE : 2 * RATE + 4000, 0] = square
    # Agent: mu-law's top code 32124 three times in a row at 5.0 s, once alone at 5.3 s, and the
    # next code down (31100), which is not clipping.
    samples[5 * RATE : 5 * RATE + 3, 1] = 32124
    samples[round(5.3 * RATE), 1] = -32124
    samples[6 * RATE : 6 * RATE + 5, 1] = 31100
    a = analyze_call(samples, RATE)
    assert (a.customer.clipped_samples, a.customer.clip_runs) == (4000, 400)
    assert a.customer.clipped_share == round(4000 / (10 * RATE), 9)
    assert (a.agent.clipped_samples, a.agent.clip_runs) == (4, 1)
    markers = [(s.start, s.end, s.kind) for s in a.segments if s.kind.endswith("clipping")]
    assert markers == [(2.0, 2.5, "customer_clipping"), (5.0, 5.32, "agent_clipping")]
    assert flags(a) == ("clipping",)  # 4000 / 80000 = 5 % > 1 %


def test_clip_level_is_a_setting() -> None:
    samples = Call(5.0).int16()
    samples[RATE : RATE + 10, 0] = 31100
    assert analyze_call(samples, RATE).customer.clipped_samples == 0
    assert analyze_call(samples, RATE, AnalyticsConfig(clip_level=0.949)).customer.clip_runs == 1


def test_float_clipping_at_full_scale() -> None:
    x = np.zeros((RATE, 2))
    x[100:110, 0] = 1.0
    x[200:203, 0] = -1.0
    a = analyze_call(x, RATE)
    assert (a.customer.clipped_samples, a.customer.clip_runs) == (13, 2)
