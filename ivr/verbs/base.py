"""What every verb module provides: a parser (TOML table → params) and a pure handler.

A handler is started when the flow enters its step and then gets the events and timer of the
session until it returns a ``Result`` that leaves the step (an exit key), ends the flow, or
hands the caller to a seat (``bridged``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.commands import IvrCommand
from ivr.context import Context
from ivr.events import IvrEvent
from ivr.params import ParamReader

__all__ = ["CALLER_HANGUP", "STAY", "Handler", "Result", "Verb"]

CALLER_HANGUP = "caller_hangup"


@dataclass(frozen=True)
class Result:
    """What a handler did: commands to send, and whether it leaves its step.

    ``exit``: leave by this exit key. ``end``: the flow is over with this outcome.
    ``bridged``: the caller is with a seat now; the session waits for the hang-up.
    """

    commands: tuple[IvrCommand, ...] = ()
    exit: str | None = None
    end: str | None = None
    bridged: bool = False

    def after(self, *commands: IvrCommand) -> Result:
        """The same result with ``commands`` sent first."""
        return Result(commands + self.commands, self.exit, self.end, self.bridged)


STAY = Result()


class Handler:
    """One running step. Subclasses implement ``start`` and what they wait for."""

    deadline: float | None = None  # when handle_timer wants to be called

    def start(self, ctx: Context, now: float) -> Result:
        """The flow entered the step."""
        raise NotImplementedError

    def handle(self, event: IvrEvent, ctx: Context, now: float) -> Result:
        """An event arrived while the step runs; by default nothing happens."""
        return STAY

    def handle_timer(self, ctx: Context, now: float) -> Result:
        """``deadline`` passed."""
        self.deadline = None
        return STAY

    def caller_hung_up(self, ctx: Context, now: float) -> Result:
        """The caller left; most steps end the flow (voicemail keeps its recording)."""
        return Result(end=CALLER_HANGUP)


@dataclass(frozen=True)
class Verb:
    """A verb: its name, parser and handler factory, and two facts the loader checks loops with.

    ``waits``: the step always waits for an event before it leaves (so a loop through it cannot
    spin). ``ends``: the step can end the call by itself (hang up, or hand it to a seat).
    ``optional``: exits a step may leave out; taking one that is left out ends the call.
    ``resume``: for a survey, the handler that runs when the seat hangs up.
    """

    name: str
    parse: Callable[[ParamReader], Any]
    handler: Callable[[Any], Handler]
    waits: bool = False
    ends: bool = False
    optional: tuple[str, ...] = ()
    resume: Callable[[Any], Handler] | None = None

    def can_end(self, exits: Mapping[str, str]) -> bool:
        """Whether a step of this verb with these exits can end the call by itself."""
        return self.ends or any(key not in exits for key in self.optional)
