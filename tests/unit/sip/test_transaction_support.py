"""Shared builders for the transaction-layer tests (no tests here)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

from telephony.sip.message import Headers, Request, Response, make_response
from telephony.sip.transaction import TimerPolicy, TransactionLayer, TxEvent
from telephony.sip.transport import Outgoing, Peer, Transport

ME = "203.0.113.1"
PHONE = Peer(Transport.UDP, "192.0.2.10", 5060)
TRUNK = Peer(Transport.UDP, "198.51.100.7", 5060)
TRUNK_TCP = Peer(Transport.TCP, "198.51.100.7", 40001)
POLICY = TimerPolicy()


def tags() -> Callable[[], str]:
    """A deterministic tag factory: t1, t2, ..."""
    n = count(1)
    return lambda: f"t{next(n)}"


def new_layer(*, auto_trying: bool = True) -> TransactionLayer:
    """A layer with the default timers and deterministic tags."""
    return TransactionLayer(POLICY, auto_trying=auto_trying, tag_factory=tags())


def request(
    method: str = "INVITE",
    *,
    via: str = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa1",
    uri: str = "sip:600@203.0.113.1",
    cseq: int = 1,
    cseq_method: str | None = None,
    from_tag: str = "f1",
    to: str = "<sip:600@203.0.113.1>",
    call_id: str = "c1@192.0.2.10",
    extra: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> Request:
    """A request as a phone (or we) would send it; headers in a fixed order."""
    headers = Headers(
        [
            ("Via", via),
            ("Max-Forwards", "70"),
            ("From", f"<sip:201@192.0.2.10>;tag={from_tag}"),
            ("To", to),
            ("Call-ID", call_id),
            ("CSeq", f"{cseq} {cseq_method or method}"),
            *extra,
        ]
    )
    return Request(method=method, uri=uri, headers=headers, body=body)


def our_request(method: str = "INVITE", branch: str = "z9hG4bKc1", **kw: object) -> Request:
    """A request callfloor sends to the trunk (our own Via)."""
    return request(
        method,
        via=f"SIP/2.0/UDP {ME}:5060;branch={branch};rport",
        uri="sip:+15551234@198.51.100.7",
        from_tag="ours",
        to="<sip:+15551234@198.51.100.7>",
        call_id="out-1@203.0.113.1",
        **kw,  # type: ignore[arg-type]
    )


def answer(req: Request, status: int, tag: str | None = "rt1") -> Response:
    """The far end's response to ``req``."""
    return make_response(req, status, to_tag=tag if status != 100 else None)


def ack_for_2xx(invite: Request, resp: Response, branch: str = "z9hG4bKack1") -> Request:
    """An end-to-end ACK for a 2xx (new branch, §13.2.2.4)."""
    headers = Headers(
        [
            ("Via", (invite.headers.get("Via") or "").split(";branch=")[0] + f";branch={branch}"),
            ("Max-Forwards", "70"),
            ("From", invite.headers.get("From") or ""),
            ("To", resp.headers.get("To") or ""),
            ("Call-ID", invite.call_id),
            ("CSeq", f"{invite.cseq.number} ACK"),
        ]
    )
    return Request(method="ACK", uri="sip:201@192.0.2.10:5060", headers=headers)


def out(data: bytes | Request | Response, peer: Peer) -> Outgoing:
    """The Outgoing the layer should produce."""
    raw = data if isinstance(data, bytes) else data.to_bytes()
    return Outgoing(raw, peer)


Firing = tuple[float, list[TxEvent], list[Outgoing]]


def run_until(layer: TransactionLayer, end: float) -> list[Firing]:
    """Fire every timer up to ``end``; returns (time, events, datagrams) for each firing."""
    log: list[Firing] = []
    while (deadline := layer.get_timer()) is not None and deadline <= end:
        events = layer.handle_timer(deadline)
        log.append((deadline, list(events), layer.datagrams_to_send()))
    return log
