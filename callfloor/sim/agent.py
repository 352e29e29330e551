"""An asyncio SIP user agent on one UDP socket, built on callfloor's sans-IO transaction layer.

Datagrams and one ``call_at`` timer drive :class:`TransactionLayer` (as ``telephony/net/server.py``
drives the engine); its events go to the dialogs, server INVITEs and request handler that the
simulated phones and carrier attach. Every task the agent spawns is cancelled by :meth:`close`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Protocol, TypeVar

from telephony.calls.ids import IdFactory
from telephony.sip.errors import LocalProtocolError, SipError
from telephony.sip.message import Request, Response, make_response
from telephony.sip.parser import MessageParseError, parse_message
from telephony.sip.transaction import (
    AckReceived,
    AckTimedOut,
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    TimerPolicy,
    TransactionLayer,
    TransactionTimedOut,
    TransportFailed,
    TxEvent,
    TxKey,
)
from telephony.sip.transport import Peer, Transport

__all__ = ["ALLOW", "DialogUser", "InviteUser", "RequestHandler", "ResponseHandler", "SipAgent"]

log = logging.getLogger("callfloor.sim")

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"
ResponseHandler = Callable[[Response | None], None]
RequestHandler = Callable[[TxKey, Request, Peer], None]
T = TypeVar("T")


class DialogUser(Protocol):
    """Receives the requests and ACKs of one dialog."""

    def on_request(self, key: TxKey, request: Request) -> None: ...
    def on_ack(self, request: Request) -> None: ...


class InviteUser(Protocol):
    """Owns a server INVITE transaction: hears its CANCEL and a missing ACK."""

    def on_cancel(self) -> None: ...
    def on_ack_timeout(self) -> None: ...


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, agent: SipAgent) -> None:
        self.agent = agent

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.agent.datagram_received(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: UDP error %s", self.agent.name, exc)


class SipAgent:
    """One SIP endpoint: socket, transactions, timers and the routing of their events."""

    def __init__(
        self,
        name: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ids: IdFactory | None = None,
        timers: TimerPolicy | None = None,
        user_agent: str = "callfloor-sim",
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.ids = ids or IdFactory()
        self.user_agent = user_agent
        self.txl = TransactionLayer(timers or TimerPolicy(), tag_factory=self.ids.tag)
        self.on_request: RequestHandler | None = None  # requests outside any dialog
        self._udp: asyncio.DatagramTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._clients: dict[TxKey, ResponseHandler] = {}
        self._dialogs: dict[tuple[str, str], DialogUser] = {}
        self._invites: dict[TxKey, InviteUser] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    # -- lifetime ---------------------------------------------------------------------------
    async def open(self) -> tuple[str, int]:
        """Bind the UDP socket (port 0 picks one); returns the bound address."""
        self._loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET,
                             socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._udp, _ = await self._loop.create_datagram_endpoint(lambda: _Udp(self), sock=sock)
        return self.address

    async def close(self) -> None:
        """Cancel every task, fail pending requests, stop the timer and close the socket."""
        if self._closed:
            return
        self._closed = True
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        clients, self._clients = self._clients, {}
        for handler in clients.values():
            handler(None)
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the agent listens on."""
        return (self.host, self.port)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has begun."""
        return self._closed

    def now(self) -> float:
        """The clock every timer of this agent runs on (the event loop's monotonic time)."""
        assert self._loop is not None, "agent not open"
        return self._loop.time()

    def spawn(self, coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
        """Run ``coro`` as a task the agent owns (cancelled by :meth:`close`)."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s: task %s failed", self.name, task.get_name(), exc_info=exc)

    # -- routing ----------------------------------------------------------------------------
    def attach_dialog(self, dialog_id: tuple[str, str], user: DialogUser) -> None:
        """Route requests and ACKs whose (Call-ID, To tag) is ``dialog_id`` to ``user``."""
        self._dialogs[dialog_id] = user

    def detach_dialog(self, dialog_id: tuple[str, str]) -> None:
        """Stop routing a dialog (no-op when unknown)."""
        self._dialogs.pop(dialog_id, None)

    def attach_invite(self, key: TxKey, user: InviteUser) -> None:
        """Tell ``user`` about CANCEL and ACK time-out of the server INVITE ``key``."""
        self._invites[key] = user

    def detach_invite(self, key: TxKey) -> None:
        """Forget a server INVITE (no-op when unknown)."""
        self._invites.pop(key, None)

    def forget(self, key: TxKey) -> None:
        """Stop passing responses of the client transaction ``key`` up."""
        self._clients.pop(key, None)

    # -- building ---------------------------------------------------------------------------
    def via(self) -> str:
        """A new top Via with a fresh branch and rport (RFC 3581)."""
        return f"SIP/2.0/UDP {self.host}:{self.port};branch={self.ids.branch()};rport"

    def contact(self, user: str) -> str:
        """Our Contact for ``user``."""
        return f"<sip:{user}@{self.host}:{self.port}>"

    # -- sending ----------------------------------------------------------------------------
    def send_request(
        self, request: Request, peer: Peer, on_response: ResponseHandler | None = None
    ) -> TxKey:
        """Start a client transaction; ``on_response`` gets each response, None on time-out.

        Non-INVITE handlers are dropped after the final response; INVITE handlers stay (2xx
        from other forks) until :meth:`forget`.
        """
        if "User-Agent" not in request.headers:
            request.headers.add("User-Agent", self.user_agent)
        key = self.txl.send_request(request, peer, self.now())
        if on_response is not None:
            self._clients[key] = on_response
        self._pump()
        return key

    async def request(self, request: Request, peer: Peer) -> Response | None:
        """Send a non-INVITE request and wait for its final response (None: Timer F, closed)."""
        if self._closed:
            return None
        done: asyncio.Future[Response | None] = asyncio.get_running_loop().create_future()

        def on_response(response: Response | None) -> None:
            if not done.done() and (response is None or response.status >= 200):
                done.set_result(response)

        self.send_request(request, peer, on_response)
        return await done

    def respond(
        self,
        key: TxKey,
        request: Request,
        status: int,
        reason: str | None = None,
        *,
        to_tag: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str = "application/sdp",
    ) -> bool:
        """Answer a server transaction (RFC 3261 §8.2.6); False when it can no longer answer.

        A final response to a request without a To tag gets a fresh tag unless ``to_tag`` is set.
        """
        if to_tag is None and status > 100 and request.to.tag is None:
            to_tag = self.ids.tag()
        response = make_response(request, status, reason, to_tag=to_tag)
        for name, value in headers:
            response.headers.add(name, value)
        response.headers.add("Server", self.user_agent)
        if body:
            response.headers.set("Content-Type", content_type)
            response.body = body
        if self._closed:
            return False
        try:
            self.txl.send_response(key, response, self.now())
        except LocalProtocolError as exc:
            # The transaction ended first (a CANCEL or ACK time-out won the race).
            log.debug("%s: %s", self.name, exc.reason)
            return False
        self._pump()
        return True

    def send_ack(self, invite_key: TxKey, ack: Request, peer: Peer) -> None:
        """Send the ACK for a 2xx (RFC 3261 §13.2.2.4); re-sent on 2xx retransmissions."""
        if not self._closed:
            self.txl.send_ack(invite_key, ack, peer)
            self._pump()

    def send_stateless(self, message: Request | Response, peer: Peer) -> None:
        """Send outside any transaction."""
        if not self._closed:
            self.txl.send_stateless(message, peer)
            self._pump()

    # -- input ------------------------------------------------------------------------------
    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        """Parse a datagram and feed it to the transaction layer."""
        if self._closed or not data.strip(b"\r\n\x00 "):
            return  # closed, or an RFC 5626 keep-alive
        peer = Peer(Transport.UDP, addr[0], addr[1])
        try:
            message = parse_message(data)
        except MessageParseError as err:
            if err.partial is not None and err.partial.method != "ACK":
                self._answer_bad(err.partial, err.status, err.reason, peer)
            return
        try:
            events = self.txl.receive(message, peer, self.now())
        except SipError as err:  # unreadable Via, CSeq or From: §8.2 lets us answer 400
            if isinstance(message, Request) and message.method != "ACK":
                self._answer_bad(message, err.status, err.reason, peer)
            return
        self._handle(events)

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        if not self._closed:
            self._handle(self.txl.handle_timer(self.now()))

    def _answer_bad(self, request: Request, status: int, reason: str, peer: Peer) -> None:
        try:
            response = make_response(request, status, reason, to_tag=self.ids.tag())
        except SipError:
            return  # too broken to answer
        self.txl.send_stateless(response, peer)
        self._pump()

    def _handle(self, events: list[TxEvent]) -> None:
        try:
            for event in events:
                try:
                    self._dispatch(event)
                except (SipError, ValueError) as exc:
                    # A peer's malformed header surfaced while handling it: drop that message.
                    log.info("%s: dropped %s: %s", self.name, type(event).__name__, exc)
        finally:
            self._pump()

    def _dispatch(self, event: TxEvent) -> None:
        if isinstance(event, RequestReceived):
            self._on_request(event.key, event.request, event.peer)
        elif isinstance(event, ResponseReceived):
            self._on_response(event.key, event.response)
        elif isinstance(event, AckReceived):
            user = self._dialogs.get((event.request.call_id, event.request.to.tag or ""))
            if user is not None:
                user.on_ack(event.request)
        elif isinstance(event, CancelReceived):
            if (invite := self._invites.get(event.invite_key)) is not None:
                invite.on_cancel()
        elif isinstance(event, AckTimedOut):
            if (invite := self._invites.get(event.key)) is not None:
                invite.on_ack_timeout()
        elif isinstance(event, TransactionTimedOut | TransportFailed):
            handler = self._clients.pop(event.key, None)
            if handler is not None:
                handler(None)

    def _on_request(self, key: TxKey, request: Request, peer: Peer) -> None:
        to_tag = request.to.tag
        if to_tag:
            user = self._dialogs.get((request.call_id, to_tag))
            if user is not None:
                user.on_request(key, request)
            elif request.method == "OPTIONS" and self.on_request is not None:
                self.on_request(key, request, peer)
            else:
                self.respond(key, request, 481)  # §12.2.2
        elif self.on_request is not None:
            self.on_request(key, request, peer)
        else:
            self.respond(key, request, 405, headers=[("Allow", ALLOW)])

    def _on_response(self, key: TxKey, response: Response) -> None:
        handler = self._clients.get(key)
        if handler is None:
            return
        if response.status >= 200 and (key[1] != "INVITE" or response.status >= 300):
            del self._clients[key]
        handler(response)

    # -- output -----------------------------------------------------------------------------
    def _pump(self) -> None:
        """Send what the transaction layer produced and re-arm the one timer."""
        out = self.txl.datagrams_to_send()
        if self._udp is not None:
            for item in out:
                self._udp.sendto(item.data, item.peer.addr)
        deadline = None if self._closed else self.txl.get_timer()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = None
        if deadline is not None and self._loop is not None:
            self._timer = self._loop.call_at(deadline, self._on_timer)
