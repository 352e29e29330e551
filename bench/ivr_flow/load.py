"""The load of bench/ivr.py for one level: seats that answer, callers that go through the IVR.

Seats: every seat registers from one SIP socket (bench/sipload.py), is made ready through the
HTTP API, and answers each INVITE at once; it then sends its audio until callfloor hangs up.
Callers: the carrier (127.0.0.2, the trunk's address) places callers at a fixed rate. Each one:
INVITE to the IVR line -> 200 -> its audio starts -> the first prompt packet arrives -> after
``dtmf_after`` seconds it presses 1 (RFC 4733) -> waits in the queue -> the ACD rings a seat,
which answers -> ``talk`` seconds -> the caller hangs up. The seat side tells which caller it got
from the From user (callfloor passes the caller's number on), so no log needs to be read.

The RTP of all callers goes out of one socket and that of all seats out of another (20 ms
frames, spread over ``slots`` sub-ticks); packets are told apart by callfloor's port, one per
call leg, which also sends them (symmetric RTP).
"""

from __future__ import annotations

import asyncio
import collections
import random
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from common import CARRIER_HOST, FIRST_SEAT, password, seat  # the bench dir is on sys.path
from sipload import CarrierLoad, CountingAgent, SeatAnswerer, register_all

from telephony.rtp.dtmf import events_for_digit
from telephony.rtp.g711 import encode
from telephony.sip.message import Request
from telephony.sip.uri import user_part

__all__ = ["Caller", "IvrLoad", "MediaPump", "percentiles"]

PTIME = 0.020
SAMPLES = 160  # one 20 ms frame at 8 kHz
EVENT_PT = 101
_HEADER = struct.Struct("!BBHII")


def _frames(seed: int) -> list[bytes]:
    """One second of PCMU: a voice-like mix (two partials, 3 Hz syllables)."""
    t = np.arange(8000) / 8000.0
    f0 = 140.0 + 40.0 * seed
    x = np.sin(2 * np.pi * f0 * t) + 0.5 * np.sin(2 * np.pi * 3.1 * f0 * t)
    x *= 0.55 + 0.45 * np.sin(2 * np.pi * 3.0 * t)
    pcm = np.asarray(x / np.max(np.abs(x)) * 3000, dtype=np.int16)  # about -20 dBFS
    data = encode(pcm, "PCMU")
    return [data[i:i + SAMPLES] for i in range(0, len(data), SAMPLES)]


class _Stream:
    """One call leg's RTP: what we send and what we received from callfloor's port."""

    __slots__ = ("dest", "ssrc", "seq", "ts", "frame", "marker", "dtmf", "dtmf_at", "received",
                 "first_at", "on_first")

    def __init__(self, dest: tuple[str, int], rng: random.Random,
                 on_first: Callable[[], None] | None) -> None:
        self.dest = dest
        self.ssrc, self.seq, self.ts = rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(32)
        self.frame = 0
        self.marker = True
        self.dtmf: collections.deque[bytes] = collections.deque()
        self.dtmf_at: float | None = None
        self.received = 0
        self.first_at: float | None = None
        self.on_first = on_first


class _Rx(asyncio.DatagramProtocol):
    def __init__(self, pump: MediaPump) -> None:
        self.pump = pump

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.pump.received(addr)


