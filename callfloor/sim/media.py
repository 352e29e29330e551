"""RTP media for the simulated agents: G.711 at 20 ms from one shared clock, counting receivers.

FIELD-NOTES measured one timer per stream at about three times the CPU of one clock for all of
them, so every :class:`RtpStream` of an event loop is ticked by the same :class:`MediaClock`.
Packets go out with a pre-packed RFC 3550 §5.1 header; what comes in is counted, optionally
decoded and kept, and RFC 4733 telephone-events become digits.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import socket
import struct
from collections import deque
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import soundfile

from telephony.rtp.dtmf import DtmfReceiver, event_for_digit, events_for_digit
from telephony.rtp.g711 import decode, encode
from telephony.rtp.packet import RtpError, RtpPacket, is_rtcp, is_rtp_or_rtcp
from telephony.rtp.tone import frames, tone
from telephony.sip.sdp import Codec, NegotiatedMedia

__all__ = ["PTIME", "SAMPLES_PER_FRAME", "AudioSource", "MediaClock", "RtpStream"]

log = logging.getLogger("callfloor.sim.media")

PTIME = 0.020
SAMPLES_PER_FRAME = 160  # 20 ms at 8 kHz
RATE = 8000
MAX_BURST = 5  # ticks a late clock catches up at once; beyond that the streams skip ahead
DTMF_GAP_TICKS = 3  # audio between two key presses, so each event gets its own timestamp
_HEADER = struct.Struct("!BBHII")
_STATIC_NAMES = {0: "PCMU", 8: "PCMA"}
Pcm = npt.NDArray[np.int16]


class MediaClock:
    """Ticks every registered stream once per ``ptime`` from one ``call_at`` chain.

    The schedule is anchored at the first tick, so it does not drift; when the loop stalls the
    clock sends up to ``MAX_BURST`` late frames at once and skips the rest (like a jitter gap).
    """

    _shared: ClassVar[dict[asyncio.AbstractEventLoop, MediaClock]] = {}

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, ptime: float = PTIME) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self.ptime = ptime
        self._streams: dict[RtpStream, None] = {}
        self._handle: asyncio.TimerHandle | None = None
        self._t0 = 0.0
        self._count = 0
        self.ticks = 0
        self.skipped = 0

    @classmethod
    def shared(cls) -> MediaClock:
        """The clock of the running loop; it forgets itself when its last stream leaves."""
        loop = asyncio.get_running_loop()
        clock = cls._shared.get(loop)
        if clock is None:
            clock = cls._shared[loop] = cls(loop)
        return clock

    def __len__(self) -> int:
        return len(self._streams)

    def add(self, stream: RtpStream) -> None:
        """Start ticking ``stream`` from the next tick."""
        self._streams[stream] = None
        if self._handle is None:
            self._t0, self._count = self._loop.time(), 0
            self._handle = self._loop.call_at(self._t0 + self.ptime, self._tick)

    def remove(self, stream: RtpStream) -> None:
        """Stop ticking ``stream``; the clock stops when none is left."""
        self._streams.pop(stream, None)
        if self._streams or self._handle is None:
            return
        self._handle.cancel()
        self._handle = None
        if MediaClock._shared.get(self._loop) is self:
            del MediaClock._shared[self._loop]

    def _tick(self) -> None:
        due = int((self._loop.time() - self._t0) / self.ptime + 1e-6)
        behind = due - self._count
        if behind > MAX_BURST:
            lost = behind - MAX_BURST
            self.skipped += lost
            for stream in list(self._streams):
                stream.advance(lost)
            self._count += lost
            behind = MAX_BURST
        for _ in range(max(behind, 0)):
            for stream in list(self._streams):
                stream.tick()
            self._count += 1
            self.ticks += 1
        self._handle = self._loop.call_at(self._t0 + (self._count + 1) * self.ptime, self._tick)


class AudioSource:
    """8 kHz mono PCM cut into 20 ms frames, played in a loop; encoded once per codec."""

    def __init__(self, pcm: Pcm, *, loop: bool = True) -> None:
        self.pcm = np.asarray(pcm, dtype=np.int16)
        self.loop = loop
        self._payloads: dict[str, list[bytes]] = {}

    @classmethod
    def tone(cls, freq_hz: float, dbfs: float = -10.0) -> AudioSource:
        """A steady sine (one second, looped: whole cycles for integer frequencies)."""
        return _tone_source(float(freq_hz), float(dbfs))

    @classmethod
    def wav(cls, path: str | Path, *, loop: bool = True) -> AudioSource:
        """A sound file (any rate, channels mixed down), resampled to 8 kHz if needed."""
        data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
        mono = data.mean(axis=1)
        if rate != RATE and len(mono):
            count = max(1, round(len(mono) * RATE / rate))
            mono = np.interp(np.arange(count) * rate / RATE, np.arange(len(mono)), mono)
        pcm = np.clip(np.round(mono * 32767.0), -32768, 32767).astype(np.int16)
        return cls(pcm, loop=loop)

    def payloads(self, codec_name: str) -> list[bytes]:
        """The 20 ms payloads of this audio in ``codec_name`` (PCMU or PCMA)."""
        name = codec_name.upper()
        cached = self._payloads.get(name)
        if cached is None:
            cached = self._payloads[name] = [
                encode(frame, name) for frame in frames(self.pcm, SAMPLES_PER_FRAME)
            ]
        return cached


def _bind_udp(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


@functools.lru_cache(maxsize=64)
def _tone_source(freq_hz: float, dbfs: float) -> AudioSource:
    return AudioSource(tone(freq_hz, 1.0, RATE, dbfs))


class RtpStream(asyncio.DatagramProtocol):
    """One RTP endpoint; the socket is bound at creation so its port can go into SDP at once."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        rng: random.Random | None = None,
        clock: MediaClock | None = None,
        keep_pcm: bool = False,
        port: int = 0,
    ) -> None:
        rng = rng or random.Random()
        self._sock: socket.socket | None = _bind_udp(host, port)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        # RFC 3550 §5.1: random initial sequence number and timestamp.
        self.ssrc = rng.getrandbits(32)
        self._seq = rng.getrandbits(16)
        self._ts = rng.getrandbits(32)
        self._clock = clock
        self._transport: asyncio.DatagramTransport | None = None
        self._closed = False
        self.keep_pcm = keep_pcm
        self.remote: tuple[str, int] | None = None
        self.codec: Codec | None = None
        self.telephone_event_pt: int | None = None
        self.sending = False
        self._source: AudioSource | None = None
        self._payloads: list[bytes] = []
        self._pos = 0
        self._marker = True
        self._dtmf_digits: deque[tuple[str, int]] = deque()
        self._dtmf_packets: deque[bytes] = deque()
        self._dtmf_gap = 0
        self._dtmf_rx = DtmfReceiver(RATE)
        self._pcm: list[Pcm] = []
        self.packets_sent = 0
        self.packets_received = 0
        self.dtmf_sent = ""
        self.dtmf_received = ""
        self.first_received_at: float | None = None
        self.last_received_at: float | None = None
        self.last_source: tuple[str, int] | None = None

    # -- lifetime ---------------------------------------------------------------------------
    async def attach(self) -> None:
        """Hand the socket to the event loop and join the media clock (idempotent)."""
        if self._transport is not None or self._sock is None or self._closed:
            return
        loop = asyncio.get_running_loop()
        sock, self._sock = self._sock, None
        transport, _ = await loop.create_datagram_endpoint(lambda: self, sock=sock)
        if self._closed:  # closed while attaching
            transport.close()
            return
        self._transport = transport
        self._clock = self._clock or MediaClock.shared()
        self._clock.add(self)

    @property
    def attached(self) -> bool:
        """True while the stream is on the event loop."""
        return self._transport is not None

    def close(self) -> None:
        """Leave the clock and close the socket (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.sending = False
        if self._clock is not None:
            self._clock.remove(self)
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # -- configuration ----------------------------------------------------------------------
    def configure(self, media: NegotiatedMedia) -> None:
        """Apply the outcome of offer/answer: where to send, which codec, whether to send."""
        self.remote = (media.remote_host, media.remote_port)
        if self.codec is None or self.codec.pt != media.codec.pt:
            self._marker = True
        self.codec = media.codec
        self.telephone_event_pt = media.telephone_event_pt
        # RFC 3264 §8.4: a peer on hold (sendonly from its side, or c=0.0.0.0) gets nothing.
        self.sending = (
            media.direction.sends and media.remote_port != 0
            and media.remote_host not in ("0.0.0.0", "::")
        )
        self._load()

    def play(self, source: AudioSource | None) -> None:
        """What to send (None: nothing but DTMF)."""
        self._source = source
        self._pos = 0
        self._load()

    def _load(self) -> None:
        if self._source is not None and self.codec is not None:
            self._payloads = self._source.payloads(self.codec.name)
        else:
            self._payloads = []

    def send_dtmf(self, digits: str, duration_ms: int = 100) -> bool:
        """Queue RFC 4733 key presses; False when no telephone-event was negotiated."""
        if self.telephone_event_pt is None or self._closed:
            return False
        for digit in digits:
            event_for_digit(digit)  # ValueError for anything but 0-9 * # A-D
            self._dtmf_digits.append((digit, duration_ms))
        return True

    # -- the clock's side -------------------------------------------------------------------
    def tick(self) -> None:
        """Send this 20 ms frame (audio or a telephone-event update) and advance the clock."""
        if self.sending and self._transport is not None and self.remote is not None:
            data = self._next_packet()
            if data is not None:
                self._transport.sendto(data, self.remote)
                self.packets_sent += 1
        self._ts = (self._ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF

    def advance(self, ticks: int) -> None:
        """Skip ``ticks`` frames (the loop stalled): the timestamp keeps wall-clock time."""
        self._ts = (self._ts + ticks * SAMPLES_PER_FRAME) & 0xFFFFFFFF

    def _next_packet(self) -> bytes | None:
        if not self._dtmf_packets and self._dtmf_digits and self._dtmf_gap == 0:
            self._start_dtmf()
        if self._dtmf_packets:
            data = self._dtmf_packets.popleft()
            if not self._dtmf_packets:
                self._dtmf_gap = DTMF_GAP_TICKS
                self._marker = True  # the next audio packet starts a talkspurt
            return data
        self._dtmf_gap = max(0, self._dtmf_gap - 1)
        if not self._payloads or self.codec is None:
            return None
        if self._pos >= len(self._payloads):
            if self._source is None or not self._source.loop:
                return None
            self._pos = 0
        payload = self._payloads[self._pos]
        self._pos += 1
        first = (0x80 if self._marker else 0) | self.codec.pt
        self._marker = False
        self._seq = (self._seq + 1) & 0xFFFF
        return _HEADER.pack(0x80, first, self._seq, self._ts, self.ssrc) + payload

    def _start_dtmf(self) -> None:
        digit, duration_ms = self._dtmf_digits.popleft()
        assert self.telephone_event_pt is not None
        packets = events_for_digit(
            digit, self._ts, (self._seq + 1) & 0xFFFF, self.ssrc, self.telephone_event_pt,
            duration_ms,
        )
        self._seq = (self._seq + len(packets)) & 0xFFFF
        # One packet per tick: the three final copies of §2.5.1.4 then go out 20 ms apart.
        self._dtmf_packets.extend(data for _, data in packets)
        self.dtmf_sent += digit

    # -- receiving --------------------------------------------------------------------------
    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        """Count an RTP packet; keep its audio or fold its telephone-event into a digit."""
        if not is_rtp_or_rtcp(data) or is_rtcp(data):
            return  # RTCP and junk are not counted
        pt = data[1] & 0x7F
        self.packets_received += 1
        now = asyncio.get_running_loop().time()
        if self.first_received_at is None:
            self.first_received_at = now
        self.last_received_at = now
        self.last_source = (str(addr[0]), int(addr[1]))
        if pt != self.telephone_event_pt and not self.keep_pcm:
            return
        try:
            packet = RtpPacket.parse(data)
            if pt == self.telephone_event_pt:
                for digit in self._dtmf_rx.receive(packet.timestamp, packet.marker, packet.payload):
                    self.dtmf_received += digit.digit
            else:
                self._keep(pt, packet.payload)
        except RtpError as exc:
            log.debug("bad RTP from %s: %s", addr, exc)

    def _keep(self, pt: int, payload: bytes) -> None:
        name = self.codec.name if self.codec is not None and self.codec.pt == pt else None
        name = name or _STATIC_NAMES.get(pt)
        if name is not None:
            self._pcm.append(decode(payload, name))

    def received_pcm(self) -> Pcm:
        """Every audio sample received so far (only when created with ``keep_pcm``)."""
        if not self._pcm:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self._pcm)

    def error_received(self, exc: Exception) -> None:
        log.debug("RTP socket error: %s", exc)
