"""callfloor's own end of an unbridged side: it plays prompts to the caller and listens for digits.

While a call is in the IVR or waiting in a queue, the caller's RTP does not go to a seat: it comes
here. Digits are read from RFC 4733 telephone-events, and from the audio itself (Goertzel) for
carriers that send tones in-band, until the first telephone-event shows the caller sends them
properly. A voice message can be recorded from the same audio, and an audio classifier (the
answering-machine detector) can listen to it. Prompts and music on hold go out through a
:class:`Player` on the shared clock.

When the call is being recorded while hosted (a call callfloor placed is recorded from the
customer's answer), what the side says goes to its channel of the recording and the prompts it
hears to the other channel, so an abandoned call's message and the customer's reaction are kept.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from time import monotonic

import numpy as np
import soundfile

from telephony.calls.commands import (
    AudioClassified,
    AudioRecorded,
    DigitDetected,
    MediaEvent,
    PlaybackFinished,
    Side,
)
from telephony.net.analysis import Analysis
from telephony.net.player import MediaClock, Player
from telephony.rtp.dtmf import DtmfReceiver
from telephony.rtp.g711 import decode
from telephony.rtp.inband import InbandDtmfDetector
from telephony.rtp.packet import RtpError

__all__ = ["FrameSource", "Hosting", "TapLists"]

FrameSource = Callable[[str, str], Sequence[bytes]]  # (prompt name, codec) -> 20 ms payloads
# One channel of a recorder tap: its packet list and their arrival times (the relay's monotonic
# clock), appended to in place (RecorderTap.packets / arrivals).
TapLists = tuple[list[bytes], list[float]]
_TS = struct.Struct("!I")


class Hosting:
    """Plays to and listens on one side of one call while it is not bridged."""

    def __init__(self, call: str, side: Side, send: Callable[[bytes], None], *, codec: str,
                 audio_pt: int, event_pt: int | None, clock: MediaClock, frames: FrameSource,
                 on_event: Callable[[MediaEvent], None]) -> None:
        self.call = call
        self.side = side
        self.event_pt = event_pt
        self.clock = clock
        self.frames = frames
        self.on_event = on_event
        self._send_rtp = send
        self.player = Player(codec, audio_pt, self._send, self._finished)
        self.audio_pt = audio_pt
        self.dtmf = DtmfReceiver()
        self.inband: InbandDtmfDetector | None = InbandDtmfDetector()
        self.active = False
        self._recording: tuple[str, Path, int] | None = None  # token, path, max samples
        self._recorded: list[np.ndarray] = []
        self._recorded_samples = 0
        self.analysis: Analysis | None = None
        self.heard: TapLists | None = None  # the recording's channel of this side
        self.said: TapLists | None = None  # the other channel: the prompts this side hears

    def tap(self, heard: TapLists, said: TapLists) -> None:
        """Record what the side says into ``heard`` and the prompts it hears into ``said``."""
        self.heard, self.said = heard, said

    def untap(self) -> None:
        """The call's recording ended."""
        self.heard = self.said = None

    def _send(self, packet: bytes) -> None:
        self._send_rtp(packet)
        said = self.said
        if said is not None and self.player.playing is not None:
            # Prompt frames only: comfort silence would hold the channel, and a seat bridged
            # next could not take it over for half a second (recordings.timeline).
            said[0].append(packet)
            said[1].append(monotonic())

    def start(self) -> None:
        """Begin streaming (silence until something plays)."""
        if not self.active:
            self.active = True
            self.clock.add(self.player)

    def pause(self) -> None:
        """The side is bridged: its audio now comes from the other party."""
        if self.active:
            self.active = False
            self.player.stop()
            self.clock.remove(self.player)

    def play(self, token: str, prompts: Sequence[str], *, loop: bool) -> None:
        """Play ``prompts`` back to back (looped for music on hold)."""
        codec = self.player.codec
        frames = [frame for name in prompts for frame in self.frames(name, codec)]
        self.start()
        if frames:
            self.player.play(token, frames, loop=loop)
        elif not loop:
            self._finished(token)

    def stop(self) -> None:
        """Stop the prompt; silence follows."""
        self.player.stop()

    def feed(self, data: bytes) -> None:
        """A packet from the caller while hosted: look for digits, keep audio being recorded."""
        heard = self.heard
        if heard is not None:
            heard[0].append(data)
            heard[1].append(monotonic())
        offset = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10:
            if len(data) < offset + 4:
                return
            offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
        end = len(data) - (data[-1] if data[0] & 0x20 else 0)
        pt = data[1] & 0x7F
        if pt == self.event_pt:
            self.inband = None  # the caller signals digits properly: no need to listen to tones
            try:
                digits = self.dtmf.receive(_TS.unpack_from(data, 4)[0], bool(data[1] & 0x80),
                                           data[offset:end])
            except RtpError:
                return  # a malformed event payload: nothing to report
            for digit in digits:
                self.on_event(DigitDetected(self.call, self.side, digit.digit, "rfc4733"))
            return
        if pt != self.audio_pt or end <= offset or (
                self.inband is None and self._recording is None and self.analysis is None):
            return
        pcm = decode(data[offset:end], self.player.codec)
        if self.inband is not None:
            for hit in self.inband.feed(pcm):
                self.on_event(DigitDetected(self.call, self.side, hit.digit, "inband"))
        if self._recording is not None:
            self._keep(pcm)
        if self.analysis is not None and (verdict := self.analysis.feed(pcm)) is not None:
            self._classified(verdict)

    # -- the classifier -----------------------------------------------------------------------
    def analyze(self, analysis: Analysis) -> None:
        """Feed the side's audio to ``analysis`` from now on (a running one is finished first)."""
        self.finish_analysis()
        self.analysis = analysis

    def finish_analysis(self) -> None:
        """End the running analysis now and report its verdict (nothing when none runs)."""
        if self.analysis is not None:
            self._classified(self.analysis.finish())

    def _classified(self, verdict: str) -> None:
        analysis, self.analysis = self.analysis, None
        assert analysis is not None
        self.on_event(AudioClassified(self.call, analysis.token, verdict, analysis.detail))

    # -- voice messages ---------------------------------------------------------------------------
    def record(self, token: str, path: Path, max_seconds: float) -> None:
        """Record what the caller says (mono 8 kHz WAV at ``path``) for at most ``max_seconds``."""
        self.stop_recording()
        self._recording = (token, path, int(max_seconds * 8000))
        self._recorded, self._recorded_samples = [], 0

    def _keep(self, pcm: np.ndarray) -> None:
        assert self._recording is not None
        self._recorded.append(pcm)
        self._recorded_samples += len(pcm)
        if self._recorded_samples >= self._recording[2]:
            self.stop_recording()

    def stop_recording(self) -> None:
        """Write the message and report it (nothing happens when not recording)."""
        if self._recording is None:
            return
        token, path, limit = self._recording
        self._recording = None
        audio = np.concatenate(self._recorded)[:limit] if self._recorded else np.zeros(0, np.int16)
        self._recorded, self._recorded_samples = [], 0
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(path), audio, 8000, subtype="PCM_16")
        self.on_event(AudioRecorded(self.call, self.side, token, str(path), len(audio) / 8000))

    def close(self) -> None:
        """Stop for good (a message being recorded is kept; a running analysis is dropped)."""
        self.analysis = None
        self.untap()
        self.stop_recording()
        self.pause()

    def _finished(self, token: str) -> None:
        self.on_event(PlaybackFinished(self.call, self.side, token))
