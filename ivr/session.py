"""The IVR interpreter: one call walking one flow, events in, commands out, time passed in.

``IvrSession`` runs the handler of the current step and follows the step's exits. It has
four states (``SessionState`` x ``SessionInput`` in one table): idle until ``start``, running
a step, bridged (the caller is with a seat or a number; the session waits for a hang-up),
finished. When the seat hangs up and a survey was armed, the session runs the survey step.

Like aioquic's connection, the session tells its next deadline (``get_timer``) and is called
back (``handle_timer(now)``); it never reads a clock.
"""

from __future__ import annotations

from enum import Enum, auto

from ivr.commands import FlowFinished, Hangup, IvrCommand
from ivr.context import CallInfo, Context, CustomerLookup
from ivr.events import CallerHungUp, DigitReceived, IvrEvent, SeatHungUp
from ivr.flow import Flow, Step
from ivr.params import DTMF_KEYS
from ivr.verbs import CALLER_HANGUP, VERBS, Handler, Result

__all__ = [
    "DUPLICATE_WINDOW",
    "MAX_HOPS",
    "TRANSITIONS",
    "CallInfo",
    "CustomerLookup",
    "IvrSession",
    "SessionError",
    "SessionInput",
    "SessionState",
]

MAX_HOPS = 50  # steps entered without waiting for anything: a runaway flow hangs up
DUPLICATE_WINDOW = 0.5  # seconds: the same key by another path (in-band + RFC 4733) is one key


class SessionState(Enum):
    """Where the session is."""

    IDLE = auto()
    RUNNING = auto()  # a step's handler runs
    BRIDGED = auto()  # the caller is with a seat or a number
    FINISHED = auto()


class SessionInput(Enum):
    """What moves the session."""

    START = auto()
    BRIDGE = auto()
    RESUME = auto()  # the seat hung up and a survey was armed
    END = auto()


S, In = SessionState, SessionInput
TRANSITIONS: dict[tuple[SessionState, SessionInput], SessionState] = {
    (S.IDLE, In.START): S.RUNNING,
    (S.RUNNING, In.BRIDGE): S.BRIDGED,
    (S.BRIDGED, In.RESUME): S.RUNNING,
    (S.RUNNING, In.END): S.FINISHED,
    (S.BRIDGED, In.END): S.FINISHED,
}


class SessionError(Exception):
    """The session was driven in a way its state does not allow (a bug in the caller)."""


