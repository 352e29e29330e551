"""Business hours: the calendar the ``hours`` verb branches on (time zones, DST, holidays)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from ivr.hours import (
    BusinessHours,
    HoursError,
    TimeRange,
    parse_date,
    parse_day_spec,
    parse_ranges,
    parse_special,
    parse_weekly,
    zone,
)
from tests.unit.ivr.ladder import local_time


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_ranges() -> None:
    assert parse_ranges("09:00-18:00") == (TimeRange(9 * 3600, 18 * 3600),)
    assert parse_ranges("8:30-12:00, 13:00-24:00") == (
        TimeRange(8 * 3600 + 1800, 12 * 3600), TimeRange(13 * 3600, 24 * 3600),
    )
    assert 9 * 3600 in TimeRange(9 * 3600, 10 * 3600)
    assert 10 * 3600 not in TimeRange(9 * 3600, 10 * 3600)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-18", "'9-18': expected HH:MM-HH:MM[,HH:MM-HH:MM...]"),
        ("09:00-25:00", "'09:00-25:00': 25:00 is not a time of day"),
        ("09:60-10:00", "'09:60-10:00': 09:60 is not a time of day"),
        ("24:30-24:45", "'24:30-24:45': 24:30 is not a time of day"),
        ("18:00-09:00", "'18:00-09:00': 18:00-09:00 must end after it starts (split it at 24:00)"),
    ],
)
def test_bad_ranges(text: str, message: str) -> None:
    with pytest.raises(HoursError) as caught:
        parse_ranges(text)
    assert str(caught.value) == message


def test_day_specs() -> None:
    assert parse_day_spec("mon-fri") == (0, 1, 2, 3, 4)
    assert parse_day_spec("fri-mon") == (4, 5, 6, 0)
    assert parse_day_spec("sat") == (5,)
    assert parse_day_spec("Monday,wed,FRI") == (0, 2, 4)
    assert parse_day_spec("daily") == tuple(range(7))
    with pytest.raises(HoursError, match=r"^'funday' is not a day \(mon..sun\)$"):
        parse_day_spec("mon,funday")


def test_entries() -> None:
    assert parse_weekly("sat 10:00-14:00") == ((5,), (TimeRange(36000, 50400),))
    assert parse_special("2025-12-24 09:00-13:00") == (date(2025, 12, 24), (TimeRange(32400, 46800),))
    assert parse_date(" 2025-12-25 ") == date(2025, 12, 25)
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: parse_weekly("mon-fri"), "'mon-fri': expected DAYS HH:MM-HH:MM, e.g. 'mon-fri 09:00-18:00'"),
        (lambda: parse_weekly("mox 09:00-10:00"), "'mox 09:00-10:00': 'mox' is not a day (mon..sun)"),
        (lambda: parse_special("2025-12-24"), "'2025-12-24': expected YYYY-MM-DD HH:MM-HH:MM"),
        (lambda: parse_special("24.12.2025 09:00-10:00"), "'24.12.2025 09:00-10:00': expected YYYY-MM-DD HH:MM-HH:MM"),
        (lambda: parse_date("2025-13-01"), "'2025-13-01': expected a date YYYY-MM-DD"),
    ]
    for bad, message in cases:
        with pytest.raises(HoursError) as caught:
            bad()
        assert str(caught.value) == message


def test_time_zones() -> None:
    assert str(zone("Asia/Tokyo")) == "Asia/Tokyo"
    for bad in ("", "Mars/Base", "Europe/", "../etc/passwd"):
        with pytest.raises(HoursError, match="unknown time zone"):
            zone(bad)


BERLIN = BusinessHours.parse(
    "Europe/Berlin",
    ["mon-fri 08:00-12:00,13:00-17:00", "sat 10:00-14:00"],
    holidays=["2025-12-25", "2025-12-26"],
    special=["2025-12-24 08:00-12:00", "2025-12-27 10:00-16:00"],
)


@pytest.mark.parametrize(
    ("when", "opened"),
    [
        ("2025-12-01 07:59:59", False),  # Monday
        ("2025-12-01 08:00:00", True),
        ("2025-12-01 12:30:00", False),  # lunch
        ("2025-12-01 16:59:59", True),
        ("2025-12-01 17:00:00", False),
        ("2025-12-06 13:59:00", True),  # Saturday
        ("2025-12-07 11:00:00", False),  # Sunday
        ("2025-12-24 11:00:00", True),  # a short day
        ("2025-12-24 14:00:00", False),
        ("2025-12-25 10:00:00", False),  # holiday on a Thursday
        ("2025-12-27 15:00:00", True),  # a Saturday with its own longer hours
    ],
)
def test_is_open(when: str, opened: bool) -> None:
    assert BERLIN.is_open(local_time(when, "Europe/Berlin")) is opened


def test_daylight_saving_time_moves_utc_not_the_wall_clock() -> None:
    hours = BusinessHours.parse("Europe/Berlin", ["daily 09:00-10:00"])
    # 08:30 UTC is 09:30 in Berlin on Saturday (CET, UTC+1) but 10:30 on Sunday (CEST, UTC+2).
    assert hours.is_open(utc("2025-03-29 08:30"))
    assert not hours.is_open(utc("2025-03-30 08:30"))
    assert hours.is_open(utc("2025-03-30 07:30"))


def test_special_day_wins_over_a_holiday() -> None:
    hours = BusinessHours.parse("UTC", ["mon-fri 09:00-17:00"], holidays=["2025-06-02"],
                                special=["2025-06-02 10:00-11:00"])
    assert hours.ranges_on(date(2025, 6, 2)) == (TimeRange(36000, 39600),)
    assert hours.ranges_on(date(2025, 6, 7)) == ()  # Saturday
    assert hours.is_open(utc("2025-06-02 10:30")) and not hours.is_open(utc("2025-06-02 09:30"))
