"""Small shared transport types: where a SIP message comes from or goes to, and what to send.

The pure cores never open sockets; they name a :class:`Peer` and hand :class:`Outgoing` datagrams
(or stream chunks) to the network adapter in ``telephony/net``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Outgoing", "Peer", "Transport"]


class Transport(StrEnum):
    """The transports callfloor speaks (RFC 3261 §18); the value is the Via transport token."""

    UDP = "UDP"
    TCP = "TCP"


@dataclass(frozen=True, slots=True)
class Peer:
    """A remote SIP endpoint: transport, host (an IP literal, no brackets) and port."""

    transport: Transport
    host: str
    port: int

    @property
    def addr(self) -> tuple[str, int]:
        """The ``(host, port)`` pair a socket API wants."""
        return (self.host, self.port)

    @property
    def reliable(self) -> bool:
        """True for connection-oriented transports: no retransmissions, zero wait timers (§17)."""
        return self.transport is not Transport.UDP


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Encoded bytes to send to ``peer``."""

    data: bytes
    peer: Peer
