"""The call engine: SIP events in, SIP bytes and commands out (events in, commands out).

It owns the transaction layer, the seat desk (auth + registrar), the carrier registration, the RTP
port pool and every live :class:`Call`. The network adapter feeds it parsed messages, media events
and clock ticks, then drains ``datagrams_to_send()`` and ``commands()``.
"""

from __future__ import annotations

import logging

from telephony.calls.call import Call, Target
from telephony.calls.commands import (
    Command,
    MediaEvent,
    MediaFailed,
    MediaTimedOut,
    OpenMedia,
    Publish,
    WriteCallStarted,
)
from telephony.calls.context import ALLOW, EngineContext
from telephony.calls.ids import IdFactory
from telephony.calls.leg import parse_session_expires
from telephony.calls.media import PortPool, PortsExhausted, relay_codecs
from telephony.calls.policy import EnginePolicy
from telephony.calls.seats import SeatDesk, aor_of
from telephony.calls.trunk import TrunkRegistration
from telephony.calls.uas import UasLeg
from telephony.sip.errors import ParseError, RemoteProtocolError
from telephony.sip.message import Request, Response
from telephony.sip.registrar import Binding
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
from telephony.sip.transport import Outgoing, Peer, Transport
from telephony.sip.uri import SipUri
from telephony.sip.validate import build_error_response, check_request

__all__ = ["CallEngine"]

log = logging.getLogger("callfloor.engine")

_KNOWN_UNSUPPORTED = {"MESSAGE", "SUBSCRIBE", "NOTIFY", "PUBLISH", "REFER", "PRACK"}


