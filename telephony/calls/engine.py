"""The call engine: SIP events in, SIP bytes and commands out (events in, commands out).

It owns the transaction layer, the seat desk (auth + registrar), the carrier registration, the RTP
port pool and every live :class:`Call`. The network adapter feeds it parsed messages, media events
and clock ticks, then drains ``datagrams_to_send()`` and ``commands()``; the dialer asks it to
``originate()`` calls to customers through the carrier.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telephony.calls.call import Call
from telephony.calls.commands import (
    AudioClassified,
    AudioRecorded,
    Command,
    DigitDetected,
    ListenFailed,
    MediaEvent,
    MediaFailed,
    MediaTimedOut,
    OpenMedia,
    PlaybackFinished,
    Publish,
    Side,
    WriteCallStarted,
)
from telephony.calls.context import ALLOW, EngineContext
from telephony.calls.director import DialObserver, Director
from telephony.calls.hosted import HostedCall
from telephony.calls.ids import IdFactory
from telephony.calls.listen import ListenDesk
from telephony.calls.media import PortPool
from telephony.calls.outbound import OriginatedCall, OriginateRefused
from telephony.calls.policy import EnginePolicy
from telephony.calls.routing import InviteRouting
from telephony.calls.seats import SeatDesk
from telephony.calls.trunk import TrunkRegistration
from telephony.calls.uas import UasLeg
from telephony.sip.errors import ParseError, RemoteProtocolError
from telephony.sip.message import Request, Response
from telephony.sip.transaction import (
    AckReceived,
    AckTimedOut,
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    TransactionTimedOut,
    TransportFailed,
    TxEvent,
    TxKey,
)
from telephony.sip.transport import Outgoing, Peer
from telephony.sip.validate import build_error_response, check_request

__all__ = ["CallEngine"]

log = logging.getLogger("callfloor.engine")

_KNOWN_UNSUPPORTED = {"MESSAGE", "SUBSCRIBE", "NOTIFY", "PUBLISH", "REFER", "PRACK"}


class CallEngine(InviteRouting):
    """callfloor's SIP user-agent core and B2BUA, as a pure state machine."""

    def __init__(self, policy: EnginePolicy, *, ids: IdFactory | None = None,
                 director: Director | None = None) -> None:
        self.policy = policy
        self.ctx = EngineContext(policy, ids or IdFactory())
        self.director = director
        self.seats = SeatDesk(self.ctx)
        self.seats.on_reachability = self._reachability
        self.ports = PortPool(*policy.rtp_ports)
        self.calls: dict[str, Call] = {}
        self.busy_seats: dict[str, set[str]] = {}  # seat -> its live calls
        self.listening = ListenDesk(self.ctx, self.ports, self.seats, self._listen_busy)  # silent monitoring
        self._invites: dict[tuple[str, str, int], TxKey] = {}  # merged-request detection, §8.2.2.2
        self.draining = False
        trunk = policy.trunk
        self.trunk_registration = (
            TrunkRegistration(self.ctx, trunk) if trunk is not None and trunk.register else None
        )

    # -- the driver's interface -----------------------------------------------------------
    def start(self, now: float) -> None:
        """Begin background work: the carrier registration."""
        self.ctx.now = now
        if self.trunk_registration is not None:
            self.trunk_registration.start(now)

    def receive(self, message: Request | Response, peer: Peer, now: float) -> None:
        """A parsed SIP message from ``peer``."""
        self.ctx.now = now
        try:
            events = self.ctx.txl.receive(message, peer, now)
        except RemoteProtocolError as err:
            self.receive_invalid(ParseError(err.reason, err.status), peer, now)
            return
        for event in events:
            self._dispatch(event, now)

    def receive_invalid(self, error: ParseError, peer: Peer, now: float) -> None:
        """A message that failed to parse: answer 400 when enough of a request survived (§8.2)."""
        self.ctx.now = now
        partial = getattr(error, "partial", None)
        log.info("unparseable message from %s:%s: %s", peer.host, peer.port, error.reason)
        if isinstance(partial, Request) and partial.method != "ACK":
            try:
                response = build_error_response(partial, error, self.ctx.ids.tag())
            except (ParseError, RemoteProtocolError):
                return  # not even the headers a response must copy: drop it, as §18.3 allows
            self.ctx.txl.send_stateless(response, peer)

    def media_event(self, event: MediaEvent, now: float) -> None:
        """Dead media, a failed relay, a prompt played out, a digit from a hosted caller."""
        self.ctx.now = now
        if isinstance(event, ListenFailed):
            self.listening.media_failed(event.listen, now)
            return
        call = self.calls.get(event.call)
        if call is None:
            return
        if isinstance(call, HostedCall) and isinstance(event, PlaybackFinished):
            call.media_played(event.token, now)
        elif isinstance(call, HostedCall) and isinstance(event, DigitDetected):
            call.media_digit(event.digit, event.source, now)
        elif isinstance(call, HostedCall) and isinstance(event, AudioRecorded):
            call.media_recorded(event.token, event.path, event.seconds, now)
        elif isinstance(call, OriginatedCall) and isinstance(event, AudioClassified):
            call.media_classified(event.token, event.verdict, event.detail, now)
        elif isinstance(event, MediaTimedOut):
            call.media_timed_out(event.side, now)
        elif isinstance(event, MediaFailed):
            log.error("media failed for call %s: %s", event.call, event.reason)
            call.hangup(now, "media_failed")

    def originate(self, number: str, *, caller_id: str, uuid: str, observer: DialObserver,
                  ring_timeout: float, now: float,
                  headers: Sequence[tuple[str, str]] = ()) -> OriginatedCall | None:
        """Call ``number`` through the carrier (From ``caller_id``, answering its 401/407) as call
        ``uuid``; None when there is no trunk. Raises :class:`OriginateRefused` when draining,
        ``uuid`` is live, the trunk's allow-list refuses the number or no media port is left."""
        self.ctx.now = now
        trunk = self.policy.trunk
        if trunk is None:
            return None
        refusal = ("draining" if self.draining else "duplicate_uuid" if uuid in self.calls
                   else "number_not_allowed" if not trunk.outbound_allowed(number)
                   else "ports_exhausted" if len(self.ports) < 2 else None)
        if refusal is not None:
            raise OriginateRefused(refusal)
        ports = {Side.CUSTOMER: self.ports.take(), Side.SEAT: self.ports.take()}
        call = OriginatedCall(self.ctx, uuid=uuid, number=number, caller_id=caller_id, ports=ports,
                              now=now, on_done=self._call_done, resolver=self._seat_targets,
                              observer=observer)
        # A seat the ACD offered the call to is the ACD's to track; one rung directly (a seat
        # reserved by the dialer) is busy elsewhere as far as the director knows.
        call.on_seat_busy = lambda seat, busy: self._seat_busy(call, seat, busy,
                                                              notify=call.reports_busy)
        leg = call.customer_leg(self._trunk_target(number, caller_id))
        self.calls[uuid] = call
        self.ctx.emit(OpenMedia(uuid, dict(ports), hosted=Side.CUSTOMER))
        self.ctx.emit(WriteCallStarted(uuid, leg.call_id, "outbound", caller_id, number, "", None,
                                       now))
        self.ctx.emit(Publish("call.offered", {"call": uuid, "direction": "outbound",
                                               "caller": caller_id, "callee": number,
                                               "seat": None, "ts": now}))
        call.dial(ring_timeout, now, headers=headers)
        return call

    def listen(self, call_uuid: str, listener_seat: str, now: float) -> str:
        """Let ``listener_seat`` silently hear bridged call ``call_uuid`` (telephony.calls.listen);
        returns the listen leg's Call-ID. Raises :class:`~telephony.calls.listen.ListenError`
        for an unknown or unbridged call, an unregistered listener or no media port left."""
        self.ctx.now = now
        return self.listening.start(self.calls.get(call_uuid), call_uuid, listener_seat, now,
                                    draining=self.draining)

    def _listen_busy(self, seat: str, listen: str, busy: bool, now: float) -> None:
        """A listen leg counts among the lead's calls in ``busy_seats``: the director hears when
        the lead becomes busy or free, whatever mix of calls and listens made it so."""
        uuids = self.busy_seats.setdefault(seat, set())
        was_busy = bool(uuids)
        (uuids.add if busy else uuids.discard)(listen)
        if not uuids:
            del self.busy_seats[seat]
        if self.director is not None and was_busy != bool(uuids):
            self.director.seat_busy(seat, bool(uuids), now)

    def _call_done(self, call: Call) -> None:
        super()._call_done(call)
        self.listening.call_ended(call.uuid, self.ctx.now)

    def transport_error(self, peer: Peer, now: float) -> None:
        """A send to ``peer`` failed (ICMP, refused TCP connection)."""
        self.ctx.now = now
        for event in self.ctx.txl.transport_error(peer, now):
            self._dispatch(event, now)

    def get_timer(self) -> float | None:
        """The earliest deadline of the transaction layer or the engine."""
        deadlines = [d for d in (self.ctx.txl.get_timer(), self.ctx.timers.next_deadline()) if d is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        """Run everything that is due at ``now``."""
        self.ctx.now = now
        self.ctx.fire_timers(now)
        for event in self.ctx.txl.handle_timer(now):
            self._dispatch(event, now)

    def datagrams_to_send(self) -> list[Outgoing]:
        """SIP bytes to put on the wire."""
        return self.ctx.txl.datagrams_to_send()

    def commands(self) -> list[Command]:
        """Commands for the executor (media, records, bus)."""
        out, self.ctx.commands = self.ctx.commands, []
        return out

    def drain(self, now: float) -> None:
        """Refuse new calls, hang up the live ones and un-register from the carrier."""
        self.ctx.now = now
        self.draining = True
        for call in list(self.calls.values()):
            call.hangup(now, "shutdown")
        self.listening.stop_all(now)
        if self.trunk_registration is not None:
            self.trunk_registration.stop(now)

    def release_held_byes(self, now: float) -> None:
        """The last step of a drain: BYEs still held for a late ACK go out now."""
        self.ctx.now = now
        for leg in list(self.ctx.legs.values()):
            if isinstance(leg, UasLeg):
                leg.release_held_bye(now)

    # -- dispatch ---------------------------------------------------------------------------
    def _dispatch(self, event: TxEvent, now: float) -> None:
        ctx = self.ctx
        if isinstance(event, RequestReceived):
            self._on_request(event.key, event.request, event.peer, now)
        elif isinstance(event, ResponseReceived):
            owner = ctx.client_owners.get(event.key)
            if event.response.status >= 200 and event.key[1] != "INVITE":
                ctx.client_owners.pop(event.key, None)
            if owner is not None:
                owner(event.response, now)
        elif isinstance(event, AckReceived):
            leg = ctx.legs.get((event.request.call_id, event.request.to.tag or ""))
            if leg is not None:
                leg.on_ack(event.request, now)
        elif isinstance(event, CancelReceived):
            uas = ctx.server_invites.get(event.invite_key)
            if uas is not None:
                uas.cancelled(now)
        elif isinstance(event, (TransactionTimedOut, TransportFailed)):
            owner = ctx.client_owners.pop(event.key, None)
            if owner is not None:
                owner(None, now)
            elif isinstance(event, TransportFailed) and (uas := ctx.server_invites.get(event.key)):
                uas.transport_failed(now)  # §17.2.4: the caller's INVITE transaction is gone
        elif isinstance(event, AckTimedOut):
            uas = ctx.server_invites.get(event.key)
            if uas is not None:
                uas.ack_timed_out(now)

    def _on_request(self, key: TxKey, request: Request, peer: Peer, now: float) -> None:
        ctx = self.ctx
        to_tag = request.to.tag
        if to_tag:
            leg = ctx.legs.get((request.call_id, to_tag))
            if leg is not None:
                leg.on_request(key, request, now)
            elif request.method == "OPTIONS":
                self._options(key, request, now)
            else:
                ctx.respond(key, request, 481, now=now)
            return
        try:
            check_request(request)
        except RemoteProtocolError as err:
            response = build_error_response(request, err, ctx.ids.tag())
            ctx.decorate(response, None, b"", "")
            ctx.txl.send_response(key, response, now)
            return
        method = request.method
        if method == "REGISTER":
            self.seats.on_register(key, request, peer, now)
            self._arm_expiry()
        elif method == "INVITE":
            self._on_invite(key, request, peer, now)
        elif method == "OPTIONS":
            self._options(key, request, now)
        elif method in ("BYE", "UPDATE", "INFO"):
            ctx.respond(key, request, 481, now=now)
        elif method in _KNOWN_UNSUPPORTED:
            ctx.respond(key, request, 405, headers=[("Allow", ALLOW)], now=now)
        else:
            ctx.respond(key, request, 501, headers=[("Allow", ALLOW)], now=now)

    def _options(self, key: TxKey, request: Request, now: float) -> None:
        headers = [("Allow", ALLOW), ("Accept", "application/sdp, application/dtmf-relay"),
                   ("Supported", "timer"), ("Contact", f"<sip:{self.policy.host}:{self.policy.port}>")]
        self.ctx.respond(key, request, 200, to_tag=self.ctx.ids.tag(), headers=headers, now=now)

    def _arm_expiry(self) -> None:
        deadline = self.seats.registrar.next_expiry()
        if deadline is not None:
            self.ctx.set_timer(("registrar", "expire"), deadline, self._expire)

    def _reachability(self, seat: str, reachable: bool, now: float) -> None:
        if self.director is not None:
            self.director.seat_reachable(seat, reachable, now)

    def _expire(self, now: float) -> None:
        self.seats.expire(now)
        self._arm_expiry()
