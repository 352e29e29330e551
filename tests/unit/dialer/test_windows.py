"""Calling windows in the lead's local time: country defaults, holidays, 调休, legal limits."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dialer.windows import (
    DayRules,
    WindowError,
    country_rules,
    default_windows,
    open_zones,
    override,
    weekly_hours,
    window_state,
    zone_states,
)

WINDOWS = default_windows()


def at(zone: str, text: str) -> float:
    """Unix time of a local wall-clock time, e.g. at("Asia/Shanghai", "2026-02-14 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def test_us_tcpa_window_8_to_21_local() -> None:
    ny = "America/New_York"
    assert window_state(ny, "US", at(ny, "2026-03-03 07:59"), WINDOWS) == (False, at(ny, "2026-03-03 08:00"))
    assert window_state(ny, "US", at(ny, "2026-03-03 08:00"), WINDOWS) == (True, None)
    assert window_state(ny, "US", at(ny, "2026-03-07 20:59:59"), WINDOWS) == (True, None)  # a Saturday
    assert window_state(ny, "US", at(ny, "2026-03-03 21:00"), WINDOWS) == (False, at(ny, "2026-03-04 08:00"))


def test_the_same_instant_is_open_in_one_zone_and_closed_in_another() -> None:
    now = at("America/New_York", "2026-03-03 08:30")  # 05:30 in Los Angeles
    assert window_state("America/New_York", "US", now, WINDOWS)[0]
    assert window_state("America/Los_Angeles", "US", now, WINDOWS) == (False, at("America/Los_Angeles", "2026-03-03 08:00"))


def test_dst_change_day_uses_the_wall_clock() -> None:
    ny = "America/New_York"  # clocks go forward at 02:00 on 2026-03-08
    closed, opens = window_state(ny, "US", at(ny, "2026-03-08 01:00"), WINDOWS)
    assert not closed and opens == at(ny, "2026-03-08 08:00")
    assert opens - at(ny, "2026-03-08 01:00") == 6 * 3600  # one hour fewer on that night


def test_us_federal_holiday_is_closed() -> None:
    ny = "America/New_York"
    assert window_state(ny, "US", at(ny, "2026-07-03 12:00"), WINDOWS) == (False, at(ny, "2026-07-05 08:00"))


def test_cn_makeup_saturday_is_a_working_day() -> None:
    sh = "Asia/Shanghai"
    assert window_state(sh, "CN", at(sh, "2026-02-14 10:00"), WINDOWS) == (True, None)  # 调休上班
    assert window_state(sh, "CN", at(sh, "2026-02-07 10:00"), WINDOWS) == (False, at(sh, "2026-02-09 09:00"))


def test_cn_spring_festival_is_closed_until_it_ends() -> None:
    sh = "Asia/Shanghai"
    assert window_state(sh, "CN", at(sh, "2026-02-16 10:00"), WINDOWS) == (False, at(sh, "2026-02-24 09:00"))


def test_cn_makeup_sunday_after_a_holiday() -> None:
    sh = "Asia/Shanghai"  # 2026-01-01..03 off, Sunday the 4th a working day
    assert window_state(sh, "CN", at(sh, "2026-01-02 10:00"), WINDOWS) == (False, at(sh, "2026-01-04 09:00"))


def test_cn_2027_spring_festival_is_closed_before_its_notice_is_out() -> None:
    sh = "Asia/Shanghai"  # 除夕 Friday 02-05 to 初三 Monday 02-08: the law's four days
    assert window_state(sh, "CN", at(sh, "2027-02-04 19:00"), WINDOWS) == (True, None)
    assert window_state(sh, "CN", at(sh, "2027-02-05 10:00"), WINDOWS) == (False, at(sh, "2027-02-09 09:00"))


def test_gb_sunday_and_bank_holiday() -> None:
    ldn = "Europe/London"
    assert window_state(ldn, "GB", at(ldn, "2026-03-08 12:00"), WINDOWS) == (False, at(ldn, "2026-03-09 08:00"))
    assert window_state(ldn, "GB", at(ldn, "2026-05-04 12:00"), WINDOWS) == (False, at(ldn, "2026-05-05 08:00"))
    assert window_state(ldn, "GB", at(ldn, "2026-03-07 16:59"), WINDOWS) == (True, None)
    assert window_state(ldn, "GB", at(ldn, "2026-03-07 17:00"), WINDOWS) == (False, at(ldn, "2026-03-09 08:00"))


def test_another_country_gets_the_fallback() -> None:
    paris = "Europe/Paris"
    assert window_state(paris, "FR", at(paris, "2026-03-03 19:59"), WINDOWS) == (True, None)
    assert window_state(paris, "FR", at(paris, "2026-03-07 18:00"), WINDOWS) == (False, at(paris, "2026-03-09 09:00"))


def test_campaign_hours_are_clipped_by_the_legal_limit() -> None:
    wide = override(country_rules("US"), hours=["daily 06:00-23:00"])
    ny = "America/New_York"
    assert window_state(ny, "US", at(ny, "2026-03-03 07:00"), wide) == (False, at(ny, "2026-03-03 08:00"))
    assert window_state(ny, "US", at(ny, "2026-03-03 21:30"), wide)[0] is False
    ca = override(country_rules("CA"), hours=["daily 08:00-22:00"])
    tor = "America/Toronto"
    assert window_state(tor, "CA", at(tor, "2026-03-07 18:30"), ca) == (False, at(tor, "2026-03-08 10:00"))


def test_holiday_hours_and_makeup_hours() -> None:
    sh = "Asia/Shanghai"
    short = override(country_rules("CN"), holidays="10:00-12:00", makeup="13:00-15:00")
    assert window_state(sh, "CN", at(sh, "2026-02-16 11:00"), short) == (True, None)
    assert window_state(sh, "CN", at(sh, "2026-02-14 10:00"), short) == (False, at(sh, "2026-02-14 13:00"))
    as_weekday = override(country_rules("CN"), holidays="weekday")
    assert window_state(sh, "CN", at(sh, "2026-02-16 10:00"), as_weekday) == (True, None)  # a Monday


def test_campaign_days_off_and_workdays() -> None:
    ny = "America/New_York"
    rules = override(country_rules("US"), extra_off=[date(2026, 12, 24)])
    assert window_state(ny, "US", at(ny, "2026-12-24 12:00"), rules) == (False, at(ny, "2026-12-26 08:00"))
    sh = "Asia/Shanghai"
    rules = override(country_rules("CN"), extra_work=[date(2026, 3, 7)])
    assert window_state(sh, "CN", at(sh, "2026-03-07 10:00"), rules) == (True, None)


def test_never_open_has_no_next_time() -> None:
    assert window_state("UTC", None, 0.0, DayRules(weekly_hours([]))) == (False, None)


def test_zone_states_once_per_zone_and_country() -> None:
    now = at("Europe/London", "2026-03-03 12:00")  # 07:00 New York, 20:00 Shanghai
    pairs = [("Europe/London", "GB"), ("America/New_York", "US"), ("Asia/Shanghai", "CN"), ("Europe/London", "GB")]
    states = zone_states(pairs, now, WINDOWS)
    assert states == {
        ("Europe/London", "GB"): (True, None),
        ("America/New_York", "US"): (False, at("America/New_York", "2026-03-03 08:00")),
        ("Asia/Shanghai", "CN"): (False, at("Asia/Shanghai", "2026-03-04 09:00")),
    }
    assert open_zones(pairs, now, WINDOWS) == frozenset({("Europe/London", "GB")})


def test_errors() -> None:
    with pytest.raises(WindowError, match="unknown time zone"):
        window_state("Mars/Base", "US", 0.0, WINDOWS)
    with pytest.raises(WindowError, match="is not a day"):
        weekly_hours(["weekdays 09:00-17:00"])
    with pytest.raises(WindowError, match="or 'closed', or 'weekday'"):
        override(country_rules("US"), holidays="sometimes")
