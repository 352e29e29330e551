"""SIP messages as plain data: a header list that keeps order and case-insensitive lookup.

The parser (``parser.py``) builds these from bytes and ``to_bytes()`` turns them back; nothing
here does I/O. Multi-valued headers (Via, Contact, Route, Record-Route, ...) are stored one value
per entry: the parser splits comma lists, so ``get_all("Via")`` is the Via stack top first.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from telephony.sip.headers import CSeq, NameAddr, Via

__all__ = [
    "COMPACT_FORMS",
    "REASON_PHRASES",
    "Headers",
    "Message",
    "Request",
    "Response",
    "canonical_name",
    "make_response",
    "reason_phrase",
]

# RFC 3261 §7.3.3 plus the extensions' compact forms (RFC 3265, 3515, 3892, 4028).
COMPACT_FORMS: dict[str, str] = {
    "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
    "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To",
    "v": "Via", "o": "Event", "u": "Allow-Events", "r": "Refer-To", "b": "Referred-By",
    "x": "Session-Expires", "a": "Accept-Contact", "j": "Reject-Contact", "d": "Request-Disposition",
}

_SPECIAL_CASE: dict[str, str] = {
    n.lower(): n
    for n in (
        "Call-ID", "CSeq", "WWW-Authenticate", "Proxy-Authenticate", "Proxy-Authorization",
        "MIME-Version", "RAck", "RSeq", "SIP-ETag", "SIP-If-Match", "P-Asserted-Identity",
        "Min-SE", "Session-Expires", "Max-Forwards", "Min-Expires",
    )
}


@functools.lru_cache(maxsize=4096)
def canonical_name(name: str) -> str:
    """Return the canonical spelling of a header name (expanding compact forms).

    Cached: a call's messages ask about the same few dozen names hundreds of times.
    """
    low = name.strip().lower()
    if low in COMPACT_FORMS:
        return COMPACT_FORMS[low]
    if low in _SPECIAL_CASE:
        return _SPECIAL_CASE[low]
    return "-".join(part[:1].upper() + part[1:] for part in low.split("-"))


class Headers:
    """Ordered SIP headers with case-insensitive names; one entry per value."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(canonical_name(k), v) for k, v in items]

    @classmethod
    def from_canonical(cls, items: list[tuple[str, str]]) -> Headers:
        """Adopt ``items`` whose names are already canonical (the parser's fast path)."""
        h = cls()
        h._items = items
        return h

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of ``name`` or ``default``."""
        key = canonical_name(name)
        for k, v in self._items:
            if k == key:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name`` in message order."""
        key = canonical_name(name)
        return [v for k, v in self._items if k == key]

    def add(self, name: str, value: str) -> None:
        """Append a value after the existing ones."""
        self._items.append((canonical_name(name), value))

    def prepend(self, name: str, value: str) -> None:
        """Insert a value before the first existing value of the same name (e.g. a new top Via)."""
        key = canonical_name(name)
        for i, (k, _) in enumerate(self._items):
            if k == key:
                self._items.insert(i, (key, value))
                return
        self._items.append((key, value))

    def set(self, name: str, value: str) -> None:
        """Replace every value of ``name`` with one value, keeping the first position."""
        key = canonical_name(name)
        for i, (k, _) in enumerate(self._items):
            if k == key:
                self._items[i] = (key, value)
                self._items[i + 1 :] = [(a, b) for a, b in self._items[i + 1 :] if a != key]
                return
        self._items.append((key, value))

    def remove(self, name: str) -> None:
        """Drop every value of ``name``."""
        key = canonical_name(name)
        self._items = [(k, v) for k, v in self._items if k != key]

    def pop_first(self, name: str) -> str | None:
        """Remove and return the first value of ``name``."""
        key = canonical_name(name)
        for i, (k, v) in enumerate(self._items):
            if k == key:
                del self._items[i]
                return v
        return None

    def copy(self) -> Headers:
        """A shallow copy that can be edited independently."""
        h = Headers()
        h._items = list(self._items)
        return h


@dataclass(kw_only=True)
class _MessageBase:
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def call_id(self) -> str:
        return self.headers.get("Call-ID") or ""

    @property
    def cseq(self) -> CSeq:
        return CSeq.parse(self.headers.get("CSeq") or "")

    @property
    def vias(self) -> list[Via]:
        return [Via.parse(v) for v in self.headers.get_all("Via")]

    @property
    def top_via(self) -> Via:
        return Via.parse(self.headers.get("Via") or "")

    @property
    def from_(self) -> NameAddr:
        return NameAddr.parse(self.headers.get("From") or "")

    @property
    def to(self) -> NameAddr:
        return NameAddr.parse(self.headers.get("To") or "")

    @property
    def contacts(self) -> list[NameAddr]:
        return [NameAddr.parse(v) for v in self.headers.get_all("Contact") if v.strip() != "*"]

    def _head_and_body(self, start_line: str) -> bytes:
        lines = [start_line]
        for k, v in self.headers:
            if k == "Content-Length":
                continue
            lines.append(f"{k}: {v}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


@dataclass(kw_only=True)
class Request(_MessageBase):
    """A SIP request; ``uri`` is the Request-URI text exactly as on the wire."""

    method: str = ""
    uri: str = ""

    def to_bytes(self) -> bytes:
        """Serialize with CRLF line ends and a recomputed Content-Length."""
        return self._head_and_body(f"{self.method} {self.uri} SIP/2.0")


@dataclass(kw_only=True)
class Response(_MessageBase):
    """A SIP response."""

    status: int = 0
    reason: str = ""

    def to_bytes(self) -> bytes:
        """Serialize with CRLF line ends and a recomputed Content-Length."""
        return self._head_and_body(f"SIP/2.0 {self.status} {self.reason}")


Message = Request | Response


# RFC 3261 §21 and the extensions we answer with (RFC 4028 422, RFC 3261 §21.4.x).
REASON_PHRASES: dict[int, str] = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
    410: "Gone", 413: "Request Entity Too Large", 414: "Request-URI Too Long",
    415: "Unsupported Media Type", 416: "Unsupported URI Scheme", 420: "Bad Extension",
    421: "Extension Required", 422: "Session Interval Too Small", 423: "Interval Too Brief",
    480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
    482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete", 485: "Ambiguous",
    486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here",
    491: "Request Pending", 500: "Server Internal Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Server Time-out",
    505: "Version Not Supported", 513: "Message Too Large", 600: "Busy Everywhere",
    603: "Decline", 604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}


def reason_phrase(status: int) -> str:
    """The RFC's reason phrase for ``status`` (a class default for unknown codes)."""
    return REASON_PHRASES.get(status) or REASON_PHRASES.get(status // 100 * 100, "Unknown")


def make_response(
    request: Request, status: int, reason: str | None = None, *, to_tag: str | None = None
) -> Response:
    """Build a response to ``request`` per RFC 3261 §8.2.6.2.

    Via (all values, in order), From, To, Call-ID and CSeq are copied; ``to_tag`` is added to
    To when given and To has no tag yet. A Timestamp is echoed for 100 Trying (§8.2.6.1).
    """
    headers = Headers()
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for value in request.headers.get_all(name):
            headers.add(name, value)
    if to_tag is not None:
        to = request.headers.get("To") or ""
        if to and ";tag=" not in to.replace(" ", "").lower():
            headers.set("To", f"{to};tag={to_tag}")
    if status == 100 and (stamp := request.headers.get("Timestamp")) is not None:
        headers.add("Timestamp", stamp)
    return Response(status=status, reason=reason or reason_phrase(status), headers=headers)
