"""Inbound calls: the carrier calls a DID, callfloor forks to the seat's phones and bridges."""

from __future__ import annotations

from telephony.calls.commands import (
    OpenMedia,
    Publish,
    SetMediaPeer,
    Side,
    WriteCallEnded,
    WriteCallStarted,
)
from telephony.sip.sdp import SessionDescription
from tests.unit.calls.ladder import (
    CARRIER_HOST,
    CARRIER_OFFER,
    FLOOR_HOST,
    Floor,
    connect_inbound,
    digest_authorization,
    sdp,
)


def audio_line(body: bytes) -> str:
    return next(line for line in body.decode().split("\r\n") if line.startswith("m=audio"))


def test_carrier_call_is_bridged_to_the_seat_and_hung_up_by_the_customer() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)    # >> INVITE from carrier (PCMA)
    floor.carrier.expect("100")                              # << 100 to carrier
    opened, started, offered = floor.expect_commands("OpenMedia", "WriteCallStarted",
                                                     "Publish call.offered")
    assert isinstance(opened, OpenMedia) and opened.ports == {Side.CUSTOMER: 20000, Side.SEAT: 20002}
    assert isinstance(started, WriteCallStarted)
    assert (started.sip_call_id, started.direction, started.caller, started.callee, started.did,
            started.seat_id, started.started_at) == (
        "carrier-1@203.0.113.5", "inbound", "+15551230001", "+15550100", "+15550100", "1001",
        floor.now)
    invite = phone.expect("INVITE")                          # << INVITE to seat 1001
    assert invite.uri == "sip:1001@10.0.0.11:5060"
    assert invite.headers.get("Max-Forwards") == "69"
    assert invite.headers.get("To") == "<sip:1001@192.0.2.1>"
    assert invite.from_.display == "+15551230001"
    assert audio_line(invite.body) == "m=audio 20002 RTP/AVP 0 8 101"  # seats get PCMU first
    seat = phone.incoming(invite)
    seat.reply(180)                                          # >> 180 from seat
    ringing = call.expect("180")                             # << 180 to carrier
    assert ringing.to.tag and not ringing.body
    phone.answer(seat, sdp("10.0.0.11", 40000, "PCMU"))      # >> 200 (PCMU), << ACK
    ok = call.expect("200")                                  # << 200 to carrier
    assert audio_line(ok.body) == "m=audio 20000 RTP/AVP 8 101"  # the carrier's PCMA
    assert ok.headers.get("Contact") == "<sip:callfloor@192.0.2.1:5060>"
    assert ok.to.tag == ringing.to.tag
    seat_media, customer_media, _, answered, _ = floor.expect_commands(
        "SetMediaPeer seat PCMU", "SetMediaPeer customer PCMA", "StartRecording",
        "WriteCallAnswered", "Publish call.answered")
    assert seat_media == SetMediaPeer(started.uuid, Side.SEAT, "10.0.0.11", 40000, "PCMU", 0, 101)
    assert customer_media == SetMediaPeer(started.uuid, Side.CUSTOMER, CARRIER_HOST, 30000, "PCMA",
                                          8, 101)
    call.ack(ok)                                             # >> ACK from carrier
    floor.quiet()
    floor.advance(42)
    call.bye()                                               # >> BYE from carrier
    call.expect("200")                                       # << 200 to carrier
    bye = phone.expect("BYE")                                # << BYE to seat
    phone.reply(bye, 200)                                    # >> 200 from seat
    _, ended, published = floor.expect_commands("CloseMedia", "WriteCallEnded hangup",
                                                "Publish call.ended")
    assert ended == WriteCallEnded(started.uuid, floor.now, "hangup", sip_status=200,
                                   hangup_by="customer")
    assert isinstance(published, Publish) and published.payload["talk_seconds"] == 42.0
    assert floor.engine.calls == {} and floor.engine.busy_seats == {}
    assert len(floor.engine.ports) == floor.engine.ports.size
    floor.quiet()


def test_seat_hangs_up() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call, seat = connect_inbound(floor, phone)
    seat.bye()                                               # >> BYE from seat
    phone.expect("200")
    bye = floor.carrier.expect("BYE")                        # << BYE to carrier
    assert bye.uri == "sip:carrier@203.0.113.5:5060"         # its Contact (§12.2.1.1)
    assert bye.to.tag == call.local_tag
    floor.carrier.reply(bye, 200)
    _, ended, _ = floor.expect_commands("CloseMedia", "WriteCallEnded hangup", "Publish call.ended")
    assert isinstance(ended, WriteCallEnded) and ended.hangup_by == "seat"
    assert floor.engine.calls == {}
    floor.quiet()


