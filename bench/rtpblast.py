"""A G.711 RTP load generator that is not the bottleneck: two UDP sockets carry every call.

Side A (the carrier) and side B (the seats) each have ONE socket; call ``i`` sends one 172-byte
PCMU packet per 20 ms from each side. Packets go out with ``sendmmsg(2)`` and come in with
``recvmmsg(2)`` (through ctypes), a whole slot at a time, and their fields are written and read
with numpy, so Python does a few calls per batch instead of several per packet.

Each 20 ms tick is cut into ``slots``; call ``i`` sends in slot ``i % slots``, so the load is a
steady stream of small bursts. The payload carries the stream, a sequence number, the phase
(warm-up, measured, tail) and the send time (CLOCK_REALTIME, ns). The receive time is the
kernel's (SO_TIMESTAMPNS: when the packet reached our socket, i.e. when callfloor sent it), so
the generator's own scheduling delays do not count as latency.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PTIME", "Blaster", "BlastResult", "dump", "open_socket", "summarize"]

PTIME = 0.020
PACKET = 172  # 12-byte RTP header + 160 bytes of μ-law (20 ms at 8 kHz)
ROW = 176  # row stride in the packet buffer (8-byte aligned send-time field)
RBUF = 256
CBUF = 64
BATCH = 256  # datagrams per recvmmsg call
MSG_DONTWAIT = 0x40
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
SO_SNDBUFFORCE = 32
SSRC_BASE = 0x5EED0000
PHASE_WARMUP, PHASE_MEASURE, PHASE_TAIL = 0, 1, 2

_libc = ctypes.CDLL(None, use_errno=True)


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _Msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.c_void_p), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class _Mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", _Msghdr), ("len", ctypes.c_uint)]


assert ctypes.sizeof(_Mmsghdr) == 64, "struct mmsghdr layout differs from x86-64/aarch64 Linux"
_sendmmsg = _libc.sendmmsg
_sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
_recvmmsg = _libc.recvmmsg
_recvmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_void_p]


def open_socket(host: str, buffer: int = 64 << 20) -> socket.socket:
    """A non-blocking UDP socket on ``host`` with big buffers and kernel receive timestamps."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sock.setblocking(False)
    for force, plain in ((SO_RCVBUFFORCE, socket.SO_RCVBUF), (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, buffer)  # root: beyond rmem_max
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, plain, buffer)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    return sock


def _addr(buf: npt.NDArray[Any]) -> int:
    return int(buf.ctypes.data)


class _Sender:
    """Every stream's packet, its destination and its prepared ``mmsghdr``."""

    def __init__(self, dests: Sequence[tuple[str, int]]) -> None:
        rows = len(dests)
        self.pkts = np.zeros((rows, ROW), np.uint8)
        self.pkts[:, 0] = 0x80  # RTP version 2, PT 0 (PCMU)
        self.pkts[:, 32:PACKET] = 0xFF  # μ-law silence
        self.u32 = self.pkts.view("<u4")
        self.u64 = self.pkts.view("<u8")
        self.seq16 = self.pkts.view(">u2")[:, 1]
        self.ts = self.pkts.view(">u4")[:, 1]
        self.pkts.view(">u4")[:, 2] = SSRC_BASE + np.arange(rows, dtype=np.uint32)
        self.u32[:, 3] = np.arange(rows, dtype=np.uint32)
        self.names = np.zeros((rows, 16), np.uint8)
        self.names.view("<u2")[:, 0] = socket.AF_INET
        for r, (host, port) in enumerate(dests):
            self.names[r, 2:4] = np.frombuffer(port.to_bytes(2, "big"), np.uint8)
            self.names[r, 4:8] = np.frombuffer(socket.inet_aton(host), np.uint8)
        self.iov = (_Iovec * rows)()
        self.msgs = (_Mmsghdr * rows)()
        base, names = _addr(self.pkts), _addr(self.names)
        for r in range(rows):
            self.iov[r].base, self.iov[r].len = base + r * ROW, PACKET
            hdr = self.msgs[r].hdr
            hdr.name, hdr.namelen = names + 16 * r, 16
            hdr.iov, hdr.iovlen = ctypes.addressof(self.iov[r]), 1
        self.msgs_addr = ctypes.addressof(self.msgs)

    def send(self, fd: int, a: int, b: int) -> int:
        """Send rows [a, b); returns how many went out (EAGAIN stops the batch)."""
        sent = 0
        while a + sent < b:
            n = _sendmmsg(fd, self.msgs_addr + 64 * (a + sent), b - a - sent, 0)
            if n <= 0:
                if ctypes.get_errno() in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS):
                    break
                raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
            sent += n
        return sent


