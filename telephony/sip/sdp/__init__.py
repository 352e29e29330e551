"""SDP (RFC 4566) and the RFC 3264 offer/answer model for callfloor's one audio stream.

``description`` parses and serializes bodies, ``negotiation`` holds ``SdpSession`` (our o= line,
offers and answers) and ``parse_answer``; everything public is re-exported here.
"""

from __future__ import annotations

from telephony.sip.sdp.codec import (
    G711,
    STATIC_PAYLOAD_TYPES,
    TELEPHONE_EVENT,
    Codec,
    Direction,
    SdpError,
)
from telephony.sip.sdp.description import Media, Origin, SessionDescription
from telephony.sip.sdp.negotiation import MediaOffer, NegotiatedMedia, SdpSession, parse_answer

__all__ = [
    "G711",
    "STATIC_PAYLOAD_TYPES",
    "TELEPHONE_EVENT",
    "Codec",
    "Direction",
    "Media",
    "MediaOffer",
    "NegotiatedMedia",
    "Origin",
    "SdpError",
    "SdpSession",
    "SessionDescription",
    "parse_answer",
]
