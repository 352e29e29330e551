"""Two channels of RTP audio in, one time-aligned stereo int16 stream out (pure: no I/O, no clock).

Each packet is placed by its RTP timestamp (RFC 3550 §5.1), anchored once per SSRC to the arrival
time of its first packet, so network jitter does not move audio; only a timestamp jump of more
than 0.5 s re-anchors. Gaps (silence suppression, loss) come out as zeros.

A recorder places a flush's worth of packets at once (``add_many``, and ``add_run`` for the usual
steady stream), with exactly the result of ``add`` called for each packet in turn.
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


_STEPS: dict[tuple[int, int], npt.NDArray[np.int64]] = {}


def _steps(n: int, size: int) -> npt.NDArray[np.int64]:
    """0, size, 2 * size, ... (n of them), kept: a call's flushes keep asking for the same few."""
    steps = _STEPS.get((n, size))
    if steps is None:
        if len(_STEPS) > 256:
            _STEPS.clear()
        steps = _STEPS[(n, size)] = size * np.arange(n, dtype=np.int64)
    return steps


@dataclass(slots=True)
class _Run:
    """Views of one SSRC's consecutive packets in a batch (see StereoTimeline.add_many)."""

    arrivals: npt.NDArray[np.float64]
    here: npt.NDArray[np.int64]  # arrival as a sample index
    ts: npt.NDArray[np.int64]
    pos: npt.NDArray[np.int64]  # out: absolute position of each packet's first sample
    placed: npt.NDArray[np.bool_]  # out: False where the SSRC was ignored


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

    def add_run(
        self,
        channel: int,
        arrivals: npt.NDArray[np.float64],
        timestamp: int,
        ssrc: int,
        size: int,
        pcm: npt.NDArray[np.int16],
    ) -> None:
        """Place ``len(arrivals)`` packets of ``size`` samples from one SSRC with consecutive
        timestamps (``timestamp + k * size``), exactly as :meth:`add` would one by one.

        The steady state of a call: when the run continues the channel's SSRC on time (nothing
        late, no re-anchor), it is checked and written with a handful of array operations.
        """
        arrivals = np.asarray(arrivals, dtype=np.float64)
        n = len(arrivals)
        if n * size != len(pcm) or size <= 0:
            raise ValueError("pcm must hold len(arrivals) packets of size > 0 samples")
        ch = self._channels[channel] if channel in (0, 1) else None
        if ch is not None and ch.ssrc == ssrc and n and pcm.dtype.str[1:] == "i2" and pcm.ndim == 1:
            delta = (timestamp - ch.ext_ts) % _WRAP
            ext = ch.ext_ts + (delta - _WRAP if delta >= _HALF else delta)
            first = ext + ch.offset
            # Packet k lands at first + k * size; add() re-anchors where that is more than
            # 0.5 s from its arrival: here[k] - k * size must stay within first ± gap.
            drift = np.rint(arrivals * self.rate) - _steps(n, size)
            if first >= self._taken and first - self._gap <= drift.min() and drift.max() <= first + self._gap:
                self._stats[channel].packets += n
                ch.ext_ts = ext + (n - 1) * size
                ch.last_arrival = max(ch.last_arrival, float(arrivals.max()))
                self._reserve(first + n * size - self._taken)
                at = self._head + first - self._taken
                self._buf[at : at + n * size, channel] = pcm
                self._hw = max(self._hw, at + n * size)
                ch.end = max(ch.end, first + n * size)
                return
        stamps = (timestamp + size * np.arange(n, dtype=np.int64)) & (_WRAP - 1)
        self.add_many(channel, arrivals, stamps, np.full(n, ssrc), np.full(n, size), pcm)

    def add_many(
        self,
        channel: int,
        arrivals: npt.ArrayLike,
        timestamps: npt.ArrayLike,
        ssrcs: npt.ArrayLike,
        lengths: npt.ArrayLike,
        pcm: npt.NDArray[np.int16],
    ) -> None:
        """Place a batch of decoded packets exactly as :meth:`add` would, one after the other.

        Packet ``k`` arrived at ``arrivals[k]`` and holds ``lengths[k]`` samples of ``pcm`` (all
        payloads concatenated in packet order); contiguous runs are written with one slice each.
        """
        if channel not in (0, 1):
            raise ValueError(f"channel must be 0 or 1, not {channel!r}")
        if pcm.dtype.str[1:] != "i2" or pcm.ndim != 1:
            raise ValueError("pcm must be a 1-D int16 array")
        arr = np.asarray(arrivals, dtype=np.float64)
        ts = np.asarray(timestamps, dtype=np.int64) & (_WRAP - 1)
        ids = np.asarray(ssrcs, dtype=np.int64)
        lens = np.asarray(lengths, dtype=np.int64)
        n = len(arr)
        if arr.ndim != 1 or not ts.shape == ids.shape == lens.shape == (n,):
            raise ValueError("arrivals, timestamps, ssrcs and lengths must be 1-D and of one length")
        if n == 0:
            return
        if int(lens.min()) < 0 or int(lens.sum()) != len(pcm):
            raise ValueError("lengths must be non-negative and add up to len(pcm)")
        st = self._stats[channel]
        st.packets += n
        here = np.rint(arr * self.rate).astype(np.int64)
        pos = np.empty(n, dtype=np.int64)
        placed = np.ones(n, dtype=bool)
        bounds = [0, *(np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist(), n]
        for i, j in zip(bounds, bounds[1:], strict=False):
            run = _Run(arr[i:j], here[i:j], ts[i:j], pos[i:j], placed[i:j])
            self._place_run(self._channels[channel], st, int(ids[i]), run)
        self._write_many(channel, pos, placed, lens, pcm)

    def _place_run(self, ch: _Channel, st: ChannelStats, ssrc: int, run: _Run) -> None:
        """_place for a run of packets of one SSRC; fills run.pos and clears run.placed."""
        start = 0
        if ch.ssrc is None or ssrc != ch.ssrc:
            if ch.ssrc is not None:
                waiting = run.arrivals - ch.last_arrival < self._silence
                start = int(np.argmin(waiting))  # the first packet after 0.5 s of silence
                if waiting[start]:
                    start = len(waiting)
                st.ignored_ssrc_packets += start
                run.placed[:start] = False
                if start == len(waiting):
                    return
                st.ssrc_changes += 1
            ch.ssrc, ch.ext_ts = ssrc, int(run.ts[start])
            ch.offset = int(run.here[start]) - ch.ext_ts
            ch.last_arrival = max(ch.last_arrival, float(run.arrivals[start]))
            run.pos[start] = run.here[start]
            start += 1
            if start == len(run.ts):
                return
        # RFC 3550 §5.1: timestamps wrap; a "negative" step is reordering.
        delta = np.diff(run.ts[start:], prepend=ch.ext_ts) % _WRAP
        delta[delta >= _HALF] -= _WRAP
        ext = ch.ext_ts + np.cumsum(delta)
        here, pos = run.here[start:], run.pos[start:]
        offset, at = ch.offset, 0
        while at < len(ext):
            bad = np.flatnonzero(np.abs(ext[at:] + (offset - here[at:])) > self._gap)
            stop = at + int(bad[0]) if len(bad) else len(ext)
            pos[at:stop] = ext[at:stop] + offset
            if stop < len(ext):
                st.reanchors += 1
                offset = int(here[stop] - ext[stop])
                pos[stop] = here[stop]
            at = stop + 1
        ch.offset, ch.ext_ts = offset, int(ext[-1])
        ch.last_arrival = max(ch.last_arrival, float(run.arrivals[start:].max()))

    def _write_many(
        self,
        channel: int,
        pos: npt.NDArray[np.int64],
        placed: npt.NDArray[np.bool_],
        lens: npt.NDArray[np.int64],
        pcm: npt.NDArray[np.int16],
    ) -> None:
        """_write for every placed packet; runs contiguous in the output and in ``pcm`` are one slice."""
        st = self._stats[channel]
        src = np.cumsum(lens) - lens
        keep = placed & (lens > 0)
        pos, lens, src = pos[keep], lens[keep], src[keep]
        skip = self._taken - pos
        if len(skip) and int(skip.max()) > 0:
            whole = skip >= lens
            st.dropped_late += int(np.count_nonzero(whole))
            skip, pos, lens, src = skip[~whole], pos[~whole], lens[~whole], src[~whole]
            cut = np.maximum(skip, 0)
            st.late_samples += int(cut.sum())
            pos, src, lens = pos + cut, src + cut, lens - cut
        if not len(pos):
            return
        end = pos + lens
        top = int(end.max())
        self._reserve(top - self._taken)
        base = self._head - self._taken
        column = self._buf[:, channel]
        breaks = np.flatnonzero((pos[1:] != end[:-1]) | (src[1:] != src[:-1] + lens[:-1])) + 1
        firsts = [0, *breaks.tolist()]
        lasts = [*(breaks - 1).tolist(), len(pos) - 1]
        for a, b in zip(firsts, lasts, strict=True):
            at, count = base + int(pos[a]), int(end[b] - pos[a])
            column[at : at + count] = pcm[int(src[a]) : int(src[a]) + count]
        self._hw = max(self._hw, base + top)
        ch = self._channels[channel]
        ch.end = max(ch.end, top)

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
