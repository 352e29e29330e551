"""A call a simulated agent places: INVITE, digest retry, ACK, CANCEL (RFC 3261 §13.2, §9.1, §22).

Every final response is a result: 486, 480 or 503 end the call with that status, Timer B ends it
with 408. A 2xx that arrives after our CANCEL is ACKed and hung up at once (§9.1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from callfloor.sim.agent import ALLOW, SipAgent
from callfloor.sim.call import BYE_TIMEOUT, CallState, SimCall
from callfloor.sim.events import CallResult, EventHandler, EventKind
from callfloor.sim.media import AudioSource, RtpStream
from telephony.sip.dialog import Dialog
from telephony.sip.digest import DigestClient
from telephony.sip.message import Headers, Request, Response
from telephony.sip.sdp import Codec, SessionDescription
from telephony.sip.transaction import TxKey
from telephony.sip.transport import Peer

__all__ = ["OutgoingCall", "talk_flow"]

MAX_AUTH_TRIES = 2


class OutgoingCall(SimCall):
    """The UAC side of a call; :meth:`start` sends the INVITE."""

    direction = "outgoing"

    def __init__(
        self,
        agent: SipAgent,
        peer: Peer,
        *,
        request_uri: str,
        from_uri: str,
        to_uri: str,
        remote: str,
        stream: RtpStream,
        codecs: Sequence[Codec],
        source: AudioSource | None,
        from_display: str = "",
        credentials: tuple[str, str] | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
        on_event: EventHandler | None = None,
        on_end: Callable[[SimCall], None] | None = None,
    ) -> None:
        super().__init__(
            agent, call_id=agent.ids.call_id(agent.host), local_tag=agent.ids.tag(), peer=peer,
            remote=remote, stream=stream, codecs=codecs, source=source, on_event=on_event,
            on_end=on_end,
        )
        self.request_uri = request_uri
        display = f'"{from_display}" ' if from_display else ""
        self.from_value = f"{display}<{from_uri}>;tag={self.local_tag}"
        self.to_value = f"<{to_uri}>"
        self.user = from_uri.split(":", 1)[-1].split("@", 1)[0]
        self.credentials = credentials
        self.extra_headers = list(extra_headers)
        self.invite: Request | None = None
        self.invite_key: TxKey | None = None
        self.offer: SessionDescription | None = None
        self._cseq = 0
        self._keys: list[TxKey] = []
        self._digest = DigestClient()
        self._auth_tries = 0
        self._provisional = False
        self.cancel_requested = False
        self._cancel_sent = False

    def _user(self) -> str:
        return self.user

    async def start(self) -> None:
        """Open the media socket and send the INVITE with our offer."""
        await self.stream.attach()
        if self.state is not CallState.CALLING or self.invite is not None:
            return
        self.started_at = self.agent.now()
        self.offer = self.sdp.offer(self.stream.port, self.codecs)
        self._send_invite(None)

    def _send_invite(self, authorization: tuple[str, str] | None) -> None:
        assert self.offer is not None
        self._cseq += 1
        headers = Headers([
            ("Via", self.agent.via()), ("Max-Forwards", "70"), ("From", self.from_value),
            ("To", self.to_value), ("Call-ID", self.call_id), ("CSeq", f"{self._cseq} INVITE"),
            ("Contact", self.agent.contact(self.user)), ("Allow", ALLOW), *self.extra_headers,
        ])
        if authorization is not None:
            headers.add(*authorization)
        headers.add("Content-Type", "application/sdp")
        self.invite = Request(method="INVITE", uri=self.request_uri, headers=headers,
                              body=self.offer.to_bytes())
        self.invite_key = self.agent.send_request(self.invite, self.peer, self._on_response)
        self._keys.append(self.invite_key)

    # -- responses ------------------------------------------------------------------------
    def _on_response(self, response: Response | None) -> None:
        if response is None:
            self._failed(408, "no answer (Timer B)", "timeout")
        elif response.status < 200:
            self._on_provisional(response)
        elif response.status < 300:
            self._on_success(response)
        elif response.status in (401, 407) and self._retry_with_auth(response):
            return
        else:
            self._failed(response.status, response.reason)

    def _on_provisional(self, response: Response) -> None:
        self._provisional = True
        if self.cancel_requested:
            self._send_cancel()
            return
        if response.status > 100 and self.state is CallState.CALLING:
            self.state = CallState.RINGING
            self.ring_at = self.agent.now()
            self._emit(EventKind.RINGING, status=response.status)

    def _on_success(self, response: Response) -> None:
        assert self.invite is not None and self.invite_key is not None
        if self.dialog is not None:
            if (response.to.tag or "") != self.dialog.remote_tag:
                self._drop_fork(response)  # a second 2xx from a forking proxy
            return
        self._bind_dialog(Dialog.as_uac(self.invite, response, self.peer))
        assert self.dialog is not None
        ack = self.dialog.new_request("ACK", self.agent.via(), cseq=self._cseq)
        self.agent.send_ack(self.invite_key, ack, self.peer)
        if self.cancel_requested:
            self.state, self.status = CallState.ANSWERED, response.status
            self.abort("cancelled", by="cancel")  # our CANCEL lost the race (§9.1)
            return
        self._mark_answered()
        assert self.offer is not None
        if not self._apply_answer(self.offer, response.body):
            self.abort("no usable SDP answer", by="error")
            self.status = 488

    def _drop_fork(self, response: Response) -> None:
        assert self.invite is not None
        other = Dialog.as_uac(self.invite, response, self.peer)
        self.agent.send_stateless(other.new_request("ACK", self.agent.via(), cseq=self._cseq),
                                  self.peer)
        self.agent.send_request(other.new_request("BYE", self.agent.via()), self.peer)

    def _retry_with_auth(self, response: Response) -> bool:
        """Answer a 401/407 with digest credentials, twice at most per call (§22.2)."""
        if self.credentials is None or self._auth_tries >= MAX_AUTH_TRIES or self.cancel_requested:
            return False
        user, password = self.credentials
        answer = self._digest.authorize(response, "INVITE", self.request_uri, user, password,
                                        cnonce_factory=self.agent.ids.token)
        if answer is None:
            return False
        self._auth_tries += 1
        name, creds = answer
        self._send_invite((name, creds.to_header()))
        return True

    def _failed(self, status: int, reason: str, by: str = "remote") -> None:
        if self.state is CallState.ENDED:
            return
        if self.cancel_requested and status == 487:
            by, reason = "cancel", "cancelled"
        self._end(by, reason, status)

    # -- ending ---------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop ringing (§9.1); the CANCEL waits for a provisional response if none came yet."""
        if self.state not in (CallState.CALLING, CallState.RINGING) or self.cancel_requested:
            return
        self.cancel_requested = True
        self.state = CallState.ENDING
        if self._provisional:
            self._send_cancel()

    def _send_cancel(self) -> None:
        """§9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via as the INVITE."""
        if self._cancel_sent or self.invite is None:
            return
        self._cancel_sent = True
        inv = self.invite.headers
        headers = Headers([
            ("Via", inv.get("Via") or ""), ("Max-Forwards", "70"), ("From", inv.get("From") or ""),
            ("To", inv.get("To") or ""), ("Call-ID", self.call_id),
            ("CSeq", f"{self._cseq} CANCEL"),
        ])
        self.agent.send_request(Request(method="CANCEL", uri=self.invite.uri, headers=headers),
                                self.peer)

    async def _abandon(self, reason: str) -> None:
        self.cancel()
        if not await self.wait_ended(BYE_TIMEOUT):
            self._end("cancel", reason, 487)

    def _abort_setup(self) -> None:
        # Shutting down: no time to wait for a provisional, so the CANCEL goes now.
        self.cancel_requested = True
        self._send_cancel()
        self.status = self.status or 487

    def _detach(self) -> None:
        for key in self._keys:
            self.agent.forget(key)


async def talk_flow(
    call: OutgoingCall, talk: float | None, ring_timeout: float | None = None
) -> CallResult:
    """Place ``call``, give up after ``ring_timeout`` s of ringing, hang up after ``talk`` s of
    conversation (None: when the peer hangs up) and return the result."""
    try:
        await call.start()
        if await call.wait_answered(ring_timeout):
            if not await call.wait_ended(talk):
                await call.hangup()
        elif not call.ended:
            await call.hangup("no answer")
        await call.wait_ended(BYE_TIMEOUT)
        return call.result()
    finally:
        call.abort("cancelled")  # no-op unless the task was cancelled midway
