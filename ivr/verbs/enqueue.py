"""``enqueue``: put the caller in an ACD queue; the call ends with the seat, or comes back.

    [steps.enqueue_support]
    verb = "enqueue"
    queue = "support"           # must be a configured queue
    priority = 0                # higher is served sooner (0..100, default 0)
    next = "all_busy"           # not answered, whatever the reason
    timeout = "voicemail"       # optional: waited too long (default: next)
    overflow = "all_busy"       # optional: the queue is full or refused (default: next)
    [steps.enqueue_support.skills]
    english = 50                # skill → minimum level 0..100 (optional)

The queue's status is stored as the variable ``queue_status``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr.commands import Enqueue
from ivr.context import Context
from ivr.events import IvrEvent, QueueOutcome
from ivr.params import NAME_RE, ParamReader
from ivr.verbs.base import STAY, Handler, Result, Verb

__all__ = ["VERB", "EnqueueHandler", "EnqueueParams", "parse"]


@dataclass(frozen=True)
class EnqueueParams:
    """The queue, the caller's priority and the skills a seat needs."""

    queue: str
    priority: int = 0
    skills: tuple[tuple[str, int], ...] = field(default=())


def parse(r: ParamReader) -> EnqueueParams:
    """Read an ``enqueue`` step; the queue is checked against the configured queues."""
    queue = r.text("queue")
    r.ref("queue", "queue", queue)
    skills: list[tuple[str, int]] = []
    for name, level in r.table_of("skills", {}).items():
        if not NAME_RE.match(name):
            raise r.error("is not a name (letters, digits, _)", "skills", name)
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 100:
            raise r.error("must be a level 0..100", "skills", name)
        skills.append((name, level))
    params = EnqueueParams(queue, r.integer("priority", 0, 0, 100), tuple(skills))
    following = r.exit("next")
    for key in ("timeout", "overflow"):
        if r.exit(key, required=False) is None and following is not None:
            r.exits[key] = following
    return params


class EnqueueHandler(Handler):
    """Sends ``Enqueue`` and waits for the queue's outcome."""

    def __init__(self, params: EnqueueParams) -> None:
        self.params = params

    def start(self, ctx: Context, now: float) -> Result:
        p = self.params
        return Result((Enqueue(p.queue, p.priority, dict(p.skills), dict(ctx.variables)),))

    def handle(self, event: IvrEvent, ctx: Context, now: float) -> Result:
        if not isinstance(event, QueueOutcome):
            return STAY
        changes = {"queue_status": event.status}
        if event.status == "answered":
            if event.target:
                changes["seat"] = event.target
            return Result((ctx.update(changes),), bridged=True)
        exit_key = event.status if event.status in ("timeout", "overflow") else "next"
        return Result((ctx.update(changes),), exit=exit_key)


VERB = Verb("enqueue", parse, EnqueueHandler, waits=True, ends=True)
