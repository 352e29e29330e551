"""The answer in the 2xx to our session-refresh re-INVITE (RFC 4028 §7.4 + RFC 3264 §8): a peer
that moved steers the relay; an unusable answer gets its ACK and then a BYE (RFC 3261 §14.1,
§13.2.2.4)."""

from __future__ import annotations

import pytest

from telephony.calls.commands import SetMediaPeer, Side
from telephony.sip.message import Request
from tests.unit.calls.ladder import CARRIER_HOST, Floor, PeerCall, Phone, connect_inbound, sdp

WE_REFRESH = [("Session-Expires", "120;refresher=uas"), ("Supported", "timer")]
KEEP = [("Session-Expires", "120;refresher=uac")]


def refresh_due(floor: Floor) -> tuple[PeerCall, Phone, PeerCall, Request]:
    """A bridged inbound call where we refresh the carrier's leg (no UPDATE allowed): at SE/2 our
    re-INVITE carries our current offer."""
    phone = floor.phone("1001").register()
    call, seat = connect_inbound(floor, phone, headers=WE_REFRESH)
    floor.advance(60)
    refresh = floor.carrier.expect("INVITE")
    assert b"m=audio 20000 RTP/AVP 8 101\r\n" in refresh.body
    return call, phone, seat, refresh


@pytest.mark.parametrize(("host", "port"), [(CARRIER_HOST, 31000), ("203.0.113.9", 30000)])
def test_refresh_answer_from_a_moved_peer_moves_the_media(host: str, port: int) -> None:
    floor = Floor()
    call, _, _, refresh = refresh_due(floor)
    ours = floor.carrier.incoming(refresh, tag=call.local_tag)
    ours.reply(200, sdp(host, port, "PCMA", version=2), headers=KEEP)   # >> 200, new address
    ack = floor.carrier.expect("ACK")                        # << ACK
    assert (ack.cseq.number, ack.cseq.method) == (refresh.cseq.number, "ACK")
    moved, published = floor.expect_commands("SetMediaPeer customer PCMA", "Publish call.media")
    assert isinstance(moved, SetMediaPeer)
    assert (moved.side, moved.host, moved.port, moved.audio_pt, moved.event_pt, moved.sends) == (
        Side.CUSTOMER, host, port, 8, 101, True)
    assert published.payload["side"] == "customer"           # type: ignore[union-attr]
    floor.advance(59.9)
    floor.quiet()
    floor.advance(0.1)                                       # re-armed: the next refresh at SE/2
    again = floor.carrier.expect("INVITE")
    assert again.cseq.number == refresh.cseq.number + 1


def test_unchanged_refresh_answer_changes_nothing() -> None:
    floor = Floor()
    call, _, _, refresh = refresh_due(floor)
    ours = floor.carrier.incoming(refresh, tag=call.local_tag)
    ours.reply(200, sdp(CARRIER_HOST, 30000, "PCMA"), headers=KEEP)
    floor.carrier.expect("ACK")
    floor.quiet()                                            # no SetMediaPeer, no call.media


def test_seat_refresh_answer_on_hold_holds_the_seat_side() -> None:
    floor = Floor()
    phone = floor.phone("1001").register(expires=3600)
    call = floor.carrier.call("+15550100", sdp(CARRIER_HOST, 30000, "PCMA"))
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    seat.reply(200, sdp(phone.peer.host, 40000, "PCMU"),
               headers=[("Session-Expires", "1800;refresher=uac"), ("Require", "timer")])
    phone.expect("ACK")
    call.ack(call.expect("200"))
    floor.take_commands()
    floor.advance(900)                                       # we are the UAC: our re-INVITE
    refresh = phone.expect("INVITE")
    assert b"m=audio 20002 RTP/AVP 0 101\r\n" in refresh.body
    ours = phone.incoming(refresh, tag=seat.local_tag)
    ours.reply(200, sdp(phone.peer.host, 40002, "PCMU", direction="recvonly", version=2),
               headers=[("Session-Expires", "1800;refresher=uac")])
    phone.expect("ACK")
    held, _ = floor.expect_commands("SetMediaPeer seat PCMU hold", "Publish call.held")
    assert isinstance(held, SetMediaPeer)
    assert (held.host, held.port, held.sends) == (phone.peer.host, 40002, False)
    floor.carrier.expect_nothing()


def test_refresh_2xx_without_an_answer_keeps_the_call_and_its_media() -> None:
    floor = Floor()
    call, _, _, refresh = refresh_due(floor)
    ours = floor.carrier.incoming(refresh, tag=call.local_tag)
    ours.reply(200, b"", headers=KEEP)                       # >> 200 with no SDP (§13.2.1 wants one)
    ack = floor.carrier.expect("ACK")
    assert ack.cseq.number == refresh.cseq.number
    floor.quiet()                                            # no BYE, no re-steering
    floor.advance(60)                                        # re-armed: the next refresh at SE/2
    again = floor.carrier.expect("INVITE")
    assert again.cseq.number == refresh.cseq.number + 1


BAD_ANSWERS = {
    "unparseable": b"this is not SDP\r\n",
    "no common codec": sdp(CARRIER_HOST, 31000, "G729", version=2),
    "two m-lines for one": sdp(CARRIER_HOST, 31000, "PCMA", version=2)
    + b"m=audio 31002 RTP/AVP 8\r\n",
}


@pytest.mark.parametrize("body", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_unusable_refresh_answer_is_acked_then_the_call_ends(body: bytes) -> None:
    floor = Floor()
    call, phone, _, refresh = refresh_due(floor)
    ours = floor.carrier.incoming(refresh, tag=call.local_tag)
    ours.reply(200, body, headers=KEEP)
    ack = floor.carrier.expect("ACK")                        # << ACK first (§13.2.2.4) ...
    assert ack.cseq.number == refresh.cseq.number
    bye = floor.carrier.expect("BYE")                        # << ... then BYE
    assert bye.cseq.number == refresh.cseq.number + 1
    assert (bye.from_.tag, bye.to.tag) == (call.remote_tag, call.local_tag)
    assert bye.headers.get("Reason") == 'SIP;cause=200;text="unusable SDP answer"'
    floor.carrier.reply(bye, 200)
    phone.reply(phone.expect("BYE"), 200)                    # the seat's leg ends with it
    floor.expect_commands("CloseMedia", "WriteCallEnded bad_refresh_answer", "Publish call.ended")
    assert floor.engine.calls == {}
    floor.quiet()                                            # the old media was never re-steered
