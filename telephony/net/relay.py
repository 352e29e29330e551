"""The RTP relay: two UDP ports per call, packets copied between them in Python, and recorded.

Symmetric RTP: each side's media is sent back to where that side's packets really come from
(latching), not only to the address in its SDP, so phones behind NAT are heard. One stream per
side at a time: a second source or SSRC is ignored while the current one is live, so a phone that
runs two senders (pyVoIP after a re-INVITE) does not garble the other party's audio. One clock
tick (100 ms) serves every call: staggered recorder flushes and the dead-media watchdog.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from telephony.calls.commands import MediaEvent, MediaFailed, MediaTimedOut, SetMediaPeer, Side
from telephony.net.hosting import Hosting
from telephony.net.player import MediaClock, PromptFrames
from telephony.net.recorder import RecorderTap
from telephony.net.rewrite import pt_map, transcode, xlat

__all__ = ["MediaRelay"]

log = logging.getLogger("callfloor.relay")

SWITCH_GAP = 0.25  # seconds a stream must be silent before another may take the side over
TICK = 0.1
# Each bridge flushes its recording every FLUSH_PHASES ticks (0.5 s), in its own phase, so the
# writes of many calls are spread over the ticks; with the timeline's 0.3 s latency a crash loses
# at most 0.8 s of audio.
FLUSH_PHASES = 5
CHANNEL = {Side.CUSTOMER: 0, Side.SEAT: 1}
_clock = time.monotonic


class _Rtp(asyncio.DatagramProtocol):
    """One side's RTP port; the hot path of the whole service."""

    __slots__ = ("bridge", "side", "channel", "transport", "other", "remote", "ssrc", "source",
                 "last_rx", "pt_map", "rx", "tx", "ignored", "sends", "expect_since", "cfg",
                 "xlat", "xlat_pt")

    def __init__(self, bridge: _Bridge, side: Side) -> None:
        self.bridge = bridge
        self.side = side
        self.channel = CHANNEL[side]
        self.transport: asyncio.DatagramTransport | None = None
        self.other: _Rtp | None = None
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

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's UDPTransport is not a subclass

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < 12 or data[0] & 0xC0 != 0x80:
            self.ignored += 1
            return
        now = _clock()
        ssrc = data[8:12]
        if ssrc != self.ssrc or addr != self.source:
            if self.ssrc is not None and now - self.last_rx < SWITCH_GAP:
                self.ignored += 1
                return
            self.ssrc, self.source, self.remote = ssrc, addr, addr  # latch (symmetric RTP)
        self.last_rx = now
        self.rx += 1
        bridge = self.bridge
        if not bridge.connected:
            hosting = bridge.hosting.get(self.side)
            if hosting is not None:
                hosting.feed(data)
            return
        tap = bridge.tap
        if tap is not None:
            tap.packets.append((self.channel, now, data))
        other = self.other
        if other is not None and other.remote is not None and other.transport is not None:
            if self.xlat is not None and data[1] & 0x7F == self.xlat_pt:
                data = transcode(data, self.xlat)
            if self.pt_map:
                new = self.pt_map.get(data[1] & 0x7F)
                if new is not None:
                    data = bytes((data[0], (data[1] & 0x80) | new)) + data[2:]
            other.transport.sendto(data, other.remote)
            other.tx += 1

    def send_own(self, data: bytes) -> None:
        """Send media callfloor itself makes (prompts) to this side."""
        if self.transport is not None and self.remote is not None:
            self.transport.sendto(data, self.remote)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a phone that has not opened its port yet: not fatal.
        log.debug("RTP error on call %s %s: %s", self.bridge.call, self.side.value, exc)


