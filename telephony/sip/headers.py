"""Structured views of the headers the core reasons about: Via, name-addr (From/To/Contact), CSeq.

Each has ``parse(text)`` raising :class:`ParseError` and ``__str__`` giving wire text back
(RFC 3261 §20 and the ABNF of §25).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from telephony.sip.errors import ParseError

__all__ = [
    "TOKEN_CHARS",
    "CSeq",
    "NameAddr",
    "Via",
    "format_params",
    "is_token",
    "parse_params",
    "split_unquoted",
]


# RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-.!%*_+`'~")


def is_token(text: str) -> bool:
    """True when ``text`` is a non-empty RFC 3261 token (method names, header names, ...)."""
    return bool(text) and TOKEN_CHARS.issuperset(text)


def split_unquoted(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double quotes and angle brackets."""
    if '"' not in text and "<" not in text:
        return text.split(sep)  # the common case needs no scan
    parts: list[str] = []
    buf: list[str] = []
    quoted = False
    angle = 0
    escaped = False
    for ch in text:
        if escaped:
            buf.append(ch)
            escaped = False
            continue
        if quoted and ch == "\\":
            buf.append(ch)
            escaped = True
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            angle += 1
        elif not quoted and ch == ">" and angle:
            angle -= 1
        if ch == sep and not quoted and not angle:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if quoted:
        raise ParseError("unterminated quoted string")
    parts.append("".join(buf))
    return parts


def parse_params(text: str) -> dict[str, str | None]:
    """Parse ``;a=b;c`` (leading ';' optional) into an ordered dict; names lower-cased."""
    params: dict[str, str | None] = {}
    if not text:
        return params
    for raw in split_unquoted(text, ";"):
        item = raw.strip()
        if not item:
            continue
        if "=" in item:
            name, value = item.split("=", 1)
            name = name.strip()
            if not name:
                raise ParseError(f"parameter without a name in {text!r}")
            params[name.lower()] = value.strip()
        else:
            params[item.lower()] = None
    return params


def format_params(params: dict[str, str | None]) -> str:
    """Inverse of :func:`parse_params` (values are written as stored)."""
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


def _split_host_port(text: str) -> tuple[str, int | None]:
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ParseError(f"bad IPv6 reference {text!r}")
        host, rest = text[: end + 1], text[end + 1 :].strip()
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise ParseError(f"bad host:port {text!r}")
        port_text = rest[1:].strip()
    elif ":" in text:
        host, port_text = (p.strip() for p in text.rsplit(":", 1))
    else:
        host, port_text = text, ""
    if not host or any(c in host for c in ' \t,;<>"@'):
        raise ParseError(f"bad host in {text!r}")
    if not port_text:
        return host, None
    # isascii: str.isdigit() also accepts digits like '²' that int() rejects.
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise ParseError(f"bad port in {text!r}")
    return host, int(port_text)


@dataclass
class Via:
    """One Via header value (RFC 3261 §20.42, §18.2.1 received/rport)."""

    transport: str
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Via:
        parts = split_unquoted(text, ";")
        sent = parts[0].strip()
        # "SIP / 2.0 / UDP host:port" — LWS is allowed around the slashes (RFC 4475 §3.1.1.1).
        proto, _, rest = sent.partition("/")
        ver, _, rest = rest.partition("/")
        rest = rest.strip()
        fields = rest.split(None, 1)
        if proto.strip().upper() != "SIP" or ver.strip() != "2.0" or len(fields) != 2:
            raise ParseError(f"bad Via {text!r}")
        if not TOKEN_CHARS.issuperset(fields[0]):
            raise ParseError(f"bad Via transport {text!r}")
        host, port = _split_host_port(fields[1])
        if not host:
            raise ParseError(f"Via without host {text!r}")
        return cls(fields[0].upper(), host, port, parse_params(";".join(parts[1:])))

    @property
    def branch(self) -> str:
        return self.params.get("branch") or ""

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"SIP/2.0/{self.transport} {self.sent_by}{format_params(self.params)}"


