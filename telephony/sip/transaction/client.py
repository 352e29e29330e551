"""Client transactions: INVITE (RFC 3261 §17.1.1, RFC 6026 Accepted) and non-INVITE (§17.1.2)."""

from __future__ import annotations

from typing import ClassVar

from telephony.sip.errors import ParseError
from telephony.sip.message import Headers, Request, Response
from telephony.sip.transaction.base import Host, Message, Table, Transaction, TxInput, TxState
from telephony.sip.transaction.events import ResponseReceived, TransactionTimedOut, TxKey
from telephony.sip.transport import Outgoing, Peer

__all__ = ["ClientInvite", "ClientNonInvite", "build_ack"]

S = TxState
In = TxInput
# §17.1.1.3: the ACK for a non-2xx copies these from the INVITE (To and CSeq are rewritten).
_ACK_COPIED = frozenset({"From", "Call-ID", "Route", "Max-Forwards"})
TIMER_D_UDP = 32.0  # §17.1.1.2: "at least 32 seconds" whatever T1 is


def build_ack(invite: Request, response: Response) -> Request:
    """The ACK for a 300-699 response to ``invite`` (§17.1.1.3), in the INVITE's header order."""
    headers = Headers()
    top_via_done = False
    for name, value in invite.headers:
        if name == "Via":
            if not top_via_done:
                headers.add(name, value)
                top_via_done = True
        elif name == "To":
            headers.add(name, response.headers.get("To") or value)
        elif name == "CSeq":
            headers.add(name, f"{invite.cseq.number} ACK")
        elif name in _ACK_COPIED:
            headers.add(name, value)
    return Request(method="ACK", uri=invite.uri, headers=headers)


def to_tag(msg: Message) -> str:
    """The To tag, or "" when absent or unreadable (then every such 2xx looks alike)."""
    try:
        return msg.to.tag or ""
    except ParseError:
        return ""


