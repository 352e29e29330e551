"""QA reports: the daily summary and the monthly weighted scores, as numbers, CSV and table."""

from __future__ import annotations

import pytest

from qa.reports import (
    NO_TEAM,
    GroupLine,
    ScoredCall,
    daily_csv,
    daily_summary,
    daily_table,
    monthly_csv,
    monthly_report,
    monthly_table,
)

T0 = 1_741_950_000.0
CALLS = [
    ScoredCall(1, "c1", "1001", "front", 80.0, (), ("greeting",), T0, "2025-03-14/1001/random", 10),
    ScoredCall(2, "c2", "1001", "front", 0.0, ("no_abuse",), ("abuse", "greeting"), T0 + 1, "2025-03-14/1001/risk", 2),
    ScoredCall(3, "c3", "1002", "front", 90.0, (), ("hold",), T0 + 2, "2025-03-14/1002/random", 5),
    ScoredCall(4, "c4", "1003", None, 70.0, (), (), T0 + 3),  # scored outside the sample
]


def test_daily_summary() -> None:
    summary = daily_summary(CALLS, day="2025-03-14")
    assert summary.total == GroupLine("", 4, 60.0, 1)
    assert summary.teams == (GroupLine("front", 3, 170 / 3, 1), GroupLine(NO_TEAM, 1, 70.0, 0))
    assert summary.top_defects == (("greeting", 2), ("abuse", 1), ("hold", 1))
    assert daily_summary(CALLS, day="d", top=1).top_defects == (("greeting", 2),)
    empty = daily_summary([], day="2025-03-15")
    assert (empty.total, empty.teams, empty.top_defects) == (GroupLine("", 0, None, 0), (), ())


def test_daily_csv_and_table() -> None:
    summary = daily_summary(CALLS, day="2025-03-14")
    assert daily_csv(summary).split("\r\n") == [
        "day,level,key,scored,average,vetoes",
        "2025-03-14,total,,4,60.00,1",
        "2025-03-14,team,front,3,56.67,1",
        "2025-03-14,team,(no team),1,70.00,0",
        "2025-03-14,defect,greeting,2,,",
        "2025-03-14,defect,abuse,1,,",
        "2025-03-14,defect,hold,1,,",
        "",
    ]
    table = daily_table(summary)
    assert table.splitlines()[0] == "QA daily summary, 2025-03-14"
    assert "front           3     56.7       1" in table
    assert table.splitlines()[-1] == "Top defects: greeting (2), abuse (1), hold (1)"


def test_monthly_weighted_scores() -> None:
    report = monthly_report(CALLS, month="2025-03")
    seats = {r.key: r for r in report.seats}
    assert list(seats) == ["1001", "1002", "1003"]
    first = seats["1001"]
    assert (first.team, first.scored, first.vetoes, first.average) == ("front", 2, 1, 40.0)
    assert first.estimate is not None and first.estimate.mean == pytest.approx(800 / 12)  # weights 10 and 2
    assert seats["1003"].estimate is None and seats["1003"].average == 70.0
    front, none = report.teams
    assert (front.key, none.key, none.estimate) == ("front", NO_TEAM, None)
    assert front.estimate is not None and front.estimate.mean == pytest.approx(1250 / 17)  # weights 10, 2, 5
    assert report.total.scored == 4 and report.total.estimate is not None
    assert report.total.estimate.mean == pytest.approx(1250 / 17)


def test_monthly_csv_and_table() -> None:
    report = monthly_report(CALLS, month="2025-03")
    lines = monthly_csv(report).split("\r\n")
    assert lines[0] == "month,level,key,team,scored,vetoes,average,sampled,weighted,std_error,ci_low,ci_high,level_pct"
    assert lines[2] == "2025-03,seat,1002,front,1,0,90.00,1,90.00,0.00,90.00,90.00,95"
    assert lines[3] == "2025-03,seat,1003,,1,0,70.00,0,,,,,"
    assert lines[1].startswith("2025-03,seat,1001,front,2,1,40.00,2,66.67,")
    assert lines[6].startswith("2025-03,total,,,4,1,60.00,3,73.53,")
    table = monthly_table(report)
    assert table.splitlines()[0] == "QA monthly scores, 2025-03 (weighted by inverse inclusion probability, 95% interval)"
    assert "team front" in table and "TOTAL" in table
