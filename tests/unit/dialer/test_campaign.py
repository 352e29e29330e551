"""Campaign files: the model, its defaults and limits, and errors that name file and key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dialer.campaign import (
    DEFAULT_DISPOSITIONS,
    Campaign,
    CampaignError,
    load_campaign,
    load_campaigns,
    parse_duration,
)
from dialer.windows import window_state

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "config" / "campaigns"
MINIMAL = 'caller_id = "+12125550100"\n'


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> list[str]:
    with pytest.raises(CampaignError) as caught:
        load_campaign(path)
    return list(caught.value.problems)


def test_the_demo_campaign() -> None:
    [demo] = load_campaigns(DEMO, seats=["1001", "1002", "1003", "1004"], teams=["front", "experts"])
    assert (demo.id, demo.mode, demo.target_abandon, demo.grace, demo.max_attempts) == ("demo", "predictive", 0.03, 2.0, 4)
    assert demo.leads == DEMO / "demo-leads.csv"
    assert demo.countries == ("US", "GB", "CN") and demo.default_region == "US"
    assert demo.amd.action == "message" and demo.amd.message == "machine_message"
    assert demo.retry.delays() == {
        "answered": 0.0, "busy": 600.0, "no_answer": 7200.0, "machine": 14400.0, "network_error": 300.0,
        "rejected": 3600.0, "abandoned": 259200.0, "cancelled": 300.0, "lost": 3600.0,
    }
    assert [(d.code, d.kind) for d in demo.dispositions] == [
        ("renewed", "conversion"), ("declined", "refusal"), ("callback", "callback"), ("dnc", "dnc"), ("wrong_person", "other"),
    ]
    assert demo.callback_number == "+12125550100"
    assert demo.disposition("dnc") is not None and demo.disposition("nope") is None


def test_demo_windows_apply_the_campaign_overrides() -> None:
    [demo] = load_campaigns(DEMO)
    rules = demo.window_rules()
    sh = ZoneInfo("Asia/Shanghai")
    lunch = datetime(2026, 3, 3, 12, 30, tzinfo=sh).timestamp()
    assert window_state("Asia/Shanghai", "CN", lunch, rules) == (False, datetime(2026, 3, 3, 13, 30, tzinfo=sh).timestamp())
    makeup = datetime(2026, 2, 14, 18, 30, tzinfo=sh).timestamp()  # a 调休 Saturday, after makeup_hours
    assert not window_state("Asia/Shanghai", "CN", makeup, rules)[0]
    ny = ZoneInfo("America/New_York")
    eve = datetime(2026, 12, 24, 12, 0, tzinfo=ny).timestamp()  # the campaign's own day off
    assert not window_state("America/New_York", "US", eve, rules)[0]


def test_defaults(tmp_path: Path) -> None:
    c = load_campaign(write(tmp_path, "renewals.toml", MINIMAL))
    assert (c.id, c.mode, c.target_abandon, c.abandon_formula, c.grace) == ("renewals", "progressive", 0.03, "answers", 2.0)
    assert c.dispositions == DEFAULT_DISPOSITIONS and c.amd.action == "off" and c.leads is None
    assert c.retry.abandoned == 72 * 3600


def test_model_dump_round_trips() -> None:
    [demo] = load_campaigns(DEMO)
    assert Campaign.model_validate_json(demo.model_dump_json()) == demo


def test_script_for_fills_known_fields_only() -> None:
    c = Campaign(id="x", caller_id="+12125550100", script="Hi {name}, your {plan} plan ({missing}).")
    assert c.script_for({"name": "王芳", "plan": "金卡"}) == "Hi 王芳, your 金卡 plan ({missing})."


@pytest.mark.parametrize(
    ("value", "seconds"), [(90, 90.0), (1.5, 1.5), ("45s", 45.0), ("10m", 600.0), ("2h", 7200.0), ("3d", 259200.0), ("30", 30.0)]
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["soon", "-5m", -1, True, "2w"])
def test_parse_duration_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (MINIMAL + "target_abandon = 0.05\n", "target_abandon: at most 0.03 (the hard ceiling), got 0.05"),
        (MINIMAL + "grace = 3\n", "grace: at most 2 s (the 2-second rule), got 3.0"),
        ('caller_id = "2125550100"\n', "caller_id: write the number in E.164 form (+ and digits), got '2125550100'"),
        ('caller_id = "+12011111111"\n', "caller_id: '+12011111111': not a valid number for US (no such range is assigned)"),
        ("name = 'x'\n", "caller_id: required key is missing"),
        (MINIMAL + "pacing = 'fast'\n", "pacing: unknown key (check the spelling)"),
        (MINIMAL + "mode = 'turbo'\n", "mode: Input should be 'preview', 'progressive' or 'predictive'"),
        (MINIMAL + "[amd]\naction = 'message'\n", "amd: action = 'message' needs a message (a prompt name)"),
        (MINIMAL + "[retry]\nbusy = 'soon'\n", "retry.busy: expected seconds or a duration like '10m', '2h', '3d', got 'soon'"),
        (MINIMAL + "default_region = 'XX'\n", "default_region: unknown region 'XX' (a country code like 'US', 'GB', 'CN')"),
        (MINIMAL + "[windows]\nhours = ['weekdays 09:00-17:00']\n", "windows.hours: 'weekdays 09:00-17:00': 'weekdays' is not a day (mon..sun)"),
        (MINIMAL + "[windows.countries.gb]\nholidays = 'closed'\n", "windows.countries: country codes are two capital letters (ISO 3166), got 'gb'"),
        (MINIMAL + "[windows.countries.GB]\nholidays = 'never'\n", "windows.countries.GB.holidays: 'never': expected HH:MM-HH:MM"),
        (MINIMAL + "[[dispositions]]\ncode='a'\nlabel='A'\nkind='other'\n[[dispositions]]\ncode='a'\nlabel='B'\nkind='refusal'\n",
         "dispositions: disposition codes must be unique: a"),
        (MINIMAL + "[[dispositions]]\ncode='a'\nlabel='A'\nkind='maybe'\n",
         "dispositions[0].kind: Input should be 'conversion', 'refusal', 'callback', 'dnc' or 'other'"),
        (MINIMAL + "[abandon_message]\ncallback_number = '555'\n",
         "abandon_message.callback_number: write the number in E.164 form (+ and digits), got '555'"),
        (MINIMAL + "max_attempts = 0\n", "max_attempts: Input should be greater than or equal to 1"),
        (MINIMAL + "min_ring = 10\n", "min_ring: Input should be greater than or equal to 15"),
        (MINIMAL + "leads = 'missing.csv'\n", "leads: no such file"),
        ("caller_id = \n", "TOML syntax error"),
    ],
)
def test_errors_name_the_file_and_key(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, "c.toml", text)
    problems = refused(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: {problem}"), problems[0]


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, "c.toml", MINIMAL + "target_abandon = 0.5\ngrace = 5\n")
    assert [p.split(": ")[1] for p in refused(path)] == ["target_abandon", "grace"]


def test_load_campaigns_checks_ids_seats_and_teams(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", MINIMAL + "id = 'same'\nseats = ['1001', '9999']\nteams = ['ghosts']\n")
    write(tmp_path, "b.toml", MINIMAL + "id = 'same'\n")
    write(tmp_path, "notes.txt", "not a campaign")
    with pytest.raises(CampaignError) as caught:
        load_campaigns(tmp_path, seats=["1001"], teams=["front"])
    assert caught.value.problems == (
        f"{tmp_path / 'a.toml'}: seats: unknown seat '9999'",
        f"{tmp_path / 'a.toml'}: teams: unknown team 'ghosts'",
        f"{tmp_path / 'b.toml'}: id: 'same' is also the id of {tmp_path / 'a.toml'}",
    )


def test_load_campaigns_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(CampaignError, match="not a directory of campaign files"):
        load_campaigns(tmp_path / "nope")
    assert load_campaigns(tmp_path) == []


def test_leads_path_is_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    write(tmp_path / "lists", "leads.csv", "number\n")
    c = load_campaign(write(tmp_path, "c.toml", MINIMAL + "leads = 'lists/leads.csv'\n"))
    assert c.leads == tmp_path / "lists" / "leads.csv"


def test_the_abandon_messages_words_name_the_caller_and_the_call_back_number() -> None:
    from dialer.campaign import Campaign

    campaign = Campaign.model_validate({
        "id": "renewals", "name": "Acme renewals", "caller_id": "+12125550100",
        "abandon_message": {"text": "This was {caller}. Call us on {callback}.",
                            "callback_number": "+12125550199"}})
    assert campaign.abandon_words() == "This was Acme renewals. Call us on +12125550199."
    assert Campaign.model_validate({"id": "x", "caller_id": "+12125550100"}).abandon_words() is None


def test_a_ring_timeout_under_the_minimum_ring_loads_with_a_warning(tmp_path: Path) -> None:
    short = load_campaign(write(tmp_path, "short.toml", MINIMAL + "ring_timeout = 10\n"))
    assert short.warnings() == [
        "ring_timeout 10 s is under the 15 s an unanswered call must ring (US 47 CFR 64.1200(a)(6), Ofcom)"]
    assert load_campaign(write(tmp_path, "ok.toml", MINIMAL)).warnings() == []