def test_fork_to_every_contact_first_answer_wins() -> None:
    floor = Floor()
    desk = floor.phone("1001").register()
    mobile = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    a = desk.ringing()                                       # << INVITE to both, >> 180 from both
    b = mobile.ringing()
    call.expect("180")                                       # relayed once
    floor.carrier.expect_nothing()
    mobile.answer(b)                                         # >> 200 from mobile, << ACK
    cancel = desk.expect("CANCEL")                           # << CANCEL to the desk phone
    assert cancel.headers.get("Via") == a.invite.headers.get("Via")  # same branch (§9.1)
    desk.reply(cancel, 200)
    a.reply(487)
    desk.expect("ACK")                                       # the 487's ACK (§17.1.1.3)
    call.ack(call.expect("200"))
    floor.take_commands()
    desk.expect_nothing()
    call.bye()
    call.expect("200")
    mobile.reply(mobile.expect("BYE"), 200)
    floor.expect_commands("CloseMedia", "WriteCallEnded hangup", "Publish call.ended")
    assert floor.engine.calls == {}
    floor.quiet()


def test_fork_that_never_rang_is_cancelled_when_it_answers_provisionally() -> None:
    floor = Floor()
    desk = floor.phone("1001").register()
    mobile = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    a = desk.incoming(desk.expect("INVITE"))                # the desk phone stays silent
    b = mobile.ringing()
    call.expect("180")
    mobile.answer(b)
    desk.expect_nothing()                                    # no CANCEL before a provisional
    a.reply(100)
    desk.reply(desk.expect("CANCEL"), 200)
    a.reply(487)
    desk.expect("ACK")
    call.ack(call.expect("200"))
    floor.take_commands()
    floor.quiet()


def test_did_not_ours_is_404() -> None:
    floor = Floor()
    floor.phone("1001").register()
    call = floor.carrier.call("+15559999", CARRIER_OFFER)
    floor.carrier.expect("100")
    refused = call.expect("404")
    assert refused.reason == "Number not on this floor"
    call.ack(refused)
    floor.take_commands()
    floor.quiet()


def test_did_without_route_is_404() -> None:
    floor = Floor()
    call = floor.carrier.call("+15550199", CARRIER_OFFER)
    floor.carrier.expect("100")
    assert call.expect("404").reason == "No route for this number"


def test_seat_not_registered_is_480() -> None:
    floor = Floor()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    assert call.expect("480").reason == "Seat not registered"
    floor.expect_no_commands()


def test_seat_on_a_call_is_486() -> None:
    floor = Floor()
    connect_inbound(floor, floor.phone("1001").register())
    second = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    assert second.expect("486").reason == "Seat busy"
    floor.expect_no_commands()


def test_seat_busy_here_is_486_to_the_caller() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.incoming(phone.expect("INVITE"))
    seat.reply(486)
    phone.expect("ACK")
    refused = call.expect("486")
    call.ack(refused)
    floor.expect_commands("OpenMedia", "WriteCallStarted", "Publish call.offered", "CloseMedia",
                          "WriteCallEnded busy", "Publish call.ended")
    floor.quiet()
    assert floor.engine.calls == {} and floor.engine.busy_seats == {}


def test_seat_decline_is_486_to_the_caller() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    floor.take_commands()
    seat = phone.ringing()
    call.expect("180")
    seat.reply(603)
    phone.expect("ACK")
    call.ack(call.expect("486"))
    _, ended, _ = floor.expect_commands("CloseMedia", "WriteCallEnded declined", "Publish call.ended")
    assert isinstance(ended, WriteCallEnded) and ended.sip_status == 486 and ended.hangup_by is None
    floor.quiet()


def test_ring_timeout_cancels_the_seat_and_tells_the_caller_480() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    floor.take_commands()
    seat = phone.ringing()
    call.expect("180")
    floor.advance(29.9)
    floor.quiet()
    floor.advance(0.1)                                       # ring_timeout = 30 s
    refused = call.expect("480")
    call.ack(refused)
    phone.reply(phone.expect("CANCEL"), 200)
    seat.reply(487)
    phone.expect("ACK")
    _, ended, _ = floor.expect_commands("CloseMedia", "WriteCallEnded no_answer", "Publish call.ended")
    assert isinstance(ended, WriteCallEnded) and ended.sip_status == 480
    assert floor.engine.calls == {}
    floor.quiet()


def test_carrier_offers_pcma_only_seat_answers_pcmu_relay_converts() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = floor.carrier.call("+15550100", sdp(CARRIER_HOST, 30000, "PCMA", event=None))
    floor.carrier.expect("100")
    seat = phone.ringing()
    assert audio_line(seat.invite.body) == "m=audio 20002 RTP/AVP 0 8 101"
    call.expect("180")
    floor.take_commands()
    phone.answer(seat, sdp("10.0.0.11", 40000, "PCMU"))
    ok = call.expect("200")
    answer = SessionDescription.parse(ok.body)
    assert [c.name for c in answer.media[0].codecs] == ["PCMA"]
    seat_media, customer_media = floor.take_commands()[:2]
    assert isinstance(seat_media, SetMediaPeer) and isinstance(customer_media, SetMediaPeer)
    assert (seat_media.codec, seat_media.audio_pt) == ("PCMU", 0)
    assert (customer_media.codec, customer_media.audio_pt, customer_media.event_pt) == ("PCMA", 8, None)


