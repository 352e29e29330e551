"""RTP packets (RFC 3550 §5.1) as plain data, plus allocation-free peeks for the relay hot path.

``RtpPacket.parse`` raises ``RtpError`` (a ``ValueError``) on anything malformed; the peeks
(``is_rtp_or_rtcp``, ``is_rtcp``, ``peek_payload_type``, ``peek_seq_ts_ssrc``) read only the fixed
header with ``struct.unpack_from`` because the relay calls them for every datagram.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = [
    "RTP_HEADER_SIZE",
    "RTP_VERSION",
    "RtpError",
    "RtpPacket",
    "is_rtcp",
    "is_rtp_or_rtcp",
    "peek_payload_type",
    "peek_seq_ts_ssrc",
    "replace_seq_ts_ssrc",
]

RTP_VERSION = 2
RTP_HEADER_SIZE = 12

_HEADER = struct.Struct("!BBHII")
_SEQ_TS_SSRC = struct.Struct("!HII")
_EXTENSION_HEADER = struct.Struct("!HH")


class RtpError(ValueError):
    """Root of the RTP-core error tree: bytes that are not valid RTP, RTCP or events."""


@dataclass(slots=True)
class RtpPacket:
    """One RTP packet (RFC 3550 §5.1): ``padding`` counts padding bytes (P bit set when > 0),
    ``extension`` is the header-extension body (X bit set when not None, §5.3.1)."""

    version: int = RTP_VERSION
    padding: int = 0
    extension: bytes | None = None
    marker: bool = False
    payload_type: int = 0
    sequence_number: int = 0
    timestamp: int = 0
    ssrc: int = 0
    csrc: list[int] = field(default_factory=list)
    extension_profile: int = 0
    payload: bytes = b""

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse one datagram; raise ``RtpError`` when it is not a well-formed RTP packet."""
        if len(data) < RTP_HEADER_SIZE:
            raise RtpError(f"RTP packet too short ({len(data)} bytes)")
        first, second, seq, ts, ssrc = _HEADER.unpack_from(data)
        version = first >> 6
        if version != RTP_VERSION:
            raise RtpError(f"RTP version {version} is not 2")
        pos = RTP_HEADER_SIZE + 4 * (first & 0x0F)
        if pos > len(data):
            raise RtpError("RTP CSRC list runs past the end of the packet")
        csrc = list(struct.unpack_from(f"!{first & 0x0F}I", data, RTP_HEADER_SIZE))
        extension: bytes | None = None
        profile = 0
        if first & 0x10:
            if pos + 4 > len(data):
                raise RtpError("RTP header extension is truncated")
            profile, words = _EXTENSION_HEADER.unpack_from(data, pos)
            pos += 4
            if pos + 4 * words > len(data):
                raise RtpError("RTP header extension runs past the end of the packet")
            extension = bytes(data[pos : pos + 4 * words])
            pos += 4 * words
        end = len(data)
        padding = 0
        if first & 0x20:
            # §5.1: the last octet counts the padding, itself included, so it is never 0.
            padding = data[-1]
            if padding == 0 or pos + padding > end:
                raise RtpError(f"RTP padding length {padding} is invalid")
            end -= padding
        return cls(
            version=version,
            padding=padding,
            extension=extension,
            marker=bool(second & 0x80),
            payload_type=second & 0x7F,
            sequence_number=seq,
            timestamp=ts,
            ssrc=ssrc,
            csrc=csrc,
            extension_profile=profile,
            payload=bytes(data[pos:end]),
        )

    def serialize(self) -> bytes:
        """Encode the packet; out-of-range fields raise ``ValueError`` (a local bug)."""
        if not 0 <= self.payload_type <= 127 or len(self.csrc) > 15 or not 0 <= self.padding <= 255:
            raise ValueError("RTP payload_type, CSRC count or padding out of range")
        first = (self.version << 6) | len(self.csrc)
        if self.padding:
            first |= 0x20
        if self.extension is not None:
            first |= 0x10
        try:
            parts = [
                _HEADER.pack(
                    first,
                    (0x80 if self.marker else 0) | self.payload_type,
                    self.sequence_number,
                    self.timestamp,
                    self.ssrc,
                ),
                struct.pack(f"!{len(self.csrc)}I", *self.csrc),
            ]
        except struct.error as exc:
            raise ValueError(f"RTP header field out of range: {exc}") from None
        if self.extension is not None:
            if len(self.extension) % 4:
                raise ValueError("RTP header extension length must be a multiple of 4")
            parts.append(_EXTENSION_HEADER.pack(self.extension_profile, len(self.extension) // 4))
            parts.append(self.extension)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes((self.padding,)))
        return b"".join(parts)


def is_rtp_or_rtcp(data: bytes) -> bool:
    """True if ``data`` is long enough for an RTCP header and carries version 2."""
    return len(data) >= 8 and data[0] >> 6 == RTP_VERSION


def is_rtcp(data: bytes) -> bool:
    """RFC 5761 §4 demux: marker bit masked, payload types 64-95 (RTCP 192-223) are RTCP."""
    return len(data) >= 2 and 64 <= (data[1] & 0x7F) <= 95


def peek_payload_type(data: bytes) -> int:
    """The RTP payload type of ``data`` without parsing the packet."""
    if len(data) < RTP_HEADER_SIZE:
        raise RtpError(f"RTP packet too short ({len(data)} bytes)")
    return data[1] & 0x7F


def peek_seq_ts_ssrc(data: bytes) -> tuple[int, int, int]:
    """(sequence number, timestamp, SSRC) of ``data`` without parsing the packet."""
    try:
        seq, ts, ssrc = _SEQ_TS_SSRC.unpack_from(data, 2)
    except struct.error:
        raise RtpError(f"RTP packet too short ({len(data)} bytes)") from None
    return seq, ts, ssrc


def replace_seq_ts_ssrc(data: bytes, seq: int, ts: int, ssrc: int) -> bytes:
    """A copy of ``data`` with sequence number, timestamp and SSRC rewritten (relay re-stamping)."""
    if len(data) < RTP_HEADER_SIZE:
        raise RtpError(f"RTP packet too short ({len(data)} bytes)")
    out = bytearray(data)
    _SEQ_TS_SSRC.pack_into(out, 2, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc & 0xFFFFFFFF)
    return bytes(out)
