"""E.164 normalisation, refusal reasons, and the lead's time zone from its number."""

from __future__ import annotations

import pytest

from dialer.numbers import NumberError, PhoneNumber, check_zone, normalise, resolve_zone

WINTER = 1_767_225_600.0  # 2026-01-01 00:00 UTC
SUMMER = 1_782_864_000.0  # 2026-07-01 00:00 UTC


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("(212) 555-0101", "US", PhoneNumber("+12125550101", "US", ("America/New_York",))),
        ("+1 312 555 0105", None, PhoneNumber("+13125550105", "US", ("America/Chicago",))),
        ("020 7946 0011", "GB", PhoneNumber("+442079460011", "GB", ("Europe/London",))),
        ("0044 20 7946 0011", "GB", PhoneNumber("+442079460011", "GB", ("Europe/London",))),
        ("+86 10 5555 0101", "US", PhoneNumber("+861055550101", "CN", ("Asia/Shanghai",))),
        ("010 5555 0101", "CN", PhoneNumber("+861055550101", "CN", ("Asia/Shanghai",))),
        ("  +1-613-555-0123  ", None, PhoneNumber("+16135550123", "CA", ("America/Toronto",))),
    ],
)
def test_normalise(text: str, region: str | None, expected: PhoneNumber) -> None:
    assert normalise(text, region) == expected


@pytest.mark.parametrize(
    ("text", "region", "reason"),
    [
        ("", "US", "empty number"),
        ("   ", "US", "empty number"),
        ("12", "US", "too short for US"),
        ("+44 12", None, "too short for GB"),
        ("+44", None, "not a phone number"),
        ("abc", "US", "has letters"),
        ("1-800-FLOWERS", "US", "has letters"),
        ("201-555-0123 x12", "US", "has an extension, which the dialer cannot dial"),
        ("201-555-0123 ext. 4", "US", "has an extension, which the dialer cannot dial"),
        ("+999123", "US", "unknown country code"),
        ("2015550123", None, "no country code (write +<code>, or give the campaign a default_region)"),
        ("+1201555012345", None, "too long for US"),
        ("555-1234", "US", "a local number without its area code for US"),
        ("+12011111111", None, "not a valid number for US (no such range is assigned)"),
        ("+44 7700 900123", None, "not a valid number for GB (no such range is assigned)"),
    ],
)
def test_refused_with_a_reason(text: str, region: str | None, reason: str) -> None:
    with pytest.raises(NumberError) as caught:
        normalise(text, region)
    assert str(caught.value) == reason


def test_one_zone() -> None:
    assert resolve_zone(("America/Chicago",), WINTER) == "America/Chicago"


def test_no_zone_is_unknown() -> None:
    assert resolve_zone((), WINTER) is None
    assert resolve_zone(("Etc/Unknown",), WINTER) is None
    assert resolve_zone(("Mars/Olympus_Mons",), WINTER) is None


def test_zones_that_always_agree_resolve_to_the_first() -> None:
    number = normalise("+44 7911 123456")
    assert number.country == "GG"
    assert set(number.zones) == {"Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey", "Europe/London"}
    assert resolve_zone(number.zones, WINTER) == "Europe/Guernsey"


def test_zones_that_disagree_are_unknown() -> None:
    idaho = normalise("(208) 555-0111", "US")
    assert idaho.zones == ("America/Boise", "America/Los_Angeles")
    assert resolve_zone(idaho.zones, WINTER) is None
    assert resolve_zone(idaho.zones, SUMMER) is None


def test_zones_that_agree_today_but_not_all_year_are_unknown() -> None:
    # Denver and Phoenix are both UTC-7 in winter; Phoenix keeps no daylight saving time.
    assert resolve_zone(("America/Denver", "America/Phoenix"), WINTER) is None


def test_check_zone() -> None:
    assert check_zone("Asia/Shanghai") == "Asia/Shanghai"
    for bad in ("", "Asia/Peking ", "Nowhere/City", "Etc/Unknown", "../etc/passwd"):
        with pytest.raises(NumberError, match="bad time zone"):
            check_zone(bad)
