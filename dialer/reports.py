"""The outbound report: per seat or team, per campaign and in total, for a local day or month.

Pure aggregation: the store reads the attempt ledger grouped by (campaign, seat) as
:class:`AttemptCell` rows and the seats' login/logout changes as :class:`PresenceMark` rows;
:func:`build_report` turns them into report rows. Definitions are in docs/reports.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "NO_SEAT",
    "NO_TEAM",
    "AttemptCell",
    "OutboundReport",
    "Period",
    "PresenceMark",
    "ReportBy",
    "ReportError",
    "ReportRow",
    "build_report",
    "logged_in_seconds",
    "parse_zone",
    "ratio",
]

ReportBy = Literal["seat", "team"]
RowLevel = Literal["seat", "team", "campaign", "total"]

NO_SEAT = "(no seat)"  # dials that never reached a seat
NO_TEAM = "(no team)"  # seats without a team in the settings

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ReportError(ValueError):
    """A report asked for with bad parameters (period, zone, grouping); the message says which."""


def parse_zone(name: str | None) -> tzinfo | None:
    """An IANA zone (``Europe/Berlin``); None or empty: the machine's local zone."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReportError(f"unknown time zone {name!r} (an IANA name like Europe/Berlin)") from exc


def _midnight(day: date, tz: tzinfo | None) -> float:
    # A naive datetime's timestamp() is taken in the machine's zone, like floorwiring.local_day.
    return datetime.combine(day, time(), tzinfo=tz).timestamp()


@dataclass(frozen=True, slots=True)
class Period:
    """A local calendar day or month as the unix-seconds range [start, end)."""

    kind: Literal["day", "month"]
    label: str  # "2025-03-14" or "2025-03"
    start: float
    end: float
    zone: str  # the IANA name, or the local zone's abbreviation

    @classmethod
    def day(cls, day: date, tz: tzinfo | None = None) -> Period:
        """The local day ``day`` (23 or 25 hours long on a daylight-saving change)."""
        start = _midnight(day, tz)
        end = _midnight(date.fromordinal(day.toordinal() + 1), tz)
        return cls("day", day.isoformat(), start, end, _zone_name(tz, start))

    @classmethod
    def month(cls, year: int, month: int, tz: tzinfo | None = None) -> Period:
        """The local calendar month."""
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        start = _midnight(first, tz)
        return cls("month", f"{year:04d}-{month:02d}", start, _midnight(following, tz),
                   _zone_name(tz, start))

    @classmethod
    def parse(cls, *, day: str | None = None, month: str | None = None,
              tz: tzinfo | None = None) -> Period:
        """Exactly one of ``day`` (YYYY-MM-DD) or ``month`` (YYYY-MM)."""
        if (day is None) == (month is None):
            raise ReportError("give either a day (YYYY-MM-DD) or a month (YYYY-MM)")
        text = day if day is not None else month
        assert text is not None
        found = (_DAY if day is not None else _MONTH).match(text.strip())
        try:
            if found is None:
                raise ValueError("bad format")
            numbers = [int(g) for g in found.groups()]
            if day is not None:
                return cls.day(date(*numbers), tz)
            return cls.month(numbers[0], numbers[1], tz)
        except ValueError:
            shape = "YYYY-MM-DD" if day is not None else "YYYY-MM"
            raise ReportError(f"not a date of the form {shape}: {text!r}") from None


def _zone_name(tz: tzinfo | None, at: float) -> str:
    if isinstance(tz, ZoneInfo):
        return tz.key
    return datetime.fromtimestamp(at, tz).astimezone(tz).tzname() or "local"


@dataclass(frozen=True, slots=True)
class AttemptCell:
    """The attempts of one campaign dialled in the period that belong to one seat (or none)."""

    campaign: str
    seat: str | None  # the seat the attempt was connected (or reserved) to; None: no seat
    dials: int
    connects: int
    talk_s: float  # CDR durations of the connected calls
    conversions: int
    refusals: int
    abandoned: int
    live_answers: int


@dataclass(frozen=True, slots=True)
class PresenceMark:
    """A seat became logged in or logged out at ``at`` (the last mark before a period counts too)."""

    seat: str
    at: float
    logged_in: bool


