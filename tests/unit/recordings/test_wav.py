"""StereoWavWriter and repair_wav on byte fixtures."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recordings.wav import (
    HEADER_SIZE,
    RepairStatus,
    StereoWavWriter,
    read_stereo,
    repair_wav,
)

# RIFF(36) WAVE, fmt 16: PCM, 2 ch, 8000 Hz, 32000 B/s, align 4, 16 bit; data(0).
EMPTY_8K = bytes.fromhex(
    "52494646" "24000000" "57415645"
    "666d7420" "10000000" "0100" "0200" "401f0000" "007d0000" "0400" "1000"
    "64617461" "00000000"
)  # fmt: skip


def frames(n: int, start: int = 0) -> np.ndarray:
    left = np.arange(start, start + n, dtype=np.int64) % 65536 - 32768
    return np.stack([left, -left - 1], axis=1).astype(np.int16)


def sizes(path: Path) -> tuple[int, int]:
    raw = path.read_bytes()
    return struct.unpack_from("<I", raw, 4)[0], struct.unpack_from("<I", raw, 40)[0]


def test_new_file_is_a_valid_empty_wav(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "call.wav"
    w = StereoWavWriter(path)
    assert path.read_bytes() == EMPTY_8K
    assert w.path == path and w.frames_written == 0
    data, rate = read_stereo(path)
    assert data.shape == (0, 2) and rate == 8000
    w.close()


def test_write_buffers_until_flush_then_header_matches(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    w = StereoWavWriter(path)
    w.write(frames(800))
    assert path.stat().st_size == HEADER_SIZE and w.frames_written == 800
    assert w.frames_flushed == 0
    w.flush()
    assert path.stat().st_size == HEADER_SIZE + 800 * 4
    assert sizes(path) == (36 + 3200, 3200)
    assert w.frames_flushed == 800
    data, _ = read_stereo(path)  # playable while still open
    assert np.array_equal(data, frames(800))
    w.write(frames(8000, 800))
    w.write(frames(0))
    w.flush()
    w.close()
    data, rate = read_stereo(path)
    assert rate == 8000
    assert np.array_equal(data, frames(8800))
    raw = path.read_bytes()
    assert raw[:4] == b"RIFF" and raw[HEADER_SIZE : HEADER_SIZE + 4] == frames(1).tobytes()


def test_samples_are_little_endian_interleaved_left_right(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    with StereoWavWriter(path, rate=16000) as w:
        w.write(np.array([[1, -2], [0x1234, 0x7FFF]], np.int16))
    raw = path.read_bytes()
    assert raw[24:28] == struct.pack("<I", 16000) and raw[28:32] == struct.pack("<I", 64000)
    assert raw[HEADER_SIZE:] == bytes.fromhex("0100feff3412ff7f")
    assert sf.info(str(path)).samplerate == 16000


def test_big_endian_input_is_written_little_endian(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    with StereoWavWriter(path) as w:
        w.write(np.array([[1, 2]], dtype=">i2"))
    assert path.read_bytes()[HEADER_SIZE:] == bytes.fromhex("01000200")


def test_misuse_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    w = StereoWavWriter(path)
    with pytest.raises(ValueError, match=r"\(n, 2\) int16"):
        w.write(np.zeros((10, 1), np.int16))
    with pytest.raises(ValueError, match=r"\(n, 2\) int16"):
        w.write(np.zeros((10, 2), np.float32))
    w.close()
    w.close()  # idempotent
    assert w.closed
    with pytest.raises(ValueError, match="closed"):
        w.write(frames(1))
    with pytest.raises(ValueError, match="closed"):
        w.flush()
    with pytest.raises(ValueError):
        StereoWavWriter(tmp_path / "x.wav", rate=0)


def test_an_existing_recording_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    with StereoWavWriter(path) as w:
        w.write(frames(10))
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        StereoWavWriter(path)
    assert path.read_bytes() == before


def written(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "call.wav"
    with StereoWavWriter(path) as w:
        w.write(frames(n))
    return path


def test_repair_leaves_a_good_file_alone(tmp_path: Path) -> None:
    path = written(tmp_path, 100)
    before = path.read_bytes()
    result = repair_wav(path)
    assert result.status is RepairStatus.OK and result.frames == 100
    assert result.truncated_bytes == 0 and result.reason == ""
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("riff", "data", "extra"),
    [
        (0, 0, b""),
        (36 + 40, 40, b""),
        (0, 0, b"\x01"),
        (36 + 40, 40, b"\x01\x02\x03"),
        (36, 0, b"\x07\x07"),
    ],
)
def test_repair_fixes_sizes_and_torn_frames(
    tmp_path: Path, riff: int, data: int, extra: bytes
) -> None:
    path = written(tmp_path, 100)
    raw = bytearray(path.read_bytes() + extra)
    struct.pack_into("<I", raw, 4, riff)
    struct.pack_into("<I", raw, 40, data)
    path.write_bytes(bytes(raw))
    result = repair_wav(path)
    assert result.status is RepairStatus.REPAIRED
    assert result.frames == 100 and result.truncated_bytes == len(extra)
    assert sizes(path) == (36 + 400, 400)
    assert path.stat().st_size == HEADER_SIZE + 400
    assert np.array_equal(read_stereo(path)[0], frames(100))
    assert repair_wav(path).status is RepairStatus.OK


def test_repair_of_a_header_only_file_with_a_torn_frame(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    path.write_bytes(EMPTY_8K + b"\x01\x02")
    result = repair_wav(path)
    assert (result.status, result.frames, result.truncated_bytes) == (RepairStatus.REPAIRED, 0, 2)
    assert path.read_bytes() == EMPTY_8K


def patched(offset: int, value: bytes) -> bytes:
    raw = bytearray(EMPTY_8K + frames(4).tobytes())
    raw[offset : offset + len(value)] = value
    return bytes(raw)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "shorter than a 44-byte WAV header"),
        (EMPTY_8K[:30], "shorter than a 44-byte WAV header"),
        (b"ID3\x04" + bytes(60), "not a RIFF/WAVE file"),
        (patched(8, b"AVI "), "not a RIFF/WAVE file"),
        (patched(16, struct.pack("<I", 18)), "unexpected chunk layout"),
        (patched(36, b"LIST"), "unexpected chunk layout"),
        (
            patched(20, struct.pack("<H", 3)),
            "not stereo 16-bit PCM (format 3, 2 channels, 16 bits)",
        ),
        (patched(22, struct.pack("<H", 1)), "not stereo 16-bit PCM"),
        (patched(34, struct.pack("<H", 8)), "not stereo 16-bit PCM"),
        (patched(28, struct.pack("<I", 16000)), "inconsistent rate"),
    ],
)
def test_repair_reports_files_it_did_not_write(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "other.wav"
    path.write_bytes(content)
    result = repair_wav(path)
    assert result.status is RepairStatus.UNREADABLE
    assert reason in result.reason
    assert path.read_bytes() == content  # never touched


def test_repair_reports_a_mono_wav_from_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "mono.wav"
    sf.write(str(path), np.zeros(100, np.int16), 8000, subtype="PCM_16")
    result = repair_wav(path)
    assert result.status is RepairStatus.UNREADABLE and "1 channels" in result.reason


def test_repair_of_missing_file_or_directory_is_unreadable(tmp_path: Path) -> None:
    assert repair_wav(tmp_path / "nope.wav").status is RepairStatus.UNREADABLE
    assert "No such file" in repair_wav(tmp_path / "nope.wav").reason
    assert repair_wav(tmp_path).status is RepairStatus.UNREADABLE


def test_read_stereo_refuses_mono(tmp_path: Path) -> None:
    path = tmp_path / "mono.wav"
    sf.write(str(path), np.zeros(100, np.int16), 8000, subtype="PCM_16")
    with pytest.raises(ValueError, match="1 channels"):
        read_stereo(path)
