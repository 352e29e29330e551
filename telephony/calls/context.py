"""The engine's shared services: the transaction layer, timers, ids, indexes and the command queue.

Calls, legs and the registrar front-end get one :class:`EngineContext` and do all their sending
through it, so every byte and command leaves the pure core by one door.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

from telephony.calls.commands import Command
from telephony.calls.ids import IdFactory
from telephony.calls.policy import EnginePolicy
from telephony.calls.timers import TimerHeap
from telephony.sip.message import Headers, Request, Response, make_response
from telephony.sip.transaction import TimerPolicy, TransactionLayer, TxKey
from telephony.sip.transport import Peer, Transport

if TYPE_CHECKING:
    from telephony.calls.leg import Leg
    from telephony.calls.uas import UasLeg

__all__ = ["ALLOW", "EngineContext", "ResponseHandler", "TimerFn"]

ResponseHandler = Callable[[Response | None, float], None]
TimerFn = Callable[[float], None]

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REGISTER"


class EngineContext:
    """What every part of the engine shares; owns no call logic itself."""

    def __init__(self, policy: EnginePolicy, ids: IdFactory) -> None:
        self.policy = policy
        self.ids = ids
        self.txl = TransactionLayer(TimerPolicy(t1=policy.t1))
        self.commands: list[Command] = []
        self.now = 0.0  # the latest time the engine was given (for callbacks that carry none)
        self.timers = TimerHeap()
        self._timer_fns: dict[Hashable, TimerFn] = {}
        # Response owners for client transactions; None as response means timeout/transport error.
        self.client_owners: dict[TxKey, ResponseHandler] = {}
        # In-dialog routing: (Call-ID, our tag) → leg.
        self.legs: dict[tuple[str, str], Leg] = {}
        # Server INVITE transactions → the leg that received them (CANCEL, ACK timeout).
        self.server_invites: dict[TxKey, UasLeg] = {}

    # -- timers ---------------------------------------------------------------------------
    def set_timer(self, key: Hashable, deadline: float, fn: TimerFn) -> None:
        """Call ``fn(now)`` once at ``deadline`` unless cancelled or replaced first."""
        self.timers.schedule(key, deadline)
        self._timer_fns[key] = fn

    def cancel_timer(self, key: Hashable) -> None:
        """Forget a timer (no-op if absent)."""
        self.timers.cancel(key)
        self._timer_fns.pop(key, None)

    def fire_timers(self, now: float) -> None:
        """Run every due timer callback."""
        for key in self.timers.pop_due(now):
            fn = self._timer_fns.pop(key, None)
            if fn is not None:
                fn(now)

    # -- addressing -----------------------------------------------------------------------
    def via(self, peer: Peer) -> str:
        """A new top Via for a request to ``peer`` (with rport, RFC 3581)."""
        p = self.policy
        return f"SIP/2.0/{peer.transport.value} {p.host}:{p.port};branch={self.ids.branch()};rport"

    def contact(self, peer: Peer, user: str = "callfloor") -> str:
        """Our Contact for dialogs with ``peer``."""
        p = self.policy
        suffix = ";transport=tcp" if peer.transport is Transport.TCP else ""
        return f"<sip:{user}@{p.host}:{p.port}{suffix}>"

    # -- sending --------------------------------------------------------------------------
    def send_request(
        self, request: Request, peer: Peer, now: float, owner: ResponseHandler | None
    ) -> TxKey:
        """Start a client transaction; ``owner`` gets each response (None on timeout)."""
        if "User-Agent" not in request.headers:
            request.headers.add("User-Agent", self.policy.user_agent)
        key = self.txl.send_request(request, peer, now)
        if owner is not None:
            self.client_owners[key] = owner
        return key

    def respond(
        self,
        key: TxKey,
        request: Request,
        status: int,
        reason: str | None = None,
        *,
        to_tag: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        content_type: str = "application/sdp",
        now: float,
    ) -> Response:
        """Answer a server transaction with a response built per RFC 3261 §8.2.6.

        A To tag is added to every response but 100 when the request had none (§8.2.6.2).
        """
        if to_tag is None and status > 100:
            to_tag = self.ids.tag()
        response = make_response(request, status, reason, to_tag=to_tag)
        self.decorate(response, headers, body, content_type)
        self.txl.send_response(key, response, now)
        return response

    def decorate(
        self,
        response: Response,
        headers: list[tuple[str, str]] | None,
        body: bytes,
        content_type: str,
    ) -> None:
        """Add our standard and the given headers and a body to ``response``."""
        h: Headers = response.headers
        for name, value in headers or ():
            h.add(name, value)
        if "Server" not in h:
            h.add("Server", self.policy.user_agent)
        if body:
            h.set("Content-Type", content_type)
            response.body = body

    def emit(self, command: Command) -> None:
        """Queue a command for the executor."""
        self.commands.append(command)
