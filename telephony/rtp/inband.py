"""In-band DTMF: key presses heard as tone pairs in the audio (ITU-T Q.23 tones, Q.24 rules).

Some carriers send keys only as tones in the G.711 audio, so the audio is listened to: feed
20 ms frames of int16 PCM (or G.711 payloads) and get each key once, when it has lasted long
enough. The Goertzel bins (the DFT at exactly the 4 row and 4 column frequencies) are taken
over blocks of 102 samples (12.75 ms at 8 kHz, as spandsp and Asterisk do): short enough to
time keys and pauses, long enough to tell 697 Hz from 770 Hz. All blocks of a frame are done in
one numpy product.

A block is a key when (Q.24 and the usual detector practice):
- the strongest row and column tones are each above ``min_level_dbm0`` (default -35 dBm0);
- twist: the row tone is at most 8 dB above the column tone, or the column at most 4 dB above
  the row (normal / reverse twist);
- each is 8 dB above every other tone of its group;
- the pair holds at least 80% of the block's energy. Speech and music spread their energy over
  many frequencies and fail here; so does a block only partly covered by a tone.

A key is reported after 2 such blocks in a row (a tone of 40 ms is always heard, one of 20 ms
never: two blocks each 80% covered need 164 samples) and ends after 3 blocks without it, so a
pause of 40 ms separates two presses of the same key while a 10 ms drop-out does not split one.
Tones within 1.5% of their nominal frequencies are heard, tones 3.5% off are not (Q.24).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from telephony.rtp.g711 import decode

__all__ = ["COLUMNS", "ROWS", "InbandDigit", "InbandDtmfDetector"]

ROWS = (697.0, 770.0, 852.0, 941.0)  # ITU-T Q.23
COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
_KEYS = ("123A", "456B", "789C", "*0#D")
_BLOCK_8K = 102
# Each tone is measured at its frequency and 0.75% either side, and the strongest counts: a
# 102-sample bin is 78 Hz wide, so a key 1.5% off (allowed by Q.24) would lose too much.
_PROBES = (-0.0075, 0.0, 0.0075)
_FULL_SCALE_DBM0 = 3.17  # G.711: a full-scale sine is +3.17 dBm0 (the 0 dBm0 sequence of Table 5)
NORMAL_TWIST = 10 ** (8 / 10)  # the row tone may be up to 8 dB stronger than the column tone
REVERSE_TWIST = 10 ** (4 / 10)  # the column tone up to 4 dB stronger than the row tone
RELATIVE_PEAK = 10 ** (8 / 10)  # each tone 8 dB above the rest of its group
TONE_SHARE = 0.80  # of the block's energy
ON_BLOCKS = 2
OFF_BLOCKS = 3

Pcm = npt.NDArray[np.int16]


@dataclass(frozen=True)
class InbandDigit:
    """A key heard in the audio; ``start`` is the sample (counted from the detector's first
    sample) where its tone was first recognised, ``reported`` where it was confirmed."""

    digit: str
    start: int
    reported: int


class InbandDtmfDetector:
    """Listens to one direction of audio for DTMF tone pairs; pure, fed frame by frame."""

    def __init__(self, rate: int = 8000, *, min_level_dbm0: float = -35.0) -> None:
        self.rate = rate
        self.block = round(_BLOCK_8K * rate / 8000)
        n = np.arange(self.block)
        freqs = np.array([f * (1 + d) for d in _PROBES for f in ROWS + COLUMNS])
        phase = 2 * np.pi * freqs[None, :] * n[:, None] / rate
        self._basis = np.concatenate([np.cos(phase), np.sin(phase)], axis=1)  # (block, 48)
        # Energy of a sine at the minimum level over one block: (A^2 / 2) * N.
        amplitude = 32768 * 10 ** ((min_level_dbm0 - _FULL_SCALE_DBM0) / 20)
        self._min_energy = amplitude**2 / 2 * self.block
        self.reset()

    def reset(self) -> None:
        """Forget all audio (a new call, or a jump in the stream)."""
        self._pending = np.zeros(0, dtype=np.float64)
        self._samples = 0  # samples consumed into blocks so far
        self._candidate: str | None = None
        self._candidate_start = 0
        self._count = 0
        self._current: str | None = None
        self._off = 0

    def feed(self, pcm: Pcm) -> list[InbandDigit]:
        """Feed int16 samples (any length, usually a 20 ms frame); returns the keys confirmed."""
        data = np.concatenate([self._pending, np.asarray(pcm, dtype=np.float64)])
        blocks = len(data) // self.block
        self._pending = data[blocks * self.block :]
        if not blocks:
            return []
        frames = data[: blocks * self.block].reshape(blocks, self.block)
        out: list[InbandDigit] = []
        for hit in self._classify(frames):
            digit = self._track(hit)
            self._samples += self.block
            if digit is not None:
                out.append(InbandDigit(digit, self._candidate_start, self._samples))
        return out

    def feed_payload(self, payload: bytes, codec_name: str) -> list[InbandDigit]:
        """Feed a PCMU or PCMA payload."""
        return self.feed(decode(payload, codec_name))

    def _classify(self, frames: npt.NDArray[np.float64]) -> list[str | None]:
        """The key each block carries, or None."""
        parts = frames @ self._basis
        half = parts.shape[1] // 2
        probes = (parts[:, :half] ** 2 + parts[:, half:] ** 2) * (2.0 / self.block)
        power = probes.reshape(len(frames), len(_PROBES), 8).max(axis=1)
        total = np.einsum("ij,ij->i", frames, frames)
        return [self._key(p, e) for p, e in zip(power.tolist(), total.tolist(), strict=True)]

    def _key(self, p: list[float], energy: float) -> str | None:
        """The checks of the module docstring, on the 8 tone energies of one block."""
        if energy < 2 * self._min_energy:
            return None  # too quiet to hold two tones above the minimum level
        rows, cols = p[:4], p[4:]
        row, col = max(rows), max(cols)
        if row < self._min_energy or col < self._min_energy:
            return None
        if row > col * NORMAL_TWIST or col > row * REVERSE_TWIST:
            return None
        if row + col < TONE_SHARE * energy:
            return None
        if sum(x * RELATIVE_PEAK > row for x in rows) > 1 or sum(x * RELATIVE_PEAK > col for x in cols) > 1:
            return None
        return _KEYS[rows.index(row)][cols.index(col)]

    def _track(self, hit: str | None) -> str | None:
        """Debounce: a key starts after ON_BLOCKS equal blocks, ends after OFF_BLOCKS others."""
        if hit == self._candidate:
            self._count += 1
        else:
            self._candidate, self._count = hit, 1
            self._candidate_start = self._samples
        if self._current is not None:
            self._off = 0 if hit == self._current else self._off + 1
            if self._off < OFF_BLOCKS:
                return None
            self._current = None
        if hit is not None and self._count >= ON_BLOCKS:
            self._current = hit
            self._off = 0
            return hit
        return None
