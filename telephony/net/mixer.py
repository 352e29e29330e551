"""The listener's mix: both sides of a call decoded, summed with clipping and re-encoded.

Pure (numpy only, no sockets, no clock), so it is tested from byte fixtures: RTP packets in, one
G.711 frame out. The relay's fan-out (:mod:`telephony.net.relay_fanout`) feeds it the packets it
forwarded in the last 20 ms and sends what it returns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from telephony.rtp.g711 import decode, encode
from telephony.rtp.packet import RtpError, RtpPacket

__all__ = ["FRAME_SAMPLES", "JitterFifo", "Pcm", "decode_audio", "mix", "mix_payloads"]

Pcm = npt.NDArray[np.int16]
FRAME_SAMPLES = 160  # 20 ms at 8 kHz
_STATIC = {0: "PCMU", 8: "PCMA"}  # RFC 3551 §6: static payload types of G.711


def decode_audio(packets: Sequence[bytes], audio_pt: int, codec: str) -> tuple[Pcm, int]:
    """The G.711 audio of ``packets`` (payload type ``audio_pt`` in ``codec``, or static 0/8) as
    samples, and how many packets were malformed; telephone-event and comfort noise are left out."""
    parts: list[Pcm] = []
    malformed = 0
    for data in packets:
        try:
            packet = RtpPacket.parse(data)
        except RtpError:
            malformed += 1
            continue
        pt = packet.payload_type
        law = codec if pt == audio_pt else _STATIC.get(pt)
        if law is not None and packet.payload:
            parts.append(decode(packet.payload, law))
    if not parts:
        return np.zeros(0, dtype=np.int16), malformed
    return np.concatenate(parts), malformed


def mix(parts: Sequence[Pcm]) -> Pcm:
    """Sum equal-length sample blocks, clipped to int16 (no scaling: each side keeps its level)."""
    total = np.zeros(len(parts[0]) if parts else 0, dtype=np.int32)
    for part in parts:
        total += part
    return np.clip(total, -32768, 32767).astype(np.int16)


def mix_payloads(payloads: Sequence[tuple[bytes, str]], out_codec: str) -> bytes:
    """One frame from G.711 payloads of equal length, each in its own law: decoded, mixed,
    encoded in ``out_codec`` ("PCMU" or "PCMA")."""
    return encode(mix([decode(payload, codec) for payload, codec in payloads]), out_codec)


class JitterFifo:
    """One side's decoded audio, waiting to be mixed 20 ms at a time.

    Packets arrive every 20 ms but out of phase with the mixer's own 20 ms clock, so the FIFO
    starts (and restarts after running dry) only once ``prime`` frames are in, and drops its
    oldest audio when more than ``limit`` frames pile up (the sender's clock runs fast), which
    bounds what the listener hears behind the call to ``limit`` frames.
    """

    def __init__(self, *, frame: int = FRAME_SAMPLES, prime: int = 2, limit: int = 6) -> None:
        self.frame = frame
        self.prime = prime
        self.limit = limit
        self._pcm: Pcm = np.zeros(0, dtype=np.int16)
        self.priming = True
        self.underruns = 0
        self.dropped = 0  # samples

    def __len__(self) -> int:
        return len(self._pcm)

    def push(self, pcm: Pcm) -> None:
        """Add decoded samples (dropping the oldest beyond ``limit`` frames)."""
        if len(pcm):
            self._pcm = np.concatenate([self._pcm, pcm]) if len(self._pcm) else pcm
        excess = len(self._pcm) - self.limit * self.frame
        if excess > 0:
            keep = self.prime * self.frame
            self.dropped += len(self._pcm) - keep
            self._pcm = self._pcm[-keep:]

    def pull(self) -> Pcm:
        """The next frame: audio when primed, silence while (re)filling."""
        if self.priming:
            if len(self._pcm) < self.prime * self.frame:
                return np.zeros(self.frame, dtype=np.int16)
            self.priming = False
        if len(self._pcm) < self.frame:
            self.underruns += 1
            self.priming = True
            out = np.zeros(self.frame, dtype=np.int16)
            out[: len(self._pcm)] = self._pcm
            self._pcm = np.zeros(0, dtype=np.int16)
            return out
        out, self._pcm = self._pcm[: self.frame], self._pcm[self.frame :]
        return out
