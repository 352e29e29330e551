"""Bytes to :class:`Request`/:class:`Response` (RFC 3261 §7, §18.3, §25), and TCP framing.

``parse_message`` reads one message: one UDP datagram, or one message cut out of a stream by
:class:`StreamFramer`. Every failure is a :class:`MessageParseError` (a :class:`ParseError`)
whose ``status`` is what to answer and whose ``partial`` is the request as far as it could be
read; a response that fails is dropped by the caller (RFC 3261 §18.1.2).

Content-Length is framing, not content: a parsed message carries exactly one Content-Length,
last, equal to ``len(body)`` -- the same thing ``to_bytes()`` writes -- so that parsing what
``to_bytes()`` produced gives an equal message.
"""

from __future__ import annotations

import re

from telephony.sip.errors import ParseError
from telephony.sip.headers import TOKEN_CHARS, CSeq, NameAddr, Via, split_unquoted
from telephony.sip.message import (
    COMPACT_FORMS,
    Headers,
    Message,
    Request,
    Response,
    canonical_name,
)
from telephony.sip.uri import SipUri

__all__ = [
    "LIST_HEADERS",
    "MAX_HEADER_BYTES",
    "MessageParseError",
    "StreamFramer",
    "parse_message",
]

# Headers whose comma-separated values become one entry each (RFC 3261 §7.3.1). Headers whose
# values hold commas of their own (WWW-Authenticate, Authorization, Date, Retry-After, Warning)
# and unknown headers are kept whole.
LIST_HEADERS = frozenset(
    {
        "Via", "Contact", "Route", "Record-Route", "Path", "Service-Route", "Allow",
        "Supported", "Require", "Proxy-Require", "Unsupported", "Accept", "Accept-Encoding",
        "Accept-Language", "Content-Encoding", "Content-Language", "Allow-Events",
        "Alert-Info", "Call-Info", "Error-Info", "In-Reply-To", "P-Asserted-Identity",
        "P-Preferred-Identity", "Reason",
    }
)  # fmt: skip

MAX_HEADER_BYTES = 64 * 1024
_SINGLE = ("From", "To", "Call-ID", "CSeq", "Max-Forwards")
_TRACKED = frozenset((*_SINGLE, "Content-Length", "Via", "Contact"))
_KNOWN = (
    "Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards", "Contact", "Content-Type",
    "Content-Length", "Route", "Record-Route", "Allow", "Supported", "Require", "User-Agent",
    "Server", "Expires", "Authorization", "WWW-Authenticate", "Proxy-Authorization",
    "Proxy-Authenticate", "Accept", "Allow-Events", "Event", "Date", "Subject", "Session-Expires",
    "Min-SE", "Reason", "Timestamp", "P-Asserted-Identity", "Privacy", "Refer-To", "Referred-By",
    "Replaces", "Content-Disposition", "Organization", "Warning", "Unsupported", "RSeq", "RAck",
)  # fmt: skip
# Header name as written -> canonical name. Seeded with the usual spellings; bounded so that
# random names from the network cannot grow it without limit.
_CANON: dict[str, str] = {
    spelling: canonical_name(spelling)
    for name in (*_KNOWN, *COMPACT_FORMS)
    for spelling in (name, name.lower(), name.upper())
}
_CANON_LIMIT = len(_CANON) + 1024
_FOLD = re.compile(r"[ \t]*\n[ \t]+")


class MessageParseError(ParseError):
    """A message that cannot be accepted.

    ``partial`` is set when the start line looked like a request and the header block could be
    split into headers: answer ``status`` with ``make_response(partial, status)`` (it copies
    whatever Via/From/To/Call-ID/CSeq there are). ``None`` means: nothing to answer, drop it.
    """

    def __init__(self, reason: str, status: int = 400, partial: Request | None = None) -> None:
        super().__init__(reason, status)
        self.partial = partial


