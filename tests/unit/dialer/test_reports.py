"""The outbound report's pure core: periods, logged-in time, and the aggregation into rows."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.reports import (
    NO_SEAT,
    NO_TEAM,
    AttemptCell,
    Period,
    PresenceMark,
    ReportError,
    ReportRow,
    build_report,
    logged_in_seconds,
    parse_zone,
    ratio,
)

BERLIN = ZoneInfo("Europe/Berlin")
DAY = Period.day(date(2025, 3, 14), BERLIN)
H = 3600.0


# -- periods --------------------------------------------------------------------------------------

def test_a_day_is_local_midnight_to_midnight() -> None:
    assert Period("day", "2025-03-14", 1741906800.0, 1741993200.0, "Europe/Berlin") == DAY
    assert datetime.fromtimestamp(DAY.start, UTC).isoformat() == "2025-03-13T23:00:00+00:00"


def test_days_of_the_clock_change_are_23_and_25_hours() -> None:
    spring = Period.day(date(2025, 3, 30), BERLIN)
    autumn = Period.day(date(2025, 10, 26), BERLIN)
    assert (spring.end - spring.start, autumn.end - autumn.start) == (23 * H, 25 * H)


def test_a_month_runs_to_the_first_of_the_next_one() -> None:
    december = Period.month(2024, 12, BERLIN)
    assert december.label == "2024-12"
    assert december.start == datetime(2024, 12, 1, tzinfo=BERLIN).timestamp()
    assert december.end == datetime(2025, 1, 1, tzinfo=BERLIN).timestamp()
    march = Period.parse(month="2025-03", tz=BERLIN)
    assert march.end - march.start == 31 * 24 * H - H  # the spring change is in March


def test_without_a_zone_the_machine_zone_is_used() -> None:
    period = Period.parse(day="2025-03-14")
    local = time.localtime(period.start)
    assert (local.tm_year, local.tm_mon, local.tm_mday, local.tm_hour, local.tm_min) == (2025, 3, 14, 0, 0)
    assert period.zone  # the local zone's abbreviation
    assert Period.day(date(2025, 3, 14), UTC).zone == "UTC"


@pytest.mark.parametrize(("day", "month", "message"), [
    (None, None, "either a day"),
    ("2025-03-14", "2025-03", "either a day"),
    ("2025-02-30", None, "YYYY-MM-DD: '2025-02-30'"),
    ("14.03.2025", None, "YYYY-MM-DD"),
    (None, "2025-13", "YYYY-MM: '2025-13'"),
    (None, "2025-3", "YYYY-MM"),
])
def test_bad_periods_are_named(day: str | None, month: str | None, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        Period.parse(day=day, month=month)


def test_zones_are_iana_names() -> None:
    assert parse_zone("Asia/Shanghai") == ZoneInfo("Asia/Shanghai")
    assert parse_zone(None) is None and parse_zone("") is None
    for bad in ("Mars/Olympus", "../etc/passwd"):
        with pytest.raises(ReportError, match="unknown time zone"):
            parse_zone(bad)


# -- logged-in time -------------------------------------------------------------------------------

def mark(seat: str, hours: float, logged_in: bool) -> PresenceMark:
    return PresenceMark(seat, DAY.start + hours * H, logged_in)


def test_logged_in_time_is_clipped_to_the_period() -> None:
    marks = [
        mark("a", -2, True), mark("a", 3, False), mark("a", 4, True), mark("a", 5, True),
        mark("a", 6, False),                             # 0-3 h and 4-6 h
        mark("b", 22, True),                             # still logged in at the end: 2 h
        mark("c", -5, True), mark("c", -1, False),       # the day before only
        mark("d", 10, False), mark("d", 11, True), mark("d", 30, False),  # 11-24 h
    ]
    assert logged_in_seconds(marks, DAY.start, DAY.end) == {"a": 5 * H, "b": 2 * H, "c": 0.0, "d": 13 * H}


def test_a_seat_still_logged_in_counts_up_to_now() -> None:
    marks = [mark("a", 8, True), mark("a", 9, False), mark("a", 9.5, True)]
    now = DAY.start + 10 * H
    assert logged_in_seconds(marks, DAY.start, now) == {"a": 1.5 * H}
    assert logged_in_seconds(marks, DAY.start, DAY.start - 5) == {"a": 0.0}  # a day still to come


def test_marks_at_one_instant_keep_their_order() -> None:
    marks = [mark("a", 1, True), mark("a", 2, False), mark("a", 2, True), mark("a", 3, False)]
    assert logged_in_seconds(marks, DAY.start, DAY.end) == {"a": 2 * H}
    assert logged_in_seconds(list(reversed(marks[2:])) + marks[:2], DAY.start, DAY.end) == {"a": H}


# -- aggregation ----------------------------------------------------------------------------------

def cell(campaign: str, seat: str | None, dials: int, connects: int, talk: float = 0.0,
         conv: int = 0, ref: int = 0, abandoned: int = 0, live: int = 0) -> AttemptCell:
    return AttemptCell(campaign, seat, dials, connects, talk, conv, ref, abandoned, live)


CELLS = [
    cell("renewals", "s1", 4, 4, 600.0, conv=2, ref=1, live=4),
    cell("renewals", "s2", 2, 2, 100.0, ref=2, live=2),
    cell("renewals", None, 30, 0, abandoned=1, live=1),
    cell("survey", "s1", 3, 2, 300.0, conv=1, live=2),   # one preview dial not answered
    cell("survey", "s3", 1, 1, 50.0, live=1),
    cell("survey", None, 10, 0),
]
TEAMS: dict[str, str | None] = {"s1": "north", "s2": "north", "s3": None, "s4": "south"}
MARKS = [mark("s1", 8, True), mark("s1", 16, False), mark("s2", 9, True), mark("s2", 13, False),
         mark("s4", 8, True), mark("s4", 9, False)]


def row(level: str, key: str, team: str | None, *figures: float | None) -> ReportRow:
    return ReportRow(level, key, team, *figures)  # type: ignore[arg-type]


def test_rows_per_seat_with_campaigns_and_total() -> None:
    report = build_report(CELLS, MARKS, period=DAY, by="seat", teams=TEAMS, now=DAY.end + 1)
    assert report.rows == (
        row("seat", "s1", "north", 7, 6, 900.0, 8 * H, 3, 1, None, None),
        row("seat", "s2", "north", 2, 2, 100.0, 4 * H, 0, 2, None, None),
        row("seat", "s3", None, 1, 1, 50.0, 0.0, 0, 0, None, None),
        row("seat", "s4", "south", 0, 0, 0.0, H, 0, 0, None, None),  # logged in, no attempt
        row("seat", NO_SEAT, None, 40, 0, 0.0, None, 0, 0, None, None),
    )
    assert report.campaigns == (
        row("campaign", "renewals", None, 36, 6, 700.0, None, 2, 3, 1, 7),
        row("campaign", "survey", None, 14, 3, 350.0, None, 1, 0, 0, 3),
    )
    assert report.total == row("total", "", None, 50, 9, 1050.0, 13 * H, 3, 3, 1, 10)
    assert report.all_rows()[-1] is report.total and len(report.all_rows()) == 8
    s1 = report.rows[0]
    assert (s1.connect_rate, s1.conversion_rate, s1.refusal_rate) == (6 / 7, 0.5, 1 / 6)
    assert s1.abandon_rate is None and report.rows[3].connect_rate is None
    assert report.total.abandon_rate == 0.1 and report.total.connect_rate == 9 / 50


def test_rows_per_team_sum_their_seats() -> None:
    report = build_report(CELLS, MARKS, period=DAY, by="team", teams=TEAMS, now=DAY.end)
    assert report.rows == (
        row("team", "north", None, 9, 8, 1000.0, 12 * H, 3, 3, None, None),
        row("team", "south", None, 0, 0, 0.0, H, 0, 0, None, None),
        row("team", NO_TEAM, None, 1, 1, 50.0, 0.0, 0, 0, None, None),
        row("team", NO_SEAT, None, 40, 0, 0.0, None, 0, 0, None, None),
    )
    assert report.by == "team" and report.total.dials == 50


def test_one_campaign_lists_only_the_seats_that_dialled_it() -> None:
    report = build_report(CELLS, MARKS, period=DAY, by="seat", teams=TEAMS, now=DAY.end,
                          campaign="survey")
    assert [(r.key, r.dials, r.logged_in_s) for r in report.rows] == [
        ("s1", 3, 8 * H), ("s3", 1, 0.0), (NO_SEAT, 10, None)]
    assert [r.key for r in report.campaigns] == ["survey"] and report.total.dials == 14
    assert report.total.logged_in_s == 8 * H and report.campaign == "survey"


def test_an_empty_period_has_a_zero_total_and_no_rates() -> None:
    report = build_report([], [], period=DAY, by="team", teams=TEAMS, now=DAY.end)
    assert report.rows == () and report.campaigns == ()
    assert report.total == row("total", "", None, 0, 0, 0.0, 0.0, 0, 0, 0, 0)
    total = report.total
    assert (total.connect_rate, total.conversion_rate, total.refusal_rate, total.abandon_rate) == (
        None, None, None, None)


def test_grouping_is_seat_or_team() -> None:
    with pytest.raises(ReportError, match="seat or team"):
        build_report([], [], period=DAY, by="campaign", teams={}, now=0.0)  # type: ignore[arg-type]


def test_ratio_is_undefined_without_a_whole() -> None:
    assert (ratio(1, 4), ratio(0, 0), ratio(None, 3), ratio(2, None)) == (0.25, None, None, None)


seats = st.sampled_from(["s1", "s2", "s3", "s4", "s5", None])
cells = st.builds(
    AttemptCell, st.sampled_from(["a", "b", "c"]), seats, st.integers(0, 50), st.integers(0, 50),
    st.floats(0, 1e5, allow_nan=False), st.integers(0, 20), st.integers(0, 20),
    st.integers(0, 5), st.integers(0, 40))
marks = st.builds(PresenceMark, st.sampled_from(["s1", "s2", "s6"]),
                  st.floats(DAY.start - 2 * H, DAY.end + 2 * H), st.booleans())


@given(st.lists(cells, max_size=30), st.lists(marks, max_size=30))
def test_seat_rows_and_team_rows_add_up_to_the_total(cs: list[AttemptCell], ms: list[PresenceMark]) -> None:
    teams = {"s1": "x", "s2": "x", "s3": "y", "s6": "y"}
    by_seat = build_report(cs, ms, period=DAY, by="seat", teams=teams, now=DAY.end)
    by_team = build_report(cs, ms, period=DAY, by="team", teams=teams, now=DAY.end)
    assert by_seat.total == by_team.total and by_seat.campaigns == by_team.campaigns
    for name in ("dials", "connects", "talk_s", "logged_in_s", "conversions", "refusals"):
        total = getattr(by_seat.total, name)
        for rows in (by_seat.rows, by_team.rows):
            assert sum(getattr(r, name) or 0 for r in rows) == pytest.approx(total)
    for name in ("dials", "connects", "talk_s", "conversions", "refusals", "abandoned", "live_answers"):
        assert sum(getattr(r, name) for r in by_seat.campaigns) == pytest.approx(getattr(by_seat.total, name))
    assert all(0 <= (r.logged_in_s or 0) <= DAY.end - DAY.start for r in by_seat.rows)
