"""Shared makers for the archive tests: stereo WAVs written by the real writer, FLAC byte edits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from recordings.wav import StereoWavWriter

__all__ = ["make_wav", "samples", "set_bits"]


def samples(seconds: float, seed: int, rate: int = 8000) -> npt.NDArray[np.int16]:
    """Deterministic speech-like stereo audio: noise bursts over silence, per channel."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    audio = rng.normal(0, 2500, (n, 2))
    gate = (np.sin(np.arange(n)[:, None] / rate * np.array([1.3, 0.7]) * 2 * np.pi) > 0)
    return (audio * gate).astype(np.int16)


def make_wav(path: Path, seconds: float = 2.0, seed: int = 1, rate: int = 8000) -> npt.NDArray[np.int16]:
    """Write a finished recording with StereoWavWriter (as the relay does); return its samples."""
    audio = samples(seconds, seed, rate)
    with StereoWavWriter(path, rate) as writer:
        for start in range(0, len(audio), 1600):
            writer.write(audio[start : start + 1600])
            writer.flush()
    return audio


def set_bits(data: bytes, start_bit: int, count: int, value: int) -> bytes:
    """``data`` with ``count`` bits from ``start_bit`` (MSB first) replaced by ``value``."""
    out = bytearray(data)
    for i in range(count):
        byte, offset = divmod(start_bit + i, 8)
        mask = 0x80 >> offset
        if (value >> (count - 1 - i)) & 1:
            out[byte] |= mask
        else:
            out[byte] &= ~mask & 0xFF
    return bytes(out)
