"""An answered dial: the customer is hosted at once (prompts, the answering-machine tap, the
recording from the answer), the dialer rings a seat with auto-answer in the same step, and the
seat is bridged as for any hosted call; either side's BYE ends it."""

from __future__ import annotations

from dataclasses import dataclass, field

from telephony.calls.call import CallState
from telephony.calls.commands import (
    AnalyzeAudio,
    AudioClassified,
    ConnectMedia,
    PlayAudio,
    PlaybackFinished,
    Publish,
    Side,
    StartRecording,
    StopRecording,
    WriteCallAnswered,
    WriteCallEnded,
)
from telephony.calls.director import CallControl, DialControl
from telephony.calls.engine import CallEngine
from telephony.calls.outbound import OriginatedCall
from tests.unit.calls.ladder import CARRIER_HOST, Floor, PeerCall, Phone, sdp
from tests.unit.calls.test_outbound_dial import NUMBER, UUID, ScriptDialer, answered, dial

AUTO_ANSWER = {
    "Call-Info": "<sip:192.0.2.1>;answer-after=0",
    "Alert-Info": "<http://127.0.0.1>;info=alert-autoanswer",
    "Answer-Mode": "Auto",
}


@dataclass
class BusyDirector:
    """The inbound director (the ACD) only needs to hear that a seat is busy with a dial."""

    heard: list[tuple[str, bool]] = field(default_factory=list)

    def takes(self, number: str) -> bool:
        return False

    def is_feature_code(self, dialled: str) -> bool:
        return False

    def call_arrived(self, call: CallControl, now: float) -> None:
        raise AssertionError("no inbound call here")

    def feature_code(self, seat: str, dialled: str, call: CallControl, now: float) -> None:
        raise AssertionError("no feature code here")

    def seat_reachable(self, seat: str, reachable: bool, now: float) -> None:
        pass

    def seat_busy(self, seat: str, busy: bool, now: float) -> None:
        self.heard.append((seat, busy))


def ring_on_answer(call: DialControl, now: float) -> None:
    """What the dialer does with a live answer: ring the reserved seat, asking it to pick up."""
    assert call.ring_seat("1001", now, auto_answer=True, headers=[("X-Callfloor-Lead", "42")])


def bridged(floor: Floor, phone: Phone,
            dialer: ScriptDialer) -> tuple[OriginatedCall, PeerCall, PeerCall]:
    """Dial, the customer answers (A-law), the seat is rung at once and answers."""
    dialer.on_answer = ring_on_answer
    call, customer = answered(floor, dialer)
    seat = phone.incoming(phone.expect("INVITE"))
    phone.answer(seat, sdp("10.0.0.11", 40000, "PCMA"))
    floor.take_commands()
    return call, customer, seat


def test_the_seat_is_rung_with_auto_answer_in_the_same_step_as_the_answer() -> None:
    director = BusyDirector()
    floor = Floor()
    floor.engine = CallEngine(floor.policy, ids=floor.engine.ctx.ids, director=director)
    phone = floor.phone("1001").register()
    dialer = ScriptDialer(on_answer=ring_on_answer)
    call, customer = dial(floor, dialer)
    customer.reply(180)
    floor.take_commands()
    customer.reply(200, sdp(CARRIER_HOST, 30000, "PCMA"))     # >> 200 from the carrier
    floor.carrier.expect("ACK")                                # << ACK
    invite = phone.expect("INVITE")                            # << INVITE to the seat: no wait
    assert {name: invite.headers.get(name) for name in AUTO_ANSWER} == AUTO_ANSWER
    assert invite.headers.get("X-Callfloor-Lead") == "42"
    assert invite.from_.uri == f"sip:{NUMBER}@192.0.2.1"      # the seat sees the customer
    assert invite.uri == "sip:1001@10.0.0.11:5060"
    assert b"m=audio 20002 RTP/AVP 8 0 101" in invite.body     # the customer's law first
    floor.expect_commands("SetMediaPeer customer PCMA", "StartRecording",
                          "Publish call.dial_answered")
    assert floor.engine.busy_seats == {"1001": {UUID}} and director.heard == [("1001", True)]
    seat = phone.incoming(invite)
    phone.answer(seat, sdp("10.0.0.11", 40000, "PCMA"))       # >> 200 from the seat, << ACK
    _, connect, answer, _ = floor.expect_commands(             # bridged at once, no new file
        "SetMediaPeer seat PCMA", "ConnectMedia", "WriteCallAnswered", "Publish call.answered")
    assert connect == ConnectMedia(UUID, True)
    assert answer == WriteCallAnswered(UUID, floor.now, "1001")
    assert dialer.heard == [("progress", 180), ("answered",), ("seat answered", "1001")]
    assert call.state is CallState.ANSWERED and call.seat_id == "1001"
    floor.quiet()
    call.hangup(floor.now, "done")
    floor.carrier.reply(floor.carrier.expect("BYE"), 200)
    assert director.heard == [("1001", True)]                  # until the seat's leg is closed
    phone.reply(phone.expect("BYE"), 200)
    assert director.heard == [("1001", True), ("1001", False)]
    assert floor.engine.calls == {} and floor.engine.busy_seats == {}