class MediaPump:
    """Every call's RTP on one side, from one UDP socket, on one clock."""

    def __init__(self, host: str, *, audio: bool, slots: int = 4, seed: int = 0) -> None:
        self.host = host
        self.audio = audio  # False: only key presses are sent
        self.frames = _frames(seed)
        self.slots: list[dict[tuple[str, int], _Stream]] = [{} for _ in range(slots)]
        self.streams: dict[tuple[str, int], _Stream] = {}
        self.rng = random.Random(seed)
        self.period = PTIME / slots
        self.sent = self.unknown = self.skipped = 0
        self.port = 0
        self._next_slot = 0
        self._n = 0
        self._t0 = 0.0
        self._transport: asyncio.DatagramTransport | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def open(self) -> tuple[str, int]:
        """Bind the socket and start the clock; returns the address to put in SDP."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.host, 0))
        for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            sock.setsockopt(socket.SOL_SOCKET, opt, 8 << 20)
        self.port = sock.getsockname()[1]
        self._loop = asyncio.get_running_loop()
        self._transport, _ = await self._loop.create_datagram_endpoint(lambda: _Rx(self), sock=sock)
        self._t0 = self._loop.time()
        self._handle = self._loop.call_at(self._t0 + self.period, self._tick)
        return (self.host, self.port)

    def close(self) -> None:
        """Stop the clock and close the socket."""
        if self._handle is not None:
            self._handle.cancel()
        if self._transport is not None:
            self._transport.close()

    def add(self, dest: tuple[str, int], on_first: Callable[[], None] | None = None) -> _Stream:
        """Start sending to ``dest`` (callfloor's port of one call leg) and counting what it sends."""
        stream = _Stream(dest, self.rng, on_first)
        self.streams[dest] = stream
        self.slots[self._next_slot % len(self.slots)][dest] = stream
        self._next_slot += 1
        return stream

    def remove(self, stream: _Stream) -> None:
        """Stop the stream (its counters stay readable)."""
        if self.streams.get(stream.dest) is stream:
            del self.streams[stream.dest]
        for slot in self.slots:
            if slot.get(stream.dest) is stream:
                del slot[stream.dest]

    def press(self, stream: _Stream, digit: str, pt: int, duration_ms: int = 100) -> None:
        """Queue one RFC 4733 key press: updates every 20 ms, the end sent three times (§2.5.1)."""
        packets = events_for_digit(digit, stream.ts, (stream.seq + 1) & 0xFFFF, stream.ssrc, pt,
                                   duration_ms)
        stream.seq = (stream.seq + len(packets)) & 0xFFFF
        stream.dtmf.extend(data for _, data in packets)

    def received(self, addr: tuple[Any, int]) -> None:
        """A packet from callfloor: count it for its stream; the first one fires ``on_first``."""
        stream = self.streams.get(addr)
        if stream is None:
            self.unknown += 1  # before we knew the port (the 200 came after the first packet)
            return
        stream.received += 1
        if stream.first_at is None:
            stream.first_at = time.monotonic()
            if stream.on_first is not None:
                stream.on_first()

    def _tick(self) -> None:
        assert self._loop is not None
        due = int((self._loop.time() - self._t0) / self.period)
        slots = len(self.slots)
        if due - self._n >= slots:  # a stall longer than a frame: skip, keep the timestamps
            for n in range(self._n, due - slots + 1):
                for stream in self.slots[n % slots].values():
                    stream.ts = (stream.ts + SAMPLES) & 0xFFFFFFFF
                self.skipped += 1
            self._n = due - slots + 1
        while self._n <= due:
            for stream in list(self.slots[self._n % slots].values()):
                self._send(stream)
            self._n += 1
        self._handle = self._loop.call_at(self._t0 + self._n * self.period, self._tick)

    def _send(self, s: _Stream) -> None:
        if s.dtmf:
            data = s.dtmf.popleft()
            if s.dtmf_at is None:
                s.dtmf_at = time.monotonic()
            s.marker = not s.dtmf  # audio after an event starts a talkspurt
        elif not self.audio:
            s.ts = (s.ts + SAMPLES) & 0xFFFFFFFF
            return
        else:
            s.seq = (s.seq + 1) & 0xFFFF
            data = _HEADER.pack(0x80, 0x80 if s.marker else 0, s.seq, s.ts, s.ssrc) + self.frames[s.frame]
            s.marker = False
            s.frame = (s.frame + 1) % len(self.frames)
        s.ts = (s.ts + SAMPLES) & 0xFFFFFFFF
        assert self._transport is not None
        self._transport.sendto(data, s.dest)
        self.sent += 1


@dataclass
class Caller:
    """One caller's way through the floor, in time.monotonic() seconds."""

    index: int
    number: str
    invite_at: float = 0.0
    answered_at: float | None = None
    heard_at: float | None = None
    dtmf_at: float | None = None
    seated_at: float | None = None
    seat: str | None = None
    seat_invites: int = 0
    seat_heard: int = 0  # packets the seat received (the caller's audio through the relay)
    bye_status: int | None = None
    failure: str | None = None
    call_id: str = ""
    seated: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ok(self) -> bool:
        """Reached a seat and hung up cleanly."""
        return self.failure is None and self.seated_at is not None and self.bye_status == 200


def percentiles(values: list[float], scale: float = 1000.0) -> dict[str, float] | None:
    """p50/p90/p99/max of ``values`` (seconds) in ms; None when there are none."""
    if not values:
        return None
    a = np.asarray(values) * scale
    return {"p50": round(float(np.percentile(a, 50)), 1), "p90": round(float(np.percentile(a, 90)), 1),
            "p99": round(float(np.percentile(a, 99)), 1), "max": round(float(a.max()), 1)}


class IvrLoad:
    """Seats and callers against one running callfloor."""

    def __init__(self, sip: tuple[str, int], trunk_port: int, line: str, *, audio: bool = True,
                 dtmf_after: float = 1.0, patience: float = 10.0, talk: float = 2.0,
                 answer_timeout: float = 10.0) -> None:
        self.sip, self.line = sip, line
        self.dtmf_after, self.patience, self.talk = dtmf_after, patience, talk
        self.answer_timeout = answer_timeout
        self.seat_agent = CountingAgent("seats", host="127.0.0.1")
        self.carrier_agent = CountingAgent("carrier", host=CARRIER_HOST, port=trunk_port)
        self.seat_media = MediaPump("127.0.0.1", audio=audio, seed=1)
        self.caller_media = MediaPump(CARRIER_HOST, audio=audio, seed=2)
        self.callers: dict[str, Caller] = {}
        self.seat_streams: dict[str, tuple[_Stream, Caller | None]] = {}
        self.unknown_seat_invites = 0
        self.aborted = False  # set from outside (a hard timeout): no more callers, stop waiting
        self.on_seats = self.max_on_seats = self.live = self.max_live = 0
        self.carrier: CarrierLoad | None = None

    async def open(self) -> None:
        """Bind both SIP agents and both RTP sockets."""
        await self.seat_agent.open()
        await self.carrier_agent.open()
        seat_rtp = await self.seat_media.open()
        caller_rtp = await self.caller_media.open()
        SeatAnswerer(self.seat_agent, seat_rtp, lambda user: int(user) - FIRST_SEAT,
                     on_answer=self._seat_answered, on_bye=self._seat_bye)
        self.carrier = CarrierLoad(self.carrier_agent, self.sip, caller_rtp)

    async def close(self) -> None:
        """Close sockets and agents (their tasks are cancelled)."""
        self.caller_media.close()
        self.seat_media.close()
        await self.carrier_agent.close()
        await self.seat_agent.close()

    async def register(self, seats: int) -> dict[int, int]:
        """Register every seat at the seat agent; status -> count."""
        return await register_all(self.seat_agent, [(seat(i), password(seat(i))) for i in range(seats)],
                                  self.sip)

    # -- the seat side ---------------------------------------------------------------------------
    def _seat_answered(self, request: Request, media: tuple[str, int]) -> None:
        caller = self.callers.get(user_part(request.from_.uri))
        stream = self.seat_media.add(media)
        self.seat_streams[request.call_id] = (stream, caller)
        self.on_seats += 1
        self.max_on_seats = max(self.max_on_seats, self.on_seats)
        if caller is None:
            self.unknown_seat_invites += 1
            return
        caller.seat_invites += 1
        if caller.seated_at is None:
            caller.seated_at = time.monotonic()
            caller.seat = user_part(request.uri)
            caller.seated.set()

    def _seat_bye(self, call_id: str) -> None:
        stream, caller = self.seat_streams.pop(call_id, (None, None))
        if stream is None:
            return
        self.on_seats -= 1
        self.seat_media.remove(stream)
        if caller is not None:
            caller.seat_heard += stream.received

    # -- the callers -----------------------------------------------------------------------------
    async def place(self, rate: float, seconds: float, on_window: Callable[[bool], None] | None = None,
                    ramp: float = 0.0, budget: float = 60.0) -> dict[str, Any]:
        """Place ``rate`` x ``seconds`` callers at ``rate`` per second and see each one through.

        ``on_window(True)`` is called ``ramp`` seconds in (the floor is in its steady state),
        ``on_window(False)`` after the last caller is placed.
        """
        count = max(1, round(rate * seconds))
        tasks: list[asyncio.Task[None]] = []
        start = time.monotonic() + 0.05
        window_open = False
        for i in range(count):
            if self.aborted:
                break
            if not window_open and i / rate >= ramp:
                window_open = True
                if on_window is not None:
                    on_window(True)
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(self._caller(i)))
        placed = time.monotonic() - start
        if on_window is not None:
            if not window_open:
                on_window(True)
            on_window(False)
        deadline = time.monotonic() + budget
        pending = set(tasks)
        while pending and not self.aborted and (left := deadline - time.monotonic()) > 0:
            _, pending = await asyncio.wait(pending, timeout=min(left, 1.0))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        count = len(tasks)
        return {"placed": count, "placing_s": round(placed, 3),
                "achieved_cps": round((count - 1) / placed, 2) if count > 1 and placed > 0 else None}

    async def _caller(self, index: int) -> None:
        assert self.carrier is not None
        caller = Caller(index, f"+1556{index:07d}")
        self.callers[caller.number] = caller
        self.live += 1
        self.max_live = max(self.max_live, self.live)
        call = self.carrier.place(index, self.line, caller=caller.number, telephone_event_pt=EVENT_PT)
        caller.invite_at = call.placed_at
        caller.call_id = call.invite.call_id
        stream = None
        try:
            try:
                await asyncio.wait_for(call.answered.wait(), self.answer_timeout)
            except TimeoutError:
                caller.failure = "IVR did not answer"
                return
            if call.status != 200 or call.media is None:
                caller.failure = f"IVR answered {call.status}"
                return
            caller.answered_at = time.monotonic()
            heard = asyncio.Event()
            stream = self.caller_media.add(call.media, heard.set)
            caller.failure = await self._through_ivr(caller, call, stream, heard)
            if caller.failure is None:
                await _either(call.ended, None, self.talk)
                caller.failure = "callfloor hung up during the talk" if call.ended.is_set() else None
            if not call.ended.is_set():
                caller.bye_status = await self.carrier.hangup(call)
                if caller.failure is None and caller.bye_status != 200:
                    caller.failure = f"BYE answered {caller.bye_status}"
        except asyncio.CancelledError:
            caller.failure = caller.failure or "still going at the level's time limit"
            raise
        finally:
            self.live -= 1
            if stream is not None:
                self.caller_media.remove(stream)

    async def _through_ivr(self, caller: Caller, call: Any, stream: _Stream,
                           heard: asyncio.Event) -> str | None:
        """From the IVR's answer to a seat's; the failure, or None."""
        try:
            await asyncio.wait_for(heard.wait(), 5.0)
        except TimeoutError:
            return "no prompt audio within 5 s"
        caller.heard_at = stream.first_at
        await _either(call.ended, None, self.dtmf_after)
        if call.ended.is_set():
            return "callfloor hung up in the IVR"
        if call.event_pt is None:
            return "no telephone-event in the IVR's answer"
        self.caller_media.press(stream, "1", call.event_pt)
        await _either(caller.seated, call.ended, self.patience + 0.2)
        caller.dtmf_at = stream.dtmf_at
        if caller.seated_at is not None:
            return None
        return "callfloor hung up in the queue" if call.ended.is_set() else "no seat within patience"

    # -- figures ---------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """What happened to the callers of the level."""
        callers = list(self.callers.values())
        failures: dict[str, int] = {}
        for c in callers:
            if not c.ok:
                reason = c.failure or "not finished"
                failures[reason] = failures.get(reason, 0) + 1
        seated = [c for c in callers if c.seated_at is not None]
        return {
            "callers": len(callers),
            "answered_by_ivr": sum(1 for c in callers if c.answered_at is not None),
            "heard_prompt": sum(1 for c in callers if c.heard_at is not None),
            "pressed_1": sum(1 for c in callers if c.dtmf_at is not None),
            "reached_seat": len(seated),
            "completed": sum(1 for c in callers if c.ok),
            "failures": failures,
            "failed_examples": [{"caller": c.number, "call_id": c.call_id, "failure": c.failure,
                                 "at_s": round(c.invite_at - callers[0].invite_at, 3)}
                                for c in callers if not c.ok][:5],
            "time_to_seat_ms": percentiles([c.seated_at - c.invite_at for c in seated]),  # type: ignore[operator]
            "key_to_seat_ms": percentiles([c.seated_at - c.dtmf_at for c in seated if c.dtmf_at]),  # type: ignore[operator]
            "ivr_answer_ms": percentiles([c.answered_at - c.invite_at for c in callers if c.answered_at]),
            "first_prompt_ms": percentiles([c.heard_at - c.answered_at for c in callers
                                            if c.heard_at and c.answered_at]),
            "seat_invites_for_other_calls": self.unknown_seat_invites,
            "callers_offered_twice": sum(1 for c in callers if c.seat_invites > 1),
            "seats_heard_caller": sum(1 for c in seated if c.seat_heard > 0),
            "max_live_callers": self.max_live, "max_seats_on_call": self.max_on_seats,
            "retransmissions": {
                "from_floor": self.carrier_agent.received_again + self.seat_agent.received_again,
                "to_floor": self.carrier_agent.sent_again + self.seat_agent.sent_again,
            },
            "rtp": {"caller_sent": self.caller_media.sent, "seat_sent": self.seat_media.sent,
                    "late_ticks_skipped": self.caller_media.skipped + self.seat_media.skipped},
        }

    def reset_counts(self) -> None:
        """Retransmissions count from here (registration is over)."""
        self.seat_agent.reset_counts()
        self.carrier_agent.reset_counts()
        for pump in (self.seat_media, self.caller_media):
            pump.sent = pump.unknown = pump.skipped = 0


async def _either(a: asyncio.Event, b: asyncio.Event | None, timeout: float) -> None:
    """Wait until ``a`` or ``b`` is set, or ``timeout`` seconds."""
    waits = [asyncio.ensure_future(e.wait()) for e in (a, b) if e is not None]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