class IvrSession:
    """One call in one flow. ``variables`` travel with the call; ``finished`` when it is over."""

    def __init__(
        self, flow: Flow, call: CallInfo, *, now: float, customers: CustomerLookup | None = None
    ) -> None:
        self.flow = flow
        self.call = call
        self.created_at = now
        self.variables: dict[str, str] = dict(call.variables)
        self.state = SessionState.IDLE
        self.finished = False
        self.outcome: str | None = None
        self.step: str | None = None
        self.path: list[str] = []  # every step entered, in order
        self._ctx = Context(call, self.variables, customers)
        self._handler: Handler | None = None
        self._was_bridged = False
        self._caller_gone = False
        self._oob_seen = False  # a key came by RFC 4733 or INFO: in-band tones are echoes now
        self._last_digit: tuple[str, str, float] | None = None

    # -- the state machine ------------------------------------------------------------------
    def _advance(self, event: SessionInput) -> None:
        try:
            self.state = TRANSITIONS[(self.state, event)]
        except KeyError:
            raise SessionError(f"{event.name} in state {self.state.name}") from None

    # -- driving ----------------------------------------------------------------------------
    def start(self, now: float) -> list[IvrCommand]:
        """Enter the flow's start step."""
        self._advance(SessionInput.START)
        return self._apply(self._enter(self.flow.start, now), now)

    def handle(self, event: IvrEvent, now: float) -> list[IvrCommand]:
        """Feed one event; returns the commands it causes."""
        if self.state is SessionState.IDLE:
            raise SessionError("handle() before start()")
        if self.state is SessionState.FINISHED:
            return []  # late events (a PlaybackFinished after the hang-up) are normal
        if isinstance(event, CallerHungUp):
            return self._caller_hung_up(now)
        if self.state is SessionState.BRIDGED:
            return self._seat_hung_up(now) if isinstance(event, SeatHungUp) else []
        if isinstance(event, DigitReceived):
            if len(event.digit) != 1 or event.digit.upper() not in DTMF_KEYS:
                return []  # a hook flash ("!") or garbage is not a key press
            event = DigitReceived(event.digit.upper(), event.source)
            if self._duplicate(event, now):
                return []
        return self._apply(self._running().handle(event, self._ctx, now), now)

    def get_timer(self) -> float | None:
        """When ``handle_timer`` must be called next, or None."""
        if self.state is SessionState.RUNNING and self._handler is not None:
            return self._handler.deadline
        return None

    def handle_timer(self, now: float) -> list[IvrCommand]:
        """Run the timer if its deadline has passed (an early call does nothing)."""
        deadline = self.get_timer()
        if deadline is None or now < deadline:
            return []
        return self._apply(self._running().handle_timer(self._ctx, now), now)

    # -- internals --------------------------------------------------------------------------
    def _running(self) -> Handler:
        if self._handler is None:
            raise SessionError("no step is running")
        return self._handler

    def _current(self) -> Step:
        return self.flow.steps[self.step or self.flow.start]

    def _enter(self, name: str, now: float, *, resume: bool = False) -> Result:
        step = self.flow.steps[name]
        verb = VERBS[step.verb]
        factory = verb.resume if resume and verb.resume is not None else verb.handler
        self.step = self._ctx.step = name
        self.path.append(name)
        self._handler = factory(step.params)
        return self._handler.start(self._ctx, now)

    def _apply(self, result: Result, now: float) -> list[IvrCommand]:
        """Send the result's commands and follow its exits until a step waits."""
        out = list(result.commands)
        for _ in range(MAX_HOPS):
            if result.end is not None:
                return out + self._finish(result.end)
            if result.bridged:
                self._advance(SessionInput.BRIDGE)
                self._was_bridged = True
                return out
            if result.exit is None:
                return out
            if self._caller_gone:
                return out + self._finish(CALLER_HANGUP)
            target = self._current().exits.get(result.exit)
            if target is None:  # an optional exit the flow left out: the call ends here
                return out + [Hangup("end of flow")] + self._finish("hangup")
            result = self._enter(target, now)
            out += result.commands
        return out + [Hangup("flow loop")] + self._finish("error")

    def _finish(self, outcome: str) -> list[IvrCommand]:
        self._advance(SessionInput.END)
        if self._was_bridged and outcome in ("hangup", CALLER_HANGUP):
            outcome = "completed"
        self.finished = True
        self.outcome = outcome
        self._handler = None
        return [FlowFinished(outcome, self.step or "")]

    def _caller_hung_up(self, now: float) -> list[IvrCommand]:
        if self.state is SessionState.BRIDGED:
            return self._finish("completed")
        self._caller_gone = True
        return self._apply(self._running().caller_hung_up(self._ctx, now), now)

    def _seat_hung_up(self, now: float) -> list[IvrCommand]:
        survey = self._ctx.survey_step
        if survey is None:
            return [Hangup("seat hung up"), *self._finish("completed")]
        self._advance(SessionInput.RESUME)
        self._ctx.typeahead.clear()
        return self._apply(self._enter(survey, now, resume=True), now)

    def _duplicate(self, event: DigitReceived, now: float) -> bool:
        """A key heard twice: as an in-band tone and as an RFC 4733 event (or INFO)."""
        if event.source == "inband" and self._oob_seen:
            return True
        if event.source != "inband":
            self._oob_seen = True
        last = self._last_digit
        if last and last[0] == event.digit and last[1] != event.source and now - last[2] < DUPLICATE_WINDOW:
            return True
        self._last_digit = (event.digit, event.source, now)
        return False