def test_the_customers_bye_ends_both_legs() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    dialer = ScriptDialer()
    _, customer, _ = bridged(floor, phone, dialer)
    customer.bye()                                              # >> BYE from the customer
    floor.carrier.expect("200 BYE")
    bye = phone.expect("BYE")                                   # << BYE to the seat
    phone.reply(bye, 200)
    assert dialer.heard[-1] == ("gone", "hangup")
    assert dialer.ended == [("hangup", "customer")]             # the dialer closes its attempt
    _, ended, _ = floor.expect_commands("CloseMedia", "WriteCallEnded hangup", "Publish call.ended")
    assert ended == WriteCallEnded(UUID, floor.now, "hangup", sip_status=200, hangup_by="customer")
    assert floor.engine.calls == {} and floor.engine.busy_seats == {}


def test_the_seats_bye_ends_the_call_unless_the_dialer_keeps_the_customer() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    dialer = ScriptDialer()
    _, _, seat = bridged(floor, phone, dialer)
    seat.bye()                                                  # >> BYE from the seat
    phone.expect("200 BYE")
    bye = floor.carrier.expect("BYE")                           # << BYE to the customer
    floor.carrier.reply(bye, 200)
    assert dialer.heard[-1] == ("seat left", "1001")
    assert dialer.ended == [("hangup", "seat")]                 # once, whoever ended it
    ended = [c for c in floor.take_commands() if isinstance(c, WriteCallEnded)]
    assert [(e.reason, e.hangup_by, e.sip_status) for e in ended] == [("hangup", "seat", 200)]
    # A survey after the seat: the customer stays hosted and the recording goes on.
    floor = Floor()
    phone = floor.phone("1001").register()
    dialer = ScriptDialer(keep_after_seat=True)
    call, _, seat = bridged(floor, phone, dialer)
    seat.bye()
    phone.expect("200 BYE")
    floor.expect_commands("ConnectMedia", "Publish call.unbridged")   # no StopRecording
    assert call.state is CallState.HOSTED and floor.engine.busy_seats == {}
    floor.quiet()


def test_an_abandoned_call_hears_its_message_and_is_recorded_without_a_seat() -> None:
    floor = Floor()
    dialer = ScriptDialer()
    call, _ = answered(floor, dialer)
    floor.advance(2.0)                                          # no seat free within 2 s
    call.play("abandon", ("abandon_message",), floor.now)
    [play] = floor.expect_commands("PlayAudio")
    assert play == PlayAudio(UUID, Side.CUSTOMER, "abandon", ("abandon_message",), False)
    floor.engine.media_event(PlaybackFinished(UUID, Side.CUSTOMER, "abandon"), floor.now)
    assert dialer.heard[-1] == ("played", "abandon")
    call.hangup(floor.now, "abandoned")
    floor.carrier.reply(floor.carrier.expect("BYE"), 200)
    commands = floor.take_commands()
    assert not [c for c in commands if isinstance(c, (WriteCallAnswered, StopRecording))]
    [ended] = [c for c in commands if isinstance(c, WriteCallEnded)]
    assert (ended.reason, ended.sip_status, ended.hangup_by) == ("abandoned", 200, "callfloor")
    assert floor.engine.calls == {}


def test_the_customers_audio_is_analysed_and_the_verdict_reported() -> None:
    floor = Floor()
    dialer = ScriptDialer()
    call, _ = answered(floor, dialer)
    call.analyze("amd", 3.5, floor.now)
    [analyze] = floor.expect_commands("AnalyzeAudio")
    assert analyze == AnalyzeAudio(UUID, Side.CUSTOMER, "amd", 3.5)
    floor.engine.media_event(AudioClassified(UUID, "amd", "machine", {"speech_s": 2.4}), floor.now)
    assert dialer.heard[-1] == ("classified", "amd", "machine", {"speech_s": 2.4})
    [published] = floor.expect_commands("Publish call.classified")
    assert isinstance(published, Publish) and published.payload["verdict"] == "machine"
    floor.engine.media_event(AudioClassified("gone", "amd", "human", {}), floor.now)  # ignored
    floor.quiet()


def test_a_seat_that_refuses_is_reported_and_the_customer_stays_hosted() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    dialer = ScriptDialer()
    call, _ = answered(floor, dialer, codec="PCMU")
    assert call.ring_seat("1001", floor.now)                   # no auto-answer asked
    invite = phone.expect("INVITE")
    assert invite.headers.get("Call-Info") is None and invite.headers.get("Answer-Mode") is None
    assert b"m=audio 20002 RTP/AVP 0 8 101" in invite.body
    seat = phone.incoming(invite)
    seat.reply(486)
    phone.expect("ACK")
    assert dialer.heard[-1] == ("seat failed", "1001", 486)
    assert call.state is CallState.HOSTED and floor.engine.busy_seats == {}
    assert not call.ring_seat("1003", floor.now)               # not registered
    started = [c for c in floor.take_commands() if isinstance(c, StartRecording)]
    assert started == []                                       # the one from the answer goes on


def test_the_customers_re_invite_still_steers_the_relay_once_bridged() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    dialer = ScriptDialer()
    _, customer, _ = bridged(floor, phone, dialer)
    customer.send_invite(sdp(CARRIER_HOST, 31000, "PCMA", version=2))   # >> re-INVITE (new port)
    customer.expect("100")
    customer.ack(customer.expect("200"))
    [moved, _] = floor.expect_commands("SetMediaPeer customer PCMA", "Publish call.media")
    assert moved.port == 31000  # type: ignore[union-attr]
