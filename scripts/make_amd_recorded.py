"""Build the AMD clip set from real recorded speech: ``python scripts/make_amd_recorded.py --out DIR``.

The speech is Asterisk's core prompts as Debian ships them (CC-BY-SA-3.0): Allison Smith's
English (``asterisk-core-sounds-en-wav``) and Spanish (``asterisk-core-sounds-es-wav``) and June
Wallack's French (``asterisk-core-sounds-fr-wav``). Because of the share-alike licence nothing
derived is committed: the set is built at run time into ``DIR`` (8 kHz mono FLAC, each at most
10 s, and a ``manifest.toml`` in the format of ``tests/fixtures/amd/``), then measured with
``python bench/amd.py --dir DIR``.

People answer with a real "Hello." ("Allo" in French; in Spanish "Hola", cut from "Hola Mundo"),
then silence, a second "Hello?", a short second word, a late start, a soft voice, noise or a gain
change. Machines are voicemail as a carrier plays it: "The person at extension" + digits + "is
unavailable" + the leave-a-message prompt + ``beep.wav``, "Nobody is available..." + beep, the
intro alone, some without the beep, a short one. All pass the carrier line of
``make_amd_clips.py`` (line noise, gain step, G.711 with our codec, packet loss), seeded from each
clip's name, so a rebuild writes the same samples.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_amd_clips import (  # noqa: E402
    RATE,
    Floats,
    Line,
    Pause,
    _rng,
    _set_level,
    manifest_entry,
    on_line,
)

__all__ = ["CLIPS", "SOUNDS", "MissingSounds", "Prompt", "Recorded", "build", "main", "render"]

SOUNDS = Path("/usr/share/asterisk/sounds")
# One voice directory per language, named as the packages install them (not the ``en`` / ``es``
# / ``fr`` alternatives links, which another voice's package may take over).
VOICES = {"en": "en_US_f_Allison", "es": "es_MX_f_Allison", "fr": "fr_CA_f_June"}
PACKAGES = {lang: f"asterisk-core-sounds-{lang}-wav" for lang in VOICES}
SPEAKERS = {"en": "Allison Smith", "es": "Allison Smith", "fr": "June Wallack"}


class MissingSounds(Exception):
    """The installed prompts lack a file this set needs; the message names the apt package."""


@dataclass(frozen=True)
class Prompt:
    """One prompt file of the clip's language (``digits/4``, ``beep``), set to ``db`` dBFS active
    speech level; ``cut`` keeps only its first seconds, with a 15 ms fade-out."""

    file: str
    db: float = -20.0
    cut: float = 0.0


@dataclass(frozen=True)
class Recorded:
    """One clip: a timeline of prompts and pauses in one language, then the carrier line."""

    name: str
    label: str
    lang: str
    scenario: str
    parts: tuple[Prompt | Pause, ...]
    line: Line = field(default_factory=Line)
    seconds: float = 6.0  # 0: the content and one second more


def _source(sounds: Path, lang: str, file: str) -> Path:
    path = sounds / VOICES[lang] / f"{file}.wav"
    if not path.is_file():
        raise MissingSounds(f"{path} not found: install the apt package {PACKAGES[lang]}")
    return path


def load(sounds: Path, lang: str, prompt: Prompt) -> Floats:
    """The prompt's samples (int16 scale, as floats), cut if asked."""
    path = _source(sounds, lang, prompt.file)
    data, rate = soundfile.read(str(path), dtype="float64")
    if rate != RATE or data.ndim != 1:
        raise MissingSounds(f"{path}: expected 8 kHz mono, got {rate} Hz, {data.ndim} dims "
                            f"(reinstall the apt package {PACKAGES[lang]})")
    x = np.asarray(data * 32768, dtype=np.float64)
    if prompt.cut:
        x = x[: int(prompt.cut * RATE)].copy()
        fade = int(0.015 * RATE)
        x[-fade:] *= np.linspace(1.0, 0.0, fade)
    return x


def render(clip: Recorded, sounds: Path = SOUNDS) -> npt.NDArray[np.int16]:
    """The clip's samples as they leave the carrier's G.711 decoder."""
    rng = _rng(clip.name)
    pieces = [np.zeros(int(p.seconds * RATE)) if isinstance(p, Pause)
              else _set_level(load(sounds, clip.lang, p), p.db) for p in clip.parts]
    return on_line(np.concatenate(pieces), clip.seconds, clip.line, rng, None)


def describe(clip: Recorded) -> str:
    """Which files and which steps made the clip, in one line, for the manifest."""
    words = []
    for part in clip.parts:
        if isinstance(part, Pause):
            words.append(f"{part.seconds:g} s silence")
        else:
            cut = f" cut to its first {part.cut:g} s (15 ms fade-out)" if part.cut else ""
            words.append(f"{VOICES[clip.lang]}/{part.file}.wav{cut} at {part.db:g} dBFS")
    line = clip.line
    chain = [f"{line.noise} noise at {line.noise_db:g} dBFS"]
    if line.gain_step:
        chain.append(f"gain {line.gain_step[1]:+g} dB from {line.gain_step[0]:g} s")
    chain.append({"pcmu": "G.711 mu-law", "pcma": "G.711 A-law"}[line.codec])
    if line.loss:
        chain.append(f"{line.loss:.0%} of 20 ms packets lost (zeroed)")
    return (f"{SPEAKERS[clip.lang]} ({PACKAGES[clip.lang]}): " + " | ".join(words)
            + "; then " + ", ".join(chain))


