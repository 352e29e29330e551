"""One call's media ports: the RTP packet path (the hot path of the whole service) and RTCP.

Symmetric RTP: each side's media is sent back to where that side's packets really come from
(latching), not only to the address in its SDP, so phones behind NAT are heard. One stream per
side at a time: a second source or SSRC is ignored while the current one is live.

The packet path is kept short because it runs 50 times a second per side per call: the current
stream is recognised by two comparisons and a bit test, the recorder gets the packet and its
arrival appended to two lists (no tuple per packet: nothing for the garbage collector to track),
and rewriting is one flag test.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telephony.calls.commands import SetMediaPeer, Side
from telephony.net.hosting import Hosting
from telephony.net.recorder import RecorderTap
from telephony.net.rewrite import transcode

__all__ = ["CHANNEL", "SWITCH_GAP", "Bridge", "RtcpPort", "RtpPort", "clock"]

log = logging.getLogger("callfloor.relay")

SWITCH_GAP = 0.25  # seconds a stream must be silent before another may take the side over
CHANNEL = {Side.CUSTOMER: 0, Side.SEAT: 1}
clock = time.monotonic  # the relay's clock: packet arrivals, recordings, the watchdog


class RtpPort(asyncio.DatagramProtocol):
    """One side's RTP port; the hot path of the whole service."""

    __slots__ = ("bridge", "side", "channel", "transport", "other", "fwd", "remote", "ssrc", "source",
                 "last_rx", "pt_map", "rx", "tx", "ignored", "sends", "expect_since", "cfg",
                 "xlat", "xlat_pt", "rewrite", "rec", "rec_at")

    def __init__(self, bridge: Bridge, side: Side) -> None:
        self.bridge = bridge
        self.side = side
        self.channel = CHANNEL[side]
        self.transport: asyncio.DatagramTransport | None = None
        self.other: RtpPort | None = None
        self.fwd: RtpPort | None = None  # the other side while the two are bridged
        self.remote: tuple[str, int] | None = None
        self.ssrc: bytes | None = None
        self.source: tuple[str, int] | None = None
        self.last_rx = 0.0
        self.pt_map: dict[int, int] = {}
        self.rx = self.tx = self.ignored = 0
        self.sends = False
        self.expect_since = 0.0
        self.cfg: SetMediaPeer | None = None
        self.xlat: bytes | None = None  # μ-law <-> A-law table when the two legs chose different laws
        self.xlat_pt = -1
        self.rewrite = False  # xlat or pt_map applies
        # While recording: the tap's packet and arrival lists for this side's channel.
        self.rec: list[bytes] | None = None
        self.rec_at: list[float] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's UDPTransport is not a subclass

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        now = clock()
        known = data[8:12] == self.ssrc and addr == self.source and data[0] & 0xC0 == 0x80
        if not known and not self._latch(data, addr, now):
            return
        self.last_rx = now
        self.rx += 1
        fwd = self.fwd
        if fwd is None:
            hosting = self.bridge.hosting.get(self.side)
            if hosting is not None:
                hosting.feed(data)
            return
        rec = self.rec
        if rec is not None:
            rec.append(data)
            self.rec_at.append(now)
        dest = fwd.remote
        transport = fwd.transport
        if dest is not None and transport is not None:
            if self.rewrite:
                data = self._rewrite(data)
            transport.sendto(data, dest)
            fwd.tx += 1

    def _latch(self, data: bytes, addr: tuple[str, int], now: float) -> bool:
        """Not the current stream (or not RTP): True when it is RTP and may take the side over."""
        if len(data) < 12 or data[0] & 0xC0 != 0x80:
            self.ignored += 1
            return False
        ssrc = data[8:12]
        if ssrc != self.ssrc or addr != self.source:
            if self.ssrc is not None and now - self.last_rx < SWITCH_GAP:
                self.ignored += 1
                return False
            self.ssrc, self.source, self.remote = ssrc, addr, addr  # latch (symmetric RTP)
        return True

    def _rewrite(self, data: bytes) -> bytes:
        """The packet as its receiver expects it: G.711 law and payload type numbers."""
        if self.xlat is not None and data[1] & 0x7F == self.xlat_pt:
            data = transcode(data, self.xlat)
        if self.pt_map:
            new = self.pt_map.get(data[1] & 0x7F)
            if new is not None:
                data = bytes((data[0], (data[1] & 0x80) | new)) + data[2:]
        return data

    def send_own(self, data: bytes) -> None:
        """Send media callfloor itself makes (prompts) to this side."""
        if self.transport is not None and self.remote is not None:
            self.transport.sendto(data, self.remote)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a phone that has not opened its port yet: not fatal.
        log.debug("RTP error on call %s %s: %s", self.bridge.call, self.side.value, exc)


class RtcpPort(asyncio.DatagramProtocol):
    """One side's RTCP port (RTP port + 1): relayed with latching, not recorded."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.other: RtcpPort | None = None
        self.remote: tuple[str, int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's UDPTransport is not a subclass

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.remote = addr
        other = self.other
        if other is not None and other.remote is not None and other.transport is not None:
            other.transport.sendto(data, other.remote)

    def error_received(self, exc: Exception) -> None:
        log.debug("RTCP error: %s", exc)


class Bridge:
    """The two sides of one call and its recording."""

    def __init__(self, call: str, phase: int) -> None:
        self.call = call
        self.phase = phase
        self.rtp: dict[Side, RtpPort] = {}
        self.rtcp: dict[Side, RtcpPort] = {}
        self.tap: RecorderTap | None = None
        self.connected = True
        self.hosted: Side | None = None
        self.hosting: dict[Side, Hosting] = {}
        self.live = False
        self.timed_out = False
        self.transports: list[asyncio.DatagramTransport] = []
