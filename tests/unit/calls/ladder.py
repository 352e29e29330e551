"""Ladder tests for the call engine: scripted peers around one in-memory :class:`CallEngine`.

In the spirit of mitmproxy's ``tutils`` playbook: a test reads like the ladder diagram it checks.
``>>`` is a message a peer sends to callfloor, ``<<`` what callfloor sends back or commands::

    floor = Floor()
    seat = floor.phone("1001").register()            # >> REGISTER, << 401, >> REGISTER, << 200
    call = floor.carrier.call("+15550100", sdp(...)) # >> INVITE from carrier
    floor.carrier.expect("100")                      # << 100 to carrier
    fork = seat.ringing()                            # << INVITE to seat 1001, >> 180
    floor.carrier.expect("180")                      # << 180 to carrier

Peers build their messages as SIP text and hand the engine what ``parse_message`` makes of the
bytes, so every step also crosses the real parser. The engine's datagrams are parsed again and
filed in the inbox of the peer they are addressed to; byte-identical retransmissions are counted
and skipped. Every step is written to a transcript that failures print.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from typing import Any

from telephony.calls.commands import Command
from telephony.calls.engine import CallEngine
from telephony.calls.ids import IdFactory
from telephony.calls.policy import EnginePolicy
from telephony.sip.message import Headers, Request, Response, make_response
from telephony.sip.parser import parse_message
from telephony.sip.transport import Peer, Transport
from tests.unit.calls.peercall import PeerCall
from tests.unit.calls.wire import (
    CARRIER_HOST,
    CARRIER_OFFER,
    FLOOR_HOST,
    SEATS,
    START,
    describe,
    digest_authorization,
    make_policy,
    sdp,
)

__all__ = [
    "CARRIER_HOST",
    "CARRIER_OFFER",
    "FLOOR_HOST",
    "Endpoint",
    "Floor",
    "LadderError",
    "PeerCall",
    "Phone",
    "connect_inbound",
    "connect_outbound",
    "describe",
    "digest_authorization",
    "make_policy",
    "sdp",
]


class LadderError(AssertionError):
    """A step of the ladder did not happen as written."""


class Floor:
    """One engine, its clock, the peers around it and the transcript of everything exchanged."""

    def __init__(self, policy: EnginePolicy | None = None, *, seed: int = 7,
                 now: float = START, start: bool = True) -> None:
        self.policy = policy or make_policy()
        self.engine = CallEngine(self.policy, ids=IdFactory(random.Random(seed)))
        self.now = now
        self.transcript: list[str] = []
        self.commands: deque[Command] = deque()
        self.endpoints: dict[tuple[str, int], Endpoint] = {}
        trunk = self.policy.trunk
        self.carrier = Endpoint(self, "carrier", trunk.host if trunk else CARRIER_HOST,
                                trunk.port if trunk else 5060)
        self._phones = 0
        if start:
            self.engine.start(now)
            self.pump()

    # -- peers ----------------------------------------------------------------------------------
    def phone(self, seat: str, *, host: str | None = None, port: int = 5060,
              password: str | None = None) -> Phone:
        """A softphone for ``seat`` on its own address (10.0.0.11, .12, ...)."""
        self._phones += 1
        return Phone(self, seat, host or f"10.0.0.{10 + self._phones}", port,
                     password if password is not None else SEATS.get(seat, "nopass"))

    def endpoint(self, name: str, host: str, port: int = 5060) -> Endpoint:
        """Any other peer (a scanner, a stranger's SBC)."""
        return Endpoint(self, name, host, port)

    # -- the engine's outputs -------------------------------------------------------------------
    def log(self, line: str) -> None:
        """Add a line to the transcript."""
        self.transcript.append(line)

    def fail(self, message: str) -> LadderError:
        """An error carrying the tail of the transcript."""
        tail = "\n".join(self.transcript[-40:])
        return LadderError(f"{message}\n--- ladder so far ---\n{tail}")

    def pump(self) -> None:
        """File every datagram with its peer and queue every command."""
        for out in self.engine.datagrams_to_send():
            endpoint = self.endpoints.get(out.peer.addr)
            if endpoint is None:
                raise self.fail(f"datagram for unknown peer {out.peer}: {out.data[:60]!r}")
            endpoint.deliver(out.data)
        self.commands.extend(self.engine.commands())

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass, firing every engine and transaction timer due on the way."""
        self.run_until(self.now + seconds)

    def run_until(self, when: float) -> None:
        """Fire timers in deadline order up to ``when``."""
        while (deadline := self.engine.get_timer()) is not None and deadline <= when:
            self.now = max(self.now, deadline)
            self.engine.handle_timer(self.now)
            self.pump()
        self.now = when
        self.log(f"   ... t={self.now - START:.1f}")

    # -- commands -------------------------------------------------------------------------------
    def expect_commands(self, *lines: str) -> list[Command]:
        """The next commands, as :func:`describe` lines, exactly and in order."""
        self.pump()
        got = [self.commands.popleft() for _ in range(min(len(lines), len(self.commands)))]
        seen = [describe(c) for c in got]
        for line in seen:
            self.log(f"<< {line}")
        if seen != list(lines):
            raise self.fail(f"expected commands {list(lines)}, got {seen}")
        return got

    def take_commands(self) -> list[Command]:
        """Every queued command (for tests that look at their fields)."""
        self.pump()
        out = list(self.commands)
        self.commands.clear()
        for command in out:
            self.log(f"<< {describe(command)}")
        return out

    def expect_no_commands(self) -> None:
        """No command is queued."""
        self.pump()
        if self.commands:
            raise self.fail(f"unexpected commands {[describe(c) for c in self.commands]}")

    def quiet(self) -> None:
        """Nothing at all is pending for any peer, and no command."""
        self.expect_no_commands()
        for endpoint in self.endpoints.values():
            endpoint.expect_nothing()


class Endpoint:
    """A SIP peer at one address: it sends scripted messages and receives what callfloor sends."""

    def __init__(self, floor: Floor, name: str, host: str, port: int = 5060,
                 transport: Transport = Transport.UDP) -> None:
        self.floor = floor
        self.name = name
        self.user = name.replace(" ", "")  # the user part of our Contact
        self.peer = Peer(transport, host, port)
        self.inbox: deque[Request | Response] = deque()
        self._seen: set[bytes] = set()
        self.retransmissions = 0
        self._branches = 0
        floor.endpoints[(host, port)] = self

    @property
    def address(self) -> str:
        """``host:port`` as written in Via and Contact."""
        return f"{self.peer.host}:{self.peer.port}"

    def deliver(self, data: bytes) -> None:
        """A datagram from callfloor; exact repeats are retransmissions."""
        if data in self._seen:
            self.retransmissions += 1
            return
        self._seen.add(data)
        self.inbox.append(parse_message(data))

    def via(self) -> str:
        """A fresh top Via of this peer."""
        self._branches += 1
        return f"SIP/2.0/UDP {self.address};branch=z9hG4bK{self.user}.{self.peer.host}.{self._branches}"

    # -- >> -------------------------------------------------------------------------------------
    def send(self, message: Request | Response) -> Request | Response:
        """>> ``message`` to callfloor (through the parser); returns what the engine got."""
        parsed = parse_message(message.to_bytes())  # what the engine sees after the wire
        self.floor.log(f">> {_label(parsed)} from {self.name}")
        self.floor.engine.receive(parsed, self.peer, self.floor.now)
        self.floor.pump()
        return parsed

    def request(self, method: str, uri: str, *, from_: str, to: str, call_id: str, cseq: int,
                headers: Iterable[tuple[str, str]] = (), body: bytes = b"",
                via: str | None = None, max_forwards: int | None = 70) -> Request:
        """>> a request built from these fields; returns it as the engine received it."""
        h = Headers([("Via", via or self.via())])
        if max_forwards is not None:
            h.add("Max-Forwards", str(max_forwards))
        h.add("From", from_)
        h.add("To", to)
        h.add("Call-ID", call_id)
        h.add("CSeq", f"{cseq} {method}")
        for name, value in headers:
            h.add(name, value)
        if body:
            h.add("Content-Type", "application/sdp")
        sent = self.send(Request(method=method, uri=uri, headers=h, body=body))
        assert isinstance(sent, Request)
        return sent

    def reply(self, request: Request, status: int, *, to_tag: str | None = None, body: bytes = b"",
              headers: Iterable[tuple[str, str]] = (), contact: bool = True) -> Response:
        """>> a response to ``request`` (RFC 3261 §8.2.6) with our Contact."""
        response = make_response(request, status, to_tag=to_tag)
        if contact and request.method in ("INVITE", "UPDATE") and status > 100:
            response.headers.add("Contact", f"<sip:{self.user}@{self.address}>")
        for name, value in headers:
            response.headers.add(name, value)
        if body:
            response.headers.add("Content-Type", "application/sdp")
            response.body = body
        sent = self.send(response)
        assert isinstance(sent, Response)
        return sent

    # -- << -------------------------------------------------------------------------------------
    def expect(self, what: str) -> Any:
        """<< the next message for this peer: a method (``"INVITE"``) or a status, optionally with
        the CSeq method (``"200"``, ``"200 CANCEL"``). Returns the parsed Request/Response."""
        self.floor.pump()
        if not self.inbox:
            raise self.floor.fail(f"expected << {what} to {self.name}, nothing was sent")
        message = self.inbox.popleft()
        self.floor.log(f"<< {_label(message)} to {self.name}")
        head, _, method = what.partition(" ")
        if head.isdigit():
            ok = isinstance(message, Response) and message.status == int(head) and (
                not method or message.cseq.method == method)
        else:
            ok = isinstance(message, Request) and message.method == head
        if not ok:
            raise self.floor.fail(f"expected << {what} to {self.name}, got {_label(message)}")
        return message

    def expect_nothing(self) -> None:
        """Nothing more was sent to this peer."""
        self.floor.pump()
        if self.inbox:
            raise self.floor.fail(
                f"unexpected << {_label(self.inbox[0])} to {self.name} ({len(self.inbox)} queued)")

    # -- calls ----------------------------------------------------------------------------------
    def call(self, user: str, body: bytes = b"", *, headers: Iterable[tuple[str, str]] = (),
             from_user: str = "+15551230001", host: str = FLOOR_HOST,
             max_forwards: int | None = 70) -> PeerCall:
        """>> INVITE sip:<user>@callfloor with ``body`` as the offer."""
        leg = PeerCall(self, call_id=f"{self.user}-{self._branches + 1}@{self.peer.host}",
                       local_tag=f"{self.user}tag{self._branches + 1}",
                       local_uri=f"<sip:{from_user}@{self.peer.host}>",
                       remote_uri=f"<sip:{user}@{host}>", remote_target=f"sip:{user}@{host}")
        leg.send_invite(body, headers=headers, max_forwards=max_forwards)
        return leg

    def incoming(self, invite: Request, tag: str | None = None) -> PeerCall:
        """The call an INVITE from callfloor opens at this peer (we are its UAS)."""
        contact = invite.contacts[0].uri if invite.contacts else ""
        leg = PeerCall(self, call_id=invite.call_id, local_tag=tag or f"{self.user}tag{len(self._seen)}",
                       local_uri=invite.headers.get("To") or "",
                       remote_uri=(invite.headers.get("From") or "").split(";tag=")[0],
                       remote_target=contact)
        leg.remote_tag = invite.from_.tag or ""
        leg.invite = invite
        return leg


class Phone(Endpoint):
    """A seat's softphone: registers with digest, answers and places calls."""

    def __init__(self, floor: Floor, seat: str, host: str, port: int, password: str) -> None:
        super().__init__(floor, f"seat {seat}", host, port)
        self.seat = self.user = seat
        self.password = password
        self.reg_cseq = 0
        self.reg_call_id = f"reg-{seat}@{host}"

    @property
    def contact(self) -> str:
        """This phone's Contact URI."""
        return f"sip:{self.seat}@{self.address}"

    def send_register(self, *, expires: int = 300, authorization: str | None = None,
                      to_user: str | None = None, contact: str | None = None) -> Request:
        """>> REGISTER (with ``authorization`` as the Authorization value)."""
        self.reg_cseq += 1
        aor = f"<sip:{to_user or self.seat}@{FLOOR_HOST}>"
        headers = [("Contact", contact or f"<{self.contact}>"), ("Expires", str(expires))]
        if authorization:
            headers.append(("Authorization", authorization))
        return self.request("REGISTER", f"sip:{FLOOR_HOST}", from_=f"{aor};tag=r{self.seat}",
                            to=aor, call_id=self.reg_call_id, cseq=self.reg_cseq, headers=headers)

    def register(self, *, expires: int = 300, algorithm: str | None = None, use_qop: bool = True,
                 password: str | None = None, to_user: str | None = None) -> Phone:
        """>> REGISTER, << 401, >> REGISTER with credentials, << 200; returns the phone."""
        self.send_register(expires=expires, to_user=to_user)
        challenge = self.challenge(self.expect("401"), "WWW-Authenticate", algorithm)
        auth = digest_authorization(challenge, self.seat, password or self.password, "REGISTER",
                                    f"sip:{FLOOR_HOST}", use_qop=use_qop)
        self.send_register(expires=expires, authorization=auth, to_user=to_user)
        self.expect("200")
        return self

    @staticmethod
    def challenge(response: Response, header: str, algorithm: str | None = None) -> str:
        """The challenge for ``algorithm`` (or the first one) in ``response``."""
        values = response.headers.get_all(header)
        for value in values:
            if algorithm is None or f"algorithm={algorithm}," in value + ",":
                return value
        raise AssertionError(f"no {algorithm} challenge in {values}")

    # -- as the called seat ---------------------------------------------------------------------
    def ringing(self, *, tag: str | None = None) -> PeerCall:
        """<< INVITE to this seat, >> 180 Ringing."""
        leg = self.incoming(self.expect("INVITE"), tag)
        leg.reply(180)
        return leg

    def answer(self, leg: PeerCall, body: bytes | None = None) -> Response:
        """>> 200 OK with our answer, << ACK."""
        response = leg.reply(200, body if body is not None else sdp(self.peer.host, 40000))
        self.expect("ACK")
        return response

    # -- as the calling seat --------------------------------------------------------------------
    def dial(self, number: str, body: bytes | None = None, *, algorithm: str | None = None,
             headers: Iterable[tuple[str, str]] = ()) -> PeerCall:
        """>> INVITE, << 100, << 407, >> ACK, >> INVITE with Proxy-Authorization, << 100."""
        offer = body if body is not None else sdp(self.peer.host, 40000)
        leg = self.call(number, offer, from_user=self.seat, headers=headers)
        self.expect("100")
        refusal = leg.expect("407")
        leg.ack(refusal)
        challenge = self.challenge(refusal, "Proxy-Authenticate", algorithm)
        auth = digest_authorization(challenge, self.seat, self.password, "INVITE", leg.remote_target)
        leg.remote_tag = ""
        leg.send_invite(offer, headers=[("Proxy-Authorization", auth), *headers])
        self.expect("100")
        return leg


def _label(message: Request | Response) -> str:
    if isinstance(message, Request):
        return f"{message.method} {message.uri}"
    return f"{message.status} {message.reason} ({message.cseq.method})"


def connect_inbound(floor: Floor, phone: Phone, did: str = "+15550100",
                    offer: bytes = CARRIER_OFFER,
                    headers: Iterable[tuple[str, str]] = ()) -> tuple[PeerCall, PeerCall]:
    """The whole inbound ladder up to the carrier's ACK; returns (carrier's call, seat's call)."""
    call = floor.carrier.call(did, offer, headers=headers)
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    phone.answer(seat)
    call.ack(call.expect("200"))
    floor.take_commands()
    return call, seat


def connect_outbound(floor: Floor, phone: Phone, number: str = "915551234567",
                     headers: Iterable[tuple[str, str]] = ()) -> tuple[PeerCall, PeerCall]:
    """Seat dials out, the carrier answers; returns (seat's call, carrier's call)."""
    call = phone.dial(number, headers=headers)
    carrier = floor.carrier.incoming(floor.carrier.expect("INVITE"))
    carrier.reply(180)
    call.expect("180")
    carrier.reply(200, sdp(CARRIER_HOST, 30000, "PCMA"))
    floor.carrier.expect("ACK")
    call.ack(call.expect("200"))
    floor.take_commands()
    return call, carrier
