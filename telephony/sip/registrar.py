"""The registrar (RFC 3261 §10.3): bindings from an address-of-record to the seats' Contacts.

``register`` takes a REGISTER that is already authenticated and authorised for ``aor`` (steps
1-4 of §10.3 are the caller's) and does steps 5-8: it validates the whole request first, then
applies it, so a failed request changes nothing.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from email.utils import formatdate

from telephony.sip.errors import ParseError
from telephony.sip.headers import NameAddr, split_unquoted
from telephony.sip.message import Request, Response, make_response
from telephony.sip.uri import SipUri

__all__ = ["Binding", "RegisterOutcome", "Registrar"]

_MAX_DELTA = 2**32 - 1  # RFC 3261 §20.19: larger values are taken as 2**32-1


@dataclass(frozen=True)
class Binding:
    """One Contact bound to an AOR; ``source`` (transport, host, port) is where the REGISTER came from."""

    aor: str
    contact: NameAddr
    expires_at: float
    q: float
    call_id: str
    cseq: int
    source: tuple[str, str, int]
    instance: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class RegisterOutcome:
    """What a REGISTER did: the status and headers to answer with and the binding changes."""

    status: int
    reason: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    bindings: tuple[Binding, ...] = ()
    added: tuple[Binding, ...] = ()
    removed: tuple[Binding, ...] = ()
    refreshed: tuple[Binding, ...] = ()


def _delta(text: str, what: str) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        raise ParseError(f"bad {what} {text!r}")
    return min(int(text), _MAX_DELTA)


def _instance(contact: NameAddr) -> str | None:
    value = contact.params.get("+sip.instance")
    return value.strip('"').strip("<>") if value else None


def _q_value(contact: NameAddr) -> float:
    text = contact.params.get("q")
    if text is None:
        return 1.0
    try:
        q = float(text)
    except ValueError:
        raise ParseError(f"bad q {text!r}") from None
    if not 0.0 <= q <= 1.0:
        raise ParseError(f"q out of range {text!r}")
    return q


@dataclass(frozen=True)
class _Wanted:
    """One Contact of the request with its requested interval (validated, not yet applied)."""

    contact: NameAddr
    uri: SipUri
    expires: int
    q: float
    instance: str | None


def _parse_contacts(request: Request) -> tuple[bool, list[NameAddr]]:
    """(star, contacts): every Contact value split on commas; '*' reported separately."""
    star, contacts = False, []
    for value in request.headers.get_all("Contact"):
        for item in split_unquoted(value, ","):
            text = item.strip()
            if text == "*":
                star = True
                continue
            # NameAddr refuses an addr-spec with '?' or ',' (RFC 3261 §20.10, RFC 4475 regbadct).
            contacts.append(NameAddr.parse(text))
    return star, contacts


class Registrar:
    """Location service: AOR -> bindings, with the §10.3 REGISTER rules and expiry."""

    def __init__(
        self, *, min_expires: int = 60, max_expires: int = 3600, default_expires: int = 3600,
        max_contacts: int = 5,
    ) -> None:
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires
        self.max_contacts = max_contacts
        # Per AOR, least recently registered first: the tail is the newest.
        self._bindings: dict[str, list[Binding]] = {}
        self._heap: list[tuple[float, str]] = []

    def register(
        self, aor: str, request: Request, source: tuple[str, str, int], now: float
    ) -> RegisterOutcome:
        """Apply an authenticated REGISTER for ``aor`` (RFC 3261 §10.3 steps 5-8)."""
        try:
            cseq = request.cseq.number
            star, contacts = _parse_contacts(request)
            header = request.headers.get("Expires")
            header_expires = None if header is None else _delta(header, "Expires")
            wanted = [self._wanted(c, header_expires) for c in contacts]
        except ParseError as exc:
            return RegisterOutcome(400, exc.reason)
        # Validate everything against the live bindings first: a refused request changes nothing.
        live = [b for b in self._bindings.get(aor, []) if b.expires_at > now]
        if star:
            if contacts or header_expires != 0:
                return RegisterOutcome(400, "Contact '*' needs Expires: 0 and no other Contact")
            olds: list[Binding | None] = list(live)
        elif any(0 < w.expires < self.min_expires for w in wanted):
            return RegisterOutcome(423, None, (("Min-Expires", str(self.min_expires)),))
        else:
            olds = [_match(live, w.instance, w.uri) for w in wanted]
        if any(b is not None and b.call_id == request.call_id and cseq <= b.cseq for b in olds):
            return RegisterOutcome(500, "Out of order REGISTER")  # §10.3 steps 6 and 7
        expired = self._drop_expired(aor, now)
        if star:
            self._store(aor, [])
            return RegisterOutcome(200, None, self._ok_headers([], now), removed=(*expired, *live))
        return self._apply(aor, request, wanted, source, now, expired)

    def _wanted(self, contact: NameAddr, header_expires: int | None) -> _Wanted:
        param = contact.params.get("expires")
        if param is not None:
            expires = _delta(param, "expires parameter")
        elif header_expires is not None:
            expires = header_expires
        else:
            expires = self.default_expires
        params = {k: v for k, v in contact.params.items() if k != "expires"}
        stored = NameAddr(contact.uri, contact.display, params)
        return _Wanted(
            stored, SipUri.parse(contact.uri), min(expires, self.max_expires),
            _q_value(contact), _instance(contact),
        )

    def _apply(
        self, aor: str, request: Request, wanted: list[_Wanted], source: tuple[str, str, int],
        now: float, expired: list[Binding],
    ) -> RegisterOutcome:
        before = self._bindings.get(aor, [])
        current = list(before)
        user_agent = request.headers.get("User-Agent")
        for w in wanted:
            old = _match(current, w.instance, w.uri)
            if old is not None:
                current.remove(old)
            if w.expires > 0:
                current.append(Binding(
                    aor, w.contact, now + w.expires, w.q, request.call_id, request.cseq.number,
                    source, w.instance, user_agent,
                ))
                heapq.heappush(self._heap, (now + w.expires, aor))
        del current[: max(0, len(current) - self.max_contacts)]  # the oldest go first
        self._store(aor, current)
        changed = [b for b in current if not any(b is old for old in before)]
        return RegisterOutcome(
            200, None, self._ok_headers(current, now), tuple(current),
            added=tuple(b for b in changed if _match(before, b.instance, _uri(b)) is None),
            removed=(*expired, *(b for b in before if _match(current, b.instance, _uri(b)) is None)),
            refreshed=tuple(b for b in changed if _match(before, b.instance, _uri(b)) is not None),
        )

    def _ok_headers(self, bindings: list[Binding], now: float) -> tuple[tuple[str, str], ...]:
        """All current bindings with their remaining time, then Date (§10.3 step 8)."""
        contacts = tuple(
            ("Contact", str(_with_expires(b, max(0, round(b.expires_at - now)))))
            for b in _ordered(bindings)
        )
        return (*contacts, ("Date", formatdate(now, usegmt=True)))

    def make_response(self, request: Request, outcome: RegisterOutcome, to_tag: str) -> Response:
        """The final response for ``request`` carrying ``outcome``'s status and headers."""
        response = make_response(request, outcome.status, outcome.reason, to_tag=to_tag)
        for name, value in outcome.headers:
            response.headers.add(name, value)
        return response

    def lookup(self, aor: str, now: float) -> list[Binding]:
        """Live bindings of ``aor``, highest q first, then the most recently registered."""
        return _ordered([b for b in self._bindings.get(aor, []) if b.expires_at > now])

    def expire(self, now: float) -> list[Binding]:
        """Remove and return every binding whose time is up."""
        out: list[Binding] = []
        while self._heap and self._heap[0][0] <= now:
            _, aor = heapq.heappop(self._heap)
            out.extend(self._drop_expired(aor, now))
        return out

    def next_expiry(self) -> float | None:
        """When the earliest binding expires (for the caller's timer), or None."""
        while self._heap:
            at, aor = self._heap[0]
            if any(b.expires_at == at for b in self._bindings.get(aor, [])):
                return at
            heapq.heappop(self._heap)  # superseded by a refresh or removal
        return None

    def aors(self) -> list[str]:
        """Every AOR that has at least one binding (live or not yet expired by ``expire``)."""
        return sorted(self._bindings)

    def _drop_expired(self, aor: str, now: float) -> list[Binding]:
        current = self._bindings.get(aor, [])
        gone = [b for b in current if b.expires_at <= now]
        if gone:
            self._store(aor, [b for b in current if b.expires_at > now])
        return gone

    def _store(self, aor: str, bindings: list[Binding]) -> None:
        if bindings:
            self._bindings[aor] = bindings
        else:
            self._bindings.pop(aor, None)


def _uri(binding: Binding) -> SipUri:
    return SipUri.parse(binding.contact.uri)


def _match(bindings: list[Binding], instance: str | None, uri: SipUri) -> Binding | None:
    """The binding a Contact refers to: the same +sip.instance, else an equivalent URI.

    URIs compare per RFC 3261 §19.1.4 (§10.3 step 7); the instance id lets a phone whose NAT
    mapping changed replace its old Contact instead of piling up bindings (RFC 5626 §6).
    """
    if instance is not None:
        for b in bindings:
            if b.instance == instance:
                return b
    return next((b for b in bindings if _uri(b).equivalent(uri)), None)


def _ordered(bindings: list[Binding]) -> list[Binding]:
    # Newest first, then a stable sort on q keeps recency within equal q.
    return sorted(reversed(bindings), key=lambda b: -b.q)


def _with_expires(binding: Binding, seconds: int) -> NameAddr:
    contact = binding.contact
    return replace(contact, params={**contact.params, "expires": str(seconds)})