def _unquote(text: str) -> str:
    out: list[str] = []
    it = iter(text[1:-1])
    for ch in it:
        out.append(next(it, "") if ch == "\\" else ch)
    return "".join(out)


@dataclass
class NameAddr:
    """From/To/Contact/Route value: display name, URI text and header parameters (``tag``...)."""

    uri: str
    display: str = ""
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        text = text.strip()
        if not text:
            raise ParseError("empty name-addr")
        lt = _find_unquoted(text, "<")
        if lt >= 0:
            gt = text.find(">", lt)
            if gt < 0:
                raise ParseError(f"unbalanced '<' in {text!r}")
            display = _display_name(text[:lt].strip(), text)
            uri = text[lt + 1 : gt]
            # RFC 3261 §25.1: LAQUOT addr-spec RAQUOT, no LWS inside (RFC 4475 §3.1.2.14).
            if uri != uri.strip():
                raise ParseError(f"whitespace inside <> in {text!r}")
            rest = text[gt + 1 :].lstrip()
            if rest and not rest.startswith(";"):
                raise ParseError(f"junk after '>' in {text!r}")
            params = parse_params(rest)
        else:
            # addr-spec form: parameters after the URI belong to the header, and a URI with
            # ',', '?' or ';' must be in <> (RFC 3261 §20.10, RFC 4475 §3.1.2.13).
            uri, _, rest = text.partition(";")
            uri = uri.strip()
            if any(c in uri for c in ' \t"?,'):
                raise ParseError(f"bad addr-spec {text!r}")
            display, params = "", parse_params(rest)
        if not uri or ":" not in uri:
            raise ParseError(f"bad URI in {text!r}")
        return cls(uri, display, params)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def with_tag(self, tag: str) -> NameAddr:
        """A copy with ``tag`` set."""
        return NameAddr(self.uri, self.display, {**self.params, "tag": tag})

    def __str__(self) -> str:
        display = ""
        if self.display:
            esc = self.display.replace("\\", "\\\\").replace('"', '\\"')
            display = f'"{esc}" '
        return f"{display}<{self.uri}>{format_params(self.params)}"


def _display_name(display: str, text: str) -> str:
    """Unquote a display name, or check an unquoted one is ``*(token LWS)`` (RFC 3261 §25.1)."""
    if not display:
        return ""
    if display.startswith('"'):
        if "\\" not in display:  # no quoted-pair: the common case needs no scan
            if display.find('"', 1) != len(display) - 1:
                raise ParseError(f"bad display name in {text!r}")
            return display[1:-1]
        if _closing_quote(display) != len(display) - 1:
            raise ParseError(f"bad display name in {text!r}")
        return _unquote(display)
    words = display.split()
    # RFC 4475 §3.1.2.15: "Bell, Alexander" needs quotes; we do not guess them.
    if not all(TOKEN_CHARS.issuperset(w) for w in words):
        raise ParseError(f"unquoted display name with non-token characters in {text!r}")
    return " ".join(words)


def _closing_quote(text: str) -> int:
    """Index of the quote closing the quoted-string opened at ``text[0]``, or -1."""
    i = 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i
        i += 1
    return -1


def _find_unquoted(text: str, ch: str) -> int:
    if '"' not in text:
        return text.find(ch)
    quoted = False
    escaped = False
    for i, c in enumerate(text):
        if escaped:
            escaped = False
        elif quoted and c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c == ch and not quoted:
            return i
    return -1


@dataclass(frozen=True)
class CSeq:
    """CSeq number and method (RFC 3261 §20.16)."""

    number: int
    method: str

    @classmethod
    def parse(cls, text: str) -> CSeq:
        fields = text.split()
        if len(fields) != 2 or not fields[0].isascii() or not fields[0].isdigit():
            raise ParseError(f"bad CSeq {text!r}")
        if len(fields[0]) > 10 or not TOKEN_CHARS.issuperset(fields[1]):
            raise ParseError(f"bad CSeq {text!r}")
        number = int(fields[0])
        if number >= 2**31:
            raise ParseError(f"CSeq number out of range in {text!r}")
        return cls(number, fields[1])

    def __str__(self) -> str:
        return f"{self.number} {self.method}"