class _Client(Transaction):
    """Shared by both client kinds: the request bytes and the retransmission interval."""

    __slots__ = ("request", "data", "interval")

    def __init__(
        self, key: TxKey, request: Request, peer: Peer, host: Host, state: TxState
    ) -> None:
        super().__init__(key, peer, host, state)
        self.request = request
        self.data = request.to_bytes()  # encoded once, reused for every retransmission
        self.interval = host.policy.t1

    def _pass_up(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        assert isinstance(msg, Response)
        self.host.emit(ResponseReceived(self.key, msg))

    def _timed_out(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self.host.emit(TransactionTimedOut(self.key))


class ClientInvite(_Client):
    """§17.1.1 + RFC 6026: Calling -> Proceeding -> Completed | Accepted -> Terminated."""

    __slots__ = ("ack", "tags", "acks")

    STATES = frozenset({S.CALLING, S.PROCEEDING, S.COMPLETED, S.ACCEPTED})
    INPUTS = frozenset({In.RECV_1XX, In.RECV_2XX, In.RECV_FINAL, In.TIMER_A, In.TIMER_B, In.TIMER_D,
                        In.TIMER_M, In.TIMER_CANCEL, In.TRANSPORT_ERROR})
    TABLE: ClassVar[Table[ClientInvite]]

    def __init__(self, key: TxKey, request: Request, peer: Peer, host: Host) -> None:
        super().__init__(key, request, peer, host, S.CALLING)
        self.ack: bytes | None = None  # our ACK for a non-2xx final
        self.tags: set[str] = set()  # To tags of the 2xx responses passed up
        self.acks: dict[str, Outgoing] = {}  # the TU's ACK per 2xx To tag (send_ack)

    def handle(
        self, inp: TxInput, now: float, msg: Message | None = None, peer: Peer | None = None
    ) -> None:
        self._dispatch(ClientInvite.TABLE, inp, now, msg, peer)

    def start(self, now: float) -> None:
        """Send the INVITE; Timer A only for unreliable transports, Timer B always."""
        self.host.send(self.data, self.peer)
        if not self.peer.reliable:
            self.start_timer(In.TIMER_A, self.interval, now)
        self.start_timer(In.TIMER_B, self.policy.timeout, now)

    def cancel_sent(self, now: float) -> None:
        """§9.1: with no final 64*T1 after a CANCEL, give the INVITE up."""
        if self.state in (S.CALLING, S.PROCEEDING):
            self.start_timer(In.TIMER_CANCEL, self.policy.timeout, now)

    def remember_ack(self, tag: str, out: Outgoing) -> None:
        """Keep the TU's ACK for the 2xx with To tag ``tag`` to answer its retransmissions."""
        if self.state is S.ACCEPTED:
            self.acks[tag] = out

    def _retransmit(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        # §17.1.1.2: Timer A doubles each time and, unlike Timer E, is not capped by T2.
        self.host.send(self.data, self.peer)
        self.interval *= 2
        self.start_timer(In.TIMER_A, self.interval, now)

    def _provisional(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self.cancel_timer(In.TIMER_A, In.TIMER_B)
        self._pass_up(now, msg, peer)

    def _accepted(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self.cancel_timer(In.TIMER_A, In.TIMER_B, In.TIMER_CANCEL)
        assert msg is not None
        self.tags.add(to_tag(msg))
        self._pass_up(now, msg, peer)
        self.start_timer(In.TIMER_M, self.policy.timeout, now)

    def _another_2xx(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        # RFC 6026 §8.4: a retransmitted 2xx gets the TU's ACK again; a new To tag is a new fork.
        assert msg is not None
        tag = to_tag(msg)
        if tag in self.tags:
            if (out := self.acks.get(tag)) is not None:
                self.host.send(out.data, out.peer)
            return
        self.tags.add(tag)
        self._pass_up(now, msg, peer)

    def _rejected(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self.cancel_timer(In.TIMER_A, In.TIMER_B, In.TIMER_CANCEL)
        assert isinstance(msg, Response)
        self.ack = build_ack(self.request, msg).to_bytes()
        self.host.send(self.ack, self.peer)
        self._pass_up(now, msg, peer)
        self.start_timer(In.TIMER_D, 0.0 if self.peer.reliable else TIMER_D_UDP, now)

    def _reack(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        if self.ack is not None:
            self.host.send(self.ack, self.peer)


ClientInvite.TABLE = {
    (S.CALLING, In.RECV_1XX): (ClientInvite._provisional, S.PROCEEDING),
    (S.CALLING, In.RECV_2XX): (ClientInvite._accepted, S.ACCEPTED),
    (S.CALLING, In.RECV_FINAL): (ClientInvite._rejected, S.COMPLETED),
    (S.CALLING, In.TIMER_A): (ClientInvite._retransmit, S.CALLING),
    (S.CALLING, In.TIMER_B): (ClientInvite._timed_out, S.TERMINATED),
    (S.CALLING, In.TIMER_D): (None, S.CALLING),
    (S.CALLING, In.TIMER_M): (None, S.CALLING),
    (S.CALLING, In.TIMER_CANCEL): (ClientInvite._timed_out, S.TERMINATED),
    (S.CALLING, In.TRANSPORT_ERROR): (ClientInvite.transport_failed, S.TERMINATED),
    (S.PROCEEDING, In.RECV_1XX): (ClientInvite._pass_up, S.PROCEEDING),
    (S.PROCEEDING, In.RECV_2XX): (ClientInvite._accepted, S.ACCEPTED),
    (S.PROCEEDING, In.RECV_FINAL): (ClientInvite._rejected, S.COMPLETED),
    (S.PROCEEDING, In.TIMER_A): (None, S.PROCEEDING),
    (S.PROCEEDING, In.TIMER_B): (None, S.PROCEEDING),
    (S.PROCEEDING, In.TIMER_D): (None, S.PROCEEDING),
    (S.PROCEEDING, In.TIMER_M): (None, S.PROCEEDING),
    (S.PROCEEDING, In.TIMER_CANCEL): (ClientInvite._timed_out, S.TERMINATED),
    (S.PROCEEDING, In.TRANSPORT_ERROR): (ClientInvite.transport_failed, S.TERMINATED),
    (S.COMPLETED, In.RECV_1XX): (None, S.COMPLETED),
    (S.COMPLETED, In.RECV_2XX): (None, S.COMPLETED),
    (S.COMPLETED, In.RECV_FINAL): (ClientInvite._reack, S.COMPLETED),
    (S.COMPLETED, In.TIMER_A): (None, S.COMPLETED),
    (S.COMPLETED, In.TIMER_B): (None, S.COMPLETED),
    (S.COMPLETED, In.TIMER_D): (None, S.TERMINATED),
    (S.COMPLETED, In.TIMER_M): (None, S.COMPLETED),
    (S.COMPLETED, In.TIMER_CANCEL): (None, S.COMPLETED),
    (S.COMPLETED, In.TRANSPORT_ERROR): (ClientInvite.transport_failed, S.TERMINATED),
    (S.ACCEPTED, In.RECV_1XX): (None, S.ACCEPTED),
    (S.ACCEPTED, In.RECV_2XX): (ClientInvite._another_2xx, S.ACCEPTED),
    (S.ACCEPTED, In.RECV_FINAL): (None, S.ACCEPTED),
    (S.ACCEPTED, In.TIMER_A): (None, S.ACCEPTED),
    (S.ACCEPTED, In.TIMER_B): (None, S.ACCEPTED),
    (S.ACCEPTED, In.TIMER_D): (None, S.ACCEPTED),
    (S.ACCEPTED, In.TIMER_M): (None, S.TERMINATED),
    (S.ACCEPTED, In.TIMER_CANCEL): (None, S.ACCEPTED),
    (S.ACCEPTED, In.TRANSPORT_ERROR): (ClientInvite.transport_failed, S.TERMINATED),
}


class ClientNonInvite(_Client):
    """§17.1.2: Trying -> Proceeding -> Completed -> Terminated."""

    __slots__ = ()

    STATES = frozenset({S.TRYING, S.PROCEEDING, S.COMPLETED})
    INPUTS = frozenset({In.RECV_1XX, In.RECV_2XX, In.RECV_FINAL, In.TIMER_E, In.TIMER_F, In.TIMER_K,
                        In.TRANSPORT_ERROR})
    TABLE: ClassVar[Table[ClientNonInvite]]

    def __init__(self, key: TxKey, request: Request, peer: Peer, host: Host) -> None:
        super().__init__(key, request, peer, host, S.TRYING)

    def handle(
        self, inp: TxInput, now: float, msg: Message | None = None, peer: Peer | None = None
    ) -> None:
        self._dispatch(ClientNonInvite.TABLE, inp, now, msg, peer)

    def start(self, now: float) -> None:
        """Send the request; Timer E only for unreliable transports, Timer F always."""
        self.host.send(self.data, self.peer)
        if not self.peer.reliable:
            self.start_timer(In.TIMER_E, self.interval, now)
        self.start_timer(In.TIMER_F, self.policy.timeout, now)

    def _retransmit(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        # §17.1.2.2: min(2E, T2) while Trying; T2 once a provisional came (Proceeding).
        self.host.send(self.data, self.peer)
        t2 = self.policy.t2
        self.interval = t2 if self.state is S.PROCEEDING else min(2 * self.interval, t2)
        self.start_timer(In.TIMER_E, self.interval, now)

    def _final(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self.cancel_timer(In.TIMER_E, In.TIMER_F)
        self._pass_up(now, msg, peer)
        self.start_timer(In.TIMER_K, 0.0 if self.peer.reliable else self.policy.t4, now)


ClientNonInvite.TABLE = {
    (S.TRYING, In.RECV_1XX): (ClientNonInvite._pass_up, S.PROCEEDING),
    (S.TRYING, In.RECV_2XX): (ClientNonInvite._final, S.COMPLETED),
    (S.TRYING, In.RECV_FINAL): (ClientNonInvite._final, S.COMPLETED),
    (S.TRYING, In.TIMER_E): (ClientNonInvite._retransmit, S.TRYING),
    (S.TRYING, In.TIMER_F): (ClientNonInvite._timed_out, S.TERMINATED),
    (S.TRYING, In.TIMER_K): (None, S.TRYING),
    (S.TRYING, In.TRANSPORT_ERROR): (ClientNonInvite.transport_failed, S.TERMINATED),
    (S.PROCEEDING, In.RECV_1XX): (ClientNonInvite._pass_up, S.PROCEEDING),
    (S.PROCEEDING, In.RECV_2XX): (ClientNonInvite._final, S.COMPLETED),
    (S.PROCEEDING, In.RECV_FINAL): (ClientNonInvite._final, S.COMPLETED),
    (S.PROCEEDING, In.TIMER_E): (ClientNonInvite._retransmit, S.PROCEEDING),
    (S.PROCEEDING, In.TIMER_F): (ClientNonInvite._timed_out, S.TERMINATED),
    (S.PROCEEDING, In.TIMER_K): (None, S.PROCEEDING),
    (S.PROCEEDING, In.TRANSPORT_ERROR): (ClientNonInvite.transport_failed, S.TERMINATED),
    (S.COMPLETED, In.RECV_1XX): (None, S.COMPLETED),
    (S.COMPLETED, In.RECV_2XX): (None, S.COMPLETED),
    (S.COMPLETED, In.RECV_FINAL): (None, S.COMPLETED),
    (S.COMPLETED, In.TIMER_E): (None, S.COMPLETED),
    (S.COMPLETED, In.TIMER_F): (None, S.COMPLETED),
    (S.COMPLETED, In.TIMER_K): (None, S.TERMINATED),
    (S.COMPLETED, In.TRANSPORT_ERROR): (ClientNonInvite.transport_failed, S.TERMINATED),
}