def test_offer_without_g711_is_488() -> None:
    floor = Floor()
    floor.phone("1001").register()
    floor.take_commands()
    call = floor.carrier.call("+15550100", sdp(CARRIER_HOST, 30000, "G729"))
    floor.carrier.expect("100")
    refused = call.expect("488")
    call.ack(refused)
    floor.quiet()
    assert floor.engine.calls == {} and len(floor.engine.ports) == floor.engine.ports.size


def test_max_forwards_is_decremented_and_zero_is_483() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.carrier.call("+15550100", CARRIER_OFFER, max_forwards=7)
    floor.carrier.expect("100")
    assert phone.expect("INVITE").headers.get("Max-Forwards") == "6"
    other = floor.carrier.call("+15550102", CARRIER_OFFER, max_forwards=0)
    floor.carrier.expect("100")
    assert other.expect("483").reason == "Too Many Hops"


def test_merged_request_is_482() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    phone.expect("INVITE")
    # The same INVITE (Call-ID, From tag, CSeq) by another path: a new branch (§8.2.2.2).
    floor.carrier.request("INVITE", call.invite.uri, from_=call.from_value, to=call.to_value,
                          call_id=call.call_id, cseq=1, body=CARRIER_OFFER)
    floor.carrier.expect("100")
    assert floor.carrier.expect("482").reason == "Loop Detected (merged request)"
    phone.expect_nothing()


def test_offerless_invite_gets_our_offer_in_the_200_and_the_answer_in_the_ack() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = floor.carrier.call("+15550100")                   # >> INVITE without SDP
    floor.carrier.expect("100")
    seat = phone.ringing()
    assert audio_line(seat.invite.body) == "m=audio 20002 RTP/AVP 0 8 101"
    call.expect("180")
    phone.answer(seat, sdp("10.0.0.11", 40000, "PCMU"))
    ok = call.expect("200")                                  # << 200 with our offer
    assert audio_line(ok.body) == "m=audio 20000 RTP/AVP 0 101"
    [seat_media] = [c for c in floor.take_commands() if isinstance(c, SetMediaPeer)]
    assert seat_media.side is Side.SEAT                      # the customer's waits for the ACK
    call.ack(ok, sdp(CARRIER_HOST, 30000, "PCMU"))           # >> ACK with the answer
    [customer] = floor.expect_commands("SetMediaPeer customer PCMU")[:1]
    assert isinstance(customer, SetMediaPeer) and customer.port == 30000


def test_phone_behind_nat_is_reached_at_the_registers_source() -> None:
    floor = Floor()
    phone = floor.phone("1001")
    phone.send_register(contact="<sip:1001@192.168.1.50:5062>")
    challenge = phone.challenge(phone.expect("401"), "WWW-Authenticate")
    auth = digest_authorization(challenge, "1001", "secret1001", "REGISTER", f"sip:{FLOOR_HOST}")
    phone.send_register(contact="<sip:1001@192.168.1.50:5062>", authorization=auth)
    phone.expect("200")
    floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    invite = phone.expect("INVITE")                          # delivered to 10.0.0.11:5060
    assert invite.uri == "sip:1001@192.168.1.50:5062"


def test_caller_bye_on_the_early_dialog_ends_the_invite_with_487() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")                                       # the early dialog has our tag
    floor.take_commands()
    call.bye()                                               # §15: a caller may BYE an early dialog
    floor.carrier.expect("200 BYE")
    terminated = floor.carrier.expect("487")                 # §15.1.2: the INVITE is answered too
    call.ack(terminated)
    phone.reply(phone.expect("CANCEL"), 200)
    seat.reply(487)
    phone.expect("ACK")
    _, ended, _ = floor.expect_commands("CloseMedia", "WriteCallEnded cancelled", "Publish call.ended")
    assert isinstance(ended, WriteCallEnded) and ended.hangup_by == "customer"
    assert floor.engine.calls == {}
    floor.advance(40)
    assert len(floor.engine.ctx.txl) == 0                    # no transaction left hanging
    floor.quiet()


def test_retransmitted_invite_gets_the_last_response_again_and_no_second_call() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    phone.ringing()
    call.expect("180")
    floor.carrier.send(call.invite)                          # >> the same INVITE, same branch
    assert floor.carrier.retransmissions == 1                # << 180 again, byte for byte
    floor.carrier.expect_nothing()
    phone.expect_nothing()
    assert len(floor.engine.calls) == 1


def test_record_route_is_copied_into_the_dialog_creating_responses() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    route = "<sip:sbc.carrier.example;lr>"
    call = floor.carrier.call("+15550100", CARRIER_OFFER, headers=[("Record-Route", route)])
    floor.carrier.expect("100")
    seat = phone.ringing()
    assert seat.invite.headers.get("Record-Route") is None  # a B2BUA starts a new dialog
    ringing = call.expect("180")
    assert ringing.headers.get_all("Record-Route") == [route]  # RFC 3261 §12.1.1
    phone.answer(seat)
    ok = call.expect("200")
    assert ok.headers.get_all("Record-Route") == [route]
    call.ack(ok)
    seat.bye()
    phone.expect("200")
    bye = floor.carrier.expect("BYE")                        # our BYE follows the route set
    assert bye.headers.get_all("Route") == [route]
    assert bye.uri == "sip:carrier@203.0.113.5:5060"
