"""A bridged call: the back-to-back user agent between the leg that called and the legs we call.

The call is a state machine (``CallState`` x ``CallInput`` in one table, STYLE habit 4). Legs
report what happened; the call decides what the other side hears, what is recorded and which
call-detail row and bus events are written. It never touches a socket: everything leaves as
SIP through the transaction layer or as a command.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, auto
from typing import ClassVar

from telephony.calls.commands import (
    CloseMedia,
    Publish,
    SetMediaPeer,
    Side,
    StartRecording,
    WriteCallAnswered,
    WriteCallEnded,
)
from telephony.calls.context import EngineContext
from telephony.calls.leg import Leg, LegState
from telephony.calls.uac import UacLeg
from telephony.calls.uas import UasLeg
from telephony.sip.errors import LocalProtocolError
from telephony.sip.sdp import NegotiatedMedia, SdpError
from telephony.sip.transport import Peer

__all__ = ["TRANSITIONS", "Call", "CallInput", "CallState", "Target"]


class CallState(Enum):
    """The call as the customer experiences it."""

    ROUTING = auto()  # INVITE accepted, no fork has answered anything yet
    RINGING = auto()  # a fork rings (180/183 relayed)
    ANSWERED = auto()  # bridged and recorded
    HOSTED = auto()  # answered by callfloor itself (IVR, queue, survey), not bridged
    ENDING = auto()  # hung up; legs are closing
    ENDED = auto()  # every leg closed, resources released


class CallInput(Enum):
    """What can happen to a call."""

    PROGRESS = auto()
    ANSWER = auto()
    ALL_FORKS_FAILED = auto()
    RING_TIMEOUT = auto()
    CANCEL = auto()
    HANGUP = auto()
    LOST = auto()
    CLOSED = auto()
    HOST = auto()  # callfloor answers the caller itself
    UNBRIDGE = auto()  # the seat left; callfloor hosts the caller again


S, In = CallState, CallInput
# A missing pair is a protocol error in our own logic (LocalProtocolError), never ignored silently.
TRANSITIONS: dict[tuple[CallState, CallInput], CallState] = {
    (S.ROUTING, In.PROGRESS): S.RINGING,
    (S.RINGING, In.PROGRESS): S.RINGING,
    (S.ROUTING, In.ANSWER): S.ANSWERED,
    (S.RINGING, In.ANSWER): S.ANSWERED,
    **{(s, i): S.ENDING for s in (S.ROUTING, S.RINGING)
       for i in (In.ALL_FORKS_FAILED, In.RING_TIMEOUT, In.CANCEL, In.HANGUP, In.LOST)},
    (S.ROUTING, In.HOST): S.HOSTED,
    (S.HOSTED, In.PROGRESS): S.HOSTED,
    (S.HOSTED, In.ANSWER): S.ANSWERED,
    (S.HOSTED, In.ALL_FORKS_FAILED): S.HOSTED,  # a seat refused; the caller keeps waiting
    (S.HOSTED, In.HANGUP): S.ENDING,
    (S.HOSTED, In.LOST): S.ENDING,
    (S.ANSWERED, In.UNBRIDGE): S.HOSTED,
    (S.ANSWERED, In.HANGUP): S.ENDING,
    (S.ANSWERED, In.LOST): S.ENDING,
    (S.ANSWERED, In.PROGRESS): S.ANSWERED,  # a late 180 from a losing fork
    (S.ANSWERED, In.ANSWER): S.ANSWERED,  # a losing fork's 2xx (it gets a BYE)
    **{(S.ENDING, i): S.ENDING for i in In if i is not In.CLOSED},
    (S.ENDING, In.CLOSED): S.ENDED,
    **{(S.ENDED, i): S.ENDED for i in In},
}


@dataclass(frozen=True)
class Target:
    """Where one fork goes: the Request-URI, the transport peer, and identities to present."""

    request_uri: str
    peer: Peer
    to_uri: str
    from_uri: str
    from_display: str = ""
    credentials: tuple[str, str] | None = None


class Call:
    """One customer interaction bridged through callfloor, from INVITE to the last BYE."""

    transitions: ClassVar[dict[tuple[CallState, CallInput], CallState]] = TRANSITIONS
    # The director hears of the seats this call keeps busy (it did not place the call itself).
    reports_busy = True

    def __init__(
        self,
        ctx: EngineContext,
        *,
        uuid: str,
        direction: str,
        caller: str,
        callee: str,
        seat_id: str | None,
        ports: dict[Side, int],
        now: float,
        on_done: Callable[[Call], None],
    ) -> None:
        self.ctx = ctx
        self.uuid = uuid
        self.direction = direction
        self.caller = caller
        self.callee = callee
        self.seat_id = seat_id
        self.ports = ports
        self.started_at = now
        self.answered_at: float | None = None
        self.state = CallState.ROUTING
        self.a: UasLeg | None = None
        self.forks: list[UacLeg] = []
        self.b: UacLeg | None = None
        self.end_reason: str | None = None
        self.recording_path: str | None = None
        self._fail_statuses: list[int] = []
        self._on_done = on_done
        self._ringing_sent = False
        self.merged_key: tuple[str, str, int] | None = None
        self.seats: list[str] = []  # the seats this call keeps busy

    # -- the state machine ------------------------------------------------------------------
    def _step(self, event: CallInput) -> CallState:
        try:
            self.state = self.transitions[(self.state, event)]
        except KeyError:
            raise LocalProtocolError(f"call {self.uuid}: {event.name} in {self.state.name}") from None
        return self.state

    @property
    def a_side(self) -> Side:
        """The side of the leg that called us."""
        return Side.SEAT if self.direction == "outbound" else Side.CUSTOMER

    @property
    def b_side(self) -> Side:
        """The side of the legs we call."""
        return Side.CUSTOMER if self.direction == "outbound" else Side.SEAT

    @property
    def legs(self) -> list[Leg]:
        """Every leg that is not yet closed."""
        legs: list[Leg] = [self.a] if self.a is not None else []
        return [leg for leg in [*legs, *self.forks] if leg.state is not LegState.ENDED]

    # -- setting up ---------------------------------------------------------------------------
    def start(self, a: UasLeg, targets: list[Target], ring_timeout: float, now: float, *,
              max_forwards: int = 70) -> None:
        """Fork the call to every target and start the ring timer."""
        from telephony.calls.media import relay_codecs

        self.a = a
        codecs, event_pt = relay_codecs(a.remote_offer, toward_seat=self.b_side is Side.SEAT)
        for target in targets:
            fork = UacLeg(
                self.ctx, self, self.b_side, target.peer, self.ports[self.b_side],
                request_uri=target.request_uri, from_uri=target.from_uri, to_uri=target.to_uri,
                from_display=target.from_display, credentials=target.credentials,
            )
            self.forks.append(fork)
            # One SdpSession per fork: they share the port but not the o= line.
            offer = fork.sdp.offer(fork.port, codecs, telephone_event_pt=event_pt)
            fork.start(offer, now, max_forwards=max_forwards)
        self.ctx.set_timer((self.uuid, "ring"), now + ring_timeout, self._ring_timeout)

    def _ring_timeout(self, now: float) -> None:
        status = 408 if self.direction == "outbound" else 480
        self._end(CallInput.RING_TIMEOUT, "no_answer", now, status=status, by=None)

    # -- leg reports ----------------------------------------------------------------------------
    def leg_progress(self, leg: UacLeg, status: int, now: float) -> None:
        """A fork rings: tell the caller (with early media when the fork sent an answer)."""
        if self.state not in (CallState.ROUTING, CallState.RINGING):
            return
        self._step(CallInput.PROGRESS)
        assert self.a is not None
        if leg.media is not None and self.b_side is Side.CUSTOMER:
            # The carrier's ringback/announcements reach the seat as early media.
            try:
                body = self.a.negotiate(leg.media.codec, now)
            except SdpError:
                return
            self.a.provisional(183, now, body)
            self._ringing_sent = True
        elif not self._ringing_sent:
            self.a.provisional(180, now)
            self._ringing_sent = True

    def leg_answered(self, leg: UacLeg, now: float) -> None:
        """The first fork to answer wins; the others are cancelled (RFC 3261 §13.2.2.4 + §9.1)."""
        if self.state not in (CallState.ROUTING, CallState.RINGING):
            leg.bye(now, "call already answered or ended")
            return
        assert self.a is not None and leg.media is not None
        try:
            body = self.a.negotiate(leg.media.codec, now)
        except SdpError:
            leg.bye(now, "no common codec")
            self._end(CallInput.LOST, "codec_mismatch", now, status=488, by=None)
            return
        self._step(CallInput.ANSWER)
        self.b = leg
        self.answered_at = now
        self.ctx.cancel_timer((self.uuid, "ring"))
        for fork in self.forks:
            if fork is not leg:
                fork.hangup(now, "answered elsewhere")
        self.a.answer(body, now)
        self._start_recording(now)
        self.ctx.emit(WriteCallAnswered(self.uuid, now, self.seat_id))
        self._publish("call.answered", now)

    def leg_failed(self, leg: UacLeg, status: int, now: float) -> None:
        """A fork was refused or timed out; the caller hears the outcome when none is left."""
        self._fail_statuses.append(status)
        if self.state not in (CallState.ROUTING, CallState.RINGING):
            return
        if any(f.state in (LegState.CALLING, LegState.EARLY) for f in self.forks):
            return
        self._end(CallInput.ALL_FORKS_FAILED, _reason_for(self._fail_statuses), now,
                  status=self._caller_status(), by=None)

    def leg_cancelled(self, leg: UasLeg, now: float) -> None:
        """The caller gave up before answer."""
        self._end(CallInput.CANCEL, "cancelled", now, status=487, by=leg.side.value)

    def leg_hungup(self, leg: Leg, now: float) -> None:
        """BYE from either side ends the call for both."""
        self._end(CallInput.HANGUP, "hangup", now, status=None, by=leg.side.value)

    def leg_lost(self, leg: Leg, reason: str, now: float) -> None:
        """The session died without a BYE (no ACK, session expired, refresh failed)."""
        self._end(CallInput.LOST, reason, now, status=500, by=None)

    def media_timed_out(self, side: Side, now: float) -> None:
        """No RTP from ``side`` for the media timeout: dead media ends the call."""
        self._end(CallInput.LOST, "media_timeout", now, status=None, by=side.value)

    def leg_media(self, leg: Leg, media: NegotiatedMedia, now: float) -> None:
        """Tell the relay where this leg's media goes and which payload types it expects."""
        if self.state in (CallState.ENDING, CallState.ENDED):
            return
        if not self._steers_relay(leg):
            return
        self.ctx.emit(SetMediaPeer(
            self.uuid, leg.side, media.remote_host, media.remote_port, media.codec.name.upper(),
            media.codec.pt, media.telephone_event_pt, sends=not leg.held,
        ))
        if leg.held or (self.answered_at is not None and leg.state is LegState.CONFIRMED):
            self._publish("call.held" if leg.held else "call.media", now, side=leg.side.value)

    def _steers_relay(self, leg: Leg) -> bool:
        """Whether ``leg``'s media tells the relay where to send: a losing fork's must not."""
        return self.b is None or leg is self.b or leg is self.a

    def leg_dtmf(self, leg: Leg, digit: str, now: float) -> None:
        """DTMF by SIP INFO (RFC 4733 events are relayed in the media path)."""
        self._publish("call.dtmf", now, side=leg.side.value, digit=digit)

    def leg_closed(self, leg: Leg, now: float) -> None:
        """Release the call's resources once its last leg has closed."""
        if self.state is CallState.ENDING and not self.legs:
            self._step(CallInput.CLOSED)
            self._on_done(self)

    # -- ending -----------------------------------------------------------------------------------
    def hangup(self, now: float, reason: str = "shutdown") -> None:
        """End the call from our side (shutdown, an operator)."""
        self._end(CallInput.LOST if self.answered_at else CallInput.RING_TIMEOUT, reason, now,
                  status=503, by="callfloor")

    def _end(self, event: CallInput, reason: str, now: float, *, status: int | None, by: str | None) -> None:
        if self.state in (CallState.ENDING, CallState.ENDED):
            return
        self._step(event)
        self.end_reason = reason
        self.ctx.cancel_timer((self.uuid, "ring"))
        if self.a is not None:
            self.a.hangup(now, status or 480, reason)
        for fork in self.forks:
            fork.hangup(now, reason)
        self.ctx.emit(CloseMedia(self.uuid))
        sip_status = status if self.answered_at is None else 200
        self.ctx.emit(WriteCallEnded(self.uuid, now, reason, sip_status=sip_status, hangup_by=by))
        self._publish("call.ended", now, reason=reason, hangup_by=by,
                      talk_seconds=round(now - self.answered_at, 3) if self.answered_at else 0.0)
        if not self.legs:
            self._step(CallInput.CLOSED)
            self._on_done(self)

    def _caller_status(self) -> int:
        if self.direction == "outbound":
            final = [s for s in self._fail_statuses if s >= 400 and s not in (401, 407)]
            return final[-1] if final else 503
        return 486 if any(s in (486, 600, 603) for s in self._fail_statuses) else 480

    # -- records --------------------------------------------------------------------------------
    def _start_recording(self, now: float) -> None:
        day = time.strftime("%Y/%m/%d", time.gmtime(now))
        # A caller bridged a second time (back to a queue after a survey) gets a second file.
        suffix = f"-{now:.0f}" if self.recording_path else ""
        self.recording_path = f"{day}/{self.uuid}{suffix}.wav"
        self.ctx.emit(StartRecording(self.uuid, self.recording_path))

    def _publish(self, kind: str, now: float, **extra: object) -> None:
        payload = {"call": self.uuid, "direction": self.direction, "caller": self.caller,
                   "callee": self.callee, "seat": self.seat_id, "ts": now, **extra}
        self.ctx.emit(Publish(kind, payload))


def _reason_for(statuses: list[int]) -> str:
    if any(s in (486, 600) for s in statuses):
        return "busy"
    if any(s == 603 for s in statuses):
        return "declined"
    if statuses and all(s == 408 for s in statuses):
        return "no_answer"
    return "failed"
