"""``menu``: play a prompt, take one key, go where that key's option says.

    [steps.main_menu]
    verb = "menu"
    prompt = "menu"
    timeout = 5                 # seconds after the prompt (default 5)
    retries = 2                 # replays after a wrong or missing key (default 2)
    invalid_prompt = "invalid"  # played before the replay after a wrong key (optional)
    no_input_prompt = "no_input"   # ... after no key (optional)
    variable = "choice"         # optional: store the key pressed
    failure = "goodbye"         # after the last attempt (optional: hang up)
    [steps.main_menu.options]
    1 = "sales"
    2 = "support"
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.context import Context
from ivr.params import DTMF_KEYS, ParamReader
from ivr.verbs._input import PromptedInput
from ivr.verbs.base import Result, Verb

__all__ = ["VERB", "MenuHandler", "MenuParams", "parse"]


@dataclass(frozen=True)
class MenuParams:
    """The prompt, the keys that lead somewhere, and the retry policy."""

    prompts: tuple[str, ...]
    options: tuple[str, ...]
    timeout: float = 5.0
    retries: int = 2
    invalid_prompt: str | None = None
    no_input_prompt: str | None = None
    variable: str = ""


def parse(r: ParamReader) -> MenuParams:
    """Read a ``menu`` step; every option key must be one DTMF key and name a step."""
    prompts = r.prompts("prompt")
    options = r.table_of("options")
    if not options:
        raise r.error("needs at least one option", "options")
    for key, target in options.items():
        if len(key) != 1 or key not in DTMF_KEYS:
            raise r.error("is not a DTMF key (0-9, *, #, A-D)", "options", key)
        if not isinstance(target, str):
            raise r.error("must be a step name", "options", key)
        r.exits[f"options.{key}"] = target
    params = MenuParams(
        prompts,
        tuple(options),
        r.number("timeout", 5.0, 0.5, 120.0),
        r.integer("retries", 2, 0, 10),
        r.prompt("invalid_prompt"),
        r.prompt("no_input_prompt"),
        r.name("variable", ""),
    )
    r.exit("failure", required=False)
    return params


class MenuHandler(PromptedInput):
    """One key chooses an option; anything else is a wrong key."""

    def __init__(self, params: MenuParams) -> None:
        super().__init__(
            params.prompts,
            timeout=params.timeout,
            retries=params.retries,
            invalid_prompt=params.invalid_prompt,
            no_input_prompt=params.no_input_prompt,
        )
        self.params = params

    def on_digit(self, digit: str, ctx: Context, now: float) -> Result:
        if digit not in self.params.options:
            return self.retry(ctx, now, self.params.invalid_prompt)
        self.deadline = None
        store = (ctx.update({self.params.variable: digit}),) if self.params.variable else ()
        return Result(store, exit=f"options.{digit}")


VERB = Verb("menu", parse, MenuHandler, waits=True, optional=("failure",))
