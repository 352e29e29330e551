"""Speech-like audio for the simulated customers, made with numpy at run time (no recordings).

A syllable is a harmonic series on a gliding pitch, shaped by two formant resonances and a
raised-cosine envelope, with a little breath noise: to an answering-machine detector it is a
voiced word (level well above the floor, energy spread over many harmonics, so not a tone).

- :func:`person_voice`: "Hello?" (one short word), a pause, then a conversation of short
  utterances and pauses; a detector hears a short greeting followed by silence: a person.
- :func:`machine_voice`: a greeting of a dozen words without a real pause, a beep, then the
  silence of a machine recording; a detector hears a long greeting (and a beep): a machine.

The same seed gives the same samples; sources are cached per seed, as every call of a voice
shares the encoded payloads.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from callfloor.sim.media import AudioSource

__all__ = ["RATE", "machine_voice", "person_voice", "speech", "words"]

RATE = 8000
SPEECH_DBFS = -20.0  # active speech level of the phone line
BEEP_HZ = 1000.0
Floats = npt.NDArray[np.float64]


def _syllable(rng: np.random.Generator, seconds: float, f0: float) -> Floats:
    """One voiced syllable: harmonics of a gliding f0 weighted by two formants."""
    n = max(1, round(seconds * RATE))
    t = np.arange(n) / RATE
    glide = f0 * (1.0 + rng.uniform(-0.12, 0.12) * t / max(seconds, 1e-3))
    phase = 2 * np.pi * np.cumsum(glide) / RATE
    f1, f2 = rng.uniform(350, 850), rng.uniform(1000, 2300)
    out = np.zeros(n)
    for k in range(1, int(3400 / f0) + 1):
        freq = k * f0
        # Resonance weights: 1 / (1 + ((f - F) / B)^2), bandwidths of a male/female voice.
        weight = 1 / (1 + ((freq - f1) / 120) ** 2) + 0.6 / (1 + ((freq - f2) / 180) ** 2)
        out += weight * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    out += 0.05 * out.std() * rng.standard_normal(n)  # breath
    ramp = min(n // 2, round(0.03 * RATE))
    envelope = np.ones(n)
    if ramp:
        edge = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
        envelope[:ramp], envelope[n - ramp:] = edge, edge[::-1]
    return out * envelope


def words(rng: np.random.Generator, count: int, f0: float, gap: tuple[float, float]) -> Floats:
    """``count`` words of one to three syllables, ``gap`` seconds apart (uniform)."""
    parts: list[Floats] = []
    for i in range(count):
        for s in range(int(rng.integers(1, 4))):
            if s:
                parts.append(np.zeros(round(rng.uniform(0.01, 0.03) * RATE)))  # within a word
            parts.append(_syllable(rng, rng.uniform(0.12, 0.22), f0 * rng.uniform(0.9, 1.1)))
        if i < count - 1:
            parts.append(np.zeros(round(rng.uniform(*gap) * RATE)))
    return np.concatenate(parts) if parts else np.zeros(0)


def speech(x: Floats, dbfs: float = SPEECH_DBFS) -> npt.NDArray[np.int16]:
    """Float samples set to ``dbfs`` RMS over their voiced part, as int16."""
    loud = x[np.abs(x) > 0.05 * (np.abs(x).max() if len(x) else 0.0)]
    rms = float(np.sqrt(np.mean(loud**2))) if len(loud) else 0.0
    gain = 32768 * 10 ** (dbfs / 20) / rms if rms else 0.0
    return np.clip(np.round(x * gain), -32768, 32767).astype(np.int16)


def _silence(seconds: float) -> Floats:
    return np.zeros(round(seconds * RATE))


@functools.lru_cache(maxsize=16)
def person_voice(seed: int = 0) -> AudioSource:
    """A person who answers: "Hello?", waits for an answer, then talks in short turns (20 s,
    looped). The first 0.8 s of silence after the hello is what tells a detector "human"."""
    rng = np.random.default_rng(seed)
    f0 = float(rng.choice([105.0, 125.0, 190.0, 220.0]))
    parts = [words(rng, 1, f0 * 1.15, (0.0, 0.0)), _silence(rng.uniform(1.6, 2.2))]
    while sum(len(p) for p in parts) < 20 * RATE:
        parts.append(words(rng, int(rng.integers(2, 7)), f0, (0.06, 0.2)))
        parts.append(_silence(rng.uniform(1.0, 3.0)))  # the seat's turn
    return AudioSource(speech(np.concatenate(parts)))


@functools.lru_cache(maxsize=16)
def machine_voice(seed: int = 0) -> AudioSource:
    """An answering machine: a greeting of 12-16 words with no pause a person would leave,
    a beep, then 20 s of silence while it records (looped: it would greet again)."""
    rng = np.random.default_rng(seed + 1000)
    f0 = float(rng.choice([115.0, 200.0]))
    greeting = words(rng, int(rng.integers(12, 17)), f0, (0.06, 0.25))
    beep = np.sin(2 * np.pi * BEEP_HZ * np.arange(round(0.5 * RATE)) / RATE)
    pcm = np.concatenate([
        speech(greeting),
        speech(_silence(0.4)),
        speech(beep, SPEECH_DBFS + 6),
        speech(_silence(20.0)),
    ])
    return AudioSource(pcm)
