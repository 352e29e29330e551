"""A call leg: one SIP dialog between callfloor and a phone or the carrier, and its media.

``Leg`` holds what both roles share: the dialog, our SDP session, in-dialog requests (BYE,
re-INVITE, UPDATE, INFO, OPTIONS) and the RFC 4028 session timer. ``UasLeg`` (we answer) and
``UacLeg`` (we call) live in their own modules. A leg reports to its owner, the call, through the
:class:`LegOwner` protocol and never decides call-level policy itself.
"""

from __future__ import annotations

import logging
from enum import Enum, auto
from typing import Protocol

from telephony.calls.commands import Side
from telephony.calls.context import ALLOW, EngineContext
from telephony.rtp.dtmf import DtmfError, parse_info
from telephony.sip.dialog import Dialog
from telephony.sip.errors import RemoteProtocolError
from telephony.sip.message import Request, Response
from telephony.sip.sdp import Direction, NegotiatedMedia, SdpError, SdpSession, SessionDescription
from telephony.sip.sdp import parse_answer as sdp_parse_answer
from telephony.sip.transaction import TxKey
from telephony.sip.transport import Peer

__all__ = ["Leg", "LegOwner", "LegState", "parse_session_expires"]

log = logging.getLogger("callfloor.engine")


class LegState(Enum):
    """Where a leg is in its life (RFC 3261 §13 + §15)."""

    CALLING = auto()  # UAC: INVITE sent, nothing back yet / UAS: INVITE received, not answered
    EARLY = auto()  # a provisional response with a tag went out or came in
    CONFIRMED = auto()  # 2xx sent or received
    CANCELLING = auto()  # UAC: CANCEL sent or pending
    ENDING = auto()  # BYE sent (or held until our 2xx is ACKed, §15), waiting for its response
    ENDED = auto()


class LegOwner(Protocol):
    """What a leg tells its call."""

    def leg_media(self, leg: Leg, media: NegotiatedMedia, now: float) -> None: ...
    def leg_hungup(self, leg: Leg, now: float) -> None: ...
    def leg_lost(self, leg: Leg, reason: str, now: float) -> None: ...
    def leg_dtmf(self, leg: Leg, digit: str, now: float) -> None: ...
    def leg_closed(self, leg: Leg, now: float) -> None: ...


def parse_session_expires(value: str | None) -> tuple[int, str | None] | None:
    """``Session-Expires: 1800;refresher=uac`` → (1800, "uac"); None if absent or bad (RFC 4028 §4)."""
    if not value:
        return None
    head, *params = value.split(";")
    if not head.strip().isdigit():
        return None
    refresher = None
    for param in params:
        name, _, val = param.partition("=")
        if name.strip().lower() == "refresher":
            refresher = val.strip().lower() or None
    return int(head.strip()), refresher


