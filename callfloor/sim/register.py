"""A softphone's registration (RFC 3261 §10.2): REGISTER with digest auth, refreshed before expiry.

The challenge is answered with the first algorithm the registrar offers that we support
(RFC 8760 §2.4: SHA-256 before MD5 when the server lists it first). A failure is a status, and
the refresh loop retries after ``retry_after`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib

from callfloor.sim.agent import SipAgent
from callfloor.sim.events import EventHandler, EventKind, SimEvent
from telephony.sip.digest import DigestClient, parse_challenges
from telephony.sip.message import Headers, Request, Response
from telephony.sip.transport import Peer, Transport

__all__ = ["Registration"]

MAX_ROUNDS = 4  # challenge, stale nonce, 423 and the request that counts


class Registration:
    """Keeps ``user`` registered at ``registrar`` from ``agent``'s address."""

    def __init__(
        self,
        agent: SipAgent,
        user: str,
        password: str,
        registrar: tuple[str, int],
        *,
        expires: int = 300,
        retry_after: float = 10.0,
        on_event: EventHandler | None = None,
    ) -> None:
        self.agent = agent
        self.user = user
        self.password = password
        self.peer = Peer(Transport.UDP, registrar[0], registrar[1])
        self.aor = f"sip:{user}@{registrar[0]}"
        self.expires = expires
        self.retry_after = retry_after
        self.on_event = on_event
        # §10.2: one Call-ID for every REGISTER of this UA, CSeq going up by one each time.
        self.call_id = agent.ids.call_id(agent.host)
        self.from_tag = agent.ids.tag()
        self.cseq = 0
        self.registered = False
        self.granted = 0
        self.last_status = 0
        self.algorithm: str | None = None
        self._digest = DigestClient()
        self._task: asyncio.Task[None] | None = None

    async def register(self, expires: int | None = None) -> int:
        """Send one REGISTER (answering challenges); returns the final status, 408 on time-out."""
        asked = self.expires if expires is None else expires
        authorization: tuple[str, str] | None = None
        status = 500
        for _ in range(MAX_ROUNDS):
            request = self._request(asked, authorization)
            response = await self.agent.request(request, self.peer)
            if response is None:
                return self._done(408, asked, None)
            status = response.status
            if status in (401, 407) and (authorization is None or _is_stale(response)):
                # A second plain challenge after our answer means the password is wrong.
                authorization = self._answer(request, response)
                if authorization is not None:
                    continue
            elif status == 423 and asked:
                asked = _int(response.headers.get("Min-Expires"), asked)  # §10.3 step 7
                authorization = None
                continue
            return self._done(status, asked, response)
        return self._done(status, asked, None)

    def _request(self, expires: int, authorization: tuple[str, str] | None) -> Request:
        self.cseq += 1
        agent = self.agent
        headers = Headers([
            ("Via", agent.via()), ("Max-Forwards", "70"),
            ("From", f"<{self.aor}>;tag={self.from_tag}"), ("To", f"<{self.aor}>"),
            ("Call-ID", self.call_id), ("CSeq", f"{self.cseq} REGISTER"),
            ("Contact", agent.contact(self.user)), ("Expires", str(expires)),
        ])
        if authorization is not None:
            headers.add(*authorization)
        return Request(method="REGISTER", uri=f"sip:{self.peer.host}:{self.peer.port}",
                       headers=headers)

    def _answer(self, request: Request, response: Response) -> tuple[str, str] | None:
        answer = self._digest.authorize(response, "REGISTER", request.uri, self.user, self.password,
                                        cnonce_factory=self.agent.ids.token)
        if answer is None:
            return None
        name, creds = answer
        self.algorithm = creds.algorithm.value
        return (name, creds.to_header())

    def _done(self, status: int, asked: int, response: Response | None) -> int:
        self.last_status = status
        ok = 200 <= status < 300
        if ok and asked == 0:
            self.registered, self.granted = False, 0
            self._emit(EventKind.UNREGISTERED, status)
        elif ok and response is not None:
            self.registered, self.granted = True, self._granted(response, asked)
            self._emit(EventKind.REGISTERED, status, f"expires={self.granted} {self.algorithm}")
        else:
            self.registered = False
            self._emit(EventKind.REGISTER_FAILED, status)
        return status

    def _granted(self, response: Response, asked: int) -> int:
        """The interval granted to our Contact (its expires param, else Expires, §10.2.4)."""
        ours = self.agent.contact(self.user).strip("<>")
        for contact in response.contacts:
            if contact.uri == ours and (value := contact.params.get("expires")) is not None:
                return _int(value, asked)
        return _int(response.headers.get("Expires"), asked)

    # -- refreshing -------------------------------------------------------------------------
    def keep_alive(self) -> None:
        """Re-register at half the granted interval (or retry after a failure) until stopped."""
        if self._task is None:
            self._task = self.agent.spawn(self._refresh(), name=f"register-{self.user}")

    async def _refresh(self) -> None:
        while True:
            delay = max(1.0, self.granted / 2) if self.registered else self.retry_after
            await asyncio.sleep(delay)
            await self.register()

    async def unregister(self, timeout: float = 3.0) -> int:
        """Stop refreshing and remove our binding (Expires: 0); 408 if no answer in time."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if not self.registered:
            return 0
        try:
            return await asyncio.wait_for(self.register(0), timeout)
        except TimeoutError:
            return 408

    def _emit(self, kind: EventKind, status: int, detail: str = "") -> None:
        if self.on_event is not None:
            self.on_event(SimEvent(self.agent.name, kind, self.agent.now(), self.call_id,
                                   self.aor, status, detail))


def _is_stale(response: Response) -> bool:
    """A fresh challenge after our credentials: stale=true means only the nonce was too old."""
    header = "Proxy-Authenticate" if response.status == 407 else "WWW-Authenticate"
    return any(c.stale for c in parse_challenges(response.headers.get_all(header)))


def _int(text: str | None, default: int) -> int:
    if text is None:
        return default
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else default
