"""Silent monitoring: a team lead's phone (seat 1002) hears a bridged call; the customer and the
seat on the call get no SIP message and no media change, and no call record is written."""

from __future__ import annotations

import pytest

from telephony.calls.commands import CloseListen, OpenListen, Publish, SetListenPeer
from telephony.calls.listen import ListenError
from tests.unit.calls.ladder import FLOOR_HOST, Floor, PeerCall, Phone, connect_inbound, sdp

LEAD_ANSWER = sdp("10.0.0.12", 41000, "PCMU", event=None, direction="recvonly")


def monitored(floor: Floor) -> tuple[Phone, Phone, PeerCall, PeerCall, str]:
    """Seat 1001 on a carrier call, team lead 1002 registered: (seat, lead, carrier's call,
    seat's call, call uuid)."""
    seat = floor.phone("1001").register()
    lead = floor.phone("1002").register()
    floor.take_commands()
    carrier, seat_call = connect_inbound(floor, seat)
    (uuid,) = floor.engine.calls
    return seat, lead, carrier, seat_call, uuid


def listening(floor: Floor, lead: Phone, uuid: str) -> tuple[PeerCall, str]:
    """The lead's phone is rung and answers; returns its side of the listen leg and its id."""
    listen = floor.engine.listen(uuid, "1002", floor.now)
    lead_call = lead.incoming(lead.expect("INVITE"))
    lead.answer(lead_call, LEAD_ANSWER)
    floor.take_commands()
    return lead_call, listen


def sdp_lines(body: bytes) -> list[str]:
    return body.decode().split("\r\n")


def test_the_lead_is_rung_with_a_sendonly_offer_and_the_call_hears_nothing() -> None:
    floor = Floor()
    seat, lead, _, _, uuid = monitored(floor)
    listen = floor.engine.listen(uuid, "1002", floor.now)      # a team lead clicks "listen"
    (opened,) = floor.expect_commands("OpenListen")
    assert opened == OpenListen(listen, uuid, 20004)
    invite = lead.expect("INVITE")                            # << INVITE to the lead's phone
    assert invite.call_id == listen
    assert invite.uri == "sip:1002@10.0.0.12:5060"
    assert invite.headers.get("To") == f"<sip:1002@{FLOOR_HOST}>"
    assert invite.headers.get("Call-Info") == f"<sip:{FLOOR_HOST}>;answer-after=0"
    assert invite.headers.get("Answer-Mode") == "Auto"
    lines = sdp_lines(invite.body)
    assert "m=audio 20004 RTP/AVP 0 8" in lines and "a=sendonly" in lines
    assert not any("telephone-event" in line for line in lines)
    floor.carrier.expect_nothing()                            # the customer: nothing
    seat.expect_nothing()                                     # the seat: nothing
    lead_call = lead.incoming(invite)
    lead_call.reply(180)
    lead.answer(lead_call, LEAD_ANSWER)                       # >> 200 (recvonly), << ACK
    peer, started = floor.expect_commands("SetListenPeer", "Publish call.listen_started")
    assert peer == SetListenPeer(listen, "10.0.0.12", 41000, "PCMU", 0)
    assert started == Publish("call.listen_started", {
        "call": uuid, "listener": "1002", "listen": listen, "at": floor.now, "ts": floor.now},
        store=True)
    floor.quiet()                                             # no SetMediaPeer, no CDR write
    assert list(floor.engine.calls) == [uuid]


def test_the_listen_leg_ends_with_the_monitored_call() -> None:
    floor = Floor()
    seat, lead, carrier, _, uuid = monitored(floor)
    lead_call, listen = listening(floor, lead, uuid)
    floor.advance(30)
    carrier.bye()                                             # >> BYE from the customer
    carrier.expect("200")
    seat.reply(seat.expect("BYE"), 200)                       # << BYE to the seat, >> 200
    bye = lead.expect("BYE")                                  # << BYE to the lead
    assert bye.call_id == listen
    lead.reply(bye, 200)
    commands = floor.take_commands()
    ended = [c for c in commands if isinstance(c, Publish) and c.kind == "call.listen_ended"]
    assert CloseListen(listen) in commands
    assert ended == [Publish("call.listen_ended", {
        "call": uuid, "listener": "1002", "listen": listen, "at": floor.now, "ts": floor.now,
        "reason": "call_ended", "hangup_by": "callfloor", "answered": True,
        "listen_seconds": 30.0}, store=True)]
    assert floor.engine.listening.listens == {} and floor.engine.calls == {}
    assert len(floor.engine.ports) == floor.engine.ports.size
    assert lead_call.call_id == listen
    floor.quiet()


def test_the_lead_hanging_up_ends_only_the_listen() -> None:
    floor = Floor()
    seat, lead, _, _, uuid = monitored(floor)
    lead_call, listen = listening(floor, lead, uuid)
    floor.advance(5)
    lead_call.bye()                                           # >> BYE from the lead
    lead.expect("200")
    closed, ended = floor.expect_commands("CloseListen", "Publish call.listen_ended")
    assert closed == CloseListen(listen)
    assert isinstance(ended, Publish) and (ended.payload["reason"], ended.payload["hangup_by"],
                                           ended.payload["listen_seconds"]) == (
        "hangup", "listener", 5.0)
    floor.carrier.expect_nothing()
    seat.expect_nothing()
    floor.quiet()
    assert list(floor.engine.calls) == [uuid] and floor.engine.listening.listens == {}
    assert len(floor.engine.ports) == floor.engine.ports.size - 2  # only the call's two


