"""Asking for keys: the shape menu, collect and survey share.

Play the prompt (interruptible), then wait for keys with a timeout. A wrong or missing answer
replays the prompt after an error prompt until the attempts (1 + retries) run out, then the
step leaves by its failure exit. Keys typed ahead during an earlier prompt are used first.
"""

from __future__ import annotations

from ivr.context import Context
from ivr.events import DigitReceived, IvrEvent
from ivr.verbs._playback import Playback
from ivr.verbs.base import STAY, Handler, Result

__all__ = ["PromptedInput"]


class PromptedInput(Handler):
    """Base of the key-reading verbs; subclasses decide what a key and a timeout mean."""

    failure_exit = "failure"

    def __init__(
        self,
        prompts: tuple[str, ...],
        *,
        timeout: float,
        retries: int,
        invalid_prompt: str | None,
        no_input_prompt: str | None,
    ) -> None:
        self.prompts = prompts
        self.timeout = timeout
        self.retries = retries
        self.invalid_prompt = invalid_prompt
        self.no_input_prompt = no_input_prompt
        self.attempt = 1
        self.playback = Playback()

    def on_digit(self, digit: str, ctx: Context, now: float) -> Result:
        """A key arrived (the prompt, if playing, is already stopped)."""
        raise NotImplementedError

    def on_timeout(self, ctx: Context, now: float) -> Result:
        """No (more) keys in time; by default: retry after the no-input prompt."""
        return self.retry(ctx, now, self.no_input_prompt)

    def start(self, ctx: Context, now: float) -> Result:
        if not ctx.typeahead:
            return self.ask(ctx, now, ())
        self.deadline = now + self.timeout
        while ctx.typeahead:
            result = self.on_digit(ctx.typeahead.pop(0), ctx, now)
            if result != STAY:
                return result
        return STAY

    def ask(self, ctx: Context, now: float, lead: tuple[str, ...]) -> Result:
        """Play ``lead`` and the prompt; the timeout starts when the playback ends."""
        ctx.typeahead.clear()
        prompts = lead + self.prompts
        if not prompts:
            self.deadline = now + self.timeout
            return STAY
        self.deadline = None
        return Result((self.playback.play(ctx, prompts, True),))

    def retry(self, ctx: Context, now: float, lead: str | None) -> Result:
        """Ask again after ``lead``, or leave by the failure exit when attempts are used up."""
        self.attempt += 1
        if self.attempt > self.retries + 1:
            self.deadline = None
            return Result(exit=self.failure_exit)
        return self.ask(ctx, now, (lead,) if lead else ())

    def handle(self, event: IvrEvent, ctx: Context, now: float) -> Result:
        if self.playback.finished(event):
            self.deadline = now + self.timeout
            return STAY
        if isinstance(event, DigitReceived):
            stop = self.playback.stop()
            self.deadline = now + self.timeout
            return self.on_digit(event.digit, ctx, now).after(*stop)
        return STAY

    def handle_timer(self, ctx: Context, now: float) -> Result:
        self.deadline = None
        return self.on_timeout(ctx, now)