def parse_message(data: bytes) -> Message:
    """Parse one SIP message; a missing Content-Length means "the rest of the datagram".

    Bytes after Content-Length are ignored (RFC 3261 §18.3). Raises :class:`MessageParseError`.
    """
    start = 0
    # RFC 3261 §7.5: CRLFs before the start line are ignored.
    while data[start : start + 1] in (b"\r", b"\n"):
        start += 1
    head_end, body_at = _find_head_end(data, start)
    if head_end < 0:
        raise MessageParseError("no empty line after the headers")
    try:
        head = data[start:head_end].decode("utf-8")
    except UnicodeDecodeError:
        raise MessageParseError("header block is not UTF-8") from None
    start_line, items, tracked = _split_headers(head)
    if start_line[:4].upper() == "SIP/":
        return _response(start_line, items, tracked, data, body_at)
    try:
        return _request(start_line, items, tracked, data, body_at)
    except ParseError as exc:
        raise MessageParseError(exc.reason, exc.status, _partial(start_line, items)) from None


def _partial(start_line: str, items: list[tuple[str, str]]) -> Request | None:
    """The request as far as it was read, when its start line has a method, a URI and a version."""
    fields = start_line.split()
    if len(fields) < 3:
        return None
    return Request(
        method=fields[0], uri=" ".join(fields[1:-1]), headers=Headers.from_canonical(items)
    )


def _find_head_end(data: bytes | bytearray, start: int, end: int = -1) -> tuple[int, int]:
    """Index where the header block ends and where the body starts; (-1, -1) when not found."""
    end = len(data) if end < 0 else min(end, len(data))
    crlf = data.find(b"\r\n\r\n", start, end)
    lf = data.find(b"\n\n", start, crlf if crlf >= 0 else end)
    if lf >= 0:  # bare LF line ends (tolerated; RFC 3261 §7 says CRLF)
        head_end = lf - 1 if lf > start and data[lf - 1] == 13 else lf
        return head_end, lf + 2
    if crlf >= 0:
        return crlf, crlf + 4
    return -1, -1


def _split_headers(head: str) -> tuple[str, list[tuple[str, str]], dict[str, list[str]]]:
    """Start line, (canonical name, value) entries and the values of the tracked headers."""
    if "\r" in head:
        head = head.replace("\r\n", "\n")
        if "\r" in head:
            raise MessageParseError("bare CR in the header block")
    if "\n " in head or "\n\t" in head:
        if head[head.find("\n") + 1 : head.find("\n") + 2] in (" ", "\t"):
            raise MessageParseError("continuation line before the first header")
        head = _FOLD.sub(" ", head)  # folding is one SP (RFC 3261 §7.3.1)
    lines = head.split("\n")
    items: list[tuple[str, str]] = []
    tracked: dict[str, list[str]] = {}
    known = _CANON.get
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise MessageParseError(f"header line without ':' {line[:60]!r}")
        canon = known(name) or _canonical(name)
        value = value.strip(" \t")
        if "," in value and canon in LIST_HEADERS:
            values = _split_list(value)
            items.extend((canon, part) for part in values)
        else:
            if canon == "Content-Length":
                tracked.setdefault(canon, []).append(value)
                continue  # re-added after the body is cut (see module docstring)
            values = [value]
            items.append((canon, value))
        if canon in _TRACKED:
            tracked.setdefault(canon, []).extend(values)
    return lines[0], items, tracked


def _canonical(name: str) -> str:
    canon = _CANON.get(name)
    if canon is None:
        token = name.rstrip(" \t")
        if not token or not TOKEN_CHARS.issuperset(token):
            raise MessageParseError(f"bad header name {name[:60]!r}")
        canon = canonical_name(token)
        if len(_CANON) < _CANON_LIMIT:
            _CANON[name] = canon
    return canon


