"""Outbound and internal calls: a seat dials, callfloor authenticates it and calls the carrier."""

from __future__ import annotations

import hashlib
import re

from telephony.calls.commands import SetMediaPeer, Side, WriteCallEnded, WriteCallStarted
from tests.unit.calls.ladder import (
    CARRIER_HOST,
    Floor,
    connect_outbound,
    make_policy,
    sdp,
)


def test_seat_invite_without_credentials_is_challenged_with_407() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = phone.call("915551234567", sdp("10.0.0.11", 40000), from_user="1001")
    phone.expect("100")
    challenge = call.expect("407")
    values = challenge.headers.get_all("Proxy-Authenticate")
    assert [v.split("algorithm=")[1].split(",")[0] for v in values] == ["SHA-256", "MD5"]
    assert challenge.headers.get("WWW-Authenticate") is None
    call.ack(challenge)
    floor.carrier.expect_nothing()


def test_seat_dials_out_through_the_trunk() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = phone.dial("915551234567")                        # >> INVITE + 407 + INVITE w/ creds
    invite = floor.carrier.expect("INVITE")                  # << INVITE to carrier
    assert invite.uri == "sip:15551234567@203.0.113.5:5060"  # the prefix 9 is stripped
    assert invite.headers.get("To") == "<sip:15551234567@203.0.113.5>"
    assert invite.from_.uri == "sip:+15550100@192.0.2.1"     # the trunk's caller id
    assert invite.headers.get("Proxy-Authorization") is None  # the seat's credentials stay here
    assert invite.headers.get("Max-Forwards") == "69"
    _, started, _ = floor.expect_commands("OpenMedia", "WriteCallStarted", "Publish call.offered")
    assert isinstance(started, WriteCallStarted)
    assert (started.direction, started.caller, started.callee, started.did, started.seat_id) == (
        "outbound", "1001", "15551234567", "", "1001")
    carrier = floor.carrier.incoming(invite)
    carrier.reply(180)                                       # >> 180 from carrier
    call.expect("180")                                       # << 180 to seat
    carrier.reply(200, sdp(CARRIER_HOST, 30000, "PCMA"))     # >> 200 from carrier
    floor.carrier.expect("ACK")                              # << ACK to carrier
    ok = call.expect("200")                                  # << 200 to seat
    call.ack(ok)
    floor.expect_commands("SetMediaPeer customer PCMA", "SetMediaPeer seat PCMA", "StartRecording",
                          "WriteCallAnswered", "Publish call.answered")
    call.bye()                                               # >> BYE from seat
    phone.expect("200")
    floor.carrier.reply(floor.carrier.expect("BYE"), 200)
    _, ended, _ = floor.expect_commands("CloseMedia", "WriteCallEnded hangup", "Publish call.ended")
    assert isinstance(ended, WriteCallEnded) and ended.hangup_by == "seat"
    floor.quiet()


def test_number_outside_the_allow_list_is_403() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = phone.dial("9900123456")
    refused = call.expect("403")
    assert refused.reason == "Number not allowed"
    call.ack(refused)
    floor.carrier.expect_nothing()


def test_unknown_extension_is_404() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = phone.dial("777")
    assert call.expect("404").reason == "Unknown extension"


def test_dialling_your_own_seat_is_403() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = phone.dial("1001")
    assert call.expect("403").reason == "Cannot call your own seat"


