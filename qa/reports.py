"""QA reports: the daily summary and the monthly per-seat and per-team scores, as table or CSV.

Pure aggregation over :class:`ScoredCall` rows (the store reads the current evaluations: a
revised evaluation counts as its revision). The daily summary is plain counts and means; the
monthly scores add the inverse-probability weighted estimate and its interval from the sampled
evaluations (:mod:`qa.estimate`); evaluations made outside the sample count in ``scored`` and
the plain mean only.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from qa.estimate import Estimate, Observation, estimate, estimate_by

__all__ = [
    "NO_TEAM",
    "DailySummary",
    "GroupLine",
    "MonthlyReport",
    "ScoreRow",
    "ScoredCall",
    "daily_csv",
    "daily_summary",
    "daily_table",
    "monthly_csv",
    "monthly_report",
    "monthly_table",
]

NO_TEAM = "(no team)"


@dataclass(frozen=True, slots=True)
class ScoredCall:
    """One current evaluation with what the reports need."""

    evaluation: int
    call: str
    seat: str
    team: str | None
    score: float
    veto: tuple[str, ...]
    defects: tuple[str, ...]  # defect categories
    submitted_at: float
    stratum: str | None = None  # the sample's design stratum; None: not from a sample
    stratum_size: int | None = None


@dataclass(frozen=True, slots=True)
class GroupLine:
    """Counts for one team (or the whole day)."""

    key: str
    scored: int
    average: float | None
    vetoes: int


@dataclass(frozen=True, slots=True)
class DailySummary:
    """The day's QA summary."""

    day: str
    total: GroupLine
    teams: tuple[GroupLine, ...]
    top_defects: tuple[tuple[str, int], ...]  # (category, count), most frequent first


def _line(key: str, calls: Sequence[ScoredCall]) -> GroupLine:
    average = sum(c.score for c in calls) / len(calls) if calls else None
    return GroupLine(key, len(calls), average, sum(1 for c in calls if c.veto))


def _by_team(calls: Iterable[ScoredCall]) -> dict[str, list[ScoredCall]]:
    teams: dict[str, list[ScoredCall]] = defaultdict(list)
    for call in calls:
        teams[call.team or NO_TEAM].append(call)
    return teams


def _team_order(keys: Iterable[str]) -> list[str]:
    keys = set(keys)
    return sorted(k for k in keys if k != NO_TEAM) + ([NO_TEAM] if NO_TEAM in keys else [])


