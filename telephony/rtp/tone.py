"""Test and demo audio: sine tones, DTMF tone pairs, 20 ms framing, and a one-bin tone meter.

``tone_power_db`` answers "how loud is frequency f in these samples", so a test can tell which
tone (caller's or seat's) landed on which recording channel; a full-scale sine reads 0 dB.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

__all__ = [
    "DTMF_FREQUENCIES",
    "dtmf_tone",
    "dual_tone",
    "frames",
    "silence",
    "tone",
    "tone_power_db",
]

Pcm = npt.NDArray[np.int16]
FULL_SCALE = 32767.0
FLOOR_DB = -120.0

# ITU-T Q.23: (row, column) frequencies in Hz.
DTMF_FREQUENCIES: dict[str, tuple[int, int]] = {
    digit: (row, col)
    for row, keys in zip((697, 770, 852, 941), ("123A", "456B", "789C", "*0#D"), strict=True)
    for col, digit in zip((1209, 1336, 1477, 1633), keys, strict=True)
}


def _sines(freqs: tuple[float, ...], seconds: float, rate: int, peak: float) -> Pcm:
    t = np.arange(round(seconds * rate)) / rate
    wave = sum(np.sin(2 * np.pi * f * t) for f in freqs) * peak
    return np.asarray(np.round(wave), dtype=np.int16)


def tone(freq_hz: float, seconds: float, rate: int = 8000, dbfs: float = -10.0) -> Pcm:
    """A sine at ``freq_hz`` whose peak is ``dbfs`` below full scale."""
    return _sines((freq_hz,), seconds, rate, FULL_SCALE * 10 ** (dbfs / 20))


def dual_tone(
    f1: float, f2: float, seconds: float, rate: int = 8000, dbfs: float = -10.0
) -> Pcm:
    """Two equal sines whose summed peak is at most ``dbfs`` (each component 6 dB lower)."""
    return _sines((f1, f2), seconds, rate, FULL_SCALE * 10 ** (dbfs / 20) / 2)


def dtmf_tone(digit: str, seconds: float = 0.1, rate: int = 8000, dbfs: float = -10.0) -> Pcm:
    """The in-band tone pair of a DTMF digit (0-9 * # A-D)."""
    row, col = DTMF_FREQUENCIES[digit.upper()]
    return dual_tone(row, col, seconds, rate, dbfs)


def silence(seconds: float, rate: int = 8000) -> Pcm:
    """Digital silence."""
    return np.zeros(round(seconds * rate), dtype=np.int16)


def tone_power_db(samples: npt.NDArray[np.integer], freq: float, rate: int = 8000) -> float:
    """Level of ``freq`` in ``samples`` in dB relative to a full-scale sine (Hann-windowed DFT bin).

    Silence (or an empty input) reads ``FLOOR_DB``; a tone 10 dB down reads about -10.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return FLOOR_DB
    window = np.hanning(x.size) if x.size > 2 else np.ones(x.size)
    phase = np.exp(-2j * np.pi * freq * np.arange(x.size) / rate)
    amplitude = 2 * abs(np.dot(x * window, phase)) / window.sum()
    if amplitude <= 0:
        return FLOOR_DB
    return max(20 * math.log10(amplitude / FULL_SCALE), FLOOR_DB)


def frames(pcm: Pcm, samples_per_frame: int = 160) -> Iterator[Pcm]:
    """Consecutive frames of ``pcm``; the last one is padded with silence to full length."""
    for start in range(0, len(pcm), samples_per_frame):
        frame = pcm[start : start + samples_per_frame]
        if len(frame) < samples_per_frame:
            frame = np.concatenate([frame, np.zeros(samples_per_frame - len(frame), np.int16)])
        yield frame
