"""``transfer``: connect the caller to a seat or an outside number.

    [steps.operator]
    verb = "transfer"
    kind = "seat"               # "seat" (a configured seat id) or "number"
    target = "1001"
    failed = "operator_away"    # busy, no answer, refused

The outcome is stored as the variable ``transfer_status``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ivr.commands import Transfer
from ivr.context import Context
from ivr.events import IvrEvent, TransferOutcome
from ivr.params import ParamReader
from ivr.verbs.base import STAY, Handler, Result, Verb

__all__ = ["VERB", "TransferHandler", "TransferParams", "parse"]

_NUMBER = re.compile(r"\+?[0-9]{3,15}\Z")


@dataclass(frozen=True)
class TransferParams:
    """Who to connect the caller to."""

    kind: Literal["seat", "number"]
    target: str


def parse(r: ParamReader) -> TransferParams:
    """Read a ``transfer`` step; a seat must be configured, a number must look like one."""
    kind = r.text("kind")
    target = r.text("target")
    if kind == "seat":
        r.ref("seat", "target", target)
        params = TransferParams("seat", target)
    elif kind == "number":
        if not _NUMBER.match(target):
            raise r.error(f"{target!r} is not a phone number (+ and 3-15 digits)", "target")
        params = TransferParams("number", target)
    else:
        raise r.error(f'{kind!r} is not "seat" or "number"', "kind")
    r.exit("failed")
    return params


class TransferHandler(Handler):
    """Sends ``Transfer`` and waits for its outcome."""

    def __init__(self, params: TransferParams) -> None:
        self.params = params

    def start(self, ctx: Context, now: float) -> Result:
        p = self.params
        return Result((Transfer(p.kind, p.target, dict(ctx.variables)),))

    def handle(self, event: IvrEvent, ctx: Context, now: float) -> Result:
        if not isinstance(event, TransferOutcome):
            return STAY
        store = ctx.update({"transfer_status": event.status})
        if event.status == "answered":
            return Result((store,), bridged=True)
        return Result((store,), exit="failed")


VERB = Verb("transfer", parse, TransferHandler, waits=True, ends=True)
