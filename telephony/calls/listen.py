"""Silent monitoring: a team lead's phone hears a live call, and nobody on the call is told.

A listen is one more leg that callfloor places, not a call of the floor: an INVITE to the
listener seat's registered phone (auto-answer headers, an ``a=sendonly`` offer, RFC 3264 §5.1),
and once it is answered the relay fans both sides of the monitored call out to it, mixed. The
monitored call's own legs get no message and their media is untouched; the listen leg ends with
the call (BYE, or CANCEL while it still rings) and the listener's hang-up ends only the listen.
No call-detail row is written; ``call.listen_started`` and ``call.listen_ended`` are published.
"""

from __future__ import annotations

from collections.abc import Callable

from telephony.calls.call import Call, CallState, Target
from telephony.calls.commands import CloseListen, OpenListen, Publish, SetListenPeer, Side
from telephony.calls.context import EngineContext
from telephony.calls.leg import Leg, LegState
from telephony.calls.media import DEFAULT_CODECS, PortPool, PortsExhausted
from telephony.calls.outbound import auto_answer_headers
from telephony.calls.routing import binding_peer
from telephony.calls.seats import SeatDesk
from telephony.calls.uac import UacLeg
from telephony.sip.sdp import Direction, NegotiatedMedia, SessionDescription

__all__ = ["Listen", "ListenDesk", "ListenError", "ListenLeg"]


class ListenError(Exception):
    """A listen that cannot start: ``reason`` is "unknown_call", "not_bridged",
    "listener_not_registered", "listener_on_call", "already_listening", "draining" or
    "ports_exhausted"."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class ListenLeg(UacLeg):
    """The INVITE to the listener's phone; every offer it makes is ``sendonly`` (a session
    refresh by re-INVITE too), so the phone knows it is not expected to talk."""

    def _current_offer(self) -> SessionDescription:
        return self.sdp.offer(self.port, self._codecs(), direction=Direction.SENDONLY,
                              telephone_event_pt=None)


class Listen:
    """One listener on one monitored call; the owner of its :class:`ListenLeg`."""

    def __init__(self, ctx: EngineContext, *, call: Call, listener: str, target: Target, port: int,
                 on_done: Callable[[Listen], None]) -> None:
        self.ctx = ctx
        self.call = call.uuid
        self.listener = listener
        self.port = port
        self.leg = ListenLeg(ctx, self, Side.SEAT, target.peer, port,
                             request_uri=target.request_uri, from_uri=target.from_uri,
                             to_uri=target.to_uri, from_display=target.from_display,
                             seat=listener)
        self.id = self.leg.call_id
        self.answered_at: float | None = None
        self.end_reason: str | None = None
        self._on_done = on_done
        self._closed = False

    @property
    def ended(self) -> bool:
        """True once the listen is over (its leg may still be closing)."""
        return self.end_reason is not None

    def start(self, ring_timeout: float, now: float) -> None:
        """Bind the media port, send the INVITE (answer at once, please) and arm the ring timer."""
        self.ctx.emit(OpenListen(self.id, self.call, self.port))
        leg = self.leg
        offer = leg.sdp.offer(self.port, list(DEFAULT_CODECS), direction=Direction.SENDONLY,
                              telephone_event_pt=None)
        leg.start(offer, now, extra=auto_answer_headers(self.ctx.policy.host))
        self.ctx.set_timer((self.id, "ring"), now + ring_timeout, self._ring_timeout)

    def stop(self, now: float, reason: str) -> None:
        """End the listen from our side: CANCEL while it rings, BYE once answered."""
        self.leg.hangup(now, reason)
        self._end(now, reason, by="callfloor")

    def _ring_timeout(self, now: float) -> None:
        self.stop(now, "no_answer")

    # -- the leg's reports (UacOwner) ---------------------------------------------------------
    def leg_progress(self, leg: UacLeg, status: int, now: float) -> None:
        """The listener's phone rings: nothing to do (the monitored call hears nothing of it)."""

    def leg_answered(self, leg: UacLeg, now: float) -> None:
        """Listening starts (the mix was pointed at the phone by :meth:`leg_media`)."""
        if self.ended:
            leg.bye(now, "listen over")
            return
        self.answered_at = now
        self.ctx.cancel_timer((self.id, "ring"))
        self._publish("call.listen_started", now)

    def leg_failed(self, leg: UacLeg, status: int, now: float) -> None:
        """The listener's phone refused or never answered."""
        self._end(now, f"refused_{status}", by="listener")

    def leg_media(self, leg: Leg, media: NegotiatedMedia, now: float) -> None:
        """Point the mix at the phone once the dialog is confirmed (early media goes nowhere)."""
        if self.ended or leg.state is not LegState.CONFIRMED:
            return
        self.ctx.emit(SetListenPeer(self.id, media.remote_host, media.remote_port,
                                    media.codec.name.upper(), media.codec.pt))

    def leg_hungup(self, leg: Leg, now: float) -> None:
        """The listener hung up: only the listen ends."""
        self._end(now, "hangup", by="listener")

    def leg_lost(self, leg: Leg, reason: str, now: float) -> None:
        """The listen dialog died (session expired, refresh failed)."""
        self.leg.bye(now, reason)
        self._end(now, reason, by=None)

    def leg_dtmf(self, leg: Leg, digit: str, now: float) -> None:
        """Digits from the listener's phone change nothing."""

    def leg_closed(self, leg: Leg, now: float) -> None:
        """Release the port once the listen is over and its leg closed."""
        if self.ended:
            self._done()

    # -- ending -----------------------------------------------------------------------------------
    def _end(self, now: float, reason: str, *, by: str | None) -> None:
        if self.ended:
            return
        self.end_reason = reason
        self.ctx.cancel_timer((self.id, "ring"))
        self.ctx.emit(CloseListen(self.id))
        talk = round(now - self.answered_at, 3) if self.answered_at is not None else 0.0
        self._publish("call.listen_ended", now, reason=reason, hangup_by=by,
                      answered=self.answered_at is not None, listen_seconds=talk)
        if self.leg.state is LegState.ENDED:
            self._done()

    def _done(self) -> None:
        if not self._closed:
            self._closed = True
            self._on_done(self)

    def _publish(self, kind: str, now: float, **extra: object) -> None:
        payload = {"call": self.call, "listener": self.listener, "listen": self.id, "at": now,
                   "ts": now, **extra}
        self.ctx.emit(Publish(kind, payload, store=True))


