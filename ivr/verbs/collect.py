"""``collect``: read a number typed on the keypad into a variable.

    [steps.account]
    verb = "collect"
    prompt = "enter_account"    # optional
    variable = "account"
    min_length = 4              # default 1
    max_length = 8              # default 20; reaching it ends the input
    terminator = "#"            # ends the input early ("" for none; default "#")
    timeout = 6                 # seconds for the first key after the prompt (default 5)
    inter_digit_timeout = 3     # seconds between keys (default 3)
    retries = 1                 # default 0
    invalid_prompt = "invalid"  # too short (optional); no_input_prompt: nothing typed
    next = "readback"
    failure = "main_menu"       # optional: hang up

Keys other than 0-9 and the terminator are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.context import Context
from ivr.params import ParamReader
from ivr.verbs._input import PromptedInput
from ivr.verbs.base import STAY, Result, Verb

__all__ = ["VERB", "CollectHandler", "CollectParams", "parse"]


@dataclass(frozen=True)
class CollectParams:
    """Where the number goes, how long it may be, and the timing."""

    variable: str
    prompts: tuple[str, ...] = ()
    min_length: int = 1
    max_length: int = 20
    terminator: str = "#"
    timeout: float = 5.0
    inter_digit_timeout: float = 3.0
    retries: int = 0
    invalid_prompt: str | None = None
    no_input_prompt: str | None = None


def parse(r: ParamReader) -> CollectParams:
    """Read a ``collect`` step."""
    params = CollectParams(
        r.name("variable"),
        r.prompts("prompt", required=False),
        r.integer("min_length", 1, 1, 64),
        r.integer("max_length", 20, 1, 64),
        r.text("terminator", "#"),
        r.number("timeout", 5.0, 0.5, 120.0),
        r.number("inter_digit_timeout", 3.0, 0.5, 60.0),
        r.integer("retries", 0, 0, 10),
        r.prompt("invalid_prompt"),
        r.prompt("no_input_prompt"),
    )
    if params.terminator not in ("#", "*", ""):
        raise r.error('must be "#", "*" or ""', "terminator")
    if params.min_length > params.max_length:
        raise r.error(f"is more than max_length ({params.max_length})", "min_length")
    r.exit("next")
    r.exit("failure", required=False)
    return params


class CollectHandler(PromptedInput):
    """Gathers digits until the terminator, the maximum length or a pause."""

    def __init__(self, params: CollectParams) -> None:
        super().__init__(
            params.prompts,
            timeout=params.timeout,
            retries=params.retries,
            invalid_prompt=params.invalid_prompt,
            no_input_prompt=params.no_input_prompt,
        )
        self.params = params
        self.digits: list[str] = []

    def on_digit(self, digit: str, ctx: Context, now: float) -> Result:
        if digit == self.params.terminator:
            return self.complete(ctx, now)
        if not digit.isdigit():
            return STAY
        self.digits.append(digit)
        if len(self.digits) >= self.params.max_length:
            return self.complete(ctx, now)
        self.deadline = now + self.params.inter_digit_timeout
        return STAY

    def on_timeout(self, ctx: Context, now: float) -> Result:
        if self.digits:
            return self.complete(ctx, now)
        return self.retry(ctx, now, self.params.no_input_prompt)

    def complete(self, ctx: Context, now: float) -> Result:
        """The input is over: long enough → store it and go on; too short → ask again."""
        value, self.digits = "".join(self.digits), []
        if len(value) < self.params.min_length:
            return self.retry(ctx, now, self.params.invalid_prompt)
        self.deadline = None
        return Result((ctx.update({self.params.variable: value}),), exit="next")


VERB = Verb("collect", parse, CollectHandler, waits=True, optional=("failure",))