def _split_list(value: str) -> list[str]:
    try:
        parts = split_unquoted(value, ",")
    except ParseError as exc:
        raise MessageParseError(exc.reason) from None
    return [p for p in (part.strip(" \t") for part in parts) if p]


def _request(
    line: str, items: list[tuple[str, str]], tracked: dict[str, list[str]], data: bytes, at: int
) -> Request:
    parts = line.split(" ")
    # RFC 3261 §7.1: Method SP Request-URI SP SIP-Version, single spaces (RFC 4475 §3.1.2.9/10).
    if len(parts) != 3 or not all(parts):
        raise ParseError(f"malformed Request-Line {line[:80]!r}")
    method, uri, version = parts
    _check_version(version, 505)
    if not TOKEN_CHARS.issuperset(method):
        raise ParseError(f"bad method {method[:40]!r}")
    ruri = SipUri.parse(uri)
    if ruri.is_sip and ruri.headers:
        # RFC 3261 §19.1.1 table: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
        raise ParseError("headers in the Request-URI")
    _check_mandatory(tracked)
    cseq = CSeq.parse(tracked["CSeq"][0])
    if cseq.method != method:
        raise ParseError("CSeq method does not match")
    mf = tracked.get("Max-Forwards")
    if mf and not (mf[0].isascii() and mf[0].isdigit() and int(mf[0]) <= 255):
        raise ParseError(f"bad Max-Forwards {mf[0][:20]!r}")
    for contact in tracked.get("Contact", ()):
        if contact != "*":
            NameAddr.parse(contact)
    body = _body(data, at, tracked)
    items.append(("Content-Length", str(len(body))))
    return Request(method=method, uri=uri, headers=Headers.from_canonical(items), body=body)


def _response(
    line: str, items: list[tuple[str, str]], tracked: dict[str, list[str]], data: bytes, at: int
) -> Response:
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    try:
        _check_version(version, 400)
        # RFC 3261 §7.2 and §21: three digits, and 1xx-6xx (RFC 4475 §3.1.2.19).
        if len(code) != 3 or not (code.isascii() and code.isdigit()) or not "100" <= code < "700":
            raise ParseError(f"bad status code {code[:20]!r}")
        _check_mandatory(tracked)
        CSeq.parse(tracked["CSeq"][0])
        body = _body(data, at, tracked)
    except ParseError as exc:
        raise MessageParseError(exc.reason, exc.status) from None
    items.append(("Content-Length", str(len(body))))
    return Response(
        status=int(code), reason=reason, headers=Headers.from_canonical(items), body=body
    )


def _check_version(version: str, other_status: int) -> None:
    if version.upper() == "SIP/2.0":
        return
    major, dot, minor = version[4:].partition(".")
    if version[:4].upper() == "SIP/" and dot and major.isdigit() and minor.isdigit():
        raise ParseError(f"SIP version {version!r} not supported", other_status)
    raise ParseError(f"bad SIP version {version[:20]!r}")


def _check_mandatory(tracked: dict[str, list[str]]) -> None:
    """RFC 3261 §8.1.1: To, From, CSeq, Call-ID and Via present, the singletons once only."""
    for name in _SINGLE:
        values = tracked.get(name)
        if values is None:
            if name != "Max-Forwards":
                raise ParseError(f"missing {name} header")
        elif len(values) > 1:
            # RFC 4475 §3.3.8
            raise ParseError(f"more than one {name} header")
    vias = tracked.get("Via")
    if not vias:
        raise ParseError("missing Via header")
    for via in vias:
        Via.parse(via)
    call_id = tracked["Call-ID"][0]
    if not call_id or " " in call_id or "\t" in call_id:
        raise ParseError("bad Call-ID")
    NameAddr.parse(tracked["From"][0])
    NameAddr.parse(tracked["To"][0])


