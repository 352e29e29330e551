"""re-INVITE inside a bridged call: hold and resume, offerless re-INVITE, glare, CSeq order."""

from __future__ import annotations

import pytest

from telephony.calls.commands import SetMediaPeer, Side
from telephony.sip.sdp import Direction, SessionDescription
from tests.unit.calls.ladder import CARRIER_HOST, Floor, connect_inbound, sdp


def answer_direction(body: bytes) -> Direction:
    description = SessionDescription.parse(body)
    return description.direction_of(description.media[0])


def test_customer_holds_and_resumes() -> None:
    floor = Floor()
    call, _ = connect_inbound(floor, floor.phone("1001").register())
    call.send_invite(sdp(CARRIER_HOST, 30000, "PCMA", direction="sendonly", version=2))
    floor.carrier.expect("100")
    ok = call.expect("200")                                  # << 200 with a recvonly answer
    assert answer_direction(ok.body) is Direction.RECVONLY
    call.ack(ok)
    held, published = floor.expect_commands("SetMediaPeer customer PCMA hold", "Publish call.held")
    assert isinstance(held, SetMediaPeer) and held.sends is False
    assert published.payload["side"] == "customer"           # type: ignore[union-attr]
    call.send_invite(sdp(CARRIER_HOST, 30000, "PCMA", version=3))
    floor.carrier.expect("100")
    ok = call.expect("200")
    assert answer_direction(ok.body) is Direction.SENDRECV
    call.ack(ok)
    resumed, _ = floor.expect_commands("SetMediaPeer customer PCMA", "Publish call.media")
    assert isinstance(resumed, SetMediaPeer) and resumed.sends is True
    floor.quiet()


@pytest.mark.parametrize(("offered", "answered"), [
    ("sendonly", Direction.RECVONLY), ("inactive", Direction.INACTIVE)])
def test_seat_holds(offered: str, answered: Direction) -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    _, seat = connect_inbound(floor, phone)
    seat.send_invite(sdp("10.0.0.11", 40000, "PCMU", direction=offered, version=2))
    phone.expect("100")
    ok = seat.expect("200")
    assert answer_direction(ok.body) is answered
    seat.ack(ok)
    held, _ = floor.expect_commands("SetMediaPeer seat PCMU hold", "Publish call.held")
    assert isinstance(held, SetMediaPeer) and held.side is Side.SEAT
    floor.carrier.expect_nothing()                           # hold stays on the seat's leg


def test_hold_with_zero_address() -> None:
    floor = Floor()
    call, _ = connect_inbound(floor, floor.phone("1001").register())
    call.send_invite(sdp("0.0.0.0", 30000, "PCMA", version=2))  # RFC 2543 hold
    floor.carrier.expect("100")
    call.ack(call.expect("200"))
    floor.expect_commands("SetMediaPeer customer PCMA hold", "Publish call.held")


def test_reinvite_without_sdp_gets_an_offer_and_the_answer_comes_in_the_ack() -> None:
    floor = Floor()
    call, _ = connect_inbound(floor, floor.phone("1001").register())
    call.send_invite()                                       # >> re-INVITE, no body
    floor.carrier.expect("100")
    ok = call.expect("200")                                  # << 200 with our offer
    offer = SessionDescription.parse(ok.body)
    assert [c.name for c in offer.media[0].codecs] == ["PCMA", "telephone-event"]
    floor.expect_no_commands()
    call.ack(ok, sdp(CARRIER_HOST, 31000, "PCMA"))           # >> ACK with the answer
    [moved] = floor.expect_commands("SetMediaPeer customer PCMA")[:1]
    assert isinstance(moved, SetMediaPeer) and moved.port == 31000


def test_reinvite_offer_without_a_common_codec_is_488_and_keeps_the_call() -> None:
    floor = Floor()
    call, _ = connect_inbound(floor, floor.phone("1001").register())
    call.send_invite(sdp(CARRIER_HOST, 30000, "G729", version=2))
    floor.carrier.expect("100")
    call.ack(call.expect("488"))
    floor.expect_no_commands()
    assert len(floor.engine.calls) == 1


def test_lower_cseq_in_dialog_is_500() -> None:
    floor = Floor()
    call, _ = connect_inbound(floor, floor.phone("1001").register())
    call.send("INFO", cseq=1)                                # the INVITE had CSeq 1
    refused = floor.carrier.expect("500")
    assert refused.reason == "CSeq Out Of Order"
    call.bye()
    floor.carrier.expect("200")


def test_glare_our_refresh_pending_their_reinvite_is_491() -> None:
    floor = Floor()
    call, _ = connect_inbound(floor, floor.phone("1001").register(),
                              headers=[("Session-Expires", "120;refresher=uas"),
                                       ("Supported", "timer")])
    floor.advance(60)                                        # we refresh at SE/2
    refresh = floor.carrier.expect("INVITE")                 # no UPDATE in its Allow: re-INVITE
    assert refresh.headers.get("Session-Expires") == "120;refresher=uac"
    call.send_invite(sdp(CARRIER_HOST, 30000, "PCMA", version=2))
    floor.carrier.expect("100")
    call.ack(call.expect("491"))                             # << 491 Request Pending (§14.2)
    ours = floor.carrier.incoming(refresh, tag=call.local_tag)
    ours.reply(200, sdp(CARRIER_HOST, 30000, "PCMA", version=2),
               headers=[("Session-Expires", "120;refresher=uac")])
    ack = floor.carrier.expect("ACK")
    assert ack.cseq.number == refresh.cseq.number
    call.send_invite(sdp(CARRIER_HOST, 30000, "PCMA", version=3))  # now it goes through
    floor.carrier.expect("100")
    call.ack(call.expect("200"))


def test_info_dtmf_is_published() -> None:
    floor = Floor()
    call, _ = connect_inbound(floor, floor.phone("1001").register())
    floor.carrier.request("INFO", call.remote_target, from_=call.from_value, to=call.to_value,
                          call_id=call.call_id, cseq=5,
                          headers=[("Content-Type", "application/dtmf-relay")],
                          body=b"Signal=5\r\nDuration=160\r\n")
    floor.carrier.expect("200")
    [digit] = floor.expect_commands("Publish call.dtmf")
    assert digit.payload["digit"] == "5"                     # type: ignore[union-attr]