class _Receiver:
    """One ``recvmmsg`` batch: packet rows, control buffers (timestamps) and lengths."""

    def __init__(self) -> None:
        self.buf = np.zeros((BATCH, RBUF), np.uint8)
        self.ctl = np.zeros((BATCH, CBUF), np.uint8)
        self.iov = (_Iovec * BATCH)()
        self.msgs = (_Mmsghdr * BATCH)()
        for r in range(BATCH):
            self.iov[r].base, self.iov[r].len = _addr(self.buf) + r * RBUF, RBUF
            hdr = self.msgs[r].hdr
            hdr.iov, hdr.iovlen = ctypes.addressof(self.iov[r]), 1
            hdr.control = _addr(self.ctl) + r * CBUF
        self.msgs_addr = ctypes.addressof(self.msgs)
        raw = np.frombuffer(memoryview(self.msgs).cast("B"), np.uint8).reshape(BATCH, 64)
        self.controllen = raw.view("<u8")[:, 5]
        self.lens = raw.view("<u4")[:, 14]
        self.u32 = self.buf.view("<u4")
        self.u64 = self.buf.view("<u8")
        self.c32 = self.ctl.view("<u4")
        self.c64 = self.ctl.view("<i8")

    def recv(self, fd: int) -> int:
        """Up to BATCH datagrams without blocking; 0 when none are waiting."""
        self.controllen[:] = CBUF
        n = _recvmmsg(fd, self.msgs_addr, BATCH, MSG_DONTWAIT, None)
        if n < 0:
            if ctypes.get_errno() in (errno.EAGAIN, errno.EWOULDBLOCK):
                return 0
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        return int(n)


@dataclass
class BlastResult:
    """What one run measured: per-stream counts and every measured packet's latency."""

    streams: int
    seconds: float
    sent: npt.NDArray[np.int64]
    received: npt.NDArray[np.int64]
    latency_ns: npt.NDArray[np.int64]
    latency_rows: npt.NDArray[np.uint32]
    sent_ns: npt.NDArray[np.int64]  # when each measured packet was sent (CLOCK_REALTIME)
    late_ms: list[float] = field(default_factory=list)
    send_short: int = 0  # datagrams sendmmsg refused (EAGAIN)
    bad: int = 0  # datagrams that were not ours or had no timestamp
    window: tuple[float, float] = (0.0, 0.0)