def manifest(clips: list[Recorded], seconds: dict[str, float]) -> str:
    """The manifest's text, in the format of ``tests/fixtures/amd/manifest.toml``."""
    lines = ["# Written by scripts/make_amd_recorded.py from Asterisk's core prompts (CC-BY-SA-3.0:",
             "# Allison Smith, en and es; June Wallack, fr). Derived audio: do not commit it.",
             "# label: the truth. kind: recorded (real human speech). split: test (held out).",
             'generator = "scripts/make_amd_recorded.py"', f"rate = {RATE}", ""]
    for clip in clips:
        lines += manifest_entry(clip.name, clip.label, "recorded", "test", seconds[clip.name],
                                clip.scenario, describe(clip))
    return "\n".join(lines)


def build(out: Path, sounds: Path = SOUNDS) -> list[Path]:
    """Write every clip and the manifest under ``out``; returns the files written. Raises
    ``MissingSounds`` (naming the apt package) before writing anything when a prompt is absent."""
    for clip in CLIPS:
        for part in clip.parts:
            if isinstance(part, Prompt):
                _source(sounds, clip.lang, part.file)
    out.mkdir(parents=True, exist_ok=True)
    files, seconds = [], {}
    for clip in CLIPS:
        path = out / f"{clip.name}.flac"
        pcm = render(clip, sounds)
        soundfile.write(str(path), pcm, RATE, subtype="PCM_16", format="FLAC")
        files.append(path)
        seconds[clip.name] = len(pcm) / RATE
    (out / "manifest.toml").write_text(manifest(list(CLIPS), seconds))
    return files + [out / "manifest.toml"]


# ---------------------------------------------------------------------------------------------
# The clips. A person answers after ``lead`` seconds and the clip lasts 6 s; a machine's clip
# lasts its content plus one second (at most 10 s), as in make_amd_clips.py.

HELLO = {"en": Prompt("hello"), "fr": Prompt("hello"),
         # "Hola Mundo!": "Hola" ends where the nasal murmur of "Mundo" starts (0.385 s).
         "es": Prompt("hello-world", cut=0.385)}
EXTENSION = {"en": "4215", "es": "3071", "fr": "5820"}


def _hello(lang: str, db: float = -20.0) -> Prompt:
    return Prompt(HELLO[lang].file, db, HELLO[lang].cut)


U = Line()  # G.711 mu-law, white line noise at -66 dBFS
A = Line(codec="pcma")


def _p(name: str, lang: str, scenario: str, *parts: Prompt | Pause, lead: float = 0.6,
       line: Line = U) -> Recorded:
    return Recorded(name, "human", lang, scenario, (Pause(lead), *parts), line)


def _m(name: str, lang: str, scenario: str, *parts: Prompt | Pause, lead: float = 0.3,
       line: Line = U) -> Recorded:
    return Recorded(name, "machine", lang, scenario, (Pause(lead), *parts), line, 0.0)


def _extension(lang: str, db: float = -20.0) -> tuple[Prompt | Pause, ...]:
    """The person at extension NNNN is unavailable, as app_voicemail strings the prompts."""
    digits: list[Prompt | Pause] = []
    for d in EXTENSION[lang]:
        digits += [Prompt(f"digits/{d}", db), Pause(0.08)]
    return (Prompt("vm-theperson", db), Pause(0.2), *digits[:-1], Pause(0.2),
            Prompt("vm-isunavail", db))


def _beep(gap: float = 0.3, db: float = -18.0) -> tuple[Pause, Prompt]:
    return Pause(gap), Prompt("beep", db)


def _people(lang: str, a: Line) -> list[Recorded]:
    """The scenarios every language has; ``a`` is the language's usual line."""
    h = _hello
    return [
        _p(f"p_hello_{lang}", lang, "hello then silence", h(lang), line=a),
        _p(f"p_hello_twice_{lang}", lang, "hello, 2 s pause, hello", h(lang), Pause(2.0), h(lang),
           lead=0.4, line=a),
        _p(f"p_late_{lang}", lang, "late start: 2 s of room tone, then hello", h(lang), lead=2.0,
           line=Line(a.codec, "pink", -58.0)),
        _p(f"p_soft_{lang}", lang, "soft talker (-37 dBFS)", h(lang, -37.0), lead=0.8,
           line=Line(a.codec, "pink", -62.0)),
        _p(f"p_street_{lang}", lang, "hello in street rumble", h(lang, -18.0),
           line=Line(a.codec, "brown", -40.0)),
        _p(f"p_gain_{lang}", lang, "hello with a +10 dB gain step (AGC)", h(lang, -30.0),
           line=Line(a.codec, gain_step=(0.9, 10.0))),
        _p(f"p_loud_{lang}", lang, "loud talker (-11 dBFS) on a hot line", h(lang, -11.0),
           lead=0.5, line=Line(a.codec, "white", -52.0)),
    ]


