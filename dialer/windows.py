"""Calling windows, evaluated in the LEAD's local time (its IANA zone), per country.

Hours are written as in IVR business hours (``ivr.hours``): ``"mon-fri 09:00-20:00"``,
``"sat 10:00-16:00"``, ``"daily 08:00-21:00"``. A day off of the country's holiday calendar has
the ``holidays`` hours (closed by default); a make-up working day (调休上班) has the
``makeup`` hours, Monday's unless given. A legal limit, where the law sets one, clips any
hours a campaign writes: a campaign can narrow a window, never widen it past the law.

Defaults and sources (docs/campaigns.md has the table):

- US: every day 08:00-21:00, the TCPA limit (47 CFR 64.1200(c)(1): not before 8 a.m. or after
  9 p.m. at the called party's location); federal holidays closed (a callfloor default).
- CA: weekdays 09:00-21:30, weekends 10:00-18:00, the CRTC Telemarketing Rules' limit.
- GB: Mon-Fri 08:00-21:00, Sat 09:00-17:00; Sunday and bank holidays closed. Ofcom sets no
  hours; this is an assumption from common practice.
- DE: Mon-Fri 09:00-20:00, Sat 09:00-18:00; Sunday and holidays closed (assumption; German
  law restricts who may be called, not when).
- CN: working days 09:00-20:00, make-up working days included; weekends and holidays closed
  (assumption: no national rule fixes calling hours).
- any other country: Mon-Fri 09:00-20:00, Sat 10:00-18:00 (assumption), no holidays known.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer.holidays import HolidayCalendar, load_calendar
from ivr.hours import HoursError, TimeRange, parse_ranges, parse_weekly
from ivr.hours import zone as ivr_zone

__all__ = [
    "COUNTRY_HOURS",
    "FALLBACK_HOURS",
    "LEGAL_LIMITS",
    "DayRules",
    "WindowError",
    "Windows",
    "country_rules",
    "default_windows",
    "open_zones",
    "override",
    "parse_holiday_hours",
    "weekly_hours",
    "window_state",
    "zone_states",
]

Zone = tuple[str, str]  # (IANA time zone, country)

COUNTRY_HOURS: dict[str, tuple[str, ...]] = {
    "US": ("daily 08:00-21:00",),
    "CA": ("mon-fri 09:00-21:30", "sat-sun 10:00-18:00"),
    "GB": ("mon-fri 08:00-21:00", "sat 09:00-17:00"),
    "DE": ("mon-fri 09:00-20:00", "sat 09:00-18:00"),
    "CN": ("mon-fri 09:00-20:00",),
}
FALLBACK_HOURS: tuple[str, ...] = ("mon-fri 09:00-20:00", "sat 10:00-18:00")
LEGAL_LIMITS: dict[str, tuple[str, ...]] = {
    "US": ("daily 08:00-21:00",),  # TCPA, 47 CFR 64.1200(c)(1)
    "CA": ("mon-fri 09:00-21:30", "sat-sun 10:00-18:00"),  # CRTC Unsolicited Telecommunications Rules, Part III
}
_HORIZON_DAYS = 400
Week = tuple[tuple[TimeRange, ...], ...]


class WindowError(ValueError):
    """Hours or a time zone that cannot be understood; the message shows the expected form."""


@dataclass(frozen=True, eq=False)
class DayRules:
    """When one country's leads may be called, in their local time."""

    weekly: Week  # seven entries, Monday first
    holidays: tuple[TimeRange, ...] | None = ()  # () closed; None: as on that weekday
    makeup: tuple[TimeRange, ...] | None = None  # None: Monday's hours
    calendar: HolidayCalendar = field(default_factory=lambda: HolidayCalendar("ZZ"))
    limits: Week | None = None  # the law's limit per weekday; None: no legal limit

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """The local opening ranges of ``day``, holidays and make-up days applied, clipped."""
        if self.calendar.is_makeup_workday(day):
            hours = self.makeup if self.makeup is not None else self.weekly[0]
        elif self.calendar.is_day_off(day) and self.holidays is not None:
            hours = self.holidays
        else:
            hours = self.weekly[day.weekday()]
        return hours if self.limits is None else _clip(hours, self.limits[day.weekday()])


@dataclass(frozen=True, eq=False)
class Windows:
    """Calling rules by country, and the rules for any other country."""

    countries: Mapping[str, DayRules]
    fallback: DayRules

    def rules_for(self, country: str | None) -> DayRules:
        """The rules of ``country`` (ISO 3166 alpha-2), or the fallback."""
        return self.countries.get(country or "", self.fallback)


