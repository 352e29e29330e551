"""``voicemail``: play a greeting, record a message after a beep, leave it in a mailbox.

    [steps.voicemail]
    verb = "voicemail"
    prompt = "voicemail_greeting"   # optional; a key skips it
    mailbox = "general"             # default "default"
    max_seconds = 120               # default 120
    min_seconds = 1                 # shorter recordings are not kept as messages (default 1)
    beep = true                     # default true
    terminator = "#"                # ends the recording ("" for none; default "#")
    next = "goodbye"                # optional: hang up

Hanging up is the usual way to finish a message: the recording is stopped and still kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.commands import Record, StopRecording, VoicemailLeft
from ivr.context import Context
from ivr.events import DigitReceived, IvrEvent, RecordingFinished
from ivr.params import ParamReader
from ivr.verbs._playback import Playback
from ivr.verbs.base import CALLER_HANGUP, STAY, Handler, Result, Verb

__all__ = ["VERB", "VoicemailHandler", "VoicemailParams", "parse"]


@dataclass(frozen=True)
class VoicemailParams:
    """Greeting, mailbox and recording limits."""

    prompts: tuple[str, ...] = ()
    mailbox: str = "default"
    max_seconds: float = 120.0
    min_seconds: float = 1.0
    beep: bool = True
    terminator: str = "#"


def parse(r: ParamReader) -> VoicemailParams:
    """Read a ``voicemail`` step."""
    params = VoicemailParams(
        r.prompts("prompt", required=False),
        r.name("mailbox", "default"),
        r.number("max_seconds", 120.0, 1.0, 3600.0),
        r.number("min_seconds", 1.0, 0.0, 60.0),
        r.flag("beep", True),
        r.text("terminator", "#"),
    )
    if params.terminator not in ("#", "*", ""):
        raise r.error('must be "#", "*" or ""', "terminator")
    r.exit("next", required=False)
    return params


class VoicemailHandler(Handler):
    """Greeting → ``Record`` → ``RecordingFinished`` → ``VoicemailLeft``."""

    def __init__(self, params: VoicemailParams) -> None:
        self.params = params
        self.greeting = Playback()
        self.recording: str | None = None

    def start(self, ctx: Context, now: float) -> Result:
        if not self.params.prompts:
            return self.record(ctx)
        return Result((self.greeting.play(ctx, self.params.prompts, True),))

    def record(self, ctx: Context) -> Result:
        """Start the recording."""
        self.recording = ctx.token()
        return Result((Record(self.recording, self.params.max_seconds, self.params.beep),))

    def handle(self, event: IvrEvent, ctx: Context, now: float) -> Result:
        if self.greeting.finished(event):
            return self.record(ctx)
        if isinstance(event, DigitReceived) and self.greeting.token:
            return self.record(ctx).after(*self.greeting.stop())
        if isinstance(event, DigitReceived) and self.recording:
            if event.digit == self.params.terminator:
                return Result((StopRecording(self.recording),))
            return STAY
        if isinstance(event, RecordingFinished) and event.token == self.recording:
            self.recording = None
            return self.finished(event, ctx)
        return STAY

    def finished(self, event: RecordingFinished, ctx: Context) -> Result:
        """The message is on disk; keep it unless it is too short."""
        if event.seconds < self.params.min_seconds:
            return Result((ctx.update({"voicemail": "too_short"}),), exit="next")
        store = ctx.update({"voicemail": event.path})
        left = VoicemailLeft(self.params.mailbox, event.path, event.seconds, dict(ctx.variables))
        return Result((store, left), exit="next")

    def caller_hung_up(self, ctx: Context, now: float) -> Result:
        if self.recording is None:
            return Result(end=CALLER_HANGUP)
        return Result((StopRecording(self.recording),))  # wait for RecordingFinished


VERB = Verb("voicemail", parse, VoicemailHandler, waits=True, optional=("next",))
