"""Corrupt and truncated inputs are reported with the reason, never crashed on, and left in place.

The public suites' fault files are binary, so they are generated here, one per fault they ship:
the WAV faults follow libsndfile's and our writer's crash cases (truncation mid-data and
mid-header, torn frames, a chunk running past the end, wrong formats), and the FLAC faults
follow the IETF CELLAR flac-test-files "faulty" set (github.com/ietf-wg-cellar/flac-test-files,
faulty/README.txt: 01 wrong max blocksize, 03 wrong bit depth, 04 wrong channel count, 05 wrong
total samples, 06 missing STREAMINFO, 07 STREAMINFO not first, 11 wrong block length) plus bit
flips in a frame and a truncated stream.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recordings.archive import ArchiveError, stage, verify_flac
from recordings.storage import DirectoryStore
from recordings.wavcheck import CorruptRecordingError, check_wav, read_wav_frames
from tests.unit.recordings.archive_helpers import make_wav, samples, set_bits


def _pcm_header(data_bytes: int, *, channels: int = 2, bits: int = 16, rate: int = 8000,
                riff: int | None = None, tag: int = 1, byte_rate: int | None = None) -> bytes:
    align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, byte_rate or rate * align, align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", data_bytes)
    return b"RIFF" + struct.pack("<I", riff if riff is not None else len(body) + data_bytes) + body


def _good(tmp: Path) -> bytes:
    path = tmp / "good.wav"
    make_wav(path, seconds=0.5)
    return path.read_bytes()


WAV_FAULTS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "empty file": (lambda g: b"", "not a RIFF/WAVE file"),
    "cut inside the header": (lambda g: g[:30], "truncated: the RIFF header says 16044 bytes, the file has 30"),
    "cut mid-data (kill -9 before the size patch)": (lambda g: g[:5000], "truncated: the RIFF header says 16044 bytes, the file has 5000"),
    "not RIFF": (lambda g: b"OggS" + g[4:], "not a RIFF/WAVE file"),
    "RIFF but not WAVE": (lambda g: g[:8] + b"AVI " + g[12:], "not a RIFF/WAVE file"),
    "mono": (lambda g: _pcm_header(8000, channels=1) + g[44:], "not stereo 16-bit PCM (format 1, 1 channels, 16 bits)"),
    "24-bit": (lambda g: _pcm_header(7998, bits=24) + g[44:8042], "not stereo 16-bit PCM (format 1, 2 channels, 24 bits)"),
    "IEEE float": (lambda g: _pcm_header(8000, tag=3, bits=32) + g[44:], "not stereo 16-bit PCM (format 3, 2 channels, 32 bits)"),
    "bad byte rate": (lambda g: _pcm_header(8000, byte_rate=1234) + g[44:], "inconsistent fmt: rate 8000, byte rate 1234, block align 4"),
    "torn last frame": (lambda g: _pcm_header(7998) + g[44:8042], "torn last frame: 7998 data bytes is not a whole number of 4-byte frames"),
    "no audio": (lambda g: _pcm_header(0), "no audio: the data chunk is empty"),
    "data chunk past the end": (lambda g: _pcm_header(9000, riff=8036) + g[44:], "truncated: chunk b'data' at byte 36 claims 9000 bytes, 8000 are left"),
    "no data chunk": (lambda g: b"RIFF" + struct.pack("<I", 28) + g[8:36], "no data chunk"),
    "data before fmt": (lambda g: b"RIFF" + struct.pack("<I", 4 + 8 + 16000) + b"WAVE" + g[36:], "data chunk before any fmt chunk"),
}


@pytest.mark.parametrize("fault", sorted(WAV_FAULTS))
def test_corrupt_wav_is_reported_and_left(tmp_path: Path, fault: str) -> None:
    edit, reason = WAV_FAULTS[fault]
    wav = tmp_path / "bad.wav"
    bad = edit(_good(tmp_path))
    wav.write_bytes(bad)
    with pytest.raises(CorruptRecordingError) as caught:
        stage(wav, "bad.flac", DirectoryStore(tmp_path / "archive"), tmp_path / "scratch")
    assert caught.value.reason == reason
    assert caught.value.path == wav and str(wav) in str(caught.value)
    assert wav.read_bytes() == bad  # untouched
    assert not (tmp_path / "archive" / "bad.flac").exists()


def test_missing_wav_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CorruptRecordingError, match="cannot read: No such file or directory"):
        check_wav(tmp_path / "absent.wav")


def test_extra_chunks_and_extensible_format_are_fine(tmp_path: Path) -> None:
    audio = samples(0.25, 3)
    listed = tmp_path / "listed.wav"
    header = _pcm_header(len(audio) * 4)
    info_chunk = b"LIST" + struct.pack("<I", 5) + b"INFOx" + b"\x00"  # odd size: padded
    body = header[12:36] + info_chunk + header[36:] + audio.tobytes()
    listed.write_bytes(b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body)
    assert np.array_equal(read_wav_frames(check_wav(listed)), audio)
    extensible = tmp_path / "ext.wav"
    sf.write(str(extensible), audio, 8000, format="WAVEX", subtype="PCM_16")
    info = check_wav(extensible)
    assert (info.frames, info.rate) == (2000, 8000)
    assert np.array_equal(read_wav_frames(info), audio)


_SI = 8 * 8  # bit offset of the STREAMINFO body (after "fLaC" and the block header)


def _cut_streaminfo(data: bytes) -> bytes:
    return b"fLaC" + data[42:]


def _streaminfo_second(data: bytes) -> bytes:
    padding = bytes([0x01]) + (4).to_bytes(3, "big") + b"\x00" * 4  # a PADDING block first
    return b"fLaC" + padding + data[4:]


FLAC_FAULTS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "03 wrong bit depth": (lambda d: set_bits(d, _SI + 103, 5, 23), "STREAMINFO says 2 channels, 24 bits, 8000 Hz, 4000 samples; expected 2, 16, 8000, 4000"),
    "04 wrong number of channels": (lambda d: set_bits(d, _SI + 100, 3, 4), "STREAMINFO says 5 channels, 16 bits, 8000 Hz, 4000 samples; expected 2, 16, 8000, 4000"),
    "05 wrong total number of samples": (lambda d: set_bits(d, _SI + 108, 36, 1000), "STREAMINFO says 2 channels, 16 bits, 8000 Hz, 1000 samples; expected 2, 16, 8000, 4000"),
    "06 missing streaminfo": (_cut_streaminfo, "the first metadata block is not a 34-byte STREAMINFO"),
    "07 streaminfo not first": (_streaminfo_second, "the first metadata block is not a 34-byte STREAMINFO"),
    "11 incorrect metadata block length": (lambda d: d[:5] + (50).to_bytes(3, "big") + d[8:], "the first metadata block is not a 34-byte STREAMINFO"),
    "not FLAC at all": (lambda d: b"RIFF" + d[4:], "not a FLAC stream (no fLaC marker)"),
    "bit flip in a frame": (lambda d: d[:-900] + bytes([d[-900] ^ 0x10]) + d[-899:], "FLAC does not decode"),
    "truncated stream": (lambda d: d[: len(d) // 2], "FLAC does not decode"),
}


@pytest.fixture
def flac(tmp_path: Path) -> tuple[bytes, np.ndarray]:
    wav = tmp_path / "call.wav"
    audio = make_wav(wav, seconds=0.5)
    store = DirectoryStore(tmp_path / "archive")
    stage(wav, "call.flac", store, tmp_path / "scratch")
    return store.get("call.flac"), audio


@pytest.mark.parametrize("fault", sorted(FLAC_FAULTS))
def test_faulty_flac_is_reported(flac: tuple[bytes, np.ndarray], fault: str) -> None:
    good, audio = flac
    edit, reason = FLAC_FAULTS[fault]
    bad = edit(good)
    with pytest.raises(ArchiveError) as caught:
        verify_flac(bad, "call.flac", frames=4000, rate=8000, samples=audio)
    assert caught.value.reason.startswith(reason), caught.value.reason
    # With the index's hash any change at all is caught first, by the hash.
    sha = hashlib.sha256(good).hexdigest()
    with pytest.raises(ArchiveError, match="SHA-256 mismatch"):
        verify_flac(bad, "call.flac", frames=4000, rate=8000, sha256=sha)


def test_wrong_max_blocksize_is_caught_by_the_hash_only(flac: tuple[bytes, np.ndarray]) -> None:
    """Faulty 01: a STREAMINFO max blocksize below the real one still decodes (libFLAC reads
    each frame's header); the stored hash is what catches the changed bytes."""
    good, audio = flac
    bad = set_bits(good, _SI + 16, 16, 16)
    assert verify_flac(bad, "x", frames=4000, rate=8000, samples=audio) != hashlib.sha256(good).hexdigest()
    with pytest.raises(ArchiveError, match="SHA-256 mismatch"):
        verify_flac(bad, "x", frames=4000, rate=8000, sha256=hashlib.sha256(good).hexdigest())
