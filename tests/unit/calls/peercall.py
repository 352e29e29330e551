"""What a scripted peer remembers of one dialog (RFC 3261 §12), to answer, ACK and hang up."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from telephony.sip.message import Request, Response

if TYPE_CHECKING:
    from tests.unit.calls.ladder import Endpoint

__all__ = ["PeerCall"]


class PeerCall:
    """A dialog as a peer sees it: enough to answer, ACK, re-INVITE and hang up."""

    def __init__(self, endpoint: Endpoint, *, call_id: str, local_tag: str, local_uri: str,
                 remote_uri: str, remote_target: str) -> None:
        self.endpoint = endpoint
        self.call_id = call_id
        self.local_tag = local_tag
        self.local_uri = local_uri
        self.remote_uri = remote_uri
        self.remote_target = remote_target
        self.remote_tag = ""
        self.cseq = 0
        self.invite = Request()  # the INVITE that opened the dialog, or our last one
        self.invite_via = ""

    # -- as UAC ---------------------------------------------------------------------------------
    def send_invite(self, body: bytes = b"", *, headers: Iterable[tuple[str, str]] = (),
                    max_forwards: int | None = 70) -> Request:
        """>> INVITE (a new one, or a re-INVITE once the dialog has a remote tag)."""
        self.cseq += 1
        self.invite_via = self.endpoint.via()
        contact = [("Contact", f"<sip:{self.endpoint.user}@{self.endpoint.address}>")]
        self.invite = self.endpoint.request(
            "INVITE", self.remote_target, from_=self.from_value, to=self.to_value,
            call_id=self.call_id, cseq=self.cseq, headers=[*contact, *headers], body=body,
            via=self.invite_via, max_forwards=max_forwards)
        return self.invite

    def expect(self, what: str) -> Any:
        """<< a response for this call; a To tag and Contact in it are learnt (§12.1.2)."""
        message = self.endpoint.expect(what)
        if isinstance(message, Response) and message.to.tag and message.cseq.method == "INVITE":
            if 200 <= message.status < 300 or not self.remote_tag:
                self.remote_tag = message.to.tag
            if message.contacts:
                self.remote_target = message.contacts[0].uri
        return message

    def ack(self, response: Response, body: bytes = b"") -> Request:
        """>> ACK: hop-by-hop with the INVITE's branch for a non-2xx, end-to-end for a 2xx."""
        if response.status >= 300:
            via, to = self.invite_via, response.headers.get("To") or self.to_value
        else:
            via, to = self.endpoint.via(), self.to_value
        uri = self.invite.uri if response.status >= 300 else self.remote_target
        return self.endpoint.request("ACK", uri, from_=self.from_value, to=to, call_id=self.call_id,
                                     cseq=response.cseq.number, via=via, body=body)

    def cancel(self) -> Request:
        """>> CANCEL for our pending INVITE (§9.1: same branch, same CSeq number)."""
        return self.endpoint.request("CANCEL", self.invite.uri, from_=self.from_value,
                                     to=self.invite.headers.get("To") or "", call_id=self.call_id,
                                     cseq=self.cseq, via=self.invite_via)

    def send(self, method: str, body: bytes = b"", *, headers: Iterable[tuple[str, str]] = (),
             cseq: int | None = None) -> Request:
        """>> an in-dialog request (BYE, UPDATE, INFO, OPTIONS ...) with the next CSeq."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        return self.endpoint.request(method, self.remote_target, from_=self.from_value,
                                     to=self.to_value, call_id=self.call_id, cseq=cseq,
                                     headers=headers, body=body)

    def bye(self) -> Request:
        """>> BYE."""
        return self.send("BYE")

    # -- as UAS ---------------------------------------------------------------------------------
    def reply(self, status: int, body: bytes = b"", *, headers: Iterable[tuple[str, str]] = (),
              request: Request | None = None) -> Response:
        """>> a response with our tag to the INVITE that opened the call (or to ``request``)."""
        target = request or self.invite
        tag = None if status == 100 else self.local_tag
        return self.endpoint.reply(target, status, to_tag=tag, body=body, headers=headers)

    # -- headers --------------------------------------------------------------------------------
    @property
    def from_value(self) -> str:
        """Our From: our URI and tag."""
        return f"{self.local_uri};tag={self.local_tag}"

    @property
    def to_value(self) -> str:
        """Our To: the remote URI, with its tag once known."""
        return f"{self.remote_uri};tag={self.remote_tag}" if self.remote_tag else self.remote_uri
