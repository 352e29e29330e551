"""The recorder tap: RTP packets seen by the relay become a stereo WAV, written as the call goes.

The relay only appends each packet and its arrival time to two plain lists per channel on its hot
path (no tuple per packet: nothing for the garbage collector to track). Decoding and placement
happen in :meth:`RecorderTap.flush`, twice a second per call (staggered by the relay so that calls
do not all write at the same moment, FIELD-NOTES "stagger flushes"), a whole flush at a time: one
numpy table lookup decodes every payload of a channel, and the timeline places contiguous runs of
packets with one slice each.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from recordings.timeline import StereoTimeline
from recordings.wav import StereoWavWriter
from telephony.rtp.g711 import ALAW_DECODE, ULAW_DECODE

__all__ = ["Batch", "RecorderTap", "Run", "decode_batch", "steady_run"]

_TS_SSRC = struct.Struct("!II")
_ULAW, _ALAW, _NOT_AUDIO = 0, 1, -1
# Both decode tables end to end: index (law << 8) | byte decodes a byte of either law.
_DECODE = np.concatenate([ULAW_DECODE, ALAW_DECODE])
_TABLES = (ULAW_DECODE, ALAW_DECODE)
_LAWS = {"PCMU": _ULAW, "PCMA": _ALAW}
_HEADER = 12  # RFC 3550 §5.1: the fixed header


class Batch(NamedTuple):
    """One channel's decoded packets, ready for :meth:`StereoTimeline.add_many`."""

    arrivals: npt.NDArray[np.float64]
    timestamps: npt.NDArray[np.int64]
    ssrcs: npt.NDArray[np.int64]
    lengths: npt.NDArray[np.int64]
    pcm: npt.NDArray[np.int16]


class Run(NamedTuple):
    """Packets of one SSRC with consecutive timestamps, decoded: for :meth:`StereoTimeline.add_run`."""

    timestamp: int  # of the first packet
    ssrc: int
    size: int  # samples per packet
    pcm: npt.NDArray[np.int16]


class RecorderTap:
    """Collects both sides' packets and streams them into one aligned stereo file."""

    def __init__(self, path: Path, start: float) -> None:
        self.path = path
        self.start = start
        self.timeline = StereoTimeline()
        self.writer = StereoWavWriter(path)
        # Per channel, appended to by the relay: the packets and their arrival times (clock seconds).
        # The lists are kept (cleared, not replaced) so the relay may hold on to them.
        self.packets: tuple[list[bytes], list[bytes]] = ([], [])
        self.arrivals: tuple[list[float], list[float]] = ([], [])
        # Per channel: payload type → G.711 law (static PTs 0 and 8 are always known).
        self.laws = np.full((2, 128), _NOT_AUDIO, dtype=np.int8)
        self.laws[:, 0], self.laws[:, 8] = _ULAW, _ALAW

    def set_codec(self, channel: int, pt: int, codec: str) -> None:
        """Tell the tap which payload type carries which G.711 law on ``channel``."""
        law = _LAWS.get(codec.upper())
        if law is not None and 0 <= pt < 128:
            self.laws[channel, pt] = law

    def flush(self, now: float) -> None:
        """Place what arrived and append every finished sample to the file."""
        for channel in (0, 1):
            if self.packets[channel]:
                self._place(channel)
        frames = self.timeline.take(now - self.start)
        if len(frames):
            self.writer.write(frames)
        self.writer.flush()

    def _place(self, channel: int) -> None:
        """Decode and place what arrived on ``channel`` since the last flush."""
        packets, arrivals = self.packets[channel], self.arrivals[channel]
        try:
            run = steady_run(packets, self.laws[channel])
            if run is not None:
                at = np.array(arrivals, dtype=np.float64) - self.start
                self.timeline.add_run(channel, at, run.timestamp, run.ssrc, run.size, run.pcm)
                return
            batch = decode_batch(packets, arrivals, self.laws[channel], self.start)
            if batch is not None:
                self.timeline.add_many(channel, *batch)
        finally:
            packets.clear()  # in place: the relay holds these lists
            arrivals.clear()

    def close(self, now: float) -> None:
        """Write everything left and close the file (header final, fsync)."""
        self.flush(now)
        rest = self.timeline.finish()
        if len(rest):
            self.writer.write(rest)
        self.writer.close()


