"""In-band DTMF detection (Goertzel over G.711 audio): keys, Q.24 timing, levels, twist,
frequency tolerance, and no false keys on noise, music and real speech."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from telephony.rtp.g711 import alaw_decode, encode
from telephony.rtp.inband import InbandDigit, InbandDtmfDetector
from telephony.rtp.tone import DTMF_FREQUENCIES, dtmf_tone, frames, silence

KEYS = "0123456789*#ABCD"
SIPP_SPEECH = Path("/usr/share/sip-tester/g711a.pcap")
PROMPTS = Path(__file__).resolve().parents[3] / "config" / "ivr" / "prompts"
Pcm = npt.NDArray[np.int16]


def detect(pcm: Pcm, frame: int = 160, detector: InbandDtmfDetector | None = None) -> list[InbandDigit]:
    detector = detector or InbandDtmfDetector()
    out: list[InbandDigit] = []
    for start in range(0, len(pcm), frame):
        out += detector.feed(pcm[start : start + frame])
    return out


def keys(pcm: Pcm) -> str:
    return "".join(d.digit for d in detect(pcm))


def pair(key: str, ms: float, *, level_dbm0: float = -10.0, twist_db: float = 0.0,
         deviation: float = 0.0) -> npt.NDArray[np.float64]:
    """A key's two tones, each at ``level_dbm0`` (column ``twist_db`` above the row)."""
    row, col = DTMF_FREQUENCIES[key]
    amplitude = 32768 * 10 ** ((level_dbm0 - 3.17) / 20)
    t = np.arange(round(ms * 8)) / 8000
    return amplitude * (np.sin(2 * np.pi * row * (1 + deviation) * t)
                        + 10 ** (twist_db / 20) * np.sin(2 * np.pi * col * (1 + deviation) * t + 1.0))


def sequence(parts: Iterable[npt.NDArray[np.float64]], gap_ms: float = 60.0) -> Pcm:
    gap = np.zeros(round(gap_ms * 8))
    pieces = [gap]
    for part in parts:
        pieces += [part, gap]
    return np.clip(np.round(np.concatenate(pieces)), -32768, 32767).astype(np.int16)


def test_every_key_once_at_its_start() -> None:
    pcm = np.concatenate([silence(0.1)] + [np.concatenate([dtmf_tone(k, 0.05), silence(0.05)]) for k in KEYS])
    found = detect(pcm)
    assert "".join(d.digit for d in found) == KEYS
    for i, digit in enumerate(found):
        tone_start = 800 + i * 800
        assert abs(digit.start - tone_start) < 102  # the first block (mostly) inside the tone
        assert digit.reported == digit.start + 2 * 102  # confirmed after two blocks


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_keys_in_g711_payloads(codec: str) -> None:
    pcm = sequence(pair(k, 70) for k in "159#")
    detector = InbandDtmfDetector()
    found: list[InbandDigit] = []
    for frame in frames(pcm):
        found += detector.feed_payload(encode(frame, codec), codec)
    assert "".join(d.digit for d in found) == "159#"


@pytest.mark.parametrize("frame", [7, 80, 102, 160, 1000])
def test_any_frame_size_gives_the_same_keys(frame: int) -> None:
    pcm = sequence(pair(k, 45) for k in "2580")
    reference = detect(pcm)
    assert [d.digit for d in reference] == list("2580")
    assert detect(pcm, frame) == reference


@pytest.mark.parametrize("offset", range(0, 102, 9))
def test_40_ms_is_always_heard_and_20_ms_never(offset: int) -> None:
    lead = np.zeros(offset)
    assert keys(sequence([np.concatenate([lead, pair("7", 40)])])) == "7"
    assert keys(sequence([np.concatenate([lead, pair("7", 20)])])) == ""


@pytest.mark.parametrize("offset", range(0, 102, 17))
def test_a_40_ms_pause_separates_presses_and_a_10_ms_dropout_does_not(offset: int) -> None:
    lead = np.zeros(offset)
    press = pair("3", 80)
    twice = np.concatenate([lead, press, np.zeros(320), press])
    once = np.concatenate([lead, press, np.zeros(80), press])
    assert keys(sequence([twice])) == "33"
    assert keys(sequence([once])) == "3"


def test_a_long_press_is_one_key() -> None:
    assert keys(sequence([pair("*", 1500)])) == "*"


def test_a_change_of_key_without_a_pause_is_two_keys() -> None:
    assert keys(sequence([np.concatenate([pair("1", 100), pair("2", 100)])])) == "12"


@pytest.mark.parametrize(("level", "heard"), [(0.0, True), (-25.0, True), (-32.0, True), (-40.0, False),
                                              (-55.0, False)])
def test_levels(level: float, heard: bool) -> None:
    assert keys(sequence(pair(k, 60, level_dbm0=level) for k in KEYS)) == (KEYS if heard else "")


@pytest.mark.parametrize(("twist", "heard"), [(-6.0, True), (-10.0, False), (3.0, True), (6.0, False)])
def test_twist(twist: float, heard: bool) -> None:
    # Negative: the column (high) tone weaker than the row tone (normal twist, up to 8 dB);
    # positive: stronger (reverse twist, up to 4 dB).
    assert keys(sequence(pair(k, 60, twist_db=twist) for k in KEYS)) == (KEYS if heard else "")


@pytest.mark.parametrize(("deviation", "heard"), [(-0.015, True), (0.015, True), (-0.035, False),
                                                  (0.035, False)])
def test_frequency_tolerance(deviation: float, heard: bool) -> None:
    assert keys(sequence(pair(k, 60, deviation=deviation) for k in KEYS)) == (KEYS if heard else "")


