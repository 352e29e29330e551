"""New calls: where an INVITE goes (trunk or seat, DID, route, director, feature code, outside
line) and the bookkeeping of which seats are busy. A mixin of :class:`CallEngine`."""

from __future__ import annotations

import logging

from telephony.calls.call import Call, Target
from telephony.calls.commands import OpenMedia, Publish, WriteCallStarted
from telephony.calls.context import EngineContext
from telephony.calls.director import Director
from telephony.calls.hosted import NUMBER_PREFIX, HostedCall
from telephony.calls.leg import parse_session_expires
from telephony.calls.media import PortPool, PortsExhausted, relay_codecs
from telephony.calls.policy import EnginePolicy
from telephony.calls.seats import SeatDesk, aor_of
from telephony.calls.uas import UasLeg
from telephony.sip.errors import ParseError
from telephony.sip.message import Request
from telephony.sip.registrar import Binding
from telephony.sip.transaction import TxKey
from telephony.sip.transport import Peer, Transport
from telephony.sip.uri import SipUri

__all__ = ["InviteRouting", "binding_peer"]

log = logging.getLogger("callfloor.engine")


class InviteRouting:
    """Routes initial INVITEs into calls; mixed into :class:`~telephony.calls.engine.CallEngine`."""

    policy: EnginePolicy
    ctx: EngineContext
    seats: SeatDesk
    ports: PortPool
    calls: dict[str, Call]
    busy_seats: dict[str, set[str]]
    director: Director | None
    draining: bool
    _invites: dict[tuple[str, str, int], TxKey]

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
        caller = aor_of(request.from_)
        if self.director is not None and self.director.takes(did):
            self._host_call(key, request, peer, now, caller=caller, callee=did, did=did)
            return
        seat = self.policy.routes.get(did) or self.policy.routes.get(did.lstrip("+"))
        if seat is None:
            self.ctx.respond(key, request, 404, "No route for this number", now=now)
            return
        self._to_seat(key, request, peer, now, seat, direction="inbound", caller=caller,
                      display=request.from_.display or caller, callee=did)

    def _from_seat(self, seat: str, key: TxKey, request: Request, peer: Peer, now: float) -> None:
        dialled = _user_of(request.uri)
        trunk = self.policy.trunk
        if dialled == seat:
            self.ctx.respond(key, request, 403, "Cannot call your own seat", now=now)
            return
        if self.director is not None and self.director.is_feature_code(dialled):
            self._host_call(key, request, peer, now, caller=seat, callee=dialled, did="",
                            feature_seat=seat)
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
        target = self._trunk_target(number, trunk.caller_id or trunk.username or seat)
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
        for busy in (seat, caller_seat):
            if busy is not None:
                self._seat_busy(call, busy, True, notify=True)
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
        for seat in list(call.seats):
            self._seat_busy(call, seat, False, notify=call.reports_busy)

    def _seat_busy(self, call: Call, seat: str, busy: bool, *, notify: bool) -> None:
        """Keep ``busy_seats`` (seat -> live calls); the director hears of calls it did not place."""
        uuids = self.busy_seats.setdefault(seat, set())
        was_busy = bool(uuids)
        if busy:
            uuids.add(call.uuid)
            if seat not in call.seats:
                call.seats.append(seat)
        else:
            uuids.discard(call.uuid)
            if seat in call.seats:
                call.seats.remove(seat)
        if not uuids:
            del self.busy_seats[seat]
        if notify and self.director is not None and was_busy != bool(uuids):
            self.director.seat_busy(seat, bool(uuids), self.ctx.now)

    def _release(self, ports: list[int]) -> None:
        for port in ports:
            self.ports.release(port)

    def _host_call(self, key: TxKey, request: Request, peer: Peer, now: float, *, caller: str,
                   callee: str, did: str, feature_seat: str | None = None) -> None:
        """Answer the call ourselves and hand it to the director (IVR, queue, feature code)."""
        assert self.director is not None
        ctx = self.ctx
        try:
            ports = [self.ports.take(), self.ports.take()]
        except PortsExhausted:
            ctx.respond(key, request, 503, "No media ports left", now=now)
            return
        direction = "internal" if feature_seat else "inbound"
        uuid = ctx.ids.call_uuid()
        call = HostedCall(ctx, uuid=uuid, caller=caller, callee=callee, ports={}, now=now,
                          on_done=self._call_done, resolver=self._seat_targets, direction=direction)
        call.ports = {call.a_side: ports[0], call.b_side: ports[1]}
        call.on_seat_busy = lambda seat, busy: self._seat_busy(call, seat, busy, notify=False)
        try:
            leg = UasLeg(ctx, call, call.a_side, key, request, peer, ports[0])
        except ParseError as err:
            self._release(ports)
            ctx.respond(key, request, 488 if err.status == 488 else 400, err.reason, now=now)
            return
        codecs, _ = relay_codecs(leg.remote_offer)
        if leg.remote_offer is not None and not codecs:
            leg.reject(488, now, "No common codec (PCMU/PCMA)")
            self._release(ports)
            return
        self.calls[uuid] = call
        merged = (request.call_id, request.from_.tag or "", request.cseq.number)
        self._invites[merged] = key
        call.merged_key = merged
        ctx.emit(OpenMedia(uuid, dict(call.ports), hosted=call.a_side))
        ctx.emit(WriteCallStarted(uuid, request.call_id, direction, caller, callee, did, None, now))
        ctx.emit(Publish("call.offered", {"call": uuid, "direction": direction, "caller": caller,
                                          "callee": callee, "seat": None, "ts": now}))
        call.host(leg, now)
        if feature_seat is not None:
            self.director.feature_code(feature_seat, callee, call, now)
        else:
            self.director.call_arrived(call, now)

    def _trunk_target(self, number: str, caller_id: str) -> Target:
        """An outside number, reached through the carrier (answering its 401/407)."""
        trunk = self.policy.trunk
        assert trunk is not None
        return Target(
            request_uri=f"sip:{number}@{trunk.host}:{trunk.port}",
            peer=Peer(trunk.transport, trunk.host, trunk.port),
            to_uri=f"sip:{number}@{trunk.host}",
            from_uri=f"sip:{caller_id}@{self.policy.host}",
            credentials=(trunk.username, trunk.password) if trunk.username and trunk.password else None,
        )

    def _seat_targets(self, seat: str, call: HostedCall) -> list[Target]:
        """The registered phones of ``seat`` (or, for ``number:<n>``, the carrier), as forks of ``call``."""
        if seat.startswith(NUMBER_PREFIX):
            if self.policy.trunk is None:
                return []
            return [self._trunk_target(seat[len(NUMBER_PREFIX):], call.caller or "anonymous")]
        display = call.a.invite.from_.display if call.a is not None else ""
        return [
            Target(request_uri=b.contact.uri, peer=binding_peer(b),
                   to_uri=f"sip:{seat}@{self.policy.host}",
                   from_uri=f"sip:{call.seat_caller_id or 'anonymous'}@{self.policy.host}",
                   from_display=display or call.seat_caller_id)
            for b in self.seats.registrar.lookup(seat, self.ctx.now)
        ]


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
