"""The dialer's calls: callfloor originates a call to a customer through the carrier. Only a 2xx is
an answer; 180/183 (early media or not) are progress; every refusal, the ring timeout and no
response at all end the call with its outcome and a closed call-detail row."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pytest

from telephony.calls.call import CallState
from telephony.calls.commands import (
    OpenMedia,
    Publish,
    Side,
    StartRecording,
    WriteCallEnded,
    WriteCallStarted,
)
from telephony.calls.director import CallControl, DialControl
from telephony.calls.outbound import OriginatedCall, OriginateRefused, dial_outcome
from telephony.sip.message import Request
from tests.unit.calls.ladder import CARRIER_HOST, Floor, PeerCall, make_policy, sdp

NUMBER = "+15557654321"
CALLER_ID = "+15550199"
UUID = "dial-1"


@dataclass
class ScriptDialer:
    """A dialer that writes down what it hears; ``on_answer`` acts on the answer at once."""

    keep_after_seat: bool = False
    on_answer: Callable[[DialControl, float], None] | None = None
    heard: list[tuple[object, ...]] = field(default_factory=list)
    ended: list[tuple[str, str | None]] = field(default_factory=list)  # (reason, by) of call_ended

    def dial_progress(self, call: DialControl, status: int, now: float) -> None:
        self.heard.append(("progress", status))

    def dial_answered(self, call: DialControl, now: float) -> None:
        self.heard.append(("answered",))
        if self.on_answer is not None:
            self.on_answer(call, now)

    def call_ended(self, call: DialControl, reason: str, by: str | None, now: float) -> None:
        self.ended.append((reason, by))

    def dial_failed(self, call: DialControl, status: int, reason: str, now: float) -> None:
        self.heard.append(("failed", status, reason))

    def audio_classified(self, call: DialControl, token: str, verdict: str,
                         detail: dict[str, float], now: float) -> None:
        self.heard.append(("classified", token, verdict, detail))

    def digit(self, call: CallControl, digit: str, source: str, now: float) -> None:
        self.heard.append(("digit", digit, source))

    def playback_done(self, call: CallControl, token: str, now: float) -> None:
        self.heard.append(("played", token))

    def seat_answered(self, call: CallControl, seat: str, now: float) -> None:
        self.heard.append(("seat answered", seat))

    def seat_failed(self, call: CallControl, seat: str, status: int, now: float) -> None:
        self.heard.append(("seat failed", seat, status))

    def seat_hung_up(self, call: CallControl, seat: str, now: float) -> bool:
        self.heard.append(("seat left", seat))
        return self.keep_after_seat

    def caller_gone(self, call: CallControl, reason: str, now: float) -> None:
        self.heard.append(("gone", reason))

    def recording_done(self, call: CallControl, token: str, path: str, seconds: float,
                       now: float) -> None:
        self.heard.append(("recorded", token))


def dial(floor: Floor, dialer: ScriptDialer, *, ring_timeout: float = 30.0, uuid: str = UUID,
         headers: Iterable[tuple[str, str]] = ()) -> tuple[OriginatedCall, PeerCall]:
    """originate(), << INVITE to the carrier; returns the call and the carrier's side of it."""
    call = floor.engine.originate(NUMBER, caller_id=CALLER_ID, uuid=uuid, observer=dialer,
                                  ring_timeout=ring_timeout, now=floor.now, headers=tuple(headers))
    assert call is not None
    floor.pump()
    return call, floor.carrier.incoming(floor.carrier.expect("INVITE"))


def answered(floor: Floor, dialer: ScriptDialer, codec: str = "PCMA") -> tuple[OriginatedCall, PeerCall]:
    """The ladder up to the customer's answer and our ACK, commands drained."""
    floor.take_commands()
    call, customer = dial(floor, dialer)
    customer.reply(180)
    customer.reply(200, sdp(CARRIER_HOST, 30000, codec))
    floor.carrier.expect("ACK")
    floor.take_commands()
    return call, customer


