"""Presence, seat call state and caller state: each transition table walked exhaustively."""

from __future__ import annotations

import itertools

import pytest

from floor.errors import InvalidTransition
from floor.states import (
    CALL_TRANSITIONS,
    CALLER_TRANSITIONS,
    PRESENCE_TRANSITIONS,
    CallerInput,
    CallerState,
    CallInput,
    Presence,
    PresenceAction,
    PresenceInput,
    SeatCallState,
    next_call_state,
    next_caller_state,
    next_presence,
)

P, PI = Presence, PresenceInput


@pytest.mark.parametrize("state", list(Presence))
def test_the_seat_actions_work_from_every_presence(state: Presence) -> None:
    assert next_presence(state, PI.of(PresenceAction.READY)) is P.READY
    assert next_presence(state, PI.of(PresenceAction.PAUSE)) is P.PAUSED
    assert next_presence(state, PI.of(PresenceAction.LOGOUT)) is P.LOGGED_OUT


def test_acd_inputs_to_presence() -> None:
    assert next_presence(P.READY, PI.CALL_ENDED) is P.WRAP_UP
    assert next_presence(P.PAUSED, PI.CALL_ENDED) is P.PAUSED          # paused during the call: no wrap-up
    assert next_presence(P.LOGGED_OUT, PI.CALL_ENDED) is P.LOGGED_OUT
    assert next_presence(P.WRAP_UP, PI.WRAP_UP_DONE) is P.READY
    assert next_presence(P.READY, PI.NO_ANSWER) is P.PAUSED


IMPOSSIBLE_PRESENCE = {
    (P.WRAP_UP, PI.CALL_ENDED),   # a seat in wrap-up is never offered a call
    *((p, PI.WRAP_UP_DONE) for p in (P.READY, P.PAUSED, P.LOGGED_OUT)),  # timer cancelled on leaving
    *((p, PI.NO_ANSWER) for p in (P.PAUSED, P.LOGGED_OUT, P.WRAP_UP)),  # leaving READY withdraws the offer
}


@pytest.mark.parametrize("pair", list(itertools.product(Presence, PresenceInput)))
def test_presence_table_is_total_except_the_impossible_pairs(pair: tuple[Presence, PresenceInput]) -> None:
    if pair in IMPOSSIBLE_PRESENCE:
        assert pair not in PRESENCE_TRANSITIONS
        with pytest.raises(InvalidTransition, match=pair[1].name):
            next_presence(*pair)
    else:
        assert next_presence(*pair) is PRESENCE_TRANSITIONS[pair]


def test_seat_call_state_never_takes_a_second_offer() -> None:
    C, CI = SeatCallState, CallInput
    assert next_call_state(C.IDLE, CI.OFFER) is C.RINGING
    assert next_call_state(C.RINGING, CI.ANSWER) is C.ON_CALL
    assert next_call_state(C.RINGING, CI.OFFER_ENDED) is C.IDLE
    assert next_call_state(C.ON_CALL, CI.HANGUP) is C.IDLE
    assert len(CALL_TRANSITIONS) == 4
    for state in (C.RINGING, C.ON_CALL):
        with pytest.raises(InvalidTransition):
            next_call_state(state, CI.OFFER)


def test_caller_final_states_take_no_input() -> None:
    final = (CallerState.ANSWERED, CallerState.ABANDONED, CallerState.OVERFLOWED)
    for state, event in itertools.product(final, CallerInput):
        assert (state, event) not in CALLER_TRANSITIONS
        with pytest.raises(InvalidTransition):
            next_caller_state(state, event)


def test_caller_path() -> None:
    W, In = CallerState, CallerInput
    assert next_caller_state(W.WAITING, In.OFFER) is W.OFFERED
    assert next_caller_state(W.OFFERED, In.OFFER) is W.OFFERED                # ring-all
    assert next_caller_state(W.OFFERED, In.OFFERS_ENDED) is W.WAITING
    assert next_caller_state(W.OFFERED, In.ACCEPT) is W.ANSWERED
    for state in (W.WAITING, W.OFFERED):
        assert next_caller_state(state, In.LEAVE) is W.ABANDONED
        assert next_caller_state(state, In.OVERFLOW) is W.OVERFLOWED
    with pytest.raises(InvalidTransition):
        next_caller_state(W.WAITING, In.ACCEPT)                               # no answer without an offer
