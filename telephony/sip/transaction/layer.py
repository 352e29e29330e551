"""The transaction layer (RFC 3261 §17): messages and clock ticks in, events and datagrams out.

Sans-IO in the style of aioquic: ``receive(msg, peer, now)`` and ``handle_timer(now)`` return
events for the TU, ``datagrams_to_send()`` drains what to put on the wire, ``get_timer()`` says
when to call back. Timers of every transaction live in one heap with lazy deletion.
"""

from __future__ import annotations

import heapq
import secrets
from collections.abc import Callable

from telephony.sip.errors import LocalProtocolError, SipError
from telephony.sip.message import Request, Response, make_response
from telephony.sip.transaction.base import Transaction, TxInput, TxState
from telephony.sip.transaction.client import ClientInvite, ClientNonInvite
from telephony.sip.transaction.events import (
    DEFAULT_POLICY,
    AckReceived,
    CancelReceived,
    RequestReceived,
    TimerPolicy,
    TxEvent,
    TxKey,
)
from telephony.sip.transaction.matching import (
    MAGIC_COOKIE,
    ack_key,
    response_peer,
    server_key,
    stamp_via,
)
from telephony.sip.transaction.server import ServerInvite, ServerNonInvite
from telephony.sip.transport import Outgoing, Peer

__all__ = ["TransactionLayer"]

_Client = ClientInvite | ClientNonInvite
_Server = ServerInvite | ServerNonInvite
_HeapEntry = tuple[float, int, Transaction, TxInput]
_COMPACT_MIN = 1024  # rebuild the heap when more than half of at least this many entries are stale


def _default_tag() -> str:
    return secrets.token_hex(4)  # §19.3: at least 32 random bits


