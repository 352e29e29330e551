"""``hours``: branch on business hours.

    [steps.hours]
    verb = "hours"
    timezone = "America/New_York"
    weekly = ["mon-fri 09:00-18:00", "sat 10:00-14:00"]
    holidays = ["2025-12-25", "2026-01-01"]            # closed all day
    special = ["2025-12-24 09:00-13:00"]               # own hours (short days, make-up days)
    open = "welcome"
    closed = "closed"
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.context import Context
from ivr.hours import BusinessHours, HoursError, parse_date, parse_special, parse_weekly, zone
from ivr.params import ParamReader
from ivr.verbs.base import Handler, Result, Verb

__all__ = ["VERB", "HoursHandler", "HoursParams", "parse"]


@dataclass(frozen=True)
class HoursParams:
    """The calendar."""

    hours: BusinessHours


def parse(r: ParamReader) -> HoursParams:
    """Read an ``hours`` step; each bad entry is named by its index."""
    timezone = r.text("timezone")
    try:
        zone(timezone)
    except HoursError as exc:
        raise r.error(str(exc), "timezone") from None
    checks = {"weekly": parse_weekly, "holidays": parse_date, "special": parse_special}
    lists = {key: r.texts(key, ()) for key in checks}
    if not lists["weekly"] and not lists["special"]:
        raise r.error("needs at least one entry (never open otherwise)", "weekly")
    for key, entries in lists.items():
        for i, entry in enumerate(entries):
            try:
                checks[key](entry)
            except HoursError as exc:
                raise r.error(str(exc), key, i) from None
    r.exit("open")
    r.exit("closed")
    return HoursParams(BusinessHours.parse(timezone, lists["weekly"], lists["holidays"],
                                           lists["special"]))


class HoursHandler(Handler):
    """Leaves by ``open`` or ``closed`` at once."""

    def __init__(self, params: HoursParams) -> None:
        self.params = params

    def start(self, ctx: Context, now: float) -> Result:
        return Result(exit="open" if self.params.hours.is_open(now) else "closed")


VERB = Verb("hours", parse, HoursHandler)
