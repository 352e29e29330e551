"""Server transactions as ladders: phone -> callfloor, explicit clock values (RFC 3261 §17.2)."""

from __future__ import annotations

import pytest

from telephony.sip.errors import LocalProtocolError
from telephony.sip.message import Request, make_response
from telephony.sip.transaction import (
    AckReceived,
    AckTimedOut,
    RequestReceived,
    TransactionTimedOut,
    TransportFailed,
)
from telephony.sip.transport import Peer, Transport
from tests.unit.sip.test_transaction_support import (
    PHONE,
    ack_for_2xx,
    new_layer,
    out,
    request,
    run_until,
)

KEY = ("z9hG4bKa1", "INVITE")
TRYING_BYTES = (
    b"SIP/2.0 100 Trying\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa1\r\n"
    b"From: <sip:201@192.0.2.10>;tag=f1\r\n"
    b"To: <sip:600@203.0.113.1>\r\n"
    b"Call-ID: c1@192.0.2.10\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def non_2xx_ack(tag: str = "uas1") -> Request:
    """The phone's ACK for our non-2xx: same branch, To with our tag (§17.1.1.3)."""
    return request("ACK", to=f"<sip:600@203.0.113.1>;tag={tag}")


# -- server INVITE (§17.2.1) ------------------------------------------------------------------


def test_invite_gets_100_trying_at_once_and_retransmissions_get_the_last_response() -> None:
    layer = new_layer()
    inv = request()
    assert layer.receive(inv, PHONE, now=0.0) == [RequestReceived(KEY, inv, PHONE)]
    assert layer.datagrams_to_send() == [out(TRYING_BYTES, PHONE)]
    assert layer.get_timer() is None  # Proceeding waits for the TU

    assert layer.receive(request(), PHONE, now=0.5) == []
    assert layer.datagrams_to_send() == [out(TRYING_BYTES, PHONE)]

    ringing = make_response(inv, 180, to_tag="uas1")
    layer.send_response(KEY, ringing, now=0.6)
    assert layer.datagrams_to_send() == [out(ringing, PHONE)]
    assert layer.receive(request(), PHONE, now=1.5) == []
    assert layer.datagrams_to_send() == [out(ringing, PHONE)]


def test_no_auto_trying() -> None:
    layer = new_layer(auto_trying=False)
    inv = request()
    assert layer.receive(inv, PHONE, now=0.0) == [RequestReceived(KEY, inv, PHONE)]
    assert layer.receive(request(), PHONE, now=0.5) == []
    assert layer.datagrams_to_send() == []


def test_non_2xx_timer_g_caps_at_t2_and_timer_h_times_out() -> None:
    layer = new_layer()
    inv = request()
    layer.receive(inv, PHONE, now=0.0)
    busy = make_response(inv, 486, to_tag="uas1")
    layer.send_response(KEY, busy, now=0.0)
    assert layer.datagrams_to_send() == [out(TRYING_BYTES, PHONE), out(busy, PHONE)]

    log = run_until(layer, 40.0)
    assert [t for t, _, sent in log if sent] == [
        0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5,
    ]
    assert all(sent == [out(busy, PHONE)] for _, _, sent in log if sent)
    assert log[-1] == (32.0, [TransactionTimedOut(KEY)], [])
    assert len(layer) == 0


def test_non_2xx_ack_confirms_stops_g_and_timer_i_ends_it() -> None:
    layer = new_layer()
    inv = request()
    layer.receive(inv, PHONE, now=0.0)
    busy = make_response(inv, 486, to_tag="uas1")
    layer.send_response(KEY, busy, now=0.0)
    layer.datagrams_to_send()
    assert layer.receive(request(), PHONE, now=0.2) == []  # INVITE again: final resent
    assert layer.datagrams_to_send() == [out(busy, PHONE)]

    # The ACK for a non-2xx belongs to the transaction: no event (§17.2.1).
    assert layer.receive(non_2xx_ack(), PHONE, now=0.3) == []
    assert layer.get_timer() == 5.3  # Timer I = T4; Timer G is gone
    assert layer.receive(non_2xx_ack(), PHONE, now=0.4) == []
    assert layer.receive(request(), PHONE, now=0.5) == []
    assert layer.datagrams_to_send() == []
    with pytest.raises(LocalProtocolError):
        layer.send_response(KEY, make_response(inv, 200, to_tag="uas1"), now=1.0)
    assert layer.handle_timer(5.3) == []
    assert len(layer) == 0


def test_2xx_is_retransmitted_until_the_ack_then_absorbed_until_timer_l() -> None:
    layer = new_layer()
    inv = request()
    layer.receive(inv, PHONE, now=0.0)
    ok = make_response(inv, 200, to_tag="uas1")
    layer.send_response(KEY, ok, now=1.0)
    layer.datagrams_to_send()

    log = run_until(layer, 8.6)
    # §13.3.1.4: T1, 2T1, 4T1... capped at T2.
    assert [(t, sent) for t, _, sent in log] == [
        (1.5, [out(ok, PHONE)]),
        (2.5, [out(ok, PHONE)]),
        (4.5, [out(ok, PHONE)]),
        (8.5, [out(ok, PHONE)]),
    ]
    # INVITE retransmissions in Accepted are absorbed (RFC 6026 §7.1).
    assert layer.receive(request(), PHONE, now=9.0) == []
    assert layer.datagrams_to_send() == []

    ack = ack_for_2xx(inv, ok)
    assert layer.receive(ack, PHONE, now=9.5) == [AckReceived(ack, PHONE)]
    assert layer.receive(ack_for_2xx(inv, ok), PHONE, now=9.6) == []  # ACK resent: absorbed
    assert layer.get_timer() == 33.0  # only Timer L is left
    assert run_until(layer, 40.0) == [(33.0, [], [])]
    assert len(layer) == 0
    # After Timer L an ACK matches nothing and still reaches the TU.
    late = ack_for_2xx(inv, ok)
    assert layer.receive(late, PHONE, now=41.0) == [AckReceived(late, PHONE)]


def test_2xx_without_ack_reports_ack_timed_out_at_timer_l() -> None:
    layer = new_layer()
    inv = request()
    layer.receive(inv, PHONE, now=0.0)
    ok = make_response(inv, 200, to_tag="uas1")
    layer.send_response(KEY, ok, now=0.0)
    log = run_until(layer, 40.0)
    assert [t for t, _, sent in log if sent] == [
        0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5,
    ]
    assert log[-1] == (32.0, [AckTimedOut(KEY)], [])
    assert len(layer) == 0


def test_2xx_ack_reusing_the_invite_branch_also_matches() -> None:
    layer = new_layer()
    inv = request()
    layer.receive(inv, PHONE, now=0.0)
    layer.send_response(KEY, make_response(inv, 200, to_tag="uas1"), now=0.0)
    ack = non_2xx_ack()
    assert layer.receive(ack, PHONE, now=0.1) == [AckReceived(ack, PHONE)]
    assert layer.get_timer() == 32.0


def test_accepted_allows_another_2xx_but_no_other_response() -> None:
    layer = new_layer()
    inv = request()
    layer.receive(inv, PHONE, now=0.0)
    ok = make_response(inv, 200, to_tag="uas1")
    layer.send_response(KEY, ok, now=0.0)
    layer.send_response(KEY, ok, now=0.1)
    assert layer.datagrams_to_send()[-2:] == [out(ok, PHONE), out(ok, PHONE)]
    for status in (180, 486):
        with pytest.raises(LocalProtocolError):
            layer.send_response(KEY, make_response(inv, status, to_tag="uas1"), now=0.2)


def test_send_response_misuse_is_a_local_error() -> None:
    layer = new_layer()
    inv = request()
    with pytest.raises(LocalProtocolError):
        layer.send_response(KEY, make_response(inv, 200), now=0.0)
    layer.receive(inv, PHONE, now=0.0)
    with pytest.raises(LocalProtocolError):
        layer.send_response(KEY, make_response(inv, 99), now=0.0)
    with pytest.raises(LocalProtocolError):
        layer.send_response(KEY, make_response(inv, 700), now=0.0)


def test_invite_over_tcp_no_retransmissions_and_zero_timer_i() -> None:
    phone = Peer(Transport.TCP, "192.0.2.10", 51000)
    layer = new_layer()
    inv = request(via="SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKa1")
    layer.receive(inv, phone, now=0.0)
    busy = make_response(inv, 486, to_tag="uas1")
    layer.send_response(KEY, busy, now=0.0)
    # Responses go back on the connection the request came on, whatever sent-by says.
    assert [o.peer for o in layer.datagrams_to_send()] == [phone, phone]
    assert layer.get_timer() == 32.0  # Timer H only, no Timer G
    ack = request("ACK", via="SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKa1",
                  to="<sip:600@203.0.113.1>;tag=uas1")
    assert layer.receive(ack, phone, now=0.1) == []
    assert len(layer) == 0  # Timer I is zero on TCP


def test_2xx_over_tcp_is_not_retransmitted() -> None:
    phone = Peer(Transport.TCP, "192.0.2.10", 51000)
    layer = new_layer()
    inv = request(via="SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKa1")
    layer.receive(inv, phone, now=0.0)
    layer.send_response(KEY, make_response(inv, 200, to_tag="uas1"), now=0.0)
    layer.datagrams_to_send()
    assert run_until(layer, 40.0) == [(32.0, [AckTimedOut(KEY)], [])]


def test_transport_error_fails_server_transactions_of_that_peer() -> None:
    layer = new_layer()
    layer.receive(request(), PHONE, now=0.0)
    other = Peer(Transport.UDP, "192.0.2.11", 5060)
    layer.receive(request(via="SIP/2.0/UDP 192.0.2.11:5060;branch=z9hG4bKx"), other, now=0.0)
    assert layer.transport_error(PHONE, now=0.1) == [TransportFailed(KEY)]
    assert len(layer) == 1


# -- server non-INVITE (§17.2.2) --------------------------------------------------------------


def test_non_invite_absorbs_in_trying_resends_final_and_timer_j() -> None:
    layer = new_layer()
    opt = request("OPTIONS", via="SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKo1")
    key = ("z9hG4bKo1", "OPTIONS")
    assert layer.receive(opt, PHONE, now=0.0) == [RequestReceived(key, opt, PHONE)]
    assert layer.datagrams_to_send() == []  # no automatic 100 for non-INVITE
    assert layer.receive(opt, PHONE, now=0.5) == []
    assert layer.datagrams_to_send() == []  # Trying: retransmissions discarded

    ok = make_response(opt, 200, to_tag="uas9")
    layer.send_response(key, ok, now=1.0)
    assert layer.datagrams_to_send() == [out(ok, PHONE)]
    assert layer.receive(opt, PHONE, now=1.5) == []
    assert layer.datagrams_to_send() == [out(ok, PHONE)]
    with pytest.raises(LocalProtocolError):
        layer.send_response(key, ok, now=1.6)
    assert layer.get_timer() == 33.0  # Timer J = 64*T1
    assert layer.handle_timer(33.0) == []
    assert len(layer) == 0
    with pytest.raises(LocalProtocolError):
        layer.send_response(key, ok, now=34.0)


def test_non_invite_provisional_is_resent_for_retransmissions() -> None:
    layer = new_layer()
    bye = request("BYE", via="SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKb1", cseq=2,
                  to="<sip:600@203.0.113.1>;tag=uas1")
    key = ("z9hG4bKb1", "BYE")
    layer.receive(bye, PHONE, now=0.0)
    trying = make_response(bye, 100)
    layer.send_response(key, trying, now=0.1)
    layer.datagrams_to_send()
    layer.receive(bye, PHONE, now=0.5)
    assert layer.datagrams_to_send() == [out(trying, PHONE)]


def test_non_invite_over_tcp_terminates_on_the_final() -> None:
    phone = Peer(Transport.TCP, "192.0.2.10", 51000)
    layer = new_layer()
    reg = request("REGISTER", via="SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKr1")
    layer.receive(reg, phone, now=0.0)
    layer.send_response(("z9hG4bKr1", "REGISTER"), make_response(reg, 200, to_tag="x"), now=0.0)
    assert [o.peer for o in layer.datagrams_to_send()] == [phone]
    assert len(layer) == 0
