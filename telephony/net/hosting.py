"""callfloor's own end of an unbridged side: it plays prompts to the caller and listens for digits.

While a call is in the IVR or waiting in a queue, the caller's RTP does not go to a seat: it comes
here. Digits are read from RFC 4733 telephone-events (and, with an in-band detector, from the
audio itself); prompts and music on hold go out through a :class:`Player` on the shared clock.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

from telephony.calls.commands import DigitDetected, MediaEvent, PlaybackFinished, Side
from telephony.net.player import MediaClock, Player
from telephony.rtp.dtmf import DtmfReceiver
from telephony.rtp.packet import RtpError

__all__ = ["FrameSource", "Hosting"]

FrameSource = Callable[[str, str], Sequence[bytes]]  # (prompt name, codec) -> 20 ms payloads
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
        self.player = Player(codec, audio_pt, send, self._finished)
        self.dtmf = DtmfReceiver()
        self.active = False

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
        """A packet from the caller while hosted: look for digits."""
        if self.event_pt is None or data[1] & 0x7F != self.event_pt:
            return
        offset = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10:
            if len(data) < offset + 4:
                return
            offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
        try:
            digits = self.dtmf.receive(_TS.unpack_from(data, 4)[0], bool(data[1] & 0x80), data[offset:])
        except RtpError:
            return  # a malformed event payload: nothing to report
        for digit in digits:
            self.on_event(DigitDetected(self.call, self.side, digit.digit, "rfc4733"))

    def close(self) -> None:
        """Stop for good."""
        self.pause()

    def _finished(self, token: str) -> None:
        self.on_event(PlaybackFinished(self.call, self.side, token))
