"""SDP building blocks: the error, the direction attribute and RTP payload formats (codecs)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from telephony.sip.errors import ParseError

__all__ = [
    "DEFAULT_PTIME",
    "G711",
    "RTP_PROTOS",
    "STATIC_PAYLOAD_TYPES",
    "TELEPHONE_EVENT",
    "Codec",
    "Direction",
    "SdpError",
    "codec_from_rtpmap",
]


class SdpError(ParseError):
    """Bad or unacceptable SDP: ``status`` 400 when malformed, 488 when nothing is acceptable."""


class Direction(StrEnum):
    """The direction attribute of a stream (RFC 3264 §5.1), from the describing side's view."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        """True if the describing side sends media."""
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        """True if the describing side receives media."""
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def from_flags(cls, sends: bool, receives: bool) -> Direction:
        """The direction with the given send and receive flags."""
        if sends:
            return cls.SENDRECV if receives else cls.SENDONLY
        return cls.RECVONLY if receives else cls.INACTIVE

    def reverse(self) -> Direction:
        """The matching direction for the other side (RFC 3264 §6.1: sendonly → recvonly)."""
        return Direction.from_flags(self.receives, self.sends)

    def intersect(self, other: Direction) -> Direction:
        """Only what both allow (our wish combined with what the peer permits)."""
        return Direction.from_flags(self.sends and other.sends, self.receives and other.receives)


@dataclass(frozen=True)
class Codec:
    """One RTP payload format: the payload type and its rtpmap/fmtp (RFC 4566 §6)."""

    pt: int
    name: str
    rate: int = 8000
    channels: int = 1
    fmtp: str | None = None

    def rtpmap(self) -> str:
        """The rtpmap value after the PT, e.g. ``PCMU/8000``."""
        suffix = f"/{self.channels}" if self.channels != 1 else ""
        return f"{self.name}/{self.rate}{suffix}"

    def same_format(self, other: Codec) -> bool:
        """True if both name the same encoding (case-insensitive), clock rate and channels."""
        return (self.name.lower(), self.rate, self.channels) == (
            other.name.lower(), other.rate, other.channels,
        )

    @property
    def is_telephone_event(self) -> bool:
        """True for RFC 4733 telephone-event."""
        return self.name.lower() == "telephone-event"


# RFC 3551 §6: payload types that need no rtpmap.
STATIC_PAYLOAD_TYPES: dict[int, Codec] = {
    c.pt: c
    for c in (
        Codec(0, "PCMU"), Codec(3, "GSM"), Codec(4, "G723"), Codec(5, "DVI4"),
        Codec(6, "DVI4", 16000), Codec(7, "LPC"), Codec(8, "PCMA"), Codec(9, "G722"),
        Codec(10, "L16", 44100, 2), Codec(11, "L16", 44100), Codec(12, "QCELP"),
        Codec(13, "CN"), Codec(14, "MPA", 90000), Codec(15, "G728"), Codec(16, "DVI4", 11025),
        Codec(17, "DVI4", 22050), Codec(18, "G729"), Codec(25, "CelB", 90000),
        Codec(26, "JPEG", 90000), Codec(28, "nv", 90000), Codec(31, "H261", 90000),
        Codec(32, "MPV", 90000), Codec(33, "MP2T", 90000), Codec(34, "H263", 90000),
    )
}
G711 = [Codec(0, "PCMU"), Codec(8, "PCMA")]
TELEPHONE_EVENT = Codec(101, "telephone-event", fmtp="0-16")
RTP_PROTOS = ("RTP/AVP", "RTP/AVPF")
DEFAULT_PTIME = 20


def codec_from_rtpmap(pt: int, value: str) -> Codec | None:
    """The codec of ``a=rtpmap:<pt> <value>`` (``name/rate[/channels]``), None if unreadable."""
    pieces = value.split("/")
    try:
        rate = int(pieces[1]) if len(pieces) > 1 else 8000
        channels = int(pieces[2]) if len(pieces) > 2 and pieces[2] else 1
    except ValueError:
        return None  # one bad rtpmap must not sink the whole offer: skip the format
    return Codec(pt, pieces[0], rate, channels) if pieces[0] else None
