"""Archiving one recording: WAV -> FLAC that decodes to the same samples, stored under its key
with its SHA-256, read back verified; the directory backend's checksums catch a flipped bit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recordings.archive import (
    PART,
    ArchiveError,
    clear_scratch,
    confirm,
    discard_wav,
    flac_key,
    stage,
    verify_flac,
)
from recordings.storage import ChecksumError, DirectoryStore, StorageError
from tests.unit.recordings.archive_helpers import make_wav


def test_flac_key_is_the_wav_path_with_flac() -> None:
    assert flac_key("2026/01/02/abc.wav") == "2026/01/02/abc.flac"
    assert flac_key("2026/01/02/abc-1700000000.wav") == "2026/01/02/abc-1700000000.flac"
    for bad in ("/etc/passwd.wav", "../x.wav", "2026/x.mp3"):
        with pytest.raises(ValueError, match="relative .wav path"):
            flac_key(bad)


def test_stage_stores_a_flac_that_decodes_to_the_wav(tmp_path: Path) -> None:
    wav = tmp_path / "rec" / "2026/01/02/call.wav"
    audio = make_wav(wav, seconds=3.0)
    store = DirectoryStore(tmp_path / "archive")
    staged = stage(wav, "2026/01/02/call.flac", store, tmp_path / "archive" / ".staging")
    flac = tmp_path / "archive" / "2026/01/02/call.flac"
    data = flac.read_bytes()
    assert (staged.key, staged.backend, staged.frames, staged.rate) == ("2026/01/02/call.flac", "dir", 24000, 8000)
    assert staged.duration == 3.0 and staged.bytes == len(data)
    assert staged.sha256 == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "archive" / "2026/01/02/call.flac.sha256").read_text() == staged.sha256 + "\n"
    decoded, rate = sf.read(str(flac), dtype="int16", always_2d=True)
    assert rate == 8000 and np.array_equal(decoded, audio)
    assert wav.exists()  # stage never deletes: the caller indexes first
    assert list((tmp_path / "archive" / ".staging").iterdir()) == []
    assert len(data) < wav.stat().st_size  # noise compresses little, silence a lot


def test_confirm_then_discard(tmp_path: Path) -> None:
    wav = tmp_path / "call.wav"
    make_wav(wav)
    store = DirectoryStore(tmp_path / "archive")
    staged = stage(wav, "call.flac", store, tmp_path / "scratch")
    assert confirm(wav, "call.flac", store, staged.sha256) is True
    assert discard_wav(wav) is True and not wav.exists()
    assert confirm(wav, "call.flac", store, staged.sha256) is False  # gone already: nothing to check
    assert discard_wav(wav) is False


def test_confirm_refuses_a_flac_that_differs_from_the_wav(tmp_path: Path) -> None:
    wav = tmp_path / "call.wav"
    make_wav(wav, seed=1)
    other = tmp_path / "other.wav"
    make_wav(other, seed=2)
    store = DirectoryStore(tmp_path / "archive")
    staged = stage(other, "call.flac", store, tmp_path / "scratch")
    with pytest.raises(ArchiveError, match="differs from the WAV from frame 1$"):  # both start silent
        confirm(wav, "call.flac", store, staged.sha256)
    assert wav.exists()


def test_a_rerun_overwrites_the_same_key_with_the_same_bytes(tmp_path: Path) -> None:
    wav = tmp_path / "call.wav"
    make_wav(wav)
    store = DirectoryStore(tmp_path / "archive")
    first = stage(wav, "k/call.flac", store, tmp_path / "scratch")
    second = stage(wav, "k/call.flac", store, tmp_path / "scratch")
    assert first == second


def test_clear_scratch_removes_only_part_files(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / ("a" + PART)).write_bytes(b"half a flac")
    (scratch / "keep.txt").write_text("x")
    assert clear_scratch(scratch) == [scratch / ("a" + PART)]
    assert sorted(p.name for p in scratch.iterdir()) == ["keep.txt"]
    assert clear_scratch(tmp_path / "absent") == []


def test_directory_store_checks_every_read(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    src = tmp_path / "src.bin"
    src.write_bytes(b"\x00" * 1000)
    digest = hashlib.sha256(b"\x00" * 1000).hexdigest()
    store.put("a/b.flac", src, digest)
    assert src.exists() and store.exists("a/b.flac")
    assert store.get("a/b.flac") == b"\x00" * 1000
    assert store.get("a/b.flac", digest) == b"\x00" * 1000
    path = store.path("a/b.flac")
    path.write_bytes(b"\x00" * 499 + b"\x01" + b"\x00" * 500)  # one flipped bit on disk
    with pytest.raises(ChecksumError, match="SHA-256 mismatch") as caught:
        store.get("a/b.flac")
    assert caught.value.expected == digest
    with pytest.raises(ChecksumError):
        store.get("a/b.flac", digest)
    store.delete("a/b.flac")
    assert not store.exists("a/b.flac") and not path.with_name("b.flac.sha256").exists()
    store.delete("a/b.flac")  # absent: nothing happens
    with pytest.raises(StorageError, match="no such archived object"):
        store.get("a/b.flac")


def test_directory_store_move_and_bad_keys(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "root")
    src = tmp_path / "src.bin"
    src.write_bytes(b"abc")
    store.put("x.flac", src, hashlib.sha256(b"abc").hexdigest(), move=True)
    assert not src.exists() and store.get("x.flac") == b"abc"
    for key in ("../escape.flac", "/abs.flac", "a//b.flac", "a/./b.flac", "sp ace.flac"):
        with pytest.raises(StorageError, match="bad object key"):
            store.get(key)
    (tmp_path / "root" / "y.flac").write_bytes(b"abc")  # no sidecar, no expected hash
    with pytest.raises(StorageError, match="no SHA-256 stored"):
        store.get("y.flac")
    assert store.get("y.flac", hashlib.sha256(b"abc").hexdigest()) == b"abc"


def test_verify_flac_against_hash_frames_and_samples(tmp_path: Path) -> None:
    wav = tmp_path / "call.wav"
    audio = make_wav(wav, seconds=1.0)
    store = DirectoryStore(tmp_path / "archive")
    staged = stage(wav, "call.flac", store, tmp_path / "scratch")
    data = store.get("call.flac")
    assert verify_flac(data, "x", frames=8000, rate=8000, sha256=staged.sha256, samples=audio) == staged.sha256
    with pytest.raises(ArchiveError, match="SHA-256 mismatch: indexed 0{64}"):
        verify_flac(data, "x", frames=8000, rate=8000, sha256="0" * 64)
    with pytest.raises(ArchiveError, match="expected 2, 16, 16000, 8000"):
        verify_flac(data, "x", frames=8000, rate=16000)
    with pytest.raises(ArchiveError, match="differs from the WAV from frame 0"):
        verify_flac(data, "x", frames=8000, rate=8000, samples=audio[::-1].copy())
