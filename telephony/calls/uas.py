"""The leg that called us: we answer its INVITE (RFC 3261 §13.3).

Until the peer ACKs our 2xx, a BYE of ours waits (§15: the callee's UA MUST NOT send it before the
ACK or the server transaction's timeout); the transaction's Timer L (64*T1, §13.3.1.4) ends the wait.
"""

from __future__ import annotations

from typing import Protocol

from telephony.calls.commands import Side
from telephony.calls.context import ALLOW, EngineContext
from telephony.calls.leg import Leg, LegOwner, LegState
from telephony.calls.media import DEFAULT_CODECS
from telephony.sip.dialog import Dialog, DialogState
from telephony.sip.message import Request
from telephony.sip.sdp import Codec, SdpError, SessionDescription
from telephony.sip.transaction import TxKey
from telephony.sip.transport import Peer

__all__ = ["UasLeg", "UasOwner"]


class UasOwner(LegOwner, Protocol):
    """What a UAS leg additionally tells its call."""

    def leg_cancelled(self, leg: UasLeg, now: float) -> None: ...


class UasLeg(Leg):
    """A leg created by an incoming INVITE; its offer (if any) is parsed at creation."""

    role = "uas"

    def __init__(
        self,
        ctx: EngineContext,
        owner: UasOwner,
        side: Side,
        key: TxKey,
        invite: Request,
        peer: Peer,
        port: int,
    ) -> None:
        super().__init__(ctx, owner, side, peer, port)
        self.uas_owner = owner
        self.key = key
        self.invite = invite
        # Parse first: a bad offer raises before anything is indexed.
        self.remote_offer = SessionDescription.parse(invite.body) if invite.body else None
        self.remote_allow = {a.strip().upper() for v in invite.headers.get_all("Allow") for a in v.split(",")}
        self.ack_pending = False  # our 2xx is out and not yet ACKed
        self._bye_held = False
        self._bye_reason: str | None = None
        self.bind_dialog(Dialog.as_uas(invite, ctx.ids.tag(), peer))
        ctx.server_invites[key] = self

    def _tag(self) -> str:
        assert self.dialog is not None
        return self.dialog.local_tag

    def _record_route(self) -> list[tuple[str, str]]:
        # RFC 3261 §12.1.1: responses that create the dialog copy Record-Route, in order.
        return [("Record-Route", value) for value in self.invite.headers.get_all("Record-Route")]

    def provisional(self, status: int, now: float, body: bytes = b"") -> None:
        """Send 180/183 (with our answer as early media when ``body``)."""
        if self.state not in (LegState.CALLING, LegState.EARLY):
            return
        self.state = LegState.EARLY
        headers = [*self._record_route(), ("Contact", self.ctx.contact(self.peer)), ("Allow", ALLOW)]
        self.ctx.respond(self.key, self.invite, status, to_tag=self._tag(), headers=headers, body=body, now=now)

    def negotiate(self, codec: Codec, now: float) -> bytes:
        """Our SDP for this leg, on ``codec`` if it offered it (else the other G.711 law, which the
        relay converts): the answer to its offer, or an offer if it made none.

        Computed once: 183 and 200 carry the same answer (RFC 3264 §5: one offer, one answer).
        """
        if self.local_sdp is not None:
            return self.local_sdp.to_bytes()
        if self.remote_offer is None:
            self.local_sdp = self.pending_offer = self.sdp.offer(self.port, [codec])
            return self.local_sdp.to_bytes()
        try:
            answer, media = self.sdp.answer(self.remote_offer, self.port, [codec])
        except SdpError:
            answer, media = self.sdp.answer(self.remote_offer, self.port, list(DEFAULT_CODECS))
        self.local_sdp = answer
        self._set_media(media, now)
        return answer.to_bytes()

    def answer(self, body: bytes, now: float) -> None:
        """Send the 2xx; the transaction layer retransmits it until the ACK (RFC 6026)."""
        if self.state not in (LegState.CALLING, LegState.EARLY):
            return
        self.state = LegState.CONFIRMED
        self.ack_pending = True
        assert self.dialog is not None
        self.dialog.state = DialogState.CONFIRMED
        headers = [*self._record_route(), ("Contact", self.ctx.contact(self.peer)), ("Allow", ALLOW),
                   ("Supported", "timer")]
        headers += self._session_timer_from_request(self.invite, now)
        self.ctx.respond(self.key, self.invite, 200, to_tag=self._tag(), headers=headers, body=body, now=now)

    def reject(self, status: int, now: float, reason: str | None = None,
               headers: list[tuple[str, str]] | None = None) -> None:
        """Send a final non-2xx; the leg is over (RFC 3261 §13.3.1.3)."""
        if self.state not in (LegState.CALLING, LegState.EARLY):
            return
        self.ctx.respond(self.key, self.invite, status, reason, to_tag=self._tag(), headers=headers, now=now)
        self._finish(now)

    def on_request(self, key: TxKey, request: Request, now: float) -> None:
        """Also a BYE on our early dialog (RFC 3261 §15): the caller gave up before answer."""
        if request.method == "BYE" and self.state in (LegState.CALLING, LegState.EARLY):
            assert self.dialog is not None
            if self.dialog.accept_remote_cseq(request):
                self.ctx.respond(key, request, 200, now=now)
                self.reject(487, now)  # §15.1.2: the pending INVITE still gets its answer
                self.uas_owner.leg_cancelled(self, now)
                return
        super().on_request(key, request, now)

    def cancelled(self, now: float) -> None:
        """The caller sent CANCEL (already answered 200 by the transaction layer): 487 (§9.2)."""
        if self.state in (LegState.CALLING, LegState.EARLY):
            self.reject(487, now)
            self.uas_owner.leg_cancelled(self, now)

    def transport_failed(self, now: float) -> None:
        """The transport to the caller failed (§17.2.4): its INVITE can no longer be answered."""
        if self.state in (LegState.CALLING, LegState.EARLY):
            self._finish(now)  # no final response is possible any more
        self._ack_wait_over(now)  # the transaction is gone: a held BYE goes (and fails or not)
        self.owner.leg_lost(self, "transport_failed", now)

    def ack_timed_out(self, now: float) -> None:
        """Our 2xx was never ACKed (RFC 3261 §13.3.1.4): the session is dead, a BYE ends it."""
        held = self._bye_held
        self._ack_wait_over(now)
        if not held:  # else the owner already ended the call and waits for this leg to close
            self.owner.leg_lost(self, "ack_timeout", now)

    def on_ack(self, request: Request, now: float) -> None:
        """The ACK for our 2xx releases a held BYE (§15); otherwise it may carry the answer."""
        if self.ack_pending and request.cseq.number == self.invite.cseq.number:
            self._ack_wait_over(now)
        if self.state is LegState.CONFIRMED:
            super().on_ack(request, now)

    def _send_bye(self, now: float, reason: str | None) -> None:
        if self.ack_pending:
            self._bye_held, self._bye_reason = True, reason
            return
        super()._send_bye(now, reason)

    def release_held_bye(self, now: float) -> None:
        """Send a BYE held for the ACK now (§15 has a UA that stays wait; one stopping cannot)."""
        if self._bye_held:
            self._ack_wait_over(now)

    def _ack_wait_over(self, now: float) -> None:
        self.ack_pending = False
        if self._bye_held:
            self._bye_held = False
            self._send_bye(now, self._bye_reason)

    def hangup(self, now: float, status: int = 480, reason: str | None = None) -> None:
        """End this leg however far it got: a final response before answer, BYE after."""
        if self.state in (LegState.CALLING, LegState.EARLY):
            self.reject(status, now)
        elif self.state is LegState.CONFIRMED:
            self.bye(now, reason)

    def unbind(self) -> None:
        """Also forget the server INVITE transaction."""
        super().unbind()
        self.ctx.server_invites.pop(self.key, None)
