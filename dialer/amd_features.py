"""Frame features for answering-machine detection: level, noise floor, voicing and tones.

Audio is cut into 20 ms frames (160 samples at 8 kHz). For each frame:

- its level, the RMS in dBFS (a full-scale square wave reads 0 dBFS, digital silence -96);
- the noise floor, by minimum statistics: the quietest frame of the last ``noise_window``
  seconds. Speech always has quiet moments between syllables, stationary noise has no loud ones,
  so the minimum follows the line's noise and not the talker. It is capped at ``max_noise_dbfs``
  so that a call which starts talking at once is still heard as talk. Frames of digital
  silence (below -90 dBFS: lost packets played out as zeros, a muted line) are not noise and
  do not lower it;
- whether it is voiced: louder than the floor by ``voice_snr_db`` (and than ``min_voice_dbfs``),
  with 3 dB of hysteresis so a word does not flicker at its edges;
- its tone (frames too quiet to be voiced skip this and read 0 Hz, share 0): over the 40 ms
  ending with the frame (Hann window, 512-point FFT), the share of the energy that lies within
  62 Hz of the strongest peak between ``tone_min_hz`` and ``tone_max_hz``. A sine puts more
  than 99% there; speech spreads its energy over harmonics
  and formants and stays well under ``tone_share``, so a beep, a fax or modem tone or a
  synthetic hold note stands out (a Goertzel bank would need to know the beep's frequency;
  machines beep anywhere from 400 Hz to 2 kHz).

All frames of one chunk are analysed in one numpy product; the state that crosses frames (the
floor's window, the previous frame, the hysteresis) is kept here, so any chunking of the same
audio gives the same features.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["FRAME", "FRAME_SECONDS", "RATE", "FrameAnalyser", "FrameFeature", "ToneTracker"]

RATE = 8000
FRAME = 160
FRAME_SECONDS = FRAME / RATE
_FFT = 512
_BIN_HZ = RATE / _FFT
_LOBE = 4  # bins either side of a peak: a 320-sample Hann window's main lobe is +-50 Hz
_FULL_SCALE_DB = 20 * np.log10(32768.0)
_SILENT_DB = -96.0
_DIGITAL_SILENCE_DB = -90.0
_HYSTERESIS_DB = 3.0

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FrameFeature:
    """One 20 ms frame: level and floor in dBFS, voiced or not, strongest tone and its share
    (0 and 0 for a frame too quiet to be voiced)."""

    level_db: float
    floor_db: float
    voiced: bool
    tone_hz: float
    tone_share: float


class FrameAnalyser:
    """Turns int16 samples into ``FrameFeature`` per whole 20 ms frame; keeps partial frames."""

    def __init__(self, *, noise_window: float, max_noise_dbfs: float, voice_snr_db: float,
                 min_voice_dbfs: float, tone_min_hz: float, tone_max_hz: float) -> None:
        self._window_frames = max(1, round(noise_window / FRAME_SECONDS))
        self._max_noise = max_noise_dbfs
        self._snr = voice_snr_db
        self._min_voice = min_voice_dbfs
        self._lo = max(int(np.ceil(tone_min_hz / _BIN_HZ)), _LOBE)
        self._hi = min(int(np.floor(tone_max_hz / _BIN_HZ)), _FFT // 2 - _LOBE)
        self._hann = np.hanning(2 * FRAME)
        self._pending = np.zeros(0, dtype=np.float64)
        self._previous = np.zeros(FRAME, dtype=np.float64)
        # Monotonic deque of (frame index, level): its head is the minimum of the window.
        self._minima: deque[tuple[int, float]] = deque()
        self._index = 0
        self._floor = _SILENT_DB  # until a frame louder than digital silence is heard
        self._voiced = False

    def feed(self, pcm: npt.NDArray[np.int16]) -> list[FrameFeature]:
        """Features of every frame completed by ``pcm``."""
        data = np.concatenate([self._pending, np.asarray(pcm, dtype=np.float64).ravel()])
        count = len(data) // FRAME
        self._pending = data[count * FRAME :]
        if not count:
            return []
        frames = data[: count * FRAME].reshape(count, FRAME)
        levels = self._levels(frames)
        tone_hz, share = np.zeros(count), np.zeros(count)
        # Only a frame loud enough to be voiced can be a tone: quiet ones skip the FFT.
        loud = levels > self._min_voice - _HYSTERESIS_DB
        if loud.any():
            windows = np.concatenate([np.vstack([self._previous, frames[:-1]]), frames], axis=1)
            tone_hz[loud], share[loud] = self._tones(windows[loud])
        self._previous = frames[-1].copy()
        return [self._frame(level, hz, s)
                for level, hz, s in zip(levels.tolist(), tone_hz.tolist(), share.tolist(), strict=True)]

    @staticmethod
    def _levels(frames: Floats) -> Floats:
        power: Floats = np.einsum("ij,ij->i", frames, frames) / FRAME
        with np.errstate(divide="ignore"):
            db: Floats = 10 * np.log10(power) - _FULL_SCALE_DB
        return np.maximum(db, _SILENT_DB)

    def _tones(self, windows: Floats) -> tuple[Floats, Floats]:
        """Strongest in-band peak (Hz, parabolic interpolation) of each 40 ms window and its
        share of the window's energy."""
        power = np.abs(np.fft.rfft(windows * self._hann, _FFT)) ** 2
        band = power[:, self._lo : self._hi + 1]
        peak = np.argmax(band, axis=1) + self._lo
        rows = np.arange(len(windows))
        offsets = np.arange(-_LOBE, _LOBE + 1)
        lobe = power[rows[:, None], peak[:, None] + offsets[None, :]].sum(axis=1)
        total = power.sum(axis=1)
        share = np.divide(lobe, total, out=np.zeros_like(lobe), where=total > 0)
        left, mid, right = (power[rows, peak + d] for d in (-1, 0, 1))
        denom = left - 2 * mid + right
        delta = np.divide(0.5 * (left - right), denom, out=np.zeros_like(mid), where=denom != 0)
        return (peak + np.clip(delta, -0.5, 0.5)) * _BIN_HZ, share

    def _frame(self, level: float, tone_hz: float, share: float) -> FrameFeature:
        floor = self._track_floor(level)
        threshold = max(floor + self._snr, self._min_voice)
        if self._voiced:
            threshold -= _HYSTERESIS_DB
        self._voiced = level > threshold
        return FrameFeature(level, floor, self._voiced, tone_hz, share)

    def _track_floor(self, level: float) -> float:
        if level > _DIGITAL_SILENCE_DB:
            while self._minima and self._minima[-1][1] >= level:
                self._minima.pop()
            self._minima.append((self._index, level))
        while self._minima and self._minima[0][0] <= self._index - self._window_frames:
            self._minima.popleft()
        self._index += 1
        if self._minima:
            self._floor = min(self._minima[0][1], self._max_noise)
        return self._floor


class ToneTracker:
    """A steady tone: consecutive voiced frames with ``share`` of their energy in one peak,
    whose frequency stays within ``drift_hz`` of the first's."""

    def __init__(self, *, share: float, snr_db: float, drift_hz: float) -> None:
        self._share = share
        self._snr = snr_db
        self._drift = drift_hz
        self.frames = 0  # length of the current run
        self.hz = 0.0  # frequency of the run's first frame

    def update(self, f: FrameFeature) -> int:
        """Take one frame; returns how many frames the current tone has lasted (0: none)."""
        tonal = f.voiced and f.tone_share >= self._share and f.level_db >= f.floor_db + self._snr
        if not tonal:
            self.frames = 0
        elif self.frames and abs(f.tone_hz - self.hz) <= self._drift:
            self.frames += 1
        else:
            self.frames, self.hz = 1, f.tone_hz
        return self.frames
