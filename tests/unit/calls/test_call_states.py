"""The Call state machine (h2's style): the table walked exhaustively and at random, then random
ladders through the whole engine that must always end with every resource released."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.calls.call import TRANSITIONS, Call, CallInput, CallState
from telephony.calls.commands import MediaTimedOut, Side, WriteCallEnded, WriteCallStarted
from telephony.calls.context import EngineContext
from telephony.calls.ids import IdFactory
from telephony.sip.errors import LocalProtocolError
from telephony.sip.message import Request, Response
from tests.unit.calls.ladder import (
    CARRIER_HOST,
    CARRIER_OFFER,
    Floor,
    PeerCall,
    Phone,
    make_policy,
    sdp,
)

S, In = CallState, CallInput
# Pairs that cannot happen: a missing entry is our own bug, raised as LocalProtocolError.
UNDEFINED = {
    (S.ROUTING, In.CLOSED), (S.RINGING, In.CLOSED), (S.ANSWERED, In.CLOSED),
    (S.ANSWERED, In.ALL_FORKS_FAILED), (S.ANSWERED, In.RING_TIMEOUT), (S.ANSWERED, In.CANCEL),
    # Hosted calls: only a call being routed is answered by callfloor itself, only a bridged one
    # is unbridged, and a hosted caller was answered, so it cannot CANCEL or ring out.
    (S.RINGING, In.HOST), (S.ANSWERED, In.HOST), (S.HOSTED, In.HOST),
    (S.ROUTING, In.UNBRIDGE), (S.RINGING, In.UNBRIDGE), (S.HOSTED, In.UNBRIDGE),
    (S.HOSTED, In.CLOSED), (S.HOSTED, In.RING_TIMEOUT), (S.HOSTED, In.CANCEL),
}


def new_call() -> Call:
    ctx = EngineContext(make_policy(), IdFactory(random.Random(1)))
    return Call(ctx, uuid="c1", direction="inbound", caller="a", callee="b", seat_id="1001",
                ports={}, now=0.0, on_done=lambda call: None)


def test_every_pair_is_a_transition_or_a_local_protocol_error() -> None:
    pairs = set(itertools.product(CallState, CallInput))
    assert set(TRANSITIONS) == pairs - UNDEFINED
    for state, event in sorted(UNDEFINED, key=str):
        call = new_call()
        call.state = state
        with pytest.raises(LocalProtocolError, match=f"{event.name} in {state.name}"):
            call._step(event)
        assert call.state is state                           # a refused input changes nothing


def test_table_shape() -> None:
    assert all(TRANSITIONS[(S.ENDED, i)] is S.ENDED for i in In)   # absorbing
    assert {s for (s, i), t in TRANSITIONS.items() if i is In.CLOSED and t is S.ENDED} == {
        S.ENDING, S.ENDED}                                   # only a call that is ending closes
    assert S.ROUTING not in TRANSITIONS.values()             # nothing goes back to routing
    assert all(TRANSITIONS[(s, In.HANGUP)] is S.ENDING
               for s in (S.ROUTING, S.RINGING, S.ANSWERED, S.HOSTED))


@given(st.lists(st.sampled_from(list(CallInput)), max_size=30))
def test_random_walk_follows_the_table(events: list[CallInput]) -> None:
    call = new_call()
    for event in events:
        before = call.state
        target = TRANSITIONS.get((before, event))
        if target is None:
            with pytest.raises(LocalProtocolError):
                call._step(event)
            assert call.state is before
        else:
            assert call._step(event) is target


# -- random ladders through the engine ------------------------------------------------------------
ACTIONS = ["ring", "ring_first", "answer", "answer_first", "busy", "decline", "cancel",
           "carrier_bye", "seat_bye", "hold", "seat_hold", "media_timeout", "tick", "ring_out",
           "drain", "second_call", "timed_call", "lose_ack", "carrier_gone", "phone_gone"]


class Auto:
    """Peers that answer whatever callfloor sends them, as well-behaved phones would."""

    def __init__(self, floor: Floor, phones: list[Phone]) -> None:
        self.floor, self.phones = floor, phones
        self.calls: list[PeerCall] = []
        self.forks: list[PeerCall] = []
        self.final: set[int] = set()                          # id() of forks with a final response
        self.skip_ack = False

    def settle(self) -> None:
        peers = [self.floor.carrier, *self.phones]
        for _ in range(50):
            self.floor.pump()
            if not any(p.inbox for p in peers):
                return
            while self.floor.carrier.inbox:
                self._carrier(self.floor.carrier.inbox.popleft())
            for phone in self.phones:
                while phone.inbox:
                    self._phone(phone, phone.inbox.popleft())
        raise AssertionError("the peers and callfloor keep talking")

    def _carrier(self, message: Request | Response) -> None:
        carrier = self.floor.carrier
        if isinstance(message, Response):
            call = next((c for c in self.calls if c.call_id == message.call_id), None)
            if call is None or message.cseq.method != "INVITE" or message.status < 200:
                return
            if message.status < 300:
                call.remote_tag = message.to.tag or ""
                call.remote_target = message.contacts[0].uri if message.contacts else call.remote_target
                if self.skip_ack:
                    self.skip_ack = False
                    return
            call.ack(message)
        elif message.method in ("BYE", "UPDATE", "OPTIONS"):
            carrier.reply(message, 200)
        elif message.method == "INVITE":
            carrier.reply(message, 200, body=sdp(CARRIER_HOST, 30000, "PCMA"))

    def _phone(self, phone: Phone, message: Request | Response) -> None:
        if isinstance(message, Response):
            fork = next((f for f in self.forks if f.call_id == message.call_id), None)
            if fork is not None and message.cseq.method == "INVITE" and message.status >= 200:
                fork.ack(message)
            return
        if message.method == "INVITE" and not message.to.tag:
            self.forks.append(phone.incoming(message))
        elif message.method == "INVITE":
            phone.reply(message, 200, to_tag=None, body=sdp(phone.peer.host, 40000))
        elif message.method == "CANCEL":
            phone.reply(message, 200)
            fork = next((f for f in self.forks if f.call_id == message.call_id), None)
            if fork is not None and id(fork) not in self.final:
                self.final.add(id(fork))
                fork.reply(487)
        elif message.method in ("BYE", "UPDATE", "OPTIONS"):
            phone.reply(message, 200)

    def open_fork(self, first: bool) -> PeerCall | None:
        forks = self.forks if first else list(reversed(self.forks))
        return next((f for f in forks if id(f) not in self.final), None)

    def act(self, action: str) -> None:
        floor, fork = self.floor, self.open_fork(action.endswith("_first"))
        action = action.removesuffix("_first")
        call = self.calls[-1] if self.calls else None
        answered = [f for f in self.forks if f.remote_tag and id(f) in self.final]
        if action == "ring" and fork is not None:
            fork.reply(180)
        elif action in ("answer", "busy", "decline") and fork is not None:
            self.final.add(id(fork))
            status = {"answer": 200, "busy": 486, "decline": 603}[action]
            fork.reply(status, sdp(fork.endpoint.peer.host, 40000) if status == 200 else b"")
        elif action == "cancel" and call is not None:
            call.cancel()
        elif action == "carrier_bye" and call is not None and call.remote_tag:
            call.bye()
        elif action == "seat_bye" and answered:
            answered[-1].bye()
        elif action == "hold" and call is not None and call.remote_tag:
            call.send_invite(sdp(CARRIER_HOST, 30000, "PCMA", direction="sendonly", version=2))
        elif action == "seat_hold" and answered:
            answered[-1].send_invite(sdp("10.0.0.11", 40000, direction="inactive", version=2))
        elif action == "media_timeout":
            for uuid in list(floor.engine.calls):
                floor.engine.media_event(MediaTimedOut(uuid, Side.SEAT), floor.now)
        elif action == "tick":
            floor.advance(5.0)
        elif action == "ring_out":
            floor.advance(31.0)
        elif action == "drain":
            floor.engine.drain(floor.now)
        elif action == "carrier_gone":
            floor.engine.transport_error(floor.carrier.peer, floor.now)
        elif action == "phone_gone":
            floor.engine.transport_error(self.phones[-1].peer, floor.now)
        elif action == "lose_ack":
            self.skip_ack = True
        elif action == "timed_call":
            self.calls.append(floor.carrier.call("+15550100", CARRIER_OFFER, headers=[
                ("Session-Expires", "90;refresher=uas"), ("Supported", "timer")]))
        elif action == "second_call" or (action == "cancel" and call is None):
            self.calls.append(floor.carrier.call("+15550100", CARRIER_OFFER))
        self.settle()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ACTIONS), max_size=12), st.booleans())
def test_any_ladder_ends_with_everything_released(actions: list[str], two_phones: bool) -> None:
    floor = Floor()
    phones = [floor.phone("1001").register(expires=3600) for _ in range(1 + two_phones)]
    auto = Auto(floor, phones)
    auto.act("second_call")                                  # the first call
    for action in actions:
        auto.act(action)
    for call in auto.calls:                                  # the customer hangs up in the end
        if call.remote_tag:
            call.bye()
    auto.settle()
    floor.advance(120.0)                                     # ring timers, Timer B/F/H/L, ...
    auto.settle()
    engine = floor.engine
    assert engine.calls == {} and engine.busy_seats == {}
    assert len(engine.ports) == engine.ports.size
    assert engine.ctx.legs == {} and engine.ctx.server_invites == {}
    assert engine.ctx.client_owners == {}
    assert set(engine.ctx._timer_fns) <= {("registrar", "expire")}
    commands = floor.take_commands()
    started = [c.uuid for c in commands if isinstance(c, WriteCallStarted)]
    ended = [c.uuid for c in commands if isinstance(c, WriteCallEnded)]
    assert sorted(started) == sorted(ended)                  # every row is closed exactly once