class Blaster:
    """Sends every stream at 50 packets/s and counts what comes back, on an asyncio loop.

    ``dest_a[i]`` is where side A sends call ``i`` (received on side B's socket), ``dest_b[i]``
    the reverse. Rows ``0..n-1`` are the A->B streams, ``n..2n-1`` the B->A streams.
    """

    def __init__(self, sock_a: socket.socket, sock_b: socket.socket,
                 dest_a: Sequence[tuple[str, int]], dest_b: Sequence[tuple[str, int]],
                 *, slots: int = 10) -> None:
        if len(dest_a) != len(dest_b):
            raise ValueError("both sides need one destination per call")
        self.n = len(dest_a)
        self.slots = max(1, min(slots, self.n))
        self.fds = (sock_a.fileno(), sock_b.fileno())
        # Rows ordered by (side, slot, call): one slot of one side is one contiguous block.
        order = sorted(range(self.n), key=lambda i: (i % self.slots, i))
        self.call_of_row = np.array(order + order, np.int64)
        self.sender = _Sender([dest_a[i] for i in order] + [dest_b[i] for i in order])
        bounds = np.searchsorted(np.array([i % self.slots for i in order]), np.arange(self.slots + 1))
        self.blocks = [[(side * self.n + int(bounds[k]), side * self.n + int(bounds[k + 1]))
                        for side in (0, 1)] for k in range(self.slots)]
        self.receiver = _Receiver()

    async def run(self, warmup: float, seconds: float, *, drain: float = 0.5,
                  on_window: Callable[[bool], None] | None = None) -> BlastResult:
        """Send for ``warmup + seconds`` (only the last ``seconds`` are measured), then wait
        ``drain`` seconds for stragglers; ``on_window(True/False)`` marks the measured window."""
        loop = asyncio.get_running_loop()
        rows = 2 * self.n
        cap = int(rows * (seconds / PTIME + 5))
        state = _RunState(rows, cap)
        done: asyncio.Future[None] = loop.create_future()
        dt = PTIME / self.slots
        t0 = loop.time() + 0.05
        warm_slots = round(warmup / PTIME) * self.slots
        total_slots = warm_slots + round(seconds / PTIME) * self.slots

        def fire() -> None:
            # The loop's clock ticks in whole milliseconds (uvloop): a slot due within the current
            # tick goes now, so the next timer is at least one tick away and nothing spins.
            now = loop.time()
            while state.slot < total_slots and t0 + state.slot * dt < now + 0.001:
                j = state.slot
                if j == warm_slots:
                    state.window_start = time.monotonic()
                    if on_window is not None:
                        on_window(True)
                state.late.append(max(0.0, now - (t0 + j * dt)))
                self._send_slot(j, PHASE_WARMUP if j < warm_slots else PHASE_MEASURE, state)
                state.slot += 1
            self._drain(state)
            if state.slot < total_slots:
                loop.call_at(t0 + state.slot * dt, fire)
                return
            if state.window_end == 0.0:
                state.window_end = time.monotonic()
                if on_window is not None:
                    on_window(False)
                state.drain_until = now + drain
            if now < state.drain_until:
                loop.call_at(now + 0.005, fire)
            elif not done.done():
                done.set_result(None)

        loop.call_at(t0, fire)
        await done
        return state.result(self.n, seconds)

    def _send_slot(self, j: int, phase: int, state: _RunState) -> None:
        s = self.sender
        tick, k = divmod(j, self.slots)
        for side, (a, b) in enumerate(self.blocks[k]):
            if a == b:
                continue
            s.seq16[a:b] = tick & 0xFFFF
            s.ts[a:b] = (tick * 160) & 0xFFFFFFFF
            s.u32[a:b, 4] = tick
            s.u32[a:b, 5] = phase
            s.u64[a:b, 3] = time.time_ns()
            n = s.send(self.fds[side], a, b)
            if phase == PHASE_MEASURE:
                state.sent[a : a + n] += 1
            state.send_short += (b - a) - n

    def _drain(self, state: _RunState) -> None:
        r = self.receiver
        for fd in self.fds:
            while (n := r.recv(fd)) > 0:
                state.take(r, n)
                if n < BATCH:
                    break


