"""HTTP digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760), server and client side.

The server issues stateless nonces (an HMAC over the issue time), so it needs no per-nonce memory
except a bounded LRU of the highest ``nc`` seen, which refuses replays when qop is used.
RFC 2617/2069 answers without qop are accepted: pyVoIP 1.6.8 answers MD5 without qop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from telephony.sip.errors import LocalProtocolError, ParseError, RemoteProtocolError
from telephony.sip.message import Request, Response
from telephony.sip.uri import SipUri

__all__ = [
    "Algorithm", "AuthResult", "Challenge", "Credentials", "DigestClient", "DigestServer",
    "choose_challenge", "compute_response", "find_credentials", "parse_challenges",
]


class Algorithm(StrEnum):
    """Digest algorithms as spelled on the wire (RFC 7616 §6.1, RFC 8760 §2.1)."""

    MD5 = "MD5"
    SHA256 = "SHA-256"
    SHA512_256 = "SHA-512-256"


_HASHES = {Algorithm.MD5: "md5", Algorithm.SHA256: "sha256", Algorithm.SHA512_256: "sha512_256"}


class AuthResult(StrEnum):
    """Outcome of :meth:`DigestServer.verify`; :attr:`status` is the response to send."""

    OK = "ok"
    BAD_PASSWORD = "bad-password"
    STALE = "stale"
    UNKNOWN_USER = "unknown-user"
    BAD_REQUEST = "bad-request"

    @property
    def status(self) -> int:
        """200 for OK, 401 (new challenge with stale=true) for STALE, 403 or 400 otherwise."""
        return _RESULT_STATUS[self]


# UNKNOWN_USER answers like BAD_PASSWORD so a scanner cannot enumerate accounts.
_RESULT_STATUS = {
    AuthResult.OK: 200, AuthResult.BAD_PASSWORD: 403, AuthResult.STALE: 401,
    AuthResult.UNKNOWN_USER: 403, AuthResult.BAD_REQUEST: 400,
}

_TOKEN = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"
_SCHEME_RE = re.compile(rf"\s*({_TOKEN})(?:[ \t]+|$)")
# auth-param = token BWS "=" BWS ( token / quoted-string ), comma separated (RFC 7235 §2.1).
_PARAM_RE = re.compile(rf'[\s,]*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*(?:,|$)', re.S)
_UNESCAPE_RE = re.compile(r"\\(.)", re.S)
_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_QOPS = ("auth", "auth-int")  # the client's preference order


def _hash(algorithm: Algorithm, data: str | bytes) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.new(_HASHES[algorithm], raw).hexdigest()


def _parse_algorithm(value: str) -> Algorithm:
    try:
        return Algorithm(value.upper())
    except ValueError:
        raise ParseError(f"unsupported digest algorithm {value!r}") from None


def _parse_auth(value: str, status: int = 400) -> dict[str, str]:
    """``Digest a=b, c="d"`` as {name: unquoted value}; another scheme raises with ``status``."""
    m = _SCHEME_RE.match(value)
    if not m:
        raise ParseError(f"bad auth header {value!r}")
    if m.group(1).lower() != "digest":
        raise ParseError(f"unsupported auth scheme {m.group(1)!r}", status)
    params: dict[str, str] = {}
    pos = m.end()
    while value[pos:].strip(" \t\r\n,"):
        pm = _PARAM_RE.match(value, pos)
        if not pm:
            raise ParseError(f"bad auth-param at {value[pos:]!r}")
        name, quoted, token = pm.groups()
        if name.lower() in params:  # RFC 7235 §2.1: each parameter name occurs once
            raise ParseError(f"duplicate auth-param {name!r}")
        params[name.lower()] = token if quoted is None else _UNESCAPE_RE.sub(r"\1", quoted)
        pos = pm.end()
    return params


def _format(*params: tuple[str, str | None, bool]) -> str:
    """``Digest a="quoted", b=token`` from (name, value, quoted) triples; None values are left out."""
    def text(value: str, quoted: bool) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if quoted else value

    return "Digest " + ", ".join(f"{n}={text(v, q)}" for n, v, q in params if v is not None)


def _require(params: dict[str, str], *names: str) -> list[str]:
    missing = [n for n in names if n not in params]
    if missing:
        raise ParseError(f"auth header lacks {', '.join(missing)}")
    return [params[n] for n in names]


@dataclass(frozen=True)
class Challenge:
    """One WWW-Authenticate / Proxy-Authenticate digest challenge (RFC 7616 §3.3)."""

    realm: str
    nonce: str
    algorithm: Algorithm = Algorithm.MD5
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False

    @classmethod
    def parse(cls, value: str) -> Challenge:
        """Parse a header value; ParseError on a non-Digest scheme or unsupported algorithm."""
        params = _parse_auth(value)
        realm, nonce = _require(params, "realm", "nonce")
        qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
        algorithm = _parse_algorithm(params.get("algorithm", "MD5"))
        stale = params.get("stale", "").lower() == "true"
        return cls(realm, nonce, algorithm, qop, params.get("opaque"), stale)

    def to_header(self) -> str:
        """Wire text of the header value."""
        return _format(
            ("realm", self.realm, True), ("nonce", self.nonce, True),
            ("algorithm", self.algorithm, False), ("qop", ",".join(self.qop) or None, True),
            ("opaque", self.opaque, True), ("stale", "TRUE" if self.stale else None, False),
        )


@dataclass(frozen=True)
class Credentials:
    """An Authorization / Proxy-Authorization digest response (RFC 7616 §3.4)."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: Algorithm = Algorithm.MD5
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None
    opaque: str | None = None

    @classmethod
    def parse(cls, value: str) -> Credentials:
        """Parse a header value: ParseError 400 on garbage, status 401 for another scheme."""
        params = _parse_auth(value, status=401)
        username, realm, nonce, uri, response = _require(
            params, "username", "realm", "nonce", "uri", "response"
        )
        algorithm = _parse_algorithm(params.get("algorithm", "MD5"))
        if not _HEX_RE.fullmatch(response) or len(response) != len(_hash(algorithm, b"")):
            raise ParseError(f"bad digest response {response!r}")
        # nc and cnonce mean nothing without qop (RFC 2069 form): they are ignored then.
        qop, nc, cnonce = params.get("qop"), None, None
        if qop is not None:
            qop = qop.lower()
            if qop not in _QOPS:
                raise ParseError(f"unsupported qop {qop!r}")
            nc, cnonce = _require(params, "nc", "cnonce")
            if not _HEX_RE.fullmatch(nc) or len(nc) > 8:
                raise ParseError(f"bad nonce count {nc!r}")
        return cls(
            username, realm, nonce, uri, response, algorithm, qop, nc, cnonce, params.get("opaque")
        )

    def to_header(self) -> str:
        """Wire text of the header value (qop and nc are tokens, RFC 7616 §3.4)."""
        return _format(
            ("username", self.username, True), ("realm", self.realm, True),
            ("nonce", self.nonce, True), ("uri", self.uri, True),
            ("response", self.response, True), ("algorithm", self.algorithm, False),
            ("cnonce", self.cnonce, True), ("opaque", self.opaque, True),
            ("qop", self.qop, False), ("nc", self.nc, False),
        )


