"""RTP port allocation and the codec choices a B2BUA makes between its two legs.

Both G.711 laws are offered to the second leg, the first leg's choice first, so the legs usually
agree and the relay only copies packets. When they do not (a phone that only does μ-law, a carrier
that only does A-law), the relay converts between the laws with a 256-byte table per packet.
Seats are offered PCMU first: some softphones (pyVoIP) send μ-law whatever they negotiated.
"""

from __future__ import annotations

from collections import deque

from telephony.sip.sdp import Codec, SessionDescription

__all__ = ["DEFAULT_CODECS", "PortPool", "PortsExhausted", "relay_codecs"]

DEFAULT_CODECS = (Codec(0, "PCMU", 8000), Codec(8, "PCMA", 8000))
SUPPORTED = frozenset({"PCMU", "PCMA"})


class PortsExhausted(Exception):
    """Every even port of the media range is in use (answer 503)."""


class PortPool:
    """Even RTP ports from a range (the odd port above each is its RTCP port, RFC 3550 §11).

    Released ports go to the back of the queue, so a port is reused as late as possible and stray
    packets of a finished call do not land in a new one.
    """

    def __init__(self, low: int, high: int) -> None:
        first = low + (low % 2)
        self._free: deque[int] = deque(range(first, high, 2))
        self._used: set[int] = set()
        self.size = len(self._free)

    def __len__(self) -> int:
        return len(self._free)

    def take(self) -> int:
        """An unused even port."""
        if not self._free:
            raise PortsExhausted("no free RTP port")
        port = self._free.popleft()
        self._used.add(port)
        return port

    def release(self, port: int) -> None:
        """Return ``port`` to the pool (ignored if not taken)."""
        if port in self._used:
            self._used.remove(port)
            self._free.append(port)

    def discard(self, port: int) -> None:
        """Retire a port that could not be bound, so it is not handed out again."""
        self._used.discard(port)


def relay_codecs(offer: SessionDescription | None, *, toward_seat: bool = False) -> tuple[list[Codec], int | None]:
    """The codecs and telephone-event PT to offer the second leg, given the first leg's offer.

    An offer with no G.711 at all gives ``[]`` (answer 488). With no offer (an offerless INVITE)
    both laws and PT 101 are offered.
    """
    if offer is None:
        return list(DEFAULT_CODECS), 101
    audio = next((m for m in offer.media if m.media == "audio" and m.port), None)
    if audio is None:
        return [], None
    theirs = [c for c in audio.codecs if c.name.upper() in SUPPORTED and c.rate == 8000]
    event = next((c.pt for c in audio.codecs if c.is_telephone_event and c.rate == 8000), None)
    if not theirs:
        return [], None
    if toward_seat:
        return list(DEFAULT_CODECS), event if event is not None else 101
    names = {c.name.upper() for c in theirs}
    return [*theirs, *(c for c in DEFAULT_CODECS if c.name not in names)], event
