"""Write the answering-machine detection clip set: ``python scripts/make_amd_clips.py``.

Every clip is 8 kHz mono 16-bit FLAC, at most 10 s, listed in ``manifest.toml`` with its truth
label (human / machine), its kind, its split (tune / test) and exactly how it was made. Nothing
here is a real recording: no public-domain speech ships with this machine's packages (baresip's
and SIPp's sample audio are BSD and GPL), so both kinds come from espeak-ng, by two paths:

- ``generated``: espeak-ng's default formant voices and variants, several languages, speeds and
  pitches, resampled to 8 kHz, set to a speech level, laid on a timeline with pauses, beeps and
  synthetic machine sounds (hold tones, fax, modem);
- ``recorded``: "recorded-style": espeak-ng's Klatt voices rendered at 22.05 kHz, then a slow
  random pitch and tempo wobble (varispeed), a synthetic room (exponentially decaying noise
  impulse response with early reflections, RT60 given per clip), a handset band-pass
  (300-3400 Hz), room tone, and only then resampled to 8 kHz.

Both then pass a carrier line: line noise, gain changes, G.711 μ-law or A-law encode/decode
(our codec) and packet loss (20 ms packets zeroed). Randomness is seeded from each clip's name,
so a rerun writes the same files (with the same espeak-ng). The clips are listed at the end.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile

from ivr.prompts import resample
from telephony.rtp.g711 import decode, encode

RATE = 8000
HI_RATE = 22050
MAX_SECONDS = 10.0
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "amd"
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Say:
    """A phrase spoken by espeak-ng, set to ``db`` dBFS active speech level."""

    text: str
    voice: str = "en-us"
    speed: int = 160
    pitch: int = 50
    db: float = -18.0


@dataclass(frozen=True)
class Pause:
    """Silence on the timeline."""

    seconds: float


@dataclass(frozen=True)
class Tone:
    """A sine (a beep, a SIT tone) at ``db`` dBFS RMS."""

    hz: float
    seconds: float
    db: float = -14.0


@dataclass(frozen=True)
class Sound:
    """A synthetic sound: hold, chords, fax, cng, modem (machines); breath (people)."""

    name: str
    seconds: float
    db: float = -18.0


Part = Say | Pause | Tone | Sound


@dataclass(frozen=True)
class Line:
    """What happens on the way: noise, gain step, codec, packet loss; and, on the recorded path,
    the room (RT60, seconds) and the varispeed wobble."""

    codec: str = "pcmu"
    noise: str = "white"
    noise_db: float = -66.0
    gain_step: tuple[float, float] | None = None  # (from second, dB)
    loss: float = 0.0
    room: float = 0.4
    wobble: float = 0.02


@dataclass(frozen=True)
class Clip:
    """One clip of the set."""

    name: str
    label: str
    kind: str
    scenario: str
    parts: tuple[Part, ...]
    line: Line = field(default_factory=Line)
    seconds: float = 6.0
    split: str = ""


def _rng(name: str, salt: str = "") -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{name}/{salt}".encode()))


def _db(x: Floats) -> float:
    """Active speech level: RMS over the 20 ms frames within 35 dB of the loudest."""
    n = len(x) // 160 * 160
    if n == 0:
        return -120.0
    frames = (x[:n] / 32768).reshape(-1, 160)
    power = (frames**2).mean(axis=1)
    active = power[power > power.max() * 10 ** -3.5]
    return float(10 * np.log10(active.mean() + 1e-20))


def _set_level(x: Floats, db: float) -> Floats:
    return x * 10 ** ((db - _db(x)) / 20)


def _trim(x: Floats, rate: int) -> Floats:
    loud = np.flatnonzero(np.abs(x) > 0.02 * np.abs(x).max())
    if not loud.size:
        return x
    pad = int(0.02 * rate)
    return x[max(loud[0] - pad, 0): loud[-1] + pad]


def espeak(say: Say, espeak_bin: str) -> Floats:
    """The phrase as espeak-ng renders it, float samples at 22.05 kHz, trimmed."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "say.wav"
        subprocess.run([espeak_bin, "-v", say.voice, "-s", str(say.speed), "-p", str(say.pitch),
                        "-w", str(wav), say.text], check=True, capture_output=True)
        data, rate = soundfile.read(str(wav), dtype="float64")
    assert rate == HI_RATE, rate
    return _trim(data * 32768, HI_RATE)


def _wobble(x: Floats, depth: float, rng: np.random.Generator) -> Floats:
    """Varispeed: the read rate drifts by about ``depth`` (pitch and tempo move together)."""
    t = np.arange(len(x)) / HI_RATE
    f1, f2 = rng.uniform(0.4, 0.9), rng.uniform(1.5, 2.5)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    rate = 1 + depth * (np.sin(2 * np.pi * f1 * t + p1) + 0.5 * np.sin(2 * np.pi * f2 * t + p2))
    pos = np.cumsum(rate)
    pos = pos[pos < len(x) - 1]
    return np.asarray(np.interp(pos, np.arange(len(x)), x), dtype=np.float64)


