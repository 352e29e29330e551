"""Call recordings: the stereo timeline, the crash-safe WAV writer and its repair."""

from __future__ import annotations

from recordings.timeline import ChannelStats, StereoTimeline
from recordings.wav import (
    RepairResult,
    RepairStatus,
    StereoWavWriter,
    read_stereo,
    repair_wav,
)

__all__ = [
    "ChannelStats",
    "RepairResult",
    "RepairStatus",
    "StereoTimeline",
    "StereoWavWriter",
    "read_stereo",
    "repair_wav",
]
