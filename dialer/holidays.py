"""Holiday calendars per country: days off, and make-up working days (调休) for mainland China.

The shipped data is TOML under ``dialer/data/holidays/<cc>.toml``, each file citing where its
dates come from; nothing is computed or guessed here. A file lists the ``years`` it covers
completely, ``off`` days (a ``date``, or a ``from``/``to`` range, with a ``name``) and ``work``
days (weekend days that are working days)::

    country = "CN"
    years = [2026]
    off = [{ name = "春节", from = 2026-02-15, to = 2026-02-23 }]
    work = [{ name = "春节调休上班", date = 2026-02-14 }]
    statutory = [{ name = "春节", from = 2027-02-05, to = 2027-02-08 }]

``statutory`` days are for a year whose arrangement is not published yet: the holidays the law
fixes by itself, days off until the year's own data replaces them (China publishes its 调休 each
November for the next year). A year not covered is not complete; ``HolidayCalendar.covers`` lets
a caller warn, and ``statutory_years`` says for which of them the law's days are known.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

__all__ = ["DATA_DIR", "HolidayCalendar", "HolidayError", "load_calendar", "parse_calendar", "shipped_countries"]

DATA_DIR = Path(__file__).with_name("data") / "holidays"
_MAX_RANGE_DAYS = 31


class HolidayError(ValueError):
    """A holiday file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, eq=False)
class HolidayCalendar:
    """The days off and make-up working days of one country."""

    country: str
    days_off: Mapping[date, str] = field(default_factory=dict)
    workdays: Mapping[date, str] = field(default_factory=dict)
    years: frozenset[int] = frozenset()
    source: str = "<none>"
    statutory_years: frozenset[int] = frozenset()  # not covered, but its statutory days are off

    def is_day_off(self, day: date) -> bool:
        """True on a public holiday (a make-up working day never is one)."""
        return day in self.days_off

    def is_makeup_workday(self, day: date) -> bool:
        """True on a weekend day that is a working day (调休上班)."""
        return day in self.workdays

    def name(self, day: date) -> str | None:
        """The holiday's or the make-up day's name, or None on an ordinary day."""
        return self.days_off.get(day) or self.workdays.get(day)

    def covers(self, year: int) -> bool:
        """True when the data knows every holiday of ``year``."""
        return year in self.years

    def with_days(
        self, days_off: Iterable[date] = (), workdays: Iterable[date] = (), *, name: str = "campaign"
    ) -> HolidayCalendar:
        """A copy with extra days off and make-up working days (a campaign's own dates)."""
        off = dict(self.days_off)
        work = dict(self.workdays)
        for day in days_off:
            off.setdefault(day, name)
            work.pop(day, None)
        for day in workdays:
            work.setdefault(day, name)
            off.pop(day, None)
        return HolidayCalendar(self.country, off, work, self.years, self.source, self.statutory_years)


def shipped_countries() -> tuple[str, ...]:
    """Countries with a shipped calendar, e.g. ("CN", "DE", "GB", "US")."""
    return tuple(sorted(p.stem.upper() for p in DATA_DIR.glob("*.toml")))


def load_calendar(country: str, *, folder: Path = DATA_DIR) -> HolidayCalendar:
    """The shipped calendar of ``country`` (ISO 3166 alpha-2); an empty one when none is shipped."""
    path = folder / f"{country.lower()}.toml"
    if not path.is_file():
        return HolidayCalendar(country.upper())
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HolidayError(f"{path}: cannot read: {exc}") from None
    return parse_calendar(text, str(path))


def parse_calendar(text: str, source: str) -> HolidayCalendar:
    """Build a calendar from the TOML ``text``; ``HolidayError`` names ``source`` and the entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HolidayError(f"{source}: TOML syntax error: {exc}") from None
    unknown = set(data) - {"country", "years", "off", "work", "statutory"}
    if unknown:
        raise HolidayError(f"{source}: unknown keys {sorted(unknown)}")
    country = data.get("country")
    if not isinstance(country, str) or len(country) != 2 or not country.isupper():
        raise HolidayError(f"{source}: country: expected a code like \"CN\", got {country!r}")
    years = data.get("years", [])
    if not isinstance(years, list) or not all(isinstance(y, int) for y in years):
        raise HolidayError(f"{source}: years: expected a list of years, got {years!r}")
    off = _entries(data.get("off", []), source, "off", set(years))
    work = _entries(data.get("work", []), source, "work", set(years))
    both = sorted(off.keys() & work.keys())
    if both:
        raise HolidayError(f"{source}: {both[0]} is both a day off and a working day")
    statutory = _entries(data.get("statutory", []), source, "statutory", None, outside=set(years))
    return HolidayCalendar(country, {**off, **statutory}, work, frozenset(years), source,
                           frozenset(d.year for d in statutory))


def _entries(items: Any, source: str, key: str, years: set[int] | None, *,
             outside: frozenset[int] | set[int] = frozenset()) -> dict[date, str]:
    """The days of ``items``: each in ``years`` (when given) and in none of ``outside``."""
    if not isinstance(items, list):
        raise HolidayError(f"{source}: {key}: expected a list of tables")
    out: dict[date, str] = {}
    for index, item in enumerate(items):
        where = f"{source}: {key}[{index}]"
        if not isinstance(item, dict):
            raise HolidayError(f"{where}: expected a table")
        for day in _days(item, where):
            if years is not None and day.year not in years:
                raise HolidayError(f"{where}: {day} is outside the years {sorted(years)}")
            if day.year in outside:
                raise HolidayError(f"{where}: {day} is in {day.year}, whose published days are in "
                                   "`off` and `work`: statutory days are for a year not published yet")
            if day in out:
                raise HolidayError(f"{where}: {day} is listed twice")
            out[day] = item["name"]
    return out


def _days(item: dict[str, Any], where: str) -> list[date]:
    keys = set(item)
    if not isinstance(item.get("name"), str) or not item["name"]:
        raise HolidayError(f"{where}: name: required text")
    if keys == {"name", "date"} and _is_date(item["date"]):
        return [item["date"]]
    if keys == {"name", "from", "to"} and _is_date(item["from"]) and _is_date(item["to"]):
        first, last = item["from"], item["to"]
        if not 0 <= (last - first).days < _MAX_RANGE_DAYS:
            raise HolidayError(f"{where}: from {first} to {last} is not a range of 1-{_MAX_RANGE_DAYS} days")
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]
    raise HolidayError(f"{where}: expected {{name, date}} or {{name, from, to}} with TOML dates (2026-02-15)")


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not hasattr(value, "hour")
