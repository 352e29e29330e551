"""Starting and stopping campaigns from the monitor: ``POST /api/monitor/campaigns/<id>/active``
on the service's real dialer wiring (board, runtime, CampaignAdmin, audit log; no sockets) behind
the real login: roles, the team rule, CSRF, 404/409, the tile's ``active`` and its live push."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from callfloor.web.auth import Auth, Role
from callfloor.web.passwords import Passwords
from dialer.abandon import CallKind
from dialer.campaign import Campaign
from tests.unit.web.authkit import FAST, add_user, login
from tests.unit.web.monitorkit import (
    BoardFloor,
    DialerFloor,
    build_app,
    client,
    dialer_floor,
    dialer_settings,
)

CALLER = "+12125550100"
# Seats 1001 and 1002 are in team north, 1003 in no team (monitorkit.dialer_settings).
CAMPAIGNS = [
    Campaign(id="spring", caller_id=CALLER, mode="predictive", teams=("north",)),  # north by team
    Campaign(id="winback", caller_id=CALLER, seats=("1002",)),  # north by seat id
    Campaign(id="renewals", caller_id=CALLER, seats=("1003",)),  # no team
]


@asynccontextmanager
async def monitor(tmp_path: Path) -> AsyncIterator[tuple[DialerFloor, Auth]]:
    """The dialer floor with CAMPAIGNS and an Auth on its database."""
    async with dialer_floor(dialer_settings(tmp_path), CAMPAIGNS) as f:
        yield f, Auth(f.store, passwords=Passwords(FAST))


async def signed_in(f: DialerFloor, auth: Auth, username: str, role: Role = Role.LEAD, *,
                    team: str | None = None, seat: str | None = None) -> tuple[httpx.AsyncClient, dict[str, str]]:
    """A logged-in client on the monitor routes (with the floor's CampaignAdmin) and its CSRF header."""
    await add_user(auth, username, role, team=team, seat=seat)
    http = client(build_app(auth, f.live, time.time, campaigns=f.admin))
    answer = await login(http, username)
    assert answer.status_code == 200, answer.text
    return http, {"X-CSRF-Token": answer.json()["csrf_token"]}


def switch(campaign: str) -> str:
    return f"/api/monitor/campaigns/{campaign}/active"


async def pushed(queue: asyncio.Queue[dict[str, Any]], campaign: str) -> dict[str, Any]:
    """The next tile of ``campaign`` pushed to a monitor page (other subjects skipped)."""
    async with asyncio.timeout(5):
        while True:
            item = await queue.get()
            if (item["type"], item["id"]) == ("campaign", campaign):
                data: dict[str, Any] = item["data"]
                return data


def actives(f: DialerFloor) -> dict[str, bool]:
    return {cid: run.campaign.active for cid, run in sorted(f.runtime.runs.items())}


async def test_the_tile_carries_the_dialling_state_mode_and_teams(tmp_path: Path) -> None:
    async with monitor(tmp_path) as (f, _):
        tiles = f.live.board(time.time())["campaigns"]
        assert {cid: (t["active"], t["mode"], t["pacing_now"], t["teams"]) for cid, t in tiles.items()} == {
            "spring": (True, "predictive", "predictive", ["north"]),
            "winback": (True, "progressive", "progressive", ["north"]),
            "renewals": (True, "progressive", "progressive", []),
        }
        # An abandoned call in the last 24 h spends the 3% budget: predictive paces progressive.
        f.runtime.runs["spring"].tracker.add(time.time() - 10, CallKind.ABANDONED)
        tile = f.live.board(time.time())["campaigns"]["spring"]
        assert (tile["mode"], tile["pacing_now"], tile["dials"]) == ("predictive", "progressive", 0)
        # LiveFloor.view (a seat action's answer) stays the metrics' own; the tile and MQTT
        # carry LiveFloor.published, the same object
        view = f.live.view("campaign", "spring", time.time())
        assert view is not None and not {"active", "mode", "pacing_now", "teams"} & set(view)
        at = time.time()
        assert f.live.campaign_tile("spring", at) == f.live.published(("campaign", "spring"), at)
        assert f.live.campaign_tile("autumn", time.time()) is None


async def test_a_lead_stops_and_starts_its_teams_campaign_and_every_page_sees_it(tmp_path: Path) -> None:
    async with monitor(tmp_path) as (f, auth):
        http, csrf = await signed_in(f, auth, "amy", team="north")
        page = f.live.subscribe()  # an open monitor page
        stopped = await http.post(switch("spring"), json={"active": False}, headers=csrf)
        assert stopped.status_code == 200, stopped.text
        assert (stopped.json()["id"], stopped.json()["active"], stopped.json()["teams"]) == ("spring", False, ["north"])
        assert (await pushed(page, "spring"))["active"] is False
        assert f.live.board(time.time())["campaigns"]["spring"]["active"] is False
        assert actives(f) == {"renewals": True, "spring": False, "winback": True}
        assert (await f.admin.definition("spring"))["campaign"]["active"] is False  # stored too

        started = await http.post(switch("spring"), json={"active": True}, headers=csrf)
        assert (started.status_code, started.json()["active"]) == (200, True)
        assert (await pushed(page, "spring"))["active"] is True
        by_seat = await http.post(switch("winback"), json={"active": False}, headers=csrf)
        assert (by_seat.status_code, by_seat.json()["active"]) == (200, False)
        f.live.unsubscribe(page)
        entries = await f.audit.entries(action="campaign.active")
        assert [(e.actor, e.subject, e.detail) for e in entries] == [
            ("amy", "campaign:winback", {"active": False, "source": "file"}),
            ("amy", "campaign:spring", {"active": True, "source": "file"}),
            ("amy", "campaign:spring", {"active": False, "source": "file"}),
        ]


async def test_a_team_lead_acts_only_on_campaigns_with_seats_of_its_team(tmp_path: Path) -> None:
    async with monitor(tmp_path) as (f, auth):
        north, north_csrf = await signed_in(f, auth, "amy", team="north")
        south, south_csrf = await signed_in(f, auth, "sam", team="south")
        other = await north.post(switch("renewals"), json={"active": False}, headers=north_csrf)
        assert (other.status_code, other.json()) == (
            403, {"error": "campaign renewals assigns no seat of your team 'north'"})
        spring = await south.post(switch("spring"), json={"active": False}, headers=south_csrf)
        assert (spring.status_code, spring.json()) == (
            403, {"error": "campaign spring assigns no seat of your team 'south'"})
        assert actives(f) == {"renewals": True, "spring": True, "winback": True}
        assert await f.audit.entries(action="campaign.active") == []


async def test_leads_without_a_team_and_admins_act_on_any_campaign_qa_and_seats_on_none(tmp_path: Path) -> None:
    async with monitor(tmp_path) as (f, auth):
        answers = {}
        for name, role, seat, campaign in (("qa", Role.QA, None, "spring"), ("s1", Role.SEAT, "1001", "spring"),
                                           ("lead", Role.LEAD, None, "renewals"), ("root", Role.ADMIN, None, "spring")):
            http, csrf = await signed_in(f, auth, name, role, seat=seat)
            answers[name] = (await http.post(switch(campaign), json={"active": False}, headers=csrf)).status_code
        assert answers == {"qa": 403, "s1": 403, "lead": 200, "root": 200}
        assert actives(f) == {"renewals": False, "spring": False, "winback": True}
        entries = await f.audit.entries(action="campaign.active")
        assert [(e.actor, e.subject) for e in entries] == [("root", "campaign:spring"), ("lead", "campaign:renewals")]


async def test_csrf_bad_bodies_and_unknown_campaigns_are_refused_with_the_reason(tmp_path: Path) -> None:
    async with monitor(tmp_path) as (f, auth):
        http, csrf = await signed_in(f, auth, "lead")
        no_token = await http.post(switch("spring"), json={"active": False})
        wrong = await http.post(switch("spring"), json={"active": False}, headers={"X-CSRF-Token": "x" * 43})
        assert (no_token.status_code, wrong.status_code) == (403, 403)
        unknown = await http.post(switch("autumn"), json={"active": False}, headers=csrf)
        assert (unknown.status_code, unknown.json()) == (404, {"error": "unknown campaign 'autumn'"})
        word = await http.post(switch("spring"), json={"active": "no"}, headers=csrf)
        assert (word.status_code, word.json()) == (400, {"error": "expected {\"active\": true|false}, got 'no'"})
        not_json = await http.post(switch("spring"), content=b"{", headers=csrf)
        assert (not_json.status_code, not_json.json()) == (
            400, {"error": "the body is not JSON: expected {\"active\": true|false}"})
        listed = await http.post(switch("spring"), json=[False], headers=csrf)
        assert listed.status_code == 400
        assert actives(f) == {"renewals": True, "spring": True, "winback": True}
        assert await f.audit.entries(action="campaign.active") == []


async def test_without_the_dialer_the_action_answers_409(tmp_path: Path) -> None:
    async with monitor(tmp_path) as (f, auth):
        await add_user(auth, "lead", Role.LEAD)
        answers = []
        # No CampaignAdmin wired; then a board whose tile no dialer runs (no "active" on it).
        for app, campaign in ((build_app(auth, f.live, time.time), "spring"),
                              (build_app(auth, BoardFloor(), time.time, campaigns=f.admin), "demo")):
            async with client(app) as http:
                csrf = {"X-CSRF-Token": (await login(http, "lead")).json()["csrf_token"]}
                answer = await http.post(switch(campaign), json={"active": False}, headers=csrf)
                answers.append((answer.status_code, answer.json()["error"]))
        assert answers == [(409, "campaigns cannot be started or stopped: the dialer is not running"),
                           (409, "campaign demo is not run by the dialer")]
        assert actives(f) == {"renewals": True, "spring": True, "winback": True}
