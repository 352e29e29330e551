"""Answering-machine detection (AMD) from the first seconds of an answered call's audio.

A person who answers says something short ("Hello?", "喂？", "Yes?") and waits; a machine plays
a greeting that runs on for seconds, often ending in a beep. The detector follows the cadence
of the called party's audio, 20 ms frame by frame (features in ``dialer.amd_features``):

- the initial silence before the first word;
- words: voiced runs of at least ``min_word`` seconds, bridged over gaps shorter than
  ``between_words``; their count, the pauses between them, the total speech;
- the greeting: the first utterance, from the first word until a pause of
  ``after_greeting_silence``; its voiced time and its span;
- a steady narrowband tone (a beep, a fax or modem tone) of ``beep_min`` seconds.

Rules, in the spirit of Asterisk's app_amd (whose defaults are quoted on each field), checked
after every frame, first match wins:

1. a tone of ``beep_min`` or longer → machine;
2. a word longer than ``max_word`` → machine;
3. a greeting with ``greeting`` seconds of speech or more → machine;
4. ``max_words`` words before the greeting ends → machine;
5. a greeting followed by ``after_greeting_silence`` of silence → human;
6. (only with ``initial_silence_is_machine``) no word within ``initial_silence`` → machine.

When ``max_time`` seconds of audio have been heard without a rule firing, the verdict is the
evidence at hand (``finish``): "unknown" if nobody spoke, else whether the greeting so far is
closer to a human's or a machine's (see ``_weigh``). The detector is pure: no clock, no I/O;
time is the amount of audio fed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import Enum

import numpy as np
import numpy.typing as npt

from dialer.amd_features import FRAME_SECONDS, FrameAnalyser, FrameFeature, ToneTracker

__all__ = ["HUMAN", "MACHINE", "UNKNOWN", "AmdDetector", "AmdThresholds", "Phase"]

HUMAN = "human"
MACHINE = "machine"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class AmdThresholds:
    """Thresholds of the detector, in seconds unless named otherwise (see docs/amd.md)."""

    max_time: float = 4.0  # total analysis time (Asterisk total_analysis_time: 5.0)
    initial_silence: float = 2.5  # Asterisk initial_silence: 2.5
    initial_silence_is_machine: bool = False  # Asterisk: True
    greeting: float = 1.5  # voiced seconds of a greeting (Asterisk greeting: 1.5)
    after_greeting_silence: float = 0.8  # Asterisk after_greeting_silence: 0.8
    min_word: float = 0.1  # Asterisk min_word_length: 0.1
    between_words: float = 0.05  # Asterisk between_words_silence: 0.05
    max_words: int = 4  # Asterisk maximum_number_of_words: 3 (tuned: see docs/amd.md)
    max_word: float = 3.0  # Asterisk maximum_word_length: 5.0
    voice_snr_db: float = 10.0  # a voiced frame is this much above the noise floor
    min_voice_dbfs: float = -55.0  # and at least this loud
    max_noise_dbfs: float = -35.0  # the noise floor is never taken to be louder than this
    noise_window: float = 1.5  # minimum statistics over this much audio
    beep_min: float = 0.12  # a steady tone this long is a beep
    tone_share: float = 0.8  # of a frame's energy within 62 Hz of its peak
    tone_min_hz: float = 400.0
    tone_max_hz: float = 3400.0
    tone_drift_hz: float = 10.0  # a tone's frequency may wander this much

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or f.name.endswith("dbfs") or f.name.endswith("db"):
                continue
            if not value > 0:
                raise ValueError(f"amd.{f.name} must be positive, not {value!r}")
        if self.tone_share > 1:
            raise ValueError(f"amd.tone_share must be at most 1, not {self.tone_share!r}")
        if not self.tone_min_hz < self.tone_max_hz <= 4000:
            raise ValueError("amd.tone_min_hz < amd.tone_max_hz <= 4000 must hold")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], where: str = "amd") -> AmdThresholds:
        """Build from a TOML table; an unknown key or a value of the wrong type is an error
        naming ``where`` and the key."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, object] = {}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"{where}.{key}: unknown key (known: {', '.join(sorted(known))})")
            default = known[key].default
            if isinstance(default, bool) != isinstance(value, bool) or not isinstance(
                    value, int | float):
                raise ValueError(f"{where}.{key}: expected {type(default).__name__}, got {value!r}")
            if isinstance(default, int) and not isinstance(default, bool) and not isinstance(value, int):
                raise ValueError(f"{where}.{key}: expected an integer, got {value!r}")
            values[key] = value
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None


