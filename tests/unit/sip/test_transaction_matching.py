"""Request matching (§17.2.3, RFC 2543), CANCEL (§9.2), received/rport (§18.2, RFC 3581)."""

from __future__ import annotations

from telephony.sip.message import make_response
from telephony.sip.transaction import AckReceived, CancelReceived, RequestReceived
from telephony.sip.transport import Peer, Transport
from tests.unit.sip.test_transaction_support import PHONE, new_layer, out, request

KEY = ("z9hG4bKa1", "INVITE")


# -- CANCEL (§9.2) ----------------------------------------------------------------------------


def test_cancel_of_a_pending_invite_gets_200_with_the_invite_tag_and_an_event() -> None:
    layer = new_layer()
    inv = request()
    layer.receive(inv, PHONE, now=0.0)
    layer.send_response(KEY, make_response(inv, 180, to_tag="uas1"), now=0.1)
    layer.datagrams_to_send()

    can = request("CANCEL")
    assert layer.receive(can, PHONE, now=1.0) == [CancelReceived(KEY, can, PHONE)]
    ok = (
        b"SIP/2.0 200 OK\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa1\r\n"
        b"From: <sip:201@192.0.2.10>;tag=f1\r\n"
        b"To: <sip:600@203.0.113.1>;tag=uas1\r\n"
        b"Call-ID: c1@192.0.2.10\r\n"
        b"CSeq: 1 CANCEL\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    assert layer.datagrams_to_send() == [out(ok, PHONE)]
    assert len(layer) == 2  # the INVITE's and the CANCEL's own transaction

    # The TU answers the INVITE with 487; a retransmitted CANCEL gets the 200 again, no event.
    terminated = make_response(inv, 487, to_tag="uas1")
    layer.send_response(KEY, terminated, now=1.1)
    assert layer.datagrams_to_send() == [out(terminated, PHONE)]
    assert layer.receive(request("CANCEL"), PHONE, now=1.5) == []
    assert layer.datagrams_to_send() == [out(ok, PHONE)]


def test_cancel_before_any_tagged_response_gets_a_fresh_tag() -> None:
    layer = new_layer()
    layer.receive(request(), PHONE, now=0.0)  # only 100 Trying (no tag) so far
    can = request("CANCEL")
    assert layer.receive(can, PHONE, now=0.2) == [CancelReceived(KEY, can, PHONE)]
    [_, ok] = layer.datagrams_to_send()
    assert ok.data.startswith(b"SIP/2.0 200 OK\r\n")
    assert b"To: <sip:600@203.0.113.1>;tag=t1\r\n" in ok.data


def test_cancel_after_the_final_gets_200_and_nothing_else() -> None:
    layer = new_layer()
    inv = request()
    layer.receive(inv, PHONE, now=0.0)
    layer.send_response(KEY, make_response(inv, 200, to_tag="uas1"), now=0.1)
    layer.datagrams_to_send()
    assert layer.receive(request("CANCEL"), PHONE, now=0.2) == []
    [ok] = layer.datagrams_to_send()
    assert ok.data.startswith(b"SIP/2.0 200 OK\r\n")
    assert b"CSeq: 1 CANCEL\r\n" in ok.data
    assert b";tag=uas1\r\n" in ok.data


def test_cancel_matching_nothing_gets_481() -> None:
    layer = new_layer()
    can = request("CANCEL", via="SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnone")
    assert layer.receive(can, PHONE, now=0.0) == []
    expected = (
        b"SIP/2.0 481 Call/Transaction Does Not Exist\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnone\r\n"
        b"From: <sip:201@192.0.2.10>;tag=f1\r\n"
        b"To: <sip:600@203.0.113.1>;tag=t1\r\n"
        b"Call-ID: c1@192.0.2.10\r\n"
        b"CSeq: 1 CANCEL\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    assert layer.datagrams_to_send() == [out(expected, PHONE)]


def test_cancel_from_another_sent_by_does_not_match() -> None:
    layer = new_layer()
    layer.receive(request(), PHONE, now=0.0)
    layer.datagrams_to_send()
    intruder = Peer(Transport.UDP, "192.0.2.66", 5060)
    can = request("CANCEL", via="SIP/2.0/UDP 192.0.2.66:5060;branch=z9hG4bKa1")
    assert layer.receive(can, intruder, now=0.1) == []
    [resp] = layer.datagrams_to_send()
    assert resp.peer == intruder
    assert resp.data.startswith(b"SIP/2.0 481 ")


# -- matching ---------------------------------------------------------------------------------


def test_same_branch_from_another_sent_by_is_answered_482_statelessly() -> None:
    layer = new_layer()
    layer.receive(request(), PHONE, now=0.0)
    layer.datagrams_to_send()
    other = Peer(Transport.UDP, "192.0.2.77", 5060)
    assert layer.receive(request(via="SIP/2.0/UDP 192.0.2.77:5060;branch=z9hG4bKa1"), other,
                         now=0.1) == []
    [resp] = layer.datagrams_to_send()
    assert resp.peer == other
    assert resp.data.startswith(b"SIP/2.0 482 Loop Detected\r\n")
    assert len(layer) == 1


def test_ack_matching_nothing_is_passed_up() -> None:
    layer = new_layer()
    ack = request("ACK", via="SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKlost",
                  to="<sip:600@203.0.113.1>;tag=x")
    assert layer.receive(ack, PHONE, now=0.0) == [AckReceived(ack, PHONE)]
    assert len(layer) == 0


def test_different_methods_with_one_branch_are_different_transactions() -> None:
    layer = new_layer()
    via = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsame"
    opt, info = request("OPTIONS", via=via), request("INFO", via=via, cseq=2)
    assert layer.receive(opt, PHONE, now=0.0) == [RequestReceived(("z9hG4bKsame", "OPTIONS"),
                                                                  opt, PHONE)]
    assert layer.receive(info, PHONE, now=0.0) == [RequestReceived(("z9hG4bKsame", "INFO"),
                                                                   info, PHONE)]
    assert len(layer) == 2


def test_rfc2543_requests_match_by_their_fields() -> None:
    layer = new_layer()
    via = "SIP/2.0/UDP 192.0.2.20:5060"
    old = Peer(Transport.UDP, "192.0.2.20", 5060)
    inv = request(via=via)
    [event] = layer.receive(inv, old, now=0.0)
    assert isinstance(event, RequestReceived)
    key = event.key
    assert key[1] == "INVITE" and key[0].startswith("rfc2543-")
    [trying] = layer.datagrams_to_send()

    # A retransmission is the same transaction: 100 resent, no event.
    assert layer.receive(request(via=via), old, now=0.5) == []
    assert layer.datagrams_to_send() == [trying]
    # Another CSeq is another transaction.
    [again] = layer.receive(request(via=via, cseq=2), old, now=0.6)
    assert isinstance(again, RequestReceived) and again.key != key
    layer.datagrams_to_send()

    # CANCEL matches the INVITE by the same fields (CSeq number, not method).
    can = request("CANCEL", via=via)
    assert layer.receive(can, old, now=1.0) == [CancelReceived(key, can, old)]
    layer.send_response(key, make_response(inv, 487, to_tag="uas1"), now=1.1)
    layer.datagrams_to_send()
    # The ACK for the 487 (same Via, To with our tag) completes the transaction: no event.
    ack = request("ACK", via=via, to="<sip:600@203.0.113.1>;tag=uas1")
    assert layer.receive(ack, old, now=1.2) == []
    assert layer.get_timer() == 6.2  # Timer I


def test_branch_without_cookie_uses_rfc2543_matching() -> None:
    layer = new_layer()
    [event] = layer.receive(request(via="SIP/2.0/UDP 192.0.2.10:5060;branch=1234"), PHONE,
                            now=0.0)
    assert isinstance(event, RequestReceived)
    assert event.key[0].startswith("rfc2543-")


# -- received / rport (§18.2.1, §18.2.2, RFC 3581) --------------------------------------------


def test_received_is_added_when_sent_by_is_a_name_and_response_goes_to_sent_by_port() -> None:
    layer = new_layer()
    src = Peer(Transport.UDP, "192.0.2.99", 6000)
    inv = request(via="SIP/2.0/UDP pc33.example.com;branch=z9hG4bKn1")
    [event] = layer.receive(inv, src, now=0.0)
    assert isinstance(event, RequestReceived)
    assert event.request.headers.get("Via") == (
        "SIP/2.0/UDP pc33.example.com;branch=z9hG4bKn1;received=192.0.2.99"
    )
    [trying] = layer.datagrams_to_send()
    # No rport: the source IP and the sent-by port (default 5060), not the source port.
    assert trying.peer == Peer(Transport.UDP, "192.0.2.99", 5060)
    assert b"Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKn1;received=192.0.2.99\r\n" in (
        trying.data
    )


def test_sent_by_port_is_used_without_rport() -> None:
    layer = new_layer()
    src = Peer(Transport.UDP, "192.0.2.10", 40000)
    layer.receive(request(via="SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKp"), src, now=0.0)
    [trying] = layer.datagrams_to_send()
    assert trying.peer == Peer(Transport.UDP, "192.0.2.10", 5070)
    assert b"Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKp\r\n" in trying.data


def test_rport_behind_nat_answers_the_source_port_with_rport_and_received() -> None:
    layer = new_layer()
    nat = Peer(Transport.UDP, "192.0.2.99", 62000)
    inv = request(via="SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKr;rport")
    layer.receive(inv, nat, now=0.0)
    expected = (
        b"SIP/2.0 100 Trying\r\n"
        b"Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKr;rport=62000;received=192.0.2.99\r\n"
        b"From: <sip:201@192.0.2.10>;tag=f1\r\n"
        b"To: <sip:600@203.0.113.1>\r\n"
        b"Call-ID: c1@192.0.2.10\r\n"
        b"CSeq: 1 INVITE\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    assert layer.datagrams_to_send() == [out(expected, nat)]
    # The stamped Via does not break matching: the retransmission is recognised.
    assert layer.receive(request(via="SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKr;rport"), nat,
                         now=0.5) == []
    assert layer.datagrams_to_send() == [out(expected, nat)]


def test_rport_adds_received_even_when_it_equals_sent_by() -> None:
    layer = new_layer()
    layer.receive(request(via="SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKr2;rport"), PHONE,
                  now=0.0)
    [trying] = layer.datagrams_to_send()
    assert trying.peer == PHONE
    assert (b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKr2;rport=5060;received=192.0.2.10"
            b"\r\n") in trying.data


def test_same_host_without_rport_leaves_the_via_untouched() -> None:
    layer = new_layer()
    inv = request(via="SIP/2.0/UDP  192.0.2.10:5060 ;branch=z9hG4bKu")
    layer.receive(inv, PHONE, now=0.0)
    assert inv.headers.get("Via") == "SIP/2.0/UDP  192.0.2.10:5060 ;branch=z9hG4bKu"


def test_ipv6_sent_by_equal_to_source_gets_no_received() -> None:
    layer = new_layer()
    src = Peer(Transport.UDP, "2001:db8::1", 5060)
    inv = request(via="SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK6")
    layer.receive(inv, src, now=0.0)
    assert inv.headers.get("Via") == "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK6"
    [trying] = layer.datagrams_to_send()
    assert trying.peer == src


def test_tcp_responses_use_the_connection_even_with_rport() -> None:
    layer = new_layer()
    conn = Peer(Transport.TCP, "192.0.2.99", 50123)
    layer.receive(request(via="SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKt;rport"), conn, now=0.0)
    [trying] = layer.datagrams_to_send()
    assert trying.peer == conn
    assert b";rport=50123;received=192.0.2.99\r\n" in trying.data