def test_carrier_challenge_is_answered_with_the_trunk_credentials() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = phone.dial("915551234567")
    first = floor.carrier.expect("INVITE")
    nonce = "carrier-nonce-1"
    floor.carrier.reply(first, 407, to_tag="c407", headers=[
        ("Proxy-Authenticate", f'Digest realm="carrier.example", nonce="{nonce}", algorithm=MD5')])
    ack = floor.carrier.expect("ACK")                       # the 407's ACK, same branch (§17.1.1.3)
    assert ack.headers.get("Via") == first.headers.get("Via")
    second = floor.carrier.expect("INVITE")                  # << INVITE with Proxy-Authorization
    assert second.cseq.number == first.cseq.number + 1
    assert second.call_id == first.call_id and second.from_.tag == first.from_.tag
    assert second.top_via.branch != first.top_via.branch
    auth = second.headers.get("Proxy-Authorization") or ""
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', auth))
    ha1 = hashlib.md5(b"floor:carrier.example:trunkpass").hexdigest()
    ha2 = hashlib.md5(f"INVITE:{second.uri}".encode()).hexdigest()
    assert fields["username"] == "floor" and fields["uri"] == second.uri
    assert fields["response"] == hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
    carrier = floor.carrier.incoming(second)
    carrier.reply(200, sdp(CARRIER_HOST, 30000, "PCMA"))
    ack = floor.carrier.expect("ACK")
    assert ack.headers.get("Proxy-Authorization") == auth   # §22.1: the ACK carries them too
    call.ack(call.expect("200"))


def test_carrier_early_media_reaches_the_seat_as_183_with_our_answer() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = phone.dial("915551234567", sdp("10.0.0.11", 40000, "PCMU PCMA"))
    carrier = floor.carrier.incoming(floor.carrier.expect("INVITE"))
    floor.take_commands()
    carrier.reply(183, sdp(CARRIER_HOST, 30000, "PCMA"))    # >> 183 with SDP (ringback)
    early = call.expect("183")                               # << 183 with our answer
    assert b"m=audio 20000 RTP/AVP 8 101" in early.body      # the law the carrier chose
    customer, seat = floor.take_commands()
    assert isinstance(customer, SetMediaPeer) and customer.side is Side.CUSTOMER
    assert isinstance(seat, SetMediaPeer) and (seat.side, seat.codec) == (Side.SEAT, "PCMA")
    carrier.reply(200, sdp(CARRIER_HOST, 30000, "PCMA"))
    floor.carrier.expect("ACK")
    ok = call.expect("200")
    assert ok.body == early.body                             # one offer, one answer (RFC 3264)
    call.ack(ok)


def test_carrier_busy_is_486_to_the_seat() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = phone.dial("915551234567")
    carrier = floor.carrier.incoming(floor.carrier.expect("INVITE"))
    carrier.reply(486)
    floor.carrier.expect("ACK")
    call.ack(call.expect("486"))
    _, _, _, _, ended, _ = floor.take_commands()
    assert isinstance(ended, WriteCallEnded) and (ended.reason, ended.sip_status) == ("busy", 486)
    assert floor.engine.calls == {} and floor.engine.busy_seats == {}
    floor.quiet()


def test_carrier_silence_is_408_to_the_seat() -> None:
    floor = Floor(make_policy(ring_timeout=60.0))
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = phone.dial("915551234567")
    floor.carrier.expect("INVITE")
    floor.advance(31.9)
    phone.expect_nothing()
    floor.advance(0.1)                                       # Timer B = 64 * T1
    call.ack(call.expect("408"))
    assert floor.engine.calls == {}
    ended = floor.take_commands()[-2]
    assert isinstance(ended, WriteCallEnded) and (ended.reason, ended.sip_status) == ("no_answer", 408)
    assert floor.carrier.retransmissions == 6                # Timer A: 0.5, 1, 2, 4, 8, 16 s


def test_outbound_ring_timeout_is_408_and_cancels_the_carrier() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = phone.dial("915551234567")
    carrier = floor.carrier.incoming(floor.carrier.expect("INVITE"))
    carrier.reply(180)
    call.expect("180")
    floor.advance(30)
    call.ack(call.expect("408"))
    floor.carrier.reply(floor.carrier.expect("CANCEL"), 200)
    carrier.reply(487)
    floor.carrier.expect("ACK")
    assert floor.engine.calls == {}


