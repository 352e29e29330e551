"""A call that reaches a simulated agent: ring, answer or reject, CANCEL (RFC 3261 §13.3, §9.2).

The offer is answered as soon as the INVITE arrives (a bad one is refused with 488 before any
ringing); the answer goes out in the 200 when :meth:`IncomingCall.answer` is called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from callfloor.sim.agent import ALLOW, SipAgent
from callfloor.sim.call import CallState, SimCall
from callfloor.sim.events import EventHandler, EventKind
from callfloor.sim.media import AudioSource, RtpStream
from telephony.sip.dialog import Dialog, DialogState
from telephony.sip.message import Request
from telephony.sip.sdp import Codec, NegotiatedMedia, SdpError, SessionDescription
from telephony.sip.transaction import TxKey
from telephony.sip.transport import Peer
from telephony.sip.uri import user_part

__all__ = ["IncomingCall", "answer_flow"]


class IncomingCall(SimCall):
    """The UAS side of a call; check :attr:`ended` after creation (a bad offer ends it)."""

    direction = "incoming"

    def __init__(
        self,
        agent: SipAgent,
        key: TxKey,
        invite: Request,
        peer: Peer,
        *,
        user: str,
        stream: RtpStream,
        codecs: Sequence[Codec],
        source: AudioSource | None,
        on_event: EventHandler | None = None,
        on_end: Callable[[SimCall], None] | None = None,
    ) -> None:
        super().__init__(
            agent, call_id=invite.call_id, local_tag=agent.ids.tag(), peer=peer,
            remote=user_part(invite.headers.get("From") or ""), stream=stream, codecs=codecs,
            source=source, on_event=on_event, on_end=on_end,
        )
        self.key = key
        self.invite = invite
        self.user = user
        self.acked = False
        self._local_body = b""
        self._negotiated: NegotiatedMedia | None = None
        self._bind_dialog(Dialog.as_uas(invite, self.local_tag, peer))
        agent.attach_invite(key, self)
        self._emit(EventKind.INCOMING, detail=invite.uri)
        try:
            self._prepare()
        except SdpError as err:
            self.reject(err.status if err.status >= 400 else 488, err.reason[:80])

    def _user(self) -> str:
        return self.user

    def _prepare(self) -> None:
        """Answer the offer now, or make ours if the INVITE had none (§13.2.1)."""
        if self.invite.body:
            offer = SessionDescription.parse(self.invite.body)
            answer, self._negotiated = self.sdp.answer(offer, self.stream.port, self.codecs)
            self._local_body = answer.to_bytes()
        else:
            self.pending_offer = self.sdp.offer(self.stream.port, self.codecs)
            self._local_body = self.pending_offer.to_bytes()

    def _headers(self) -> list[tuple[str, str]]:
        return [("Contact", self.agent.contact(self.user)), ("Allow", ALLOW)]

    def ring(self, status: int = 180) -> None:
        """Send 180 Ringing (or another provisional) with our dialog tag."""
        if self.state not in (CallState.CALLING, CallState.RINGING):
            return
        self.agent.respond(self.key, self.invite, status, to_tag=self.local_tag,
                           headers=self._headers())
        self.state = CallState.RINGING
        self.ring_at = self.agent.now()
        self._emit(EventKind.RINGING, status=status)

    async def answer(self) -> bool:
        """Send 200 OK with our SDP and start the media; False if the call is already over."""
        if self.state not in (CallState.CALLING, CallState.RINGING):
            return False
        await self.stream.attach()
        if self.state not in (CallState.CALLING, CallState.RINGING):
            return False  # cancelled while the socket was attached
        sent = self.agent.respond(self.key, self.invite, 200, to_tag=self.local_tag,
                                  headers=self._headers(), body=self._local_body)
        if not sent:
            self._end("error", "could not answer", 500)
            return False
        assert self.dialog is not None
        self.dialog.state = DialogState.CONFIRMED
        self._mark_answered()
        if self._negotiated is not None:
            self._set_media(self._negotiated)
        return True

    def reject(self, status: int = 486, reason: str | None = None) -> None:
        """Refuse the call with a final non-2xx (RFC 3261 §13.3.1.3)."""
        if self.state not in (CallState.CALLING, CallState.RINGING):
            return
        self.agent.respond(self.key, self.invite, status, reason, to_tag=self.local_tag)
        self._end("local", reason or "rejected", status)

    async def _abandon(self, reason: str) -> None:
        self.reject(480, reason)

    def _abort_setup(self) -> None:
        self.agent.respond(self.key, self.invite, 480, to_tag=self.local_tag)
        self.status = 480

    def on_ack(self, request: Request) -> None:
        """The ACK for our 2xx arrived."""
        self.acked = True
        super().on_ack(request)

    # -- InviteUser ---------------------------------------------------------------------------
    def on_cancel(self) -> None:
        """The caller gave up (the layer answered the CANCEL): 487 the INVITE (§9.2)."""
        if self.state in (CallState.CALLING, CallState.RINGING):
            self.agent.respond(self.key, self.invite, 487, to_tag=self.local_tag)
            self._end("cancel", "cancelled by caller", 487)

    def on_ack_timeout(self) -> None:
        """Our 2xx was never ACKed (§13.3.1.4): the session is dead, send BYE."""
        if self.state is CallState.ANSWERED:
            self.abort("no ACK", by="timeout")

    def _detach(self) -> None:
        self.agent.detach_invite(self.key)


async def answer_flow(call: IncomingCall, answer_after: float, hangup_after: float | None) -> None:
    """Ring, answer after ``answer_after`` s unless cancelled, then talk until the peer hangs up
    or ``hangup_after`` s have passed (None: wait for the peer's BYE)."""
    try:
        call.ring()
        await call.stream.attach()
        if await call.wait_ended(answer_after) or not await call.answer():
            return
        if not await call.wait_ended(hangup_after):
            await call.hangup()
    finally:
        call.abort("cancelled")  # no-op unless the task was cancelled midway
