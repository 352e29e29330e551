"""The relay's fan-out for silent monitoring: a copy of both sides of a bridged call, mixed, to
each listener's phone.

Nothing changes on the relay's packet path while nobody listens. When the first listener's phone
answers, each side's forward target (``RtpPort.fwd``) is wrapped in a :class:`ForwardTap`, which
sends exactly what the port sent before and also keeps the packet for the mix; the last listener
leaving unwraps them. The packets are taken as their receiver gets them (its law and payload
type, after the relay's rewrite), so the mix decodes them with the receiver's codec. Each
listener is a stream on the relay's 20 ms media clock: every tick mixes what both sides said
since the last one and sends it in the listener's own law. What the listener's phone sends is
only used to learn its address (symmetric RTP) and is otherwise ignored.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from telephony.calls.commands import ListenFailed, MediaEvent, SetListenPeer, Side
from telephony.net.mixer import JitterFifo, Pcm, decode_audio, mix
from telephony.net.player import MediaClock, Player
from telephony.net.ports import Bridge, RtcpPort, RtpPort
from telephony.rtp.g711 import encode

__all__ = ["ForwardTap", "Listener", "ListenPort", "Monitor", "RelayFanout"]

log = logging.getLogger("callfloor.relay")

_HEADER = struct.Struct("!BBHII")  # RFC 3550 §5.1: V=2, no padding/extension/CSRC


class ForwardTap:
    """Stands in for a side's forward target: what the packet path reads of it (``remote``,
    ``transport``, ``tx``) is the real port's, and each packet sent is also kept for the mix."""

    __slots__ = ("port", "packets")

    def __init__(self, port: RtpPort, packets: list[bytes]) -> None:
        self.port = port
        self.packets = packets

    @property
    def remote(self) -> tuple[str, int] | None:
        """The real port's (latched) destination."""
        return self.port.remote

    @property
    def transport(self) -> ForwardTap | None:
        """Itself as the transport while the real port has one."""
        return self if self.port.transport is not None else None

    @property
    def tx(self) -> int:
        """The real port's sent-packet count."""
        return self.port.tx

    @tx.setter
    def tx(self, value: int) -> None:
        self.port.tx = value

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        """Send as the port would, and keep a copy."""
        self.packets.append(data)
        transport = self.port.transport
        if transport is not None:
            transport.sendto(data, addr)


@dataclass
class _Feed:
    """One side of the monitored call: what it sent since the last tick, and its FIFO."""

    packets: list[bytes] = field(default_factory=list)
    receiver: RtpPort | None = None  # whose codec the packets were rewritten to
    fifo: JitterFifo = field(default_factory=JitterFifo)
    malformed: int = 0

    def drain(self) -> None:
        if not self.packets:
            return
        cfg = self.receiver.cfg if self.receiver is not None else None
        pcm, bad = decode_audio(self.packets, cfg.audio_pt if cfg else 0, cfg.codec if cfg else "PCMU")
        self.packets.clear()
        self.malformed += bad
        self.fifo.push(pcm)


class Monitor:
    """The mix of one bridged call, shared by its listeners (mixed once per tick)."""

    def __init__(self, call: str) -> None:
        self.call = call
        self.feeds = {Side.CUSTOMER: _Feed(), Side.SEAT: _Feed()}
        self.listeners: set[Listener] = set()
        self.generation = 0
        self.mixed = mix([f.fifo.pull() for f in self.feeds.values()])

    def wire(self, bridge: Bridge) -> None:
        """Tap each side's forwarding (sides that are not bridged now are tapped on reconnect)."""
        for side, rtp in bridge.rtp.items():
            fwd = rtp.fwd
            if fwd is None or isinstance(fwd, ForwardTap):
                continue
            feed = self.feeds[side]
            feed.receiver = fwd
            # The packet path reads only remote, transport and tx of its forward target.
            rtp.fwd = ForwardTap(fwd, feed.packets)  # type: ignore[assignment]

    @staticmethod
    def unwire(bridge: Bridge) -> None:
        """Put the real forward targets back."""
        for rtp in bridge.rtp.values():
            fwd: object = rtp.fwd
            if isinstance(fwd, ForwardTap):
                rtp.fwd = fwd.port

    def frame_for(self, listener: Listener) -> Pcm:
        """This tick's mix: computed by the first listener to ask, shared by the others."""
        if listener.generation == self.generation:
            for feed in self.feeds.values():
                feed.drain()
            self.mixed = mix([f.fifo.pull() for f in self.feeds.values()])
            self.generation += 1
        listener.generation = self.generation
        return self.mixed