def test_the_invite_goes_to_the_carrier_with_the_campaign_caller_id() -> None:
    floor = Floor()
    floor.take_commands()
    call, customer = dial(floor, ScriptDialer(), headers=[("X-Callfloor-Lead", "42")])
    invite = customer.invite
    assert invite.uri == "sip:+15557654321@203.0.113.5:5060"
    assert invite.from_.uri == "sip:+15550199@192.0.2.1" and invite.from_.tag
    assert invite.headers.get("To") == "<sip:+15557654321@203.0.113.5>"
    assert invite.headers.get("Contact") == "<sip:callfloor@192.0.2.1:5060>"
    assert invite.headers.get("Max-Forwards") == "70"
    assert invite.headers.get("X-Callfloor-Lead") == "42"
    assert invite.headers.get("Proxy-Authorization") is None   # only once challenged
    assert b"c=IN IP4 192.0.2.1" in invite.body
    assert b"m=audio 20000 RTP/AVP 0 8 101" in invite.body     # both laws, telephone-event
    opened, started, offered = floor.expect_commands("OpenMedia", "WriteCallStarted",
                                                     "Publish call.offered")
    assert opened == OpenMedia(UUID, {Side.CUSTOMER: 20000, Side.SEAT: 20002}, hosted=Side.CUSTOMER)
    assert started == WriteCallStarted(UUID, invite.call_id, "outbound", CALLER_ID, NUMBER, "",
                                       None, floor.now)
    assert isinstance(offered, Publish) and offered.payload["direction"] == "outbound"
    assert floor.engine.calls == {UUID: call} and call.state is CallState.ROUTING
    floor.quiet()


def test_ringing_and_early_media_are_progress_never_an_answer() -> None:
    floor = Floor()
    dialer = ScriptDialer()
    call, customer = dial(floor, dialer)
    floor.take_commands()
    customer.reply(100)
    customer.reply(183, sdp(CARRIER_HOST, 30000, "PCMA"))    # >> 183 with SDP: early media
    [progress] = floor.expect_commands("Publish call.progress")
    assert isinstance(progress, Publish) and progress.payload["early_media"] is True
    customer.reply(180)                                       # >> 180 without SDP
    floor.expect_commands("Publish call.progress")            # no SetMediaPeer: nobody hears it
    floor.advance(20.0)
    assert dialer.heard == [("progress", 183), ("progress", 180)]
    assert call.state is CallState.RINGING and call.customer_answered_at is None
    floor.quiet()
    customer.reply(200, sdp(CARRIER_HOST, 30000, "PCMA"))    # >> 200: the answer
    floor.carrier.expect("ACK")                               # << ACK
    media, recording, _ = floor.expect_commands(
        "SetMediaPeer customer PCMA", "StartRecording", "Publish call.dial_answered")
    assert recording == StartRecording(UUID, f"2023/11/14/{UUID}.wav")
    assert dialer.heard[-1] == ("answered",)
    assert state_of(call) is CallState.HOSTED and call.customer_answered_at == floor.now
    floor.quiet()


def state_of(call: OriginatedCall) -> CallState:
    """The call's state now (mypy keeps a narrowed attribute across the ladder's steps)."""
    return call.state


@pytest.mark.parametrize(("status", "reason"), [
    (486, "busy"), (600, "busy"), (603, "declined"), (480, "no_answer"), (408, "no_answer"),
    (404, "invalid_number"), (484, "invalid_number"), (503, "network_error"),
    (500, "network_error"), (403, "rejected"), (488, "rejected"),
])
def test_a_refusal_ends_the_call_with_its_outcome(status: int, reason: str) -> None:
    floor = Floor()
    dialer = ScriptDialer()
    free = len(floor.engine.ports)
    call, customer = dial(floor, dialer)
    floor.take_commands()
    customer.reply(180)
    customer.reply(status)                                    # >> final non-2xx
    floor.carrier.expect("ACK")                               # << ACK (same transaction)
    _, _, ended, _ = floor.expect_commands("Publish call.progress", "CloseMedia",
                                           f"WriteCallEnded {reason}", "Publish call.ended")
    assert ended == WriteCallEnded(UUID, floor.now, reason, sip_status=status, hangup_by=None)
    assert dialer.heard == [("progress", 180), ("failed", status, reason)]
    assert floor.engine.calls == {} and len(floor.engine.ports) == free
    assert call.state is CallState.ENDED
    floor.quiet()


def test_no_answer_before_the_ring_timeout_cancels_the_call() -> None:
    floor = Floor()
    dialer = ScriptDialer()
    _, customer = dial(floor, dialer, ring_timeout=25.0)
    floor.take_commands()
    customer.reply(180)
    floor.advance(24.9)
    floor.carrier.expect_nothing()
    floor.advance(0.1)
    cancel = floor.carrier.expect("CANCEL")                   # << CANCEL (§9.1)
    assert cancel.cseq.number == customer.invite.cseq.number
    assert dialer.heard[-1] == ("failed", 408, "no_answer")
    _, _, ended, _ = floor.expect_commands("Publish call.progress", "CloseMedia",
                                           "WriteCallEnded no_answer", "Publish call.ended")
    assert isinstance(ended, WriteCallEnded) and ended.sip_status == 408
    assert UUID in floor.engine.calls                         # until the INVITE is answered
    floor.carrier.reply(cancel, 200)
    customer.reply(487)
    floor.carrier.expect("ACK")
    assert floor.engine.calls == {} and len(dialer.heard) == 2
    floor.quiet()