def ratio(part: float | None, whole: float | None) -> float | None:
    """part / whole, or None when either is unknown or the whole is zero."""
    if part is None or not whole:
        return None
    return part / whole


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One line of the report; None means "not defined at this level" (see docs/reports.md)."""

    level: RowLevel
    key: str  # seat id, team id, campaign id, NO_SEAT / NO_TEAM, or "" for the total
    team: str | None  # a seat row's team
    dials: int
    connects: int
    talk_s: float
    logged_in_s: float | None
    conversions: int
    refusals: int
    abandoned: int | None
    live_answers: int | None

    @property
    def connect_rate(self) -> float | None:
        """Connects per dial."""
        return ratio(self.connects, self.dials)

    @property
    def conversion_rate(self) -> float | None:
        """Conversions per connect."""
        return ratio(self.conversions, self.connects)

    @property
    def refusal_rate(self) -> float | None:
        """Refusals per connect."""
        return ratio(self.refusals, self.connects)

    @property
    def abandon_rate(self) -> float | None:
        """Abandoned attempts per live answer."""
        return ratio(self.abandoned, self.live_answers)


@dataclass(frozen=True, slots=True)
class OutboundReport:
    """The report: group rows (seats or teams), one row per campaign, and the total."""

    period: Period
    by: ReportBy
    campaign: str | None  # the campaign filter, if any
    generated_at: float
    rows: tuple[ReportRow, ...]
    campaigns: tuple[ReportRow, ...]
    total: ReportRow

    def all_rows(self) -> tuple[ReportRow, ...]:
        """Group rows, campaign rows, then the total."""
        return (*self.rows, *self.campaigns, self.total)


def logged_in_seconds(marks: Iterable[PresenceMark], start: float, stop: float) -> dict[str, float]:
    """Seconds each seat was logged in within [start, stop), from its login/logout marks.

    A mark before ``start`` gives the state at ``start``; a seat still logged in counts to
    ``stop`` (the period's end, or now when the period is not over).
    """
    stop = max(start, stop)
    per_seat: dict[str, list[PresenceMark]] = defaultdict(list)
    for mark in marks:
        per_seat[mark.seat].append(mark)
    out: dict[str, float] = {}
    for seat, seat_marks in per_seat.items():
        seat_marks.sort(key=lambda m: m.at)  # stable: equal times keep the log's order
        total, since, logged_in = 0.0, start, False
        for mark in seat_marks:
            at = min(max(mark.at, start), stop)
            if logged_in:
                total += at - since
            logged_in, since = mark.logged_in, at
        if logged_in:
            total += stop - since
        out[seat] = total
    return out


_SUMMED = ("dials", "connects", "talk_s", "conversions", "refusals", "abandoned", "live_answers")


def _row(level: RowLevel, key: str, cells: Iterable[AttemptCell], *, team: str | None = None,
         logged_in_s: float | None = None, abandonment: bool = False) -> ReportRow:
    sums: dict[str, float] = dict.fromkeys(_SUMMED, 0)
    for cell in cells:
        for name in _SUMMED:
            sums[name] += getattr(cell, name)
    return ReportRow(
        level, key, team, int(sums["dials"]), int(sums["connects"]), float(sums["talk_s"]),
        logged_in_s, int(sums["conversions"]), int(sums["refusals"]),
        int(sums["abandoned"]) if abandonment else None,
        int(sums["live_answers"]) if abandonment else None,
    )


def _merge(level: RowLevel, key: str, rows: list[ReportRow]) -> ReportRow:
    """A team row: the sum of its seat rows."""
    return ReportRow(
        level, key, None, sum(r.dials for r in rows), sum(r.connects for r in rows),
        sum(r.talk_s for r in rows), sum(r.logged_in_s or 0.0 for r in rows),
        sum(r.conversions for r in rows), sum(r.refusals for r in rows), None, None,
    )


def build_report(cells: Iterable[AttemptCell], marks: Iterable[PresenceMark], *, period: Period,
                 by: ReportBy, teams: Mapping[str, str | None], now: float,
                 campaign: str | None = None) -> OutboundReport:
    """Aggregate the period's cells and presence marks into the report.

    ``teams`` maps seat id to team id (the settings' seats). Without a campaign filter every
    seat logged in during the period is listed; with one, only seats with attempts in it.
    """
    if by not in ("seat", "team"):
        raise ReportError(f"group by seat or team, not {by!r}")
    cells = [c for c in cells if campaign is None or c.campaign == campaign]
    logged = logged_in_seconds(marks, period.start, min(period.end, now))
    by_seat: dict[str | None, list[AttemptCell]] = defaultdict(list)
    by_campaign: dict[str, list[AttemptCell]] = defaultdict(list)
    for cell in cells:
        by_seat[cell.seat].append(cell)
        by_campaign[cell.campaign].append(cell)
    seats = {s for s in by_seat if s is not None}
    if campaign is None:
        seats |= {s for s, seconds in logged.items() if seconds > 0}
    seat_rows = [_row("seat", s, by_seat.get(s, ()), team=teams.get(s), logged_in_s=logged.get(s, 0.0))
                 for s in sorted(seats)]
    rows = seat_rows if by == "seat" else _team_rows(seat_rows)
    if None in by_seat:
        rows.append(_row("seat" if by == "seat" else "team", NO_SEAT, by_seat[None]))
    total = _row("total", "", cells, logged_in_s=sum(r.logged_in_s or 0.0 for r in seat_rows),
                 abandonment=True)
    return OutboundReport(
        period, by, campaign, now, tuple(rows),
        tuple(_row("campaign", c, by_campaign[c], abandonment=True) for c in sorted(by_campaign)),
        total,
    )


def _team_rows(seat_rows: list[ReportRow]) -> list[ReportRow]:
    teams: dict[str, list[ReportRow]] = defaultdict(list)
    for row in seat_rows:
        teams[row.team or NO_TEAM].append(row)
    named = sorted(t for t in teams if t != NO_TEAM)
    order = named + ([NO_TEAM] if NO_TEAM in teams else [])
    return [_merge("team", t, teams[t]) for t in order]
