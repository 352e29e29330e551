"""A simulated carrier: the SIP trunk at a fixed address that callfloor's [trunk] points at.

It places calls to the floor's numbers (one at a time with :meth:`SimCarrier.call`, or a Poisson
stream with :meth:`SimCarrier.run_traffic`) and answers the calls the floor sends out like a
remote customer: 180, 200 after a second or two, a tone, and a hang-up after a while; or, given
:class:`~callfloor.sim.customers.SimCustomers`, as a population of customers who answer, are
busy, never answer, are answering machines or meet a failing route.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Sequence

from callfloor.sim.agent import ALLOW, SipAgent
from callfloor.sim.call import BYE_TIMEOUT, SimCall
from callfloor.sim.customers import SimCustomers
from callfloor.sim.events import AgentStats, CallResult, EventHandler, TrafficReport
from callfloor.sim.incoming import IncomingCall, answer_flow
from callfloor.sim.media import AudioSource, MediaClock, RtpStream
from callfloor.sim.outgoing import OutgoingCall, talk_flow
from callfloor.sim.phone import Range, pick
from telephony.calls.ids import IdFactory
from telephony.sip.message import Request
from telephony.sip.sdp import G711, Codec
from telephony.sip.transaction import TimerPolicy, TxKey
from telephony.sip.transport import Peer, Transport

__all__ = ["SimCarrier"]


class SimCarrier:
    """A trunk listening on ``listen`` that sends its calls to ``target`` (callfloor)."""

    def __init__(
        self,
        listen: tuple[str, int],
        target: tuple[str, int],
        *,
        rng: random.Random | None = None,
        tone_hz: float = 620.0,
        audio: AudioSource | None = None,
        answer_after: Range = (1.0, 2.0),
        talk: Range | None = (5.0, 20.0),
        codecs: Sequence[Codec] = G711,
        keep_pcm: bool = False,
        on_event: EventHandler | None = None,
        timers: TimerPolicy | None = None,
        clock: MediaClock | None = None,
        history: int = 1000,
        name: str = "carrier",
        customers: SimCustomers | None = None,
    ) -> None:
        self.target = Peer(Transport.UDP, target[0], target[1])
        self.tone_hz = tone_hz
        self.audio = audio  # played instead of the tone when set (a WAV for the demo)
        self.answer_after = answer_after
        self.talk = talk
        self.codecs = list(codecs)
        self.keep_pcm = keep_pcm
        self.rng = rng or random.Random()
        self.on_event = on_event
        self.clock = clock
        self.customers = customers  # who answers the floor's calls (None: everybody, after answer_after)
        self.agent = SipAgent(name, host=listen[0], port=listen[1], ids=IdFactory(self.rng),
                              timers=timers)
        self.agent.on_request = self._on_request
        self.calls: deque[SimCall] = deque(maxlen=history)
        self.active: dict[str, SimCall] = {}
        self.registrations = 0  # REGISTERs the floor sent us (its trunk registration)
        self._totals = AgentStats()

    @property
    def address(self) -> tuple[str, int]:
        """Where the carrier listens."""
        return self.agent.address

    @property
    def stats(self) -> AgentStats:
        """Totals over finished calls and the number still live."""
        t = self._totals
        return AgentStats(t.calls, t.answered, t.failed, len(self.active), t.packets_sent,
                          t.packets_received)

    async def start(self) -> tuple[str, int]:
        """Bind the listen address; returns it (with the real port when 0 was asked)."""
        return await self.agent.open()

    async def stop(self) -> None:
        """Hang up every call and close."""
        await asyncio.gather(*(c.hangup("carrier stopped") for c in list(self.active.values())))
        await self.agent.close()

    # -- calls to the floor -----------------------------------------------------------------
    def new_call(
        self, did: str, caller: str = "+15551230001", *, tone_hz: float | None = None
    ) -> OutgoingCall:
        """A call to ``did`` at the target, not yet started (``await call.start()`` sends it)."""
        host, port = self.target.host, self.target.port
        me = self.agent.host
        stream = RtpStream(me, rng=self.rng, clock=self.clock, keep_pcm=self.keep_pcm)
        call = OutgoingCall(
            self.agent, self.target, request_uri=f"sip:{did}@{host}:{port}",
            from_uri=f"sip:{caller}@{me}", to_uri=f"sip:{did}@{host}", remote=did,
            stream=stream, codecs=self.codecs, source=self._source(tone_hz),
            from_display=caller, extra_headers=[("P-Asserted-Identity", f"<sip:{caller}@{me}>")],
            on_event=self.on_event, on_end=self._ended,
        )
        self.calls.append(call)
        self.active[call.call_id] = call
        return call

    async def call(
        self,
        did: str,
        caller: str = "+15551230001",
        talk: Range | None = (5.0, 20.0),
        tone_hz: float | None = None,
        ring_timeout: float | None = None,
    ) -> CallResult:
        """Call ``did``, talk for ``talk`` s once answered (None: until the floor hangs up) and
        return the result; busy, unanswered or refused calls are results with their status."""
        call = self.new_call(did, caller, tone_hz=tone_hz)
        return await talk_flow(call, pick(self.rng, talk), ring_timeout)

    async def run_traffic(
        self,
        dids: Sequence[str],
        rate_per_minute: float,
        max_concurrent: int,
        stop_event: asyncio.Event,
        *,
        talk: Range | None = None,
        ring_timeout: float | None = 60.0,
    ) -> TrafficReport:
        """Poisson arrivals at ``rate_per_minute`` to random ``dids`` until ``stop_event``;
        arrivals beyond ``max_concurrent`` live calls are skipped. Live calls are hung up at
        the end and every result is reported."""
        if not dids or rate_per_minute <= 0:
            raise ValueError("run_traffic needs at least one DID and a positive rate")
        tasks: set[asyncio.Task[CallResult]] = set()
        results: list[CallResult] = []
        offered = skipped = 0
        while not stop_event.is_set():
            gap = self.rng.expovariate(rate_per_minute / 60.0)
            try:
                await asyncio.wait_for(stop_event.wait(), gap)
                break
            except TimeoutError:
                pass
            offered += 1
            if len(tasks) >= max_concurrent:
                skipped += 1
                continue
            caller = f"+1555{self.rng.randrange(10**7):07d}"
            call = self.new_call(self.rng.choice(list(dids)), caller)
            task = self.agent.spawn(talk_flow(call, pick(self.rng, talk or self.talk), ring_timeout))
            tasks.add(task)
            task.add_done_callback(lambda t: _collect(t, tasks, results))
        placed = offered - skipped
        live = [c for c in self.active.values() if isinstance(c, OutgoingCall)]
        await asyncio.gather(*(c.hangup("traffic stopped") for c in live))
        if tasks:
            await asyncio.wait(set(tasks), timeout=BYE_TIMEOUT)
        return TrafficReport(offered, placed, skipped, tuple(results))

    # -- calls from the floor ---------------------------------------------------------------
    def _on_request(self, key: TxKey, request: Request, peer: Peer) -> None:
        method = request.method
        if method == "INVITE":
            self._on_invite(key, request, peer)
        elif method == "REGISTER":
            self._on_register(key, request)
        elif method == "OPTIONS":
            self.agent.respond(key, request, 200, headers=[("Allow", ALLOW)])
        else:
            self.agent.respond(key, request, 405, headers=[("Allow", ALLOW)])

    def _on_register(self, key: TxKey, request: Request) -> None:
        """Accept the floor's trunk registration as asked (no authentication)."""
        self.registrations += 1
        expires = (request.headers.get("Expires") or "3600").strip()
        headers = [("Contact", f"{c};expires={expires}") for c in request.headers.get_all("Contact")]
        self.agent.respond(key, request, 200, headers=[*headers, ("Expires", expires)])

    def _on_invite(self, key: TxKey, request: Request, peer: Peer) -> None:
        """A seat or the dialer calling out: answer like a remote customer."""
        try:
            stream = RtpStream(self.agent.host, rng=self.rng, clock=self.clock,
                               keep_pcm=self.keep_pcm)
        except OSError:
            self.agent.respond(key, request, 503, "No media port")
            return
        user = request.uri.split(":", 1)[-1].split("@", 1)[0].split(";", 1)[0]
        call = IncomingCall(
            self.agent, key, request, peer, user=user or "carrier", stream=stream,
            codecs=self.codecs, source=self._source(None), on_event=self.on_event,
            on_end=self._ended,
        )
        self.calls.append(call)
        if call.ended:
            self._totals = self._totals.plus(call.result())
            return
        self.active[call.call_id] = call
        if self.customers is not None:
            self.agent.spawn(self.customers.answer(call), name=f"customer-{call.call_id}")
            return
        flow = answer_flow(call, pick(self.rng, self.answer_after) or 0.0, pick(self.rng, self.talk))
        self.agent.spawn(flow, name=f"answer-{call.call_id}")

    def _source(self, tone_hz: float | None) -> AudioSource:
        if tone_hz is None and self.audio is not None:
            return self.audio
        return AudioSource.tone(tone_hz or self.tone_hz)

    def _ended(self, call: SimCall) -> None:
        if self.active.pop(call.call_id, None) is not None:
            self._totals = self._totals.plus(call.result())


def _collect(
    task: asyncio.Task[CallResult], tasks: set[asyncio.Task[CallResult]], results: list[CallResult]
) -> None:
    tasks.discard(task)
    if not task.cancelled() and task.exception() is None:
        results.append(task.result())
