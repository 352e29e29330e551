"""One error tree for the SIP core: remote (the peer sent something bad) vs local (we misused the API).

Modelled on h11's LocalProtocolError/RemoteProtocolError: a remote error carries the status
callfloor should answer with (RFC 3261 §21), so the boundary can turn it into a response.
"""

from __future__ import annotations

__all__ = ["SipError", "RemoteProtocolError", "LocalProtocolError", "ParseError"]


class SipError(Exception):
    """Base of every SIP-core error."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class RemoteProtocolError(SipError):
    """The peer sent something we cannot accept; answer with ``status`` where a response is possible."""


class ParseError(RemoteProtocolError):
    """A message (or header) could not be parsed; ``status`` is 400 unless the RFC says otherwise."""


class LocalProtocolError(SipError):
    """Our own code tried something the protocol forbids (a bug, not bad input)."""
