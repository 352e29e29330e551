"""Archive one finished recording: WAV -> verified FLAC in an object store; then the WAV may go.

The steps, and what a kill -9 after each leaves (the invariant: the WAV or a verified FLAC,
never neither):

1. check the WAV (read-only) and read its samples          WAV only
2. encode FLAC to ``scratch/<name>.flac.part``, fsync       WAV + a stale part file
3. re-read the part file: its decode must equal the WAV's   WAV + part file
   samples; hash it (SHA-256)
4. ``store.put`` (rename into the directory, or upload)     WAV + FLAC, not indexed
5. read it back through the store, checked by hash          WAV + FLAC, not indexed
6. (caller) write the index row                             WAV + indexed FLAC
7. (caller) ``discard_wav``: delete the WAV, fsync its dir  indexed FLAC only

A re-run after 1-5 starts over (``clear_scratch`` drops part files; ``put`` overwrites the same
key with the same bytes); after 6 it re-verifies the stored FLAC against the index and the WAV
(``confirm``) before step 7. Nothing here touches the database: the service owns it.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import numpy.typing as npt
import soundfile as sf

from recordings.storage import ObjectStore, sha256_bytes
from recordings.wavcheck import check_wav, read_wav_frames

__all__ = [
    "ArchiveError",
    "Staged",
    "clear_scratch",
    "confirm",
    "decode_flac",
    "discard_wav",
    "flac_key",
    "stage",
    "verify_flac",
]

PART = ".flac.part"


class ArchiveError(Exception):
    """A step of archiving failed; the WAV is left in place. ``reason`` is for the report."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Staged:
    """A FLAC stored and verified (steps 1-5), ready to be indexed."""

    wav: Path
    key: str
    backend: str
    sha256: str
    bytes: int
    frames: int
    rate: int

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return self.frames / self.rate


def flac_key(recording_path: str) -> str:
    """The object key of a recording: its relative WAV path with ``.flac`` (``2026/01/02/x.flac``)."""
    path = PurePosixPath(recording_path)
    if path.is_absolute() or ".." in path.parts or path.suffix.lower() != ".wav":
        raise ValueError(f"recording path {recording_path!r} is not a relative .wav path")
    return str(path.with_suffix(".flac"))


def decode_flac(data: bytes, where: str) -> tuple[npt.NDArray[np.int16], int]:
    """``((n, 2) int16, rate)`` of FLAC bytes; ArchiveError naming ``where`` when undecodable."""
    try:
        frames, rate = sf.read(io.BytesIO(data), dtype="int16", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise ArchiveError(where, f"FLAC does not decode: {exc}") from exc
    return frames, int(rate)


def _streaminfo(data: bytes, where: str, frames: int, rate: int) -> None:
    """The STREAMINFO block (RFC 9639 §8.2) must come first and describe what we wrote: stereo,
    16 bits, ``rate`` Hz, ``frames`` samples (a decoder trusts these fields)."""
    if len(data) < 42 or data[:4] != b"fLaC":
        raise ArchiveError(where, "not a FLAC stream (no fLaC marker)")
    if data[4] & 0x7F != 0 or int.from_bytes(data[5:8], "big") != 34:
        raise ArchiveError(where, "the first metadata block is not a 34-byte STREAMINFO")
    info = int.from_bytes(data[18:26], "big")  # rate 20 bits, channels-1 3, bps-1 5, total 36
    got_rate, channels, bits, total = info >> 44, (info >> 41 & 7) + 1, (info >> 36 & 31) + 1, info & (1 << 36) - 1
    if (got_rate, channels, bits, total) != (rate, 2, 16, frames):
        raise ArchiveError(where, f"STREAMINFO says {channels} channels, {bits} bits, {got_rate} Hz,"
                                  f" {total} samples; expected 2, 16, {rate}, {frames}")


def verify_flac(data: bytes, where: str, *, frames: int, rate: int, sha256: str | None = None,
                samples: npt.NDArray[np.int16] | None = None) -> str:
    """Check FLAC bytes: hash (when given), decodable, stereo, ``frames`` at ``rate``, and equal
    to ``samples`` when given. Returns the SHA-256; raises ArchiveError with the fault."""
    digest = sha256_bytes(data)
    if sha256 is not None and digest != sha256:
        raise ArchiveError(where, f"SHA-256 mismatch: indexed {sha256}, read {digest}")
    _streaminfo(data, where, frames, rate)
    decoded, got_rate = decode_flac(data, where)
    if decoded.shape[1] != 2:
        raise ArchiveError(where, f"FLAC has {decoded.shape[1]} channels, expected 2")
    if got_rate != rate or len(decoded) != frames:
        raise ArchiveError(where, f"FLAC holds {len(decoded)} frames at {got_rate} Hz,"
                                  f" expected {frames} at {rate} Hz")
    if samples is not None and not np.array_equal(decoded, samples):
        bad = int(np.flatnonzero((decoded != samples).any(axis=1))[0])
        raise ArchiveError(where, f"FLAC decode differs from the WAV from frame {bad}")
    return digest


def _encode(frames: npt.NDArray[np.int16], rate: int, part: Path) -> bytes:
    """Write ``part`` (fsynced) and return its bytes as read back from the disk."""
    with contextlib.suppress(FileNotFoundError):
        part.unlink()
    part.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(part), frames, rate, format="FLAC", subtype="PCM_16")
    with open(part, "rb") as f:
        os.fsync(f.fileno())
        return f.read()


def stage(wav: Path, key: str, store: ObjectStore, scratch: Path) -> Staged:
    """Steps 1-5: check the WAV, encode, verify, store, read back. Raises CorruptRecordingError
    for a bad WAV and ArchiveError (or StorageError) for a failed step; the WAV stays."""
    info = check_wav(wav)
    samples = read_wav_frames(info)
    part = scratch / (key.replace("/", "_") + PART)
    try:
        try:
            data = _encode(samples, info.rate, part)
        except (OSError, sf.LibsndfileError, RuntimeError) as exc:
            raise ArchiveError(str(part), f"cannot write the FLAC: {exc}") from exc
        digest = verify_flac(data, str(part), frames=info.frames, rate=info.rate, samples=samples)
        store.put(key, part, digest, move=True)
        back = store.get(key, digest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    return Staged(Path(wav), key, store.name, digest, len(back), info.frames, info.rate)


def confirm(wav: Path, key: str, store: ObjectStore, sha256: str) -> bool:
    """Before deleting the WAV of an indexed FLAC (a re-run after step 6): the stored FLAC must
    match its hash and decode to the WAV's samples. False when the WAV is gone already; raises
    (ArchiveError, StorageError, CorruptRecordingError) when they disagree: both stay."""
    if not Path(wav).exists():
        return False
    info = check_wav(wav)
    data = store.get(key, sha256)
    verify_flac(data, store.describe(key), frames=info.frames, rate=info.rate, sha256=sha256,
                samples=read_wav_frames(info))
    return True


def discard_wav(wav: Path) -> bool:
    """Step 7: delete the WAV and make the deletion durable; False when it was gone already."""
    try:
        os.unlink(wav)
    except FileNotFoundError:
        return False
    fd = os.open(Path(wav).parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def clear_scratch(scratch: Path) -> list[Path]:
    """Remove part files an interrupted run left (their WAVs are still there); return them."""
    if not scratch.is_dir():
        return []
    gone = []
    for part in scratch.glob("*" + PART):
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
            gone.append(part)
    return gone

