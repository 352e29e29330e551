"""RFC 3261 §15: our BYE on a dialog we answered waits for the ACK of our 2xx, or for the 2xx
retransmissions to give up (64*T1, §13.3.1.4), whichever comes first."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from telephony.calls.leg import LegState
from telephony.calls.uas import UasLeg
from telephony.sip.message import Request, Response
from tests.unit.calls.ladder import (
    CARRIER_HOST,
    CARRIER_OFFER,
    FLOOR_HOST,
    Floor,
    PeerCall,
    Phone,
    sdp,
)


def answered_not_acked(floor: Floor) -> tuple[PeerCall, Phone, PeerCall, Response, UasLeg]:
    """An inbound call up to our 200 to the carrier, which has not ACKed it yet."""
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    phone.answer(seat)
    ok = call.expect("200")
    [bridged] = floor.engine.calls.values()
    assert bridged.a is not None
    floor.take_commands()
    return call, phone, seat, ok, bridged.a


def check_bye(bye: Request, call: PeerCall, reason: str) -> None:
    """The BYE is ours, inside the carrier's dialog, with its first CSeq of ours."""
    assert bye.uri == f"sip:carrier@{CARRIER_HOST}:5060"      # the Contact of the carrier's INVITE
    assert bye.call_id == call.call_id
    assert (bye.from_.tag, bye.to.tag) == (call.remote_tag, call.local_tag)
    assert (bye.cseq.number, bye.cseq.method) == (1, "BYE")
    assert (bye.headers.get("Via") or "").startswith(f"SIP/2.0/UDP {FLOOR_HOST}:5060;branch=z9hG4bK")
    assert bye.headers.get("Reason") == f'SIP;cause=200;text="{reason}"'


def assert_closed(floor: Floor, leg: UasLeg) -> None:
    assert floor.engine.calls == {}
    assert leg.state is LegState.ENDED
    assert floor.engine.ctx.legs == {} and floor.engine.ctx.server_invites == {}
    assert (leg.id, "session") not in floor.engine.ctx.timers


def seat_hangs_up(floor: Floor, phone: Phone, seat: PeerCall) -> str:
    seat.bye()                                               # >> BYE from the seat
    phone.expect("200")
    return "hangup"


def floor_shuts_down(floor: Floor, phone: Phone, seat: PeerCall) -> str:
    floor.engine.drain(floor.now)                            # SIGTERM: hang up every call
    phone.reply(phone.expect("BYE"), 200)                    # the seat ACKed its 200: BYE at once
    return "shutdown"


@pytest.mark.parametrize("hang_up", [seat_hangs_up, floor_shuts_down])
def test_bye_waits_for_the_ack_of_our_200(hang_up: Callable[[Floor, Phone, PeerCall], str]) -> None:
    floor = Floor()
    call, phone, seat, ok, leg = answered_not_acked(floor)
    reason = hang_up(floor, phone, seat)
    floor.expect_commands("CloseMedia", f"WriteCallEnded {reason}", "Publish call.ended")
    floor.carrier.expect_nothing()                           # no BYE before the ACK (§15)
    assert leg.state is LegState.ENDING
    floor.advance(1.0)
    assert floor.carrier.retransmissions == 1                # the 200 again at T1, not a BYE
    floor.carrier.expect_nothing()
    call.ack(ok)                                             # >> ACK, late
    bye = floor.carrier.expect("BYE")                        # << BYE, now
    check_bye(bye, call, reason)
    floor.carrier.reply(bye, 200)
    assert_closed(floor, leg)
    floor.advance(40)                                        # past Timer L: nothing more
    floor.quiet()


def test_no_ack_at_all_sends_the_bye_when_the_200_retransmissions_give_up() -> None:
    floor = Floor()
    call, phone, seat, _, leg = answered_not_acked(floor)
    seat_hangs_up(floor, phone, seat)
    floor.expect_commands("CloseMedia", "WriteCallEnded hangup", "Publish call.ended")
    floor.advance(31.9)
    assert floor.carrier.retransmissions == 10               # 2xx resent: 0.5, 1, 2, 4, 4, 4 ...
    floor.carrier.expect_nothing()
    floor.advance(0.1)                                       # Timer L = 64*T1 (§13.3.1.4, RFC 6026)
    bye = floor.carrier.expect("BYE")
    check_bye(bye, call, "hangup")
    floor.carrier.reply(bye, 200)
    assert_closed(floor, leg)
    floor.quiet()                                            # one call-ended row: not ack_timeout too


def test_a_drain_that_runs_out_sends_the_held_bye_without_the_ack() -> None:
    floor = Floor()
    call, phone, seat, _, leg = answered_not_acked(floor)
    floor_shuts_down(floor, phone, seat)
    floor.expect_commands("CloseMedia", "WriteCallEnded shutdown", "Publish call.ended")
    floor.advance(8.0)                                       # the drain's wait: still no ACK
    floor.carrier.expect_nothing()
    floor.engine.release_held_byes(floor.now)                # its last seconds: BYE now, not never
    bye = floor.carrier.expect("BYE")
    check_bye(bye, call, "shutdown")
    floor.carrier.reply(bye, 200)
    assert_closed(floor, leg)
    floor.engine.release_held_byes(floor.now)                # nothing held any more: nothing sent
    floor.carrier.expect_nothing()


def test_bye_from_the_caller_instead_of_its_ack_closes_the_leg_without_ours() -> None:
    floor = Floor()
    call, phone, seat, _, leg = answered_not_acked(floor)
    seat_hangs_up(floor, phone, seat)
    floor.expect_commands("CloseMedia", "WriteCallEnded hangup", "Publish call.ended")
    call.bye()                                               # >> BYE crosses our held one
    ok = floor.carrier.expect("200")
    assert (ok.cseq.number, ok.cseq.method) == (2, "BYE")
    assert_closed(floor, leg)
    floor.advance(40)                                        # Timer L finds no leg: no BYE
    floor.quiet()


def test_seat_that_dialled_out_gets_the_bye_after_its_ack() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = phone.dial("915551234567")
    carrier = floor.carrier.incoming(floor.carrier.expect("INVITE"))
    carrier.reply(180)
    call.expect("180")
    carrier.reply(200, sdp(CARRIER_HOST, 30000, "PCMA"))
    floor.carrier.expect("ACK")
    ok = call.expect("200")                                  # << 200 to the seat, not yet ACKed
    floor.take_commands()
    carrier.bye()                                            # >> the customer hangs up at once
    floor.carrier.expect("200")
    floor.expect_commands("CloseMedia", "WriteCallEnded hangup", "Publish call.ended")
    phone.expect_nothing()
    call.ack(ok)                                             # >> ACK from the seat
    bye = phone.expect("BYE")
    assert (bye.from_.tag, bye.to.tag, bye.cseq.number) == (call.remote_tag, call.local_tag, 1)
    assert bye.uri == f"sip:1001@{phone.address}"
    phone.reply(bye, 200)
    assert floor.engine.calls == {}
    floor.quiet()
