"""Server transactions: INVITE (RFC 3261 §17.2.1, RFC 6026 Accepted) and non-INVITE (§17.2.2)."""

from __future__ import annotations

from typing import ClassVar

from telephony.sip.message import Request, Response
from telephony.sip.transaction.base import (
    Host,
    Message,
    Table,
    Transaction,
    TxInput,
    TxState,
    reject,
)
from telephony.sip.transaction.client import to_tag
from telephony.sip.transaction.events import AckReceived, AckTimedOut, TransactionTimedOut, TxKey
from telephony.sip.transport import Peer

__all__ = ["ServerInvite", "ServerNonInvite"]

S = TxState
In = TxInput


class _Server(Transaction):
    """Shared by both server kinds: the request, where it came from, the last response sent.

    ``peer`` is where responses go (§18.2.2, RFC 3581); ``source`` is where the request came from.
    """

    __slots__ = ("request", "source", "sent_by", "last", "last_data", "interval")

    def __init__(
        self,
        key: TxKey,
        request: Request,
        source: Peer,
        dest: Peer,
        sent_by: str,
        host: Host,
        state: TxState,
    ) -> None:
        super().__init__(key, dest, host, state)
        self.request = request
        self.source = source
        self.sent_by = sent_by
        self.last: Response | None = None
        self.last_data: bytes | None = None  # encoded once, reused for every retransmission
        self.interval = host.policy.t1

    @property
    def local_tag(self) -> str:
        """The To tag of the last response sent ("" if none), reused for a CANCEL's 200 (§9.2)."""
        return to_tag(self.last) if self.last is not None else ""

    def _send(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        assert isinstance(msg, Response)
        self.last = msg
        self.last_data = msg.to_bytes()
        self.host.send(self.last_data, self.peer)

    def _resend(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        if self.last_data is not None:
            self.host.send(self.last_data, self.peer)

    def _backoff(self, timer: TxInput, now: float) -> None:
        # Timer G and the 2xx retransmission share the §17.2.1 / §13.3.1.4 pattern: T1, 2T1.. T2.
        self._resend(now, None, None)
        self.interval = min(2 * self.interval, self.policy.t2)
        self.start_timer(timer, self.interval, now)


class ServerInvite(_Server):
    """§17.2.1 + RFC 6026: Proceeding -> Completed -> Confirmed | Accepted -> Terminated."""

    __slots__ = ("acked", "ack_key")

    STATES = frozenset({S.PROCEEDING, S.COMPLETED, S.CONFIRMED, S.ACCEPTED})
    INPUTS = frozenset({In.RECV_REQUEST, In.RECV_ACK, In.SEND_1XX, In.SEND_2XX, In.SEND_FINAL,
                        In.TIMER_G, In.TIMER_H, In.TIMER_I, In.TIMER_L, In.TIMER_2XX,
                        In.TRANSPORT_ERROR})
    TABLE: ClassVar[Table[ServerInvite]]

    def __init__(
        self,
        key: TxKey,
        request: Request,
        source: Peer,
        dest: Peer,
        sent_by: str,
        host: Host,
        ack_key: tuple[str, int, str],
    ) -> None:
        super().__init__(key, request, source, dest, sent_by, host, S.PROCEEDING)
        self.acked = False
        # (Call-ID, CSeq number, From tag): how the ACK for our 2xx (a new branch) finds us.
        self.ack_key = ack_key

    def handle(
        self, inp: TxInput, now: float, msg: Message | None = None, peer: Peer | None = None
    ) -> None:
        self._dispatch(ServerInvite.TABLE, inp, now, msg, peer)

    def _send_2xx(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self._send(now, msg, peer)
        if not self.peer.reliable:
            self.interval = self.policy.t1
            self.start_timer(In.TIMER_2XX, self.interval, now)
        self.start_timer(In.TIMER_L, self.policy.timeout, now)

    def _send_final(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self._send(now, msg, peer)
        if not self.peer.reliable:
            self.interval = self.policy.t1
            self.start_timer(In.TIMER_G, self.interval, now)
        self.start_timer(In.TIMER_H, self.policy.timeout, now)

    def _timer_g(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self._backoff(In.TIMER_G, now)

    def _timer_2xx(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self._backoff(In.TIMER_2XX, now)

    def _confirmed(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self.cancel_timer(In.TIMER_G, In.TIMER_H)
        self.start_timer(In.TIMER_I, 0.0 if self.peer.reliable else self.policy.t4, now)

    def _ack_2xx(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        # §13.3.1.4: the ACK stops the 2xx retransmissions; ACK retransmissions are absorbed.
        if self.acked:
            return
        self.acked = True
        self.cancel_timer(In.TIMER_2XX)
        assert isinstance(msg, Request)
        self.host.emit(AckReceived(msg, peer or self.source))

    def _timed_out(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self.host.emit(TransactionTimedOut(self.key))

    def _timer_l(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        if not self.acked:
            self.host.emit(AckTimedOut(self.key))


ServerInvite.TABLE = {
    (S.PROCEEDING, In.RECV_REQUEST): (ServerInvite._resend, S.PROCEEDING),
    (S.PROCEEDING, In.RECV_ACK): (None, S.PROCEEDING),
    (S.PROCEEDING, In.SEND_1XX): (ServerInvite._send, S.PROCEEDING),
    (S.PROCEEDING, In.SEND_2XX): (ServerInvite._send_2xx, S.ACCEPTED),
    (S.PROCEEDING, In.SEND_FINAL): (ServerInvite._send_final, S.COMPLETED),
    (S.PROCEEDING, In.TIMER_G): (None, S.PROCEEDING),
    (S.PROCEEDING, In.TIMER_H): (None, S.PROCEEDING),
    (S.PROCEEDING, In.TIMER_I): (None, S.PROCEEDING),
    (S.PROCEEDING, In.TIMER_L): (None, S.PROCEEDING),
    (S.PROCEEDING, In.TIMER_2XX): (None, S.PROCEEDING),
    (S.PROCEEDING, In.TRANSPORT_ERROR): (ServerInvite.transport_failed, S.TERMINATED),
    (S.COMPLETED, In.RECV_REQUEST): (ServerInvite._resend, S.COMPLETED),
    (S.COMPLETED, In.RECV_ACK): (ServerInvite._confirmed, S.CONFIRMED),
    (S.COMPLETED, In.SEND_1XX): (reject, S.COMPLETED),
    (S.COMPLETED, In.SEND_2XX): (reject, S.COMPLETED),
    (S.COMPLETED, In.SEND_FINAL): (reject, S.COMPLETED),
    (S.COMPLETED, In.TIMER_G): (ServerInvite._timer_g, S.COMPLETED),
    (S.COMPLETED, In.TIMER_H): (ServerInvite._timed_out, S.TERMINATED),
    (S.COMPLETED, In.TIMER_I): (None, S.COMPLETED),
    (S.COMPLETED, In.TIMER_L): (None, S.COMPLETED),
    (S.COMPLETED, In.TIMER_2XX): (None, S.COMPLETED),
    (S.COMPLETED, In.TRANSPORT_ERROR): (ServerInvite.transport_failed, S.TERMINATED),
    (S.CONFIRMED, In.RECV_REQUEST): (None, S.CONFIRMED),
    (S.CONFIRMED, In.RECV_ACK): (None, S.CONFIRMED),
    (S.CONFIRMED, In.SEND_1XX): (reject, S.CONFIRMED),
    (S.CONFIRMED, In.SEND_2XX): (reject, S.CONFIRMED),
    (S.CONFIRMED, In.SEND_FINAL): (reject, S.CONFIRMED),
    (S.CONFIRMED, In.TIMER_G): (None, S.CONFIRMED),
    (S.CONFIRMED, In.TIMER_H): (None, S.CONFIRMED),
    (S.CONFIRMED, In.TIMER_I): (None, S.TERMINATED),
    (S.CONFIRMED, In.TIMER_L): (None, S.CONFIRMED),
    (S.CONFIRMED, In.TIMER_2XX): (None, S.CONFIRMED),
    (S.CONFIRMED, In.TRANSPORT_ERROR): (ServerInvite.transport_failed, S.TERMINATED),
    # RFC 6026 §7.1: INVITE retransmissions in Accepted are absorbed, not answered.
    (S.ACCEPTED, In.RECV_REQUEST): (None, S.ACCEPTED),
    (S.ACCEPTED, In.RECV_ACK): (ServerInvite._ack_2xx, S.ACCEPTED),
    (S.ACCEPTED, In.SEND_1XX): (reject, S.ACCEPTED),
    # RFC 6026 §8.7: further 2xx from the TU go out (and become the one retransmitted).
    (S.ACCEPTED, In.SEND_2XX): (ServerInvite._send, S.ACCEPTED),
    (S.ACCEPTED, In.SEND_FINAL): (reject, S.ACCEPTED),
    (S.ACCEPTED, In.TIMER_G): (None, S.ACCEPTED),
    (S.ACCEPTED, In.TIMER_H): (None, S.ACCEPTED),
    (S.ACCEPTED, In.TIMER_I): (None, S.ACCEPTED),
    (S.ACCEPTED, In.TIMER_L): (ServerInvite._timer_l, S.TERMINATED),
    (S.ACCEPTED, In.TIMER_2XX): (ServerInvite._timer_2xx, S.ACCEPTED),
    (S.ACCEPTED, In.TRANSPORT_ERROR): (ServerInvite.transport_failed, S.TERMINATED),
}


class ServerNonInvite(_Server):
    """§17.2.2: Trying -> Proceeding -> Completed -> Terminated."""

    __slots__ = ()

    STATES = frozenset({S.TRYING, S.PROCEEDING, S.COMPLETED})
    INPUTS = frozenset({In.RECV_REQUEST, In.SEND_1XX, In.SEND_2XX, In.SEND_FINAL, In.TIMER_J,
                        In.TRANSPORT_ERROR})
    TABLE: ClassVar[Table[ServerNonInvite]]

    def __init__(
        self, key: TxKey, request: Request, source: Peer, dest: Peer, sent_by: str, host: Host
    ) -> None:
        super().__init__(key, request, source, dest, sent_by, host, S.TRYING)

    def handle(
        self, inp: TxInput, now: float, msg: Message | None = None, peer: Peer | None = None
    ) -> None:
        self._dispatch(ServerNonInvite.TABLE, inp, now, msg, peer)

    def _final(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        self._send(now, msg, peer)
        self.start_timer(In.TIMER_J, 0.0 if self.peer.reliable else self.policy.timeout, now)


ServerNonInvite.TABLE = {
    # §17.2.2: retransmissions in Trying are discarded (nothing to resend yet).
    (S.TRYING, In.RECV_REQUEST): (None, S.TRYING),
    (S.TRYING, In.SEND_1XX): (ServerNonInvite._send, S.PROCEEDING),
    (S.TRYING, In.SEND_2XX): (ServerNonInvite._final, S.COMPLETED),
    (S.TRYING, In.SEND_FINAL): (ServerNonInvite._final, S.COMPLETED),
    (S.TRYING, In.TIMER_J): (None, S.TRYING),
    (S.TRYING, In.TRANSPORT_ERROR): (ServerNonInvite.transport_failed, S.TERMINATED),
    (S.PROCEEDING, In.RECV_REQUEST): (ServerNonInvite._resend, S.PROCEEDING),
    (S.PROCEEDING, In.SEND_1XX): (ServerNonInvite._send, S.PROCEEDING),
    (S.PROCEEDING, In.SEND_2XX): (ServerNonInvite._final, S.COMPLETED),
    (S.PROCEEDING, In.SEND_FINAL): (ServerNonInvite._final, S.COMPLETED),
    (S.PROCEEDING, In.TIMER_J): (None, S.PROCEEDING),
    (S.PROCEEDING, In.TRANSPORT_ERROR): (ServerNonInvite.transport_failed, S.TERMINATED),
    (S.COMPLETED, In.RECV_REQUEST): (ServerNonInvite._resend, S.COMPLETED),
    (S.COMPLETED, In.SEND_1XX): (reject, S.COMPLETED),
    (S.COMPLETED, In.SEND_2XX): (reject, S.COMPLETED),
    (S.COMPLETED, In.SEND_FINAL): (reject, S.COMPLETED),
    (S.COMPLETED, In.TIMER_J): (None, S.TERMINATED),
    (S.COMPLETED, In.TRANSPORT_ERROR): (ServerNonInvite.transport_failed, S.TERMINATED),
}
