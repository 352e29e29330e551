"""The parts every transaction shares: states, inputs, timers and the transition-table dispatch.

Each kind (client/server x INVITE/non-INVITE) is an :class:`~enum.Enum` state plus one table
``(state, input) -> (action, next state)``; every pair a kind can see is in its table, either as a
transition, a defined no-op (action ``None``) or :func:`reject` for sends the TU may not make.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Protocol, TypeVar

from telephony.sip.errors import LocalProtocolError
from telephony.sip.message import Request, Response
from telephony.sip.transaction.events import TimerPolicy, TransportFailed, TxEvent, TxKey
from telephony.sip.transport import Peer

__all__ = ["Host", "Table", "Transaction", "TxInput", "TxState", "reject"]


class TxState(Enum):
    """Transaction states of RFC 3261 §17 plus Accepted (RFC 6026)."""

    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"
    TERMINATED = "Terminated"


class TxInput(Enum):
    """Everything that can happen to a transaction: messages, TU sends, timers, transport."""

    RECV_1XX = "recv 1xx"
    RECV_2XX = "recv 2xx"
    RECV_FINAL = "recv 300-699"
    RECV_REQUEST = "recv request retransmission"
    RECV_ACK = "recv ACK"
    SEND_1XX = "send 1xx"
    SEND_2XX = "send 2xx"
    SEND_FINAL = "send 300-699"
    TIMER_A = "Timer A"
    TIMER_B = "Timer B"
    TIMER_D = "Timer D"
    TIMER_E = "Timer E"
    TIMER_F = "Timer F"
    TIMER_G = "Timer G"
    TIMER_H = "Timer H"
    TIMER_I = "Timer I"
    TIMER_J = "Timer J"
    TIMER_K = "Timer K"
    TIMER_L = "Timer L"
    TIMER_M = "Timer M"
    TIMER_2XX = "2xx retransmission (§13.3.1.4)"
    TIMER_CANCEL = "CANCEL guard (§9.1)"
    TRANSPORT_ERROR = "transport error"


class Host(Protocol):
    """What a transaction needs from the layer that owns it."""

    @property
    def policy(self) -> TimerPolicy: ...

    def send(self, data: bytes, peer: Peer) -> None: ...

    def emit(self, event: TxEvent) -> None: ...

    def schedule(self, txn: Transaction, timer: TxInput, deadline: float) -> int: ...

    def unscheduled(self) -> None: ...

    def remove(self, txn: Transaction) -> None: ...


_T = TypeVar("_T", bound="Transaction")
Message = Request | Response
Action = Callable[[_T, float, Message | None, Peer | None], None]
Table = Mapping[tuple[TxState, TxInput], tuple[Action[_T] | None, TxState]]


class Transaction:
    """Base of the four transaction kinds: key, peer, state and pending timers."""

    __slots__ = ("key", "peer", "state", "host", "_timers")

    STATES: frozenset[TxState] = frozenset()
    INPUTS: frozenset[TxInput] = frozenset()

    def __init__(self, key: TxKey, peer: Peer, host: Host, state: TxState) -> None:
        self.key = key
        self.peer = peer
        self.host = host
        self.state = state
        # timer -> heap sequence number; a heap entry whose seq is not here is stale.
        self._timers: dict[TxInput, int] = {}

    @property
    def policy(self) -> TimerPolicy:
        """The owning layer's timer values."""
        return self.host.policy

    def handle(
        self, inp: TxInput, now: float, msg: Message | None = None, peer: Peer | None = None
    ) -> None:
        """Feed one input through this kind's transition table."""
        raise NotImplementedError

    def _dispatch(
        self: _T,
        table: Table[_T],
        inp: TxInput,
        now: float,
        msg: Message | None,
        peer: Peer | None,
    ) -> None:
        if self.state is TxState.TERMINATED:
            return
        try:
            action, target = table[(self.state, inp)]
        except KeyError:
            kind = type(self).__name__
            raise LocalProtocolError(
                f"{kind}: no transition for {inp.value} in {self.state.value}"
            ) from None
        # The state moves first so that an action may start a zero timer that moves it again.
        self.state = target
        if action is not None:
            action(self, now, msg, peer)
        if target is TxState.TERMINATED:
            self._terminate()

    def start_timer(self, timer: TxInput, delay: float, now: float) -> None:
        """(Re)start ``timer``; a zero delay (reliable transports) fires it at once."""
        if self.state is TxState.TERMINATED:
            return
        self.cancel_timer(timer)
        if delay <= 0:
            self.handle(timer, now)
        else:
            self._timers[timer] = self.host.schedule(self, timer, now + delay)

    def cancel_timer(self, *timers: TxInput) -> None:
        """Stop timers; their heap entries go stale and are skipped later."""
        for timer in timers:
            if self._timers.pop(timer, None) is not None:
                self.host.unscheduled()

    def pending(self, timer: TxInput, seq: int) -> bool:
        """True if the heap entry ``(timer, seq)`` is still live."""
        return self._timers.get(timer) == seq

    def fire(self, timer: TxInput, seq: int, now: float) -> bool:
        """Run a due heap entry if it is live; False if it was stale."""
        if self._timers.get(timer) != seq:
            return False
        del self._timers[timer]
        self.handle(timer, now)
        return True

    def transport_failed(self, now: float, msg: Message | None, peer: Peer | None) -> None:
        """§17.1.4 / §17.2.4: tell the TU; the table moves the transaction to Terminated."""
        self.host.emit(TransportFailed(self.key))

    def _terminate(self) -> None:
        self.cancel_timer(*list(self._timers))
        self.host.remove(self)


def reject(txn: Transaction, now: float, msg: Message | None, peer: Peer | None) -> None:
    """The TU tried a send the state forbids (e.g. a second final response)."""
    what = f"{msg.status} response" if isinstance(msg, Response) else "message"
    raise LocalProtocolError(f"transaction {txn.key} in {txn.state.value} cannot send a {what}")
