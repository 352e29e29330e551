"""One simulated call: its dialog, its SDP session and its RTP stream (RFC 3261 §12-15, RFC 3264).

:class:`SimCall` holds what both directions share: in-dialog requests from the peer (BYE,
re-INVITE and UPDATE offers, OPTIONS, INFO), our own BYE and hold/resume re-INVITE, and the
result. ``incoming.py`` answers INVITEs and ``outgoing.py`` places them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from enum import Enum, auto

from callfloor.sim.agent import ALLOW, SipAgent
from callfloor.sim.events import CallResult, EventHandler, EventKind, SimEvent
from callfloor.sim.media import AudioSource, RtpStream
from telephony.rtp.dtmf import DtmfError, parse_info
from telephony.sip.dialog import Dialog
from telephony.sip.errors import RemoteProtocolError
from telephony.sip.message import Request, Response
from telephony.sip.sdp import (
    Codec,
    Direction,
    NegotiatedMedia,
    SdpError,
    SdpSession,
    SessionDescription,
    parse_answer,
)
from telephony.sip.transaction import TxKey
from telephony.sip.transport import Peer

__all__ = ["BYE_TIMEOUT", "CallState", "SimCall"]

BYE_TIMEOUT = 5.0  # how long hangup() waits for the BYE's answer before ending anyway


class CallState(Enum):
    """Where a simulated call is."""

    CALLING = auto()  # INVITE sent or received, no ringing yet
    RINGING = auto()
    ANSWERED = auto()
    ENDING = auto()  # our BYE or CANCEL is out
    ENDED = auto()


class SimCall:
    """A call of a simulated agent; ``direction`` is "incoming" or "outgoing"."""

    direction = "call"

    def __init__(
        self,
        agent: SipAgent,
        *,
        call_id: str,
        local_tag: str,
        peer: Peer,
        remote: str,
        stream: RtpStream,
        codecs: Sequence[Codec],
        source: AudioSource | None,
        on_event: EventHandler | None = None,
        on_end: Callable[[SimCall], None] | None = None,
    ) -> None:
        self.agent = agent
        self.call_id = call_id
        self.local_tag = local_tag
        self.peer = peer
        self.remote = remote
        self.stream = stream
        self.codecs = list(codecs)
        self.source = source
        self.on_event = on_event
        self.on_end = on_end
        stream.play(source)
        self.sdp = SdpSession(agent.host, int(agent.ids.token(4), 16), "sim")
        self.state = CallState.CALLING
        self.dialog: Dialog | None = None
        self.media: NegotiatedMedia | None = None
        self.pending_offer: SessionDescription | None = None  # our offer awaiting an ACK answer
        self.status = 0
        self.started_at = agent.now()
        self.ring_at: float | None = None
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.ended_by = ""
        self.reason = ""
        self.dtmf_info = ""  # digits that came in SIP INFO
        self._reinviting = False
        self._settled = asyncio.Event()  # answered or ended
        self._ended = asyncio.Event()

    # -- state --------------------------------------------------------------------------------
    @property
    def answered(self) -> bool:
        """True once a 2xx was sent or received."""
        return self.answered_at is not None

    @property
    def ended(self) -> bool:
        """True when the call is over."""
        return self.state is CallState.ENDED

    @property
    def duration(self) -> float:
        """Talk time so far (answer to end)."""
        if self.answered_at is None:
            return 0.0
        return (self.ended_at or self.agent.now()) - self.answered_at

    def result(self) -> CallResult:
        """A snapshot of how the call went."""
        at = self.answered_at
        return CallResult(
            call_id=self.call_id,
            direction=self.direction,
            remote=self.remote,
            status=self.status,
            answered=self.answered,
            setup_time=None if at is None else at - self.started_at,
            ring_time=None if self.ring_at is None else self.ring_at - self.started_at,
            duration=self.duration,
            packets_sent=self.stream.packets_sent,
            packets_received=self.stream.packets_received,
            ended_by=self.ended_by,
            reason=self.reason,
            dtmf=self.stream.dtmf_received + self.dtmf_info,
        )

    async def wait_answered(self, timeout: float | None = None) -> bool:
        """Wait until answered or ended (or ``timeout`` s); True if answered."""
        await _wait(self._settled, timeout)
        return self.answered

    async def wait_ended(self, timeout: float | None = None) -> bool:
        """Wait until the call ends (or ``timeout`` s); True if it ended."""
        return await _wait(self._ended, timeout)

    # -- actions ------------------------------------------------------------------------------
    def send_dtmf(self, digits: str, duration_ms: int = 100) -> bool:
        """Send key presses as RFC 4733 events; False when none were negotiated."""
        return self.state is CallState.ANSWERED and self.stream.send_dtmf(digits, duration_ms)

    async def hold(self) -> bool:
        """Put the peer on hold with a sendonly re-INVITE (RFC 3264 §8.4); True on 2xx."""
        return await self.reinvite(Direction.SENDONLY)

    async def resume(self) -> bool:
        """Take the peer off hold (sendrecv re-INVITE); True on 2xx."""
        return await self.reinvite(Direction.SENDRECV)

    async def reinvite(self, direction: Direction) -> bool:
        """Send a new offer with ``direction`` on the same port and codec; True on 2xx."""
        if self.state is not CallState.ANSWERED or self.dialog is None or self._reinviting:
            return False
        codecs = [self.media.codec] if self.media else self.codecs
        event = self.media.telephone_event_pt if self.media else 101
        offer = self.sdp.offer(self.stream.port, codecs, direction=direction,
                               telephone_event_pt=event)
        request = self.dialog.new_request(
            "INVITE", self.agent.via(), body=offer.to_bytes(), content_type="application/sdp",
            extra=[("Contact", self.agent.contact(self._user())), ("Allow", ALLOW)],
        )
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        key: TxKey | None = None

        def on_response(response: Response | None) -> None:
            if response is not None and response.status < 200:
                return
            if response is not None and response.status < 300 and self.dialog is not None:
                ack = self.dialog.new_request("ACK", self.agent.via(), cseq=request.cseq.number)
                assert key is not None
                self.agent.send_ack(key, ack, self.peer)
                self._apply_answer(offer, response.body)
            if key is not None:
                self.agent.forget(key)
            if not done.done():
                done.set_result(response is not None and response.status < 300)

        self._reinviting = True
        try:
            key = self.agent.send_request(request, self.peer, on_response)
            return await done
        finally:
            self._reinviting = False

    async def hangup(self, reason: str = "hangup") -> None:
        """End the call however far it got, and wait (bounded) until it is over."""
        if self.state is CallState.ENDED:
            return
        if self.state in (CallState.CALLING, CallState.RINGING):
            await self._abandon(reason)
            return
        if self.state is CallState.ENDING or self.dialog is None:
            await self.wait_ended(BYE_TIMEOUT)
            return
        self.state = CallState.ENDING
        self.stream.sending = False
        bye = self.dialog.new_request(
            "BYE", self.agent.via(), extra=[("Reason", f'SIP;cause=200;text="{reason}"')]
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.agent.request(bye, self.peer), BYE_TIMEOUT)
        self._end("local", reason)

    def abort(self, reason: str = "aborted", *, by: str = "local") -> None:
        """Hang up without waiting (shutdown, a cancelled task): BYE, CANCEL or 480, then end."""
        if self.state is CallState.ENDED:
            return
        if self.state is CallState.ANSWERED and self.dialog is not None:
            bye = self.dialog.new_request("BYE", self.agent.via())
            self.agent.send_request(bye, self.peer)
        elif self.state in (CallState.CALLING, CallState.RINGING):
            self._abort_setup()
        self._end(by, reason)

    async def _abandon(self, reason: str) -> None:
        """End an unanswered call (the subclasses know how)."""
        raise NotImplementedError

    def _abort_setup(self) -> None:
        """Send what ends an unanswered call, without waiting."""
        raise NotImplementedError

    def _user(self) -> str:
        return "sim"

    # -- the peer's in-dialog requests (DialogUser) ------------------------------------------
    def on_request(self, key: TxKey, request: Request) -> None:
        """A request inside our dialog (RFC 3261 §12.2.2)."""
        assert self.dialog is not None
        if not self.dialog.accept_remote_cseq(request):
            self.agent.respond(key, request, 500, "CSeq Out Of Order")
            return
        method = request.method
        if method == "BYE":
            self.agent.respond(key, request, 200)
            self._end("remote", "BYE")
        elif method in ("INVITE", "UPDATE"):
            self._on_offer(key, request)
        elif method == "INFO":
            self._on_info(key, request)
        elif method == "OPTIONS":
            self.agent.respond(key, request, 200, headers=[("Allow", ALLOW)])
        else:
            self.agent.respond(key, request, 405, headers=[("Allow", ALLOW)])

    def _on_info(self, key: TxKey, request: Request) -> None:
        """DTMF in SIP INFO (application/dtmf-relay and friends); other packages get 200."""
        try:
            digit = parse_info(request.headers.get("Content-Type") or "", request.body)
        except DtmfError as err:
            self.agent.respond(key, request, err.status, str(err)[:80])
            return
        self.agent.respond(key, request, 200)
        if digit:
            self.dtmf_info += digit
            self._emit(EventKind.DTMF, detail=digit)

    def on_ack(self, request: Request) -> None:
        """An ACK for our 2xx; it carries the answer when our 2xx carried the offer (§13.2.1)."""
        offer, self.pending_offer = self.pending_offer, None
        if offer is not None:
            self._apply_answer(offer, request.body)

    def _on_offer(self, key: TxKey, request: Request) -> None:
        """re-INVITE or UPDATE: answer on the same port, mirroring hold (RFC 3264 §8)."""
        if request.method == "INVITE" and self._reinviting:
            self.agent.respond(key, request, 491)  # glare, RFC 3261 §14.2
            return
        body = b""
        if request.body:
            codecs = [self.media.codec] if self.media else self.codecs
            try:
                offer = SessionDescription.parse(request.body)
                answer, media = self.sdp.answer(offer, self.stream.port, codecs)
            except SdpError as err:
                self.agent.respond(key, request, err.status if err.status >= 400 else 488)
                return
            body = answer.to_bytes()
            self._set_media(media)
        elif request.method == "INVITE":
            codecs = [self.media.codec] if self.media else self.codecs
            self.pending_offer = self.sdp.offer(self.stream.port, codecs)
            body = self.pending_offer.to_bytes()
        assert self.dialog is not None
        self.dialog.refresh_target(request.contacts)
        headers = [("Contact", self.agent.contact(self._user())), ("Allow", ALLOW)]
        self.agent.respond(key, request, 200, headers=headers, body=body)

    # -- media and endings ------------------------------------------------------------------
    def _apply_answer(self, offer: SessionDescription, body: bytes) -> bool:
        try:
            media = parse_answer(offer, SessionDescription.parse(body))
        except (SdpError, RemoteProtocolError):
            return False
        self._set_media(media)
        return True

    def _set_media(self, media: NegotiatedMedia) -> None:
        self.media = media
        self.stream.configure(media)
        self._emit(EventKind.MEDIA, detail=f"{media.codec.name} {media.direction.value}")

    def _bind_dialog(self, dialog: Dialog) -> None:
        self.dialog = dialog
        self.agent.attach_dialog((dialog.call_id, dialog.local_tag), self)

    def _mark_answered(self) -> None:
        self.state = CallState.ANSWERED
        self.status = 200
        self.answered_at = self.agent.now()
        self._settled.set()
        self._emit(EventKind.ANSWERED, status=200)

    def _end(self, by: str, reason: str = "", status: int | None = None) -> None:
        if self.state is CallState.ENDED:
            return
        self.state = CallState.ENDED
        self.ended_at = self.agent.now()
        self.ended_by, self.reason = by, reason
        if status is not None:
            self.status = status
        self.stream.close()
        if self.dialog is not None:
            self.agent.detach_dialog((self.dialog.call_id, self.dialog.local_tag))
        self._detach()
        self._settled.set()
        self._ended.set()
        self._emit(EventKind.ENDED, status=self.status, detail=f"{by}: {reason}".strip(": "))
        if self.on_end is not None:
            self.on_end(self)

    def _detach(self) -> None:
        """Drop the subclass's routing entries (server INVITE, client INVITE)."""

    def _emit(self, kind: EventKind, *, status: int | None = None, detail: str = "") -> None:
        if self.on_event is not None:
            self.on_event(SimEvent(self.agent.name, kind, self.agent.now(), self.call_id,
                                   self.remote, status, detail))


async def _wait(event: asyncio.Event, timeout: float | None) -> bool:
    if event.is_set():
        return True
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True
