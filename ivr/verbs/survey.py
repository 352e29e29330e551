"""``survey``: after the seat hangs up, ask the caller to rate the call by key (1..scale).

Passing the step before the caller is connected arms it (``ArmSurvey``) and goes on at
``next``. When the seat hangs up, the session comes back to this step: it plays the prompt,
stores the score (``StoreSurvey``), thanks the caller and goes on at ``done`` (optional: hang up).

    [steps.survey]
    verb = "survey"
    prompt = "survey"
    thanks_prompt = "survey_thanks"   # optional
    invalid_prompt = "invalid"        # optional; no_input_prompt too
    scale = 5                         # default 5
    timeout = 8                       # default 8
    retries = 1                       # default 1
    next = "vip_check"
    done = "goodbye"
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.commands import ArmSurvey, StoreSurvey
from ivr.context import Context
from ivr.events import IvrEvent
from ivr.params import ParamReader
from ivr.verbs._input import PromptedInput
from ivr.verbs.base import STAY, Handler, Result, Verb

__all__ = ["VERB", "SurveyArmHandler", "SurveyHandler", "SurveyParams", "parse"]


@dataclass(frozen=True)
class SurveyParams:
    """The question, its scale and the retry policy."""

    prompts: tuple[str, ...]
    scale: int = 5
    timeout: float = 8.0
    retries: int = 1
    invalid_prompt: str | None = None
    no_input_prompt: str | None = None
    thanks_prompt: str | None = None


def parse(r: ParamReader) -> SurveyParams:
    """Read a ``survey`` step."""
    params = SurveyParams(
        r.prompts("prompt"),
        r.integer("scale", 5, 2, 9),
        r.number("timeout", 8.0, 0.5, 120.0),
        r.integer("retries", 1, 0, 10),
        r.prompt("invalid_prompt"),
        r.prompt("no_input_prompt"),
        r.prompt("thanks_prompt"),
    )
    r.exit("next")
    r.exit("done", required=False)
    return params


class SurveyArmHandler(Handler):
    """The flow passes the step before the bridge: arm the survey and go on."""

    def start(self, ctx: Context, now: float) -> Result:
        ctx.survey_step = ctx.step
        return Result((ArmSurvey(ctx.step), ctx.update({"survey": "armed"})), exit="next")


class SurveyHandler(PromptedInput):
    """The survey itself, run after the seat hung up."""

    failure_exit = "done"

    def __init__(self, params: SurveyParams) -> None:
        super().__init__(
            params.prompts,
            timeout=params.timeout,
            retries=params.retries,
            invalid_prompt=params.invalid_prompt,
            no_input_prompt=params.no_input_prompt,
        )
        self.params = params
        self.thanking = False

    def on_digit(self, digit: str, ctx: Context, now: float) -> Result:
        if not ("1" <= digit <= str(self.params.scale) and len(digit) == 1):
            return self.retry(ctx, now, self.params.invalid_prompt)
        self.deadline = None
        stored = (StoreSurvey(int(digit), self.params.scale), ctx.update({"survey_score": digit}))
        if self.params.thanks_prompt is None:
            return Result(stored, exit="done")
        self.thanking = True
        return Result((*stored, self.playback.play(ctx, (self.params.thanks_prompt,), False)))

    def handle(self, event: IvrEvent, ctx: Context, now: float) -> Result:
        if not self.thanking:
            return super().handle(event, ctx, now)
        return Result(exit="done") if self.playback.finished(event) else STAY


VERB = Verb(
    "survey", parse, lambda params: SurveyArmHandler(), optional=("done",), resume=SurveyHandler
)