PEOPLE = [
    *_people("en", U), *_people("es", A), *_people("fr", A),
    _p("p_oh_hello_en", "en", "Oh, hello?", Prompt("digits/oh"), Pause(0.12), _hello("en")),
    _p("p_hello_sorry_en", "en", "Hello? then I'm sorry? after 1.2 s", _hello("en"), Pause(1.2),
       Prompt("im-sorry")),
    _p("p_hello_loss_en", "en", "hello twice, 0.9 s apart, 5% packet loss", _hello("en"),
       Pause(0.9), _hello("en"), line=Line(loss=0.05)),
    _p("p_oh_hola_es", "es", "Oh, ¿hola?", Prompt("digits/oh"), Pause(0.12), _hello("es"), line=A),
    _p("p_hola_hola_es", "es", "¿Hola? ¿Hola? 0.6 s apart", _hello("es"), Pause(0.6), _hello("es"),
       line=Line("pcma", "white", -45.0)),
    _p("p_allo_allo_fr", "fr", "Allô, allô ? 0.3 s apart", _hello("fr"), Pause(0.3), _hello("fr"),
       line=A),
    _p("p_hello_sorry_quick_en", "en", "Hello? I'm sorry? 0.25 s apart (hard)", _hello("en"),
       Pause(0.25), Prompt("im-sorry")),
    _p("p_hola_x3_es", "es", "¿Hola? ¿Hola? ¿Hola? 0.4 s apart (hard)", _hello("es"), Pause(0.4),
       _hello("es"), Pause(0.4), _hello("es"), line=A),
    _p("p_allo_loss_fr", "fr", "Allô ? 8% packet loss", _hello("fr"), line=Line("pcma", loss=0.08)),
]


def _machines(lang: str, a: Line) -> list[Recorded]:
    """The carrier voicemail every language has; ``a`` is the language's usual line."""
    return [
        _m(f"m_vm_full_{lang}", lang, "extension unavailable + leave your message + beep (cut at 10 s)",
           *_extension(lang), Pause(0.3), Prompt("vm-intro"), *_beep(), line=a),
        _m(f"m_vm_press5_{lang}", lang, "extension unavailable + press 5 to leave a message, no beep",
           *_extension(lang), Pause(0.3), Prompt("vm-leavemsg"), line=a),
        _m(f"m_nobody_beep_{lang}", lang, "nobody is available + beep", Prompt("vm-nobodyavail"),
           *_beep(), line=a),
        _m(f"m_intro_beep_{lang}", lang, "leave your message after the tone + beep",
           Prompt("vm-intro"), *_beep(), line=a),
        _m(f"m_short_{lang}", lang, "short: is unavailable + beep (hard)", Prompt("vm-isunavail"),
           *_beep(0.4), line=a),
        _m(f"m_nobody_noise_{lang}", lang, "nobody is available + leave your message in pink noise, no beep",
           Prompt("vm-nobodyavail"), Pause(0.3), Prompt("vm-intro"),
           line=Line(a.codec, "pink", -42.0)),
        _m(f"m_vm_loss_{lang}", lang, "extension unavailable + beep, 6% packet loss",
           *_extension(lang), *_beep(0.4), line=Line(a.codec, loss=0.06)),
        _m(f"m_quiet_{lang}", lang, "quiet voicemail (-32 dBFS), +8 dB gain step, intro + beep",
           *_extension(lang, -32.0), Pause(0.3), Prompt("vm-intro", -32.0), *_beep(db=-30.0),
           line=Line(a.codec, gain_step=(2.0, 8.0))),
        _m(f"m_press5_{lang}", lang, "press 5 to leave a message, alone, no beep (short, hard)",
           Prompt("vm-leavemsg"), line=a),
        _m(f"m_unavail_press5_{lang}", lang, "is unavailable + press 5 to leave a message, no beep",
           Prompt("vm-isunavail"), Pause(0.3), Prompt("vm-leavemsg"), line=Line(a.codec, "pink", -50.0)),
    ]


MACHINES = [*_machines("en", U), *_machines("es", A), *_machines("fr", A)]

CLIPS: list[Recorded] = [*PEOPLE, *MACHINES]


def main(argv: list[str] | None = None) -> int:
    """The command line: build the set, print the count and size; exit 2 when prompts are missing."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--sounds", type=Path, default=SOUNDS,
                        help=f"Asterisk sounds directory (default {SOUNDS})")
    args = parser.parse_args(argv)
    try:
        files = build(args.out, args.sounds)
    except MissingSounds as exc:
        print(f"make_amd_recorded: {exc}", file=sys.stderr)
        return 2
    total = sum(f.stat().st_size for f in files)
    print(f"{len(files) - 1} clips, {total / 1024:.0f} KiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
