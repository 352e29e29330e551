"""How campaigns become ACD queues and memberships, and how engine failures become outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest

from callfloor.app import load_campaigns_for
from callfloor.dialer_calls import PACED_OUT, _failure_outcome
from callfloor.floorwiring import campaign_queue, campaign_queues, seat_configs
from callfloor.settings import ConfigError, Settings
from dialer.campaign import Campaign
from floor.model import OverflowKind, Strategy


def _campaign(**kw: object) -> Campaign:
    return Campaign.model_validate({"id": "renewals", "caller_id": "+12125550100", **kw})


def test_a_campaign_queue_gives_up_after_the_grace_time() -> None:
    (q,) = campaign_queues([_campaign(grace=1.5, wrap_up=20)])
    assert q.name == campaign_queue("renewals") == "campaign-renewals"
    assert (q.strategy, q.max_wait, q.ring_timeout, q.wrap_up) == (Strategy.LONGEST_IDLE, 1.5, 1.5, 20)
    assert q.overflow is not None and q.overflow.kind is OverflowKind.FLOW
    assert q.overflow_when_no_seats and q.announce_every is None


def test_seats_join_the_campaigns_they_or_their_teams_are_assigned_to() -> None:
    settings = Settings.model_validate({
        "teams": [{"id": "front"}, {"id": "back"}],
        "seats": [{"id": "1001", "password": "x", "team": "front", "queues": []},
                  {"id": "1002", "password": "x", "team": "back", "queues": []},
                  {"id": "1003", "password": "x", "team": "back", "queues": []}],
    })
    seats = {s.id: s.queues for s in seat_configs(settings, [_campaign(teams=["front"], seats=["1003"])])}
    assert seats == {"1001": ("campaign-renewals",), "1002": (), "1003": ("campaign-renewals",)}


def test_engine_failures_map_to_ledger_outcomes() -> None:
    assert [_failure_outcome(r) for r in ("busy", "no_answer", "network_error", "declined",
                                          "invalid_number", "rejected", "shutdown")] == [
        "busy", "no_answer", "network_error", "rejected", "rejected", "rejected", "cancelled"]
    # A dial pacing hung up after its minimum ring was not answered: retried as a no-answer.
    assert _failure_outcome(PACED_OUT) == "no_answer"


def test_campaigns_cancel_surplus_dials_after_15_seconds_by_default() -> None:
    assert (_campaign().cancel_surplus, _campaign().min_ring) == (True, 15.0)
    assert _campaign(min_ring=20).min_ring == 20.0


def test_campaigns_without_a_trunk_are_refused(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('caller_id = "+12125550100"\n')
    settings = Settings.model_validate({"dialer": {"campaigns": str(tmp_path)}})
    with pytest.raises(ConfigError, match=r"no \[trunk\] to dial through"):
        load_campaigns_for(settings)