def steady_run(packets: list[bytes], laws: npt.NDArray[np.int8]) -> Run | None:
    """``packets`` decoded as one run when they are what a call sends almost always: one size, a
    plain 12-byte header, one SSRC and payload type (G.711), consecutive timestamps; else None."""
    n, size = len(packets), len(packets[0])
    blob = b"".join(packets)
    if size <= _HEADER or len(blob) != n * size or list(map(len, packets)).count(size) != n:
        return None
    # RFC 3550 §5.1: byte 0 is 0x80 without padding, extension and CSRCs; byte 1 is the marker
    # bit and the payload type.
    pt = packets[0][1] & 0x7F
    law = int(laws[pt])
    second = blob[1::size]
    if law == _NOT_AUDIO or blob[0::size].count(0x80) != n or second.count(pt) + second.count(pt | 0x80) != n:
        return None
    # Timestamp and SSRC as one 64-bit word: consecutive timestamps of one SSRC differ by exactly
    # size << 32 (modulo 2**64 as the timestamp wraps modulo 2**32).
    words = np.ndarray((n,), dtype=">u8", buffer=blob, offset=4, strides=(size,))
    if (words - words[0]).tolist() != _strides(n, size - _HEADER):
        return None
    first = int(words[0])
    rows = np.frombuffer(blob, dtype=np.uint8).reshape(n, size)
    pcm = _TABLES[law].take(rows[:, _HEADER:]).ravel()
    return Run(first >> 32, first & 0xFFFFFFFF, size - _HEADER, pcm)


_STRIDES: dict[tuple[int, int], list[int]] = {}


def _strides(n: int, samples: int) -> list[int]:
    """[k * samples << 32 for k in range(n)], kept (a call's flushes ask for the same few)."""
    strides = _STRIDES.get((n, samples))
    if strides is None:
        if len(_STRIDES) > 256:
            _STRIDES.clear()
        strides = _STRIDES[(n, samples)] = [k * samples << 32 for k in range(n)]
    return strides


def decode_batch(packets: list[bytes], arrivals: list[float], laws: npt.NDArray[np.int8],
                 start: float) -> Batch | None:
    """The G.711 audio packets among ``packets``, decoded; None when there is none.

    ``laws`` maps a payload type to its law (or -1: telephone-event, comfort noise, unknown);
    those packets, empty and malformed ones are left out, as if never received.
    """
    n, size = len(packets), len(packets[0])
    blob = b"".join(packets)
    if size > _HEADER and len(blob) == n * size and list(map(len, packets)).count(size) == n:
        rows = np.frombuffer(blob, dtype=np.uint8).reshape(n, size)
        if not (rows[:, 0] & 0x3F).any():  # no padding, no extension, no CSRC: the usual packet
            return _decode_rows(rows, blob, arrivals, laws, start)
    return _decode_each(packets, arrivals, laws, start)


def _decode_rows(rows: npt.NDArray[np.uint8], blob: bytes, arrivals: list[float],
                 laws: npt.NDArray[np.int8], start: float) -> Batch | None:
    """Packets of one size with a plain 12-byte header: fields read as strided views of ``blob``."""
    n, size = rows.shape
    law = laws[rows[:, 1] & 0x7F]
    ts = np.ndarray((n,), dtype=">u4", buffer=blob, offset=4, strides=(size,)).astype(np.int64)
    ssrc = np.ndarray((n,), dtype=">u4", buffer=blob, offset=8, strides=(size,)).astype(np.int64)
    at = np.array(arrivals, dtype=np.float64) - start
    payload = rows[:, _HEADER:]
    first = int(law[0])
    if first != _NOT_AUDIO and not (law != first).any():
        pcm = _TABLES[first][payload].ravel()
    else:
        audio = law != _NOT_AUDIO
        if not audio.any():
            return None
        index = payload[audio].astype(np.intp)
        index |= law[audio, None].astype(np.intp) << 8
        pcm = _DECODE[index].ravel()
        ts, ssrc, at = ts[audio], ssrc[audio], at[audio]
    return Batch(at, ts, ssrc, np.full(len(ts), size - _HEADER, dtype=np.int64), pcm)


def _decode_each(packets: list[bytes], arrivals: list[float], laws: npt.NDArray[np.int8],
                 start: float) -> Batch | None:
    """Any mix of packets (CSRCs, extensions, padding, events, sizes): parsed one by one."""
    keep: list[int] = []
    fields: list[tuple[int, int]] = []
    payloads: list[bytes] = []
    law_of: list[int] = []
    for k, data in enumerate(packets):
        placed = _payload(data)
        if placed is None:
            continue
        pt, offset, end = placed
        law = int(laws[pt])
        if law == _NOT_AUDIO or end <= offset:
            continue  # telephone-event, comfort noise, or an empty packet
        keep.append(k)
        fields.append(_TS_SSRC.unpack_from(data, 4))
        payloads.append(data[offset:end])
        law_of.append(law)
    if not keep:
        return None
    lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
    index = np.frombuffer(b"".join(payloads), dtype=np.uint8).astype(np.intp)
    index |= np.repeat(np.array(law_of, dtype=np.intp) << 8, lengths)
    ts, ssrc = np.array(fields, dtype=np.int64).reshape(-1, 2).T
    at = np.array(arrivals, dtype=np.float64)[keep] - start
    return Batch(at, ts, ssrc, lengths, _DECODE[index])


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
