"""Analytics of a recording on disk: read a stereo WAV or FLAC with soundfile, then analyse it.

Every way a file can be unusable (missing, not audio, corrupt, truncated, not two channels)
comes back as ``AudioFileError`` naming the file and the reason; nothing else escapes.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from recordings.analytics import AnalyticsConfig, CallAnalytics, analyze_call

__all__ = ["AudioFileError", "analyze_path", "read_call"]

_SCAN = 1 << 16  # the data chunk of any WAV we write or archive starts well inside this


class AudioFileError(ValueError):
    """A recording that cannot be analysed; ``path`` and ``reason`` say which and why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _wav_shortfall(path: Path) -> str:
    """Why a RIFF/WAVE file's data chunk does not match the file, or "" (libsndfile quietly
    reads what is there, so a truncated or unrepaired recording would pass as a shorter call)."""
    with open(path, "rb") as f:
        head = f.read(_SCAN)
        size = f.seek(0, 2)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return ""
    at = 12
    while at + 8 <= len(head):
        chunk, length = struct.unpack_from("<4sI", head, at)
        if chunk == b"data":
            present = size - at - 8
            if length != present and length + 1 != present:  # a pad byte may follow
                return (f"WAV header declares {length} bytes of audio but the file holds "
                        f"{present} (truncated or never repaired: see recordings.wav.repair_wav)")
            return ""
        at += 8 + length + (length & 1)
    return ""


def read_call(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """A two-channel WAV or FLAC as ``((n, 2) int16 samples, rate)``; AudioFileError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(path, "no such file")
    try:
        reason = _wav_shortfall(path)
        if reason:
            raise AudioFileError(path, reason)
        with sf.SoundFile(str(path)) as f:
            if f.channels != 2:
                raise AudioFileError(path, f"{f.channels} channel(s); a call recording has two "
                                           "(0 customer, 1 agent)")
            samples = f.read(dtype="int16", always_2d=True)
            rate = int(f.samplerate)
    except sf.LibsndfileError as exc:
        reason = exc.error_string.removeprefix("Error : ")  # libsndfile's decoder messages
        raise AudioFileError(path, f"unreadable audio: {reason}") from None
    except (sf.SoundFileError, OSError, RuntimeError) as exc:
        raise AudioFileError(path, f"unreadable audio: {exc}") from None
    return samples, rate


def analyze_path(path: Path, config: AnalyticsConfig | None = None) -> CallAnalytics:
    """Read a stereo WAV or FLAC recording and analyse it (channel 0 customer, 1 agent)."""
    samples, rate = read_call(path)
    return analyze_call(samples, rate, config)
