"""Campaigns: the validated model and its loader for ``config/campaigns/*.toml``.

Every key is described on its field (docs/campaigns.md is the reference). Errors are a
``CampaignError`` whose lines name the file and the key path, like the settings loader's::

    config/campaigns/renewals.toml: target_abandon: at most 0.03 (the hard ceiling), got 0.05
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dialer.campaign_errors import CampaignError, explain
from dialer.numbers import NumberError, normalise
from dialer.records import DispositionKind
from dialer.windows import (
    DayRules,
    Windows,
    country_rules,
    override,
    parse_holiday_hours,
    weekly_hours,
)

__all__ = [
    "DEFAULT_DISPOSITIONS",
    "MAX_ABANDON",
    "MAX_GRACE",
    "AbandonMessage",
    "AmdConfig",
    "Campaign",
    "CampaignError",
    "CountryWindows",
    "DispositionConfig",
    "RetryConfig",
    "WindowsConfig",
    "load_campaign",
    "load_campaigns",
    "parse_campaign",
    "parse_duration",
]

_ID = r"^[A-Za-z0-9_-]+$"
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)\Z")
MAX_ABANDON = 0.03
MAX_GRACE = 2.0
MIN_RING = 15.0  # an unanswered call rings at least this long before the dialer hangs up


def parse_duration(value: object) -> float:
    """Seconds from a number or text like "90s", "10m", "2h", "3d"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value.strip().lower())):
        seconds = float(match[1]) * _UNITS[match[2] or "s"]
    else:
        raise ValueError(f"expected seconds or a duration like '10m', '2h', '3d', got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _e164(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith("+"):
        raise ValueError(f"write the number in E.164 form (+ and digits), got {value!r}")
    try:
        return normalise(value).e164
    except NumberError as exc:
        raise ValueError(f"{value!r}: {exc}") from None


class DispositionConfig(_Model):
    """One outcome a seat may set after a call."""

    code: str = Field(pattern=_ID, description="Code stored with the attempt, e.g. 'sale'.")
    label: str = Field(min_length=1, description="What the seat sees.")
    kind: DispositionKind = Field(description="conversion, refusal, callback, dnc (puts the number on the global do-not-call list) or other.")


DEFAULT_DISPOSITIONS = (
    DispositionConfig(code="sale", label="Sale", kind="conversion"),
    DispositionConfig(code="refused", label="Not interested", kind="refusal"),
    DispositionConfig(code="callback", label="Call back later", kind="callback"),
    DispositionConfig(code="dnc", label="Do not call again", kind="dnc"),
    DispositionConfig(code="wrong_number", label="Wrong number", kind="other"),
)


class AmdConfig(_Model):
    """Answering-machine detection (``[amd]``)."""

    action: Literal["off", "hangup", "message", "pass"] = Field(default="off", description="On a machine: off (no detection), hangup, message (leave `message`), pass (to a seat anyway).")
    message: str | None = Field(default=None, description="Prompt left on a machine when action = 'message'.")

    @model_validator(mode="after")
    def _message(self) -> AmdConfig:
        if self.action == "message" and not self.message:
            raise ValueError("action = 'message' needs a message (a prompt name)")
        return self


class AbandonMessage(_Model):
    """What a customer hears when no seat takes the answered call within the grace time."""

    prompt: str | None = Field(default=None, description="Prompt to play (default 'abandon'); it must name the caller. The call-back number is read after it, digit by digit.")
    text: str | None = Field(default=None, description="The words the message says ({caller} and {callback} filled in), kept with each dialer.abandoned event as what the customer heard.")
    callback_number: str | None = Field(default=None, description="Number the message gives to call back (E.164); default: caller_id.")

    @field_validator("callback_number")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        return _e164(value)


class RetryConfig(_Model):
    """Delay before the next attempt, by the last outcome: seconds or '10m', '2h', '3d'."""

    busy: Duration = Field(default=600.0, description="After a busy signal (486/600).")
    no_answer: Duration = Field(default=3600.0, description="After ringing out or 480.")
    machine: Duration = Field(default=14400.0, description="After an answering machine.")
    network_error: Duration = Field(default=300.0, description="After a carrier or network failure (5xx, timeout).")
    rejected: Duration = Field(default=3600.0, description="After another refusal (4xx/6xx); a number that does not exist is not retried.")
    abandoned: Duration = Field(default=259200.0, description="After an abandoned call; sooner than 72 h only with a seat reserved.")
    cancelled: Duration = Field(default=300.0, description="After the dialer cancelled the call before an answer.")
    lost: Duration = Field(default=3600.0, description="After an attempt left open by a crash (closed as lost at start-up).")

    def delays(self) -> dict[str, float]:
        """Outcome → seconds ("answered" has no delay: it is done)."""
        return {"answered": 0.0, **self.model_dump()}


class CountryWindows(_Model):
    """Calling hours for one country, overriding its defaults."""

    hours: tuple[str, ...] | None = Field(default=None, description="Weekly hours like ['mon-fri 09:00-20:00', 'sat 10:00-16:00']; default: the country's.")
    holidays: str | None = Field(default=None, description="Hours on a holiday: 'closed', 'weekday' (as that weekday) or '10:00-14:00'.")
    makeup_hours: str | None = Field(default=None, description="Hours on a make-up working day (调休); default: Monday's.")

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            weekly_hours(value)
        return value

    @field_validator("holidays", "makeup_hours")
    @classmethod
    def _day_hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_holiday_hours(value)
        return value


class WindowsConfig(CountryWindows):
    """``[windows]``: hours for every country, own dates, and per-country overrides."""

    extra_holidays: tuple[date, ...] = Field(default=(), description="The campaign's own days off.")
    extra_workdays: tuple[date, ...] = Field(default=(), description="The campaign's own working days (weekend days it calls).")
    countries: dict[str, CountryWindows] = Field(default_factory=dict, description="Overrides by country code, e.g. [windows.countries.GB].")

    @field_validator("countries")
    @classmethod
    def _codes(cls, value: dict[str, CountryWindows]) -> dict[str, CountryWindows]:
        for code in value:
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise ValueError(f"country codes are two capital letters (ISO 3166), got {code!r}")
        return value

    def build(self) -> Windows:
        """The rules by country: defaults, then these hours, then the country's own overrides."""
        codes = {"US", "CA", "GB", "DE", "CN", *self.countries}
        countries = {code: self._rules(code) for code in codes}
        return Windows(countries, self._rules("ZZ"))

    def _rules(self, code: str) -> DayRules:
        extra = {"extra_off": self.extra_holidays, "extra_work": self.extra_workdays}
        rules = override(country_rules(code), hours=self.hours, holidays=self.holidays, makeup=self.makeup_hours, **extra)
        own = self.countries.get(code)
        if own is not None:
            rules = override(rules, hours=own.hours, holidays=own.holidays, makeup=own.makeup_hours)
        return rules


class Campaign(_Model):
    """A campaign: what to dial, how fast, when, and what the seat sees and sets."""

    id: str = Field(pattern=_ID, description="Campaign id; default: the file name without .toml.")
    name: str = Field(default="", description="Display name.")
    active: bool = Field(default=True, description="False: loaded but not dialled.")
    leads: Path | None = Field(default=None, description="Lead CSV, relative to the campaign file.")
    caller_id: str = Field(description="Number presented to the customer (E.164).")
    mode: Literal["preview", "progressive", "predictive"] = Field(default="progressive", description="Pacing: preview (the seat starts each call), progressive (one call per ready seat) or predictive.")
    target_abandon: float = Field(default=MAX_ABANDON, gt=0, description="Target share of abandoned calls; at most 0.03.")
    abandon_formula: Literal["answers", "connections"] = Field(default="answers", description="answers: abandoned / live answers (US); connections: per live connections with an AMD allowance (UK).")
    amd_allowance: float = Field(default=0.1, ge=0, le=1, description="With the connections formula: the share of machine verdicts counted as live calls wrongly hung up on (AMD false positives; 0.1 from bench/amd.py's machine precision of 0.91).")
    amd: AmdConfig = Field(default_factory=AmdConfig, description="Answering-machine detection.")
    windows: WindowsConfig = Field(default_factory=WindowsConfig, description="Calling windows in the lead's local time.")
    default_region: str | None = Field(default=None, description="Region of numbers written without +, e.g. 'GB'; default: [dialer].default_region.")
    countries: tuple[str, ...] = Field(default=(), description="The only countries this campaign calls (ISO 3166); empty: any.")
    max_attempts: int = Field(default=3, ge=1, le=100, description="Attempts per lead before it is done (callbacks are exempt).")
    retry: RetryConfig = Field(default_factory=RetryConfig, description="Retry delays by outcome.")
    script: str = Field(default="", description="Script or notes shown to the seat; {column} is filled from the lead (see script_for).")
    dispositions: tuple[DispositionConfig, ...] = Field(default=DEFAULT_DISPOSITIONS, min_length=1, description="Dispositions seats may set.")
    seats: tuple[str, ...] = Field(default=(), description="Seat ids assigned to the campaign.")
    teams: tuple[str, ...] = Field(default=(), description="Team ids whose seats are assigned.")
    abandon_message: AbandonMessage = Field(default_factory=AbandonMessage, description="The message played on an abandoned call.")
    grace: float = Field(default=MAX_GRACE, gt=0, description="Seconds from answer to seat before the call is abandoned; at most 2.")
    ring_timeout: float = Field(default=25.0, gt=0, le=120, description="Seconds a dialled number may ring before the dial is cancelled as no answer.")
    cancel_surplus: bool = Field(default=True, description="Predictive: cancel a dial that has rung min_ring seconds unanswered when its answer would likely find no seat (recorded as no answer).")
    min_ring: float = Field(default=MIN_RING, ge=MIN_RING, le=120, description="Seconds a dial rings (from its 180/183) before pacing may cancel it; at least 15 (FCC 47 CFR 64.1200(a)(6), Ofcom).")
    wrap_up: float = Field(default=15.0, ge=0, description="Seconds of wrap-up after each call before the seat gets the next (it sets its disposition meanwhile).")

    @field_validator("caller_id")
    @classmethod
    def _caller(cls, value: str) -> str:
        return _e164(value) or value

    @field_validator("target_abandon")
    @classmethod
    def _ceiling(cls, value: float) -> float:
        if value > MAX_ABANDON:
            raise ValueError(f"at most {MAX_ABANDON} (the hard ceiling), got {value}")
        return value

    @field_validator("grace")
    @classmethod
    def _grace(cls, value: float) -> float:
        if value > MAX_GRACE:
            raise ValueError(f"at most {MAX_GRACE:g} s (the 2-second rule), got {value}")
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r} (a country code like 'US', 'GB', 'CN')")
        return value

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if code not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(f"unknown country {code!r} (a code like 'US', 'GB', 'CN')")
        return value

    @field_validator("dispositions")
    @classmethod
    def _unique(cls, value: tuple[DispositionConfig, ...]) -> tuple[DispositionConfig, ...]:
        codes = [d.code for d in value]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"disposition codes must be unique: {', '.join(twice)}")
        return value

    def disposition(self, code: str) -> DispositionConfig | None:
        """The disposition with this code, if the campaign has it."""
        return next((d for d in self.dispositions if d.code == code), None)

    def script_for(self, fields: Mapping[str, str]) -> str:
        """The script with ``{key}`` filled from ``fields`` (the lead's data, name, seat...);
        an unknown ``{key}`` is left as written, so a missing column shows rather than fails."""
        return _PLACEHOLDER.sub(lambda m: fields.get(m[1], m[0]), self.script)

    def warnings(self) -> list[str]:
        """Settings that load but that a regulator would question (shown by ``campaign list``
        and logged at start)."""
        found = []
        if self.ring_timeout < MIN_RING:
            found.append(f"ring_timeout {self.ring_timeout:g} s is under the {MIN_RING:g} s an unanswered "
                         "call must ring (US 47 CFR 64.1200(a)(6), Ofcom)")
        return found

    def window_rules(self) -> Windows:
        """The calling rules by country, this campaign's overrides applied."""
        return self.windows.build()

    def abandon_words(self) -> str | None:
        """What the abandon message says, with the caller and call-back number filled in."""
        text = self.abandon_message.text
        if text is None:
            return None
        return text.replace("{caller}", self.name or self.id).replace("{callback}", self.callback_number)

    @property
    def callback_number(self) -> str:
        """The number the abandon message gives (caller_id unless set)."""
        return self.abandon_message.callback_number or self.caller_id


