"""``play``: play one prompt or a list of prompts back to back, then go on at ``next``.

    [steps.welcome]
    verb = "play"
    prompt = "welcome"          # or ["welcome", "recorded"]
    interruptible = true        # a key stops it and is kept for the next step (default false)
    next = "menu"
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.params import ParamReader
from ivr.verbs._playback import PlaybackHandler
from ivr.verbs.base import Verb

__all__ = ["VERB", "PlayParams", "parse"]


@dataclass(frozen=True)
class PlayParams:
    """What to play and whether a key cuts it short."""

    prompts: tuple[str, ...]
    interruptible: bool = False


def parse(r: ParamReader) -> PlayParams:
    """Read a ``play`` step."""
    params = PlayParams(r.prompts("prompt"), r.flag("interruptible", False))
    r.exit("next")
    return params


VERB = Verb(
    "play", parse, lambda p: PlaybackHandler(p.prompts, p.interruptible), waits=True
)
