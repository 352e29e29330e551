"""Crash-safe streaming of stereo 16-bit PCM WAV files, and their repair after a kill -9.

The writer appends frames and then patches the RIFF and data sizes in place, so the file is
playable after every flush; what a crash can leave behind (stale sizes, a torn last frame) is
exactly what ``repair_wav`` fixes on the next start.
"""

from __future__ import annotations

import enum
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt
import soundfile as sf

__all__ = [
    "HEADER_SIZE",
    "RepairResult",
    "RepairStatus",
    "StereoWavWriter",
    "read_stereo",
    "repair_wav",
]

CHANNELS = 2
SAMPLE_BYTES = 2
FRAME_BYTES = CHANNELS * SAMPLE_BYTES
HEADER_SIZE = 44
_MAX_DATA = 0xFFFFFFFF - (HEADER_SIZE - 8)  # the RIFF size field is 32 bits
_PCM = 1
# Canonical header: RIFF <size> WAVE, "fmt " chunk of 16 bytes, "data" <size>.
_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")


def _header(rate: int, data_bytes: int) -> bytes:
    riff = HEADER_SIZE - 8 + data_bytes
    fmt = (16, _PCM, CHANNELS, rate, rate * FRAME_BYTES, FRAME_BYTES, SAMPLE_BYTES * 8)
    return _HEADER.pack(b"RIFF", riff, b"WAVE", b"fmt ", *fmt, b"data", data_bytes)


def _sizes(data_bytes: int) -> tuple[bytes, bytes]:
    """The RIFF size (at offset 4) and data size (at offset 40) fields for ``data_bytes``."""
    return struct.pack("<I", HEADER_SIZE - 8 + data_bytes), struct.pack("<I", data_bytes)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class StereoWavWriter:
    """Streams int16 stereo frames to a WAV file.

    The header is rewritten on each flush so the file is playable at any time.
    """

    def __init__(self, path: Path, rate: int = 8000) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.path = Path(path)
        self.rate = rate
        self.frames_written = 0  # accepted by write(), flushed or not
        self.frames_flushed = 0  # on disk with a header that says so
        self._pending: list[bytes] = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: a recording is never overwritten, even if a call id is reused.
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            _write_all(self._fd, _header(rate, 0))
        except OSError:
            os.close(self._fd)
            raise

    @property
    def closed(self) -> bool:
        """True once close() has run."""
        return self._fd is None

    def write(self, frames: npt.NDArray[np.int16]) -> None:
        """Buffer ``(n, 2)`` int16 frames in memory until the next flush."""
        if self._fd is None:
            raise ValueError(f"{self.path}: write to a closed recording")
        if frames.dtype.str[1:] != "i2" or frames.ndim != 2 or frames.shape[1] != CHANNELS:
            raise ValueError(f"frames must be (n, 2) int16, got {frames.shape} {frames.dtype}")
        if (self.frames_written + len(frames)) * FRAME_BYTES > _MAX_DATA:
            raise ValueError(f"{self.path}: a WAV file cannot hold more than 4 GiB of audio")
        if len(frames):
            self._pending.append(frames.astype("<i2", copy=False).tobytes())
            self.frames_written += len(frames)

    def flush(self, *, fsync: bool = False) -> None:
        """Append buffered frames, then patch the RIFF and data sizes; fsync only when asked."""
        if self._fd is None:
            raise ValueError(f"{self.path}: flush of a closed recording")
        if self._pending:
            _write_all(self._fd, b"".join(self._pending))
            self._pending.clear()
            self.frames_flushed = self.frames_written
            riff, data = _sizes(self.frames_flushed * FRAME_BYTES)
            # pwrite leaves the append position alone (the fd is not O_APPEND, see pwrite(2)).
            os.pwrite(self._fd, riff, 4)
            os.pwrite(self._fd, data, 40)
        if fsync:
            os.fsync(self._fd)

    def close(self) -> None:
        """Flush, make sure the header is final, fsync and close; a second call does nothing."""
        if self._fd is None:
            return
        try:
            self.flush(fsync=True)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StereoWavWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class RepairStatus(enum.Enum):
    """What repair_wav found."""

    OK = "ok"
    REPAIRED = "repaired"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class RepairResult:
    """Outcome of repair_wav: status, frames now in the file, bytes cut off, why if unreadable."""

    path: Path
    status: RepairStatus
    frames: int = 0
    truncated_bytes: int = 0
    reason: str = ""


def _check_header(head: bytes) -> str:
    """Why ``head`` is not a header StereoWavWriter writes, or "" when it is."""
    if len(head) < HEADER_SIZE:
        return f"file is {len(head)} bytes, shorter than a {HEADER_SIZE}-byte WAV header"
    riff, _, wave, fmt, fmt_size, tag, channels, rate, byte_rate, align, bits, data, _ = (
        _HEADER.unpack(head)
    )
    if riff != b"RIFF" or wave != b"WAVE":
        return "not a RIFF/WAVE file"
    if fmt != b"fmt " or fmt_size != 16 or data != b"data":
        return "unexpected chunk layout (want fmt of 16 bytes then data)"
    if (tag, channels, bits, align) != (_PCM, CHANNELS, SAMPLE_BYTES * 8, FRAME_BYTES):
        return f"not stereo 16-bit PCM (format {tag}, {channels} channels, {bits} bits)"
    if rate <= 0 or byte_rate != rate * FRAME_BYTES:
        return f"inconsistent rate {rate} / byte rate {byte_rate}"
    return ""


def repair_wav(path: Path) -> RepairResult:
    """Fix a crashed recording in place: cut a torn last frame, patch the RIFF and data sizes."""
    path = Path(path)
    try:
        with open(path, "r+b") as f:
            reason = _check_header(f.read(HEADER_SIZE))
            if reason:
                return RepairResult(path, RepairStatus.UNREADABLE, reason=reason)
            size = os.fstat(f.fileno()).st_size
            data_bytes = size - HEADER_SIZE
            torn = data_bytes % FRAME_BYTES
            data_bytes -= torn
            if data_bytes > _MAX_DATA:
                return RepairResult(path, RepairStatus.UNREADABLE, reason="data exceeds 4 GiB")
            f.seek(4)
            riff = f.read(4)
            f.seek(40)
            data = f.read(4)
            if torn == 0 and (riff, data) == _sizes(data_bytes):
                return RepairResult(path, RepairStatus.OK, frames=data_bytes // FRAME_BYTES)
            if torn:
                f.truncate(HEADER_SIZE + data_bytes)
            new_riff, new_data = _sizes(data_bytes)
            f.seek(4)
            f.write(new_riff)
            f.seek(40)
            f.write(new_data)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        return RepairResult(path, RepairStatus.UNREADABLE, reason=f"{exc.strerror or exc}")
    return RepairResult(
        path, RepairStatus.REPAIRED, frames=data_bytes // FRAME_BYTES, truncated_bytes=torn
    )


def read_stereo(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """Read a stereo WAV as ``((n, 2) int16 frames, rate)`` with soundfile."""
    frames, rate = sf.read(str(path), dtype="int16", always_2d=True)
    if frames.shape[1] != CHANNELS:
        raise ValueError(f"{path}: {frames.shape[1]} channels, expected {CHANNELS}")
    return frames, int(rate)
