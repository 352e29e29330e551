"""parse_campaign: a campaign from a JSON body, validated and worded as a campaign file is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dialer.campaign import Campaign, CampaignError, load_campaign, parse_campaign

SEATS, TEAMS = ("1001", "1002"), ("north",)


def body(**changes: Any) -> dict[str, Any]:
    return {"id": "spring", "caller_id": "+12125550100", "mode": "predictive", **changes}


def problems(data: Any, source: str = "body") -> tuple[str, ...]:
    with pytest.raises(CampaignError) as caught:
        parse_campaign(data, source, seats=SEATS, teams=TEAMS)
    return caught.value.problems


def test_a_good_body_is_the_campaign_a_file_would_make(tmp_path: Path) -> None:
    data = body(name="Spring", seats=["1001"], teams=["north"], retry={"busy": "15m"},
                windows={"hours": ["mon-fri 09:00-18:00"], "extra_holidays": ["2026-04-03"]},
                dispositions=[{"code": "sale", "label": "Sale", "kind": "conversion"}])
    campaign = parse_campaign(data, "body", seats=SEATS, teams=TEAMS)
    (tmp_path / "spring.toml").write_text(
        'name = "Spring"\ncaller_id = "+12125550100"\nmode = "predictive"\nseats = ["1001"]\n'
        'teams = ["north"]\n[retry]\nbusy = "15m"\n[windows]\nhours = ["mon-fri 09:00-18:00"]\n'
        'extra_holidays = [2026-04-03]\n[[dispositions]]\ncode = "sale"\nlabel = "Sale"\nkind = "conversion"\n')
    assert campaign == load_campaign(tmp_path / "spring.toml")
    assert campaign.retry.busy == 900.0


def test_the_dump_of_a_campaign_parses_back_to_it() -> None:
    campaign = parse_campaign(body(script="Hi {name}", countries=["GB"]), "body", seats=SEATS, teams=TEAMS)
    again = parse_campaign(campaign.model_dump(mode="json", exclude_none=True), "body", seats=SEATS, teams=TEAMS)
    assert again == campaign


def test_errors_name_the_source_and_key_like_a_file() -> None:
    assert problems(body(target_abandon=0.05, grace=3, mode="fast")) == (
        "body: mode: Input should be 'preview', 'progressive' or 'predictive'",
        "body: target_abandon: at most 0.03 (the hard ceiling), got 0.05",
        "body: grace: at most 2 s (the 2-second rule), got 3.0",
    )
    assert problems(body(colour="red"), "POST /api/campaigns") == (
        "POST /api/campaigns: colour: unknown key (check the spelling)",)


def test_the_id_is_required_and_checked() -> None:
    assert problems({"caller_id": "+12125550100"}) == ("body: id: required key is missing",)
    assert problems(body(id="no spaces")) == ("body: id: String should match pattern '^[A-Za-z0-9_-]+$'",)


def test_a_lead_file_is_refused_with_the_route_that_imports_leads() -> None:
    assert problems(body(leads="leads.csv")) == ("body: leads: import leads with POST /api/campaigns/<id>/leads",)
    assert problems(body(leads="leads.csv", caller_id="5550100")) == (
        "body: leads: import leads with POST /api/campaigns/<id>/leads",
        "body: caller_id: write the number in E.164 form (+ and digits), got '5550100'",
    )


def test_unknown_seats_and_teams_are_named() -> None:
    assert problems(body(seats=["1001", "1009"], teams=["south"])) == (
        "body: seats: unknown seat '1009'", "body: teams: unknown team 'south'")


def test_seats_and_teams_are_not_checked_when_not_given() -> None:
    assert parse_campaign(body(seats=["7777"]), "body").seats == ("7777",)


@pytest.mark.parametrize("data", [["id", "x"], "spring", None])
def test_a_body_that_is_not_an_object_is_refused(data: Any) -> None:
    assert problems(data) == ("body: (top level): expected an object of campaign keys",)


def test_a_campaign_is_the_model() -> None:
    assert isinstance(parse_campaign(body(), "body"), Campaign)
