"""The verbs: one module each, a parser and a pure handler (``VERBS`` maps name → ``Verb``)."""

from __future__ import annotations

from ivr.verbs import (
    answer,
    callback_request,
    collect,
    enqueue,
    hangup,
    hours,
    menu,
    play,
    route_by_caller,
    say_digits,
    say_number,
    survey,
    transfer,
    voicemail,
)
from ivr.verbs import set as set_verb
from ivr.verbs.base import CALLER_HANGUP, STAY, Handler, Result, Verb

__all__ = ["CALLER_HANGUP", "STAY", "VERBS", "Handler", "Result", "Verb"]

VERBS: dict[str, Verb] = {
    module.VERB.name: module.VERB
    for module in (
        answer, play, say_digits, say_number, menu, collect, hours, route_by_caller,
        set_verb, enqueue, transfer, voicemail, callback_request, survey, hangup,
    )
}