def _body(data: bytes, at: int, tracked: dict[str, list[str]]) -> bytes:
    values = tracked.get("Content-Length")
    if not values:
        return data[at:]  # UDP: the rest of the datagram (RFC 3261 §18.3)
    length = _content_length(values)
    if length > len(data) - at:
        # RFC 3261 §18.3 / RFC 4475 §3.1.2.2: on UDP a short body is an error.
        raise ParseError("Content-Length larger than the message")
    return data[at : at + length]


def _content_length(values: list[str]) -> int:
    """The one Content-Length value; conflicting values are a framing error (RFC 4475 §3.3.9)."""
    text = values[0]
    if any(v != text for v in values[1:]) and len({v.lstrip("0") for v in values}) > 1:
        raise ParseError("conflicting Content-Length values")
    if not (text.isascii() and text.isdigit()):
        raise ParseError(f"bad Content-Length {text[:20]!r}")
    return int(text)


class StreamFramer:
    """Cuts a TCP/TLS byte stream into messages (RFC 3261 §18.3) and counts RFC 5626 pings.

    ``feed`` returns the bytes of each complete message, ready for :func:`parse_message`.
    A CRLFCRLF between messages is a keep-alive ping: ``pings`` counts them and the caller
    answers each with a single CRLF pong (RFC 5626 §3.5.1). A framing error (no or bad
    Content-Length, oversized headers or body) raises :class:`ParseError`; the stream cannot be
    resynchronised, so the caller closes the connection. Messages completed before the error
    are returned first and the error is raised by the next ``feed``.
    """

    def __init__(
        self, max_header_bytes: int = MAX_HEADER_BYTES, max_body_bytes: int = 1 << 20
    ) -> None:
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        self.pings = 0
        self._buf = bytearray()
        self._error: ParseError | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every message now complete, in order."""
        if self._error is not None:
            raise self._error
        self._buf += data
        out: list[bytes] = []
        try:
            while (message := self._next()) is not None:
                out.append(message)
        except ParseError as exc:
            self._error = exc
            if not out:
                raise
        return out

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a message."""
        return len(self._buf)

    def _skip_keepalives(self) -> bool:
        """Drop CRLFs before a message; False when more bytes are needed to decide."""
        buf = self._buf
        while buf and buf[0] in (13, 10):
            if buf.startswith(b"\r\n\r\n"):
                self.pings += 1
                del buf[:4]
            elif len(buf) < 4 and b"\r\n\r\n".startswith(buf):
                return False  # maybe the start of a ping
            elif buf.startswith(b"\r\n"):
                del buf[:2]  # a pong, or a CRLF before a start line (RFC 3261 §7.5)
            else:
                del buf[:1]
        return True

    def _next(self) -> bytes | None:
        if not self._skip_keepalives() or not self._buf:
            return None
        buf = self._buf
        head_end, body_at = _find_head_end(buf, 0, self.max_header_bytes + 4)
        if head_end < 0:
            if len(buf) > self.max_header_bytes:
                raise ParseError("header block too large", 513)
            return None
        length = _stream_content_length(bytes(buf[:head_end]))
        if length > self.max_body_bytes:
            raise ParseError("body too large", 413)
        end = body_at + length
        if len(buf) < end:
            return None
        message = bytes(buf[:end])
        del buf[:end]
        return message


def _stream_content_length(head: bytes) -> int:
    """Content-Length of a header block; mandatory on a stream (RFC 3261 §18.3, §20.14)."""
    values: list[str] = []
    last = ""
    for line in head.decode("latin-1").replace("\r\n", "\n").split("\n")[1:]:
        if line[:1] in (" ", "\t"):
            if last and values:
                values[-1] = (values[-1] + " " + line).strip(" \t")
            continue
        name, _, value = line.partition(":")
        last = name.strip(" \t").lower()
        if last in ("content-length", "l"):
            values.append(value.strip(" \t"))
        else:
            last = ""
    if not values:
        raise ParseError("no Content-Length on a stream transport")
    return _content_length(values)