class Phase(Enum):
    """Where the cadence is: before the first word, inside a word, or in a pause."""

    WAITING = "waiting"
    WORD = "word"
    PAUSE = "pause"


class _Input(Enum):
    WORD_STARTED = "word_started"  # a voiced run reached min_word
    WORD_ENDED = "word_ended"  # between_words of silence after a word


# The cadence's transition table; a missing entry is a bug, not an input to ignore.
_TRANSITIONS: dict[tuple[Phase, _Input], Phase] = {
    (Phase.WAITING, _Input.WORD_STARTED): Phase.WORD,
    (Phase.PAUSE, _Input.WORD_STARTED): Phase.WORD,
    (Phase.WORD, _Input.WORD_ENDED): Phase.PAUSE,
}


class AmdDetector:
    """Streaming detector for one call: ``feed`` 8 kHz int16 audio in order (any chunk size)
    until it returns "human" or "machine", or ``finish`` when the time budget is over."""

    def __init__(self, config: AmdThresholds | None = None) -> None:
        self.config = config or AmdThresholds()
        c = self.config
        self._frames = FrameAnalyser(
            noise_window=c.noise_window, max_noise_dbfs=c.max_noise_dbfs,
            voice_snr_db=c.voice_snr_db, min_voice_dbfs=c.min_voice_dbfs,
            tone_min_hz=c.tone_min_hz, tone_max_hz=c.tone_max_hz)
        self._tone = ToneTracker(share=c.tone_share, snr_db=c.voice_snr_db, drift_hz=c.tone_drift_hz)
        self.phase = Phase.WAITING
        self.verdict: str | None = None
        self.reason = ""  # which rule decided: "beep", "long_greeting", "after_greeting", ...
        self._n = 0  # frames analysed
        self._decided = -1  # frames analysed when the verdict came (finish's "unknown" too)
        self._run = 0  # consecutive voiced frames
        self._quiet = 0  # consecutive unvoiced frames
        self._word_start = 0  # frame where the current (or last) word began
        self._last_voice = 0  # frame after the last voiced frame of a word
        self._greeting_open = False
        self._first_onset = -1
        self._greeting_end = 0  # frame after the greeting's last word
        self._greeting_voiced = 0
        self._words = 0
        self._utterances = 0
        self._pauses: list[int] = []
        self._voiced_frames = 0
        self._speech_db: list[float] = []  # levels of the frames counted as speech
        self._run_db: list[float] = []  # levels of a voiced run not yet long enough for a word
        self._floor_db = -96.0
        self._beep_at = -1
        self._beep_hz = 0.0
        self.detail: dict[str, float] = {}  # the features, refreshed after each feed and finish
        frames = self._frames_of
        self._limit = frames(c.max_time)
        self._min_word, self._between = frames(c.min_word), frames(c.between_words)
        self._greeting, self._after = frames(c.greeting), frames(c.after_greeting_silence)
        self._max_word, self._initial = frames(c.max_word), frames(c.initial_silence)
        self._beep_min = frames(c.beep_min)
        self.detail = self._features()

    @property
    def done(self) -> bool:
        """A verdict is in, or the time budget is spent (call ``finish``)."""
        return self.verdict is not None or self._n >= self._limit

    def feed(self, pcm: npt.NDArray[np.int16]) -> str | None:
        """Analyse the next samples; "human" or "machine" once decided (and on every later
        call), else None. Audio past the decision or the time budget is ignored."""
        if self.done:
            return self.verdict
        for feature in self._frames.feed(pcm):
            self._step(feature)
            if self.verdict is None and self._n >= self._limit:
                verdict = self._weigh()
                if verdict != UNKNOWN:
                    self._decide(verdict, "timeout")
            if self.done:
                break
        self.detail = self._features()
        return self.verdict

    def finish(self) -> str:
        """The verdict now: a rule's, else what the evidence says, else "unknown"."""
        if self.verdict is None:
            verdict = self._weigh()
            if verdict == UNKNOWN:
                self.reason = "no_speech" if self._first_onset < 0 else "unsure"
                self._decided = self._n
                self.detail = self._features()
                return UNKNOWN
            self._decide(verdict, "timeout")
            self.detail = self._features()
        return self.verdict or UNKNOWN

    def _features(self) -> dict[str, float]:
        """The features and the time of the decision, in seconds of audio (-1: not seen)."""
        s = FRAME_SECONDS
        now = self._n
        onset = self._first_onset
        span_end = self._last_voice if self._greeting_open else self._greeting_end
        pauses = self._pauses
        return {
            "audio": now * s,
            "decided_at": self._decided * s if self._decided >= 0 else -1.0,
            "initial_silence": (onset if onset >= 0 else now) * s,
            "first_utterance": (span_end - onset) * s if onset >= 0 else 0.0,
            "greeting_voiced": self._greeting_voiced * s,
            "words": float(self._words),
            "utterances": float(self._utterances),
            "longest_pause": max(pauses) * s if pauses else 0.0,
            "mean_pause": sum(pauses) / len(pauses) * s if pauses else 0.0,
            "speech": self._voiced_frames * s,
            "trailing_silence": (now - self._last_voice) * s if onset >= 0 else now * s,
            "noise_floor_dbfs": self._floor_db,
            "speech_dbfs": float(np.median(self._speech_db)) if self._speech_db else -96.0,
            "beep_at": self._beep_at * s if self._beep_at >= 0 else -1.0,
            "beep_hz": self._beep_hz,
        }

    @staticmethod
    def _frames_of(seconds: float) -> int:
        return max(1, round(seconds / FRAME_SECONDS))

    def _step(self, f: FrameFeature) -> None:
        """One frame: segmentation, then the rules."""
        self._n += 1
        self._floor_db = f.floor_db
        if f.voiced:
            self._on_voiced(f)
        else:
            self._on_quiet()
        tone = self._tone.update(f)
        if tone >= self._beep_min and self._beep_at < 0:
            self._beep_at, self._beep_hz = self._n - tone, self._tone.hz
        self._apply_rules()

    def _on_voiced(self, f: FrameFeature) -> None:
        self._run += 1
        self._quiet = 0
        if self.phase is Phase.WORD:
            self._count_voice(f.level_db)
            return
        self._run_db.append(f.level_db)
        if self._run >= self._min_word:  # the run is a word, from its first frame
            self._word_started()
            for level in self._run_db:
                self._count_voice(level)
            self._run_db.clear()

    def _count_voice(self, level_db: float) -> None:
        self._last_voice = self._n
        self._voiced_frames += 1
        if self._greeting_open:
            self._greeting_voiced += 1
        self._speech_db.append(level_db)

    def _on_quiet(self) -> None:
        self._run = 0
        self._run_db.clear()  # too short for a word: a click, a breath
        self._quiet += 1
        if self.phase is Phase.WORD and self._quiet >= self._between:
            self.phase = _TRANSITIONS[(self.phase, _Input.WORD_ENDED)]
        if (self._greeting_open and self.phase is Phase.PAUSE
                and self._n - self._last_voice >= self._after):
            self._greeting_open = False
            self._greeting_end = self._last_voice

    def _word_started(self) -> None:
        start = self._n - self._run  # index of the run's first frame
        if self.phase is Phase.PAUSE:
            self._pauses.append(start - self._last_voice)
        if self._first_onset < 0 or not self._greeting_open and self.phase is Phase.PAUSE:
            self._utterances += 1
        if self._first_onset < 0:
            self._first_onset = start
            self._greeting_open = True
        self.phase = _TRANSITIONS[(self.phase, _Input.WORD_STARTED)]
        self._word_start = start
        self._words += 1

    def _apply_rules(self) -> None:
        if self.verdict is not None:
            return
        if self._beep_at >= 0:
            self._decide(MACHINE, "beep")
        elif self.phase is Phase.WORD and self._n - self._word_start >= self._max_word:
            self._decide(MACHINE, "max_word")
        elif self._greeting_open and self._greeting_voiced >= self._greeting:
            self._decide(MACHINE, "long_greeting")
        elif self._greeting_open and self._words >= self.config.max_words:
            self._decide(MACHINE, "max_words")
        elif self._first_onset >= 0 and not self._greeting_open:
            self._decide(HUMAN, "after_greeting")
        elif (self.config.initial_silence_is_machine and self._first_onset < 0
              and self._n >= self._initial):
            self._decide(MACHINE, "initial_silence")

    def _weigh(self) -> str:
        """The verdict at the end of the budget: nobody spoke → unknown; a greeting still
        running with more than half a machine's speech → machine; a short greeting followed
        by at least half the after-greeting silence → human; anything else → unknown."""
        if self._first_onset < 0:
            return UNKNOWN
        silence = self._n - self._last_voice
        if self._greeting_voiced >= self._greeting / 2 and silence < self._after / 2:
            return MACHINE
        if silence >= self._after / 2:
            return HUMAN
        return UNKNOWN

    def _decide(self, verdict: str, reason: str) -> None:
        self.verdict = verdict
        self.reason = reason
        self._decided = self._n
