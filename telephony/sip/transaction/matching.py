"""Which transaction a request belongs to, and where its responses go.

§17.2.3 matching (with the RFC 2543 fallback), §18.2.1 ``received``, RFC 3581 ``rport`` and the
§18.2.2 response address.
"""

from __future__ import annotations

import hashlib

from telephony.sip.headers import Via
from telephony.sip.message import Headers, Request
from telephony.sip.transaction.events import TxKey
from telephony.sip.transport import Peer

__all__ = ["MAGIC_COOKIE", "ack_key", "response_peer", "server_key", "stamp_via"]

MAGIC_COOKIE = "z9hG4bK"  # §8.1.1.7: branches of RFC 3261 elements start with it
DEFAULT_PORT = 5060


def server_key(request: Request, via: Via) -> TxKey:
    """The server transaction key of ``request``: ``(branch, method)``, ACK as "INVITE" (§17.2.3).

    A top Via without the magic cookie comes from an RFC 2543 element; its branch is then
    synthesised from Request-URI, From tag, Call-ID, CSeq number and the top Via, the fields
    §17.2.3 compares (the To tag is left out: within one INVITE transaction we send one To tag,
    and the ACK for our final carries it while the INVITE did not).
    """
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch
    if branch.startswith(MAGIC_COOKIE):
        return (branch, method)
    fields = (request.uri, request.from_.tag or "", request.call_id, str(request.cseq.number),
              str(via))
    digest = hashlib.blake2b("\n".join(fields).encode(), digest_size=12).hexdigest()
    return (f"rfc2543-{digest}", method)


def ack_key(request: Request) -> tuple[str, int, str]:
    """(Call-ID, CSeq number, From tag): what an ACK for a 2xx shares with its INVITE."""
    return (request.call_id, request.cseq.number, request.from_.tag or "")


def stamp_via(request: Request, via: Via, source: Peer) -> Via:
    """Add ``received`` (§18.2.1) and fill an empty ``rport`` (RFC 3581 §4) in the top Via.

    The request's header is rewritten only when something changed, so the responses built from
    it with ``make_response`` carry the parameters back.
    """
    params = via.params
    changed = False
    # RFC 3581 §4: with an empty rport, received is added even when it equals sent-by.
    rport_empty = "rport" in params and params["rport"] is None
    if rport_empty:
        params["rport"] = str(source.port)
        changed = True
    differs = via.host.strip("[]").lower() != source.host.lower()
    if (rport_empty or differs) and params.get("received") != source.host:
        params["received"] = source.host
        changed = True
    if changed:
        _replace_top_via(request, str(via))
    return via


def _replace_top_via(request: Request, value: str) -> None:
    items = list(request.headers)
    for i, (name, _) in enumerate(items):
        if name == "Via":
            items[i] = (name, value)
            break
    request.headers = Headers(items)


def response_peer(via: Via, source: Peer) -> Peer:
    """Where responses go (§18.2.2, RFC 3581 §4): the same connection for TCP; for UDP the source
    address, with the source port when the Via has ``rport``, else the sent-by port (5060)."""
    if source.reliable:
        return source
    port = source.port if via.params.get("rport") else via.port or DEFAULT_PORT
    return source if port == source.port else Peer(source.transport, source.host, port)
