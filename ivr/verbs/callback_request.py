"""``callback_request``: leave a number for a callback task.

    [steps.callback_here]
    verb = "callback_request"
    number = "{caller}"             # template (default "{caller}"); e.g. "{callback_number}"
    prompt = "callback_confirm"     # optional, played after the request
    next = "goodbye"                # optional: hang up
    failed = "enter_number"         # optional: the number is not usable (default: next)

The number is stored as the variable ``callback_number``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.commands import CallbackRequested
from ivr.context import Context
from ivr.events import IvrEvent
from ivr.params import ParamReader
from ivr.verbs._playback import Playback
from ivr.verbs.base import STAY, Handler, Result, Verb

__all__ = ["VERB", "CallbackHandler", "CallbackParams", "parse"]

_NUMBER = re.compile(r"\+?[0-9]{3,15}\Z")
_SEPARATORS = str.maketrans("", "", " ()-./")


@dataclass(frozen=True)
class CallbackParams:
    """The number template and the confirmation prompts."""

    number: str = "{caller}"
    prompts: tuple[str, ...] = ()


def parse(r: ParamReader) -> CallbackParams:
    """Read a ``callback_request`` step."""
    params = CallbackParams(r.text("number", "{caller}", template=True),
                            r.prompts("prompt", required=False))
    following = r.exit("next", required=False)
    if r.exit("failed", required=False) is None and following is not None:
        r.exits["failed"] = following
    return params


class CallbackHandler(Handler):
    """Sends ``CallbackRequested`` for a usable number, then plays the confirmation."""

    def __init__(self, params: CallbackParams) -> None:
        self.params = params
        self.playback = Playback()

    def start(self, ctx: Context, now: float) -> Result:
        number = ctx.render(self.params.number).translate(_SEPARATORS)
        if not _NUMBER.match(number):
            return Result(exit="failed")
        store = ctx.update({"callback_number": number})
        request = CallbackRequested(number, dict(ctx.variables))
        if not self.params.prompts:
            return Result((store, request), exit="next")
        return Result((store, request, self.playback.play(ctx, self.params.prompts, False)))

    def handle(self, event: IvrEvent, ctx: Context, now: float) -> Result:
        return Result(exit="next") if self.playback.finished(event) else STAY


VERB = Verb("callback_request", parse, CallbackHandler, optional=("next", "failed"))
