"""Listening to a hosted side for a verdict: where the answering-machine detector meets the media.

The relay builds one :class:`AudioClassifier` per :class:`~telephony.calls.commands.AnalyzeAudio`
from a factory it is given (``dialer.amd`` provides the real one), and an :class:`Analysis` feeds
it the side's decoded audio, 8 kHz int16 in arrival order, until it decides or ``max_seconds`` of
audio have been heard; then the classifier's ``finish()`` has the last word. Pure: no socket, no
clock (the relay also ends an analysis by the clock when the side falls silent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["UNKNOWN", "Analysis", "AudioClassifier", "ClassifierFactory"]

log = logging.getLogger("callfloor.relay")

UNKNOWN = "unknown"  # the verdict when nothing could listen
RATE = 8000


class AudioClassifier(Protocol):
    """Decides from the first seconds of a side's audio: "human" or "machine"."""

    detail: dict[str, float]

    def feed(self, pcm: npt.NDArray[np.int16]) -> str | None:
        """More audio; the verdict once decided, else None."""
        ...

    def finish(self) -> str:
        """No more audio (``max_seconds`` reached): the verdict now."""
        ...


# Builds a classifier for one analysis; the token names what to listen for (the dialer asks
# for "amd": person or machine, and "cue": when a machine's greeting is over).
ClassifierFactory = Callable[[str], AudioClassifier]


class Analysis:
    """One run of a classifier over at most ``max_seconds`` of audio, reported once."""

    def __init__(self, token: str, classifier: AudioClassifier, max_seconds: float) -> None:
        self.token = token
        self.classifier = classifier
        self.limit = max(0, round(max_seconds * RATE))
        self.samples = 0
        self.verdict: str | None = None

    def feed(self, pcm: npt.NDArray[np.int16]) -> str | None:
        """Audio in arrival order; returns the verdict at the moment it is reached (once)."""
        if self.verdict is not None:
            return None
        chunk = pcm[: self.limit - self.samples]
        self.samples += len(chunk)
        verdict = self._ask(lambda: self.classifier.feed(chunk)) if len(chunk) else None
        if verdict is None and self.samples >= self.limit:
            verdict = self._ask(self.classifier.finish)
        self.verdict = verdict
        return verdict

    def finish(self) -> str:
        """End now (the time is up, or the side stopped being hosted): the verdict."""
        if self.verdict is None:
            self.verdict = self._ask(self.classifier.finish) or UNKNOWN
        return self.verdict

    @property
    def detail(self) -> dict[str, float]:
        """The classifier's figures (a copy), with the seconds of audio it heard."""
        return {**self.classifier.detail, "analysed_seconds": self.samples / RATE}

    def _ask(self, fn: Callable[[], str | None]) -> str | None:
        # The classifier is plug-in code running on the packet path: a bug in it must cost one
        # verdict ("unknown"), not the relay.
        try:
            return fn()
        except Exception:
            log.exception("audio classifier failed on analysis %s", self.token)
            return UNKNOWN
