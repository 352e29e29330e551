"""The SIP transaction layer (RFC 3261 §17, RFC 6026), sans-IO.

The public names live here; the modules behind them are private to the package.
"""

from __future__ import annotations

from telephony.sip.transaction.base import TxInput, TxState
from telephony.sip.transaction.events import (
    AckReceived,
    AckTimedOut,
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    TimerPolicy,
    TransactionTimedOut,
    TransportFailed,
    TxEvent,
    TxKey,
)
from telephony.sip.transaction.layer import TransactionLayer

__all__ = [
    "AckReceived",
    "AckTimedOut",
    "CancelReceived",
    "RequestReceived",
    "ResponseReceived",
    "TimerPolicy",
    "TransactionLayer",
    "TransactionTimedOut",
    "TransportFailed",
    "TxEvent",
    "TxInput",
    "TxKey",
    "TxState",
]
