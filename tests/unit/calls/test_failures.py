"""When things go wrong: dead media, lost ACKs, unreachable phones, odd requests, shutdown."""

from __future__ import annotations

import pytest

from telephony.calls.commands import MediaFailed, MediaTimedOut, Side, WriteCallEnded
from telephony.sip.parser import MessageParseError, parse_message
from tests.unit.calls.ladder import (
    CARRIER_OFFER,
    FLOOR_HOST,
    Floor,
    connect_inbound,
    digest_authorization,
    make_policy,
)


def ended(floor: Floor) -> WriteCallEnded:
    [row] = [c for c in floor.take_commands() if isinstance(c, WriteCallEnded)]
    return row


def test_media_timeout_hangs_up_both_legs() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    connect_inbound(floor, phone)
    [uuid] = floor.engine.calls
    floor.engine.media_event(MediaTimedOut(uuid, Side.CUSTOMER), floor.now)
    floor.carrier.reply(floor.carrier.expect("BYE"), 200)
    phone.reply(phone.expect("BYE"), 200)
    row = ended(floor)
    assert (row.reason, row.hangup_by, row.sip_status) == ("media_timeout", "customer", 200)
    assert floor.engine.calls == {}
    floor.quiet()


def test_media_failure_ends_the_call() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    connect_inbound(floor, phone)
    [uuid] = floor.engine.calls
    floor.engine.media_event(MediaFailed(uuid, "port 20000 in use"), floor.now)
    floor.carrier.reply(floor.carrier.expect("BYE"), 200)
    phone.reply(phone.expect("BYE"), 200)
    assert ended(floor).reason == "media_failed"
    floor.engine.media_event(MediaTimedOut(uuid, Side.SEAT), floor.now)  # late: ignored
    floor.quiet()


def test_missing_ack_for_our_200_hangs_up_both_legs() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    phone.answer(seat)
    call.expect("200")                                       # ... and the carrier never ACKs
    floor.advance(31.9)
    assert floor.carrier.retransmissions == 10               # 2xx resent: 0.5, 1, 2, 4, 4, 4 ...
    floor.carrier.expect_nothing()
    floor.advance(0.1)                                       # Timer L = 64 * T1 (RFC 6026)
    floor.carrier.reply(floor.carrier.expect("BYE"), 200)
    phone.reply(phone.expect("BYE"), 200)
    assert ended(floor).reason == "ack_timeout"
    assert floor.engine.calls == {}


def test_unreachable_seat_phone_is_480_to_the_caller() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    phone.expect("INVITE")
    floor.engine.transport_error(phone.peer, floor.now)      # ICMP port unreachable
    call.ack(call.expect("480"))
    assert ended(floor).reason == "no_answer"
    assert floor.engine.calls == {}


def test_silent_seat_phone_times_out_with_480() -> None:
    floor = Floor(make_policy(ring_timeout=60.0))
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    phone.expect("INVITE")
    floor.advance(32)                                        # Timer B
    call.ack(call.expect("480"))
    assert floor.engine.calls == {}


def test_options_is_answered_with_our_capabilities() -> None:
    floor = Floor()
    floor.carrier.request("OPTIONS", "sip:192.0.2.1", from_="<sip:probe@203.0.113.5>;tag=p1",
                          to="<sip:192.0.2.1>", call_id="ping@203.0.113.5", cseq=1)
    ok = floor.carrier.expect("200")
    assert ok.headers.get_all("Allow") == ["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO",
                                           "UPDATE", "REGISTER"]
    assert ok.headers.get("Supported") == "timer"
    assert ok.headers.get("Contact") == "<sip:192.0.2.1:5060>"
    assert ok.to.tag
    floor.quiet()


def test_unknown_method_is_501_and_message_is_405() -> None:
    floor = Floor()
    stranger = floor.endpoint("stranger", "198.51.100.7")
    sender, seat = "<sip:x@198.51.100.7>;tag=s1", "<sip:1001@192.0.2.1>"
    stranger.request("FROBNICATE", "sip:1001@192.0.2.1", from_=sender, to=seat, call_id="a@x", cseq=1)
    assert stranger.expect("501").headers.get("Allow") == "INVITE"  # first of the list
    stranger.request("MESSAGE", "sip:1001@192.0.2.1", from_=sender, to=seat, call_id="b@x", cseq=1)
    refused = stranger.expect("405")
    assert "REGISTER" in refused.headers.get_all("Allow")
    floor.quiet()


def test_request_for_an_unknown_dialog_is_481() -> None:
    floor = Floor()
    stranger = floor.endpoint("stranger", "198.51.100.7")
    stranger.request("BYE", "sip:callfloor@192.0.2.1", from_="<sip:x@198.51.100.7>;tag=s1",
                     to="<sip:1001@192.0.2.1>;tag=gone", call_id="c@x", cseq=2)
    stranger.expect("481")
    stranger.request("BYE", "sip:callfloor@192.0.2.1", from_="<sip:x@198.51.100.7>;tag=s1",
                     to="<sip:1001@192.0.2.1>", call_id="d@x", cseq=2)   # no To tag at all
    stranger.expect("481")
    floor.quiet()


