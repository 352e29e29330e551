"""Holiday calendars: the shipped data checked against its notices and rules, and the parser."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dialer.holidays import (
    HolidayCalendar,
    HolidayError,
    load_calendar,
    parse_calendar,
    shipped_countries,
)

SAT, SUN = 5, 6


def days(first: str, last: str) -> set[date]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return {a + timedelta(days=n) for n in range((b - a).days + 1)}


def easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def test_shipped_countries() -> None:
    assert shipped_countries() == ("CN", "DE", "GB", "US")
    none = load_calendar("FR")  # no file: an empty calendar
    assert (none.country, dict(none.days_off), none.covers(2026)) == ("FR", {}, False)


def test_cn_2025_as_published() -> None:
    cn = load_calendar("CN")
    off_2025 = {d for d in cn.days_off if d.year == 2025}
    assert off_2025 == (
        days("2025-01-01", "2025-01-01") | days("2025-01-28", "2025-02-04") | days("2025-04-04", "2025-04-06")
        | days("2025-05-01", "2025-05-05") | days("2025-05-31", "2025-06-02") | days("2025-10-01", "2025-10-08")
    )
    assert len(days("2025-01-28", "2025-02-04")) == 8  # "共8天"
    assert sorted(d for d in cn.workdays if d.year == 2025) == [
        date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28), date(2025, 10, 11)
    ]
    assert cn.name(date(2025, 1, 29)) == "春节" and cn.name(date(2025, 1, 26)) == "春节调休上班"


def test_cn_2026_as_published() -> None:
    cn = load_calendar("CN")
    off_2026 = {d for d in cn.days_off if d.year == 2026}
    assert off_2026 == (
        days("2026-01-01", "2026-01-03") | days("2026-02-15", "2026-02-23") | days("2026-04-04", "2026-04-06")
        | days("2026-05-01", "2026-05-05") | days("2026-06-19", "2026-06-21") | days("2026-09-25", "2026-09-27")
        | days("2026-10-01", "2026-10-07")
    )
    assert len(days("2026-02-15", "2026-02-23")) == 9  # "共9天"
    assert sorted(d for d in cn.workdays if d.year == 2026) == [
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)
    ]


def test_cn_makeup_days_are_weekend_days_and_never_days_off() -> None:
    cn = load_calendar("CN")
    assert all(d.weekday() in (SAT, SUN) for d in cn.workdays)
    assert not set(cn.workdays) & set(cn.days_off)
    assert cn.is_makeup_workday(date(2026, 2, 14)) and not cn.is_day_off(date(2026, 2, 14))


def statutory(year: int, eve: str, qingming: str, duanwu: str, zhongqiu: str) -> set[date]:
    """The 13 days off that 《全国年节及纪念日放假办法》 art. 2 (2024 revision) fixes for a year,
    given its lunar and solar-term dates: 元旦, 春节 (除夕 to 初三), 清明, 劳动节 (1-2 May), 端午,
    中秋, 国庆 (1-3 Oct)."""
    new_year_eve = date.fromisoformat(eve)
    spring = {new_year_eve + timedelta(days=n) for n in range(4)}
    lunar = {date.fromisoformat(d) for d in (qingming, duanwu, zhongqiu)}
    fixed = {date(year, 1, 1), date(year, 5, 1), date(year, 5, 2), *(date(year, 10, n) for n in (1, 2, 3))}
    return spring | lunar | fixed


def test_cn_published_years_close_every_statutory_day() -> None:
    cn = load_calendar("CN")
    # the law's days are inside each published arrangement: the model of the 2027 days is right
    assert statutory(2025, "2025-01-28", "2025-04-04", "2025-05-31", "2025-10-06") <= set(cn.days_off)
    assert statutory(2026, "2026-02-16", "2026-04-05", "2026-06-19", "2026-09-25") <= set(cn.days_off)


def test_cn_2027_closes_its_statutory_days_and_invents_no_arrangement() -> None:
    cn = load_calendar("CN")
    assert cn.years == frozenset({2025, 2026}) and not cn.covers(2027)
    assert cn.statutory_years == frozenset({2027})
    off_2027 = {d for d in cn.days_off if d.year == 2027}
    assert off_2027 == statutory(2027, "2027-02-05", "2027-04-05", "2027-06-09", "2027-09-15")
    assert len(off_2027) == 13
    assert not [d for d in cn.workdays if d.year == 2027]  # make-up days come with the notice
    assert cn.is_day_off(date(2027, 2, 8)) and cn.name(date(2027, 2, 8)) == "春节"  # 初三, a Monday
    assert not cn.is_day_off(date(2027, 2, 9))  # the bridging days are the notice's to decide


def test_statutory_days_are_only_for_years_not_published() -> None:
    head = 'country = "CN"\nyears = [2026]\n'
    with pytest.raises(HolidayError, match=r"statutory\[0\]: 2026-10-01 is in 2026, whose published days"):
        parse_calendar(head + '[[statutory]]\nname = "国庆节"\ndate = 2026-10-01\n', "cn.toml")
    cal = parse_calendar(head + '[[statutory]]\nname = "元旦"\ndate = 2027-01-01\n', "cn.toml")
    assert (cal.is_day_off(date(2027, 1, 1)), cal.covers(2027), cal.statutory_years) == (True, False, {2027})
    opened = cal.with_days(workdays=[date(2027, 1, 1)])  # a campaign's own working day wins
    assert not opened.is_day_off(date(2027, 1, 1)) and opened.statutory_years == {2027}


def test_us_federal_holidays_follow_5_usc_6103() -> None:
    us = load_calendar("US")
    for year in (2025, 2026, 2027):
        mondays = [d for d in us.days_off if d.year == year and d.weekday() == 0 and "observed" not in us.days_off[d]]
        assert len(mondays) == 5, year  # MLK, Washington, Memorial, Labor, Columbus
        thanksgiving = next(d for d in us.days_off if d.year == year and us.days_off[d] == "Thanksgiving Day")
        assert thanksgiving.weekday() == 3 and 22 <= thanksgiving.day <= 28
    for day, name in us.days_off.items():
        if "(observed)" in name:
            assert day.weekday() in (0, 4), (day, name)  # Friday before Saturday, Monday after Sunday
    assert us.is_day_off(date(2026, 7, 3)) and us.is_day_off(date(2026, 7, 4))
    assert us.name(date(2027, 12, 31)) == "New Year's Day 2028 (observed)"


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_easter_days_in_gb_and_de(year: int) -> None:
    e = easter(year)
    gb, de = load_calendar("GB"), load_calendar("DE")
    assert gb.name(e - timedelta(days=2)) == "Good Friday" and gb.name(e + timedelta(days=1)) == "Easter Monday"
    assert de.name(e - timedelta(days=2)) == "Karfreitag" and de.name(e + timedelta(days=1)) == "Ostermontag"
    assert de.name(e + timedelta(days=39)) == "Christi Himmelfahrt"
    assert de.name(e + timedelta(days=50)) == "Pfingstmontag"
    assert len([d for d in de.days_off if d.year == year]) == 9


def test_gb_substitute_days() -> None:
    gb = load_calendar("GB")
    assert gb.name(date(2026, 12, 28)) == "Boxing Day (substitute day)"  # 26th is a Saturday
    assert gb.name(date(2027, 12, 27)) == "Christmas Day (substitute day)"  # 25th is a Saturday
    assert gb.name(date(2027, 12, 28)) == "Boxing Day (substitute day)"  # 26th is a Sunday
    assert all(d.weekday() < SAT for d, n in gb.days_off.items() if "substitute" in n)


def test_with_days_adds_a_campaigns_own_dates() -> None:
    cn = load_calendar("CN").with_days([date(2026, 12, 24)], [date(2026, 2, 15)])
    assert cn.is_day_off(date(2026, 12, 24)) and cn.name(date(2026, 12, 24)) == "campaign"
    assert cn.is_makeup_workday(date(2026, 2, 15)) and not cn.is_day_off(date(2026, 2, 15))
    assert load_calendar("CN").is_day_off(date(2026, 2, 15))  # the shipped one is unchanged


def test_parse_calendar() -> None:
    cal = parse_calendar(
        'country = "XX"\nyears = [2026]\n'
        'off = [{ name = "Fest", from = 2026-05-01, to = 2026-05-03 }, { name = "Day", date = 2026-06-01 }]\n'
        'work = [{ name = "Make-up", date = 2026-05-09 }]\n',
        "xx.toml",
    )
    assert isinstance(cal, HolidayCalendar)
    assert sorted(cal.days_off) == [date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 3), date(2026, 6, 1)]
    assert dict(cal.workdays) == {date(2026, 5, 9): "Make-up"} and cal.source == "xx.toml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('country = "XX"\nyears = [2026]\nextra = 1\n', "x.toml: unknown keys ['extra']"),
        ('country = "china"\n', 'x.toml: country: expected a code like "CN"'),
        ('country = "XX"\nyears = "2026"\n', "x.toml: years: expected a list of years"),
        ('country = "XX"\nyears = [2026]\noff = [{ name = "A", date = 2025-01-01 }]\n',
         "x.toml: off[0]: 2025-01-01 is outside the years [2026]"),
        ('country = "XX"\nyears = [2026]\noff = [{ name = "A", date = "2026-01-01" }]\n',
         "x.toml: off[0]: expected {name, date} or {name, from, to}"),
        ('country = "XX"\nyears = [2026]\noff = [{ date = 2026-01-01 }]\n', "x.toml: off[0]: name: required text"),
        ('country = "XX"\nyears = [2026]\noff = [{ name = "A", from = 2026-03-01, to = 2026-01-01 }]\n',
         "x.toml: off[0]: from 2026-03-01 to 2026-01-01 is not a range"),
        ('country = "XX"\nyears = [2026]\noff = [{ name = "A", date = 2026-01-01 }, { name = "B", date = 2026-01-01 }]\n',
         "x.toml: off[1]: 2026-01-01 is listed twice"),
        ('country = "XX"\nyears = [2026]\noff = [{ name = "A", date = 2026-01-03 }]\nwork = [{ name = "B", date = 2026-01-03 }]\n',
         "x.toml: 2026-01-03 is both a day off and a working day"),
        ("country = \n", "x.toml: TOML syntax error"),
    ],
)
def test_parse_errors_name_the_file_and_entry(text: str, message: str) -> None:
    with pytest.raises(HolidayError) as caught:
        parse_calendar(text, "x.toml")
    assert str(caught.value).startswith(message)
