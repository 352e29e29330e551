"""Application-layer checks of an incoming request (RFC 3261 §8.2, RFC 4475 §3.3).

``check_request`` runs after :func:`parse_message` and before a request reaches a transaction
user; it raises a :class:`RemoteProtocolError` carrying the status to answer, and
``build_error_response`` turns that into the response with the headers the RFC asks for
(Unsupported for 420, Accept / Accept-Encoding for 415, a Warning with the reason).
An ACK never gets a response (RFC 3261 §17.2.1): the caller drops an ACK that fails.
"""

from __future__ import annotations

from telephony.sip.errors import ParseError, RemoteProtocolError, SipError
from telephony.sip.headers import NameAddr
from telephony.sip.message import Request, Response, make_response
from telephony.sip.uri import SipUri

__all__ = [
    "ACCEPTED_ENCODINGS",
    "ACCEPTED_TYPES",
    "SUPPORTED",
    "BadExtension",
    "NotAcceptable",
    "UnsupportedMediaType",
    "build_error_response",
    "check_request",
]

SUPPORTED = frozenset({"timer", "replaces"})
ACCEPTED_TYPES = frozenset({"application/sdp", "application/dtmf-relay", "application/dtmf"})
# RFC 3261 §20.2: identity is always acceptable; we decode nothing else.
ACCEPTED_ENCODINGS = frozenset({"identity"})
_SCHEMES = frozenset({"sip", "sips", "tel"})
# RFC 7332 §3: a B2BUA decrements Max-Forwards like a proxy, so Max-Forwards 0 on a request we
# would relay is 483; requests we answer ourselves are processed (RFC 4475 §3.3.11, RFC 3261 §11).
_ANSWERED_HERE = frozenset({"OPTIONS", "REGISTER"})
_WARN_AGENT = "callfloor"
_WARN_TEXT_MAX = 200


class BadExtension(RemoteProtocolError):
    """420: the request Requires option tags we do not support (RFC 3261 §8.2.2.3)."""

    def __init__(self, unsupported: list[str]) -> None:
        super().__init__(f"unsupported extension(s): {', '.join(unsupported)}", 420)
        self.unsupported = unsupported


class UnsupportedMediaType(RemoteProtocolError):
    """415: a body type or encoding we cannot handle (RFC 3261 §8.2.3, §21.4.13)."""

    def __init__(
        self, reason: str, *, accept: list[str] | None = None, encodings: list[str] | None = None
    ) -> None:
        super().__init__(reason, 415)
        self.accept = accept or []
        self.accept_encoding = encodings or []


class NotAcceptable(RemoteProtocolError):
    """406: the Accept header rules out every body we could answer with (RFC 4475 §3.3.15)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, 406)


def check_request(
    req: Request,
    *,
    supported: frozenset[str] = SUPPORTED,
    accepted_types: frozenset[str] = ACCEPTED_TYPES,
) -> None:
    """Raise :class:`RemoteProtocolError` (with the status to answer) if ``req`` must be refused.

    In order: URI scheme (416), Max-Forwards (483), Require (420), body type and encoding
    (415), Accept on an INVITE (406), and the To of a REGISTER (400).
    """
    _check_scheme(req)
    _check_max_forwards(req)
    if req.method not in ("ACK", "CANCEL"):
        # RFC 3261 §8.2.2.3: Require is not checked on ACK and CANCEL.
        _check_require(req, supported)
    _check_body(req, accepted_types)
    if req.method == "INVITE":
        _check_accept(req)
    if req.method == "REGISTER":
        _check_register_to(req)


def _check_scheme(req: Request) -> None:
    scheme = SipUri.parse(req.uri).scheme
    if scheme not in _SCHEMES:
        # RFC 3261 §8.2.2.1, RFC 4475 §3.3.2 and §3.3.3
        raise RemoteProtocolError(f"unsupported URI scheme {scheme!r}", 416)


def _check_max_forwards(req: Request) -> None:
    text = req.headers.get("Max-Forwards")
    if text is None:
        return  # RFC 2543 peers send none (RFC 4475 §3.4)
    if not (text.isascii() and text.isdigit()):
        raise ParseError(f"bad Max-Forwards {text[:20]!r}")
    if int(text) == 0 and req.method not in _ANSWERED_HERE:
        raise RemoteProtocolError("Max-Forwards is zero", 483)


def _check_require(req: Request, supported: frozenset[str]) -> None:
    known = {tag.lower() for tag in supported}
    unknown = [tag for tag in _list_values(req, "Require") if tag.lower() not in known]
    if unknown:
        raise BadExtension(unknown)


def _check_body(req: Request, accepted_types: frozenset[str]) -> None:
    if not req.body:
        return
    content_type = req.headers.get("Content-Type")
    if content_type is None:
        # RFC 3261 §20.15: a non-empty body needs a Content-Type.
        raise ParseError("body without Content-Type")
    media = _media_type(content_type)
    accepted = {t.lower() for t in accepted_types}
    if media not in accepted:
        raise UnsupportedMediaType(
            f"unsupported Content-Type {media!r}", accept=sorted(accepted_types)
        )
    for coding in _list_values(req, "Content-Encoding"):
        if coding.lower() not in ACCEPTED_ENCODINGS:
            raise UnsupportedMediaType(
                f"unsupported Content-Encoding {coding!r}", encodings=sorted(ACCEPTED_ENCODINGS)
            )


def _check_accept(req: Request) -> None:
    values = req.headers.get_all("Accept")
    if not values:
        return  # absent Accept means application/sdp (RFC 3261 §20.1)
    ranges = {_media_type(v) for v in values}
    if not ranges & {"application/sdp", "application/*", "*/*"}:
        # RFC 4475 §3.3.15: we can only answer an INVITE with SDP.
        raise NotAcceptable("Accept does not allow application/sdp")


def _check_register_to(req: Request) -> None:
    # RFC 3261 §10.2: the address-of-record in To is a SIP or SIPS URI (RFC 4475 §3.3.4).
    uri = NameAddr.parse(req.headers.get("To") or "").uri
    if uri.partition(":")[0].lower() not in ("sip", "sips"):
        raise RemoteProtocolError("REGISTER To must be a SIP or SIPS URI", 400)


def _list_values(req: Request, name: str) -> list[str]:
    """Every comma-separated value of ``name``, split even if the headers were built by hand."""
    out: list[str] = []
    for value in req.headers.get_all(name):
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _media_type(value: str) -> str:
    return value.partition(";")[0].strip().lower()


def build_error_response(req: Request, err: SipError, to_tag: str) -> Response:
    """The response for ``err`` with the headers RFC 3261 §8.2.2.3 and §8.2.3 ask for.

    420 gets Unsupported, 415 gets Accept or Accept-Encoding, and every response gets a
    ``Warning: 399`` carrying ``err.reason`` so the peer's log says what was wrong.
    """
    resp = make_response(req, err.status, to_tag=to_tag)
    # One entry per value, as the parser stores lists (message.py).
    if isinstance(err, BadExtension):
        for tag in err.unsupported:
            resp.headers.add("Unsupported", tag)
    if isinstance(err, UnsupportedMediaType):
        for media in err.accept:
            resp.headers.add("Accept", media)
        for coding in err.accept_encoding:
            resp.headers.add("Accept-Encoding", coding)
    text = err.reason[:_WARN_TEXT_MAX].replace("\\", "\\\\").replace('"', '\\"')
    resp.headers.add("Warning", f'399 {_WARN_AGENT} "{text}"')
    return resp
