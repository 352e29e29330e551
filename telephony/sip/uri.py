"""SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966), and a generic form for the rest.

Components are stored %-unescaped (``sip:%75ser@h`` has user ``"user"``); ``str()`` escapes
again what the grammar requires, so ``SipUri.parse(str(u)) == u``. Octets that are not UTF-8
survive as lone surrogates (``surrogateescape``), so nothing is lost on the way back. Any other
scheme parses into the generic form (``opaque`` holds everything after the colon) so that the
caller can answer 416 (RFC 3261 §8.2.2.1) instead of 400.
"""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass, field

from telephony.sip.errors import ParseError

__all__ = ["SipUri", "unescape", "user_part"]

_ALNUM = frozenset(string.ascii_letters + string.digits)
_HEX = frozenset(string.hexdigits)
# RFC 3261 §25.1: unreserved = alphanum / mark
_UNRESERVED = _ALNUM | frozenset("-_.!~*'()")
_USER_SAFE = _UNRESERVED | frozenset("&=+$,;?/")
_PASSWORD_SAFE = _UNRESERVED | frozenset("&=+$,")
_PARAM_SAFE = _UNRESERVED | frozenset("[]/:&+$")
_HEADER_SAFE = _UNRESERVED | frozenset("[]/?:+$")
# '#' is not allowed unescaped in a user part, but phones send "*67#123@host"; we read it
# and write it back escaped.
_USER_IN = _USER_SAFE | frozenset("%#")
_PASSWORD_IN = _PASSWORD_SAFE | {"%"}
_PARAM_IN = _PARAM_SAFE | {"%"}
_HEADER_IN = _HEADER_SAFE | {"%"}
_HOST_CHARS = _ALNUM | frozenset("-._")
_SCHEME_CHARS = _ALNUM | frozenset("+-.")
# RFC 3966 §3: digits, hex digits of local numbers, '*', '#', '+' and visual separators.
_TEL_CHARS = _HEX | frozenset("*#+-.()")
_VISUAL_SEPARATORS = str.maketrans("", "", "-.()")
# RFC 3261 §19.1.4: these parameters never match when only one URI has them.
_STICKY_PARAMS = ("user", "ttl", "method", "maddr", "transport")


def unescape(text: str, allowed: frozenset[str] = _PARAM_IN, what: str = "URI") -> str:
    """Decode ``%HH`` escapes after checking every character is in ``allowed``."""
    if not allowed.issuperset(text):
        raise ParseError(f"bad character in {what} {text!r}")
    if "%" not in text:
        return text
    pieces = text.split("%")
    out = bytearray(pieces[0].encode("ascii"))
    for piece in pieces[1:]:
        if len(piece) < 2 or piece[0] not in _HEX or piece[1] not in _HEX:
            raise ParseError(f"bad %-escape in {what} {text!r}")
        out.append(int(piece[:2], 16))
        out += piece[2:].encode("ascii")
    return out.decode("utf-8", "surrogateescape")


def _escape(text: str, safe: frozenset[str]) -> str:
    if safe.issuperset(text):
        return text
    out: list[str] = []
    for ch in text:
        if ch in safe:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogateescape"))
    return "".join(out)


@dataclass(frozen=True)
class SipUri:
    """A parsed URI; ``user`` holds the number for ``tel:``, ``opaque`` the text of other schemes."""

    scheme: str
    user: str | None = None
    password: str | None = None
    host: str = ""
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict, hash=False)
    headers: dict[str, str] = field(default_factory=dict, hash=False)
    opaque: str = ""

    @classmethod
    def parse(cls, text: str) -> SipUri:
        """Parse URI text (no ``<>``, no display name); raises :class:`ParseError`."""
        scheme, colon, rest = text.partition(":")
        if not colon or not scheme or not rest:
            raise ParseError(f"not an absolute URI {text!r}")
        if scheme[0] not in string.ascii_letters or not _SCHEME_CHARS.issuperset(scheme):
            raise ParseError(f"bad URI scheme in {text!r}")
        scheme = scheme.lower()
        if scheme in ("sip", "sips"):
            return _parse_sip(scheme, rest, text)
        if scheme == "tel":
            return _parse_tel(rest, text)
        if any(c <= " " or c in '<>"\x7f' for c in rest):
            raise ParseError(f"bad character in URI {text!r}")
        return cls(scheme, opaque=rest)

    @property
    def is_sip(self) -> bool:
        """True for sip: and sips: URIs."""
        return self.scheme in ("sip", "sips")

    @property
    def number(self) -> str:
        """The telephone number without visual separators (RFC 3966 §5.1.1): tel number or user."""
        user = (self.user or "").partition(";")[0]
        return user.translate(_VISUAL_SEPARATORS)

    @property
    def transport(self) -> str | None:
        """The ``transport`` parameter, lower-cased, if any."""
        value = self.params.get("transport")
        return value.lower() if value else None

    @property
    def host_port(self) -> str:
        """``host`` or ``host:port`` as written in a URI."""
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def equivalent(self, other: SipUri) -> bool:
        """URI equality per RFC 3261 §19.1.4 (sip/sips) and RFC 3966 §4 (tel)."""
        if self.scheme != other.scheme:
            return False
        if self.is_sip:
            return _sip_equivalent(self, other)
        if self.scheme == "tel":
            return self.number.lower() == other.number.lower() and _lower_params(
                self.params
            ) == _lower_params(other.params)
        return self.opaque == other.opaque

    def __str__(self) -> str:
        if self.is_sip or self.scheme == "tel":
            out = [self.scheme, ":"]
            if self.user is not None:
                out.append(_escape(self.user, _USER_SAFE))
                if self.password is not None:
                    out += [":", _escape(self.password, _PASSWORD_SAFE)]
                if self.is_sip:
                    out.append("@")
            out.append(self.host_port if self.is_sip else "")
            for name, value in self.params.items():
                out += [";", _escape(name, _PARAM_SAFE)]
                if value is not None:
                    out += ["=", _escape(value, _PARAM_SAFE)]
            if self.headers:
                out.append("?")
                out.append(
                    "&".join(
                        f"{_escape(k, _HEADER_SAFE)}={_escape(v, _HEADER_SAFE)}"
                        for k, v in self.headers.items()
                    )
                )
            return "".join(out)
        return f"{self.scheme}:{self.opaque}"


