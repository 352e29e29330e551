"""Calls callfloor places itself: the dialer's call to a customer through the carrier.

An :class:`OriginatedCall` is a :class:`~telephony.calls.hosted.HostedCall` whose first leg is
ours: an INVITE to the customer through the trunk. Only a 2xx to it is an answer (RFC 3261
§13.2.2.4); 180 and 183, with SDP or without (ring-back, carrier announcements, RFC 3960 early
media), are progress, and their media goes nowhere: no seat hears it, nothing records or
classifies it. Once answered the call is hosted like an inbound IVR call: a prompt can play at
once, the customer's audio is recorded from that moment and can be fed to the answering-machine
detector, and the dialer rings a seat, which is bridged exactly as for a hosted call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telephony.calls.call import TRANSITIONS, Call, CallInput, CallState, Target
from telephony.calls.commands import AnalyzeAudio, Side
from telephony.calls.context import EngineContext
from telephony.calls.director import DialObserver
from telephony.calls.hosted import HostedCall, SeatResolver
from telephony.calls.leg import Leg, LegState
from telephony.calls.media import DEFAULT_CODECS, relay_codecs
from telephony.calls.uac import UacLeg
from telephony.sip.message import Response
from telephony.sip.sdp import Codec

__all__ = [
    "CustomerLeg",
    "OriginateRefused",
    "OriginatedCall",
    "auto_answer_headers",
    "dial_outcome",
]

_RINGING = (CallState.ROUTING, CallState.RINGING)
_OVER = (CallState.ENDING, CallState.ENDED)


class OriginateRefused(Exception):
    """The engine places no call now; ``reason`` is "draining", "duplicate_uuid",
    "number_not_allowed" (the trunk's toll-fraud allow-list) or "ports_exhausted"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def dial_outcome(status: int, *, timed_out: bool = False) -> str:
    """What a dial's final non-2xx means to the dialer (RFC 3261 §21): "busy", "declined",
    "no_answer", "invalid_number", "network_error" (also no response at all) or "rejected"."""
    if timed_out:
        return "network_error"  # Timer B or a transport failure, not the carrier's 408
    if status in (486, 600):
        return "busy"
    if status == 603:
        return "declined"
    if status in (408, 480, 487):
        return "no_answer"
    if status in (404, 410, 484, 604):
        return "invalid_number"
    if 500 <= status < 600:
        return "network_error"
    return "rejected"


def auto_answer_headers(host: str) -> list[tuple[str, str]]:
    """Headers asking a seat's phone to answer at once, in the three forms phones honour: the
    Call-Info answer-after parameter (Grandstream, Snom, Yealink, Zoiper), Alert-Info
    ``info=alert-autoanswer`` (Yealink, Snom, AudioCodes) and RFC 5373 Answer-Mode. baresip
    (1.1+, with the account's ``sip_autoanswer=yes``) honours all three."""
    return [
        ("Call-Info", f"<sip:{host}>;answer-after=0"),
        ("Alert-Info", "<http://127.0.0.1>;info=alert-autoanswer"),
        ("Answer-Mode", "Auto"),
    ]


class CustomerLeg(UacLeg):
    """The INVITE to the customer; tells "no response at all" apart from the carrier's 408."""

    timed_out = False

    def on_response(self, response: Response | None, now: float) -> None:
        """Every response to the INVITE (None: Timer B or a transport failure)."""
        if response is None:
            self.timed_out = True
        super().on_response(response, now)


class OriginatedCall(HostedCall):
    """A call to a customer that callfloor placed; implements
    :class:`~telephony.calls.director.DialControl` and reports to a :class:`DialObserver`."""

    # Our call rings (180/183) before the customer answers it, and then callfloor hosts it.
    transitions = {**TRANSITIONS, (CallState.RINGING, CallInput.HOST): CallState.HOSTED}
    records_while_hosted = True  # an abandoned call's message and the reaction are evidence
    reports_busy = True  # a seat the dialer rings itself (reserved) is busy as far as the ACD knows

    def __init__(self, ctx: EngineContext, *, uuid: str, number: str, caller_id: str,
                 ports: dict[Side, int], now: float, on_done: Callable[[Call], None],
                 resolver: SeatResolver, observer: DialObserver) -> None:
        super().__init__(ctx, uuid=uuid, caller=caller_id, callee=number, ports=ports, now=now,
                         on_done=on_done, resolver=resolver, direction="outbound")
        self.observer = observer
        self.dialer = observer  # dial events stay here even if observe() hands the rest on
        self.customer: CustomerLeg | None = None
        self.customer_answered_at: float | None = None
        # Set by the dialer: what every seat INVITE carries when the ACD rings a seat with a plain
        # ring_seat(seat, now); and reports_busy = False when the ACD offers the call (it tracks
        # the seat itself).
        self.seat_auto_answer = False
        self.seat_headers: list[tuple[str, str]] = []

    @property
    def a_side(self) -> Side:
        """The customer: our first leg, hosted until a seat answers."""
        return Side.CUSTOMER

    @property
    def b_side(self) -> Side:
        """The seat."""
        return Side.SEAT

    @property
    def seat_caller_id(self) -> str:
        """A seat's phone shows the customer's number."""
        return self.callee

    # -- dialling -------------------------------------------------------------------------------
    def customer_leg(self, target: Target) -> CustomerLeg:
        """Create the leg to the customer (its Call-ID is known before the INVITE leaves)."""
        leg = CustomerLeg(self.ctx, self, Side.CUSTOMER, target.peer, self.ports[Side.CUSTOMER],
                          request_uri=target.request_uri, from_uri=target.from_uri,
                          to_uri=target.to_uri, from_display=target.from_display,
                          credentials=target.credentials)
        self.customer = leg
        self.forks.append(leg)  # hung up with the others when the call ends
        return leg

    def dial(self, ring_timeout: float, now: float, *,
             headers: Sequence[tuple[str, str]] = ()) -> None:
        """Send the INVITE (both G.711 laws and telephone-event offered) and start the ring timer."""
        leg = self.customer
        assert leg is not None
        codecs, event_pt = relay_codecs(None)
        leg.start(leg.sdp.offer(leg.port, codecs, telephone_event_pt=event_pt), now,
                  extra=list(headers))
        self.ctx.set_timer((self.uuid, "ring"), now + ring_timeout, self._no_answer)

    def _no_answer(self, now: float) -> None:
        self._end(CallInput.RING_TIMEOUT, "no_answer", now, status=408, by=None)
        self.dialer.dial_failed(self, 408, "no_answer", now)

    # -- DialControl ----------------------------------------------------------------------------
    def ring_seat(self, seat: str, now: float, *, auto_answer: bool | None = None,
                  headers: Sequence[tuple[str, str]] | None = None) -> bool:
        """Offer the customer to ``seat``'s phones, on the codec the customer's leg negotiated
        (``auto_answer`` and ``headers`` default to ``seat_auto_answer`` and ``seat_headers``)."""
        auto = self.seat_auto_answer if auto_answer is None else auto_answer
        extra = [*(auto_answer_headers(self.ctx.policy.host) if auto else ()),
                 *(self.seat_headers if headers is None else headers)]
        return super().ring_seat(seat, now, headers=extra)

    def _seat_codecs(self) -> tuple[list[Codec], int | None]:
        media = self.customer.media if self.customer is not None else None
        if media is None:
            return list(DEFAULT_CODECS), 101
        name = media.codec.name.upper()
        # The customer's law first: a seat that takes it lets the relay copy packets unchanged.
        return sorted(DEFAULT_CODECS, key=lambda c: c.name != name), media.telephone_event_pt or 101

    def analyze(self, token: str, max_seconds: float, now: float) -> None:
        """Feed the customer's audio to the classifier; the relay answers "unknown" at once when
        the customer is not hosted (bridged, gone) or no classifier is configured."""
        self.ctx.emit(AnalyzeAudio(self.uuid, Side.CUSTOMER, token, max_seconds))

    def hangup(self, now: float, reason: str = "hangup") -> None:
        """End the call; before the answer this cancels the dial (reported as failed, 487)."""
        if self.state in _RINGING:
            self._end(CallInput.CANCEL, reason, now, status=487, by="callfloor")
            self.dialer.dial_failed(self, 487, reason, now)
        else:
            super().hangup(now, reason)

    def _end(self, event: CallInput, reason: str, now: float, *, status: int | None,
             by: str | None) -> None:
        """Every end of an answered call reaches the dialer once, whichever side or path ended it
        (the seat's BYE, callfloor's hangup after a message, a drain); a dial that never got
        an answer is reported by ``dial_failed`` instead."""
        over = self.state in _OVER
        # Once the customer answered, the row ends with that 200, bridged to a seat or not.
        answered = self.customer_answered_at is not None
        super()._end(event, reason, now, status=200 if answered else status, by=by)
        if not over and answered:
            self.dialer.call_ended(self, reason, by, now)

    # -- leg reports ----------------------------------------------------------------------------
    def leg_progress(self, leg: UacLeg, status: int, now: float) -> None:
        """180/183 from the customer's side is progress, early media or not."""
        if leg is not self.customer:
            super().leg_progress(leg, status, now)
            return
        if self.state not in _RINGING:
            return
        self._step(CallInput.PROGRESS)
        self._publish("call.progress", now, status=status, early_media=leg.media is not None)
        self.dialer.dial_progress(self, status, now)

    def leg_answered(self, leg: UacLeg, now: float) -> None:
        """The customer's 2xx: hosted at once and recorded from here on; a seat's: bridged."""
        if leg is not self.customer:
            super().leg_answered(leg, now)
            return
        if self.state not in _RINGING:
            leg.bye(now, "call already ended")
            return
        self._step(CallInput.HOST)
        # answered_at stays for the bridge (the row's talk time is the seat's, as inbound).
        self.customer_answered_at = now
        self.ctx.cancel_timer((self.uuid, "ring"))
        self._start_recording(now)
        self._publish("call.dial_answered", now)
        self.dialer.dial_answered(self, now)

    def leg_failed(self, leg: UacLeg, status: int, now: float) -> None:
        """A final non-2xx (or none at all) to the customer's INVITE ends the call."""
        if leg is not self.customer:
            super().leg_failed(leg, status, now)
            return
        if self.state not in _RINGING:
            return
        reason = dial_outcome(status, timed_out=self.customer.timed_out)
        self._end(CallInput.ALL_FORKS_FAILED, reason, now, status=status, by=None)
        self.dialer.dial_failed(self, status, reason, now)

    def leg_hungup(self, leg: Leg, now: float) -> None:
        """The customer's BYE ends everything (the observer hears ``caller_gone``)."""
        if leg is self.customer and self.observer is not None and self.state not in _OVER:
            self.observer.caller_gone(self, "hangup", now)
        super().leg_hungup(leg, now)

    def _steers_relay(self, leg: Leg) -> bool:
        if leg is self.customer:
            # Early media is nobody's: it is not relayed, recorded or classified.
            return leg.state is LegState.CONFIRMED
        return super()._steers_relay(leg)

    # -- media events ---------------------------------------------------------------------------
    def media_classified(self, token: str, verdict: str, detail: dict[str, float],
                         now: float) -> None:
        """The classifier's verdict on the customer's audio."""
        if self.state in _OVER:
            return
        self._publish("call.classified", now, token=token, verdict=verdict)
        self.dialer.audio_classified(self, token, verdict, detail, now)
