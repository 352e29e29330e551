"""Client transactions as ladders: callfloor -> trunk, explicit clock values (RFC 3261 §17.1)."""

from __future__ import annotations

import pytest

from telephony.sip.errors import LocalProtocolError
from telephony.sip.transaction import (
    ResponseReceived,
    TransactionTimedOut,
    TransportFailed,
)
from tests.unit.sip.test_transaction_support import (
    TRUNK,
    TRUNK_TCP,
    answer,
    new_layer,
    our_request,
    out,
    run_until,
)

INVITE_BYTES = (
    b"INVITE sip:+15551234@198.51.100.7 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKc1;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:201@192.0.2.10>;tag=ours\r\n"
    b"To: <sip:+15551234@198.51.100.7>\r\n"
    b"Call-ID: out-1@203.0.113.1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Content-Length: 0\r\n\r\n"
)


# -- client INVITE (§17.1.1) ------------------------------------------------------------------


def test_invite_timer_a_doubles_past_t2_and_timer_b_fires_at_64_t1() -> None:
    layer = new_layer()
    key = layer.send_request(our_request(), TRUNK, now=0.0)
    assert key == ("z9hG4bKc1", "INVITE")
    assert layer.datagrams_to_send() == [out(INVITE_BYTES, TRUNK)]
    assert layer.get_timer() == 0.5

    log = run_until(layer, 40.0)

    # Timer A: 0.5, 1, 2, 4, 8, 16 s apart (no T2 cap); Timer B at 32 s ends it.
    assert [t for t, _, sent in log if sent] == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert all(sent == [out(INVITE_BYTES, TRUNK)] for _, _, sent in log if sent)
    assert log[-1] == (32.0, [TransactionTimedOut(key)], [])
    assert len(layer) == 0
    assert layer.get_timer() is None


def test_invite_provisional_stops_retransmission_and_is_passed_up() -> None:
    layer = new_layer()
    req = our_request()
    key = layer.send_request(req, TRUNK, now=0.0)
    layer.datagrams_to_send()
    trying, ringing = answer(req, 100), answer(req, 180)

    assert layer.receive(trying, TRUNK, now=0.2) == [ResponseReceived(key, trying)]
    assert layer.receive(ringing, TRUNK, now=0.3) == [ResponseReceived(key, ringing)]
    # Proceeding: no Timer A, no Timer B (§17.1.1.2); the TU's own ring timer decides.
    assert layer.get_timer() is None
    assert layer.datagrams_to_send() == []
    assert len(layer) == 1


