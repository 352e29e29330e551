"""Playing prompts and waiting for them: the part play, say_*, voicemail and callback share."""

from __future__ import annotations

from ivr.commands import Play, StopPlayback
from ivr.context import Context
from ivr.events import DigitReceived, IvrEvent, PlaybackFinished
from ivr.verbs.base import STAY, Handler, Result

__all__ = ["Playback", "PlaybackHandler"]


class Playback:
    """The one Play a step has running, so late or stray ``PlaybackFinished`` are told apart."""

    def __init__(self) -> None:
        self.token: str | None = None

    def play(self, ctx: Context, prompts: tuple[str, ...], interruptible: bool) -> Play:
        """Start playing; a previous playback is forgotten (its end will be ignored)."""
        self.token = ctx.token()
        return Play(self.token, prompts, interruptible)

    def finished(self, event: IvrEvent) -> bool:
        """True when ``event`` ends the running playback (which then no longer runs)."""
        if isinstance(event, PlaybackFinished) and event.token == self.token:
            self.token = None
            return True
        return False

    def stop(self) -> tuple[StopPlayback, ...]:
        """The command that stops the running playback, if one runs."""
        if self.token is None:
            return ()
        token, self.token = self.token, None
        return (StopPlayback(token),)


class PlaybackHandler(Handler):
    """Play prompts, then leave by ``next``; an interruptible playback is cut by a key, which is
    kept for the next step (type-ahead)."""

    def __init__(self, prompts: tuple[str, ...], interruptible: bool) -> None:
        self.prompts = prompts
        self.interruptible = interruptible
        self.playback = Playback()

    def prompts_for(self, ctx: Context) -> tuple[str, ...]:
        """What to play; say_digits and say_number compose it from the call's variables."""
        return self.prompts

    def start(self, ctx: Context, now: float) -> Result:
        prompts = self.prompts_for(ctx)
        if not prompts:
            return Result(exit="next")
        return Result((self.playback.play(ctx, prompts, self.interruptible),))

    def handle(self, event: IvrEvent, ctx: Context, now: float) -> Result:
        if self.playback.finished(event):
            return Result(exit="next")
        if isinstance(event, DigitReceived) and self.interruptible and self.playback.token:
            ctx.typeahead.append(event.digit)
            return Result(self.playback.stop(), exit="next")
        return STAY
