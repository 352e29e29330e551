"""SDP (RFC 4566) as plain data: parse and serialize a session description.

Parsing is lenient where real phones differ (LF-only lines, trailing blanks, attributes in any
order, missing s=/t=, rtpmap case) and strict where a mistake would route media wrongly (v=, o=,
ports, c=). Unknown lines and attributes are kept so a description round-trips.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from telephony.sip.sdp.codec import (
    STATIC_PAYLOAD_TYPES,
    Codec,
    Direction,
    SdpError,
    codec_from_rtpmap,
)

__all__ = ["Attribute", "Media", "Origin", "SessionDescription", "address_type"]

Attribute = tuple[str, str | None]


def _int(text: str, what: str, low: int = 0, high: int | None = None) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 20:
        raise SdpError(f"SDP {what} {text!r} is not a number")
    value = int(text)
    if value < low or (high is not None and value > high):
        raise SdpError(f"SDP {what} {value} is out of range")
    return value


def address_type(address: str) -> str:
    """The c=/o= address type for ``address``: IP6 if it looks like IPv6, else IP4."""
    return "IP6" if ":" in address else "IP4"


def _parse_connection(value: str) -> str:
    parts = value.split()
    if len(parts) < 3 or parts[0].upper() != "IN":
        raise SdpError(f"SDP c= line {value!r} is not 'IN IP4|IP6 <address>'")
    return parts[2]


def _parse_bandwidth(value: str) -> tuple[str, int]:
    kind, _, amount = value.partition(":")
    return kind.strip(), _int(amount.strip(), "bandwidth")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # never fails: a stray byte must not lose the whole body


_DIRECTIONS = frozenset(d.value for d in Direction)


def _direction_attr(attributes: list[Attribute]) -> Direction | None:
    found = None  # the last one wins, should a phone send two
    for name, value in attributes:
        if value is None and name.lower() in _DIRECTIONS:
            found = Direction(name.lower())
    return found


@dataclass
class Origin:
    """The o= line (RFC 4566 §5.2); ``sess_id`` kept as text so it round-trips exactly."""

    username: str
    sess_id: str
    sess_version: int
    nettype: str
    addrtype: str
    address: str

    @classmethod
    def parse(cls, value: str) -> Origin:
        """Parse the value of an o= line."""
        parts = value.split()
        if len(parts) < 6:
            raise SdpError(f"SDP o= line {value!r} needs 6 fields")
        # Some phones put a space in the username; the last five fields are unambiguous.
        username = " ".join(parts[:-5])
        sess_id, version, nettype, addrtype, address = parts[-5:]
        return cls(username, sess_id, _int(version, "o= version"), nettype, addrtype, address)

    def __str__(self) -> str:
        return " ".join(
            (self.username, self.sess_id, str(self.sess_version), self.nettype, self.addrtype,
             self.address)
        )


@dataclass
class Media:
    """One m= section: the stream, its c=, b= and a= lines; ``other`` keeps i=/k= verbatim."""

    media: str
    port: int
    proto: str
    formats: list[str]
    connection: str | None = None
    attributes: list[Attribute] = field(default_factory=list)
    bandwidth: list[tuple[str, int]] = field(default_factory=list)
    port_count: int | None = None
    other: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, value: str) -> Media:
        """Parse the value of an m= line."""
        parts = value.split()
        if len(parts) < 3:
            raise SdpError(f"SDP m= line {value!r} needs media, port and proto")
        port_text, _, count = parts[1].partition("/")
        port = _int(port_text, "m= port", 0, 65535)
        port_count = _int(count, "m= port count", 1) if count else None
        return cls(parts[0], port, parts[2], parts[3:], port_count=port_count)

    def attribute(self, name: str) -> str | None:
        """Value of the first a= line called ``name`` (case-insensitive); "" for a flag."""
        for key, value in self.attributes:
            if key.lower() == name.lower():
                return "" if value is None else value
        return None

    def _maps(self, kind: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, value in self.attributes:
            if value is not None and name.lower() == kind:
                pt, _, rest = value.strip().partition(" ")
                found.setdefault(pt, rest.strip())
        return found

    @property
    def codecs(self) -> list[Codec]:
        """RTP formats in m= order, via a=rtpmap or the RFC 3551 static table (unknown: skipped)."""
        if not self.proto.upper().startswith("RTP/"):
            return []
        rtpmaps, fmtps, out = self._maps("rtpmap"), self._maps("fmtp"), []
        for fmt in self.formats:
            if not (fmt.isascii() and fmt.isdigit() and len(fmt) <= 3) or int(fmt) > 127:
                continue
            codec = codec_from_rtpmap(int(fmt), rtpmaps[fmt]) if fmt in rtpmaps else None
            if codec is None and fmt not in rtpmaps:
                codec = STATIC_PAYLOAD_TYPES.get(int(fmt))
            if codec is not None:
                out.append(replace(codec, fmtp=fmtps.get(fmt)))
        return out

    @property
    def direction(self) -> Direction:
        """This section's own direction attribute, sendrecv when it has none."""
        return _direction_attr(self.attributes) or Direction.SENDRECV

    @property
    def ptime(self) -> int | None:
        """a=ptime in milliseconds, if given and sane (a few phones write "20.0")."""
        value = self.attribute("ptime")
        try:
            ptime = int(float(value)) if value else None
        except (ValueError, OverflowError):  # "abc", "nan", "inf"
            return None
        return ptime if ptime is not None and 0 < ptime <= 200 else None

    @property
    def rtcp_port(self) -> int:
        """Where RTCP goes: the port itself with rtcp-mux, a=rtcp (RFC 3605), else port + 1."""
        if self.attribute("rtcp-mux") is not None:
            return self.port
        value = self.attribute("rtcp")
        if value:
            return _int(value.split()[0], "a=rtcp port", 0, 65535)
        return self.port + 1

    @property
    def telephone_event(self) -> Codec | None:
        """The RFC 4733 telephone-event format, if offered."""
        return next((c for c in self.codecs if c.is_telephone_event), None)


