"""``hangup``: end the call.

    [steps.bye]
    verb = "hangup"
    reason = "normal"           # optional, goes into the Hangup command and the record
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.commands import Hangup
from ivr.context import Context
from ivr.params import ParamReader
from ivr.verbs.base import Handler, Result, Verb

__all__ = ["VERB", "HangupHandler", "HangupParams", "parse"]


@dataclass(frozen=True)
class HangupParams:
    """Why the flow hangs up."""

    reason: str = "normal"


def parse(r: ParamReader) -> HangupParams:
    """Read a ``hangup`` step (it has no exits)."""
    return HangupParams(r.text("reason", "normal"))


class HangupHandler(Handler):
    """Sends ``Hangup`` and ends the flow."""

    def __init__(self, params: HangupParams) -> None:
        self.params = params

    def start(self, ctx: Context, now: float) -> Result:
        return Result((Hangup(self.params.reason),), end="hangup")


VERB = Verb("hangup", parse, HangupHandler, ends=True)
