"""The four transaction state machines, walked exhaustively and at random (h2's style).

Every (state, input) pair of a kind is in its table: a transition, a defined no-op, or a
LocalProtocolError for a send the state forbids. Random walks through the public API check that
nothing else can happen and that every transaction ends once the TU has answered.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.sip.errors import LocalProtocolError
from telephony.sip.message import Request, Response, make_response
from telephony.sip.transaction import (
    AckReceived,
    RequestReceived,
    ResponseReceived,
    TxEvent,
    TxInput,
    TxState,
)
from telephony.sip.transaction.base import Transaction, reject
from telephony.sip.transaction.client import ClientInvite, ClientNonInvite
from telephony.sip.transaction.server import ServerInvite, ServerNonInvite
from tests.unit.sip.test_transaction_support import (
    PHONE,
    TRUNK,
    ack_for_2xx,
    answer,
    new_layer,
    our_request,
    request,
    run_until,
)

KINDS: list[type[Transaction]] = [ClientInvite, ClientNonInvite, ServerInvite, ServerNonInvite]
SENDS = {TxInput.SEND_1XX, TxInput.SEND_2XX, TxInput.SEND_FINAL}


def table(kind: type[Transaction]) -> dict[tuple[TxState, TxInput], tuple[object, TxState]]:
    return dict(kind.TABLE)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_table_is_total_over_states_and_inputs(kind: type[Transaction]) -> None:
    tbl = table(kind)
    expected = {(s, i) for s in kind.STATES for i in kind.INPUTS}
    assert set(tbl) == expected
    assert TxState.TERMINATED not in kind.STATES
    for (state, inp), (action, target) in tbl.items():
        assert target in kind.STATES | {TxState.TERMINATED}
        if action is reject:
            assert inp in SENDS and target is state
        if action is None and target is not TxState.TERMINATED:
            assert target is state  # a no-op never moves


def test_client_kinds_never_send_responses() -> None:
    assert not (ClientInvite.INPUTS | ClientNonInvite.INPUTS) & SENDS
    assert not (ServerInvite.INPUTS | ServerNonInvite.INPUTS) & {
        TxInput.RECV_1XX, TxInput.RECV_2XX, TxInput.RECV_FINAL,
    }


def _make(kind: type[Transaction]) -> tuple[Transaction, Request]:
    layer = new_layer()
    if kind in (ClientInvite, ClientNonInvite):
        req = our_request("INVITE" if kind is ClientInvite else "OPTIONS")
        key = ("z9hG4bKc1", req.method)
        txn: Transaction = kind(key, req, TRUNK, layer)
        return txn, req
    req = request("INVITE" if kind is ServerInvite else "OPTIONS")
    key = ("z9hG4bKa1", req.method)
    if kind is ServerInvite:
        return ServerInvite(key, req, PHONE, PHONE, "192.0.2.10:5060", layer, ("c1", 1, "f1")), req
    return ServerNonInvite(key, req, PHONE, PHONE, "192.0.2.10:5060", layer), req


def _message(inp: TxInput, req: Request) -> Request | Response | None:
    messages: dict[TxInput, Request | Response] = {
        TxInput.RECV_1XX: answer(req, 180),
        TxInput.RECV_2XX: answer(req, 200),
        TxInput.RECV_FINAL: answer(req, 486),
        TxInput.RECV_REQUEST: req,
        TxInput.RECV_ACK: request("ACK", to="<sip:600@203.0.113.1>;tag=x"),
        TxInput.SEND_1XX: make_response(req, 180, to_tag="x"),
        TxInput.SEND_2XX: make_response(req, 200, to_tag="x"),
        TxInput.SEND_FINAL: make_response(req, 486, to_tag="x"),
    }
    return messages.get(inp)


@settings(max_examples=400)
@given(data=st.data())
def test_every_state_input_pair_transitions_or_is_a_defined_noop(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    state = data.draw(st.sampled_from(sorted(kind.STATES, key=lambda s: s.value)))
    inp = data.draw(st.sampled_from(sorted(kind.INPUTS, key=lambda i: i.value)))
    txn, req = _make(kind)
    txn.state = state
    action, target = table(kind)[(state, inp)]
    if action is reject:
        with pytest.raises(LocalProtocolError):
            txn.handle(inp, 1.0, _message(inp, req))
        assert txn.state is state
    else:
        txn.handle(inp, 1.0, _message(inp, req), PHONE)
        assert txn.state is target
    if txn.state is TxState.TERMINATED:
        assert txn.host.get_timer() is None  # type: ignore[attr-defined]


def test_unknown_input_for_a_kind_is_a_local_error() -> None:
    txn, _ = _make(ClientNonInvite)
    with pytest.raises(LocalProtocolError):
        txn.handle(TxInput.TIMER_A, 0.0)


# -- random walks through the public API --------------------------------------------------------

OPS = [
    "invite_again", "ack_same_branch", "ack_new_branch", "cancel", "options_again",
    "send_180", "send_200", "send_486", "options_200",
    "resp_180", "resp_200a", "resp_200b", "resp_486", "send_ack", "options_resp_100",
    "options_resp_200", "options_resp_486", "options_100", "send_cancel", "cancel_resp_200",
    "transport_error", "transport_error_phone", "tick",
]
SKEY = ("z9hG4bKa1", "INVITE")
OKEY = ("z9hG4bKo1", "OPTIONS")


class Walk:
    """One layer with all four kinds live, driven by named operations."""

    def __init__(self) -> None:
        self.layer = new_layer()
        self.now = 0.0
        self.inv = request()
        self.opt = request("OPTIONS", via="SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKo1")
        self.out_inv = our_request()
        self.out_opt = our_request("OPTIONS", branch="z9hG4bKc2")
        self.events: list[TxEvent] = []
        self.events += self.layer.receive(self.inv, PHONE, 0.0)
        self.events += self.layer.receive(self.opt, PHONE, 0.0)
        self.ckey = self.layer.send_request(self.out_inv, TRUNK, 0.0)
        self.okey = self.layer.send_request(self.out_opt, TRUNK, 0.0)

    def do(self, op: str, dt: float) -> None:
        layer, now, before = self.layer, self.now, self.live()
        sends = {
            "send_180": (SKEY, make_response(self.inv, 180, to_tag="u")),
            "send_200": (SKEY, make_response(self.inv, 200, to_tag="u")),
            "send_486": (SKEY, make_response(self.inv, 486, to_tag="u")),
            "options_200": (OKEY, make_response(self.opt, 200, to_tag="u")),
            "options_100": (OKEY, make_response(self.opt, 100)),
        }
        receives: dict[str, tuple[Request | Response, object]] = {
            "invite_again": (request(), PHONE),
            "ack_same_branch": (request("ACK", to="<sip:600@203.0.113.1>;tag=u"), PHONE),
            "ack_new_branch": (ack_for_2xx(self.inv, make_response(self.inv, 200, to_tag="u")),
                               PHONE),
            "cancel": (request("CANCEL"), PHONE),
            "options_again": (request("OPTIONS", via=self.opt.headers.get("Via") or ""), PHONE),
            "resp_180": (answer(self.out_inv, 180), TRUNK),
            "resp_200a": (answer(self.out_inv, 200, tag="a"), TRUNK),
            "resp_200b": (answer(self.out_inv, 200, tag="b"), TRUNK),
            "resp_486": (answer(self.out_inv, 486), TRUNK),
            "options_resp_100": (answer(self.out_opt, 100), TRUNK),
            "options_resp_200": (answer(self.out_opt, 200), TRUNK),
            "options_resp_486": (answer(self.out_opt, 486), TRUNK),
            "cancel_resp_200": (answer(our_request("CANCEL"), 200), TRUNK),
        }
        new: list[TxEvent] = []
        if op in sends:
            key, resp = sends[op]
            try:
                layer.send_response(key, resp, now)
            except LocalProtocolError:
                # Only for a gone transaction or a second final.
                assert key not in before or before[key] in (
                    TxState.COMPLETED, TxState.CONFIRMED, TxState.ACCEPTED)
        elif op in receives:
            msg, peer = receives[op]
            new = layer.receive(msg, peer, now)  # type: ignore[arg-type]
        elif op == "send_ack":
            ack = our_request("ACK", branch="z9hG4bKe2e")
            ack.headers.set("To", "<sip:+15551234@198.51.100.7>;tag=a")
            layer.send_ack(self.ckey, ack, TRUNK)
        elif op == "send_cancel":
            try:
                layer.send_request(our_request("CANCEL"), TRUNK, now)
            except LocalProtocolError:
                assert ("z9hG4bKc1", "CANCEL") in before
        elif op == "transport_error":
            new = layer.transport_error(TRUNK, now)
        elif op == "transport_error_phone":
            new = layer.transport_error(PHONE, now)
        else:
            self.now += dt
            for _, evs, _ in run_until(layer, self.now):
                new += evs
        for ev in new:
            if isinstance(ev, RequestReceived):
                assert ev.key not in before  # a retransmission never looks new
        self.events += new
        self.check()

    def live(self) -> dict[tuple[str, str], TxState]:
        txns = [*self.layer._clients.values(), *self.layer._servers.values()]
        return {t.key: t.state for t in txns}

    def check(self) -> None:
        for txn in [*self.layer._clients.values(), *self.layer._servers.values()]:
            assert txn.state in type(txn).STATES
        deadline = self.layer.get_timer()
        assert deadline is None or deadline > self.now
        finals = [e for e in self.events if isinstance(e, ResponseReceived)
                  and e.key == self.okey and e.response.status >= 200]
        assert len(finals) <= 1
        rejected = [e for e in self.events if isinstance(e, ResponseReceived)
                    and e.key == self.ckey and e.response.status >= 300]
        assert len(rejected) <= 1

    def finish(self) -> None:
        """The TU answers what is still pending; then every transaction must end."""
        for key, resp in ((SKEY, make_response(self.inv, 486, to_tag="u")),
                          (OKEY, make_response(self.opt, 200, to_tag="u"))):
            txn = self.layer._servers.get(key)
            if txn is not None and txn.state in (TxState.TRYING, TxState.PROCEEDING):
                self.layer.send_response(key, resp, self.now)
        if self.ckey in self.layer._clients:
            self.layer.receive(answer(self.out_inv, 487), TRUNK, self.now)
        self.do("tick", 200.0)
        assert len(self.layer) == 0
        assert self.layer.get_timer() is None


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(OPS), st.sampled_from([0.1, 0.5, 1.0, 4.0, 33.0])),
                      max_size=40))
def test_random_walk_keeps_invariants_and_always_terminates(steps: list[tuple[str, float]]) -> None:
    walk = Walk()
    for op, dt in steps:
        walk.do(op, dt)
    walk.finish()
    acks = [e for e in walk.events if isinstance(e, AckReceived)]
    # At most one AckReceived per transaction, others only for ACKs that matched nothing.
    assert len(acks) <= sum(op.startswith("ack") for op, _ in steps)