def test_one_listen_per_lead_and_call() -> None:
    floor = Floor()
    _, lead, _, _, uuid = monitored(floor)
    listening(floor, lead, uuid)
    with pytest.raises(ListenError) as err:
        floor.engine.listen(uuid, "1002", floor.now)
    assert err.value.reason == "already_listening"
    floor.quiet()


def test_a_call_that_ends_while_the_lead_rings_cancels_the_listen() -> None:
    floor = Floor()
    seat, lead, carrier, _, uuid = monitored(floor)
    listen = floor.engine.listen(uuid, "1002", floor.now)
    lead_call = lead.incoming(lead.expect("INVITE"))
    lead_call.reply(180)
    carrier.bye()
    carrier.expect("200")
    seat.reply(seat.expect("BYE"), 200)
    cancel = lead.expect("CANCEL")                            # << CANCEL to the ringing lead
    assert cancel.call_id == listen
    lead.reply(cancel, 200)
    lead_call.reply(487)
    lead.expect("ACK")
    ended = [c for c in floor.take_commands() if isinstance(c, Publish)
             and c.kind == "call.listen_ended"]
    assert [(e.payload["reason"], e.payload["answered"]) for e in ended] == [("call_ended", False)]
    assert floor.engine.listening.listens == {}
    assert len(floor.engine.ports) == floor.engine.ports.size
    floor.quiet()


def test_a_lead_that_refuses_leaves_the_call_as_it_was() -> None:
    floor = Floor()
    seat, lead, _, _, uuid = monitored(floor)
    floor.engine.listen(uuid, "1002", floor.now)
    lead_call = lead.incoming(lead.expect("INVITE"))
    lead_call.reply(486)
    lead.expect("ACK")
    _, closed, ended = floor.expect_commands("OpenListen", "CloseListen", "Publish call.listen_ended")
    assert isinstance(ended, Publish) and ended.payload["reason"] == "refused_486"
    floor.carrier.expect_nothing()
    seat.expect_nothing()
    assert list(floor.engine.calls) == [uuid] and floor.engine.listening.listens == {}


def test_a_lead_that_never_answers_is_cancelled_after_the_ring_timeout() -> None:
    floor = Floor()
    _, lead, _, _, uuid = monitored(floor)
    floor.engine.listen(uuid, "1002", floor.now)
    lead.incoming(lead.expect("INVITE")).reply(180)
    floor.advance(floor.policy.ring_timeout + 0.1)
    lead.expect("CANCEL")
    ended = [c for c in floor.take_commands() if isinstance(c, Publish)]
    assert [e.payload["reason"] for e in ended] == ["no_answer"]


def test_only_a_live_bridged_call_can_be_heard() -> None:
    floor = Floor()
    seat = floor.phone("1001").register()
    floor.phone("1002").register()
    floor.carrier.call("+15550100", sdp("203.0.113.5", 30000, "PCMA"))
    seat.ringing()                                            # the call rings: not bridged yet
    (uuid,) = floor.engine.calls
    with pytest.raises(ListenError, match="not_bridged: call .* is ringing") as err:
        floor.engine.listen(uuid, "1002", floor.now)
    assert err.value.reason == "not_bridged"
    with pytest.raises(ListenError) as err:
        floor.engine.listen("no-such-call", "1002", floor.now)
    assert err.value.reason == "unknown_call"


@pytest.mark.parametrize(("listener", "reason"), [
    ("1003", "listener_not_registered"), ("1001", "listener_on_call"),
])
def test_the_listener_must_be_another_registered_seat(listener: str, reason: str) -> None:
    floor = Floor()
    seat, _, _, _, uuid = monitored(floor)
    with pytest.raises(ListenError) as err:
        floor.engine.listen(uuid, listener, floor.now)
    assert err.value.reason == reason and listener in str(err.value)
    floor.quiet()
    assert len(floor.engine.ports) == floor.engine.ports.size - 2


def test_a_listening_lead_is_busy_until_the_listen_ends() -> None:
    """The director hears the lead is busy (the ACD offers it no queue call) while it listens."""
    floor = Floor()
    seat, lead, _, _, uuid = monitored(floor)
    heard: list[tuple[str, bool]] = []

    class Director:
        def seat_busy(self, seat_id: str, busy: bool, now: float) -> None:
            heard.append((seat_id, busy))

    floor.engine.director = Director()  # type: ignore[assignment]
    lead_call, listen = listening(floor, lead, uuid)
    assert floor.engine.busy_seats["1002"] == {listen} and heard == [("1002", True)]
    lead_call.bye()
    lead.expect("200")
    floor.take_commands()
    assert "1002" not in floor.engine.busy_seats and heard == [("1002", True), ("1002", False)]
