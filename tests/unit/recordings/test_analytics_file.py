"""analyze_path: the analytics of WAV and FLAC recordings on disk, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recordings.analytics import analyze_call
from recordings.analyze_file import AudioFileError, analyze_path, read_call
from recordings.wav import StereoWavWriter
from tests.unit.recordings.analytics_kit import RATE, scenario


@pytest.fixture(scope="module")
def samples() -> np.ndarray:
    return scenario().int16()


def test_a_recording_made_by_the_writer(tmp_path: Path, samples: np.ndarray) -> None:
    path = tmp_path / "call.wav"
    with StereoWavWriter(path, RATE) as w:
        w.write(samples)
    assert analyze_path(path) == analyze_call(samples, RATE)


def test_an_archived_flac(tmp_path: Path, samples: np.ndarray) -> None:
    path = tmp_path / "call.flac"
    sf.write(path, samples, RATE, subtype="PCM_16")
    a = analyze_path(path)
    assert a == analyze_call(samples, RATE)
    assert a.hold_s == 20.0


def test_read_call_gives_int16_and_the_rate(tmp_path: Path, samples: np.ndarray) -> None:
    path = tmp_path / "call.flac"
    sf.write(path, samples[:RATE], RATE)
    data, rate = read_call(path)
    assert rate == RATE and data.dtype == np.int16 and np.array_equal(data, samples[:RATE])


def error_of(path: Path) -> AudioFileError:
    with pytest.raises(AudioFileError) as info:
        analyze_path(path)
    assert str(info.value).startswith(f"{path}: ") and info.value.path == path
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.wav").reason == "no such file"


def test_mono_file(tmp_path: Path) -> None:
    path = tmp_path / "mono.wav"
    sf.write(path, np.zeros(RATE, dtype=np.int16), RATE)
    assert error_of(path).reason == "1 channel(s); a call recording has two (0 customer, 1 agent)"


@pytest.mark.parametrize("content", [b"", b"not audio at all" * 10,
                                     b"RIFF\x00\x00\x00\x00WAVEjunkjunk"])
def test_garbage(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    assert error_of(path).reason.startswith("unreadable audio: ")


def test_truncated_flac(tmp_path: Path, samples: np.ndarray) -> None:
    path = tmp_path / "cut.flac"
    sf.write(path, samples, RATE)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert error_of(path).reason == "unreadable audio: flac decoder lost sync."


def test_corrupt_flac_frames(tmp_path: Path, samples: np.ndarray) -> None:
    path = tmp_path / "bent.flac"
    sf.write(path, samples, RATE)
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    assert error_of(path).reason.startswith("unreadable audio: ")


def test_truncated_wav_is_not_a_shorter_call(tmp_path: Path, samples: np.ndarray) -> None:
    path = tmp_path / "cut.wav"
    with StereoWavWriter(path, RATE) as w:
        w.write(samples[: 2 * RATE])
    data = path.read_bytes()
    path.write_bytes(data[:-1000])
    assert error_of(path).reason == (
        "WAV header declares 64000 bytes of audio but the file holds 63000 (truncated or never "
        "repaired: see recordings.wav.repair_wav)")