def _room(x: Floats, rt60: float, rng: np.random.Generator) -> Floats:
    """Convolve with a synthetic room: the direct sound, six early reflections, a tail decaying
    60 dB in ``rt60`` seconds; direct-to-reverberant ratio about 3 dB."""
    n = int(rt60 * 1.2 * HI_RATE)
    t = np.arange(n) / HI_RATE
    tail = rng.normal(0, 1, n) * np.exp(-6.9 * t / rt60)
    tail[: int(0.005 * HI_RATE)] = 0
    ir = tail / np.sqrt((tail**2).sum()) * 10 ** (-3 / 20)
    ir[0] = 1.0
    for delay in rng.uniform(0.003, 0.025, 6):
        ir[int(delay * HI_RATE)] += rng.uniform(0.2, 0.5) * rng.choice([-1, 1])
    size = 1 << math.ceil(math.log2(len(x) + n))
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(ir, size), size)[: len(x) + n]


def _band(x: Floats, rate: int, lo: float, hi: float) -> Floats:
    """Zero-phase band-pass with raised-cosine skirts an octave-fifth wide."""
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / rate)
    gain = np.clip(np.log2(np.maximum(f, 1) / (lo / 2)), 0, 1) * np.clip(np.log2(hi * 1.4 / np.maximum(f, 1)) / 0.5, 0, 1)
    return np.fft.irfft(spec * (0.5 - 0.5 * np.cos(np.pi * gain)), len(x))


def speech(say: Say, clip: Clip, index: int, espeak_bin: str) -> Floats:
    """One phrase at 8 kHz and its target level, by the clip's path."""
    x = espeak(say, espeak_bin)
    if clip.kind == "recorded":
        rng = _rng(clip.name, f"say{index}")
        x = _wobble(x, clip.line.wobble, rng)
        x = _room(x, clip.line.room, rng)
        x = _band(x, HI_RATE, 300.0, 3400.0)
    return _set_level(resample(x, HI_RATE, RATE), say.db)


def _sine(hz: float | Floats, seconds: float, db: float, ramp: float = 0.005) -> Floats:
    n = int(seconds * RATE)
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(hz, (n,))) / RATE
    env = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / max(1, ramp * RATE))
    return np.sin(phase) * env * 32768 * 10 ** (db / 20) * math.sqrt(2)


def sound(part: Sound, rng: np.random.Generator) -> Floats:
    """The synthetic machine sounds: hold notes, chords, fax (CED + V.21 flags), fax CNG,
    modem answer tone (ANSam), each at RMS ``part.db``."""
    s, db = part.seconds, part.db
    if part.name in ("hold", "chords"):
        notes = (392.0, 523.25, 659.25, 587.33, 440.0, 493.88, 523.25, 392.0)
        step = 0.45 if part.name == "hold" else 0.9
        out = []
        for i in range(int(s / step)):
            root = notes[i % len(notes)]
            chord = (root,) if part.name == "hold" else (root, root * 1.26, root * 1.5)
            t = np.arange(int(step * RATE)) / RATE
            out.append(sum(_sine(f, step, db - 3 * k) for k, f in enumerate(chord)) * np.exp(-2.5 * t))
        return np.concatenate(out)
    if part.name == "fax":
        flags = np.tile([0, 1, 1, 1, 1, 1, 1, 0], int(s * 300 / 8) + 1)  # HDLC flags, 300 bit/s
        hz = np.repeat(np.where(flags == 1, 1650.0, 1850.0), RATE // 300)
        return np.concatenate([_sine(2100.0, 2.6, db), np.zeros(int(0.075 * RATE)),
                               _sine(hz[: int((s - 2.675) * RATE)], s - 2.675, db)])
    if part.name == "breath":  # a breath or a cough: a burst of low-passed noise
        n = int(s * RATE)
        burst = np.convolve(rng.normal(0, 1, n), np.ones(4) / 4, mode="same") * np.hanning(n)
        return np.asarray(burst / np.sqrt(np.mean(burst**2)) * 32768 * 10 ** (db / 20))
    if part.name == "cng":
        cycle = np.concatenate([_sine(1100.0, 0.5, db), np.zeros(3 * RATE)])
        return np.tile(cycle, int(s / 3.5) + 1)[: int(s * RATE)]
    if part.name == "modem":
        t = np.arange(int(s * RATE)) / RATE
        flips = np.floor(t / 0.45) % 2 * np.pi  # V.8 ANSam: phase reversals every 450 ms
        return (np.sin(2 * np.pi * 2100 * t + flips) * (1 + 0.2 * np.sin(2 * np.pi * 15 * t))
                * 32768 * 10 ** (db / 20) * math.sqrt(2))
    raise ValueError(f"unknown sound {part.name!r}")


def noise(line: Line, n: int, rng: np.random.Generator, babble: Floats | None) -> Floats:
    """Background noise of ``line.noise`` kind at ``line.noise_db`` dBFS RMS."""
    if line.noise == "babble" and babble is not None:
        x = np.resize(babble, n)
    elif line.noise == "hum":
        t = np.arange(n) / RATE
        x = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 3, 5)) + rng.normal(0, 0.05, n)
    else:
        white = rng.normal(0, 1, n)
        slope = {"white": 0.0, "pink": 0.5, "brown": 1.0}[line.noise or "white"]
        f = np.fft.rfftfreq(n, 1 / RATE)
        x = np.fft.irfft(np.fft.rfft(white) / np.maximum(f, 20.0) ** slope, n)
    samples = np.asarray(x, dtype=np.float64)
    scale = 32768 * 10 ** (line.noise_db / 20) / float(np.sqrt(np.mean(samples**2)))
    return samples * scale


