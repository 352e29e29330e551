"""Audio that callfloor itself sends into a call: prompts, music on hold, comfort silence.

Every playing endpoint is paced by one shared 20 ms clock (FIELD-NOTES: one clock for 300 streams
costs a third of one timer per stream). A :class:`Player` turns a queue of prompt frames into RTP
packets of its own stream (SSRC, sequence, timestamp), and sends silence while it has nothing to
play, so carriers that hang up on a silent leg keep the call.
"""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from telephony.rtp.g711 import encode

__all__ = ["MediaClock", "Player", "PromptFrames"]

FRAME = 0.02
_HEADER = struct.Struct("!BBHII")
SILENCE = {"PCMU": b"\xff" * 160, "PCMA": b"\xd5" * 160}


class Player:
    """One outgoing RTP stream made of prompt frames (already encoded, 160 bytes each)."""

    def __init__(self, codec: str, pt: int, send: Callable[[bytes], None],
                 on_finished: Callable[[str], None], rng: random.Random | None = None) -> None:
        rng = rng or random.Random()
        self.codec = codec.upper()
        self.pt = pt
        self.send = send
        self.on_finished = on_finished
        self.ssrc = rng.getrandbits(32)
        self.seq = rng.getrandbits(16)
        self.ts = rng.getrandbits(32)
        self._frames: list[bytes] = []
        self._at = 0
        self._loop = False
        self._token: str | None = None
        self._marker = True

    @property
    def playing(self) -> str | None:
        """The token of what is playing, if anything."""
        return self._token

    def play(self, token: str, frames: Sequence[bytes], *, loop: bool = False) -> None:
        """Replace whatever plays with ``frames`` (reported finished under ``token`` unless looped)."""
        self._frames, self._at, self._loop, self._token = list(frames), 0, loop, token
        self._marker = True

    def stop(self) -> None:
        """Stop playing (silence follows); a stopped prompt is not reported as finished."""
        self._frames, self._at, self._token = [], 0, None

    def tick(self) -> None:
        """Send the next 20 ms: a prompt frame or silence."""
        if self._at < len(self._frames):
            payload = self._frames[self._at]
            self._at += 1
            if self._at == len(self._frames) and self._loop:
                self._at = 0
        else:
            payload = SILENCE.get(self.codec, SILENCE["PCMU"])
        header = _HEADER.pack(0x80, (0x80 if self._marker else 0) | self.pt, self.seq, self.ts, self.ssrc)
        self._marker = False
        self.send(header + payload)
        self.seq = (self.seq + 1) & 0xFFFF
        self.ts = (self.ts + 160) & 0xFFFFFFFF
        if self._token is not None and not self._loop and self._at >= len(self._frames):
            token, self._token = self._token, None
            self._frames, self._at = [], 0
            self.on_finished(token)


class MediaClock:
    """One 20 ms clock for every player, scheduled on absolute times so it does not drift."""

    def __init__(self) -> None:
        self.players: set[Player] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._next = 0.0
        self.late_ticks = 0

    def add(self, player: Player) -> None:
        """Start pacing ``player``."""
        self.players.add(player)
        if self._handle is None:
            loop = asyncio.get_running_loop()
            self._next = loop.time() + FRAME
            self._handle = loop.call_at(self._next, self._tick)

    def remove(self, player: Player) -> None:
        """Stop pacing ``player``; the clock stops when nobody plays."""
        self.players.discard(player)
        if not self.players and self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        for player in list(self.players):
            player.tick()
        self._next += FRAME
        now = loop.time()
        if self._next < now - FRAME:  # the loop stalled: skip ahead rather than burst
            self.late_ticks += 1
            self._next = now + FRAME
        self._handle = loop.call_at(self._next, self._tick) if self.players else None


class PromptFrames:
    """Prompts by name as 20 ms G.711 payloads, encoded once per codec and kept."""

    def __init__(self, prompts: Callable[[str], npt.NDArray[np.int16]] | None) -> None:
        self.prompts = prompts
        self._cache: dict[tuple[str, str], list[bytes]] = {}

    def __call__(self, prompt: str, codec: str) -> list[bytes]:
        """The frames of ``prompt`` in ``codec`` (KeyError for an unknown prompt)."""
        key = (prompt, codec)
        cached = self._cache.get(key)
        if cached is None:
            if self.prompts is None:
                raise KeyError(f"no prompt library for {prompt!r}")
            data = encode(self.prompts(prompt), codec)
            data += SILENCE.get(codec, SILENCE["PCMU"])[: (-len(data)) % 160]
            cached = self._cache[key] = [data[i : i + 160] for i in range(0, len(data), 160)]
        return cached
