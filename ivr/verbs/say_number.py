"""``say_number``: say a value as a number ("two hundred fifteen") from recorded pieces.

    [steps.position]
    verb = "say_number"
    value = "{position}"
    before = "queue_position"
    next = "wait"

Needs ``digits/0`` .. ``digits/19``, the tens ``digits/20`` .. ``digits/90`` and
``digits/hundred``, ``digits/thousand``, ``digits/million``. A value that is not a whole number
from 0 to 999,999,999 says nothing.
"""

from __future__ import annotations

from ivr.params import ParamReader
from ivr.prompts import NUMBER_PROMPTS, number_prompts
from ivr.verbs.base import Verb
from ivr.verbs.say_digits import SayDigitsHandler, SayParams, parse_say

__all__ = ["VERB", "SayNumberHandler", "parse"]


def parse(r: ParamReader) -> SayParams:
    """Read a ``say_number`` step."""
    return parse_say(r, NUMBER_PROMPTS)


class SayNumberHandler(SayDigitsHandler):
    """Like say_digits, but the value is spoken as one number."""

    def spoken(self, value: str) -> list[str]:
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 9:
            return []
        return number_prompts(int(text))


VERB = Verb("say_number", parse, SayNumberHandler)
