"""Seats' side of the registrar: digest authentication, the brute-force guard and REGISTER.

The same authentication serves REGISTER (401 / WWW-Authenticate) and a seat's INVITE or other
requests (407 / Proxy-Authenticate), RFC 3261 §22. A wrong password gets a 403 that says so, and
the guard slows and then refuses a source that keeps failing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress

from telephony.calls.commands import Publish
from telephony.calls.context import EngineContext
from telephony.sip.digest import Algorithm, AuthResult, DigestServer, find_credentials
from telephony.sip.errors import LocalProtocolError, ParseError
from telephony.sip.guard import AuthGuard, GuardAction
from telephony.sip.headers import NameAddr
from telephony.sip.message import Request
from telephony.sip.registrar import Binding, Registrar
from telephony.sip.transaction import TxKey
from telephony.sip.transport import Peer

__all__ = ["SeatDesk", "aor_of"]

log = logging.getLogger("callfloor.seats")


def aor_of(name_addr: NameAddr) -> str:
    """The seat id an address names: the user part of its URI."""
    uri = name_addr.uri
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    user = rest.split("@", 1)[0] if "@" in rest else ""
    return user.split(";", 1)[0]


class SeatDesk:
    """Authenticates seats and keeps their registrations."""

    def __init__(self, ctx: EngineContext) -> None:
        p = ctx.policy
        self.ctx = ctx
        self._secret = p.nonce_secret or ctx.ids.token(32).encode()
        self.digest = self._server(tuple(p.auth_algorithms))
        # Seats whose phones need other algorithms (baresip 1.0 abandons a 401 that offers
        # SHA-256 at all) get their own server; the shared secret keeps nonces valid across them.
        self._servers = {tuple(p.auth_algorithms): self.digest}
        self.guard = AuthGuard(slow_after=p.guard_slow_after, ban_after=p.guard_ban_after,
                               ban_seconds=p.guard_ban_seconds)
        self.registrar = Registrar(min_expires=p.register_min_expires,
                                   max_expires=p.register_max_expires, max_contacts=p.max_contacts)
        # Told when a seat gets its first phone registered or loses its last one.
        self.on_reachability: Callable[[str, bool, float], None] = lambda seat, up, now: None

    def _server(self, algorithms: tuple[str, ...]) -> DigestServer:
        return DigestServer(self.ctx.policy.realm, self._secret,
                            algorithms=[Algorithm(a) for a in algorithms])

    def digest_for(self, seat: str) -> DigestServer:
        """The digest server for ``seat``'s configured algorithms (the floor's by default)."""
        algorithms = tuple(self.ctx.policy.seat_algorithms.get(seat, self.ctx.policy.auth_algorithms))
        server = self._servers.get(algorithms)
        if server is None:
            server = self._servers[algorithms] = self._server(algorithms)
        return server

    # -- authentication -------------------------------------------------------------------
    def authenticate(self, key: TxKey, request: Request, peer: Peer, now: float, *, proxy: bool) -> str | None:
        """The authenticated seat id, or None after answering 401/407/403 ourselves."""
        verdict = self.guard.check(peer.host, now)
        if verdict.action is GuardAction.BANNED:
            self.ctx.respond(key, request, 403, "Too many failed attempts", now=now)
            return None
        try:
            creds = find_credentials(request, self.digest.realm, proxy=proxy)
        except ParseError as err:
            self.ctx.respond(key, request, 400, err.reason, now=now)
            return None
        claimed = aor_of(request.to if request.method == "REGISTER" else request.from_)
        if creds is None:
            self._challenge(key, request, now, proxy=proxy, stale=False, seat=claimed)
            return None
        password = self.ctx.policy.seats.get(creds.username)
        result = self.digest_for(creds.username).verify(
            creds, request.method, password, now, body=request.body, request_uri=request.uri)
        if result is AuthResult.OK:
            self.guard.success(peer.host, now)
            return creds.username
        if result is AuthResult.STALE:
            self._challenge(key, request, now, proxy=proxy, stale=True, seat=creds.username)
            return None
        self._failed(key, request, peer, creds.username, result, now)
        return None

    def _challenge(self, key: TxKey, request: Request, now: float, *, proxy: bool, stale: bool,
                   seat: str) -> None:
        name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        challenges = self.digest_for(seat).challenges(now, stale=stale)
        headers = [(name, c.to_header()) for c in challenges]
        self.ctx.respond(key, request, 407 if proxy else 401, headers=headers, now=now)

    def _failed(self, key: TxKey, request: Request, peer: Peer, user: str, result: AuthResult, now: float) -> None:
        verdict = self.guard.failure(peer.host, now)
        # An unknown seat answers exactly like a wrong password, so seats cannot be enumerated.
        wrong = result in (AuthResult.BAD_PASSWORD, AuthResult.UNKNOWN_USER)
        reason = "Wrong password" if wrong else "Bad credentials"
        log.warning("auth failure from %s for %r: %s", peer.host, user, result.value)
        if verdict.just_banned:
            log.warning("banning %s until %.0f after repeated auth failures", peer.host, verdict.until or 0)
            self.ctx.emit(Publish("security.banned", {"source": peer.host, "until": verdict.until, "ts": now},
                                  store=True))
        if verdict.action is GuardAction.DELAY and verdict.delay > 0:
            # Tarpit: the answer comes late, which slows a password guesser down.
            def refuse(t: float) -> None:
                # The transaction may have ended meanwhile (a transport error): nobody to answer.
                with suppress(LocalProtocolError):
                    self.ctx.respond(key, request, 403, reason, now=t)

            self.ctx.set_timer(("guard", key), now + verdict.delay, refuse)
            return
        self.ctx.respond(key, request, 403, reason, now=now)

    # -- REGISTER -----------------------------------------------------------------------------
    def on_register(self, key: TxKey, request: Request, peer: Peer, now: float) -> None:
        """RFC 3261 §10.3 for a seat's REGISTER."""
        aor = aor_of(request.to)
        seat = self.authenticate(key, request, peer, now, proxy=False)
        if seat is None:
            return
        if seat != aor:
            self.ctx.respond(key, request, 403, "Credentials do not match the address of record", now=now)
            return
        before = bool(self.registrar.lookup(aor, now))
        outcome = self.registrar.register(aor, request, (peer.transport.value, peer.host, peer.port), now)
        response = self.registrar.make_response(request, outcome, self.ctx.ids.tag())
        self.ctx.decorate(response, None, b"", "")
        self.ctx.txl.send_response(key, response, now)
        for binding in outcome.added:
            self._publish("seat.registered", binding, now)
        for binding in outcome.removed:
            self._publish("seat.unregistered", binding, now)
        after = bool(self.registrar.lookup(aor, now))
        if before != after:
            self.on_reachability(aor, after, now)

    def expire(self, now: float) -> None:
        """Drop lapsed registrations (called from the engine's timer)."""
        for binding in self.registrar.expire(now):
            self._publish("seat.unregistered", binding, now, reason="expired")
            if not self.registrar.lookup(binding.aor, now):
                self.on_reachability(binding.aor, False, now)

    def _publish(self, kind: str, binding: Binding, now: float, **extra: object) -> None:
        transport, host, port = binding.source
        payload = {"seat": binding.aor, "contact": binding.contact.uri, "source": f"{host}:{port}",
                   "transport": transport, "user_agent": binding.user_agent, "ts": now, **extra}
        log.info("%s %s from %s:%s", kind, binding.aor, host, port)
        self.ctx.emit(Publish(kind, payload, store=True))
