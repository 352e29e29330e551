"""The outbound report as an aligned table, CSV and JSON: exact text for a known report."""

from __future__ import annotations

import csv
import io
import json
from zoneinfo import ZoneInfo

import pytest

from dialer.reports import Period, PresenceMark, ReportError, build_report
from dialer.reports_format import render, row_dict, to_csv, to_json, to_table
from tests.unit.dialer.test_reports import CELLS, DAY, MARKS, TEAMS

REPORT = build_report(CELLS, MARKS, period=DAY, by="seat", teams=TEAMS, now=DAY.end)

TABLE = """\
Outbound report, day 2025-03-14 (Europe/Berlin), by seat, all campaigns
Seat               Team   Dials  Connects  Connect%     Talk  Logged in  Conversions  Refusals  Conv%  Refusal%  Abandoned  Live answers  Abandon%
--------------------------------------------------------------------------------------------------------------------------------------------------
s1                 north      7         6     85.7%  0:15:00    8:00:00            3         1  50.0%     16.7%          -             -         -
s2                 north      2         2    100.0%  0:01:40    4:00:00            0         2   0.0%    100.0%          -             -         -
s3                            1         1    100.0%  0:00:50    0:00:00            0         0   0.0%      0.0%          -             -         -
s4                 south      0         0         -  0:00:00    1:00:00            0         0      -         -          -             -         -
(no seat)                    40         0      0.0%  0:00:00          -            0         0      -         -          -             -         -
--------------------------------------------------------------------------------------------------------------------------------------------------
campaign renewals            36         6     16.7%  0:11:40          -            2         3  33.3%     50.0%          1             7     14.3%
campaign survey              14         3     21.4%  0:05:50          -            1         0  33.3%      0.0%          0             3      0.0%
--------------------------------------------------------------------------------------------------------------------------------------------------
TOTAL                        50         9     18.0%  0:17:30   13:00:00            3         3  33.3%     33.3%          1            10     10.0%
"""

CSV = (
    "period,level,key,team,dials,connects,connect_rate,talk_s,logged_in_s,conversions,refusals,"
    "conversion_rate,refusal_rate,abandoned,live_answers,abandon_rate\r\n"
    "2025-03-14,seat,s1,north,7,6,0.857143,900.0,28800.0,3,1,0.5,0.166667,,,\r\n"
    "2025-03-14,seat,s2,north,2,2,1.0,100.0,14400.0,0,2,0.0,1.0,,,\r\n"
    "2025-03-14,seat,s3,,1,1,1.0,50.0,0.0,0,0,0.0,0.0,,,\r\n"
    "2025-03-14,seat,s4,south,0,0,,0.0,3600.0,0,0,,,,,\r\n"
    "2025-03-14,seat,(no seat),,40,0,0.0,0.0,,0,0,,,,,\r\n"
    "2025-03-14,campaign,renewals,,36,6,0.166667,700.0,,2,3,0.333333,0.5,1,7,0.142857\r\n"
    "2025-03-14,campaign,survey,,14,3,0.214286,350.0,,1,0,0.333333,0.0,0,3,0.0\r\n"
    "2025-03-14,total,,,50,9,0.18,1050.0,46800.0,3,3,0.333333,0.333333,1,10,0.1\r\n"
)


def test_the_table_is_aligned_with_a_totals_row() -> None:
    assert to_table(REPORT) == TABLE
    assert render(REPORT, "table") == TABLE


def test_the_csv_has_a_header_and_machine_readable_numbers() -> None:
    assert to_csv(REPORT) == CSV == render(REPORT, "csv")
    rows = list(csv.DictReader(io.StringIO(CSV)))
    total = rows[-1]
    assert total["level"] == "total" and float(total["talk_s"]) == REPORT.total.talk_s
    assert float(rows[0]["connect_rate"]) == pytest.approx(6 / 7, abs=1e-6)


def test_the_json_names_the_period_and_keeps_nulls() -> None:
    data = json.loads(render(REPORT, "json"))
    assert data == to_json(REPORT)
    assert data["period"] == {"kind": "day", "label": "2025-03-14", "zone": "Europe/Berlin",
                              "start": DAY.start, "end": DAY.end}
    assert (data["by"], data["campaign"], data["generated_at"]) == ("seat", None, DAY.end)
    assert [r["key"] for r in data["rows"]] == ["s1", "s2", "s3", "s4", "(no seat)"]
    assert data["total"] == {
        "level": "total", "key": "", "team": None, "dials": 50, "connects": 9,
        "connect_rate": 0.18, "talk_s": 1050.0, "logged_in_s": 46800.0, "conversions": 3,
        "refusals": 3, "conversion_rate": 0.333333, "refusal_rate": 0.333333, "abandoned": 1,
        "live_answers": 10, "abandon_rate": 0.1,
    }
    assert row_dict(REPORT.rows[3])["connect_rate"] is None


def test_a_team_table_and_a_campaign_title() -> None:
    report = build_report(CELLS, MARKS, period=DAY, by="team", teams=TEAMS, now=DAY.end,
                          campaign="survey")
    lines = to_table(report).splitlines()
    assert lines[0] == "Outbound report, day 2025-03-14 (Europe/Berlin), by team, campaign survey"
    assert lines[1].split() == ["Team", "Dials", "Connects", "Connect%", "Talk", "Logged", "in",
                                "Conversions", "Refusals", "Conv%", "Refusal%", "Abandoned",
                                "Live", "answers", "Abandon%"]
    assert [line.split()[0] for line in lines[3:6]] == ["north", "(no", "(no"]
    assert lines[-1].split()[:3] == ["TOTAL", "14", "3"]


def test_hours_run_past_a_day_in_a_month() -> None:
    month = Period.month(2025, 3, ZoneInfo("Europe/Berlin"))
    marks = [PresenceMark("s1", month.start - 60, True)]
    report = build_report([], marks, period=month, by="seat", teams={}, now=month.start + 30.5 * 3600)
    lines = to_table(report).splitlines()
    assert lines[0].startswith("Outbound report, month 2025-03 (Europe/Berlin)")
    assert lines[3].split() == ["s1", "0", "0", "-", "0:00:00", "30:30:00", "0", "0", "-", "-", "-", "-", "-"]


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ReportError, match="table, csv or json"):
        render(REPORT, "xml")  # type: ignore[arg-type]
