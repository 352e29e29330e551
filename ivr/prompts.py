"""Prompts: audio files read once, mixed to mono and resampled to 8 kHz int16, kept by name.

A prompt's name is its path under a prompts directory without the suffix ("welcome",
"digits/7"); WAV, FLAC and OGG of any rate are read with soundfile. There is no scipy here, so
the resampler is a Kaiser-windowed sinc interpolator in numpy; it runs once per file at load.

Spoken numbers are composed from recorded pieces (English): ``number_prompts(215)`` is
``["digits/2", "digits/hundred", "digits/15"]``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile

__all__ = [
    "AUDIO_SUFFIXES",
    "DIGIT_PROMPTS",
    "NUMBER_PROMPTS",
    "RATE",
    "PromptError",
    "PromptLibrary",
    "digit_prompts",
    "load_audio",
    "number_prompts",
    "queue_announcement",
    "resample",
]

RATE = 8000
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
DIGITS = "digits/"
DIGIT_PROMPTS = tuple(f"{DIGITS}{d}" for d in range(10))
_SCALES = ((1_000_000, "million"), (1000, "thousand"), (100, "hundred"))
NUMBER_PROMPTS = (
    tuple(f"{DIGITS}{n}" for n in range(20))
    + tuple(f"{DIGITS}{n}" for n in range(20, 100, 10))
    + tuple(f"{DIGITS}{word}" for _, word in _SCALES)
)
Pcm = npt.NDArray[np.int16]
_ZERO_CROSSINGS = 16  # sinc half-length in zero crossings of the lower rate
_BETA = 8.6  # Kaiser window: ~-90 dB sidelobes


class PromptError(Exception):
    """A prompt file that cannot be used; the message says why."""


def digit_prompts(text: str) -> list[str]:
    """The prompts that read ``text`` digit by digit; other characters are skipped."""
    return [f"{DIGITS}{ch}" for ch in text if ch.isascii() and ch.isdigit()]


def number_prompts(n: int) -> list[str]:
    """The prompts that say ``n`` (0 to 999,999,999) as an English number."""
    if not 0 <= n < 1_000_000_000:
        raise ValueError(f"{n} is outside 0..999999999")
    if n == 0:
        return [f"{DIGITS}0"]
    out: list[str] = []
    for size, word in _SCALES:
        if n >= size:
            out += number_prompts(n // size) + [f"{DIGITS}{word}"]
            n %= size
    if n >= 20:
        out.append(f"{DIGITS}{n - n % 10}")
        n %= 10
    if n:
        out.append(f"{DIGITS}{n}")
    return out


def queue_announcement(position: int, wait_minutes: int | None = None) -> list[str]:
    """"You are caller number N[, your expected wait is M minute(s)]" from the demo's pieces."""
    out = ["queue_position", *number_prompts(position)]
    if wait_minutes is not None:
        unit = "minute" if wait_minutes == 1 else "minutes"
        out += ["queue_wait", *number_prompts(wait_minutes), unit]
    return out


def _kaiser(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    inside = np.clip(1.0 - x * x, 0.0, None)
    return np.asarray(np.i0(_BETA * np.sqrt(inside)) / np.i0(_BETA), dtype=np.float64)


def resample(x: npt.NDArray[np.float64], rate_in: int, rate_out: int = RATE) -> npt.NDArray[np.float64]:
    """Band-limited resampling of mono float samples (windowed sinc, cutoff at 95% of the
    lower Nyquist frequency, so a downsampled file does not alias)."""
    if rate_in <= 0 or rate_out <= 0:
        raise ValueError("sample rates must be positive")
    if rate_in == rate_out or len(x) == 0:
        return np.array(x, dtype=np.float64)
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    n_out = len(x) * up // down
    cutoff = 0.5 * min(1.0, rate_out / rate_in) * 0.95  # cycles per input sample
    half = math.ceil(_ZERO_CROSSINGS / (2 * cutoff))
    padded = np.concatenate([np.zeros(half), np.asarray(x, dtype=np.float64), np.zeros(half + 1)])
    taps = np.arange(-half + 1, half + 1)
    out = np.empty(n_out)
    for first in range(0, n_out, 2048):
        k = np.arange(first, min(first + 2048, n_out))
        base = (k * down) // up  # exact integer part of the input position
        frac = ((k * down) % up) / up
        dist = taps[None, :] - frac[:, None]
        kernel = 2 * cutoff * np.sinc(2 * cutoff * dist) * _kaiser(dist / half)
        out[first : first + len(k)] = np.sum(padded[base[:, None] + taps[None, :] + half] * kernel, axis=1)
    return out


def load_audio(path: Path) -> Pcm:
    """Read a WAV/FLAC/OGG file as 8 kHz mono int16 (channels averaged, resampled once)."""
    try:
        data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise PromptError(f"cannot be read: {exc}") from None
    if data.size == 0:
        raise PromptError("has no audio")
    mono = resample(data.mean(axis=1), int(rate))
    return np.asarray(np.round(np.clip(mono, -1.0, 32767 / 32768) * 32768), dtype=np.int16)


def _audio_files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file():
            yield path


class PromptLibrary:
    """Prompt name → 8 kHz int16 PCM, decoded once; one namespace for all flows of a FlowSet."""

    def __init__(self) -> None:
        self._pcm: dict[str, Pcm] = {}
        self._files: dict[str, Path] = {}
        self._dirs: set[Path] = set()

    def add_directory(self, directory: Path) -> list[str]:
        """Load every audio file under ``directory`` (once); returns the problems found, each
        "name: why" (a name bound to two files, a file that cannot be decoded)."""
        directory = directory.resolve()
        if directory in self._dirs:
            return []
        self._dirs.add(directory)
        problems: list[str] = []
        for path in _audio_files(directory):
            name = path.relative_to(directory).with_suffix("").as_posix()
            if name in self._files:
                problems.append(f"prompt {name!r} is both {self._files[name]} and {path}")
                continue
            try:
                self._pcm[name] = load_audio(path)
            except PromptError as exc:
                problems.append(f"prompt {name!r}: {path} {exc}")
                continue
            self._pcm[name].flags.writeable = False
            self._files[name] = path
        return problems

    def __contains__(self, name: object) -> bool:
        return name in self._pcm

    def names(self) -> list[str]:
        """Every prompt name, sorted."""
        return sorted(self._pcm)

    def file(self, name: str) -> Path:
        """The file a prompt was read from."""
        return self._files[name]

    def pcm(self, name: str) -> Pcm:
        """The prompt's samples: int16, 8 kHz, mono, read-only (KeyError for an unknown name)."""
        return self._pcm[name]

    def seconds(self, name: str) -> float:
        """The prompt's length in seconds."""
        return len(self._pcm[name]) / RATE

    def sequence(self, names: list[str] | tuple[str, ...]) -> Pcm:
        """The prompts played back to back, as one array."""
        if not names:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([self._pcm[name] for name in names])

    def digits(self, text: str) -> list[str]:
        """Prompt names that read ``text`` digit by digit."""
        return digit_prompts(text)

    def number(self, n: int) -> list[str]:
        """Prompt names that say the number ``n``."""
        return number_prompts(n)