def daily_summary(calls: Iterable[ScoredCall], *, day: str, top: int = 5) -> DailySummary:
    """Scored calls, average, veto count, the ``top`` defect categories, and the same per team."""
    calls = list(calls)
    teams = _by_team(calls)
    defects = Counter(d for c in calls for d in c.defects)
    ranked = sorted(defects.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return DailySummary(day, _line("", calls), tuple(_line(t, teams[t]) for t in _team_order(teams)),
                        tuple(ranked))


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One seat, team or the total for the month."""

    level: Literal["seat", "team", "total"]
    key: str
    team: str | None
    scored: int
    vetoes: int
    average: float | None  # plain mean of every scored call
    estimate: Estimate | None  # weighted, from the sampled calls


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    """Per-seat rows, per-team rows and the total."""

    month: str
    seats: tuple[ScoreRow, ...]
    teams: tuple[ScoreRow, ...]
    total: ScoreRow

    def all_rows(self) -> tuple[ScoreRow, ...]:
        """Seats, teams, then the total."""
        return (*self.seats, *self.teams, self.total)


def _observation(call: ScoredCall) -> Observation | None:
    if call.stratum is None or call.stratum_size is None:
        return None
    return Observation(call.seat, call.team or NO_TEAM, call.stratum, call.stratum_size, call.score)


def monthly_report(calls: Iterable[ScoredCall], *, month: str, level: float = 0.95) -> MonthlyReport:
    """Every seat and team with scored calls: counts, plain mean, weighted estimate and interval."""
    calls = list(calls)
    observations = [o for o in map(_observation, calls) if o is not None]
    per_seat = estimate_by(observations, lambda o: o.seat, level=level)
    per_team = estimate_by(observations, lambda o: o.team, level=level)
    seats: dict[str, list[ScoredCall]] = defaultdict(list)
    for call in calls:
        seats[call.seat].append(call)
    seat_rows = []
    for seat in sorted(seats):
        line = _line(seat, seats[seat])
        seat_rows.append(ScoreRow("seat", seat, seats[seat][-1].team, line.scored, line.vetoes,
                                  line.average, per_seat.get(seat)))
    teams = _by_team(calls)
    team_rows = []
    for team in _team_order(teams):
        line = _line(team, teams[team])
        team_rows.append(ScoreRow("team", team, None, line.scored, line.vetoes, line.average,
                                  per_team.get(team)))
    whole = _line("", calls)
    total = ScoreRow("total", "", None, whole.scored, whole.vetoes, whole.average,
                     estimate(observations, level=level))
    return MonthlyReport(month, tuple(seat_rows), tuple(team_rows), total)


def _num(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def daily_csv(summary: DailySummary) -> str:
    """One row for the day, one per team, then one per top defect (RFC 4180 line breaks)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["day", "level", "key", "scored", "average", "vetoes"])
    for line in (summary.total, *summary.teams):
        writer.writerow([summary.day, "team" if line.key else "total", line.key, line.scored,
                         _num(line.average), line.vetoes])
    for category, count in summary.top_defects:
        writer.writerow([summary.day, "defect", category, count, "", ""])
    return buffer.getvalue()


_MONTHLY = ["month", "level", "key", "team", "scored", "vetoes", "average", "sampled",
            "weighted", "std_error", "ci_low", "ci_high", "level_pct"]


def monthly_csv(report: MonthlyReport) -> str:
    """A header, then seats, teams and the total; empty cells where a figure is undefined."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_MONTHLY)
    for row in report.all_rows():
        e = row.estimate
        writer.writerow([
            report.month, row.level, row.key, row.team or "", row.scored, row.vetoes, _num(row.average),
            e.n if e else 0, _num(e.mean if e else None), _num(e.std_error if e else None),
            _num(e.low if e else None), _num(e.high if e else None), _num(e.level * 100 if e else None, 0),
        ])
    return buffer.getvalue()


def _align(title: str, rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in rows]
    return "\n".join([title, lines[0], "-" * len(lines[0]), *lines[1:]]) + "\n"


def daily_table(summary: DailySummary) -> str:
    """The daily summary for people."""
    rows = [["Team", "Scored", "Average", "Vetoes"]]
    for line in (*summary.teams, summary.total):
        rows.append([line.key or "TOTAL", str(line.scored), _num(line.average, 1) or "-", str(line.vetoes)])
    text = _align(f"QA daily summary, {summary.day}", rows)
    defects = ", ".join(f"{c} ({n})" for c, n in summary.top_defects) or "none"
    return text + f"Top defects: {defects}\n"


def monthly_table(report: MonthlyReport) -> str:
    """The monthly scores for people: plain mean, weighted estimate and its interval."""
    rows = [["Seat/team", "Team", "Scored", "Vetoes", "Average", "Sampled", "Weighted", "CI"]]
    for row in report.all_rows():
        e = row.estimate
        key = {"team": f"team {row.key}", "total": "TOTAL"}.get(row.level, row.key)
        ci = f"{e.low:.1f}-{e.high:.1f}" if e else "-"
        rows.append([key, row.team or "", str(row.scored), str(row.vetoes), _num(row.average, 1) or "-",
                     str(e.n if e else 0), _num(e.mean if e else None, 1) or "-", ci])
    level = next((r.estimate.level for r in report.all_rows() if r.estimate), 0.95)
    return _align(f"QA monthly scores, {report.month} (weighted by inverse inclusion probability,"
                  f" {level:.0%} interval)", rows)