class TransactionLayer:
    """Every client and server transaction of one SIP endpoint.

    ``auto_trying`` answers each new INVITE with 100 Trying at once (§17.2.1); ``tag_factory``
    makes the To tags of the responses the layer builds itself (CANCEL's 200/481, 482).
    """

    def __init__(
        self,
        policy: TimerPolicy = DEFAULT_POLICY,
        *,
        auto_trying: bool = True,
        tag_factory: Callable[[], str] = _default_tag,
    ) -> None:
        self._policy = policy
        self._auto_trying = auto_trying
        self._new_tag = tag_factory  # To tags for the responses the layer makes itself
        self._clients: dict[TxKey, _Client] = {}
        self._servers: dict[TxKey, _Server] = {}
        self._by_ack: dict[tuple[str, int, str], ServerInvite] = {}
        self._heap: list[_HeapEntry] = []
        self._seq = 0
        self._stale = 0
        self._out: list[Outgoing] = []
        self._events: list[TxEvent] = []

    # -- Host protocol (used by the transactions) --------------------------------------------
    @property
    def policy(self) -> TimerPolicy:
        """The timer values every transaction runs on."""
        return self._policy

    def send(self, data: bytes, peer: Peer) -> None:
        """Queue bytes for ``peer``."""
        self._out.append(Outgoing(data, peer))

    def emit(self, event: TxEvent) -> None:
        """Queue an event for the TU."""
        self._events.append(event)

    def schedule(self, txn: Transaction, timer: TxInput, deadline: float) -> int:
        """Push a timer; returns the sequence number that identifies the live entry."""
        self._seq += 1
        heapq.heappush(self._heap, (deadline, self._seq, txn, timer))
        return self._seq

    def unscheduled(self) -> None:
        """A pending timer was cancelled: its entry is now stale; compact when they pile up."""
        self._stale += 1
        if self._stale >= _COMPACT_MIN and 2 * self._stale > len(self._heap):
            self._heap = [e for e in self._heap if e[2].pending(e[3], e[1])]
            heapq.heapify(self._heap)
            self._stale = 0

    def remove(self, txn: Transaction) -> None:
        """Forget a terminated transaction."""
        if self._clients.get(txn.key) is txn:
            del self._clients[txn.key]
        elif self._servers.get(txn.key) is txn:
            del self._servers[txn.key]
        if isinstance(txn, ServerInvite) and self._by_ack.get(txn.ack_key) is txn:
            del self._by_ack[txn.ack_key]

    # -- public API ------------------------------------------------------------------------
    def receive(self, msg: Request | Response, peer: Peer, now: float) -> list[TxEvent]:
        """Match a parsed message to a transaction (§17.1.3, §17.2.3) and return the TU's events.

        Raises :class:`~telephony.sip.errors.RemoteProtocolError` (a ``ParseError``) when Via,
        CSeq or From cannot be read; the caller answers 400 statelessly where it can.
        """
        if isinstance(msg, Response):
            self._receive_response(msg, now)
        else:
            self._receive_request(msg, peer, now)
        return self._drain_events()

    def send_request(self, request: Request, peer: Peer, now: float) -> TxKey:
        """Start a client transaction; the TU has put a top Via with a z9hG4bK branch on it."""
        if request.method == "ACK":
            raise LocalProtocolError("ACK is not a transaction: use send_ack or send_stateless")
        try:
            branch, method = request.top_via.branch, request.cseq.method
        except SipError as exc:
            raise LocalProtocolError(f"cannot send request: {exc.reason}") from exc
        if not branch.startswith(MAGIC_COOKIE) or method != request.method:
            raise LocalProtocolError("request needs a z9hG4bK branch and a matching CSeq method")
        key = (branch, method)
        if key in self._clients:
            raise LocalProtocolError(f"client transaction {key} already exists")
        txn: _Client
        if method == "INVITE":
            txn = ClientInvite(key, request, peer, self)
        else:
            txn = ClientNonInvite(key, request, peer, self)
        self._clients[key] = txn
        txn.start(now)
        invite = self._clients.get((branch, "INVITE"))
        if method == "CANCEL" and isinstance(invite, ClientInvite):
            invite.cancel_sent(now)
        return key

    def send_response(self, key: TxKey, response: Response, now: float) -> None:
        """Send a response through the server transaction ``key``."""
        txn = self._servers.get(key)
        if txn is None:
            raise LocalProtocolError(f"no server transaction {key}")
        if not 100 <= response.status <= 699:
            raise LocalProtocolError(f"bad status code {response.status}")
        txn.handle(_send_input(response.status), now, response)

    def send_ack(self, invite_key: TxKey, ack: Request, peer: Peer) -> None:
        """Send the TU's ACK for a 2xx; it is re-sent for retransmissions of that 2xx (RFC 6026)."""
        if ack.method != "ACK":
            raise LocalProtocolError(f"send_ack given a {ack.method}")
        out = Outgoing(ack.to_bytes(), peer)
        self._out.append(out)
        txn = self._clients.get(invite_key)
        if isinstance(txn, ClientInvite):
            txn.remember_ack(ack.to.tag or "", out)

    def send_stateless(self, msg: Request | Response, peer: Peer) -> None:
        """Send a message outside any transaction (stateless answers, relayed ACKs)."""
        self._out.append(Outgoing(msg.to_bytes(), peer))

    def transport_error(self, peer: Peer, now: float) -> list[TxEvent]:
        """The transport failed towards ``peer``: end its transactions (§17.1.4, §17.2.4)."""
        for txn in [*self._clients.values(), *self._servers.values()]:
            source = txn.source if isinstance(txn, ServerInvite | ServerNonInvite) else None
            if peer in (txn.peer, source):
                txn.handle(TxInput.TRANSPORT_ERROR, now)
        return self._drain_events()

    def datagrams_to_send(self) -> list[Outgoing]:
        """Drain the output queue."""
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        """The earliest pending deadline, or None."""
        heap = self._heap
        while heap:
            deadline, seq, txn, timer = heap[0]
            if txn.pending(timer, seq):
                return deadline
            heapq.heappop(heap)
            self._stale -= 1
        return None

    def handle_timer(self, now: float) -> list[TxEvent]:
        """Fire every timer due at ``now``."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, seq, txn, timer = heapq.heappop(heap)
            if not txn.fire(timer, seq, now):
                self._stale -= 1
        return self._drain_events()

    def __len__(self) -> int:
        return len(self._clients) + len(self._servers)

    # -- receiving -------------------------------------------------------------------------
    def _drain_events(self) -> list[TxEvent]:
        events, self._events = self._events, []
        return events

    def _receive_response(self, response: Response, now: float) -> None:
        # §17.1.3: top Via branch + CSeq method; strays are dropped (§18.1.2).
        key = (response.top_via.branch, response.cseq.method)
        txn = self._clients.get(key)
        if txn is not None:
            txn.handle(_recv_input(response.status), now, response)

    def _receive_request(self, request: Request, peer: Peer, now: float) -> None:
        via = request.top_via
        key = server_key(request, via)  # before stamping: retransmissions arrive unstamped
        sent_by = via.sent_by.lower()
        via = stamp_via(request, via, peer)
        if request.method == "ACK":
            self._receive_ack(request, key, sent_by, peer, now)
            return
        txn = self._servers.get(key)
        if txn is not None:
            if txn.sent_by == sent_by:
                txn.handle(TxInput.RECV_REQUEST, now, request, peer)
            else:
                self._answer_stateless(request, 482, response_peer(via, peer))
            return
        dest = response_peer(via, peer)
        if request.method == "CANCEL":
            self._receive_cancel(request, key, sent_by, peer, dest, now)
        elif request.method == "INVITE":
            self._new_invite(request, key, sent_by, peer, dest, now)
        else:
            self._servers[key] = ServerNonInvite(key, request, peer, dest, sent_by, self)
            self.emit(RequestReceived(key, request, peer))

    def _new_invite(
        self, request: Request, key: TxKey, sent_by: str, peer: Peer, dest: Peer, now: float
    ) -> None:
        akey = ack_key(request)
        txn = ServerInvite(key, request, peer, dest, sent_by, self, akey)
        self._servers[key] = txn
        self._by_ack[akey] = txn
        self.emit(RequestReceived(key, request, peer))
        if self._auto_trying:
            txn.handle(TxInput.SEND_1XX, now, make_response(request, 100))

    def _receive_ack(
        self, request: Request, key: TxKey, sent_by: str, peer: Peer, now: float
    ) -> None:
        txn = self._servers.get(key)
        if isinstance(txn, ServerInvite) and txn.sent_by == sent_by:
            # The non-2xx ACK (§17.2.3), or a 2xx ACK that reused the INVITE's branch.
            txn.handle(TxInput.RECV_ACK, now, request, peer)
            return
        # §17.1.1.3: the ACK for a 2xx has its own branch; find its INVITE by dialog fields.
        txn = self._by_ack.get(ack_key(request))
        if txn is not None and txn.state is TxState.ACCEPTED:
            txn.handle(TxInput.RECV_ACK, now, request, peer)
        else:
            self.emit(AckReceived(request, peer))

    def _receive_cancel(
        self, request: Request, key: TxKey, sent_by: str, peer: Peer, dest: Peer, now: float
    ) -> None:
        # §9.2: the CANCEL gets its own transaction, answered here; the TU only answers the INVITE.
        txn = ServerNonInvite(key, request, peer, dest, sent_by, self)
        self._servers[key] = txn
        invite = self._servers.get((key[0], "INVITE"))
        if not isinstance(invite, ServerInvite) or invite.sent_by != sent_by:
            response = make_response(request, 481, to_tag=self._new_tag())
            txn.handle(TxInput.SEND_FINAL, now, response)
            return
        response = make_response(request, 200, to_tag=invite.local_tag or self._new_tag())
        txn.handle(TxInput.SEND_2XX, now, response)
        if invite.state is TxState.PROCEEDING:
            self.emit(CancelReceived(invite.key, request, peer))

    def _answer_stateless(self, request: Request, status: int, peer: Peer) -> None:
        # A request whose branch collides with a live transaction from another sent-by: the
        # closest the RFC has is the merged-request answer of §8.2.2.2.
        self.send_stateless(make_response(request, status, to_tag=self._new_tag()), peer)


def _recv_input(status: int) -> TxInput:
    if status < 200:
        return TxInput.RECV_1XX
    return TxInput.RECV_2XX if status < 300 else TxInput.RECV_FINAL


def _send_input(status: int) -> TxInput:
    if status < 200:
        return TxInput.SEND_1XX
    return TxInput.SEND_2XX if status < 300 else TxInput.SEND_FINAL
