"""Regenerate the demo prompts: ``python -m ivr.prompts_build [--out config/ivr/prompts]``.

Speech comes from espeak-ng (``espeak-ng -w out.wav "text"``), is resampled to 8 kHz, trimmed
of leading and trailing silence and normalised to a -3 dBFS peak; the beep and the hold music
are synthesised. Every prompt is written as 8 kHz mono 16-bit FLAC, which keeps the whole
directory small enough to commit. This is a build tool, not part of the pure IVR core.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile

from ivr.prompts import RATE, load_audio

__all__ = ["DEFAULT_OUT", "TEXTS", "build", "main", "speak", "synthesise_beep", "synthesise_hold"]

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "config" / "ivr" / "prompts"
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

TEXTS: dict[str, str] = {
    "welcome": "Thank you for calling callfloor.",
    "menu": "For sales, press 1. For support, press 2. To check an account, press 3. "
            "For the VIP line, press 9. To speak to the operator, press 0.",
    "invalid": "Sorry, that is not a valid choice.",
    "no_input": "Sorry, I did not hear your choice.",
    "closed": "Our office is closed now. We are open Monday to Friday from nine to six, "
              "and Saturday from ten to two.",
    "all_busy": "All of our agents are busy right now.",
    "message_menu": "To leave a voice message, press 1. To be called back on the number you "
                    "are calling from, press 2. To be called back on another number, press 3.",
    "voicemail_greeting": "Please leave your message after the tone. "
                          "Press the pound key when you are done.",
    "enter_number": "Please enter the number to call back, followed by the pound key.",
    "callback_confirm": "Thank you. We will call you back as soon as we can.",
    "enter_account": "Please enter your account number, followed by the pound key.",
    "you_entered": "You entered",
    "vip_only": "The VIP line is reserved for our VIP customers.",
    "vip_welcome": "Welcome back. We are connecting you to your VIP team.",
    "connecting": "Please hold while we connect you.",
    # The dialer: what a customer hears when no seat is free within two seconds of the answer
    # (followed by the call-back number in digits), and the message left on a machine.
    "abandon": "Hello, this is callfloor calling. Sorry, all our agents are busy. "
               "We will not call you again today. To reach us, please call",
    "machine_message": "Hello, this is callfloor calling about your account. "
                       "Please call us back at your convenience. Thank you, goodbye.",
    "unavailable": "Sorry, the operator is not available.",
    "queue_position": "You are caller number",
    "queue_wait": "Your expected wait is",
    "minutes": "minutes",
    "minute": "minute",
    "survey": "Please rate the call you just had, from 1 for poor to 5 for excellent.",
    "survey_thanks": "Thank you for your feedback.",
    "goodbye": "Thank you for calling. Goodbye.",
    **{f"digits/{n}": word for n, word in enumerate(_ONES)},
    **{f"digits/{10 * (i + 2)}": word for i, word in enumerate(_TENS)},
    "digits/hundred": "hundred",
    "digits/thousand": "thousand",
    "digits/million": "million",
}

Pcm = npt.NDArray[np.int16]


def speak(text: str, *, voice: str = "en-us", speed: int = 150, espeak: str = "espeak-ng") -> Pcm:
    """``text`` spoken by espeak-ng, as 8 kHz int16."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        subprocess.run([espeak, "-v", voice, "-s", str(speed), "-w", str(wav), text],
                       check=True, capture_output=True)
        return load_audio(wav)


def _trim_and_normalise(pcm: Pcm, peak_dbfs: float = -3.0, pad: float = 0.05) -> Pcm:
    x = pcm.astype(np.float64)
    loud = np.flatnonzero(np.abs(x) > 0.01 * np.abs(x).max()) if x.size else np.array([])
    if loud.size:
        margin = int(pad * RATE)
        x = x[max(loud[0] - margin, 0) : loud[-1] + 1 + margin]
    peak = np.abs(x).max() if x.size else 0.0
    if peak > 0:
        x *= 32767 * 10 ** (peak_dbfs / 20) / peak
    return np.asarray(np.round(x), dtype=np.int16)


def _envelope(n: int, attack: int) -> npt.NDArray[np.float64]:
    env = np.ones(n)
    ramp = np.linspace(0.0, 1.0, attack)
    env[:attack] = ramp
    env[-attack:] = ramp[::-1]
    return env


def synthesise_beep(freq: float = 1000.0, seconds: float = 0.3) -> Pcm:
    """The voicemail beep: one sine at -10 dBFS with 5 ms ramps."""
    t = np.arange(int(seconds * RATE)) / RATE
    wave = np.sin(2 * np.pi * freq * t) * _envelope(t.size, 40) * 32767 * 10 ** (-10 / 20)
    return np.asarray(np.round(wave), dtype=np.int16)


def synthesise_hold(seconds: float = 6.0) -> Pcm:
    """A quiet loop of single plucked notes (one at a time, so never a DTMF pair)."""
    notes = (392.0, 523.25, 659.25, 523.25, 440.0, 587.33, 698.46, 587.33)
    length = int(seconds * RATE / len(notes))
    t = np.arange(length) / RATE
    decay = np.exp(-3.0 * t) * _envelope(length, 80)
    parts = [np.sin(2 * np.pi * f * t) * decay for f in notes]
    return np.asarray(np.round(np.concatenate(parts) * 32767 * 10 ** (-18 / 20)), dtype=np.int16)


def _write(path: Path, pcm: Pcm) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), pcm, RATE, subtype="PCM_16", format="FLAC")


def build(out: Path, *, voice: str = "en-us", speed: int = 150, espeak: str = "espeak-ng",
          only: Sequence[str] = ()) -> list[Path]:
    """Write every prompt (or those named in ``only``) under ``out``; returns the files."""
    written: list[Path] = []
    for name, text in TEXTS.items():
        if only and name not in only:
            continue
        pcm = _trim_and_normalise(speak(text, voice=voice, speed=speed, espeak=espeak))
        _write(out / f"{name}.flac", pcm)
        written.append(out / f"{name}.flac")
    for name, pcm in (("beep", synthesise_beep()), ("hold", synthesise_hold())):
        if not only or name in only:
            _write(out / f"{name}.flac", pcm)
            written.append(out / f"{name}.flac")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: regenerate the prompts and print their total size."""
    parser = argparse.ArgumentParser(prog="python -m ivr.prompts_build", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="prompts directory")
    parser.add_argument("--voice", default="en-us", help="espeak-ng voice (default en-us)")
    parser.add_argument("--speed", type=int, default=150, help="words per minute (default 150)")
    parser.add_argument("--espeak", default="espeak-ng", help="the espeak-ng program")
    parser.add_argument("names", nargs="*", help="only these prompts (default: all)")
    args = parser.parse_args(argv)
    if shutil.which(args.espeak) is None:
        print(f"{args.espeak} not found: install espeak-ng", file=sys.stderr)
        return 1
    files = build(args.out, voice=args.voice, speed=args.speed, espeak=args.espeak,
                  only=args.names)
    total = sum(f.stat().st_size for f in files)
    print(f"{len(files)} prompts, {total / 1024:.0f} KiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