def compute_response(
    algorithm: Algorithm, username: str, realm: str, password: str, method: str, uri: str,
    nonce: str, *, qop: str | None = None, nc: str | None = None, cnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """The request-digest of RFC 7616 §3.4.1 (RFC 2069 form when ``qop`` is None)."""
    ha1 = _hash(algorithm, f"{username}:{realm}:{password}")
    a2 = f"{method}:{uri}"
    if qop == "auth-int":
        a2 += ":" + _hash(algorithm, body)
    ha2 = _hash(algorithm, a2)
    if qop is None:
        return _hash(algorithm, f"{ha1}:{nonce}:{ha2}")
    if nc is None or cnonce is None:
        raise LocalProtocolError("qop needs nc and cnonce")
    return _hash(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def _same_resource(digest_uri: str, request_uri: str) -> bool:
    """The digest uri names the request's resource (RFC 3261 §22.4, RFC 7616 §3.4.6).

    Parameters may differ (pyVoIP adds ``;transport=UDP``), and a digest uri without a user part
    may name just the server (SIPp answers every challenge with ``sip:host:port``).
    """
    try:
        a, b = SipUri.parse(digest_uri), SipUri.parse(request_uri)
    except ParseError:
        return digest_uri.strip() == request_uri.strip()
    user = a.user if a.user else b.user
    return (a.scheme, user, a.host.lower(), a.port) == (b.scheme, b.user, b.host.lower(), b.port)


_NONCE_PAYLOAD = struct.Struct(">dI")
_MAC_LEN = 16
_CLOCK_SKEW = 2.0  # nodes sharing the secret may disagree slightly on the time


class DigestServer:
    """Issues challenges and verifies Authorization headers; nonces are stateless HMAC(secret, timestamp) tokens valid for nonce_ttl s, so no per-nonce memory is needed."""

    def __init__(
        self, realm: str, secret: bytes, *,
        algorithms: Sequence[Algorithm] = (Algorithm.SHA256, Algorithm.MD5),
        nonce_ttl: float = 300.0, max_tracked_nonces: int = 10_000,
    ) -> None:
        if not algorithms:
            raise ValueError("at least one digest algorithm is needed")
        self.realm = realm
        self.algorithms = tuple(algorithms)
        self.nonce_ttl = nonce_ttl
        self._secret = secret
        self._counter = 0
        self._max_tracked = max_tracked_nonces
        self._highest_nc: OrderedDict[str, tuple[float, int]] = OrderedDict()
        # Nonces issued at or before this time may have lost their nc record to eviction.
        self._evicted_upto = -math.inf

    def challenges(self, now: float, *, stale: bool = False) -> list[Challenge]:
        """One challenge per algorithm in preference order (RFC 8760 §2.3), sharing one nonce.

        Sharing the nonce matters: pyVoIP reads one WWW-Authenticate, ignores its algorithm and
        answers MD5 with that nonce.
        """
        nonce = self._mint(now)
        return [Challenge(self.realm, nonce, alg, ("auth",), None, stale) for alg in self.algorithms]

    def verify(
        self, creds: Credentials, method: str, password: str | None, now: float, *,
        body: bytes = b"", request_uri: str | None = None,
    ) -> AuthResult:
        """Check ``creds`` for a request; ``password`` is None when the user is unknown.

        ``request_uri``, when given, must match the digest uri up to parameters (RFC 7616 §3.4.6).
        """
        if creds.realm != self.realm or creds.algorithm not in self.algorithms:
            return AuthResult.BAD_REQUEST
        if request_uri is not None and not _same_resource(creds.uri, request_uri):
            return AuthResult.BAD_REQUEST
        if password is None:
            return AuthResult.UNKNOWN_USER
        expected = compute_response(
            creds.algorithm, creds.username, creds.realm, password, method, creds.uri,
            creds.nonce, qop=creds.qop, nc=creds.nc, cnonce=creds.cnonce, body=body,
        )
        if not hmac.compare_digest(expected, creds.response.lower()):
            return AuthResult.BAD_PASSWORD
        issued = self._issued_at(creds.nonce)
        # The password is right: an old or foreign nonce only earns a fresh one (RFC 7616 §3.3).
        if issued is None or not now - self.nonce_ttl <= issued <= now + _CLOCK_SKEW:
            return AuthResult.STALE
        if creds.qop and creds.nc and not self._advance_nc(creds.nonce, int(creds.nc, 16), issued):
            return AuthResult.STALE
        return AuthResult.OK

    def _encode(self, payload: bytes) -> str:
        msg = self.realm.encode("utf-8") + b"\0" + payload
        mac = hmac.new(self._secret, msg, hashlib.sha256).digest()[:_MAC_LEN]
        return base64.urlsafe_b64encode(payload + mac).decode("ascii").rstrip("=")

    def _mint(self, now: float) -> str:
        # The counter keeps two challenges issued at the same instant apart (own nc spaces).
        self._counter = (self._counter + 1) & 0xFFFFFFFF
        return self._encode(_NONCE_PAYLOAD.pack(now, self._counter))

    def _issued_at(self, nonce: str) -> float | None:
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except (binascii.Error, ValueError):
            return None
        payload = raw[: _NONCE_PAYLOAD.size]
        # Re-encoding checks the MAC and the canonical spelling (base64 has spare bits).
        if not hmac.compare_digest(self._encode(payload), nonce):
            return None
        return float(_NONCE_PAYLOAD.unpack(payload)[0])

    def _advance_nc(self, nonce: str, nc: int, issued: float) -> bool:
        """Accept ``nc`` only if above the highest seen for ``nonce`` (RFC 7616 §3.4, §5.5)."""
        seen = self._highest_nc.get(nonce)
        if seen is None and issued <= self._evicted_upto:
            return False
        if seen is not None and nc <= seen[1]:
            return False
        self._highest_nc[nonce] = (issued, nc)
        self._highest_nc.move_to_end(nonce)
        while len(self._highest_nc) > self._max_tracked:
            _, (old_issued, _) = self._highest_nc.popitem(last=False)
            self._evicted_upto = max(self._evicted_upto, old_issued)
        return True


def _pick_qop(offered: tuple[str, ...]) -> str | None:
    """qop=auth when offered, else auth-int; None answers an RFC 2069 challenge without qop."""
    qop = next((q for q in _QOPS if q in offered), None)
    if qop is None and offered:
        raise RemoteProtocolError(f"no supported qop in {offered!r}")
    return qop


class DigestClient:
    """Answers challenges (callfloor registering to a trunk, or a 401/407 to an outbound INVITE)."""

    def __init__(self, *, max_nonces: int = 64) -> None:
        self._max_nonces = max_nonces
        self._nc: OrderedDict[str, int] = OrderedDict()

    def answer(
        self, challenge: Challenge, method: str, uri: str, username: str, password: str, *,
        cnonce_factory: Callable[[], str], body: bytes = b"",
    ) -> Credentials:
        """Credentials for ``method uri``; uses qop=auth when offered and counts nc per nonce."""
        qop = _pick_qop(challenge.qop)
        nc = cnonce = None
        if qop is not None:
            count = self._nc.pop(challenge.nonce, 0) + 1
            self._nc[challenge.nonce] = count
            while len(self._nc) > self._max_nonces:
                self._nc.popitem(last=False)
            nc, cnonce = f"{count:08x}", cnonce_factory()
        response = compute_response(
            challenge.algorithm, username, challenge.realm, password, method, uri,
            challenge.nonce, qop=qop, nc=nc, cnonce=cnonce, body=body,
        )
        return Credentials(
            username, challenge.realm, challenge.nonce, uri, response, challenge.algorithm,
            qop, nc, cnonce, challenge.opaque,
        )

    def authorize(
        self, response: Response, method: str, uri: str, username: str, password: str, *,
        cnonce_factory: Callable[[], str], body: bytes = b"",
    ) -> tuple[str, Credentials] | None:
        """Answer a 401 (Authorization) or 407 (Proxy-Authorization) with the first challenge we
        support, in the server's order (RFC 3261 §22.2, RFC 8760 §2.4); None if there is none."""
        proxy = response.status == 407
        offered = response.headers.get_all("Proxy-Authenticate" if proxy else "WWW-Authenticate")
        challenge = choose_challenge(parse_challenges(offered))
        if challenge is None:
            return None
        creds = self.answer(challenge, method, uri, username, password,
                            cnonce_factory=cnonce_factory, body=body)
        return ("Proxy-Authorization" if proxy else "Authorization"), creds


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """Parse header values in order, skipping other schemes and unsupported algorithms."""
    out: list[Challenge] = []
    for value in values:
        try:
            out.append(Challenge.parse(value))
        except ParseError:
            continue
    return out


def choose_challenge(
    challenges: list[Challenge],
    supported: Sequence[Algorithm] = (Algorithm.SHA256, Algorithm.MD5),
) -> Challenge | None:
    """The first challenge, in the server's order, that we can answer (RFC 8760 §2.4)."""
    usable = (c for c in challenges if not c.qop or any(q in c.qop for q in _QOPS))
    return next((c for c in usable if c.algorithm in supported), None)


def find_credentials(request: Request, realm: str, *, proxy: bool = False) -> Credentials | None:
    """The digest credentials for ``realm`` in Authorization (or Proxy-Authorization).

    Other schemes and realms are skipped (RFC 3261 §22.3); a malformed digest raises ParseError.
    """
    name = "Proxy-Authorization" if proxy else "Authorization"
    for value in request.headers.get_all(name):
        try:
            creds = Credentials.parse(value)
        except ParseError as exc:
            if exc.status == 401:
                continue
            raise
        if creds.realm == realm:
            return creds
    return None