def _parse_sip(scheme: str, rest: str, text: str) -> SipUri:
    # '@' cannot appear unescaped after the userinfo, and the user part may hold ';' and '?',
    # so the first '@' ends the userinfo (RFC 4475 §3.1.1.2 puts ";;" and "?" in a user).
    at = rest.find("@")
    user: str | None = None
    password: str | None = None
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user_text, colon, password_text = userinfo.partition(":")
        if not user_text:
            raise ParseError(f"empty user in {text!r}")
        user = unescape(user_text, _USER_IN, "user")
        if colon:
            password = unescape(password_text, _PASSWORD_IN, "password")
    rest, _, header_text = rest.partition("?")
    hostport, _, param_text = rest.partition(";")
    host, port = _host_port(hostport, text)
    return SipUri(
        scheme, user, password, host, port, _uri_params(param_text), _uri_headers(header_text)
    )


def _parse_tel(rest: str, text: str) -> SipUri:
    number, _, param_text = rest.partition(";")
    # RFC 3966 §5.1.5: '#' travels as %23.
    number = unescape(number, _TEL_CHARS | {"%"}, "telephone number")
    if not number or not _TEL_CHARS.issuperset(number) or "+" in number[1:]:
        raise ParseError(f"bad telephone number in {text!r}")
    return SipUri("tel", user=number, params=_uri_params(param_text))


def _host_port(text: str, uri: str) -> tuple[str, int | None]:
    if text.startswith("["):
        end = text.find("]")
        host, tail = text[: end + 1], text[end + 1 :]
        if end < 0 or (tail and not tail.startswith(":")) or not _is_ipv6(host[1:-1]):
            raise ParseError(f"bad IPv6 reference in {uri!r}")
        port_text = tail[1:] if tail else None
    else:
        host, colon, port_text = text.partition(":")
        if not host or not _HOST_CHARS.issuperset(host):
            raise ParseError(f"bad host in {uri!r}")
        port_text = port_text if colon else None
    if port_text is None:
        return host, None
    if not (port_text.isascii() and port_text.isdigit()) or int(port_text) > 65535:
        raise ParseError(f"bad port in {uri!r}")
    return host, int(port_text)


def _uri_params(text: str) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    for item in text.split(";"):
        if not item:
            continue  # tolerate "sip:a@b;" and ";;"
        name, eq, value = item.partition("=")
        key = unescape(name, _PARAM_IN, "URI parameter").lower()
        if not key:
            raise ParseError(f"URI parameter without a name {item!r}")
        params.setdefault(key, unescape(value, _PARAM_IN, "URI parameter") if eq else None)
    return params


def _uri_headers(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in text.split("&") if text else ():
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise ParseError(f"bad URI header {item!r}")
        headers[unescape(name, _HEADER_IN, "URI header")] = unescape(
            value, _HEADER_IN, "URI header"
        )
    return headers


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _lower_params(params: dict[str, str | None]) -> dict[str, str | None]:
    return {k: (v.lower() if v is not None else None) for k, v in params.items()}


def _same_host(a: str, b: str) -> bool:
    if a.startswith("[") and b.startswith("[") and _is_ipv6(a[1:-1]) and _is_ipv6(b[1:-1]):
        # RFC 5954 §4.1: IPv6 references compare as addresses, not as text.
        return ipaddress.IPv6Address(a[1:-1]) == ipaddress.IPv6Address(b[1:-1])
    return a.lower() == b.lower()


def _sip_equivalent(a: SipUri, b: SipUri) -> bool:
    # Userinfo is case-sensitive, everything else case-insensitive (RFC 3261 §19.1.4).
    if a.user != b.user or a.password != b.password or a.port != b.port:
        return False
    if not _same_host(a.host, b.host):
        return False
    pa, pb = _lower_params(a.params), _lower_params(b.params)
    if any((name in pa) != (name in pb) for name in _STICKY_PARAMS):
        return False
    if any(pa[name] != pb[name] for name in pa.keys() & pb.keys()):
        return False
    # Header components are never ignored; values compare as text.
    ha = {k.lower(): v for k, v in a.headers.items()}
    hb = {k.lower(): v for k, v in b.headers.items()}
    return ha == hb


def user_part(text: str) -> str:
    """The unescaped user (or tel number) of a URI or name-addr text; ``""`` when there is none.

    Tolerant: accepts ``"Bob" <sip:bob@h>;tag=1``, ``<sip:bob@h>``, ``sip:bob@h`` or junk.
    """
    text = text.strip()
    # The URI cannot contain '<' unescaped, so the last one opens it even if the display
    # name has a quoted '<'.
    lt = text.rfind("<")
    if lt >= 0:
        gt = text.find(">", lt)
        text = text[lt + 1 : gt if gt >= 0 else len(text)].strip()
    try:
        return SipUri.parse(text).user or ""
    except ParseError:
        return ""
