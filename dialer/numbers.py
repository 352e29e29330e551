"""Phone numbers: E.164 normalisation with phonenumbers, and the lead's time zone from its number.

A number written without ``+`` is read in the campaign's default region (``"020 7946 0123"``
with region GB is ``+442079460123``). A number is refused, with a reason an admin can act on,
when it is empty, has letters or an extension, has an unknown country code, has a length no
number of its country has, or lies in a range that is not assigned (``is_valid_number``).

The time zone comes from ``phonenumbers.timezone``: a number maps to zero, one or several IANA
zones. Several zones are accepted only when they keep the same UTC offset on every day of the
coming year (Guernsey, Jersey, the Isle of Man and London); otherwise (Idaho's 208 spans
Mountain and Pacific time) the zone is unknown and the lead is held, never dialled at a guess.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult
from phonenumbers import timezone as phone_timezone

__all__ = ["NumberError", "PhoneNumber", "check_zone", "normalise", "resolve_zone"]

_UNKNOWN_ZONE = "Etc/Unknown"  # what phonenumbers.timezone answers for "no idea"
_LETTERS = re.compile(r"[A-Za-z]")
_EXTENSION = re.compile(r"(?:ext\.?|x|#)\s*\d+\s*\Z", re.IGNORECASE)
_DAY = 86400.0

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_LENGTH_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number without its area code",
}


class NumberError(ValueError):
    """A number that cannot be dialled; the message is the reason, e.g. "too short for GB"."""


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A valid number: E.164 text, its country (ISO 3166 alpha-2) and the zones it maps to."""

    e164: str
    country: str
    zones: tuple[str, ...]


def normalise(text: str, region: str | None = None) -> PhoneNumber:
    """Parse ``text`` (``+`` form, or national form in ``region``) into a valid E.164 number."""
    raw = text.strip()
    if not raw:
        raise NumberError("empty number")
    if _EXTENSION.search(raw):
        raise NumberError("has an extension, which the dialer cannot dial")
    if _LETTERS.search(raw):
        raise NumberError("has letters")
    try:
        parsed = phonenumbers.parse(raw, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE and not raw.startswith(("+", "00")):
            raise NumberError("no country code (write +<code>, or give the campaign a default_region)") from None
        raise NumberError(_PARSE_REASONS.get(exc.error_type, "not a phone number")) from None
    main = phonenumbers.region_code_for_country_code(parsed.country_code or 0)  # "US" for +1
    where = f" for {main}" if main not in ("ZZ", "001") else ""
    possible = phonenumbers.is_possible_number_with_reason(parsed)
    if possible != ValidationResult.IS_POSSIBLE:
        raise NumberError(_LENGTH_REASONS.get(possible, "impossible number") + where)
    if not phonenumbers.is_valid_number(parsed):
        raise NumberError(f"not a valid number{where} (no such range is assigned)")
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    country = phonenumbers.region_code_for_number(parsed) or main
    zones = tuple(z for z in phone_timezone.time_zones_for_number(parsed) if z != _UNKNOWN_ZONE)
    return PhoneNumber(e164, country, zones)


def check_zone(name: str) -> str:
    """``name`` if it is an IANA time zone this machine knows, else ``NumberError``."""
    if name.strip() != name or not name or name == _UNKNOWN_ZONE:
        raise NumberError(f"bad time zone {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise NumberError(f"bad time zone {name!r} (use an IANA name like 'America/Chicago')") from None
    return name


def resolve_zone(zones: tuple[str, ...], now: float) -> str | None:
    """The one zone to evaluate calling windows in, or None (unknown: the lead is held).

    Several zones resolve to the first (sorted) only when they agree on the UTC offset at
    noon UTC of every day for a year from ``now``: a zone stored at import must stay right
    through the next DST change, not only today.
    """
    known = sorted({z for z in zones if z != _UNKNOWN_ZONE})
    try:
        if len(known) == 1:
            return check_zone(known[0])
        if known and _agree(tuple(known), int(now // _DAY)):
            return known[0]
    except NumberError:
        return None
    return None


@functools.lru_cache(maxsize=1024)
def _agree(zones: tuple[str, ...], day: int) -> bool:
    """True when every zone has the same UTC offset at noon UTC on each of 366 days from ``day``."""
    infos = [ZoneInfo(check_zone(z)) for z in zones]
    start = datetime.fromtimestamp(day * _DAY + _DAY / 2, UTC)
    for offset in range(366):
        instant = start + timedelta(days=offset)
        if len({instant.astimezone(info).utcoffset() for info in infos}) > 1:
            return False
    return True
