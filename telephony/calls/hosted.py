"""A call that callfloor answers itself: the IVR talks to the caller, the queue plays music, and a
seat is rung only when the director (the ACD) says so.

It is a :class:`Call` whose first leg is answered at once and hosted by the relay (prompts out,
digits in) until a seat answers; then the two sides are bridged and recorded. When the seat
leaves, the director may keep the caller (a post-call survey) and the call is hosted again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from telephony.calls.call import Call, CallInput, CallState, Target
from telephony.calls.commands import (
    ConnectMedia,
    PlayAudio,
    RecordAudio,
    Side,
    StopAudio,
    StopAudioRecording,
    StopRecording,
    WriteCallAnswered,
)
from telephony.calls.context import EngineContext
from telephony.calls.director import CallObserver
from telephony.calls.leg import Leg, LegState
from telephony.calls.media import DEFAULT_CODECS, relay_codecs
from telephony.calls.uac import UacLeg
from telephony.calls.uas import UasLeg
from telephony.sip.sdp import Codec, SdpError

__all__ = ["NUMBER_PREFIX", "HostedCall", "SeatResolver"]

NUMBER_PREFIX = "number:"  # an offer to an outside number instead of a seat (an IVR transfer)

SeatResolver = Callable[[str, "HostedCall"], list[Target]]  # seat id -> its phones


class HostedCall(Call):
    """A call answered by callfloor; implements :class:`~telephony.calls.director.CallControl`."""

    reports_busy = False  # the director rang the seats itself
    # Recorded only while bridged to a seat (the IVR part is no conversation); an originated
    # call is recorded from the customer's answer to its end.
    records_while_hosted = False

    def __init__(self, ctx: EngineContext, *, uuid: str, caller: str, callee: str,
                 ports: dict[Side, int], now: float, on_done: Callable[[Call], None],
                 resolver: SeatResolver, direction: str = "inbound") -> None:
        super().__init__(ctx, uuid=uuid, direction=direction, caller=caller, callee=callee,
                         seat_id=None, ports=ports, now=now, on_done=on_done)
        self.resolver = resolver
        self.variables: dict[str, str] = {}
        self.observer: CallObserver | None = None
        self.offers: dict[str, list[UacLeg]] = {}  # seat -> its ringing forks
        self.on_seat_busy: Callable[[str, bool], None] = lambda seat, busy: None

    # -- CallControl --------------------------------------------------------------------------
    def observe(self, observer: CallObserver) -> None:
        """Route this call's events to ``observer``."""
        self.observer = observer

    def host(self, a: UasLeg, now: float) -> bool:
        """Answer the caller ourselves, on the first G.711 law it offered (False: no codec)."""
        self.a = a
        codecs, _ = relay_codecs(a.remote_offer)
        try:
            body = a.negotiate(codecs[0] if codecs else DEFAULT_CODECS[0], now)
        except SdpError:
            return False
        self._step(CallInput.HOST)
        a.answer(body, now)
        return True

    def play(self, token: str, prompts: tuple[str, ...], now: float, *, loop: bool = False) -> None:
        """Play prompts to the caller (while hosted)."""
        if self.state is CallState.HOSTED:
            self.ctx.emit(PlayAudio(self.uuid, self.a_side, token, prompts, loop))

    def stop_playback(self, now: float) -> None:
        """Stop the caller's prompt."""
        self.ctx.emit(StopAudio(self.uuid, self.a_side))

    def record(self, token: str, max_seconds: float, now: float) -> str:
        """Record what the caller says (a voice message); returns the file's relative path."""
        day = time.strftime("%Y/%m/%d", time.gmtime(now))
        path = f"voicemail/{day}/{self.uuid}-{token}.wav"
        self.ctx.emit(RecordAudio(self.uuid, self.a_side, token, path, max_seconds))
        return path

    def stop_recording(self, now: float) -> None:
        """End the voice message early (it is still reported)."""
        self.ctx.emit(StopAudioRecording(self.uuid, self.a_side))

    def ring_number(self, number: str, now: float) -> bool:
        """Call an outside number through the carrier; it is reported as the "seat" ``number:<n>``."""
        return self.ring_seat(NUMBER_PREFIX + number, now)

    @property
    def seat_caller_id(self) -> str:
        """Who a seat's phone shows as calling: the caller."""
        return self.caller

    def ring_seat(self, seat: str, now: float, *, headers: Sequence[tuple[str, str]] = ()) -> bool:
        """Fork the call to ``seat``'s registered phones (``headers`` added to each INVITE)."""
        if self.state is not CallState.HOSTED or seat in self.offers:
            return False
        targets = self.resolver(seat, self)
        if not targets:
            return False
        codecs, event_pt = self._seat_codecs()
        forks = []
        for target in targets:
            fork = UacLeg(self.ctx, self, Side.SEAT, target.peer, self.ports[self.b_side],
                          request_uri=target.request_uri, from_uri=target.from_uri,
                          to_uri=target.to_uri, from_display=target.from_display,
                          credentials=target.credentials, seat=seat)
            forks.append(fork)
            self.forks.append(fork)
            fork.start(fork.sdp.offer(fork.port, codecs, telephone_event_pt=event_pt), now,
                       extra=list(headers))
        self.offers[seat] = forks
        self._busy(seat, True)
        return True

    def _seat_codecs(self) -> tuple[list[Codec], int | None]:
        """What a seat's phone is offered: both G.711 laws, PCMU first (see calls.media)."""
        assert self.a is not None
        return relay_codecs(self.a.remote_offer, toward_seat=True)

    def _busy(self, seat: str, busy: bool) -> None:
        if not seat.startswith(NUMBER_PREFIX):
            self.on_seat_busy(seat, busy)

    def cancel_seat(self, seat: str, now: float) -> None:
        """Stop ringing ``seat`` (another seat answered, the caller left, no answer in time)."""
        for fork in self.offers.pop(seat, []):
            fork.hangup(now, "offer withdrawn")
        if seat != self.seat_id:
            self._busy(seat, False)

    def hangup(self, now: float, reason: str = "hangup") -> None:
        """End the call from our side (the flow hung up, shutdown)."""
        if self.state is CallState.HOSTED or self.state is CallState.ANSWERED:
            self._end(CallInput.LOST, reason, now, status=None, by="callfloor")
        else:
            super().hangup(now, reason)

    def set_timer(self, name: str, deadline: float, fn: Callable[[float], None]) -> None:
        """A director timer that dies with the call."""
        self.ctx.set_timer((self.uuid, "director", name), deadline, fn)

    def cancel_timer(self, name: str) -> None:
        """Cancel a director timer."""
        self.ctx.cancel_timer((self.uuid, "director", name))

    # -- leg reports ---------------------------------------------------------------------------
    def leg_progress(self, leg: UacLeg, status: int, now: float) -> None:
        """The caller already hears our audio; a ringing seat changes nothing for it."""
        if self.state is CallState.HOSTED:
            self._step(CallInput.PROGRESS)

    def leg_answered(self, leg: UacLeg, now: float) -> None:
        """The first seat to answer is bridged to the caller and recorded."""
        seat = _seat_of(leg)
        if self.state is not CallState.HOSTED or seat not in self.offers:
            leg.bye(now, "call already taken")
            return
        self._step(CallInput.ANSWER)
        self.b, self.seat_id, self.answered_at = leg, seat, now
        for other, forks in list(self.offers.items()):
            for fork in forks:
                if fork is not leg:
                    fork.hangup(now, "answered elsewhere")
            if other != seat:
                del self.offers[other]
                self._busy(other, False)
        self.offers.pop(seat, None)
        self.ctx.emit(ConnectMedia(self.uuid, True))
        if not (self.records_while_hosted and self.recording_path):
            self._start_recording(now)
        self.ctx.emit(WriteCallAnswered(self.uuid, now, None if seat.startswith(NUMBER_PREFIX) else seat))
        self._publish("call.answered", now)
        if self.observer is not None:
            self.observer.seat_answered(self, seat, now)

    def leg_failed(self, leg: UacLeg, status: int, now: float) -> None:
        """A seat's phones all refused or timed out: the director picks the next seat."""
        seat = _seat_of(leg)
        forks = self.offers.get(seat)
        if forks is None or any(f.state in (LegState.CALLING, LegState.EARLY) for f in forks):
            return
        del self.offers[seat]
        self._busy(seat, False)
        if self.state is CallState.HOSTED:
            self._step(CallInput.ALL_FORKS_FAILED)
            if self.observer is not None:
                self.observer.seat_failed(self, seat, status, now)

    def leg_hungup(self, leg: Leg, now: float) -> None:
        """The caller's BYE ends everything; the seat's may hand the caller back to the director."""
        if leg is self.b and self.seat_id is not None and self.state is CallState.ANSWERED:
            seat = self.seat_id
            keep = self.observer is not None and self.observer.seat_hung_up(self, seat, now)
            if keep and self.state is CallState.ANSWERED:
                self._unbridge(now)
                return
        if leg is self.a and self.observer is not None:
            self.observer.caller_gone(self, "hangup", now)
        super().leg_hungup(leg, now)

    def _unbridge(self, now: float) -> None:
        self._step(CallInput.UNBRIDGE)
        self.b = None
        if self.seat_id is not None:
            self._busy(self.seat_id, False)
        if not self.records_while_hosted:
            self.ctx.emit(StopRecording(self.uuid))
        self.ctx.emit(ConnectMedia(self.uuid, False))
        self._publish("call.unbridged", now)

    def leg_dtmf(self, leg: Leg, digit: str, now: float) -> None:
        """SIP INFO digits from the caller go to the director."""
        super().leg_dtmf(leg, digit, now)
        if leg is self.a and self.observer is not None:
            self.observer.digit(self, digit, "info", now)

    def media_digit(self, digit: str, source: str, now: float) -> None:
        """A digit read from the caller's RTP (RFC 4733 or in-band)."""
        if self.observer is not None and self.state is CallState.HOSTED:
            self.observer.digit(self, digit, source, now)

    def media_recorded(self, token: str, path: str, seconds: float, now: float) -> None:
        """A voice message is on disk."""
        if self.observer is not None:
            self.observer.recording_done(self, token, path, seconds, now)

    def media_played(self, token: str, now: float) -> None:
        """A prompt played to its end."""
        if self.observer is not None:
            self.observer.playback_done(self, token, now)

    def leg_lost(self, leg: Leg, reason: str, now: float) -> None:
        """Tell the director before the call ends."""
        if self.observer is not None and self.state not in (CallState.ENDING, CallState.ENDED):
            self.observer.caller_gone(self, reason, now)
        super().leg_lost(leg, reason, now)

    def media_timed_out(self, side: Side, now: float) -> None:
        """Dead media from the caller ends the call (and the director hears of it)."""
        if self.observer is not None and self.state not in (CallState.ENDING, CallState.ENDED):
            self.observer.caller_gone(self, "media_timeout", now)
        super().media_timed_out(side, now)


def _seat_of(leg: UacLeg) -> str:
    return leg.seat or ""
