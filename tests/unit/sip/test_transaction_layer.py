"""The layer as a whole: the timer heap, scale, stateless sends and bad input."""

from __future__ import annotations

import pytest

from telephony.sip.errors import RemoteProtocolError
from telephony.sip.message import Headers, Request, Response, make_response
from telephony.sip.transaction import (
    AckReceived,
    RequestReceived,
    TimerPolicy,
    TransactionLayer,
    TransactionTimedOut,
)
from telephony.sip.transport import Peer, Transport
from tests.unit.sip.test_transaction_support import (
    PHONE,
    TRUNK,
    ack_for_2xx,
    answer,
    new_layer,
    our_request,
    out,
    request,
)


def test_send_stateless_queues_the_encoded_message() -> None:
    layer = new_layer()
    resp = make_response(request(), 503, to_tag="x")
    layer.send_stateless(resp, PHONE)
    assert layer.datagrams_to_send() == [out(resp, PHONE)]
    assert layer.datagrams_to_send() == []
    assert len(layer) == 0


def test_get_timer_skips_cancelled_entries() -> None:
    layer = new_layer()
    req = our_request()
    layer.send_request(req, TRUNK, now=0.0)
    assert layer.get_timer() == 0.5
    layer.receive(answer(req, 180), TRUNK, now=0.1)  # cancels A and B
    assert layer.get_timer() is None
    assert layer.handle_timer(100.0) == []
    assert layer.datagrams_to_send() == [out(req, TRUNK)]  # only the first send


def test_a_late_handle_timer_does_not_replay_missed_retransmissions() -> None:
    layer = new_layer()
    key = layer.send_request(our_request(), TRUNK, now=0.0)
    layer.datagrams_to_send()
    assert layer.handle_timer(100.0) == [TransactionTimedOut(key)]
    assert len(layer.datagrams_to_send()) == 1  # Timer A fired once, then Timer B ended it


def test_custom_policy_scales_every_timer() -> None:
    layer = TransactionLayer(TimerPolicy(t1=0.1, t2=0.4, t4=1.0))
    layer.send_request(our_request("OPTIONS", branch="z9hG4bKp"), TRUNK, now=0.0)
    deadlines = []
    while (t := layer.get_timer()) is not None:
        deadlines.append(t)
        layer.handle_timer(t)
    assert deadlines == pytest.approx([0.1, 0.3, 0.7, 1.1, 1.5, 1.9, 2.3, 2.7, 3.1, 3.5, 3.9,
                                       4.3, 4.7, 5.1, 5.5, 5.9, 6.3, 6.4])


def test_thousands_of_calls_keep_the_heap_small_and_all_end() -> None:
    layer = new_layer()
    n = 5000
    for i in range(n):
        src = Peer(Transport.UDP, "192.0.2.10", 10000 + i)
        inv = request(via=f"SIP/2.0/UDP 192.0.2.10:{10000 + i};branch=z9hG4bKs{i}",
                      call_id=f"call-{i}")
        [event] = layer.receive(inv, src, now=0.0)
        assert isinstance(event, RequestReceived)
        ok = make_response(inv, 200, to_tag=f"u{i}")
        layer.send_response(event.key, ok, now=0.001)
        ack = ack_for_2xx(inv, ok, branch=f"z9hG4bKack{i}")
        assert layer.receive(ack, src, now=0.002) == [AckReceived(ack, src)]
    assert len(layer) == n
    # Each call left one live timer (L) and one cancelled 2xx retransmission entry.
    assert len(layer._heap) <= 2 * n
    assert len(layer.datagrams_to_send()) == 2 * n  # 100 Trying + 200 OK each
    assert layer.handle_timer(32.0) == []
    assert layer.handle_timer(32.002) == []
    assert len(layer) == 0
    assert layer.get_timer() is None
    assert layer._heap == [] and layer._by_ack == {}


def test_stale_entries_are_compacted() -> None:
    layer = new_layer()
    reqs = [our_request("OPTIONS", branch=f"z9hG4bKq{i}", cseq=i + 1) for i in range(3000)]
    for r in reqs:
        layer.send_request(r, TRUNK, now=0.0)
    for r in reqs:
        layer.receive(answer(r, 200), TRUNK, now=0.1)  # cancels E and F, starts K
    # 9000 entries were pushed, 6000 went stale: compaction keeps at most as many stale entries
    # as live ones (3000 Timer K) once past the minimum.
    assert len(layer._heap) <= 2 * 3000
    assert layer.get_timer() == 5.1
    layer.handle_timer(5.1)
    assert len(layer) == 0


def test_unreadable_messages_raise_remote_protocol_errors() -> None:
    layer = new_layer()
    bad_via = Request(method="OPTIONS", uri="sip:x@203.0.113.1",
                      headers=Headers([("Via", "garbage"), ("CSeq", "1 OPTIONS")]))
    with pytest.raises(RemoteProtocolError):
        layer.receive(bad_via, PHONE, now=0.0)
    no_cseq = Response(status=200, reason="OK",
                       headers=Headers([("Via", "SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKz")]))
    with pytest.raises(RemoteProtocolError):
        layer.receive(no_cseq, TRUNK, now=0.0)
    assert len(layer) == 0