def load_campaign(path: Path) -> Campaign:
    """One campaign file; ``CampaignError`` names the file and key of every problem."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise CampaignError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError([f"{path}: TOML syntax error: {exc}"]) from None
    data.setdefault("id", path.stem)
    if isinstance(data.get("leads"), str):
        data["leads"] = str(path.parent / data["leads"])
    campaign = _validate(data, str(path))
    if campaign.leads is not None and not campaign.leads.is_file():
        raise CampaignError([f"{path}: leads: no such file {campaign.leads}"])
    return campaign


def load_campaigns(
    folder: Path, *, seats: Collection[str] | None = None, teams: Collection[str] | None = None
) -> list[Campaign]:
    """Every ``*.toml`` in ``folder``, sorted by file name; seats and teams are checked if given."""
    if not folder.is_dir():
        raise CampaignError([f"{folder}: not a directory of campaign files"])
    problems: list[str] = []
    found: dict[str, Path] = {}
    campaigns: list[Campaign] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            campaign = load_campaign(path)
        except CampaignError as exc:
            problems += exc.problems
            continue
        if campaign.id in found:
            problems.append(f"{path}: id: {campaign.id!r} is also the id of {found[campaign.id]}")
        found[campaign.id] = path
        problems += [f"{path}: {p}" for p in _references(campaign, seats, teams)]
        campaigns.append(campaign)
    if problems:
        raise CampaignError(problems)
    return campaigns


def parse_campaign(data: Mapping[str, Any], source: str, *, seats: Collection[str] | None = None,
                   teams: Collection[str] | None = None) -> Campaign:
    """A campaign from data (a JSON body of the HTTP API), validated as a file is and with the
    same wording (``<source>: key: problem``); the id is required and a lead file is refused:
    such a campaign's leads come through ``POST /api/campaigns/<id>/leads``."""
    if not isinstance(data, Mapping):
        raise CampaignError([f"{source}: (top level): expected an object of campaign keys"])
    problems = []
    if "id" not in data:
        problems.append(f"{source}: id: required key is missing")
    if data.get("leads") is not None:
        problems.append(f"{source}: leads: import leads with POST /api/campaigns/<id>/leads")
    try:
        campaign = _validate({k: v for k, v in data.items() if k != "leads"} | {"id": data.get("id", "-")},
                             source)
    except CampaignError as exc:
        raise CampaignError([*problems, *exc.problems]) from None
    problems += [f"{source}: {p}" for p in _references(campaign, seats, teams)]
    if problems:
        raise CampaignError(problems)
    return campaign


def _validate(data: Mapping[str, Any], source: str) -> Campaign:
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        raise CampaignError(explain(exc, source)) from None


def _references(campaign: Campaign, seats: Collection[str] | None, teams: Collection[str] | None) -> list[str]:
    out = []
    if seats is not None:
        out += [f"seats: unknown seat {s!r}" for s in campaign.seats if s not in seats]
    if teams is not None:
        out += [f"teams: unknown team {t!r}" for t in campaign.teams if t not in teams]
    return out
