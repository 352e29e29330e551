"""Session timers (RFC 4028): Min-SE, who refreshes, expiry and the refreshes themselves."""

from __future__ import annotations

from telephony.calls.commands import WriteCallEnded
from tests.unit.calls.ladder import (
    CARRIER_HOST,
    CARRIER_OFFER,
    Floor,
    PeerCall,
    Phone,
    sdp,
)

TIMER = [("Supported", "timer")]


def timed_call(floor: Floor, value: str, *, allow: str | None = None) -> tuple[PeerCall, Phone, PeerCall, object]:
    """An inbound call whose INVITE asks for ``Session-Expires: value``; returns the 200 too."""
    phone = floor.phone("1001").register()
    headers = [("Session-Expires", value), *TIMER]
    if allow:
        headers.append(("Allow", allow))
    call = floor.carrier.call("+15550100", CARRIER_OFFER, headers=headers)
    floor.carrier.expect("100")
    seat = phone.ringing()
    call.expect("180")
    phone.answer(seat)
    ok = call.expect("200")
    call.ack(ok)
    floor.take_commands()
    return call, phone, seat, ok


def test_session_expires_below_min_se_is_422() -> None:
    floor = Floor()
    floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER,
                              headers=[("Session-Expires", "60"), *TIMER])
    floor.carrier.expect("100")
    refused = call.expect("422")                             # << 422 Session Interval Too Small
    assert refused.headers.get("Min-SE") == "90"
    call.ack(refused)
    floor.take_commands()
    floor.quiet()


def test_uac_refresher_is_granted_and_the_call_ends_when_no_refresh_comes() -> None:
    floor = Floor()
    call, phone, _, ok = timed_call(floor, "120")
    assert ok.headers.get("Session-Expires") == "120;refresher=uac"  # type: ignore[attr-defined]
    assert ok.headers.get("Require") == "timer"              # type: ignore[attr-defined]
    floor.advance(87.9)                                      # SE - min(32, SE/3) = 88 s
    floor.quiet()
    floor.advance(0.1)
    bye = floor.carrier.expect("BYE")                        # << BYE to carrier
    floor.carrier.reply(bye, 200)
    phone.reply(phone.expect("BYE"), 200)                    # << BYE to seat
    _, ended, _ = floor.expect_commands("CloseMedia", "WriteCallEnded session_expired",
                                        "Publish call.ended")
    assert isinstance(ended, WriteCallEnded) and ended.hangup_by is None
    assert floor.engine.calls == {}


def test_update_refresh_rearms_the_timer() -> None:
    floor = Floor()
    call, phone, _, _ = timed_call(floor, "120")
    floor.advance(60)
    call.send("UPDATE", headers=[("Session-Expires", "120;refresher=uac"), *TIMER])
    refreshed = floor.carrier.expect("200")
    assert refreshed.headers.get("Session-Expires") == "120;refresher=uac"
    floor.advance(87.9)                                      # 88 s after the refresh, not after the INVITE
    floor.quiet()
    floor.advance(0.1)
    floor.carrier.expect("BYE")


def test_reinvite_refresh_rearms_the_timer() -> None:
    floor = Floor()
    call, _, _, _ = timed_call(floor, "120")
    floor.advance(80)
    call.send_invite(CARRIER_OFFER, headers=[("Session-Expires", "120;refresher=uac"), *TIMER])
    floor.carrier.expect("100")
    call.ack(call.expect("200"))
    floor.take_commands()
    floor.advance(87)
    floor.quiet()


def test_we_refresh_with_update_when_the_peer_allows_it() -> None:
    floor = Floor()
    call, _, _, ok = timed_call(floor, "120;refresher=uas", allow="INVITE, ACK, BYE, CANCEL, UPDATE")
    assert ok.headers.get("Session-Expires") == "120;refresher=uas"  # type: ignore[attr-defined]
    assert ok.headers.get("Require") is None                 # type: ignore[attr-defined]
    floor.advance(59.9)
    floor.quiet()
    floor.advance(0.1)                                       # SE/2
    update = floor.carrier.expect("UPDATE")                  # << UPDATE to carrier, no body
    assert not update.body
    assert update.headers.get("Session-Expires") == "120;refresher=uac"
    assert update.to.tag == call.local_tag and update.from_.tag == call.remote_tag
    floor.carrier.reply(update, 200, headers=[("Session-Expires", "120;refresher=uac")])
    floor.advance(59.9)
    floor.quiet()
    floor.advance(0.1)
    floor.carrier.expect("UPDATE")                           # and again, half an interval on


def test_refresh_that_times_out_ends_the_call() -> None:
    floor = Floor()
    call, phone, _, _ = timed_call(floor, "120;refresher=uas", allow="UPDATE")
    floor.advance(60)
    floor.carrier.expect("UPDATE")
    floor.advance(32)                                        # Timer F: no answer is a dead peer
    floor.carrier.expect("BYE")
    phone.reply(phone.expect("BYE"), 200)
    floor.expect_commands("CloseMedia", "WriteCallEnded refresh_failed", "Publish call.ended")


def test_refresh_refused_with_491_is_retried_soon() -> None:
    floor = Floor()
    call, _, _, _ = timed_call(floor, "120;refresher=uas")
    floor.advance(60)
    refresh = floor.carrier.expect("INVITE")                 # no UPDATE allowed: a re-INVITE
    assert b"m=audio 20000 RTP/AVP 8 101" in refresh.body
    floor.carrier.reply(refresh, 491, to_tag=call.local_tag)
    floor.carrier.expect("ACK")
    floor.advance(4)                                         # §14.1: within 4 s, not SE/2 later
    retry = floor.carrier.expect("INVITE")
    assert retry.cseq.number == refresh.cseq.number + 1
    floor.carrier.reply(retry, 200, to_tag=call.local_tag, body=sdp(CARRIER_HOST, 30000, "PCMA"))
    floor.carrier.expect("ACK")


def test_seat_leg_refresher_follows_the_seats_200() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    call = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    seat = phone.ringing()
    assert seat.invite.headers.get("Session-Expires") == "1800"
    assert seat.invite.headers.get("Min-SE") == "90"
    call.expect("180")
    seat.reply(200, sdp("10.0.0.11", 40000), headers=[("Session-Expires", "1800;refresher=uac"),
                                                      ("Require", "timer"), ("Allow", "UPDATE")])
    phone.expect("ACK")
    call.ack(call.expect("200"))
    floor.take_commands()
    floor.advance(900)                                       # we are the seat leg's UAC: we refresh
    update = phone.expect("UPDATE")
    phone.reply(update, 200, headers=[("Session-Expires", "1800;refresher=uac")])
    floor.carrier.expect_nothing()


def test_peer_takes_over_refreshing_in_its_answer_to_our_refresh() -> None:
    floor = Floor()
    timed_call(floor, "120;refresher=uas", allow="UPDATE")
    floor.advance(60)
    update = floor.carrier.expect("UPDATE")
    # RFC 4028 §7.4: the 2xx decides; refresher=uas names the carrier (the UAS of the UPDATE).
    floor.carrier.reply(update, 200, headers=[("Session-Expires", "120;refresher=uas")])
    floor.advance(87.9)
    floor.quiet()                                            # no UPDATE from us at +60 any more
    floor.advance(0.1)
    floor.carrier.expect("BYE")                              # it did not refresh: expired