def render(clip: Clip, espeak_bin: str, babble: Floats | None) -> npt.NDArray[np.int16]:
    """The clip's samples as they leave the carrier's G.711 decoder."""
    rng = _rng(clip.name)
    pieces: list[Floats] = []
    for i, part in enumerate(clip.parts):
        if isinstance(part, Say):
            pieces.append(speech(part, clip, i, espeak_bin))
        elif isinstance(part, Pause):
            pieces.append(np.zeros(int(part.seconds * RATE)))
        elif isinstance(part, Tone):
            pieces.append(_sine(part.hz, part.seconds, part.db))
        else:
            pieces.append(sound(part, rng))
    return on_line(np.concatenate(pieces), clip.seconds, clip.line, rng, babble)


def on_line(x: Floats, seconds: float, line: Line, rng: np.random.Generator,
            babble: Floats | None) -> npt.NDArray[np.int16]:
    """``x`` padded or cut to ``seconds`` (0: its content and one second more; at most
    ``MAX_SECONDS``), then through the :func:`carrier` line."""
    n = int(min(seconds or len(x) / RATE + 1.0, MAX_SECONDS) * RATE)
    return carrier(np.pad(x, (0, max(0, n - len(x))))[:n], line, rng, babble)


def carrier(x: Floats, line: Line, rng: np.random.Generator, babble: Floats | None) -> npt.NDArray[np.int16]:
    """``x`` through the carrier line: noise, a gain step, G.711 encode and decode, lost packets."""
    n = len(x)
    x = x + noise(line, n, rng, babble)
    if line.gain_step is not None:
        at, db = line.gain_step
        x[int(at * RATE):] *= 10 ** (db / 20)
    pcm = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    codec = {"pcmu": "PCMU", "pcma": "PCMA"}[line.codec]
    out = decode(encode(pcm, codec), codec).copy()
    if line.loss:
        lost = rng.random(n // 160) < line.loss
        out[: len(lost) * 160].reshape(-1, 160)[lost] = 0
    return out


def describe(clip: Clip) -> str:
    """How the clip was made, in one line, for the manifest."""
    words: list[str] = []
    for part in clip.parts:
        if isinstance(part, Say):
            words.append(f'espeak-ng -v {part.voice} -s {part.speed} -p {part.pitch} "{part.text}" '
                         f"at {part.db:g} dBFS")
        elif isinstance(part, Pause):
            words.append(f"{part.seconds:g} s silence")
        elif isinstance(part, Tone):
            words.append(f"beep {part.hz:g} Hz {part.seconds:g} s at {part.db:g} dBFS")
        else:
            words.append(f"{part.name} {part.seconds:g} s at {part.db:g} dBFS")
    line = clip.line
    path = ("recorded-style path: 22.05 kHz, varispeed wobble "
            f"{line.wobble:g}, room RT60 {line.room:g} s, handset band-pass 300-3400 Hz; "
            if clip.kind == "recorded" else "")
    chain = [f"{line.noise or 'white'} noise at {line.noise_db:g} dBFS"]
    if line.gain_step:
        chain.append(f"gain {line.gain_step[1]:+g} dB from {line.gain_step[0]:g} s")
    chain.append({"pcmu": "G.711 mu-law", "pcma": "G.711 A-law"}[line.codec])
    if line.loss:
        chain.append(f"{line.loss:.0%} of 20 ms packets lost (zeroed)")
    return path + " | ".join(words) + "; then " + ", ".join(chain)


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def manifest(clips: list[Clip], seconds: dict[str, float], version: str) -> str:
    """The manifest's text: one ``[[clip]]`` table per clip."""
    lines = ["# Written by scripts/make_amd_clips.py; do not edit by hand, rerun the script.",
             "# label: the truth. kind: generated, or recorded = recorded-STYLE (espeak-ng Klatt",
             "# voices through a synthetic room and handset; no clip is a real recording).",
             "# split: tune (thresholds were chosen on these) or test (held out).",
             f"generator = {_toml_str(version)}", f"rate = {RATE}", ""]
    for clip in clips:
        lines += manifest_entry(clip.name, clip.label, clip.kind, clip.split, seconds[clip.name],
                                clip.scenario, describe(clip))
    return "\n".join(lines)


def manifest_entry(name: str, label: str, kind: str, split: str, seconds: float, scenario: str,
                   made: str) -> list[str]:
    """One ``[[clip]]`` table of a manifest, as lines (a blank one last)."""
    return ["[[clip]]", f"file = {_toml_str(name + '.flac')}", f"label = {_toml_str(label)}",
            f"kind = {_toml_str(kind)}", f"split = {_toml_str(split)}", f"seconds = {seconds:g}",
            f"scenario = {_toml_str(scenario)}", f"made = {_toml_str(made)}", ""]


def build(out: Path, espeak_bin: str) -> list[Path]:
    """Write every clip and the manifest under ``out``; returns the files written."""
    names = [c.name for c in CLIPS]
    if len(set(names)) != len(names):
        raise ValueError("two clips have the same name")
    out.mkdir(parents=True, exist_ok=True)
    babble_voices = (("en-us+m3", "We should move the meeting to Thursday afternoon instead."),
                     ("en-gb+f2", "Did you see the report that came in this morning?"),
                     ("de+m4", "Ich habe das schon gestern an alle geschickt."),
                     ("en-us+f4", "Can somebody get the door, please? Thanks a lot."))
    rng = _rng("babble")
    babble = np.zeros(int(MAX_SECONDS * RATE))
    for voice, text in babble_voices:
        x = resample(espeak(Say(text, voice), espeak_bin), HI_RATE, RATE)
        x = np.resize(x, len(babble))
        babble += np.roll(_set_level(x, -20.0), int(rng.integers(0, len(babble))))
    files, seconds = [], {}
    for clip in CLIPS:
        path = out / f"{clip.name}.flac"
        pcm = render(clip, espeak_bin, babble)
        soundfile.write(str(path), pcm, RATE, subtype="PCM_16", format="FLAC")
        files.append(path)
        seconds[clip.name] = len(pcm) / RATE
    version = subprocess.run([espeak_bin, "--version"], capture_output=True, text=True).stdout
    (out / "manifest.toml").write_text(manifest(list(CLIPS), seconds, "scripts/make_amd_clips.py "
                                                "with " + version.split(" Data")[0].strip()))
    return files + [out / "manifest.toml"]


# ---------------------------------------------------------------------------------------------
# The clips. A human answers after ``lead`` seconds; a machine's clip lasts its content plus one
# second (at most 10 s). Splits alternate tune/test within each (label, kind) in this order; the
# last clip of each group was added after the first tuning and is placed to keep 25/25/25/25.

def _h(name: str, scenario: str, *parts: Part, lead: float = 0.6, line: Line = Line(),
       kind: str = "generated", seconds: float = 6.0, split: str = "") -> Clip:
    return Clip(name, "human", kind, scenario, (Pause(lead), *parts), line, seconds, split)


def _m(name: str, scenario: str, *parts: Part, lead: float = 0.3, line: Line = Line(),
       kind: str = "generated", split: str = "") -> Clip:
    return Clip(name, "machine", kind, scenario, (Pause(lead), *parts), line, 0.0, split)


def _beep(hz: float = 1000.0, seconds: float = 0.3, gap: float = 0.4) -> tuple[Part, Part]:
    return Pause(gap), Tone(hz, seconds)


A = Line(codec="pcma")
EN_GREETING = ("Hi, you've reached John and Mary. We can't come to the phone right now. "
               "Please leave a message after the tone.")
EN_CARRIER = ("The person you are calling is not available. Please leave a message after the "
              "tone. When you are finished, you may hang up.")
ZH_CARRIER = "您好，您拨打的用户暂时无法接通，请稍后再拨。"
ZH_GREETING = "您好，我现在不方便接听电话，请在提示音后留言。"
DE_GREETING = ("Hallo, hier ist der Anschluss von Familie Müller. Wir sind leider nicht "
               "erreichbar. Bitte hinterlassen Sie eine Nachricht nach dem Signalton.")
BUSINESS = ("Thank you for calling Acme Dental. Our office is currently closed. Our regular hours "
            "are Monday through Friday, eight a.m. to five p.m. If this is an emergency, please "
            "hang up and dial nine one one.")
SIT = (Tone(913.8, 0.274), Tone(1370.6, 0.274), Tone(1776.7, 0.38))

GENERATED_HUMANS = [
    _h("h_hello_en", "Hello? then silence", Say("Hello?"), lead=0.7),
    _h("h_hello_en_gb_f", "Hello? then silence", Say("Hello?", "en-gb+f2", 150, 60), lead=0.4, line=A),
    _h("h_who_en", "Hello, who is this?", Say("Hello, who is this?", "en-us+m3", 170)),
    _h("h_wei_zh", "喂？ twice", Say("喂？", "cmn"), Pause(2.0), Say("喂？", "cmn")),
    _h("h_wei_nihao_zh", "喂，你好？", Say("喂，你好？", "cmn+f3", 150, 60), lead=0.8),
    _h("h_yes_en", "Yes? then Hello?", Say("Yes?", "en-us+f4"), Pause(1.8), Say("Hello?", "en-us+f4"), lead=0.5),
    _h("h_hallo_de", "Hallo?", Say("Hallo?", "de"), line=A),
    _h("h_bitte_de", "Ja, bitte?", Say("Ja, bitte?", "de+f2", 150, 65), lead=0.5, line=A),
    _h("h_allo_fr", "Allô ?", Say("Allô ?", "fr-fr"), lead=0.9, line=A),
    _h("h_diga_es", "¿Diga?", Say("¿Diga?", "es", 170), lead=0.5, line=A),
    _h("h_wei_yue", "喂？邊位呀？ (Cantonese)", Say("喂？邊位呀？", "yue"), lead=0.5),
    _h("h_moshi_ja", "もしもし？", Say("もしもし？", "ja", 170), lead=0.6),
    _h("h_late_en", "late starter: Hello? after 2.2 s", Say("Hello?", "en-us+m2"), lead=2.2),
    _h("h_late_zh", "late starter: 喂？ after 2.6 s", Say("喂？", "cmn+f2"), lead=2.6),
    _h("h_soft_en", "soft talker (-38 dBFS)", Say("Hello?", "en-gb", db=-38.0),
       line=Line(noise_db=-62.0)),
    _h("h_soft_de", "soft talker (-36 dBFS)", Say("Hallo?", "de+m3", db=-36.0), line=A),
    _h("h_noise_white", "Hello? in white noise", Say("Hello?", "en-us", 150),
       line=Line(noise_db=-45.0)),
    _h("h_noise_pink", "Hello, who's calling? in pink noise", Say("Hello, who's calling?", "en-gb+m3"),
       line=Line(noise="pink", noise_db=-42.0)),
    _h("h_noise_babble", "Hello? over office babble", Say("Hello?", "en-us+f2", db=-16.0),
       line=Line(noise="babble", noise_db=-36.0)),
    _h("h_noise_hum", "喂？ with mains hum", Say("喂？", "cmn"), line=Line(codec="pcma", noise="hum", noise_db=-40.0)),
    _h("h_noise_brown", "Yeah, hello? in street rumble", Say("Yeah, hello?", "en-029"),
       line=Line(noise="brown", noise_db=-40.0)),
    _h("h_loss_en", "Hello? twice, 5% packet loss", Say("Hello?"), Pause(2.0), Say("Hello?"),
       line=Line(loss=0.05)),
    _h("h_loss_de", "Hallo, wer ist da? 8% packet loss", Say("Hallo, wer ist da?", "de", 170),
       line=Line(codec="pcma", loss=0.08)),
    _h("h_gain_up", "Hello? with a +10 dB gain step (AGC)", Say("Hello?", "en-gb+m4", db=-28.0),
       line=Line(gain_step=(0.9, 10.0))),
    _h("h_gain_down", "Hello? quiet line, -8 dB step", Say("Hello?", "en-us+f3", db=-26.0),
       line=Line(gain_step=(0.3, -8.0))),
    _h("h_talker_en", "talks a lot at once (a human who sounds like a greeting)",
       Say("Hello, this is Michael Brown speaking, how can I help you today?", "en-us+m3", 175)),
    _h("h_talker_zh", "talks a lot at once (Mandarin)", Say("喂，你好，我是王明，请问您找哪位？", "cmn", 170)),
    _h("h_anybody_en", "Hello? Hello? Is anybody there? with short pauses",
       Say("Hello?", "en-us+m2"), Pause(0.5), Say("Hello?", "en-us+m2"), Pause(0.5),
       Say("Is anybody there?", "en-us+m2")),
    _h("h_allo_ru", "Алло?", Say("Алло?", "ru"), line=A),
    _h("h_yeah_nyc", "Yeah? then Who is this?", Say("Yeah?", "en-us-nyc"), Pause(1.5),
       Say("Who is this?", "en-us-nyc")),
    _h("h_alo_pt", "Alô?", Say("Alô?", "pt-br", 150, 55), lead=0.8),
    _h("h_residence_en", "Hello, Smith residence.", Say("Hello, Smith residence.", "en-gb-scotland", 180)),
    _h("h_breath_en", "Hello? then a breath and a cough", Say("Hello?", "en-us+m4"), Pause(0.5),
       Sound("breath", 0.25, -34.0), Pause(0.6), Sound("breath", 0.15, -28.0), split="tune"),
]

GENERATED_MACHINES = [
    _m("m_greeting_en", "personal greeting + 1 kHz beep", Say(EN_GREETING), *_beep()),
    _m("m_greeting_en_f", "personal greeting + 850 Hz beep",
       Say("Hello, this is Sarah. Sorry I missed your call. Leave your name and number and I "
           "will get back to you as soon as I can.", "en-gb+f2", 165, 60), *_beep(850.0, 0.4), line=A),
    _m("m_carrier_en", "carrier voicemail + 1400 Hz beep", Say(EN_CARRIER, "en-us+f3", 150),
       *_beep(1400.0, 0.25)),
    _m("m_carrier_zh", "carrier announcement (Mandarin then English), no beep",
       Say(ZH_CARRIER, "cmn+f2"), Pause(0.4),
       Say("Sorry, the subscriber you dialed cannot be connected for the moment, please redial "
           "later.", "en-us+f2"), line=A),
    _m("m_greeting_zh", "personal greeting (Mandarin) + beep", Say(ZH_GREETING, "cmn"), *_beep(1000.0, 0.5)),
    _m("m_greeting_de", "personal greeting (German) + beep", Say(DE_GREETING, "de"), *_beep(), line=A),
    _m("m_carrier_de", "carrier announcement (German), no beep",
       Say("Der gewünschte Gesprächspartner ist zurzeit nicht erreichbar. Bitte versuchen Sie "
           "es später noch einmal.", "de+m3"), line=A),
    _m("m_greeting_fr", "personal greeting (French) + beep",
       Say("Bonjour, vous êtes bien sur le répondeur de Pierre. Laissez-moi un message après "
           "le bip sonore.", "fr-fr"), *_beep(), line=A),
    _m("m_greeting_es", "personal greeting (Spanish) + beep",
       Say("Hola, has llamado a Carmen. Ahora no puedo atender, deja tu mensaje después de la "
           "señal.", "es"), *_beep(1000.0, 0.4), line=A),
    _m("m_business_en", "business-hours greeting (15 s, cut at 10 s)", Say(BUSINESS, "en-us+m3", 150)),
    _m("m_short_beep_en", "short greeting + beep", Say("Leave a message.", "en-us+f2"), *_beep(1000.0, 0.4, 0.3)),
    _m("m_short_nobeep_en", "short greeting, no beep (hard)", Say("Hi, it's Tom, leave a message.", "en-gb", 175)),
    _m("m_beep_only", "a beep and nothing else", Tone(1000.0, 0.5), Pause(3.0), lead=0.8),
    _m("m_hold", "hold tones (single notes)", Sound("hold", 8.0)),
    _m("m_please_hold", "Please hold. then chords", Say("Please hold.", "en-us+f3"), Sound("chords", 7.0)),
    _m("m_fax", "fax answer: CED 2100 Hz then V.21 flags", Sound("fax", 6.0)),
    _m("m_modem", "modem answer tone (ANSam)", Sound("modem", 5.0), line=A),
    _m("m_cng", "fax calling tone (CNG 1100 Hz)", Sound("cng", 8.0), lead=0.5),
    _m("m_greeting_noise", "greeting + 440 Hz beep in white noise",
       Say("You have reached Dave's phone. Leave a message and I'll call you back.", "en-029"),
       *_beep(440.0, 0.6), line=Line(noise_db=-45.0)),
    _m("m_extension_en", "1.2 s of silence, then a voicemail greeting + beep",
       Say("You have reached the voicemail of extension four two one five. Please leave a "
           "message.", "en-us+f4"), *_beep(), lead=1.2),
    _m("m_greeting_yue", "personal greeting (Cantonese) + beep",
       Say("你好，我而家唔方便聽電話，請你留低口訊。", "yue"), *_beep()),
    _m("m_greeting_ja", "personal greeting (Japanese) + beep",
       Say("ただいま電話に出ることができません。発信音のあとにメッセージをどうぞ。", "ja"), *_beep()),
    _m("m_loss_en", "greeting + beep, 5% packet loss", Say(EN_GREETING, "en-us+m7", 170), *_beep(),
       line=Line(loss=0.05)),
    _m("m_gain_en", "greeting with a +8 dB gain step", Say(EN_CARRIER, "en-gb", db=-28.0), *_beep(),
       line=Line(gain_step=(2.0, 8.0))),
    _m("m_noise_zh", "carrier announcement in pink noise", Say(ZH_CARRIER, "cmn"),
       line=Line(noise="pink", noise_db=-40.0)),
    _m("m_babble_en", "greeting over office babble", Say(EN_GREETING, "en-us+m3"), *_beep(),
       line=Line(noise="babble", noise_db=-36.0)),
    _m("m_fast_en", "fast short greeting + a 0.12 s beep (hard)",
       Say("Hey, it's Dave, leave a message.", "en-us", 210), *_beep(1000.0, 0.12, 0.2)),
    _m("m_greeting_ru", "personal greeting (Russian) + beep",
       Say("Здравствуйте, вы позвонили Ивану. Оставьте сообщение после сигнала.", "ru"), *_beep(), line=A),
    _m("m_greeting_pt", "personal greeting (Portuguese) + beep",
       Say("Olá, você ligou para Ana. Deixe sua mensagem após o sinal.", "pt-br"), *_beep(900.0, 0.4)),
    _m("m_greeting_it", "personal greeting (Italian) + beep",
       Say("Ciao, sono Marco. Lasciate un messaggio dopo il segnale acustico.", "it"), *_beep()),
    _m("m_sit_en", "SIT tones + not in service announcement", *SIT,
       Say("The number you have dialed is not in service. Please check the number and try "
           "again.", "en-us+f3")),
    _m("m_ivr_en", "IVR welcome then hold tones",
       Say("Thank you for calling. Your call is important to us. Please stay on the line.", "en-us+f2"),
       Sound("hold", 4.0)),
    _m("m_fake_hello_en", "a greeting that starts like a person: Hello? pause, then the rest (hard)",
       Say("Hello?", "en-us+m3"), Pause(1.2),
       Say("Ha, got you, I'm not here right now. Leave a message.", "en-us+m3"), *_beep(),
       split="test"),
]

R = "recorded"
RECORDED_HUMANS = [
    _h("r_hello_en", "Hello?", Say("Hello?", "en-us+klatt"), kind=R),
    _h("r_who_en", "Hello, who is this?", Say("Hello, who is this?", "en-gb+klatt2", 165, 55),
       kind=R, line=Line(room=0.5)),
    _h("r_wei_zh", "喂？", Say("喂？", "cmn+klatt"), kind=R, lead=0.5, line=Line(room=0.3)),
    _h("r_hallo_de", "Hallo?", Say("Hallo?", "de+klatt3"), kind=R, line=Line(codec="pcma", room=0.6)),
    _h("r_yes_en", "Yes? then Hello?", Say("Yes?", "en-us+klatt4"), Pause(1.5),
       Say("Hello?", "en-us+klatt4"), kind=R),
    _h("r_late_en", "late starter (2.0 s)", Say("Hello?", "en-us+klatt"), lead=2.0, kind=R),
    _h("r_soft_en", "soft talker (-36 dBFS)", Say("Hello?", "en-gb+klatt3", db=-36.0), kind=R,
       line=Line(noise="pink", noise_db=-60.0)),
    _h("r_noise_zh", "喂，你好？ in pink noise", Say("喂，你好？", "cmn+klatt2"), kind=R,
       line=Line(noise="pink", noise_db=-42.0)),
    _h("r_allo_fr", "Allô, oui ?", Say("Allô, oui ?", "fr-fr+klatt"), kind=R, line=A),
    _h("r_digame_es", "¿Sí? ¿Dígame?", Say("¿Sí? ¿Dígame?", "es+klatt2"), kind=R, line=Line(codec="pcma", room=0.5)),
    _h("r_talker_en", "talks a lot at once",
       Say("Hi, yeah, this is Jenny, I'm just in the car right now, who's calling?", "en-us+klatt2", 175),
       kind=R, line=Line(noise="brown", noise_db=-45.0)),
    _h("r_loss_en", "Hello?, 5% packet loss", Say("Hello?", "en-us+klatt3"), kind=R, line=Line(loss=0.05)),
    _h("r_wei_yue", "喂？ (Cantonese)", Say("喂？", "yue+klatt"), kind=R, lead=0.8),
    _h("r_big_room_en", "Hello? in a big room (RT60 0.8 s)", Say("Hello?", "en-us+klatt5"), kind=R,
       line=Line(room=0.8)),
    _h("r_name_de", "Schmidt? (answering with the surname)", Say("Schmidt?", "de+klatt4"), kind=R, line=A),
    _h("r_twice_en", "Hello? twice, with hum", Say("Hello?", "en-gb+klatt"), Pause(0.9),
       Say("Hello?", "en-gb+klatt"), kind=R, line=Line(noise="hum", noise_db=-42.0)),
    _h("r_again_en", "Hello? then Hello? after 0.6 s", Say("Hello?", "en-us+klatt3"), Pause(0.6),
       Say("Hello?", "en-us+klatt3"), kind=R, lead=0.9, split="test"),
]

RECORDED_MACHINES = [
    _m("r_greeting_en", "personal greeting + beep", Say(EN_GREETING, "en-us+klatt"), *_beep(), kind=R),
    _m("r_greeting_en_gb", "personal greeting + beep",
       Say("Hello, this is Sarah. Sorry I missed your call. Leave your name and number and I will "
           "get back to you.", "en-gb+klatt2"), *_beep(850.0, 0.4), kind=R),
    _m("r_carrier_zh", "carrier announcement (Mandarin)", Say(ZH_CARRIER, "cmn+klatt"), kind=R, line=A),
    _m("r_greeting_de", "personal greeting (German) + beep", Say(DE_GREETING, "de+klatt3"), *_beep(),
       kind=R, line=A),
    _m("r_short_beep_en", "short greeting + beep", Say("Please leave a message.", "en-us+klatt4"),
       *_beep(1000.0, 0.4, 0.3), kind=R),
    _m("r_short_nobeep_en", "short greeting, no beep (hard)", Say("Hi, it's Amy, leave a message.", "en-us+klatt2", 170),
       kind=R),
    _m("r_greeting_fr", "personal greeting (French) + beep",
       Say("Bonjour, vous êtes bien chez Claire. Laissez un message après le bip.", "fr-fr+klatt"),
       *_beep(), kind=R, line=A),
    _m("r_greeting_es", "personal greeting (Spanish) + beep",
       Say("Hola, soy Luis. No estoy disponible, deja tu mensaje después del tono.", "es+klatt2"),
       *_beep(), kind=R, line=A),
    _m("r_carrier_en_noise", "carrier voicemail in pink noise", Say(EN_CARRIER, "en-us+klatt5"), *_beep(),
       kind=R, line=Line(noise="pink", noise_db=-42.0)),
    _m("r_greeting_zh", "personal greeting (Mandarin) + beep", Say(ZH_GREETING, "cmn+klatt2"), *_beep(),
       kind=R),
    _m("r_loss_greeting_en", "greeting + beep, 6% packet loss", Say(EN_GREETING, "en-gb+klatt3"), *_beep(),
       kind=R, line=Line(loss=0.06)),
    _m("r_initial_silence_en", "1.5 s of silence, then a greeting",
       Say("You've reached the Johnsons. We're not home right now, please leave a message.",
           "en-us+klatt4"), *_beep(), lead=1.5, kind=R),
    _m("r_business_en", "business-hours greeting", Say(BUSINESS, "en-gb+klatt3", 155), kind=R),
    _m("r_greeting_yue", "personal greeting (Cantonese) + beep",
       Say("你好，我而家唔方便聽電話，請你留低口訊。", "yue+klatt"), *_beep(), kind=R),
    _m("r_music_en", "greeting then chords", Say("Thanks for calling, please hold.", "en-us+klatt"),
       Sound("chords", 6.0), kind=R),
    _m("r_carrier_de", "carrier announcement (German)",
       Say("Der Teilnehmer ist vorübergehend nicht erreichbar.", "de+klatt4"), kind=R, line=A),
    _m("r_very_short_en", "a very short greeting, the beep 1.5 s later (hard)",
       Say("Not here, leave a message.", "en-us+klatt2", 185), *_beep(1000.0, 0.3, 1.5), kind=R,
       split="tune"),
]


def _with_splits(clips: Sequence[Clip]) -> list[Clip]:
    return [c if c.split else replace(c, split="tune" if i % 2 == 0 else "test")
            for i, c in enumerate(clips)]


CLIPS: list[Clip] = [c for group in (GENERATED_HUMANS, GENERATED_MACHINES, RECORDED_HUMANS,
                                     RECORDED_MACHINES) for c in _with_splits(group)]


def main(argv: list[str] | None = None) -> int:
    """The command line: write the clips and print their count and total size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--espeak", default="espeak-ng", help="the espeak-ng program")
    args = parser.parse_args(argv)
    if shutil.which(args.espeak) is None:
        print(f"{args.espeak} not found: install espeak-ng", file=sys.stderr)
        return 1
    files = build(args.out, args.espeak)
    total = sum(f.stat().st_size for f in files)
    print(f"{len(files) - 1} clips, {total / 1024:.0f} KiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
