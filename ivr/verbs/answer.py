"""``answer``: answer the call, go on at ``next``.

    [steps.answer]
    verb = "answer"
    next = "hours"
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.commands import Answer
from ivr.context import Context
from ivr.params import ParamReader
from ivr.verbs.base import Handler, Result, Verb

__all__ = ["VERB", "AnswerHandler", "AnswerParams", "parse"]


@dataclass(frozen=True)
class AnswerParams:
    """``answer`` has no parameters."""


def parse(r: ParamReader) -> AnswerParams:
    """Read an ``answer`` step."""
    r.exit("next")
    return AnswerParams()


class AnswerHandler(Handler):
    """Sends ``Answer`` and leaves at once."""

    def start(self, ctx: Context, now: float) -> Result:
        return Result((Answer(),), exit="next")


VERB = Verb("answer", parse, lambda params: AnswerHandler())
