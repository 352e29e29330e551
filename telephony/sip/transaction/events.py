"""What the transaction layer tells the TU, and the timers it runs on (RFC 3261 §17, Table 4)."""

from __future__ import annotations

from dataclasses import dataclass

from telephony.sip.message import Request, Response
from telephony.sip.transport import Peer

__all__ = [
    "DEFAULT_POLICY",
    "AckReceived",
    "AckTimedOut",
    "CancelReceived",
    "RequestReceived",
    "ResponseReceived",
    "TimerPolicy",
    "TransactionTimedOut",
    "TransportFailed",
    "TxEvent",
    "TxKey",
]

# (branch, method). ACK uses "INVITE" (it belongs to the INVITE transaction, §17.2.3); a CANCEL has
# its own transaction with the INVITE's branch (§9.1), so the method tells the two apart.
TxKey = tuple[str, str]


@dataclass(frozen=True)
class TimerPolicy:
    """T1 (RTT estimate), T2 (retransmit cap for non-INVITE), T4 (network lifetime), §17.1.1.1."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0

    @property
    def timeout(self) -> float:
        """64*T1: Timers B, F, H, J (UDP), L and M."""
        return 64 * self.t1


DEFAULT_POLICY = TimerPolicy()


@dataclass(frozen=True)
class RequestReceived:
    """A new server transaction was created for ``request`` (any method but ACK and CANCEL)."""

    key: TxKey
    request: Request
    peer: Peer


@dataclass(frozen=True)
class AckReceived:
    """An ACK for a 2xx (its own transaction, §17.1.1.3), or an ACK that matched nothing."""

    request: Request
    peer: Peer


@dataclass(frozen=True)
class CancelReceived:
    """A CANCEL matched a pending INVITE; 200 was sent to it (§9.2). The TU answers 487."""

    invite_key: TxKey
    request: Request
    peer: Peer


@dataclass(frozen=True)
class ResponseReceived:
    """A response for a client transaction (1xx, the final, and 2xx from other forks)."""

    key: TxKey
    response: Response


@dataclass(frozen=True)
class TransactionTimedOut:
    """Client: Timer B/F (or the §9.1 CANCEL guard) fired, treat as 408. Server: Timer H fired."""

    key: TxKey


@dataclass(frozen=True)
class AckTimedOut:
    """A server INVITE sent a 2xx but no ACK came within 64*T1 (§13.3.1.4): the TU sends BYE."""

    key: TxKey


@dataclass(frozen=True)
class TransportFailed:
    """The transport reported a failure for this transaction's peer (§17.1.4, §17.2.4)."""

    key: TxKey


TxEvent = (
    RequestReceived
    | AckReceived
    | CancelReceived
    | ResponseReceived
    | TransactionTimedOut
    | AckTimedOut
    | TransportFailed
)
