"""The RFC 3264 offer/answer model for one audio stream, from callfloor's side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from telephony.sip.errors import LocalProtocolError
from telephony.sip.sdp.codec import (
    DEFAULT_PTIME,
    RTP_PROTOS,
    TELEPHONE_EVENT,
    Codec,
    Direction,
    SdpError,
)
from telephony.sip.sdp.description import Attribute, Media, Origin, SessionDescription, address_type

__all__ = ["MediaOffer", "NegotiatedMedia", "SdpSession", "parse_answer"]


@dataclass(frozen=True)
class NegotiatedMedia:
    """The outcome of offer/answer from our side: where to send, with which codec, which way."""

    remote_host: str
    remote_port: int
    codec: Codec
    telephone_event_pt: int | None
    direction: Direction
    ptime: int


MediaOffer = NegotiatedMedia  # the name the first design notes used


def _audio_media(port: int, codecs: Sequence[Codec], direction: Direction, ptime: int) -> Media:
    attributes: list[Attribute] = []
    for c in codecs:
        attributes.append(("rtpmap", f"{c.pt} {c.rtpmap()}"))
        if c.fmtp is not None:
            attributes.append(("fmtp", f"{c.pt} {c.fmtp}"))
    attributes += [("ptime", str(ptime)), (direction.value, None)]
    return Media("audio", port, "RTP/AVP", [str(c.pt) for c in codecs], attributes=attributes)


def _is_audio_rtp(media: Media) -> bool:
    return media.media.lower() == "audio" and media.port != 0 and media.proto.upper() in RTP_PROTOS


def _first_common(candidates: Sequence[Codec], allowed: Sequence[Codec]) -> Codec | None:
    """The first audio codec of ``candidates`` that ``allowed`` also names."""
    return next(
        (c for c in candidates
         if not c.is_telephone_event and any(c.same_format(a) for a in allowed)),
        None,
    )


def _event_codec(codecs: Sequence[Codec], audio: Codec) -> Codec | None:
    # RFC 4733 §2.1: the events share the audio clock (Linphone offers 8, 16 and 48 kHz ones).
    return next((c for c in codecs if c.is_telephone_event and c.rate == audio.rate), None)


class SdpSession:
    """Our side of one SDP session: keeps o= and bumps its version only when content changes
    (RFC 3264 §8), so a repeated offer or answer is byte-identical."""

    def __init__(self, address: str, sess_id: int, username: str = "callfloor") -> None:
        self.address = address
        self.origin = Origin(username, str(sess_id), 0, "IN", address_type(address), address)
        self._last: bytes | None = None

    @property
    def version(self) -> int:
        """The o= session version of the last description produced."""
        return self.origin.sess_version

    def _stamp(self, media: list[Media]) -> SessionDescription:
        sdp = SessionDescription(
            origin=replace(self.origin), name="callfloor", connection=self.address, media=media
        )
        body = sdp.to_bytes()
        if self._last is not None and body != self._last:
            self.origin.sess_version += 1
            sdp.origin = replace(self.origin)
            body = sdp.to_bytes()
        self._last = body
        return sdp

    def offer(
        self,
        port: int,
        codecs: Sequence[Codec],
        *,
        direction: Direction = Direction.SENDRECV,
        telephone_event_pt: int | None = 101,
        ptime: int = DEFAULT_PTIME,
    ) -> SessionDescription:
        """An offer of one audio stream (RFC 3264 §5); hold is ``direction=SENDONLY`` (§8.4)."""
        chosen = list(codecs)
        if telephone_event_pt is not None:
            chosen = [c for c in chosen if not c.is_telephone_event]
            chosen.append(replace(TELEPHONE_EVENT, pt=telephone_event_pt))
        if not any(not c.is_telephone_event for c in chosen):
            raise LocalProtocolError("an SDP offer needs at least one audio codec")
        return self._stamp([_audio_media(port, chosen, direction, ptime)])

    def answer(
        self,
        offer: SessionDescription,
        port: int,
        supported: Sequence[Codec],
        *,
        direction: Direction | None = None,
    ) -> tuple[SessionDescription, NegotiatedMedia]:
        """Answer ``offer`` (RFC 3264 §6): accept the first audio stream with a codec in
        ``supported`` (the offerer's first such, with its PT), reject every other m-line with
        port 0 in place; telephone-event is accepted whenever offered. 488 if nothing fits."""
        wish = direction or Direction.SENDRECV
        negotiated: NegotiatedMedia | None = None
        lines: list[Media] = []
        for m in offer.media:
            accepted = None if negotiated else _accept(offer, m, supported, wish)
            if accepted is None:
                lines.append(Media(m.media, 0, m.proto, list(m.formats)))
            else:
                codecs, negotiated = accepted
                lines.append(_audio_media(port, codecs, negotiated.direction, negotiated.ptime))
        if negotiated is None:
            raise SdpError("no audio stream in the offer has a codec we support", 488)
        return self._stamp(lines), negotiated


def _accept(
    offer: SessionDescription, m: Media, supported: Sequence[Codec], wish: Direction
) -> tuple[list[Codec], NegotiatedMedia] | None:
    if not _is_audio_rtp(m):
        return None
    offered = m.codecs
    codec = _first_common(offered, supported)
    if codec is None:
        return None
    event = _event_codec(offered, codec)
    host = offer.connection_of(m)
    if host is None:
        raise SdpError("the offered audio stream has no c= address")
    direction = wish.intersect(offer.direction_of(m).reverse())
    ptime = m.ptime or DEFAULT_PTIME
    negotiated = NegotiatedMedia(host, m.port, codec, event.pt if event else None, direction, ptime)
    return [codec, *([event] if event else [])], negotiated


def parse_answer(offer: SessionDescription, answer: SessionDescription) -> NegotiatedMedia:
    """The offerer's view of an answer (RFC 3264 §7): send with the answer's PT to its address.

    Raises ``SdpError`` 488 when the answer does not fit the offer, 400 when it lacks c=.
    """
    if len(answer.media) != len(offer.media):
        raise SdpError(
            f"answer has {len(answer.media)} m-lines for {len(offer.media)} offered", 488
        )
    for ours, theirs in zip(offer.media, answer.media, strict=True):
        if theirs.port == 0 or ours.port == 0 or not _is_audio_rtp(ours):
            continue
        if theirs.media.lower() != ours.media.lower():
            raise SdpError(f"answer put {theirs.media!r} where {ours.media!r} was offered", 488)
        answered = theirs.codecs
        codec = _first_common(answered, ours.codecs)
        if codec is None:
            raise SdpError("answer chose no audio codec that was offered", 488)
        event = _event_codec(answered, codec) if ours.telephone_event else None
        host = answer.connection_of(theirs)
        if host is None:
            raise SdpError("the answered audio stream has no c= address")
        direction = offer.direction_of(ours).intersect(answer.direction_of(theirs).reverse())
        ptime = theirs.ptime or DEFAULT_PTIME
        event_pt = event.pt if event else None
        return NegotiatedMedia(host, theirs.port, codec, event_pt, direction, ptime)
    raise SdpError("answer rejected every audio stream", 488)