class CallEngine:
    """callfloor's SIP user-agent core and B2BUA, as a pure state machine."""

    def __init__(self, policy: EnginePolicy, *, ids: IdFactory | None = None) -> None:
        self.policy = policy
        self.ctx = EngineContext(policy, ids or IdFactory())
        self.seats = SeatDesk(self.ctx)
        self.ports = PortPool(*policy.rtp_ports)
        self.calls: dict[str, Call] = {}
        self.busy_seats: dict[str, set[str]] = {}  # seat -> its live calls
        self._invites: dict[tuple[str, str, int], TxKey] = {}  # merged-request detection, §8.2.2.2
        self.draining = False
        trunk = policy.trunk
        self.trunk_registration = (
            TrunkRegistration(self.ctx, trunk) if trunk is not None and trunk.register else None
        )

    # -- the driver's interface -----------------------------------------------------------
    def start(self, now: float) -> None:
        """Begin background work: the carrier registration."""
        if self.trunk_registration is not None:
            self.trunk_registration.start(now)

    def receive(self, message: Request | Response, peer: Peer, now: float) -> None:
        """A parsed SIP message from ``peer``."""
        try:
            events = self.ctx.txl.receive(message, peer, now)
        except RemoteProtocolError as err:
            self.receive_invalid(ParseError(err.reason, err.status), peer, now)
            return
        for event in events:
            self._dispatch(event, now)

    def receive_invalid(self, error: ParseError, peer: Peer, now: float) -> None:
        """A message that failed to parse: answer 400 when enough of a request survived (§8.2)."""
        partial = getattr(error, "partial", None)
        log.info("unparseable message from %s:%s: %s", peer.host, peer.port, error.reason)
        if isinstance(partial, Request) and partial.method != "ACK":
            try:
                response = build_error_response(partial, error, self.ctx.ids.tag())
            except (ParseError, RemoteProtocolError):
                return  # not even the headers a response must copy: drop it, as §18.3 allows
            self.ctx.txl.send_stateless(response, peer)

    def media_event(self, event: MediaEvent, now: float) -> None:
        """Dead media or a failed relay."""
        call = self.calls.get(event.call)
        if call is None:
            return
        if isinstance(event, MediaTimedOut):
            call.media_timed_out(event.side, now)
        elif isinstance(event, MediaFailed):
            log.error("media failed for call %s: %s", event.call, event.reason)
            call.hangup(now, "media_failed")

    def transport_error(self, peer: Peer, now: float) -> None:
        """A send to ``peer`` failed (ICMP, refused TCP connection)."""
        for event in self.ctx.txl.transport_error(peer, now):
            self._dispatch(event, now)

    def get_timer(self) -> float | None:
        """The earliest deadline of the transaction layer or the engine."""
        deadlines = [d for d in (self.ctx.txl.get_timer(), self.ctx.timers.next_deadline()) if d is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        """Run everything that is due at ``now``."""
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
        self.draining = True
        for call in list(self.calls.values()):
            call.hangup(now, "shutdown")
        if self.trunk_registration is not None:
            self.trunk_registration.stop(now)

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

    def _expire(self, now: float) -> None:
        self.seats.expire(now)
        self._arm_expiry()

    # -- new calls ----------------------------------------------------------------------------
    def _on_invite(self, key: TxKey, request: Request, peer: Peer, now: float) -> None:
        merged = (request.call_id, request.from_.tag or "", request.cseq.number)
        if self._invites.get(merged, key) != key:
            self.ctx.respond(key, request, 482, "Loop Detected (merged request)", now=now)
            return
        if self.draining:
            self.ctx.respond(key, request, 503, headers=[("Retry-After", "30")], now=now)
            return
        trunk = self.policy.trunk
        if trunk is not None and trunk.allows_source(peer.host):
            self._from_trunk(key, request, peer, now)
            return
        seat = self.seats.authenticate(key, request, peer, now, proxy=True)
        if seat is not None:
            self._from_seat(seat, key, request, peer, now)

    def _from_trunk(self, key: TxKey, request: Request, peer: Peer, now: float) -> None:
        trunk = self.policy.trunk
        assert trunk is not None
        number = _user_of(request.uri) or aor_of(request.to)
        did = trunk.owns_did(number)
        if did is None:
            self.ctx.respond(key, request, 404, "Number not on this floor", now=now)
            return
        seat = self.policy.routes.get(did) or self.policy.routes.get(did.lstrip("+"))
        if seat is None:
            self.ctx.respond(key, request, 404, "No route for this number", now=now)
            return
        caller = aor_of(request.from_)
        self._to_seat(key, request, peer, now, seat, direction="inbound", caller=caller,
                      display=request.from_.display or caller, callee=did)

    def _from_seat(self, seat: str, key: TxKey, request: Request, peer: Peer, now: float) -> None:
        dialled = _user_of(request.uri)
        trunk = self.policy.trunk
        if dialled == seat:
            self.ctx.respond(key, request, 403, "Cannot call your own seat", now=now)
            return
        if dialled in self.policy.seats:
            self._to_seat(key, request, peer, now, dialled, direction="internal", caller=seat,
                          display=request.from_.display or seat, callee=dialled, caller_seat=seat)
            return
        # An empty prefix means seats dial outside numbers directly ("".startswith is always true).
        if trunk is None or not dialled.startswith(trunk.outbound_prefix):
            self.ctx.respond(key, request, 404, "Unknown extension", now=now)
            return
        number = dialled[len(trunk.outbound_prefix):]
        if not number or not trunk.outbound_allowed(number):
            log.warning("seat %s dialled %r: refused by the outbound allow-list", seat, number)
            self.ctx.respond(key, request, 403, "Number not allowed", now=now)
            return
        caller_id = trunk.caller_id or trunk.username or seat
        target = Target(
            request_uri=f"sip:{number}@{trunk.host}:{trunk.port}",
            peer=Peer(trunk.transport, trunk.host, trunk.port),
            to_uri=f"sip:{number}@{trunk.host}",
            from_uri=f"sip:{caller_id}@{self.policy.host}",
            credentials=(trunk.username, trunk.password) if trunk.username and trunk.password else None,
        )
        self._create_call(key, request, peer, now, direction="outbound", caller=seat, callee=number,
                          did="", seat=seat, targets=[target])

    def _to_seat(self, key: TxKey, request: Request, peer: Peer, now: float, seat: str, *,
                 direction: str, caller: str, display: str, callee: str,
                 caller_seat: str | None = None) -> None:
        if seat in self.busy_seats:
            self.ctx.respond(key, request, 486, "Seat busy", now=now)
            return
        targets = [
            Target(
                request_uri=b.contact.uri,
                peer=binding_peer(b),
                to_uri=f"sip:{seat}@{self.policy.host}",
                from_uri=f"sip:{caller or 'anonymous'}@{self.policy.host}",
                from_display=display,
            )
            for b in self.seats.registrar.lookup(seat, now)
        ]
        if not targets:
            self.ctx.respond(key, request, 480, "Seat not registered", now=now)
            return
        did = callee if direction == "inbound" else ""
        self._create_call(key, request, peer, now, direction=direction, caller=caller, callee=callee,
                          did=did, seat=seat, targets=targets, caller_seat=caller_seat)

    def _create_call(self, key: TxKey, request: Request, peer: Peer, now: float, *, direction: str,
                     caller: str, callee: str, did: str, seat: str, targets: list[Target],
                     caller_seat: str | None = None) -> None:
        ctx = self.ctx
        se = parse_session_expires(request.headers.get("Session-Expires"))
        if se is not None and se[0] < self.policy.min_se:
            ctx.respond(key, request, 422, headers=[("Min-SE", str(self.policy.min_se))], now=now)
            return
        try:
            ports = [self.ports.take(), self.ports.take()]
        except PortsExhausted:
            ctx.respond(key, request, 503, "No media ports left", now=now)
            return
        uuid = ctx.ids.call_uuid()
        call = Call(ctx, uuid=uuid, direction=direction, caller=caller, callee=callee, seat_id=seat,
                    ports={}, now=now, on_done=self._call_done)
        call.ports = {call.a_side: ports[0], call.b_side: ports[1]}
        try:
            leg = UasLeg(ctx, call, call.a_side, key, request, peer, ports[0])
        except ParseError as err:
            self._release(ports)
            ctx.respond(key, request, 488 if err.status == 488 else 400, err.reason, now=now)
            return
        codecs, _ = relay_codecs(leg.remote_offer)
        if not codecs:
            leg.reject(488, now, "No common codec (PCMU/PCMA)")
            self._release(ports)
            return
        self.calls[uuid] = call
        merged = (request.call_id, request.from_.tag or "", request.cseq.number)
        self._invites[merged] = key
        call.merged_key = merged
        call.seats = [s for s in (seat, caller_seat) if s is not None]
        for busy in call.seats:
            self.busy_seats.setdefault(busy, set()).add(uuid)
        ctx.emit(OpenMedia(uuid, dict(call.ports)))
        ctx.emit(WriteCallStarted(uuid, request.call_id, direction, caller, callee, did, seat, now))
        ctx.emit(Publish("call.offered", {"call": uuid, "direction": direction, "caller": caller,
                                          "callee": callee, "seat": seat, "ts": now}))
        max_forwards = int(request.headers.get("Max-Forwards") or "70")
        call.start(leg, targets, self.policy.ring_timeout, now, max_forwards=max_forwards - 1)

    def _call_done(self, call: Call) -> None:
        self.calls.pop(call.uuid, None)
        self._release(list(call.ports.values()))
        if call.merged_key is not None:
            self._invites.pop(call.merged_key, None)
        for seat in call.seats:
            uuids = self.busy_seats.get(seat, set())
            uuids.discard(call.uuid)
            if not uuids:
                self.busy_seats.pop(seat, None)

    def _release(self, ports: list[int]) -> None:
        for port in ports:
            self.ports.release(port)


def binding_peer(binding: Binding) -> Peer:
    """Where to send requests for a registered contact.

    The Contact's own address when it names the host the REGISTER came from; otherwise the phone
    is behind NAT and its Contact is unreachable, so the REGISTER's source is used (the
    nathelper approach). Over TCP the phone's own connection is reused.
    """
    transport, host, port = binding.source
    if transport == Transport.UDP.value:
        try:
            uri = SipUri.parse(binding.contact.uri)
        except ParseError:
            uri = None
        if uri is not None and uri.host.strip("[]") == host:
            return Peer(Transport.UDP, host, uri.port or 5060)
    return Peer(Transport(transport), host, port)


def _user_of(uri: str) -> str:
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    user = rest.split("@", 1)[0] if "@" in rest else ""
    return user.split(";", 1)[0]
