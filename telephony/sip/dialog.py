"""SIP dialogs (RFC 3261 §12): the state two user agents share, and in-dialog request building.

A :class:`Dialog` is created from the INVITE and the response that carries the remote tag. It knows
the route set, the remote target and both CSeq spaces, and builds requests inside the dialog
(§12.2.1.1) and the ACK for a 2xx (§13.2.2.4). Where in-dialog requests are *sent* is decided by
the caller (``peer``): callfloor sends them back to where the peer's signalling really comes from,
as a session border controller does, so phones behind NAT keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from telephony.sip.headers import NameAddr
from telephony.sip.message import Headers, Request, Response
from telephony.sip.transport import Peer

__all__ = ["Dialog", "DialogState"]


class DialogState(Enum):
    """RFC 3261 §12: a dialog is early until a 2xx confirms it."""

    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


@dataclass
class Dialog:
    """One side's view of a dialog: ids, sequence numbers, route set and remote target."""

    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str
    remote_uri: str
    local_seq: int
    remote_seq: int | None
    remote_target: str
    peer: Peer
    route_set: list[str] = field(default_factory=list)
    state: DialogState = DialogState.EARLY

    @property
    def id(self) -> tuple[str, str, str]:
        """(Call-ID, local tag, remote tag), §12."""
        return (self.call_id, self.local_tag, self.remote_tag)

    @classmethod
    def as_uas(cls, request: Request, local_tag: str, peer: Peer) -> Dialog:
        """The dialog a UAS creates when it answers ``request`` (§12.1.1)."""
        contacts = request.contacts
        from_ = request.from_
        to = request.to
        return cls(
            call_id=request.call_id,
            local_tag=local_tag,
            remote_tag=from_.tag or "",
            local_uri=str(NameAddr(to.uri, to.display)),
            remote_uri=str(NameAddr(from_.uri, from_.display)),
            local_seq=0,
            remote_seq=request.cseq.number,
            remote_target=contacts[0].uri if contacts else from_.uri,
            peer=peer,
            route_set=list(request.headers.get_all("Record-Route")),
        )

    @classmethod
    def as_uac(cls, request: Request, response: Response, peer: Peer) -> Dialog:
        """The dialog a UAC creates from a response with a To tag (§12.1.2)."""
        contacts = response.contacts
        from_ = request.from_
        to = response.to
        state = DialogState.CONFIRMED if 200 <= response.status < 300 else DialogState.EARLY
        return cls(
            call_id=request.call_id,
            local_tag=from_.tag or "",
            remote_tag=to.tag or "",
            local_uri=str(NameAddr(from_.uri, from_.display)),
            remote_uri=str(NameAddr(to.uri, to.display)),
            local_seq=request.cseq.number,
            remote_seq=None,
            remote_target=contacts[0].uri if contacts else request.uri,
            peer=peer,
            route_set=list(reversed(response.headers.get_all("Record-Route"))),
            state=state,
        )

    def confirm(self, response: Response) -> None:
        """A 2xx confirms an early dialog and refreshes its route set and target (§12.1.2)."""
        self.state = DialogState.CONFIRMED
        self.route_set = list(reversed(response.headers.get_all("Record-Route")))
        self.refresh_target(response.contacts)

    def refresh_target(self, contacts: list[NameAddr]) -> None:
        """Target refresh requests and their 2xx replace the remote target (§12.2)."""
        if contacts:
            self.remote_target = contacts[0].uri

    def accept_remote_cseq(self, request: Request) -> bool:
        """Check and record the remote CSeq; False means answer 500 (§12.2.2)."""
        number = request.cseq.number
        if request.method in ("ACK", "CANCEL"):
            return True
        if self.remote_seq is not None and number <= self.remote_seq:
            return False
        self.remote_seq = number
        return True

    def matches(self, message: Request | Response, *, incoming: bool = True) -> bool:
        """True if ``message`` belongs to this dialog (Call-ID and both tags)."""
        if message.call_id != self.call_id:
            return False
        from_tag, to_tag = message.from_.tag or "", message.to.tag or ""
        if incoming and isinstance(message, Request):
            return from_tag == self.remote_tag and to_tag == self.local_tag
        return from_tag == self.local_tag and to_tag == self.remote_tag

    def new_request(
        self,
        method: str,
        via: str,
        *,
        cseq: int | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        extra: list[tuple[str, str]] | None = None,
    ) -> Request:
        """Build a request inside the dialog (§12.2.1.1); ``via`` is the full top Via value.

        A new CSeq is taken unless ``cseq`` is given (ACK and CANCEL reuse the INVITE's).
        """
        if cseq is None:
            self.local_seq += 1
            cseq = self.local_seq
        headers = Headers([("Via", via), ("Max-Forwards", "70")])
        uri = self.remote_target
        if self.route_set:
            first = NameAddr.parse(self.route_set[0])
            if "lr" in _uri_params(first.uri):
                routes = list(self.route_set)
            else:  # strict router (§12.2.1.1): its URI becomes the Request-URI
                uri = first.uri
                routes = [*self.route_set[1:], f"<{self.remote_target}>"]
            for route in routes:
                headers.add("Route", route)
        headers.add("From", f"{self.local_uri};tag={self.local_tag}")
        headers.add("To", f"{self.remote_uri};tag={self.remote_tag}")
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{cseq} {method}")
        for name, value in extra or ():
            headers.add(name, value)
        if content_type and body:
            headers.add("Content-Type", content_type)
        return Request(method=method, uri=uri, headers=headers, body=body)


def _uri_params(uri: str) -> set[str]:
    parts = uri.split(";")[1:]
    return {p.split("=", 1)[0].strip().lower() for p in parts}