def test_invite_non_2xx_is_acked_by_the_layer_with_exact_bytes() -> None:
    layer = new_layer()
    req = our_request(
        extra=(
            ("Route", "<sip:sbc1.example.net;lr>"),
            ("Route", "<sip:sbc2.example.net;lr>"),
            ("Contact", "<sip:callfloor@203.0.113.1:5060>"),
            ("Content-Type", "application/sdp"),
        ),
        body=b"v=0\r\n",
    )
    key = layer.send_request(req, TRUNK, now=0.0)
    layer.datagrams_to_send()
    busy = answer(req, 486)

    assert layer.receive(busy, TRUNK, now=1.0) == [ResponseReceived(key, busy)]
    ack = (
        b"ACK sip:+15551234@198.51.100.7 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKc1;rport\r\n"
        b"Max-Forwards: 70\r\n"
        b"From: <sip:201@192.0.2.10>;tag=ours\r\n"
        b"To: <sip:+15551234@198.51.100.7>;tag=rt1\r\n"
        b"Call-ID: out-1@203.0.113.1\r\n"
        b"CSeq: 1 ACK\r\n"
        b"Route: <sip:sbc1.example.net;lr>\r\n"
        b"Route: <sip:sbc2.example.net;lr>\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    assert layer.datagrams_to_send() == [out(ack, TRUNK)]

    # A retransmitted final is ACKed again but not passed up again (§17.1.1.2).
    assert layer.receive(busy, TRUNK, now=1.4) == []
    assert layer.datagrams_to_send() == [out(ack, TRUNK)]
    # Timer D: 32 s on UDP, then Terminated; late responses are strays.
    assert layer.get_timer() == 33.0
    assert layer.handle_timer(33.0) == []
    assert len(layer) == 0
    assert layer.receive(busy, TRUNK, now=34.0) == []
    assert layer.datagrams_to_send() == []


def test_invite_2xx_accepted_absorbs_retransmits_and_resends_the_tu_ack() -> None:
    layer = new_layer()
    req = our_request()
    key = layer.send_request(req, TRUNK, now=0.0)
    layer.datagrams_to_send()
    ok = answer(req, 200, tag="fork-a")

    assert layer.receive(ok, TRUNK, now=2.0) == [ResponseReceived(key, ok)]
    assert layer.get_timer() == 34.0  # Timer M = 64*T1 (RFC 6026 §8.4)

    ack = our_request("ACK", branch="z9hG4bKe2e")
    ack.headers.set("To", ok.headers.get("To") or "")  # the dialog's remote tag: fork-a
    ack_peer = TRUNK
    layer.send_ack(key, ack, ack_peer)
    assert layer.datagrams_to_send() == [out(ack, ack_peer)]

    # Retransmitted 2xx (same To tag): absorbed, the TU's ACK goes out again.
    assert layer.receive(ok, TRUNK, now=2.5) == []
    assert layer.datagrams_to_send() == [out(ack, ack_peer)]
    # A 2xx from another fork (new To tag) is passed up; its retransmission is absorbed.
    other = answer(req, 200, tag="fork-b")
    assert layer.receive(other, TRUNK, now=3.0) == [ResponseReceived(key, other)]
    assert layer.receive(other, TRUNK, now=3.5) == []
    assert layer.datagrams_to_send() == []
    # Provisionals and non-2xx finals are ignored in Accepted.
    assert layer.receive(answer(req, 180), TRUNK, now=4.0) == []
    assert layer.receive(answer(req, 486), TRUNK, now=4.0) == []
    assert layer.datagrams_to_send() == []

    assert layer.handle_timer(34.0) == []
    assert len(layer) == 0


def test_send_ack_for_unknown_transaction_is_still_sent() -> None:
    layer = new_layer()
    ack = our_request("ACK", branch="z9hG4bKlate")
    layer.send_ack(("z9hG4bKgone", "INVITE"), ack, TRUNK)
    assert layer.datagrams_to_send() == [out(ack, TRUNK)]


def test_invite_final_passed_up_once_even_after_provisional() -> None:
    layer = new_layer()
    req = our_request()
    key = layer.send_request(req, TRUNK, now=0.0)
    ringing, declined = answer(req, 180), answer(req, 603)
    events = [
        *layer.receive(ringing, TRUNK, now=0.1),
        *layer.receive(declined, TRUNK, now=0.2),
        *layer.receive(declined, TRUNK, now=0.3),
        *layer.receive(ringing, TRUNK, now=0.4),
    ]
    assert events == [ResponseReceived(key, ringing), ResponseReceived(key, declined)]


def test_invite_over_tcp_has_no_retransmissions_and_no_timer_d() -> None:
    layer = new_layer()
    req = our_request()
    key = layer.send_request(req, TRUNK_TCP, now=0.0)
    assert len(layer.datagrams_to_send()) == 1
    assert layer.get_timer() == 32.0  # Timer B only
    busy = answer(req, 486)
    assert layer.receive(busy, TRUNK_TCP, now=1.0) == [ResponseReceived(key, busy)]
    [ack] = layer.datagrams_to_send()
    assert ack.peer == TRUNK_TCP
    assert ack.data.startswith(b"ACK sip:+15551234@198.51.100.7 SIP/2.0\r\n")
    assert len(layer) == 0  # Timer D is zero on reliable transports
    assert layer.get_timer() is None


def test_cancel_guard_gives_up_the_invite_64_t1_after_the_cancel() -> None:
    layer = new_layer()
    req = our_request()
    key = layer.send_request(req, TRUNK, now=0.0)
    layer.receive(answer(req, 180), TRUNK, now=0.1)
    cancel = our_request("CANCEL")
    ckey = layer.send_request(cancel, TRUNK, now=5.0)
    assert ckey == ("z9hG4bKc1", "CANCEL")
    ok = answer(cancel, 200)
    assert layer.receive(ok, TRUNK, now=5.1) == [ResponseReceived(ckey, ok)]
    # The far end never sends 487: §9.1 lets the INVITE go 64*T1 after the CANCEL.
    log = run_until(layer, 60.0)
    assert (37.0, [TransactionTimedOut(key)], []) in log
    assert len(layer) == 0


def test_stray_response_is_dropped() -> None:
    layer = new_layer()
    req = our_request(branch="z9hG4bKnobody")
    assert layer.receive(answer(req, 200), TRUNK, now=0.0) == []
    assert layer.datagrams_to_send() == []


def test_response_matching_uses_cseq_method_too() -> None:
    layer = new_layer()
    req = our_request()
    key = layer.send_request(req, TRUNK, now=0.0)
    # A response to a CANCEL with the INVITE's branch is not the INVITE's (§17.1.3).
    assert layer.receive(answer(our_request("CANCEL"), 200), TRUNK, now=0.1) == []
    ok = answer(req, 200)
    assert layer.receive(ok, TRUNK, now=0.2) == [ResponseReceived(key, ok)]


def test_send_request_misuse_is_a_local_error() -> None:
    layer = new_layer()
    with pytest.raises(LocalProtocolError):
        layer.send_request(our_request("ACK"), TRUNK, now=0.0)
    with pytest.raises(LocalProtocolError):
        layer.send_request(our_request(branch="oldstyle1"), TRUNK, now=0.0)
    with pytest.raises(LocalProtocolError):
        layer.send_request(our_request(cseq_method="BYE"), TRUNK, now=0.0)
    layer.send_request(our_request(), TRUNK, now=0.0)
    with pytest.raises(LocalProtocolError):
        layer.send_request(our_request(), TRUNK, now=0.1)
    with pytest.raises(LocalProtocolError):
        layer.send_ack(("z9hG4bKc1", "INVITE"), our_request("BYE"), TRUNK)


# -- client non-INVITE (§17.1.2) --------------------------------------------------------------


def test_non_invite_timer_e_caps_at_t2_and_timer_f_times_out() -> None:
    layer = new_layer()
    key = layer.send_request(our_request("OPTIONS", branch="z9hG4bKo1"), TRUNK, now=0.0)
    [first] = layer.datagrams_to_send()
    log = run_until(layer, 40.0)
    assert [t for t, _, sent in log if sent] == [
        0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5,
    ]
    assert all(sent == [first] for _, _, sent in log if sent)
    assert log[-1] == (32.0, [TransactionTimedOut(key)], [])
    assert len(layer) == 0


def test_non_invite_provisional_sets_timer_e_to_t2() -> None:
    layer = new_layer()
    req = our_request("BYE", branch="z9hG4bKb1", cseq=2)
    key = layer.send_request(req, TRUNK, now=0.0)
    layer.datagrams_to_send()
    layer.handle_timer(0.5)  # E: next at 1.5
    trying = answer(req, 100)
    assert layer.receive(trying, TRUNK, now=1.0) == [ResponseReceived(key, trying)]
    log = run_until(layer, 14.0)
    # Proceeding: the pending E fires at 1.5, then every T2 = 4 s (§17.1.2.2).
    assert [t for t, _, sent in log if sent] == [1.5, 5.5, 9.5, 13.5]


def test_non_invite_final_passed_up_once_then_timer_k() -> None:
    layer = new_layer()
    req = our_request("BYE", branch="z9hG4bKb2", cseq=2)
    key = layer.send_request(req, TRUNK, now=0.0)
    layer.datagrams_to_send()
    ok = answer(req, 200)
    assert layer.receive(ok, TRUNK, now=0.3) == [ResponseReceived(key, ok)]
    assert layer.receive(ok, TRUNK, now=0.6) == []
    assert layer.receive(answer(req, 100), TRUNK, now=0.7) == []
    assert layer.get_timer() == 5.3  # Timer K = T4
    assert layer.handle_timer(5.3) == []
    assert len(layer) == 0
    assert layer.datagrams_to_send() == []


def test_non_invite_over_tcp_terminates_on_the_final() -> None:
    layer = new_layer()
    req = our_request("REGISTER", branch="z9hG4bKr1")
    key = layer.send_request(req, TRUNK_TCP, now=0.0)
    assert layer.get_timer() == 32.0  # F only, no E
    ok = answer(req, 200)
    assert layer.receive(ok, TRUNK_TCP, now=0.1) == [ResponseReceived(key, ok)]
    assert len(layer) == 0


def test_transport_error_fails_the_client_transactions_to_that_peer() -> None:
    layer = new_layer()
    k1 = layer.send_request(our_request(), TRUNK_TCP, now=0.0)
    k2 = layer.send_request(our_request("OPTIONS", branch="z9hG4bKo9"), TRUNK_TCP, now=0.0)
    k3 = layer.send_request(our_request("OPTIONS", branch="z9hG4bKo8"), TRUNK, now=0.0)
    events = layer.transport_error(TRUNK_TCP, now=0.1)
    assert sorted(events, key=repr) == sorted([TransportFailed(k1), TransportFailed(k2)], key=repr)
    assert len(layer) == 1
    assert layer.transport_error(TRUNK, now=0.2) == [TransportFailed(k3)]
    assert len(layer) == 0
