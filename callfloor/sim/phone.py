"""A seat's simulated softphone: registers with digest auth and answers the calls it is sent.

It rings (180), answers after a random ``answer_after`` delay with a 200 and an SDP answer, plays
its own tone until the BYE (or hangs up itself after ``hangup_after``), and answers CANCEL (487),
re-INVITE (hold mirrored), OPTIONS and INFO like a real phone. With auto-answer on (the default,
as a softphone set up for a dialer campaign) an INVITE that asks for it (RFC 5373 Answer-Mode,
Call-Info ``answer-after``, Alert-Info ``info=alert-autoanswer``) is answered after the delay it
asks for, at once for ``answer-after=0``. :meth:`SimPhone.dial` places a call through the
registrar (a seat dialling out), answering its 407 with the same credentials.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import deque
from collections.abc import Callable, Sequence

from callfloor.sim.agent import ALLOW, SipAgent
from callfloor.sim.call import SimCall
from callfloor.sim.events import AgentStats, CallResult, EventHandler
from callfloor.sim.incoming import IncomingCall, answer_flow
from callfloor.sim.media import AudioSource, MediaClock, RtpStream
from callfloor.sim.outgoing import OutgoingCall, talk_flow
from callfloor.sim.register import Registration
from telephony.calls.ids import IdFactory
from telephony.sip.message import Request
from telephony.sip.sdp import G711, Codec
from telephony.sip.transaction import TimerPolicy, TxKey
from telephony.sip.transport import Peer, Transport

__all__ = ["SimPhone", "auto_answer_after", "pick"]

Range = float | tuple[float, float]
_ANSWER_AFTER = re.compile(r";\s*answer-after\s*=\s*([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)


def pick(rng: random.Random, value: Range | None) -> float | None:
    """A number from ``value``: itself, uniform in a (low, high) range, or None."""
    if value is None or isinstance(value, int | float):
        return value
    low, high = value
    return rng.uniform(low, high)


def auto_answer_after(request: Request) -> float | None:
    """The delay an INVITE asks an auto-answering phone to answer after, None for a plain call.

    RFC 5373 ``Answer-Mode: Auto`` (or ``Priv-Answer-Mode``) and Alert-Info
    ``info=alert-autoanswer`` mean at once; Call-Info's ``answer-after=N`` means N seconds;
    ``Answer-Mode: Manual`` rings as usual whatever else the INVITE says.
    """
    headers = request.headers
    modes = [v.split(";", 1)[0].strip().lower()
             for name in ("Answer-Mode", "Priv-Answer-Mode") for v in headers.get_all(name)]
    if "manual" in modes:
        return None
    for value in headers.get_all("Call-Info"):
        if (match := _ANSWER_AFTER.search(value)) is not None:
            return float(match[1])
    if "auto" in modes:
        return 0.0
    if any("alert-autoanswer" in v.lower() for v in headers.get_all("Alert-Info")):
        return 0.0
    return None


class SimPhone:
    """A softphone for seat ``user``; ``registrar=None`` skips registration (reached directly)."""

    def __init__(
        self,
        user: str,
        password: str,
        registrar: tuple[str, int] | None,
        *,
        local_host: str = "127.0.0.1",
        port: int = 0,
        answer_after: Range = (1.0, 3.0),
        hangup_after: Range | None = None,
        tone_hz: float = 440.0,
        audio: AudioSource | None = None,
        codecs: Sequence[Codec] = G711,
        expires: int = 300,
        max_calls: int = 1,
        keep_pcm: bool = False,
        rng: random.Random | None = None,
        on_event: EventHandler | None = None,
        timers: TimerPolicy | None = None,
        clock: MediaClock | None = None,
        history: int = 1000,
        auto_answer: bool = True,
        on_call_end: Callable[[SimCall], None] | None = None,
    ) -> None:
        self.user = user
        self.password = password
        self.registrar = registrar
        self.answer_after = answer_after
        self.hangup_after = hangup_after
        self.tone_hz = tone_hz
        self.audio = audio  # played instead of the tone when set (a WAV for the demo)
        self.codecs = list(codecs)
        self.max_calls = max_calls
        self.keep_pcm = keep_pcm
        self.rng = rng or random.Random()
        self.on_event = on_event
        self.clock = clock
        self.auto_answer = auto_answer  # honour INVITEs that ask to be answered at once
        self.on_call_end = on_call_end  # every call of this phone, once it is over
        self.agent = SipAgent(f"phone:{user}", host=local_host, port=port,
                              ids=IdFactory(self.rng), timers=timers)
        self.agent.on_request = self._on_request
        self.registration: Registration | None = None
        if registrar is not None:
            self.registration = Registration(self.agent, user, password, registrar,
                                             expires=expires, on_event=on_event)
        self.calls: deque[SimCall] = deque(maxlen=history)  # the latest calls, live or over
        self.active: dict[str, SimCall] = {}
        self._totals = AgentStats()

    # -- lifetime ---------------------------------------------------------------------------
    @property
    def address(self) -> tuple[str, int]:
        """Where the phone's SIP socket listens."""
        return self.agent.address

    @property
    def registered(self) -> bool:
        """True while the last REGISTER succeeded."""
        return self.registration is not None and self.registration.registered

    async def start(self) -> int:
        """Listen and register; returns the REGISTER status (0 without a registrar).

        A failed registration is retried in the background; it is a status, not an exception.
        A registrar that never answers makes this wait for Timer F (64*T1, 32 s by default).
        """
        await self.agent.open()
        if self.registration is None:
            return 0
        status = await self.registration.register()
        self.registration.keep_alive()
        return status

    async def stop(self) -> None:
        """Hang up every call, un-register (Expires: 0) and close the socket."""
        await asyncio.gather(*(c.hangup("phone stopped") for c in list(self.active.values())))
        if self.registration is not None:
            await self.registration.unregister()
        await self.agent.close()

    @property
    def stats(self) -> AgentStats:
        """Totals over finished calls and the number still live."""
        t = self._totals
        return AgentStats(t.calls, t.answered, t.failed, len(self.active), t.packets_sent,
                          t.packets_received)

    # -- calls ------------------------------------------------------------------------------
    def _on_request(self, key: TxKey, request: Request, peer: Peer) -> None:
        if request.method == "INVITE":
            self._on_invite(key, request, peer)
        elif request.method == "OPTIONS":
            self.agent.respond(key, request, 200, headers=[
                ("Allow", ALLOW), ("Accept", "application/sdp"),
                ("Contact", self.agent.contact(self.user)),
            ])
        else:
            self.agent.respond(key, request, 405, headers=[("Allow", ALLOW)])

    def _on_invite(self, key: TxKey, request: Request, peer: Peer) -> None:
        if len(self.active) >= self.max_calls:
            self.agent.respond(key, request, 486)
            return
        try:
            stream = RtpStream(self.agent.host, rng=self.rng, clock=self.clock,
                               keep_pcm=self.keep_pcm)
        except OSError:
            self.agent.respond(key, request, 503, "No media port")
            return
        call = IncomingCall(
            self.agent, key, request, peer, user=self.user, stream=stream, codecs=self.codecs,
            source=self._source(), on_event=self.on_event, on_end=self._ended,
        )
        self.calls.append(call)
        if call.ended:
            self._totals = self._totals.plus(call.result())
            return
        self.active[call.call_id] = call
        asked = auto_answer_after(request) if self.auto_answer else None
        answer_after = asked if asked is not None else pick(self.rng, self.answer_after) or 0.0
        hangup_after = pick(self.rng, self.hangup_after)
        self.agent.spawn(answer_flow(call, answer_after, hangup_after), name=f"answer-{call.call_id}")

    def _source(self) -> AudioSource:
        return self.audio or AudioSource.tone(self.tone_hz)

    def _ended(self, call: SimCall) -> None:
        if self.active.pop(call.call_id, None) is not None:
            self._totals = self._totals.plus(call.result())
            if self.on_call_end is not None:
                self.on_call_end(call)

    async def dial(
        self, number: str, *, talk: Range | None = (5.0, 20.0), ring_timeout: float | None = None
    ) -> CallResult:
        """Call ``number`` through the registrar (answering its 407) and talk for ``talk`` s."""
        if self.registrar is None:
            raise ValueError("dial() needs a registrar to send the call to")
        host, port = self.registrar
        stream = RtpStream(self.agent.host, rng=self.rng, clock=self.clock, keep_pcm=self.keep_pcm)
        call = OutgoingCall(
            self.agent, Peer(Transport.UDP, host, port),
            request_uri=f"sip:{number}@{host}:{port}", from_uri=f"sip:{self.user}@{host}",
            to_uri=f"sip:{number}@{host}", remote=number, stream=stream, codecs=self.codecs,
            source=self._source(), credentials=(self.user, self.password),
            on_event=self.on_event, on_end=self._ended,
        )
        self.calls.append(call)
        self.active[call.call_id] = call
        return await talk_flow(call, pick(self.rng, talk), ring_timeout)
