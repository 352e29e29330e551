"""``say_digits``: read a value digit by digit from the recorded digit prompts.

    [steps.readback]
    verb = "say_digits"
    value = "{account}"         # a template over the call's variables ({caller}, {dialled}, ...)
    before = "you_entered"      # optional prompts before and after
    after = []
    next = "support"

Needs ``digits/0`` .. ``digits/9`` in the prompts directory. Nothing to say: straight to next.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.context import Context
from ivr.params import ParamReader
from ivr.prompts import DIGIT_PROMPTS, digit_prompts
from ivr.verbs._playback import PlaybackHandler
from ivr.verbs.base import Verb

__all__ = ["VERB", "SayDigitsHandler", "SayParams", "parse", "parse_say"]


@dataclass(frozen=True)
class SayParams:
    """The value template and the prompts around it (say_digits and say_number)."""

    value: str
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    interruptible: bool = False


def parse_say(r: ParamReader, needs: tuple[str, ...]) -> SayParams:
    """Read a say_* step; ``needs`` are the recorded pieces the verb speaks with."""
    params = SayParams(
        r.text("value", template=True),
        r.prompts("before", required=False),
        r.prompts("after", required=False),
        r.flag("interruptible", False),
    )
    for name in needs:
        r.prompt_ref(name, "verb")
    r.exit("next")
    return params


def parse(r: ParamReader) -> SayParams:
    """Read a ``say_digits`` step."""
    return parse_say(r, DIGIT_PROMPTS)


class SayDigitsHandler(PlaybackHandler):
    """Plays before + the value's digits + after; a value without digits says nothing."""

    def __init__(self, params: SayParams) -> None:
        super().__init__((), params.interruptible)
        self.params = params

    def spoken(self, value: str) -> list[str]:
        """The prompts that say ``value``."""
        return digit_prompts(value)

    def prompts_for(self, ctx: Context) -> tuple[str, ...]:
        spoken = self.spoken(ctx.render(self.params.value))
        return (*self.params.before, *spoken, *self.params.after) if spoken else ()


VERB = Verb("say_digits", parse, SayDigitsHandler)