class Leg:
    """One dialog of a call and its media endpoint."""

    role = "uas"

    def __init__(self, ctx: EngineContext, owner: LegOwner, side: Side, peer: Peer, port: int) -> None:
        self.ctx = ctx
        self.owner = owner
        self.side = side
        self.peer = peer
        self.port = port
        self.id = ctx.ids.token(6)
        self.state = LegState.CALLING
        self.dialog: Dialog | None = None
        self.sdp = SdpSession(ctx.policy.media_host, int(ctx.ids.token(4), 16))
        self.media: NegotiatedMedia | None = None
        self.local_sdp: SessionDescription | None = None
        self.pending_offer: SessionDescription | None = None  # our offer awaiting an answer in ACK
        self.held = False
        self.se_interval: int | None = None
        self.we_refresh = False
        self._refreshing = False
        self._refresh_key: TxKey | None = None
        self.remote_allow: set[str] = set()

    # -- identity -------------------------------------------------------------------------
    def bind_dialog(self, dialog: Dialog) -> None:
        """Index the dialog so in-dialog requests reach this leg."""
        self.dialog = dialog
        self.ctx.legs[(dialog.call_id, dialog.local_tag)] = self

    def unbind(self) -> None:
        """Drop every index entry and timer of this leg."""
        if self.dialog is not None:
            self.ctx.legs.pop((self.dialog.call_id, self.dialog.local_tag), None)
        self.ctx.cancel_timer((self.id, "session"))
        if self._refresh_key is not None:
            self.ctx.client_owners.pop(self._refresh_key, None)

    @property
    def active(self) -> bool:
        """True until the leg has ended or is ending."""
        return self.state not in (LegState.ENDING, LegState.ENDED)

    # -- in-dialog requests from the peer -------------------------------------------------
    def on_request(self, key: TxKey, request: Request, now: float) -> None:
        """Handle a request inside our dialog (§12.2.2)."""
        assert self.dialog is not None
        if not self.dialog.accept_remote_cseq(request):
            self.ctx.respond(key, request, 500, "CSeq Out Of Order", now=now)
            return
        method = request.method
        if method == "BYE":
            self.ctx.respond(key, request, 200, now=now)
            self._finish(now)
            self.owner.leg_hungup(self, now)
        elif method in ("INVITE", "UPDATE"):
            self._on_refresh(key, request, now)
        elif method == "INFO":
            self._on_info(key, request, now)
        elif method == "OPTIONS":
            self.ctx.respond(key, request, 200, headers=[("Allow", ALLOW)], now=now)
        else:
            self.ctx.respond(key, request, 405, headers=[("Allow", ALLOW)], now=now)

    def on_ack(self, request: Request, now: float) -> None:
        """An ACK for our 2xx; it carries the answer when our 2xx carried an offer (§13.2.1)."""
        if self.pending_offer is None:
            return
        offer, self.pending_offer = self.pending_offer, None
        media = self._answer_media(offer, request.body)
        if media is None:
            self.owner.leg_lost(self, "bad_answer_in_ack" if request.body else "no_answer_in_ack", now)
            return
        self._set_media(media, now)

    def _on_refresh(self, key: TxKey, request: Request, now: float) -> None:
        """re-INVITE or UPDATE: a new offer (hold/resume, new address) or a session refresh."""
        if self._refreshing and request.method == "INVITE":
            self.ctx.respond(key, request, 491, now=now)  # glare, RFC 3261 §14.2
            return
        body = b""
        if request.body:
            try:
                offer = SessionDescription.parse(request.body)
                answer, media = self.sdp.answer(offer, self.port, self._codecs())
            except SdpError as err:
                self.ctx.respond(key, request, err.status if err.status >= 400 else 488, now=now)
                return
            self.local_sdp = answer
            body = answer.to_bytes()
            self._set_media(media, now)
        elif request.method == "INVITE":
            self.pending_offer = self._current_offer()
            body = self.pending_offer.to_bytes()
        assert self.dialog is not None
        self.dialog.refresh_target(request.contacts)
        headers = [("Contact", self.ctx.contact(self.peer)), ("Allow", ALLOW)]
        headers += self._session_timer_from_request(request, now)
        self.ctx.respond(key, request, 200, headers=headers, body=body, now=now)

    def _on_info(self, key: TxKey, request: Request, now: float) -> None:
        ctype = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            digit = parse_info(ctype, request.body) if request.body else None
        except DtmfError as err:
            self.ctx.respond(key, request, err.status, str(err), now=now)
            return
        self.ctx.respond(key, request, 200, now=now)
        if digit:
            self.owner.leg_dtmf(self, digit, now)

    # -- media ----------------------------------------------------------------------------
    def _codecs(self) -> list:  # type: ignore[type-arg]
        from telephony.calls.media import DEFAULT_CODECS

        return [self.media.codec] if self.media else list(DEFAULT_CODECS)

    def _current_offer(self) -> SessionDescription:
        event = self.media.telephone_event_pt if self.media else 101
        return self.sdp.offer(self.port, self._codecs(), telephone_event_pt=event)

    def _answer_media(self, offer: SessionDescription, body: bytes) -> NegotiatedMedia | None:
        """What the peer's answer ``body`` to our ``offer`` negotiates (RFC 3264 §7); None, logged,
        when there is no answer or it is not a valid one."""
        if not body:
            log.info("leg %s: no SDP answer from %s:%s", self.id, self.peer.host, self.peer.port)
            return None
        try:
            return sdp_parse_answer(offer, SessionDescription.parse(body))
        except (SdpError, RemoteProtocolError) as err:
            log.info("leg %s: unusable SDP answer from %s:%s: %s", self.id, self.peer.host,
                     self.peer.port, err)
            return None

    def _set_media(self, media: NegotiatedMedia, now: float) -> None:
        self.media = media
        # ``media.direction`` is our side's view: a peer holding with sendonly (RFC 3264 §8.4)
        # shows as recvonly here. Anything but sendrecv means the peer is not expected to send.
        self.held = media.direction is not Direction.SENDRECV or media.remote_host in ("0.0.0.0", "::")
        self.owner.leg_media(self, media, now)

    # -- leaving --------------------------------------------------------------------------
    def bye(self, now: float, reason: str | None = None) -> None:
        """Send BYE on a confirmed dialog; the leg closes when it is answered or times out."""
        if self.dialog is None or self.state is not LegState.CONFIRMED:
            return
        self.state = LegState.ENDING
        self.ctx.cancel_timer((self.id, "session"))
        self._send_bye(now, reason)

    def _send_bye(self, now: float, reason: str | None) -> None:
        assert self.dialog is not None
        extra = [("Reason", f'SIP;cause=200;text="{reason}"')] if reason else None
        bye = self.dialog.new_request("BYE", self.ctx.via(self.peer), extra=extra)
        self.ctx.send_request(bye, self.peer, now, lambda resp, t: self._bye_done(resp, t))

    def _bye_done(self, response: Response | None, now: float) -> None:
        if response is not None and response.status < 200:
            return
        self._finish(now)

    def _finish(self, now: float) -> None:
        if self.state is LegState.ENDED:
            return
        self.state = LegState.ENDED
        self.unbind()
        self.owner.leg_closed(self, now)

    # -- RFC 4028 session timer -------------------------------------------------------------
    def _session_timer_from_request(self, request: Request, now: float) -> list[tuple[str, str]]:
        """Re-arm on a refresh from the peer and echo Session-Expires in our 2xx (§9)."""
        se = parse_session_expires(request.headers.get("Session-Expires"))
        if se is None:
            if self.se_interval is not None:
                self.arm_session_timer(self.se_interval, self.we_refresh, now)
            return []
        interval, refresher = se
        supported = "timer" in _tokens(request.headers.get_all("Supported"))
        if refresher not in ("uac", "uas"):
            # §9: the UAS picks; the peer refreshes when it can, else we do.
            refresher = "uac" if supported else "uas"
        # In this transaction we are the UAS, whichever side created the dialog.
        self.arm_session_timer(interval, refresher == "uas", now)
        headers = [("Session-Expires", f"{interval};refresher={refresher}")]
        if refresher == "uac" and supported:
            headers.append(("Require", "timer"))
        return headers

    def arm_session_timer(self, interval: int, we_refresh: bool, now: float) -> None:
        """Refresh at half the interval, or end the call if the peer lets it lapse (RFC 4028 §10)."""
        self.se_interval, self.we_refresh = interval, we_refresh
        if we_refresh:
            self.ctx.set_timer((self.id, "session"), now + interval / 2, self._refresh)
        else:
            grace = min(32.0, interval / 3)
            self.ctx.set_timer((self.id, "session"), now + interval - grace, self._expired)

    def _expired(self, now: float) -> None:
        self.owner.leg_lost(self, "session_expired", now)

    def _refresh(self, now: float) -> None:
        """Send our refresh: UPDATE without a body where the peer allows it, else a re-INVITE."""
        if self.dialog is None or self.state is not LegState.CONFIRMED or self.se_interval is None:
            return
        method = "UPDATE" if "UPDATE" in self.remote_allow else "INVITE"
        offer = self._current_offer() if method == "INVITE" else None
        if offer is not None:
            self.local_sdp = offer
        extra = [
            ("Contact", self.ctx.contact(self.peer)),
            ("Supported", "timer"),
            ("Session-Expires", f"{self.se_interval};refresher=uac"),
        ]
        request = self.dialog.new_request(
            method, self.ctx.via(self.peer), body=offer.to_bytes() if offer else b"",
            content_type="application/sdp", extra=extra,
        )
        self._refreshing = True
        self._refresh_key = self.ctx.send_request(
            request, self.peer, now, lambda response, t: self._refresh_done(request, offer, response, t)
        )

    def _refresh_done(self, request: Request, offer: SessionDescription | None,
                      response: Response | None, now: float) -> None:
        """The outcome of our refresh (``offer`` is the SDP of a re-INVITE, None for an UPDATE)."""
        if response is not None and response.status < 200:
            return
        self._refreshing = False
        if self._refresh_key is not None:
            # The engine keeps INVITE owners past the final response (forks); ours is done.
            self.ctx.client_owners.pop(self._refresh_key, None)
        if response is None or response.status in (408, 481):
            self.owner.leg_lost(self, "refresh_failed", now)
        elif 200 <= response.status < 300:
            self._refreshed(request, offer, response, now)
        elif response.status == 491:
            # Glare (RFC 3261 §14.1): retry after 2.1-4 s if we own the Call-ID, else 0-2 s,
            # well before the peer's session timer runs out.
            spread = int(self.ctx.ids.token(1), 16) / 255
            delay = 2.1 + 1.9 * spread if self.role == "uac" else 2.0 * spread
            self.ctx.set_timer((self.id, "session"), now + delay, self._refresh)
        else:  # refused refresh (e.g. 488): keep the call, try again later
            self.arm_session_timer(self.se_interval or 90, True, now)

    def _refreshed(self, request: Request, offer: SessionDescription | None, response: Response,
                   now: float) -> None:
        """A 2xx to our refresh: ACK a re-INVITE and apply the answer it carries, re-arm the timer."""
        if offer is not None:
            self._ack_refresh(request, now)
        if self.state is not LegState.CONFIRMED:
            return  # our BYE crossed the refresh: nothing left to apply
        if offer is not None and not response.body:
            # §13.2.1 wants the answer in this 2xx, but a peer that confirms the refresh without
            # one still keeps the session alive: cutting a customer for it helps no one.
            log.warning("leg %s: refresh 2xx from %s:%s without SDP; media kept", self.id,
                        self.peer.host, self.peer.port)
        elif offer is not None:
            media = self._answer_media(offer, response.body)
            if media is None:
                # RFC 3261 §14.1 with §13.2.2.4: the old session stays until this BYE, sent after
                # the ACK; the owner ends the call.
                self.bye(now, "unusable SDP answer")
                self.owner.leg_lost(self, "bad_refresh_answer", now)
                return
            if media != self.media:  # RFC 3264 §8: the peer moved, changed codec or direction
                self._set_media(media, now)
        se = parse_session_expires(response.headers.get("Session-Expires"))
        interval = se[0] if se else self.se_interval or self.ctx.policy.session_expires
        # RFC 4028 §7.4: the 2xx names the refresher; "uas" hands the job to the peer.
        self.arm_session_timer(interval, se is None or se[1] != "uas", now)

    def _ack_refresh(self, invite: Request, now: float) -> None:
        assert self.dialog is not None
        ack = self.dialog.new_request("ACK", self.ctx.via(self.peer), cseq=invite.cseq.number)
        if self._refresh_key is not None:
            self.ctx.txl.send_ack(self._refresh_key, ack, self.peer)


def _tokens(values: list[str]) -> set[str]:
    return {t.strip().lower() for v in values for t in v.split(",") if t.strip()}