class ListenDesk:
    """Every live listen, by listen id (the listen leg's Call-ID) and by monitored call."""

    def __init__(self, ctx: EngineContext, ports: PortPool, seats: SeatDesk,
                 on_busy: Callable[[str, str, bool, float], None] | None = None) -> None:
        self.ctx = ctx
        self.ports = ports
        self.seats = seats
        self.listens: dict[str, Listen] = {}
        # (seat, listen id, busy, now): a listening lead is busy, so the ACD offers it no call.
        self.on_busy = on_busy

    def start(self, call: Call | None, call_uuid: str, listener: str, now: float, *,
              draining: bool = False) -> str:
        """Ring ``listener``'s phone to hear ``call``; returns the listen leg's Call-ID or raises
        :class:`ListenError`."""
        if draining:
            raise ListenError("draining", "callfloor is shutting down")
        if call is None:
            raise ListenError("unknown_call", f"no live call {call_uuid!r}")
        if call.state is not CallState.ANSWERED or call.b is None:
            raise ListenError("not_bridged", f"call {call_uuid} is {call.state.name.lower()}, "
                                             "not bridged to a seat")
        if listener == call.seat_id:
            raise ListenError("listener_on_call", f"seat {listener} is a party to call {call_uuid}")
        if any(x.call == call_uuid and x.listener == listener and not x.ended
               for x in self.listens.values()):
            raise ListenError("already_listening", f"seat {listener} already listens to {call_uuid}")
        bindings = self.seats.registrar.lookup(listener, now)
        if not bindings:
            raise ListenError("listener_not_registered", f"seat {listener!r} has no registered phone")
        try:
            port = self.ports.take()
        except PortsExhausted:
            raise ListenError("ports_exhausted", "no media port left for the listen leg") from None
        host = self.ctx.policy.host
        seat = call.seat_id or "callfloor"
        # The phone that answers best: the registrar orders bindings by q, then by recency.
        target = Target(request_uri=bindings[0].contact.uri, peer=binding_peer(bindings[0]),
                        to_uri=f"sip:{listener}@{host}", from_uri=f"sip:{seat}@{host}",
                        from_display=f"listen {seat}")
        listen = Listen(self.ctx, call=call, listener=listener, target=target, port=port,
                        on_done=self._done)
        self.listens[listen.id] = listen
        if self.on_busy is not None:
            self.on_busy(listener, listen.id, True, now)
        listen.start(self.ctx.policy.ring_timeout, now)
        return listen.id

    def call_ended(self, call_uuid: str, now: float) -> None:
        """The monitored call is over: every listen on it ends (BYE or CANCEL)."""
        for listen in [x for x in self.listens.values() if x.call == call_uuid]:
            listen.stop(now, "call_ended")

    def media_failed(self, listen_id: str, now: float) -> None:
        """The relay could not bind the listen's port: the listen ends."""
        listen = self.listens.get(listen_id)
        if listen is not None:
            listen.stop(now, "media_failed")

    def stop_all(self, now: float, reason: str = "shutdown") -> None:
        """End every listen (callfloor drains)."""
        for listen in list(self.listens.values()):
            listen.stop(now, reason)

    def _done(self, listen: Listen) -> None:
        self.listens.pop(listen.id, None)
        self.ports.release(listen.port)
        if self.on_busy is not None:
            self.on_busy(listen.listener, listen.id, False, self.ctx.now)
