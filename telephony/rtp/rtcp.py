"""RTCP (RFC 3550 §6): SR, RR, SDES, BYE in compound packets, and receiver statistics (App. A).

Other packet types (APP, RTPFB, PSFB, XR) are kept as ``RtcpUnknown`` so a compound packet from a
WebRTC-ish peer still parses. ``ReceptionStats`` is fed one RTP packet at a time and yields the
loss and interarrival jitter figures of a report block; it never reads a clock.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from telephony.rtp.packet import RTP_VERSION, RtpError

__all__ = [
    "RTCP_BYE",
    "RTCP_RR",
    "RTCP_SDES",
    "RTCP_SR",
    "SDES_CNAME",
    "Bye",
    "ReceiverReport",
    "ReceptionStats",
    "ReportBlock",
    "RtcpPacket",
    "RtcpUnknown",
    "SdesChunk",
    "SenderReport",
    "SourceDescription",
    "ntp_timestamp",
    "parse_rtcp",
    "serialize_rtcp",
]

RTCP_SR = 200
RTCP_RR = 201
RTCP_SDES = 202
RTCP_BYE = 203
SDES_CNAME = 1

_HEADER = struct.Struct("!BBH")
# ssrc, fraction lost, cumulative lost (24 bits as B + H), extended seq, jitter, LSR, DLSR
_BLOCK = struct.Struct("!IBBHIIII")
_SENDER_INFO = struct.Struct("!IQIII")
_NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)


def ntp_timestamp(unix_seconds: float) -> int:
    """The 64-bit NTP timestamp (RFC 3550 §4) for a Unix time passed in by the caller."""
    return round((unix_seconds + _NTP_EPOCH_OFFSET) * (1 << 32)) & 0xFFFF_FFFF_FFFF_FFFF


def _header(packet_type: int, count: int, body: bytes) -> bytes:
    return _HEADER.pack((RTP_VERSION << 6) | count, packet_type, len(body) // 4) + body


def _pad4(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """One reception report (RFC 3550 §6.4.1); ``packets_lost`` is the signed 24-bit count."""

    ssrc: int
    fraction_lost: int
    packets_lost: int
    highest_sequence: int
    jitter: int
    lsr: int = 0
    dlsr: int = 0

    def serialize(self) -> bytes:
        """Encode the 24-byte block."""
        lost = self.packets_lost & 0xFFFFFF
        return _BLOCK.pack(
            self.ssrc, self.fraction_lost, lost >> 16, lost & 0xFFFF,
            self.highest_sequence, self.jitter, self.lsr, self.dlsr,
        )

    @classmethod
    def parse(cls, data: bytes, pos: int) -> ReportBlock:
        """Decode the block at ``pos``."""
        ssrc, fraction, lost_hi, lost_lo, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(data, pos)
        lost = (lost_hi << 16) | lost_lo
        if lost & 0x800000:
            lost -= 1 << 24
        return cls(ssrc, fraction, lost, highest, jitter, lsr, dlsr)


def _parse_blocks(body: bytes, pos: int, count: int) -> list[ReportBlock]:
    if pos + 24 * count > len(body):
        raise RtpError("RTCP report blocks run past the packet length")
    return [ReportBlock.parse(body, pos + 24 * i) for i in range(count)]


@dataclass(slots=True)
class SenderReport:
    """RTCP SR (RFC 3550 §6.4.1)."""

    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: list[ReportBlock] = field(default_factory=list)

    def serialize(self) -> bytes:
        """Encode as one RTCP packet."""
        body = _SENDER_INFO.pack(
            self.ssrc, self.ntp_timestamp, self.rtp_timestamp, self.packet_count, self.octet_count
        )
        body += b"".join(r.serialize() for r in self.reports)
        return _header(RTCP_SR, len(self.reports), body)


@dataclass(slots=True)
class ReceiverReport:
    """RTCP RR (RFC 3550 §6.4.2)."""

    ssrc: int
    reports: list[ReportBlock] = field(default_factory=list)

    def serialize(self) -> bytes:
        """Encode as one RTCP packet."""
        body = struct.pack("!I", self.ssrc) + b"".join(r.serialize() for r in self.reports)
        return _header(RTCP_RR, len(self.reports), body)


@dataclass(slots=True)
class SdesChunk:
    """The items (type, value) describing one source (RFC 3550 §6.5)."""

    ssrc: int
    items: list[tuple[int, bytes]] = field(default_factory=list)

    @property
    def cname(self) -> str | None:
        """The CNAME item, decoded, if present."""
        for kind, value in self.items:
            if kind == SDES_CNAME:
                return value.decode("utf-8", "replace")
        return None


@dataclass(slots=True)
class SourceDescription:
    """RTCP SDES (RFC 3550 §6.5)."""

    chunks: list[SdesChunk] = field(default_factory=list)

    def serialize(self) -> bytes:
        """Encode as one RTCP packet; each chunk ends with a null item and 32-bit alignment."""
        body = b""
        for chunk in self.chunks:
            items = b"".join(bytes((kind, len(value))) + value for kind, value in chunk.items)
            body += _pad4(struct.pack("!I", chunk.ssrc) + items + b"\x00")
        return _header(RTCP_SDES, len(self.chunks), body)

    @classmethod
    def parse(cls, body: bytes, count: int) -> SourceDescription:
        """Decode the chunks of an SDES body."""
        chunks = []
        pos = 0
        for _ in range(count):
            if pos + 4 > len(body):
                raise RtpError("RTCP SDES chunk is truncated")
            chunk = SdesChunk(struct.unpack_from("!I", body, pos)[0])
            pos += 4
            while True:
                if pos >= len(body):
                    raise RtpError("RTCP SDES item list is not terminated")
                kind = body[pos]
                if kind == 0:
                    pos = (pos + 4) & ~3  # the null item plus padding to the next 32-bit word
                    break
                if pos + 2 > len(body) or pos + 2 + body[pos + 1] > len(body):
                    raise RtpError("RTCP SDES item is truncated")
                length = body[pos + 1]
                chunk.items.append((kind, bytes(body[pos + 2 : pos + 2 + length])))
                pos += 2 + length
            chunks.append(chunk)
        return cls(chunks)


@dataclass(slots=True)
class Bye:
    """RTCP BYE (RFC 3550 §6.6) with an optional reason."""

    sources: list[int] = field(default_factory=list)
    reason: str | None = None

    def serialize(self) -> bytes:
        """Encode as one RTCP packet."""
        body = struct.pack(f"!{len(self.sources)}I", *self.sources)
        if self.reason is not None:
            text = self.reason.encode("utf-8")[:255]
            body += _pad4(bytes((len(text),)) + text)
        return _header(RTCP_BYE, len(self.sources), body)

    @classmethod
    def parse(cls, body: bytes, count: int) -> Bye:
        """Decode a BYE body."""
        if 4 * count > len(body):
            raise RtpError("RTCP BYE source list is truncated")
        sources = list(struct.unpack_from(f"!{count}I", body))
        reason = None
        pos = 4 * count
        if pos < len(body):
            length = body[pos]
            if pos + 1 + length > len(body):
                raise RtpError("RTCP BYE reason is truncated")
            reason = body[pos + 1 : pos + 1 + length].decode("utf-8", "replace")
        return cls(sources, reason)


@dataclass(slots=True)
class RtcpUnknown:
    """An RTCP packet of a type this core does not interpret, kept verbatim."""

    packet_type: int
    count: int
    body: bytes

    def serialize(self) -> bytes:
        """Encode as one RTCP packet."""
        return _header(self.packet_type, self.count, _pad4(self.body))


RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Bye | RtcpUnknown


def _parse_one(packet_type: int, count: int, body: bytes) -> RtcpPacket:
    if packet_type == RTCP_SR:
        if len(body) < _SENDER_INFO.size:
            raise RtpError("RTCP SR is shorter than its sender info")
        ssrc, ntp, rtp_ts, packets, octets = _SENDER_INFO.unpack_from(body)
        blocks = _parse_blocks(body, _SENDER_INFO.size, count)
        return SenderReport(ssrc, ntp, rtp_ts, packets, octets, blocks)
    if packet_type == RTCP_RR:
        if len(body) < 4:
            raise RtpError("RTCP RR is shorter than its SSRC")
        return ReceiverReport(struct.unpack_from("!I", body)[0], _parse_blocks(body, 4, count))
    if packet_type == RTCP_SDES:
        return SourceDescription.parse(body, count)
    if packet_type == RTCP_BYE:
        return Bye.parse(body, count)
    return RtcpUnknown(packet_type, count, body)


def parse_rtcp(data: bytes) -> list[RtcpPacket]:
    """Parse a compound RTCP packet (RFC 3550 §6.1); raise ``RtpError`` on any malformed part."""
    if len(data) < 4:
        raise RtpError(f"RTCP packet too short ({len(data)} bytes)")
    packets: list[RtcpPacket] = []
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise RtpError("RTCP compound packet has trailing bytes")
        first, packet_type, words = _HEADER.unpack_from(data, pos)
        if first >> 6 != RTP_VERSION:
            raise RtpError(f"RTCP version {first >> 6} is not 2")
        end = pos + 4 + 4 * words
        if end > len(data):
            raise RtpError("RTCP packet length runs past the datagram")
        body = data[pos + 4 : end]
        if first & 0x20:
            if not body or body[-1] == 0 or body[-1] > len(body):
                raise RtpError("RTCP padding length is invalid")
            body = body[: -body[-1]]
        packets.append(_parse_one(packet_type, first & 0x1F, bytes(body)))
        pos = end
    return packets


def serialize_rtcp(packets: Iterable[RtcpPacket]) -> bytes:
    """Encode packets into one compound RTCP datagram."""
    return b"".join(p.serialize() for p in packets)


_SEQ_MOD = 1 << 16
_MAX_DROPOUT = 3000
_MAX_MISORDER = 100


class ReceptionStats:
    """Per-source loss and jitter bookkeeping (RFC 3550 A.1, A.3 and A.8).

    Feed ``update(seq, timestamp, arrival)`` with ``arrival`` already in RTP timestamp units; the
    first packet starts the count (no probation: the relay has already latched the source).
    """

    def __init__(self) -> None:
        self.received = 0
        self.jitter = 0.0
        self._base_seq = 0
        self._max_seq = 0
        self._cycles = 0
        self._bad_seq: int | None = None
        self._transit: int | None = None
        self._expected_prior = 0
        self._received_prior = 0
        self._started = False

    def _restart(self, seq: int) -> None:
        self._base_seq = self._max_seq = seq
        self._cycles = 0
        self._bad_seq = None
        self._transit = None
        self.received = self._expected_prior = self._received_prior = 0
        self._started = True

    def update(self, seq: int, timestamp: int, arrival: int) -> bool:
        """Account one packet (A.1); return False when it was set aside as a wild sequence jump."""
        if not self._started:
            self._restart(seq)
        else:
            delta = (seq - self._max_seq) % _SEQ_MOD
            if delta < _MAX_DROPOUT:
                if seq < self._max_seq:
                    self._cycles += _SEQ_MOD
                self._max_seq = seq
            elif delta <= _SEQ_MOD - _MAX_MISORDER:
                # A big jump is believed only when the next packet follows it: the source restarted.
                if seq != self._bad_seq:
                    self._bad_seq = (seq + 1) % _SEQ_MOD
                    return False
                self._restart(seq)
            # else: a duplicate or a reordered packet, counted as received (A.3 allows lost < 0).
        self.received += 1
        self._update_jitter(timestamp, arrival)
        return True

    def _update_jitter(self, timestamp: int, arrival: int) -> None:
        transit = arrival - timestamp
        if self._transit is not None:
            # The timestamp wraps at 2**32; the difference of transits is small, so fold it back.
            d = abs((transit - self._transit + (1 << 31)) % (1 << 32) - (1 << 31))
            self.jitter += (d - self.jitter) / 16.0  # A.8
        self._transit = transit

    @property
    def extended_highest_seq(self) -> int:
        """Highest sequence number seen, extended with the wrap count."""
        return self._cycles + self._max_seq

    @property
    def expected(self) -> int:
        """Packets expected since the first one (A.3)."""
        return self.extended_highest_seq - self._base_seq + 1 if self._started else 0

    @property
    def lost(self) -> int:
        """Cumulative packets lost; negative when duplicates arrived (A.3)."""
        return self.expected - self.received

    @property
    def loss_ratio(self) -> float:
        """Cumulative lost / expected, clamped to 0..1."""
        return min(max(self.lost / self.expected, 0.0), 1.0) if self.expected else 0.0

    def report_block(self, ssrc: int, lsr: int = 0, dlsr: int = 0) -> ReportBlock:
        """A report block for ``ssrc``; starts a new interval for ``fraction_lost`` (A.3)."""
        expected_interval = self.expected - self._expected_prior
        lost_interval = expected_interval - (self.received - self._received_prior)
        self._expected_prior, self._received_prior = self.expected, self.received
        fraction = 0
        if expected_interval > 0 and lost_interval > 0:
            fraction = min((lost_interval << 8) // expected_interval, 255)
        lost = min(max(self.lost, -(1 << 23)), (1 << 23) - 1)
        highest = self.extended_highest_seq & 0xFFFFFFFF
        return ReportBlock(ssrc, fraction, lost, highest, int(self.jitter), lsr, dlsr)