def test_keys_heard_through_noise() -> None:
    rng = np.random.default_rng(7)
    clean = sequence(pair(k, 60, level_dbm0=-15) for k in KEYS).astype(np.float64)
    tone_rms = 32768 * 10 ** ((-15 - 3.17) / 20)  # each tone's peak; the pair's rms equals it
    noisy = clean + rng.normal(0, tone_rms * 10 ** (-15 / 20), len(clean))  # 15 dB SNR
    assert keys(np.clip(np.round(noisy), -32768, 32767).astype(np.int16)) == KEYS


@pytest.mark.parametrize("rms", [30.0, 300.0, 3000.0, 12000.0])
def test_no_keys_in_noise(rms: float) -> None:
    rng = np.random.default_rng(int(rms))
    noise = np.clip(rng.normal(0, rms, 8000 * 5), -32768, 32767).astype(np.int16)
    assert keys(noise) == ""


def _vowel(f0: float, formants: tuple[float, ...], seconds: float) -> npt.NDArray[np.float64]:
    t = np.arange(int(seconds * 8000)) / 8000
    glide = f0 * (1 + 0.1 * np.sin(2 * np.pi * 3 * t))  # intonation
    phase = 2 * np.pi * np.cumsum(glide) / 8000
    wave = np.zeros_like(t)
    for h in range(1, int(3800 / f0)):
        gain = sum(1 / (1 + ((h * f0 - f) / 120) ** 2) for f in formants)
        wave += gain * np.sin(h * phase)
    return np.asarray(wave / np.abs(wave).max() * 12000, dtype=np.float64)


def test_no_keys_in_speech_like_signals() -> None:
    vowels = [_vowel(f0, formants, 0.6) for f0 in (95, 120, 210)
              for formants in ((730, 1090, 2440), (270, 2290, 3010), (660, 1720, 2410), (700, 1220, 2600))]
    assert keys(sequence(vowels, gap_ms=30)) == ""


def test_no_keys_in_music() -> None:
    t = np.arange(8000) / 8000
    chords = []
    for notes in ((261.6, 329.6, 392.0), (220.0, 277.2, 329.6), (349.2, 440.0, 523.3), (196.0, 246.9, 293.7)):
        saw = sum(sum(np.sin(2 * np.pi * n * h * t) / h for h in range(1, 12)) for n in notes)
        chords.append(saw / np.abs(saw).max() * 16000)
    assert keys(sequence(chords, gap_ms=0)) == ""


def _pcap_rtp_payloads(path: Path) -> list[bytes]:
    """RTP payloads from a pcap (24-byte file header, 16-byte record headers, Ethernet/IPv4/UDP)."""
    data = path.read_bytes()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    assert struct.unpack(endian + "I", data[:4])[0] == 0xA1B2C3D4
    assert struct.unpack(endian + "I", data[20:24])[0] == 1  # link type Ethernet
    payloads, offset = [], 24
    while offset + 16 <= len(data):
        captured = struct.unpack(endian + "I", data[offset + 8 : offset + 12])[0]
        packet = data[offset + 16 : offset + 16 + captured]
        offset += 16 + captured
        if packet[12:14] != b"\x08\x00" or packet[23] != 17:  # IPv4, UDP
            continue
        rtp = packet[14 + (packet[14] & 0x0F) * 4 + 8 :]
        header = 12 + 4 * (rtp[0] & 0x0F)
        if rtp[0] & 0x10:  # RFC 3550 §5.3.1 header extension
            header += 4 + 4 * struct.unpack("!H", rtp[header + 2 : header + 4])[0]
        end = len(rtp) - (rtp[-1] if rtp[0] & 0x20 else 0)
        payloads.append(rtp[header:end])
    return payloads


@pytest.mark.skipif(not SIPP_SPEECH.exists(), reason="SIPp's sample audio (Debian sip-tester) is not installed")
@pytest.mark.parametrize("gain", [0.25, 1.0, 4.0])
def test_no_keys_in_real_speech(gain: float) -> None:
    payloads = _pcap_rtp_payloads(SIPP_SPEECH)
    assert len(payloads) == 236 and {len(p) for p in payloads} == {240}
    speech = np.concatenate([alaw_decode(p) for p in payloads]).astype(np.float64)
    assert np.abs(speech).max() > 8000  # it is speech, not silence
    assert keys(np.clip(speech * gain, -32768, 32767).astype(np.int16)) == ""


def test_no_keys_in_the_demo_prompts() -> None:
    import soundfile  # the prompts are 8 kHz FLAC, espeak-ng speech

    files = sorted(PROMPTS.rglob("*.flac"))
    assert len(files) > 50
    for path in files:
        pcm, rate = soundfile.read(str(path), dtype="int16")
        assert rate == 8000
        assert keys(pcm) == "", path.name


def test_reset_forgets_a_key_in_progress() -> None:
    detector = InbandDtmfDetector()
    press = sequence([pair("9", 200)])
    assert [d.digit for d in detect(press[:1200], detector=detector)] == ["9"]
    detector.reset()
    assert [d.digit for d in detect(press[1200:], detector=detector)] == ["9"]  # heard anew


def test_wideband_audio() -> None:
    detector = InbandDtmfDetector(16000)
    assert detector.block == 204
    row, col = DTMF_FREQUENCIES["6"]
    t = np.arange(1600) / 16000
    pcm = np.round(5000 * (np.sin(2 * np.pi * row * t) + np.sin(2 * np.pi * col * t))).astype(np.int16)
    found = detect(np.concatenate([pcm, np.zeros(1600, np.int16)]), 320, detector)
    assert [d.digit for d in found] == ["6"]
