"""The RTP relay: two UDP ports per call, packets copied between them in Python, and recorded.

Symmetric RTP: each side's media is sent back to where that side's packets really come from
(latching), not only to the address in its SDP, so phones behind NAT are heard. One stream per
side at a time: a second source or SSRC is ignored while the current one is live, so a phone that
runs two senders (pyVoIP after a re-INVITE) does not garble the other party's audio (the ports
and their packet path are in :mod:`telephony.net.ports`). One clock (a 10 ms tick) serves every
call: staggered recorder flushes and the dead-media watchdog. A hosted side's audio can be fed to
an audio classifier (answering-machine detection) built by the injected ``classifier_factory``.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from telephony.calls.commands import (
    AudioClassified,
    MediaEvent,
    MediaFailed,
    MediaTimedOut,
    SetMediaPeer,
    Side,
)
from telephony.net.analysis import UNKNOWN, Analysis, ClassifierFactory
from telephony.net.hosting import Hosting
from telephony.net.player import MediaClock, PromptFrames
from telephony.net.ports import CHANNEL, Bridge, RtcpPort, RtpPort, clock
from telephony.net.recorder import RecorderTap
from telephony.net.relay_fanout import RelayFanout
from telephony.net.rewrite import pt_map, xlat

__all__ = ["MediaRelay"]

log = logging.getLogger("callfloor.relay")

TICK = 0.01
# Each bridge flushes its recording every FLUSH_PHASES ticks (0.5 s), in its own phase, so the
# writes of many calls are spread thinly over the ticks (a 100 ms tick flushing a fifth of the
# calls at once held packets up for 5-6 ms at 100 calls; bench/README.md); with the timeline's
# 0.3 s latency a crash loses at most 0.8 s of audio.
FLUSH_PHASES = 50


class MediaRelay:
    """Every call's RTP ports, the recorder taps, and the dead-media watchdog."""

    def __init__(self, host: str, *, media_timeout: float, recordings_dir: Path,
                 on_event: Callable[[MediaEvent], None],
                 prompts: Callable[[str], npt.NDArray[np.int16]] | None = None,
                 classifier_factory: ClassifierFactory | None = None) -> None:
        self.host = host
        self.classifier_factory = classifier_factory
        self._analysis_timers: dict[tuple[str, Side], asyncio.TimerHandle] = {}
        self.frames = PromptFrames(prompts)
        self.clock = MediaClock()
        self.media_timeout = media_timeout
        self.recordings_dir = recordings_dir
        self.on_event = on_event
        self.bridges: dict[str, Bridge] = {}
        # The bridges served on each tick; a new bridge joins the phase with the fewest.
        self._phases: list[dict[str, Bridge]] = [{} for _ in range(FLUSH_PHASES)]
        self._tick = 0
        self._task: asyncio.Task[None] | None = None
        # Silent monitoring: listeners' ports and mixes; no cost on the packet path until one answers.
        self.fanout = RelayFanout(self.bridges, self.clock, self._bind, lambda e: self.on_event(e))

    async def start(self) -> None:
        """Start the shared 10 ms clock."""
        self._task = asyncio.get_running_loop().create_task(self._ticker())

    # -- commands -------------------------------------------------------------------------
    def open(self, call: str, ports: dict[Side, int], hosted: Side | None = None) -> None:
        """Bind both sides' RTP and RTCP ports; a failure is reported as MediaFailed.

        With ``hosted``, that side is callfloor's (IVR, queue) until :meth:`connect` bridges it.
        """
        phase = min(range(FLUSH_PHASES), key=lambda i: len(self._phases[i]))
        bridge = Bridge(call, phase)
        bridge.hosted, bridge.connected = hosted, hosted is None
        loop = asyncio.get_running_loop()
        try:
            socks = {side: (self._bind(port), self._bind(port + 1)) for side, port in ports.items()}
        except OSError as exc:
            self.on_event(MediaFailed(call, f"cannot bind RTP ports {sorted(ports.values())}: {exc}"))
            return
        for side, (rtp_sock, rtcp_sock) in socks.items():
            bridge.rtp[side] = RtpPort(bridge, side)
            bridge.rtcp[side] = RtcpPort()
            for proto, sock in ((bridge.rtp[side], rtp_sock), (bridge.rtcp[side], rtcp_sock)):
                task = loop.create_datagram_endpoint(lambda p=proto: p, sock=sock)  # type: ignore[misc]
                loop.create_task(self._adopt(bridge, task))
        a, b = bridge.rtp.values()
        a.other, b.other = b, a
        if bridge.connected:
            a.fwd, b.fwd = b, a
        ra, rb = bridge.rtcp.values()
        ra.other, rb.other = rb, ra
        self.bridges[call] = bridge
        self._phases[phase][call] = bridge

    async def _adopt(self, bridge: Bridge, coro: object) -> None:
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
        rtp.expect_since = clock()
        other = rtp.other
        assert other is not None
        rtp.cfg = cmd
        if other.cfg is not None:
            # Packets are rewritten to the payload type numbers their receiver expects.
            rtp.pt_map = pt_map(cmd, other.cfg)
            other.pt_map = pt_map(other.cfg, cmd)
            rtp.xlat, rtp.xlat_pt = xlat(cmd, other.cfg)
            other.xlat, other.xlat_pt = xlat(other.cfg, cmd)
            for side in (rtp, other):
                side.rewrite = side.xlat is not None or bool(side.pt_map)
        if bridge.tap is not None:
            bridge.tap.set_codec(CHANNEL[cmd.side], cmd.audio_pt, cmd.codec)
        if cmd.side is bridge.hosted:
            self._host(bridge, rtp, cmd)

    def _host(self, bridge: Bridge, rtp: RtpPort, cmd: SetMediaPeer) -> None:
        """(Re)create callfloor's end of the hosted side for its negotiated codec."""
        old = bridge.hosting.pop(cmd.side, None)
        analysis = None
        if old is not None:
            analysis, old.analysis = old.analysis, None  # a re-INVITE does not restart the AMD
            old.close()
        hosting = Hosting(bridge.call, cmd.side, rtp.send_own, codec=cmd.codec, audio_pt=cmd.audio_pt,
                          event_pt=cmd.event_pt, clock=self.clock, frames=self.frames,
                          on_event=self.on_event)
        hosting.analysis = analysis
        bridge.hosting[cmd.side] = hosting
        if bridge.tap is not None:
            self._tap(bridge, cmd.side, hosting)
        if not bridge.connected:
            hosting.start()
            bridge.live = True  # the caller is ours now: watch its media

    def connect(self, call: str, connected: bool) -> None:
        """Bridge the sides (the hosted side stops playing) or unbridge them (host it again)."""
        bridge = self.bridges.get(call)
        if bridge is None or bridge.connected == connected:
            return
        bridge.connected = connected
        for rtp in bridge.rtp.values():
            rtp.fwd = rtp.other if connected else None
        for hosting in bridge.hosting.values():
            if connected:
                hosting.pause()
            else:
                hosting.start()
        self.fanout.rewire(call)

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

    def analyze(self, call: str, side: Side, token: str, max_seconds: float) -> None:
        """Feed what a hosted side says to a new classifier for at most ``max_seconds`` (of audio,
        and of time); AudioClassified follows once, at once with "unknown" when nothing can
        listen (no classifier configured, the side not hosted or bridged already)."""
        bridge = self.bridges.get(call)
        hosting = bridge.hosting.get(side) if bridge is not None and not bridge.connected else None
        analysis = self._new_analysis(call, token, max_seconds) if hosting is not None else None
        if analysis is None or hosting is None:
            self.on_event(AudioClassified(call, token, UNKNOWN, {}))
            return
        hosting.analyze(analysis)
        old = self._analysis_timers.pop((call, side), None)
        if old is not None:
            old.cancel()
        # Silence suppression sends no packets: the clock ends the analysis as well.
        self._analysis_timers[(call, side)] = asyncio.get_running_loop().call_later(
            max_seconds, self._analysis_due, call, side, analysis)

    def _new_analysis(self, call: str, token: str, max_seconds: float) -> Analysis | None:
        if self.classifier_factory is None:
            return None
        try:
            return Analysis(token, self.classifier_factory(token), max_seconds)
        except Exception:  # plug-in code: a failing factory costs this verdict, not the relay
            log.exception("call %s: cannot build an audio classifier", call)
            return None

    def _analysis_due(self, call: str, side: Side, analysis: Analysis) -> None:
        self._analysis_timers.pop((call, side), None)
        hosting = self._hosting(call, side)
        if hosting is not None and hosting.analysis is analysis:
            hosting.finish_analysis()

    def _hosting(self, call: str, side: Side) -> Hosting | None:
        bridge = self.bridges.get(call)
        return bridge.hosting.get(side) if bridge is not None else None

    def stop_recording(self, call: str) -> None:
        """Finish the call's WAV (the bridged part is over)."""
        bridge = self.bridges.get(call)
        if bridge is None or bridge.tap is None:
            return
        tap, bridge.tap = bridge.tap, None
        for rtp in bridge.rtp.values():
            rtp.rec = None
        for hosting in bridge.hosting.values():
            hosting.untap()
        try:
            tap.close(clock())
        except OSError as exc:
            log.error("recording of call %s not finished: %s", call, exc)

    def start_recording(self, call: str, relative: str) -> Path | None:
        """Open the call's WAV and start the watchdog (the bridge is live from now on)."""
        bridge = self.bridges.get(call)
        if bridge is None:
            return None
        path = self.recordings_dir / relative
        try:
            bridge.tap = RecorderTap(path, clock())
        except OSError as exc:
            log.error("cannot record call %s to %s: %s", call, path, exc)
        else:
            for rtp in bridge.rtp.values():
                if rtp.cfg is not None:
                    bridge.tap.set_codec(rtp.channel, rtp.cfg.audio_pt, rtp.cfg.codec)
                rtp.rec, rtp.rec_at = bridge.tap.packets[rtp.channel], bridge.tap.arrivals[rtp.channel]
            for side, hosting in bridge.hosting.items():
                self._tap(bridge, side, hosting)
        bridge.live = True
        now = clock()
        for rtp in bridge.rtp.values():
            rtp.expect_since = now
        return path

    @staticmethod
    def _tap(bridge: Bridge, side: Side, hosting: Hosting) -> None:
        """Record a hosted side: what it says on its channel, the prompts it hears on the other."""
        tap = bridge.tap
        assert tap is not None
        heard, said = CHANNEL[side], 1 - CHANNEL[side]
        tap.set_codec(said, hosting.audio_pt, hosting.player.codec)
        hosting.tap((tap.packets[heard], tap.arrivals[heard]), (tap.packets[said], tap.arrivals[said]))

    def close(self, call: str) -> None:
        """Stop relaying, finish the recording, close the ports."""
        bridge = self.bridges.get(call)
        if bridge is None:
            return
        for side in bridge.rtp:
            timer = self._analysis_timers.pop((call, side), None)
            if timer is not None:
                timer.cancel()
        for hosting in bridge.hosting.values():
            hosting.close()
        self.stop_recording(call)
        del self.bridges[call]
        del self._phases[bridge.phase][call]
        for transport in bridge.transports:
            transport.close()

    async def close_all(self) -> None:
        """Close every bridge and stop the clock."""
        self.fanout.close_all()
        for call in list(self.bridges):
            self.close(call)
        if self._task is not None:
            self._task.cancel()

    # -- the shared clock ---------------------------------------------------------------------
    async def _ticker(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            # Absolute deadlines: a tick that runs late does not push the later ones back.
            due = max(due + TICK, loop.time() - TICK)
            await asyncio.sleep(due - loop.time())
            self._tick += 1
            for bridge in list(self._phases[self._tick % FLUSH_PHASES].values()):
                if self.bridges.get(bridge.call) is bridge:  # not closed meanwhile
                    self._serve(bridge, clock())
                    # Packets that arrived during this flush go through before the next one.
                    await asyncio.sleep(0)

    def _serve(self, bridge: Bridge, now: float) -> None:
        """Flush a bridge's recording and watch its media."""
        if bridge.tap is not None:
            try:
                bridge.tap.flush(now)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                log.error("disk full: recording of call %s paused", bridge.call)
        if bridge.live and not bridge.timed_out:
            self._watch(bridge, now)

    def _watch(self, bridge: Bridge, now: float) -> None:
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

