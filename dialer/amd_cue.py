"""When to leave a message on a machine: the end of its beep, or the silence after its greeting.

The detector (``dialer.amd``) calls a machine within about two seconds, long before the greeting
ends; a message played then is spoken over the greeting and mostly lost. ``MessageCue`` listens
to the rest of it and answers once: "beep" when a beep (the detector's tone rule) has ended,
"silence" after ``silence`` seconds without speech (machines that do not beep start recording
when the greeting ends), or, from ``finish``, "timeout". It has the same shape as the detector
(``feed``, ``finish``, ``detail``), so the media tap runs it the same way.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dialer.amd import AmdThresholds
from dialer.amd_features import FRAME_SECONDS, FrameAnalyser, ToneTracker

__all__ = ["BEEP", "SILENCE", "TIMEOUT", "MessageCue"]

BEEP = "beep"
SILENCE = "silence"
TIMEOUT = "timeout"


class MessageCue:
    """Listens to a machine's greeting until a message can start; pure, fed in order."""

    def __init__(self, config: AmdThresholds | None = None, *, silence: float = 1.0,
                 max_time: float = 30.0) -> None:
        c = config or AmdThresholds()
        self._frames = FrameAnalyser(
            noise_window=c.noise_window, max_noise_dbfs=c.max_noise_dbfs,
            voice_snr_db=c.voice_snr_db, min_voice_dbfs=c.min_voice_dbfs,
            tone_min_hz=c.tone_min_hz, tone_max_hz=c.tone_max_hz)
        self._tone = ToneTracker(share=c.tone_share, snr_db=c.voice_snr_db, drift_hz=c.tone_drift_hz)
        self._beep_min = max(1, round(c.beep_min / FRAME_SECONDS))
        self._silence = max(1, round(silence / FRAME_SECONDS))
        self._limit = max(1, round(max_time / FRAME_SECONDS))
        self._n = 0
        self._quiet = 0
        self._in_beep = False
        self._beep_at = -1
        self._beep_hz = 0.0
        self._cue_at = -1
        self.cue: str | None = None
        self.detail: dict[str, float] = self._features()

    @property
    def done(self) -> bool:
        """A cue was heard, or ``max_time`` of audio went by without one."""
        return self.cue is not None or self._n >= self._limit

    def feed(self, pcm: npt.NDArray[np.int16]) -> str | None:
        """The next samples; "beep" or "silence" once heard (and on every later call)."""
        if self.done:
            return self.cue
        for f in self._frames.feed(pcm):
            self._n += 1
            tone = self._tone.update(f)
            self._quiet = 0 if f.voiced else self._quiet + 1
            if tone >= self._beep_min and not self._in_beep:
                self._in_beep, self._beep_at, self._beep_hz = True, self._n - tone, self._tone.hz
            elif self._in_beep and tone == 0:
                self._cue(BEEP)  # the beep has just ended: the machine records from here
            elif self._quiet >= self._silence and not self._in_beep:
                self._cue(SILENCE)
            if self.done:
                break
        self.detail = self._features()
        return self.cue

    def finish(self) -> str:
        """The cue heard, else "timeout"."""
        if self.cue is None:
            self._cue(TIMEOUT)
            self.detail = self._features()
        return self.cue or TIMEOUT

    def _cue(self, cue: str) -> None:
        self.cue = cue
        self._cue_at = self._n - 1 if cue == BEEP else self._n

    def _features(self) -> dict[str, float]:
        s = FRAME_SECONDS
        return {"audio": self._n * s,
                "cue_at": self._cue_at * s if self._cue_at >= 0 else -1.0,
                "beep_at": self._beep_at * s if self._beep_at >= 0 else -1.0,
                "beep_hz": self._beep_hz}
