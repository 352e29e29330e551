"""The recorder tap: RTP packets seen by the relay become a stereo WAV, written as the call goes.

The relay only appends ``(channel, arrival, bytes)`` on its hot path; decoding and placement happen
in :meth:`RecorderTap.flush`, about once a second per call (staggered by the relay so that calls
do not all write at the same moment, FIELD-NOTES "stagger flushes").
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from recordings.timeline import StereoTimeline
from recordings.wav import StereoWavWriter
from telephony.rtp.g711 import ALAW_DECODE, ULAW_DECODE, Pcm

__all__ = ["RecorderTap"]

_TS_SSRC = struct.Struct("!II")
_STATIC: dict[int, Pcm] = {0: ULAW_DECODE, 8: ALAW_DECODE}


class RecorderTap:
    """Collects both sides' packets and streams them into one aligned stereo file."""

    def __init__(self, path: Path, start: float) -> None:
        self.path = path
        self.start = start
        self.timeline = StereoTimeline()
        self.writer = StereoWavWriter(path)
        self.packets: list[tuple[int, float, bytes]] = []
        # Per channel: the dynamic audio PT → decode table (static PTs 0/8 are always known).
        self.tables: list[dict[int, Pcm]] = [dict(_STATIC), dict(_STATIC)]

    def set_codec(self, channel: int, pt: int, codec: str) -> None:
        """Tell the tap which payload type carries which G.711 law on ``channel``."""
        table = ULAW_DECODE if codec.upper() == "PCMU" else ALAW_DECODE if codec.upper() == "PCMA" else None
        if table is not None:
            self.tables[channel][pt] = table

    def flush(self, now: float) -> None:
        """Place what arrived and append every finished sample to the file."""
        packets, self.packets = self.packets, []
        timeline, start = self.timeline, self.start
        for channel, arrival, data in packets:
            placed = _payload(data)
            if placed is None:
                continue
            pt, offset, end = placed
            table = self.tables[channel].get(pt)
            if table is None or end <= offset:
                continue  # telephone-event, comfort noise, or an empty packet
            ts, ssrc = _TS_SSRC.unpack_from(data, 4)
            pcm = table[np.frombuffer(data, dtype=np.uint8, count=end - offset, offset=offset)]
            timeline.add(channel, arrival - start, ts, ssrc, pcm)
        frames = timeline.take(now - start)
        if len(frames):
            self.writer.write(frames)
        self.writer.flush()

    def close(self, now: float) -> None:
        """Write everything left and close the file (header final, fsync)."""
        self.flush(now)
        rest = self.timeline.finish()
        if len(rest):
            self.writer.write(rest)
        self.writer.close()


def _payload(data: bytes) -> tuple[int, int, int] | None:
    """(payload type, payload start, payload end) of an RTP packet, or None if malformed (RFC 3550 §5.1)."""
    if len(data) < 12:
        return None
    first = data[0]
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    end = len(data)
    if first & 0x20:
        end -= data[-1]
    if offset > end:
        return None
    return data[1] & 0x7F, offset, end
