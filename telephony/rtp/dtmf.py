"""DTMF: RFC 4733 telephone-events in RTP, and the SIP INFO bodies phones use instead.

``DtmfReceiver`` reports each key press exactly once: every packet of one event carries the
event's start timestamp (§2.5.1.2), so the timestamp is the key that folds the updates, the
three end packets (§2.5.1.4) and any retransmitted start into one digit.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from telephony.rtp.packet import RtpError, RtpPacket

__all__ = [
    "DIGITS",
    "DTMF_INFO_TYPES",
    "DtmfDigit",
    "DtmfError",
    "DtmfInfo",
    "DtmfReceiver",
    "FLASH",
    "TelephoneEvent",
    "digit_for_event",
    "event_for_digit",
    "events_for_digit",
    "parse_dtmf_info",
    "parse_info",
]

DIGITS = "0123456789*#ABCD"  # RFC 4733 §3.2: events 0-15
FLASH = 16  # hook flash: parsed, never sent (a code >= 16 kills pyVoIP's receive thread)
_EVENT = struct.Struct("!BBH")


class DtmfError(RtpError):
    """A telephone-event payload or DTMF INFO body that cannot be understood.

    ``status`` is the SIP answer to give an INFO carrying it (415 for a foreign body type).
    """

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def digit_for_event(event: int) -> str | None:
    """The digit of event codes 0-15, "!" for flash (16), None for any other event."""
    if 0 <= event < len(DIGITS):
        return DIGITS[event]
    return "!" if event == FLASH else None


def event_for_digit(digit: str) -> int:
    """The event code of a sendable digit (0-9 * # A-D, any case); flash is refused on purpose."""
    code = DIGITS.find(digit.upper()) if len(digit) == 1 else -1
    if code < 0:
        raise ValueError(f"{digit!r} is not a DTMF digit we send (0-9 * # A-D)")
    return code


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """One RFC 4733 §2.3 event report: code, end bit, volume (0-63, -dBm0), duration in ticks."""

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0

    @classmethod
    def parse(cls, payload: bytes) -> TelephoneEvent:
        """Decode the first event report of a payload (the R bit is ignored, §2.3.4)."""
        return cls.parse_all(payload[:4])[0]

    @classmethod
    def parse_all(cls, payload: bytes) -> list[TelephoneEvent]:
        """Decode every 4-byte event report in a payload (some senders pack several)."""
        if not payload or len(payload) % 4:
            raise DtmfError(f"telephone-event payload of {len(payload)} bytes is not 4n")
        return [
            cls(event, bool(flags & 0x80), flags & 0x3F, duration)
            for event, flags, duration in _EVENT.iter_unpack(payload)
        ]

    def serialize(self) -> bytes:
        """Encode the 4-byte report."""
        flags = (0x80 if self.end else 0) | (self.volume & 0x3F)
        return _EVENT.pack(self.event, flags, min(self.duration, 0xFFFF))


@dataclass(frozen=True, slots=True)
class DtmfDigit:
    """A key press received: digit, event code, start timestamp, duration (ticks and ms)."""

    digit: str
    event: int
    timestamp: int
    duration: int
    duration_ms: int


class DtmfReceiver:
    """Turns a stream of telephone-event packets into digits, each reported once at its end."""

    def __init__(self, clock_rate: int = 8000) -> None:
        self.clock_rate = clock_rate
        self._ts: int | None = None  # timestamp of the segment in progress
        self._start = 0  # timestamp of the event's first segment
        self._event = 0
        self._digit = ""
        self._duration = 0
        self._done: deque[int] = deque(maxlen=16)  # segment timestamps already reported

    def receive(self, timestamp: int, marker: bool, payload: bytes) -> list[DtmfDigit]:
        """Feed one packet of the telephone-event PT; returns the digits it completes (0 to 2)."""
        report = TelephoneEvent.parse(payload)
        digit = digit_for_event(report.event)
        if timestamp in self._done or digit is None:
            return []  # a late copy of a finished event, or a tone we do not relay (RFC 4734)
        out: list[DtmfDigit] = []
        if self._ts is not None and timestamp != self._ts:
            if not marker and report.event == self._event:
                # §2.5.1.3: a long event goes on in a new segment, new timestamp but no marker.
                self._done.append(self._ts)
            else:
                # §2.5.1.2: a new event; the old one lost all three of its end packets.
                out.extend(self.flush())
        if self._ts is None:
            self._start, self._event, self._digit = timestamp, report.event, digit
            self._duration = 0
        self._ts = timestamp
        offset = (timestamp - self._start) % (1 << 32)
        self._duration = max(self._duration, offset + report.duration)
        if report.end:
            out.extend(self.flush())
        return out

    def flush(self) -> list[DtmfDigit]:
        """Report the event in progress, if any (call when the stream ends or audio resumes)."""
        if self._ts is None:
            return []
        self._done.append(self._ts)
        self._ts = None
        ms = self._duration * 1000 // self.clock_rate
        return [DtmfDigit(self._digit, self._event, self._start, self._duration, ms)]


def events_for_digit(
    digit: str,
    start_ts: int,
    start_seq: int,
    ssrc: int,
    pt: int,
    duration_ms: int = 100,
    ptime: int = 20,
    *,
    volume: int = 10,
    clock_rate: int = 8000,
) -> list[tuple[float, bytes]]:
    """The RTP packets (send offset in seconds, bytes) of one key press (RFC 4733 §2.5.1).

    An update every ``ptime`` ms, all stamped ``start_ts``, the first with the marker bit; the
    last, with the end bit, goes out three times (§2.5.1.4), each with a fresh sequence number
    (§2.5.1.6).
    """
    event = event_for_digit(digit)
    step = clock_rate * ptime // 1000
    updates = max(1, -(-duration_ms // ptime))
    total = clock_rate * duration_ms // 1000
    packets = []
    for i in range(updates + 2):
        end = i >= updates - 1
        report = TelephoneEvent(event, end, volume, total if end else step * (i + 1))
        packet = RtpPacket(
            marker=i == 0,
            payload_type=pt,
            sequence_number=(start_seq + i) & 0xFFFF,
            timestamp=start_ts & 0xFFFFFFFF,
            ssrc=ssrc,
            payload=report.serialize(),
        )
        packets.append((i * ptime / 1000, packet.serialize()))
    return packets


@dataclass(frozen=True, slots=True)
class DtmfInfo:
    """A digit carried in a SIP INFO body; ``duration_ms`` when the body gave one."""

    digit: str
    duration_ms: int | None = None


def _info_digit(signal: str) -> str:
    text = signal.strip().upper()
    digit: str | None = None
    if text.isascii() and text.isdigit() and len(text) <= 3:
        digit = digit_for_event(int(text))  # some phones send "10"/"11" for * and #, "16" for flash
    elif len(text) == 1 and text in DIGITS + "!":
        digit = text
    if digit is None:
        raise DtmfError(f"DTMF INFO signal {signal.strip()!r} is not a digit")
    return digit


DTMF_INFO_TYPES = ("application/dtmf-relay", "application/dtmf")


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def parse_info(content_type: str, body: bytes | str) -> str | None:
    """The digit of an INFO body, or None when its type is not a DTMF one (another INFO package).

    A malformed DTMF body raises ``DtmfError`` (answer its ``status``, 400).
    """
    if _media_type(content_type) not in DTMF_INFO_TYPES:
        return None
    return parse_dtmf_info(content_type, body).digit


def parse_dtmf_info(content_type: str, body: bytes | str) -> DtmfInfo:
    """Parse an INFO body of type application/dtmf-relay ("Signal=5\\r\\nDuration=160") or
    application/dtmf ("5"); raise ``DtmfError`` (415 for any other type, else 400)."""
    kind = _media_type(content_type)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if kind == "application/dtmf":
        return DtmfInfo(_info_digit(text))
    if kind != "application/dtmf-relay":
        raise DtmfError(f"INFO body type {content_type!r} carries no DTMF", 415)
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            fields[name.strip().lower()] = value.strip()
    if "signal" not in fields:
        raise DtmfError("dtmf-relay body has no Signal= line")
    duration = fields.get("duration", "")
    ms = int(duration) if duration.isascii() and duration.isdigit() and len(duration) < 10 else None
    return DtmfInfo(_info_digit(fields["signal"]), ms)