def _origin_placeholder() -> Origin:
    return Origin("-", "0", 0, "IN", "IP4", "0.0.0.0")


_SESSION_OTHER_BEFORE_C = ("i", "u", "e", "p")
_UNSPECIFIED = ("0.0.0.0", "::")


@dataclass
class SessionDescription:
    """A whole SDP body (RFC 4566 §5); ``other`` keeps i= u= e= p= r= z= k= and unknown lines."""

    version: int = 0
    origin: Origin = field(default_factory=_origin_placeholder)
    name: str = "-"
    connection: str | None = None
    times: list[tuple[int, int]] = field(default_factory=lambda: [(0, 0)])
    attributes: list[Attribute] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    bandwidth: list[tuple[str, int]] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, data: bytes | str) -> SessionDescription:
        """Parse an SDP body; raise ``SdpError`` (400) naming the offending line."""
        text = data if isinstance(data, str) else _decode(data)
        sdp, media = cls(times=[]), None
        seen: set[str] = set()
        for number, raw in enumerate(text.split("\n"), 1):
            line = raw.strip()
            if not line:
                continue
            kind, sep, value = line.partition("=")
            kind = kind.strip().lower()
            if not sep or len(kind) != 1:
                raise SdpError(f"SDP line {number} is not <type>=<value>: {line[:60]!r}")
            value = value.strip()
            seen.add(kind)
            try:
                media = sdp._take_line(kind, value, media)
            except SdpError as exc:
                raise SdpError(f"SDP line {number}: {exc.reason}") from None
        if "v" not in seen or "o" not in seen:
            raise SdpError("SDP has no " + ("v=" if "v" not in seen else "o=") + " line")
        sdp.times = sdp.times or [(0, 0)]
        return sdp

    def _take_line(self, kind: str, value: str, media: Media | None) -> Media | None:
        if kind == "m":
            media = Media.parse(value)
            self.media.append(media)
        elif kind == "a":
            name, sep, rest = value.partition(":")
            (media or self).attributes.append((name.strip(), rest.strip() if sep else None))
        elif kind == "c":
            if media is None:
                self.connection = _parse_connection(value)
            else:
                media.connection = _parse_connection(value)
        elif kind == "b":
            (media or self).bandwidth.append(_parse_bandwidth(value))
        elif kind == "v":
            if value != "0":
                raise SdpError(f"SDP version {value!r} is not 0")
        elif kind == "o" and media is None:
            self.origin = Origin.parse(value)
        elif kind == "s" and media is None:
            self.name = value
        elif kind == "t" and media is None:
            start, _, stop = value.partition(" ")
            self.times.append((_int(start, "t= start"), _int(stop.strip() or "0", "t= stop")))
        else:
            (media or self).other.append((kind, value))
        return media

    def to_bytes(self) -> bytes:
        """Serialize with CRLF line ends, lines in the RFC 4566 §5 order."""
        lines = ["v=0", f"o={self.origin}", f"s={self.name or '-'}"]
        lines += [f"{k}={v}" for k, v in self.other if k in _SESSION_OTHER_BEFORE_C]
        if self.connection is not None:
            lines.append(f"c=IN {address_type(self.connection)} {self.connection}")
        lines += [f"b={k}:{v}" for k, v in self.bandwidth]
        lines += [f"t={start} {stop}" for start, stop in self.times or [(0, 0)]]
        lines += [f"{k}={v}" for k, v in self.other if k not in _SESSION_OTHER_BEFORE_C]
        lines += [f"a={k}" if v is None else f"a={k}:{v}" for k, v in self.attributes]
        for m in self.media:
            port = f"{m.port}/{m.port_count}" if m.port_count else str(m.port)
            lines.append(" ".join([f"m={m.media}", port, m.proto, *m.formats]))
            lines += [f"{k}={v}" for k, v in m.other if k == "i"]
            if m.connection is not None:
                lines.append(f"c=IN {address_type(m.connection)} {m.connection}")
            lines += [f"b={k}:{v}" for k, v in m.bandwidth]
            lines += [f"{k}={v}" for k, v in m.other if k != "i"]
            lines += [f"a={k}" if v is None else f"a={k}:{v}" for k, v in m.attributes]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")

    def connection_of(self, media: Media) -> str | None:
        """The address for ``media``: its own c= or the session's."""
        return media.connection or self.connection

    def direction_of(self, media: Media) -> Direction:
        """Effective direction of ``media``: its attribute, else the session's, else sendrecv;
        c=0.0.0.0 (RFC 2543 hold, RFC 3264 §8.4), or IPv6 ::, means "send nothing to me"."""
        found = _direction_attr(media.attributes) or _direction_attr(self.attributes)
        direction = found or Direction.SENDRECV
        if self.connection_of(media) in _UNSPECIFIED:
            direction = Direction.from_flags(direction.sends, False)
        return direction
