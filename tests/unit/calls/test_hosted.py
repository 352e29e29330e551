"""Hosted calls: callfloor answers the carrier's call itself, plays prompts, reads digits, and
rings seats when its director says so; the seat's BYE may hand the caller back (a survey)."""

from __future__ import annotations

from dataclasses import dataclass, field

from telephony.calls.commands import (
    ConnectMedia,
    DigitDetected,
    OpenMedia,
    PlayAudio,
    PlaybackFinished,
    Side,
    WriteCallAnswered,
    WriteCallEnded,
    WriteCallStarted,
)
from telephony.calls.director import CallControl
from telephony.calls.engine import CallEngine
from tests.unit.calls.ladder import CARRIER_OFFER, Floor, sdp

OWNED = "+15550102"  # the director's number; +15550100 stays routed straight to seat 1001


@dataclass
class ScriptDirector:
    """A director that records what it hears; the test drives the call through ``calls``."""

    keep_after_seat: bool = False
    heard: list[tuple[object, ...]] = field(default_factory=list)
    calls: list[CallControl] = field(default_factory=list)

    def takes(self, number: str) -> bool:
        return number == OWNED

    def is_feature_code(self, dialled: str) -> bool:
        return dialled.startswith("*")

    def call_arrived(self, call: CallControl, now: float) -> None:
        call.observe(self)
        self.calls.append(call)
        self.heard.append(("arrived", call.caller, call.callee))

    def feature_code(self, seat: str, dialled: str, call: CallControl, now: float) -> None:
        call.observe(self)
        self.calls.append(call)
        self.heard.append(("feature", seat, dialled))

    def seat_reachable(self, seat: str, reachable: bool, now: float) -> None:
        self.heard.append(("reachable", seat, reachable))

    def seat_busy(self, seat: str, busy: bool, now: float) -> None:
        self.heard.append(("busy", seat, busy))

    def digit(self, call: CallControl, digit: str, source: str, now: float) -> None:
        self.heard.append(("digit", digit, source))

    def playback_done(self, call: CallControl, token: str, now: float) -> None:
        self.heard.append(("played", token))

    def seat_answered(self, call: CallControl, seat: str, now: float) -> None:
        self.heard.append(("answered", seat))

    def seat_failed(self, call: CallControl, seat: str, status: int, now: float) -> None:
        self.heard.append(("failed", seat, status))

    def seat_hung_up(self, call: CallControl, seat: str, now: float) -> bool:
        self.heard.append(("seat left", seat))
        return self.keep_after_seat

    def caller_gone(self, call: CallControl, reason: str, now: float) -> None:
        self.heard.append(("gone", reason))

    def recording_done(self, call: CallControl, token: str, path: str, seconds: float,
                       now: float) -> None:
        self.heard.append(("recorded", token, path, seconds))


def hosted_floor(director: ScriptDirector) -> Floor:
    floor = Floor()
    floor.engine = CallEngine(floor.policy, ids=floor.engine.ctx.ids, director=director)
    floor.engine.start(floor.now)
    return floor


def answered_by_callfloor(floor: Floor) -> tuple[object, str]:
    floor.take_commands()
    call = floor.carrier.call(OWNED, CARRIER_OFFER)
    floor.carrier.expect("100")
    ok = call.expect("200")                                   # << 200 at once: the IVR answers
    assert b"m=audio 20000 RTP/AVP 8 101" in ok.body
    call.ack(ok)
    opened, started, _, media = floor.expect_commands(
        "OpenMedia", "WriteCallStarted", "Publish call.offered", "SetMediaPeer customer PCMA")
    assert isinstance(opened, OpenMedia) and opened.hosted is Side.CUSTOMER
    assert isinstance(started, WriteCallStarted) and started.seat_id is None
    return call, opened.call


def test_the_director_answers_plays_and_hears_digits() -> None:
    director = ScriptDirector()
    floor = hosted_floor(director)
    call, uuid = answered_by_callfloor(floor)
    assert director.heard == [("arrived", "+15551230001", OWNED)]
    control = director.calls[0]
    control.play("welcome", ("welcome", "menu"), floor.now)
    [play] = floor.expect_commands("PlayAudio")
    assert play == PlayAudio(uuid, Side.CUSTOMER, "welcome", ("welcome", "menu"), False)
    floor.engine.media_event(PlaybackFinished(uuid, Side.CUSTOMER, "welcome"), floor.now)
    floor.engine.media_event(DigitDetected(uuid, Side.CUSTOMER, "2", "rfc4733"), floor.now)
    call.send("INFO", b"Signal=5\r\nDuration=160\r\n", headers=[("Content-Type", "application/dtmf-relay")])
    call.expect("200 INFO")
    floor.take_commands()
    assert director.heard[1:] == [("played", "welcome"), ("digit", "2", "rfc4733"), ("digit", "5", "info")]
    call.bye()
    call.expect("200 BYE")
    assert director.heard[-1] == ("gone", "hangup")
    ended = [c for c in floor.take_commands() if isinstance(c, WriteCallEnded)]
    assert ended[0].reason == "hangup" and ended[0].hangup_by == "customer"
    assert floor.engine.calls == {}