class _RunState:
    """Counters of one run; ``take`` folds a received batch in with a handful of numpy calls."""

    def __init__(self, rows: int, cap: int) -> None:
        self.rows = rows
        self.sent = np.zeros(rows, np.int64)
        self.received = np.zeros(rows, np.int64)
        self.lat = np.zeros(cap, np.int64)
        self.lat_rows = np.zeros(cap, np.uint32)
        self.lat_sent = np.zeros(cap, np.int64)
        self.count = 0
        self.slot = 0
        self.late: list[float] = []
        self.send_short = 0
        self.bad = 0
        self.window_start = self.window_end = self.drain_until = 0.0

    def take(self, r: _Receiver, n: int) -> None:
        ok = ((r.lens[:n] == PACKET) & (r.c32[:n, 2] == socket.SOL_SOCKET)
              & (r.c32[:n, 3] == SO_TIMESTAMPNS) & (r.u32[:n, 3] < self.rows))
        measured = ok & (r.u32[:n, 5] == PHASE_MEASURE)
        self.bad += int(n - np.count_nonzero(ok))
        if not measured.any():
            return
        rows = r.u32[:n, 3][measured]
        rx = r.c64[:n, 2][measured] * 1_000_000_000 + r.c64[:n, 3][measured]
        sent = r.u64[:n, 3][measured].astype(np.int64)
        lat = rx - sent
        self.received += np.bincount(rows, minlength=self.rows)
        m = min(len(lat), len(self.lat) - self.count)
        self.lat[self.count : self.count + m] = lat[:m]
        self.lat_rows[self.count : self.count + m] = rows[:m]
        self.lat_sent[self.count : self.count + m] = sent[:m]
        self.count += m

    def result(self, n: int, seconds: float) -> BlastResult:
        return BlastResult(
            streams=2 * n, seconds=seconds, sent=self.sent, received=self.received,
            latency_ns=self.lat[: self.count].copy(), latency_rows=self.lat_rows[: self.count].copy(),
            sent_ns=self.lat_sent[: self.count].copy(),
            late_ms=[x * 1000 for x in self.late], send_short=self.send_short, bad=self.bad,
            window=(self.window_start, self.window_end),
        )


def _pct(values: npt.NDArray[Any], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def summarize(res: BlastResult, call_of_row: npt.NDArray[np.int64] | None = None) -> dict[str, Any]:
    """Loss and latency of a run: totals, p50/p99/max, and the worst call's p99."""
    lost_rows = np.clip(res.sent - res.received, 0, None)
    lat_ms = res.latency_ns / 1e6
    out: dict[str, Any] = {
        "sent": int(res.sent.sum()), "received": int(res.received.sum()),
        "lost": int(lost_rows.sum()),
        "extra": int(np.clip(res.received - res.sent, 0, None).sum()),  # duplicates
        "latency_ms": {"p50": round(_pct(lat_ms, 50), 4), "p99": round(_pct(lat_ms, 99), 4),
                       "max": round(float(lat_ms.max()) if len(lat_ms) else float("nan"), 4)},
        "packets_per_s": round(int(res.received.sum()) / res.seconds, 1) if res.seconds else 0.0,
        "worst_stream_p99_ms": round(_worst_p99(res) / 1e6, 4),
        "generator": {
            "late_p99_ms": round(_pct(np.array(res.late_ms), 99), 3),
            "late_max_ms": round(max(res.late_ms, default=0.0), 3),
            "send_refused": res.send_short, "bad_datagrams": res.bad,
        },
    }
    if call_of_row is not None:
        per_call = np.bincount(call_of_row, weights=lost_rows, minlength=res.streams // 2)
        out["calls_with_loss"] = int(np.count_nonzero(per_call))
    return out


def _worst_p99(res: BlastResult) -> float:
    """The highest per-stream 99th percentile (one sort, no Python loop over streams)."""
    if not len(res.latency_ns):
        return float("nan")
    order = np.lexsort((res.latency_ns, res.latency_rows))
    rows = res.latency_rows[order]
    lat = res.latency_ns[order]
    counts = np.bincount(rows, minlength=res.streams)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    idx = starts[has] + np.floor(0.99 * (counts[has] - 1)).astype(np.int64)
    return float(lat[idx].max())


def dump(res: BlastResult, path: str) -> None:
    """Every measured packet (stream, send time, latency) and the per-stream counts, as .npz."""
    np.savez_compressed(path, rows=res.latency_rows, sent_ns=res.sent_ns, latency_ns=res.latency_ns,
                        sent=res.sent, received=res.received)