class ListenPort(asyncio.DatagramProtocol):
    """The listener's RTP port: sends the mix, learns the phone's address, ignores its audio."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.remote: tuple[str, int] | None = None
        self.latched = False
        self.ignored = 0
        self.tx = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's UDPTransport is not a subclass

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.ignored += 1
        if len(data) >= 12 and data[0] & 0xC0 == 0x80:
            self.remote, self.latched = addr, True  # the phone may sit behind NAT

    def send(self, data: bytes) -> None:
        """Send one packet of the mix to the phone."""
        if self.transport is not None and self.remote is not None:
            self.transport.sendto(data, self.remote)
            self.tx += 1

    def error_received(self, exc: Exception) -> None:
        log.debug("listen RTP error: %s", exc)


class Listener(Player):
    """One listener's outgoing stream (a Player's SSRC, sequence and timestamps), paced by the
    media clock; each tick sends the monitor's mix in the listener's law."""

    def __init__(self, monitor: Monitor, codec: str, pt: int, send: Callable[[bytes], None]) -> None:
        super().__init__(codec, pt, send, on_finished=lambda token: None)
        self.monitor = monitor
        # One behind the monitor: the first tick takes the mix already made this tick, if any.
        self.generation = monitor.generation - 1
        self._first = True

    def tick(self) -> None:
        """Send the next 20 ms of the mix (the first packet carries the marker, RFC 3551 §4.1)."""
        payload = encode(self.monitor.frame_for(self), self.codec)
        marker = 0x80 if self._first else 0
        self._first = False
        self.send(_HEADER.pack(0x80, marker | self.pt, self.seq, self.ts, self.ssrc) + payload)
        self.seq = (self.seq + 1) & 0xFFFF
        self.ts = (self.ts + len(payload)) & 0xFFFFFFFF


@dataclass
class _Listen:
    call: str
    port: ListenPort
    rtcp: RtcpPort
    transports: list[asyncio.DatagramTransport] = field(default_factory=list)
    stream: Listener | None = None
    closed: bool = False


class RelayFanout:
    """Every listen of the relay: their ports, streams and the monitors of the calls they hear."""

    def __init__(self, bridges: dict[str, Bridge], clock: MediaClock,
                 bind: Callable[[int], socket.socket], on_event: Callable[[MediaEvent], None]) -> None:
        self.bridges = bridges
        self.clock = clock
        self.bind = bind
        self.on_event = on_event
        self.listens: dict[str, _Listen] = {}
        self.monitors: dict[str, Monitor] = {}

    def open(self, listen: str, call: str, port: int) -> None:
        """Bind the listen leg's RTP and RTCP ports; a failure is reported as ListenFailed."""
        try:
            socks = (self.bind(port), self.bind(port + 1))
        except OSError as exc:
            self.on_event(ListenFailed(call, listen, f"cannot bind RTP port {port}: {exc}"))
            return
        entry = self.listens[listen] = _Listen(call, ListenPort(), RtcpPort())
        loop = asyncio.get_running_loop()
        for proto, sock in ((entry.port, socks[0]), (entry.rtcp, socks[1])):
            task = loop.create_datagram_endpoint(lambda p=proto: p, sock=sock)  # type: ignore[misc]
            loop.create_task(self._adopt(entry, task))

    async def _adopt(self, entry: _Listen, coro: object) -> None:
        transport, _ = await coro  # type: ignore[misc]
        entry.transports.append(transport)
        if entry.closed:
            transport.close()  # the listen ended before the endpoint was ready

    def set_peer(self, cmd: SetListenPeer) -> None:
        """The phone answered (or moved): start (or re-point) its stream of the mix."""
        entry = self.listens.get(cmd.listen)
        if entry is None:
            return
        if cmd.codec.upper() not in ("PCMU", "PCMA"):
            # Only G.711 is offered; a stream that cannot be encoded must not stop the clock.
            log.error("listen %s: no G.711 encoder for codec %r", cmd.listen, cmd.codec)
            return
        if not entry.port.latched:
            entry.port.remote = (cmd.host, cmd.port)
        if entry.stream is not None:
            if (entry.stream.codec, entry.stream.pt) == (cmd.codec.upper(), cmd.audio_pt):
                return
            self._stop_stream(entry)
        monitor = self.monitors.get(entry.call)
        if monitor is None:
            monitor = self.monitors[entry.call] = Monitor(entry.call)
            bridge = self.bridges.get(entry.call)
            if bridge is not None:
                monitor.wire(bridge)
        entry.stream = Listener(monitor, cmd.codec, cmd.audio_pt, entry.port.send)
        monitor.listeners.add(entry.stream)
        self.clock.add(entry.stream)

    def rewire(self, call: str) -> None:
        """The call was bridged again (or unbridged): tap its new forwarding if anyone listens."""
        monitor = self.monitors.get(call)
        bridge = self.bridges.get(call)
        if monitor is not None and bridge is not None:
            monitor.wire(bridge)

    def close(self, listen: str) -> None:
        """Stop the listener's stream and close its ports."""
        entry = self.listens.pop(listen, None)
        if entry is None:
            return
        self._stop_stream(entry)
        entry.closed = True
        for transport in entry.transports:
            transport.close()

    def _stop_stream(self, entry: _Listen) -> None:
        stream, entry.stream = entry.stream, None
        if stream is None:
            return
        self.clock.remove(stream)
        monitor = stream.monitor
        monitor.listeners.discard(stream)
        if not monitor.listeners:
            del self.monitors[monitor.call]
            bridge = self.bridges.get(monitor.call)
            if bridge is not None:
                monitor.unwire(bridge)

    def close_all(self) -> None:
        """Close every listen (the relay stops)."""
        for listen in list(self.listens):
            self.close(listen)