def test_a_seat_rung_by_the_director_is_bridged_and_recorded() -> None:
    director = ScriptDirector()
    floor = hosted_floor(director)
    phone = floor.phone("1001").register()
    assert ("reachable", "1001", True) in director.heard
    call, uuid = answered_by_callfloor(floor)
    control = director.calls[0]
    assert control.ring_seat("1001", floor.now)
    assert not control.ring_seat("1003", floor.now)           # nobody registered as 1003
    assert floor.engine.busy_seats == {"1001": {uuid}}
    seat = phone.incoming(phone.expect("INVITE"))
    seat.reply(180)
    phone.answer(seat, sdp("10.0.0.11", 40000, "PCMU"))
    commands = floor.take_commands()
    names = [type(c).__name__ for c in commands]
    assert names[names.index("SetMediaPeer"):][:4] == [
        "SetMediaPeer", "ConnectMedia", "StartRecording", "WriteCallAnswered"]
    assert ConnectMedia(uuid, True) in commands
    answered = next(c for c in commands if isinstance(c, WriteCallAnswered))
    assert answered.seat_id == "1001"
    assert director.heard[-1] == ("answered", "1001")
    seat.bye()                                                # >> BYE from the seat
    phone.expect("200 BYE")
    assert director.heard[-1] == ("seat left", "1001")
    floor.carrier.expect("BYE")                               # no survey: the caller is hung up


def test_a_survey_keeps_the_caller_after_the_seat_leaves() -> None:
    director = ScriptDirector(keep_after_seat=True)
    floor = hosted_floor(director)
    phone = floor.phone("1001").register()
    call, uuid = answered_by_callfloor(floor)
    control = director.calls[0]
    control.ring_seat("1001", floor.now)
    seat = phone.incoming(phone.expect("INVITE"))
    phone.answer(seat, sdp("10.0.0.11", 40000, "PCMU"))
    floor.take_commands()
    seat.bye()
    phone.expect("200 BYE")
    floor.expect_commands("StopRecording", "ConnectMedia", "Publish call.unbridged")
    assert floor.engine.busy_seats == {}                      # the seat is free for the next call
    control.play("survey", ("survey",), floor.now)
    floor.expect_commands("PlayAudio")
    control.hangup(floor.now, "survey done")
    bye = floor.carrier.expect("BYE")
    floor.carrier.reply(bye, 200)
    ended = [c for c in floor.take_commands() if isinstance(c, WriteCallEnded)]
    assert ended[0].reason == "survey done"
    assert floor.engine.calls == {}


def test_a_seat_that_refuses_is_reported_and_the_next_one_rung() -> None:
    director = ScriptDirector()
    floor = hosted_floor(director)
    first, second = floor.phone("1001").register(), floor.phone("1002").register()
    _, uuid = answered_by_callfloor(floor)
    control = director.calls[0]
    control.ring_seat("1001", floor.now)
    busy = first.incoming(first.expect("INVITE"))
    busy.reply(486)
    first.expect("ACK")
    assert director.heard[-1] == ("failed", "1001", 486)
    assert "1001" not in floor.engine.busy_seats
    control.ring_seat("1002", floor.now)
    ringing = second.incoming(second.expect("INVITE"))
    ringing.reply(180)
    control.cancel_seat("1002", floor.now)                    # the ACD's no-answer timer fired
    second.expect("CANCEL")
    assert floor.engine.busy_seats == {}


def test_the_caller_leaving_while_a_seat_rings_cancels_it() -> None:
    director = ScriptDirector()
    floor = hosted_floor(director)
    phone = floor.phone("1001").register()
    call, _ = answered_by_callfloor(floor)
    director.calls[0].ring_seat("1001", floor.now)
    seat = phone.incoming(phone.expect("INVITE"))
    seat.reply(180)
    call.bye()
    call.expect("200 BYE")
    assert director.heard[-1] == ("gone", "hangup")
    phone.expect("CANCEL")


def test_feature_codes_and_direct_calls_reach_the_director() -> None:
    director = ScriptDirector()
    floor = hosted_floor(director)
    phone = floor.phone("1001").register()
    dial = phone.dial("*2")
    ok = dial.expect("200")                                   # answered: a confirmation prompt follows
    dial.ack(ok)
    assert director.heard[-1] == ("feature", "1001", "*2")
    director.calls[0].hangup(floor.now, "feature done")
    phone.reply(phone.expect("BYE"), 200)
    floor.take_commands()
    # A call straight to a routed number is not the director's, but it must know the seat is busy.
    direct = floor.carrier.call("+15550100", CARRIER_OFFER)
    floor.carrier.expect("100")
    phone.incoming(phone.expect("INVITE"))
    assert director.heard[-1] == ("busy", "1001", True)
    direct.cancel()
    floor.carrier.expect("200 CANCEL")
    assert director.heard[-1] == ("busy", "1001", True)      # still ringing until the phone stops


def test_a_transfer_to_an_outside_number_goes_through_the_carrier() -> None:
    director = ScriptDirector()
    floor = hosted_floor(director)
    call, uuid = answered_by_callfloor(floor)
    control = director.calls[0]
    assert control.ring_number("+15557654321", floor.now)
    out = floor.carrier.expect("INVITE")                      # << INVITE to the carrier
    assert out.uri == "sip:+15557654321@203.0.113.5:5060"
    assert out.body and b"m=audio 20002" in out.body
    leg = floor.carrier.incoming(out)
    leg.reply(407, headers=[("Proxy-Authenticate", 'Digest realm="carrier", nonce="n1", algorithm=MD5')])
    floor.carrier.expect("ACK")
    again = floor.carrier.expect("INVITE")                    # answered with the trunk's credentials
    assert 'username="floor"' in (again.headers.get("Proxy-Authorization") or "")
    leg = floor.carrier.incoming(again)
    leg.reply(200, sdp("203.0.113.5", 31000, "PCMU"))
    floor.carrier.expect("ACK")
    answered = [c for c in floor.take_commands() if isinstance(c, WriteCallAnswered)]
    assert answered and answered[0].seat_id is None           # no seat took it: a number did
    assert director.heard[-1] == ("answered", "number:+15557654321")
    assert floor.engine.busy_seats == {}
