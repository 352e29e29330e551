"""callfloor's own registration to the carrier (RFC 3261 §10.2), refreshed before it expires.

The carrier challenges with 401/407; we answer with digest (MD5 or SHA-256, RFC 8760). A failed
registration is retried with a growing back-off, and every change is published.
"""

from __future__ import annotations

import logging

from telephony.calls.commands import Publish
from telephony.calls.context import EngineContext
from telephony.calls.policy import TrunkPolicy
from telephony.sip.digest import DigestClient
from telephony.sip.message import Headers, Request, Response
from telephony.sip.transport import Peer

__all__ = ["TrunkRegistration"]

log = logging.getLogger("callfloor.trunk")


class TrunkRegistration:
    """Keeps callfloor registered at the carrier while ``register = true``."""

    def __init__(self, ctx: EngineContext, trunk: TrunkPolicy) -> None:
        self.ctx = ctx
        self.trunk = trunk
        self.peer = Peer(trunk.transport, trunk.host, trunk.port)
        self.call_id = ctx.ids.call_id(ctx.policy.host)
        self.from_tag = ctx.ids.tag()
        self.cseq = 0
        self.registered_until: float | None = None
        self.failures = 0
        self._digest = DigestClient()
        self._auth_tries = 0
        self._expires = trunk.register_expires

    @property
    def aor(self) -> str:
        """Our address of record at the carrier."""
        return f"sip:{self.trunk.username}@{self.trunk.host}"

    def start(self, now: float, expires: int | None = None) -> None:
        """Send a REGISTER (``expires=0`` un-registers)."""
        self._expires = self.trunk.register_expires if expires is None else expires
        self._auth_tries = 0
        self._send(now, None)

    def _send(self, now: float, authorization: tuple[str, str] | None) -> None:
        self.cseq += 1
        uri = f"sip:{self.trunk.host}:{self.trunk.port}"
        contact = self.ctx.contact(self.peer, self.trunk.username or "callfloor")
        headers = Headers([
            ("Via", self.ctx.via(self.peer)), ("Max-Forwards", "70"),
            ("From", f"<{self.aor}>;tag={self.from_tag}"), ("To", f"<{self.aor}>"),
            ("Call-ID", self.call_id), ("CSeq", f"{self.cseq} REGISTER"),
            ("Contact", contact), ("Expires", str(self._expires)),
        ])
        if authorization:
            headers.add(*authorization)
        request = Request(method="REGISTER", uri=uri, headers=headers)
        self.ctx.send_request(request, self.peer, now, lambda r, t: self._on_response(request, r, t))

    def _on_response(self, request: Request, response: Response | None, now: float) -> None:
        if response is not None and response.status < 200:
            return
        if response is not None and response.status in (401, 407) and self._answer(request, response, now):
            return
        if response is not None and 200 <= response.status < 300:
            self._registered(response, now)
        else:
            self._failed(response.status if response else 408, now)

    def _answer(self, request: Request, response: Response, now: float) -> bool:
        if self._auth_tries >= 2 or not self.trunk.username or self.trunk.password is None:
            return False
        answer = self._digest.authorize(response, "REGISTER", request.uri, self.trunk.username,
                                        self.trunk.password, cnonce_factory=self.ctx.ids.token)
        if answer is None:
            return False
        self._auth_tries += 1
        name, creds = answer
        self._send(now, (name, creds.to_header()))
        return True

    def _registered(self, response: Response, now: float) -> None:
        self._auth_tries = 0
        self.failures = 0
        if self._expires == 0:
            self.registered_until = None
            self.ctx.cancel_timer(("trunk", "register"))
            self._publish("trunk.unregistered", now)
            return
        granted = _granted_expires(response, self._expires)
        self.registered_until = now + granted
        # Refresh well before expiry: at 80% of the interval, at least 5 s ahead.
        refresh = now + max(1.0, min(granted * 0.8, granted - 5))
        self.ctx.set_timer(("trunk", "register"), refresh, self.start)
        self._publish("trunk.registered", now, expires=granted)

    def _failed(self, status: int, now: float) -> None:
        self.failures += 1
        self._auth_tries = 0
        if self._expires == 0:
            return
        delay = min(300.0, 5.0 * 2 ** min(self.failures - 1, 6))
        log.warning("trunk registration failed (%s); retrying in %.0f s", status, delay)
        self.ctx.set_timer(("trunk", "register"), now + delay, self.start)
        self._publish("trunk.registration_failed", now, status=status, retry_in=delay)

    def stop(self, now: float) -> None:
        """Un-register (on shutdown)."""
        self.ctx.cancel_timer(("trunk", "register"))
        if self.registered_until is not None:
            self.start(now, expires=0)

    def _publish(self, kind: str, now: float, **extra: object) -> None:
        payload = {"trunk": f"{self.trunk.host}:{self.trunk.port}", "ts": now, **extra}
        self.ctx.emit(Publish(kind, payload, store=True))


def _granted_expires(response: Response, asked: int) -> int:
    """The interval the registrar granted: our Contact's expires param, else Expires, else ours."""
    for contact in response.contacts:
        value = contact.params.get("expires")
        if value and value.isdigit():
            return int(value)
    header = response.headers.get("Expires")
    return int(header) if header and header.strip().isdigit() else asked