def weekly_hours(entries: Iterable[str]) -> Week:
    """``["mon-fri 09:00-20:00", "sat 10:00-16:00"]`` → seven sorted range tuples."""
    table: list[list[TimeRange]] = [[] for _ in range(7)]
    try:
        for entry in entries:
            days, ranges = parse_weekly(entry)
            for day in days:
                table[day].extend(ranges)
    except HoursError as exc:
        raise WindowError(str(exc)) from None
    return tuple(tuple(sorted(day, key=lambda r: r.start)) for day in table)


def parse_holiday_hours(text: str) -> tuple[TimeRange, ...] | None:
    """``"closed"`` → (), ``"weekday"`` → None (as that weekday), ``"10:00-14:00"`` → ranges."""
    key = text.strip().lower()
    if key == "closed":
        return ()
    if key == "weekday":
        return None
    try:
        return tuple(sorted(parse_ranges(text), key=lambda r: r.start))
    except HoursError as exc:
        raise WindowError(f"{exc} (or 'closed', or 'weekday')") from None


@functools.lru_cache(maxsize=64)
def country_rules(country: str) -> DayRules:
    """The default rules of ``country``, with its shipped holiday calendar and legal limit."""
    code = country.upper()
    limits = weekly_hours(LEGAL_LIMITS[code]) if code in LEGAL_LIMITS else None
    weekly = weekly_hours(COUNTRY_HOURS.get(code, FALLBACK_HOURS))
    return DayRules(weekly, (), None, load_calendar(code), limits)


def default_windows() -> Windows:
    """Every country's default rules (no campaign overrides)."""
    countries = {code: country_rules(code) for code in COUNTRY_HOURS}
    return Windows(countries, DayRules(weekly_hours(FALLBACK_HOURS)))


def override(
    base: DayRules,
    *,
    hours: Sequence[str] | None = None,
    holidays: str | None = None,
    makeup: str | None = None,
    extra_off: Iterable[date] = (),
    extra_work: Iterable[date] = (),
) -> DayRules:
    """``base`` with a campaign's hours, holiday and make-up hours and own dates (limits kept)."""
    changes: dict[str, object] = {"calendar": base.calendar.with_days(extra_off, extra_work)}
    if hours is not None:
        changes["weekly"] = weekly_hours(hours)
    if holidays is not None:
        changes["holidays"] = parse_holiday_hours(holidays)
    if makeup is not None:
        changes["makeup"] = parse_holiday_hours(makeup)
    return replace(base, **changes)  # type: ignore[arg-type]


def window_state(zone: str, country: str | None, now: float, rules: Windows | DayRules) -> tuple[bool, float | None]:
    """(open now, the next opening instant when closed) for a lead in ``zone`` and ``country``.

    ``next_open_at`` is None when the window is open, or when it stays closed for 400 days.
    """
    day_rules = rules.rules_for(country) if isinstance(rules, Windows) else rules
    info = _zone(zone)
    today = datetime.fromtimestamp(now, info).date()
    for offset in range(_HORIZON_DAYS):
        day = today + timedelta(days=offset)
        for r in day_rules.ranges_on(day):
            start, end = _instant(day, r.start, info), _instant(day, r.end, info)
            if start <= now < end:
                return True, None
            if start > now:
                return False, start
    return False, None


def zone_states(zones: Iterable[Zone], now: float, rules: Windows) -> dict[Zone, tuple[bool, float | None]]:
    """``window_state`` once per distinct (zone, country): the store then selects by zone."""
    return {pair: window_state(pair[0], pair[1], now, rules) for pair in set(zones)}


def open_zones(zones: Iterable[Zone], now: float, rules: Windows) -> frozenset[Zone]:
    """The (zone, country) pairs whose window is open at ``now``."""
    return frozenset(pair for pair, (is_open, _) in zone_states(zones, now, rules).items() if is_open)


def _zone(name: str) -> ZoneInfo:
    try:
        return ivr_zone(name)
    except HoursError as exc:
        raise WindowError(str(exc)) from None


def _instant(day: date, second: int, info: ZoneInfo) -> float:
    """Unix time of ``second`` after local midnight of ``day`` (wall clock; 24:00 is next midnight)."""
    return (datetime.combine(day, time(), info) + timedelta(seconds=second)).timestamp()


def _clip(hours: tuple[TimeRange, ...], limits: tuple[TimeRange, ...]) -> tuple[TimeRange, ...]:
    out = []
    for r in hours:
        for limit in limits:
            start, end = max(r.start, limit.start), min(r.end, limit.end)
            if start < end:
                out.append(TimeRange(start, end))
    return tuple(sorted(out, key=lambda r: r.start))
