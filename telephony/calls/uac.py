"""The leg we place: an INVITE to a seat's phone or to the carrier (RFC 3261 §13.2, §9.1)."""

from __future__ import annotations

from typing import Protocol

from telephony.calls.commands import Side
from telephony.calls.context import EngineContext
from telephony.calls.leg import Leg, LegOwner, LegState, parse_session_expires
from telephony.sip.dialog import Dialog
from telephony.sip.digest import DigestClient
from telephony.sip.message import Headers, Request, Response
from telephony.sip.sdp import NegotiatedMedia, SessionDescription
from telephony.sip.transaction import TxKey
from telephony.sip.transport import Peer

__all__ = ["UacLeg", "UacOwner"]


class UacOwner(LegOwner, Protocol):
    """What a UAC leg additionally tells its call."""

    def leg_progress(self, leg: UacLeg, status: int, now: float) -> None: ...
    def leg_answered(self, leg: UacLeg, now: float) -> None: ...
    def leg_failed(self, leg: UacLeg, status: int, now: float) -> None: ...


class UacLeg(Leg):
    """A leg we call out on; forks to several contacts are several UAC legs."""

    role = "uac"

    def __init__(
        self,
        ctx: EngineContext,
        owner: UacOwner,
        side: Side,
        peer: Peer,
        port: int,
        *,
        request_uri: str,
        from_uri: str,
        to_uri: str,
        from_display: str = "",
        credentials: tuple[str, str] | None = None,
        seat: str | None = None,
    ) -> None:
        super().__init__(ctx, owner, side, peer, port)
        self.seat = seat  # the seat whose phone this fork rings, if any
        self.uac_owner = owner
        self.request_uri = request_uri
        display = f'"{from_display}" ' if from_display else ""
        self.from_value = f"{display}<{from_uri}>;tag={ctx.ids.tag()}"
        self.to_value = f"<{to_uri}>"
        self.call_id = ctx.ids.call_id(ctx.policy.host)
        self.cseq = 0
        self.credentials = credentials
        self._digest = DigestClient()
        self._auth_tries = 0
        self.invite: Request | None = None
        self.invite_key: TxKey | None = None
        self.got_provisional = False
        self.cancel_requested = False
        self._cancel_sent = False
        self._extra: list[tuple[str, str]] = []
        self.max_forwards = 70
        self._invite_keys: list[TxKey] = []

    # -- INVITE ---------------------------------------------------------------------------
    def start(self, offer: SessionDescription, now: float, *, max_forwards: int = 70,
              extra: list[tuple[str, str]] | None = None) -> None:
        """Send the INVITE with our offer; ``max_forwards`` carries the caller's hop budget on."""
        self.local_sdp = offer
        self.max_forwards = max_forwards
        self._extra = list(extra or ())
        self._send_invite(now, None)

    def _send_invite(self, now: float, authorization: tuple[str, str] | None) -> None:
        self.cseq += 1
        assert self.local_sdp is not None
        p = self.ctx.policy
        headers = Headers([
            ("Via", self.ctx.via(self.peer)), ("Max-Forwards", str(self.max_forwards)),
            ("From", self.from_value),
            ("To", self.to_value), ("Call-ID", self.call_id), ("CSeq", f"{self.cseq} INVITE"),
            ("Contact", self.ctx.contact(self.peer)),
            ("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"), ("Supported", "timer"),
            ("Session-Expires", str(p.session_expires)), ("Min-SE", str(p.min_se)),
            *self._extra,
        ])
        if authorization:
            headers.add(*authorization)
        headers.add("Content-Type", "application/sdp")
        self.invite = Request(method="INVITE", uri=self.request_uri, headers=headers,
                              body=self.local_sdp.to_bytes())
        self.invite_key = self.ctx.send_request(self.invite, self.peer, now, self.on_response)
        self._invite_keys.append(self.invite_key)

    def on_response(self, response: Response | None, now: float) -> None:
        """Every response to our INVITE (None: Timer B or a transport failure)."""
        if response is None:
            self._failed(408, now)
        elif response.status < 200:
            self._provisional(response, now)
        elif response.status < 300:
            self._success(response, now)
        elif response.status in (401, 407) and self._retry_with_auth(response, now):
            return
        else:
            self._failed(response.status, now)

    def _provisional(self, response: Response, now: float) -> None:
        self.got_provisional = True
        if self.cancel_requested:
            self._send_cancel(now)
            return
        if response.status == 100 or self.state not in (LegState.CALLING, LegState.EARLY):
            return
        self.state = LegState.EARLY
        tag = response.to.tag
        if tag and self.dialog is None:
            assert self.invite is not None
            self.bind_dialog(Dialog.as_uac(self.invite, response, self.peer))
        if response.body:
            media = self._parse_answer(response.body)
            if media is not None:
                self._set_media(media, now)
        self.uac_owner.leg_progress(self, response.status, now)

    def _success(self, response: Response, now: float) -> None:
        assert self.invite is not None and self.invite_key is not None
        tag = response.to.tag or ""
        if self.dialog is not None and self.dialog.remote_tag != tag and self.state is not LegState.EARLY:
            self._reject_extra_fork(response, now)  # a second 2xx from a forking proxy
            return
        if self.dialog is not None and self.dialog.remote_tag == tag:
            self.dialog.confirm(response)
        else:
            # Another fork's early dialog is replaced; the index key (Call-ID, our tag) stays the
            # same, and unbind() would also drop the INVITE's owner, so later 2xx went unanswered.
            self.bind_dialog(Dialog.as_uac(self.invite, response, self.peer))
        self._ack(response, now)
        self.state = LegState.CONFIRMED
        self.remote_allow = {a.strip().upper() for v in response.headers.get_all("Allow") for a in v.split(",")}
        if self.cancel_requested:
            self.bye(now, "cancelled")  # our CANCEL lost the race (§9.1)
            return
        se = parse_session_expires(response.headers.get("Session-Expires"))
        if se is not None:
            self.arm_session_timer(se[0], se[1] == "uac", now)
        media = self._parse_answer(response.body) if response.body else None
        if media is None:
            self.bye(now, "no usable SDP answer")
            self.uac_owner.leg_failed(self, 488, now)
            return
        self._set_media(media, now)
        self.uac_owner.leg_answered(self, now)

    def _ack(self, response: Response, now: float) -> None:
        assert self.dialog is not None and self.invite_key is not None
        ack = self.dialog.new_request("ACK", self.ctx.via(self.peer), cseq=self.cseq)
        for name in ("Proxy-Authorization", "Authorization"):
            if (value := self.invite.headers.get(name) if self.invite else None) is not None:
                ack.headers.add(name, value)
        self.ctx.txl.send_ack(self.invite_key, ack, self.peer)

    def _reject_extra_fork(self, response: Response, now: float) -> None:
        assert self.invite is not None and self.invite_key is not None
        other = Dialog.as_uac(self.invite, response, self.peer)
        ack = other.new_request("ACK", self.ctx.via(self.peer), cseq=self.cseq)
        self.ctx.txl.send_stateless(ack, self.peer)
        bye = other.new_request("BYE", self.ctx.via(self.peer))
        self.ctx.send_request(bye, self.peer, now, None)

    def _parse_answer(self, body: bytes) -> NegotiatedMedia | None:
        assert self.local_sdp is not None
        return self._answer_media(self.local_sdp, body)

    def _retry_with_auth(self, response: Response, now: float) -> bool:
        """Answer the carrier's 401/407 challenge once per INVITE (RFC 3261 §22.2)."""
        if self.credentials is None or self._auth_tries >= 2 or self.cancel_requested:
            return False
        user, password = self.credentials
        answer = self._digest.authorize(response, "INVITE", self.request_uri, user, password,
                                        cnonce_factory=self.ctx.ids.token)
        if answer is None:
            return False
        self._auth_tries += 1
        name, creds = answer
        self._send_invite(now, (name, creds.to_header()))
        return True

    def _failed(self, status: int, now: float) -> None:
        if self.state is LegState.ENDED:
            return
        cancelled = self.cancel_requested
        self._finish(now)
        if not cancelled:
            self.uac_owner.leg_failed(self, status, now)

    def unbind(self) -> None:
        """Also stop routing responses of our INVITE transactions here."""
        super().unbind()
        for key in self._invite_keys:
            self.ctx.client_owners.pop(key, None)

    # -- CANCEL / hangup ------------------------------------------------------------------
    def cancel(self, now: float) -> None:
        """Stop ringing (§9.1); the CANCEL waits for a provisional response if none came yet."""
        if self.state not in (LegState.CALLING, LegState.EARLY) or self.cancel_requested:
            return
        self.cancel_requested = True
        self.state = LegState.CANCELLING
        if self.got_provisional:
            self._send_cancel(now)

    def _send_cancel(self, now: float) -> None:
        if self._cancel_sent or self.invite is None:
            return
        self._cancel_sent = True
        inv = self.invite.headers
        headers = Headers([
            ("Via", inv.get("Via") or ""), ("Max-Forwards", "70"), ("From", inv.get("From") or ""),
            ("To", inv.get("To") or ""), ("Call-ID", self.call_id), ("CSeq", f"{self.cseq} CANCEL"),
        ])
        for route in inv.get_all("Route"):
            headers.add("Route", route)
        cancel = Request(method="CANCEL", uri=self.invite.uri, headers=headers)
        self.ctx.send_request(cancel, self.peer, now, None)

    def hangup(self, now: float, reason: str | None = None) -> None:
        """End this leg however far it got: CANCEL before answer, BYE after."""
        if self.state in (LegState.CALLING, LegState.EARLY):
            self.cancel(now)
        elif self.state is LegState.CONFIRMED:
            self.bye(now, reason)