def test_drain_hangs_up_live_calls_and_refuses_new_ones() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.phone("1002").register()
    connect_inbound(floor, phone)
    floor.engine.drain(floor.now)
    floor.carrier.reply(floor.carrier.expect("BYE"), 200)
    phone.reply(phone.expect("BYE"), 200)
    row = ended(floor)
    assert (row.reason, row.hangup_by) == ("shutdown", "callfloor")
    assert floor.engine.calls == {}
    late = floor.carrier.call("+15550102", CARRIER_OFFER)
    floor.carrier.expect("100")
    refused = late.expect("503")
    assert refused.headers.get("Retry-After") == "30"
    floor.quiet()


def test_drain_while_ringing_tells_the_caller_503_and_cancels_the_seat() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    floor.engine.drain(floor.now)
    call.ack(call.expect("503"))
    phone.reply(phone.expect("CANCEL"), 200)
    seat.reply(487)
    phone.expect("ACK")
    assert ended(floor).reason == "shutdown"
    assert floor.engine.calls == {}


def test_unparseable_request_is_answered_400() -> None:
    floor = Floor()
    data = (b"INVITE sip:+15550100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bKx\r\n"
            b"Max-Forwards: 300\r\nFrom: <sip:a@203.0.113.5>;tag=1\r\nTo: <sip:+15550100@192.0.2.1>\r\n"
            b"Call-ID: bad@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(MessageParseError) as caught:
        parse_message(data)
    floor.engine.receive_invalid(caught.value, floor.carrier.peer, floor.now)
    refused = floor.carrier.expect("400")
    assert refused.headers.get("Warning") == "399 callfloor \"bad Max-Forwards '300'\""
    floor.quiet()


def test_transport_failure_towards_the_caller_ends_the_ringing_call() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    floor.engine.transport_error(floor.carrier.peer, floor.now)  # §17.2.4: the INVITE is gone
    phone.reply(phone.expect("CANCEL"), 200)
    seat.reply(487)
    phone.expect("ACK")
    assert ended(floor).reason == "transport_failed"
    floor.advance(60)                                        # the ring timer has nothing to answer
    assert floor.engine.calls == {}
    floor.quiet()


def test_tarpit_answer_for_a_vanished_transaction_is_dropped() -> None:
    floor = Floor(make_policy(guard_slow_after=1))
    phone = floor.phone("1001", password="guess")
    phone.send_register()
    challenge = phone.challenge(phone.expect("401"), "WWW-Authenticate")
    phone.send_register(authorization=digest_authorization(
        challenge, "1001", "guess", "REGISTER", f"sip:{FLOOR_HOST}"))
    floor.engine.transport_error(phone.peer, floor.now)      # before the delayed 403 is due
    floor.advance(5)
    floor.quiet()


def test_no_free_media_ports_is_503() -> None:
    floor = Floor(make_policy(rtp_ports=(20000, 20004)))     # two ports: one call
    connect_inbound(floor, floor.phone("1001").register())
    floor.phone("1002").register()
    second = floor.carrier.call("+15550102", CARRIER_OFFER)
    floor.carrier.expect("100")
    assert second.expect("503").reason == "No media ports left"


def test_unreadable_sdp_offer_is_400() -> None:
    floor = Floor()
    floor.phone("1001").register()
    floor.take_commands()
    call = floor.carrier.call("+15550100", b"v=0\r\nthis is not sdp\r\n")
    floor.carrier.expect("100")
    refused = call.expect("400")
    assert refused.reason.startswith("SDP line 2")
    floor.expect_no_commands()
    assert len(floor.engine.ports) == floor.engine.ports.size


def test_seat_answer_without_sdp_is_hung_up_and_the_caller_hears_480() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    seat.reply(200)                                          # the offer was in the INVITE
    phone.expect("ACK")
    bye = phone.expect("BYE")
    assert bye.headers.get("Reason") == 'SIP;cause=200;text="no usable SDP answer"'
    call.ack(call.expect("480"))
    phone.reply(bye, 200)
    assert ended(floor).reason == "failed"
    assert floor.engine.calls == {}


def test_ack_without_the_answer_our_offer_asked_for_ends_the_call() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100")                   # offerless INVITE
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    phone.answer(seat)
    call.ack(call.expect("200"))                             # ... and no SDP in the ACK (§13.2.1)
    floor.carrier.reply(floor.carrier.expect("BYE"), 200)
    phone.reply(phone.expect("BYE"), 200)
    assert ended(floor).reason == "no_answer_in_ack"


def test_in_dialog_options_and_unknown_methods() -> None:
    floor = Floor()
    call, _ = connect_inbound(floor, floor.phone("1001").register())
    call.send("OPTIONS")
    assert "UPDATE" in floor.carrier.expect("200").headers.get_all("Allow")
    call.send("MESSAGE")
    floor.carrier.expect("405")
    call.send("INFO", headers=[("Content-Type", "application/dtmf-relay")])
    floor.carrier.expect("200")                              # an empty INFO is a keep-alive
    floor.quiet()
