"""Read-only check that a WAV is a finished, whole stereo 16-bit PCM recording, and its samples.

Unlike :func:`recordings.wav.repair_wav` nothing is changed: the archiver must never alter the
only copy of a call. Every chunk is walked (RIFF allows LIST and other chunks around the audio),
so a file whose header promises more bytes than it holds is called truncated, with the numbers.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["CorruptRecordingError", "WavInfo", "check_wav", "read_wav_frames"]

_CHUNK = struct.Struct("<4sI")
_FMT = struct.Struct("<HHIIHH")
_PCM, _EXTENSIBLE = 1, 0xFFFE
_CHANNELS, _BITS = 2, 16
_FRAME = _CHANNELS * _BITS // 8


class CorruptRecordingError(ValueError):
    """A recording that cannot be archived as it is; ``reason`` says why, ``path`` which file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class WavInfo:
    """Where the audio of a checked WAV is and how much of it there is."""

    path: Path
    rate: int
    frames: int
    data_offset: int
    size: int  # bytes of the whole file

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return self.frames / self.rate


def _fmt(path: Path, body: bytes) -> int:
    """The sample rate of a stereo 16-bit PCM ``fmt `` chunk; anything else is refused."""
    if len(body) < _FMT.size:
        raise CorruptRecordingError(path, f"fmt chunk of {len(body)} bytes, want at least 16")
    tag, channels, rate, byte_rate, align, bits = _FMT.unpack_from(body)
    if tag == _EXTENSIBLE and len(body) >= 40:
        tag = struct.unpack_from("<H", body, 24)[0]  # the sub-format GUID starts with the tag
    if (tag, channels, bits) != (_PCM, _CHANNELS, _BITS):
        raise CorruptRecordingError(
            path, f"not stereo 16-bit PCM (format {tag}, {channels} channels, {bits} bits)")
    if rate <= 0 or align != _FRAME or byte_rate != rate * _FRAME:
        raise CorruptRecordingError(
            path, f"inconsistent fmt: rate {rate}, byte rate {byte_rate}, block align {align}")
    return int(rate)


def check_wav(path: Path) -> WavInfo:
    """Walk the RIFF chunks of ``path``; raise CorruptRecordingError naming the first fault."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                raise CorruptRecordingError(path, "not a RIFF/WAVE file")
            riff = struct.unpack_from("<I", head, 4)[0] + 8
            if riff > size:
                raise CorruptRecordingError(
                    path, f"truncated: the RIFF header says {riff} bytes, the file has {size}")
            rate, at = 0, 12
            while at + _CHUNK.size <= riff:
                f.seek(at)
                cid, length = _CHUNK.unpack(f.read(_CHUNK.size))
                body_at = at + _CHUNK.size
                if body_at + length > riff:
                    raise CorruptRecordingError(
                        path, f"truncated: chunk {cid!r} at byte {at} claims {length} bytes,"
                        f" {riff - body_at} are left")
                if cid == b"fmt ":
                    rate = _fmt(path, f.read(min(length, 64)))
                elif cid == b"data":
                    return _data(path, rate, body_at, length, size)
                at = body_at + length + (length & 1)  # chunks are padded to even sizes
    except OSError as exc:
        raise CorruptRecordingError(path, f"cannot read: {exc.strerror or exc}") from exc
    raise CorruptRecordingError(path, "no data chunk")


def _data(path: Path, rate: int, offset: int, length: int, size: int) -> WavInfo:
    if not rate:
        raise CorruptRecordingError(path, "data chunk before any fmt chunk")
    if length % _FRAME:
        raise CorruptRecordingError(
            path, f"torn last frame: {length} data bytes is not a whole number of {_FRAME}-byte frames")
    if length == 0:
        raise CorruptRecordingError(path, "no audio: the data chunk is empty")
    return WavInfo(path, rate, length // _FRAME, offset, size)


def read_wav_frames(info: WavInfo) -> npt.NDArray[np.int16]:
    """The ``(frames, 2)`` int16 samples of a checked WAV."""
    try:
        flat = np.fromfile(info.path, dtype="<i2", count=info.frames * _CHANNELS,
                           offset=info.data_offset)
    except OSError as exc:
        raise CorruptRecordingError(info.path, f"cannot read: {exc.strerror or exc}") from exc
    if len(flat) != info.frames * _CHANNELS:
        raise CorruptRecordingError(info.path, "changed while being read (shorter than checked)")
    return flat.reshape(-1, _CHANNELS).astype(np.int16, copy=False)
