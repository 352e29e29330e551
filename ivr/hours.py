"""Business hours: weekly ranges in a time zone, holidays, and dates with their own hours.

``BusinessHours.parse("Europe/Berlin", ["mon-fri 09:00-18:00", "sat 10:00-14:00"],
holidays=["2025-12-25"], special=["2025-12-24 09:00-13:00"])``; ``is_open(now)`` takes a unix
time and reads the wall clock of the zone (zoneinfo handles the DST changes). A special date
wins over a holiday and over its weekday, which is how a make-up working Saturday is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DAYS",
    "BusinessHours",
    "HoursError",
    "TimeRange",
    "parse_date",
    "parse_day_spec",
    "parse_ranges",
    "parse_special",
    "parse_weekly",
    "zone",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\Z")


class HoursError(ValueError):
    """A schedule entry that cannot be understood; the message shows the expected form."""


@dataclass(frozen=True)
class TimeRange:
    """Open from ``start`` to ``end``, in seconds after local midnight (end may be 24:00)."""

    start: int
    end: int

    def __contains__(self, second: int) -> bool:
        return self.start <= second < self.end


def _seconds(hours: str, minutes: str) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m):
        raise HoursError(f"{hours}:{minutes} is not a time of day")
    return h * 3600 + m * 60


def parse_ranges(text: str) -> tuple[TimeRange, ...]:
    """"09:00-12:00,13:00-18:00" → the ranges; each must end after it starts."""
    try:
        return _ranges(text)
    except HoursError as exc:
        raise HoursError(f"{text.strip()!r}: {exc}") from None


def _ranges(text: str) -> tuple[TimeRange, ...]:
    out = []
    for part in text.split(","):
        match = _RANGE.match(part.strip())
        if not match:
            raise HoursError("expected HH:MM-HH:MM[,HH:MM-HH:MM...]")
        start = _seconds(match[1], match[2])
        end = _seconds(match[3], match[4])
        if end <= start:
            raise HoursError(f"{part.strip()} must end after it starts (split it at 24:00)")
        out.append(TimeRange(start, end))
    return tuple(out)


def _day(name: str) -> int:
    key = name.strip().lower()
    for i, (short, full) in enumerate(zip(DAYS, _FULL, strict=True)):
        if key in (short, full):
            return i
    raise HoursError(f"{name.strip()!r} is not a day (mon..sun)")


def parse_day_spec(text: str) -> tuple[int, ...]:
    """"mon-fri", "sat", "mon,wed,fri", "fri-mon" (wraps), "daily" → weekday numbers (mon=0)."""
    if text.strip().lower() in ("daily", "*"):
        return tuple(range(7))
    days: list[int] = []
    for part in text.split(","):
        first, dash, last = part.partition("-")
        a = _day(first)
        b = _day(last) if dash else a
        days += [(a + i) % 7 for i in range((b - a) % 7 + 1)]
    return tuple(dict.fromkeys(days))


def parse_date(text: str) -> date:
    """"2025-12-25" → the date."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise HoursError(f"{text!r}: expected a date YYYY-MM-DD") from None


def parse_weekly(entry: str) -> tuple[tuple[int, ...], tuple[TimeRange, ...]]:
    """"mon-fri 09:00-18:00" → (weekdays, ranges)."""
    days, _, ranges = entry.strip().partition(" ")
    if not ranges.strip():
        raise HoursError(f"{entry!r}: expected DAYS HH:MM-HH:MM, e.g. 'mon-fri 09:00-18:00'")
    try:
        return parse_day_spec(days), _ranges(ranges)
    except HoursError as exc:
        raise HoursError(f"{entry!r}: {exc}") from None


def parse_special(entry: str) -> tuple[date, tuple[TimeRange, ...]]:
    """"2025-12-24 09:00-13:00" → (date, ranges)."""
    day, _, ranges = entry.strip().partition(" ")
    if not ranges.strip():
        raise HoursError(f"{entry!r}: expected YYYY-MM-DD HH:MM-HH:MM")
    try:
        return date.fromisoformat(day), _ranges(ranges)
    except HoursError as exc:
        raise HoursError(f"{entry!r}: {exc}") from None
    except ValueError:
        raise HoursError(f"{entry!r}: expected YYYY-MM-DD HH:MM-HH:MM") from None


@dataclass(frozen=True)
class BusinessHours:
    """A validated calendar; see the module docstring for the forms it is read from."""

    timezone: str
    weekly: dict[int, tuple[TimeRange, ...]]
    holidays: frozenset[date] = frozenset()
    special: dict[date, tuple[TimeRange, ...]] = field(default_factory=dict)

    @classmethod
    def parse(
        cls,
        timezone: str,
        weekly: Iterable[str],
        holidays: Iterable[str] = (),
        special: Iterable[str] = (),
    ) -> BusinessHours:
        """Build from the flow file's strings; ``HoursError`` names the entry that is wrong."""
        zone(timezone)
        table: dict[int, tuple[TimeRange, ...]] = {}
        for entry in weekly:
            days, ranges = parse_weekly(entry)
            for day in days:
                table[day] = table.get(day, ()) + ranges
        dates = dict(parse_special(entry) for entry in special)
        return cls(timezone, table, frozenset(parse_date(h) for h in holidays), dates)

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """The opening ranges of a local date."""
        if day in self.special:
            return self.special[day]
        if day in self.holidays:
            return ()
        return self.weekly.get(day.weekday(), ())

    def is_open(self, now: float) -> bool:
        """Whether the business is open at unix time ``now``."""
        local = datetime.fromtimestamp(now, zone(self.timezone))
        second = local.hour * 3600 + local.minute * 60 + local.second
        return any(second in r for r in self.ranges_on(local.date()))


def zone(name: str) -> ZoneInfo:
    """The zoneinfo time zone ``name``; ``HoursError`` when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise HoursError(f"unknown time zone {name!r} (use an IANA name like 'Europe/Berlin')") from None
