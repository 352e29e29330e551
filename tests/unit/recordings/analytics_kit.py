"""Generated two-channel calls whose talk, silence, overtalk and hold are known to the frame.

Times are multiples of 20 ms so every segment starts and ends on a frame boundary. Talk is
speech-like: syllables of flat-envelope noise (200 ms) at alternating levels with 60 ms pauses
(bridged by the 300 ms hangover; the pauses also keep talk from reading as steady music). The
last syllable runs to the end of the segment, so talk starts and ends exactly where asked.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RATE = 8000
FULL = 32768.0
SYLLABLE = 0.2
PAUSE = 0.06


def db(level_dbfs: float) -> float:
    """An RMS level in dBFS as an amplitude in int16 units (Gaussian noise: its sigma)."""
    return float(FULL * 10 ** (level_dbfs / 20))


class Call:
    """A call being built: float samples, channel 0 customer, channel 1 agent."""

    def __init__(self, seconds: float, noise_dbfs: float | None = -60.0, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.x = np.zeros((round(seconds * RATE), 2))
        if noise_dbfs is not None:
            self.x += self.rng.normal(0.0, db(noise_dbfs), self.x.shape)

    def _span(self, start: float, end: float) -> slice:
        return slice(round(start * RATE), round(end * RATE))

    def talk(self, channel: int, start: float, end: float, levels: tuple[float, ...] = (-18.0, -26.0)) -> Call:
        """Speech-like syllables on ``channel`` from ``start`` to ``end``."""
        t, k = start, 0
        while t < end - 1e-9:
            stop = t + SYLLABLE
            if end - stop <= PAUSE + 0.02 + 1e-9:  # no room for a pause and a syllable
                stop = end
            span = self._span(t, stop)
            n = span.stop - span.start
            self.x[span, channel] = self.rng.normal(0.0, db(levels[k % len(levels)]), n)
            t, k = stop + PAUSE, k + 1
        return self

    def music(self, channel: int, start: float, end: float, level_dbfs: float = -20.0) -> Call:
        """Hold music: a tune of pure notes changing every 0.5 s at a steady level."""
        span = self._span(start, end)
        t = np.arange(span.stop - span.start) / RATE
        notes = np.array([440.0, 494.0, 523.0, 587.0, 659.0])
        freq = notes[(t // 0.5).astype(int) % len(notes)]
        phase = 2 * np.pi * np.cumsum(freq) / RATE
        self.x[span, channel] = db(level_dbfs) * np.sqrt(2) * np.sin(phase)
        return self

    def zeros(self, channel: int, start: float, end: float) -> Call:
        """Digital silence (a phone that stopped sending) on ``channel``."""
        self.x[self._span(start, end), channel] = 0.0
        return self

    def int16(self) -> npt.NDArray[np.int16]:
        """The call as int16 samples (rounded, clipped at the rails)."""
        return np.clip(np.rint(self.x), -32768, 32767).astype(np.int16)


def scenario() -> Call:
    """The reference call of test_analytics.py (60 s): see the expected figures there."""
    call = Call(60.0)
    call.talk(1, 1.0, 6.0)  # agent greets
    call.talk(0, 6.5, 12.0)  # customer
    call.talk(1, 10.0, 14.0)  # agent talks over the customer from 10 to 12
    call.talk(0, 13.0, 13.2, levels=(-22.0,))  # "mhm": a backchannel, not overtalk
    # 14 to 22: dead air
    call.talk(0, 22.0, 25.0)
    call.music(1, 26.0, 46.0)  # on hold, music on the agent's channel
    call.talk(1, 46.5, 50.0)  # "thanks for holding"
    call.talk(0, 50.0, 55.0)
    return call  # 55 to 60: silence until the end
