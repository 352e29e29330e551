"""Prompts: decoding any rate/format to 8 kHz int16 once, the library, spoken numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from ivr.prompts import (
    DIGIT_PROMPTS,
    NUMBER_PROMPTS,
    PromptError,
    PromptLibrary,
    digit_prompts,
    load_audio,
    number_prompts,
    queue_announcement,
    resample,
)
from telephony.rtp.tone import tone, tone_power_db
from tests.unit.ivr.ladder import PROMPTS


def sine(freq: float, seconds: float, rate: int, level: float = 0.3) -> np.ndarray:
    return level * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)


@pytest.mark.parametrize(
    ("n", "spoken"),
    [
        (0, ["0"]),
        (7, ["7"]),
        (13, ["13"]),
        (20, ["20"]),
        (42, ["40", "2"]),
        (100, ["1", "hundred"]),
        (105, ["1", "hundred", "5"]),
        (215, ["2", "hundred", "15"]),
        (1000, ["1", "thousand"]),
        (2015, ["2", "thousand", "15"]),
        (70_070, ["70", "thousand", "70"]),
        (1_000_001, ["1", "million", "1"]),
        (999_999_999, ["9", "hundred", "90", "9", "million", "9", "hundred", "90", "9",
                       "thousand", "9", "hundred", "90", "9"]),
    ],
)
def test_number_prompts(n: int, spoken: list[str]) -> None:
    assert number_prompts(n) == [f"digits/{word}" for word in spoken]
    assert set(number_prompts(n)) <= set(NUMBER_PROMPTS)


def test_numbers_out_of_range() -> None:
    for bad in (-1, 1_000_000_000):
        with pytest.raises(ValueError):
            number_prompts(bad)


def test_digit_prompts_and_announcements() -> None:
    assert digit_prompts("+1 (555) 01#") == [f"digits/{d}" for d in "155501"]
    assert tuple(f"digits/{d}" for d in range(10)) == DIGIT_PROMPTS
    assert len(NUMBER_PROMPTS) == 31
    assert queue_announcement(3, 1) == ["queue_position", "digits/3", "queue_wait", "digits/1", "minute"]
    assert queue_announcement(21, 12) == ["queue_position", "digits/20", "digits/1", "queue_wait",
                                          "digits/12", "minutes"]
    assert queue_announcement(2) == ["queue_position", "digits/2"]


def test_resample_down_keeps_the_tone_and_its_level() -> None:
    out = resample(sine(1000, 1.0, 44100), 44100)
    assert len(out) == 8000
    pcm = np.round(out * 32767).astype(np.int16)
    assert tone_power_db(pcm[400:-400], 1000) == pytest.approx(20 * np.log10(0.3), abs=0.1)


def test_resample_down_does_not_alias() -> None:
    # 6 kHz is above the 4 kHz Nyquist frequency of 8 kHz; it would fold onto 2 kHz.
    out = resample(sine(6000, 0.5, 44100), 44100)
    pcm = np.round(out * 32767).astype(np.int16)
    assert tone_power_db(pcm[400:-400], 2000) < -70


@pytest.mark.parametrize("rate", [4000, 11025, 16000, 22050, 48000])
def test_resample_other_rates(rate: int) -> None:
    x = sine(700, 0.5, rate)
    out = resample(x, rate)
    assert len(out) == len(x) * 8000 // rate  # 3999 for 5512 samples at 11025 Hz
    pcm = np.round(out * 32767).astype(np.int16)
    assert tone_power_db(pcm[400:-400], 700) == pytest.approx(20 * np.log10(0.3), abs=0.1)


def test_resample_same_rate_is_a_copy() -> None:
    x = sine(500, 0.01, 8000)
    out = resample(x, 8000)
    assert out is not x and np.array_equal(out, x)
    assert len(resample(np.zeros(0), 44100)) == 0
    with pytest.raises(ValueError):
        resample(x, 0)


def test_load_audio_of_any_format_rate_and_channels(tmp_path: Path) -> None:
    stereo = np.stack([sine(440, 0.5, 44100), sine(440, 0.5, 44100)], axis=1)
    soundfile.write(tmp_path / "a.wav", stereo, 44100, subtype="PCM_16")
    soundfile.write(tmp_path / "b.flac", sine(440, 0.5, 16000), 16000, subtype="PCM_16")
    soundfile.write(tmp_path / "c.ogg", sine(440, 0.5, 48000), 48000)
    for name in ("a.wav", "b.flac", "c.ogg"):
        pcm = load_audio(tmp_path / name)
        assert pcm.dtype == np.int16 and pcm.ndim == 1
        assert abs(len(pcm) - 4000) <= 2, name
        assert tone_power_db(pcm[400:-400], 440) == pytest.approx(20 * np.log10(0.3), abs=0.5), name


def test_load_audio_full_scale_does_not_wrap(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "loud.wav", tone(1000, 0.1, dbfs=0.0), 8000, subtype="PCM_16")
    pcm = load_audio(tmp_path / "loud.wav")
    assert np.array_equal(pcm, tone(1000, 0.1, dbfs=0.0))


def test_load_audio_errors(tmp_path: Path) -> None:
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(PromptError, match="^cannot be read: "):
        load_audio(tmp_path / "text.wav")
    soundfile.write(tmp_path / "empty.wav", np.zeros(0), 8000, subtype="PCM_16")
    with pytest.raises(PromptError, match="^has no audio$"):
        load_audio(tmp_path / "empty.wav")


def test_library_names_files_by_path(tmp_path: Path) -> None:
    (tmp_path / "digits").mkdir()
    soundfile.write(tmp_path / "hello.wav", sine(440, 0.25, 16000), 16000, subtype="PCM_16")
    soundfile.write(tmp_path / "digits" / "1.flac", sine(440, 0.1, 8000), 8000, subtype="PCM_16")
    (tmp_path / "notes.txt").write_text("not a prompt")
    library = PromptLibrary()
    assert library.add_directory(tmp_path) == []
    assert library.names() == ["digits/1", "hello"]
    assert "hello" in library and "notes" not in library
    assert library.seconds("hello") == 0.25 and library.file("digits/1") == tmp_path / "digits" / "1.flac"
    assert len(library.sequence(["hello", "digits/1", "hello"])) == 2000 + 800 + 2000
    assert len(library.sequence([])) == 0
    assert not library.pcm("hello").flags.writeable
    assert library.digits("11") == ["digits/1", "digits/1"] and library.number(1) == ["digits/1"]
    assert library.add_directory(tmp_path / "." ) == []  # the same directory is read once
    with pytest.raises(KeyError):
        library.pcm("missing")


def test_library_reports_conflicts_and_bad_files(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    soundfile.write(first / "hello.wav", sine(440, 0.1, 8000), 8000, subtype="PCM_16")
    soundfile.write(first / "hello.flac", sine(440, 0.1, 8000), 8000, subtype="PCM_16")
    soundfile.write(second / "hello.wav", sine(440, 0.1, 8000), 8000, subtype="PCM_16")
    (second / "broken.ogg").write_bytes(b"OggS" + bytes(60))
    library = PromptLibrary()
    assert library.add_directory(first) == [
        f"prompt 'hello' is both {first.resolve()}/hello.flac and {first.resolve()}/hello.wav"
    ]
    problems = library.add_directory(second)
    assert problems[0].startswith(f"prompt 'broken': {second.resolve()}/broken.ogg cannot be read: ")
    assert problems[1] == (f"prompt 'hello' is both {first.resolve()}/hello.flac and "
                           f"{second.resolve()}/hello.wav")


def test_the_demo_prompts_are_8khz_mono_and_complete() -> None:
    library = PromptLibrary()
    assert library.add_directory(PROMPTS) == []
    assert set(NUMBER_PROMPTS) <= set(library.names())
    for name in ("welcome", "menu", "invalid", "closed", "queue_position", "queue_wait",
                 "minutes", "survey", "survey_thanks", "goodbye", "beep", "hold"):
        assert 0.2 < library.seconds(name) < 15, name
    for path in PROMPTS.rglob("*.flac"):
        info = soundfile.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16"), path