class _Rtcp(asyncio.DatagramProtocol):
    """One side's RTCP port (RTP port + 1): relayed with latching, not recorded."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.other: _Rtcp | None = None
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


class _Bridge:
    """The two sides of one call and its recording."""

    def __init__(self, call: str, phase: int) -> None:
        self.call = call
        self.phase = phase
        self.rtp: dict[Side, _Rtp] = {}
        self.rtcp: dict[Side, _Rtcp] = {}
        self.tap: RecorderTap | None = None
        self.connected = True
        self.hosted: Side | None = None
        self.hosting: dict[Side, Hosting] = {}
        self.live = False
        self.timed_out = False
        self.transports: list[asyncio.DatagramTransport] = []


class MediaRelay:
    """Every call's RTP ports, the recorder taps, and the dead-media watchdog."""

    def __init__(self, host: str, *, media_timeout: float, recordings_dir: Path,
                 on_event: Callable[[MediaEvent], None],
                 prompts: Callable[[str], npt.NDArray[np.int16]] | None = None) -> None:
        self.host = host
        self.frames = PromptFrames(prompts)
        self.clock = MediaClock()
        self.media_timeout = media_timeout
        self.recordings_dir = recordings_dir
        self.on_event = on_event
        self.bridges: dict[str, _Bridge] = {}
        self._tick = 0
        self._task: asyncio.Task[None] | None = None
        self._next_phase = 0

    async def start(self) -> None:
        """Start the shared 100 ms clock."""
        self._task = asyncio.get_running_loop().create_task(self._ticker())

    # -- commands -------------------------------------------------------------------------
    def open(self, call: str, ports: dict[Side, int], hosted: Side | None = None) -> None:
        """Bind both sides' RTP and RTCP ports; a failure is reported as MediaFailed.

        With ``hosted``, that side is callfloor's (IVR, queue) until :meth:`connect` bridges it.
        """
        bridge = _Bridge(call, self._next_phase % FLUSH_PHASES)
        bridge.hosted, bridge.connected = hosted, hosted is None
        self._next_phase += 1
        loop = asyncio.get_running_loop()
        try:
            socks = {side: (self._bind(port), self._bind(port + 1)) for side, port in ports.items()}
        except OSError as exc:
            self.on_event(MediaFailed(call, f"cannot bind RTP ports {sorted(ports.values())}: {exc}"))
            return
        for side, (rtp_sock, rtcp_sock) in socks.items():
            bridge.rtp[side] = _Rtp(bridge, side)
            bridge.rtcp[side] = _Rtcp()
            for proto, sock in ((bridge.rtp[side], rtp_sock), (bridge.rtcp[side], rtcp_sock)):
                task = loop.create_datagram_endpoint(lambda p=proto: p, sock=sock)  # type: ignore[misc]
                loop.create_task(self._adopt(bridge, task))
        a, b = bridge.rtp.values()
        a.other, b.other = b, a
        ra, rb = bridge.rtcp.values()
        ra.other, rb.other = rb, ra
        self.bridges[call] = bridge

    async def _adopt(self, bridge: _Bridge, coro: object) -> None:
        transport, _ = await coro  # type: ignore[misc]
        bridge.transports.append(transport)
        if self.bridges.get(bridge.call) is not bridge:
            transport.close()  # the call ended before the endpoint was ready

    def _bind(self, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    def set_peer(self, cmd: SetMediaPeer) -> None:
        """Where a side's media goes (until latching knows better) and its payload types."""
        bridge = self.bridges.get(cmd.call)
        if bridge is None:
            return
        rtp = bridge.rtp[cmd.side]
        if rtp.remote is None or rtp.source is None:
            rtp.remote = (cmd.host, cmd.port)
        rtcp = bridge.rtcp[cmd.side]
        if rtcp.remote is None:
            rtcp.remote = (cmd.host, cmd.port + 1)
        rtp.sends = cmd.sends and cmd.host not in ("0.0.0.0", "::") and cmd.port != 0
        rtp.expect_since = _clock()
        other = rtp.other
        assert other is not None
        rtp.cfg = cmd
        if other.cfg is not None:
            # Packets are rewritten to the payload type numbers their receiver expects.
            rtp.pt_map = pt_map(cmd, other.cfg)
            other.pt_map = pt_map(other.cfg, cmd)
            rtp.xlat, rtp.xlat_pt = xlat(cmd, other.cfg)
            other.xlat, other.xlat_pt = xlat(other.cfg, cmd)
        if bridge.tap is not None:
            bridge.tap.set_codec(CHANNEL[cmd.side], cmd.audio_pt, cmd.codec)
        if cmd.side is bridge.hosted:
            self._host(bridge, rtp, cmd)

    def _host(self, bridge: _Bridge, rtp: _Rtp, cmd: SetMediaPeer) -> None:
        """(Re)create callfloor's end of the hosted side for its negotiated codec."""
        old = bridge.hosting.pop(cmd.side, None)
        if old is not None:
            old.close()
        hosting = Hosting(bridge.call, cmd.side, rtp.send_own, codec=cmd.codec, audio_pt=cmd.audio_pt,
                          event_pt=cmd.event_pt, clock=self.clock, frames=self.frames,
                          on_event=self.on_event)
        bridge.hosting[cmd.side] = hosting
        if not bridge.connected:
            hosting.start()
            bridge.live = True  # the caller is ours now: watch its media

    def connect(self, call: str, connected: bool) -> None:
        """Bridge the sides (the hosted side stops playing) or unbridge them (host it again)."""
        bridge = self.bridges.get(call)
        if bridge is None or bridge.connected == connected:
            return
        bridge.connected = connected
        for hosting in bridge.hosting.values():
            if connected:
                hosting.pause()
            else:
                hosting.start()

    def play(self, call: str, side: Side, token: str, prompts: tuple[str, ...], loop: bool) -> None:
        """Play prompts to a hosted side."""
        hosting = self._hosting(call, side)
        if hosting is None:
            log.warning("play %s on call %s: side %s is not hosted", token, call, side.value)
            return
        try:
            hosting.play(token, prompts, loop=loop)
        except KeyError as exc:
            log.error("call %s: unknown prompt %s", call, exc)

    def stop_playback(self, call: str, side: Side) -> None:
        """Stop what plays to ``side``."""
        hosting = self._hosting(call, side)
        if hosting is not None:
            hosting.stop()

    def record_audio(self, call: str, side: Side, token: str, relative: str, max_seconds: float) -> None:
        """Record a hosted side into a WAV under the recordings directory (a voice message)."""
        hosting = self._hosting(call, side)
        if hosting is not None:
            hosting.record(token, self.recordings_dir / relative, max_seconds)

    def stop_audio_recording(self, call: str, side: Side) -> None:
        """End a voice message early."""
        hosting = self._hosting(call, side)
        if hosting is not None:
            hosting.stop_recording()

    def _hosting(self, call: str, side: Side) -> Hosting | None:
        bridge = self.bridges.get(call)
        return bridge.hosting.get(side) if bridge is not None else None

    def stop_recording(self, call: str) -> None:
        """Finish the call's WAV (the bridged part is over)."""
        bridge = self.bridges.get(call)
        if bridge is None or bridge.tap is None:
            return
        tap, bridge.tap = bridge.tap, None
        try:
            tap.close(_clock())
        except OSError as exc:
            log.error("recording of call %s not finished: %s", call, exc)

    def start_recording(self, call: str, relative: str) -> Path | None:
        """Open the call's WAV and start the watchdog (the bridge is live from now on)."""
        bridge = self.bridges.get(call)
        if bridge is None:
            return None
        path = self.recordings_dir / relative
        try:
            bridge.tap = RecorderTap(path, _clock())
        except OSError as exc:
            log.error("cannot record call %s to %s: %s", call, path, exc)
        else:
            for side, rtp in bridge.rtp.items():
                if rtp.cfg is not None:
                    bridge.tap.set_codec(CHANNEL[side], rtp.cfg.audio_pt, rtp.cfg.codec)
        bridge.live = True
        now = _clock()
        for rtp in bridge.rtp.values():
            rtp.expect_since = now
        return path

    def close(self, call: str) -> None:
        """Stop relaying, finish the recording, close the ports."""
        bridge = self.bridges.get(call)
        if bridge is None:
            return
        for hosting in bridge.hosting.values():
            hosting.close()
        self.stop_recording(call)
        del self.bridges[call]
        for transport in bridge.transports:
            transport.close()

    async def close_all(self) -> None:
        """Close every bridge and stop the clock."""
        for call in list(self.bridges):
            self.close(call)
        if self._task is not None:
            self._task.cancel()

    # -- the shared clock ---------------------------------------------------------------------
    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self._tick += 1
            phase = self._tick % FLUSH_PHASES
            now = _clock()
            for bridge in list(self.bridges.values()):
                if bridge.phase != phase:
                    continue
                if bridge.tap is not None:
                    try:
                        bridge.tap.flush(now)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        log.error("disk full: recording of call %s paused", bridge.call)
                if bridge.live and not bridge.timed_out:
                    self._watch(bridge, now)

    def _watch(self, bridge: _Bridge, now: float) -> None:
        for side, rtp in bridge.rtp.items():
            if not bridge.connected and side is not bridge.hosted:
                continue  # a seat that is only ringing owes us no media yet
            if rtp.sends and now - max(rtp.last_rx, rtp.expect_since) > self.media_timeout:
                bridge.timed_out = True
                self.on_event(MediaTimedOut(bridge.call, side))
                return

    def stats(self) -> dict[str, int]:
        """Counters for monitoring and the benchmark."""
        rx = sum(r.rx for b in self.bridges.values() for r in b.rtp.values())
        tx = sum(r.tx for b in self.bridges.values() for r in b.rtp.values())
        ignored = sum(r.ignored for b in self.bridges.values() for r in b.rtp.values())
        return {"bridges": len(self.bridges), "rx": rx, "tx": tx, "ignored": ignored}