def test_no_response_at_all_is_a_network_error() -> None:
    floor = Floor()
    dialer = ScriptDialer()
    dial(floor, dialer, ring_timeout=60.0)
    floor.take_commands()
    floor.advance(31.9)
    assert dialer.heard == []
    floor.advance(0.2)                                        # Timer B: 64 * T1 (RFC 3261 §17.1.1.2)
    assert dialer.heard == [("failed", 408, "network_error")]
    floor.expect_commands("CloseMedia", "WriteCallEnded network_error", "Publish call.ended")
    assert floor.carrier.retransmissions > 0 and floor.engine.calls == {}


def test_the_carriers_407_is_answered_with_the_trunk_credentials() -> None:
    floor = Floor()
    dialer = ScriptDialer()
    _, customer = dial(floor, dialer)
    challenge = 'Digest realm="carrier", nonce="n1", qop="auth", algorithm=MD5'
    customer.reply(407, headers=[("Proxy-Authenticate", challenge)])
    floor.carrier.expect("ACK")
    again: Request = floor.carrier.expect("INVITE")           # << INVITE with credentials
    first = customer.invite
    assert (again.call_id, again.from_.tag, again.cseq.number) == (
        first.call_id, first.from_.tag, first.cseq.number + 1)
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', again.headers.get("Proxy-Authorization") or ""))
    assert (fields["username"], fields["realm"], fields["uri"]) == ("floor", "carrier", first.uri)

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1, ha2 = md5("floor:carrier:trunkpass"), md5(f"INVITE:{first.uri}")
    assert fields["response"] == md5(f"{ha1}:n1:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
    leg = floor.carrier.incoming(again)
    leg.reply(200, sdp(CARRIER_HOST, 30000, "PCMU"))
    ack = floor.carrier.expect("ACK")
    assert ack.headers.get("Proxy-Authorization") == again.headers.get("Proxy-Authorization")
    assert dialer.heard == [("answered",)]


def test_hanging_up_while_it_rings_cancels_the_dial() -> None:
    floor = Floor()
    dialer = ScriptDialer()
    call, customer = dial(floor, dialer)
    customer.reply(183, sdp(CARRIER_HOST, 30000, "PCMA"))
    floor.take_commands()
    call.hangup(floor.now, "pacing")                          # the dialer changed its mind
    floor.carrier.expect("CANCEL")
    assert dialer.heard[-1] == ("failed", 487, "pacing")
    _, ended, _ = floor.expect_commands("CloseMedia", "WriteCallEnded pacing", "Publish call.ended")
    assert isinstance(ended, WriteCallEnded) and (ended.sip_status, ended.hangup_by) == (487, "callfloor")


def test_drain_cancels_dials_and_refuses_new_ones() -> None:
    floor = Floor()
    dialer = ScriptDialer()
    _, customer = dial(floor, dialer)
    customer.reply(180)
    floor.engine.drain(floor.now)
    floor.carrier.expect("CANCEL")
    assert dialer.heard[-1] == ("failed", 487, "shutdown")
    with pytest.raises(OriginateRefused, match="draining"):
        dial(floor, dialer, uuid="dial-2")


def test_what_originate_refuses() -> None:
    assert Floor(make_policy(trunk=None)).engine.originate(
        NUMBER, caller_id=CALLER_ID, uuid=UUID, observer=ScriptDialer(), ring_timeout=30,
        now=0.0) is None                                      # no carrier: nothing to dial through
    floor = Floor()                                           # 5 port pairs: 20000..20008
    dial(floor, ScriptDialer())
    for uuid, reason in ((UUID, "duplicate_uuid"), ("dial-x", "number_not_allowed")):
        with pytest.raises(OriginateRefused) as refused:
            floor.engine.originate("+442079460000" if uuid == "dial-x" else NUMBER,
                                   caller_id=CALLER_ID, uuid=uuid, observer=ScriptDialer(),
                                   ring_timeout=30, now=floor.now)
        assert refused.value.reason == reason
    dial(floor, ScriptDialer(), uuid="dial-2")
    assert len(floor.engine.ports) == 1
    with pytest.raises(OriginateRefused, match="ports_exhausted"):
        dial(floor, ScriptDialer(), uuid="dial-3")
    assert len(floor.engine.ports) == 1 and set(floor.engine.calls) == {UUID, "dial-2"}


def test_dial_outcomes_by_status() -> None:
    assert [dial_outcome(s) for s in (486, 600, 603, 480, 487, 410, 502, 606, 401)] == [
        "busy", "busy", "declined", "no_answer", "no_answer", "invalid_number", "network_error",
        "rejected", "rejected"]
    assert dial_outcome(408, timed_out=True) == "network_error"