def test_seat_calls_another_seat() -> None:
    floor = Floor()
    caller = floor.phone("1001").register()
    callee = floor.phone("1002").register()
    floor.take_commands()
    call = caller.dial("1002")
    seat = callee.ringing()
    assert seat.invite.uri == "sip:1002@10.0.0.12:5060"
    assert seat.invite.from_.uri == "sip:1001@192.0.2.1"
    call.expect("180")
    callee.answer(seat)
    call.ack(call.expect("200"))
    commands = floor.take_commands()
    assert isinstance(commands[1], WriteCallStarted)
    assert (commands[1].direction, commands[1].caller, commands[1].callee) == ("internal", "1001", "1002")
    assert floor.engine.busy_seats == {"1001": {commands[1].uuid}, "1002": {commands[1].uuid}}
    floor.carrier.call("+15550100", sdp(CARRIER_HOST, 30000, "PCMA"))  # the caller is busy too
    floor.carrier.expect("100")
    floor.carrier.expect("486")


def test_empty_prefix_dials_outside_numbers_directly() -> None:
    floor = Floor(make_policy(trunk_fields={"outbound_prefix": ""}))
    phone = floor.phone("1001").register()
    phone.dial("15551234567")
    assert floor.carrier.expect("INVITE").uri == "sip:15551234567@203.0.113.5:5060"
    phone.dial("1002")                                       # seats still win over the trunk
    assert phone.expect("480").reason == "Seat not registered"


def test_connected_outbound_call_survives_until_bye_from_carrier() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call, carrier = connect_outbound(floor, phone)
    carrier.bye()
    floor.carrier.expect("200")
    bye = phone.expect("BYE")
    phone.reply(bye, 200)
    _, ended, _ = floor.expect_commands("CloseMedia", "WriteCallEnded hangup", "Publish call.ended")
    assert isinstance(ended, WriteCallEnded) and ended.hangup_by == "customer"


def test_carrier_forks_the_first_200_wins_and_a_second_is_acked_and_hung_up() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = phone.dial("915551234567")
    invite = floor.carrier.expect("INVITE")
    ringing = floor.carrier.incoming(invite, tag="forkA")
    answering = floor.carrier.incoming(invite, tag="forkB")
    ringing.reply(180)                                       # >> 180 from fork A (early dialog)
    call.expect("180")
    answering.reply(200, sdp(CARRIER_HOST, 30002, "PCMA"))   # >> 200 from fork B
    ack = floor.carrier.expect("ACK")
    assert ack.to.tag == "forkB"
    call.ack(call.expect("200"))
    floor.take_commands()
    ringing.reply(200, sdp(CARRIER_HOST, 30004, "PCMA"))     # >> a late 200 from fork A
    stray_ack = floor.carrier.expect("ACK")                  # §13.2.2.4: ACK it ...
    assert stray_ack.to.tag == "forkA"
    bye = floor.carrier.expect("BYE")                        # ... and end that dialog
    assert bye.to.tag == "forkA"
    floor.carrier.reply(bye, 200)
    floor.expect_no_commands()
    assert len(floor.engine.calls) == 1


def test_seat_cancels_before_the_carrier_answers() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = phone.dial("915551234567")
    carrier = floor.carrier.incoming(floor.carrier.expect("INVITE"))
    carrier.reply(183)                                       # progress without SDP
    call.expect("180")                                       # the seat hears ringing
    call.cancel()                                            # >> CANCEL from seat
    phone.expect("200 CANCEL")
    call.ack(call.expect("487"))
    floor.carrier.reply(floor.carrier.expect("CANCEL"), 200)
    carrier.reply(487)
    floor.carrier.expect("ACK")
    ended = [c for c in floor.take_commands() if isinstance(c, WriteCallEnded)]
    assert [(e.reason, e.hangup_by) for e in ended] == [("cancelled", "seat")]
    assert floor.engine.calls == {}
    floor.quiet()
