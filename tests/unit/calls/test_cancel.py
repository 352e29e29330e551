"""CANCEL: the caller gives up before answer (RFC 3261 §9), and the races around it."""

from __future__ import annotations

from telephony.calls.commands import WriteCallEnded
from tests.unit.calls.ladder import CARRIER_OFFER, Floor, sdp


def test_caller_cancels_while_the_seat_rings() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    floor.take_commands()
    call.cancel()                                            # >> CANCEL from carrier
    floor.carrier.expect("200 CANCEL")                       # << 200 (transaction layer, §9.2)
    terminated = call.expect("487")                          # << 487 to the INVITE
    assert terminated.cseq.method == "INVITE"
    call.ack(terminated)
    cancel = phone.expect("CANCEL")                          # << CANCEL to seat
    assert cancel.top_via.branch == seat.invite.top_via.branch
    assert cancel.cseq.number == seat.invite.cseq.number
    _, ended, _ = floor.expect_commands("CloseMedia", "WriteCallEnded cancelled", "Publish call.ended")
    assert isinstance(ended, WriteCallEnded) and ended.hangup_by == "customer"
    assert ended.sip_status == 487                           # what the caller was told
    assert floor.engine.calls                                # the seat's leg is still closing
    phone.reply(cancel, 200)
    seat.reply(487)
    phone.expect("ACK")
    assert floor.engine.calls == {} and floor.engine.busy_seats == {}
    assert len(floor.engine.ports) == floor.engine.ports.size
    floor.quiet()


def test_cancel_waits_for_the_seats_provisional_response() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.incoming(phone.expect("INVITE"))            # the phone has said nothing yet
    call.cancel()
    floor.carrier.expect("200 CANCEL")
    call.ack(call.expect("487"))
    phone.expect_nothing()                                   # §9.1: no CANCEL before a 1xx
    seat.reply(180)
    cancel = phone.expect("CANCEL")
    phone.reply(cancel, 200)
    seat.reply(487)
    phone.expect("ACK")
    floor.take_commands()
    assert floor.engine.calls == {}
    floor.quiet()


def test_cancel_for_an_unknown_invite_is_481() -> None:
    floor = Floor()
    floor.carrier.request("CANCEL", "sip:+15550100@192.0.2.1", from_="<sip:x@203.0.113.5>;tag=1",
                          to="<sip:+15550100@192.0.2.1>", call_id="nope@203.0.113.5", cseq=1)
    floor.carrier.expect("481")
    floor.quiet()


def test_cancel_crossing_the_seats_200_gets_ack_and_bye() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.take_commands()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    call.cancel()
    floor.carrier.expect("200 CANCEL")
    call.ack(call.expect("487"))
    cancel = phone.expect("CANCEL")                          # on the wire towards the seat ...
    seat.reply(200, sdp("10.0.0.11", 40000))                 # ... while the seat answers
    phone.expect("ACK")                                      # << ACK to seat (§13.2.2.4)
    bye = phone.expect("BYE")                                # << BYE to seat
    assert bye.headers.get("Reason") == 'SIP;cause=200;text="cancelled"'
    phone.reply(cancel, 200)
    phone.reply(bye, 200)
    floor.carrier.expect_nothing()                           # the caller already has its 487
    assert floor.engine.calls == {}
    ended = [c for c in floor.take_commands() if isinstance(c, WriteCallEnded)]
    assert [e.reason for e in ended] == ["cancelled"]
    floor.quiet()


def test_cancel_after_answer_changes_nothing() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    phone.answer(seat)
    ok = call.expect("200")
    call.cancel()                                            # too late: the INVITE is answered
    floor.carrier.expect("200 CANCEL")
    call.ack(ok)
    floor.carrier.expect_nothing()
    phone.expect_nothing()
    assert len(floor.engine.calls) == 1
