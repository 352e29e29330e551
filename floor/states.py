"""Seat and caller states: separate enums, each with its transition table (STYLE habit 4).

Like FreeSWITCH mod_callcenter, what a seat *wants* (presence: logged out, ready, paused with a
reason, wrap-up) is kept apart from what its phone *does* (call state: idle, ringing, on a call),
and the caller (queue member) has its own state. A pair missing from a table is an
:class:`~floor.errors.InvalidTransition`: our own logic went wrong, nothing is ignored silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from floor.errors import InvalidTransition

__all__ = [
    "CALLER_TRANSITIONS",
    "CALL_TRANSITIONS",
    "DEFAULT_PAUSE_REASONS",
    "PRESENCE_TRANSITIONS",
    "RNA_REASON",
    "CallInput",
    "CallerInput",
    "CallerState",
    "PauseReason",
    "Presence",
    "PresenceAction",
    "PresenceInput",
    "SeatCallState",
    "next_call_state",
    "next_caller_state",
    "next_presence",
]


class Presence(Enum):
    """What the seat (agent) has declared; only READY seats are offered queue calls."""

    LOGGED_OUT = "logged-out"
    READY = "ready"
    PAUSED = "paused"  # with a reason code (break, lunch, "rna", ...)
    WRAP_UP = "wrap-up"  # after-call work; READY again when the queue's wrap-up time is over


class SeatCallState(Enum):
    """What the seat's phone is doing with queue calls; a seat holds at most one offer or call."""

    IDLE = "idle"
    RINGING = "ringing"
    ON_CALL = "on-call"


class PresenceAction(Enum):
    """What a seat (feature code) or the HTTP API asks for."""

    READY = "ready"  # logs in when logged out
    PAUSE = "pause"  # logs in paused when logged out
    LOGOUT = "logout"


class PresenceInput(Enum):
    """Everything that can change a seat's presence: the three actions plus the ACD's own inputs."""

    READY = auto()
    PAUSE = auto()
    LOGOUT = auto()
    CALL_ENDED = auto()  # a queue call is over: wrap-up starts
    WRAP_UP_DONE = auto()  # the wrap-up timer fired
    NO_ANSWER = auto()  # ring-no-answer: the seat is set not ready

    @classmethod
    def of(cls, action: PresenceAction) -> PresenceInput:
        """The input a requested action feeds into the table."""
        return cls[action.name]


P, PI = Presence, PresenceInput
PRESENCE_TRANSITIONS: dict[tuple[Presence, PresenceInput], Presence] = {
    # the seat's own actions are allowed from every presence (and are idempotent)
    **{(p, PI.READY): P.READY for p in Presence},
    **{(p, PI.PAUSE): P.PAUSED for p in Presence},
    **{(p, PI.LOGOUT): P.LOGGED_OUT for p in Presence},
    (P.READY, PI.CALL_ENDED): P.WRAP_UP,
    # a seat that paused or logged out during the call keeps that presence: no wrap-up
    (P.PAUSED, PI.CALL_ENDED): P.PAUSED,
    (P.LOGGED_OUT, PI.CALL_ENDED): P.LOGGED_OUT,
    (P.WRAP_UP, PI.WRAP_UP_DONE): P.READY,
    # only a READY seat rings (leaving READY withdraws the offer), so only READY can miss one
    (P.READY, PI.NO_ANSWER): P.PAUSED,
}


class CallInput(Enum):
    """What happens to the queue call at a seat's phone."""

    OFFER = auto()
    ANSWER = auto()
    OFFER_ENDED = auto()  # failed, cancelled, not answered in time
    HANGUP = auto()


C, CI = SeatCallState, CallInput
CALL_TRANSITIONS: dict[tuple[SeatCallState, CallInput], SeatCallState] = {
    (C.IDLE, CI.OFFER): C.RINGING,  # never from RINGING or ON_CALL: one offer per seat
    (C.RINGING, CI.ANSWER): C.ON_CALL,
    (C.RINGING, CI.OFFER_ENDED): C.IDLE,
    (C.ON_CALL, CI.HANGUP): C.IDLE,
}


class CallerState(Enum):
    """A caller's (queue member's) state in one queue; the last three are final."""

    WAITING = "waiting"
    OFFERED = "offered"  # ringing at one seat (or several, ring-all)
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"


class CallerInput(Enum):
    """What happens to a caller in a queue."""

    OFFER = auto()
    OFFERS_ENDED = auto()  # the last live offer failed or was withdrawn: back to waiting
    ACCEPT = auto()
    LEAVE = auto()
    OVERFLOW = auto()


W, CR = CallerState, CallerInput
CALLER_TRANSITIONS: dict[tuple[CallerState, CallerInput], CallerState] = {
    (W.WAITING, CR.OFFER): W.OFFERED,
    (W.OFFERED, CR.OFFER): W.OFFERED,  # ring-all: several seats in one round
    (W.OFFERED, CR.OFFERS_ENDED): W.WAITING,
    (W.OFFERED, CR.ACCEPT): W.ANSWERED,
    (W.WAITING, CR.LEAVE): W.ABANDONED,
    (W.OFFERED, CR.LEAVE): W.ABANDONED,
    (W.WAITING, CR.OVERFLOW): W.OVERFLOWED,
    (W.OFFERED, CR.OVERFLOW): W.OVERFLOWED,
}


def next_presence(state: Presence, event: PresenceInput) -> Presence:
    """The presence after ``event``; raises :class:`InvalidTransition` for a missing pair."""
    try:
        return PRESENCE_TRANSITIONS[state, event]
    except KeyError:
        raise InvalidTransition(f"presence {state.value} cannot take {event.name}") from None


def next_call_state(state: SeatCallState, event: CallInput) -> SeatCallState:
    """The seat call state after ``event``; raises :class:`InvalidTransition` for a missing pair."""
    try:
        return CALL_TRANSITIONS[state, event]
    except KeyError:
        raise InvalidTransition(f"seat call state {state.value} cannot take {event.name}") from None


def next_caller_state(state: CallerState, event: CallerInput) -> CallerState:
    """The caller state after ``event``; raises :class:`InvalidTransition` for a missing pair."""
    try:
        return CALLER_TRANSITIONS[state, event]
    except KeyError:
        raise InvalidTransition(f"caller {state.value} cannot take {event.name}") from None


@dataclass(frozen=True, slots=True)
class PauseReason:
    """A configurable pause reason: the digits dialled after the pause code, and the name stored."""

    code: str
    label: str


RNA_REASON = "rna"  # the reason the ACD pauses a seat with after ring-no-answer
DEFAULT_PAUSE_REASONS: tuple[PauseReason, ...] = (
    PauseReason("1", "break"),
    PauseReason("2", "lunch"),
    PauseReason("3", "training"),
    PauseReason("4", "meeting"),
    PauseReason("5", "coaching"),
)
