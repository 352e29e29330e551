"""Frame features of a two-channel call: level, adaptive noise floor, voice activity, steadiness.

The same ideas as the answering-machine detector's frame features (dialer/amd_features.py:
level in dBFS, noise floor by minimum statistics capped at a maximum, digital silence ignored,
a voice threshold above the floor with hysteresis), done offline over a whole recording: the
floor's window is centred on the frame, hysteresis is double thresholding of runs, and no
Python loop runs per frame. (``recordings`` may not import ``dialer``; see test_layering.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recordings.analytics_config import AnalyticsConfig
from recordings.analytics_runs import Bools, moving_sum, runs

__all__ = ["SILENT_DB", "ChannelFrames", "Floats", "analyse_channel", "frame_levels", "sliding_min"]

SILENT_DB = -96.0  # the level of digital silence (as dialer/amd_features.py reads it)

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ChannelFrames:
    """Per-frame features of one channel (all arrays have one entry per frame)."""

    level: Floats  # RMS in dBFS (a full-scale square wave reads 0)
    floor: Floats  # noise floor in dBFS
    voiced: Bools  # above the voice threshold, with hysteresis
    steady: Bools  # music or tone: part of a steady, nearly always-on stretch
    digital: Bools  # digital silence: no line at all


def frame_levels(channels: Floats, frame: int, full_scale: float) -> Floats:
    """``(2, n)`` samples (channel-major) -> ``(2, frames)`` levels in dBFS of every whole frame."""
    count = channels.shape[1] // frame
    blocks = channels[:, : count * frame].reshape(2, count, frame)
    power = np.einsum("kij,kij->ki", blocks, blocks) / (frame * full_scale * full_scale)
    with np.errstate(divide="ignore"):
        db: Floats = 10 * np.log10(power)
    return np.maximum(db, SILENT_DB)


def sliding_min(values: Floats, width: int) -> Floats:
    """``min(values[i : i + width])`` for each i where the window fits (van Herk / Gil-Werman:
    a running minimum forwards and backwards in blocks of ``width``, whatever the width)."""
    n = len(values)
    if n < width:
        return np.zeros(0)
    blocks = -(-n // width)
    padded = np.full(blocks * width, np.inf)
    padded[:n] = values
    rows = padded.reshape(blocks, width)
    forward = np.minimum.accumulate(rows, axis=1).ravel()
    backward = np.minimum.accumulate(rows[:, ::-1], axis=1)[:, ::-1].ravel()
    result: Floats = np.minimum(backward[: n - width + 1], forward[width - 1 : n])
    return result


def _noise_floor(level: Floats, live: Bools, half: int, cap: float) -> Floats:
    """Minimum of the live frames within ``half`` frames either side, capped at ``cap``."""
    values = np.full(len(level) + 2 * half, np.inf)
    values[half : half + len(level)] = np.where(live, level, np.inf)
    lowest = sliding_min(values, 2 * half + 1)
    floor: Floats = np.where(np.isinf(lowest), SILENT_DB, np.minimum(lowest, cap))
    return floor


def _hysteresis(high: Bools, low: Bools) -> Bools:
    """Runs of ``low`` that reach ``high`` somewhere."""
    starts, ends = runs(low)
    reached = np.concatenate([[0], np.cumsum(high)])
    keep = reached[ends] > reached[starts]
    marks = np.zeros(len(low) + 1, dtype=np.int64)
    np.add.at(marks, starts[keep], 1)
    np.add.at(marks, ends[keep], -1)
    voiced: Bools = np.cumsum(marks[:-1]) > 0
    return voiced


def _steady(level: Floats, high: Bools, low: Bools, half: int, c: AnalyticsConfig) -> Bools:
    """Frames of windows (``2 * half + 1`` frames) that are nearly all above the voice threshold
    with little spread in level: music and tones. Speech dips between syllables, so it fails."""
    active = high.astype(np.float64)
    total = moving_sum(np.ones(len(level)), half)
    count = moving_sum(active, half)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = moving_sum(level * active, half) / count
        spread = moving_sum(level * level * active, half) / count - mean * mean
    centre = (count >= c.steady_active * total) & (count > 0) & (spread <= c.steady_std_db ** 2)
    # Every frame of a steady window is steady, as long as it is itself above the low threshold.
    steady: Bools = (moving_sum(centre.astype(np.float64), half) > 0.5) & low
    return steady


def analyse_channel(level: Floats, frame_s: float, c: AnalyticsConfig) -> ChannelFrames:
    """Floor, voice activity and steadiness of one channel's frame levels."""
    digital = level < c.digital_silence_dbfs
    floor = _noise_floor(level, ~digital, max(1, round(c.noise_window_s / frame_s / 2)),
                         c.max_noise_dbfs)
    threshold = np.maximum(floor + c.voice_snr_db, c.min_voice_dbfs)
    high = level > threshold
    low = level > threshold - c.hysteresis_db
    voiced = _hysteresis(high, low)
    steady = _steady(level, high, low, max(1, round(c.steady_window_s / frame_s / 2)), c)
    return ChannelFrames(level, floor, voiced, steady, digital)
