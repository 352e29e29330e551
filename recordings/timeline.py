"""Two channels of RTP audio in, one time-aligned stereo int16 stream out (pure: no I/O, no clock).

Each packet is placed by its RTP timestamp (RFC 3550 §5.1), anchored once per SSRC to the arrival
time of its first packet, so network jitter does not move audio; only a timestamp jump of more
than 0.5 s re-anchors. Gaps (silence suppression, loss) come out as zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["ChannelStats", "StereoTimeline"]

_WRAP = 1 << 32
_HALF = 1 << 31
_INITIAL_SECONDS = 4
_EMPTY = np.zeros((0, 2), dtype=np.int16)


@dataclass(slots=True)
class ChannelStats:
    """Counters for one channel; they only grow."""

    packets: int = 0
    dropped_late: int = 0  # packets wholly behind the emitted position
    late_samples: int = 0  # samples cut from packets that were partly late
    ignored_ssrc_packets: int = 0
    reanchors: int = 0  # timestamp jumps (> 0.5 s off the arrival time)
    ssrc_changes: int = 0  # a second SSRC took over after the first fell silent


@dataclass(slots=True)
class _Channel:
    """Placement state of the SSRC currently recorded on one channel."""

    ssrc: int | None = None
    offset: int = 0  # absolute sample position = extended timestamp + offset
    ext_ts: int = 0  # last extended (unwrapped) RTP timestamp seen
    last_arrival: float = 0.0
    end: int = 0  # one past the last absolute sample written


class StereoTimeline:
    """Aligns channel 0 (customer) and channel 1 (seat) into (n, 2) int16 frames."""

    def __init__(self, rate: int = 8000, *, latency: float = 0.3) -> None:
        if rate <= 0 or latency < 0:
            raise ValueError("rate must be positive and latency non-negative")
        self.rate = rate
        self.latency = latency
        self._gap = rate // 2  # 0.5 s in samples: re-anchor and SSRC-takeover threshold
        self._silence = 0.5
        self._channels = (_Channel(), _Channel())
        self._stats = (ChannelStats(), ChannelStats())
        # Buffer index _head holds absolute sample _taken; everything outside [_head, _hw) is zero.
        self._buf = np.zeros((rate * _INITIAL_SECONDS, 2), dtype=np.int16)
        self._head = 0
        self._hw = 0
        self._taken = 0

    @property
    def stats(self) -> tuple[ChannelStats, ChannelStats]:
        """Per-channel counters (index 0 customer, 1 seat)."""
        return self._stats

    @property
    def position(self) -> int:
        """Absolute sample index of the next frame that take() or finish() will return."""
        return self._taken

    def add(
        self, channel: int, arrival: float, timestamp: int, ssrc: int, pcm: npt.NDArray[np.int16]
    ) -> None:
        """Place one decoded packet; ``arrival`` is seconds since the recording started."""
        if channel not in (0, 1):
            raise ValueError(f"channel must be 0 or 1, not {channel!r}")
        if pcm.dtype.str[1:] != "i2" or pcm.ndim != 1:
            raise ValueError("pcm must be a 1-D int16 array")
        st = self._stats[channel]
        st.packets += 1
        pos = self._place(self._channels[channel], st, arrival, timestamp & (_WRAP - 1), ssrc)
        if pos is not None and len(pcm):
            self._write(channel, pos, pcm)

    def _place(
        self, ch: _Channel, st: ChannelStats, arrival: float, ts: int, ssrc: int
    ) -> int | None:
        """Absolute position of a packet's first sample, or None when its SSRC is ignored."""
        here = round(arrival * self.rate)
        if ch.ssrc is None or ssrc != ch.ssrc:
            if ch.ssrc is not None:
                # One sender per channel: a second one (pyVoIP after a re-INVITE) waits its turn.
                if arrival - ch.last_arrival < self._silence:
                    st.ignored_ssrc_packets += 1
                    return None
                st.ssrc_changes += 1
            ch.ssrc, ch.ext_ts, ch.offset = ssrc, ts, here - ts
        else:
            delta = (ts - ch.ext_ts) % _WRAP
            if delta >= _HALF:  # RFC 3550 §5.1: timestamps wrap; a "negative" step is reordering
                delta -= _WRAP
            ch.ext_ts += delta
            if abs(ch.ext_ts + ch.offset - here) > self._gap:
                st.reanchors += 1
                ch.offset = here - ch.ext_ts
        ch.last_arrival = max(ch.last_arrival, arrival)
        return ch.ext_ts + ch.offset

    def _write(self, channel: int, pos: int, pcm: npt.NDArray[np.int16]) -> None:
        st = self._stats[channel]
        skip = self._taken - pos
        if skip >= len(pcm):
            st.dropped_late += 1
            return
        if skip > 0:
            st.late_samples += skip
            pcm, pos = pcm[skip:], self._taken
        end = pos + len(pcm)
        self._reserve(end - self._taken)
        start = self._head + pos - self._taken
        self._buf[start : start + len(pcm), channel] = pcm
        self._hw = max(self._hw, start + len(pcm))
        ch = self._channels[channel]
        ch.end = max(ch.end, end)

    def _reserve(self, needed: int) -> None:
        """Make room for ``needed`` samples from _taken on; compacts first, grows if still short."""
        if self._head + needed <= len(self._buf):
            return
        live = max(self._hw - self._head, 0)
        size = len(self._buf)
        while size < needed:
            size *= 2
        if size != len(self._buf):
            buf = np.zeros((size, 2), dtype=np.int16)
            buf[:live] = self._buf[self._head : self._head + live]
            self._buf = buf
        else:
            self._buf[:live] = self._buf[self._head : self._head + live]
            self._buf[live : max(self._hw, live)] = 0
        self._head, self._hw = 0, live

    def take(self, now: float) -> npt.NDArray[np.int16]:
        """Every frame up to ``round((now - latency) * rate)`` not yet taken; gaps are zeros."""
        return self._emit(round((now - self.latency) * self.rate))

    def finish(self) -> npt.NDArray[np.int16]:
        """Everything left, up to the last sample written on either channel."""
        return self._emit(max(ch.end for ch in self._channels))

    def _emit(self, upto: int) -> npt.NDArray[np.int16]:
        n = upto - self._taken
        if n <= 0:
            return _EMPTY.copy()
        out = np.zeros((n, 2), dtype=np.int16)
        stored = min(n, max(self._hw - self._head, 0))
        if stored:
            span = slice(self._head, self._head + stored)
            out[:stored] = self._buf[span]
            self._buf[span] = 0
        self._taken = upto
        self._head += n
        if self._head >= self._hw:
            # Nothing buffered beyond what was taken: restart at index 0 (all zero already).
            self._head = self._hw = 0
        return out
